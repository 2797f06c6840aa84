//! The Log Analytics query API: `POST /v1/workspaces/{id}/query` (and the
//! GET form, and resource-centric `/v1/{resourceId}/query`).
//!
//! Real-service behaviour mirrored (reference section A): a POST without
//! `Content-Type: application/json` answers an empty 200; `timespan` from
//! the body and the query string are intersected and filter the table's
//! time column; `Prefer: wait=` bounds a (fault-injected) delay with a 504;
//! results are `{"tables":[{"name":"PrimaryResult","columns","rows"}]}`
//! with LA's cell encodings (dynamic and decimal as JSON strings, longs as
//! numbers); KQL errors are 400 `BadArgumentError` with an `innererror`
//! chain (`SyntaxError`/`SemanticError` -> engine code with line/pos);
//! a result over the row limit is truncated and flagged with a top-level
//! `PartialError`.

use crate::eval;
use crate::server::{check_bearer, envelope, App, AuthFailure, Reply, Req};
use crate::timespan::{parse_timespan, Dialect, Window};
use crate::{Api, Fault};
use kql::{Table, Type, Value};
use serde_json::{json, Value as J};
use std::time::Duration;

const AUDIENCES: &[&str] = &[
    crate::LOG_ANALYTICS_AUDIENCE,
    "https://api.loganalytics.azure.com",
];

/// The server-side timeout requested with `Prefer: wait=N` (default 180 s,
/// at most 600 s).
pub(crate) fn prefer_wait(req: &Req) -> Duration {
    let secs = prefer_tokens(req)
        .iter()
        .find_map(|(k, v)| (k == "wait").then(|| v.parse::<u64>().ok()).flatten())
        .unwrap_or(180)
        .min(600);
    Duration::from_secs(secs)
}

fn prefer_tokens(req: &Req) -> Vec<(String, String)> {
    req.headers
        .iter()
        .filter(|(n, _)| n == "prefer")
        .flat_map(|(_, v)| v.split([',', ';']))
        .map(|t| {
            let (k, v) = t.split_once('=').unwrap_or((t, ""));
            (k.trim().to_ascii_lowercase(), v.trim().to_string())
        })
        .collect()
}

fn error_chain(status: u16, code: &str, message: &str, inner: Option<J>, req: &Req) -> Reply {
    let mut r = envelope(Api::LogAnalytics, status, Some(code), message, req);
    if let Some(inner) = inner {
        if let Ok(mut body) = serde_json::from_slice::<J>(&r.body) {
            if let Some(e) = body.get_mut("error").and_then(J::as_object_mut) {
                e.insert("innererror".into(), inner);
            }
            r.body = body.to_string().into_bytes();
        }
    }
    r
}

fn bad_argument(message: &str, inner_code: &str, inner_message: &str, req: &Req) -> Reply {
    error_chain(
        400,
        "BadArgumentError",
        "The request had some invalid properties",
        Some(
            json!({"code": inner_code, "message": inner_message, "innererror": {"code": inner_code, "message": message}}),
        ),
        req,
    )
}

fn auth_error(f: AuthFailure, req: &Req) -> Reply {
    match f {
        AuthFailure::Missing => envelope(
            Api::LogAnalytics,
            401,
            Some("AuthenticationFailed"),
            "Authentication failed. The 'Authorization' header is missing.",
            req,
        ),
        AuthFailure::Invalid => envelope(
            Api::LogAnalytics,
            403,
            Some("InvalidAuthenticationToken"),
            "The provided authentication is not valid for this resource.",
            req,
        ),
        AuthFailure::Expired => envelope(
            Api::LogAnalytics,
            403,
            Some("InvalidAuthenticationToken"),
            "The access token has expired.",
            req,
        ),
        AuthFailure::WrongAudience(a) => envelope(
            Api::LogAnalytics,
            403,
            Some("InvalidAuthenticationTokenAudience"),
            &format!("The access token is issued for the wrong audience '{a}'; expected https://api.loganalytics.io."),
            req,
        ),
    }
}

/// The workspace id in `/v1/workspaces/{id}/query`, or `None` for the
/// resource-centric form.
fn workspace_of(path: &str) -> Option<String> {
    let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
    match segs.as_slice() {
        ["v1", w, id, "query"] if w.eq_ignore_ascii_case("workspaces") => Some(id.to_string()),
        _ => None,
    }
}

pub(crate) fn handle(app: &App, req: &Req, fault: Option<Fault>) -> Reply {
    if req.method != "POST" && req.method != "GET" {
        return envelope(
            Api::LogAnalytics,
            405,
            Some("MethodNotAllowed"),
            "Only GET and POST are supported.",
            req,
        );
    }
    if let Err(f) = check_bearer(app, req, AUDIENCES) {
        return auth_error(f, req);
    }
    let served = app.st().workspace_id.clone();
    match workspace_of(&req.path) {
        Some(id) if id.eq_ignore_ascii_case(&served) => {}
        Some(id) => {
            return envelope(
                Api::LogAnalytics,
                403,
                Some("InsufficientAccessError"),
                &format!("The provided credentials have insufficient access to perform the requested operation on workspace '{id}'."),
                req,
            )
        }
        None if req
            .path
            .to_ascii_lowercase()
            .contains("/providers/microsoft.operationalinsights/workspaces/") => {}
        None => {
            return envelope(
                Api::LogAnalytics,
                404,
                Some("PathNotFoundError"),
                &format!("The requested path does not exist: {}", req.path),
                req,
            )
        }
    }
    let (query, body_timespan) = if req.method == "POST" {
        let json_ct = req.header("content-type").is_some_and(|c| {
            c.trim()
                .to_ascii_lowercase()
                .starts_with("application/json")
        });
        if !json_ct {
            // The documented quirk: no JSON content type, empty 200.
            return Reply::empty(200);
        }
        let body: J = match serde_json::from_slice(&req.body) {
            Ok(b) => b,
            Err(e) => {
                return bad_argument(
                    &format!("The request body is not valid JSON: {e}"),
                    "InvalidBody",
                    "The request body could not be parsed",
                    req,
                )
            }
        };
        let problems = crate::spec::validate(crate::spec::Spec::LogAnalytics, "queryBody", &body);
        if !problems.is_empty() {
            let text: Vec<String> = problems.iter().map(|p| p.to_string()).collect();
            return bad_argument(
                &format!("Invalid request body: {}", text.join("; ")),
                "InvalidBody",
                "The request body does not match the API's schema",
                req,
            );
        }
        let Some(q) = body.get("query").and_then(J::as_str) else {
            return bad_argument(
                "The 'query' property is required and must be a string.",
                "MissingQuery",
                "Missing query",
                req,
            );
        };
        let ts = match body.get("timespan") {
            None | Some(J::Null) => None,
            Some(J::String(s)) => Some(s.clone()),
            Some(_) => {
                return bad_argument(
                    "The 'timespan' property must be a string.",
                    "InvalidTimespan",
                    "Invalid timespan",
                    req,
                )
            }
        };
        (q.to_string(), ts)
    } else {
        match req.param("query") {
            Some(q) => (q, None),
            None => {
                return bad_argument(
                    "The 'query' parameter is required.",
                    "MissingQuery",
                    "Missing query",
                    req,
                )
            }
        }
    };
    let (clock, limit, catalog, seven) = {
        let st = app.st();
        (
            st.now,
            st.la_row_limit,
            st.catalog.clone(),
            st.datetime_seven_digits,
        )
    };
    let mut window: Option<Window> = None;
    for ts in [body_timespan, req.param("timespan")].into_iter().flatten() {
        match parse_timespan(&ts, clock, Dialect::LogAnalytics) {
            Ok(w) => window = Some(window.map_or(w, |x| x.intersect(w))),
            Err(e) => {
                return bad_argument(&e.to_string(), "InvalidTimespan", "Invalid timespan", req)
            }
        }
    }
    let now = window.map_or(clock, |w| w.end);
    let catalog = eval::windowed(&catalog, window, eval::TIME_COLUMNS_LA);
    let table = match eval::run(&query, &catalog, now) {
        Ok(t) => t,
        Err(f) => {
            let status = 400;
            let (code, msg) = match f.kind {
                "SyntaxError" => ("SyntaxError", "A recognition error occurred in the query."),
                "SemanticError" => ("SemanticError", "A semantic error occurred."),
                _ => (
                    "EvaluationError",
                    "An error occurred while evaluating the query.",
                ),
            };
            return error_chain(
                status,
                "BadArgumentError",
                "The request had some invalid properties",
                Some(json!({
                    "code": code,
                    "message": msg,
                    "innererror": {
                        "code": f.code,
                        "message": format!("{} at line [{},{}]", f.message, f.line, f.pos),
                        "line": f.line,
                        "pos": f.pos,
                    }
                })),
                req,
            );
        }
    };
    let total = table.rows.len();
    let mut error = None;
    let mut table = table;
    if let Some(Fault::PartialError { keep_rows }) = fault {
        table.rows.truncate(keep_rows);
        error = Some(json!({
            "code": "PartialError",
            "message": "There were some errors when processing your query.",
            "details": [{
                "code": "EngineError",
                "message": "Something went wrong processing your query on the server.",
                "innererror": {
                    "code": "-2133196797",
                    "message": "Query execution failed on one of the partitions (injected by fake-azure).",
                    "severity": 2,
                    "severityName": "Error"
                }
            }]
        }));
    } else if total > limit {
        table.rows.truncate(limit);
        error = Some(json!({
            "code": "PartialError",
            "message": "There were some errors when processing your query.",
            "details": [{
                "code": "EngineError",
                "message": "Something went wrong processing your query on the server.",
                "innererror": {
                    "code": "-2133196797",
                    "message": format!("Query result set has exceeded the internal record count limit {limit} (E_QUERY_RESULT_SET_TOO_LARGE; see https://aka.ms/kustoquerylimits)"),
                    "severity": 2,
                    "severityName": "Error"
                }
            }]
        }));
    }
    let mut body = json!({"tables": [encode_table("PrimaryResult", &table, seven)]});
    let prefs = prefer_tokens(req);
    let mut applied = Vec::new();
    for (k, v) in &prefs {
        match (k.as_str(), v.as_str()) {
            ("include-statistics", "true") => {
                body["statistics"] = json!({"query": {"executionTime": 0.0, "resourceUsage": {}}});
                applied.push("include-statistics=true".to_string());
            }
            ("include-render", "true") => {
                body["render"] = json!({});
                applied.push("include-render=true".to_string());
            }
            ("wait", w) => applied.push(format!("wait={w}")),
            _ => {}
        }
    }
    if let Some(e) = error {
        body["error"] = e;
    }
    let mut r =
        Reply::json(200, &body).with_header("x-ms-request-id", uuid::Uuid::new_v4().to_string());
    if !applied.is_empty() {
        r = r.with_header("preference-applied", applied.join(","));
    }
    r
}

/// One cell in LA's encoding.
pub(crate) fn encode_cell(v: &Value, ty: Type, seven_digits: bool) -> J {
    match (v, ty) {
        (Value::DateTime(t), _) if seven_digits => {
            let s = kql::time::format_datetime(*t);
            if s.contains('.') {
                J::String(s)
            } else {
                J::String(s.replacen('Z', ".0000000Z", 1))
            }
        }
        (Value::Null, Type::String) => J::String(String::new()),
        (Value::Null, _) => J::Null,
        (Value::Dynamic(j), _) => J::String(j.to_string()),
        (other, Type::Dynamic) => {
            // A non-dynamic value in a dynamic column: its JSON text.
            J::String(
                kql::output::value_to_json(other, other.ty().unwrap_or(Type::Dynamic)).to_string(),
            )
        }
        (other, _) => kql::output::value_to_json(other, ty),
    }
}

/// `{"name","columns":[{name,type}],"rows":[[...]]}`.
pub(crate) fn encode_table(name: &str, t: &Table, seven_digits: bool) -> J {
    let columns: Vec<J> = t
        .schema
        .columns
        .iter()
        .map(|c| json!({"name": c.name, "type": c.ty.name()}))
        .collect();
    let rows: Vec<J> = t
        .rows
        .iter()
        .map(|r| {
            J::Array(
                t.schema
                    .columns
                    .iter()
                    .enumerate()
                    .map(|(i, c)| encode_cell(r.get(i).unwrap_or(&Value::Null), c.ty, seven_digits))
                    .collect(),
            )
        })
        .collect();
    json!({"name": name, "columns": columns, "rows": rows})
}
