//! Schemas, materialized tables, and the [`Catalog`] through which the
//! caller supplies input tables (the engine never opens files itself).

use crate::value::{Row, Type};
use std::fmt;

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Column {
    pub name: String,
    pub ty: Type,
}

impl Column {
    pub fn new(name: impl Into<String>, ty: Type) -> Column {
        Column {
            name: name.into(),
            ty,
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Schema {
    pub columns: Vec<Column>,
}

impl Schema {
    pub fn new(columns: Vec<Column>) -> Schema {
        Schema { columns }
    }

    pub fn len(&self) -> usize {
        self.columns.len()
    }

    pub fn is_empty(&self) -> bool {
        self.columns.is_empty()
    }

    /// Index of the column named exactly `name` (names are case-sensitive).
    pub fn index_of(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c.name == name)
    }

    pub fn get(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }
}

impl fmt::Display for Schema {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("(")?;
        for (i, c) in self.columns.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{}:{}", c.name, c.ty)?;
        }
        f.write_str(")")
    }
}

/// A materialized result table.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Table {
    pub schema: Schema,
    pub rows: Vec<Row>,
}

/// An error raised while reading an input table (bad file content). The
/// caller's reader fills in where it happened.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{table}: {location}: {message}")]
pub struct ScanError {
    pub table: String,
    /// Where in the input, e.g. `line 12` or `line 12, column "Timestamp"`.
    pub location: String,
    pub message: String,
}

/// A stream of rows from one partition of an input table. Rows hold exactly
/// the columns asked for in [`ScanRequest::columns`], in that order.
pub trait RowStream: Send {
    fn next_row(&mut self) -> Option<Result<Row, ScanError>>;
}

impl<I> RowStream for I
where
    I: Iterator<Item = Result<Row, ScanError>> + Send,
{
    fn next_row(&mut self) -> Option<Result<Row, ScanError>> {
        self.next()
    }
}

/// Literal strings, all of which (ASCII case-insensitively) must appear in
/// the raw text of a row for any of the row's values to satisfy the query's
/// filter: `required[i]` is a set of alternatives, at least one of which
/// must be present. A reader may skip rows that fail this test without
/// decoding them, but only where the raw text cannot hide a needle (e.g. a
/// JSON `\u` escape): when unsure, decode the row.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Prefilter {
    pub required: Vec<Vec<String>>,
}

/// What the engine asks of a table.
#[derive(Clone, Debug, Default)]
pub struct ScanRequest {
    /// Indices into the table's schema, in the order the rows must carry them.
    pub columns: Vec<usize>,
    /// Optional raw-text prefilter (an optimization the reader may ignore).
    pub prefilter: Option<Prefilter>,
    /// How many partitions the engine would like to consume in parallel
    /// (the reader may return fewer, e.g. one for stdin).
    pub partitions: usize,
}

/// Supplies input tables by name. Implemented by the caller (files on disk,
/// HTTP fixtures, in-memory tables...).
pub trait Catalog: Sync {
    /// The schema of a table, or `None` if there is no such table.
    fn schema(&self, table: &str) -> Option<Schema>;

    /// Opens the table for reading; returns one or more partitions whose
    /// concatenation is the whole table.
    fn scan(
        &self,
        table: &str,
        request: &ScanRequest,
    ) -> Result<Vec<Box<dyn RowStream + '_>>, ScanError>;
}

/// A catalog of in-memory tables (tests, fixtures, `datatable` results).
#[derive(Clone, Debug, Default)]
pub struct MemoryCatalog {
    pub tables: Vec<(String, Table)>,
}

impl MemoryCatalog {
    pub fn new() -> MemoryCatalog {
        MemoryCatalog::default()
    }

    pub fn with_table(mut self, name: impl Into<String>, table: Table) -> MemoryCatalog {
        self.insert(name, table);
        self
    }

    pub fn insert(&mut self, name: impl Into<String>, table: Table) {
        let name = name.into();
        self.tables.retain(|(n, _)| *n != name);
        self.tables.push((name, table));
    }

    fn get(&self, name: &str) -> Option<&Table> {
        self.tables.iter().find(|(n, _)| n == name).map(|(_, t)| t)
    }
}

impl Catalog for MemoryCatalog {
    fn schema(&self, table: &str) -> Option<Schema> {
        self.get(table).map(|t| t.schema.clone())
    }

    fn scan(
        &self,
        table: &str,
        request: &ScanRequest,
    ) -> Result<Vec<Box<dyn RowStream + '_>>, ScanError> {
        let t = self.get(table).ok_or_else(|| ScanError {
            table: table.to_string(),
            location: "catalog".into(),
            message: "no such table".into(),
        })?;
        let cols = request.columns.clone();
        let it = t.rows.iter().map(move |r| {
            Ok(cols
                .iter()
                .map(|&i| r.get(i).cloned().unwrap_or_default())
                .collect())
        });
        Ok(vec![Box::new(it)])
    }
}
