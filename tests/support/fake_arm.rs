//! A small fake of ARM's Sentinel incidents API and the App Service managed
//! identity endpoint, on 127.0.0.1:0, for `tests/incidents.rs` (until the
//! shared `crates/fake-azure` is usable). It speaks README C.2 / D.9: GET and
//! PUT incidents (201 then 200, a new quoted etag per write, 409 on a stale
//! or missing etag for an existing incident, 400 on read-only properties),
//! PUT comments, `api-version` required, `Authorization: Bearer` checked.
//! Faults are queued per route.

#![allow(dead_code)]

use serde_json::{json, Value};
use std::collections::{BTreeMap, VecDeque};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

pub const TOKEN: &str = "fake-arm-token";
pub const IDENTITY_HEADER: &str = "fake-identity-header";

/// A fault for the next request matching `method` and a path ending in
/// `path_has` (or containing it, when it ends in `/`).
#[derive(Clone, Debug)]
pub enum Fault {
    /// Answer with this status (429 and 5xx: with `Retry-After: 0`).
    Status(u16),
    /// An analyst changes the incident just before this PUT lands: the
    /// stored etag moves (and the owner is set), the PUT gets 409.
    ConcurrentEdit,
}

#[derive(Clone, Debug)]
pub struct StoredIncident {
    pub properties: Value,
    pub etag: u64,
    pub number: i64,
}

#[derive(Default)]
pub struct State {
    pub incidents: BTreeMap<String, StoredIncident>,
    /// (incident id, comment id) -> message
    pub comments: BTreeMap<(String, String), String>,
    /// (method, path) of every request.
    pub log: Vec<(String, String)>,
    pub faults: VecDeque<(String, String, Fault)>,
    pub next_number: i64,
    pub next_etag: u64,
}

impl State {
    pub fn puts(&self) -> usize {
        self.log.iter().filter(|(m, _)| m == "PUT").count()
    }
}

pub struct FakeArm {
    pub url: String,
    pub state: Arc<Mutex<State>>,
}

impl FakeArm {
    pub fn start() -> FakeArm {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("bind: {e}"));
        let addr = listener
            .local_addr()
            .unwrap_or_else(|e| panic!("local_addr: {e}"));
        let state = Arc::new(Mutex::new(State {
            next_number: 1,
            next_etag: 1,
            ..State::default()
        }));
        let st = state.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming().flatten() {
                let st = st.clone();
                std::thread::spawn(move || serve(conn, &st));
            }
        });
        FakeArm {
            url: format!("http://{addr}"),
            state,
        }
    }

    pub fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn fault(&self, method: &str, path_has: &str, fault: Fault) {
        self.lock()
            .faults
            .push_back((method.into(), path_has.into(), fault));
    }
}

fn serve(conn: TcpStream, state: &Mutex<State>) {
    let mut reader = BufReader::new(match conn.try_clone() {
        Ok(c) => c,
        Err(_) => return,
    });
    let mut writer = conn;
    let mut line = String::new();
    if reader.read_line(&mut line).is_err() {
        return;
    }
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or_default().to_string();
    let target = parts.next().unwrap_or_default().to_string();
    let mut headers = BTreeMap::new();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).is_err() || h.trim().is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
        }
    }
    let len: usize = headers
        .get("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; len];
    if reader.read_exact(&mut body).is_err() {
        return;
    }
    let body = String::from_utf8_lossy(&body).to_string();
    let (status, extra, resp) = {
        let mut st = state.lock().unwrap_or_else(|e| e.into_inner());
        handle(&mut st, &method, &target, &headers, &body)
    };
    let reason = match status {
        200 => "OK",
        201 => "Created",
        404 => "Not Found",
        409 => "Conflict",
        _ => "Status",
    };
    let text = resp.to_string();
    let _ = write!(
        writer,
        "HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\nx-ms-request-id: req-{status}\r\n{extra}\r\n{text}",
        text.len()
    );
    let _ = writer.flush();
}

fn err(status: u16, code: &str, message: &str) -> (u16, String, Value) {
    (
        status,
        String::new(),
        json!({"error": {"code": code, "message": message}}),
    )
}

const READ_ONLY: &[&str] = &[
    "providerName",
    "providerIncidentId",
    "incidentNumber",
    "incidentUrl",
    "createdTimeUtc",
    "lastModifiedTimeUtc",
    "relatedAnalyticRuleIds",
    "additionalData",
];

fn envelope(id: &str, inc: &StoredIncident) -> Value {
    let mut props = inc.properties.clone();
    if let Some(p) = props.as_object_mut() {
        p.insert("incidentNumber".into(), json!(inc.number));
        p.insert("providerName".into(), json!("Azure Sentinel"));
        p.insert("providerIncidentId".into(), json!(inc.number.to_string()));
        p.insert(
            "incidentUrl".into(),
            json!(format!("https://portal.azure.com/#asset/incident/{id}")),
        );
        p.insert("createdTimeUtc".into(), json!("2026-11-25T12:00:00Z"));
        if let Some(labels) = p.get_mut("labels").and_then(|l| l.as_array_mut()) {
            for l in labels {
                if let Some(o) = l.as_object_mut() {
                    o.entry("labelType").or_insert(json!("User"));
                }
            }
        }
    }
    json!({
        "id": format!("/subscriptions/sub/resourceGroups/rg/providers/Microsoft.OperationalInsights/workspaces/ws/providers/Microsoft.SecurityInsights/incidents/{id}"),
        "name": id,
        "type": "Microsoft.SecurityInsights/incidents",
        "etag": format!("\"etag-{}\"", inc.etag),
        "properties": props,
    })
}

fn handle(
    st: &mut State,
    method: &str,
    target: &str,
    headers: &BTreeMap<String, String>,
    body: &str,
) -> (u16, String, Value) {
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    st.log.push((method.to_string(), path.to_string()));

    if path == "/msi/token" {
        if headers.get("x-identity-header").map(String::as_str) != Some(IDENTITY_HEADER) {
            return (
                400,
                String::new(),
                json!({"statusCode": 400, "message": "bad header"}),
            );
        }
        let exp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() + 3600)
            .unwrap_or_default();
        return (
            200,
            String::new(),
            json!({"access_token": TOKEN, "expires_on": exp.to_string(), "resource": "https://management.azure.com", "token_type": "Bearer"}),
        );
    }

    if headers.get("authorization").map(String::as_str) != Some(&format!("Bearer {TOKEN}")) {
        return err(401, "InvalidAuthenticationToken", "no or bad token");
    }
    if !query.contains("api-version=2025-09-01") {
        return err(400, "InvalidApiVersionParameter", "api-version missing");
    }
    if let Some(pos) = st.faults.iter().position(|(m, p, _)| {
        m == method
            && (path.ends_with(p.as_str()) || (p.ends_with('/') && path.contains(p.as_str())))
    }) {
        if let Some((_, _, fault)) = st.faults.remove(pos) {
            match fault {
                Fault::Status(s) => {
                    return (
                        s,
                        "Retry-After: 0\r\n".into(),
                        json!({"error": {"code": "Injected", "message": format!("injected {s}")}}),
                    )
                }
                Fault::ConcurrentEdit => {
                    let id = path.rsplit('/').next().unwrap_or_default().to_string();
                    st.next_etag += 1;
                    let etag = st.next_etag;
                    if let Some(inc) = st.incidents.get_mut(&id) {
                        inc.etag = etag;
                        inc.properties["owner"] = json!({"objectId": "11111111-2222-3333-4444-555555555555", "assignedTo": "Concurrent Analyst"});
                    }
                    return err(
                        409,
                        "Conflict",
                        &format!("Newer version of resource '{id}' exists. Data was not saved"),
                    );
                }
            }
        }
    }

    let segs: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    // subscriptions/s/resourceGroups/rg/providers/Microsoft.OperationalInsights/workspaces/ws/providers/Microsoft.SecurityInsights/incidents/{id}[/comments/{cid}]
    let ok_prefix = segs.len() >= 12
        && segs.first() == Some(&"subscriptions")
        && segs.get(2) == Some(&"resourceGroups")
        && segs.get(5) == Some(&"Microsoft.OperationalInsights")
        && segs.get(9) == Some(&"Microsoft.SecurityInsights")
        && segs.get(10) == Some(&"incidents");
    if !ok_prefix {
        return err(404, "NotFound", "no such route");
    }
    let id = segs.get(11).copied().unwrap_or_default().to_string();
    match (method, segs.get(12).copied(), segs.get(13).copied()) {
        ("GET", None, None) => match st.incidents.get(&id) {
            Some(inc) => (200, String::new(), envelope(&id, inc)),
            None => err(404, "NotFound", "Incident not found"),
        },
        ("PUT", None, None) => {
            let v: Value = match serde_json::from_str(body) {
                Ok(v) => v,
                Err(e) => return err(400, "BadRequest", &e.to_string()),
            };
            let props = v.get("properties").cloned().unwrap_or(Value::Null);
            for k in ["title", "severity", "status"] {
                if props.get(k).and_then(|x| x.as_str()).is_none() {
                    return err(400, "BadRequest", &format!("properties.{k} is required"));
                }
            }
            for k in READ_ONLY {
                if props.get(*k).is_some() {
                    return err(400, "BadRequest", &format!("properties.{k} is read-only"));
                }
            }
            if let Some(labels) = props.get("labels").and_then(|l| l.as_array()) {
                if labels.iter().any(|l| l.get("labelType").is_some()) {
                    return err(400, "BadRequest", "labels[].labelType is read-only");
                }
            }
            let sent = v.get("etag").and_then(|e| e.as_str()).map(str::to_string);
            st.next_etag += 1;
            let etag = st.next_etag;
            let created = match st.incidents.get(&id) {
                Some(inc) => {
                    if sent.as_deref() != Some(format!("\"etag-{}\"", inc.etag).as_str()) {
                        return err(
                            409,
                            "Conflict",
                            &format!("Newer version of resource '{id}' exists. Data was not saved"),
                        );
                    }
                    false
                }
                None => true,
            };
            let number = match st.incidents.get(&id) {
                Some(inc) => inc.number,
                None => {
                    st.next_number += 1;
                    st.next_number - 1
                }
            };
            let inc = StoredIncident {
                properties: props,
                etag,
                number,
            };
            let resp = envelope(&id, &inc);
            st.incidents.insert(id, inc);
            (if created { 201 } else { 200 }, String::new(), resp)
        }
        ("PUT", Some("comments"), Some(cid)) => {
            if !st.incidents.contains_key(&id) {
                return err(404, "NotFound", "Incident not found");
            }
            let v: Value = serde_json::from_str(body).unwrap_or(Value::Null);
            let Some(msg) = v.pointer("/properties/message").and_then(|m| m.as_str()) else {
                return err(400, "BadRequest", "properties.message is required");
            };
            let created = st
                .comments
                .insert((id.clone(), cid.to_string()), msg.to_string())
                .is_none();
            (
                if created { 201 } else { 200 },
                String::new(),
                json!({"id": format!("{path}"), "name": cid, "type": "Microsoft.SecurityInsights/incidents/comments", "etag": "\"c1\"", "properties": {"message": msg, "createdTimeUtc": "2026-11-25T12:00:00Z"}}),
            )
        }
        _ => err(405, "MethodNotAllowed", "unsupported"),
    }
}
