//! Input files as KQL tables: [`FileCatalog`] maps table names to files
//! (`--data FILE`: the table is the file stem; `--data NAME=FILE`) and
//! implements [`kql::Catalog`] over the readers in `kql::input`. This is the
//! only place that opens data files; decoding lives in `kql::input`.
//!
//! Known tables (DeviceNetworkEvents) get their real schema from
//! `schemas/`, embedded at build time; other tables get inferred types.

use kql::input::{ByteSource, Format, InputOptions, InputTable};
use kql::table::{RowStream, ScanError, ScanRequest};
use kql::{Catalog, Column, Schema, Type};
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::{Arc, OnceLock};

const DEVICE_NETWORK_EVENTS_SCHEMA: &str =
    include_str!("../../schemas/DeviceNetworkEvents.schema.json");

/// The built-in schemas, by table name: `[{name, type, description}]`.
const KNOWN_SCHEMAS: &[(&str, &str)] = &[("DeviceNetworkEvents", DEVICE_NETWORK_EVENTS_SCHEMA)];

/// The schema of a known table (`DeviceNetworkEvents`), if any.
pub fn known_schema(table: &str) -> Option<Schema> {
    static PARSED: OnceLock<Vec<(String, Schema)>> = OnceLock::new();
    let parsed = PARSED.get_or_init(|| {
        KNOWN_SCHEMAS
            .iter()
            .filter_map(|(name, text)| parse_schema_json(text).ok().map(|s| (name.to_string(), s)))
            .collect()
    });
    parsed
        .iter()
        .find(|(n, _)| n == table)
        .map(|(_, s)| s.clone())
}

/// Parses a `[{ "name": ..., "type": ... }]` schema file.
pub fn parse_schema_json(text: &str) -> Result<Schema, String> {
    #[derive(serde::Deserialize)]
    struct Col {
        name: String,
        #[serde(rename = "type")]
        ty: String,
    }
    let cols: Vec<Col> = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let mut out = Vec::with_capacity(cols.len());
    for c in cols {
        let ty = Type::from_name(&c.ty)
            .ok_or_else(|| format!("column {}: unknown type '{}'", c.name, c.ty))?;
        out.push(Column::new(c.name, ty));
    }
    Ok(Schema::new(out))
}

/// Failures while opening data files.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    #[error("{path}: {source}")]
    Io { path: String, source: io::Error },
    #[error("{path}: unknown data format (expected .jsonl, .ndjson, .json or .csv)")]
    UnknownFormat { path: String },
    #[error("{path}: cannot derive a table name from the file name; use NAME=FILE")]
    NoTableName { path: String },
    #[error("table {table}: {path} has columns {found} but an earlier file has {expected}")]
    SchemaMismatch {
        table: String,
        path: String,
        expected: String,
        found: String,
    },
    #[error(transparent)]
    Scan(#[from] ScanError),
}

/// One `--data` argument: `FILE` or `NAME=FILE`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DataSpec {
    /// The table name (`None`: the file stem).
    pub table: Option<String>,
    pub path: PathBuf,
}

impl DataSpec {
    /// The table name this spec provides.
    pub fn table_name(&self) -> Option<String> {
        match &self.table {
            Some(t) => Some(t.clone()),
            None => self
                .path
                .file_stem()
                .and_then(|s| s.to_str())
                .map(str::to_string),
        }
    }
}

fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

impl FromStr for DataSpec {
    type Err = String;

    /// `NAME=FILE` when the text before the first `=` is an identifier,
    /// else the whole text is a path.
    fn from_str(s: &str) -> Result<DataSpec, String> {
        if s.is_empty() {
            return Err("empty data file name".into());
        }
        if let Some((name, path)) = s.split_once('=') {
            if is_identifier(name) {
                if path.is_empty() {
                    return Err(format!("{s}: missing file after '='"));
                }
                return Ok(DataSpec {
                    table: Some(name.to_string()),
                    path: PathBuf::from(path),
                });
            }
        }
        Ok(DataSpec {
            table: None,
            path: PathBuf::from(s),
        })
    }
}

/// A file read by byte ranges (each range opens its own handle, so
/// partitions read in parallel).
#[derive(Debug)]
pub struct FileSource {
    path: PathBuf,
    len: u64,
}

impl FileSource {
    pub fn open(path: &Path) -> io::Result<FileSource> {
        let meta = std::fs::metadata(path)?;
        if meta.is_dir() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "is a directory",
            ));
        }
        // Fail now, not at the first scan, when the file cannot be read.
        File::open(path)?;
        Ok(FileSource {
            path: path.to_path_buf(),
            len: meta.len(),
        })
    }
}

impl ByteSource for FileSource {
    fn len(&self) -> u64 {
        self.len
    }

    fn open_range(&self, start: u64, end: u64) -> io::Result<Box<dyn Read + Send>> {
        let mut f = File::open(&self.path)?;
        f.seek(SeekFrom::Start(start))?;
        Ok(Box::new(f.take(end.saturating_sub(start))))
    }
}

/// Tables backed by data files. Several files may give the same table
/// (same columns): their rows are concatenated in argument order.
#[derive(Debug, Default)]
pub struct FileCatalog {
    tables: Vec<(String, Vec<InputTable>)>,
    options: InputOptions,
}

impl FileCatalog {
    pub fn new() -> FileCatalog {
        FileCatalog::default()
    }

    pub fn with_options(options: InputOptions) -> FileCatalog {
        FileCatalog {
            tables: Vec::new(),
            options,
        }
    }

    /// Opens every spec (in order).
    pub fn open(specs: &[DataSpec]) -> Result<FileCatalog, FileError> {
        let mut c = FileCatalog::new();
        for s in specs {
            c.add(s)?;
        }
        Ok(c)
    }

    /// Table names, in the order first added.
    pub fn table_names(&self) -> Vec<&str> {
        self.tables.iter().map(|(n, _)| n.as_str()).collect()
    }

    /// Opens one data file (format from its extension).
    pub fn add(&mut self, spec: &DataSpec) -> Result<(), FileError> {
        let path = spec.path.display().to_string();
        let table = spec
            .table_name()
            .ok_or_else(|| FileError::NoTableName { path: path.clone() })?;
        let format = spec
            .path
            .extension()
            .and_then(|e| e.to_str())
            .and_then(Format::from_extension)
            .ok_or_else(|| FileError::UnknownFormat { path: path.clone() })?;
        let source = FileSource::open(&spec.path).map_err(|source| FileError::Io {
            path: path.clone(),
            source,
        })?;
        self.add_source(&table, &path, Arc::new(source), format)
    }

    /// Adds any byte source as (part of) a table; `origin` names it in errors.
    pub fn add_source(
        &mut self,
        table: &str,
        origin: &str,
        source: Arc<dyn ByteSource>,
        format: Format,
    ) -> Result<(), FileError> {
        let input = InputTable::open(
            table,
            origin,
            source,
            format,
            known_schema(table),
            self.options.clone(),
        )?;
        match self.tables.iter_mut().find(|(n, _)| n == table) {
            Some((_, parts)) => {
                if let Some(first) = parts.first() {
                    if first.schema() != input.schema() {
                        return Err(FileError::SchemaMismatch {
                            table: table.to_string(),
                            path: origin.to_string(),
                            expected: first.schema().to_string(),
                            found: input.schema().to_string(),
                        });
                    }
                }
                parts.push(input);
            }
            None => self.tables.push((table.to_string(), vec![input])),
        }
        Ok(())
    }
}

impl Catalog for FileCatalog {
    fn schema(&self, table: &str) -> Option<Schema> {
        self.tables
            .iter()
            .find(|(n, _)| n == table)
            .and_then(|(_, parts)| parts.first())
            .map(|t| t.schema().clone())
    }

    fn scan(
        &self,
        table: &str,
        request: &ScanRequest,
    ) -> Result<Vec<Box<dyn RowStream + '_>>, ScanError> {
        let (_, parts) = self
            .tables
            .iter()
            .find(|(n, _)| n == table)
            .ok_or_else(|| ScanError {
                table: table.to_string(),
                location: "catalog".into(),
                message: "no such table".into(),
            })?;
        let mut out: Vec<Box<dyn RowStream + '_>> = Vec::new();
        for p in parts {
            out.extend(p.scan(request)?);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_specs() {
        let cases: &[(&str, Option<&str>, &str)] = &[
            (
                "DeviceNetworkEvents.jsonl",
                None,
                "DeviceNetworkEvents.jsonl",
            ),
            ("Net=data/x.csv", Some("Net"), "data/x.csv"),
            ("dir/a=b.json", None, "dir/a=b.json"),
            ("./T=1.csv", None, "./T=1.csv"),
        ];
        for (text, table, path) in cases {
            let s: DataSpec = text.parse().unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(s.table.as_deref(), *table, "input {text}");
            assert_eq!(s.path, PathBuf::from(path), "input {text}");
        }
        assert!("".parse::<DataSpec>().is_err());
        assert!("T=".parse::<DataSpec>().is_err());
        let s: DataSpec = "x/DeviceNetworkEvents.jsonl"
            .parse()
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(s.table_name().as_deref(), Some("DeviceNetworkEvents"));
    }

    #[test]
    fn device_network_events_schema_is_embedded() {
        let s = known_schema("DeviceNetworkEvents").unwrap_or_default();
        assert_eq!(s.len(), 49);
        assert_eq!(s.get("Timestamp").map(|c| c.ty), Some(Type::DateTime));
        assert_eq!(s.get("RemotePort").map(|c| c.ty), Some(Type::Int));
        assert_eq!(s.get("ReportId").map(|c| c.ty), Some(Type::Long));
        assert_eq!(
            s.get("IsInitiatingProcessRemoteSession").map(|c| c.ty),
            Some(Type::Bool)
        );
        assert!(known_schema("Other").is_none());
    }

    #[test]
    fn files_open_and_scan() {
        let dir = std::env::temp_dir().join(format!("rmmhunt-files-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
        let jsonl = dir.join("Events.jsonl");
        let csv = dir.join("Other.csv");
        let bad = dir.join("x.txt");
        std::fs::write(&jsonl, "{\"a\":1}\n{\"a\":2}\n").unwrap_or_else(|e| panic!("{e}"));
        std::fs::write(&csv, "a\n3\n").unwrap_or_else(|e| panic!("{e}"));
        std::fs::write(&bad, "").unwrap_or_else(|e| panic!("{e}"));
        let specs = vec![
            DataSpec {
                table: None,
                path: jsonl.clone(),
            },
            DataSpec {
                table: Some("Events".into()),
                path: csv.clone(),
            },
        ];
        let cat = FileCatalog::open(&specs).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(cat.table_names(), vec!["Events"]);
        let req = ScanRequest {
            columns: vec![0],
            prefilter: None,
            partitions: 2,
        };
        let mut n = Vec::new();
        for mut p in cat.scan("Events", &req).unwrap_or_else(|e| panic!("{e}")) {
            while let Some(r) = p.next_row() {
                n.push(r.unwrap_or_else(|e| panic!("{e}")));
            }
        }
        assert_eq!(
            n,
            vec![
                vec![kql::Value::Long(1)],
                vec![kql::Value::Long(2)],
                vec![kql::Value::Long(3)]
            ]
        );
        let err = FileCatalog::open(&[DataSpec {
            table: None,
            path: bad.clone(),
        }]);
        assert!(matches!(err, Err(FileError::UnknownFormat { .. })));
        let err = FileCatalog::open(&[DataSpec {
            table: None,
            path: dir.join("missing.jsonl"),
        }]);
        assert!(matches!(err, Err(FileError::Io { .. })));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn malformed_rows_name_file_and_line() {
        let dir = std::env::temp_dir().join(format!("rmmhunt-files-bad-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
        let path = dir.join("DeviceNetworkEvents.jsonl");
        let good = r#"{"Timestamp":"2024-05-01T10:01:00.1234567Z","RemotePort":443}"#;
        std::fs::write(&path, format!("{good}\n{good}\n{{\"RemotePort\":}}\n"))
            .unwrap_or_else(|e| panic!("{e}"));
        let spec: DataSpec = path
            .display()
            .to_string()
            .parse()
            .unwrap_or_else(|e: String| panic!("{e}"));
        let cat = FileCatalog::open(&[spec]).unwrap_or_else(|e| panic!("{e}"));
        // The known schema applies: all 49 columns, typed.
        let schema = cat.schema("DeviceNetworkEvents").unwrap_or_default();
        assert_eq!(schema.len(), 49);
        let req = ScanRequest {
            columns: vec![0, 5],
            prefilter: None,
            partitions: 1,
        };
        let mut rows = Vec::new();
        let mut error = None;
        for mut p in cat
            .scan("DeviceNetworkEvents", &req)
            .unwrap_or_else(|e| panic!("{e}"))
        {
            while let Some(r) = p.next_row() {
                match r {
                    Ok(r) => rows.push(r),
                    Err(e) => error = Some(e),
                }
            }
        }
        assert_eq!(rows.len(), 2);
        assert_eq!(
            rows.first().and_then(|r| r.get(1)),
            Some(&kql::Value::Int(443))
        );
        let e = error.unwrap_or_else(|| panic!("expected an error"));
        assert_eq!(e.location, format!("{}, line 3, column 15", path.display()));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
