//! `rmmhunt serve`: the router with `oneshot` (every route, every problem
//! status we can produce, hostile inputs), the host's timer envelopes as
//! fixtures (`tests/fixtures/host/`), the deadline and in-flight rules of
//! `app::App::run`, and the real binary started as the Functions host
//! starts it (local data, and log-analytics + Sentinel over
//! `crates/fake-azure`), plus SIGTERM.

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use rmmhunt::app::{App, HuntRequest, Overrides, Progress, SinkMode};
use rmmhunt::config::{self, ApiAuth};
use rmmhunt::rule::Rule;
use rmmhunt::serve::{auth::Authorizer, router, ServeState};
use rmmhunt::sink::{Sink, SinkError, SinkSummary};
use rmmhunt::source::{Source, SourceError, TimeWindow};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tower::ServiceExt;

const BIN: &str = env!("CARGO_BIN_EXE_rmmhunt");
const RULE: &str = "b915897c-1fe7-47f4-9e06-2ae74da8203e";

fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn app(pairs: &[(&str, &str)]) -> App {
    let cfg = config::from_env_map(&env(pairs))
        .validate()
        .unwrap_or_else(|e| panic!("settings: {e}"));
    App::build(cfg, Overrides::default(), true).unwrap_or_else(|e| panic!("app: {e}"))
}

fn state(pairs: &[(&str, &str)]) -> Arc<ServeState> {
    let auth = Authorizer::from_config(&ApiAuth::None, reqwest::Client::new())
        .unwrap_or_else(|e| panic!("{e}"));
    ServeState::new(app(pairs), auth)
}

struct Answer {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    json: Value,
}

async fn call(
    state: &Arc<ServeState>,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: impl Into<Body>,
) -> Answer {
    let mut req = Request::builder().method(method).uri(path);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let req = req.body(body.into()).unwrap_or_else(|e| panic!("{e}"));
    let resp = router(state.clone())
        .oneshot(req)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let status = resp.status();
    let headers = resp.headers().clone();
    let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let json = serde_json::from_slice(&bytes).unwrap_or_else(|e| {
        panic!(
            "{method} {path}: {status}: body is not JSON ({e}): {}",
            String::from_utf8_lossy(&bytes)
        )
    });
    Answer {
        status,
        headers,
        json,
    }
}

async fn post_json(state: &Arc<ServeState>, path: &str, body: &str) -> Answer {
    call(
        state,
        "POST",
        path,
        &[("content-type", "application/json")],
        body.to_string(),
    )
    .await
}

/// A problem answer: content type, URN, status, instance, request id.
fn assert_problem(a: &Answer, status: u16, slug: &str, path: &str) {
    assert_eq!(a.status.as_u16(), status, "{}", a.json);
    let ct = a
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    assert_eq!(ct, "application/problem+json", "{}", a.json);
    assert_eq!(
        a.json["type"],
        format!("urn:rmmhunt:problem:{slug}"),
        "{}",
        a.json
    );
    assert_eq!(a.json["status"], status, "{}", a.json);
    assert_eq!(a.json["instance"], path, "{}", a.json);
    let id = a
        .headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    assert!(!id.is_empty());
    assert_eq!(a.json["request_id"], id, "{}", a.json);
    assert!(a.json["title"].is_string() && a.json["detail"].is_string());
}

/// Findings rows sorted (Kusto gives groups in no defined order).
fn sorted(hunt: &Value) -> Value {
    let mut v = hunt.clone();
    if let Some(rules) = v["rules"].as_array_mut() {
        for r in rules {
            if let Some(rows) = r["findings"]["rows"].as_array_mut() {
                rows.sort_by_key(|row| row.to_string());
            }
        }
    }
    v
}

fn golden() -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/hunt_sample.golden.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}"))
}

fn fixture(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/host")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[tokio::test]
async fn root_rules_health_openapi() {
    let s = state(&[("RMMHUNT_DISABLED_RULES", RULE)]);
    let a = call(&s, "GET", "/", &[], Body::empty()).await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(
        a.json,
        json!({"service": "rmmhunt", "version": env!("CARGO_PKG_VERSION")})
    );

    let a = call(&s, "GET", "/api/rules", &[], Body::empty()).await;
    assert_eq!(a.status, StatusCode::OK);
    let r = &a.json["rules"][0];
    assert_eq!(r["id"], RULE);
    assert_eq!(r["enabled"], false, "disabled by setting");
    assert_eq!(r["tactics"], json!(["CommandAndControl"]));
    assert_eq!(r["techniques"], json!(["T1219"]));
    assert!(r["query"]
        .as_str()
        .is_some_and(|q| q.contains("DeviceNetworkEvents")));

    let a = call(&s, "GET", "/api/health", &[], Body::empty()).await;
    assert_eq!(a.status, StatusCode::OK);
    for (k, want) in [
        ("status", json!("ok")),
        ("under_host", json!(false)),
        ("auth", json!("none")),
        ("source", json!("local")),
        ("rules", json!({"loaded": 1, "enabled": 0})),
        ("sinks", json!([])),
        ("schedule", json!(null)),
    ] {
        assert_eq!(a.json[k], want, "{k}: {}", a.json);
    }
    assert_eq!(a.json["exclusions"]["file"], "examples/exclusions.yaml");
    assert!(a.json["exclusions"]["entries"].as_u64().unwrap_or(0) > 0);

    let a = call(&s, "GET", "/api/openapi.json", &[], Body::empty()).await;
    assert_eq!(a.status, StatusCode::OK);
    assert!(a.json["openapi"]
        .as_str()
        .is_some_and(|v| v.starts_with("3.1")));
}

#[tokio::test]
async fn health_shows_sinks_and_no_secrets() {
    let s = state(&[
        ("FUNCTIONS_CUSTOMHANDLER_PORT", "7071"),
        ("RMMHUNT_SCHEDULE", "0 0 * * * *"),
        (
            "RMMHUNT_SENTINEL_SUBSCRIPTION_ID",
            "00000000-0000-0000-0000-000000000001",
        ),
        ("RMMHUNT_SENTINEL_RESOURCE_GROUP", "rg"),
        ("RMMHUNT_SENTINEL_WORKSPACE", "ws"),
        ("AZURE_TENANT_ID", "t"),
        ("AZURE_CLIENT_ID", "c"),
        ("AZURE_CLIENT_SECRET", "sp-secret-value-123"),
    ]);
    let a = call(&s, "GET", "/api/health", &[], Body::empty()).await;
    assert_eq!(a.json["under_host"], true);
    assert_eq!(a.json["auth"], "host");
    assert_eq!(a.json["sinks"], json!(["sentinel-incidents"]));
    assert_eq!(a.json["schedule"], "0 0 * * * *");
    assert!(!a.json.to_string().contains("sp-secret-value-123"));
}

#[tokio::test]
async fn a_hunt_answers_the_cli_json_plus_incidents() {
    let s = state(&[]);
    let a = post_json(&s, "/api/hunts", "{}").await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.json);
    let mut body = a.json.clone();
    let incidents = body
        .as_object_mut()
        .and_then(|m| m.remove("incidents"))
        .unwrap_or_default();
    assert_eq!(
        sorted(&body),
        sorted(&golden()),
        "same as hunt --format json"
    );
    assert_eq!(incidents["written"], false);
    let rows = body["rules"][0]["findings"]["rows"]
        .as_array()
        .map(Vec::len)
        .unwrap_or(0);
    assert!(rows > 0);
    assert!(
        incidents["actions"]
            .as_array()
            .is_some_and(|a| !a.is_empty()),
        "a dry run says what it would write: {incidents}"
    );
    // one rule by id, an explicit window: same findings
    let a = post_json(
        &s,
        "/api/hunts",
        &format!(r#"{{"rule":"{}","start":"2026-11-20T12:00:00Z","end":"2026-11-25T12:00:00Z","incidents":false}}"#, RULE.to_uppercase()),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.json);
    assert_eq!(
        sorted(&a.json)["rules"][0]["findings"],
        sorted(&golden())["rules"][0]["findings"]
    );
}

#[tokio::test]
async fn the_device_filter_keeps_exactly_that_device() {
    let s = state(&[]);
    let all = post_json(&s, "/api/hunts", r#"{"lookback":"5d"}"#).await;
    let cols = all.json["rules"][0]["findings"]["columns"].clone();
    let name_col = cols
        .as_array()
        .and_then(|c| c.iter().position(|c| c["name"] == "DeviceName"))
        .unwrap_or_else(|| panic!("no DeviceName: {cols}"));
    let id_col = cols
        .as_array()
        .and_then(|c| c.iter().position(|c| c["name"] == "DeviceId"))
        .unwrap_or_else(|| panic!("no DeviceId: {cols}"));
    let rows = all.json["rules"][0]["findings"]["rows"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let Some(first) = rows.first() else {
        panic!("no findings")
    };
    let name = first[name_col].as_str().unwrap_or_default().to_string();
    let id = first[id_col].as_str().unwrap_or_default().to_string();
    let want = rows.iter().filter(|r| r[name_col] == name.as_str()).count();
    for device in [name.clone(), name.to_uppercase(), id.clone()] {
        let a = post_json(&s, "/api/hunts", &json!({"device": device}).to_string()).await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.json);
        let got = a.json["rules"][0]["findings"]["rows"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        assert!(!got.is_empty(), "{device}");
        assert!(
            got.iter().all(|r| r[name_col] == name.as_str()),
            "{device}: {got:?}"
        );
        if device != id {
            assert_eq!(got.len(), want, "{device}");
        }
    }
    // KQL metacharacters in the device: a literal that matches nobody
    for device in [
        format!("{name}\" or 1==1 //"),
        "x' or DeviceName != '".to_string(),
        "* | take 100".to_string(),
        "a\\\"; print 1".to_string(),
        "line\nbreak".to_string(),
        "ünïcødé ✓".to_string(),
    ] {
        let a = post_json(&s, "/api/hunts", &json!({"device": device}).to_string()).await;
        assert_eq!(a.status, StatusCode::OK, "{device:?}: {}", a.json);
        assert_eq!(
            a.json["rules"][0]["findings"]["rows"],
            json!([]),
            "{device:?} must match nothing"
        );
        assert!(a.json["rules"][0].get("error").is_none(), "{}", a.json);
    }
}

/// method, path, headers, body, status, problem slug
type Case<'a> = (
    &'a str,
    &'a str,
    Vec<(&'a str, &'a str)>,
    String,
    u16,
    &'a str,
);

#[tokio::test]
async fn hostile_and_malformed_requests_get_4xx_problems() {
    let s = state(&[]);
    let j = "application/json";
    let cases: Vec<Case> = vec![
        (
            "POST",
            "/api/hunts",
            vec![("content-type", j)],
            "{".into(),
            400,
            "bad-request",
        ),
        (
            "POST",
            "/api/hunts",
            vec![("content-type", j)],
            "not json".into(),
            400,
            "bad-request",
        ),
        (
            "POST",
            "/api/hunts",
            vec![("content-type", j)],
            "[]".into(),
            400,
            "bad-request",
        ),
        (
            "POST",
            "/api/hunts",
            vec![("content-type", j)],
            r#"{"rule":1}"#.into(),
            400,
            "bad-request",
        ),
        (
            "POST",
            "/api/hunts",
            vec![("content-type", j)],
            r#"{"incidents":"yes"}"#.into(),
            400,
            "bad-request",
        ),
        (
            "POST",
            "/api/hunts",
            vec![("content-type", j)],
            r#"{"device":["a"]}"#.into(),
            400,
            "bad-request",
        ),
        (
            "POST",
            "/api/hunts",
            vec![("content-type", j)],
            r#"{"lookback":5}"#.into(),
            400,
            "bad-request",
        ),
        (
            "POST",
            "/api/hunts",
            vec![("content-type", j)],
            r#"{"rulez":"x"}"#.into(),
            400,
            "bad-request",
        ),
        (
            "POST",
            "/api/hunts",
            vec![],
            "{}".into(),
            415,
            "unsupported-media-type",
        ),
        (
            "POST",
            "/api/hunts",
            vec![("content-type", "text/plain")],
            "{}".into(),
            415,
            "unsupported-media-type",
        ),
        (
            "POST",
            "/api/hunts",
            vec![("content-type", j)],
            format!(r#"{{"device":"{}"}}"#, "a".repeat(70_000)),
            413,
            "payload-too-large",
        ),
        (
            "POST",
            "/api/hunts",
            vec![("content-type", j)],
            r#"{"rule":"nope"}"#.into(),
            422,
            "invalid-request",
        ),
        (
            "POST",
            "/api/hunts",
            vec![("content-type", j)],
            r#"{"rule":"x' | take 1 //"}"#.into(),
            422,
            "invalid-request",
        ),
        (
            "POST",
            "/api/hunts",
            vec![("content-type", j)],
            r#"{"lookback":"5d | take 1"}"#.into(),
            422,
            "invalid-request",
        ),
        (
            "POST",
            "/api/hunts",
            vec![("content-type", j)],
            r#"{"lookback":"-1d"}"#.into(),
            422,
            "invalid-request",
        ),
        (
            "POST",
            "/api/hunts",
            vec![("content-type", j)],
            r#"{"lookback":"1d","start":"2026-11-20T00:00:00Z"}"#.into(),
            422,
            "invalid-request",
        ),
        (
            "POST",
            "/api/hunts",
            vec![("content-type", j)],
            r#"{"start":"2026-11-26T00:00:00Z","end":"2026-11-25T00:00:00Z"}"#.into(),
            422,
            "invalid-request",
        ),
        (
            "POST",
            "/api/hunts",
            vec![("content-type", j)],
            r#"{"end":"yesterday"}"#.into(),
            422,
            "invalid-request",
        ),
        (
            "POST",
            "/api/hunts",
            vec![("content-type", j)],
            format!(r#"{{"device":"{}"}}"#, "d".repeat(256)),
            422,
            "invalid-request",
        ),
        (
            "POST",
            "/api/hunts",
            vec![("content-type", j)],
            r#"{"device":""}"#.into(),
            422,
            "invalid-request",
        ),
        (
            "POST",
            "/api/hunts",
            vec![("content-type", j)],
            r#"{"incidents":true}"#.into(),
            422,
            "invalid-request",
        ),
        (
            "GET",
            "/api/hunts",
            vec![],
            String::new(),
            405,
            "method-not-allowed",
        ),
        (
            "DELETE",
            "/api/rules",
            vec![],
            String::new(),
            405,
            "method-not-allowed",
        ),
        (
            "GET",
            "/HuntTimer",
            vec![],
            String::new(),
            405,
            "method-not-allowed",
        ),
        ("GET", "/api/nope", vec![], String::new(), 404, "not-found"),
        ("GET", "/hunts", vec![], String::new(), 404, "not-found"),
        (
            "POST",
            "/HuntTimer",
            vec![("content-type", j)],
            r#"{"Data":{}}"#.into(),
            400,
            "bad-request",
        ),
        (
            "POST",
            "/HuntTimer",
            vec![("content-type", j)],
            r#"{"Data":[]}"#.into(),
            400,
            "bad-request",
        ),
        (
            "POST",
            "/HuntTimer",
            vec![("content-type", j)],
            format!(
                r#"{{"Data":{{"timer":{{}}}},"Metadata":{{"x":"{}"}}}}"#,
                "a".repeat(1_100_000)
            ),
            413,
            "payload-too-large",
        ),
    ];
    for (method, path, headers, body, status, slug) in cases {
        let a = call(&s, method, path, &headers, body.clone()).await;
        let what = format!(
            "{method} {path} {}",
            body.chars().take(80).collect::<String>()
        );
        assert_eq!(a.status.as_u16(), status, "{what}: {}", a.json);
        assert_problem(&a, status, slug, path);
        if status == 422 {
            assert!(
                a.json["errors"].as_array().is_some_and(|e| !e.is_empty()
                    && e.iter()
                        .all(|x| x["pointer"].as_str().is_some_and(|p| p.starts_with('/')))),
                "{what}: {}",
                a.json
            );
        }
    }
}

/// Invalid UTF-8 is a 400, not a 500.
#[tokio::test]
async fn a_body_that_is_not_utf8_is_a_400() {
    let s = state(&[]);
    let body: Vec<u8> = vec![
        b'{', b'"', b'r', b'u', b'l', b'e', b'"', b':', b'"', 0xff, 0xfe, b'"', b'}',
    ];
    let a = call(
        &s,
        "POST",
        "/api/hunts",
        &[("content-type", "application/json")],
        body,
    )
    .await;
    assert_problem(&a, 400, "bad-request", "/api/hunts");
}

/// Disabled rules: left out of the timer and of a hunt without `rule`,
/// still runnable by id.
#[tokio::test]
async fn disabled_rules_run_only_when_named() {
    let s = state(&[("RMMHUNT_DISABLED_RULES", RULE)]);
    let a = post_json(&s, "/api/hunts", "{}").await;
    assert_problem(&a, 422, "invalid-request", "/api/hunts");
    assert_eq!(a.json["errors"][0]["pointer"], "/rule");
    let a = post_json(&s, "/api/hunts", &format!(r#"{{"rule":"{RULE}"}}"#)).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.json);
    let a = post_json(&s, "/HuntTimer", &fixture("timer_first_run.json")).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.json);
    assert_eq!(a.json["Logs"], json!([]));
}

#[tokio::test]
async fn request_ids_are_the_callers_the_hosts_or_new() {
    let s = state(&[]);
    let id = |a: &Answer| {
        a.headers
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    };
    let a = call(
        &s,
        "GET",
        "/",
        &[("x-request-id", "abc.DEF_1-2")],
        Body::empty(),
    )
    .await;
    assert_eq!(id(&a), "abc.DEF_1-2");
    let a = call(
        &s,
        "GET",
        "/nope",
        &[
            ("x-request-id", "no spaces allowed"),
            (
                "x-azure-functions-invocationid",
                "3f2b5a9e-0c1d-4e2f-8a7b-6c5d4e3f2a1b",
            ),
        ],
        Body::empty(),
    )
    .await;
    assert_eq!(id(&a), "3f2b5a9e-0c1d-4e2f-8a7b-6c5d4e3f2a1b");
    assert_eq!(a.json["request_id"], "3f2b5a9e-0c1d-4e2f-8a7b-6c5d4e3f2a1b");
    let a = call(&s, "GET", "/", &[], Body::empty()).await;
    assert_eq!(
        uuid::Uuid::parse_str(&id(&a))
            .map(|u| u.get_version_num())
            .ok(),
        Some(4)
    );
}

#[tokio::test]
async fn every_host_envelope_fixture_runs_the_timer() {
    let s = state(&[]);
    for name in [
        "timer_first_run.json",
        "timer_past_due.json",
        "timer_no_monitor.json",
        "timer_retry.json",
    ] {
        let a = call(
            &s,
            "POST",
            "/HuntTimer",
            &[
                ("content-type", "application/json; charset=utf-8"),
                (
                    "x-azure-functions-invocationid",
                    "0d7c4d8e-1111-4a2b-9c3d-5e6f7a8b9c0d",
                ),
                ("x-azure-functions-hostversion", "4.1036.1.23224"),
                ("user-agent", "Azure-Functions-Host/4.1036.1.23224"),
            ],
            fixture(name),
        )
        .await;
        assert_eq!(a.status, StatusCode::OK, "{name}: {}", a.json);
        assert_eq!(a.json["Outputs"], json!({}), "{name}");
        assert_eq!(a.json["ReturnValue"], Value::Null, "{name}");
        let logs = a.json["Logs"].as_array().cloned().unwrap_or_default();
        let rule_lines: Vec<&Value> = logs.iter().collect();
        assert_eq!(rule_lines.len(), 1, "{name}: one line per rule: {logs:?}");
        let line = rule_lines[0].as_str().unwrap_or_default();
        assert!(line.contains(RULE) && line.contains(" findings"), "{line}");
        assert_eq!(
            a.headers.get("x-request-id").and_then(|v| v.to_str().ok()),
            Some("0d7c4d8e-1111-4a2b-9c3d-5e6f7a8b9c0d")
        );
    }
}

#[tokio::test]
async fn a_running_rule_is_skipped_by_the_timer_and_refused_with_incidents() {
    let s = state(&[
        (
            "RMMHUNT_SENTINEL_SUBSCRIPTION_ID",
            "00000000-0000-0000-0000-000000000001",
        ),
        ("RMMHUNT_SENTINEL_RESOURCE_GROUP", "rg"),
        ("RMMHUNT_SENTINEL_WORKSPACE", "ws"),
        ("RMMHUNT_ARM_ENDPOINT", "http://127.0.0.1:9"),
    ]);
    let claim = s.in_flight.try_claim(RULE);
    assert!(claim.is_some());
    let a = call(
        &s,
        "POST",
        "/HuntTimer",
        &[("content-type", "application/json")],
        fixture("timer_no_monitor.json"),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.json);
    assert_eq!(
        a.json["Logs"],
        json!([format!("rule {RULE}: skipped, already running")])
    );
    let a = post_json(&s, "/api/hunts", r#"{"incidents":true}"#).await;
    assert_problem(&a, 409, "already-running", "/api/hunts");
    // without incidents the hunt only reads: it runs
    let a = post_json(&s, "/api/hunts", r#"{"incidents":false}"#).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.json);
    drop(claim);
    assert!(!s.in_flight.is_running(RULE));
}

#[tokio::test]
async fn shutting_down_refuses_new_hunts_with_503() {
    let s = state(&[]);
    s.begin_shutdown();
    let a = post_json(&s, "/api/hunts", "{}").await;
    assert_problem(&a, 503, "unavailable", "/api/hunts");
    let a = call(
        &s,
        "POST",
        "/HuntTimer",
        &[("content-type", "application/json")],
        fixture("timer_past_due.json"),
    )
    .await;
    assert_problem(&a, 503, "unavailable", "/HuntTimer");
}

/// The local engine, slowed down.
struct Slow {
    inner: Box<dyn Source + Send>,
    delay: Duration,
}

impl Source for Slow {
    fn name(&self) -> &str {
        "slow"
    }
    fn query(&self, kql: &str, window: TimeWindow) -> Result<kql::Table, SourceError> {
        std::thread::sleep(self.delay);
        self.inner.query(kql, window)
    }
}

/// Counts writes.
#[derive(Default)]
struct Counting(AtomicUsize);

impl Sink for Counting {
    fn name(&self) -> &str {
        "counting"
    }
    fn write(&self, _rule: &Rule, _findings: &kql::Table) -> Result<SinkSummary, SinkError> {
        self.0.fetch_add(1, Ordering::SeqCst);
        Ok(SinkSummary::default())
    }
}

/// A rule that finishes after the deadline writes nothing and the hunt
/// says it was cut; in time, it writes.
#[test]
fn a_rule_finished_after_the_deadline_writes_nothing() {
    let app = app(&[]);
    let window = TimeWindow::ending_at(rmmhunt::app::sample_now(), TimeWindow::DEFAULT_LOOKBACK);
    let source = Slow {
        inner: app
            .source(rmmhunt::app::sample_now(), None)
            .unwrap_or_else(|e| panic!("{e}")),
        delay: Duration::from_millis(400),
    };
    let counting = Arc::new(Counting::default());
    struct Shared(Arc<Counting>);
    impl Sink for Shared {
        fn name(&self) -> &str {
            "counting"
        }
        fn write(&self, r: &Rule, t: &kql::Table) -> Result<SinkSummary, SinkError> {
            self.0.write(r, t)
        }
    }
    let sinks: Vec<Box<dyn Sink>> = vec![Box::new(Shared(counting.clone()))];
    let late = HuntRequest {
        deadline: Some(Instant::now() + Duration::from_millis(100)),
        ..HuntRequest::new(window)
    };
    let progress = Progress::default();
    let outcome = app.run(&late, &source, &sinks, &progress);
    assert!(outcome.cut);
    assert!(outcome.rules.is_empty());
    assert!(progress.finished().is_empty());
    assert_eq!(counting.0.load(Ordering::SeqCst), 0, "nothing written");

    let in_time = HuntRequest {
        deadline: Some(Instant::now() + Duration::from_secs(60)),
        ..HuntRequest::new(window)
    };
    let outcome = app.run(&in_time, &source, &sinks, &Progress::default());
    assert!(!outcome.cut);
    assert_eq!(outcome.rules.len(), 1);
    assert_eq!(counting.0.load(Ordering::SeqCst), 1);
    // a cancelled hunt (shutdown) starts no rule
    let p = Progress::default();
    p.cancel();
    let outcome = app.run(&in_time, &source, &sinks, &p);
    assert!(outcome.cut && outcome.rules.is_empty());
    assert!(matches!(app.sinks(SinkMode::Configured), Ok(s) if s.is_empty()));
}

// ---- the real binary --------------------------------------------------

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or_else(|e| panic!("{e}"))
}

/// One HTTP/1.1 request on a fresh connection: (status, body).
fn http(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, String) {
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap_or_else(|e| panic!("{e}"));
    let _ = s.set_read_timeout(Some(Duration::from_secs(120)));
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nhost: 127.0.0.1:{port}\r\nconnection: close\r\ncontent-length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    req.push_str(body);
    s.write_all(req.as_bytes())
        .unwrap_or_else(|e| panic!("{e}"));
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap_or_else(|e| panic!("{e}"));
    let status = out
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = out
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

struct Server {
    child: std::process::Child,
    port: u16,
}

impl Server {
    fn start(envs: &[(&str, String)], args: &[&str]) -> Server {
        let port = free_port();
        let mut cmd = std::process::Command::new(BIN);
        cmd.arg("serve").args(args);
        for v in config::VARIABLES {
            cmd.env_remove(v);
        }
        cmd.env("FUNCTIONS_CUSTOMHANDLER_PORT", port.to_string());
        for (k, v) in envs {
            cmd.env(k, v);
        }
        cmd.stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        let child = cmd.spawn().unwrap_or_else(|e| panic!("{BIN}: {e}"));
        let mut server = Server { child, port };
        let started = Instant::now();
        loop {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                let (status, _) = http(port, "GET", "/", &[], "");
                if status == 200 {
                    break;
                }
            }
            if let Ok(Some(status)) = server.child.try_wait() {
                let mut err = String::new();
                if let Some(e) = server.child.stderr.as_mut() {
                    let _ = e.read_to_string(&mut err);
                }
                panic!("serve exited with {status}: {err}");
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "serve did not answer /"
            );
            std::thread::sleep(Duration::from_millis(25));
        }
        server.port = port;
        server
    }

    fn post(&self, path: &str, headers: &[(&str, &str)], body: &str) -> (u16, Value) {
        let mut h = vec![("content-type", "application/json")];
        h.extend_from_slice(headers);
        let (status, text) = http(self.port, "POST", path, &h, body);
        let json = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{status} {text}: {e}"));
        (status, json)
    }

    fn terminate(mut self) -> (std::process::ExitStatus, String) {
        let _ = std::process::Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let started = Instant::now();
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                let mut out = String::new();
                if let Some(o) = self.child.stdout.as_mut() {
                    let _ = o.read_to_string(&mut out);
                }
                return (status, out);
            }
            if started.elapsed() > Duration::from_secs(30) {
                let _ = self.child.kill();
                panic!("serve did not stop on SIGTERM");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Sample events ending at `now` (ticks) in a temp JSONL file.
fn sample_file(dir: &Path, now: i64) -> (PathBuf, String) {
    let mut bytes = Vec::new();
    rmmhunt::sample::generate(
        &rmmhunt::sample::GenerateOptions {
            rows: 500,
            seed: 11,
            format: rmmhunt::sample::SampleFormat::Jsonl,
            now,
        },
        &mut bytes,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let path = dir.join("DeviceNetworkEvents.jsonl");
    std::fs::write(&path, &bytes).unwrap_or_else(|e| panic!("{e}"));
    (path, String::from_utf8(bytes).unwrap_or_default())
}

#[test]
fn the_binary_as_the_host_starts_it_answers_timer_and_hunts_over_local_data() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let now = rmmhunt::app::current_ticks();
    let (data, _) = sample_file(dir.path(), now);
    let data = data.to_string_lossy().to_string();
    let server = Server::start(&[("RMMHUNT_DATA", data.clone())], &[]);

    let (status, timer) = server.post(
        "/HuntTimer",
        &[(
            "x-azure-functions-invocationid",
            "11111111-2222-4333-8444-555555555555",
        )],
        &fixture("timer_first_run.json"),
    );
    assert_eq!(status, 200, "{timer}");
    let line = timer["Logs"]
        .as_array()
        .and_then(|l| {
            l.iter()
                .find_map(|x| x.as_str().filter(|x| x.starts_with("rule ")))
        })
        .unwrap_or_default()
        .to_string();
    assert!(line.contains(RULE), "{timer}");

    // an HTTP hunt with a pinned end equals the same hunt run in-process
    let end = kql::time::format_datetime(now);
    let (status, answer) = server.post(
        "/api/hunts",
        &[],
        &json!({"end": end, "lookback": "5d"}).to_string(),
    );
    assert_eq!(status, 200, "{answer}");
    let local = app(&[("RMMHUNT_DATA", data.as_str())]);
    let req = HuntRequest::new(TimeWindow::ending_at(now, 5 * kql::time::DAY));
    let source = local.source(0, None).unwrap_or_else(|e| panic!("{e}"));
    let sinks = local
        .sinks(SinkMode::DryRun)
        .unwrap_or_else(|e| panic!("{e:?}"));
    let outcome = local.run(&req, source.as_ref(), &sinks, &Progress::default());
    let want = local.view(&outcome).to_json();
    assert_eq!(sorted(&answer)["rules"], sorted(&want)["rules"]);
    assert!(want["rules"][0]["findings"]["rows"]
        .as_array()
        .is_some_and(|r| !r.is_empty()));
    let findings = want["rules"][0]["findings"]["rows"]
        .as_array()
        .map(Vec::len)
        .unwrap_or(0);
    assert!(
        line.contains(&format!("{findings} findings")),
        "timer: {line}, want {findings}"
    );

    let (status, logs) = server.terminate();
    assert!(status.success(), "{status}");
    let hunt_lines: Vec<Value> = logs
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|l| l["message"] == "hunt finished")
        .collect();
    assert_eq!(hunt_lines.len(), 2, "{logs}");
    for l in &hunt_lines {
        for k in [
            "trigger",
            "request_id",
            "rule_id",
            "rows_scanned",
            "findings",
            "excluded",
            "excluded_by",
            "incidents_created",
            "incidents_updated",
            "findings_ingested",
            "duration_ms",
        ] {
            assert!(l.get(k).is_some(), "{k} missing in {l}");
        }
    }
    assert_eq!(hunt_lines[0]["trigger"], "timer");
    assert_eq!(
        hunt_lines[0]["request_id"],
        "11111111-2222-4333-8444-555555555555"
    );
    assert_eq!(hunt_lines[1]["trigger"], "http");
    assert!(logs.contains("shutting down"), "{logs}");
}

#[test]
fn sigterm_stops_the_server_gracefully_and_it_refuses_to_start_unprotected() {
    let server = Server::start(&[], &[]);
    let (status, body) = http(server.port, "GET", "/api/health", &[], "");
    assert_eq!(status, 200, "{body}");
    let (status, logs) = server.terminate();
    assert!(status.success(), "{status}: {logs}");
    assert!(logs.contains("\"stopped\""), "{logs}");

    // outside the host, no RMMHUNT_API_AUTH: refuse
    let mut cmd = std::process::Command::new(BIN);
    cmd.args(["serve", "--port", &free_port().to_string()]);
    for v in config::VARIABLES {
        cmd.env_remove(v);
    }
    let out = cmd.output().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("RMMHUNT_API_AUTH"), "{err}");
}

#[test]
fn the_timer_writes_incidents_through_the_fake_azure_once() {
    use fake_azure::{Api, FakeAzure};
    let fake = FakeAzure::start().unwrap_or_else(|e| panic!("{e}"));
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let now = rmmhunt::app::current_ticks();
    let (_, text) = sample_file(dir.path(), now);
    fake.add_jsonl("DeviceNetworkEvents", &text)
        .unwrap_or_else(|e| panic!("{e}"));
    let base = fake.base_url();
    let envs = vec![
        ("RMMHUNT_SOURCE", "log-analytics".to_string()),
        ("RMMHUNT_CREDENTIAL", "managed-identity".to_string()),
        ("IDENTITY_ENDPOINT", fake.identity_endpoint()),
        ("IDENTITY_HEADER", fake.identity_header()),
        ("RMMHUNT_LOGANALYTICS_ENDPOINT", base.clone()),
        ("RMMHUNT_ARM_ENDPOINT", base.clone()),
        ("RMMHUNT_WORKSPACE_ID", fake.workspace_id()),
        (
            "RMMHUNT_SENTINEL_SUBSCRIPTION_ID",
            "00000000-0000-0000-0000-000000000001".to_string(),
        ),
        ("RMMHUNT_SENTINEL_RESOURCE_GROUP", "rg-sec".to_string()),
        ("RMMHUNT_SENTINEL_WORKSPACE", "ws-sentinel".to_string()),
        ("RMMHUNT_REQUEST_DEADLINE_SECS", "60".to_string()),
    ];
    // the second sink: findings to the Logs Ingestion API of the fake
    let ingestion = fake.logs_ingestion_env();
    let mut envs = envs;
    for (k, v) in &ingestion {
        envs.push((k.as_str(), v.clone()));
    }
    let server = Server::start(&envs, &[]);
    let (status, health) = {
        let (s, b) = http(server.port, "GET", "/api/health", &[], "");
        (s, serde_json::from_str::<Value>(&b).unwrap_or_default())
    };
    assert_eq!(status, 200);
    assert_eq!(health["source"], "log-analytics");
    assert_eq!(
        health["sinks"],
        json!(["sentinel-incidents", "logs-ingestion"])
    );

    let (status, first) = server.post("/HuntTimer", &[], &fixture("timer_past_due.json"));
    assert_eq!(status, 200, "{first}");
    let incidents: Vec<String> = fake.incidents().into_iter().map(|i| i.name).collect();
    assert!(
        !incidents.is_empty(),
        "the timer created incidents: {first}"
    );
    // one record per finding row, each naming the rule and a device with
    // an incident
    let records = fake.ingested_records("Custom-RmmHuntFindings_CL");
    assert!(!records.is_empty(), "the timer ingested findings: {first}");
    for r in &records {
        assert_eq!(r["RuleId"], RULE, "{r}");
        assert!(
            r["DeviceName"].as_str().is_some_and(|d| !d.is_empty()),
            "{r}"
        );
        assert!(r["Finding"].is_object(), "{r}");
    }
    let devices: std::collections::BTreeSet<String> = records
        .iter()
        .filter_map(|r| r["DeviceId"].as_str().map(String::from))
        .collect();
    assert_eq!(devices.len(), incidents.len(), "one incident per device");
    let created = |fake: &FakeAzure| {
        fake.requests_to(Api::Arm)
            .iter()
            .filter(|r| r.method == "PUT" && r.status == 201)
            .count()
    };
    let creates = created(&fake);
    assert!(creates >= incidents.len());

    let (status, second) = server.post("/HuntTimer", &[], &fixture("timer_retry.json"));
    assert_eq!(status, 200, "{second}");
    let again: Vec<String> = fake.incidents().into_iter().map(|i| i.name).collect();
    assert_eq!(again, incidents, "no new incident on the second run");
    assert_eq!(created(&fake), creates, "nothing created twice");
    assert!(
        second["Logs"].to_string().contains("0 incident(s) created"),
        "{second}"
    );

    // an HTTP hunt over the fake with a device: only that device's rows
    let (status, answer) = server.post(
        "/api/hunts",
        &[],
        r#"{"device":"no-such-device\" or 1==1 //"}"#,
    );
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["rules"][0]["findings"]["rows"], json!([]));
    let sent = fake.requests_to(Api::LogAnalytics);
    let last = sent.last().map(|r| r.body.clone()).unwrap_or_default();
    assert!(last.contains("DeviceName =~"), "{last}");
    let (status, _) = server.terminate();
    assert!(status.success());
}

/// Two copies of the seed rule (ids ...e and ...f) in a folder.
fn two_rules(dir: &Path) -> (String, String) {
    let seed = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("rules/rmm_ZohoAssist_netconn.yaml"),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let a = RULE.to_string();
    let b = "b915897c-1fe7-47f4-9e06-2ae74da8203f".to_string();
    let second = seed.replacen(RULE, &b, 1).replacen(
        "name: Remote Management",
        "name: Copy of Remote Management",
        1,
    );
    std::fs::write(dir.join("a.yaml"), &seed).unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(dir.join("b.yaml"), second).unwrap_or_else(|e| panic!("{e}"));
    (a, b)
}

/// The HTTP deadline: the first rule finishes in time (and writes its
/// incidents), the second's query outlives the deadline: 504 with the
/// first rule in `report`, and the second never writes an incident.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_http_deadline_answers_504_with_the_finished_rules_and_writes_no_more() {
    use fake_azure::{Api, FakeAzure, Fault};
    let fake = FakeAzure::start().unwrap_or_else(|e| panic!("{e}"));
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let now = rmmhunt::app::current_ticks();
    let (_, text) = sample_file(dir.path(), now);
    fake.add_jsonl("DeviceNetworkEvents", &text)
        .unwrap_or_else(|e| panic!("{e}"));
    let rules = dir.path().join("rules");
    std::fs::create_dir(&rules).unwrap_or_else(|e| panic!("{e}"));
    let (first, second) = two_rules(&rules);
    let base = fake.base_url();
    let identity = fake.identity_endpoint();
    let header = fake.identity_header();
    let workspace = fake.workspace_id();
    let rules_dir = rules.to_string_lossy().to_string();
    let s = state(&[
        ("RMMHUNT_SOURCE", "log-analytics"),
        ("RMMHUNT_RULES", &rules_dir),
        ("RMMHUNT_CREDENTIAL", "managed-identity"),
        ("IDENTITY_ENDPOINT", &identity),
        ("IDENTITY_HEADER", &header),
        ("RMMHUNT_LOGANALYTICS_ENDPOINT", &base),
        ("RMMHUNT_ARM_ENDPOINT", &base),
        ("RMMHUNT_WORKSPACE_ID", &workspace),
        (
            "RMMHUNT_SENTINEL_SUBSCRIPTION_ID",
            "00000000-0000-0000-0000-000000000001",
        ),
        ("RMMHUNT_SENTINEL_RESOURCE_GROUP", "rg-sec"),
        ("RMMHUNT_SENTINEL_WORKSPACE", "ws-sentinel"),
        ("RMMHUNT_HTTP_DEADLINE_SECS", "3"),
    ]);
    // every second query is slow: the second rule's
    fake.fault_every(Api::LogAnalytics, 2, Fault::Delay(Duration::from_secs(6)));
    let a = post_json(&s, "/api/hunts", r#"{"incidents":true}"#).await;
    assert_problem(&a, 504, "deadline", "/api/hunts");
    let report = &a.json["report"];
    assert_eq!(
        report["rules"].as_array().map(Vec::len),
        Some(1),
        "{report}"
    );
    assert_eq!(report["rules"][0]["id"], first.as_str());
    assert_eq!(report["incidents"]["written"], true, "{report}");
    let written = report["incidents"]["created"].as_u64().unwrap_or(0);
    assert!(written > 0, "{report}");
    // the rules stay marked running until the late query returns
    assert!(s.in_flight.is_running(&second));
    let a = post_json(
        &s,
        "/api/hunts",
        &format!(r#"{{"rule":"{second}","incidents":true}}"#),
    )
    .await;
    assert_problem(&a, 409, "already-running", "/api/hunts");
    let waited = Instant::now();
    while s.in_flight.is_running(&second) {
        assert!(
            waited.elapsed() < Duration::from_secs(30),
            "the late rule never ended"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut ids: Vec<String> = fake.incidents().into_iter().map(|i| i.name).collect();
    ids.sort();
    assert_eq!(
        ids.len() as u64,
        written,
        "nothing written for the late rule"
    );
    // exactly the first rule's incidents: one per DeviceId of its findings
    let cols = report["rules"][0]["findings"]["columns"].clone();
    let di = cols
        .as_array()
        .and_then(|c| c.iter().position(|c| c["name"] == "DeviceId"))
        .unwrap_or_else(|| panic!("{cols}"));
    let mut want: Vec<String> = report["rules"][0]["findings"]["rows"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| {
            rmmhunt::sink::sentinel::incident_id(&first, r[di].as_str().unwrap_or_default())
                .to_string()
        })
        .collect();
    want.sort();
    want.dedup();
    assert_eq!(ids, want);
}

/// With an API key or Entra configured, the placeholder check refuses
/// `/api/*` (401 problem with WWW-Authenticate) and leaves `/` and the
/// host's `/HuntTimer` alone.
#[tokio::test]
async fn auth_guards_the_api_only() {
    let auth = Authorizer::from_config(
        &ApiAuth::Key(config::Secret::new("0123456789abcdef0123")),
        reqwest::Client::new(),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let s = ServeState::new(app(&[]), auth);
    for (method, path) in [
        ("GET", "/api/rules"),
        ("GET", "/api/health"),
        ("GET", "/api/openapi.json"),
        ("POST", "/api/hunts"),
    ] {
        let a = call(
            &s,
            method,
            path,
            &[("content-type", "application/json")],
            "{}",
        )
        .await;
        assert_problem(&a, 401, "unauthorized", path);
        assert!(a.headers.get(header::WWW_AUTHENTICATE).is_some(), "{path}");
    }
    let a = call(&s, "GET", "/", &[], Body::empty()).await;
    assert_eq!(a.status, StatusCode::OK);
    let a = post_json(&s, "/HuntTimer", &fixture("timer_no_monitor.json")).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.json);
}

/// SIGTERM while a hunt runs: the running request still gets its answer,
/// then the process exits 0.
#[test]
fn sigterm_lets_a_running_hunt_answer() {
    use fake_azure::{Api, FakeAzure, Fault};
    let fake = FakeAzure::start().unwrap_or_else(|e| panic!("{e}"));
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let now = rmmhunt::app::current_ticks();
    let (_, text) = sample_file(dir.path(), now);
    fake.add_jsonl("DeviceNetworkEvents", &text)
        .unwrap_or_else(|e| panic!("{e}"));
    let envs = vec![
        ("RMMHUNT_SOURCE", "log-analytics".to_string()),
        ("RMMHUNT_CREDENTIAL", "managed-identity".to_string()),
        ("IDENTITY_ENDPOINT", fake.identity_endpoint()),
        ("IDENTITY_HEADER", fake.identity_header()),
        ("RMMHUNT_LOGANALYTICS_ENDPOINT", fake.base_url()),
        ("RMMHUNT_WORKSPACE_ID", fake.workspace_id()),
    ];
    let server = Server::start(&envs, &[]);
    fake.push_fault(Api::LogAnalytics, Fault::Delay(Duration::from_secs(3)));
    let port = server.port;
    let running = std::thread::spawn(move || {
        http(
            port,
            "POST",
            "/api/hunts",
            &[("content-type", "application/json")],
            "{}",
        )
    });
    std::thread::sleep(Duration::from_millis(1200));
    let (status, logs) = server.terminate();
    assert!(status.success(), "{status}: {logs}");
    let (code, body) = running.join().unwrap_or_else(|_| panic!("client thread"));
    assert_eq!(code, 200, "{body}");
    assert!(body.contains("\"rules\""), "{body}");
    let order: Vec<&str> = logs
        .lines()
        .filter(|l| l.contains("\"shutting down\"") || l.contains("\"hunt finished\""))
        .collect();
    assert_eq!(order.len(), 2, "{logs}");
    assert!(
        order[0].contains("shutting down"),
        "the hunt finished after the signal: {logs}"
    );
}

/// A rule that fails at the source answers 502 `source-failed` with the
/// report (and fails the timer invocation: 500); a sink that cannot write
/// answers 502 `sink-failed` (timer: 500).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn source_and_sink_failures_are_502_and_fail_the_timer() {
    use fake_azure::FakeAzure;
    let fake = FakeAzure::start().unwrap_or_else(|e| panic!("{e}"));
    let base = fake.base_url();
    let identity = fake.identity_endpoint();
    let header = fake.identity_header();
    let common = [
        ("RMMHUNT_CREDENTIAL", "managed-identity"),
        ("IDENTITY_ENDPOINT", identity.as_str()),
        ("IDENTITY_HEADER", header.as_str()),
        ("RMMHUNT_REQUEST_DEADLINE_SECS", "1"),
    ];
    // another workspace: the fake answers 403
    let mut env_source = common.to_vec();
    env_source.extend([
        ("RMMHUNT_SOURCE", "log-analytics"),
        ("RMMHUNT_LOGANALYTICS_ENDPOINT", base.as_str()),
        (
            "RMMHUNT_WORKSPACE_ID",
            "99999999-9999-4999-8999-999999999999",
        ),
    ]);
    let s = state(&env_source);
    let a = post_json(&s, "/api/hunts", "{}").await;
    assert_problem(&a, 502, "source-failed", "/api/hunts");
    assert!(
        a.json["report"]["rules"][0]["error"].is_string(),
        "{}",
        a.json
    );
    let t = post_json(&s, "/HuntTimer", &fixture("timer_first_run.json")).await;
    assert_problem(&t, 500, "internal", "/HuntTimer");
    assert!(
        t.json["detail"]
            .as_str()
            .is_some_and(|d| d.contains("FAILED")),
        "{}",
        t.json
    );

    // incidents to an ARM endpoint nobody listens on
    let mut env_sink = common.to_vec();
    env_sink.extend([
        ("RMMHUNT_ARM_ENDPOINT", "http://127.0.0.1:9"),
        (
            "RMMHUNT_SENTINEL_SUBSCRIPTION_ID",
            "00000000-0000-0000-0000-000000000001",
        ),
        ("RMMHUNT_SENTINEL_RESOURCE_GROUP", "rg"),
        ("RMMHUNT_SENTINEL_WORKSPACE", "ws"),
    ]);
    let s = state(&env_sink);
    let a = post_json(
        &s,
        "/api/hunts",
        r#"{"incidents":true,"device":"wks-5182.contoso.local"}"#,
    )
    .await;
    assert_problem(&a, 502, "sink-failed", "/api/hunts");
    assert!(a.json["report"]["rules"][0]["findings"]["rows"]
        .as_array()
        .is_some_and(|r| !r.is_empty()));
    let t = post_json(&s, "/HuntTimer", &fixture("timer_past_due.json")).await;
    assert_problem(&t, 500, "internal", "/HuntTimer");
}
