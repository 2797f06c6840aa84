//! Result encoding: tables as JSON (`{"columns":[...],"rows":[...]}`), CSV
//! and a text table. (Owned by the values work.) Encoding only: no query
//! logic and no I/O beyond the writer handed in.
//!
//! JSON value encoding (the corpus format, `shared/kql/README.md`): datetime
//! as ISO-8601 UTC with `Z` (7 fractional digits when non-zero), timespan as
//! `[-][d.]hh:mm:ss[.fffffff]`, real as a number or `"NaN"`/`"Infinity"`/
//! `"-Infinity"`, decimal as a string (as Log Analytics sends it), string
//! never null, dynamic as the JSON value, other nulls as `null`.

use crate::functions::ops::to_string;
use crate::table::Table;
use crate::time;
use crate::value::{Type, Value};
use serde_json::{json, Value as J};
use std::io::Write;

/// One cell as JSON, per its column type.
pub fn value_to_json(v: &Value, ty: Type) -> J {
    match v {
        Value::Null if ty == Type::String => J::String(String::new()),
        Value::Null => J::Null,
        Value::Bool(b) => J::Bool(*b),
        Value::Int(i) => J::from(*i),
        Value::Long(i) => J::from(*i),
        Value::Real(r) => real_json(*r),
        Value::Decimal(d) => J::String(d.normalize().to_string()),
        Value::String(s) => J::String(s.to_string()),
        Value::DateTime(t) => J::String(time::format_datetime(*t)),
        Value::TimeSpan(t) => J::String(time::format_timespan(*t)),
        Value::Guid(g) => J::String(g.hyphenated().to_string()),
        Value::Dynamic(j) if ty == Type::String => J::String(to_string(&Value::Dynamic(j.clone()))),
        Value::Dynamic(j) => (**j).clone(),
    }
}

fn real_json(r: f64) -> J {
    if r.is_nan() {
        J::String("NaN".into())
    } else if r.is_infinite() {
        J::String(if r > 0.0 { "Infinity" } else { "-Infinity" }.into())
    } else {
        serde_json::Number::from_f64(r)
            .map(J::Number)
            .unwrap_or(J::Null)
    }
}

/// `{"columns":[{"name":..,"type":..}],"rows":[[...]]}`
pub fn table_to_json(t: &Table) -> J {
    let columns: Vec<J> = t
        .schema
        .columns
        .iter()
        .map(|c| json!({"name": c.name, "type": c.ty.name()}))
        .collect();
    let types: Vec<Type> = t.schema.columns.iter().map(|c| c.ty).collect();
    let rows: Vec<J> = t
        .rows
        .iter()
        .map(|r| {
            J::Array(
                r.iter()
                    .enumerate()
                    .map(|(i, v)| value_to_json(v, types.get(i).copied().unwrap_or(Type::Dynamic)))
                    .collect(),
            )
        })
        .collect();
    json!({"columns": columns, "rows": rows})
}

/// A cell's text for CSV and the text table: nulls empty, strings raw,
/// dynamic as compact JSON (a dynamic string as its JSON text).
pub fn cell_text(v: &Value) -> String {
    match v {
        Value::Dynamic(j) => j.to_string(),
        other => to_string(other),
    }
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// RFC 4180 CSV with a header row (CRLF line ends).
pub fn write_csv(t: &Table, w: &mut dyn Write) -> std::io::Result<()> {
    let header: Vec<String> = t
        .schema
        .columns
        .iter()
        .map(|c| csv_field(&c.name))
        .collect();
    write!(w, "{}\r\n", header.join(","))?;
    for r in &t.rows {
        let cells: Vec<String> = r.iter().map(|v| csv_field(&cell_text(v))).collect();
        write!(w, "{}\r\n", cells.join(","))?;
    }
    Ok(())
}

/// Longest cell shown in a text table before it is cut with `…`.
const MAX_CELL: usize = 80;

fn display_cell(v: &Value) -> String {
    let s: String = cell_text(v)
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if s.chars().count() > MAX_CELL {
        let mut cut: String = s.chars().take(MAX_CELL - 1).collect();
        cut.push('…');
        cut
    } else {
        s
    }
}

/// An aligned text table for people: header, a rule, one line per row,
/// numbers right-aligned.
pub fn write_text_table(t: &Table, w: &mut dyn Write) -> std::io::Result<()> {
    let cols = &t.schema.columns;
    let cells: Vec<Vec<String>> = t
        .rows
        .iter()
        .map(|r| r.iter().map(display_cell).collect())
        .collect();
    let mut widths: Vec<usize> = cols.iter().map(|c| c.name.chars().count()).collect();
    for r in &cells {
        for (i, c) in r.iter().enumerate() {
            if let Some(wd) = widths.get_mut(i) {
                *wd = (*wd).max(c.chars().count());
            }
        }
    }
    let right = |i: usize| cols.get(i).is_some_and(|c| c.ty.is_numeric());
    let line = |vals: &mut dyn Iterator<Item = (usize, &str)>| -> String {
        let parts: Vec<String> = vals
            .map(|(i, s)| {
                let wd = widths.get(i).copied().unwrap_or(0);
                if right(i) {
                    format!("{s:>wd$}")
                } else {
                    format!("{s:<wd$}")
                }
            })
            .collect();
        parts.join("  ").trim_end().to_string()
    };
    writeln!(
        w,
        "{}",
        line(&mut cols.iter().map(|c| c.name.as_str()).enumerate())
    )?;
    let rule: Vec<String> = widths.iter().map(|n| "-".repeat(*n)).collect();
    writeln!(w, "{}", rule.join("  "))?;
    for r in &cells {
        writeln!(w, "{}", line(&mut r.iter().map(String::as_str).enumerate()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::{Column, Schema};

    fn table() -> Table {
        Table {
            schema: Schema::new(vec![
                Column::new("s", Type::String),
                Column::new("n", Type::Long),
                Column::new("r", Type::Real),
                Column::new("d", Type::Dynamic),
            ]),
            rows: vec![
                vec![
                    Value::string("a,b"),
                    Value::Long(1),
                    Value::Real(1.5),
                    Value::dynamic(json!({"k": [1, "x"]})),
                ],
                vec![Value::Null, Value::Null, Value::Real(f64::NAN), Value::Null],
            ],
        }
    }

    #[test]
    fn value_encoding_table() {
        let guid = crate::value::Uuid::parse_str("74be27de-1e4e-49d9-b579-fe0b331d3642")
            .unwrap_or_default();
        let cases: Vec<(Value, Type, J)> = vec![
            (Value::Null, Type::String, json!("")),
            (Value::Null, Type::Long, J::Null),
            (Value::Null, Type::Dynamic, J::Null),
            (Value::Bool(true), Type::Bool, json!(true)),
            (Value::Int(1), Type::Int, json!(1)),
            (
                Value::Long(9_999_999_999),
                Type::Long,
                json!(9_999_999_999_i64),
            ),
            (Value::Real(3.5), Type::Real, json!(3.5)),
            (Value::Real(4.0), Type::Real, json!(4.0)),
            (Value::Real(f64::NAN), Type::Real, json!("NaN")),
            (Value::Real(f64::INFINITY), Type::Real, json!("Infinity")),
            (
                Value::Real(f64::NEG_INFINITY),
                Type::Real,
                json!("-Infinity"),
            ),
            (
                Value::Decimal("1.50".parse().unwrap_or_default()),
                Type::Decimal,
                json!("1.5"),
            ),
            (Value::string("s"), Type::String, json!("s")),
            (
                Value::DateTime(time::parse_datetime("2024-01-01").unwrap_or(0)),
                Type::DateTime,
                json!("2024-01-01T00:00:00Z"),
            ),
            (
                Value::DateTime(time::parse_datetime("2016-12-31T23:59:59.9999999").unwrap_or(0)),
                Type::DateTime,
                json!("2016-12-31T23:59:59.9999999Z"),
            ),
            (
                Value::TimeSpan(time::DAY),
                Type::TimeSpan,
                json!("1.00:00:00"),
            ),
            (
                Value::TimeSpan(-12 * time::HOUR),
                Type::TimeSpan,
                json!("-12:00:00"),
            ),
            (
                Value::TimeSpan(1_000_000),
                Type::TimeSpan,
                json!("00:00:00.1000000"),
            ),
            (
                Value::Guid(guid),
                Type::Guid,
                json!("74be27de-1e4e-49d9-b579-fe0b331d3642"),
            ),
            (
                Value::dynamic(json!({"a": [1, 2]})),
                Type::Dynamic,
                json!({"a": [1, 2]}),
            ),
            (Value::dynamic(json!("x")), Type::Dynamic, json!("x")),
        ];
        for (v, ty, want) in cases {
            assert_eq!(value_to_json(&v, ty), want, "value_to_json({v:?}, {ty})");
        }
    }

    #[test]
    fn table_json_shape() {
        let j = table_to_json(&table());
        assert_eq!(
            j,
            json!({
                "columns": [
                    {"name": "s", "type": "string"},
                    {"name": "n", "type": "long"},
                    {"name": "r", "type": "real"},
                    {"name": "d", "type": "dynamic"}
                ],
                "rows": [["a,b", 1, 1.5, {"k": [1, "x"]}], ["", null, "NaN", null]]
            })
        );
    }

    #[test]
    fn csv_quoting() {
        let mut out = Vec::new();
        assert!(write_csv(&table(), &mut out).is_ok());
        let text = String::from_utf8(out).unwrap_or_default();
        assert_eq!(
            text,
            "s,n,r,d\r\n\"a,b\",1,1.5,\"{\"\"k\"\":[1,\"\"x\"\"]}\"\r\n,,NaN,\r\n"
        );
    }

    #[test]
    fn text_table_aligned() {
        let mut out = Vec::new();
        assert!(write_text_table(&table(), &mut out).is_ok());
        let text = String::from_utf8(out).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 4, "{text}");
        assert_eq!(lines[0], "s    n    r  d");
        assert_eq!(lines[1], "---  -  ---  -------------");
        assert_eq!(lines[2], "a,b  1  1.5  {\"k\":[1,\"x\"]}");
        assert_eq!(lines[3], "        NaN");
    }
}
