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

/// The upstream RMM rule family: `$RMMHUNT_UPSTREAM_RULES`, else the copy
/// vendored as test fixtures of the root package, else the shared reference.
fn upstream_rules_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("RMMHUNT_UPSTREAM_RULES") {
        return PathBuf::from(d);
    }
    let vendored =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/rules/upstream-rmm");
    if vendored.is_dir() {
        return vendored;
    }
    PathBuf::from("/work/shared/rules/upstream-rmm")
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

// ----------------------------------------------------------------- literals

#[test]
fn literal_forms() {
    use kql::time::{DAY, HOUR, MICROSECOND, MILLISECOND, MINUTE, SECOND, UNIX_EPOCH};
    let g = kql::value::Uuid::parse_str("74be27de-1e4e-49d9-b579-fe0b331d3642").expect("guid");
    let d2024 = UNIX_EPOCH + 19_723 * DAY; // 2024-01-01
    let dec = |s: &str| Literal::Decimal(s.parse().expect("decimal"));
    let cases: Vec<(&str, Literal)> = vec![
        ("5", Literal::Long(5)),
        ("-5", Literal::Long(-5)),
        ("- 5", Literal::Long(-5)),
        ("+5", Literal::Long(5)),
        ("0x1F", Literal::Long(31)),
        ("9223372036854775807", Literal::Long(i64::MAX)),
        ("-9223372036854775808", Literal::Long(i64::MIN)),
        ("1.5", Literal::Real(1.5)),
        ("-1.5", Literal::Real(-1.5)),
        ("1e3", Literal::Real(1000.0)),
        ("2.5e-1", Literal::Real(0.25)),
        ("real(+inf)", Literal::Real(f64::INFINITY)),
        ("real(-inf)", Literal::Real(f64::NEG_INFINITY)),
        ("real(2)", Literal::Real(2.0)),
        ("double(1.5)", Literal::Real(1.5)),
        ("real(null)", Literal::Null(Type::Real)),
        ("int(5)", Literal::Int(5)),
        ("int(-5)", Literal::Int(-5)),
        ("int(null)", Literal::Null(Type::Int)),
        ("long(null)", Literal::Null(Type::Long)),
        ("long(-0x10)", Literal::Long(-16)),
        ("bool(true)", Literal::Bool(true)),
        ("bool(null)", Literal::Null(Type::Bool)),
        ("true", Literal::Bool(true)),
        ("false", Literal::Bool(false)),
        ("decimal(1.5)", dec("1.5")),
        ("decimal(null)", Literal::Null(Type::Decimal)),
        // strings
        (r#""a\"b""#, Literal::String("a\"b".into())),
        (r"'a\'b'", Literal::String("a'b".into())),
        (r"'\n\t\\\u0041'", Literal::String("\n\t\\A".into())),
        (r#"@"C:\x""#, Literal::String("C:\\x".into())),
        (r#"@"a""b""#, Literal::String("a\"b".into())),
        ("@'it''s'", Literal::String("it's".into())),
        ("```multi\nline```", Literal::String("multi\nline".into())),
        ("h'secret'", Literal::String("secret".into())),
        ("h@'C:\\s'", Literal::String("C:\\s".into())),
        ("\"a\" 'b'\n@'c'", Literal::String("abc".into())),
        // timespans
        ("5d", Literal::TimeSpan(5 * DAY)),
        ("1h", Literal::TimeSpan(HOUR)),
        ("30m", Literal::TimeSpan(30 * MINUTE)),
        ("10s", Literal::TimeSpan(10 * SECOND)),
        ("100ms", Literal::TimeSpan(100 * MILLISECOND)),
        ("10microsecond", Literal::TimeSpan(10 * MICROSECOND)),
        ("1tick", Literal::TimeSpan(1)),
        ("2min", Literal::TimeSpan(2 * MINUTE)),
        ("3sec", Literal::TimeSpan(3 * SECOND)),
        ("1.5h", Literal::TimeSpan(90 * MINUTE)),
        ("-90m", Literal::TimeSpan(-90 * MINUTE)),
        ("2days", Literal::TimeSpan(2 * DAY)),
        ("1day", Literal::TimeSpan(DAY)),
        ("3hours", Literal::TimeSpan(3 * HOUR)),
        ("2hr", Literal::TimeSpan(2 * HOUR)),
        ("2hrs", Literal::TimeSpan(2 * HOUR)),
        ("4minutes", Literal::TimeSpan(4 * MINUTE)),
        ("5seconds", Literal::TimeSpan(5 * SECOND)),
        ("6milliseconds", Literal::TimeSpan(6 * MILLISECOND)),
        ("7microseconds", Literal::TimeSpan(7 * MICROSECOND)),
        ("8ticks", Literal::TimeSpan(8)),
        ("time(1d)", Literal::TimeSpan(DAY)),
        ("timespan(2)", Literal::TimeSpan(2 * DAY)),
        (
            "timespan(0.12:34:56.7)",
            Literal::TimeSpan(12 * HOUR + 34 * MINUTE + 56 * SECOND + 7 * SECOND / 10),
        ),
        ("timespan(null)", Literal::Null(Type::TimeSpan)),
        // datetimes
        ("datetime(2024-01-01)", Literal::DateTime(d2024)),
        ("datetime(\"2024-01-01\")", Literal::DateTime(d2024)),
        (
            "datetime(2024-01-01 10:30)",
            Literal::DateTime(d2024 + 10 * HOUR + 30 * MINUTE),
        ),
        (
            "datetime(2024-01-01T10:30:00.1234567Z)",
            Literal::DateTime(d2024 + 10 * HOUR + 30 * MINUTE + 1_234_567),
        ),
        ("datetime(null)", Literal::Null(Type::DateTime)),
        ("date(2024-01-01)", Literal::DateTime(d2024)),
        // guid, dynamic
        (
            "guid(74be27de-1e4e-49d9-b579-fe0b331d3642)",
            Literal::Guid(g),
        ),
        ("guid(null)", Literal::Null(Type::Guid)),
        ("dynamic(null)", Literal::Null(Type::Dynamic)),
        (
            r#"dynamic([1,"a",{"k":2}])"#,
            Literal::Dynamic(serde_json::json!([1, "a", {"k": 2}])),
        ),
        (
            "dynamic(['a', -1.5, true, null, {'x': [ ]}])",
            Literal::Dynamic(serde_json::json!(["a", -1.5, true, null, {"x": []}])),
        ),
        (
            "dynamic({\"d\": datetime(2024-01-01), \"n\": long(null), \"i\": int(3)})",
            Literal::Dynamic(serde_json::json!({"d": "2024-01-01T00:00:00Z", "n": null, "i": 3})),
        ),
    ];
    for (text, want) in cases {
        assert_eq!(print_literal(text), want, "literal {text:?}");
        assert_round_trip(text, &format!("print x = {text}"));
    }
    let nan = print_literal("real(nan)");
    assert!(
        matches!(nan, Literal::Real(v) if v.is_nan()),
        "real(nan) -> {nan:?}"
    );
    assert_eq!(
        kql::parse("print x = real(nan)")
            .map(|q| q.to_string())
            .ok()
            .as_deref(),
        Some("print x = real(nan)")
    );
    // `datetime('12-02-2022')` is accepted (month-day-year text).
    assert!(matches!(
        print_literal("datetime('12-02-2022')"),
        Literal::DateTime(_)
    ));
}

#[test]
fn sign_on_non_literals_is_unary() {
    for (text, op) in [
        ("-a", UnaryOp::Neg),
        ("+a", UnaryOp::Plus),
        ("-(5)", UnaryOp::Neg),
        ("-f(x)", UnaryOp::Neg),
    ] {
        assert!(
            matches!(print_expr(text).kind, ExprKind::Unary { op: o, .. } if o == op),
            "{text}: {:?}",
            print_expr(text)
        );
        assert_round_trip(text, &format!("print x = {text}"));
    }
    // `a -5` is a subtraction, not `a` followed by a literal.
    assert!(matches!(
        print_expr("a -5").kind,
        ExprKind::Binary {
            op: BinaryOp::Sub,
            ..
        }
    ));
}

/// Bad literal text: the diagnostic points at the literal (line:col).
#[test]
fn bad_literals_report_their_position() {
    let cases: &[(&str, &str, (usize, usize))] = &[
        ("print x = datetime(2024-13-45)", "KQL005", (1, 20)),
        ("print x =\n  guid(not-a-guid)", "KQL005", (2, 8)),
        ("print x = timespan(abc)", "KQL005", (1, 20)),
        ("print x = int(1.5)", "KQL005", (1, 15)),
        ("print x = 5xyz", "KQL003", (1, 11)),
        ("print x = 99999999999999999999", "KQL003", (1, 11)),
        ("print x = 9223372036854775808", "KQL005", (1, 11)),
        ("print x = 'abc", "KQL002", (1, 11)),
        ("print x = \"a\\qb\"", "KQL003", (1, 13)),
        ("print x = ```abc", "KQL002", (1, 11)),
        ("print x = datetime(2024-01-01", "KQL004", (1, 11)),
        ("print x = dynamic([1, f(x)])", "KQL005", (1, 23)),
        ("print x = #", "KQL001", (1, 11)),
    ];
    for (text, code, pos) in cases {
        let err = kql::parse(text).expect_err(text);
        let d = &err.0[0];
        let idx = LineIndex::new(text);
        let at = idx.line_col(text, d.span().expect("span").start as usize);
        assert_eq!(
            (d.code, at),
            (*code, *pos),
            "{text:?}: {}",
            err.render_plain("q", text)
        );
    }
}

// ---------------------------------------------------------------- operators

/// Queries beyond the corpus that must parse and round-trip (each checked
/// against Microsoft's parser where Kusto accepts them).
const ACCEPTED: &[&str] = &[
    "T | where a has_any ((T2 | distinct URI))",
    "T | where a !has 'x' and b !contains_cs 'y' or c !startswith 'z' and d !hassuffix_cs 'q'",
    "T | where a matches regex @'\\d+'",
    "T | where a !between (1 .. 5)",
    "T | where a in~ ('x') and b !in~ ('y') and c !in (1, 2) and d has_all ('a', 'b')",
    "T | project-away a*, *b | project-keep c | project-rename n = o | project-reorder a asc, b* desc",
    "T | summarize hint.shufflekey=k (a, b) = arg_max(t, x), count() by k = tolower(c), bin(t, 1h)",
    "T | top 3 by a desc nulls first",
    "T | order by a asc nulls last",
    "T | distinct *",
    "union kind=outer withsource=Src isfuzzy=true T1, (T2 | where x > 1), Dev*",
    "T | union T2",
    "T | join kind=leftouter hint.strategy=broadcast (T2 | project a) on $left.a == $right.b and $left.c == $right.d",
    "T | join T2 on k1, k2",
    "T | lookup kind=inner T2 on k",
    "T | mv-expand bagexpansion=array with_itemindex=I x = d.a to typeof(long), y limit 10",
    "T | mvexpand d",
    "T | parse kind=regex flags=Ui s with * 'a' x:long '(b)' y",
    "T | parse-where s with * 'k=' v ',' *",
    "T | render timechart with (title='x', ysplit=axes)",
    "T | serialize rn = row_number()",
    "T | serialize",
    "T | evaluate bag_unpack(d)",
    "T | as X | invoke f(1) | getschema",
    "T | take 5 | limit 1 | count",
    "T | extend x = -a, y = -(5), z = +b",
    "T | extend x = a.b['c'][0], y = $left.x",
    "T | extend x = toscalar(T2 | count)",
    "T | where * has 'x'",
    "T | extend e = extract('x', 1, s, typeof(long))",
    "let f = (T:(x:long), a:long = 5) { let y = a * 2; T | where x > y };\nf(T, 1)",
    "set querytrace;\nset x = 5;\nT",
    "let x = 1;\nprint x;",
    "print a = (1 + 2) * 3, b = 1 - (2 - 3), c = 2 * (3 / 4), d = not(a or b) and c, e = (a or b) and c",
    "print 'a' 'b' @\"c\" h'd'",
    "print ['where'] = 1, ['count'] = 2, ['x y'] = 3, [\"x-y\"] = 4",
    "print x = 1 // comment\r\n| extend\ty = 2",
    "T | where a == 1 and b == 2 or c == 3",
    "T\n| where Timestamp > ago(1d)\n| summarize count() by bin(Timestamp, 1h)\n| render timechart",
    "T | where Count > 1 | project count_ = Count, title = 2, type = 3",
    "T | summarize count(), Count = count(), dcount(x) by type",
    "T | filter a == 1 | sort by a | order by b desc",
    "T | where a =~ 'x' and b !~ 'y' and c <> 1",
    "T | extend d = datetime(2024-01-01) + 1d, e = datetime_diff('day', now(), ago(1d)) % 7",
    "let T = view () { print x = 1 };\nT",
    "let g = (x:string) { strcat(x, \"!\") };\nprint g(\"a\")",
    "T | mv-expand x to typeof(string)",
    "range x from 1 to 10 step 2 | extend y = x * 2 | where y between (2 .. 10)",
    "datatable(a:long, b:string)[1, \"x\", -2, 'y',] | where a > 0",
    "print x = dynamic({\"a\": [1, 2, {\"b\": null}]})",
    "T | join kind=inner (T2) on $left.a == $right.b",
    "let m = materialize(range x from 1 to 3 step 1);\nm | union m",
];

#[test]
fn accepted_queries_round_trip() {
    let problems: Vec<String> = ACCEPTED
        .iter()
        .filter_map(|q| round_trip_problem(q, q))
        .collect();
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
}

fn op_of(text: &str) -> OperatorKind {
    last_op(&parse_ok(text)).clone()
}

#[test]
fn operator_shapes() {
    // summarize: tuple names, named keys, hints skipped.
    let OperatorKind::Summarize { aggregates, by } =
        op_of("T | summarize hint.shufflekey=k (a, b) = arg_max(t, x), count() by k = tolower(c), bin(t, 1h)")
    else {
        panic!("summarize")
    };
    let names: Vec<Vec<&str>> = aggregates
        .iter()
        .map(|a| a.names.iter().map(|n| n.name.as_str()).collect())
        .collect();
    assert_eq!(names, vec![vec!["a", "b"], vec![]]);
    assert_eq!(by.len(), 2);
    assert_eq!(by[0].names[0].name, "k");

    // join: kind, hints, parenthesized right side, $left/$right condition.
    let OperatorKind::Join(j) = op_of(
        "T | join kind=leftouter hint.strategy=broadcast (T2 | project a) on $left.a == $right.b",
    ) else {
        panic!("join")
    };
    assert_eq!(j.kind, Some(JoinKind::LeftOuter));
    assert_eq!(j.hints.len(), 1);
    assert_eq!(j.hints[0].0, "hint.strategy");
    assert!(matches!(j.right.kind, ExprKind::Paren(_)));
    assert!(matches!(
        &j.on[..],
        [Expr {
            kind: ExprKind::Binary {
                op: BinaryOp::Eq,
                ..
            },
            ..
        }]
    ));
    let OperatorKind::Join(j) = op_of("T | join T2 on k1, k2") else {
        panic!("join")
    };
    assert_eq!((j.kind, j.on.len()), (None, 2));
    assert!(matches!(&j.right.kind, ExprKind::Name(n) if n.name == "T2"));

    // mv-expand
    let OperatorKind::MvExpand(m) = op_of(
        "T | mv-expand bagexpansion=array with_itemindex=I x = d.a to typeof(long), y limit 10",
    ) else {
        panic!("mv-expand")
    };
    assert_eq!(m.bag_expansion.as_deref(), Some("array"));
    assert_eq!(m.with_item_index.map(|i| i.name).as_deref(), Some("I"));
    assert_eq!(m.items.len(), 2);
    assert_eq!(m.items[0].name.as_ref().map(|n| n.name.as_str()), Some("x"));
    assert_eq!(m.items[0].to_type, Some(Type::Long));
    assert!(m.limit.is_some());

    // parse
    let OperatorKind::Parse(p) = op_of("T | parse kind=regex flags=Ui s with * 'a' x:long '(b)' y")
    else {
        panic!("parse")
    };
    assert_eq!(
        (p.kind, p.flags.as_deref(), p.where_),
        (Some(ParseKind::Regex), Some("Ui"), false)
    );
    assert_eq!(p.pattern.len(), 5);
    assert!(
        matches!(&p.pattern[2], ParsePart::Column(c) if c.name.name == "x" && c.ty == Type::Long)
    );
    assert!(
        matches!(&p.pattern[4], ParsePart::Column(c) if c.name.name == "y" && c.ty == Type::String)
    );

    // union source form
    let q = parse_ok("union kind=outer withsource=Src isfuzzy=true T1, (T2 | where x > 1), Dev*");
    let ExprKind::Union(u) = &last_expr(&q).kind else {
        panic!("union")
    };
    assert_eq!(u.kind, Some(UnionKind::Outer));
    assert_eq!(u.with_source.as_ref().map(|i| i.name.as_str()), Some("Src"));
    assert_eq!(u.is_fuzzy, Some(true));
    assert_eq!(u.tables.len(), 3);
    assert!(matches!(&u.tables[2].kind, ExprKind::Name(n) if n.name == "Dev*"));

    // sort keys / top
    let OperatorKind::Top { by, .. } = op_of("T | top 3 by a desc nulls first") else {
        panic!("top")
    };
    assert_eq!(
        (by[0].order, by[0].nulls),
        (Some(SortOrder::Desc), Some(NullsOrder::First))
    );
    let OperatorKind::Sort(keys) = op_of("T | order by a asc, b") else {
        panic!("sort")
    };
    assert_eq!((keys[0].order, keys[1].order), (Some(SortOrder::Asc), None));

    // project family
    let OperatorKind::ProjectAway(p) = op_of("T | project-away a*, *b, c") else {
        panic!("project-away")
    };
    let pats: Vec<&str> = p.iter().map(|p| p.pattern.as_str()).collect();
    assert_eq!(pats, vec!["a*", "*b", "c"]);
    let OperatorKind::ProjectReorder(p) = op_of("T | project-reorder a asc, b* desc, c") else {
        panic!("reorder")
    };
    assert_eq!(
        p.iter().map(|(_, o)| *o).collect::<Vec<_>>(),
        vec![Some(SortOrder::Asc), Some(SortOrder::Desc), None]
    );
    let OperatorKind::ProjectRename(p) = op_of("T | project-rename n = o, ['x y'] = z") else {
        panic!("rename")
    };
    assert_eq!((p[1].0.name.as_str(), p[1].1.name.as_str()), ("x y", "z"));

    assert!(matches!(
        op_of("T | distinct *"),
        OperatorKind::Distinct { all: true, .. }
    ));
    assert!(matches!(op_of("T | count"), OperatorKind::Count));
    assert!(matches!(op_of("T | getschema"), OperatorKind::GetSchema));
    assert!(
        matches!(op_of("T | render timechart with (title='x')"), OperatorKind::Render { properties, .. } if properties.len() == 1)
    );
    assert!(
        matches!(op_of("T | evaluate bag_unpack(d)"), OperatorKind::Evaluate { args, .. } if args.len() == 1)
    );
}

#[test]
fn expression_shapes() {
    // precedence: and binds tighter than or; * tighter than +.
    let e = print_expr("a or b and c");
    assert!(
        matches!(&e.kind, ExprKind::Binary { op: BinaryOp::Or, right, .. } if matches!(right.kind, ExprKind::Binary { op: BinaryOp::And, .. }))
    );
    let e = print_expr("1 + 2 * 3");
    assert!(matches!(
        &e.kind,
        ExprKind::Binary {
            op: BinaryOp::Add,
            ..
        }
    ));
    // Kusto's levels (checked with Kusto.Language): equality < relational <
    // string operators; `in`/`between` take a relational left side.
    let e = print_expr("a == b < c");
    assert!(
        matches!(&e.kind, ExprKind::Binary { op: BinaryOp::Eq, right, .. } if matches!(right.kind, ExprKind::Binary { op: BinaryOp::Lt, .. })),
        "{e:?}"
    );
    let e = print_expr("1 < 2 has 'a'");
    assert!(
        matches!(&e.kind, ExprKind::Binary { op: BinaryOp::Lt, right, .. } if matches!(right.kind, ExprKind::Binary { op: BinaryOp::Has, .. })),
        "{e:?}"
    );
    let e = print_expr("1 < 2 in (true)");
    assert!(
        matches!(&e.kind, ExprKind::List { expr, .. } if matches!(expr.kind, ExprKind::Binary { op: BinaryOp::Lt, .. })),
        "{e:?}"
    );
    let e = print_expr("a < b == c");
    assert!(
        matches!(&e.kind, ExprKind::Binary { op: BinaryOp::Eq, left, .. } if matches!(left.kind, ExprKind::Binary { op: BinaryOp::Lt, .. })),
        "{e:?}"
    );
    assert_eq!(
        parse_ok("print x = (a == b) < c, y = a has (b < c)").to_string(),
        "print x = (a == b) < c, y = a has (b < c)"
    );
    let e = print_expr("1 - 2 - 3");
    assert!(
        matches!(&e.kind, ExprKind::Binary { op: BinaryOp::Sub, left, .. } if matches!(left.kind, ExprKind::Binary { .. }))
    );
    // list operators with scalars, dynamic arrays and tables.
    let e = print_expr("a in~ ('x', dynamic(['y']), (T | project z))");
    let ExprKind::List { op, items, .. } = &e.kind else {
        panic!("{e:?}")
    };
    assert_eq!((*op, items.len()), (ListOp::InCi, 3));
    assert!(matches!(items[2].kind, ExprKind::Paren(_)));
    assert!(matches!(
        print_expr("a !in~ (1)").kind,
        ExprKind::List {
            op: ListOp::NotInCi,
            ..
        }
    ));
    assert!(matches!(
        print_expr("a !between (1 .. 2)").kind,
        ExprKind::Between { negated: true, .. }
    ));
    assert!(matches!(
        print_expr("a matches regex 'x'").kind,
        ExprKind::Binary {
            op: BinaryOp::MatchesRegex,
            ..
        }
    ));
    for (op, text) in BinaryOp::TABLE {
        let e = print_expr(&format!("a {text} b"));
        assert!(
            matches!(e.kind, ExprKind::Binary { op: o, .. } if o == *op),
            "a {text} b -> {e:?}"
        );
    }
    for (op, text) in ListOp::TABLE {
        let e = print_expr(&format!("a {text} ('x')"));
        assert!(
            matches!(e.kind, ExprKind::List { op: o, .. } if o == *op),
            "a {text} ('x') -> {e:?}"
        );
    }
    // calls: not() is a call, * and typeof() arguments, tabular arguments.
    assert!(
        matches!(print_expr("not(a)").kind, ExprKind::Call { ref name, .. } if name.name == "not")
    );
    let ExprKind::Call { args, .. } = print_expr("arg_max(t, *)").kind else {
        panic!()
    };
    assert!(matches!(args[1].kind, ExprKind::Star));
    let ExprKind::Call { args, .. } = print_expr("extract('x', 1, s, typeof(long))").kind else {
        panic!()
    };
    assert!(matches!(args[3].kind, ExprKind::TypeOf(Type::Long)));
    let ExprKind::Call { args, .. } =
        print_expr("toscalar(range x from 1 to 9 step 1 | count)").kind
    else {
        panic!()
    };
    assert!(matches!(args[0].kind, ExprKind::Pipe { .. }));
    let ExprKind::Call { args, .. } = print_expr("toscalar(print x=1)").kind else {
        panic!()
    };
    assert!(matches!(args[0].kind, ExprKind::Print(_)));
    // member / index / $left
    let e = print_expr("$left.a.b['c'][0]");
    assert!(
        matches!(&e.kind, ExprKind::Index { base, .. } if matches!(base.kind, ExprKind::Index { .. }))
    );
    // parentheses around scalars are dropped
    assert!(matches!(print_expr("((a))").kind, ExprKind::Name(_)));
    // keywords still work as names where Kusto allows
    assert!(matches!(print_expr("count()").kind, ExprKind::Call { .. }));
    assert!(matches!(
        print_expr("Count + kind").kind,
        ExprKind::Binary { .. }
    ));
}

#[test]
fn inside_an_operator_a_pipe_ends_it_inside_parens_it_continues() {
    let q = parse_ok("T | where a > 1 | count");
    let ExprKind::Pipe { input, op } = &last_expr(&q).kind else {
        panic!()
    };
    assert!(matches!(op.kind, OperatorKind::Count));
    assert!(
        matches!(&input.kind, ExprKind::Pipe { op, .. } if matches!(op.kind, OperatorKind::Where(_)))
    );
    let q = parse_ok("T | where a in ((U | where b > 1 | project a)) | count");
    assert!(matches!(last_op(&q), OperatorKind::Count));
}

#[test]
fn printer_is_canonical() {
    let cases: &[(&str, &str)] = &[
        (
            "T|where a>1 and(b<2 or c==3)",
            "T\n| where a > 1 and (b < 2 or c == 3)",
        ),
        ("print x=(1+2)*3-(4-5)", "print x = (1 + 2) * 3 - (4 - 5)"),
        (
            "print x=-(5), y=-a, z=- 5",
            "print x = -(5), y = -a, z = -5",
        ),
        (
            "print ['a b']='it\\'s', ['count']=@'C:\\x'",
            "print ['a b'] = \"it's\", ['count'] = \"C:\\\\x\"",
        ),
        (
            "print x=90m, y=1.5, z=2.0, w=1e3, d=dynamic([1,'a'])",
            "print x = 90m, y = 1.5, z = 2.0, w = 1000.0, d = dynamic([1,\"a\"])",
        ),
        (
            "T|join kind=inner(U)on $left.a==$right.b",
            "T\n| join kind=inner (U) on $left.a == $right.b",
        ),
        (
            "T|summarize by k|top 1 by k asc",
            "T\n| summarize by k\n| top 1 by k asc",
        ),
        (
            "let f=(a:long){a+1};f(1)",
            "let f = (a:long) { a + 1 };\nf(1)",
        ),
        (
            "print x=datetime(2024-01-01 10:30), t=timespan(1.02:03:04)",
            "print x = datetime(2024-01-01T10:30:00Z), t = 93784s",
        ),
        (
            "print s = a has_any ('x','y')",
            "print s = a has_any (\"x\", \"y\")",
        ),
        (
            "print k = d.kind, c = d.['a b'], e = d['x']",
            "print k = d.kind, c = d.['a b'], e = d[\"x\"]",
        ),
    ];
    for (text, want) in cases {
        assert_eq!(parse_ok(text).to_string(), *want, "{text}");
    }
}

// ------------------------------------------------------------------- errors

fn errors(text: &str) -> Vec<(&'static str, (usize, usize), String)> {
    let err = match parse_query(text, &Limits::default()) {
        Ok(q) => panic!("{text:?} parsed: {q}"),
        Err(e) => e,
    };
    let idx = LineIndex::new(text);
    err.0
        .iter()
        .map(|d| {
            (
                d.code,
                idx.line_col(text, d.span().map(|s| s.start as usize).unwrap_or(0)),
                d.message.clone(),
            )
        })
        .collect()
}

/// Each case: query, then the first diagnostic's code, line:col and a piece
/// of its message.
#[test]
fn syntax_errors_name_the_place_and_what_was_expected() {
    let cases: &[(&str, &str, (usize, usize), &str)] = &[
        (
            "T | where",
            "KQL010",
            (1, 10),
            "expected an expression, found end of query",
        ),
        (
            "T\n| where x >\n| count",
            "KQL010",
            (3, 1),
            "expected an expression, found '|'",
        ),
        (
            "T | frobnicate x",
            "KQL011",
            (1, 5),
            "unknown or unsupported tabular operator 'frobnicate'",
        ),
        ("T | project-smash x", "KQL011", (1, 5), "'project-smash'"),
        (
            "T | summarize count() by",
            "KQL010",
            (1, 25),
            "expected an expression",
        ),
        (
            "T | join kind=sideways U on k",
            "KQL012",
            (1, 15),
            "unknown join kind 'sideways'",
        ),
        (
            "T | join U",
            "KQL010",
            (1, 11),
            "expected 'on', found end of query",
        ),
        (
            "T | where a in 'x'",
            "KQL010",
            (1, 16),
            "expected '(' and a list after 'in', found string literal",
        ),
        (
            "T | where a between (1, 2)",
            "KQL010",
            (1, 23),
            "expected '..' between the bounds, found ','",
        ),
        ("T | top 5 x", "KQL010", (1, 11), "expected 'by', found 'x'"),
        ("T | sort a", "KQL010", (1, 10), "expected 'by', found 'a'"),
        (
            "let x = ;\nprint 1",
            "KQL010",
            (1, 9),
            "expected an expression, found ';'",
        ),
        (
            "let f = (a:lung) { a };\nf(1)",
            "KQL013",
            (1, 12),
            "unknown type 'lung'",
        ),
        (
            "print x = f(1, 2",
            "KQL010",
            (1, 17),
            "expected ',' or ')' in the argument list, found end of query",
        ),
        (
            "T | where a > 1 b",
            "KQL010",
            (1, 17),
            "expected '|' or the end of the 'where' operator, found 'b'",
        ),
        (
            "print 1 print 2",
            "KQL010",
            (1, 9),
            "expected ';' or end of query, found 'print'",
        ),
        (
            "T | mv-expand x to typeof(strin)",
            "KQL013",
            (1, 27),
            "unknown type 'strin'",
        ),
        (
            "T | parse s with * 5",
            "KQL010",
            (1, 20),
            "in the parse pattern",
        ),
        (
            "datatable(a:long)[1, 2",
            "KQL010",
            (1, 23),
            "expected ',' or ']' in the datatable values",
        ),
        (
            "T | where (a",
            "KQL010",
            (1, 13),
            "expected ')', found end of query",
        ),
        (
            "externaldata(a:string)[@'https://x']",
            "KQL014",
            (1, 1),
            "not supported",
        ),
        ("", "KQL010", (1, 1), "empty query"),
        ("// only a comment\n", "KQL010", (1, 1), "empty query"),
        (
            "T |\r\n\twhere x ==",
            "KQL010",
            (2, 12),
            "expected an expression",
        ),
    ];
    for (text, code, pos, msg) in cases {
        let errs = errors(text);
        let (c, at, m) = &errs[0];
        assert_eq!((*c, *at), (*code, *pos), "{text:?}: {errs:?}");
        assert!(m.contains(msg), "{text:?}: message {m:?} lacks {msg:?}");
    }
}

#[test]
fn common_slips_get_a_help_line() {
    for (text, help) in [
        ("T where a > 1", "add '|' before 'where'"),
        ("T | where a = 1", "use '=='"),
        ("T | take 1 count", "add '|' before 'count'"),
    ] {
        let err = parse_query(text, &Limits::default()).expect_err(text);
        let h = err.0[0].help.clone().unwrap_or_default();
        assert!(h.contains(help), "{text}: help {h:?}");
    }
}

#[test]
fn several_errors_are_collected() {
    let text = "T\n| where\n| frob x\n| project a,\n| count;\nprint (1 +;\nprint 2";
    let errs = errors(text);
    let at: Vec<(usize, usize)> = errs.iter().map(|e| e.1).collect();
    assert_eq!(at, vec![(3, 1), (3, 3), (5, 1), (6, 11)], "{errs:#?}");
    // The lexer does not stop either.
    let errs = errors("print a = 'x\nprint b = 3zz;\nprint c = #");
    let codes: Vec<&str> = errs.iter().map(|e| e.0).collect();
    assert_eq!(codes, vec!["KQL002", "KQL003", "KQL001"], "{errs:#?}");
}

#[test]
fn nesting_depth_is_limited_without_stack_overflow() {
    let limits = Limits {
        max_depth: 64,
        ..Limits::default()
    };
    let deep = |open: &str, close: &str, n: usize| {
        format!("print x = {}1{}", open.repeat(n), close.repeat(n))
    };
    for text in [
        deep("(", ")", 100),
        deep("-", "", 100),
        deep("f(", ")", 100),
        format!("print x = {}1{}", "dynamic([".repeat(100), "])".repeat(100)),
        format!("print x = dynamic({}1{})", "[".repeat(100), "]".repeat(100)),
        format!("print x = {}", vec!["a"; 200].join(" in (")) + &")".repeat(199),
        format!(
            "let f = () {{ {}1{} }};\nf()",
            "(".repeat(100),
            ")".repeat(100)
        ),
    ] {
        let err = parse_query(&text, &limits).expect_err("too deep");
        assert!(
            err.0.iter().any(|d| d.code == "KQL020"),
            "{}: {err}",
            &text[..40]
        );
    }
    // Shallow enough is fine, and a huge configured limit is capped.
    assert!(parse_query(&deep("(", ")", 30), &limits).is_ok());
    let huge = Limits {
        max_depth: usize::MAX,
        ..Limits::default()
    };
    let err = parse_query(&deep("(", ")", 100_000), &huge).expect_err("capped");
    assert!(err.0.iter().any(|d| d.code == "KQL020"));
    // Long flat chains are not nesting.
    let long = format!("print x = {}", vec!["1"; 5000].join(" + "));
    assert!(parse_query(&long, &Limits::default()).is_ok());
    let pipes = format!("T{}", " | where a > 1".repeat(5000));
    assert!(parse_query(&pipes, &Limits::default()).is_ok());
}

// -------------------------------------------------------------------- spans

fn slice(text: &str, span: Span) -> &str {
    &text[span.range()]
}

#[test]
fn spans_cover_their_source_text() {
    let text = "let n = 5;\nT\n| where a >= n and b has 'x'\n| summarize c = count() by k";
    let q = parse_ok(text);
    assert_eq!(slice(text, q.statements[0].span), "let n = 5");
    let StatementKind::Let {
        name,
        value: LetValue::Expr(v),
    } = &q.statements[0].kind
    else {
        panic!()
    };
    assert_eq!(slice(text, name.span), "n");
    assert_eq!(slice(text, v.span), "5");
    let e = last_expr(&q);
    assert_eq!(slice(text, e.span), &text[11..]);
    let ExprKind::Pipe { input, op } = &e.kind else {
        panic!()
    };
    assert_eq!(slice(text, op.span), "summarize c = count() by k");
    let OperatorKind::Summarize { aggregates, by } = &op.kind else {
        panic!()
    };
    assert_eq!(slice(text, aggregates[0].span), "c = count()");
    assert_eq!(slice(text, aggregates[0].expr.span), "count()");
    assert_eq!(slice(text, by[0].span), "k");
    let ExprKind::Pipe { input, op } = &input.kind else {
        panic!()
    };
    assert_eq!(slice(text, input.span), "T");
    assert_eq!(slice(text, op.span), "where a >= n and b has 'x'");
    let OperatorKind::Where(w) = &op.kind else {
        panic!()
    };
    assert_eq!(slice(text, w.span), "a >= n and b has 'x'");
    let ExprKind::Binary { left, right, .. } = &w.kind else {
        panic!()
    };
    assert_eq!(slice(text, left.span), "a >= n");
    assert_eq!(slice(text, right.span), "b has 'x'");

    let text = "print x = -5d, y = datetime(2024-01-01), z = d.a['b'], w = a in ('q'), v = f(1, *), ['u v'] = 'a' \"b\"";
    let q = parse_ok(text);
    let ExprKind::Print(items) = &last_expr(&q).kind else {
        panic!()
    };
    let got: Vec<&str> = items.iter().map(|i| slice(text, i.expr.span)).collect();
    assert_eq!(
        got,
        vec![
            "-5d",
            "datetime(2024-01-01)",
            "d.a['b']",
            "a in ('q')",
            "f(1, *)",
            "'a' \"b\""
        ]
    );
    assert_eq!(slice(text, items[5].names[0].span), "['u v']");
    assert_eq!(slice(text, items[5].span), "['u v'] = 'a' \"b\"");
}

// ------------------------------------------------------------------ no panic

/// A small deterministic generator (xorshift) so the sweep is reproducible.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn must_not_panic(text: &str) {
    let r = std::panic::catch_unwind(|| parse_query(text, &Limits::default()));
    match r {
        Ok(Ok(q)) => {
            // Whatever parses must print to something that parses the same.
            if let Some(p) = round_trip_problem("mutant", text) {
                panic!("{p}");
            }
            let _ = q;
        }
        Ok(Err(d)) => assert!(!d.0.is_empty(), "{text:?}: Err without diagnostics"),
        Err(_) => panic!("parser panicked on {text:?}"),
    }
}

#[test]
fn truncated_mutated_and_random_inputs_never_panic() {
    // SYNTAX_FUZZ_SEED=<n> explores other mutations; the default is fixed.
    let seed = std::env::var("SYNTAX_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x9E37_79B9_7F4A_7C15u64);
    let mut rng = Rng(seed | 1);
    let pieces = [
        "(",
        ")",
        "[",
        "]",
        "{",
        "}",
        "|",
        ";",
        ",",
        "'",
        "\"",
        "@",
        "`",
        "-",
        "!",
        "~",
        "=",
        "..",
        ".",
        "$left.",
        " in ",
        " has ",
        " between ",
        " by ",
        "datetime(",
        "dynamic(",
        "let ",
        "\n",
        "\r\n",
        "\t",
        "é",
        "0x",
        "1e",
        "5d",
        "*",
        "//",
        "```",
        "h'",
        "['",
        "typeof(",
        " on ",
        " with ",
    ];
    let mut inputs = 0usize;
    for (_, query, _) in corpus() {
        let chars: Vec<(usize, char)> = query.char_indices().collect();
        // every truncated prefix (every 3rd char boundary keeps it fast)
        for (i, _) in chars.iter().step_by(3) {
            must_not_panic(&query[..*i]);
            inputs += 1;
        }
        // random edits
        for _ in 0..30 {
            let mut s = query.clone();
            for _ in 0..1 + rng.below(3) {
                let bounds: Vec<usize> =
                    s.char_indices().map(|(i, _)| i).chain([s.len()]).collect();
                let at = bounds[rng.below(bounds.len())];
                match rng.below(3) {
                    0 => s.insert_str(at, pieces[rng.below(pieces.len())]),
                    1 => {
                        let end = bounds.iter().copied().find(|&b| b > at).unwrap_or(at);
                        s.replace_range(at..end, "");
                    }
                    _ => {
                        let end = bounds
                            .iter()
                            .copied()
                            .filter(|&b| b > at)
                            .nth(rng.below(8))
                            .unwrap_or(at);
                        let cut: String = s[at..end].to_string();
                        s.insert_str(at, &cut);
                    }
                }
            }
            must_not_panic(&s);
            inputs += 1;
        }
    }
    // random bytes (lossily decoded) and random piece soups
    for _ in 0..2000 {
        let len = rng.below(80);
        let bytes: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        must_not_panic(&String::from_utf8_lossy(&bytes));
        let soup: String = (0..rng.below(30))
            .map(|_| pieces[rng.below(pieces.len())])
            .collect();
        must_not_panic(&soup);
        inputs += 2;
    }
    assert!(inputs > 10_000, "{inputs}");
}

/// Every span of every node of every corpus query is non-empty, inside the
/// text, on char boundaries, and tight (no surrounding whitespace or
/// comments). Spans are read from the tree's `Debug` form, which lists them
/// all.
#[test]
fn every_span_is_tight_and_inside_the_text() {
    let re = regex::Regex::new(r"Span \{ start: (\d+), end: (\d+) \}").expect("regex");
    let mut checked = 0usize;
    for (name, text, _) in corpus() {
        let q = parse_ok(&text);
        let dbg = format!("{q:?}");
        for c in re.captures_iter(&dbg) {
            let (s, e): (usize, usize) = (c[1].parse().expect("start"), c[2].parse().expect("end"));
            assert!(
                s < e && e <= text.len(),
                "{name}: span {s}..{e} of {}",
                text.len()
            );
            let Some(t) = text.get(s..e) else {
                panic!("{name}: span {s}..{e} not on char boundaries")
            };
            if (s, e) != (0, text.len()) {
                assert_eq!(t, t.trim(), "{name}: span {s}..{e} is not tight: {t:?}");
                assert!(!t.ends_with("//"), "{name}: {t:?}");
            }
            checked += 1;
        }
    }
    assert!(checked > 4_000, "{checked}");
}
