//! `rmmhunt rules validate [PATH]`: loads hunting-rule YAML (a file or a
//! folder, recursively; by default the rules built into the binary), prints
//! every problem with file:line:col and a caret, then a summary.
//!
//! Exit codes: 0 every rule loads (warnings allowed); 1 at least one file has
//! errors; 2 usage error (e.g. PATH does not exist).

use super::{EXIT_FAILED, EXIT_OK, EXIT_USAGE};
use crate::rule::{self, LineEndings, LoadReport, Outcome};
use clap::{Args, Subcommand};
use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

const VALIDATE_HELP: &str = "\
Every problem is printed with file:line:col and a caret under the place; one bad
file never stops the others. A file whose intent is unambiguous despite a slip
(e.g. a mis-indented list) loads with a warning.

Exit codes:
  0  every rule loads (warnings allowed)
  1  at least one file has errors
  2  usage error (e.g. PATH does not exist)";

#[derive(Debug, Args)]
pub struct RulesArgs {
    #[command(subcommand)]
    pub command: RulesCommand,
}

#[derive(Debug, Subcommand)]
pub enum RulesCommand {
    /// Check hunting-rule YAML files: YAML, fields, and the KQL against the known table schemas.
    #[command(after_help = VALIDATE_HELP)]
    Validate(ValidateArgs),
}

#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// A rule file or a folder of them (searched recursively for *.yaml, *.yml).
    /// Default: the rules built into rmmhunt.
    pub path: Option<PathBuf>,
    /// Also list every file with its outcome, rule id and line endings.
    #[arg(long, short)]
    pub verbose: bool,
}

pub fn run(args: RulesArgs) -> anyhow::Result<ExitCode> {
    match args.command {
        RulesCommand::Validate(args) => validate(args),
    }
}

fn validate(args: ValidateArgs) -> anyhow::Result<ExitCode> {
    let report = match &args.path {
        Some(path) => {
            if !path.exists() {
                eprintln!("rmmhunt: error: {}: no such file or folder", path.display());
                return Ok(ExitCode::from(EXIT_USAGE));
            }
            rule::load_path(path)
        }
        None => rule::builtin_rules(),
    };
    print!("{}", render(&report, args.verbose));
    Ok(ExitCode::from(if report.has_errors() {
        EXIT_FAILED
    } else {
        EXIT_OK
    }))
}

/// Diagnostics (errors and warnings, with carets), the optional file list,
/// then one summary line.
fn render(report: &LoadReport, verbose: bool) -> String {
    let mut out = String::new();
    for d in &report.diagnostics {
        out.push_str(&d.render_plain());
    }
    if verbose {
        for f in &report.files {
            let outcome = match f.outcome {
                Outcome::Loaded => "ok",
                Outcome::LoadedWithWarnings => "warnings",
                Outcome::Failed => "FAILED",
            };
            let endings = match f.line_endings {
                LineEndings::Lf => "LF",
                LineEndings::Crlf => "CRLF",
                LineEndings::Mixed => "mixed",
            };
            let _ = writeln!(
                out,
                "{outcome:<8} {endings:<5} {:<36} {}",
                f.rule_id.as_deref().unwrap_or("-"),
                f.path.display()
            );
        }
    }
    let (ok, warned, failed) = report.counts();
    let errors = report.diagnostics.iter().filter(|d| d.is_error()).count();
    let warnings = report.diagnostics.len() - errors;
    let _ = writeln!(
        out,
        "{} files: {ok} loaded, {warned} loaded with warnings, {failed} failed; {} rules ready; {errors} errors, {warnings} warnings",
        report.files.len(),
        report.rules.len(),
    );
    out
}
