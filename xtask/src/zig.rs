//! Linking for an older glibc than the build machine's.
//!
//! Azure Functions' Linux workers run Debian 11 (glibc 2.31) or Debian 12
//! (2.36) images; a binary linked on a newer system asks for newer symbol
//! versions (`GLIBC_2.34` from `__libc_start_main` on Debian 12) and does
//! not start on the older image. `zig cc` links against stubs of any glibc
//! version (`-target x86_64-linux-gnu.2.31`), so the release build links
//! with it: zig comes from PyPI (`ziglang`, pinned) in a virtual
//! environment under `target/xtask-zig/`, and a small wrapper script is the
//! linker cargo calls. C code (ring) is still compiled by the system
//! compiler: object files carry no glibc symbol versions, the link does.
//!
//! The wrapper rewrites what zig does not take from rustc's linker line:
//! `-lgcc_s` (zig ships libunwind instead) and `--target=...` (zig's own
//! `-target` says it).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::glibc::GlibcVersion;
use crate::package::{io_err, PackageError};

/// The pinned zig distribution from PyPI.
pub const ZIGLANG: &str = "ziglang==0.13.0";

/// The linker wrapper for `glibc`, calling zig through `python`.
pub fn wrapper_script(python: &Path, glibc: GlibcVersion) -> String {
    format!(
        r#"#!/bin/sh
# Written by `cargo xtask package`: links x86_64 Linux binaries against
# glibc {glibc} with zig cc ({ZIGLANG}).
for a in "$@"; do
  shift
  case "$a" in
    -lgcc_s) set -- "$@" -lunwind ;;
    --target=*) ;;
    *) set -- "$@" "$a" ;;
  esac
done
exec '{python}' -m ziglang cc -target x86_64-linux-gnu.{glibc} "$@"
"#,
        python = python.display().to_string().replace('\'', r"'\''"),
    )
}

/// Makes (once) the venv with zig and writes the wrapper; returns the
/// wrapper's path, to be cargo's linker.
pub fn prepare(root: &Path, glibc: GlibcVersion) -> Result<PathBuf, PackageError> {
    let dir = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"))
        .join("xtask-zig");
    let venv = dir.join("venv");
    let python = venv.join("bin").join("python");
    std::fs::create_dir_all(&dir).map_err(io_err(&dir))?;
    if !python.exists() {
        run(Command::new("python3").arg("-m").arg("venv").arg(&venv))?;
    }
    let has_zig = Command::new(&python)
        .args(["-m", "ziglang", "version"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !has_zig {
        eprintln!("xtask: installing {ZIGLANG} into {}", venv.display());
        run(Command::new(&python).args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            ZIGLANG,
        ]))?;
    }
    let wrapper = dir.join(format!("zigcc-glibc{glibc}"));
    write_executable(&wrapper, &wrapper_script(&python, glibc))?;
    Ok(wrapper)
}

fn write_executable(path: &Path, text: &str) -> Result<(), PackageError> {
    std::fs::write(path, text).map_err(io_err(path))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))
            .map_err(io_err(path))?;
    }
    Ok(())
}

fn run(cmd: &mut Command) -> Result<(), PackageError> {
    let shown = format!("{cmd:?}");
    let status = cmd
        .stdin(Stdio::null())
        .status()
        .map_err(|e| PackageError::Build(format!("{shown}: {e}")))?;
    if status.success() {
        Ok(())
    } else {
        Err(PackageError::Build(format!("{shown} exited with {status}")))
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    /// The wrapper passes rustc's linker line to zig with `-lgcc_s` and
    /// `--target=` rewritten, everything else (spaces included) unchanged.
    #[test]
    fn the_wrapper_rewrites_only_what_zig_rejects() {
        let dir = tempfile::tempdir().unwrap();
        // a stand-in "python" that prints its arguments one per line
        let fake = dir.path().join("py thon");
        write_executable(&fake, "#!/bin/sh\nfor a in \"$@\"; do echo \"$a\"; done\n").unwrap();
        let wrapper = dir.path().join("zigcc");
        let glibc = GlibcVersion::parse("2.31").unwrap();
        write_executable(&wrapper, &wrapper_script(&fake, glibc)).unwrap();
        let out = Command::new(&wrapper)
            .args([
                "-m64",
                "--target=x86_64-unknown-linux-gnu",
                "a b.o",
                "-lgcc_s",
                "-o",
                "out",
            ])
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        let args: Vec<&str> = std::str::from_utf8(&out.stdout).unwrap().lines().collect();
        assert_eq!(
            args,
            [
                "-m",
                "ziglang",
                "cc",
                "-target",
                "x86_64-linux-gnu.2.31",
                "-m64",
                "a b.o",
                "-lunwind",
                "-o",
                "out"
            ]
        );
    }
}
