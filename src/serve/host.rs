//! The Functions host's invocation protocol (reference D.4/D.5) and the
//! timer: `POST /HuntTimer` carries `{"Data":{"timer":TimerInfo},
//! "Metadata":{"sys":{...}, "RetryContext"?}}` (PascalCase) with header
//! `X-Azure-Functions-InvocationId`, and is answered `{"Outputs":{},
//! "Logs":[...],"ReturnValue":null}` with 200, or non-2xx (a problem) so
//! the host records a failed invocation.
//!
//! The timer runs every enabled rule over `[now - 5d, now]` with every
//! configured sink; a rule already running (an overlapping invocation, or
//! an HTTP hunt writing incidents) is skipped and logged, never run twice.
//! Envelopes are parsed leniently: unknown members are ignored (the host
//! adds what it likes), `ScheduleStatus` may be `null`, times may lack an
//! offset or carry the year 0001 of a first run.

use super::log::{rule_finished, Trigger};
use super::problem::{ApiJson, Problem, RequestId};
use super::{ServeState, TIMER_LOOKBACK};
use crate::app::{sample_now, HuntOutcome, HuntRequest, SinkMode};
use crate::source::TimeWindow;
use axum::extract::State;
use axum::http::StatusCode;
use axum::{Extension, Json};
use serde::{Deserialize, Serialize};
use serde_json::Value as Json_;
use std::collections::HashMap;
use std::sync::Arc;

/// The host's invocation request (`HttpScriptInvocationContext`).
#[derive(Debug, Deserialize)]
pub struct InvokeRequest {
    #[serde(rename = "Data", default)]
    pub data: HashMap<String, Json_>,
    #[serde(rename = "Metadata", default)]
    pub metadata: HashMap<String, Json_>,
}

/// The timer binding's value (WebJobs `TimerInfo`).
#[derive(Debug, Default, Deserialize)]
pub struct TimerInfo {
    #[serde(rename = "Schedule", default)]
    pub schedule: Option<Json_>,
    /// `null` when the binding's `useMonitor` is off.
    #[serde(rename = "ScheduleStatus", default)]
    pub schedule_status: Option<ScheduleStatus>,
    #[serde(rename = "IsPastDue", default)]
    pub is_past_due: bool,
}

/// Last/next occurrences (`Last` is year 0001 on the first run).
#[derive(Debug, Default, Deserialize)]
pub struct ScheduleStatus {
    #[serde(rename = "Last", default)]
    pub last: Option<String>,
    #[serde(rename = "Next", default)]
    pub next: Option<String>,
    #[serde(rename = "LastUpdated", default)]
    pub last_updated: Option<String>,
}

/// `Metadata.RetryContext` (a retry policy is active).
#[derive(Debug, Default, Deserialize)]
pub struct RetryContext {
    #[serde(rename = "RetryCount", default)]
    pub retry_count: u32,
    #[serde(rename = "MaxRetryCount", default)]
    pub max_retry_count: i64,
}

/// The handler's answer (`HttpScriptInvocationResult`).
#[derive(Debug, Serialize)]
pub struct InvokeResponse {
    #[serde(rename = "Outputs")]
    pub outputs: serde_json::Map<String, Json_>,
    #[serde(rename = "Logs")]
    pub logs: Vec<String>,
    #[serde(rename = "ReturnValue")]
    pub return_value: Option<Json_>,
}

impl InvokeRequest {
    /// The timer binding (named `timer` in function/HuntTimer; the only
    /// `Data` entry otherwise).
    pub fn timer(&self) -> Option<TimerInfo> {
        let v = self.data.get("timer").or_else(|| {
            (self.data.len() == 1)
                .then(|| self.data.values().next())
                .flatten()
        })?;
        serde_json::from_value(v.clone()).ok()
    }

    pub fn retry(&self) -> Option<RetryContext> {
        let v = self.metadata.get("RetryContext")?;
        serde_json::from_value(v.clone()).ok()
    }
}

/// A host time (`yyyy-MM-ddTHH:mm:ss[.fffffff][offset]`) as RFC 3339, or
/// `None` for the year 0001 of "never" and for what does not parse.
pub fn host_time(s: &str) -> Option<String> {
    if s.starts_with("0001-") {
        return None;
    }
    let rfc = &time::format_description::well_known::Rfc3339;
    // no offset: the host's local time, UTC on Azure
    let t = time::OffsetDateTime::parse(s, rfc)
        .or_else(|_| time::OffsetDateTime::parse(&format!("{s}Z"), rfc))
        .ok()?;
    t.format(rfc).ok()
}

/// `POST /HuntTimer`.
pub async fn timer(
    State(state): State<Arc<ServeState>>,
    Extension(RequestId(invocation_id)): Extension<RequestId>,
    ApiJson(envelope): ApiJson<InvokeRequest>,
) -> Result<Json<InvokeResponse>, Problem> {
    if state.is_shutting_down() {
        return Err(Problem::unavailable());
    }
    let Some(info) = envelope.timer() else {
        return Err(Problem::bad_request(
            "the envelope has no timer binding in Data (expected Data.timer with the TimerInfo)",
        ));
    };
    let last = info
        .schedule_status
        .as_ref()
        .and_then(|s| s.last.as_deref())
        .and_then(host_time);
    let retry = envelope.retry().map(|r| r.retry_count).unwrap_or(0);
    tracing::info!(
        invocation_id = %invocation_id,
        is_past_due = info.is_past_due,
        last = last.as_deref().unwrap_or("never"),
        retry_count = retry,
        "timer fired"
    );
    let app = state.app.clone();
    if app.configured_sinks().is_empty() {
        tracing::warn!(
            invocation_id = %invocation_id,
            "no sink is configured (RMMHUNT_SENTINEL_* or RMMHUNT_LOGS_INGESTION_*): findings are only logged"
        );
    }
    let now = app.default_now();
    let req = HuntRequest {
        skip_disabled: true,
        in_flight: Some(state.in_flight.clone()),
        ..HuntRequest::new(TimeWindow::ending_at(now, TIMER_LOOKBACK))
    };
    let progress = state.start_hunt();
    let id = invocation_id.clone();
    let task = tokio::task::spawn_blocking(move || {
        let source = app.source(sample_now(), None)?;
        let sinks = app.sinks(SinkMode::Configured).map_err(|e| e.join("; "))?;
        let outcome = app.run(&req, source.as_ref(), &sinks, &progress);
        for run in &outcome.rules {
            rule_finished(Trigger::Timer, &id, run);
        }
        for rule in &outcome.skipped {
            tracing::warn!(invocation_id = %id, rule_id = %rule, "rule skipped: already running");
        }
        Ok::<HuntOutcome, String>(outcome)
    });
    let outcome = match task.await {
        Ok(Ok(o)) => o,
        Ok(Err(message)) => {
            tracing::error!(invocation_id = %invocation_id, error = %message, "timer hunt could not start");
            return Err(Problem::internal(message));
        }
        Err(join) => {
            tracing::error!(invocation_id = %invocation_id, error = %join, "timer hunt failed");
            return Err(Problem::internal(
                "internal error; the invocation id is in the logs",
            ));
        }
    };
    let logs = log_lines(&outcome);
    let failed = outcome.rule_failed() || !outcome.sink_errors().is_empty() || outcome.cut;
    if failed {
        let detail = logs.join("\n");
        return Err(
            Problem::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", detail)
                .with("Logs", serde_json::json!(logs)),
        );
    }
    Ok(Json(InvokeResponse {
        outputs: serde_json::Map::new(),
        logs,
        return_value: None,
    }))
}

/// One line per rule for the host's invocation log.
pub fn log_lines(outcome: &HuntOutcome) -> Vec<String> {
    let mut out = Vec::new();
    for run in &outcome.rules {
        let r = &run.report;
        let excluded: u64 = r.excluded.iter().map(|(_, n)| n).sum();
        let s = run.sink_summary();
        let mut line = format!(
            "rule {}: {} rows scanned, {} excluded, {} findings, {} incident(s) created, {} updated",
            r.id,
            r.rows_scanned,
            excluded,
            r.findings.rows.len(),
            s.created,
            s.updated
        );
        if let Some(e) = &r.error {
            line.push_str(&format!("; FAILED: {e}"));
        }
        for e in run.sink_errors() {
            line.push_str(&format!("; sink FAILED: {e}"));
        }
        out.push(line);
    }
    for id in &outcome.skipped {
        out.push(format!("rule {id}: skipped, already running"));
    }
    if outcome.cut {
        out.push("the hunt was stopped (shutting down) before every rule ran".into());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_times() {
        for (input, want) in [
            ("0001-01-01T00:00:00", None),
            ("0001-01-01T00:00:00+00:00", None),
            (
                "2024-03-26T09:30:00.003+00:00",
                Some("2024-03-26T09:30:00.003Z"),
            ),
            ("2024-03-26T09:45:00+00:00", Some("2024-03-26T09:45:00Z")),
            ("2024-03-26T09:45:00", Some("2024-03-26T09:45:00Z")),
            (
                "2024-03-26T09:45:00.0120000Z",
                Some("2024-03-26T09:45:00.012Z"),
            ),
            (
                "2024-03-26T10:45:00+01:00",
                Some("2024-03-26T10:45:00+01:00"),
            ),
            ("garbage", None),
            ("", None),
        ] {
            assert_eq!(host_time(input).as_deref(), want, "{input}");
        }
    }
}
