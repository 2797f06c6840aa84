//! `rmmhunt query`: runs one KQL query, read from stdin, over local data
//! files with the embedded engine, and prints the result table.
//!
//! Exit codes: 0 ok; 1 the query was rejected or failed (diagnostics with
//! line:col and a caret on stderr); 2 usage or input errors.

use super::args::Now;
use super::format::{write_table, TableFormat};
use super::{EXIT_FAILED, EXIT_OK, EXIT_USAGE};
use crate::report;
use crate::source::files::{DataSpec, FileCatalog};
use anyhow::Context;
use clap::Args;
use std::io::{IsTerminal, Read, Write};
use std::process::ExitCode;

const QUERY_HELP: &str = "\
The query is read from stdin. Each --data file is a table: JSON Lines (.jsonl),
a JSON array (.json) or CSV with a header (.csv); the table name is the file
stem, or NAME in --data NAME=FILE.

Examples:
  echo 'print x = 1' | rmmhunt query
  rmmhunt query --data DeviceNetworkEvents.jsonl --now 2024-05-01T00:00:00Z < hunt.kql

Exit codes:
  0  ok (the result may have no rows)
  1  the query was rejected or failed: diagnostics with line:col and a caret on stderr
  2  usage or input error: bad flag, bad --now, unreadable or undecodable --data file";

#[derive(Debug, Args)]
#[command(after_help = QUERY_HELP)]
pub struct QueryArgs {
    /// A table file, repeatable: FILE (table = file stem) or NAME=FILE.
    #[arg(long = "data", value_name = "[NAME=]FILE")]
    pub data: Vec<DataSpec>,
    /// Pins now() (RFC 3339, e.g. 2024-05-01T00:00:00Z). Default: the current time.
    #[arg(long, value_name = "RFC3339")]
    pub now: Option<Now>,
    /// Output format. Default: table on a terminal, json otherwise.
    #[arg(long, value_enum)]
    pub format: Option<TableFormat>,
}

pub fn run(args: QueryArgs) -> anyhow::Result<ExitCode> {
    // Open the data first: a wrong path fails before waiting on stdin.
    let catalog = FileCatalog::open(&args.data)?;
    if std::io::stdin().is_terminal() {
        eprintln!("rmmhunt: reading the query from stdin; end it with Ctrl-D");
    }
    let mut text = String::new();
    std::io::stdin()
        .read_to_string(&mut text)
        .context("reading the query from stdin")?;
    let now = args.now.unwrap_or_else(Now::current);
    let ctx = kql::EvalContext::new(now.0);
    match kql::query(&text, &catalog, &ctx) {
        Ok(table) => {
            let format = TableFormat::or_default(args.format);
            let stdout = std::io::stdout();
            let mut out = std::io::BufWriter::new(stdout.lock());
            write_table(&mut out, &table, format).context("writing the result")?;
            out.flush().context("writing the result")?;
            Ok(ExitCode::from(EXIT_OK))
        }
        Err(err) => {
            let mode = report::Mode::for_terminal(std::io::stderr().is_terminal());
            eprint!(
                "{}",
                report::render_all(&err.diagnostics(), "<stdin>", &text, mode)
            );
            // A data file that cannot be decoded is an input error, not a bad query.
            let bad_input = matches!(&err, kql::Error::Eval(e) if e.code == kql::exec::codes::SCAN);
            Ok(ExitCode::from(if bad_input {
                EXIT_USAGE
            } else {
                EXIT_FAILED
            }))
        }
    }
}
