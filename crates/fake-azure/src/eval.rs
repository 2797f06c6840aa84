//! Runs received KQL with our engine over the fixture tables, as the real
//! services do: the request's time window (if any) filters each table on
//! its time column first (`[start, end)`), and `now()` is the window's end
//! (or the fake clock). Also turns engine errors into a line/position the
//! error envelopes can report.

use crate::timespan::Window;
use kql::{MemoryCatalog, Table, Type, Value};
use std::sync::Arc;

/// The time columns a window filters on, in order of preference.
pub(crate) const TIME_COLUMNS_LA: &[&str] = &["TimeGenerated", "Timestamp"];
pub(crate) const TIME_COLUMNS_GRAPH: &[&str] = &["Timestamp", "TimeGenerated"];

/// A copy of the catalog with each table filtered to the window on its
/// time: per row, the first non-null datetime among `time_columns` (rows
/// with none are dropped; tables with no such column are kept whole).
pub(crate) fn windowed(
    catalog: &Arc<MemoryCatalog>,
    window: Option<Window>,
    time_columns: &[&str],
) -> Arc<MemoryCatalog> {
    let Some(w) = window else {
        return Arc::clone(catalog);
    };
    let mut out = MemoryCatalog::new();
    for (name, table) in &catalog.tables {
        let cols: Vec<usize> = time_columns
            .iter()
            .filter_map(|c| {
                table
                    .schema
                    .index_of(c)
                    .filter(|&i| table.schema.columns.get(i).map(|c| c.ty) == Some(Type::DateTime))
            })
            .collect();
        let t = if cols.is_empty() {
            table.clone()
        } else {
            Table {
                schema: table.schema.clone(),
                rows: table
                    .rows
                    .iter()
                    .filter(|r| {
                        // The first time column with a value (fixtures may
                        // fill only Timestamp of a table that has both).
                        let t = cols.iter().find_map(|&i| match r.get(i) {
                            Some(Value::DateTime(t)) => Some(*t),
                            _ => None,
                        });
                        t.is_some_and(|t| t >= w.start && t < w.end)
                    })
                    .cloned()
                    .collect(),
            }
        };
        out.insert(name.clone(), t);
    }
    Arc::new(out)
}

/// What went wrong evaluating, for the error envelopes.
#[derive(Clone, Debug)]
pub(crate) struct EvalFailure {
    /// `SyntaxError`, `SemanticError` or `RuntimeError`.
    pub kind: &'static str,
    /// The engine's diagnostic code (e.g. `KQL010`).
    pub code: String,
    pub message: String,
    /// 1-based line and column of the first diagnostic.
    pub line: usize,
    pub pos: usize,
}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = text.get(..offset.min(text.len())).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let col = before
        .rsplit_once('\n')
        .map(|(_, l)| l.chars().count())
        .unwrap_or_else(|| before.chars().count())
        + 1;
    (line, col)
}

/// Evaluates `text` over `catalog` with `now`.
pub(crate) fn run(text: &str, catalog: &MemoryCatalog, now: i64) -> Result<Table, EvalFailure> {
    let ctx = kql::EvalContext::new(now);
    kql::query(text, catalog, &ctx).map_err(|e| {
        let kind = match e {
            kql::Error::Parse(_) => "SyntaxError",
            kql::Error::Plan(_) => "SemanticError",
            kql::Error::Eval(_) => "RuntimeError",
        };
        let diags = e.diagnostics();
        let first = diags
            .0
            .iter()
            .find(|d| d.severity == kql::Severity::Error)
            .or(diags.0.first());
        let (line, pos) = first
            .and_then(|d| d.span())
            .map(|s| line_col(text, s.start as usize))
            .unwrap_or((1, 1));
        EvalFailure {
            kind,
            code: first.map(|d| d.code.to_string()).unwrap_or_default(),
            message: first
                .map(|d| d.message.clone())
                .unwrap_or_else(|| e.to_string()),
            line,
            pos,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_uses_the_first_time_column_with_a_value() {
        use kql::{Column, Schema};
        let t = |s: &str| Value::DateTime(kql::time::parse_datetime(s).unwrap_or_default());
        let table = Table {
            schema: Schema::new(vec![
                Column::new("Timestamp", Type::DateTime),
                Column::new("TimeGenerated", Type::DateTime),
                Column::new("N", Type::Long),
            ]),
            rows: vec![
                vec![t("2024-01-01T10:00:00Z"), Value::Null, Value::Long(1)],
                vec![
                    t("2024-01-01T10:00:00Z"),
                    t("2024-01-01T13:00:00Z"),
                    Value::Long(2),
                ],
                vec![Value::Null, Value::Null, Value::Long(3)],
                vec![t("2024-01-01T12:00:00Z"), Value::Null, Value::Long(4)],
            ],
        };
        let cat = Arc::new(MemoryCatalog::new().with_table("T", table));
        let w = Window {
            start: kql::time::parse_datetime("2024-01-01T09:00:00Z").unwrap_or_default(),
            end: kql::time::parse_datetime("2024-01-01T12:00:00Z").unwrap_or_default(),
        };
        let cases: [(&[&str], Vec<i64>); 2] =
            [(TIME_COLUMNS_LA, vec![1]), (TIME_COLUMNS_GRAPH, vec![1, 2])];
        for (cols, want) in cases {
            let out = windowed(&cat, Some(w), cols);
            let got: Vec<i64> = out
                .tables
                .first()
                .map(|(_, t)| {
                    t.rows
                        .iter()
                        .filter_map(|r| match r.get(2) {
                            Some(Value::Long(n)) => Some(*n),
                            _ => None,
                        })
                        .collect()
                })
                .unwrap_or_default();
            assert_eq!(got, want, "time columns {cols:?}");
        }
    }

    #[test]
    fn line_and_column() {
        let cases = [
            ("abc", 0, (1, 1)),
            ("abc", 2, (1, 3)),
            ("a\nbc", 3, (2, 2)),
            ("a\n", 99, (2, 1)),
        ];
        for (text, off, want) in cases {
            assert_eq!(line_col(text, off), want, "{text:?} at {off}");
        }
    }
}
