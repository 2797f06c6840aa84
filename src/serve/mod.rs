//! `rmmhunt serve`: the Azure Functions custom handler and HTTP API (axum).
//!
//! [`router`] builds the app from a [`ServeState`] (tests call it with
//! `oneshot`); [`serve`] binds, runs it and shuts down gracefully. Routes:
//! `GET /` (the host's readiness probe), `POST /HuntTimer` (the host's
//! timer envelope, [`host`]), `/api/hunts`, `/api/rules`, `/api/health`,
//! `/api/openapi.json` ([`api`], behind [`auth::require`]).
//!
//! Layers, outermost first: [`problem::finish`] (request id; every error
//! answer as `application/problem+json`), trace (one span per request with
//! method, path — never the query, which carries the host's `code=` key —
//! and request id), catch-panic (→ 500 problem), then per group the body
//! limit (64 KiB on `/api/*`, 1 MiB on the host envelope) and on `/api/*` a
//! timeout backstop just past the hunt deadline.
//!
//! Hunts run on `spawn_blocking`: the `Source` trait is sync and the remote
//! sources drive their own runtime. A rule runs once at a time when it may
//! write ([`InFlight`]): the timer skips a rule that is running, an HTTP
//! hunt with `incidents: true` answers 409.

pub mod api;
pub mod auth;
pub mod host;
pub mod log;
pub mod problem;

use crate::app::{App, InFlight, Progress};
use axum::extract::DefaultBodyLimit;
use axum::http::Request;
use axum::routing::{get, post};
use axum::{Json, Router};
use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

/// Body limit of `/api/*`.
pub const API_BODY_LIMIT: usize = 64 * 1024;
/// Body limit of the host's envelopes.
pub const HOST_BODY_LIMIT: usize = 1024 * 1024;
/// The timer's lookback (the rules' own `now(-5d)`).
pub const TIMER_LOOKBACK: i64 = 5 * kql::time::DAY;
/// How long shutdown waits for running requests before it gives up.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(20);

/// What every handler shares.
pub struct ServeState {
    pub app: Arc<App>,
    pub in_flight: Arc<InFlight>,
    pub authorizer: Arc<auth::Authorizer>,
    /// Set once shutdown began: new hunts get 503.
    pub shutting_down: AtomicBool,
    /// Hunts running now (cancelled at shutdown).
    hunts: Mutex<Vec<Weak<Progress>>>,
}

impl ServeState {
    pub fn new(app: App, authorizer: auth::Authorizer) -> Arc<ServeState> {
        Arc::new(ServeState {
            app: Arc::new(app),
            in_flight: Arc::new(InFlight::default()),
            authorizer: Arc::new(authorizer),
            shutting_down: AtomicBool::new(false),
            hunts: Mutex::new(Vec::new()),
        })
    }

    pub fn is_shutting_down(&self) -> bool {
        self.shutting_down.load(Ordering::SeqCst)
    }

    /// A new hunt's progress, registered for cancellation at shutdown.
    pub fn start_hunt(&self) -> Arc<Progress> {
        let p = Arc::new(Progress::default());
        let mut hunts = match self.hunts.lock() {
            Ok(g) => g,
            Err(e) => e.into_inner(),
        };
        hunts.retain(|w| w.strong_count() > 0);
        hunts.push(Arc::downgrade(&p));
        p
    }

    /// Refuses new hunts and asks running ones to stop before their next
    /// rule (a rule that is running finishes and is reported).
    pub fn begin_shutdown(&self) {
        self.shutting_down.store(true, Ordering::SeqCst);
        let hunts = match self.hunts.lock() {
            Ok(g) => g,
            Err(e) => e.into_inner(),
        };
        for p in hunts.iter().filter_map(Weak::upgrade) {
            p.cancel();
        }
    }
}

/// The whole app.
pub fn router(state: Arc<ServeState>) -> Router {
    let deadline = state.app.settings.http_hunt_deadline;
    let api = Router::new()
        .route("/api/hunts", post(api::hunts))
        .route("/api/rules", get(api::rules))
        .route("/api/health", get(api::health))
        .route("/api/openapi.json", get(api::openapi))
        .route_layer(axum::middleware::from_fn_with_state(
            state.authorizer.clone(),
            auth::require,
        ))
        .layer(TimeoutLayer::with_status_code(
            axum::http::StatusCode::GATEWAY_TIMEOUT,
            deadline + Duration::from_secs(20),
        ))
        .layer(DefaultBodyLimit::max(API_BODY_LIMIT))
        .layer(RequestBodyLimitLayer::new(API_BODY_LIMIT));
    let host = Router::new()
        .route("/", get(root))
        .route("/HuntTimer", post(host::timer))
        .layer(DefaultBodyLimit::max(HOST_BODY_LIMIT))
        .layer(RequestBodyLimitLayer::new(HOST_BODY_LIMIT));
    Router::new()
        .merge(api)
        .merge(host)
        .fallback(not_found)
        .with_state(state)
        .layer(CatchPanicLayer::custom(problem::panic_response))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|req: &Request<_>| {
                    let id = req
                        .headers()
                        .get(problem::REQUEST_ID)
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("");
                    tracing::info_span!(
                        "request",
                        method = %req.method(),
                        path = %req.uri().path(),
                        request_id = %id,
                    )
                })
                .on_request(())
                .on_response(
                    |resp: &axum::response::Response, latency: Duration, _: &tracing::Span| {
                        tracing::info!(
                            status = resp.status().as_u16(),
                            latency_ms = u64::try_from(latency.as_millis()).unwrap_or(u64::MAX),
                            "request finished"
                        );
                    },
                )
                .on_failure(()),
        )
        .layer(axum::middleware::from_fn(problem::finish))
}

/// `GET /`: the host's readiness probe; names the service and nothing else.
async fn root() -> Json<serde_json::Value> {
    Json(serde_json::json!({
        "service": "rmmhunt",
        "version": env!("CARGO_PKG_VERSION"),
    }))
}

async fn not_found() -> problem::Problem {
    problem::Problem::from_status(axum::http::StatusCode::NOT_FOUND)
}

/// Serves `state` on `listener` until `shutdown` resolves; then refuses
/// new hunts, cancels running ones before their next rule, and waits up to
/// [`SHUTDOWN_GRACE`] for requests in flight.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: Arc<ServeState>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = router(state.clone());
    let (tx, rx) = tokio::sync::watch::channel(false);
    let signalled = {
        let state = state.clone();
        async move {
            shutdown.await;
            tracing::info!("shutting down");
            state.begin_shutdown();
            let _ = tx.send(true);
        }
    };
    let server = axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(signalled);
    let mut rx = rx;
    tokio::select! {
        r = server => r,
        () = async move {
            // the grace period starts when the signal came
            while !*rx.borrow() {
                if rx.changed().await.is_err() {
                    std::future::pending::<()>().await;
                }
            }
            tokio::time::sleep(SHUTDOWN_GRACE).await;
        } => {
            tracing::warn!("requests still running after the grace period; exiting");
            Ok(())
        }
    }
}

/// SIGTERM (what the Functions host and container runtimes send) or
/// Ctrl-C.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}
