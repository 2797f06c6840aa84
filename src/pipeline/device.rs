//! The `device` filter of a hunt (`POST /api/hunts {"device": ...}`): keeps
//! only rows whose `DeviceName =~ device` or `DeviceId == device`, pushed to
//! the source as a `where` on the rows the rule reads, so a remote source
//! returns only that device's events.
//!
//! The value comes from an HTTP caller: it reaches the KQL text only as a
//! string literal written by [`kql::quote_string`] (escaped), never spliced
//! raw; the operator is parsed back into the AST the pipeline prints.

use kql::ast::{ExprKind, Operator, StatementKind};

/// Device columns of the tables the rules read.
pub const DEVICE_NAME: &str = "DeviceName";
pub const DEVICE_ID: &str = "DeviceId";

/// `where DeviceName =~ "<device>" or DeviceId == "<device>"`, over the
/// columns that exist (`None` when neither does).
pub fn filter(device: &str, has_name: bool, has_id: bool) -> Option<Operator> {
    let lit = kql::quote_string(device);
    let cond = match (has_name, has_id) {
        (true, true) => format!("{DEVICE_NAME} =~ {lit} or {DEVICE_ID} == {lit}"),
        (true, false) => format!("{DEVICE_NAME} =~ {lit}"),
        (false, true) => format!("{DEVICE_ID} == {lit}"),
        (false, false) => return None,
    };
    let text = format!("T | where {cond}");
    let query = kql::parse(&text).ok()?;
    let statement = query.statements.into_iter().last()?;
    match statement.kind {
        StatementKind::Expr(e) => match e.kind {
            ExprKind::Pipe { op, .. } => Some(*op),
            _ => None,
        },
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::exclude::ExclusionSet;
    use crate::pipeline::{run_rule, HuntOptions};
    use crate::rule::schema::known_tables;
    use crate::source::local::LocalSource;
    use crate::source::{Source, SourceError, TimeWindow};
    use kql::ast::OperatorKind;
    use kql::{MemoryCatalog, Table, Value};
    use std::sync::Mutex;

    /// The local engine, remembering every query text it was sent.
    struct Recording {
        inner: LocalSource,
        sent: Mutex<Vec<String>>,
    }

    impl Source for Recording {
        fn name(&self) -> &str {
            "recording"
        }
        fn query(&self, text: &str, window: TimeWindow) -> Result<Table, SourceError> {
            if let Ok(mut s) = self.sent.lock() {
                s.push(text.to_string());
            }
            self.inner.query(text, window)
        }
    }

    const NOW: &str = "2026-11-25T12:00:00Z";

    /// DeviceNetworkEvents with one Zoho Assist connection per device name.
    fn source(devices: &[&str]) -> Recording {
        let now = kql::time::parse_datetime(NOW).unwrap_or_default();
        let Some((_, schema)) = known_tables()
            .iter()
            .find(|(n, _)| n == "DeviceNetworkEvents")
        else {
            panic!("DeviceNetworkEvents schema")
        };
        let set = |row: &mut Vec<Value>, col: &str, v: Value| {
            if let Some(i) = schema.index_of(col) {
                row[i] = v;
            }
        };
        let mut rows = Vec::new();
        for (i, d) in devices.iter().enumerate() {
            let mut row: Vec<Value> = schema
                .columns
                .iter()
                .map(|c| match c.ty {
                    kql::Type::String => Value::String("".into()),
                    _ => Value::Null,
                })
                .collect();
            set(
                &mut row,
                "Timestamp",
                Value::DateTime(now - kql::time::HOUR),
            );
            set(&mut row, "DeviceName", Value::String((*d).into()));
            set(
                &mut row,
                "DeviceId",
                Value::String(format!("id-{i}").into()),
            );
            set(
                &mut row,
                "RemoteUrl",
                Value::String("assist.zoho.com".into()),
            );
            set(&mut row, "ReportId", Value::Long(i as i64));
            set(
                &mut row,
                "InitiatingProcessVersionInfoCompanyName",
                Value::String("Zoho Corporation".into()),
            );
            set(
                &mut row,
                "InitiatingProcessVersionInfoProductName",
                Value::String("Zoho Assist".into()),
            );
            rows.push(row);
        }
        let table = Table {
            schema: schema.clone(),
            rows,
        };
        Recording {
            inner: LocalSource::new(MemoryCatalog::new().with_table("DeviceNetworkEvents", table)),
            sent: Mutex::new(Vec::new()),
        }
    }

    const HOSTILE: &[&str] = &[
        "pc-1",
        "PC-1.contoso.com",
        "a\"b",
        "a'b",
        "back\\slash",
        "two\nlines",
        "x\" or DeviceName != \"",
        "pipe | take 100",
        "semi; drop",
        "// comment",
        "ünïcødé ✓ 𝔘",
        "",
    ];

    /// Each hostile device name finds exactly its own row (and DeviceId
    /// works too); the query text the source got parses.
    #[test]
    fn the_filter_matches_exactly_the_value() {
        let rules = crate::rule::builtin_rules().rules;
        let Some(rule) = rules.first() else {
            panic!("no built-in rule")
        };
        let src = source(HOSTILE);
        let window = TimeWindow::ending_at(
            kql::time::parse_datetime(NOW).unwrap_or_default(),
            kql::time::DAY,
        );
        let none = ExclusionSet::empty();
        let all = run_rule(rule, &src, &none, &HuntOptions::new(window));
        assert_eq!(all.findings.rows.len(), HOSTILE.len(), "{:?}", all.error);
        for (i, device) in HOSTILE.iter().enumerate() {
            for value in [device.to_string(), format!("id-{i}")] {
                let opts = HuntOptions::new(window).with_device(Some(value.clone()));
                let r = run_rule(rule, &src, &none, &opts);
                assert!(r.error.is_none(), "{value:?}: {:?}", r.error);
                let name_col = r.findings.schema.index_of("DeviceName");
                let names: Vec<&Value> = r
                    .findings
                    .rows
                    .iter()
                    .filter_map(|row| name_col.and_then(|c| row.get(c)))
                    .collect();
                assert_eq!(names, vec![&Value::String((*device).into())], "{value:?}");
                let sent = src.sent.lock().map(|s| s.last().cloned()).ok().flatten();
                let sent = sent.unwrap_or_default();
                assert!(kql::parse(&sent).is_ok(), "{value:?}: {sent}");
            }
        }
        // =~ is case-insensitive on the name
        let opts = HuntOptions::new(window).with_device(Some("pc-1.CONTOSO.com".into()));
        let r = run_rule(rule, &src, &none, &opts);
        assert_eq!(r.findings.rows.len(), 1);
        // a device nobody has: nothing
        let opts = HuntOptions::new(window).with_device(Some("nobody".into()));
        assert!(run_rule(rule, &src, &none, &opts).findings.rows.is_empty());
    }

    #[test]
    fn filter_over_the_columns_there_are() {
        for (name, id, want) in [
            (
                true,
                true,
                r#"where DeviceName =~ "pc-1" or DeviceId == "pc-1""#,
            ),
            (true, false, r#"where DeviceName =~ "pc-1""#),
            (false, true, r#"where DeviceId == "pc-1""#),
        ] {
            let op = filter("pc-1", name, id);
            let got = op.as_ref().map(|o| o.to_string());
            assert_eq!(got.as_deref(), Some(want), "{name} {id}");
            assert!(matches!(op.map(|o| o.kind), Some(OperatorKind::Where(_))));
        }
        assert!(filter("pc-1", false, false).is_none());
    }

    #[test]
    fn hostile_values_stay_one_literal() {
        let value = "x\" or 1==1 | take 100 // \\ \n ; ✓";
        let op = filter(value, true, true).map(|o| o.to_string());
        let Some(text) = op else {
            panic!("no filter for {value:?}")
        };
        // printed back: one where, the value inside two escaped literals
        let q = kql::quote_string(value);
        assert_eq!(text, format!("where DeviceName =~ {q} or DeviceId == {q}"));
        assert!(!text.contains('\n'), "{text}");
    }

    fn row_rule(project: &str) -> crate::rule::Rule {
        let text = format!(
            "id: 11111111-1111-4111-8111-111111111111\nname: Zoho rows\ndescription: rows, no summarize\nrequiredDataConnectors:\n- connectorId: MicrosoftThreatProtection\n  dataTypes:\n  - DeviceNetworkEvents\ntactics: CommandAndControl\nrelevantTechniques: T1219\nquery: |\n  DeviceNetworkEvents\n  | where RemoteUrl has 'zoho'\n  | project {project}\n"
        );
        let report = crate::rule::load_text(std::path::PathBuf::from("rows.yaml"), &text);
        let rules = report.rules;
        match rules.into_iter().next() {
            Some(r) => r,
            None => panic!("rule did not load: {:?}", report.diagnostics),
        }
    }

    /// A rule without a summarize is filtered at the source too; one whose
    /// rows have no device column reports nothing, with a warning.
    #[test]
    fn rules_without_summarize_and_without_device_columns() {
        let src = source(HOSTILE);
        let window = TimeWindow::ending_at(
            kql::time::parse_datetime(NOW).unwrap_or_default(),
            kql::time::DAY,
        );
        let none = ExclusionSet::empty();
        let rule = row_rule("Timestamp, DeviceName, DeviceId, RemoteUrl");
        for device in HOSTILE {
            let opts = HuntOptions::new(window).with_device(Some(device.to_string()));
            let r = run_rule(&rule, &src, &none, &opts);
            assert!(r.error.is_none(), "{device:?}: {:?}", r.error);
            assert_eq!(r.findings.rows.len(), 1, "{device:?}");
            let sent = src.sent.lock().map(|s| s.last().cloned()).ok().flatten();
            assert!(
                sent.is_some_and(|q| q.contains("where DeviceName =~")),
                "{device:?}"
            );
        }
        let rule = row_rule("Timestamp, RemoteUrl");
        let opts = HuntOptions::new(window).with_device(Some("pc-1".into()));
        let r = run_rule(&rule, &src, &none, &opts);
        assert!(r.error.is_none());
        assert!(r.findings.rows.is_empty());
        assert!(r
            .warnings
            .iter()
            .any(|w| w.contains("no DeviceName or DeviceId")));
    }
}
