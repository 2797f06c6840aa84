//! Planner and executor behaviour: semantic errors with spans, output
//! schema naming, limits, projection and prefilter pushdown (soundness
//! checked against a catalog that really drops rows), partitioned scans.

use kql::table::{Prefilter, RowStream, ScanError, ScanRequest};
use kql::{Catalog, Column, EvalContext, Limits, MemoryCatalog, Schema, Table, Type, Value};
use std::sync::Mutex;

const NOW: i64 = kql::time::UNIX_EPOCH + 1_767_225_600 * kql::time::SECOND;

fn s(x: &str) -> Value {
    Value::string(x)
}

/// `T(a:string, b:long, x:long, d:dynamic, Timestamp:datetime, s:string)`
fn sample_table(n: usize) -> Table {
    let schema = Schema::new(vec![
        Column::new("a", Type::String),
        Column::new("b", Type::Long),
        Column::new("x", Type::Long),
        Column::new("d", Type::Dynamic),
        Column::new("Timestamp", Type::DateTime),
        Column::new("s", Type::String),
    ]);
    let words = [
        "assist.zoho.com",
        "x.assist.zoho.com",
        "zoho assist",
        "other.example",
        "",
        "Zoho Assist Agent",
    ];
    let rows = (0..n)
        .map(|i| {
            vec![
                s(words[i % words.len()]),
                Value::Long(i as i64 % 7),
                if i % 5 == 0 {
                    Value::Null
                } else {
                    Value::Long(i as i64)
                },
                Value::dynamic(serde_json::json!({"k": i, "name": words[(i + 1) % words.len()]})),
                Value::DateTime(NOW - (i as i64) * kql::time::HOUR),
                s(if i % 2 == 0 { "even" } else { "odd" }),
            ]
        })
        .collect();
    Table { schema, rows }
}

fn catalog() -> MemoryCatalog {
    MemoryCatalog::new().with_table("T", sample_table(60))
}

fn run(q: &str, cat: &dyn Catalog) -> Result<Table, kql::Error> {
    kql::query(q, cat, &EvalContext::new(NOW))
}

#[test]
fn semantic_errors_have_codes_and_spans() {
    // (query, code, text under the primary span)
    let cases: &[(&str, &str, &str)] = &[
        ("datatable(a:long)[1]\n| project b", "KQL101", "b"),
        ("T | where Zzz > 1", "KQL101", "Zzz"),
        ("T | where A == 'x'", "KQL101", "A"),
        ("print x = 1 | extend y = x * 2, z = y + 1", "KQL101", "y"),
        ("T | where x", "KQL105", "x"),
        ("T | extend v = nosuchfunc(a)", "KQL102", "nosuchfunc"),
        ("NoSuchTable | count", "KQL106", "NoSuchTable"),
        ("T | project a, a", "KQL108", "a"),
        ("T | where a matches regex '('", "KQL111", "'('"),
        ("let n = 5; n | count", "KQL110", "n"),
        ("T | summarize count() by d", "KQL105", "d"),
        ("T | where s between ('a' .. 'b')", "KQL103", "between"),
        ("T | extend c = count()", "KQL102", "count"),
        ("T | summarize nosuchagg(x)", "KQL102", "nosuchagg"),
        ("T | join (T) on nope", "KQL101", "nope"),
    ];
    let cat = catalog();
    for (q, code, under) in cases {
        let parsed = kql::parse(q).unwrap_or_else(|e| panic!("{q:?} should parse: {e}"));
        let err = kql::plan(&parsed, &cat).expect_err(q);
        let d = err
            .0
            .first()
            .unwrap_or_else(|| panic!("{q:?}: no diagnostic"));
        assert_eq!(d.code, *code, "{q:?}: {err}");
        let span = d.span().unwrap_or_else(|| panic!("{q:?}: no span"));
        let got = q.get(span.range()).unwrap_or("<bad span>");
        assert!(
            got.contains(under),
            "{q:?}: span covers {got:?}, expected {under:?}"
        );
    }
}

#[test]
fn operators_after_bag_unpack_are_checked_at_run_time() {
    // The columns bag_unpack makes depend on the data, so what follows it is
    // planned once the data is known; its errors keep their spans.
    let q = "T | evaluate bag_unpack(d) | where nope > 1";
    let err = run(q, &catalog()).expect_err(q);
    let d = &err.diagnostics().0[0];
    assert_eq!(d.code, "KQL206", "{err}");
    assert_eq!(
        d.span().and_then(|s| q.get(s.range())),
        Some("nope"),
        "{err}"
    );
}

#[test]
fn unknown_column_span_is_exact() {
    let q = "datatable(a:long)[1]\n| project b";
    let err = kql::plan(&kql::parse(q).expect("parses"), &catalog()).expect_err("must fail");
    let d = &err.0[0];
    assert_eq!(
        (d.code, d.span().map(|s| (s.start, s.end))),
        ("KQL101", Some((31, 32))),
        "{err}"
    );
}

#[test]
fn planner_collects_every_error() {
    // (query, the text under each diagnostic, in order)
    let cases: &[(&str, &[&str])] = &[
        (
            "T | project nope1, a, nope2, tolower(nope3)",
            &["nope1", "nope2", "nope3"],
        ),
        // A failing where/sort/take keeps the schema: later errors still show.
        (
            "T | where nope1 > 1 | sort by nope2 | project a, nope3",
            &["nope1", "nope2", "nope3"],
        ),
        ("let x = nope1; T | extend y = nope2", &["nope1", "nope2"]),
        // A failed let is reported once, not again at each use.
        ("let x = nope1; T | extend y = x, z = x + 1", &["nope1"]),
        (
            "let U = T | where nope1 > 0; T | where a in (U) | join U on a",
            &["nope1"],
        ),
    ];
    for (q, want) in cases {
        let err = kql::plan(&kql::parse(q).expect("parses"), &catalog()).expect_err(q);
        let names: Vec<&str> = err
            .0
            .iter()
            .filter_map(|d| d.span())
            .filter_map(|s| q.get(s.range()))
            .collect();
        assert_eq!(names, *want, "{q}: {err}");
    }
}

#[test]
fn output_schema_naming_follows_kusto_language() {
    // Expected schemas confirmed with Kusto.Language (kql-lint --result).
    let cases: &[(&str, &str)] = &[
        ("T | extend tostring(x)", "a:string, b:long, x:string, d:dynamic, Timestamp:datetime, s:string"),
        (
            "T | extend strcat(x, 'v'), x * 2",
            "a:string, b:long, x:long, d:dynamic, Timestamp:datetime, s:string, Column1:string, Column2:long",
        ),
        ("T | project x, tostring(x), tostring(x)", "x:long, x1:string, x2:string"),
        ("print x=1, 2, 3", "x:long, print_1:long, print_2:long"),
        ("T | project d.a.b, d['k'], d[0]", "d_a_b:dynamic, d_k:dynamic, d_0:dynamic"),
        ("T | project strlen(a), toint(d.a)", "strlen_a:long, d_a:int"),
        ("T | count", "Count:long"),
        ("T | join (T | project a, z=1) on $left.a == $right.a", "a:string, b:long, x:long, d:dynamic, Timestamp:datetime, s:string, a1:string, z:long"),
        ("T | lookup (T | project a, z=1, b) on a", "a:string, b:long, x:long, d:dynamic, Timestamp:datetime, s:string, z:long, b1:long"),
        ("T | join kind=rightanti (T | project a, q=1) on a", "a:string, q:long"),
        ("T | union (T | project a, x=tostring(x))", "a:string, b:long, x_long:long, x_string:string, d:dynamic, Timestamp:datetime, s:string"),
        ("union withsource=S (print a=1), (print a='x')", "S:string, a_long:long, a_string:string"),
        ("T | mv-expand with_itemindex=I e=d to typeof(long)", "a:string, b:long, x:long, d:dynamic, Timestamp:datetime, s:string, e:long, I:long"),
        ("T | mv-expand d to typeof(string)", "a:string, b:long, x:long, d:string, Timestamp:datetime, s:string"),
        ("T | parse a with * 'x' y:long 'z' rest", "a:string, b:long, x:long, d:dynamic, Timestamp:datetime, s:string, y:long, rest:string"),
        ("T | project-rename y = x | project-reorder s, a", "s:string, a:string, b:long, y:long, d:dynamic, Timestamp:datetime"),
        ("T | project-away d, T* | project-keep *", "a:string, b:long, x:long, s:string"),
        ("T | getschema", "ColumnName:string, ColumnOrdinal:long, DataType:string, ColumnType:string"),
        ("T | distinct a, x", "a:string, x:long"),
        ("T | serialize r = row_number() | extend p = prev(x)", "a:string, b:long, x:long, d:dynamic, Timestamp:datetime, s:string, r:long, p:long"),
        ("range x from 1.5 to 3 step 1", "x:real"),
        (
            "T | summarize r = 100.0 * countif(x > 1) / count(), c = count(), tostring(make_set(x)), count() * 2 by s",
            "s:string, r:real, c:long, set_x:string, Column1:long",
        ),
        ("T | summarize dcount(a) > 1 by s", "s:string, Column1:bool"),
        ("T | summarize arg_max(x, *) by a", "a:string, x:long, b:long, d:dynamic, Timestamp:datetime, s:string"),
        ("T | summarize arg_min(x, *) by x", "x:long, x1:long, a:string, b:long, d:dynamic, Timestamp:datetime, s:string"),
        ("T | summarize arg_max(Timestamp, a, x) by a", "a:string, Timestamp:datetime, a1:string, x:long"),
        ("T | summarize arg_max(x+1, *) by a", "a:string, max_:long, b:long, x:long, d:dynamic, Timestamp:datetime, s:string"),
        ("T | summarize take_any(*) by a", "a:string, b:long, x:long, d:dynamic, Timestamp:datetime, s:string"),
        ("T | summarize count() by x+1, tolower(a)", "Column1:long, Column2:string, count_:long"),
        ("T | summarize any(a), take_any(a), percentile(x, 50), min(x+1)", "any_a:string, a:string, percentile_x_50:long, min_:long"),
        ("T | summarize count_=count(), count()", "count_:long, count_1:long"),
        ("T | summarize percentiles(x, 50, 95.5), percentiles(b, 5)", "percentile_x_50:long, percentile_x_95_5:long, percentile_b_5:long"),
        ("T | summarize p = percentiles(x, 50, 95)", "p:long, percentile_x_95:long"),
        ("T | project x*2, Column2 = 5, x*3", "Column1:long, Column2:long, Column21:long"),
        ("T | extend x*2 | extend x*3", "a:string, b:long, x:long, d:dynamic, Timestamp:datetime, s:string, Column1:long, Column2:long"),
        ("T | project-reorder * asc", "a:string, b:long, d:dynamic, s:string, Timestamp:datetime, x:long"),
        ("T | summarize by bin(Timestamp, 1h), x", "Timestamp:datetime, x:long"),
        ("T | extend c = column_ifexists('x', 0), e = column_ifexists('nope', '')", "a:string, b:long, x:long, d:dynamic, Timestamp:datetime, s:string, c:long, e:string"),
        ("let f = (n:long) { n * 2 }; T | project f(x)", "Column1:long"),
    ];
    let cat = catalog();
    for (q, want) in cases {
        let parsed = kql::parse(q).unwrap_or_else(|e| panic!("{q:?} should parse: {e}"));
        let plan = kql::plan(&parsed, &cat).unwrap_or_else(|e| panic!("{q:?} should plan: {e}"));
        let got: Vec<String> = plan
            .schema
            .columns
            .iter()
            .map(|c| format!("{}:{}", c.name, c.ty))
            .collect();
        assert_eq!(got.join(", "), *want, "{q}");
    }
}

#[test]
fn range_bounds_fail_fast() {
    let cat = MemoryCatalog::new();
    let cases: &[(&str, &str)] = &[
        ("range x from 1 to 1000000000000 step 1", "KQL202"),
        ("range x from 1 to 10 step 0", "KQL205"),
        (
            "range t from datetime(2024-01-01) to datetime(9000-01-01) step 1s",
            "KQL202",
        ),
        ("range x from 0.0 to 1e300 step 1e-300", "KQL202"),
    ];
    for (q, code) in cases {
        let t0 = std::time::Instant::now();
        let err = run(q, &cat).expect_err(q);
        let d = err.diagnostics();
        assert_eq!(d.0.first().map(|d| d.code), Some(*code), "{q}: {err}");
        assert!(
            d.0[0].span().is_some(),
            "{q}: error must point at the operator"
        );
        assert!(t0.elapsed().as_secs() < 5, "{q}: must fail fast");
    }
}

#[test]
fn buffering_operators_respect_limits() {
    let cat = MemoryCatalog::new().with_table("T", sample_table(500));
    let ctx = EvalContext {
        now: NOW,
        limits: Limits {
            max_rows: 100,
            ..Limits::default()
        },
    };
    for q in [
        "T | sort by x",
        "T | summarize count() by x",
        "T | join kind=inner (T) on a",
        "T | distinct *",
        "T | serialize n = row_number()",
        "T",
    ] {
        let err = kql::query(q, &cat, &ctx).expect_err(q);
        assert_eq!(err.diagnostics().0[0].code, "KQL202", "{q}: {err}");
    }
    // Streaming and small results stay within the bound.
    for (q, rows) in [
        ("T | where x > 0 | count", 1),
        ("T | top 5 by x", 5),
        ("T | summarize count() by b", 7),
    ] {
        let t = kql::query(q, &cat, &ctx).unwrap_or_else(|e| panic!("{q}: {e}"));
        assert_eq!(t.rows.len(), rows, "{q}");
    }
    let small = EvalContext {
        now: NOW,
        limits: Limits {
            max_memory: 10_000,
            ..Limits::default()
        },
    };
    let err = kql::query("T | sort by a", &cat, &small).expect_err("memory");
    assert_eq!(err.diagnostics().0[0].code, "KQL203", "{err}");
}

/// A catalog that records scan requests, can split tables into several
/// partitions, and can honour the prefilter (dropping rows whose text
/// lacks a required literal).
struct TestCatalog {
    inner: MemoryCatalog,
    partitions: usize,
    honour_prefilter: bool,
    requests: Mutex<Vec<ScanRequest>>,
}

impl TestCatalog {
    fn new(inner: MemoryCatalog, partitions: usize, honour_prefilter: bool) -> TestCatalog {
        TestCatalog {
            inner,
            partitions,
            honour_prefilter,
            requests: Mutex::new(Vec::new()),
        }
    }

    fn last_request(&self) -> Option<ScanRequest> {
        self.requests.lock().ok().and_then(|r| r.last().cloned())
    }
}

/// The raw text of a row as a JSON-lines reader would see it.
fn raw_text(schema: &Schema, row: &[Value]) -> String {
    let mut m = serde_json::Map::new();
    for (c, v) in schema.columns.iter().zip(row) {
        let j = match v {
            Value::String(s) => serde_json::Value::String(s.to_string()),
            Value::Long(i) => serde_json::json!(i),
            Value::Dynamic(d) => serde_json::Value::String(d.to_string()),
            Value::DateTime(t) => serde_json::Value::String(kql::time::format_datetime(*t)),
            _ => serde_json::Value::Null,
        };
        m.insert(c.name.clone(), j);
    }
    serde_json::Value::Object(m).to_string()
}

fn passes(p: &Prefilter, text: &str) -> bool {
    let t = text.to_ascii_lowercase();
    p.required
        .iter()
        .all(|alts| alts.iter().any(|a| t.contains(&a.to_ascii_lowercase())))
}

impl Catalog for TestCatalog {
    fn schema(&self, table: &str) -> Option<Schema> {
        self.inner.schema(table)
    }

    fn scan(
        &self,
        table: &str,
        request: &ScanRequest,
    ) -> Result<Vec<Box<dyn RowStream + '_>>, ScanError> {
        if let Ok(mut r) = self.requests.lock() {
            r.push(request.clone());
        }
        let t = self
            .inner
            .tables
            .iter()
            .find(|(n, _)| n == table)
            .map(|(_, t)| t)
            .ok_or_else(|| ScanError {
                table: table.into(),
                location: "catalog".into(),
                message: "no such table".into(),
            })?;
        let rows: Vec<Vec<Value>> = t
            .rows
            .iter()
            .filter(|r| match (&request.prefilter, self.honour_prefilter) {
                (Some(p), true) => passes(p, &raw_text(&t.schema, r)),
                _ => true,
            })
            .map(|r| {
                request
                    .columns
                    .iter()
                    .map(|&i| r.get(i).cloned().unwrap_or_default())
                    .collect()
            })
            .collect();
        let n = self.partitions.max(1);
        let chunk = rows.len().div_ceil(n).max(1);
        let mut parts: Vec<Box<dyn RowStream + '_>> = Vec::new();
        for c in rows.chunks(chunk) {
            let c: Vec<Result<Vec<Value>, ScanError>> = c.iter().cloned().map(Ok).collect();
            parts.push(Box::new(c.into_iter()));
        }
        Ok(parts)
    }
}

fn sorted_rows(t: &Table) -> Vec<String> {
    let mut v: Vec<String> = t.rows.iter().map(|r| format!("{r:?}")).collect();
    v.sort();
    v
}

#[test]
fn projection_pushdown_reads_only_needed_columns() {
    // (query, expected scan columns of T for each scan, in scan order)
    let cases: &[(&str, &[&[usize]])] = &[
        ("T | where a has 'zoho' | project b", &[&[0, 1]]),
        ("T | summarize count() by s", &[&[5]]),
        ("T | count", &[&[]]),
        ("T | extend y = x * 2 | project y", &[&[2]]),
        ("T | project-away d", &[&[0, 1, 2, 4, 5]]),
        (
            "T | where Timestamp > ago(1d) | summarize max(x) by a",
            &[&[0, 2, 4]],
        ),
        // The build side (right) is read first.
        (
            "T | join kind=inner (T | project a, z = b) on a | project z",
            &[&[0, 1], &[0]],
        ),
        ("T", &[&[0, 1, 2, 3, 4, 5]]),
    ];
    for (q, want) in cases {
        let cat = TestCatalog::new(catalog(), 1, false);
        let _ = run(q, &cat).unwrap_or_else(|e| panic!("{q}: {e}"));
        let got: Vec<Vec<usize>> = cat
            .requests
            .lock()
            .map(|r| r.iter().map(|x| x.columns.clone()).collect())
            .unwrap_or_default();
        let want: Vec<Vec<usize>> = want.iter().map(|w| w.to_vec()).collect();
        assert_eq!(got, want, "{q}");
    }
}

#[test]
fn prefilter_pushdown_extracts_sound_literals() {
    let cases: &[(&str, Option<&[&[&str]]>)] = &[
        ("T | where a has 'zoho'", Some(&[&["zoho"]])),
        (
            "T | where a has_any ('assist.zoho.com', 'zohoassist') and s == 'even'",
            Some(&[&["assist.zoho.com", "zohoassist"], &["even"]]),
        ),
        (
            "T | where a has 'Zoho Assist' | where s startswith 'ev'",
            Some(&[&["ev"], &["Zoho Assist"]]),
        ),
        (
            "T | where a contains 'zoho' or s has 'odd'",
            Some(&[&["zoho", "odd"]]),
        ),
        ("T | where a !has 'zoho'", None),
        ("T | where not(a has 'zoho')", None),
        ("T | where a has 'zoho' or x > 3", None),
        ("T | where a has ''", None),
        ("T | where d has 'zoho'", None),
        (
            "T | where a in~ ('X', 'Y') and a has_all ('assist', 'zoho')",
            Some(&[&["X", "Y"], &["assist"], &["zoho"]]),
        ),
        ("T | extend a = tolower(s) | where a has 'zoho'", None),
    ];
    for (q, want) in cases {
        let cat = TestCatalog::new(catalog(), 1, false);
        let _ = run(q, &cat).unwrap_or_else(|e| panic!("{q}: {e}"));
        let got = cat.last_request().and_then(|r| r.prefilter);
        let want = want.map(|w| Prefilter {
            required: w
                .iter()
                .map(|alts| alts.iter().map(|s| s.to_string()).collect())
                .collect(),
        });
        assert_eq!(got, want, "{q}");
    }
}

#[test]
fn prefilter_and_partitions_never_change_results() {
    let queries = [
        "T | where a has 'zoho'",
        "T | where a has_any ('assist.zoho.com', 'zohoassist') and s == 'even'",
        "T | where a has 'Zoho Assist' | where s startswith 'ev' | project a, x",
        "T | where a contains 'zoho' or s has 'odd' | summarize count() by a",
        "T | where a in~ ('ASSIST.ZOHO.COM', 'zoho assist') | extend y = x * 2",
        "T | where a =~ 'OTHER.EXAMPLE' | mv-expand d | project a, d",
        "T | where a == 'zoho assist' and x > 3",
        "T | where a endswith '.com' | where a hassuffix 'com' | count",
        "T | where s has_any ('odd') | parse a with p '.' rest | project p, rest",
        "T | where a has 'zoho' | take 3 | count",
        "T | summarize n = count(), m = max(x) by a",
        "T | take 4 | count",
    ];
    let base = catalog();
    for q in queries {
        let plain = run(q, &base).unwrap_or_else(|e| panic!("{q}: {e}"));
        for (parts, honour) in [(1, true), (2, false), (3, true)] {
            let cat = TestCatalog::new(catalog(), parts, honour);
            let got = run(q, &cat).unwrap_or_else(|e| panic!("{q}: {e}"));
            assert_eq!(got.schema, plain.schema, "{q}");
            if q.contains("take") {
                assert_eq!(got.rows.len(), plain.rows.len(), "{q} (partitions {parts})");
            } else {
                assert_eq!(
                    sorted_rows(&got),
                    sorted_rows(&plain),
                    "{q} (partitions {parts}, prefilter {honour})"
                );
            }
        }
    }
}

#[test]
fn operators_on_a_catalog_table() {
    // (query, expected row count, or the value of `Count`)
    let cases: &[(&str, usize)] = &[
        ("T | where a has 'zoho'", 40),
        ("T | where a has_cs 'Zoho'", 10),
        ("T | distinct a", 6),
        ("T | top 3 by Timestamp asc", 3),
        ("T | where isnull(x) | count", 12),
        ("T | union T | count", 120),
        ("T | join kind=leftanti (T | where s == 'even') on s", 30),
        (
            "T | lookup (T | distinct s | extend w = strlen(s)) on s",
            60,
        ),
        ("let m = materialize(T | where b == 1); m | union m", 18),
        ("T | where x in ((T | where b == 1 | project x))", 7),
        (
            "T | extend n = toscalar(T | count) | where n == 60 | count",
            60,
        ),
        (
            "T | where b == 1 | as X | join kind=inner (X | project a, z = 1) on a | count",
            15,
        ),
        (
            "let n = toscalar(print 25); let L = dynamic(['x']); T | evaluate bag_unpack(d) | where k > n and name !in (L) | count",
            34,
        ),
    ];
    let cat = catalog();
    for (q, n) in cases {
        let t = run(q, &cat).unwrap_or_else(|e| panic!("{q}: {e}"));
        let got = if t.schema.columns.len() == 1 && t.schema.columns[0].name == "Count" {
            match t.rows.first().and_then(|r| r.first()) {
                Some(Value::Long(c)) => *c as usize,
                other => panic!("{q}: count gave {other:?}"),
            }
        } else {
            t.rows.len()
        };
        assert_eq!(got, *n, "{q}");
    }
}

#[test]
fn window_functions_run_over_serialized_rows() {
    let q = "datatable(k:string, v:long)['a',1,'a',2,'b',3,'b',4] | sort by k asc, v asc \
             | extend rn = row_number(), rr = row_number(1, k != prev(k)), cs = row_cumsum(v), \
             csr = row_cumsum(v, k != prev(k)), p = prev(v), n = next(v, 1, -1)";
    let t = run(q, &MemoryCatalog::new()).unwrap_or_else(|e| panic!("{q}: {e}"));
    let got: Vec<Vec<Option<i64>>> = t
        .rows
        .iter()
        .map(|r| {
            r.iter()
                .skip(1)
                .map(|v| match v {
                    Value::Long(i) => Some(*i),
                    _ => None,
                })
                .collect()
        })
        .collect();
    let want = vec![
        vec![Some(1), Some(1), Some(1), Some(1), Some(1), None, Some(2)],
        vec![
            Some(2),
            Some(2),
            Some(2),
            Some(3),
            Some(3),
            Some(1),
            Some(3),
        ],
        vec![
            Some(3),
            Some(3),
            Some(1),
            Some(6),
            Some(3),
            Some(2),
            Some(4),
        ],
        vec![
            Some(4),
            Some(4),
            Some(2),
            Some(10),
            Some(7),
            Some(3),
            Some(-1),
        ],
    ];
    assert_eq!(got, want, "{q}");
}

#[test]
fn exponential_inlining_is_rejected_not_run() {
    // Each let/function level doubles the plan; an offline engine must
    // refuse such a query rather than exhaust memory.
    let mut tab = String::from("let T0 = print x = 1;\n");
    for i in 1..40 {
        tab.push_str(&format!("let T{i} = T{} | union T{};\n", i - 1, i - 1));
    }
    tab.push_str("T39 | count");
    let fun = format!(
        "let f = (x:long) {{ x + x }};\nrange i from 1 to 2 step 1 | extend y = {}i{}",
        "f(".repeat(40),
        ")".repeat(40)
    );
    for q in [tab, fun] {
        let parsed = kql::parse(&q).unwrap_or_else(|e| panic!("{q}: {e}"));
        let err = kql::plan(&parsed, &MemoryCatalog::new()).expect_err(&q);
        assert_eq!(err.0[0].code, "KQL107", "{q}: {err}");
    }
}

#[test]
fn long_pipelines_run_or_are_rejected_without_overflow() {
    // Runs on the test thread's small stack: planning and execution move to
    // their own big-stack thread, streaming chains are applied in a loop.
    for (op, n, ok) in [
        ("where x > 0", 290, true),
        ("sort by x", 290, true),
        ("summarize count() by x", 290, true),
        ("join (print x=1) on x", 290, true),
        ("where x > 0", 3000, false),
    ] {
        let q = format!("print x=1{}", format!(" | {op}").repeat(n));
        let r = run(&q, &MemoryCatalog::new());
        assert_eq!(
            r.is_ok(),
            ok,
            "{op} x{n}: {:?}",
            r.err().map(|e| e.to_string())
        );
    }
}
