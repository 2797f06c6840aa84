//! `fake-azure`: runs the fake on 127.0.0.1 for trying `rmmhunt` by hand.
//!
//! ```text
//! cargo run -p fake-azure -- --port 8080 --data DeviceNetworkEvents.jsonl \
//!     [--data NAME=FILE] [--now 2024-03-26T12:00:00Z] [--identity-header SECRET]
//!     [--workspace-id GUID] [--row-limit N] [--graph-row-limit N]
//! ```
//!
//! Prints the environment to point `rmmhunt` at it, then serves until
//! killed. Only argument parsing and file reading live here.

use fake_azure::{Api, FakeAzure};
use kql::input::Format;
use std::path::Path;
use std::process::ExitCode;

const USAGE: &str = "usage: fake-azure [--port N] [--data [NAME=]FILE]... [--now DATETIME] \
[--identity-header SECRET] [--workspace-id GUID] [--row-limit N] [--graph-row-limit N]";

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

fn run(args: Vec<String>) -> Result<(), String> {
    let mut port: u16 = 0;
    let mut data = Vec::new();
    let mut now = None;
    let mut header = None;
    let mut workspace = None;
    let mut la_limit = None;
    let mut graph_limit = None;
    let mut it = args.into_iter();
    while let Some(a) = it.next() {
        let mut val = |name: &str| {
            it.next()
                .ok_or_else(|| format!("{name} needs a value\n{USAGE}"))
        };
        match a.as_str() {
            "--port" => port = val("--port")?.parse().map_err(|e| format!("--port: {e}"))?,
            "--data" => data.push(val("--data")?),
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
    let base = fake.base_url();
    println!("fake-azure listening on {base}");
    for (k, v) in fake.env() {
        println!("export {k}={v}");
    }
    let mut seen = 0;
    loop {
        std::thread::sleep(std::time::Duration::from_millis(500));
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
