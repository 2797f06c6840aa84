//! The command-line edge: clap definitions ([`Cli`], [`Command`]) and one
//! file per subcommand, each with `fn run(..) -> anyhow::Result<ExitCode>`.
//!
//! What lives here: argument parsing, choosing output formats, printing,
//! exit codes, progress bars. What must not: hunting or query logic (that is
//! `kql`, `rule`, `pipeline`, `source`), reading environment variables (only
//! `config` does), and anything the HTTP server needs (`cli` and `server` are
//! siblings that never import each other).

mod args;
mod format;
#[allow(dead_code)] // used by `hunt` once the pipeline (rules branch) lands
mod hunt_output;
mod query;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

pub use args::Now;

/// Success. For `hunt`: every rule ran (findings or not).
pub const EXIT_OK: u8 = 0;
/// `query`: the query was rejected or failed (diagnostics on stderr).
pub const EXIT_FAILED: u8 = 1;
/// Usage or input error: bad flags, unreadable or malformed files.
pub const EXIT_USAGE: u8 = 2;

/// The exit-code table shown at the end of `rmmhunt --help`.
const EXIT_CODES_HELP: &str = "\
Exit codes:
  0  success (for `hunt`: every rule ran, with or without findings)
  1  `query`: the query was rejected or failed; diagnostics with line:col on stderr
  2  usage or input error: bad flag, unreadable or malformed data file, bad --now";

/// Hunt for abuse of remote monitoring and management (RMM) tools in
/// Microsoft Defender XDR / Sentinel data, with an offline KQL engine.
#[derive(Debug, Parser)]
#[command(name = "rmmhunt", version, after_help = EXIT_CODES_HELP)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a KQL query (read from stdin) over local data files.
    Query(query::QueryArgs),
}

/// Runs one parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Query(args) => query::run(args),
    }
}
