//! How `rmmhunt hunt` shows its result: a readable report for people, and
//! `json` (DESIGN.md's shape), `jsonl` (one finding per line) and `csv` for
//! programs. [`HuntView`] (in `app`, shared with the server) is the plain
//! data the renderers take.

use super::format::write_text_table;
use clap::ValueEnum;
use serde_json::{json, Map, Value as Json};
use std::io::{IsTerminal, Write};

/// `--format` of `rmmhunt hunt`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum HuntFormat {
    /// Per rule: its findings, then what each exclusion suppressed (for people).
    Table,
    /// One object: {"rules":[{"id","name","findings":{columns,rows},"excluded":{name: rows}}], ...}.
    Json,
    /// One JSON object per finding and line, with rule_id and rule_name.
    Jsonl,
    /// One CSV row per finding, with RuleId and RuleName columns first.
    Csv,
}

impl HuntFormat {
    /// The explicit choice, else `table` on a terminal and `json` otherwise.
    pub fn or_default(choice: Option<HuntFormat>) -> HuntFormat {
        choice.unwrap_or(if std::io::stdout().is_terminal() {
            HuntFormat::Table
        } else {
            HuntFormat::Json
        })
    }
}

pub use crate::app::HuntView;

/// The CLI's renderings of the shared view (`app::HuntView`; its JSON is
/// `HuntView::to_json`).
impl HuntView {
    pub fn write(&self, out: &mut dyn Write, format: HuntFormat) -> std::io::Result<()> {
        match format {
            HuntFormat::Json => {
                serde_json::to_writer_pretty(&mut *out, &self.to_json())?;
                writeln!(out)
            }
            HuntFormat::Jsonl => self.write_jsonl(out),
            HuntFormat::Csv => self.write_csv(out),
            HuntFormat::Table => self.write_text(out),
        }
    }

    /// Every finding as `{"rule_id", "rule_name", <column>: <value>...}`.
    fn write_jsonl(&self, out: &mut dyn Write) -> std::io::Result<()> {
        for r in &self.rules {
            let cols = &r.findings.schema.columns;
            for row in &r.findings.rows {
                let mut obj = Map::new();
                obj.insert("rule_id".into(), json!(r.id));
                obj.insert("rule_name".into(), json!(r.name));
                for (c, v) in cols.iter().zip(row) {
                    obj.insert(c.name.clone(), kql::output::value_to_json(v, c.ty));
                }
                serde_json::to_writer(&mut *out, &Json::Object(obj))?;
                writeln!(out)?;
            }
        }
        Ok(())
    }

    /// RFC 4180 CSV (CRLF, as `query --format csv`). Columns: RuleId,
    /// RuleName, then the union of the rules' finding columns in order of
    /// first appearance (empty where a rule lacks one).
    fn write_csv(&self, out: &mut dyn Write) -> std::io::Result<()> {
        let mut header: Vec<String> = vec!["RuleId".into(), "RuleName".into()];
        for r in &self.rules {
            for c in &r.findings.schema.columns {
                if !header.contains(&c.name) {
                    header.push(c.name.clone());
                }
            }
        }
        let line = |fields: &[String]| {
            fields
                .iter()
                .map(|f| csv_field(f))
                .collect::<Vec<_>>()
                .join(",")
        };
        write!(out, "{}\r\n", line(&header))?;
        for r in &self.rules {
            let schema = &r.findings.schema;
            for row in &r.findings.rows {
                let mut fields = vec![r.id.clone(), r.name.clone()];
                for h in header.iter().skip(2) {
                    let cell = schema
                        .index_of(h)
                        .and_then(|i| row.get(i))
                        .map(kql::output::cell_text)
                        .unwrap_or_default();
                    fields.push(cell);
                }
                write!(out, "{}\r\n", line(&fields))?;
            }
        }
        Ok(())
    }

    fn write_text(&self, out: &mut dyn Write) -> std::io::Result<()> {
        writeln!(
            out,
            "hunt over {} from {} to {}",
            self.source, self.start, self.now
        )?;
        for r in &self.rules {
            writeln!(out)?;
            writeln!(out, "== {} ({})", r.name, r.id)?;
            if let Some(err) = &r.error {
                writeln!(out, "   FAILED: {err}")?;
                continue;
            }
            let n = r.findings.rows.len();
            writeln!(out, "   {n} finding{}", if n == 1 { "" } else { "s" })?;
            if n > 0 {
                write_text_table(out, &r.findings)?;
            }
            let total: u64 = r.excluded.iter().map(|e| e.rows).sum();
            if r.excluded.is_empty() {
                writeln!(out, "   no exclusions apply to this rule")?;
            } else {
                writeln!(
                    out,
                    "   excluded {total} event row{} before aggregation:",
                    if total == 1 { "" } else { "s" }
                )?;
                let width = r
                    .excluded
                    .iter()
                    .map(|e| e.name.chars().count())
                    .max()
                    .unwrap_or(0);
                let count_width = r
                    .excluded
                    .iter()
                    .map(|e| e.rows.to_string().len())
                    .max()
                    .unwrap_or(1);
                for e in &r.excluded {
                    writeln!(
                        out,
                        "     {:<width$}  {:>count_width$}  {}",
                        e.name, e.rows, e.reason
                    )?;
                }
            }
        }
        if !self.expired.is_empty() {
            writeln!(out)?;
            writeln!(out, "expired exclusions (not applied):")?;
            for e in &self.expired {
                writeln!(out, "     {} (expired {})", e.name, e.expires)?;
            }
        }
        Ok(())
    }
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::{ExcludedView, RuleView};
    use kql::{Column, Schema, Table, Type, Value};

    fn view() -> HuntView {
        let findings = Table {
            schema: Schema::new(vec![
                Column::new("DeviceName", Type::String),
                Column::new("Count", Type::Long),
            ]),
            rows: vec![
                vec![Value::string("pc-1"), Value::Long(3)],
                vec![Value::string("pc,\"2\""), Value::Long(1)],
            ],
        };
        HuntView {
            now: "2024-05-01T00:00:00Z".into(),
            start: "2024-04-26T00:00:00Z".into(),
            source: "local".into(),
            rules: vec![RuleView {
                id: "r1".into(),
                name: "Rule one".into(),
                findings,
                excluded: vec![
                    ExcludedView {
                        name: "it-support".into(),
                        reason: "IT help".into(),
                        rows: 5,
                    },
                    ExcludedView {
                        name: "siem".into(),
                        reason: "SIEM forwarding".into(),
                        rows: 0,
                    },
                ],
                error: None,
            }],
            expired: vec![],
        }
    }

    fn render(format: HuntFormat) -> String {
        let mut out = Vec::new();
        view()
            .write(&mut out, format)
            .unwrap_or_else(|e| panic!("{format:?}: {e}"));
        String::from_utf8_lossy(&out).into_owned()
    }

    #[test]
    fn json_has_the_design_shape() {
        let j = view().to_json();
        assert_eq!(j["rules"][0]["id"], "r1", "{j}");
        assert_eq!(
            j["rules"][0]["findings"]["columns"][1]["type"], "long",
            "{j}"
        );
        assert_eq!(
            j["rules"][0]["findings"]["rows"][0],
            json!(["pc-1", 3]),
            "{j}"
        );
        assert_eq!(
            j["rules"][0]["excluded"],
            json!({"it-support": 5, "siem": 0}),
            "{j}"
        );
    }

    #[test]
    fn jsonl_is_one_finding_per_line() {
        let text = render(HuntFormat::Jsonl);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2, "{text}");
        assert_eq!(
            lines[0], r#"{"rule_id":"r1","rule_name":"Rule one","DeviceName":"pc-1","Count":3}"#,
            "{text}"
        );
    }

    #[test]
    fn csv_quotes_and_prefixes_rule() {
        assert_eq!(
            render(HuntFormat::Csv),
            "RuleId,RuleName,DeviceName,Count\r\nr1,Rule one,pc-1,3\r\nr1,Rule one,\"pc,\"\"2\"\"\",1\r\n"
        );
    }

    #[test]
    fn text_shows_findings_then_exclusions() {
        let text = render(HuntFormat::Table);
        for want in [
            "== Rule one (r1)",
            "2 findings",
            "pc-1",
            "excluded 5 event rows",
            "it-support  5  IT help",
            "siem        0  SIEM forwarding",
        ] {
            assert!(text.contains(want), "missing {want:?} in:\n{text}");
        }
    }
}
