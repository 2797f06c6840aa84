//! Bench-only driver (not shipped): generates sample DeviceNetworkEvents
//! files and runs KQL or a bare reader scan over them through
//! `FileCatalog`, so `bench/run.py` can measure the readers and the engine
//! before (or besides) `rmmhunt query`.
//!
//!   rmmhunt-bench generate --rows N [--seed S] [--format jsonl|csv] [--mix demo|bench] --now T --out FILE
//!   rmmhunt-bench query --data FILE --now T < query.kql      (prints result rows to stdout)
//!   rmmhunt-bench scan --data FILE [--partitions N] [--no-prefilter]

use kql::table::{Prefilter, ScanRequest};
use kql::Catalog;
use rmmhunt::sample::{generate_mix, GenerateOptions, Mix, SampleFormat, SEED_DOMAINS};
use rmmhunt::source::files::{DataSpec, FileCatalog};
use std::io::{Read, Write};
use std::process::ExitCode;
use std::time::Instant;

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .cloned()
}

fn parse_now(s: &str) -> Result<i64, String> {
    kql::time::parse_datetime(s).ok_or_else(|| format!("bad --now {s}"))
}

fn run() -> Result<(), String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let cmd = args.first().cloned().unwrap_or_default();
    match cmd.as_str() {
        "generate" => {
            let rows: u64 = arg(&args, "--rows")
                .unwrap_or_else(|| "1000".into())
                .parse()
                .map_err(|e| format!("--rows: {e}"))?;
            let seed: u64 = arg(&args, "--seed")
                .unwrap_or_else(|| "1".into())
                .parse()
                .map_err(|e| format!("--seed: {e}"))?;
            let format: SampleFormat = arg(&args, "--format")
                .unwrap_or_else(|| "jsonl".into())
                .parse()?;
            let mix: Mix = arg(&args, "--mix")
                .unwrap_or_else(|| "demo".into())
                .parse()?;
            let now = parse_now(&arg(&args, "--now").ok_or("--now is required")?)?;
            let out = arg(&args, "--out").ok_or("--out is required")?;
            let mut f = std::fs::File::create(&out).map_err(|e| format!("{out}: {e}"))?;
            let t = Instant::now();
            let stats = generate_mix(
                &GenerateOptions {
                    rows,
                    seed,
                    format,
                    now,
                },
                mix,
                &mut f,
            )
            .map_err(|e| format!("{out}: {e}"))?;
            eprintln!(
                "generated {} rows, {} bytes in {:.2}s",
                stats.rows,
                stats.bytes,
                t.elapsed().as_secs_f64()
            );
            Ok(())
        }
        "query" => {
            let data = arg(&args, "--data").ok_or("--data is required")?;
            let now = parse_now(&arg(&args, "--now").ok_or("--now is required")?)?;
            let spec: DataSpec = data.parse()?;
            let catalog = FileCatalog::open(&[spec]).map_err(|e| e.to_string())?;
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .map_err(|e| e.to_string())?;
            let t = Instant::now();
            let table = kql::query(&text, &Logged(&catalog), &kql::EvalContext::new(now))
                .map_err(|e| e.to_string())?;
            eprintln!(
                "query: {} result rows in {:.3}s",
                table.rows.len(),
                t.elapsed().as_secs_f64()
            );
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            for r in &table.rows {
                writeln!(out, "{r:?}").map_err(|e| e.to_string())?;
            }
            Ok(())
        }
        "scan" => {
            let data = arg(&args, "--data").ok_or("--data is required")?;
            let parts: usize = arg(&args, "--partitions")
                .unwrap_or_else(|| "2".into())
                .parse()
                .map_err(|e| format!("--partitions: {e}"))?;
            let spec: DataSpec = data.parse()?;
            let table = spec.table_name().unwrap_or_default();
            let catalog = FileCatalog::open(&[spec]).map_err(|e| e.to_string())?;
            let schema = catalog.schema(&table).ok_or("no schema")?;
            let cols = [
                "Timestamp",
                "DeviceId",
                "DeviceName",
                "RemoteUrl",
                "ReportId",
                "InitiatingProcessVersionInfoCompanyName",
                "InitiatingProcessVersionInfoProductName",
            ];
            let columns = cols.iter().filter_map(|c| schema.index_of(c)).collect();
            let prefilter = if args.iter().any(|a| a == "--no-prefilter") {
                None
            } else {
                Some(Prefilter {
                    required: vec![
                        SEED_DOMAINS.iter().map(|d| d.to_string()).collect(),
                        vec!["Zoho".into()],
                        vec!["Zoho Assist".into()],
                    ],
                })
            };
            let req = ScanRequest {
                columns,
                prefilter,
                partitions: parts,
            };
            let t = Instant::now();
            let streams = catalog.scan(&table, &req).map_err(|e| e.to_string())?;
            let n = streams.len();
            let counts: Vec<Result<u64, String>> = std::thread::scope(|s| {
                let hs: Vec<_> = streams
                    .into_iter()
                    .map(|mut p| {
                        s.spawn(move || {
                            let mut c = 0u64;
                            while let Some(r) = p.next_row() {
                                r.map_err(|e| e.to_string())?;
                                c += 1;
                            }
                            Ok(c)
                        })
                    })
                    .collect();
                hs.into_iter()
                    .map(|h| h.join().unwrap_or_else(|_| Err("panic".into())))
                    .collect()
            });
            let mut total = 0;
            for c in counts {
                total += c?;
            }
            eprintln!(
                "scan: {n} partitions, {total} rows decoded in {:.3}s",
                t.elapsed().as_secs_f64()
            );
            println!("{total}");
            Ok(())
        }
        _ => Err("usage: rmmhunt-bench generate|query|scan ...".into()),
    }
}

/// Prints each scan request to stderr when RMMHUNT_BENCH_VERBOSE is set.
struct Logged<'a>(&'a FileCatalog);

impl Catalog for Logged<'_> {
    fn schema(&self, table: &str) -> Option<kql::Schema> {
        self.0.schema(table)
    }

    fn scan(
        &self,
        table: &str,
        request: &ScanRequest,
    ) -> Result<Vec<Box<dyn kql::table::RowStream + '_>>, kql::table::ScanError> {
        if std::env::var_os("RMMHUNT_BENCH_VERBOSE").is_some() {
            eprintln!("scan {table}: {request:?}");
        }
        self.0.scan(table, request)
    }
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}
