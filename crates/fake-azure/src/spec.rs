//! Request-body validation against the copied OpenAPI (Swagger 2.0) files
//! in `specs/` (embedded at build time; nothing is read at run time).
//!
//! A small validator for the subset the incident definitions use: `$ref`
//! (relative files and `#/definitions/...`), `allOf`, `properties`,
//! `required`, `type`, `enum`, `format` (`date-time`, `uuid`, `int32`),
//! `items` and `readOnly`. `x-ms-examples` and `additionalProperties` are
//! ignored. Known spec-vs-wire mismatches (specs/SOURCES.md) concern the
//! Log Analytics response, which is not validated here.

use serde_json::Value as J;

const INCIDENTS: &str =
    "securityinsights/resource-manager/Microsoft.SecurityInsights/stable/2025-12-01/Incidents.json";
const INGESTION: &str = "monitor/data-plane/ingestion/stable/2023-01-01/DataCollectionRules.json";
const DATA_PLANE_TYPES: &str = "common-types/data-plane/v1/types.json";
const LOG_ANALYTICS: &str = "operationalinsights/data-plane/Microsoft.OperationalInsights/stable/2022-10-27/OperationalInsights.json";

/// Which spec a definition comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Spec {
    /// SecurityInsights 2025-12-01 `Incidents.json` (+ its common files).
    Incidents,
    /// Log Analytics query data plane 2022-10-27.
    LogAnalytics,
    /// Logs Ingestion 2023-01-01 `DataCollectionRules.json`.
    Ingestion,
    /// The data-plane common types (`ErrorResponse`).
    DataPlaneTypes,
}

/// The embedded spec files by path below `specs/specification/`.
const FILES: &[(&str, &str)] = &[
    (
        INGESTION,
        include_str!("../specs/specification/monitor/data-plane/ingestion/stable/2023-01-01/DataCollectionRules.json"),
    ),
    (
        DATA_PLANE_TYPES,
        include_str!("../specs/specification/common-types/data-plane/v1/types.json"),
    ),
    (
        LOG_ANALYTICS,
        include_str!("../specs/specification/operationalinsights/data-plane/Microsoft.OperationalInsights/stable/2022-10-27/OperationalInsights.json"),
    ),
    (
        INCIDENTS,
        include_str!("../specs/specification/securityinsights/resource-manager/Microsoft.SecurityInsights/stable/2025-12-01/Incidents.json"),
    ),
    (
        "securityinsights/resource-manager/Microsoft.SecurityInsights/stable/2025-12-01/common/IncidentTypes.json",
        include_str!("../specs/specification/securityinsights/resource-manager/Microsoft.SecurityInsights/stable/2025-12-01/common/IncidentTypes.json"),
    ),
    (
        "securityinsights/resource-manager/Microsoft.SecurityInsights/stable/2025-12-01/common/AlertTypes.json",
        include_str!("../specs/specification/securityinsights/resource-manager/Microsoft.SecurityInsights/stable/2025-12-01/common/AlertTypes.json"),
    ),
    (
        "securityinsights/resource-manager/Microsoft.SecurityInsights/stable/2025-12-01/common/EntityTypes.json",
        include_str!("../specs/specification/securityinsights/resource-manager/Microsoft.SecurityInsights/stable/2025-12-01/common/EntityTypes.json"),
    ),
    (
        "securityinsights/resource-manager/common/2.0/types.json",
        include_str!("../specs/specification/securityinsights/resource-manager/common/2.0/types.json"),
    ),
    (
        "common-types/resource-management/v3/types.json",
        include_str!("../specs/specification/common-types/resource-management/v3/types.json"),
    ),
    (
        "common-types/resource-management/v5/types.json",
        include_str!("../specs/specification/common-types/resource-management/v5/types.json"),
    ),
];

/// One problem with a body: where (a JSON path like `properties.severity`)
/// and what.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    pub path: String,
    pub message: String,
    /// True when the only problem is a read-only property being sent.
    pub read_only: bool,
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

fn load(file: &str) -> Option<J> {
    use std::collections::HashMap;
    use std::sync::OnceLock;
    static PARSED: OnceLock<HashMap<&'static str, J>> = OnceLock::new();
    PARSED
        .get_or_init(|| {
            FILES
                .iter()
                .filter_map(|(p, t)| serde_json::from_str(t).ok().map(|j| (*p, j)))
                .collect()
        })
        .get(file)
        .cloned()
}

/// Joins a relative `$ref` file path onto the directory of `base`.
fn join(base: &str, rel: &str) -> String {
    let mut parts: Vec<&str> = base.split('/').collect();
    parts.pop();
    for seg in rel.split('/') {
        match seg {
            "." | "" => {}
            ".." => {
                parts.pop();
            }
            s => parts.push(s),
        }
    }
    parts.join("/")
}

/// Resolves a `$ref` seen in `file` to (file, schema).
fn resolve(file: &str, r: &str) -> Option<(String, J)> {
    let (f, pointer) = r.split_once('#').unwrap_or((r, ""));
    let target = if f.is_empty() {
        file.to_string()
    } else {
        join(file, f)
    };
    let doc = load(&target)?;
    let schema = doc.pointer(pointer)?.clone();
    Some((target, schema))
}

/// Validates `value` against the definition `name` of the incidents spec
/// (`Incident`, `IncidentComment`, `Relation`...). An unknown definition
/// is itself a violation.
pub fn validate_incidents_definition(name: &str, value: &J) -> Vec<Violation> {
    validate(Spec::Incidents, name, value)
}

/// Validates `value` against the definition `name` of `spec`.
pub fn validate(spec: Spec, name: &str, value: &J) -> Vec<Violation> {
    validate_in(spec, name, value, Mode::Request)
}

fn validate_in(spec: Spec, name: &str, value: &J, mode: Mode) -> Vec<Violation> {
    let file = match spec {
        Spec::Incidents => INCIDENTS,
        Spec::LogAnalytics => LOG_ANALYTICS,
        Spec::Ingestion => INGESTION,
        Spec::DataPlaneTypes => DATA_PLANE_TYPES,
    };
    let mut out = Vec::new();
    match resolve(file, &format!("#/definitions/{name}")) {
        Some((file, schema)) => check(&file, &schema, value, "", &mut out, 0, mode),
        None => out.push(Violation {
            path: String::new(),
            message: format!("no definition '{name}' in the spec"),
            read_only: false,
        }),
    }
    out
}

/// Validates a Logs Ingestion request body against the `body` parameter
/// of the spec's `Upload` operation (an array of objects).
pub fn validate_ingestion_body(value: &J) -> Vec<Violation> {
    let mut out = Vec::new();
    let params = load(INGESTION).and_then(|d| {
        d.pointer("/paths/~1dataCollectionRules~1{ruleId}~1streams~1{stream}/post/parameters")
            .cloned()
    });
    let schema = params
        .as_ref()
        .and_then(J::as_array)
        .and_then(|ps| {
            ps.iter()
                .find(|p| p.get("in").and_then(J::as_str) == Some("body"))
        })
        .and_then(|p| p.get("schema"));
    match schema {
        Some(s) => check(INGESTION, s, value, "", &mut out, 0, Mode::Request),
        None => violation(
            &mut out,
            "",
            "no body parameter in the ingestion spec".into(),
        ),
    }
    out
}

/// Validates a response body against the data-plane `ErrorResponse`
/// (read-only members are what a response carries).
pub fn validate_error_response(value: &J) -> Vec<Violation> {
    validate_in(Spec::DataPlaneTypes, "ErrorResponse", value, Mode::Response)
}

fn at(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

fn violation(out: &mut Vec<Violation>, path: &str, message: String) {
    out.push(Violation {
        path: path.to_string(),
        message,
        read_only: false,
    });
}

/// Collects a schema's properties and required names through `$ref` and
/// `allOf`, each with the file it was found in.
fn object_parts(
    file: &str,
    schema: &J,
    props: &mut Vec<(String, String, J)>,
    required: &mut Vec<String>,
    depth: usize,
) {
    if depth > 32 {
        return;
    }
    if let Some(r) = schema.get("$ref").and_then(J::as_str) {
        if let Some((f, s)) = resolve(file, r) {
            object_parts(&f, &s, props, required, depth + 1);
        }
    }
    if let Some(all) = schema.get("allOf").and_then(J::as_array) {
        for s in all {
            object_parts(file, s, props, required, depth + 1);
        }
    }
    if let Some(p) = schema.get("properties").and_then(J::as_object) {
        for (k, v) in p {
            props.push((k.clone(), file.to_string(), v.clone()));
        }
    }
    if let Some(r) = schema.get("required").and_then(J::as_array) {
        required.extend(r.iter().filter_map(J::as_str).map(str::to_string));
    }
}

/// `readOnly` on the property or on the definition its `$ref` names.
fn is_read_only(file: &str, schema: &J) -> bool {
    let ro = |s: &J| s.get("readOnly").and_then(J::as_bool) == Some(true);
    ro(schema)
        || schema
            .get("$ref")
            .and_then(J::as_str)
            .and_then(|r| resolve(file, r))
            .is_some_and(|(_, s)| ro(&s))
}

/// Whether a body is sent (read-only members are violations) or received
/// (they are what a response carries).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Request,
    Response,
}

fn check(
    file: &str,
    schema: &J,
    value: &J,
    path: &str,
    out: &mut Vec<Violation>,
    depth: usize,
    mode: Mode,
) {
    if depth > 32 {
        return;
    }
    // A property schema may be a bare $ref with siblings (readOnly, ...).
    let is_object = schema.get("type").and_then(J::as_str) == Some("object")
        || schema.get("properties").is_some()
        || schema.get("allOf").is_some();
    if let Some(r) = schema.get("$ref").and_then(J::as_str) {
        if !is_object {
            if let Some((f, s)) = resolve(file, r) {
                check(&f, &s, value, path, out, depth + 1, mode);
            } else {
                violation(out, path, format!("unresolved $ref {r}"));
            }
            return;
        }
    }
    if is_object || schema.get("$ref").is_some() {
        let Some(obj) = value.as_object() else {
            violation(out, path, "expected an object".into());
            return;
        };
        let mut props = Vec::new();
        let mut required = Vec::new();
        object_parts(file, schema, &mut props, &mut required, depth + 1);
        for r in &required {
            if !obj.contains_key(r) {
                violation(out, &at(path, r), "required property is missing".into());
            }
        }
        for (k, v) in obj {
            if let Some((_, f, s)) = props.iter().find(|(n, _, _)| n == k) {
                let p = at(path, k);
                if mode == Mode::Request && is_read_only(f, s) {
                    out.push(Violation {
                        path: p,
                        message: "read-only property must not be sent".into(),
                        read_only: true,
                    });
                } else {
                    check(f, s, v, &p, out, depth + 1, mode);
                }
            }
        }
        return;
    }
    let ty = schema.get("type").and_then(J::as_str);
    match ty {
        Some("string") => {
            let Some(s) = value.as_str() else {
                violation(out, path, format!("expected a string, got {value}"));
                return;
            };
            if let Some(e) = schema.get("enum").and_then(J::as_array) {
                if !e.iter().any(|x| x.as_str() == Some(s)) {
                    let allowed: Vec<&str> = e.iter().filter_map(J::as_str).collect();
                    violation(
                        out,
                        path,
                        format!("'{s}' is not one of {}", allowed.join(", ")),
                    );
                }
            }
            match schema.get("format").and_then(J::as_str) {
                Some("date-time") if kql::time::parse_datetime(s).is_none() || s.len() < 10 => {
                    violation(out, path, format!("'{s}' is not an ISO 8601 date-time"))
                }
                Some("uuid") if uuid::Uuid::parse_str(s).is_err() => {
                    violation(out, path, format!("'{s}' is not a UUID"))
                }
                _ => {}
            }
        }
        Some("integer") if !(value.is_i64() || value.is_u64()) => {
            violation(out, path, format!("expected an integer, got {value}"));
        }
        Some("number") if !value.is_number() => {
            violation(out, path, format!("expected a number, got {value}"));
        }
        Some("boolean") if !value.is_boolean() => {
            violation(out, path, format!("expected a boolean, got {value}"));
        }
        Some("array") => {
            let Some(items) = value.as_array() else {
                violation(out, path, format!("expected an array, got {value}"));
                return;
            };
            if let Some(s) = schema.get("items") {
                for (i, v) in items.iter().enumerate() {
                    check(file, s, v, &format!("{path}[{i}]"), out, depth + 1, mode);
                }
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_embedded_file_parses() {
        for (p, _) in FILES {
            assert!(load(p).is_some(), "{p} does not parse");
        }
    }

    #[test]
    fn incident_bodies() {
        let cases: Vec<(J, Vec<&str>)> = vec![
            (
                json!({"properties": {"title": "t", "severity": "High", "status": "New"}}),
                vec![],
            ),
            (
                json!({"etag": "\"x\"", "properties": {"title": "t", "severity": "Low", "status": "Active",
                    "labels": [{"labelName": "rmm"}], "owner": {"objectId": "2046feea-040d-4a46-9e2b-91c2941bfa70"},
                    "firstActivityTimeUtc": "2024-03-26T09:00:00Z"}}),
                vec![],
            ),
            (
                json!({"properties": {"title": "t", "severity": "Critical", "status": "New"}}),
                vec!["properties.severity"],
            ),
            (
                json!({"properties": {"severity": "High"}}),
                vec!["properties.title", "properties.status"],
            ),
            (
                json!({"properties": {"title": "t", "severity": "High", "status": "New", "incidentNumber": 3}}),
                vec!["properties.incidentNumber"],
            ),
            (
                json!({"properties": {"title": "t", "severity": "High", "status": "New", "labels": [{"labelName": "a", "labelType": "User"}]}}),
                vec!["properties.labels[0].labelType"],
            ),
            (
                json!({"properties": {"title": "t", "severity": "High", "status": "New", "owner": {"objectId": "nope"}}}),
                vec!["properties.owner.objectId"],
            ),
            (
                json!({"properties": {"title": 5, "severity": "High", "status": "New", "lastActivityTimeUtc": "yesterday"}}),
                vec!["properties.title", "properties.lastActivityTimeUtc"],
            ),
            (json!({"properties": "x"}), vec!["properties"]),
        ];
        for (body, want) in cases {
            let got: Vec<String> = validate_incidents_definition("Incident", &body)
                .into_iter()
                .map(|v| v.path)
                .collect();
            let mut got_sorted = got.clone();
            got_sorted.sort();
            let mut want: Vec<String> = want.iter().map(|s| s.to_string()).collect();
            want.sort();
            assert_eq!(got_sorted, want, "body {body}");
        }
    }

    #[test]
    fn ingestion_bodies_and_error_responses() {
        assert!(validate_ingestion_body(&json!([{"a": 1}, {}])).is_empty());
        assert!(validate_ingestion_body(&json!([])).is_empty());
        let paths = |v: Vec<Violation>| v.into_iter().map(|v| v.path).collect::<Vec<_>>();
        assert_eq!(paths(validate_ingestion_body(&json!({"a": 1}))), vec![""]);
        assert_eq!(
            paths(validate_ingestion_body(&json!([{"a": 1}, 3]))),
            vec!["[1]"]
        );
        assert!(validate_error_response(
            &json!({"error": {"code": "InvalidPayload", "message": "m", "target": "[0].x",
                "details": [{"code": "c", "message": "d"}]}})
        )
        .is_empty());
        assert_eq!(
            paths(validate_error_response(
                &json!({"error": {"code": 5, "message": "m"}})
            )),
            vec!["error.code"]
        );
        assert_eq!(
            paths(validate_error_response(
                &json!({"error": {"code": "c", "details": [{"message": []}]}})
            )),
            vec!["error.details[0].message"]
        );
    }

    #[test]
    fn comment_bodies() {
        let cases = vec![
            (json!({"properties": {"message": "hi"}}), 0),
            (json!({"properties": {}}), 1),
            (
                json!({"properties": {"message": "hi", "author": {"name": "x"}}}),
                1,
            ),
        ];
        for (body, n) in cases {
            let got = validate_incidents_definition("IncidentComment", &body);
            assert_eq!(got.len(), n, "body {body}: {got:?}");
        }
    }
}
