//! The Sentinel incidents sink against a local fake of ARM
//! (`tests/support/fake_arm.rs`, on 127.0.0.1:0): create, idempotent rerun,
//! analyst fields kept, stale etag re-read, closed incidents never reopened,
//! transient faults, description golden, id determinism; and `rmmhunt hunt
//! --incidents` end to end over the sample data.

#[path = "support/fake_arm.rs"]
mod fake_arm;

use fake_arm::{FakeArm, Fault, IDENTITY_HEADER};
use kql::{Column, Schema, Table, Type, Value};
use rmmhunt::azure::arm::{ArmClient, ArmTarget, AzureTransport, RetryPolicy, DEFAULT_API_VERSION};
use rmmhunt::azure::auth::StaticToken;
use rmmhunt::azure::http::{HttpClient, RetryPolicy as HttpRetry};
use rmmhunt::rule::{self, Rule};
use rmmhunt::sink::sentinel::{
    group_by_device, incident_id, render_description, successor_id, IncidentSettings, SentinelSink,
};
use rmmhunt::sink::{Sink, SinkError};
use serde_json::json;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

const RULE_ID: &str = "b915897c-1fe7-47f4-9e06-2ae74da8203e";

fn rule() -> Rule {
    rule::builtin_rules()
        .rules
        .into_iter()
        .find(|r| r.id == RULE_ID)
        .unwrap_or_else(|| panic!("builtin rule {RULE_ID} missing"))
}

fn dt(s: &str) -> Value {
    Value::DateTime(kql::time::parse_datetime(s).unwrap_or_else(|| panic!("bad datetime {s}")))
}

/// DeviceId, DeviceName, RemoteUrl, FirstSeen, LastSeen, ReportIds.
type Row<'a> = (&'a str, &'a str, &'a str, &'a str, &'a str, &'a [i64]);

/// Rows shaped like the seed rule's output.
fn findings(rows: &[Row]) -> Table {
    Table {
        schema: Schema::new(vec![
            Column::new("DeviceId", Type::String),
            Column::new("DeviceName", Type::String),
            Column::new("RemoteUrl", Type::String),
            Column::new("FirstSeen", Type::DateTime),
            Column::new("LastSeen", Type::DateTime),
            Column::new("Report", Type::Dynamic),
            Column::new("Count", Type::Long),
        ]),
        rows: rows
            .iter()
            .map(|(id, name, url, first, last, reports)| {
                vec![
                    Value::string(*id),
                    Value::string(*name),
                    Value::string(*url),
                    dt(first),
                    dt(last),
                    Value::Dynamic(std::sync::Arc::new(json!(reports))),
                    Value::Long(i64::try_from(reports.len()).unwrap_or_default()),
                ]
            })
            .collect(),
    }
}

fn day1() -> Table {
    findings(&[
        (
            "dev-a",
            "wks-5182.contoso.local",
            "https://assist.zoho.jp/assist-join/session?id=899474",
            "2026-11-24T22:31:06.5009583Z",
            "2026-11-25T11:47:54.2573692Z",
            &[1184, 2410],
        ),
        (
            "dev-b",
            "lt-fra-755.contoso.com",
            "assist.zoho.com.au",
            "2026-11-23T08:42:45.3805878Z",
            "2026-11-23T08:42:45.3805878Z",
            &[1269],
        ),
        (
            "dev-a",
            "wks-5182.contoso.local",
            "assist.zoho.com",
            "2026-11-24T09:00:00Z",
            "2026-11-24T09:10:00Z",
            &[1001],
        ),
    ])
}

/// Day 1 plus new activity on dev-a the next day.
fn day2() -> Table {
    let mut t = day1();
    t.rows.extend(
        findings(&[(
            "dev-a",
            "wks-5182.contoso.local",
            "downloads.zohocdn.com",
            "2026-11-26T08:00:00Z",
            "2026-11-26T08:30:00Z",
            &[3001, 3002, 3003],
        )])
        .rows,
    );
    t
}

fn sink(fake: &FakeArm) -> SentinelSink {
    let target = ArmTarget {
        endpoint: fake.url.clone(),
        api_version: DEFAULT_API_VERSION.into(),
        subscription_id: "00000000-0000-0000-0000-000000000001".into(),
        resource_group: "rg-sec".into(),
        workspace: "ws-sentinel".into(),
    };
    let http = HttpClient::new(HttpRetry {
        deadline: Duration::from_secs(20),
        attempt_timeout: Duration::from_secs(10),
        base_delay: Duration::from_millis(10),
        max_delay: Duration::from_millis(50),
        max_attempts: 4,
    })
    .unwrap_or_else(|e| panic!("{e}"));
    let transport = AzureTransport::new(
        http,
        std::sync::Arc::new(StaticToken::new(fake_arm::TOKEN)),
        "https://management.azure.com",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let mut client = ArmClient::new(target, Box::new(transport));
    client.retry = RetryPolicy {
        attempts: 1,
        ..RetryPolicy::default()
    };
    SentinelSink::new(client, IncidentSettings::default())
}

fn id(device: &str) -> String {
    incident_id(RULE_ID, device).to_string()
}

#[test]
fn ids_are_deterministic_uuid_v5_of_rule_and_device() {
    // Independent derivation (Python: uuid5(uuid5(NAMESPACE_URL,
    // 'urn:rmmhunt:sentinel-incident'), rule_id + '\n' + device_id)).
    assert_eq!(
        incident_id(RULE_ID, "fddd59f9ca62e27baa2e777be832bb572bec423e").to_string(),
        "7f240de7-9291-5bfc-95ed-3a1395fb55d7"
    );
    assert_eq!(
        incident_id(&RULE_ID.to_uppercase(), "dev-a"),
        incident_id(RULE_ID, "dev-a"),
        "rule ids compare case-insensitively"
    );
    assert_ne!(incident_id(RULE_ID, "dev-a"), incident_id(RULE_ID, "dev-b"));
}

#[test]
fn creates_one_incident_per_device_and_a_rerun_writes_nothing() {
    let fake = FakeArm::start();
    let s = sink(&fake);
    let r = rule();
    let summary = s.write(&r, &day1()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((summary.created, summary.updated), (2, 0), "{summary:?}");
    {
        let st = fake.lock();
        assert_eq!(st.incidents.len(), 2);
        let a = st
            .incidents
            .get(&id("dev-a"))
            .unwrap_or_else(|| panic!("no incident for dev-a: {:?}", st.incidents.keys()));
        let p = &a.properties;
        assert_eq!(
            p["title"],
            "Zoho Assist connection on wks-5182.contoso.local"
        );
        assert_eq!(p["severity"], "Medium");
        assert_eq!(p["status"], "New");
        assert_eq!(p["firstActivityTimeUtc"], "2026-11-24T09:00:00Z");
        assert_eq!(p["lastActivityTimeUtc"], "2026-11-25T11:47:54Z");
        assert_eq!(
            p["labels"],
            json!([{"labelName": "T1219"}, {"labelName": "Zoho Assist"}, {"labelName": "rmmhunt"}])
        );
        let d = p["description"].as_str().unwrap_or_default();
        assert!(
            d.contains("1184") && d.contains("2410") && d.contains("1001"),
            "{d}"
        );
        assert!(
            !d.contains("1269"),
            "dev-b's evidence must not be on dev-a: {d}"
        );
        assert!(st.comments.is_empty());
    }
    let puts = fake.lock().puts();
    let summary = s.write(&r, &day1()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        (
            summary.created,
            summary.updated,
            summary.comments,
            summary.unchanged
        ),
        (0, 0, 0, 2),
        "{summary:?}"
    );
    let st = fake.lock();
    assert_eq!(st.puts(), puts, "a rerun must not write: {:?}", st.log);
    assert_eq!(st.incidents.len(), 2);
    assert!(st.comments.is_empty());
}

#[test]
fn new_activity_on_an_open_incident_is_a_comment_and_analyst_fields_stay() {
    let fake = FakeArm::start();
    let s = sink(&fake);
    let r = rule();
    s.write(&r, &day1()).unwrap_or_else(|e| panic!("{e}"));
    let description = {
        let mut st = fake.lock();
        let inc = st
            .incidents
            .get_mut(&id("dev-a"))
            .unwrap_or_else(|| panic!("no incident"));
        // What an analyst does in the portal.
        let p = &mut inc.properties;
        p["status"] = json!("Active");
        p["severity"] = json!("High");
        p["title"] = json!("Zoho Assist on CFO laptop");
        p["owner"] =
            json!({"objectId": "2046feea-040d-4a46-9e2b-91c2941bfa70", "assignedTo": "Jo Analyst"});
        p["classification"] = json!("Undetermined");
        if let Some(labels) = p["labels"].as_array_mut() {
            labels.push(json!({"labelName": "vip"}));
        }
        inc.etag += 100;
        p["description"].clone()
    };
    let summary = s.write(&r, &day2()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        (
            summary.created,
            summary.updated,
            summary.comments,
            summary.unchanged
        ),
        (0, 1, 1, 1),
        "{summary:?}"
    );
    {
        let st = fake.lock();
        let p = &st.incidents[&id("dev-a")].properties;
        assert_eq!(p["status"], "Active");
        assert_eq!(p["severity"], "High");
        assert_eq!(p["title"], "Zoho Assist on CFO laptop");
        assert_eq!(p["owner"]["assignedTo"], "Jo Analyst");
        assert_eq!(p["classification"], "Undetermined");
        assert_eq!(p["description"], description, "history is not rewritten");
        assert_eq!(p["lastActivityTimeUtc"], "2026-11-26T08:30:00Z");
        let names: Vec<&str> = p["labels"]
            .as_array()
            .map(|a| a.iter().filter_map(|l| l["labelName"].as_str()).collect())
            .unwrap_or_default();
        assert_eq!(names, ["T1219", "Zoho Assist", "rmmhunt", "vip"]);
        assert_eq!(st.comments.len(), 1, "{:?}", st.comments);
        let (key, msg) = st
            .comments
            .iter()
            .next()
            .unwrap_or_else(|| panic!("no comment"));
        assert_eq!(key.0, id("dev-a"));
        assert!(
            msg.contains("3001") && msg.contains("downloads.zohocdn.com"),
            "{msg}"
        );
        assert!(!msg.contains("1184"), "only the new rows: {msg}");
    }
    // Rerun of day 2: nothing new, nothing written.
    let puts = fake.lock().puts();
    let summary = s.write(&r, &day2()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        (summary.updated, summary.comments, summary.unchanged),
        (0, 0, 2)
    );
    assert_eq!(fake.lock().puts(), puts);
    assert_eq!(fake.lock().comments.len(), 1);
}

#[test]
fn a_stale_etag_is_reread_and_retried() {
    let fake = FakeArm::start();
    let s = sink(&fake);
    let r = rule();
    s.write(&r, &day1()).unwrap_or_else(|e| panic!("{e}"));
    fake.fault(
        "PUT",
        &format!("incidents/{}", id("dev-a")),
        Fault::ConcurrentEdit,
    );
    let summary = s.write(&r, &day2()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((summary.updated, summary.comments), (1, 1), "{summary:?}");
    let st = fake.lock();
    let p = &st.incidents[&id("dev-a")].properties;
    assert_eq!(
        p["owner"]["assignedTo"], "Concurrent Analyst",
        "the edit made between our read and write survives"
    );
    assert_eq!(p["lastActivityTimeUtc"], "2026-11-26T08:30:00Z");
    assert_eq!(st.comments.len(), 1, "the retried comment has the same id");
}

#[test]
fn conflicts_on_every_attempt_fail_the_write() {
    let fake = FakeArm::start();
    let s = sink(&fake);
    let r = rule();
    s.write(&r, &day1()).unwrap_or_else(|e| panic!("{e}"));
    for _ in 0..10 {
        fake.fault(
            "PUT",
            &format!("incidents/{}", id("dev-a")),
            Fault::ConcurrentEdit,
        );
    }
    match s.write(&r, &day2()) {
        Err(SinkError::Several { errors, .. }) => {
            assert_eq!(errors.len(), 1, "{errors:?}");
            assert!(
                errors[0].to_string().contains("changed on every one"),
                "{}",
                errors[0]
            );
        }
        other => panic!("want a failure, got {other:?}"),
    }
}

#[test]
fn a_closed_incident_is_never_reopened_new_activity_opens_a_successor() {
    let fake = FakeArm::start();
    let s = sink(&fake);
    let r = rule();
    s.write(&r, &day1()).unwrap_or_else(|e| panic!("{e}"));
    let closed_etag = {
        let mut st = fake.lock();
        let inc = st
            .incidents
            .get_mut(&id("dev-a"))
            .unwrap_or_else(|| panic!("no incident"));
        inc.properties["status"] = json!("Closed");
        inc.properties["classification"] = json!("TruePositive");
        inc.properties["classificationReason"] = json!("SuspiciousActivity");
        inc.etag
    };
    // Same activity again: nothing (the closed incident is left alone).
    let summary = s.write(&r, &day1()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((summary.created, summary.unchanged), (0, 2), "{summary:?}");
    // New activity: a new incident with the derived id, holding only the new rows.
    let summary = s.write(&r, &day2()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((summary.created, summary.updated), (1, 0), "{summary:?}");
    let succ = successor_id(&id("dev-a")).to_string();
    {
        let st = fake.lock();
        let closed = &st.incidents[&id("dev-a")];
        assert_eq!(
            closed.etag, closed_etag,
            "the closed incident is not written"
        );
        assert_eq!(closed.properties["status"], "Closed");
        let p = &st
            .incidents
            .get(&succ)
            .unwrap_or_else(|| panic!("no successor {succ}: {:?}", st.incidents.keys()))
            .properties;
        assert_eq!(p["status"], "New");
        assert_eq!(p["firstActivityTimeUtc"], "2026-11-26T08:00:00Z");
        let d = p["description"].as_str().unwrap_or_default();
        assert!(d.contains("after incident #1 was closed"), "{d}");
        assert!(d.contains("3001") && !d.contains("1184"), "{d}");
        assert!(st.comments.is_empty());
    }
    // Rerun: no third incident, no comment.
    let summary = s.write(&r, &day2()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((summary.created, summary.comments), (0, 0), "{summary:?}");
    assert_eq!(fake.lock().incidents.len(), 3);
}

#[test]
fn throttling_and_server_errors_are_retried() {
    let fake = FakeArm::start();
    let s = sink(&fake);
    fake.fault("GET", "incidents/", Fault::Status(429));
    fake.fault("PUT", "incidents/", Fault::Status(503));
    fake.fault("PUT", "incidents/", Fault::Status(500));
    let summary = s.write(&rule(), &day1()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(summary.created, 2);
    assert_eq!(fake.lock().incidents.len(), 2);
}

#[test]
fn a_persistent_failure_is_an_error_not_fewer_incidents() {
    let fake = FakeArm::start();
    let s = sink(&fake);
    let target = format!("incidents/{}", id("dev-b"));
    for _ in 0..8 {
        fake.fault("PUT", &target, Fault::Status(500));
    }
    match s.write(&rule(), &day1()) {
        Err(SinkError::Several { errors, summary }) => {
            assert_eq!(errors.len(), 1, "{errors:?}");
            assert_eq!(summary.created, 1, "dev-a still written");
            assert!(errors[0].to_string().contains("500"), "{}", errors[0]);
        }
        other => panic!("want a failure, got {other:?}"),
    }
}

#[test]
fn description_golden() {
    let t = day1();
    let groups = group_by_device(&t);
    let g = groups
        .iter()
        .find(|g| g.device_id == "dev-a")
        .unwrap_or_else(|| panic!("no dev-a group"));
    let settings = IncidentSettings {
        rule_link_base: Some("https://github.com/contoso/rmmhunt/blob/main/rules".into()),
        ..IncidentSettings::default()
    };
    let got = render_description(&rule(), &t, g, &settings, None);
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/incident_description.golden.html");
    if std::env::var_os("RMMHUNT_BLESS").is_some() {
        std::fs::write(&path, &got).unwrap_or_else(|e| panic!("{e}"));
    }
    let want = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (RMMHUNT_BLESS=1 writes it)", path.display()));
    assert_eq!(got, want);
}

// ---- the CLI end to end over the sample data -------------------------

const BIN: &str = env!("CARGO_BIN_EXE_rmmhunt");

fn hunt(fake: &FakeArm, extra: &[&str]) -> std::process::Output {
    Command::new(BIN)
        .args(["hunt", "--format", "json"])
        .args(extra)
        .env(
            "RMMHUNT_SENTINEL_SUBSCRIPTION_ID",
            "00000000-0000-0000-0000-000000000001",
        )
        .env("RMMHUNT_SENTINEL_RESOURCE_GROUP", "rg-sec")
        .env("RMMHUNT_SENTINEL_WORKSPACE", "ws-sentinel")
        .env("RMMHUNT_ARM_ENDPOINT", &fake.url)
        .env("IDENTITY_ENDPOINT", format!("{}/msi/token", fake.url))
        .env("IDENTITY_HEADER", IDENTITY_HEADER)
        .env("RMMHUNT_CREDENTIAL", "managed-identity")
        .env("RMMHUNT_REQUEST_DEADLINE_SECS", "30")
        .env_remove("RMMHUNT_INCIDENTS_API_VERSION")
        .env_remove("AZURE_TENANT_ID")
        .env_remove("AZURE_CLIENT_SECRET")
        .output()
        .unwrap_or_else(|e| panic!("running {BIN}: {e}"))
}

fn devices_in(stdout: &[u8]) -> std::collections::BTreeSet<String> {
    let v: serde_json::Value = serde_json::from_slice(stdout).unwrap_or_else(|e| panic!("{e}"));
    let mut out = std::collections::BTreeSet::new();
    for r in v["rules"].as_array().into_iter().flatten() {
        for row in r["findings"]["rows"].as_array().into_iter().flatten() {
            if let Some(d) = row[0].as_str() {
                out.insert(format!("{}\n{d}", r["id"].as_str().unwrap_or_default()));
            }
        }
    }
    out
}

#[test]
fn cli_hunt_incidents_creates_one_per_device_and_reruns_write_nothing() {
    let fake = FakeArm::start();
    let out = hunt(&fake, &["--incidents"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "stderr: {stderr}");
    let devices = devices_in(&out.stdout);
    assert!(!devices.is_empty());
    let want: std::collections::BTreeSet<String> = devices
        .iter()
        .filter_map(|k| k.split_once('\n'))
        .map(|(r, d)| incident_id(r, d).to_string())
        .collect();
    let got: std::collections::BTreeSet<String> = fake.lock().incidents.keys().cloned().collect();
    assert_eq!(got, want, "one incident per (rule, device)");
    assert!(
        stderr.contains(&format!("{} created", want.len())),
        "{stderr}"
    );

    let puts = fake.lock().puts();
    let out = hunt(&fake, &["--incidents"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(fake.lock().puts(), puts, "rerun wrote something");
    assert_eq!(fake.lock().incidents.len(), want.len());
    assert!(fake.lock().comments.is_empty());
}

#[test]
fn cli_dry_run_writes_nothing_and_says_what_it_would_write() {
    let fake = FakeArm::start();
    let out = hunt(&fake, &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "stderr: {stderr}");
    let n = devices_in(&out.stdout).len();
    assert!(
        stderr.contains(&format!(
            "dry run (no --incidents): {n} incident(s) would be written"
        )),
        "{stderr}"
    );
    assert!(fake.lock().log.is_empty(), "{:?}", fake.lock().log);
}

#[test]
fn cli_a_failed_incident_write_fails_the_run() {
    let fake = FakeArm::start();
    for _ in 0..200 {
        fake.fault("PUT", "incidents/", Fault::Status(500));
    }
    let out = hunt(&fake, &["--incidents"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(4), "stderr: {stderr}");
    assert!(stderr.contains("incident write(s) failed"), "{stderr}");
    assert!(
        !stderr.contains(fake_arm::TOKEN),
        "the token leaked: {stderr}"
    );
}

// ---- the same flows against crates/fake-azure (bodies validated against
// the Incidents.json spec, read-only properties rejected, etag required) --

fn sink_on(fake: &fake_azure::FakeAzure) -> SentinelSink {
    let target = ArmTarget {
        endpoint: fake.base_url(),
        api_version: DEFAULT_API_VERSION.into(),
        subscription_id: "00000000-0000-0000-0000-000000000001".into(),
        resource_group: "rg-sec".into(),
        workspace: "ws-sentinel".into(),
    };
    let http = HttpClient::new(HttpRetry {
        deadline: Duration::from_secs(20),
        attempt_timeout: Duration::from_secs(10),
        base_delay: Duration::from_millis(10),
        max_delay: Duration::from_millis(50),
        max_attempts: 4,
    })
    .unwrap_or_else(|e| panic!("{e}"));
    let token = fake.issue_token(fake_azure::ARM_AUDIENCE);
    let transport = AzureTransport::new(
        http,
        std::sync::Arc::new(StaticToken::new(token)),
        fake_azure::ARM_AUDIENCE,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let mut client = ArmClient::new(target, Box::new(transport));
    client.retry = RetryPolicy {
        attempts: 1,
        ..RetryPolicy::default()
    };
    SentinelSink::new(client, IncidentSettings::default())
}

#[test]
fn fake_azure_create_update_conflict_and_closed_flows() {
    let fake = fake_azure::FakeAzure::start().unwrap_or_else(|e| panic!("{e}"));
    fake.set_require_etag(true);
    let s = sink_on(&fake);
    let r = rule();
    let find = |name: &str| {
        fake.incidents()
            .into_iter()
            .find(|i| i.name == name)
            .unwrap_or_else(|| panic!("no incident {name}"))
    };

    let summary = s.write(&r, &day1()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(summary.created, 2, "{summary:?}");
    assert_eq!(fake.incidents().len(), 2);

    // An analyst takes dev-a and closes dev-b.
    assert!(fake.edit_incident(&id("dev-a"), |p| {
        p.insert("status".into(), json!("Active"));
        p.insert(
            "owner".into(),
            json!({"objectId": "2046feea-040d-4a46-9e2b-91c2941bfa70", "assignedTo": "Jo Analyst"}),
        );
        if let Some(l) = p.get_mut("labels").and_then(|l| l.as_array_mut()) {
            l.push(json!({"labelName": "vip", "labelType": "User"}));
        }
    }));
    assert!(fake.edit_incident(&id("dev-b"), |p| {
        p.insert("status".into(), json!("Closed"));
        p.insert("classification".into(), json!("TruePositive"));
        p.insert("classificationReason".into(), json!("SuspiciousActivity"));
    }));
    let closed_etag = find(&id("dev-b")).etag;

    // New activity on both; the first PUT of an incident meets a 409.
    let mut t = day2();
    t.rows.extend(
        findings(&[(
            "dev-b",
            "lt-fra-755.contoso.com",
            "assist.zoho.eu",
            "2026-11-27T10:00:00Z",
            "2026-11-27T10:05:00Z",
            &[4001],
        )])
        .rows,
    );
    fake.push_fault(fake_azure::Api::Arm, fake_azure::Fault::Conflict);
    let summary = s.write(&r, &t).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        (summary.created, summary.updated, summary.comments),
        (1, 1, 1),
        "{summary:?}"
    );
    let a = find(&id("dev-a"));
    assert_eq!(a.properties["status"], "Active");
    assert_eq!(a.properties["owner"]["assignedTo"], "Jo Analyst");
    assert!(a.properties["labels"].to_string().contains("vip"));
    assert_eq!(a.properties["lastActivityTimeUtc"], "2026-11-26T08:30:00Z");
    assert_eq!(a.comments.len(), 1);
    let b = find(&id("dev-b"));
    assert_eq!(b.etag, closed_etag, "the closed incident is not written");
    assert!(b.comments.is_empty());
    let succ = find(&successor_id(&id("dev-b")).to_string());
    assert_eq!(succ.properties["status"], "New");
    assert!(succ.properties["description"]
        .as_str()
        .unwrap_or_default()
        .contains("4001"));

    // Rerun: nothing written.
    let puts = |f: &fake_azure::FakeAzure| {
        f.requests_to(fake_azure::Api::Arm)
            .iter()
            .filter(|q| q.method == "PUT")
            .count()
    };
    let before = puts(&fake);
    let summary = s.write(&r, &t).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        (summary.created, summary.updated, summary.comments),
        (0, 0, 0)
    );
    assert_eq!(puts(&fake), before);
    assert_eq!(fake.incidents().len(), 3);
}
