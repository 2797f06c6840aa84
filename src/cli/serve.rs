//! `rmmhunt serve`: the Azure Functions custom handler and HTTP API. Builds
//! the hunt composition once (`app::App`; bad rules, exclusions or settings
//! stop it here, before it listens), refuses to start outside the Functions
//! host without an explicit `RMMHUNT_API_AUTH`, then runs `serve::serve` on
//! a tokio runtime until SIGTERM or Ctrl-C. Logs are JSON lines on stdout.

use super::EXIT_USAGE;
use crate::app::{App, AppError, Overrides};
use crate::config::{self, ApiAuth};
use crate::serve::{self, auth::Authorizer, log, ServeState};
use anyhow::Context;
use clap::Args;
use std::net::IpAddr;
use std::process::ExitCode;

const SERVE_HELP: &str = "\
Under the Azure Functions host (FUNCTIONS_CUSTOMHANDLER_PORT set) it listens on that port;
the host posts the HuntTimer envelope to /HuntTimer and forwards /api/* unchanged.
Outside the host it listens on --port (default 8080) and refuses to start unless
RMMHUNT_API_AUTH says how /api/* callers are checked: key (header x-api-key, RMMHUNT_API_KEY),
entra (Bearer token; RMMHUNT_API_TENANT_ID, RMMHUNT_API_AUDIENCE, RMMHUNT_API_REQUIRED_ROLE)
or none (no check, on purpose).

Routes: GET / (readiness), POST /HuntTimer (timer envelope), POST /api/hunts,
GET /api/rules, GET /api/health, GET /api/openapi.json. Errors are application/problem+json.
The hunt is composed from the same settings as `rmmhunt hunt` (RMMHUNT_SOURCE, RMMHUNT_RULES,
RMMHUNT_DATA, RMMHUNT_EXCLUSIONS; no data: the built-in sample). The timer writes to every
configured sink (RMMHUNT_SENTINEL_*, RMMHUNT_LOGS_INGESTION_*), skips RMMHUNT_DISABLED_RULES
and a rule that is still running. POST /api/hunts is cut at RMMHUNT_HTTP_DEADLINE_SECS (200)
and then answers 504 with the rules finished so far.

Logs: JSON lines on stdout, one `hunt finished` line per rule. SIGTERM or Ctrl-C: stop
accepting, let running requests finish (up to 20 s).

Examples:
  RMMHUNT_API_AUTH=none rmmhunt serve --port 8080
  curl -s localhost:8080/api/hunts -H 'content-type: application/json' -d '{\"device\":\"pc-1\"}'
  FUNCTIONS_CUSTOMHANDLER_PORT=7071 rmmhunt serve          (as the Functions host starts it)";

#[derive(Debug, Args)]
#[command(after_help = SERVE_HELP)]
pub struct ServeArgs {
    /// Port to listen on. Default: FUNCTIONS_CUSTOMHANDLER_PORT, else 8080.
    #[arg(long, value_name = "N")]
    pub port: Option<u16>,
    /// Address to listen on. Default 127.0.0.1 (the Functions host connects there);
    /// 0.0.0.0 for a container.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1")]
    pub listen: IpAddr,
}

pub fn run(args: ServeArgs) -> anyhow::Result<ExitCode> {
    let cfg = match config::from_process_env().validate() {
        Ok(cfg) => cfg,
        Err(errors) => {
            for e in &errors.0 {
                eprintln!("rmmhunt: error: {e}");
            }
            return Ok(ExitCode::from(EXIT_USAGE));
        }
    };
    let Some(api_auth) = cfg.api_auth.clone() else {
        eprintln!(
            "rmmhunt: error: RMMHUNT_API_AUTH is not set: outside the Functions host `serve` must be told how /api/* callers are checked: key (with RMMHUNT_API_KEY), entra, or none (no check, on purpose)"
        );
        return Ok(ExitCode::from(EXIT_USAGE));
    };
    let port = args.port.or(cfg.port).unwrap_or(8080);
    log::init();
    let app = match App::build(cfg, Overrides::default(), true) {
        Ok(app) => app,
        Err(e) => {
            let details = match &e {
                AppError::Rules { diagnostics } => diagnostics.clone(),
                AppError::Exclusions { problems } | AppError::ExclusionsDoNotFit { problems } => {
                    problems.clone()
                }
                _ => Vec::new(),
            };
            for d in &details {
                eprint!("{d}");
                if !d.ends_with('\n') {
                    eprintln!();
                }
            }
            eprintln!("rmmhunt: error: {e}");
            return Ok(ExitCode::from(EXIT_USAGE));
        }
    };
    for d in &app.rule_diagnostics {
        tracing::warn!(diagnostic = %d.trim_end(), "rule warning");
    }
    let http = reqwest::Client::builder()
        .build()
        .context("building the HTTP client")?;
    let authorizer = match Authorizer::from_config(&api_auth, http) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("rmmhunt: error: RMMHUNT_API_AUTH: {e}");
            return Ok(ExitCode::from(EXIT_USAGE));
        }
    };
    let state = ServeState::new(app, authorizer);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let result = runtime.block_on(async move {
        let addr = std::net::SocketAddr::new(args.listen, port);
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .with_context(|| format!("listening on {addr}"))?;
        tracing::info!(
            address = %addr,
            source = state.app.source_name(),
            rules = state.app.rules.len(),
            auth = auth_name(&api_auth),
            "listening"
        );
        serve::serve(listener, state, serve::shutdown_signal())
            .await
            .context("serving")
    });
    // a hunt still running past the grace period holds a blocking thread:
    // do not wait for it
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    result?;
    tracing::info!("stopped");
    Ok(ExitCode::SUCCESS)
}

fn auth_name(a: &ApiAuth) -> &'static str {
    match a {
        ApiAuth::Host => "host",
        ApiAuth::None => "none",
        ApiAuth::Key(_) => "key",
        ApiAuth::Entra(_) => "entra",
    }
}
