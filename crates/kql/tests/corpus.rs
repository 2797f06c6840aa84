//! Runs every conformance case in `tests/cases/*.json` through
//! `kql::query` with a fixed `now` and compares the result with the
//! expected table the way `shared/kql/check.py` does: values normalized per
//! column type (datetimes at ticks, timespans parsed, reals with rtol 1e-6 /
//! atol 1e-9, dynamic deep compare, `unordered_arrays` as multisets), rows
//! as a multiset unless `ordered`, error cases must be rejected.
//!
//! `KQL_CASE=<substring>` runs only matching cases.

use kql::{EvalContext, MemoryCatalog, Table, Type, Value};
use serde_json::Value as J;
use std::path::PathBuf;

/// 2026-01-01T00:00:00Z in ticks.
const NOW: i64 = kql::time::UNIX_EPOCH + 1_767_225_600 * kql::time::SECOND;

fn reals_equal(a: f64, b: f64) -> bool {
    if a.is_nan() || b.is_nan() {
        return a.is_nan() && b.is_nan();
    }
    if a.is_infinite() || b.is_infinite() {
        return a == b;
    }
    (a - b).abs() <= f64::max(1e-6 * f64::max(a.abs(), b.abs()), 1e-9)
}

fn canon(j: &J) -> String {
    match j {
        J::Number(n) => match n.as_f64() {
            Some(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", f as i64),
            Some(f) => format!("{f:.9}"),
            None => n.to_string(),
        },
        J::Array(a) => format!("[{}]", a.iter().map(canon).collect::<Vec<_>>().join(",")),
        J::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            let parts: Vec<String> = keys
                .iter()
                .map(|k| format!("{k:?}:{}", m.get(*k).map(canon).unwrap_or_default()))
                .collect();
            format!("{{{}}}", parts.join(","))
        }
        other => other.to_string(),
    }
}

fn dyn_equal(e: &J, a: &J, unordered: bool) -> bool {
    match (e, a) {
        (J::Null, J::Null) => true,
        (J::Bool(x), J::Bool(y)) => x == y,
        (J::Number(x), J::Number(y)) => match (x.as_f64(), y.as_f64()) {
            (Some(p), Some(q)) => reals_equal(p, q),
            _ => false,
        },
        (J::String(x), J::String(y)) => x == y,
        (J::Array(x), J::Array(y)) => {
            if x.len() != y.len() {
                return false;
            }
            if unordered {
                let mut rest: Vec<&J> = y.iter().collect();
                for ev in x {
                    match rest.iter().position(|av| dyn_equal(ev, av, false)) {
                        Some(p) => {
                            rest.remove(p);
                        }
                        None => return false,
                    }
                }
                true
            } else {
                x.iter().zip(y).all(|(p, q)| dyn_equal(p, q, false))
            }
        }
        (J::Object(x), J::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| dyn_equal(v, w, false)))
        }
        _ => false,
    }
}

fn parse_int(j: &J) -> Option<i64> {
    match j {
        J::Number(n) => n
            .as_i64()
            .or_else(|| n.as_f64().filter(|f| f.fract() == 0.0).map(|f| f as i64)),
        J::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn parse_real(j: &J) -> Option<f64> {
    match j {
        J::Number(n) => n.as_f64(),
        J::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "nan" => Some(f64::NAN),
            "infinity" | "+infinity" | "inf" => Some(f64::INFINITY),
            "-infinity" | "-inf" => Some(f64::NEG_INFINITY),
            t => t.parse().ok(),
        },
        _ => None,
    }
}

/// Whether the actual value equals the expected cell of a column of type `ty`.
fn cell_equal(ty: Type, e: &J, a: &Value, unordered: bool) -> bool {
    if e.is_null() {
        return matches!(a, Value::Null);
    }
    match (ty, a) {
        (Type::DateTime, Value::DateTime(t)) => {
            e.as_str().and_then(kql::time::parse_datetime) == Some(*t)
        }
        (Type::TimeSpan, Value::TimeSpan(t)) => {
            e.as_str().and_then(kql::time::parse_timespan) == Some(*t)
        }
        (Type::Real, Value::Real(r)) => parse_real(e).is_some_and(|x| reals_equal(x, *r)),
        (Type::Decimal, Value::Decimal(d)) => parse_real(e).is_some_and(|x| {
            d.to_string()
                .parse::<f64>()
                .is_ok_and(|y| reals_equal(x, y))
        }),
        (Type::Int, Value::Int(i)) => parse_int(e) == Some(i64::from(*i)),
        (Type::Long, Value::Long(i)) => parse_int(e) == Some(*i),
        (Type::Bool, Value::Bool(b)) => e.as_bool() == Some(*b),
        (Type::String, Value::String(s)) => e.as_str() == Some(s),
        (Type::Guid, Value::Guid(g)) => e
            .as_str()
            .is_some_and(|x| x.eq_ignore_ascii_case(&g.to_string())),
        (Type::Dynamic, Value::Dynamic(j)) => dyn_equal(e, j, unordered),
        _ => false,
    }
}

fn show(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::DateTime(t) => format!("datetime({})", kql::time::format_datetime(*t)),
        Value::TimeSpan(t) => format!("timespan({})", kql::time::format_timespan(*t)),
        Value::String(s) => format!("{s:?}"),
        Value::Dynamic(j) => j.to_string(),
        other => format!("{other:?}"),
    }
}

fn show_row(r: &[Value]) -> String {
    format!("[{}]", r.iter().map(show).collect::<Vec<_>>().join(", "))
}

/// Problems of one case (empty = pass).
fn check_case(case: &J) -> Vec<String> {
    let query = case["query"].as_str().unwrap_or_default();
    let expected = &case["expected"];
    let ctx = EvalContext::new(NOW);
    let result = std::panic::catch_unwind(|| kql::query(query, &MemoryCatalog::new(), &ctx));
    let result = match result {
        Ok(r) => r,
        Err(_) => return vec!["PANIC while running the query".into()],
    };
    if expected["error"].as_bool() == Some(true) {
        return match result {
            Err(_) => vec![],
            Ok(t) => vec![format!("expected an error, got {} row(s)", t.rows.len())],
        };
    }
    let table: Table = match result {
        Ok(t) => t,
        Err(e) => {
            return vec![format!(
                "error: {}",
                e.diagnostics().render_plain("query", query)
            )]
        }
    };
    let mut problems = Vec::new();
    let ecols: Vec<(String, String)> = expected["columns"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|c| {
                    (
                        c["name"].as_str().unwrap_or_default().to_string(),
                        c["type"].as_str().unwrap_or_default().to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let acols: Vec<(String, String)> = table
        .schema
        .columns
        .iter()
        .map(|c| (c.name.clone(), c.ty.name().to_string()))
        .collect();
    let fmt = |cs: &[(String, String)]| {
        cs.iter()
            .map(|(n, t)| format!("{n}:{t}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    if ecols.iter().map(|c| &c.0).ne(acols.iter().map(|c| &c.0)) {
        problems.push(format!(
            "column names differ\n   expected: {}\n   actual:   {}",
            fmt(&ecols),
            fmt(&acols)
        ));
        return problems;
    }
    let types: Vec<Type> = ecols
        .iter()
        .map(|(_, t)| Type::from_name(t).unwrap_or(Type::Dynamic))
        .collect();
    if ecols.iter().map(|c| &c.1).ne(acols.iter().map(|c| &c.1)) {
        problems.push(format!(
            "column types differ\n   expected: {}\n   actual:   {}",
            fmt(&ecols),
            fmt(&acols)
        ));
    }
    let unordered: Vec<&str> = case["unordered_arrays"]
        .as_array()
        .map(|a| a.iter().filter_map(|x| x.as_str()).collect())
        .unwrap_or_default();
    let row_equal = |e: &J, a: &[Value]| -> bool {
        let Some(e) = e.as_array() else { return false };
        e.len() == a.len()
            && e.iter()
                .zip(a)
                .zip(&types)
                .zip(&ecols)
                .all(|(((ev, av), ty), (name, _))| {
                    cell_equal(*ty, ev, av, unordered.contains(&name.as_str()))
                })
    };
    let erows: Vec<J> = expected["rows"].as_array().cloned().unwrap_or_default();
    if case["ordered"].as_bool() == Some(true) {
        if erows.len() != table.rows.len() {
            problems.push(format!(
                "row count: expected {}, got {}",
                erows.len(),
                table.rows.len()
            ));
        }
        for (i, (e, a)) in erows.iter().zip(&table.rows).enumerate() {
            if !row_equal(e, a) {
                problems.push(format!(
                    "row {i} differs\n   expected: {e}\n   actual:   {}",
                    show_row(a)
                ));
            }
        }
        for a in table.rows.iter().skip(erows.len()) {
            problems.push(format!("extra row: {}", show_row(a)));
        }
        for e in erows.iter().skip(table.rows.len()) {
            problems.push(format!("missing row: {e}"));
        }
    } else {
        let mut remaining: Vec<&Vec<Value>> = table.rows.iter().collect();
        let mut missing = Vec::new();
        for e in &erows {
            match remaining.iter().position(|a| row_equal(e, a)) {
                Some(p) => {
                    remaining.remove(p);
                }
                None => missing.push(e),
            }
        }
        if !missing.is_empty() || !remaining.is_empty() {
            problems.push(format!(
                "rows differ (multiset): expected {}, got {}",
                erows.len(),
                table.rows.len()
            ));
            for e in missing.iter().take(8) {
                problems.push(format!("  - missing:    {e}"));
            }
            for a in remaining.iter().take(8) {
                problems.push(format!("  + unexpected: {}", show_row(a)));
            }
        }
    }
    let _ = canon;
    problems
}

#[test]
fn corpus_cases_all_pass() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/cases");
    let filter = std::env::var("KQL_CASE").ok();
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("tests/cases exists")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    let mut failed = Vec::new();
    let mut passed = 0;
    for f in &files {
        let text = std::fs::read_to_string(f).expect("case readable");
        let case: J = serde_json::from_str(&text).expect("case is JSON");
        let id = case["id"].as_str().unwrap_or("?").to_string();
        if filter.as_deref().is_some_and(|k| !id.contains(k)) {
            continue;
        }
        let problems = check_case(&case);
        if problems.is_empty() {
            passed += 1;
        } else {
            println!(
                "FAIL {id}\n  query: {}",
                case["query"]
                    .as_str()
                    .unwrap_or_default()
                    .replace('\n', "\n         ")
            );
            for p in &problems {
                println!("  {p}");
            }
            failed.push(id);
        }
    }
    println!("{passed} passed, {} failed", failed.len());
    assert!(
        failed.is_empty(),
        "{} failing case(s): {}",
        failed.len(),
        failed.join(", ")
    );
}
