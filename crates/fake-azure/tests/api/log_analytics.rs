//! Log Analytics query API: evaluation, encodings, timespan, quirks, errors
//! and faults.

use crate::common::*;
use fake_azure::{Api, Fault, LOG_ANALYTICS_AUDIENCE};
use serde_json::json;
use std::time::Duration;

#[test]
fn evaluates_kql_over_fixtures_with_la_encodings() {
    let f = fake();
    let q = "DeviceNetworkEvents | where RemoteUrl contains 'zoho' | project Timestamp, DeviceName, RemotePort, BytesSent, AdditionalFields, Score | order by Timestamp asc";
    let r = la_query(&f, json!({"query": q}));
    assert_eq!(r.status, 200, "{}", r.text);
    let v = r.json();
    let t = &v["tables"][0];
    assert_eq!(t["name"], "PrimaryResult");
    assert_eq!(
        t["columns"],
        json!([
            {"name": "Timestamp", "type": "datetime"},
            {"name": "DeviceName", "type": "string"},
            {"name": "RemotePort", "type": "int"},
            {"name": "BytesSent", "type": "long"},
            {"name": "AdditionalFields", "type": "dynamic"},
            {"name": "Score", "type": "decimal"}
        ]),
        "query {q}"
    );
    assert_eq!(
        t["rows"],
        json!([
            [
                "2024-03-26T08:00:00Z",
                "pc01",
                443,
                1_000_000_000_000_i64,
                "{\"Tls\":\"1.2\",\"n\":0}",
                "1.25"
            ],
            [
                "2024-03-26T10:00:00Z",
                "pc02",
                443,
                1_000_000_000_002_i64,
                "{\"Tls\":\"1.2\",\"n\":2}",
                "1.27"
            ],
            [
                "2024-03-26T11:00:00Z",
                "pc03",
                80,
                1_000_000_000_003_i64,
                "{\"Tls\":\"1.2\",\"n\":3}",
                "1.28"
            ]
        ]),
        "query {q}"
    );
    assert!(r.header("x-ms-request-id").is_some());
    let logged = f.requests_to(Api::LogAnalytics);
    assert_eq!(logged.len(), 1);
    assert_eq!(logged[0].json()["query"], q);
    assert_eq!(logged[0].header("authorization"), Some("<redacted>"));
}

#[test]
fn fractional_datetimes_keep_seven_digits() {
    let f = fake();
    let r = la_query(
        &f,
        json!({"query": "DeviceNetworkEvents | where RemoteUrl == 'www.bing.com' | project Timestamp"}),
    );
    assert_eq!(
        rows_of(&r.json()),
        vec![json!(["2024-03-26T09:00:00.1234567Z"])]
    );
}

#[test]
fn timespan_filters_the_time_column_and_sets_now() {
    let f = fake();
    let cases = [
        // (timespan, expected count); the fake clock is 12:30.
        (json!(null), 5),
        (json!("PT1H"), 1), // 11:30..12:30 -> 12:00
        (json!("PT3H"), 3), // 09:30..12:30
        (json!("2024-03-26T08:00:00Z/2024-03-26T10:00:00Z"), 2), // half-open: 08:00, 09:00
        (json!("2024-03-26T10:00:00Z/PT1H"), 1), // 10:00
        (json!("2024-03-27T00:00:00Z/P1D"), 0),
    ];
    for (ts, want) in cases {
        let mut body = json!({"query": "DeviceNetworkEvents | count"});
        if !ts.is_null() {
            body["timespan"] = ts.clone();
        }
        let r = la_query(&f, body);
        assert_eq!(r.status, 200, "timespan {ts}: {}", r.text);
        assert_eq!(rows_of(&r.json()), vec![json!([want])], "timespan {ts}");
    }
    // now() is the end of the window.
    let r = la_query(
        &f,
        json!({"query": "print n = now()", "timespan": "2024-01-01T00:00:00Z/2024-01-02T00:00:00Z"}),
    );
    assert_eq!(rows_of(&r.json()), vec![json!(["2024-01-02T00:00:00Z"])]);
    // Without a timespan, now() is the fake clock.
    let r = la_query(&f, json!({"query": "print n = now()"}));
    assert_eq!(rows_of(&r.json()), vec![json!(["2024-03-26T12:30:00Z"])]);
}

#[test]
fn body_and_query_string_timespans_intersect() {
    let f = fake();
    let tok = f.issue_token(LOG_ANALYTICS_AUDIENCE);
    let r = send(
        client()
            .post(la_url(&f))
            .query(&[("timespan", "2024-03-26T09:30:00Z/2024-03-26T12:00:00Z")])
            .bearer_auth(tok)
            .json(&json!({"query": "DeviceNetworkEvents | count", "timespan": "2024-03-26T07:00:00Z/2024-03-26T11:00:00Z"})),
    );
    assert_eq!(rows_of(&r.json()), vec![json!([1])], "{}", r.text);
}

#[test]
fn missing_json_content_type_gives_an_empty_200() {
    let f = fake();
    let tok = f.issue_token(LOG_ANALYTICS_AUDIENCE);
    for ct in [None, Some("text/plain")] {
        let mut rb = client()
            .post(la_url(&f))
            .bearer_auth(&tok)
            .body(r#"{"query":"DeviceNetworkEvents | count"}"#);
        if let Some(ct) = ct {
            rb = rb.header("content-type", ct);
        }
        let r = send(rb);
        assert_eq!(
            (r.status, r.text.as_str()),
            (200, ""),
            "content-type {ct:?}"
        );
    }
    let r = send(
        client()
            .post(la_url(&f))
            .bearer_auth(&tok)
            .header("content-type", "application/json; charset=utf-8")
            .body(r#"{"query":"DeviceNetworkEvents | count"}"#),
    );
    assert_eq!(rows_of(&r.json()), vec![json!([5])]);
}

#[test]
fn get_form_is_served() {
    let f = fake();
    let tok = f.issue_token(LOG_ANALYTICS_AUDIENCE);
    let r = send(
        client()
            .get(la_url(&f))
            .query(&[
                ("query", "DeviceNetworkEvents | count"),
                ("timespan", "PT1H"),
            ])
            .bearer_auth(tok),
    );
    assert_eq!(rows_of(&r.json()), vec![json!([1])], "{}", r.text);
}

#[test]
fn kql_errors_use_the_oneapi_envelope() {
    let f = fake();
    let cases = [
        ("DeviceNetworkEvents | where", "SyntaxError"),
        (
            "DeviceNetworkEvents | where NoSuchColumn == 1",
            "SemanticError",
        ),
        ("NoSuchTable | take 1", "SemanticError"),
    ];
    for (q, inner) in cases {
        let r = la_query(&f, json!({"query": q}));
        assert_eq!(r.status, 400, "query {q}: {}", r.text);
        let v = r.json();
        assert_eq!(v["error"]["code"], "BadArgumentError", "query {q}");
        assert!(v["error"]["message"].is_string(), "query {q}");
        assert_eq!(v["error"]["innererror"]["code"], inner, "query {q}");
        let deepest = &v["error"]["innererror"]["innererror"];
        assert!(
            deepest["code"]
                .as_str()
                .is_some_and(|c| c.starts_with("KQL")),
            "query {q}: {v}"
        );
        assert!(deepest["line"].as_u64() == Some(1), "query {q}: {v}");
        assert!(r.header("x-ms-request-id").is_some(), "query {q}");
    }
    let r = la_query(&f, json!({"querry": "x"}));
    assert_eq!(
        (r.status, r.json()["error"]["code"].clone()),
        (400, json!("BadArgumentError"))
    );
    let r = la_query(&f, json!({"query": "print 1", "timespan": "yesterday"}));
    assert_eq!(r.status, 400, "{}", r.text);
}

#[test]
fn auth_errors() {
    let f = fake();
    let r = send(client().post(la_url(&f)).json(&json!({"query": "print 1"})));
    assert_eq!(r.status, 401);
    assert_eq!(r.json()["error"]["code"], "AuthenticationFailed");
    let r = send(
        client()
            .post(la_url(&f))
            .bearer_auth("forged")
            .json(&json!({"query": "print 1"})),
    );
    assert_eq!(r.status, 403);
    assert_eq!(r.json()["error"]["code"], "InvalidAuthenticationToken");
    let graph = token(&f, fake_azure::GRAPH_AUDIENCE);
    let r = send(
        client()
            .post(la_url(&f))
            .bearer_auth(graph)
            .json(&json!({"query": "print 1"})),
    );
    assert_eq!(r.status, 403);
    assert_eq!(
        r.json()["error"]["code"],
        "InvalidAuthenticationTokenAudience"
    );
    let tok = f.issue_token(LOG_ANALYTICS_AUDIENCE);
    let other = format!(
        "{}/v1/workspaces/99999999-0000-0000-0000-000000000000/query",
        f.base_url()
    );
    let r = send(
        client()
            .post(other)
            .bearer_auth(tok)
            .json(&json!({"query": "print 1"})),
    );
    assert_eq!(r.status, 403);
    assert_eq!(r.json()["error"]["code"], "InsufficientAccessError");
}

#[test]
fn truncation_at_the_row_limit_is_a_partial_error() {
    let f = fake();
    f.set_row_limit(Api::LogAnalytics, 2);
    let r = la_query(
        &f,
        json!({"query": "DeviceNetworkEvents | project DeviceName"}),
    );
    assert_eq!(r.status, 200);
    let v = r.json();
    assert_eq!(rows_of(&v).len(), 2);
    assert_eq!(v["error"]["code"], "PartialError");
    let inner = v["error"]["details"][0]["innererror"]["message"]
        .as_str()
        .unwrap_or("");
    assert!(inner.contains("E_QUERY_RESULT_SET_TOO_LARGE"), "{v}");
    // At or under the limit: no error member.
    let r = la_query(&f, json!({"query": "DeviceNetworkEvents | take 2"}));
    assert!(r.json().get("error").is_none(), "{}", r.text);
}

#[test]
fn faults_throttle_status_partial_and_rules() {
    let f = fake();
    f.push_fault(
        Api::LogAnalytics,
        Fault::Throttle {
            retry_after_secs: 7,
        },
    );
    f.push_fault(
        Api::LogAnalytics,
        Fault::Status {
            status: 503,
            retry_after_secs: None,
        },
    );
    f.push_fault(Api::LogAnalytics, Fault::PartialError { keep_rows: 1 });
    let q = json!({"query": "DeviceNetworkEvents | project DeviceName"});
    let r = la_query(&f, q.clone());
    assert_eq!((r.status, r.header("retry-after")), (429, Some("7".into())));
    assert!(r.json()["error"]["code"].is_string());
    let r = la_query(&f, q.clone());
    assert_eq!(r.status, 503);
    let r = la_query(&f, q.clone());
    assert_eq!(r.status, 200);
    assert_eq!(rows_of(&r.json()).len(), 1);
    assert_eq!(r.json()["error"]["code"], "PartialError");
    let r = la_query(&f, q.clone());
    assert_eq!((r.status, rows_of(&r.json()).len()), (200, 5));

    // Every 2nd request from now on gets a 500.
    f.fault_every(
        Api::LogAnalytics,
        2,
        Fault::Status {
            status: 500,
            retry_after_secs: Some(1),
        },
    );
    let statuses: Vec<u16> = (0..4).map(|_| la_query(&f, q.clone()).status).collect();
    assert_eq!(statuses, vec![200, 500, 200, 500]);
    f.clear_faults();
    assert_eq!(la_query(&f, q).status, 200);
}

#[test]
fn slow_responses_and_prefer_wait() {
    let f = fake();
    let tok = f.issue_token(LOG_ANALYTICS_AUDIENCE);
    // Past the client's deadline.
    f.push_fault(Api::LogAnalytics, Fault::Delay(Duration::from_secs(3)));
    let r = client()
        .post(la_url(&f))
        .bearer_auth(&tok)
        .timeout(Duration::from_millis(300))
        .json(&json!({"query": "print 1"}))
        .send();
    assert!(r.as_ref().is_err_and(|e| e.is_timeout()), "{r:?}");
    // Past Prefer: wait -> 504 after the wait.
    f.push_fault(Api::LogAnalytics, Fault::Delay(Duration::from_secs(30)));
    let r = send(
        client()
            .post(la_url(&f))
            .bearer_auth(&tok)
            .header("Prefer", "wait=1")
            .json(&json!({"query": "print 1"})),
    );
    assert_eq!(r.status, 504, "{}", r.text);
    // Shorter than wait: answered normally, preferences echoed.
    f.push_fault(Api::LogAnalytics, Fault::Delay(Duration::from_millis(50)));
    let r = send(
        client()
            .post(la_url(&f))
            .bearer_auth(&tok)
            .header("Prefer", "wait=5, include-statistics=true")
            .json(&json!({"query": "print 1"})),
    );
    assert_eq!(r.status, 200);
    assert!(r.json()["statistics"].is_object());
    assert_eq!(
        r.header("preference-applied").as_deref(),
        Some("wait=5,include-statistics=true")
    );
}

#[test]
fn requests_and_responses_follow_the_spec_except_its_known_row_mismatch() {
    use fake_azure::spec::{validate, Spec};
    let f = fake();
    // Request bodies are checked against queryBody.
    for b in [
        json!({"query": 5}),
        json!({"query": "print 1", "workspaces": "ws"}),
        json!([1]),
    ] {
        let r = la_query(&f, b.clone());
        assert_eq!(r.status, 400, "body {b}: {}", r.text);
        assert_eq!(r.json()["error"]["code"], "BadArgumentError", "body {b}");
    }
    // Responses: valid queryResults, apart from the documented mismatch
    // (rows declared as arrays of objects; real cells are scalars).
    f.set_row_limit(Api::LogAnalytics, 3);
    let r = la_query(
        &f,
        json!({"query": "DeviceNetworkEvents | project DeviceName, RemotePort"}),
    );
    let problems = validate(Spec::LogAnalytics, "queryResults", &r.json());
    assert!(
        !problems.is_empty(),
        "the spec's row typing is known to be wrong"
    );
    let other: Vec<String> = problems
        .iter()
        .filter(|p| {
            !(p.path.starts_with("tables[0].rows[") && p.message.contains("expected an object"))
        })
        .map(|p| p.to_string())
        .collect();
    assert!(other.is_empty(), "{other:?} in {}", r.text);
    // Error bodies: errorResponse.
    let r = la_query(&f, json!({"query": "DeviceNetworkEvents | where"}));
    assert_eq!(
        validate(Spec::LogAnalytics, "errorResponse", &r.json()),
        vec![],
        "{}",
        r.text
    );
}

#[test]
fn status_204_has_no_body() {
    let f = fake();
    f.push_fault(
        Api::LogAnalytics,
        Fault::Status {
            status: 204,
            retry_after_secs: None,
        },
    );
    let r = la_query(&f, json!({"query": "print 1"}));
    assert_eq!((r.status, r.text.as_str()), (204, ""));
}

#[test]
fn datetimes_can_always_carry_seven_digits() {
    let f = fake();
    f.set_datetime_seven_digits(true);
    let r = la_query(
        &f,
        json!({"query": "DeviceNetworkEvents | where DeviceName == 'pc01' | project Timestamp | order by Timestamp asc"}),
    );
    assert_eq!(
        rows_of(&r.json()),
        vec![
            json!(["2024-03-26T08:00:00.0000000Z"]),
            json!(["2024-03-26T09:00:00.1234567Z"])
        ]
    );
    let tok = token(&f, fake_azure::GRAPH_AUDIENCE);
    let r = send(
        client()
            .post(graph_url(&f))
            .bearer_auth(tok)
            .json(&json!({"Query": "DeviceNetworkEvents | where DeviceName == 'pc02' | project Timestamp | order by Timestamp asc"})),
    );
    assert_eq!(
        r.json()["results"],
        json!([{"Timestamp": "2024-03-26T10:00:00.0000000Z"}, {"Timestamp": "2024-03-26T12:00:00.0000000Z"}])
    );
}
