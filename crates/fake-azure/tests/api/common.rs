//! Shared fixtures for the fake-azure tests: a started fake with a small
//! DeviceNetworkEvents table and a blocking reqwest client.

#![allow(dead_code)]

use fake_azure::FakeAzure;
use kql::{Column, Schema, Table, Type, Value};
use std::sync::Arc;

pub fn ts(s: &str) -> i64 {
    kql::time::parse_datetime(s).unwrap_or_else(|| panic!("bad datetime {s}"))
}

/// Five events on 2024-03-26 (08:00 .. 12:00, one per hour).
pub fn events() -> Table {
    let schema = Schema::new(vec![
        Column::new("TimeGenerated", Type::DateTime),
        Column::new("Timestamp", Type::DateTime),
        Column::new("DeviceId", Type::String),
        Column::new("DeviceName", Type::String),
        Column::new("RemoteUrl", Type::String),
        Column::new("RemotePort", Type::Int),
        Column::new("BytesSent", Type::Long),
        Column::new("AdditionalFields", Type::Dynamic),
        Column::new("Score", Type::Decimal),
    ]);
    let rows = [
        ("2024-03-26T08:00:00Z", "d1", "pc01", "assist.zoho.com", 443),
        (
            "2024-03-26T09:00:00.1234567Z",
            "d1",
            "pc01",
            "www.bing.com",
            443,
        ),
        (
            "2024-03-26T10:00:00Z",
            "d2",
            "pc02",
            "downloads.zohocdn.com",
            443,
        ),
        ("2024-03-26T11:00:00Z", "d3", "pc03", "assist.zoho.eu", 80),
        ("2024-03-26T12:00:00Z", "d2", "pc02", "example.org", 443),
    ]
    .iter()
    .enumerate()
    .map(|(i, (t, id, name, url, port))| {
        vec![
            Value::DateTime(ts(t)),
            Value::DateTime(ts(t)),
            Value::string(*id),
            Value::string(*name),
            Value::string(*url),
            Value::Int(*port),
            Value::Long(1_000_000_000_000 + i as i64),
            Value::dynamic(serde_json::json!({"Tls": "1.2", "n": i})),
            Value::Decimal(kql::value::Decimal::new(125 + i as i64, 2)),
        ]
    })
    .collect();
    Table { schema, rows }
}

pub fn fake() -> FakeAzure {
    let f = FakeAzure::start().expect("fake starts");
    f.add_table("DeviceNetworkEvents", events());
    assert!(f.set_now_str("2024-03-26T12:30:00Z"));
    f
}

pub fn client() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .timeout(std::time::Duration::from_secs(20))
        .build()
        .expect("client")
}

pub struct Resp {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub text: String,
}

impl Resp {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text))
    }
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    }
}

pub fn send(rb: reqwest::blocking::RequestBuilder) -> Resp {
    let r = rb.send().expect("request is answered");
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    let text = r.text().expect("body");
    Resp {
        status,
        headers,
        text,
    }
}

/// A token for `audience` from the App Service identity endpoint.
pub fn token(f: &FakeAzure, audience: &str) -> String {
    let r = send(
        client()
            .get(f.identity_endpoint())
            .query(&[("api-version", "2019-08-01"), ("resource", audience)])
            .header("X-IDENTITY-HEADER", f.identity_header()),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    r.json()["access_token"]
        .as_str()
        .expect("access_token")
        .to_string()
}

pub fn la_url(f: &FakeAzure) -> String {
    format!("{}/v1/workspaces/{}/query", f.base_url(), f.workspace_id())
}

pub fn graph_url(f: &FakeAzure) -> String {
    format!("{}/v1.0/security/runHuntingQuery", f.base_url())
}

pub const WS_PATH: &str = "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg-sec/providers/Microsoft.OperationalInsights/workspaces/sentinel-ws/providers/Microsoft.SecurityInsights/incidents";

pub fn incident_url(f: &FakeAzure, id: &str) -> String {
    format!("{}{WS_PATH}/{id}?api-version=2025-09-01", f.base_url())
}

/// POSTs a Log Analytics query with a fresh token.
pub fn la_query(f: &FakeAzure, body: serde_json::Value) -> Resp {
    let tok = token(f, fake_azure::LOG_ANALYTICS_AUDIENCE);
    send(client().post(la_url(f)).bearer_auth(tok).json(&body))
}

pub fn rows_of(v: &serde_json::Value) -> Vec<serde_json::Value> {
    v["tables"][0]["rows"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

pub fn arc_str(s: &str) -> Arc<str> {
    Arc::from(s)
}
