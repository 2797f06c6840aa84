//! The Azure Monitor Logs Ingestion API (reference section C.4, spec
//! `specs/.../monitor/data-plane/ingestion/stable/2023-01-01/DataCollectionRules.json`):
//! `POST /dataCollectionRules/{dcrImmutableId}/streams/{stream}?api-version=2023-01-01`
//! with a bearer token for `https://monitor.azure.com`, `Content-Type:
//! application/json` and a JSON array of objects; **204** with no body when
//! accepted.
//!
//! Each DCR stream the fake knows is declared with its columns
//! ([`crate::FakeAzure::declare_stream`]; the findings stream
//! `Custom-RmmHuntFindings_CL` of [`crate::DEFAULT_DCR_ID`] is declared at
//! start). Checked in this order: api-version (400), token (401/403), body
//! size (413 over [`crate::INGESTION_MAX_BODY_BYTES`]), DCR and stream
//! (404), `Content-Type` and `Content-Encoding` (415), the body against the
//! spec's body schema (array of objects) and the stream's columns: unknown
//! column, wrong JSON type, an unparsable datetime, a missing column (when
//! [`crate::FakeAzure::set_ingestion_require_all_columns`] is on, the
//! default) or a field over [`crate::INGESTION_MAX_FIELD_BYTES`] → 400. A
//! batch is stored whole or not at all. Errors are the data-plane
//! `ErrorResponse` (`{"error": {code, message, target?, details?}}`) with
//! the code repeated in `x-ms-error-code`.
//!
//! Unverified choices (the reference leaves them open): the error codes and
//! their statuses other than 413 and 429; 1,000,000 bytes as "1 MB"; that
//! the service rejects rather than drops unknown columns; 401 vs 403 for
//! token problems.

use crate::server::{check_bearer, envelope, App, AuthFailure, Reply, Req};
use crate::state::IngestedRecord;
use crate::Api;
use serde_json::{Map, Value as J};

/// The only api-version of the spec.
pub const API_VERSION: &str = "2023-01-01";

const AUDIENCES: &[&str] = &[crate::MONITOR_AUDIENCE];

/// A column type of a stream declaration (`streamDeclarations.*.columns[].type`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ColumnType {
    String,
    Int,
    Long,
    Real,
    Boolean,
    DateTime,
    Dynamic,
}

impl ColumnType {
    /// The name used in DCR stream declarations.
    pub fn name(self) -> &'static str {
        match self {
            ColumnType::String => "string",
            ColumnType::Int => "int",
            ColumnType::Long => "long",
            ColumnType::Real => "real",
            ColumnType::Boolean => "boolean",
            ColumnType::DateTime => "datetime",
            ColumnType::Dynamic => "dynamic",
        }
    }

    /// Whether a JSON value is acceptable for the type (`null` always is).
    fn accepts(self, v: &J) -> bool {
        if v.is_null() {
            return true;
        }
        match self {
            ColumnType::String => v.is_string(),
            ColumnType::Int => v.as_i64().is_some_and(|n| i32::try_from(n).is_ok()),
            ColumnType::Long => v.is_i64() || v.is_u64(),
            ColumnType::Real => v.is_number(),
            ColumnType::Boolean => v.is_boolean(),
            ColumnType::DateTime => v
                .as_str()
                .is_some_and(|s| s.len() >= 10 && kql::time::parse_datetime(s).is_some()),
            ColumnType::Dynamic => true,
        }
    }
}

/// The columns of the findings table `RmmHuntFindings_CL` (the contract
/// of the Logs Ingestion sink and of the Bicep table).
pub const FINDINGS_COLUMNS: &[(&str, ColumnType)] = &[
    ("TimeGenerated", ColumnType::DateTime),
    ("RunId", ColumnType::String),
    ("RuleId", ColumnType::String),
    ("RuleName", ColumnType::String),
    ("Tactics", ColumnType::String),
    ("Techniques", ColumnType::String),
    ("DeviceId", ColumnType::String),
    ("DeviceName", ColumnType::String),
    ("RemoteUrl", ColumnType::String),
    ("RemoteIP", ColumnType::String),
    ("AccountName", ColumnType::String),
    ("FirstSeen", ColumnType::DateTime),
    ("LastSeen", ColumnType::DateTime),
    ("EventCount", ColumnType::Long),
    ("Finding", ColumnType::Dynamic),
];

/// A declared stream of a DCR.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct StreamDecl {
    pub dcr: String,
    pub stream: String,
    pub columns: Vec<(String, ColumnType)>,
}

fn err(status: u16, code: &str, message: &str, target: Option<&str>, req: &Req) -> Reply {
    let mut r = envelope(Api::LogsIngestion, status, Some(code), message, req);
    if let Some(t) = target {
        if let Ok(mut body) = serde_json::from_slice::<J>(&r.body) {
            if let Some(e) = body.get_mut("error").and_then(J::as_object_mut) {
                e.insert("target".into(), J::String(t.to_string()));
            }
            r.body = body.to_string().into_bytes();
        }
    }
    r
}

fn auth_error(f: AuthFailure, req: &Req) -> Reply {
    match f {
        AuthFailure::Missing => err(
            401,
            "MissingToken",
            "The request does not carry an Authorization bearer token.",
            None,
            req,
        ),
        AuthFailure::Invalid => err(
            401,
            "InvalidToken",
            "The access token is invalid.",
            None,
            req,
        ),
        AuthFailure::Expired => err(
            401,
            "TokenExpired",
            "The access token has expired.",
            None,
            req,
        ),
        AuthFailure::WrongAudience(a) => err(
            403,
            "InvalidTokenAudience",
            &format!("The access token was issued for '{a}', not 'https://monitor.azure.com'."),
            None,
            req,
        ),
    }
}

/// `/dataCollectionRules/{id}/streams/{stream}` → (id, stream).
fn parse_path(path: &str) -> Option<(String, String)> {
    let segs: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    match segs.as_slice() {
        [d, id, s, stream]
            if d.eq_ignore_ascii_case("dataCollectionRules")
                && s.eq_ignore_ascii_case("streams")
                && !id.is_empty()
                && !stream.is_empty() =>
        {
            Some((
                crate::server::percent_decode(id),
                crate::server::percent_decode(stream),
            ))
        }
        _ => None,
    }
}

pub(crate) fn handle(app: &App, req: &Req) -> Reply {
    let Some((dcr, stream)) = parse_path(&req.path) else {
        return err(
            404,
            "NotFound",
            &format!("The requested path does not exist: {}", req.path),
            None,
            req,
        );
    };
    if req.method != "POST" {
        return err(
            405,
            "MethodNotAllowed",
            &format!("{} is not supported; use POST.", req.method),
            None,
            req,
        );
    }
    match req.param("api-version") {
        None => {
            return err(
                400,
                "MissingApiVersion",
                "The api-version query parameter is required.",
                None,
                req,
            )
        }
        Some(v) if v != API_VERSION => {
            return err(
                400,
                "InvalidApiVersion",
                &format!("The api-version '{v}' is not supported; use '{API_VERSION}'."),
                None,
                req,
            )
        }
        Some(_) => {}
    }
    if let Err(f) = check_bearer(app, req, AUDIENCES) {
        return auth_error(f, req);
    }
    let (max_body, max_field, require_all) = {
        let st = app.st();
        (
            st.ingestion_max_body,
            st.ingestion_max_field,
            st.ingestion_require_all_columns,
        )
    };
    if req.body.len() > max_body {
        return err(
            413,
            "ContentLengthLimitExceeded",
            &format!(
                "Maximum allowed content length: {max_body} bytes. Provided content length: {} bytes.",
                req.body.len()
            ),
            None,
            req,
        );
    }
    let (known_dcr, found) = {
        let st = app.st();
        (
            st.streams.iter().any(|s| s.dcr.eq_ignore_ascii_case(&dcr)),
            st.streams
                .iter()
                .find(|s| {
                    s.dcr.eq_ignore_ascii_case(&dcr) && s.stream.eq_ignore_ascii_case(&stream)
                })
                .cloned(),
        )
    };
    let decl = match (known_dcr, found) {
        (false, _) => {
            return err(
                404,
                "DataCollectionRuleNotFound",
                &format!("Data collection rule with immutable Id '{dcr}' not found."),
                None,
                req,
            )
        }
        (true, None) => {
            return err(
                404,
                "InvalidStream",
                &format!("Stream '{stream}' is not declared in data collection rule '{dcr}'."),
                None,
                req,
            )
        }
        (true, Some(d)) => d,
    };
    let ct = req.header("content-type").unwrap_or("");
    if !ct
        .split(';')
        .next()
        .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"))
    {
        return err(
            415,
            "UnsupportedMediaType",
            &format!("Content-Type must be application/json, not '{ct}'."),
            None,
            req,
        );
    }
    if let Some(enc) = req.header("content-encoding") {
        if !enc.trim().eq_ignore_ascii_case("identity") {
            return err(
                415,
                "UnsupportedContentEncoding",
                &format!(
                    "Content-Encoding '{enc}' is not supported by the fake (send plain JSON)."
                ),
                None,
                req,
            );
        }
    }
    let body: J = match serde_json::from_slice(&req.body) {
        Ok(b) => b,
        Err(e) => {
            return err(
                400,
                "InvalidJson",
                &format!("The request body is not valid JSON: {e}"),
                None,
                req,
            )
        }
    };
    let spec_problems = crate::spec::validate_ingestion_body(&body);
    if let Some(v) = spec_problems.first() {
        return err(
            400,
            "InvalidPayload",
            &format!("The body does not match the API: {}", v.message),
            Some(&v.path),
            req,
        );
    }
    let records = body.as_array().cloned().unwrap_or_default();
    if let Some((target, message)) = check_records(&records, &decl, max_field, require_all) {
        return err(400, "InvalidPayload", &message, Some(&target), req);
    }
    let client_request_id = req.header("x-ms-client-request-id").map(str::to_string);
    let mut st = app.st();
    for r in records {
        if let J::Object(record) = r {
            st.ingested.push(IngestedRecord {
                dcr: decl.dcr.clone(),
                stream: decl.stream.clone(),
                client_request_id: client_request_id.clone(),
                record,
            });
        }
    }
    Reply::empty(204)
}

/// The first problem of a batch against the stream's columns: (target,
/// message).
fn check_records(
    records: &[J],
    decl: &StreamDecl,
    max_field: usize,
    require_all: bool,
) -> Option<(String, String)> {
    for (i, r) in records.iter().enumerate() {
        let Some(obj) = r.as_object() else {
            return Some((format!("[{i}]"), "each record must be a JSON object".into()));
        };
        if let Some(p) = check_record(obj, decl, max_field, require_all) {
            return Some((format!("[{i}].{}", p.0), p.1));
        }
    }
    None
}

fn check_record(
    obj: &Map<String, J>,
    decl: &StreamDecl,
    max_field: usize,
    require_all: bool,
) -> Option<(String, String)> {
    for (k, v) in obj {
        let Some((_, ty)) = decl.columns.iter().find(|(n, _)| n == k) else {
            return Some((
                k.clone(),
                format!(
                    "column '{k}' is not declared in stream '{}' (declared: {})",
                    decl.stream,
                    decl.columns
                        .iter()
                        .map(|(n, _)| n.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        };
        if !ty.accepts(v) {
            let shown: String = v.to_string().chars().take(80).collect();
            return Some((
                k.clone(),
                format!(
                    "column '{k}' is {}; {shown} is not a valid value",
                    ty.name()
                ),
            ));
        }
        let size = v.to_string().len();
        if size > max_field {
            return Some((
                k.clone(),
                format!("column '{k}' is {size} bytes; a field may be at most {max_field} bytes"),
            ));
        }
    }
    if require_all {
        if let Some((n, _)) = decl.columns.iter().find(|(n, _)| !obj.contains_key(n)) {
            return Some((n.clone(), format!("column '{n}' is missing")));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn decl() -> StreamDecl {
        StreamDecl {
            dcr: crate::DEFAULT_DCR_ID.into(),
            stream: crate::FINDINGS_STREAM.into(),
            columns: FINDINGS_COLUMNS
                .iter()
                .map(|(n, t)| (n.to_string(), *t))
                .collect(),
        }
    }

    fn full() -> Map<String, J> {
        let v = json!({
            "TimeGenerated": "2026-11-25T12:00:00Z", "RunId": "r", "RuleId": "x", "RuleName": "n",
            "Tactics": "CommandAndControl", "Techniques": "T1219", "DeviceId": "d", "DeviceName": "pc",
            "RemoteUrl": "assist.zoho.com", "RemoteIP": "", "AccountName": "", "FirstSeen": null,
            "LastSeen": "2026-11-25T11:00:00.1234567Z", "EventCount": 3, "Finding": {"a": [1]}
        });
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn records_are_checked_against_the_columns() {
        let d = decl();
        assert_eq!(check_record(&full(), &d, 65_536, true), None);
        let cases: Vec<(&str, J, &str)> = vec![
            ("Extra", json!("x"), "Extra"),
            ("EventCount", json!("3"), "EventCount"),
            ("EventCount", json!(1.5), "EventCount"),
            ("TimeGenerated", json!("yesterday"), "TimeGenerated"),
            ("DeviceName", json!(5), "DeviceName"),
            ("Finding", json!("x".repeat(70_000)), "Finding"),
        ];
        for (k, v, target) in cases {
            let mut r = full();
            r.insert(k.into(), v.clone());
            let got = check_record(&r, &d, 65_536, true).map(|p| p.0);
            assert_eq!(got.as_deref(), Some(target), "{k} = {v}");
        }
        let mut r = full();
        r.remove("RemoteIP");
        assert_eq!(
            check_record(&r, &d, 65_536, true).map(|p| p.0).as_deref(),
            Some("RemoteIP")
        );
        assert_eq!(check_record(&r, &d, 65_536, false), None);
    }

    #[test]
    fn paths() {
        assert_eq!(
            parse_path("/dataCollectionRules/dcr-1/streams/Custom-X_CL"),
            Some(("dcr-1".into(), "Custom-X_CL".into()))
        );
        assert_eq!(parse_path("/dataCollectionRules/dcr-1/streams/"), None);
        assert_eq!(parse_path("/dataCollectionRules/dcr-1"), None);
    }
}
