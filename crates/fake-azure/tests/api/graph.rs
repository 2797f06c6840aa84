//! Graph runHuntingQuery: evaluation, schema/results encoding, Timespan
//! forms, default lookback, truncation, errors and faults.

use crate::common::*;
use fake_azure::{Api, Fault, GRAPH_AUDIENCE};
use serde_json::json;

fn hunt(f: &fake_azure::FakeAzure, body: serde_json::Value) -> Resp {
    let tok = token(f, GRAPH_AUDIENCE);
    send(client().post(graph_url(f)).bearer_auth(tok).json(&body))
}

#[test]
fn evaluates_kql_and_encodes_schema_and_results() {
    let f = fake();
    let q = "DeviceNetworkEvents | where DeviceName == 'pc01' | project Timestamp, DeviceName, RemotePort, BytesSent, AdditionalFields | order by Timestamp asc";
    let r = hunt(&f, json!({"Query": q}));
    assert_eq!(r.status, 200, "{}", r.text);
    let v = r.json();
    assert!(v["@odata.context"]
        .as_str()
        .unwrap_or("")
        .contains("huntingQueryResults"));
    assert_eq!(
        v["schema"],
        json!([
            {"name": "Timestamp", "type": "DateTime"},
            {"name": "DeviceName", "type": "String"},
            {"name": "RemotePort", "type": "Int32"},
            {"name": "BytesSent", "type": "Int64"},
            {"name": "AdditionalFields", "type": "Object"}
        ]),
        "query {q}"
    );
    assert_eq!(
        v["results"],
        json!([
            {"Timestamp": "2024-03-26T08:00:00Z", "DeviceName": "pc01", "RemotePort": 443, "BytesSent": 1_000_000_000_000_i64, "AdditionalFields": "{\"Tls\":\"1.2\",\"n\":0}"},
            {"Timestamp": "2024-03-26T09:00:00.1234567Z", "DeviceName": "pc01", "RemotePort": 443, "BytesSent": 1_000_000_000_001_i64, "AdditionalFields": "{\"Tls\":\"1.2\",\"n\":1}"}
        ]),
        "query {q}"
    );
    f.set_graph_dynamic_as_object(true);
    let v = hunt(&f, json!({"Query": q})).json();
    assert_eq!(
        v["results"][0]["AdditionalFields"],
        json!({"Tls": "1.2", "n": 0})
    );
}

#[test]
fn timespan_forms_and_default_lookback() {
    let f = fake();
    let cases = [
        (None, 5), // default 30 days back from the fake clock (12:30)
        (Some("PT1H"), 1),
        (Some("2024-03-26T08:00:00Z/2024-03-26T10:00:00Z"), 2),
        (Some("PT2H/2024-03-26T10:00:00Z"), 2),
        (Some("2024-03-26T10:00:00Z/PT1H"), 1),
        (Some("2024-03-26T11:00:00Z"), 2),
    ];
    for (ts, want) in cases {
        let mut b = json!({"Query": "DeviceNetworkEvents | count"});
        if let Some(ts) = ts {
            b["Timespan"] = json!(ts);
        }
        let r = hunt(&f, b);
        assert_eq!(r.status, 200, "timespan {ts:?}: {}", r.text);
        assert_eq!(
            r.json()["results"],
            json!([{"Count": want}]),
            "timespan {ts:?}"
        );
    }
    // Outside the default 30-day lookback.
    f.set_now_str("2024-05-26T00:00:00Z");
    let r = hunt(&f, json!({"Query": "DeviceNetworkEvents | count"}));
    assert_eq!(r.json()["results"], json!([{"Count": 0}]));
}

#[test]
fn truncation_at_the_row_limit_is_silent() {
    let f = fake();
    f.set_row_limit(Api::Graph, 3);
    let v = hunt(&f, json!({"Query": "DeviceNetworkEvents"})).json();
    assert_eq!(v["results"].as_array().map(Vec::len), Some(3));
    assert!(v.get("error").is_none());
}

#[test]
fn errors_use_the_graph_envelope() {
    let f = fake();
    let cases = [
        json!({"Query": "DeviceNetworkEvents | where"}),
        json!({"Query": "DeviceNetworkEvents | where Nope == 1"}),
        json!({"query": 5}),
        json!({"Query": "print 1", "Timespan": "last week"}),
    ];
    for b in cases {
        let r = hunt(&f, b.clone());
        assert_eq!(r.status, 400, "body {b}: {}", r.text);
        let v = r.json();
        assert_eq!(v["error"]["code"], "BadRequest", "body {b}");
        assert!(
            v["error"]["innerError"]["request-id"].is_string(),
            "body {b}: {v}"
        );
        assert!(
            v["error"]["innerError"]["date"].is_string(),
            "body {b}: {v}"
        );
    }
    let r = send(
        client()
            .post(graph_url(&f))
            .json(&json!({"Query": "print 1"})),
    );
    assert_eq!(
        (r.status, r.json()["error"]["code"].clone()),
        (401, json!("InvalidAuthenticationToken"))
    );
    let la = token(&f, fake_azure::LOG_ANALYTICS_AUDIENCE);
    let r = send(
        client()
            .post(graph_url(&f))
            .bearer_auth(la)
            .json(&json!({"Query": "print 1"})),
    );
    assert_eq!(r.status, 401);
}

#[test]
fn faults() {
    let f = fake();
    f.push_fault(
        Api::Graph,
        Fault::Throttle {
            retry_after_secs: 4,
        },
    );
    f.push_fault(
        Api::Graph,
        Fault::Status {
            status: 503,
            retry_after_secs: Some(1),
        },
    );
    let q = json!({"Query": "DeviceNetworkEvents | count"});
    let r = hunt(&f, q.clone());
    assert_eq!((r.status, r.header("retry-after")), (429, Some("4".into())));
    assert_eq!(r.json()["error"]["code"], "TooManyRequests");
    let r = hunt(&f, q.clone());
    assert_eq!((r.status, r.header("retry-after")), (503, Some("1".into())));
    assert_eq!(hunt(&f, q).status, 200);
    // The LA fault queue is separate.
    assert_eq!(f.requests_to(Api::Graph).len(), 3);
}
