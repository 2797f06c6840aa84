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
    interim::table_to_json(table)
}

/// CSV with a header line.
pub fn write_csv(out: &mut dyn Write, table: &Table) -> std::io::Result<()> {
    interim::write_csv(out, table)
}

/// Aligned text columns with a header and a rule line.
pub fn write_text_table(out: &mut dyn Write, table: &Table) -> std::io::Result<()> {
    interim::write_text_table(out, table)
}

/// Until `kql::output` (values branch) lands: the same contract, kept
/// deliberately small. Replaced by `kql::output` on merge.
mod interim {
    use kql::{Table, Value};
    use serde_json::json;
    use std::io::Write;

    fn value_json(v: &Value) -> serde_json::Value {
        match v {
            Value::Null => serde_json::Value::Null,
            Value::Bool(b) => json!(b),
            Value::Int(i) => json!(i),
            Value::Long(i) => json!(i),
            Value::Real(r) if r.is_nan() => json!("NaN"),
            Value::Real(r) if r.is_infinite() => {
                json!(if *r > 0.0 { "Infinity" } else { "-Infinity" })
            }
            Value::Real(r) => json!(r),
            Value::Decimal(d) => json!(d.to_string()),
            Value::String(s) => json!(&**s),
            Value::DateTime(t) => json!(kql::time::format_datetime(*t)),
            Value::TimeSpan(t) => json!(kql::time::format_timespan(*t)),
            Value::Guid(g) => json!(g.to_string()),
            Value::Dynamic(d) => (**d).clone(),
        }
    }

    fn value_text(v: &Value) -> String {
        match v {
            Value::String(s) => s.to_string(),
            Value::Null => String::new(),
            Value::Dynamic(d) => d.to_string(),
            other => match value_json(other) {
                serde_json::Value::String(s) => s,
                j => j.to_string(),
            },
        }
    }

    pub fn table_to_json(table: &Table) -> serde_json::Value {
        let columns: Vec<_> = table
            .schema
            .columns
            .iter()
            .map(|c| json!({"name": c.name, "type": c.ty.name()}))
            .collect();
        let rows: Vec<Vec<_>> = table
            .rows
            .iter()
            .map(|r| r.iter().map(value_json).collect())
            .collect();
        json!({"columns": columns, "rows": rows})
    }

    fn csv_field(s: &str) -> String {
        if s.contains([',', '"', '\n', '\r']) {
            format!("\"{}\"", s.replace('"', "\"\""))
        } else {
            s.to_string()
        }
    }

    pub fn write_csv(out: &mut dyn Write, table: &Table) -> std::io::Result<()> {
        let header: Vec<_> = table
            .schema
            .columns
            .iter()
            .map(|c| csv_field(&c.name))
            .collect();
        writeln!(out, "{}", header.join(","))?;
        for row in &table.rows {
            let fields: Vec<_> = row.iter().map(|v| csv_field(&value_text(v))).collect();
            writeln!(out, "{}", fields.join(","))?;
        }
        Ok(())
    }

    pub fn write_text_table(out: &mut dyn Write, table: &Table) -> std::io::Result<()> {
        let header: Vec<String> = table
            .schema
            .columns
            .iter()
            .map(|c| c.name.clone())
            .collect();
        let cells: Vec<Vec<String>> = table
            .rows
            .iter()
            .map(|r| r.iter().map(value_text).collect())
            .collect();
        let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
        for row in &cells {
            for (w, c) in widths.iter_mut().zip(row) {
                *w = (*w).max(c.chars().count());
            }
        }
        let line = |cols: &[String]| -> String {
            let padded: Vec<String> = cols
                .iter()
                .zip(&widths)
                .map(|(c, w)| format!("{c:<w$}"))
                .collect();
            padded.join("  ").trim_end().to_string()
        };
        writeln!(out, "{}", line(&header))?;
        let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
        writeln!(out, "{}", line(&rule))?;
        for row in &cells {
            writeln!(out, "{}", line(row))?;
        }
        Ok(())
    }
}
