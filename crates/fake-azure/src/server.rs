//! The HTTP front: one axum fallback handler that reads the whole request,
//! classifies it by path ([`Api`]), draws the scripted fault, applies the
//! generic faults (throttling, status, delay), calls the API module and logs
//! the exchange. API modules are plain functions from [`Req`] to [`Reply`]
//! so they stay testable without sockets; per-API error envelopes live in
//! [`envelope`].

use crate::state::{normalize_audience, LoggedRequest, State};
use crate::{Api, Fault};
use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri};
use axum::response::Response;
use axum::Router;
use serde_json::{json, Value as J};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::SystemTime;

#[derive(Clone)]
pub(crate) struct App {
    pub state: Arc<Mutex<State>>,
    #[allow(dead_code)]
    pub addr: SocketAddr,
}

impl App {
    pub fn st(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

pub(crate) fn router(state: Arc<Mutex<State>>, addr: SocketAddr) -> Router {
    // Bodies up to 16 MiB reach the handlers (axum's default is 2 MiB), so
    // the Logs Ingestion API answers an oversized body with its own 413.
    Router::new()
        .fallback(handle)
        .layer(axum::extract::DefaultBodyLimit::max(16 * 1024 * 1024))
        .with_state(App { state, addr })
}

/// A request, fully read.
#[derive(Clone, Debug)]
pub(crate) struct Req {
    pub method: String,
    pub path: String,
    pub query: String,
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
}

impl Req {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// A query-string parameter, percent-decoded (name case-insensitive,
    /// as ARM and the token endpoints treat them).
    pub fn param(&self, name: &str) -> Option<String> {
        self.query.split('&').find_map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            (percent_decode(k).eq_ignore_ascii_case(name)).then(|| percent_decode(v))
        })
    }

    pub fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// `%XX` and `+` decoding; bad escapes are kept as they are.
pub(crate) fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        match c {
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b'%' => {
                let hex = b
                    .get(i + 1..i + 3)
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(|h| u8::from_str_radix(h, 16).ok());
                match hex {
                    Some(v) => {
                        out.push(v);
                        i += 3;
                    }
                    None => {
                        out.push(c);
                        i += 1;
                    }
                }
            }
            _ => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A response, before it becomes an axum one.
#[derive(Clone, Debug)]
pub(crate) struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn json(status: u16, body: &J) -> Reply {
        Reply {
            status,
            headers: vec![(
                "content-type".into(),
                "application/json; charset=utf-8".into(),
            )],
            body: body.to_string().into_bytes(),
        }
    }

    pub fn empty(status: u16) -> Reply {
        Reply {
            status,
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    pub fn with_header(mut self, name: &str, value: impl Into<String>) -> Reply {
        self.headers.push((name.to_ascii_lowercase(), value.into()));
        self
    }

    fn into_response(self) -> Response {
        let mut r = Response::new(Body::from(self.body));
        *r.status_mut() = StatusCode::from_u16(self.status).unwrap_or(StatusCode::OK);
        for (n, v) in self.headers {
            if let (Ok(n), Ok(v)) = (
                HeaderName::from_bytes(n.as_bytes()),
                HeaderValue::from_str(&v),
            ) {
                r.headers_mut().append(n, v);
            }
        }
        r
    }
}

pub(crate) fn classify(path: &str) -> Api {
    let p = path.to_ascii_lowercase();
    if p == "/msi/token" || p == "/metadata/identity/oauth2/token" {
        Api::Token
    } else if p.starts_with("/v1/") && p.ends_with("/query") {
        Api::LogAnalytics
    } else if p.starts_with("/v1.0/security/runhuntingquery")
        || p.starts_with("/beta/security/runhuntingquery")
    {
        Api::Graph
    } else if p.starts_with("/subscriptions/") {
        Api::Arm
    } else if p.starts_with("/datacollectionrules/") {
        Api::LogsIngestion
    } else {
        Api::Other
    }
}

const SECRET_HEADERS: &[&str] = &["authorization", "x-identity-header", "secret"];

async fn handle(
    axum::extract::State(app): axum::extract::State<App>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let req = Req {
        method: method.as_str().to_string(),
        path: uri.path().to_string(),
        query: uri.query().unwrap_or("").to_string(),
        headers: headers
            .iter()
            .map(|(n, v)| {
                (
                    n.as_str().to_ascii_lowercase(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect(),
        body,
    };
    let api = classify(&req.path);
    let fault = app.st().next_fault(api, &req.method);
    let reply = respond(&app, api, &req, fault).await;
    let logged = LoggedRequest {
        api,
        method: req.method.clone(),
        path: req.path.clone(),
        query: req.query.clone(),
        headers: req
            .headers
            .iter()
            .map(|(n, v)| {
                if SECRET_HEADERS.contains(&n.as_str()) {
                    (n.clone(), "<redacted>".to_string())
                } else {
                    (n.clone(), v.clone())
                }
            })
            .collect(),
        body: req.body_text(),
        status: reply.status,
    };
    app.st().log.push(logged);
    reply.into_response()
}

async fn respond(app: &App, api: Api, req: &Req, fault: Option<Fault>) -> Reply {
    let mut passed = None;
    match fault {
        Some(Fault::Throttle { retry_after_secs }) => {
            return envelope(api, 429, None, "", req)
                .with_header("retry-after", retry_after_secs.to_string());
        }
        Some(Fault::Status {
            status,
            retry_after_secs,
        }) => {
            let r = if status == 204 || status == 304 || status < 200 {
                // No body allowed (LA answers 204 for a workspace without data).
                Reply::empty(status)
            } else {
                envelope(api, status, None, "", req)
            };
            return match retry_after_secs {
                Some(s) => r.with_header("retry-after", s.to_string()),
                None => r,
            };
        }
        Some(Fault::Delay(d)) => {
            if api == Api::LogAnalytics {
                let wait = crate::log_analytics::prefer_wait(req);
                if d > wait {
                    tokio::time::sleep(wait).await;
                    return envelope(api, 504, None, "", req);
                }
            }
            tokio::time::sleep(d).await;
        }
        Some(Fault::PartialError { .. }) if api == Api::Graph => {
            return envelope(api, 500, None, "", req);
        }
        other => passed = other,
    }
    match api {
        Api::Token => crate::identity::handle(app, req, passed),
        Api::LogAnalytics => crate::log_analytics::handle(app, req, passed),
        Api::Graph => crate::graph::handle(app, req),
        Api::Arm => crate::incidents::handle(app, req, passed),
        Api::LogsIngestion => crate::ingestion::handle(app, req),
        Api::Other => envelope(
            Api::Other,
            404,
            Some("PathNotFoundError"),
            &format!("The requested path does not exist: {}", req.path),
            req,
        ),
    }
}

/// Default codes and messages of each API for a status.
fn default_error(api: Api, status: u16) -> (&'static str, &'static str) {
    match (api, status) {
        (Api::Graph, 429) => (
            "TooManyRequests",
            "Request was throttled: the tenant's advanced hunting quota (calls per minute) was exceeded. Retry after the period in Retry-After.",
        ),
        (Api::Graph, 500) => ("InternalServerError", "An internal server error occurred."),
        (Api::Graph, 503) => ("ServiceNotAvailable", "The service is temporarily unavailable."),
        (Api::Graph, 504) => ("GatewayTimeout", "The query timed out."),
        (Api::LogAnalytics, 429) => (
            "ThrottledError",
            "Your request was throttled: too many requests or concurrent queries. Retry after the period in Retry-After.",
        ),
        (Api::LogAnalytics, 504) => (
            "GatewayTimeout",
            "The query did not complete within the time allowed by the Prefer: wait header.",
        ),
        (Api::LogAnalytics, 500) => ("ServiceError", "An internal error occurred."),
        (Api::Arm, 429) => (
            "TooManyRequests",
            "The request was throttled. Retry after the period in Retry-After.",
        ),
        (Api::Arm, 409) => ("Conflict", "Conflict"),
        (Api::LogsIngestion, 413) => (
            "ContentLengthLimitExceeded",
            "The request body is larger than the service accepts.",
        ),
        (_, 429) => ("TooManyRequests", "Too many requests."),
        (_, 500) => ("InternalServerError", "An internal server error occurred."),
        (_, 502) => ("BadGateway", "Bad gateway."),
        (_, 503) => ("ServiceUnavailable", "The service is temporarily unavailable."),
        (_, 504) => ("GatewayTimeout", "The gateway timed out."),
        (_, 400) => ("BadRequest", "Bad request."),
        (_, 401) => ("AuthenticationFailed", "Authentication failed."),
        (_, 403) => ("Forbidden", "Forbidden."),
        (_, 404) => ("NotFound", "Not found."),
        _ => ("Error", "An error occurred."),
    }
}

/// The error body and headers of `api` for `status` (code/message default
/// per API). Log Analytics: OneAPI envelope + `x-ms-request-id`; Graph:
/// `innerError {date, request-id, client-request-id}` + `request-id`; ARM:
/// `CloudError` + `x-ms-request-id`; Logs Ingestion: data-plane
/// `ErrorResponse` + `x-ms-error-code` + `x-ms-request-id`; token endpoint:
/// App Service shape.
pub(crate) fn envelope(
    api: Api,
    status: u16,
    code: Option<&str>,
    message: &str,
    req: &Req,
) -> Reply {
    let (dcode, dmsg) = default_error(api, status);
    let code = code.unwrap_or(dcode);
    let message = if message.is_empty() { dmsg } else { message };
    let request_id = uuid::Uuid::new_v4().to_string();
    match api {
        Api::LogAnalytics | Api::Other => Reply::json(
            status,
            &json!({"error": {"message": message, "code": code, "correlationId": request_id}}),
        )
        .with_header("x-ms-request-id", request_id),
        Api::Graph => {
            let client = req
                .header("client-request-id")
                .map(str::to_string)
                .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
            let date = kql::time::format_datetime(crate::state::wall_ticks());
            let date = date.get(..19).unwrap_or(&date).to_string();
            Reply::json(
                status,
                &json!({"error": {"code": code, "message": message,
                    "innerError": {"date": date, "request-id": request_id, "client-request-id": client}}}),
            )
            .with_header("request-id", request_id)
            .with_header("client-request-id", client)
        }
        Api::LogsIngestion => Reply::json(
            status,
            &json!({"error": {"code": code, "message": message}}),
        )
        .with_header("x-ms-error-code", code)
        .with_header("x-ms-request-id", request_id),
        Api::Arm => Reply::json(
            status,
            &json!({"error": {"code": code, "message": message}}),
        )
        .with_header("x-ms-request-id", request_id.clone())
        .with_header("x-ms-correlation-request-id", request_id),
        Api::Token => Reply::json(
            status,
            &json!({"statusCode": status, "message": message, "correlationId": request_id}),
        ),
    }
}

/// Why a bearer token was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum AuthFailure {
    Missing,
    Invalid,
    Expired,
    WrongAudience(String),
}

/// Checks `Authorization: Bearer <token>` against issued tokens and the
/// accepted audiences.
pub(crate) fn check_bearer(app: &App, req: &Req, audiences: &[&str]) -> Result<(), AuthFailure> {
    let h = req.header("authorization").ok_or(AuthFailure::Missing)?;
    let (scheme, token) = h.trim().split_once(' ').ok_or(AuthFailure::Invalid)?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(AuthFailure::Invalid);
    }
    let st = app.st();
    let t = st.tokens.get(token.trim()).ok_or(AuthFailure::Invalid)?;
    if t.expires <= SystemTime::now() {
        return Err(AuthFailure::Expired);
    }
    if !audiences
        .iter()
        .any(|a| normalize_audience(a) == t.audience)
    {
        return Err(AuthFailure::WrongAudience(t.audience.clone()));
    }
    Ok(())
}
