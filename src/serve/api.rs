//! The HTTP API under `/api` (DESIGN.md "HTTP API"): `POST /api/hunts`,
//! `GET /api/rules`, `GET /api/health`, `GET /api/openapi.json`.
//!
//! `/api/hunts` checks its body completely before anything runs (400 for
//! malformed JSON, wrong types, unknown fields; 422 for values: unknown
//! rule, bad timespan or time, inverted range, device too long), then runs
//! the hunt on `spawn_blocking` with a deadline (`RMMHUNT_HTTP_DEADLINE_SECS`,
//! 200 s: under the Functions front end's 230 s). At the deadline it answers
//! 504 with the rules finished so far; the hunt stops before its next rule
//! and writes nothing for a rule that finished too late. Chosen over an
//! asynchronous job with a status URL: a playbook gets one answer.

use super::log::{rule_finished, Trigger};
use super::problem::{ApiJson, Problem, RequestId};
use super::ServeState;
use crate::app::{sample_now, HuntOutcome, HuntRequest, RuleRun, SinkMode};
use crate::config::ApiAuth;
use crate::source::TimeWindow;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::Deserialize;
use serde_json::{json, Value as Json_};
use std::sync::Arc;
use std::time::Instant;

/// The OpenAPI document of this API.
pub const OPENAPI: &str = include_str!("openapi.json");
/// Longest accepted `device`.
pub const MAX_DEVICE_CHARS: usize = 255;

/// Body of `POST /api/hunts`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HuntBody {
    /// One rule by id; default: every enabled rule.
    pub rule: Option<String>,
    /// KQL timespan (`5d`, `12h`); exclusive with `start`. Default `5d`.
    pub lookback: Option<String>,
    /// RFC 3339.
    pub start: Option<String>,
    /// RFC 3339; default now (the sample's now over the sample data).
    pub end: Option<String>,
    /// Write to the configured sinks (Sentinel incidents, ...).
    #[serde(default)]
    pub incidents: bool,
    /// Keep only this device's rows (`DeviceName =~` or `DeviceId ==`).
    pub device: Option<String>,
}

/// A checked hunt body.
#[derive(Debug)]
pub struct HuntPlan {
    pub rules: Vec<String>,
    pub window: TimeWindow,
    pub device: Option<String>,
    pub incidents: bool,
}

fn short(s: &str) -> String {
    let mut out: String = s.chars().take(80).collect();
    if s.chars().count() > 80 {
        out.push('…');
    }
    out
}

/// Checks a body against the loaded rules; every problem at once (422).
pub fn check(body: HuntBody, state: &ServeState) -> Result<HuntPlan, Problem> {
    let app = &state.app;
    let mut errors: Vec<(String, String)> = Vec::new();
    let rules = match &body.rule {
        Some(id) => match app.rule(id) {
            Some(r) => vec![r.id.clone()],
            None => {
                errors.push((
                    "/rule".into(),
                    format!(
                        "no rule with id `{}` (GET /api/rules lists them)",
                        short(id)
                    ),
                ));
                Vec::new()
            }
        },
        None => app
            .rules
            .iter()
            .filter(|r| app.enabled(r))
            .map(|r| r.id.clone())
            .collect(),
    };
    let time = |pointer: &str, v: &Option<String>, errors: &mut Vec<(String, String)>| {
        v.as_ref().and_then(|s| match parse_time(s) {
            Some(t) => Some(t),
            None => {
                errors.push((
                    pointer.into(),
                    format!(
                        "`{}` is not an RFC 3339 time (like 2024-05-01T00:00:00Z)",
                        short(s)
                    ),
                ));
                None
            }
        })
    };
    let end = time("/end", &body.end, &mut errors).unwrap_or_else(|| app.default_now());
    let start = time("/start", &body.start, &mut errors);
    let lookback = match &body.lookback {
        Some(s) => match kql::time::parse_timespan(s.trim()) {
            Some(t) if t > 0 => Some(t),
            Some(_) => {
                errors.push(("/lookback".into(), "the lookback must be positive".into()));
                None
            }
            None => {
                errors.push((
                    "/lookback".into(),
                    format!(
                        "`{}` is not a timespan (like 5d, 12h or 1.00:00:00)",
                        short(s)
                    ),
                ));
                None
            }
        },
        None => None,
    };
    if body.lookback.is_some() && body.start.is_some() {
        errors.push((
            "/start".into(),
            "give either lookback or start, not both".into(),
        ));
    }
    let start = start
        .unwrap_or_else(|| end.saturating_sub(lookback.unwrap_or(TimeWindow::DEFAULT_LOOKBACK)));
    if start >= end {
        errors.push(("/start".into(), "start must be before end".into()));
    }
    if let Some(d) = &body.device {
        let n = d.chars().count();
        if n == 0 || n > MAX_DEVICE_CHARS {
            errors.push((
                "/device".into(),
                format!("a device name or id has 1 to {MAX_DEVICE_CHARS} characters (got {n})"),
            ));
        }
    }
    if body.incidents && app.configured_sinks().is_empty() {
        errors.push((
            "/incidents".into(),
            "no sink is configured (RMMHUNT_SENTINEL_* or RMMHUNT_LOGS_INGESTION_*)".into(),
        ));
    }
    if errors.is_empty() && rules.is_empty() {
        errors.push((
            "/rule".into(),
            "every rule is disabled (RMMHUNT_DISABLED_RULES)".into(),
        ));
    }
    if !errors.is_empty() {
        return Err(Problem::invalid(errors));
    }
    Ok(HuntPlan {
        rules,
        window: TimeWindow { start, end },
        device: body.device,
        incidents: body.incidents,
    })
}

/// RFC 3339 → ticks.
pub fn parse_time(s: &str) -> Option<i64> {
    let t = time::OffsetDateTime::parse(s.trim(), &time::format_description::well_known::Rfc3339)
        .ok()?;
    let ticks = t.unix_timestamp_nanos() / 100 + i128::from(kql::time::UNIX_EPOCH);
    i64::try_from(ticks).ok().filter(|t| *t >= 0)
}

/// `POST /api/hunts`.
pub async fn hunts(
    State(state): State<Arc<ServeState>>,
    Extension(RequestId(request_id)): Extension<RequestId>,
    ApiJson(body): ApiJson<HuntBody>,
) -> Result<Response, Problem> {
    if state.is_shutting_down() {
        return Err(Problem::unavailable());
    }
    let plan = check(body, &state)?;
    let claims = if plan.incidents {
        match state.in_flight.try_claim_all(&plan.rules) {
            Some(c) => Some(c),
            None => {
                return Err(Problem::new(
                    StatusCode::CONFLICT,
                    "already-running",
                    "a rule of this hunt is already running with incidents (the timer or another call); try again later",
                ))
            }
        }
    } else {
        None
    };
    let deadline = state.app.settings.http_hunt_deadline;
    let progress = state.start_hunt();
    let app = state.app.clone();
    let req = HuntRequest {
        rules: plan.rules,
        device: plan.device,
        deadline: Some(Instant::now() + deadline),
        ..HuntRequest::new(plan.window)
    };
    let mode = if plan.incidents {
        SinkMode::Configured
    } else {
        SinkMode::DryRun
    };
    let task = {
        let progress = progress.clone();
        let request_id = request_id.clone();
        tokio::task::spawn_blocking(move || {
            let _claims = claims;
            let source = app.source(sample_now(), None)?;
            let sinks = app.sinks(mode).map_err(|e| e.join("; "))?;
            let outcome = app.run(&req, source.as_ref(), &sinks, &progress);
            for run in &outcome.rules {
                rule_finished(Trigger::Http, &request_id, run);
            }
            Ok::<HuntOutcome, String>(outcome)
        })
    };
    let outcome = match tokio::time::timeout(deadline, task).await {
        Ok(Ok(Ok(outcome))) => outcome,
        Ok(Ok(Err(message))) => {
            tracing::error!(request_id = %request_id, error = %message, "hunt could not start");
            return Err(Problem::internal(
                "the hunt could not start; the request id is in the logs",
            ));
        }
        Ok(Err(join)) => {
            tracing::error!(request_id = %request_id, error = %join, "hunt task failed");
            return Err(Problem::internal(
                "internal error; the request id is in the logs",
            ));
        }
        Err(_) => {
            progress.cancel();
            let done = progress.finished();
            let view = state
                .app
                .view_of(plan.window, state.app.source_name(), &done, &[]);
            return Err(Problem::new(
                StatusCode::GATEWAY_TIMEOUT,
                "deadline",
                format!(
                    "the hunt was cut at the {} s deadline: {} rule(s) finished (in `report`); the others did not run",
                    deadline.as_secs(),
                    done.len()
                ),
            )
            .with("report", with_incidents(view.to_json(), &done, plan.incidents)));
        }
    };
    let body = with_incidents(
        state.app.view(&outcome).to_json(),
        &outcome.rules,
        plan.incidents && !outcome.dry_run,
    );
    if outcome.rule_failed() {
        let failed: Vec<String> = outcome
            .rules
            .iter()
            .filter_map(|r| r.report.error.as_ref().map(|e| e.to_string()))
            .collect();
        return Err(
            Problem::new(StatusCode::BAD_GATEWAY, "source-failed", failed.join("; "))
                .with("report", body),
        );
    }
    let sink_errors = outcome.sink_errors();
    if !sink_errors.is_empty() {
        return Err(Problem::new(
            StatusCode::BAD_GATEWAY,
            "sink-failed",
            sink_errors.join("; "),
        )
        .with("report", body));
    }
    if outcome.cut {
        let p = if state.is_shutting_down() {
            Problem::unavailable()
        } else {
            Problem::new(
                StatusCode::GATEWAY_TIMEOUT,
                "deadline",
                "the hunt was cut at the deadline",
            )
        };
        return Err(p.with("report", body));
    }
    Ok(Json(body).into_response())
}

/// The hunt JSON plus `incidents`: what the sinks wrote (or, not written,
/// would write).
fn with_incidents(mut view: Json_, runs: &[RuleRun], written: bool) -> Json_ {
    let mut total = crate::sink::SinkSummary::default();
    for r in runs {
        total.add(r.sink_summary());
    }
    if let Some(map) = view.as_object_mut() {
        map.insert(
            "incidents".into(),
            json!({
                "written": written,
                "created": total.created,
                "updated": total.updated,
                "unchanged": total.unchanged,
                "ingested": total.ingested,
                "actions": total.actions,
            }),
        );
    }
    view
}

/// `GET /api/rules`.
pub async fn rules(State(state): State<Arc<ServeState>>) -> Json<Json_> {
    let app = &state.app;
    let rules: Vec<Json_> = app
        .rules
        .iter()
        .map(|r| {
            json!({
                "id": r.id,
                "name": r.name,
                "description": r.description,
                "tactics": r.tactics,
                "techniques": r.techniques,
                "query": r.query,
                "enabled": app.enabled(r),
            })
        })
        .collect();
    Json(json!({ "rules": rules }))
}

/// `GET /api/health`: liveness and a configuration summary, no secrets.
pub async fn health(State(state): State<Arc<ServeState>>) -> Json<Json_> {
    let app = &state.app;
    let s = &app.settings;
    let auth = match &s.api_auth {
        Some(ApiAuth::Host) => "host",
        Some(ApiAuth::Key(_)) => "key",
        Some(ApiAuth::Entra(_)) => "entra",
        Some(ApiAuth::None) | None => "none",
    };
    Json(json!({
        "status": if state.is_shutting_down() { "shutting-down" } else { "ok" },
        "version": env!("CARGO_PKG_VERSION"),
        "under_host": s.port.is_some(),
        "auth": auth,
        "source": app.source_name(),
        "rules": {
            "loaded": app.rules.len(),
            "enabled": app.rules.iter().filter(|r| app.enabled(r)).count(),
        },
        "exclusions": {
            "file": app.exclusions_file,
            "entries": app.exclusions.entries.len(),
        },
        "sinks": app.configured_sinks(),
        "schedule": s.schedule,
    }))
}

/// `GET /api/openapi.json`.
pub async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI).into_response()
}
