//! Syntax tests: lexer + parser + canonical printer, through the public
//! `kql::parse` / `kql::parser::parse_query` API.
//!
//! - round trip `parse -> print -> parse` over the conformance corpus, the
//!   seed rule and every upstream RMM rule query,
//! - literal forms (table-driven), operators, error positions (line:col),
//!   spans, depth limit, and a no-panic sweep over mutated inputs.

use std::path::{Path, PathBuf};

use kql::ast::*;
use kql::parser::parse_query;
use kql::span::LineIndex;
use kql::{Limits, Type};

// ---------------------------------------------------------------- helpers

fn parse_ok(text: &str) -> Query {
    match kql::parse(text) {
        Ok(q) => q,
        Err(d) => panic!(
            "query failed to parse:\n{text}\n{}",
            d.render_plain("query", text)
        ),
    }
}

fn last_expr(q: &Query) -> &Expr {
    match q.statements.last().map(|s| &s.kind) {
        Some(StatementKind::Expr(e)) => e,
        other => panic!("last statement is not an expression: {other:?}"),
    }
}

/// The expression of `print x = <expr>`.
fn print_expr(text: &str) -> Expr {
    let q = parse_ok(&format!("print x = {text}"));
    match &last_expr(&q).kind {
        ExprKind::Print(items) if items.len() == 1 => items[0].expr.clone(),
        other => panic!("{text}: not a single print item: {other:?}"),
    }
}

fn print_literal(text: &str) -> Literal {
    match print_expr(text).kind {
        ExprKind::Literal(l) => l,
        other => panic!("{text}: not a literal: {other:?}"),
    }
}

/// The last operator of the last pipeline.
fn last_op(q: &Query) -> &OperatorKind {
    match &last_expr(q).kind {
        ExprKind::Pipe { op, .. } => &op.kind,
        other => panic!("not a pipeline: {other:?}"),
    }
}

/// parse -> print -> parse gives an equal tree, and printing is stable.
/// Returns a description of the problem, if any.
fn round_trip_problem(origin: &str, text: &str) -> Option<String> {
    let q1 = match kql::parse(text) {
        Ok(q) => q,
        Err(d) => {
            return Some(format!(
                "{origin}: does not parse:\n{text}\n{}",
                d.render_plain(origin, text)
            ))
        }
    };
    let printed = q1.to_string();
    let q2 = match kql::parse(&printed) {
        Ok(q) => q,
        Err(d) => {
            return Some(format!(
                "{origin}: printed text does not parse:\n--- original\n{text}\n--- printed\n{printed}\n{}",
                d.render_plain("printed", &printed)
            ))
        }
    };
    if q1 != q2 {
        return Some(format!(
            "{origin}: round trip changed the tree\n--- original\n{text}\n--- printed\n{printed}\n--- first\n{q1:?}\n--- second\n{q2:?}"
        ));
    }
    if printed != q2.to_string() {
        return Some(format!(
            "{origin}: printing is not stable:\n{printed}\n---\n{q2}"
        ));
    }
    None
}

fn assert_round_trip(origin: &str, text: &str) {
    if let Some(p) = round_trip_problem(origin, text) {
        panic!("{p}");
    }
}

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("cases")
}

/// (file name, query, expects an error) for every corpus case.
fn corpus() -> Vec<(String, String, bool)> {
    let mut out = Vec::new();
    let entries = std::fs::read_dir(corpus_dir()).expect("corpus directory");
    for entry in entries.flatten() {
        let path = entry.path();
        if path.extension().and_then(|e| e.to_str()) != Some("json") {
            continue;
        }
        let text = std::fs::read_to_string(&path).expect("read case");
        let v: serde_json::Value = serde_json::from_str(&text).expect("case JSON");
        let query = v["query"].as_str().expect("query string").to_string();
        let error = v["expected"]["error"].as_bool().unwrap_or(false);
        out.push((
            path.file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned(),
            query,
            error,
        ));
    }
    out.sort();
    assert!(out.len() >= 150, "corpus has only {} cases", out.len());
    out
}

fn upstream_rules_dir() -> PathBuf {
    std::env::var_os("RMMHUNT_UPSTREAM_RULES")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/work/shared/rules/upstream-rmm"))
}

fn yaml_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let p = entry.path();
        if p.is_dir() {
            yaml_files(&p, out);
        } else if p.extension().and_then(|e| e.to_str()) == Some("yaml") {
            out.push(p);
        }
    }
}

/// The text of the `query:` block scalar of a Sentinel hunting YAML file,
/// dedented, without a surrounding ```` ```kusto ```` fence.
fn yaml_query(yaml: &str) -> Option<String> {
    let lines: Vec<&str> = yaml.lines().collect();
    let start = lines.iter().position(|l| l.starts_with("query:"))?;
    let header = lines[start].trim_start_matches("query:").trim();
    if !header.starts_with('|') && !header.starts_with('>') {
        return Some(header.trim_matches(['\'', '"']).to_string()).filter(|s| !s.is_empty());
    }
    let mut body = Vec::new();
    let mut indent = None;
    for l in &lines[start + 1..] {
        if l.trim().is_empty() {
            body.push("");
            continue;
        }
        let ind = l.len() - l.trim_start().len();
        let block = *indent.get_or_insert(ind);
        if ind < block || ind == 0 {
            break;
        }
        body.push(&l[block..]);
    }
    let mut text = body.join("\n").trim_end().to_string();
    if let Some(rest) = text
        .trim_start()
        .strip_prefix("```kusto")
        .or_else(|| text.trim_start().strip_prefix("```"))
    {
        text = rest.trim_end().trim_end_matches("```").to_string();
    }
    Some(text).filter(|t| !t.trim().is_empty())
}

// --------------------------------------------------------------- round trip

#[test]
fn corpus_queries_parse_and_round_trip() {
    let cases = corpus();
    let problems: Vec<String> = cases
        .iter()
        .filter_map(|(name, query, _)| round_trip_problem(name, query))
        .collect();
    assert!(
        problems.is_empty(),
        "{} of {} corpus queries fail:\n\n{}",
        problems.len(),
        cases.len(),
        problems.join("\n\n")
    );
}

#[test]
fn seed_rule_query_round_trips() {
    let path = upstream_rules_dir().join(
        "azure-sentinel/Hunting Queries/Microsoft 365 Defender/RemoteManagementMonitoring/rmm_ZohoAssist_netconn.yaml",
    );
    let Ok(yaml) = std::fs::read_to_string(&path) else {
        eprintln!("skipping: {} not found", path.display());
        return;
    };
    let q = yaml_query(&yaml).expect("seed rule has a query");
    assert_round_trip("rmm_ZohoAssist_netconn.yaml", &q);
    let parsed = parse_ok(&q);
    assert_eq!(parsed.statements.len(), 3, "two lets and the pipeline");
    assert!(
        matches!(last_op(&parsed), OperatorKind::Summarize { aggregates, by } if aggregates.len() == 4 && by.len() == 3)
    );
}

/// Upstream rules with a real syntax error, each confirmed with Microsoft's
/// parser (kql-lint): path suffix, line, column of our first diagnostic.
const INVALID_UPSTREAM: &[(&str, usize, usize)] = &[
    // `| Sha1 in (rmmInitialFileSet)`: a missing `where` (KS176).
    ("RMM/DWService/rmm_DWService_createproc.yaml", 12, 3),
    // `has_all has_any (...)` (KS005 "Expected: (").
    ("RMM/Level/rmm_Level_createproc.yaml", 7, 28),
    // trailing comma before `)` in a has_any list (KS006 "Missing expression").
    (
        "RMM/MSP360_CloudBerry/rmm_MSP360_CloudBerry_netconn.yaml",
        12,
        5,
    ),
    ("RMM/ZohoAssist/rmm_ZohoAssist_netconn.yaml", 25, 5),
];

#[test]
fn upstream_rule_queries_round_trip() {
    let dir = upstream_rules_dir();
    let mut files = Vec::new();
    yaml_files(&dir, &mut files);
    if files.is_empty() {
        eprintln!("skipping: no upstream rules under {}", dir.display());
        return;
    }
    files.sort();
    let mut n = 0;
    let mut problems = Vec::new();
    for f in &files {
        let yaml = std::fs::read_to_string(f).expect("read rule");
        let Some(q) = yaml_query(&yaml) else { continue };
        n += 1;
        let name = f.display().to_string();
        if let Some(&(_, line, col)) = INVALID_UPSTREAM
            .iter()
            .find(|(file, _, _)| name.ends_with(file))
        {
            // Microsoft's parser rejects these too (KS176 "Query operator expected").
            let err = kql::parse(&q).expect_err(&name);
            let idx = LineIndex::new(&q);
            let first = err.0[0].span().expect("span");
            assert_eq!(
                idx.line_col(&q, first.start as usize),
                (line, col),
                "{name}: {err}"
            );
            continue;
        }
        problems.extend(round_trip_problem(&f.display().to_string(), &q));
    }
    assert!(n >= 170, "only {n} rule queries found");
    assert!(
        problems.is_empty(),
        "{} of {n} rule queries fail:\n\n{}",
        problems.len(),
        problems.join("\n\n")
    );
}

#[test]
fn yaml_query_helper_dedents_and_strips_fence() {
    let y = "id: x\nquery: |\n  ```kusto\n  T\n  | take 1\n  ```\nversion: 1\n";
    assert_eq!(yaml_query(y).as_deref(), Some("\nT\n| take 1\n"));
    assert_eq!(yaml_query("query: |\n").as_deref(), None);
}
