//! Microsoft Graph advanced hunting: `POST /v1.0/security/runHuntingQuery`
//! (and `/beta`) with `{"Query", "Timespan"?}` answering
//! `{"@odata.context", "schema":[{name,type}], "results":[{col: value}]}`
//! (reference section B.2). Types use .NET names (`DateTime`, `String`,
//! `Int32`, `Int64`, `Boolean`, `Double`, `Guid`, `Object`, `TimeSpan`,
//! `Decimal`); the default lookback without `Timespan` is 30 days; a result
//! over the row limit (100,000) is cut without any signal, as the
//! reference documents no truncation marker. Errors use Graph's envelope.

use crate::eval;
use crate::server::{check_bearer, envelope, App, AuthFailure, Reply, Req};
use crate::timespan::{parse_timespan, Dialect, Window};
use crate::Api;
use kql::{Type, Value};
use serde_json::{json, Map, Value as J};

const CONTEXT: &str =
    "https://graph.microsoft.com/v1.0/$metadata#microsoft.graph.security.huntingQueryResults";

/// Graph's name for a column type.
pub(crate) fn type_name(ty: Type) -> &'static str {
    match ty {
        Type::Bool => "Boolean",
        Type::Int => "Int32",
        Type::Long => "Int64",
        Type::Real => "Double",
        Type::Decimal => "Decimal",
        Type::String => "String",
        Type::DateTime => "DateTime",
        Type::TimeSpan => "TimeSpan",
        Type::Guid => "Guid",
        Type::Dynamic => "Object",
    }
}

fn bad_request(message: &str, req: &Req) -> Reply {
    envelope(Api::Graph, 400, Some("BadRequest"), message, req)
}

fn auth_error(f: AuthFailure, req: &Req) -> Reply {
    let msg = match f {
        AuthFailure::Missing => "Access token is empty.".to_string(),
        AuthFailure::Invalid => {
            "Invalid access token: IDX14100: JWT is not well formed.".to_string()
        }
        AuthFailure::Expired => "Lifetime validation failed, the token is expired.".to_string(),
        AuthFailure::WrongAudience(a) => {
            format!("Access token validation failure. Invalid audience '{a}'.")
        }
    };
    envelope(
        Api::Graph,
        401,
        Some("InvalidAuthenticationToken"),
        &msg,
        req,
    )
}

fn get_ci<'a>(obj: &'a Map<String, J>, key: &str) -> Option<&'a J> {
    obj.iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(key))
        .map(|(_, v)| v)
}

pub(crate) fn handle(app: &App, req: &Req) -> Reply {
    if req.method != "POST" {
        return envelope(
            Api::Graph,
            405,
            Some("Request_BadRequest"),
            "The HTTP method is not allowed for this resource.",
            req,
        );
    }
    if let Err(f) = check_bearer(app, req, &[crate::GRAPH_AUDIENCE]) {
        return auth_error(f, req);
    }
    let body: J = match serde_json::from_slice(&req.body) {
        Ok(b) => b,
        Err(e) => return bad_request(&format!("Unable to read JSON request payload: {e}"), req),
    };
    let Some(obj) = body.as_object() else {
        return bad_request("The request body must be a JSON object.", req);
    };
    let Some(query) = get_ci(obj, "Query").and_then(J::as_str) else {
        return bad_request("The 'Query' parameter is required.", req);
    };
    let (clock, limit, catalog, dyn_obj, seven) = {
        let st = app.st();
        (
            st.now,
            st.graph_row_limit,
            st.catalog.clone(),
            st.graph_dynamic_as_object,
            st.datetime_seven_digits,
        )
    };
    let window: Window = match get_ci(obj, "Timespan") {
        None | Some(J::Null) => Window {
            start: clock.saturating_sub(30 * kql::time::DAY),
            end: clock,
        },
        Some(J::String(s)) => match parse_timespan(s, clock, Dialect::Graph) {
            Ok(w) => w,
            Err(e) => return bad_request(&e.to_string(), req),
        },
        Some(_) => return bad_request("The 'Timespan' parameter must be a string.", req),
    };
    let catalog = eval::windowed(&catalog, Some(window), eval::TIME_COLUMNS_GRAPH);
    let table = match eval::run(query, &catalog, window.end) {
        Ok(t) => t,
        Err(f) => {
            return bad_request(
                &format!(
                    "Query could not be executed: {}: {} ({}) at line {}, position {}",
                    f.kind, f.message, f.code, f.line, f.pos
                ),
                req,
            )
        }
    };
    let schema: Vec<J> = table
        .schema
        .columns
        .iter()
        .map(|c| json!({"name": c.name, "type": type_name(c.ty)}))
        .collect();
    let results: Vec<J> = table
        .rows
        .iter()
        .take(limit)
        .map(|r| {
            let mut m = Map::new();
            for (i, c) in table.schema.columns.iter().enumerate() {
                let v = r.get(i).unwrap_or(&Value::Null);
                m.insert(c.name.clone(), encode_cell(v, c.ty, dyn_obj, seven));
            }
            J::Object(m)
        })
        .collect();
    Reply::json(
        200,
        &json!({"@odata.context": CONTEXT, "schema": schema, "results": results}),
    )
    .with_header("request-id", uuid::Uuid::new_v4().to_string())
}

/// One cell in Graph's encoding: like Log Analytics, except dynamic values
/// may be embedded JSON.
fn encode_cell(v: &Value, ty: Type, dyn_obj: bool, seven: bool) -> J {
    match v {
        Value::Dynamic(j) if dyn_obj => (**j).clone(),
        _ => crate::log_analytics::encode_cell(v, ty, seven),
    }
}
