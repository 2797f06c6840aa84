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
            eprintln!("rmmhunt: error: {}", chain_line(&err));
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

/// One line for the whole error chain (`reading x.csv: No such file or
/// directory`), skipping a cause whose text its parent already ends with.
fn chain_line(err: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in err.chain() {
        let text = cause.to_string();
        if line.ends_with(&text) {
            continue;
        }
        if !line.is_empty() {
            line.push_str(": ");
        }
        line.push_str(&text);
    }
    line
}
