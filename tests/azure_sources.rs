//! The `log-analytics` and `defender` sources and the token providers
//! against a small scripted HTTP server on 127.0.0.1 (started per test):
//! retries (429 + Retry-After, 5xx), the deadline, empty answers, window
//! splitting on PartialError and truncation, error mapping, value decoding,
//! token caching and secrets kept out of errors and Debug output.

use rmmhunt::azure::auth::{CachedTokens, ManagedIdentity, StaticToken, TokenProvider};
use rmmhunt::azure::defender::DefenderClient;
use rmmhunt::azure::http::{HttpClient, RetryPolicy};
use rmmhunt::azure::log_analytics::LogAnalyticsClient;
use rmmhunt::config::Secret;
use rmmhunt::source::defender::DefenderSource;
use rmmhunt::source::log_analytics::LogAnalyticsSource;
use rmmhunt::source::{Source, SourceError, TimeWindow};
use serde_json::{json, Value as J};
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

// ---------- a minimal HTTP/1.1 server ----------

#[derive(Debug, Clone)]
struct Req {
    method: String,
    path: String,
    query: String,
    headers: HashMap<String, String>,
    body: String,
}

impl Req {
    fn json(&self) -> J {
        serde_json::from_str(&self.body).unwrap_or(J::Null)
    }
}

struct Resp {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
    delay: Duration,
}

fn resp(status: u16, body: J) -> Resp {
    Resp {
        status,
        headers: vec![("Content-Type".into(), "application/json".into())],
        body: body.to_string(),
        delay: Duration::ZERO,
    }
}

type Handler = Arc<dyn Fn(&Req, usize) -> Resp + Send + Sync>;

struct Server {
    base: String,
    log: Arc<Mutex<Vec<Req>>>,
}

impl Server {
    fn requests(&self) -> Vec<Req> {
        self.log.lock().map(|l| l.clone()).unwrap_or_default()
    }
}

/// Serves `handler(request, index of this request)` on 127.0.0.1:0, one
/// thread per connection, `Connection: close`.
fn serve(handler: impl Fn(&Req, usize) -> Resp + Send + Sync + 'static) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("bind: {e}"));
    let addr = listener
        .local_addr()
        .unwrap_or_else(|e| panic!("addr: {e}"));
    let log: Arc<Mutex<Vec<Req>>> = Arc::default();
    let handler: Handler = Arc::new(handler);
    let log2 = log.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let handler = handler.clone();
            let log = log2.clone();
            std::thread::spawn(move || {
                let Some(req) = read_request(&mut stream) else {
                    return;
                };
                let n = {
                    let mut l = log.lock().unwrap_or_else(|p| p.into_inner());
                    l.push(req.clone());
                    l.len() - 1
                };
                let r = handler(&req, n);
                std::thread::sleep(r.delay);
                let mut out = format!(
                    "HTTP/1.1 {} X\r\nContent-Length: {}\r\nConnection: close\r\n",
                    r.status,
                    r.body.len()
                );
                for (k, v) in &r.headers {
                    out.push_str(&format!("{k}: {v}\r\n"));
                }
                out.push_str("\r\n");
                out.push_str(&r.body);
                let _ = stream.write_all(out.as_bytes());
                let _ = stream.flush();
            });
        }
    });
    Server {
        base: format!("http://{addr}"),
        log,
    }
}

fn read_request(stream: &mut std::net::TcpStream) -> Option<Req> {
    let mut r = BufReader::new(stream.try_clone().ok()?);
    let mut line = String::new();
    r.read_line(&mut line).ok()?;
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_string();
    let target = parts.next()?.to_string();
    let (path, query) = match target.split_once('?') {
        Some((p, q)) => (p.to_string(), q.to_string()),
        None => (target, String::new()),
    };
    let mut headers = HashMap::new();
    loop {
        let mut h = String::new();
        r.read_line(&mut h).ok()?;
        let h = h.trim_end();
        if h.is_empty() {
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
    r.read_exact(&mut body).ok()?;
    Some(Req {
        method,
        path,
        query,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    })
}

// ---------- helpers ----------

const WS: &str = "11111111-2222-3333-4444-555555555555";
const TOKEN: &str = "eyJ0eXAiOiJKV1QiLCJzZWNyZXQiOiJ0b2tlbiJ9";

fn fast_policy(deadline: Duration) -> RetryPolicy {
    RetryPolicy {
        deadline,
        attempt_timeout: deadline,
        base_delay: Duration::from_millis(20),
        max_delay: Duration::from_millis(200),
        max_attempts: 6,
    }
}

fn la_client(base: &str, deadline: Duration) -> LogAnalyticsClient {
    LogAnalyticsClient {
        http: HttpClient::new(fast_policy(deadline)).unwrap_or_else(|e| panic!("{e}")),
        tokens: Arc::new(StaticToken::new(TOKEN)),
        endpoint: base.into(),
        scope: "https://api.loganalytics.io/.default".into(),
        workspace_id: WS.into(),
        wait_secs: 180,
    }
}

fn la_source(base: &str, max_rows: usize) -> LogAnalyticsSource {
    LogAnalyticsSource::new(la_client(base, Duration::from_secs(10)), max_rows)
        .unwrap_or_else(|e| panic!("{e}"))
}

fn def_source(base: &str, max_rows: usize) -> DefenderSource {
    let client = DefenderClient {
        http: HttpClient::new(fast_policy(Duration::from_secs(10)))
            .unwrap_or_else(|e| panic!("{e}")),
        tokens: Arc::new(StaticToken::new(TOKEN)),
        endpoint: base.into(),
        scope: "https://graph.microsoft.com/.default".into(),
    };
    DefenderSource::new(client, max_rows).unwrap_or_else(|e| panic!("{e}"))
}

fn ticks(text: &str) -> i64 {
    kql::time::parse_datetime(text).unwrap_or_else(|| panic!("bad datetime {text}"))
}

/// 2024-03-01T00:00:00Z .. +5 days.
fn window() -> TimeWindow {
    let start = ticks("2024-03-01T00:00:00Z");
    TimeWindow {
        start,
        end: start + 5 * kql::time::DAY,
    }
}

fn la_ok(rows: Vec<J>) -> J {
    json!({"tables": [{"name": "PrimaryResult",
        "columns": [{"name": "Timestamp", "type": "datetime"}, {"name": "DeviceName", "type": "string"}],
        "rows": rows}]})
}

/// One event per hour over the window: (Timestamp, DeviceName).
fn hourly_events() -> Vec<(i64, String)> {
    let w = window();
    (0..120)
        .map(|h| (w.start + h * kql::time::HOUR, format!("pc{h:03}")))
        .collect()
}

/// The events inside `timespan` (`start/end`, half-open).
fn in_timespan(events: &[(i64, String)], timespan: &str) -> Vec<(i64, String)> {
    let (s, e) = timespan
        .split_once('/')
        .unwrap_or_else(|| panic!("timespan {timespan}"));
    let (s, e) = (ticks(s), ticks(e));
    events
        .iter()
        .filter(|(t, _)| *t >= s && *t < e)
        .cloned()
        .collect()
}

fn la_rows(events: &[(i64, String)]) -> Vec<J> {
    events
        .iter()
        .map(|(t, d)| json!([kql::time::format_datetime(*t), d]))
        .collect()
}

const ROWS_QUERY: &str =
    "DeviceNetworkEvents | where RemoteUrl has 'zoho' | project Timestamp, DeviceName";

// ---------- Log Analytics ----------

#[test]
fn la_request_shape_and_values_of_every_type() {
    let server = serve(|_, _| {
        resp(
            200,
            json!({"tables": [{"name": "PrimaryResult",
            "columns": [
                {"name": "b", "type": "bool"}, {"name": "dt", "type": "datetime"},
                {"name": "dyn", "type": "dynamic"}, {"name": "i", "type": "int"},
                {"name": "l", "type": "long"}, {"name": "r", "type": "real"},
                {"name": "s", "type": "string"}, {"name": "g", "type": "guid"},
                {"name": "d", "type": "decimal"}, {"name": "ts", "type": "timespan"}],
            "rows": [
                [true, "2024-03-26T09:39:50.7688641Z", "{\"Tls\":\"1.2\"}", 443, 12, 1.5, "pc01",
                 "74be27de-1e4e-49d9-b579-fe0b331d3642", "1.10", "1.02:03:04.5000000"],
                [null, null, null, null, null, null, "", null, null, null]]}]}),
        )
    });
    let t = la_source(&server.base, 500_000)
        .query("T | project b", window())
        .unwrap_or_else(|e| panic!("{e}"));
    let reqs = server.requests();
    assert_eq!(reqs.len(), 1);
    let r = &reqs[0];
    assert_eq!(
        (r.method.as_str(), r.path.as_str()),
        ("POST", &*format!("/v1/workspaces/{WS}/query"))
    );
    assert_eq!(
        r.headers.get("content-type").map(String::as_str),
        Some("application/json")
    );
    assert_eq!(
        r.headers.get("prefer").map(String::as_str),
        Some("wait=180")
    );
    assert_eq!(
        r.headers.get("authorization"),
        Some(&format!("Bearer {TOKEN}"))
    );
    assert_eq!(
        r.json(),
        json!({"query": "T | project b", "timespan": "2024-03-01T00:00:00Z/2024-03-06T00:00:00Z"})
    );
    use kql::Value as V;
    let want = vec![
        V::Bool(true),
        V::DateTime(ticks("2024-03-26T09:39:50.7688641Z")),
        V::dynamic(json!({"Tls": "1.2"})),
        V::Int(443),
        V::Long(12),
        V::Real(1.5),
        V::string("pc01"),
        V::Guid(uuid::Uuid::parse_str("74be27de-1e4e-49d9-b579-fe0b331d3642").unwrap_or_default()),
        V::Decimal("1.10".parse().unwrap_or_default()),
        V::TimeSpan(kql::time::parse_timespan("1.02:03:04.5").unwrap_or_default()),
    ];
    assert_eq!(t.rows.len(), 2);
    assert_eq!(format!("{:?}", t.rows[0]), format!("{want:?}"));
    let nulls: Vec<V> = (0..10)
        .map(|i| if i == 6 { V::string("") } else { V::Null })
        .collect();
    assert_eq!(format!("{:?}", t.rows[1]), format!("{nulls:?}"));
    let types: Vec<String> = t.schema.columns.iter().map(|c| c.ty.to_string()).collect();
    assert_eq!(
        types.join(","),
        "bool,datetime,dynamic,int,long,real,string,guid,decimal,timespan"
    );
}

#[test]
fn la_429_with_retry_after_is_retried() {
    let server = serve(|_, n| {
        if n == 0 {
            let mut r = resp(
                429,
                json!({"error": {"code": "TooManyRequests", "message": "slow down"}}),
            );
            r.headers.push(("Retry-After".into(), "1".into()));
            r
        } else {
            resp(200, la_ok(vec![json!(["2024-03-02T00:00:00Z", "pc01"])]))
        }
    });
    let start = Instant::now();
    let t = la_source(&server.base, 500_000).query(ROWS_QUERY, window());
    let t = t.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(t.rows.len(), 1);
    assert_eq!(server.requests().len(), 2);
    assert!(
        start.elapsed() >= Duration::from_millis(950),
        "Retry-After honoured: {:?}",
        start.elapsed()
    );
}

#[test]
fn la_5xx_then_success() {
    let server = serve(|_, n| match n {
        0 => resp(
            500,
            json!({"error": {"code": "InternalServerError", "message": "boom"}}),
        ),
        1 => resp(
            503,
            json!({"error": {"code": "ServiceUnavailable", "message": "later"}}),
        ),
        _ => resp(200, la_ok(vec![json!(["2024-03-02T00:00:00Z", "pc01"])])),
    });
    let t = la_source(&server.base, 500_000).query(ROWS_QUERY, window());
    assert_eq!(t.map(|t| t.rows.len()).map_err(|e| e.to_string()), Ok(1));
    assert_eq!(server.requests().len(), 3);
}

#[test]
fn la_deadline_exceeded_is_an_error() {
    let server = serve(|_, _| {
        let mut r = resp(200, la_ok(vec![]));
        r.delay = Duration::from_secs(3);
        r
    });
    let source =
        LogAnalyticsSource::new(la_client(&server.base, Duration::from_millis(700)), 500_000)
            .unwrap_or_else(|e| panic!("{e}"));
    let start = Instant::now();
    let e = source.query(ROWS_QUERY, window());
    assert!(
        start.elapsed() < Duration::from_secs(3),
        "{:?}",
        start.elapsed()
    );
    match e {
        Err(SourceError::Transport { api, message }) => {
            assert_eq!(api, "log-analytics");
            assert!(message.contains("deadline"), "{message}");
        }
        other => panic!("want a transport error, got {other:?}"),
    }
}

#[test]
fn la_empty_200_is_an_error_not_zero_rows() {
    for body in ["", "{}", "{\"tables\": []}"] {
        let b = body.to_string();
        let server = serve(move |_, _| Resp {
            status: 200,
            headers: vec![("x-ms-request-id".into(), "rid-empty".into())],
            body: b.clone(),
            delay: Duration::ZERO,
        });
        match la_source(&server.base, 500_000).query(ROWS_QUERY, window()) {
            Err(SourceError::Http {
                status: 200,
                request_id,
                ..
            }) => assert_eq!(request_id, "rid-empty", "{body:?}"),
            other => panic!("{body:?}: want an error, got {other:?}"),
        }
    }
}

#[test]
fn la_400_keeps_code_message_and_request_id_and_is_not_retried() {
    let server = serve(|_, _| {
        let mut r = resp(
            400,
            json!({"error": {"code": "BadArgumentError", "message": "The request had some invalid properties",
            "innererror": {"code": "SyntaxError", "message": "Syntax Error",
                "innererror": {"code": "SYN0002", "message": "Query could not be parsed at 'x' on line [1,5]"}}}}),
        );
        r.headers.push(("x-ms-request-id".into(), "rid-400".into()));
        r
    });
    match la_source(&server.base, 500_000).query("T | x", window()) {
        Err(SourceError::Http {
            api,
            status,
            request_id,
            message,
        }) => {
            assert_eq!(
                (api.as_str(), status, request_id.as_str()),
                ("log-analytics", 400, "rid-400")
            );
            assert!(
                message.contains("BadArgumentError")
                    && message.contains("SYN0002")
                    && message.contains("could not be parsed"),
                "{message}"
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(server.requests().len(), 1, "a 400 is not retried");
}

#[test]
fn la_truncation_splits_until_every_row_is_recovered() {
    let events = hourly_events();
    let ev = events.clone();
    let server = serve(move |r, _| {
        let ts = r.json()["timespan"].as_str().unwrap_or("").to_string();
        let mut rows = in_timespan(&ev, &ts);
        rows.truncate(50); // the service's row limit, scaled down
        resp(200, la_ok(la_rows(&rows)))
    });
    let t = la_source(&server.base, 50)
        .query(ROWS_QUERY, window())
        .unwrap_or_else(|e| panic!("{e}"));
    let got: Vec<(i64, String)> = t
        .rows
        .iter()
        .map(|r| match (&r[0], &r[1]) {
            (kql::Value::DateTime(t), kql::Value::String(s)) => (*t, s.to_string()),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(got, events, "all 120 rows, once each, in time order");
    assert!(
        server.requests().len() >= 5,
        "{} requests",
        server.requests().len()
    );
}

#[test]
fn la_partial_error_splits() {
    let events = hourly_events();
    let ev = events.clone();
    let server = serve(move |r, _| {
        let ts = r.json()["timespan"].as_str().unwrap_or("").to_string();
        let rows = in_timespan(&ev, &ts);
        let mut body = la_ok(la_rows(&rows[..rows.len().min(30)]));
        if rows.len() > 30 {
            body["error"] = json!({"code": "PartialError", "message": "There were some errors when processing your query.",
                "details": [{"code": "EngineError", "message": "Query result set has exceeded the internal data size limit"}]});
        }
        resp(200, body)
    });
    let t = la_source(&server.base, 500_000)
        .query(ROWS_QUERY, window())
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(t.rows.len(), events.len());
}

#[test]
fn la_split_fails_loudly_below_the_minimum_window_and_for_aggregates() {
    let server = serve(|_, _| {
        let mut body = la_ok(vec![json!(["2024-03-02T00:00:00Z", "pc01"])]);
        body["error"] = json!({"code": "PartialError", "message": "always partial"});
        resp(200, body)
    });
    let source = la_source(&server.base, 500_000).with_min_window(kql::time::DAY);
    match source.query(ROWS_QUERY, window()) {
        Err(SourceError::Eval { message, .. }) => assert!(
            message.contains("always partial") && message.contains("too small"),
            "{message}"
        ),
        other => panic!("{other:?}"),
    }
    let before = server.requests().len();
    match source.query("T | summarize count() by DeviceId", window()) {
        Err(SourceError::Eval { message, .. }) => {
            assert!(message.contains("aggregates"), "{message}")
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        server.requests().len() - before,
        1,
        "an aggregating query is never split"
    );
}

// ---------- Defender (Graph runHuntingQuery) ----------

#[test]
fn defender_request_shape_values_and_truncation_split() {
    let events = hourly_events();
    let ev = events.clone();
    let server = serve(move |r, _| {
        let ts = r.json()["Timespan"].as_str().unwrap_or("").to_string();
        let mut rows = in_timespan(&ev, &ts);
        rows.truncate(40);
        let results: Vec<J> = rows
            .iter()
            .map(|(t, d)| {
                json!({"Timestamp": kql::time::format_datetime(*t), "DeviceName": d,
                "RemotePort": 443, "AdditionalFields": {"Tls": "1.2"}, "Count": "7"})
            })
            .collect();
        resp(
            200,
            json!({"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#microsoft.graph.security.huntingQueryResults",
            "schema": [{"name": "Timestamp", "type": "DateTime"}, {"name": "DeviceName", "type": "String"},
                       {"Name": "RemotePort", "Type": "Int32"}, {"name": "AdditionalFields", "type": "Object"},
                       {"name": "Count", "type": "Int64"}],
            "results": results}),
        )
    });
    let t = def_source(&server.base, 40)
        .query(ROWS_QUERY, window())
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(t.rows.len(), events.len());
    let r0 = &server.requests()[0];
    assert_eq!(
        (r0.method.as_str(), r0.path.as_str()),
        ("POST", "/v1.0/security/runHuntingQuery")
    );
    assert_eq!(
        r0.headers.get("authorization"),
        Some(&format!("Bearer {TOKEN}"))
    );
    assert_eq!(
        r0.json(),
        json!({"Query": ROWS_QUERY, "Timespan": "2024-03-01T00:00:00Z/2024-03-06T00:00:00Z"})
    );
    use kql::Value as V;
    assert_eq!(
        format!("{:?}", t.rows[0]),
        format!(
            "{:?}",
            vec![
                V::DateTime(window().start),
                V::string("pc000"),
                V::Int(443),
                V::dynamic(json!({"Tls": "1.2"})),
                V::Long(7)
            ]
        )
    );
}

#[test]
fn defender_graph_error_keeps_code_and_request_id() {
    let server = serve(|_, _| {
        let mut r = resp(
            400,
            json!({"error": {"code": "BadRequest", "message": "Query is invalid",
            "innerError": {"date": "2024-03-26T09:40:01", "request-id": "graph-rid", "client-request-id": "c-rid"}}}),
        );
        r.headers.push(("request-id".into(), "graph-rid".into()));
        r
    });
    match def_source(&server.base, 100_000).query("T | x", window()) {
        Err(SourceError::Http {
            api,
            status,
            request_id,
            message,
        }) => {
            assert_eq!(
                (api.as_str(), status, request_id.as_str()),
                ("defender", 400, "graph-rid")
            );
            assert!(
                message.contains("BadRequest") && message.contains("Query is invalid"),
                "{message}"
            );
        }
        other => panic!("{other:?}"),
    }
}

// ---------- tokens ----------

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|e| panic!("{e}"))
}

fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

#[test]
fn managed_identity_app_service_protocol_cached_per_scope_and_shared() {
    let server = serve(|r, n| {
        let mut out = resp(
            200,
            json!({"access_token": format!("tok-{n}"), "expires_on": (now_secs() + 3600).to_string(),
            "resource": "x", "token_type": "Bearer"}),
        );
        if r.headers.get("x-identity-header").map(String::as_str) != Some("id-header-secret") {
            out = resp(401, json!({"message": "bad header"}));
        }
        out.delay = Duration::from_millis(200);
        out
    });
    let mi = ManagedIdentity::new(
        reqwest::Client::new(),
        Some((
            format!("{}/msi/token", server.base),
            Secret::new("id-header-secret"),
        )),
        "http://127.0.0.1:9/unused",
        Some("uami-client-id".into()),
    );
    let tokens = Arc::new(CachedTokens::new(mi));
    let rt = runtime();
    let got = rt.block_on(async {
        let scope = "https://api.loganalytics.io/.default";
        // Concurrent callers on an empty cache share one request...
        let mut out = futures_join(tokens.clone(), scope).await;
        // ...and later callers get the cached token.
        for _ in 0..3 {
            out.push(tokens.token(scope).await);
        }
        let other = tokens.token("https://graph.microsoft.com/.default").await;
        out.push(other);
        out
    });
    let toks: Vec<String> = got
        .iter()
        .map(|r| match r {
            Ok(t) => t.token.expose().to_string(),
            Err(e) => panic!("{e}"),
        })
        .collect();
    assert!(
        toks[..toks.len() - 1].iter().all(|t| t == "tok-0"),
        "{toks:?}"
    );
    assert_eq!(toks.last().map(String::as_str), Some("tok-1"));
    let reqs = server.requests();
    assert_eq!(reqs.len(), 2, "one request per scope");
    let q = &reqs[0].query;
    assert!(
        q.contains("api-version=2019-08-01")
            && q.contains("resource=https%3A%2F%2Fapi.loganalytics.io")
            && q.contains("client_id=uami-client-id"),
        "{q}"
    );
    assert!(!q.contains(".default"), "{q}");
    assert!(!format!("{:?}", got[0]).contains("tok-0"), "token in Debug");
}

/// Many concurrent callers on one scope (spawned tasks on the runtime).
async fn futures_join(
    tokens: Arc<CachedTokens<ManagedIdentity>>,
    scope: &'static str,
) -> Vec<Result<rmmhunt::azure::auth::AccessToken, rmmhunt::azure::auth::AuthError>> {
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let t = tokens.clone();
        set.spawn(async move { t.token(scope).await });
    }
    let mut out = Vec::new();
    while let Some(r) = set.join_next().await {
        if let Ok(r) = r {
            out.push(r);
        }
    }
    out
}

#[test]
fn tokens_near_expiry_are_refreshed() {
    let server = serve(|_, n| {
        resp(
            200,
            json!({"access_token": format!("tok-{n}"), "expires_on": (now_secs() + 120).to_string()}),
        )
    });
    let mi = ManagedIdentity::new(
        reqwest::Client::new(),
        Some((format!("{}/msi/token", server.base), Secret::new("h"))),
        "http://127.0.0.1:9/unused",
        None,
    );
    let tokens = CachedTokens::new(mi); // 5 min margin > 2 min lifetime
    let rt = runtime();
    let (a, b) = rt.block_on(async {
        let a = tokens
            .token("https://x/.default")
            .await
            .map(|t| t.token.expose().to_string());
        let b = tokens
            .token("https://x/.default")
            .await
            .map(|t| t.token.expose().to_string());
        (a, b)
    });
    assert_eq!(
        (a.ok(), b.ok()),
        (Some("tok-0".into()), Some("tok-1".into()))
    );
    let long = CachedTokens::new(ManagedIdentity::new(
        reqwest::Client::new(),
        Some((format!("{}/msi/token", server.base), Secret::new("h"))),
        "http://127.0.0.1:9/unused",
        None,
    ))
    .with_margin(Duration::from_secs(10));
    let (c, d) = rt.block_on(async {
        let c = long
            .token("https://x/.default")
            .await
            .map(|t| t.token.expose().to_string());
        let d = long
            .token("https://x/.default")
            .await
            .map(|t| t.token.expose().to_string());
        (c, d)
    });
    assert_eq!(c.ok(), d.ok(), "cached while far from expiry");
}

#[test]
fn token_failures_and_errors_never_show_secrets() {
    let server = serve(|r, _| {
        if r.path == "/msi/token" {
            resp(
                500,
                json!({"statusCode": 500, "message": "identity endpoint broken", "echo": "id-header-secret"}),
            )
        } else {
            resp(
                401,
                json!({"error": {"code": "AuthenticationFailed", "message": "bad token"}}),
            )
        }
    });
    let mi = ManagedIdentity::new(
        reqwest::Client::new(),
        Some((
            format!("{}/msi/token", server.base),
            Secret::new("id-header-secret"),
        )),
        "http://127.0.0.1:9/unused",
        None,
    );
    let mut client = la_client(&server.base, Duration::from_secs(5));
    client.tokens = Arc::new(CachedTokens::new(mi));
    let source = LogAnalyticsSource::new(client, 500_000).unwrap_or_else(|e| panic!("{e}"));
    let e = source.query(ROWS_QUERY, window());
    let text = format!(
        "{e:?} {}",
        e.as_ref().err().map(|e| e.to_string()).unwrap_or_default()
    );
    assert!(matches!(e, Err(SourceError::Transport { .. })), "{text}");
    assert!(text.contains("identity endpoint broken"), "{text}");
    assert!(!text.contains("id-header-secret"), "{text}");

    let e = la_source(&server.base, 500_000).query(ROWS_QUERY, window());
    let text = format!(
        "{e:?} {}",
        e.as_ref().err().map(|e| e.to_string()).unwrap_or_default()
    );
    assert!(
        matches!(e, Err(SourceError::Http { status: 401, .. })),
        "{text}"
    );
    assert!(!text.contains(TOKEN), "{text}");
}

// ---------- end to end against crates/fake-azure (evaluates the KQL it receives) ----------

mod with_fake {
    use super::*;
    use fake_azure::{Api, FakeAzure, Fault};
    use rmmhunt::azure::auth::from_config;
    use rmmhunt::config::{from_env_map, Validated};
    use rmmhunt::source::local::LocalSource;

    const HEAD: &str = "DeviceNetworkEvents\n| where RemoteUrl has \"zoho\"\n| project Timestamp, DeviceId, DeviceName, RemoteUrl, RemotePort, ReportId";

    /// 120 hourly events over the window, 2 of 3 to Zoho.
    fn fixture() -> kql::Table {
        let mut text = String::new();
        for (i, (t, dev)) in hourly_events().into_iter().enumerate() {
            let ts = kql::time::format_datetime(t);
            let url = if i % 3 == 0 {
                "www.example.com"
            } else {
                "assist.zoho.com"
            };
            text.push_str(
                &json!({"Timestamp": ts, "TimeGenerated": ts, "DeviceId": format!("dev{}", i % 7),
                "DeviceName": dev, "RemoteUrl": url, "RemotePort": 443, "ReportId": i})
                .to_string(),
            );
            text.push('\n');
        }
        fake_azure::fixtures::load_table(
            "DeviceNetworkEvents",
            "fixture",
            text.into_bytes(),
            kql::input::Format::JsonLines,
        )
        .unwrap_or_else(|e| panic!("{e}"))
    }

    fn start() -> (FakeAzure, kql::Table) {
        let fake = FakeAzure::start().unwrap_or_else(|e| panic!("{e}"));
        let t = fixture();
        fake.add_table("DeviceNetworkEvents", t.clone());
        (fake, t)
    }

    fn settings(fake: &FakeAzure) -> Validated {
        settings_with(fake, &[])
    }

    fn settings_with(fake: &FakeAzure, extra: &[(&str, &str)]) -> Validated {
        let mut env: HashMap<String, String> = [
            ("IDENTITY_ENDPOINT", fake.identity_endpoint()),
            ("IDENTITY_HEADER", fake.identity_header()),
            ("RMMHUNT_LOGANALYTICS_ENDPOINT", fake.base_url()),
            ("RMMHUNT_GRAPH_ENDPOINT", fake.base_url()),
            ("RMMHUNT_ARM_ENDPOINT", fake.base_url()),
            ("RMMHUNT_WORKSPACE_ID", fake.workspace_id()),
            ("RMMHUNT_REQUEST_DEADLINE_SECS", "10".to_string()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        env.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        from_env_map(&env)
            .validate()
            .unwrap_or_else(|e| panic!("{e}"))
    }

    fn sources(v: &Validated) -> (LogAnalyticsSource, DefenderSource) {
        let http = HttpClient::new(RetryPolicy {
            base_delay: Duration::from_millis(20),
            ..RetryPolicy::with_deadline(v.request_deadline)
        })
        .unwrap_or_else(|e| panic!("{e}"));
        let tokens = from_config(&v.credential, http.reqwest());
        let la = LogAnalyticsSource::from_config(v, http.clone(), tokens.clone())
            .unwrap_or_else(|e| panic!("{e}"));
        let de = DefenderSource::from_config(v, http, tokens).unwrap_or_else(|e| panic!("{e}"));
        (la, de)
    }

    fn local(t: &kql::Table) -> Vec<String> {
        let src = LocalSource::new(
            kql::MemoryCatalog::new().with_table("DeviceNetworkEvents", t.clone()),
        );
        rows_of(src.query(HEAD, window()))
    }

    fn rows_of(r: Result<kql::Table, SourceError>) -> Vec<String> {
        let t = r.unwrap_or_else(|e| panic!("{e}"));
        let mut rows: Vec<String> = t.rows.iter().map(|r| format!("{r:?}")).collect();
        rows.sort();
        rows
    }

    #[test]
    fn same_rows_as_local_through_both_apis() {
        let (fake, t) = start();
        let (la, de) = sources(&settings(&fake));
        let want = local(&t);
        assert_eq!(want.len(), 80);
        assert_eq!(rows_of(la.query(HEAD, window())), want, "log-analytics");
        assert_eq!(rows_of(de.query(HEAD, window())), want, "defender");
        assert_eq!(fake.tokens_issued(), 2, "one token per audience");
    }

    #[test]
    fn throttling_5xx_and_row_limits_still_give_every_row() {
        let (fake, t) = start();
        // The client knows the service's row limit (scaled down here, as
        // the fake's): Graph cuts silently, so "rows == limit" must split.
        let v = settings_with(
            &fake,
            &[
                ("RMMHUNT_LOGANALYTICS_MAX_ROWS", "25"),
                ("RMMHUNT_DEFENDER_MAX_ROWS", "25"),
            ],
        );
        let (la, de) = sources(&v);
        let want = local(&t);
        fake.push_fault(
            Api::LogAnalytics,
            Fault::Throttle {
                retry_after_secs: 1,
            },
        );
        fake.push_fault(
            Api::LogAnalytics,
            Fault::Status {
                status: 503,
                retry_after_secs: None,
            },
        );
        fake.set_row_limit(Api::LogAnalytics, 25);
        assert_eq!(rows_of(la.query(HEAD, window())), want, "log-analytics");
        fake.push_fault(
            Api::Graph,
            Fault::Throttle {
                retry_after_secs: 1,
            },
        );
        fake.push_fault(
            Api::Graph,
            Fault::Status {
                status: 500,
                retry_after_secs: None,
            },
        );
        fake.set_row_limit(Api::Graph, 25);
        assert_eq!(rows_of(de.query(HEAD, window())), want, "defender");
        let statuses: Vec<u16> = fake
            .requests_to(Api::LogAnalytics)
            .iter()
            .map(|r| r.status)
            .collect();
        assert!(
            statuses.starts_with(&[429, 503]) && statuses.len() > 4,
            "{statuses:?}"
        );
    }

    #[test]
    fn partial_error_fault_is_split_away() {
        let (fake, t) = start();
        let (la, _) = sources(&settings(&fake));
        fake.push_fault(Api::LogAnalytics, Fault::PartialError { keep_rows: 3 });
        assert_eq!(rows_of(la.query(HEAD, window())), local(&t));
    }

    #[test]
    fn failures_are_reported_never_fewer_rows() {
        let (fake, _) = start();
        let v = settings(&fake);
        let (la, de) = sources(&v);
        // KQL error: the API's code and request id come back.
        match la.query("DeviceNetworkEvents | where NoSuchColumn == 1", window()) {
            Err(SourceError::Http {
                status: 400,
                request_id,
                message,
                ..
            }) => {
                assert!(
                    !request_id.is_empty() && message.contains("BadArgumentError"),
                    "{request_id} {message}"
                );
            }
            other => panic!("{other:?}"),
        }
        // A token endpoint that fails transiently (500, then 429) is retried
        // like the API itself: the query completes.
        let (warming_la, _) = sources(&v);
        fake.push_fault(
            Api::Token,
            Fault::Status {
                status: 500,
                retry_after_secs: None,
            },
        );
        fake.push_fault(
            Api::Token,
            Fault::Throttle {
                retry_after_secs: 1,
            },
        );
        let t = warming_la.query(HEAD, window());
        assert!(t.is_ok(), "{t:?}");
        // Token endpoint down (400: identity not assigned): final, reported.
        let (fresh_la, _) = sources(&v);
        fake.push_fault(Api::Token, Fault::IdentityUnavailable);
        let e = fresh_la.query(HEAD, window());
        assert!(matches!(&e, Err(SourceError::Transport { .. })), "{e:?}");
        assert!(!format!("{e:?}").contains(&fake.identity_header()), "{e:?}");
        // Slower than the deadline.
        let mut short = v.clone();
        short.request_deadline = Duration::from_secs(1);
        let (slow_la, _) = sources(&short);
        fake.push_fault(Api::LogAnalytics, Fault::Delay(Duration::from_secs(5)));
        let e = slow_la.query(HEAD, window());
        assert!(
            matches!(&e, Err(SourceError::Transport { message, .. }) if message.contains("deadline")),
            "{e:?}"
        );
        // Every answer a 503: retried, then reported.
        fake.clear_faults();
        fake.fault_every(
            Api::Graph,
            1,
            Fault::Status {
                status: 503,
                retry_after_secs: None,
            },
        );
        let e = de.query(HEAD, window());
        assert!(e.is_err(), "{e:?}");
    }
}

// ---------- other credentials ----------

#[test]
fn imds_protocol_and_service_principal_and_refresh_failure_fallback() {
    let server = serve(|r, n| {
        if r.path == "/metadata/identity/oauth2/token" {
            if r.headers.get("metadata").map(String::as_str) != Some("true") {
                return resp(
                    400,
                    json!({"error": "invalid_request", "error_description": "Required metadata header not specified"}),
                );
            }
            return resp(
                200,
                json!({"access_token": "imds-tok", "expires_in": "3599", "expires_on": (now_secs() + 3599).to_string(), "resource": "x", "token_type": "Bearer"}),
            );
        }
        if r.path == "/tenant-1/oauth2/v2.0/token" {
            if n > 1 {
                return resp(
                    400,
                    json!({"error": "invalid_client", "error_description": "AADSTS7000215: Invalid client secret provided."}),
                );
            }
            // 2 minutes: inside the refresh margin, so the next call refreshes.
            return resp(
                200,
                json!({"token_type": "Bearer", "expires_in": 120, "access_token": "sp-tok"}),
            );
        }
        resp(404, json!({}))
    });
    let rt = runtime();
    let imds = ManagedIdentity::new(
        reqwest::Client::new(),
        None,
        format!("{}/metadata/identity/oauth2/token", server.base),
        Some("cid".into()),
    );
    let t = rt.block_on(imds.token("https://management.azure.com/.default"));
    assert_eq!(
        t.map(|t| t.token.expose().to_string())
            .map_err(|e| e.to_string()),
        Ok("imds-tok".into())
    );
    let q = &server.requests()[0].query;
    assert!(
        q.contains("api-version=2018-02-01")
            && q.contains("resource=https%3A%2F%2Fmanagement.azure.com")
            && q.contains("client_id=cid"),
        "{q}"
    );

    let sp = CachedTokens::new(rmmhunt::azure::auth::ClientSecret::new(
        reqwest::Client::new(),
        server.base.clone(),
        "tenant-1",
        "app-id",
        Secret::new("sp-secret-value"),
    ));
    let first = rt.block_on(sp.token("https://api.loganalytics.io/.default"));
    assert_eq!(
        first
            .map(|t| t.token.expose().to_string())
            .map_err(|e| e.to_string()),
        Ok("sp-tok".into())
    );
    let form = &server.requests()[1].body;
    for want in [
        "grant_type=client_credentials",
        "client_id=app-id",
        "client_secret=sp-secret-value",
        "scope=https%3A%2F%2Fapi.loganalytics.io%2F.default",
    ] {
        assert!(form.contains(want), "{want} in {form}");
    }
    // The refresh fails (n > 1) but the cached token has 2 minutes left: used.
    let second = rt.block_on(sp.token("https://api.loganalytics.io/.default"));
    assert_eq!(
        second
            .map(|t| t.token.expose().to_string())
            .map_err(|e| e.to_string()),
        Ok("sp-tok".into())
    );
    // A new scope has nothing cached: the error, without the secret.
    let third = rt.block_on(sp.token("https://graph.microsoft.com/.default"));
    let text = format!(
        "{third:?} {}",
        third
            .as_ref()
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default()
    );
    assert!(
        third.is_err() && text.contains("AADSTS7000215") && !text.contains("sp-secret-value"),
        "{text}"
    );
}

#[cfg(unix)]
#[test]
fn azure_cli_login() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let args_file = dir.path().join("args");
    let script = dir.path().join("az");
    let exp = now_secs() + 3600;
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\necho \"$@\" > '{}'\necho '{{\"accessToken\": \"cli-tok\", \"expiresOn\": \"2024-03-26 10:00:00.000000\", \"expires_on\": {exp}, \"tokenType\": \"Bearer\"}}'\n",
            args_file.display()
        ),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755))
        .unwrap_or_else(|e| panic!("{e}"));
    let cli = rmmhunt::azure::auth::AzureCli::with_program(script.display().to_string());
    let t = runtime().block_on(cli.token("https://api.loganalytics.io/.default"));
    let t = t.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(t.token.expose(), "cli-tok");
    let secs = t
        .expires_on
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    assert_eq!(secs, exp);
    let args = std::fs::read_to_string(&args_file).unwrap_or_default();
    assert_eq!(
        args.trim(),
        "account get-access-token --output json --resource https://api.loganalytics.io"
    );

    let missing =
        rmmhunt::azure::auth::AzureCli::with_program(dir.path().join("nope").display().to_string());
    let e = runtime().block_on(missing.token("https://x/.default"));
    assert!(
        matches!(e, Err(rmmhunt::azure::auth::AuthError::Cli { .. })),
        "{e:?}"
    );
}
