//! `fake-azure`: runs the fake on 127.0.0.1 for trying `rmmhunt` by hand.
//!
//! ```text
//! cargo run -p fake-azure -- --port 8080 --data DeviceNetworkEvents.jsonl \
//!     [--data NAME=FILE] [--now 2024-03-26T12:00:00Z] [--identity-header SECRET]
//!     [--workspace-id GUID] [--row-limit N] [--graph-row-limit N]
//!     [--fault API=FAULT | --fault API=N/FAULT]...
//! ```
//!
//! Prints the environment to point `rmmhunt` at it, then serves until
//! killed. Only argument parsing and file reading live here.

use fake_azure::{Api, FakeAzure, Fault};
use kql::input::Format;
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

const USAGE: &str = "usage: fake-azure [--port N] [--data [NAME=]FILE]... [--now DATETIME] \
[--identity-header SECRET] [--workspace-id GUID] [--row-limit N] [--graph-row-limit N] \
[--fault API=FAULT | API=N/FAULT]...
  API: token, la, graph, arm, ingest; FAULT: 429[:SECS], STATUS[:RETRY_AFTER_SECS], delay:MS,
  partial:ROWS, conflict, identity; API=N/FAULT = every N-th request";

fn load(fake: &FakeAzure, spec: &str) -> Result<String, String> {
    let (name, path) = match spec.split_once('=') {
        Some((n, p))
            if !n.is_empty() && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') =>
        {
            (n.to_string(), p.to_string())
        }
        _ => {
            let stem = Path::new(spec)
                .file_stem()
                .and_then(|s| s.to_str())
                .ok_or_else(|| format!("{spec}: cannot derive a table name; use NAME=FILE"))?;
            (stem.to_string(), spec.to_string())
        }
    };
    let ext = Path::new(&path)
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("");
    let format = Format::from_extension(ext).ok_or_else(|| {
        format!("{path}: unknown format (expected .jsonl, .ndjson, .json or .csv)")
    })?;
    let bytes = std::fs::read(&path).map_err(|e| format!("{path}: {e}"))?;
    let table =
        fake_azure::fixtures::load_table(&name, &path, bytes, format).map_err(|e| e.to_string())?;
    let n = table.rows.len();
    fake.add_table(&name, table);
    Ok(format!("table {name}: {n} rows from {path}"))
}

/// `token|la|graph|arm|ingest`.
fn parse_api(s: &str) -> Result<Api, String> {
    match s.to_ascii_lowercase().as_str() {
        "token" => Ok(Api::Token),
        "la" | "log-analytics" => Ok(Api::LogAnalytics),
        "graph" | "defender" => Ok(Api::Graph),
        "arm" | "incidents" => Ok(Api::Arm),
        "ingest" | "logs-ingestion" => Ok(Api::LogsIngestion),
        other => Err(format!(
            "unknown API '{other}' (token, la, graph, arm, ingest)"
        )),
    }
}

/// `429:SECS`, a status (`500`, `503`...), `delay:MS`, `partial:ROWS`,
/// `conflict`, `identity`.
fn parse_fault(s: &str) -> Result<Fault, String> {
    let (kind, arg) = s.split_once(':').unwrap_or((s, ""));
    let num = |what: &str| {
        arg.parse::<u64>()
            .map_err(|_| format!("fault '{s}': {what} must be a number"))
    };
    Ok(match kind {
        "429" => Fault::Throttle {
            retry_after_secs: if arg.is_empty() {
                1
            } else {
                num("Retry-After")?
            },
        },
        "delay" => Fault::Delay(Duration::from_millis(num("the delay (ms)")?)),
        "partial" => Fault::PartialError {
            keep_rows: usize::try_from(num("the kept rows")?).unwrap_or(usize::MAX),
        },
        "conflict" => Fault::Conflict,
        "identity" => Fault::IdentityUnavailable,
        status => Fault::Status {
            status: status
                .parse::<u16>()
                .ok()
                .filter(|s| (100..600).contains(s))
                .ok_or_else(|| format!("fault '{s}': unknown kind"))?,
            retry_after_secs: if arg.is_empty() {
                None
            } else {
                Some(num("Retry-After")?)
            },
        },
    })
}

/// `API=FAULT` (queued once) or `API=N/FAULT` (every N-th request).
fn add_fault(fake: &FakeAzure, spec: &str) -> Result<(), String> {
    let (api, rest) = spec
        .split_once('=')
        .ok_or_else(|| format!("--fault {spec}: expected API=FAULT or API=N/FAULT"))?;
    let api = parse_api(api)?;
    match rest.split_once('/') {
        Some((n, f)) => {
            let n: u64 = n
                .parse()
                .map_err(|_| format!("--fault {spec}: '{n}' is not a number"))?;
            fake.fault_every(api, n, parse_fault(f)?);
        }
        None => fake.push_fault(api, parse_fault(rest)?),
    }
    Ok(())
}

fn run(args: Vec<String>) -> Result<(), String> {
    let mut port: u16 = 0;
    let mut data = Vec::new();
    let mut now = None;
    let mut header = None;
    let mut workspace = None;
    let mut la_limit = None;
    let mut graph_limit = None;
    let mut faults = Vec::new();
    let mut it = args.into_iter();
    while let Some(a) = it.next() {
        let mut val = |name: &str| {
            it.next()
                .ok_or_else(|| format!("{name} needs a value\n{USAGE}"))
        };
        match a.as_str() {
            "--port" => port = val("--port")?.parse().map_err(|e| format!("--port: {e}"))?,
            "--data" => data.push(val("--data")?),
            "--fault" => faults.push(val("--fault")?),
            "--now" => now = Some(val("--now")?),
            "--identity-header" => header = Some(val("--identity-header")?),
            "--workspace-id" => workspace = Some(val("--workspace-id")?),
            "--row-limit" => {
                la_limit = Some(
                    val("--row-limit")?
                        .parse::<usize>()
                        .map_err(|e| format!("--row-limit: {e}"))?,
                )
            }
            "--graph-row-limit" => {
                graph_limit = Some(
                    val("--graph-row-limit")?
                        .parse::<usize>()
                        .map_err(|e| format!("--graph-row-limit: {e}"))?,
                )
            }
            "-h" | "--help" => {
                println!("{USAGE}");
                return Ok(());
            }
            other => return Err(format!("unknown argument {other}\n{USAGE}")),
        }
    }
    let fake = FakeAzure::start_on(port).map_err(|e| e.to_string())?;
    for d in &data {
        println!("{}", load(&fake, d)?);
    }
    if let Some(n) = now {
        if !fake.set_now_str(&n) {
            return Err(format!("--now: cannot parse datetime '{n}'"));
        }
    }
    if let Some(h) = header {
        fake.set_identity_header(&h);
    }
    if let Some(w) = workspace {
        fake.set_workspace_id(&w);
    }
    if let Some(n) = la_limit {
        fake.set_row_limit(Api::LogAnalytics, n);
    }
    if let Some(n) = graph_limit {
        fake.set_row_limit(Api::Graph, n);
    }
    for f in &faults {
        add_fault(&fake, f)?;
    }
    let base = fake.base_url();
    println!("fake-azure listening on {base}");
    for (k, v) in fake.env().into_iter().chain(fake.logs_ingestion_env()) {
        println!("export {k}={v}");
    }
    let mut seen = 0;
    loop {
        std::thread::sleep(Duration::from_millis(500));
        let log = fake.requests();
        for r in log.iter().skip(seen) {
            let q = if r.query.is_empty() {
                String::new()
            } else {
                format!("?{}", r.query)
            };
            println!("{} {}{q} -> {}", r.method, r.path, r.status);
        }
        seen = log.len();
    }
}

fn main() -> ExitCode {
    match run(std::env::args().skip(1).collect()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("fake-azure: {e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fault_specs() {
        let cases: Vec<(&str, Option<Fault>)> = vec![
            (
                "429:5",
                Some(Fault::Throttle {
                    retry_after_secs: 5,
                }),
            ),
            (
                "429",
                Some(Fault::Throttle {
                    retry_after_secs: 1,
                }),
            ),
            (
                "503",
                Some(Fault::Status {
                    status: 503,
                    retry_after_secs: None,
                }),
            ),
            (
                "500:2",
                Some(Fault::Status {
                    status: 500,
                    retry_after_secs: Some(2),
                }),
            ),
            ("delay:250", Some(Fault::Delay(Duration::from_millis(250)))),
            ("partial:3", Some(Fault::PartialError { keep_rows: 3 })),
            ("conflict", Some(Fault::Conflict)),
            ("identity", Some(Fault::IdentityUnavailable)),
            ("nope", None),
            ("999", None),
            ("delay:x", None),
        ];
        for (spec, want) in cases {
            assert_eq!(parse_fault(spec).ok(), want, "{spec}");
        }
        let fake = FakeAzure::start().map_err(|e| e.to_string());
        let Ok(fake) = fake else {
            panic!("fake starts: {fake:?}", fake = fake.err())
        };
        for (spec, ok) in [
            ("la=429:1", true),
            ("arm=3/503", true),
            ("ingest=2/503", true),
            ("logs-ingestion=429:1", true),
            ("x=503", false),
            ("la", false),
            ("arm=a/503", false),
        ] {
            assert_eq!(add_fault(&fake, spec).is_ok(), ok, "{spec}");
        }
    }
}
