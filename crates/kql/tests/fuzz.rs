//! Property test: random and mutated corpus queries and random datatable
//! data go through parse + plan + run and must never panic. Sizes are
//! bounded (small limits) so nothing can run for long. A small seeded
//! PRNG keeps failures reproducible: the failing query is printed.

use kql::{EvalContext, Limits, MemoryCatalog};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;

const NOW: i64 = kql::time::UNIX_EPOCH + 1_767_225_600 * kql::time::SECOND;

/// xorshift64*: tiny, deterministic.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }

    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[self.below(xs.len())]
    }
}

const FRAGMENTS: &[&str] = &[
    "| where x > 1",
    "| where s has 'a'",
    "| summarize count() by s",
    "| summarize make_set(d), arg_max(x, *) by b",
    "| extend y = x * 2",
    "| project s, x",
    "| mv-expand d",
    "| mv-expand d to typeof(long)",
    "| sort by x",
    "| top 3 by s asc nulls first",
    "| take 2",
    "| distinct *",
    "| join kind=leftouter (datatable(s:string, w:long)['a', 1]) on s",
    "| lookup (datatable(s:string, w:long)['a', 1]) on s",
    "| union (print s = 'z')",
    "| parse s with p:long '-' rest",
    "| evaluate bag_unpack(d)",
    "| serialize r = row_number(), p = prev(x)",
    "| count",
    "| project-away x",
    "| project-reorder s",
    "(",
    ")",
    "'",
    "\"",
    "[",
    "]",
    ",",
    "..",
    "*",
    "|",
    ";",
    "let",
    "dynamic([1, {\"a\": [null]}])",
    "datetime(2024-01-01)",
    "1d",
    "-9223372036854775808",
    "9223372036854775807",
    "1e308",
    "long(null)",
    "toscalar(print 1)",
    "materialize(range i from 1 to 3 step 1)",
    "range i from 0 to 100000 step 0",
];

const OPERATORS: &[&str] = &[
    "| where x > 2 or isnull(x)",
    "| where s has_any ('a', 'b.c') and s !contains 'zz'",
    "| where r between (0.5 .. 2.5)",
    "| extend y = x / 0, z = r / 0.0, w = x % -3",
    "| extend t = tostring(d), k = d.k, i = d[0]",
    "| summarize n = count(), mx = max(x), av = avg(r), st = make_set(s) by b",
    "| summarize arg_min(x, *) by s",
    "| summarize dcount(s), make_list(d)",
    "| mv-expand d",
    "| mv-expand with_itemindex=ix d limit 2",
    "| sort by s asc, x desc nulls first",
    "| top 4 by r",
    "| distinct s, b",
    "| join (datatable(s:string, q:long)['a', 1, 'b', 2, 'a', 3]) on s",
    "| join kind=fullouter (datatable(s:string, q:long)['a', 1, 'zz', 2]) on s",
    "| join kind=rightsemi (datatable(s:string, q:long)['a', 1]) on s",
    "| union (datatable(s:long)[1])",
    "| parse s with a:string '.' b2:string",
    "| parse-where s with * 'a' n:long",
    "| project-away b",
    "| serialize rn = row_number(), nx = next(s, 1, 'end')",
    "| take 5",
    "| count",
    "| extend e = extract('(\\\\d+)', 1, s, typeof(long))",
];

fn random_value(rng: &mut Rng, ty: &str) -> String {
    if rng.below(6) == 0 {
        return match ty {
            "string" => "''".into(),
            t => format!("{t}(null)"),
        };
    }
    match ty {
        "long" => format!("{}", (rng.next() as i64) >> rng.below(64)),
        "real" => format!("{}.{}", rng.below(1000) as i64 - 500, rng.below(100)),
        "string" => {
            let parts = [
                "a",
                "b.c",
                "A.B.C",
                "zoho assist",
                "12",
                "-",
                "x y",
                "ü",
                "",
            ];
            format!("'{}{}'", rng.pick(&parts), rng.pick(&parts))
        }
        _ => {
            let dyns = [
                "dynamic([1, 2, 3])",
                "dynamic([])",
                "dynamic({\"k\": 1, \"v\": \"x\"})",
                "dynamic({})",
                "dynamic(\"s\")",
                "dynamic([[1], {\"a\": null}])",
                "dynamic(5)",
            ];
            rng.pick(&dyns).to_string()
        }
    }
}

fn random_query(rng: &mut Rng) -> String {
    let types = ["long", "string", "real", "dynamic"];
    let rows = rng.below(8);
    let mut vals = Vec::new();
    for _ in 0..rows {
        for t in ["long", "string", "real", "dynamic", "long"] {
            vals.push(random_value(rng, t));
        }
    }
    let _ = types;
    let mut q = format!(
        "datatable(x:long, s:string, r:real, d:dynamic, b:long)[{}]",
        vals.join(", ")
    );
    for _ in 0..rng.below(5) {
        q.push('\n');
        q.push_str(rng.pick(OPERATORS));
    }
    q
}

fn mutate(rng: &mut Rng, q: &str) -> String {
    let mut chars: Vec<char> = q.chars().collect();
    for _ in 0..=rng.below(3) {
        let len = chars.len();
        match rng.below(4) {
            0 if len > 0 => {
                let a = rng.below(len);
                let b = (a + rng.below(12)).min(len);
                chars.drain(a..b);
            }
            1 => {
                let at = rng.below(len + 1);
                let frag: Vec<char> = format!(" {} ", rng.pick(FRAGMENTS)).chars().collect();
                chars.splice(at..at, frag);
            }
            2 if len > 0 => {
                let a = rng.below(len);
                let b = (a + rng.below(20)).min(len);
                let dup: Vec<char> = chars[a..b].to_vec();
                let at = rng.below(chars.len() + 1);
                chars.splice(at..at, dup);
            }
            _ => {
                chars.push('\n');
                chars.extend(rng.pick(OPERATORS).chars());
            }
        }
    }
    chars.into_iter().collect()
}

fn corpus_queries() -> Vec<String> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/cases");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    files.sort();
    files
        .iter()
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .filter_map(|p| std::fs::read_to_string(p).ok())
        .filter_map(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
        .filter_map(|c| c["query"].as_str().map(str::to_string))
        .collect()
}

/// `Ok(true)` when the query ran to a table, `Ok(false)` when it was
/// rejected with an error, `Err(panic message)` on a panic.
fn run_one(q: &str) -> Result<bool, String> {
    let ctx = EvalContext {
        now: NOW,
        limits: Limits {
            max_depth: 64,
            max_rows: 20_000,
            max_memory: 64 << 20,
        },
    };
    let cat = MemoryCatalog::new();
    match catch_unwind(AssertUnwindSafe(|| kql::query(q, &cat, &ctx))) {
        Ok(r) => Ok(r.is_ok()),
        Err(p) => {
            let msg = p
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            Err(msg)
        }
    }
}

#[test]
fn random_and_mutated_queries_never_panic() {
    let corpus = corpus_queries();
    let seed: u64 = std::env::var("KQL_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5eed_cafe);
    let iterations: usize = std::env::var("KQL_FUZZ_ITER")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1500);
    let mut rng = Rng(seed | 1);
    let mut panics = Vec::new();
    let mut ran = 0usize;
    // Quiet the default hook while probing; failures are collected.
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    for i in 0..iterations {
        let q = match i % 3 {
            0 => random_query(&mut rng),
            1 if !corpus.is_empty() => {
                let k = rng.below(corpus.len());
                mutate(&mut rng, &corpus[k])
            }
            _ => {
                let base = random_query(&mut rng);
                mutate(&mut rng, &base)
            }
        };
        match run_one(&q) {
            Ok(true) => ran += 1,
            Ok(false) => {}
            Err(msg) => panics.push(format!("iteration {i}: {msg}\n---\n{q}\n---")),
        }
    }
    std::panic::set_hook(hook);
    println!("{ran} of {iterations} queries ran to a result; the rest were rejected");
    assert!(
        panics.is_empty(),
        "{} panic(s):\n{}",
        panics.len(),
        panics.join("\n")
    );
}

#[test]
fn every_corpus_query_runs_without_panic() {
    for q in corpus_queries() {
        assert!(run_one(&q).is_ok(), "panicked: {q}");
    }
}
