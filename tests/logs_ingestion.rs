//! The Logs Ingestion sink against `crates/fake-azure` on 127.0.0.1 (its
//! Logs Ingestion API validates every record against the declared
//! `RmmHuntFindings_CL` columns, and its managed identity endpoint issues
//! the tokens): exact records for the seed rule's findings over the sample
//! data, batching at the 1 MB limit, a huge `Finding` cut with its marker,
//! 429 and 503 retried to success, partial and persistent failures
//! reported with honest counts, and no token in any error.

use fake_azure::{Api, FakeAzure, Fault, DEFAULT_DCR_ID, FINDINGS_STREAM, MONITOR_AUDIENCE};
use kql::{Column, Schema, Table, Type, Value};
use rmmhunt::azure::auth::from_config;
use rmmhunt::azure::http::{HttpClient, HttpError, RetryPolicy};
use rmmhunt::config::{from_env_map, Validated};
use rmmhunt::pipeline::exclude::ExclusionSet;
use rmmhunt::pipeline::{run_rule, HuntOptions};
use rmmhunt::rule::{self, Rule};
use rmmhunt::sink::logs_ingestion::{
    plan_batches, records, LogsIngestionSink, CUT_SUFFIX, MAX_BODY_BYTES, TRUNCATION_KEY,
};
use rmmhunt::sink::{Sink, SinkError, SinkSummary};
use rmmhunt::source::local::LocalSource;
use rmmhunt::source::TimeWindow;
use serde_json::{json, Map, Value as J};
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

const NOW: &str = "2026-11-25T12:00:00Z";
const WRITTEN: &str = "2026-11-25T12:03:04.5Z";
const RUN_ID: &str = "6f1c2d3e-4b5a-4c6d-8e7f-0123456789ab";

fn ticks(s: &str) -> i64 {
    kql::time::parse_datetime(s).unwrap_or_else(|| panic!("bad datetime {s}"))
}

fn settings(fake: &FakeAzure, extra: &[(&str, &str)]) -> Validated {
    let mut env: HashMap<String, String> = [
        ("IDENTITY_ENDPOINT", fake.identity_endpoint()),
        ("IDENTITY_HEADER", fake.identity_header()),
        ("RMMHUNT_REQUEST_DEADLINE_SECS", "20".to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .chain(fake.logs_ingestion_env())
    .collect();
    env.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    from_env_map(&env)
        .validate()
        .unwrap_or_else(|e| panic!("{e}"))
}

fn sink_for(fake: &FakeAzure, extra: &[(&str, &str)]) -> LogsIngestionSink {
    let v = settings(fake, extra);
    let http = HttpClient::new(RetryPolicy {
        base_delay: Duration::from_millis(20),
        max_delay: Duration::from_millis(200),
        max_attempts: 4,
        ..RetryPolicy::with_deadline(v.request_deadline)
    })
    .unwrap_or_else(|e| panic!("{e}"));
    let tokens = from_config(&v.credential, http.reqwest());
    let sink = LogsIngestionSink::from_config(&v, http, tokens)
        .unwrap_or_else(|e| panic!("{e}"))
        .unwrap_or_else(|| panic!("the settings configure Logs Ingestion"));
    let written = ticks(WRITTEN);
    sink.with_clock(Arc::new(move || written))
        .with_run_id(uuid::Uuid::parse_str(RUN_ID).unwrap_or_else(|e| panic!("{e}")))
}

fn start() -> FakeAzure {
    FakeAzure::start().unwrap_or_else(|e| panic!("{e}"))
}

fn seed_rule() -> Rule {
    rule::builtin_rules().rules.remove(0)
}

/// The seed rule's findings over the generated sample, after the example
/// exclusions.
fn seed_findings() -> Table {
    let mut bytes = Vec::new();
    rmmhunt::sample::generate(
        &rmmhunt::sample::GenerateOptions {
            rows: 600,
            seed: 7,
            format: rmmhunt::sample::SampleFormat::Jsonl,
            now: ticks(NOW),
        },
        &mut bytes,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let table = fake_azure::fixtures::load_table(
        "DeviceNetworkEvents",
        "sample",
        bytes,
        kql::input::Format::JsonLines,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let source =
        LocalSource::new(kql::MemoryCatalog::new().with_table("DeviceNetworkEvents", table));
    let exclusions =
        ExclusionSet::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/exclusions.yaml"))
            .unwrap_or_else(|e| panic!("{e}"));
    let opts = HuntOptions::new(TimeWindow::ending_at(
        ticks(NOW),
        TimeWindow::DEFAULT_LOOKBACK,
    ));
    let report = run_rule(&seed_rule(), &source, &exclusions, &opts);
    assert!(report.error.is_none(), "{:?}", report.error);
    report.findings
}

/// The record the contract asks for, built independently of the sink:
/// the row's cells as `kql::output::table_to_json` encodes them.
fn expected_record(rule: &Rule, t: &Table, row_json: &[J]) -> J {
    let names: Vec<&str> = t.schema.columns.iter().map(|c| c.name.as_str()).collect();
    let cell = |n: &str| {
        names
            .iter()
            .position(|c| *c == n)
            .and_then(|i| row_json.get(i))
            .cloned()
    };
    let finding: Map<String, J> = names
        .iter()
        .map(|n| n.to_string())
        .zip(row_json.iter().cloned())
        .collect();
    json!({
        "TimeGenerated": "2026-11-25T12:03:04.5000000Z",
        "RunId": RUN_ID,
        "RuleId": rule.id,
        "RuleName": rule.name,
        "Tactics": "CommandAndControl",
        "Techniques": "T1219",
        "DeviceId": cell("DeviceId").unwrap_or(json!("")),
        "DeviceName": cell("DeviceName").unwrap_or(json!("")),
        "RemoteUrl": cell("RemoteUrl").unwrap_or(json!("")),
        "RemoteIP": "",
        "AccountName": "",
        "FirstSeen": cell("FirstSeen").unwrap_or(J::Null),
        "LastSeen": cell("LastSeen").unwrap_or(J::Null),
        "EventCount": cell("Count").unwrap_or(json!(1)),
        "Finding": J::Object(finding),
    })
}

fn ingestion_requests(fake: &FakeAzure) -> Vec<fake_azure::LoggedRequest> {
    fake.requests_to(Api::LogsIngestion)
}

#[test]
fn seed_rule_findings_become_exact_records_with_a_managed_identity_token() {
    let fake = start();
    let rule = seed_rule();
    let findings = seed_findings();
    assert!(findings.rows.len() >= 3, "{} rows", findings.rows.len());
    let names: Vec<&str> = findings
        .schema
        .columns
        .iter()
        .map(|c| c.name.as_str())
        .collect();
    assert_eq!(
        names,
        vec![
            "DeviceId",
            "DeviceName",
            "RemoteUrl",
            "FirstSeen",
            "LastSeen",
            "Report",
            "Count"
        ]
    );
    let sink = sink_for(&fake, &[]);
    assert_eq!(sink.name(), "logs-ingestion");
    let summary = sink
        .write(&rule, &findings)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(summary.ingested, findings.rows.len());
    assert_eq!((summary.created, summary.updated), (0, 0));
    assert_eq!(summary.actions.len(), 1, "{:?}", summary.actions);

    let table_json = kql::output::table_to_json(&findings);
    let rows = table_json["rows"].as_array().cloned().unwrap_or_default();
    let want: Vec<J> = rows
        .iter()
        .map(|r| {
            expected_record(
                &rule,
                &findings,
                r.as_array().map(Vec::as_slice).unwrap_or(&[]),
            )
        })
        .collect();
    assert_eq!(fake.ingested_records(FINDINGS_STREAM), want);
    // Spot check of one record's shape, spelled out.
    let first = &want[0];
    assert!(first["FirstSeen"]
        .as_str()
        .is_some_and(|s| s.ends_with('Z')));
    assert!(first["EventCount"].as_i64().is_some_and(|n| n >= 1));
    assert!(first["Finding"]["Report"].is_array());

    // One POST to the spec's URL, JSON, with a client request id and a
    // bearer token the fake issued for the monitor audience.
    let reqs = ingestion_requests(&fake);
    assert_eq!(reqs.len(), 1);
    let r = &reqs[0];
    assert_eq!(r.method, "POST");
    assert_eq!(
        r.path,
        format!("/dataCollectionRules/{DEFAULT_DCR_ID}/streams/{FINDINGS_STREAM}")
    );
    assert_eq!(r.query, "api-version=2023-01-01");
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(r.header("authorization"), Some("<redacted>"));
    assert!(r
        .header("x-ms-client-request-id")
        .is_some_and(|id| uuid::Uuid::parse_str(id).is_ok()));
    assert_eq!(r.status, 204);
    let token_reqs = fake.requests_to(Api::Token);
    assert_eq!(token_reqs.len(), 1);
    assert!(
        token_reqs[0]
            .query
            .contains("resource=https%3A%2F%2Fmonitor.azure.com")
            || token_reqs[0]
                .query
                .contains("resource=https://monitor.azure.com"),
        "{}",
        token_reqs[0].query
    );

    // A second rule's write reuses the cached token and the run id.
    sink.write(&rule, &findings)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(fake.requests_to(Api::Token).len(), 1);
    let all = fake.ingested_records(FINDINGS_STREAM);
    assert_eq!(all.len(), 2 * findings.rows.len());
    assert!(all.iter().all(|r| r["RunId"] == RUN_ID));

    // Nothing to write: no request.
    let empty = Table {
        schema: findings.schema.clone(),
        rows: Vec::new(),
    };
    assert_eq!(sink.write(&rule, &empty).ok(), Some(SinkSummary::default()));
    assert_eq!(ingestion_requests(&fake).len(), 2);
}

/// `n` rows with a `pad`-byte string each (DeviceId `dev<i>`).
fn wide_table(n: usize, pad: usize) -> Table {
    Table {
        schema: Schema::new(vec![
            Column::new("DeviceId", Type::String),
            Column::new("DeviceName", Type::String),
            Column::new("RemoteIP", Type::String),
            Column::new("InitiatingProcessAccountName", Type::String),
            Column::new("Timestamp", Type::DateTime),
            Column::new("CommandLine", Type::String),
        ]),
        rows: (0..n)
            .map(|i| {
                vec![
                    Value::string(format!("dev{i}")),
                    Value::string(format!("pc{i}.contoso.local")),
                    Value::string("203.0.113.7"),
                    Value::string("alice"),
                    Value::DateTime(ticks(NOW) - i as i64 * kql::time::SECOND),
                    Value::string("x".repeat(pad)),
                ]
            })
            .collect(),
    }
}

#[test]
fn many_rows_are_split_into_batches_under_one_megabyte() {
    let fake = start();
    let sink = sink_for(&fake, &[]);
    let rule = seed_rule();
    let t = wide_table(3_000, 1_000);
    let summary = sink.write(&rule, &t).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(summary.ingested, 3_000);
    let reqs = ingestion_requests(&fake);
    assert!(reqs.len() >= 4, "{} requests", reqs.len());
    assert_eq!(summary.actions.len(), reqs.len());
    for r in &reqs {
        assert_eq!(r.status, 204);
        assert!(r.body.len() <= MAX_BODY_BYTES, "{}", r.body.len());
    }
    // Full batches: each but the last could not take the next record.
    let sizes: Vec<usize> = records(&rule, &t, RUN_ID, ticks(WRITTEN))
        .iter()
        .map(|r| serde_json::to_string(r).map(|s| s.len()).unwrap_or(0))
        .collect();
    let plan = plan_batches(&sizes, MAX_BODY_BYTES);
    assert_eq!(plan.len(), reqs.len());
    for (b, r) in plan.iter().zip(&reqs) {
        assert_eq!(r.json().as_array().map(Vec::len), Some(b.len()));
    }
    assert!(
        reqs[0].body.len() > MAX_BODY_BYTES - 1_100,
        "{}",
        reqs[0].body.len()
    );
    // Every row once, in order, with the row-level fields filled.
    let got = fake.ingested_records(FINDINGS_STREAM);
    let ids: Vec<&str> = got.iter().filter_map(|r| r["DeviceId"].as_str()).collect();
    let want: Vec<String> = (0..3_000).map(|i| format!("dev{i}")).collect();
    assert_eq!(ids, want);
    assert_eq!(got[1]["RemoteIP"], "203.0.113.7");
    assert_eq!(got[1]["AccountName"], "alice");
    assert_eq!(got[1]["FirstSeen"], "2026-11-25T11:59:59Z");
    assert_eq!(got[1]["LastSeen"], "2026-11-25T11:59:59Z");
    assert_eq!(got[1]["EventCount"], 1);
    let ids: std::collections::BTreeSet<&str> = reqs
        .iter()
        .filter_map(|r| r.header("x-ms-client-request-id"))
        .collect();
    assert_eq!(ids.len(), reqs.len(), "one client request id per batch");
}

#[test]
fn a_huge_finding_is_cut_with_a_marker_and_stays_valid_json() {
    let fake = start();
    let sink = sink_for(&fake, &[]);
    let rule = seed_rule();
    let mut t = wide_table(2, 10);
    if let Some(Value::String(s)) = t.rows[1].get_mut(5) {
        *s = "é\"x".repeat(100_000).into();
    }
    t.schema.columns.push(Column::new("Extra", Type::Dynamic));
    for r in &mut t.rows {
        r.push(Value::dynamic(json!({"k": "v"})));
    }
    sink.write(&rule, &t).unwrap_or_else(|e| panic!("{e}"));
    let got = fake.ingested_records(FINDINGS_STREAM);
    assert_eq!(got.len(), 2);
    assert!(got[0]["Finding"].get(TRUNCATION_KEY).is_none());
    assert_eq!(got[0]["Finding"]["Extra"], json!({"k": "v"}));
    let f = &got[1]["Finding"];
    let text = f.to_string();
    assert!(text.len() <= 64_000, "{}", text.len());
    let keys: Vec<&str> = f
        .as_object()
        .map(|o| o.keys().map(String::as_str).collect())
        .unwrap_or_default();
    assert_eq!(keys[0], TRUNCATION_KEY);
    assert_eq!(f[TRUNCATION_KEY]["cutColumns"], json!(["CommandLine"]));
    assert_eq!(f[TRUNCATION_KEY]["omittedColumns"], json!(["Extra"]));
    assert!(f[TRUNCATION_KEY]["originalBytes"]
        .as_u64()
        .is_some_and(|n| n > 400_000));
    assert_eq!(f["DeviceId"], "dev1");
    let cut = f["CommandLine"].as_str().unwrap_or("");
    assert!(
        cut.ends_with(CUT_SUFFIX) && cut.starts_with("é\"xé\"x"),
        "{}",
        &cut[..20]
    );
    // The entity fields are untouched by the cut.
    assert_eq!(got[1]["DeviceName"], "pc1.contoso.local");
}

#[test]
fn throttling_and_503_are_retried_to_success_without_duplicates() {
    let fake = start();
    let sink = sink_for(&fake, &[]);
    fake.push_fault(
        Api::LogsIngestion,
        Fault::Throttle {
            retry_after_secs: 1,
        },
    );
    fake.push_faults(
        Api::LogsIngestion,
        Fault::Status {
            status: 503,
            retry_after_secs: None,
        },
        2,
    );
    let t = wide_table(5, 10);
    let started = Instant::now();
    let summary = sink
        .write(&seed_rule(), &t)
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "Retry-After honoured"
    );
    assert_eq!(summary.ingested, 5);
    let statuses: Vec<u16> = ingestion_requests(&fake).iter().map(|r| r.status).collect();
    assert_eq!(statuses, vec![429, 503, 503, 204]);
    assert_eq!(fake.ingested().len(), 5);
    let ids: Vec<Option<String>> = ingestion_requests(&fake)
        .iter()
        .map(|r| r.header("x-ms-client-request-id").map(str::to_string))
        .collect();
    assert!(
        ids.windows(2).all(|w| w[0] == w[1]),
        "a retry keeps its request id"
    );
}

fn ingestion_error(
    r: Result<SinkSummary, SinkError>,
) -> (usize, usize, usize, usize, HttpError, SinkSummary, String) {
    match r {
        Err(e) => {
            let text = format!("{e} {e:?}");
            match e {
                SinkError::Ingestion {
                    accepted,
                    failed,
                    failed_batches,
                    total_batches,
                    source,
                    summary,
                    ..
                } => (
                    accepted,
                    failed,
                    failed_batches,
                    total_batches,
                    *source,
                    *summary,
                    text,
                ),
                other => panic!("not an ingestion error: {other}"),
            }
        }
        Ok(s) => panic!("expected a failure, got {s:?}"),
    }
}

#[test]
fn persistent_5xx_fails_with_the_counts_and_claims_nothing() {
    let fake = start();
    let sink = sink_for(&fake, &[]).with_max_body(20_000);
    fake.fault_every(
        Api::LogsIngestion,
        1,
        Fault::Status {
            status: 500,
            retry_after_secs: None,
        },
    );
    let t = wide_table(60, 1_000);
    let (accepted, failed, failed_batches, total, source, summary, text) =
        ingestion_error(sink.write(&seed_rule(), &t));
    assert_eq!((accepted, failed), (0, 60));
    assert!(total >= 3, "{total}");
    assert_eq!(failed_batches, total);
    assert_eq!(summary, SinkSummary::default());
    assert!(
        matches!(source, HttpError::Status { status: 500, .. }),
        "{source:?}"
    );
    assert!(fake.ingested().is_empty());
    // The first batch was tried max_attempts times; the rest were not sent.
    assert_eq!(ingestion_requests(&fake).len(), 4);
    assert!(
        text.contains("accepted 0 record(s); 60 record(s)"),
        "{text}"
    );
    assert!(!text.contains("fake."), "no token in errors: {text}");
}

#[test]
fn a_refused_batch_is_reported_and_the_others_are_still_written() {
    let fake = start();
    let sink = sink_for(&fake, &[]).with_max_body(20_000);
    let rule = seed_rule();
    // Rows grow, so batches differ in size; the fake takes the smaller ones.
    let mut t = wide_table(80, 0);
    for (i, r) in t.rows.iter_mut().enumerate() {
        r[5] = Value::string("y".repeat(100 + 20 * i));
    }
    let sizes: Vec<usize> = records(&rule, &t, RUN_ID, ticks(WRITTEN))
        .iter()
        .map(|r| serde_json::to_string(r).map(|s| s.len()).unwrap_or(0))
        .collect();
    let plan = plan_batches(&sizes, 20_000);
    let bodies: Vec<usize> = plan
        .iter()
        .map(|b| 2 + sizes[b.clone()].iter().sum::<usize>() + b.len() - 1)
        .collect();
    let mut sorted = bodies.clone();
    sorted.sort();
    let limit = sorted[sorted.len() / 2];
    fake.set_ingestion_max_body(limit);
    let ok: Vec<bool> = bodies.iter().map(|b| *b <= limit).collect();
    assert!(
        ok.contains(&true) && ok.contains(&false),
        "{bodies:?} {limit}"
    );
    let want_accepted: usize = plan
        .iter()
        .zip(&ok)
        .filter(|(_, ok)| **ok)
        .map(|(b, _)| b.len())
        .sum();

    let (accepted, failed, failed_batches, total, source, summary, _) =
        ingestion_error(sink.write(&rule, &t));
    assert_eq!(total, plan.len());
    assert_eq!(accepted, want_accepted);
    assert_eq!(failed, 80 - want_accepted);
    assert_eq!(failed_batches, ok.iter().filter(|o| !**o).count());
    assert!(
        matches!(&source, HttpError::Status { status: 413, code, .. } if code == "ContentLengthLimitExceeded"),
        "{source:?}"
    );
    assert_eq!(summary.ingested, accepted);
    assert_eq!(summary.actions.len(), total - failed_batches);
    // What the summary claims is exactly what the service holds.
    let stored: Vec<String> = fake
        .ingested_records(FINDINGS_STREAM)
        .iter()
        .filter_map(|r| r["DeviceId"].as_str().map(str::to_string))
        .collect();
    let want: Vec<String> = plan
        .iter()
        .zip(&ok)
        .filter(|(_, ok)| **ok)
        .flat_map(|(b, _)| b.clone().map(|i| format!("dev{i}")))
        .collect();
    assert_eq!(stored, want);
    // 413 is not retried: one request per batch.
    assert_eq!(ingestion_requests(&fake).len(), plan.len());
}

#[test]
fn auth_and_routing_failures_stop_at_once_and_show_no_token() {
    let fake = start();
    // A token for the wrong audience: 403, not retried, nothing else sent.
    let sink = sink_for(
        &fake,
        &[(
            "RMMHUNT_MONITOR_AUDIENCE",
            fake_azure::LOG_ANALYTICS_AUDIENCE,
        )],
    )
    .with_max_body(20_000);
    let t = wide_table(60, 1_000);
    let (accepted, failed, failed_batches, total, source, _, text) =
        ingestion_error(sink.write(&seed_rule(), &t));
    assert_eq!((accepted, failed, failed_batches), (0, 60, total));
    assert!(
        matches!(&source, HttpError::Status { status: 403, code, .. } if code == "InvalidTokenAudience"),
        "{source:?}"
    );
    assert_eq!(ingestion_requests(&fake).len(), 1);
    assert!(!text.contains("fake."), "{text}");

    // A revoked token: the 401 drops it from the cache and the batch goes
    // through with a new one (one more token request, nothing lost).
    let fake = start();
    let sink = sink_for(&fake, &[]);
    sink.write(&seed_rule(), &wide_table(1, 1))
        .unwrap_or_else(|e| panic!("{e}"));
    let issued = fake.tokens_issued();
    fake.revoke_tokens();
    let s = sink
        .write(&seed_rule(), &wide_table(3, 1))
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(s.ingested, 3);
    assert_eq!(fake.tokens_issued(), issued + 1);
    assert_eq!(fake.ingested().len(), 4);

    // A 401 that a new token does not cure: one retry, then the error,
    // which names no token.
    let fake = start();
    let sink = sink_for(&fake, &[]);
    fake.push_faults(
        Api::LogsIngestion,
        Fault::Status {
            status: 401,
            retry_after_secs: None,
        },
        2,
    );
    let (_, failed, _, _, source, _, text) =
        ingestion_error(sink.write(&seed_rule(), &wide_table(3, 1)));
    assert_eq!(failed, 3);
    assert!(
        matches!(source, HttpError::Status { status: 401, .. }),
        "{source:?}"
    );
    assert_eq!(
        ingestion_requests(&fake).len(),
        2,
        "one retry with a new token"
    );
    assert!(!text.contains("fake."), "{text}");

    // An unknown DCR: 404.
    let fake = start();
    let sink = sink_for(
        &fake,
        &[(
            "RMMHUNT_LOGS_INGESTION_DCR_ID",
            "dcr-ffffffffffffffffffffffffffffffff",
        )],
    );
    let (_, _, _, _, source, _, _) = ingestion_error(sink.write(&seed_rule(), &wide_table(2, 1)));
    assert!(
        matches!(&source, HttpError::Status { status: 404, code, .. } if code == "DataCollectionRuleNotFound"),
        "{source:?}"
    );
    assert!(fake.ingested().is_empty());
}

#[test]
fn from_config_is_none_without_the_settings() {
    let fake = start();
    let env: HashMap<String, String> = [
        ("IDENTITY_ENDPOINT", fake.identity_endpoint()),
        ("IDENTITY_HEADER", fake.identity_header()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    let v = from_env_map(&env)
        .validate()
        .unwrap_or_else(|e| panic!("{e}"));
    let http = HttpClient::new(RetryPolicy::default()).unwrap_or_else(|e| panic!("{e}"));
    let tokens = from_config(&v.credential, http.reqwest());
    assert!(matches!(
        LogsIngestionSink::from_config(&v, http, tokens),
        Ok(None)
    ));
    let v = settings(&fake, &[]);
    assert_eq!(
        v.logs_ingestion.as_ref().map(|l| l.stream.as_str()),
        Some(FINDINGS_STREAM)
    );
    assert_eq!(v.endpoints.monitor_audience, MONITOR_AUDIENCE);
}

#[test]
fn writes_from_inside_an_async_runtime() {
    // The serve path may call the (sync) sink from async code: the sink's
    // own runtime runs on a scoped thread, so this must not panic.
    let fake = start();
    let sink = sink_for(&fake, &[]);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap_or_else(|e| panic!("{e}"));
    let got = rt.block_on(async { sink.write(&seed_rule(), &wide_table(3, 10)) });
    assert_eq!(got.map(|s| s.ingested).map_err(|e| e.to_string()), Ok(3));
    assert_eq!(fake.ingested().len(), 3);
}
