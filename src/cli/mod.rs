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
mod generate;
mod hunt;
mod hunt_output;
mod query;
mod rules;
mod serve;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

pub use args::Now;

/// Success. For `hunt`: every rule ran (findings or not).
pub const EXIT_OK: u8 = 0;
/// `query`: the query was rejected or failed. `rules validate`: a rule has
/// errors. `hunt --fail-on-findings`: there are findings.
pub const EXIT_FAILED: u8 = 1;
/// Usage or input error: bad flags, unreadable or malformed files, bad
/// rules or exclusions for `hunt` (nothing ran).
pub const EXIT_USAGE: u8 = 2;
/// `hunt`: a rule failed at run time (the others ran and are reported).
pub const EXIT_RULE_FAILED: u8 = 3;
/// `hunt --incidents`: the hunt ran but an incident could not be written.
pub const EXIT_SINK_FAILED: u8 = 4;

/// The exit-code table shown at the end of `rmmhunt --help`.
const EXIT_CODES_HELP: &str = "\
Exit codes:
  0  success (for `hunt`: every rule ran, with or without findings)
  1  `query`: the query was rejected or failed (diagnostics with line:col on stderr);
     `rules validate`: a rule file has errors; `hunt --fail-on-findings`: findings
  2  usage or input error: bad flag, unreadable or malformed file, rule or exclusion
     errors before a hunt (nothing ran)
  3  `hunt`: a rule failed at run time; the other rules still ran and are reported
  4  `hunt --incidents`: the hunt ran but writing a Sentinel incident failed";

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
    /// Run hunting rules over a source, apply exclusions, report findings.
    Hunt(hunt::HuntArgs),
    /// Run a KQL query (read from stdin) over local data files.
    Query(query::QueryArgs),
    /// Work with hunting rules.
    Rules(rules::RulesArgs),
    /// Write seeded sample DeviceNetworkEvents data (for demos and benchmarks).
    Generate(generate::GenerateArgs),
    /// Serve the HTTP API and the Azure Functions timer (custom handler).
    Serve(serve::ServeArgs),
}

/// Runs one parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Hunt(args) => hunt::run(args),
        Command::Query(args) => query::run(args),
        Command::Rules(args) => rules::run(args),
        Command::Generate(args) => generate::run(args),
        Command::Serve(args) => serve::run(args),
    }
}
