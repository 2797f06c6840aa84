//! The hunt pipeline: split-at-summarize equals the whole query (every
//! rule with a summarize, generated data), exclusions before aggregation
//! over the sample data, row-by-row filtering, failure isolation.

use kql::{MemoryCatalog, Table, Type, Value};
use rmmhunt::pipeline::exclude::{BoundExclusions, ExclusionSet};
use rmmhunt::pipeline::{run_hunt, run_rule, split, HuntOptions};
use rmmhunt::rule::{self, schema::known_tables, Rule};
use rmmhunt::source::local::LocalSource;
use rmmhunt::source::{Source, TimeWindow};
use std::path::{Path, PathBuf};

fn ticks(s: &str) -> i64 {
    kql::time::parse_datetime(s).unwrap_or_else(|| panic!("bad datetime {s}"))
}

const NOW: &str = "2026-11-25T12:00:00Z"; // a Wednesday

fn window() -> TimeWindow {
    TimeWindow::ending_at(ticks(NOW), TimeWindow::DEFAULT_LOOKBACK)
}

/// A small deterministic PRNG (xorshift64*).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// String literals of a query (the values its filters look for).
fn literals(query: &str) -> Vec<String> {
    let re = regex::Regex::new(r#"'((?:[^'\\\r\n]|\\.)*)'|"((?:[^"\\\r\n]|\\.)*)""#)
        .unwrap_or_else(|e| panic!("{e}"));
    let mut out: Vec<String> = re
        .captures_iter(query)
        .filter_map(|c| {
            c.get(1)
                .or_else(|| c.get(2))
                .map(|m| m.as_str().replace("\\\\", "\\"))
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

/// Rows for every known table, strings drawn from `pool` (decorated so
/// that `has`/`contains`/`startswith` sometimes hold and sometimes not).
fn generated_catalog(pool: &[String], seed: u64, rows: usize) -> MemoryCatalog {
    let mut rng = Rng(seed | 1);
    let now = ticks(NOW);
    let words = [
        "alpha",
        "svc_patch",
        "Contoso",
        "wks-01",
        "",
        "10.0.0.1",
        "zoho",
    ];
    let mut catalog = MemoryCatalog::new();
    for (name, schema) in known_tables() {
        let mut data = Vec::with_capacity(rows);
        for _ in 0..rows {
            let row = schema
                .columns
                .iter()
                .map(|c| match c.ty {
                    Type::String => {
                        let base = if !pool.is_empty() && rng.below(10) < 6 {
                            pool[rng.below(pool.len() as u64) as usize].clone()
                        } else {
                            words[rng.below(words.len() as u64) as usize].to_string()
                        };
                        let s = match rng.below(6) {
                            0 => format!("x.{base}"),
                            1 => format!("{base} Inc"),
                            2 => base.to_uppercase(),
                            3 => format!("my{base}"),
                            _ => base,
                        };
                        Value::string(s)
                    }
                    Type::DateTime => {
                        Value::DateTime(now - (rng.below(7 * 24 * 60) as i64) * kql::time::MINUTE)
                    }
                    Type::Long => Value::Long(rng.below(4) as i64),
                    Type::Int => Value::Int(rng.below(4) as i32),
                    Type::Bool => Value::Bool(rng.below(2) == 0),
                    _ => Value::Null,
                })
                .collect();
            data.push(row);
        }
        catalog.insert(
            name.clone(),
            Table {
                schema: schema.clone(),
                rows: data,
            },
        );
    }
    catalog
}

fn all_rules() -> Vec<Rule> {
    let mut rules = rule::builtin_rules().rules;
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/rules/upstream-rmm");
    rules.extend(rule::load_path(&fixtures).rules);
    rules
}

#[test]
fn split_equals_whole_for_every_rule_with_a_summarize() {
    let rules = all_rules();
    assert_eq!(rules.len(), 1 + 109);
    let opts = HuntOptions::new(window());
    let (mut split_rules, mut nonempty) = (0, 0);
    for (i, rule) in rules.iter().enumerate() {
        let ast = kql::parse(&rule.query).unwrap_or_else(|d| panic!("{}: {d}", rule.id));
        if split::split(&ast).is_none() {
            continue;
        }
        split_rules += 1;
        let catalog = generated_catalog(&literals(&rule.query), 0x9E37_79B9 + i as u64, 300);
        let source = LocalSource::new(catalog);
        let whole = source.query(&rule.query, opts.window).unwrap_or_else(|e| {
            panic!(
                "{} ({}): whole query: {e}",
                rule.name,
                rule.origin.path.display()
            )
        });
        let report = run_rule(rule, &source, &ExclusionSet::empty(), &opts);
        assert!(report.error.is_none(), "{}: {:?}", rule.name, report.error);
        assert_eq!(
            report.findings,
            whole,
            "{} ({})",
            rule.name,
            rule.origin.path.display()
        );
        assert!(report.excluded.is_empty());
        if !whole.rows.is_empty() {
            nonempty += 1;
        }
    }
    assert_eq!(
        split_rules,
        rules.len(),
        "every shipped/upstream rule ends in a summarize"
    );
    eprintln!("{nonempty} of {split_rules} rules found rows");
    // the comparison means something: most rules find rows in their generated data
    assert!(
        nonempty * 10 >= split_rules * 9,
        "{nonempty} of {split_rules} rules found rows"
    );
}

#[test]
fn the_head_sent_to_the_source_projects_what_summarize_and_exclusions_need() {
    let seed = rule::builtin_rules().rules.remove(0);
    let ast = kql::parse(&seed.query).unwrap_or_else(|d| panic!("{d}"));
    let s = split::split(&ast).unwrap_or_else(|| panic!("no summarize"));
    assert_eq!(
        s.summarize_names(),
        Some(vec![
            "Timestamp".to_string(),
            "ReportId".into(),
            "DeviceId".into(),
            "DeviceName".into(),
            "RemoteUrl".into()
        ])
    );
    let head = s
        .head_query(&["Timestamp".into(), "InitiatingProcessAccountName".into()])
        .to_string();
    assert!(head.starts_with("let Time_start = now(-5d);"), "{head}");
    assert!(
        head.ends_with("| project Timestamp, InitiatingProcessAccountName"),
        "{head}"
    );
    assert!(!head.contains("summarize"), "{head}");
    assert_eq!(s.tail.len(), 1);
}

/// A source that records the queries it is sent.
struct Recording {
    inner: LocalSource,
    sent: std::sync::Mutex<Vec<String>>,
}

impl Source for Recording {
    fn name(&self) -> &str {
        "recording"
    }
    fn query(&self, kql: &str, window: TimeWindow) -> Result<Table, rmmhunt::source::SourceError> {
        if let Ok(mut s) = self.sent.lock() {
            s.push(kql.to_string());
        }
        self.inner.query(kql, window)
    }
}

fn sample_file(rows: u64) -> (PathBuf, rmmhunt::sample::GenerateStats) {
    let path = std::env::temp_dir().join(format!(
        "rmmhunt-pipeline-{}-{rows}.jsonl",
        std::process::id()
    ));
    let mut file =
        std::fs::File::create(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let opts = rmmhunt::sample::GenerateOptions {
        rows,
        seed: 7,
        format: rmmhunt::sample::SampleFormat::Jsonl,
        now: ticks(NOW),
    };
    let stats = rmmhunt::sample::generate(&opts, &mut file).unwrap_or_else(|e| panic!("{e}"));
    (path, stats)
}

fn file_source(path: &Path) -> LocalSource {
    let spec: rmmhunt::source::files::DataSpec = format!("DeviceNetworkEvents={}", path.display())
        .parse()
        .unwrap_or_else(|e| panic!("{e:?}"));
    let catalog =
        rmmhunt::source::files::FileCatalog::open(&[spec]).unwrap_or_else(|e| panic!("{e}"));
    LocalSource::new(catalog)
}

fn example_exclusions() -> ExclusionSet {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/exclusions.yaml");
    ExclusionSet::load(&path).unwrap_or_else(|e| panic!("{e}"))
}

fn count_sum(t: &Table) -> i64 {
    let i = t.schema.index_of("Count").unwrap_or(usize::MAX);
    t.rows
        .iter()
        .map(|r| match r.get(i) {
            Some(Value::Long(n)) => *n,
            _ => 0,
        })
        .sum()
}

#[test]
fn exclusions_remove_the_legitimate_rows_of_the_sample_before_aggregation() {
    use rmmhunt::sample::RowKind;
    let (path, stats) = sample_file(3000);
    let source = Recording {
        inner: file_source(&path),
        sent: Default::default(),
    };
    let seed = rule::builtin_rules().rules.remove(0);
    let set = example_exclusions();
    let opts = HuntOptions::new(window());
    let report = run_rule(&seed, &source, &set, &opts);
    assert!(report.error.is_none(), "{:?}", report.error);
    assert!(report.warnings.is_empty(), "{:?}", report.warnings);
    let excluded: Vec<(&str, u64)> = report
        .excluded
        .iter()
        .map(|(n, c)| (n.as_str(), *c))
        .collect();
    assert_eq!(
        excluded,
        vec![
            ("scheduled-maintenance", stats.count(RowKind::Maintenance)),
            ("it-support-team", stats.count(RowKind::ItSupport)),
            ("patching-off-peak", stats.count(RowKind::Patching)),
            ("inventory-collection", stats.count(RowKind::Inventory)),
            ("siem-forwarding", stats.count(RowKind::SiemForwarding)),
        ]
    );
    assert!(excluded.iter().all(|(_, c)| *c > 0), "{excluded:?}");
    let hits: u64 = RowKind::ALL
        .iter()
        .filter(|k| k.is_rule_hit())
        .map(|k| stats.count(*k))
        .sum();
    assert_eq!(report.rows_scanned, hits);
    // what remains: the true positives and the look-alikes, nothing else
    assert_eq!(
        count_sum(&report.findings) as u64,
        stats.count(RowKind::TruePositive) + stats.count(RowKind::LookalikeHit)
    );
    // the source saw a projected head, not the summarize
    let sent = source.sent.lock().map(|s| s.clone()).unwrap_or_default();
    assert_eq!(sent.len(), 1);
    assert!(sent[0].contains("| project Timestamp, ReportId, DeviceId, DeviceName, RemoteUrl, InitiatingProcessAccountName, InitiatingProcessAccountDomain, RemoteIP"), "{}", sent[0]);

    // oracle: the whole query over the table with the excluded rows taken out
    let full = source
        .inner
        .query("DeviceNetworkEvents", opts.window)
        .unwrap_or_else(|e| panic!("{e}"));
    let active = set.active_for(&seed.id, opts.window.end);
    let (bound, _) = BoundExclusions::bind(&active, &full.schema);
    let kept = Table {
        schema: full.schema.clone(),
        rows: full
            .rows
            .iter()
            .filter(|r| bound.first_match(r).is_none())
            .cloned()
            .collect(),
    };
    let oracle = LocalSource::new(MemoryCatalog::new().with_table("DeviceNetworkEvents", kept))
        .query(&seed.query, opts.window)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(report.findings, oracle);
    let _ = std::fs::remove_file(&path);
}

#[test]
fn a_rule_without_summarize_is_filtered_row_by_row() {
    let text = "id: 11111111-2222-3333-4444-555555555555\nname: rows\ndescription: d\nquery: |\n  DeviceNetworkEvents\n  | where RemoteUrl has 'zoho'\n  | project DeviceName, RemoteIP, InitiatingProcessAccountName\n";
    let report = rule::load_text(PathBuf::from("rows.yaml"), text);
    let r = report
        .rules
        .first()
        .unwrap_or_else(|| panic!("{:?}", report.diagnostics));
    let set = ExclusionSet::parse(
        "x.yaml",
        "exclusions:\n  - name: siem\n    reason: r\n    when:\n      RemoteIP: { cidr: 10.20.0.0/24 }\n  - name: no-such-column-here\n    reason: r\n    when:\n      RemoteUrl: { has: zoho }\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let s = |x: &str| Value::string(x);
    let schema = rmmhunt::rule::schema::table_schema("DeviceNetworkEvents")
        .cloned()
        .unwrap_or_default();
    let row = |url: &str, ip: &str| {
        let mut r: Vec<Value> = schema
            .columns
            .iter()
            .map(|c| Value::null_of(c.ty))
            .collect();
        r[schema.index_of("RemoteUrl").unwrap_or(0)] = s(url);
        r[schema.index_of("RemoteIP").unwrap_or(0)] = s(ip);
        r
    };
    let table = Table {
        schema: schema.clone(),
        rows: vec![
            row("assist.zoho.com", "10.20.0.15"),
            row("assist.zoho.com", "192.0.2.1"),
            row("example.com", "10.20.0.15"),
            row("zoho.eu", "10.20.0.99"),
        ],
    };
    let source = LocalSource::new(MemoryCatalog::new().with_table("DeviceNetworkEvents", table));
    let rep = run_rule(r, &source, &set, &HuntOptions::new(window()));
    assert!(rep.error.is_none(), "{:?}", rep.error);
    assert_eq!(rep.rows_scanned, 3);
    assert_eq!(rep.excluded, vec![("siem".to_string(), 2)]);
    assert_eq!(rep.findings.rows.len(), 1);
    assert_eq!(rep.findings.rows[0][1], s("192.0.2.1"));
    // the second entry reads RemoteUrl, which the rule's output does not keep
    assert_eq!(
        rep.warnings,
        vec![
            "exclusion 'no-such-column-here' not applied: the rule's rows have no column RemoteUrl"
                .to_string()
        ]
    );
}

#[test]
fn one_failing_rule_does_not_stop_the_others_and_expired_entries_are_reported() {
    let mut rules = rule::builtin_rules().rules;
    let proc_rule = "id: 11111111-2222-3333-4444-555555555555\nname: proc\ndescription: d\nquery: DeviceProcessEvents | summarize count() by DeviceId\n";
    rules.push(
        rule::load_text(PathBuf::from("p.yaml"), proc_rule)
            .rules
            .remove(0),
    );
    rules.reverse();
    // only DeviceNetworkEvents is there: the process rule fails at the source
    let (path, _) = sample_file(500);
    let source = file_source(&path);
    assert!(source.catalog().schema("DeviceProcessEvents").is_none());
    let set = ExclusionSet::parse(
        "x.yaml",
        "exclusions:\n  - name: old\n    reason: r\n    expires: 2025-01-31\n    when:\n      RemoteUrl: { has: zoho }\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let report = run_hunt(&rules, &source, &set, &HuntOptions::new(window()));
    assert_eq!(report.rules.len(), 2);
    assert!(report.failed());
    let err = report.rules[0]
        .error
        .as_ref()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(
        err.starts_with("rule 11111111-2222-3333-4444-555555555555: local rejected the query"),
        "{err}"
    );
    assert!(
        report.rules[1].error.is_none(),
        "{:?}",
        report.rules[1].error
    );
    assert!(!report.rules[1].findings.rows.is_empty());
    // the expired entry did not apply and is reported
    assert!(report.rules[1].excluded.is_empty());
    assert_eq!(
        report.expired,
        vec![rmmhunt::pipeline::ExpiredExclusion {
            name: "old".into(),
            expires: "2025-01-31".into()
        }]
    );
    let _ = std::fs::remove_file(&path);
}
