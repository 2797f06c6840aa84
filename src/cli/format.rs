//! Output formats for result tables and the choice of a default
//! (json when stdout is a pipe, a text table on a terminal). The encodings
//! themselves are `kql::output`'s; this file only dispatches.

use clap::ValueEnum;
use kql::Table;
use std::io::{IsTerminal, Write};

/// `--format` of `rmmhunt query`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum TableFormat {
    /// `{"columns":[{"name","type"}],"rows":[[...]]}` (Log Analytics shape).
    Json,
    /// Aligned text columns for people.
    Table,
    /// RFC 4180 CSV with a header line.
    Csv,
}

impl TableFormat {
    /// The explicit choice, else `table` on a terminal and `json` otherwise.
    pub fn or_default(choice: Option<TableFormat>) -> TableFormat {
        choice.unwrap_or(if std::io::stdout().is_terminal() {
            TableFormat::Table
        } else {
            TableFormat::Json
        })
    }
}

/// Writes one table in the given format, ending with a newline.
pub fn write_table(out: &mut dyn Write, table: &Table, format: TableFormat) -> std::io::Result<()> {
    match format {
        TableFormat::Json => {
            serde_json::to_writer(&mut *out, &table_json(table))?;
            writeln!(out)
        }
        TableFormat::Csv => write_csv(out, table),
        TableFormat::Table => write_text_table(out, table),
    }
}

/// `{"columns":[{"name","type"}],"rows":[[...]]}` with Kusto's value encoding.
pub fn table_json(table: &Table) -> serde_json::Value {
    kql::output::table_to_json(table)
}

/// CSV with a header line.
pub fn write_csv(out: &mut dyn Write, table: &Table) -> std::io::Result<()> {
    kql::output::write_csv(table, out)
}

/// Aligned text columns with a header and a rule line.
pub fn write_text_table(out: &mut dyn Write, table: &Table) -> std::io::Result<()> {
    kql::output::write_text_table(table, out)
}
