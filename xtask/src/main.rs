//! `cargo xtask package [--out DIR] [--binary PATH] [--no-build]`

use std::path::PathBuf;
use std::process::ExitCode;

use xtask::glibc::FUNCTIONS_MIN_GLIBC;
use xtask::package::{self, PackageOptions};

const USAGE: &str = "\
Usage: cargo xtask package [--out DIR] [--binary PATH] [--no-build] [--host-glibc]

Builds the Azure Functions zip (DIR/rmmhunt-functions.zip, DIR defaults to dist/):
host.json and the function folders at its root, the rmmhunt binary (mode 0755),
rules/ and examples/exclusions.yaml.

  --out DIR       folder for the zip (default: <repo>/dist)
  --binary PATH   ship this Linux x86-64 binary instead of building one
  --no-build      ship target/x86_64-unknown-linux-gnu/dist/rmmhunt as it is
  --host-glibc    link against this machine's glibc (default: glibc 2.31 through
                  zig cc from PyPI, so the binary starts on Debian 11 and 12 workers)
  -h, --help      this text

Without --binary/--no-build it runs
  cargo build --profile dist --locked --target x86_64-unknown-linux-gnu -p rmmhunt --bin rmmhunt
with zig cc as the linker (ziglang from PyPI in target/xtask-zig/venv), and fails when
the binary needs a glibc newer than 2.31.
";

struct Args {
    out: Option<PathBuf>,
    binary: Option<PathBuf>,
    no_build: bool,
    host_glibc: bool,
}

fn parse(mut args: impl Iterator<Item = String>) -> Result<Option<Args>, String> {
    match args.next().as_deref() {
        Some("package") => {}
        Some("-h" | "--help" | "help") | None => return Ok(None),
        Some(other) => return Err(format!("unknown task `{other}`")),
    }
    let mut parsed = Args {
        out: None,
        binary: None,
        no_build: false,
        host_glibc: false,
    };
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().ok_or_else(|| format!("{name} needs a value"));
        match arg.as_str() {
            "--out" => parsed.out = Some(value("--out")?.into()),
            "--binary" => parsed.binary = Some(value("--binary")?.into()),
            "--no-build" => parsed.no_build = true,
            "--host-glibc" => parsed.host_glibc = true,
            "-h" | "--help" => return Ok(None),
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    Ok(Some(parsed))
}

fn main() -> ExitCode {
    let args = match parse(std::env::args().skip(1)) {
        Ok(Some(args)) => args,
        Ok(None) => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("error: {e}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: Args) -> Result<(), package::PackageError> {
    let root = xtask::repo_root();
    // a binary built here with zig must fit the oldest worker image
    let must_fit = !args.host_glibc && args.binary.is_none() && !args.no_build;
    let binary = match (args.binary, args.no_build) {
        (Some(path), _) => path,
        (None, true) => package::default_binary(&root),
        (None, false) => {
            let linker = if args.host_glibc {
                None
            } else {
                Some(xtask::zig::prepare(&root, FUNCTIONS_MIN_GLIBC)?)
            };
            package::build_release(&root, linker.as_deref())?
        }
    };
    let out_dir = args.out.unwrap_or_else(|| root.join("dist"));
    let report = package::package(&PackageOptions {
        root,
        out_dir,
        binary: binary.clone(),
    })?;

    println!("{}", report.zip.display());
    println!(
        "size: {} bytes ({:.1} MiB)",
        report.size,
        report.size as f64 / 1048576.0
    );
    println!("binary: {} (as `{}`)", binary.display(), report.executable);
    println!("entries:");
    for e in &report.entries {
        let mode = e
            .mode
            .map(|m| format!("{:o}", m & 0o7777))
            .unwrap_or_default();
        println!("  {:>4} {:>10} {}", mode, e.size, e.name);
    }
    let g = &report.glibc;
    match g.highest() {
        Some(v) => println!(
            "glibc: highest symbol version GLIBC_{v} (from .gnu.version_r of {}){}",
            g.libraries.iter().cloned().collect::<Vec<_>>().join(", "),
            if g.tags.is_empty() {
                String::new()
            } else {
                format!(
                    "; also {}",
                    g.tags.iter().cloned().collect::<Vec<_>>().join(", ")
                )
            }
        ),
        None => println!("glibc: no versioned glibc symbols (static or not linked to glibc)"),
    }
    match g.minimum_glibc() {
        Some(v) if g.exceeds(FUNCTIONS_MIN_GLIBC) => println!("glibc: needs >= {v}"),
        Some(v) => println!(
            "glibc: needs >= {v}: loads on Debian 11 ({FUNCTIONS_MIN_GLIBC}) and 12 (2.36)"
        ),
        None => {}
    }
    for w in &report.warnings {
        eprintln!("warning: {w}");
    }
    if must_fit && g.exceeds(FUNCTIONS_MIN_GLIBC) {
        return Err(package::PackageError::Build(format!(
            "linked for glibc {FUNCTIONS_MIN_GLIBC}, but the binary needs more (see above)"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Result<Option<Args>, String> {
        parse(list.iter().map(|s| s.to_string()))
    }

    #[test]
    fn parses_the_package_flags() {
        let a = args(&[
            "package",
            "--out",
            "/tmp/d",
            "--binary",
            "/b",
            "--no-build",
            "--host-glibc",
        ])
        .unwrap()
        .unwrap();
        assert!(a.host_glibc);
        assert_eq!(a.out, Some(PathBuf::from("/tmp/d")));
        assert_eq!(a.binary, Some(PathBuf::from("/b")));
        assert!(a.no_build);
        assert!(args(&[]).unwrap().is_none());
        assert!(args(&["package", "--help"]).unwrap().is_none());
        assert!(args(&["package", "--out"]).is_err());
        assert!(args(&["package", "--bogus"]).is_err());
        assert!(args(&["deploy"]).is_err());
    }
}
