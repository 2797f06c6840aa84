//! The Sentinel hunting-query YAML as written on the wire: `id, name,
//! description, requiredDataConnectors, tactics, relevantTechniques, query`
//! plus optional Sentinel keys (`entityMappings`, `version`, `kind`, `tags`,
//! `metadata`, ...). Unknown keys are warnings, not failures; `tactics` and
//! `relevantTechniques` may be a bare string or a list.
//!
//! Reads a [`Node`] tree (positions kept) and reports problems as
//! diagnostics whose spans are byte offsets into the YAML text. No KQL here.

use super::yaml::{Node, NodeKind};
use kql::{Diagnostic, Span};

/// Keys Sentinel hunting queries and analytics rules use that we accept
/// without using them.
const OTHER_KNOWN_KEYS: &[&str] = &[
    "entityMappings",
    "version",
    "kind",
    "tags",
    "metadata",
    "customDetails",
    "alertDetailsOverride",
    "eventGroupingSettings",
    "incidentConfiguration",
    "severity",
    "status",
    "queryFrequency",
    "queryPeriod",
    "triggerOperator",
    "triggerThreshold",
    "suppressionDuration",
    "suppressionEnabled",
    "sentinelEntitiesMappings",
];

/// A hunting query as read from YAML. `query` keeps its node so the loader
/// can map KQL positions into the file.
#[derive(Debug)]
pub(crate) struct HuntingQuery {
    pub id: String,
    pub id_node: Node,
    pub name: String,
    pub description: String,
    pub required_data_connectors: Vec<DataConnector>,
    pub tactics: Vec<String>,
    pub relevant_techniques: Vec<String>,
    pub query: Node,
}

#[derive(Debug)]
pub(crate) struct DataConnector {
    pub connector_id: String,
    pub data_types: Vec<String>,
}

fn span_of(node: &Node) -> Span {
    let len = match &node.kind {
        NodeKind::Scalar(s, _) if !s.contains('\n') => s.len().max(1),
        _ => 1,
    };
    Span::new(node.mark.offset, node.mark.offset + len)
}

fn type_error(key: &str, want: &str, node: &Node) -> Diagnostic {
    Diagnostic::error(
        "RULE004",
        format!("`{key}` must be {want}, found {}", node.kind_name()),
        span_of(node),
    )
}

fn string(key: &str, node: &Node, diags: &mut Vec<Diagnostic>) -> Option<String> {
    match &node.kind {
        NodeKind::Scalar(s, _) => Some(s.clone()),
        _ => {
            diags.push(type_error(key, "a string", node));
            None
        }
    }
}

/// A bare string or a list of strings.
fn string_or_list(key: &str, node: &Node, diags: &mut Vec<Diagnostic>) -> Vec<String> {
    match &node.kind {
        NodeKind::Scalar(s, _) if node.is_null() || s.trim().is_empty() => Vec::new(),
        NodeKind::Scalar(s, _) => vec![s.trim().to_string()],
        NodeKind::Seq(items) => items.iter().filter_map(|i| string(key, i, diags)).collect(),
        _ => {
            diags.push(type_error(key, "a string or a list of strings", node));
            Vec::new()
        }
    }
}

fn connectors(node: &Node, diags: &mut Vec<Diagnostic>) -> Vec<DataConnector> {
    let NodeKind::Seq(items) = &node.kind else {
        if !node.is_null() {
            diags.push(type_error("requiredDataConnectors", "a list", node));
        }
        return Vec::new();
    };
    let mut out = Vec::new();
    for item in items {
        let NodeKind::Map(entries) = &item.kind else {
            diags.push(type_error("requiredDataConnectors[]", "a mapping", item));
            continue;
        };
        let mut c = DataConnector {
            connector_id: String::new(),
            data_types: Vec::new(),
        };
        for (k, v) in entries {
            match k.as_str() {
                Some("connectorId") => {
                    c.connector_id = string("connectorId", v, diags).unwrap_or_default()
                }
                Some("dataTypes") => c.data_types = string_or_list("dataTypes", v, diags),
                Some(other) => diags.push(Diagnostic::warning(
                    "RULE005",
                    format!("unknown key `{other}` in requiredDataConnectors (ignored)"),
                    span_of(k),
                )),
                None => diags.push(type_error("requiredDataConnectors key", "a string", k)),
            }
        }
        out.push(c);
    }
    out
}

/// Reads a hunting query. Returns `None` when a required part is missing or
/// malformed (the reasons are in `diags`).
pub(crate) fn read(root: &Node, diags: &mut Vec<Diagnostic>) -> Option<HuntingQuery> {
    let NodeKind::Map(entries) = &root.kind else {
        diags.push(Diagnostic::error(
            "RULE004",
            format!(
                "a hunting query must be a mapping, found {}",
                root.kind_name()
            ),
            span_of(root),
        ));
        return None;
    };
    let errors_before = diags
        .iter()
        .filter(|d| d.severity == kql::Severity::Error)
        .count();
    let mut seen: Vec<&str> = Vec::new();
    let mut id = None;
    let mut name = None;
    let mut description = None;
    let mut conns = Vec::new();
    let mut tactics = Vec::new();
    let mut techniques = Vec::new();
    let mut query = None;
    for (k, v) in entries {
        let Some(key) = k.as_str() else {
            diags.push(type_error("a key", "a string", k));
            continue;
        };
        if seen.contains(&key) {
            diags.push(Diagnostic::error(
                "RULE008",
                format!("duplicate key `{key}`"),
                span_of(k),
            ));
            continue;
        }
        seen.push(key);
        match key {
            "id" => id = string(key, v, diags).map(|s| (s, v.clone())),
            "name" => name = string(key, v, diags),
            "description" => description = string(key, v, diags),
            "requiredDataConnectors" => conns = connectors(v, diags),
            "tactics" => tactics = string_or_list(key, v, diags),
            "relevantTechniques" => techniques = string_or_list(key, v, diags),
            "query" => {
                if string(key, v, diags).is_some() {
                    query = Some(v.clone());
                }
            }
            k2 if OTHER_KNOWN_KEYS.contains(&k2) => {}
            other => diags.push(Diagnostic::warning(
                "RULE005",
                format!("unknown key `{other}` (ignored)"),
                span_of(k),
            )),
        }
    }
    // missing keys: point at the start of the document
    let whole = Span::new(0, 0);
    for (key, present) in [
        ("id", id.is_some()),
        ("name", name.is_some()),
        ("query", query.is_some()),
    ] {
        if !present && !seen.contains(&key) {
            diags.push(Diagnostic::error(
                "RULE003",
                format!("missing required key `{key}`"),
                whole,
            ));
        }
    }
    if description.is_none() && !seen.contains(&"description") {
        diags.push(Diagnostic::warning(
            "RULE003",
            "missing key `description`",
            whole,
        ));
    }
    if let Some((id, node)) = &id {
        if uuid::Uuid::parse_str(id.trim()).is_err() {
            diags.push(Diagnostic::error(
                "RULE006",
                format!("`id` is not a GUID: {id:?}"),
                span_of(node),
            ));
        }
    }
    if let Some(q) = &query {
        if q.as_str().is_some_and(|s| s.trim().is_empty()) {
            diags.push(Diagnostic::error("RULE007", "`query` is empty", span_of(q)));
        }
    }
    let errors_after = diags
        .iter()
        .filter(|d| d.severity == kql::Severity::Error)
        .count();
    if errors_after > errors_before {
        return None;
    }
    let (id, id_node) = id?;
    Some(HuntingQuery {
        id: id.trim().to_string(),
        id_node,
        name: name?.trim().to_string(),
        description: description.unwrap_or_default(),
        required_data_connectors: conns,
        tactics,
        relevant_techniques: techniques,
        query: query?,
    })
}
