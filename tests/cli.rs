//! Runs the built `rmmhunt` binary as a user would: stdin, flags, files in a
//! temporary folder; asserts stdout, stderr and exit codes.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_rmmhunt");

/// Runs `rmmhunt args...` with `stdin` as its input, in `dir`.
fn rmmhunt(dir: &Path, args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(BIN)
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("spawning {BIN}: {e}"));
    if let Some(mut input) = child.stdin.take() {
        // A command may exit before reading its input (usage errors): ignore EPIPE.
        let _ = input.write_all(stdin.as_bytes());
    }
    child
        .wait_with_output()
        .unwrap_or_else(|e| panic!("waiting for {BIN}: {e}"))
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"))
}

#[test]
fn help_documents_exit_codes() {
    let dir = tempdir();
    for args in [&["--help"][..], &["query", "--help"][..]] {
        let out = rmmhunt(dir.path(), args, "");
        let stdout = text(&out.stdout);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {stdout}");
        assert!(
            stdout.contains("Exit codes:"),
            "{args:?} help must list exit codes:\n{stdout}"
        );
        for code in ["0 ", "1 ", "2 "] {
            assert!(
                stdout.contains(&format!("  {code}")),
                "{args:?} help lacks exit code {code}:\n{stdout}"
            );
        }
    }
}

#[test]
fn usage_errors_exit_2() {
    let dir = tempdir();
    for args in [
        &["query", "--now", "yesterday"][..],
        &["query", "--format", "xml"][..],
        &["query", "--data", "missing.jsonl"][..],
        &["query", "--data", "T="][..],
        &["no-such-command"][..],
    ] {
        let out = rmmhunt(dir.path(), args, "print x = 1");
        assert_eq!(
            out.status.code(),
            Some(2),
            "{args:?} must be a usage error; stderr: {}",
            text(&out.stderr)
        );
        assert!(
            !out.stderr.is_empty(),
            "{args:?} must explain itself on stderr"
        );
        assert!(
            out.stdout.is_empty(),
            "{args:?} must print no result: {}",
            text(&out.stdout)
        );
    }
}
