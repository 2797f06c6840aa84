//! The table schemas rules are checked against (Defender XDR Advanced
//! Hunting tables, plus the Sentinel-only columns), read from
//! `schemas/*.schema.json` and built into the binary.
//!
//! [`SchemaCatalog`] is a schema-only [`kql::Catalog`]: it lets the planner
//! check a query (unknown columns, types) without any data. It never scans.

use kql::table::{RowStream, ScanError, ScanRequest};
use kql::{Catalog, Column, Schema, Type};
use std::sync::OnceLock;

/// `(table, schema JSON)`; each JSON is `[{name, type, description}]`.
const SCHEMA_FILES: &[(&str, &str)] = &[
    (
        "DeviceNetworkEvents",
        include_str!("../../schemas/DeviceNetworkEvents.schema.json"),
    ),
    (
        "DeviceProcessEvents",
        include_str!("../../schemas/DeviceProcessEvents.schema.json"),
    ),
    (
        "DeviceFileCertificateInfo",
        include_str!("../../schemas/DeviceFileCertificateInfo.schema.json"),
    ),
];

#[derive(serde::Deserialize)]
struct ColumnJson {
    name: String,
    #[serde(rename = "type")]
    ty: String,
}

fn parse_schema(json: &str) -> Option<Schema> {
    let cols: Vec<ColumnJson> = serde_json::from_str(json).ok()?;
    let columns = cols
        .into_iter()
        .map(|c| Type::from_name(&c.ty).map(|ty| Column::new(c.name, ty)))
        .collect::<Option<Vec<_>>>()?;
    Some(Schema::new(columns))
}

/// Every known table with its schema, in a fixed order. A schema file that
/// does not parse is left out (a unit test makes sure none is).
pub fn known_tables() -> &'static [(String, Schema)] {
    static TABLES: OnceLock<Vec<(String, Schema)>> = OnceLock::new();
    TABLES.get_or_init(|| {
        SCHEMA_FILES
            .iter()
            .filter_map(|(name, json)| parse_schema(json).map(|s| (name.to_string(), s)))
            .collect()
    })
}

/// The schema of a known table.
pub fn table_schema(name: &str) -> Option<&'static Schema> {
    known_tables()
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, s)| s)
}

/// A catalog that knows the schemas of [`known_tables`] and holds no rows.
#[derive(Clone, Copy, Debug, Default)]
pub struct SchemaCatalog;

impl Catalog for SchemaCatalog {
    fn schema(&self, table: &str) -> Option<Schema> {
        table_schema(table).cloned()
    }

    fn scan(
        &self,
        table: &str,
        _request: &ScanRequest,
    ) -> Result<Vec<Box<dyn RowStream + '_>>, ScanError> {
        Err(ScanError {
            table: table.to_string(),
            location: "schema catalog".into(),
            message: "this catalog holds schemas only, no rows".into(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_schema_file_parses() {
        for (name, json) in SCHEMA_FILES {
            let schema = parse_schema(json);
            assert!(
                schema.as_ref().is_some_and(|s| s.len() > 10),
                "schemas/{name}.schema.json"
            );
        }
        assert_eq!(known_tables().len(), SCHEMA_FILES.len());
        let dne = table_schema("DeviceNetworkEvents").map(|s| s.len());
        assert_eq!(dne, Some(49));
        assert!(table_schema("DeviceNetworkEvents").is_some_and(|s| s.get("AccountUpn").is_none()));
        assert!(table_schema("DeviceProcessEvents").is_some_and(|s| s.get("AccountUpn").is_some()));
    }
}
