//! Findings -> the custom table `RmmHuntFindings_CL` through the Azure
//! Monitor Logs Ingestion API (reference C.4): one record per finding row,
//! POSTed as JSON arrays to
//! `{endpoint}/dataCollectionRules/{dcr immutable id}/streams/{stream}?api-version=2023-01-01`
//! with a bearer token for `RMMHUNT_MONITOR_AUDIENCE` (`/.default`).
//!
//! **Records** ([`FindingRecord`], [`records`]): `TimeGenerated` = the
//! write time (one per [`Sink::write`] call, from the sink's clock,
//! [`LogsIngestionSink::with_clock`]); `RunId` = one UUID per sink
//! instance (the composer builds the sinks once per hunt run, so every
//! rule of a run shares it; [`LogsIngestionSink::with_run_id`] sets it,
//! e.g. to the invocation id); `RuleId`, `RuleName`, `Tactics` and
//! `Techniques` (comma-joined, no spaces) from the rule; `DeviceId`,
//! `DeviceName`, `RemoteUrl`, `RemoteIP` and `AccountName` (the first
//! non-empty of `InitiatingProcessAccountName`, `AccountName`) are the
//! row's columns of that name (ASCII case-insensitive), `""` when the
//! rule's output lacks them; `FirstSeen` / `LastSeen` are the row's
//! `FirstSeen` / `LastSeen`, else its `Timestamp`, else `TimeGenerated`
//! (a row-level rule's event time), `null` when none is a datetime;
//! `EventCount` is the `Count` (else `count_`) column when it holds a
//! whole number, else 1; `Finding` is the whole row as a JSON object, cells
//! encoded as the Log Analytics JSON output encodes them
//! ([`kql::output::value_to_json`]).
//!
//! **Limits** (reference C.4: 1 MB per call, 64 KB per field): a POST body
//! is at most [`MAX_BODY_BYTES`] (1,000,000, brackets and commas counted);
//! a string field is cut to [`MAX_FIELD_BYTES`] of JSON text with
//! [`CUT_SUFFIX`]; a `Finding` over it is rebuilt (never cut as text, so it
//! stays valid JSON) with the columns that fit whole, the first that does
//! not cut as a string, the rest left out, and a [`TRUNCATION_KEY`] member
//! first saying so (`originalBytes`, `cutColumns`, `omittedColumns`).
//!
//! **Writes** are honest: a batch is accepted (2xx; the API answers 204) or
//! counted as failed with its rows. 429 (honouring `Retry-After`), 408 and
//! 5xx are retried by the shared [`HttpClient`] within its deadline. After
//! a 400 or 413 (that batch's content) the next batches are still sent;
//! after any other failure (auth, unknown DCR/stream, unreachable,
//! retries exhausted) the remaining batches are not tried and count as
//! failed. Failures give [`SinkError::Ingestion`] carrying the summary of
//! what was accepted. A retry after a lost answer may ingest a batch twice
//! (the API has no idempotency key); `RunId` + the finding identify copies.
//!
//! [`Sink::write`] is synchronous: the sink drives its own current-thread
//! tokio runtime from a scoped thread (safe inside another runtime).
//! Wiring: `LogsIngestionSink::from_config(&validated, http, tokens)?` gives
//! `None` unless `RMMHUNT_LOGS_INGESTION_ENDPOINT` and `_DCR_ID` are set.

use super::{Sink, SinkError, SinkSummary};
use crate::azure::auth::{audience_to_scope, TokenProvider};
use crate::azure::http::{HttpClient, HttpError, Request};
use crate::config::{LogsIngestionTarget, Validated};
use crate::rule::Rule;
use kql::{Table, Type, Value};
use reqwest::header::{HeaderName, HeaderValue};
use serde::Serialize;
use serde_json::{Map, Value as J};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};
use uuid::Uuid;

/// For errors and logs.
pub const API: &str = "logs-ingestion";
/// The API's only version (spec 2023-01-01).
pub const API_VERSION: &str = "2023-01-01";
/// Largest POST body in bytes ("1 MB", read strictly).
pub const MAX_BODY_BYTES: usize = 1_000_000;
/// Largest field (its JSON text) in bytes; under the documented 64 KB
/// whichever way "KB" is read.
pub const MAX_FIELD_BYTES: usize = 64_000;
/// Ends a string field that was cut.
pub const CUT_SUFFIX: &str = "…[cut by rmmhunt]";
/// The member a cut `Finding` starts with.
pub const TRUNCATION_KEY: &str = "rmmhunt_truncated";
/// Room kept in a cut `Finding` for the [`TRUNCATION_KEY`] member.
const MARKER_RESERVE: usize = 8_192;
/// Column names listed in the marker (each list), and their length.
const MARKER_NAMES: usize = 20;
const MARKER_NAME_CHARS: usize = 128;

/// The write time, in kql ticks.
pub type Clock = Arc<dyn Fn() -> i64 + Send + Sync>;

/// The wall clock in kql ticks (100 ns since 0001-01-01).
pub fn wall_clock() -> i64 {
    let since = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let ticks = i64::try_from(since.as_nanos() / 100).unwrap_or(i64::MAX);
    kql::time::UNIX_EPOCH.saturating_add(ticks)
}

/// One row of `RmmHuntFindings_CL` (the stream's declared columns).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct FindingRecord {
    pub time_generated: String,
    pub run_id: String,
    pub rule_id: String,
    pub rule_name: String,
    pub tactics: String,
    pub techniques: String,
    pub device_id: String,
    pub device_name: String,
    pub remote_url: String,
    #[serde(rename = "RemoteIP")]
    pub remote_ip: String,
    pub account_name: String,
    pub first_seen: Option<String>,
    pub last_seen: Option<String>,
    pub event_count: i64,
    pub finding: J,
}

/// Positions of the columns a record is made from (each a list: first
/// usable value wins).
struct Cols {
    device_id: Vec<usize>,
    device_name: Vec<usize>,
    remote_url: Vec<usize>,
    remote_ip: Vec<usize>,
    account: Vec<usize>,
    first: Vec<usize>,
    last: Vec<usize>,
    count: Vec<usize>,
}

impl Cols {
    fn of(t: &Table) -> Cols {
        let find = |names: &[&str]| -> Vec<usize> {
            names
                .iter()
                .filter_map(|n| {
                    t.schema
                        .columns
                        .iter()
                        .position(|c| c.name.eq_ignore_ascii_case(n))
                })
                .collect()
        };
        Cols {
            device_id: find(&["DeviceId"]),
            device_name: find(&["DeviceName"]),
            remote_url: find(&["RemoteUrl"]),
            remote_ip: find(&["RemoteIP"]),
            account: find(&["InitiatingProcessAccountName", "AccountName"]),
            first: find(&["FirstSeen", "Timestamp", "TimeGenerated"]),
            last: find(&["LastSeen", "Timestamp", "TimeGenerated"]),
            count: find(&["Count", "count_"]),
        }
    }
}

/// The first non-empty text among `cols` (cut to the field limit).
fn text(row: &[Value], cols: &[usize]) -> String {
    cols.iter()
        .filter_map(|i| row.get(*i))
        .filter(|v| !matches!(v, Value::Null))
        .map(kql::output::cell_text)
        .find(|s| !s.is_empty())
        .map(|s| cut_string(&s, MAX_FIELD_BYTES))
        .unwrap_or_default()
}

/// The first datetime among `cols` (a datetime value or ISO text).
fn datetime(row: &[Value], cols: &[usize]) -> Option<String> {
    cols.iter()
        .filter_map(|i| row.get(*i))
        .find_map(|v| match v {
            Value::DateTime(t) => Some(*t),
            Value::String(s) => kql::time::parse_datetime(s),
            _ => None,
        })
        .map(kql::time::format_datetime)
}

fn count(row: &[Value], cols: &[usize]) -> i64 {
    cols.iter()
        .filter_map(|i| row.get(*i))
        .find_map(|v| match v {
            Value::Long(n) => Some(*n),
            Value::Int(n) => Some(i64::from(*n)),
            // `sum()` of reals: a whole number is a count.
            Value::Real(r) if r.is_finite() && r.fract() == 0.0 && r.abs() < 9.0e15 => {
                Some(*r as i64)
            }
            _ => None,
        })
        .unwrap_or(1)
}

/// The row as a JSON object, per column type.
pub fn finding_object(findings: &Table, row: &[Value]) -> Map<String, J> {
    findings
        .schema
        .columns
        .iter()
        .zip(row.iter().map(Some).chain(std::iter::repeat(None)))
        .map(|(c, v)| {
            let j =
                v.map(|v| kql::output::value_to_json(v, c.ty))
                    .unwrap_or(if c.ty == Type::String {
                        J::String(String::new())
                    } else {
                        J::Null
                    });
            (c.name.clone(), j)
        })
        .collect()
}

/// Length of a value's compact JSON text.
fn json_len(v: &J) -> usize {
    v.to_string().len()
}

fn str_json_len(s: &str) -> usize {
    json_len(&J::String(s.to_string()))
}

/// Bytes of `c` inside a JSON string (as serde_json escapes it).
fn char_json_len(c: char) -> usize {
    match c {
        '"' | '\\' | '\n' | '\r' | '\t' | '\u{08}' | '\u{0c}' => 2,
        c if u32::from(c) < 0x20 => 6,
        c => c.len_utf8(),
    }
}

/// `s` whose JSON text is at most `max` bytes: unchanged when it fits,
/// else its longest prefix (on a character boundary) + [`CUT_SUFFIX`] that
/// fits (empty when not even the suffix fits).
pub fn cut_string(s: &str, max: usize) -> String {
    if str_json_len(s) <= max {
        return s.to_string();
    }
    let suffix: usize = CUT_SUFFIX.chars().map(char_json_len).sum();
    let Some(mut room) = max.checked_sub(2 + suffix) else {
        return String::new();
    };
    let mut end = 0;
    for (i, c) in s.char_indices() {
        let n = char_json_len(c);
        if n > room {
            break;
        }
        room -= n;
        end = i + c.len_utf8();
    }
    format!("{}{CUT_SUFFIX}", s.get(..end).unwrap_or(""))
}

fn marker_names(names: &[String]) -> J {
    J::Array(
        names
            .iter()
            .take(MARKER_NAMES)
            .map(|n| J::String(n.chars().take(MARKER_NAME_CHARS).collect()))
            .collect(),
    )
}

/// A `Finding` within [`MAX_FIELD_BYTES`] (see the module docs).
pub fn fit_finding(obj: Map<String, J>) -> J {
    fit_finding_to(obj, MAX_FIELD_BYTES)
}

fn fit_finding_to(obj: Map<String, J>, max: usize) -> J {
    let original = J::Object(obj);
    let original_bytes = json_len(&original);
    if original_bytes <= max {
        return original;
    }
    let J::Object(obj) = original else {
        return J::Null;
    };
    let budget = max.saturating_sub(MARKER_RESERVE);
    let mut kept = Map::new();
    let mut used = 2; // {}
    let mut cut = Vec::new();
    let mut omitted = Vec::new();
    for (k, v) in obj {
        let key_len = str_json_len(&k) + 1; // "k":
        let comma = usize::from(!kept.is_empty());
        let whole = key_len + json_len(&v) + comma;
        if used + whole <= budget {
            used += whole;
            kept.insert(k, v);
            continue;
        }
        let room = budget.saturating_sub(used + key_len + comma);
        if cut.is_empty() && room > str_json_len(CUT_SUFFIX) + 16 {
            let text = match &v {
                J::String(s) => s.clone(),
                other => other.to_string(),
            };
            let s = cut_string(&text, room);
            used += key_len + comma + str_json_len(&s);
            kept.insert(k.clone(), J::String(s));
            cut.push(k);
        } else {
            omitted.push(k);
        }
    }
    let mut marker = Map::new();
    marker.insert("originalBytes".into(), J::from(original_bytes));
    marker.insert("cutColumns".into(), marker_names(&cut));
    marker.insert("omittedColumns".into(), marker_names(&omitted));
    if omitted.len() > MARKER_NAMES {
        marker.insert("omittedCount".into(), J::from(omitted.len()));
    }
    let mut out = Map::new();
    out.insert(TRUNCATION_KEY.into(), J::Object(marker));
    out.extend(kept);
    let out = J::Object(out);
    if json_len(&out) <= max {
        out
    } else {
        // Cannot happen with the reserve; stay within the limit anyway.
        serde_json::json!({ TRUNCATION_KEY: {"originalBytes": original_bytes} })
    }
}

/// The records of one rule's findings, written at `now` (ticks).
pub fn records(rule: &Rule, findings: &Table, run_id: &str, now: i64) -> Vec<FindingRecord> {
    let cols = Cols::of(findings);
    let time_generated = kql::time::format_datetime(now);
    let field = |s: &str| cut_string(s, MAX_FIELD_BYTES);
    findings
        .rows
        .iter()
        .map(|row| FindingRecord {
            time_generated: time_generated.clone(),
            run_id: run_id.to_string(),
            rule_id: field(&rule.id),
            rule_name: field(&rule.name),
            tactics: field(&rule.tactics.join(",")),
            techniques: field(&rule.techniques.join(",")),
            device_id: text(row, &cols.device_id),
            device_name: text(row, &cols.device_name),
            remote_url: text(row, &cols.remote_url),
            remote_ip: text(row, &cols.remote_ip),
            account_name: text(row, &cols.account),
            first_seen: datetime(row, &cols.first),
            last_seen: datetime(row, &cols.last),
            event_count: count(row, &cols.count),
            finding: fit_finding(finding_object(findings, row)),
        })
        .collect()
}

/// Splits records of these JSON sizes into consecutive batches whose body
/// (`[` + records joined by `,` + `]`) is at most `max_body` bytes. A
/// record too large on its own gets a batch of its own (the API refuses it
/// and it is reported failed).
pub fn plan_batches(sizes: &[usize], max_body: usize) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut body = 2;
    for (i, len) in sizes.iter().enumerate() {
        let add = len + usize::from(i > start);
        if i > start && body + add > max_body {
            out.push(start..i);
            start = i;
            body = 2 + len;
        } else {
            body += add;
        }
    }
    if start < sizes.len() {
        out.push(start..sizes.len());
    }
    out
}

/// Writes findings to a DCR stream.
pub struct LogsIngestionSink {
    target: LogsIngestionTarget,
    url: String,
    scope: String,
    http: HttpClient,
    tokens: Arc<dyn TokenProvider>,
    runtime: tokio::runtime::Runtime,
    run_id: Uuid,
    clock: Clock,
    max_body: usize,
}

impl LogsIngestionSink {
    /// The sink the settings describe, or `None` when Logs Ingestion is
    /// not configured. `tokens` is the process's shared provider
    /// ([`crate::azure::auth::from_config`]).
    pub fn from_config(
        cfg: &Validated,
        http: HttpClient,
        tokens: Arc<dyn TokenProvider>,
    ) -> Result<Option<LogsIngestionSink>, String> {
        match &cfg.logs_ingestion {
            None => Ok(None),
            Some(t) => {
                LogsIngestionSink::new(t.clone(), &cfg.endpoints.monitor_audience, http, tokens)
                    .map(Some)
            }
        }
    }

    /// A sink for `target`, with tokens for `audience`
    /// (`https://monitor.azure.com`), a new run id and the wall clock.
    pub fn new(
        target: LogsIngestionTarget,
        audience: &str,
        http: HttpClient,
        tokens: Arc<dyn TokenProvider>,
    ) -> Result<LogsIngestionSink, String> {
        let url = upload_url(&target)?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| format!("{API}: cannot start the async runtime: {e}"))?;
        Ok(LogsIngestionSink {
            target,
            url,
            scope: audience_to_scope(audience),
            http,
            tokens,
            runtime,
            run_id: new_uuid_v4(),
            clock: Arc::new(wall_clock),
            max_body: MAX_BODY_BYTES,
        })
    }

    /// Uses this run id for every record (e.g. the hunt's invocation id).
    pub fn with_run_id(mut self, run_id: Uuid) -> LogsIngestionSink {
        self.run_id = run_id;
        self
    }

    /// Uses this clock for `TimeGenerated` (tests).
    pub fn with_clock(mut self, clock: Clock) -> LogsIngestionSink {
        self.clock = clock;
        self
    }

    /// Largest body per POST (default [`MAX_BODY_BYTES`]; never more).
    pub fn with_max_body(mut self, bytes: usize) -> LogsIngestionSink {
        self.max_body = bytes.clamp(2, MAX_BODY_BYTES);
        self
    }

    pub fn run_id(&self) -> Uuid {
        self.run_id
    }

    /// The upload URL (`...?api-version=2023-01-01`).
    pub fn url(&self) -> &str {
        &self.url
    }

    async fn post(&self, body: &J, client_request_id: &str) -> Result<(), HttpError> {
        let headers = match HeaderValue::from_str(client_request_id) {
            Ok(v) => vec![(HeaderName::from_static("x-ms-client-request-id"), v)],
            Err(_) => Vec::new(),
        };
        let req = Request {
            api: API,
            method: reqwest::Method::POST,
            url: self.url.clone(),
            headers,
            json: Some(body),
            scope: Some(&self.scope),
        };
        self.http
            .send(&req, Some(self.tokens.as_ref()))
            .await
            .map(|_| ())
    }

    /// Sends the batches in order; see the module docs for what happens
    /// after a failure.
    async fn send_all(&self, rule: &Rule, recs: Vec<J>) -> Result<SinkSummary, SinkError> {
        let sizes: Vec<usize> = recs.iter().map(json_len).collect();
        let batches = plan_batches(&sizes, self.max_body);
        let total_batches = batches.len();
        let mut summary = SinkSummary::default();
        let mut failed_rows = 0;
        let mut failed_batches = 0;
        let mut first_error: Option<HttpError> = None;
        let mut stop = false;
        for (n, range) in batches.into_iter().enumerate() {
            let rows = range.len();
            if stop {
                failed_rows += rows;
                failed_batches += 1;
                continue;
            }
            let body = J::Array(recs.get(range).map(<[J]>::to_vec).unwrap_or_default());
            // One id per batch, kept by the client's retries of it.
            let client_request_id = new_uuid_v4().to_string();
            match self.post(&body, &client_request_id).await {
                Ok(()) => {
                    summary.ingested += rows;
                    summary.actions.push(format!(
                        "ingest {rows} record(s) into {} (batch {}/{total_batches}, request {client_request_id})",
                        self.target.stream,
                        n + 1
                    ));
                }
                Err(e) => {
                    failed_rows += rows;
                    failed_batches += 1;
                    stop = !batch_specific(&e);
                    first_error.get_or_insert(e);
                }
            }
        }
        match first_error {
            None => Ok(summary),
            Some(e) => Err(SinkError::Ingestion {
                rule_id: rule.id.clone(),
                stream: self.target.stream.clone(),
                accepted: summary.ingested,
                failed: failed_rows,
                failed_batches,
                total_batches,
                source: Box::new(e),
                summary: Box::new(summary),
            }),
        }
    }
}

/// A refusal of this batch's content (400, 413): the next batch may pass.
fn batch_specific(e: &HttpError) -> bool {
    matches!(
        e,
        HttpError::Status {
            status: 400 | 413,
            ..
        }
    )
}

/// A random (v4) UUID (run ids, client request ids).
fn new_uuid_v4() -> Uuid {
    uuid::Builder::from_random_bytes(fastrand::u128(..).to_le_bytes()).into_uuid()
}

/// `{endpoint}/dataCollectionRules/{dcr}/streams/{stream}?api-version=...`,
/// path segments percent-encoded.
pub fn upload_url(t: &LogsIngestionTarget) -> Result<String, String> {
    let mut url = reqwest::Url::parse(&t.endpoint)
        .map_err(|e| format!("{API}: endpoint `{}` is not a URL: {e}", t.endpoint))?;
    url.path_segments_mut()
        .map_err(|()| format!("{API}: endpoint `{}` cannot take a path", t.endpoint))?
        .pop_if_empty()
        .extend([
            "dataCollectionRules",
            t.dcr_immutable_id.as_str(),
            "streams",
            t.stream.as_str(),
        ]);
    url.query_pairs_mut()
        .clear()
        .append_pair("api-version", API_VERSION);
    Ok(url.to_string())
}

impl Sink for LogsIngestionSink {
    fn name(&self) -> &str {
        API
    }

    fn write(&self, rule: &Rule, findings: &Table) -> Result<SinkSummary, SinkError> {
        if findings.rows.is_empty() {
            return Ok(SinkSummary::default());
        }
        let now = (self.clock)();
        let run_id = self.run_id.to_string();
        let recs: Vec<J> = records(rule, findings, &run_id, now)
            .iter()
            .map(|r| serde_json::to_value(r).unwrap_or(J::Null))
            .collect();
        let rows = recs.len();
        let fut = self.send_all(rule, recs);
        std::thread::scope(|s| {
            s.spawn(|| self.runtime.block_on(fut))
                .join()
                .unwrap_or_else(|_| {
                    Err(SinkError::Ingestion {
                        rule_id: rule.id.clone(),
                        stream: self.target.stream.clone(),
                        accepted: 0,
                        failed: rows,
                        failed_batches: 0,
                        total_batches: 0,
                        source: Box::new(HttpError::Transport {
                            api: API.into(),
                            message: "the ingestion thread panicked".into(),
                        }),
                        summary: Box::default(),
                    })
                })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kql::{Column, Schema};
    use serde_json::json;

    fn rule() -> Rule {
        let text = "id: b915897c-1fe7-47f4-9e06-2ae74da8203e\nname: Remote Management and Monitoring tool - ZohoAssist - Network Connection\ndescription: d\ntactics:\n- CommandAndControl\n- Persistence\nrelevantTechniques:\n- T1219\n- T1133\nquery: |\n  DeviceNetworkEvents\n";
        let report = crate::rule::load_text(std::path::PathBuf::from("r.yaml"), text);
        report
            .rules
            .into_iter()
            .next()
            .unwrap_or_else(|| panic!("{:?}", report.diagnostics.len()))
    }

    fn ts(s: &str) -> i64 {
        kql::time::parse_datetime(s).unwrap_or_else(|| panic!("{s}"))
    }

    #[test]
    fn records_take_columns_by_name_and_encode_the_row() {
        let t = Table {
            schema: Schema::new(vec![
                Column::new("DeviceId", Type::String),
                Column::new("devicename", Type::String),
                Column::new("RemoteUrl", Type::String),
                Column::new("InitiatingProcessAccountName", Type::String),
                Column::new("AccountName", Type::String),
                Column::new("FirstSeen", Type::DateTime),
                Column::new("Timestamp", Type::DateTime),
                Column::new("Report", Type::Dynamic),
                Column::new("count_", Type::Long),
                Column::new("Score", Type::Real),
            ]),
            rows: vec![
                vec![
                    Value::string("d1"),
                    Value::string("pc01"),
                    Value::string("assist.zoho.com"),
                    Value::string(""),
                    Value::string("alice"),
                    Value::DateTime(ts("2026-11-25T08:00:00Z")),
                    Value::DateTime(ts("2026-11-25T09:30:00.5Z")),
                    Value::dynamic(json!(["r1", "r2"])),
                    Value::Long(7),
                    Value::Real(f64::NAN),
                ],
                vec![
                    Value::Null,
                    Value::Null,
                    Value::Null,
                    Value::string("bob"),
                    Value::Null,
                    Value::Null,
                    Value::Null,
                    Value::Null,
                    Value::Null,
                    Value::Real(1.5),
                ],
            ],
        };
        let now = ts("2026-11-29T01:00:00Z");
        let recs = records(&rule(), &t, "run-1", now);
        let got: Vec<J> = recs
            .iter()
            .map(|r| serde_json::to_value(r).unwrap_or(J::Null))
            .collect();
        assert_eq!(
            got[0],
            json!({
                "TimeGenerated": "2026-11-29T01:00:00Z", "RunId": "run-1",
                "RuleId": "b915897c-1fe7-47f4-9e06-2ae74da8203e",
                "RuleName": "Remote Management and Monitoring tool - ZohoAssist - Network Connection",
                "Tactics": "CommandAndControl,Persistence", "Techniques": "T1219,T1133",
                "DeviceId": "d1", "DeviceName": "pc01", "RemoteUrl": "assist.zoho.com",
                "RemoteIP": "", "AccountName": "alice",
                "FirstSeen": "2026-11-25T08:00:00Z", "LastSeen": "2026-11-25T09:30:00.5000000Z",
                "EventCount": 7,
                "Finding": {"DeviceId": "d1", "devicename": "pc01", "RemoteUrl": "assist.zoho.com",
                    "InitiatingProcessAccountName": "", "AccountName": "alice",
                    "FirstSeen": "2026-11-25T08:00:00Z", "Timestamp": "2026-11-25T09:30:00.5000000Z",
                    "Report": ["r1", "r2"], "count_": 7, "Score": "NaN"}
            })
        );
        let keys: Vec<&String> = got[0]
            .as_object()
            .map(|o| o.keys().collect())
            .unwrap_or_default();
        assert_eq!(keys.first().map(|k| k.as_str()), Some("TimeGenerated"));
        assert_eq!(keys.len(), 15);
        let r = &recs[1];
        assert_eq!(
            (
                r.device_id.as_str(),
                r.account_name.as_str(),
                &r.first_seen,
                &r.last_seen,
                r.event_count
            ),
            ("", "bob", &None, &None, 1)
        );
        assert_eq!(r.finding["DeviceId"], json!(""), "string nulls are empty");
        let reals = Table {
            schema: Schema::new(vec![Column::new("Count", Type::Real)]),
            rows: vec![vec![Value::Real(4.0)], vec![Value::Real(2.5)]],
        };
        let counts: Vec<i64> = records(&rule(), &reals, "r", now)
            .iter()
            .map(|r| r.event_count)
            .collect();
        assert_eq!(counts, vec![4, 1]);
        assert_eq!(r.finding["Report"], J::Null);
    }

    #[test]
    fn strings_are_cut_on_char_boundaries_within_the_limit() {
        for s in [
            "abc",
            "é".repeat(100).as_str(),
            "\"\\\n".repeat(50).as_str(),
            "x😀y".repeat(40).as_str(),
            "\u{1}".repeat(30).as_str(),
        ] {
            for max in [0, 1, 10, 25, 40, 77, 150, 400, 10_000] {
                let c = cut_string(s, max);
                assert!(
                    str_json_len(&c) <= max || c.is_empty(),
                    "{s:?} {max}: {c:?}"
                );
                if str_json_len(s) <= max {
                    assert_eq!(c, s);
                } else if !c.is_empty() {
                    assert!(c.ends_with(CUT_SUFFIX), "{c:?}");
                    let prefix = c.strip_suffix(CUT_SUFFIX).unwrap_or("");
                    assert!(s.starts_with(prefix));
                    // The longest prefix: one more character would not fit.
                    let next = s[prefix.len()..]
                        .chars()
                        .next()
                        .map(|ch| format!("{prefix}{ch}{CUT_SUFFIX}"));
                    if let Some(n) = next {
                        assert!(str_json_len(&n) > max, "{s:?} {max}: {c:?} not the longest");
                    }
                }
            }
        }
    }

    #[test]
    fn a_huge_finding_is_rebuilt_valid_and_marked() {
        let mut obj = Map::new();
        obj.insert("DeviceName".into(), json!("pc01"));
        obj.insert("Blob".into(), json!("x".repeat(200_000)));
        obj.insert("Report".into(), json!(vec!["r"; 10]));
        obj.insert("List".into(), json!(vec![1; 50_000]));
        let f = fit_finding(obj);
        let text = f.to_string();
        assert!(text.len() <= MAX_FIELD_BYTES, "{}", text.len());
        assert!(serde_json::from_str::<J>(&text).is_ok());
        let keys: Vec<&str> = f
            .as_object()
            .map(|o| o.keys().map(String::as_str).collect())
            .unwrap_or_default();
        assert_eq!(keys, vec![TRUNCATION_KEY, "DeviceName", "Blob"]);
        let m = &f[TRUNCATION_KEY];
        assert_eq!(m["cutColumns"], json!(["Blob"]));
        assert_eq!(m["omittedColumns"], json!(["Report", "List"]));
        assert!(m["originalBytes"].as_u64().is_some_and(|n| n > 300_000));
        assert!(f["Blob"]
            .as_str()
            .is_some_and(|s| s.ends_with(CUT_SUFFIX) && s.len() > 50_000));
        // Small findings are untouched.
        let small: Map<String, J> = [("a".to_string(), json!(1))].into_iter().collect();
        assert_eq!(fit_finding(small.clone()), J::Object(small));
        // Many columns: the marker lists at most MARKER_NAMES and counts.
        let wide: Map<String, J> = (0..5_000)
            .map(|i| (format!("c{i:04}"), json!("y".repeat(40))))
            .collect();
        let f = fit_finding(wide);
        assert!(f.to_string().len() <= MAX_FIELD_BYTES);
        assert_eq!(
            f[TRUNCATION_KEY]["omittedColumns"].as_array().map(Vec::len),
            Some(MARKER_NAMES)
        );
        assert!(f[TRUNCATION_KEY]["omittedCount"]
            .as_u64()
            .is_some_and(|n| n > 3_000));
    }

    #[test]
    fn batches_stay_under_the_body_limit() {
        assert!(plan_batches(&[], 100).is_empty());
        assert_eq!(plan_batches(&[10, 10, 10], 100), vec![0..3]);
        // 2 + 49 = 51 ≤ 51; adding ",49" would be 101 > 100.
        assert_eq!(plan_batches(&[49, 49, 49], 100), vec![0..1, 1..2, 2..3]);
        assert_eq!(plan_batches(&[48, 48], 100), vec![0..2]); // 2+48+1+48 = 99
        assert_eq!(plan_batches(&[49, 48], 100), vec![0..2]); // exactly 100
        assert_eq!(plan_batches(&[200, 5, 5], 100), vec![0..1, 1..3]);
        let sizes: Vec<usize> = (0..1000).map(|i| 100 + (i * 37) % 900).collect();
        let batches = plan_batches(&sizes, 10_000);
        let mut next = 0;
        for b in &batches {
            assert_eq!(b.start, next);
            next = b.end;
            let body = 2 + sizes[b.clone()].iter().sum::<usize>() + b.len() - 1;
            assert!(body <= 10_000, "{b:?} {body}");
            if b.end < sizes.len() {
                assert!(
                    body + 1 + sizes[b.end] > 10_000,
                    "{b:?} could take one more"
                );
            }
        }
        assert_eq!(next, sizes.len());
    }

    #[test]
    fn upload_url_follows_the_spec_path() {
        let t = LogsIngestionTarget {
            endpoint: "https://dce-1.westeurope-1.ingest.monitor.azure.com".into(),
            dcr_immutable_id: "dcr-0123456789abcdef0123456789abcdef".into(),
            stream: "Custom-RmmHuntFindings_CL".into(),
        };
        assert_eq!(
            upload_url(&t).as_deref(),
            Ok("https://dce-1.westeurope-1.ingest.monitor.azure.com/dataCollectionRules/dcr-0123456789abcdef0123456789abcdef/streams/Custom-RmmHuntFindings_CL?api-version=2023-01-01")
        );
        let odd = LogsIngestionTarget {
            endpoint: "http://127.0.0.1:9/base/".into(),
            stream: "Custom-A B/C".into(),
            ..t
        };
        assert_eq!(
            upload_url(&odd).as_deref(),
            Ok("http://127.0.0.1:9/base/dataCollectionRules/dcr-0123456789abcdef0123456789abcdef/streams/Custom-A%20B%2FC?api-version=2023-01-01")
        );
    }

    #[test]
    fn the_sink_can_be_shared_across_threads() {
        fn send_sync<T: Send + Sync>() {}
        send_sync::<LogsIngestionSink>();
    }

    #[test]
    fn run_ids_are_v4() {
        let a = new_uuid_v4();
        assert_eq!(a.get_version_num(), 4);
        assert_ne!(a, new_uuid_v4());
    }
}
