//! Logs Ingestion API: the findings stream, validation against the
//! declared columns and the spec, limits, auth, api-version, faults, and
//! the data-plane `ErrorResponse` of every error.

use crate::common::*;
use fake_azure::{
    Api, ColumnType, FakeAzure, Fault, DEFAULT_DCR_ID, FINDINGS_STREAM, LOG_ANALYTICS_AUDIENCE,
    MONITOR_AUDIENCE,
};
use serde_json::{json, Value as J};

fn url(f: &FakeAzure, dcr: &str, stream: &str) -> String {
    format!(
        "{}/dataCollectionRules/{dcr}/streams/{stream}?api-version=2023-01-01",
        f.base_url()
    )
}

fn record(i: usize) -> J {
    json!({
        "TimeGenerated": "2026-11-25T12:00:00.1234567Z", "RunId": "3f0c1d5e-0000-4000-8000-000000000001",
        "RuleId": "b915897c-1fe7-47f4-9e06-2ae74da8203e", "RuleName": "Zoho",
        "Tactics": "CommandAndControl", "Techniques": "T1219", "DeviceId": format!("d{i}"),
        "DeviceName": "pc01", "RemoteUrl": "assist.zoho.com", "RemoteIP": "", "AccountName": "",
        "FirstSeen": "2026-11-25T08:00:00Z", "LastSeen": null, "EventCount": 3,
        "Finding": {"DeviceId": format!("d{i}"), "Report": ["r1"], "Count": 3}
    })
}

fn post(tok: &str, url: &str, body: &J) -> Resp {
    send(
        client()
            .post(url)
            .bearer_auth(tok)
            .header("x-ms-client-request-id", "client-1")
            .json(body),
    )
}

/// An error answer: status, `ErrorResponse` per the spec, the code in
/// `x-ms-error-code`; returns (code, target).
fn error_of(r: &Resp, status: u16) -> (String, Option<String>) {
    assert_eq!(r.status, status, "{}", r.text);
    let v = r.json();
    let problems = fake_azure::spec::validate_error_response(&v);
    assert!(problems.is_empty(), "{problems:?}: {v}");
    let code = v["error"]["code"].as_str().unwrap_or("").to_string();
    assert!(!code.is_empty() && v["error"]["message"].is_string(), "{v}");
    assert_eq!(r.header("x-ms-error-code").as_deref(), Some(code.as_str()));
    (code, v["error"]["target"].as_str().map(str::to_string))
}

#[test]
fn accepted_batches_are_stored_as_sent() {
    let f = fake();
    let tok = token(&f, MONITOR_AUDIENCE);
    let body = json!([record(1), record(2)]);
    let r = post(&tok, &url(&f, DEFAULT_DCR_ID, FINDINGS_STREAM), &body);
    assert_eq!((r.status, r.text.as_str()), (204, ""));
    let stored = f.ingested();
    assert_eq!(stored.len(), 2);
    assert!(stored.iter().all(|s| s.dcr == DEFAULT_DCR_ID
        && s.stream == FINDINGS_STREAM
        && s.client_request_id.as_deref() == Some("client-1")));
    assert_eq!(
        f.ingested_records(FINDINGS_STREAM),
        vec![record(1), record(2)]
    );
    // DCR ids and stream names are matched case-insensitively.
    let upper = url(
        &f,
        &DEFAULT_DCR_ID.to_ascii_uppercase().replace("DCR-", "dcr-"),
        "custom-rmmhuntfindings_cl",
    );
    assert_eq!(post(&tok, &upper, &json!([])).status, 204);
    let log = f.requests_to(Api::LogsIngestion);
    assert_eq!(log.len(), 2);
    assert_eq!(log[0].header("authorization"), Some("<redacted>"));
}

#[test]
fn records_must_match_the_declared_columns_and_a_batch_is_all_or_nothing() {
    let f = fake();
    let tok = token(&f, MONITOR_AUDIENCE);
    let u = url(&f, DEFAULT_DCR_ID, FINDINGS_STREAM);
    let with = |k: &str, v: J| {
        let mut r = record(2);
        r[k] = v;
        json!([record(1), r])
    };
    let without = |k: &str| {
        let mut r = record(2);
        r.as_object_mut().map(|o| o.remove(k));
        json!([record(1), r])
    };
    let cases: Vec<(J, &str)> = vec![
        (with("Extra", json!("x")), "[1].Extra"),
        (with("EventCount", json!("3")), "[1].EventCount"),
        (
            with("TimeGenerated", json!("yesterday")),
            "[1].TimeGenerated",
        ),
        (with("Finding", json!("x".repeat(70_000))), "[1].Finding"),
        (without("RemoteIP"), "[1].RemoteIP"),
        (json!([record(1), 7]), "[1]"),
        (json!({"records": [record(1)]}), ""),
    ];
    for (body, target) in cases {
        let r = post(&tok, &u, &body);
        let (code, got) = error_of(&r, 400);
        assert_eq!(code, "InvalidPayload");
        assert_eq!(got.as_deref(), Some(target), "{}", r.text);
    }
    assert!(
        f.ingested().is_empty(),
        "no record of a refused batch is kept"
    );

    let r = send(
        client()
            .post(&u)
            .bearer_auth(&tok)
            .header("content-type", "application/json")
            .body("[{"),
    );
    assert_eq!(error_of(&r, 400).0, "InvalidJson");

    // Missing columns pass when the fake is told to be lenient.
    f.set_ingestion_require_all_columns(false);
    assert_eq!(post(&tok, &u, &without("RemoteIP")).status, 204);

    // Another stream with its own columns.
    f.declare_stream(
        "dcr-ffffffffffffffffffffffffffffffff",
        "Custom-Other_CL",
        &[
            ("TimeGenerated", ColumnType::DateTime),
            ("N", ColumnType::Int),
            ("Ok", ColumnType::Boolean),
            ("X", ColumnType::Real),
        ],
    );
    let other = url(
        &f,
        "dcr-ffffffffffffffffffffffffffffffff",
        "Custom-Other_CL",
    );
    let ok = json!([{"TimeGenerated": "2026-11-25T12:00:00Z", "N": 1, "Ok": true, "X": 1.5}]);
    assert_eq!(post(&tok, &other, &ok).status, 204);
    let big = json!([{"TimeGenerated": "2026-11-25T12:00:00Z", "N": 5_000_000_000i64, "Ok": true, "X": 1}]);
    assert_eq!(
        error_of(&post(&tok, &other, &big), 400).1.as_deref(),
        Some("[0].N")
    );
    assert_eq!(f.ingested_records("Custom-Other_CL").len(), 1);
}

#[test]
fn unknown_rules_streams_and_paths_are_404() {
    let f = fake();
    let tok = token(&f, MONITOR_AUDIENCE);
    let r = post(
        &tok,
        &url(&f, "dcr-00000000000000000000000000000000", FINDINGS_STREAM),
        &json!([]),
    );
    assert_eq!(error_of(&r, 404).0, "DataCollectionRuleNotFound");
    let r = post(&tok, &url(&f, DEFAULT_DCR_ID, "Custom-Nope_CL"), &json!([]));
    assert_eq!(error_of(&r, 404).0, "InvalidStream");
    let r = send(
        client()
            .post(format!(
                "{}/dataCollectionRules/{DEFAULT_DCR_ID}",
                f.base_url()
            ))
            .bearer_auth(&tok)
            .json(&json!([])),
    );
    assert_eq!(error_of(&r, 404).0, "NotFound");
    let r = send(
        client()
            .get(url(&f, DEFAULT_DCR_ID, FINDINGS_STREAM))
            .bearer_auth(&tok),
    );
    assert_eq!(error_of(&r, 405).0, "MethodNotAllowed");
}

#[test]
fn api_version_token_and_media_type_are_required() {
    let f = fake();
    let tok = token(&f, MONITOR_AUDIENCE);
    let base = format!(
        "{}/dataCollectionRules/{DEFAULT_DCR_ID}/streams/{FINDINGS_STREAM}",
        f.base_url()
    );
    let r = post(&tok, &base, &json!([record(1)]));
    assert_eq!(error_of(&r, 400).0, "MissingApiVersion");
    let r = post(
        &tok,
        &format!("{base}?api-version=2021-11-01-preview"),
        &json!([]),
    );
    assert_eq!(error_of(&r, 400).0, "InvalidApiVersion");

    let u = url(&f, DEFAULT_DCR_ID, FINDINGS_STREAM);
    let r = send(client().post(&u).json(&json!([record(1)])));
    assert_eq!(error_of(&r, 401).0, "MissingToken");
    let r = post("not-a-token", &u, &json!([record(1)]));
    assert_eq!(error_of(&r, 401).0, "InvalidToken");
    let la = token(&f, LOG_ANALYTICS_AUDIENCE);
    let r = post(&la, &u, &json!([record(1)]));
    assert_eq!(error_of(&r, 403).0, "InvalidTokenAudience");
    assert!(!r.text.contains(&la), "the token is not echoed");

    let r = send(
        client()
            .post(&u)
            .bearer_auth(&tok)
            .header("content-type", "text/plain")
            .body(json!([record(1)]).to_string()),
    );
    assert_eq!(error_of(&r, 415).0, "UnsupportedMediaType");
    let r = send(
        client()
            .post(&u)
            .bearer_auth(&tok)
            .header("content-type", "application/json")
            .header("content-encoding", "gzip")
            .body(json!([record(1)]).to_string()),
    );
    assert_eq!(error_of(&r, 415).0, "UnsupportedContentEncoding");
    assert!(f.ingested().is_empty());
}

#[test]
fn bodies_over_the_limit_are_413() {
    let f = fake();
    let tok = token(&f, MONITOR_AUDIENCE);
    let u = url(&f, DEFAULT_DCR_ID, FINDINGS_STREAM);
    // 1,000,000 bytes exactly pass; more do not.
    let mut records = Vec::new();
    let mut size = 2;
    let mut i = 0;
    loop {
        let r = record(i);
        let len = r.to_string().len() + usize::from(i > 0);
        if size + len > 1_000_000 {
            break;
        }
        size += len;
        records.push(r);
        i += 1;
    }
    let fill = 1_000_000 - size;
    let mut rec = records.pop().unwrap_or_else(|| record(0));
    rec["RuleName"] = json!(format!("Zoho{}", " ".repeat(fill)));
    records.push(rec);
    let body = J::Array(records);
    assert_eq!(body.to_string().len(), 1_000_000);
    assert_eq!(post(&tok, &u, &body).status, 204);
    let n = f.ingested().len();
    let mut over = body.clone();
    if let Some(a) = over.as_array_mut() {
        a.push(record(99));
    }
    let r = post(&tok, &u, &over);
    assert_eq!(error_of(&r, 413).0, "ContentLengthLimitExceeded");
    assert_eq!(f.ingested().len(), n, "nothing of a 413 is stored");
    // Bodies past axum's 2 MiB default still get the API's 413.
    let mut huge = over.clone();
    if let Some(a) = huge.as_array_mut() {
        let copy = a.clone();
        a.extend(copy.clone());
        a.extend(copy);
    }
    assert!(huge.to_string().len() > 2 * 1024 * 1024);
    assert_eq!(
        error_of(&post(&tok, &u, &huge), 413).0,
        "ContentLengthLimitExceeded"
    );
    f.set_ingestion_max_body(100);
    assert_eq!(
        error_of(&post(&tok, &u, &json!([record(1)])), 413).0,
        "ContentLengthLimitExceeded"
    );
}

#[test]
fn faults_throttle_and_fail_like_the_other_apis() {
    let f = fake();
    let tok = token(&f, MONITOR_AUDIENCE);
    let u = url(&f, DEFAULT_DCR_ID, FINDINGS_STREAM);
    let body = json!([record(1)]);
    f.push_fault(
        Api::LogsIngestion,
        Fault::Throttle {
            retry_after_secs: 2,
        },
    );
    let r = post(&tok, &u, &body);
    assert_eq!(error_of(&r, 429).0, "TooManyRequests");
    assert_eq!(r.header("retry-after").as_deref(), Some("2"));
    f.push_faults(
        Api::LogsIngestion,
        Fault::Status {
            status: 503,
            retry_after_secs: None,
        },
        2,
    );
    assert_eq!(
        error_of(&post(&tok, &u, &body), 503).0,
        "ServiceUnavailable"
    );
    assert_eq!(
        error_of(&post(&tok, &u, &body), 503).0,
        "ServiceUnavailable"
    );
    f.push_fault(
        Api::LogsIngestion,
        Fault::Status {
            status: 413,
            retry_after_secs: None,
        },
    );
    assert_eq!(
        error_of(&post(&tok, &u, &body), 413).0,
        "ContentLengthLimitExceeded"
    );
    assert!(f.ingested().is_empty(), "faulted requests store nothing");
    assert_eq!(post(&tok, &u, &body).status, 204);
    f.fault_every(
        Api::LogsIngestion,
        2,
        Fault::Status {
            status: 500,
            retry_after_secs: None,
        },
    );
    let statuses: Vec<u16> = (0..4).map(|_| post(&tok, &u, &body).status).collect();
    assert_eq!(statuses, vec![204, 500, 204, 500]);
    assert_eq!(f.ingested().len(), 3);
    // Other APIs' faults do not touch ingestion.
    f.clear_faults();
    f.push_fault(
        Api::Arm,
        Fault::Throttle {
            retry_after_secs: 1,
        },
    );
    assert_eq!(post(&tok, &u, &body).status, 204);
}
