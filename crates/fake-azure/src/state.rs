//! The fake's mutable state behind one mutex: settings, issued tokens,
//! fixture tables, fault scripts, the request log and stored incidents.
//! No HTTP here; handlers lock, read or change, and unlock before awaiting.

use crate::{Api, Fault};
use std::collections::{HashMap, VecDeque};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// One request as the fake saw it. `Authorization` and
/// `X-IDENTITY-HEADER` values are replaced by `<redacted>`.
#[derive(Clone, Debug, PartialEq)]
pub struct LoggedRequest {
    pub api: Api,
    pub method: String,
    /// Path without the query string.
    pub path: String,
    /// The raw query string (empty when none).
    pub query: String,
    /// Header names in lower case, in arrival order.
    pub headers: Vec<(String, String)>,
    pub body: String,
    /// The status the fake answered.
    pub status: u16,
}

impl LoggedRequest {
    /// The first value of a header (name case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body parsed as JSON (`Null` when it is not JSON).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or(serde_json::Value::Null)
    }
}

/// An incident as stored by the fake ARM API.
#[derive(Clone, Debug, PartialEq)]
pub struct StoredIncident {
    /// The full resource id as the client addressed it
    /// (`/subscriptions/.../providers/Microsoft.SecurityInsights/incidents/{name}`).
    pub id: String,
    /// The incident id (last path segment).
    pub name: String,
    /// Quoted etag, e.g. `"\"5c1b...\""`.
    pub etag: String,
    /// Every property, read-only ones included (as GET returns them).
    pub properties: serde_json::Map<String, serde_json::Value>,
    pub comments: Vec<StoredComment>,
}

/// A comment on an incident.
#[derive(Clone, Debug, PartialEq)]
pub struct StoredComment {
    pub id: String,
    pub name: String,
    pub etag: String,
    pub properties: serde_json::Map<String, serde_json::Value>,
}

impl StoredIncident {
    /// The resource as ARM returns it.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "id": self.id,
            "name": self.name,
            "type": "Microsoft.SecurityInsights/incidents",
            "etag": self.etag,
            "properties": self.properties,
        })
    }

    pub fn prop_str(&self, key: &str) -> Option<&str> {
        self.properties.get(key).and_then(|v| v.as_str())
    }
}

impl StoredComment {
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "id": self.id,
            "name": self.name,
            "type": "Microsoft.SecurityInsights/incidents/comments",
            "etag": self.etag,
            "properties": self.properties,
        })
    }
}

/// One record accepted by the Logs Ingestion API.
#[derive(Clone, Debug, PartialEq)]
pub struct IngestedRecord {
    /// The DCR immutable id and stream as declared (not as the client spelled them).
    pub dcr: String,
    pub stream: String,
    /// The request's `x-ms-client-request-id`, if any.
    pub client_request_id: Option<String>,
    /// The record exactly as sent.
    pub record: serde_json::Map<String, serde_json::Value>,
}

pub(crate) struct Rule {
    pub api: Api,
    pub every: u64,
    /// Requests to `api` already seen when the rule was set.
    pub from: u64,
    pub fault: Fault,
}

pub(crate) struct Token {
    pub audience: String,
    pub expires: SystemTime,
}

pub(crate) struct State {
    pub identity_header: String,
    pub client_ids: Vec<String>,
    pub token_lifetime: Duration,
    pub tokens: HashMap<String, Token>,
    pub tokens_issued: usize,
    pub workspace_id: String,
    /// Shared so a request takes a cheap snapshot.
    pub catalog: std::sync::Arc<kql::MemoryCatalog>,
    pub now: i64,
    pub la_row_limit: usize,
    pub graph_row_limit: usize,
    pub graph_dynamic_as_object: bool,
    pub datetime_seven_digits: bool,
    pub require_etag: bool,
    pub reject_read_only: bool,
    /// Queued faults: the API, an optional HTTP method they are limited
    /// to, the fault.
    pub faults: VecDeque<(Api, Option<String>, Fault)>,
    pub rules: Vec<Rule>,
    pub counts: HashMap<Api, u64>,
    pub log: Vec<LoggedRequest>,
    pub incidents: Vec<StoredIncident>,
    pub next_incident_number: i64,
    /// Logs Ingestion: declared DCR streams, accepted records, limits.
    pub streams: Vec<crate::ingestion::StreamDecl>,
    pub ingested: Vec<IngestedRecord>,
    pub ingestion_max_body: usize,
    pub ingestion_max_field: usize,
    pub ingestion_require_all_columns: bool,
}

/// Wall clock as kql ticks.
pub(crate) fn wall_ticks() -> i64 {
    let since = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    kql::time::UNIX_EPOCH
        + i64::try_from(since.as_micros()).unwrap_or(i64::MAX / 20) * kql::time::MICROSECOND
}

/// A fresh quoted etag, in the style ARM uses.
pub(crate) fn new_etag() -> String {
    format!("\"{}\"", uuid::Uuid::new_v4())
}

/// Audiences compare without `/.default` and trailing slashes, ASCII
/// case-insensitively.
pub(crate) fn normalize_audience(a: &str) -> String {
    let a = a.trim();
    let a = a.strip_suffix("/.default").unwrap_or(a);
    a.trim_end_matches('/').to_ascii_lowercase()
}

impl State {
    pub fn new() -> State {
        State {
            identity_header: crate::DEFAULT_IDENTITY_HEADER.to_string(),
            client_ids: Vec::new(),
            token_lifetime: Duration::from_secs(3600),
            tokens: HashMap::new(),
            tokens_issued: 0,
            workspace_id: crate::DEFAULT_WORKSPACE_ID.to_string(),
            catalog: std::sync::Arc::new(kql::MemoryCatalog::new()),
            now: wall_ticks(),
            la_row_limit: crate::LOG_ANALYTICS_ROW_LIMIT,
            graph_row_limit: crate::GRAPH_ROW_LIMIT,
            graph_dynamic_as_object: false,
            datetime_seven_digits: false,
            require_etag: false,
            reject_read_only: true,
            faults: VecDeque::new(),
            rules: Vec::new(),
            counts: HashMap::new(),
            log: Vec::new(),
            incidents: Vec::new(),
            next_incident_number: 1,
            streams: vec![crate::ingestion::StreamDecl {
                dcr: crate::DEFAULT_DCR_ID.to_string(),
                stream: crate::FINDINGS_STREAM.to_string(),
                columns: crate::ingestion::FINDINGS_COLUMNS
                    .iter()
                    .map(|(n, t)| (n.to_string(), *t))
                    .collect(),
            }],
            ingested: Vec::new(),
            ingestion_max_body: crate::INGESTION_MAX_BODY_BYTES,
            ingestion_max_field: crate::INGESTION_MAX_FIELD_BYTES,
            ingestion_require_all_columns: true,
        }
    }

    pub fn count(&self, api: Api) -> u64 {
        self.counts.get(&api).copied().unwrap_or(0)
    }

    /// Counts a request to `api` and picks the fault it gets, if any: the
    /// first queued fault for this API that applies, else a standing rule.
    pub fn next_fault(&mut self, api: Api, method: &str) -> Option<Fault> {
        let n = self.count(api) + 1;
        self.counts.insert(api, n);
        if let Some(pos) = self.faults.iter().position(|(a, m, f)| {
            *a == api
                && m.as_ref().is_none_or(|m| m.eq_ignore_ascii_case(method))
                && f.applies(api, method)
        }) {
            return self.faults.remove(pos).map(|(_, _, f)| f);
        }
        self.rules
            .iter()
            .find(|r| {
                r.api == api
                    && r.fault.applies(api, method)
                    && n > r.from
                    && (n - r.from) % r.every == 0
            })
            .map(|r| r.fault.clone())
    }

    /// Issues a token for an audience; returns it and its expiry (unix
    /// seconds).
    pub fn issue_token(&mut self, audience: &str, _client: Option<&str>) -> (String, u64) {
        let token = format!("fake.{}", uuid::Uuid::new_v4().simple());
        let now = SystemTime::now();
        let expires = now
            .checked_add(self.token_lifetime)
            .unwrap_or(now + Duration::from_secs(10 * 365 * 24 * 3600));
        let secs = expires
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs();
        self.tokens.insert(
            token.clone(),
            Token {
                audience: normalize_audience(audience),
                expires,
            },
        );
        self.tokens_issued += 1;
        (token, secs)
    }
}
