//! `rmmhunt generate`: writes seeded sample DeviceNetworkEvents (JSON Lines
//! or CSV) with `sample::generate`, for demos, tests and benchmarks.
//!
//! Exit codes: 0 written; 2 usage or write error.

use super::args::Now;
use super::EXIT_OK;
use crate::sample::{self, GenerateOptions, SampleFormat};
use anyhow::Context;
use clap::{Args, ValueEnum};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

const GENERATE_HELP: &str = "\
Every 100 rows hold true positives of the seed Zoho Assist rule, near misses it must
not match (myassist.zoho.com, assist.zoho.community, other Zoho products), rows of each
legitimate scenario of examples/exclusions.yaml, look-alikes outside those scenarios,
and unrelated traffic. The same seed, rows and --now give the same bytes.

Examples:
  rmmhunt generate --rows 100000 --out DeviceNetworkEvents.jsonl
  rmmhunt generate --format csv --seed 3 --now 2024-05-01T00:00:00Z > DeviceNetworkEvents.csv

Exit codes:
  0  written
  2  usage or write error";

#[derive(Debug, Args)]
#[command(after_help = GENERATE_HELP)]
pub struct GenerateArgs {
    /// Number of rows.
    #[arg(long, default_value_t = 1000)]
    pub rows: u64,
    /// Seed of the generator.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Output format. Default: from the --out extension, else jsonl.
    #[arg(long, value_enum)]
    pub format: Option<GenerateFormat>,
    /// End of the generated 7-day time range (RFC 3339). Default: the current time.
    #[arg(long, value_name = "RFC3339")]
    pub now: Option<Now>,
    /// Output file. Default: stdout.
    #[arg(long, short, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum GenerateFormat {
    Jsonl,
    Csv,
}

pub fn run(args: GenerateArgs) -> anyhow::Result<ExitCode> {
    let format = match (args.format, &args.out) {
        (Some(f), _) => f,
        (None, Some(path))
            if path
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("csv")) =>
        {
            GenerateFormat::Csv
        }
        (None, _) => GenerateFormat::Jsonl,
    };
    let opts = GenerateOptions {
        rows: args.rows,
        seed: args.seed,
        format: match format {
            GenerateFormat::Jsonl => SampleFormat::Jsonl,
            GenerateFormat::Csv => SampleFormat::Csv,
        },
        now: args.now.unwrap_or_else(Now::current).0,
    };
    let stats = match &args.out {
        Some(path) => {
            let mut file = std::fs::File::create(path)
                .with_context(|| format!("creating {}", path.display()))?;
            let stats = sample::generate(&opts, &mut file)
                .with_context(|| format!("writing {}", path.display()))?;
            file.flush()
                .with_context(|| format!("writing {}", path.display()))?;
            stats
        }
        None => {
            let stdout = std::io::stdout();
            let mut lock = stdout.lock();
            let stats = sample::generate(&opts, &mut lock).context("writing to stdout")?;
            lock.flush().context("writing to stdout")?;
            stats
        }
    };
    let hits: u64 = sample::RowKind::ALL
        .iter()
        .filter(|k| k.is_rule_hit())
        .map(|k| stats.count(*k))
        .sum();
    eprintln!(
        "rmmhunt: wrote {} rows ({} bytes); {} match the seed rule's filters before exclusions",
        stats.rows, stats.bytes, hits
    );
    Ok(ExitCode::from(EXIT_OK))
}
