//! Fixture tables from bytes (JSON Lines, JSON arrays, CSV) through the
//! engine's readers (`kql::input`), with the real DeviceNetworkEvents
//! schema (the repository's `schemas/`, embedded at build time) when the
//! table is known, inferred types otherwise. No file access here: the
//! binary reads files and hands the bytes in.

use kql::input::{Format, InputOptions, InputTable, MemorySource};
use kql::table::{ScanError, ScanRequest};
use kql::{Column, Schema, Table, Type};
use std::sync::Arc;

const KNOWN: &[(&str, &str)] = &[
    (
        "DeviceNetworkEvents",
        include_str!("../../../schemas/DeviceNetworkEvents.schema.json"),
    ),
    (
        "DeviceProcessEvents",
        include_str!("../../../schemas/DeviceProcessEvents.schema.json"),
    ),
    (
        "DeviceFileCertificateInfo",
        include_str!("../../../schemas/DeviceFileCertificateInfo.schema.json"),
    ),
];

/// The real schema of a known Defender table, if any.
pub fn known_schema(table: &str) -> Option<Schema> {
    let (_, text) = KNOWN.iter().find(|(n, _)| *n == table)?;
    let cols: Vec<serde_json::Value> = serde_json::from_str(text).ok()?;
    let mut out = Vec::with_capacity(cols.len());
    for c in cols {
        let name = c.get("name")?.as_str()?;
        let ty = Type::from_name(c.get("type")?.as_str()?)?;
        out.push(Column::new(name, ty));
    }
    Some(Schema::new(out))
}

/// Decodes a whole input into a table named `name`; `origin` names it in
/// errors. Uses the known schema of `name` when there is one.
pub fn load_table(
    name: &str,
    origin: &str,
    bytes: Vec<u8>,
    format: Format,
) -> Result<Table, ScanError> {
    let src = Arc::new(MemorySource::new(bytes));
    let input = InputTable::open(
        name,
        origin,
        src,
        format,
        known_schema(name),
        InputOptions::default(),
    )?;
    let schema = input.schema().clone();
    let request = ScanRequest {
        columns: (0..schema.len()).collect(),
        prefilter: None,
        partitions: 1,
    };
    let mut rows = Vec::new();
    for mut part in input.scan(&request)? {
        while let Some(row) = part.next_row() {
            rows.push(row?);
        }
    }
    Ok(Table { schema, rows })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_schemas_parse() {
        for (name, _) in KNOWN {
            let s = known_schema(name);
            assert!(s.as_ref().is_some_and(|s| !s.is_empty()), "{name}");
        }
        let dne = known_schema("DeviceNetworkEvents").unwrap_or_default();
        assert_eq!(
            dne.get("Timestamp").map(|c| c.ty),
            Some(Type::DateTime),
            "{dne}"
        );
    }

    #[test]
    fn jsonl_with_known_and_inferred_schemas() {
        let text = "{\"Timestamp\":\"2024-03-26T08:00:00Z\",\"DeviceName\":\"pc01\",\"RemotePort\":443}\n\
                    {\"Timestamp\":\"2024-03-26T09:00:00Z\",\"DeviceName\":\"pc02\",\"RemotePort\":80}\n";
        let known = load_table(
            "DeviceNetworkEvents",
            "t.jsonl",
            text.into(),
            Format::JsonLines,
        );
        let known = known.unwrap_or_default();
        assert_eq!(known.rows.len(), 2);
        assert_eq!(
            known.schema,
            known_schema("DeviceNetworkEvents").unwrap_or_default()
        );
        let inferred = load_table("Other", "t.jsonl", text.into(), Format::JsonLines);
        let inferred = inferred.unwrap_or_default();
        assert_eq!(inferred.schema.len(), 3, "{}", inferred.schema);
        let bad = load_table("Other", "bad.jsonl", b"{nope\n".to_vec(), Format::JsonLines);
        assert!(bad.is_err());
    }
}
