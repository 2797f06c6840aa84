//! The `rmmhunt` binary: parses the command line and hands it to
//! [`rmmhunt::cli::run`]. Nothing else lives here: every command is in
//! `src/cli/`, every piece of logic in the library.

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = rmmhunt::cli::Cli::parse();
    match rmmhunt::cli::run(cli) {
        Ok(code) => code,
        // `rmmhunt query ... | head`: the reader left; that is not a failure.
        Err(err) if is_broken_pipe(&err) => ExitCode::SUCCESS,
        Err(err) => {
            // One chain line: `rmmhunt: error: reading x.csv: No such file or directory`.
            eprintln!("rmmhunt: error: {err:#}");
            ExitCode::from(rmmhunt::cli::EXIT_USAGE)
        }
    }
}

fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|e| {
        e.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
