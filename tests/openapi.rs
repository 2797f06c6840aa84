//! `src/serve/openapi.json` (served at `GET /api/openapi.json`): an OpenAPI
//! 3.1 document with every path, method and status code of the HTTP API
//! contract, every `$ref` resolving, every example valid against its schema,
//! and the golden hunt JSON (`tests/it/hunt_sample.golden.json`, the output of
//! `rmmhunt hunt --format json`) valid against the hunt schema.
//!
//! The schemas are checked with the small JSON Schema validator below, for
//! the subset of keywords the document uses (a full validator crate would
//! bring in a dozen dependencies for this one test); it refuses any keyword it
//! does not know, so the document cannot drift outside what is checked.
//! `.ci/api-check.sh` runs the reference validators (openapi-spec-validator,
//! schemathesis) on top.

use serde_json::{json, Value};

fn document() -> Value {
    let text = include_str!("../src/serve/openapi.json");
    serde_json::from_str(text).unwrap_or_else(|e| panic!("openapi.json: {e}"))
}

fn golden_hunt() -> Value {
    let text = include_str!("it/hunt_sample.golden.json");
    serde_json::from_str(text).unwrap_or_else(|e| panic!("hunt_sample.golden.json: {e}"))
}

/// The contract: path, method, the status codes it must document.
const CONTRACT: &[(&str, &str, &[u16])] = &[
    (
        "/api/hunts",
        "post",
        &[
            200, 400, 401, 403, 405, 409, 413, 415, 422, 500, 502, 503, 504,
        ],
    ),
    ("/api/rules", "get", &[200, 401, 403, 500, 503]),
    ("/api/health", "get", &[200, 401, 403, 500, 503]),
    ("/api/openapi.json", "get", &[200, 401, 403]),
];

/// Problem slug of each error status (the contract's table).
const SLUGS: &[(u16, &str)] = &[
    (400, "bad-request"),
    (401, "unauthorized"),
    (403, "forbidden"),
    (404, "not-found"),
    (405, "method-not-allowed"),
    (409, "already-running"),
    (413, "payload-too-large"),
    (415, "unsupported-media-type"),
    (422, "invalid-request"),
    (500, "internal"),
    (502, "source-failed"),
    (503, "unavailable"),
    (504, "deadline"),
];

/// Resolves a local `$ref` (`#/a/b`) in `doc`.
fn resolve<'d>(doc: &'d Value, reference: &str) -> Option<&'d Value> {
    doc.pointer(reference.strip_prefix('#')?)
}

/// Follows `$ref`s (a Response or Schema object may be one).
fn deref<'d>(doc: &'d Value, mut v: &'d Value) -> &'d Value {
    for _ in 0..16 {
        match v.get("$ref").and_then(Value::as_str) {
            Some(r) => {
                v = resolve(doc, r).unwrap_or_else(|| panic!("unresolved $ref {r}"));
            }
            None => return v,
        }
    }
    panic!("$ref chain too long")
}

// --- the JSON Schema subset -------------------------------------------------

const ANNOTATIONS: &[&str] = &["description", "examples", "default", "title", "format"];

/// Errors of `value` against `schema` (empty when valid), with JSON pointers.
fn validate(doc: &Value, schema: &Value, value: &Value) -> Vec<String> {
    let mut errors = Vec::new();
    check(doc, schema, value, "", &mut errors);
    errors
}

fn check(doc: &Value, schema: &Value, value: &Value, at: &str, errors: &mut Vec<String>) {
    let Some(schema) = schema.as_object() else {
        match schema {
            Value::Bool(true) => {}
            Value::Bool(false) => errors.push(format!("{at}: not allowed")),
            _ => errors.push(format!("{at}: a schema must be an object or a bool")),
        }
        return;
    };
    let mut fail = |msg: String| errors.push(format!("{at}: {msg}"));
    let mut nested: Vec<(String, &Value, &Value)> = Vec::new();
    for (keyword, arg) in schema {
        match keyword.as_str() {
            "$ref" => {
                let target = arg
                    .as_str()
                    .and_then(|r| resolve(doc, r))
                    .unwrap_or_else(|| panic!("unresolved $ref {arg}"));
                nested.push((String::new(), target, value));
            }
            "type" => {
                let types: Vec<&str> = match arg {
                    Value::String(t) => vec![t.as_str()],
                    Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
                    _ => panic!("bad type {arg}"),
                };
                if !types.iter().any(|t| has_type(value, t)) {
                    fail(format!("{value} is not of type {arg}"));
                }
            }
            "enum" => {
                let options = arg.as_array().unwrap_or_else(|| panic!("bad enum {arg}"));
                if !options.contains(value) {
                    fail(format!("{value} is not one of {arg}"));
                }
            }
            "const" => {
                if value != arg {
                    fail(format!("{value} is not {arg}"));
                }
            }
            "properties" => {
                if let Some(obj) = value.as_object() {
                    for (name, sub) in arg.as_object().unwrap_or_else(|| panic!("{arg}")) {
                        if let Some(v) = obj.get(name) {
                            nested.push((format!("/{name}"), sub, v));
                        }
                    }
                }
            }
            "required" => {
                if let Some(obj) = value.as_object() {
                    for name in arg.as_array().unwrap_or_else(|| panic!("{arg}")) {
                        let name = name.as_str().unwrap_or_else(|| panic!("{arg}"));
                        if !obj.contains_key(name) {
                            fail(format!("`{name}` is required"));
                        }
                    }
                }
            }
            "additionalProperties" => {
                if let Some(obj) = value.as_object() {
                    let declared = schema.get("properties").and_then(Value::as_object);
                    for (name, v) in obj {
                        if declared.is_none_or(|d| !d.contains_key(name)) {
                            nested.push((format!("/{name}"), arg, v));
                        }
                    }
                }
            }
            "items" => {
                if let Some(items) = value.as_array() {
                    for (i, v) in items.iter().enumerate() {
                        nested.push((format!("/{i}"), arg, v));
                    }
                }
            }
            "allOf" => {
                for sub in arg.as_array().unwrap_or_else(|| panic!("{arg}")) {
                    nested.push((String::new(), sub, value));
                }
            }
            "not" => {
                if validate(doc, arg, value).is_empty() {
                    fail(format!("{value} matches `not` {arg}"));
                }
            }
            "minimum" | "maximum" => {
                if let (Some(v), Some(limit)) = (value.as_f64(), arg.as_f64()) {
                    let ok = if keyword == "minimum" {
                        v >= limit
                    } else {
                        v <= limit
                    };
                    if !ok {
                        fail(format!("{v} is beyond {keyword} {limit}"));
                    }
                }
            }
            "maxLength" | "minLength" => {
                if let (Some(s), Some(limit)) = (value.as_str(), arg.as_u64()) {
                    let n = s.chars().count() as u64;
                    let ok = if keyword == "maxLength" {
                        n <= limit
                    } else {
                        n >= limit
                    };
                    if !ok {
                        fail(format!("length {n} is beyond {keyword} {limit}"));
                    }
                }
            }
            "pattern" => {
                if let Some(s) = value.as_str() {
                    let re = regex::Regex::new(arg.as_str().unwrap_or_else(|| panic!("{arg}")))
                        .unwrap_or_else(|e| panic!("pattern {arg}: {e}"));
                    if !re.is_match(s) {
                        fail(format!("`{s}` does not match {arg}"));
                    }
                }
            }
            k if ANNOTATIONS.contains(&k) => {}
            k => panic!("{at}: the checker does not know the keyword `{k}`"),
        }
    }
    if let (Some(fmt), Some(s)) = (schema.get("format").and_then(Value::as_str), value.as_str()) {
        let ok = match fmt {
            "date-time" => s.parse::<jiff::Timestamp>().is_ok(),
            "date" => s.parse::<jiff::civil::Date>().is_ok() && s.len() == 10,
            other => panic!("the checker does not know the format `{other}`"),
        };
        if !ok {
            errors.push(format!("{at}: `{s}` is not a {fmt}"));
        }
    }
    for (suffix, sub, v) in nested {
        check(doc, sub, v, &format!("{at}{suffix}"), errors);
    }
}

fn has_type(value: &Value, ty: &str) -> bool {
    match ty {
        "object" => value.is_object(),
        "array" => value.is_array(),
        "string" => value.is_string(),
        "boolean" => value.is_boolean(),
        "null" => value.is_null(),
        "number" => value.is_number(),
        "integer" => value.is_i64() || value.is_u64(),
        other => panic!("unknown type {other}"),
    }
}

/// A `$ref` to the component schema `name` (which must exist).
fn schema(doc: &Value, name: &str) -> Value {
    let pointer = format!("/components/schemas/{name}");
    assert!(doc.pointer(&pointer).is_some(), "no schema {name}");
    json!({ "$ref": format!("#{pointer}") })
}

// --- tests -----------------------------------------------------------------

#[test]
fn is_openapi_3_1_with_every_contract_operation_and_status() {
    let doc = document();
    assert_eq!(doc["openapi"], "3.1.0");
    assert!(doc["info"]["title"].is_string() && doc["info"]["version"].is_string());
    for (path, method, codes) in CONTRACT {
        let op = doc["paths"][path][method]
            .as_object()
            .unwrap_or_else(|| panic!("{method} {path} missing"));
        let responses = op["responses"].as_object().unwrap();
        for code in *codes {
            assert!(
                responses.contains_key(&code.to_string()),
                "{method} {path}: no {code} response"
            );
        }
        // Only the contract's methods on the contract's paths.
        let methods: Vec<&String> = doc["paths"][path].as_object().unwrap().keys().collect();
        assert_eq!(methods, [method], "{path}");
    }
    // The host's timer route is not public API; `/` is marked internal.
    assert!(doc["paths"].get("/HuntTimer").is_none());
    assert_eq!(doc["paths"]["/"]["get"]["x-internal"], true);
    assert_eq!(doc["paths"]["/"]["get"]["security"], json!([]));
    let paths: Vec<&String> = doc["paths"].as_object().unwrap().keys().collect();
    assert_eq!(paths.len(), CONTRACT.len() + 1, "{paths:?}");
}

#[test]
fn security_schemes_cover_function_keys_api_key_and_bearer() {
    let doc = document();
    let s = &doc["components"]["securitySchemes"];
    let key = |name: &str| {
        (
            s[name]["type"].clone(),
            s[name]["in"].clone(),
            s[name]["name"].clone(),
        )
    };
    assert_eq!(
        key("functionKey"),
        (json!("apiKey"), json!("header"), json!("x-functions-key"))
    );
    assert_eq!(
        key("functionKeyQuery"),
        (json!("apiKey"), json!("query"), json!("code"))
    );
    assert_eq!(
        key("apiKey"),
        (json!("apiKey"), json!("header"), json!("x-api-key"))
    );
    assert_eq!(s["bearer"]["type"], "http");
    assert_eq!(s["bearer"]["scheme"], "bearer");
    assert_eq!(s["bearer"]["bearerFormat"], "JWT");
    // Any one of them (the server is configured for one).
    let alternatives: Vec<Value> = doc["security"].as_array().unwrap().clone();
    for name in ["functionKey", "functionKeyQuery", "apiKey", "bearer"] {
        assert!(alternatives.contains(&json!({ name: [] })), "{name}");
    }
}

#[test]
fn every_ref_resolves() {
    fn walk(doc: &Value, v: &Value, at: &str, n: &mut usize) {
        match v {
            Value::Object(map) => {
                for (k, sub) in map {
                    if k == "$ref" {
                        let r = sub
                            .as_str()
                            .unwrap_or_else(|| panic!("{at}: $ref not a string"));
                        assert!(r.starts_with("#/"), "{at}: non-local $ref {r}");
                        assert!(resolve(doc, r).is_some(), "{at}: unresolved $ref {r}");
                        *n += 1;
                    } else {
                        walk(doc, sub, &format!("{at}/{k}"), n);
                    }
                }
            }
            Value::Array(items) => {
                for (i, sub) in items.iter().enumerate() {
                    walk(doc, sub, &format!("{at}/{i}"), n);
                }
            }
            _ => {}
        }
    }
    let doc = document();
    let mut n = 0;
    walk(&doc, &doc, "", &mut n);
    assert!(n > 40, "only {n} $refs: the walk missed them");
}

#[test]
fn errors_are_problem_json_with_the_contract_slug() {
    let doc = document();
    let mut seen = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            for (code, response) in op["responses"].as_object().unwrap() {
                let status: u16 = code.parse().unwrap_or_else(|e| panic!("{code}: {e}"));
                let response = deref(&doc, response);
                assert!(
                    response["headers"]["x-request-id"].is_object(),
                    "{method} {path} {code}: no x-request-id"
                );
                if status < 400 {
                    assert!(
                        response["content"]["application/json"].is_object(),
                        "{method} {path} {code}"
                    );
                    continue;
                }
                let media = &response["content"]["application/problem+json"];
                assert!(
                    media.is_object(),
                    "{method} {path} {code}: not problem+json"
                );
                let slug = SLUGS
                    .iter()
                    .find(|(s, _)| *s == status)
                    .map(|(_, slug)| *slug)
                    .unwrap_or_else(|| panic!("{code} is not a contract status"));
                let example = &media["example"];
                assert_eq!(
                    example["type"],
                    format!("urn:rmmhunt:problem:{slug}"),
                    "{method} {path} {code}"
                );
                assert_eq!(example["status"], status, "{method} {path} {code}");
                let errs = validate(&doc, &schema(&doc, "Problem"), example);
                assert!(errs.is_empty(), "{method} {path} {code}: {errs:?}");
                if status == 401 || status == 403 {
                    assert!(
                        response["headers"]["WWW-Authenticate"].is_object(),
                        "{code}"
                    );
                }
                if status == 502 || status == 504 {
                    assert!(example["report"].is_object(), "{code}: no report");
                }
                seen += 1;
            }
        }
    }
    assert!(seen >= 25, "{seen}");
}

#[test]
fn every_example_is_valid_against_its_schema() {
    fn walk(doc: &Value, v: &Value, at: &str, n: &mut usize) {
        let Some(map) = v.as_object() else {
            if let Some(items) = v.as_array() {
                for (i, sub) in items.iter().enumerate() {
                    walk(doc, sub, &format!("{at}/{i}"), n);
                }
            }
            return;
        };
        // A Media Type object: `schema` with `example` or `examples` (a map
        // of Example objects); a Schema object: `examples` (a list).
        if let Some(schema) = map.get("schema") {
            let mut values: Vec<&Value> = map.get("example").into_iter().collect();
            if let Some(ex) = map.get("examples").and_then(Value::as_object) {
                values.extend(ex.values().map(|e| &e["value"]));
            }
            for value in values {
                let errs = validate(doc, schema, value);
                assert!(errs.is_empty(), "{at}: {errs:?}");
                *n += 1;
            }
        }
        let is_schema =
            map.contains_key("type") || map.contains_key("allOf") || map.contains_key("const");
        if let (true, Some(list)) = (is_schema, map.get("examples").and_then(Value::as_array)) {
            let schema = Value::Object(map.clone());
            for value in list {
                let errs = validate(doc, &schema, value);
                assert!(errs.is_empty(), "{at}: {errs:?}");
                *n += 1;
            }
        }
        for (k, sub) in map {
            walk(doc, sub, &format!("{at}/{k}"), n);
        }
    }
    let doc = document();
    let mut n = 0;
    walk(&doc, &doc, "", &mut n);
    assert!(n >= 25, "only {n} examples checked");
}

#[test]
fn the_golden_hunt_json_is_a_hunt_report_and_plus_incidents_a_hunt_response() {
    let doc = document();
    let golden = golden_hunt();
    let errs = validate(&doc, &schema(&doc, "HuntReport"), &golden);
    assert!(errs.is_empty(), "{errs:?}");

    // The answer of POST /api/hunts: the same plus `incidents`.
    let ok = &doc["paths"]["/api/hunts"]["post"]["responses"]["200"]["content"]["application/json"]
        ["schema"];
    let errs = validate(&doc, ok, &golden);
    assert_eq!(errs, [": `incidents` is required"]);
    let mut answer = golden.clone();
    answer["incidents"] = json!({"written": false, "created": 0, "updated": 0, "unchanged": 0, "ingested": 0, "actions": []});
    let errs = validate(&doc, ok, &answer);
    assert!(errs.is_empty(), "{errs:?}");

    // The schema is not vacuous: broken reports fail it.
    for (what, pointer, value, want) in [
        (
            "rows not arrays",
            "/rules/0/findings/rows/0",
            json!("x"),
            "is not of type",
        ),
        (
            "unknown column type",
            "/rules/0/findings/columns/0/type",
            json!("text"),
            "is not one of",
        ),
        (
            "excluded not a count",
            "/rules/0/excluded/siem-forwarding",
            json!(-1),
            "beyond minimum",
        ),
        (
            "now not a date-time",
            "/now",
            json!("yesterday"),
            "is not a date-time",
        ),
        (
            "unknown source",
            "/source",
            json!("splunk"),
            "is not one of",
        ),
    ] {
        let mut bad = golden.clone();
        *bad.pointer_mut(pointer)
            .unwrap_or_else(|| panic!("{what}: {pointer}")) = value;
        let errs = validate(&doc, &schema(&doc, "HuntReport"), &bad);
        assert!(errs.iter().any(|e| e.contains(want)), "{what}: {errs:?}");
    }
}

#[test]
fn hunt_request_schema_matches_the_contract() {
    let doc = document();
    let s = schema(&doc, "HuntRequest");
    for ok in [
        json!({}),
        json!({"rule": "b915897c-1fe7-47f4-9e06-2ae74da8203e", "lookback": "5d", "incidents": true}),
        json!({"start": "2026-11-20T00:00:00Z", "end": "2026-11-25T00:00:00Z", "device": "ws-1"}),
        json!({"device": "d".repeat(255)}),
    ] {
        assert_eq!(validate(&doc, &s, &ok), Vec::<String>::new(), "{ok}");
    }
    for (bad, want) in [
        (json!({"lookbak": "5d"}), "/lookbak: not allowed"),
        (
            json!({"lookback": "5d", "start": "2026-11-20T00:00:00Z"}),
            "matches `not`",
        ),
        (json!({"incidents": "yes"}), "is not of type"),
        (json!({"device": "d".repeat(256)}), "beyond maxLength"),
        (json!({"start": "2026-13-01"}), "is not a date-time"),
        (json!([]), "is not of type"),
    ] {
        let errs = validate(&doc, &s, &bad);
        assert!(errs.iter().any(|e| e.contains(want)), "{bad}: {errs:?}");
    }
    let props: Vec<&String> = doc["components"]["schemas"]["HuntRequest"]["properties"]
        .as_object()
        .unwrap()
        .keys()
        .collect();
    assert_eq!(
        props,
        ["rule", "lookback", "start", "end", "incidents", "device"]
    );
}

#[test]
fn health_and_rules_schemas_hold_the_contract_fields() {
    let doc = document();
    let required = |name: &str| -> Vec<String> {
        doc["components"]["schemas"][name]["required"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(
        required("Health"),
        [
            "status",
            "version",
            "under_host",
            "auth",
            "source",
            "rules",
            "exclusions",
            "sinks",
            "schedule"
        ]
    );
    assert_eq!(
        required("RuleInfo"),
        [
            "id",
            "name",
            "description",
            "tactics",
            "techniques",
            "query",
            "enabled"
        ]
    );
    assert_eq!(required("Problem"), ["type", "title", "status"]);
}
