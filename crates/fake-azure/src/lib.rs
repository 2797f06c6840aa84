//! A fake Azure for tests, served on `127.0.0.1`: the managed identity token
//! endpoint (App Service protocol and IMDS form), the Log Analytics query
//! API, Microsoft Graph `security/runHuntingQuery`, the Sentinel
//! incidents API over ARM and the Azure Monitor Logs Ingestion API —
//! speaking their real wire formats
//! (`/work/shared/reference/azure/README.md`, copied specs in `specs/`).
//!
//! The query endpoints evaluate the KQL they receive with our engine
//! ([`kql::query`]) over fixture tables ([`FakeAzure::add_table`]), with the
//! request's `timespan` applied as a filter on the table's time column, so
//! tests prove what a client sends. Faults are scriptable per API
//! ([`FakeAzure::push_fault`], [`FakeAzure::fault_every`]) and every request
//! is logged with secrets redacted ([`FakeAzure::requests`]).
//!
//! This crate is test support: it is not part of the product and must never
//! talk to anything but 127.0.0.1. It owns its own tokio runtime on a
//! background thread, so blocking and async tests can both use it.

mod eval;
pub mod fixtures;
mod graph;
mod identity;
mod incidents;
pub mod ingestion;
mod log_analytics;
mod server;
pub mod spec;
mod state;
pub mod timespan;

use state::State;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

pub use ingestion::{ColumnType, FINDINGS_COLUMNS};
pub use state::{IngestedRecord, LoggedRequest, StoredIncident};

/// Token audiences (resource URIs) each API accepts.
pub const LOG_ANALYTICS_AUDIENCE: &str = "https://api.loganalytics.io";
pub const GRAPH_AUDIENCE: &str = "https://graph.microsoft.com";
pub const ARM_AUDIENCE: &str = "https://management.azure.com";
pub const MONITOR_AUDIENCE: &str = "https://monitor.azure.com";

/// The DCR immutable id whose findings stream the fake declares at start.
pub const DEFAULT_DCR_ID: &str = "dcr-0123456789abcdef0123456789abcdef";
/// The stream of the findings table `RmmHuntFindings_CL`.
pub const FINDINGS_STREAM: &str = "Custom-RmmHuntFindings_CL";
/// Logs Ingestion: largest accepted body ("1 MB" read as 1,000,000 bytes,
/// the stricter reading) and largest field (64 KiB of JSON text).
pub const INGESTION_MAX_BODY_BYTES: usize = 1_000_000;
pub const INGESTION_MAX_FIELD_BYTES: usize = 65_536;

/// The workspace GUID the fake's Log Analytics API serves by default.
pub const DEFAULT_WORKSPACE_ID: &str = "11111111-2222-3333-4444-555555555555";
/// The managed identity client id the fake reports by default.
pub const DEFAULT_CLIENT_ID: &str = "00000000-0000-0000-0000-00000000c11d";
/// The `IDENTITY_HEADER` secret the fake expects by default.
pub const DEFAULT_IDENTITY_HEADER: &str = "fake-identity-header-secret";

/// Where the printed/`env()` settings send incidents (any subscription,
/// resource group and workspace name are served).
pub const DEFAULT_SUBSCRIPTION_ID: &str = "00000000-0000-0000-0000-000000000001";
pub const DEFAULT_RESOURCE_GROUP: &str = "rg-sec";
pub const DEFAULT_SENTINEL_WORKSPACE: &str = "sentinel-ws";

/// Default row limits of the real services.
pub const LOG_ANALYTICS_ROW_LIMIT: usize = 500_000;
pub const GRAPH_ROW_LIMIT: usize = 100_000;

/// The fake's endpoints, for fault scripts and the request log.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Api {
    /// The managed identity token endpoint (both forms).
    Token,
    /// `POST /v1/workspaces/{id}/query`.
    LogAnalytics,
    /// `POST /v1.0/security/runHuntingQuery`.
    Graph,
    /// Everything under `/subscriptions/...` (incidents, comments).
    Arm,
    /// `POST /dataCollectionRules/{id}/streams/{stream}` (Logs Ingestion).
    LogsIngestion,
    /// Any other path (answered 404).
    Other,
}

/// One injected failure. Which kinds apply where:
/// - `Throttle`, `Status`, `Delay` — every API;
/// - `PartialError` — Log Analytics (Graph answers it as a 500);
/// - `Conflict` — ARM `PUT` (other requests answer normally and do not
///   consume it);
/// - `IdentityUnavailable` — the token endpoint (a 400 "identity not found").
#[derive(Clone, Debug, PartialEq)]
pub enum Fault {
    /// 429 with `Retry-After: <seconds>` and the API's throttling body.
    Throttle { retry_after_secs: u64 },
    /// Any status (500, 502, 503, 504...) with the API's error envelope and
    /// an optional `Retry-After`.
    Status {
        status: u16,
        retry_after_secs: Option<u64>,
    },
    /// Wait this long, then answer normally (past a client deadline, or past
    /// `Prefer: wait=` which then gives Log Analytics' 504).
    Delay(Duration),
    /// Log Analytics: 200 with only the first `keep_rows` rows and a
    /// top-level `error` whose code is `PartialError`.
    PartialError { keep_rows: usize },
    /// ARM PUT: 409 Conflict "Newer version of resource ... exists".
    Conflict,
    /// Token endpoint: 400 identity not assigned.
    IdentityUnavailable,
}

impl Fault {
    /// Whether this fault applies to a request of `api` with `method`.
    fn applies(&self, api: Api, method: &str) -> bool {
        match self {
            Fault::Conflict => api == Api::Arm && method == "PUT",
            Fault::IdentityUnavailable => api == Api::Token,
            _ => true,
        }
    }
}

/// A running fake. Dropping it stops the server.
pub struct FakeAzure {
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

/// Failures starting the fake.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("fake-azure: cannot start the runtime: {0}")]
    Runtime(std::io::Error),
    #[error("fake-azure: cannot bind {addr}: {source}")]
    Bind {
        addr: String,
        source: std::io::Error,
    },
    #[error("fake-azure: the server thread stopped before it was ready")]
    Thread,
}

impl FakeAzure {
    /// Starts a fake on `127.0.0.1:0` (a free port).
    pub fn start() -> Result<FakeAzure, StartError> {
        FakeAzure::start_on(0)
    }

    /// Starts a fake on `127.0.0.1:port` (0 for a free port).
    pub fn start_on(port: u16) -> Result<FakeAzure, StartError> {
        let state = Arc::new(Mutex::new(State::new()));
        let (tx_ready, rx_ready) = std::sync::mpsc::channel::<Result<SocketAddr, StartError>>();
        let (tx_stop, rx_stop) = tokio::sync::oneshot::channel::<()>();
        let st = state.clone();
        let thread = std::thread::Builder::new()
            .name("fake-azure".into())
            .spawn(move || {
                let rt = match tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .enable_all()
                    .build()
                {
                    Ok(rt) => rt,
                    Err(e) => {
                        let _ = tx_ready.send(Err(StartError::Runtime(e)));
                        return;
                    }
                };
                rt.block_on(async move {
                    let addr = format!("127.0.0.1:{port}");
                    let listener = match tokio::net::TcpListener::bind(&addr).await {
                        Ok(l) => l,
                        Err(source) => {
                            let _ = tx_ready.send(Err(StartError::Bind { addr, source }));
                            return;
                        }
                    };
                    let local = match listener.local_addr() {
                        Ok(a) => a,
                        Err(source) => {
                            let _ = tx_ready.send(Err(StartError::Bind { addr, source }));
                            return;
                        }
                    };
                    let _ = tx_ready.send(Ok(local));
                    let app = server::router(st, local);
                    // Stop at once on drop: in-flight (e.g. delayed)
                    // requests are cancelled with the runtime.
                    tokio::select! {
                        _ = axum::serve(listener, app) => {}
                        _ = rx_stop => {}
                    }
                });
                rt.shutdown_background();
            })
            .map_err(StartError::Runtime)?;
        let addr = rx_ready.recv().map_err(|_| StartError::Thread)??;
        Ok(FakeAzure {
            addr,
            state,
            shutdown: Some(tx_stop),
            thread: Some(thread),
        })
    }

    fn st(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// `http://127.0.0.1:<port>` — the base of every API (set
    /// `RMMHUNT_LOGANALYTICS_ENDPOINT`, `RMMHUNT_GRAPH_ENDPOINT` and
    /// `RMMHUNT_ARM_ENDPOINT` to it).
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The App Service managed identity endpoint (`IDENTITY_ENDPOINT`).
    pub fn identity_endpoint(&self) -> String {
        format!("{}/msi/token", self.base_url())
    }

    /// The settings that point `rmmhunt` at this fake (`IDENTITY_*`,
    /// `RMMHUNT_*_ENDPOINT`, `RMMHUNT_WORKSPACE_ID`, `RMMHUNT_SENTINEL_*`),
    /// e.g. for `Command::envs` or a settings map.
    pub fn env(&self) -> Vec<(String, String)> {
        let base = self.base_url();
        [
            ("IDENTITY_ENDPOINT", self.identity_endpoint()),
            ("IDENTITY_HEADER", self.identity_header()),
            ("RMMHUNT_LOGANALYTICS_ENDPOINT", base.clone()),
            ("RMMHUNT_GRAPH_ENDPOINT", base.clone()),
            ("RMMHUNT_ARM_ENDPOINT", base),
            ("RMMHUNT_WORKSPACE_ID", self.workspace_id()),
            (
                "RMMHUNT_SENTINEL_SUBSCRIPTION_ID",
                DEFAULT_SUBSCRIPTION_ID.to_string(),
            ),
            (
                "RMMHUNT_SENTINEL_RESOURCE_GROUP",
                DEFAULT_RESOURCE_GROUP.to_string(),
            ),
            (
                "RMMHUNT_SENTINEL_WORKSPACE",
                DEFAULT_SENTINEL_WORKSPACE.to_string(),
            ),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
    }

    /// The IMDS-form token endpoint (`.../metadata/identity/oauth2/token`).
    pub fn imds_endpoint(&self) -> String {
        format!("{}/metadata/identity/oauth2/token", self.base_url())
    }

    /// The secret to send as `X-IDENTITY-HEADER` (`IDENTITY_HEADER`).
    pub fn identity_header(&self) -> String {
        self.st().identity_header.clone()
    }

    pub fn set_identity_header(&self, secret: &str) {
        self.st().identity_header = secret.to_string();
    }

    /// User-assigned identities the token endpoint knows (by client id).
    /// Empty (the default) = any `client_id` is accepted.
    pub fn set_client_ids(&self, ids: &[&str]) {
        self.st().client_ids = ids.iter().map(|s| s.to_string()).collect();
    }

    /// Lifetime of issued tokens (default one hour).
    pub fn set_token_lifetime(&self, lifetime: Duration) {
        self.st().token_lifetime = lifetime;
    }

    /// Issues a token directly (tests that bypass the identity endpoint).
    pub fn issue_token(&self, audience: &str) -> String {
        self.st().issue_token(audience, None).0
    }

    /// Invalidates every issued token (the APIs then answer 401/403).
    pub fn revoke_tokens(&self) {
        self.st().tokens.clear();
    }

    /// How many tokens the identity endpoint has issued.
    pub fn tokens_issued(&self) -> usize {
        self.st().tokens_issued
    }

    /// The workspace GUID the Log Analytics API serves.
    pub fn workspace_id(&self) -> String {
        self.st().workspace_id.clone()
    }

    pub fn set_workspace_id(&self, id: &str) {
        self.st().workspace_id = id.to_string();
    }

    /// Adds (or replaces) a fixture table visible to both query APIs.
    pub fn add_table(&self, name: &str, table: kql::Table) {
        std::sync::Arc::make_mut(&mut self.st().catalog).insert(name, table);
    }

    /// Adds a fixture table from JSON Lines text (known Defender tables get
    /// their real schema; others inferred types).
    pub fn add_jsonl(&self, name: &str, text: &str) -> Result<(), kql::table::ScanError> {
        let t = fixtures::load_table(
            name,
            name,
            text.as_bytes().to_vec(),
            kql::input::Format::JsonLines,
        )?;
        self.add_table(name, t);
        Ok(())
    }

    /// The fake clock (`now()` when a request has no timespan), in kql
    /// ticks. Defaults to the wall clock at start.
    pub fn set_now(&self, ticks: i64) {
        self.st().now = ticks;
    }

    /// Sets the fake clock from ISO 8601 text; false when it does not parse.
    pub fn set_now_str(&self, text: &str) -> bool {
        match kql::time::parse_datetime(text) {
            Some(t) => {
                self.set_now(t);
                true
            }
            None => false,
        }
    }

    pub fn now(&self) -> i64 {
        self.st().now
    }

    /// Row limit of an API before truncation (defaults 500,000 for Log
    /// Analytics, 100,000 for Graph).
    pub fn set_row_limit(&self, api: Api, rows: usize) {
        let mut st = self.st();
        match api {
            Api::Graph => st.graph_row_limit = rows,
            _ => st.la_row_limit = rows,
        }
    }

    /// Graph `results` encode dynamic cells as embedded JSON (true) or as
    /// JSON text (false, the default; the reference says both are seen).
    pub fn set_graph_dynamic_as_object(&self, on: bool) {
        self.st().graph_dynamic_as_object = on;
    }

    /// Datetime cells always with 7 fractional digits
    /// (`2024-03-26T08:00:00.0000000Z`) instead of only when the fraction is
    /// non-zero (the default; the reference says "up to 7").
    pub fn set_datetime_seven_digits(&self, on: bool) {
        self.st().datetime_seven_digits = on;
    }

    /// ARM: reject an incident PUT without an etag when the incident exists
    /// (409), as one community report saw. Off by default (last writer wins).
    pub fn set_require_etag(&self, on: bool) {
        self.st().require_etag = on;
    }

    /// ARM: reject read-only properties in PUT bodies (400; default on, as
    /// the reference asks). Off: they are ignored, as ARM usually does.
    pub fn set_reject_read_only(&self, on: bool) {
        self.st().reject_read_only = on;
    }

    /// Queues a fault for the next request to `api` it applies to.
    pub fn push_fault(&self, api: Api, fault: Fault) {
        self.st().faults.push_back((api, None, fault));
    }

    /// Queues a fault for the next request to `api` with this HTTP method
    /// (e.g. a 500 on the next ARM `PUT` while `GET`s pass).
    pub fn push_fault_on(&self, api: Api, method: &str, fault: Fault) {
        self.st()
            .faults
            .push_back((api, Some(method.to_ascii_uppercase()), fault));
    }

    /// Queues the same fault for the next `n` requests to `api`.
    pub fn push_faults(&self, api: Api, fault: Fault, n: usize) {
        let mut st = self.st();
        for _ in 0..n {
            st.faults.push_back((api, None, fault.clone()));
        }
    }

    /// A standing rule: every `n`th request to `api` (the nth, 2nth, ...,
    /// counted from now) gets `fault`.
    pub fn fault_every(&self, api: Api, n: u64, fault: Fault) {
        let mut st = self.st();
        let seen = st.count(api);
        st.rules.push(state::Rule {
            api,
            every: n.max(1),
            from: seen,
            fault,
        });
    }

    /// Removes queued faults and standing rules.
    pub fn clear_faults(&self) {
        let mut st = self.st();
        st.faults.clear();
        st.rules.clear();
    }

    /// Every request so far (secrets redacted), oldest first.
    pub fn requests(&self) -> Vec<LoggedRequest> {
        self.st().log.clone()
    }

    /// The requests to one API.
    pub fn requests_to(&self, api: Api) -> Vec<LoggedRequest> {
        self.st()
            .log
            .iter()
            .filter(|r| r.api == api)
            .cloned()
            .collect()
    }

    pub fn clear_requests(&self) {
        self.st().log.clear();
    }

    /// The settings that point the Logs Ingestion sink at this fake
    /// (`RMMHUNT_LOGS_INGESTION_ENDPOINT`, `_DCR_ID`, `_STREAM`,
    /// `RMMHUNT_MONITOR_AUDIENCE`). Not part of [`FakeAzure::env`], so
    /// tests opt in to the sink.
    pub fn logs_ingestion_env(&self) -> Vec<(String, String)> {
        [
            ("RMMHUNT_LOGS_INGESTION_ENDPOINT", self.base_url()),
            ("RMMHUNT_LOGS_INGESTION_DCR_ID", DEFAULT_DCR_ID.to_string()),
            ("RMMHUNT_LOGS_INGESTION_STREAM", FINDINGS_STREAM.to_string()),
            ("RMMHUNT_MONITOR_AUDIENCE", MONITOR_AUDIENCE.to_string()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
    }

    /// Declares (or redeclares) a stream of a DCR with its columns; the
    /// DCR becomes known if it was not.
    pub fn declare_stream(&self, dcr: &str, stream: &str, columns: &[(&str, ColumnType)]) {
        let mut st = self.st();
        st.streams.retain(|s| {
            !(s.dcr.eq_ignore_ascii_case(dcr) && s.stream.eq_ignore_ascii_case(stream))
        });
        st.streams.push(ingestion::StreamDecl {
            dcr: dcr.to_string(),
            stream: stream.to_string(),
            columns: columns.iter().map(|(n, t)| (n.to_string(), *t)).collect(),
        });
    }

    /// Logs Ingestion: the largest body accepted (default
    /// [`INGESTION_MAX_BODY_BYTES`]); over it, 413.
    pub fn set_ingestion_max_body(&self, bytes: usize) {
        self.st().ingestion_max_body = bytes;
    }

    /// Logs Ingestion: reject records that lack a declared column (default
    /// on; the real service is believed to accept them, leaving the
    /// column empty).
    pub fn set_ingestion_require_all_columns(&self, on: bool) {
        self.st().ingestion_require_all_columns = on;
    }

    /// Every record the Logs Ingestion API accepted, in arrival order.
    pub fn ingested(&self) -> Vec<IngestedRecord> {
        self.st().ingested.clone()
    }

    /// The accepted records of one stream, as JSON objects.
    pub fn ingested_records(&self, stream: &str) -> Vec<serde_json::Value> {
        self.st()
            .ingested
            .iter()
            .filter(|r| r.stream.eq_ignore_ascii_case(stream))
            .map(|r| serde_json::Value::Object(r.record.clone()))
            .collect()
    }

    /// Every stored incident (all workspaces), in creation order.
    pub fn incidents(&self) -> Vec<StoredIncident> {
        self.st().incidents.clone()
    }

    /// Changes a stored incident's properties as an analyst would in the
    /// portal (e.g. set `owner`, close it); gives it a new etag. Returns
    /// false when there is no incident with that name.
    pub fn edit_incident(
        &self,
        name: &str,
        edit: impl FnOnce(&mut serde_json::Map<String, serde_json::Value>),
    ) -> bool {
        let mut st = self.st();
        let now = st.now;
        match st
            .incidents
            .iter_mut()
            .find(|i| i.name.eq_ignore_ascii_case(name))
        {
            Some(inc) => {
                edit(&mut inc.properties);
                inc.etag = state::new_etag();
                inc.properties.insert(
                    "lastModifiedTimeUtc".into(),
                    serde_json::Value::String(kql::time::format_datetime(now)),
                );
                true
            }
            None => false,
        }
    }
}

impl Drop for FakeAzure {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
