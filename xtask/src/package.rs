//! `cargo xtask package`: the Azure Functions zip, laid out as the host
//! expects it at the app root (`/home/site/wwwroot`):
//!
//! ```text
//! host.json                 copied from the repository root
//! <Function>/function.json  one folder per function, from function/<Function>/
//! rmmhunt                   the binary, named as host.json's defaultExecutablePath, mode 0755
//! rules/...                 the shipped rules folder (with its SOURCES.md)
//! examples/exclusions.yaml  the example exclusion file
//! ```
//!
//! The zip is written to a temporary file in the output folder and renamed
//! into place, so a failed run never leaves a half-written zip behind.

use std::fs;
use std::io::{self, Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipArchive, ZipWriter};

use crate::glibc::{self, GlibcRequirement, FUNCTIONS_MIN_GLIBC};

/// The Rust target the Functions Linux workers run.
pub const TARGET: &str = "x86_64-unknown-linux-gnu";
/// File name of the zip inside the output folder.
pub const ZIP_NAME: &str = "rmmhunt-functions.zip";
/// The example exclusion file shipped in the zip (repository-relative).
pub const EXCLUSIONS: &str = "examples/exclusions.yaml";

#[derive(Debug, thiserror::Error)]
pub enum PackageError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: io::Error },
    #[error("{path}: invalid JSON: {source}")]
    Json {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error("host.json: {0}")]
    HostJson(String),
    #[error("function/{name}: {problem}")]
    Function { name: String, problem: String },
    #[error("{path}: {source}")]
    Binary {
        path: PathBuf,
        source: glibc::ElfError,
    },
    #[error("writing the zip: {0}")]
    Zip(#[from] zip::result::ZipError),
    #[error("cargo build failed: {0}")]
    Build(String),
}

pub(crate) fn io_err(path: &Path) -> impl FnOnce(io::Error) -> PackageError + '_ {
    move |source| PackageError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// What to package.
#[derive(Debug, Clone)]
pub struct PackageOptions {
    /// Repository root (holds host.json, function/, rules/, examples/).
    pub root: PathBuf,
    /// Folder the zip is written to (created if missing).
    pub out_dir: PathBuf,
    /// The Linux x86-64 binary to ship.
    pub binary: PathBuf,
}

/// One entry of the written zip.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub name: String,
    pub size: u64,
    pub compressed: u64,
    /// Unix mode bits (`0o100755`) as stored in the zip.
    pub mode: Option<u32>,
}

/// The result: where the zip is and what is in it.
#[derive(Debug, Clone)]
pub struct PackageReport {
    pub zip: PathBuf,
    pub size: u64,
    pub entries: Vec<Entry>,
    /// host.json's `defaultExecutablePath`: the binary's name in the zip.
    pub executable: String,
    pub glibc: GlibcRequirement,
    pub warnings: Vec<String>,
}

/// Reads `customHandler.description.defaultExecutablePath` from host.json; it
/// must be a plain file name (the binary sits at the app root).
pub fn host_executable(host: &serde_json::Value) -> Result<String, PackageError> {
    let path = host
        .pointer("/customHandler/description/defaultExecutablePath")
        .and_then(|v| v.as_str())
        .ok_or_else(|| {
            PackageError::HostJson(
                "customHandler.description.defaultExecutablePath is missing".into(),
            )
        })?;
    let plain = !path.is_empty()
        && !path.contains(['/', '\\'])
        && path != "."
        && path != ".."
        && path != "host.json";
    if !plain {
        return Err(PackageError::HostJson(format!(
            "defaultExecutablePath `{path}` must be a plain file name at the app root"
        )));
    }
    Ok(path.to_string())
}

fn read_json(path: &Path) -> Result<serde_json::Value, PackageError> {
    let text = fs::read(path).map_err(io_err(path))?;
    serde_json::from_slice(&text).map_err(|source| PackageError::Json {
        path: path.to_path_buf(),
        source,
    })
}

/// The function folders under `function/`, sorted: (name, function.json path).
pub fn function_dirs(root: &Path) -> Result<Vec<(String, PathBuf)>, PackageError> {
    let dir = root.join("function");
    let mut out = Vec::new();
    for entry in fs::read_dir(&dir).map_err(io_err(&dir))? {
        let entry = entry.map_err(io_err(&dir))?;
        let path = entry.path();
        if !path.is_dir() {
            continue;
        }
        let name = entry.file_name().to_string_lossy().into_owned();
        let json = path.join("function.json");
        if !json.is_file() {
            return Err(PackageError::Function {
                name,
                problem: "has no function.json".into(),
            });
        }
        let extra = fs::read_dir(&path)
            .map_err(io_err(&path))?
            .filter_map(Result::ok)
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .find(|n| n != "function.json");
        if let Some(extra) = extra {
            return Err(PackageError::Function {
                name,
                problem: format!("holds `{extra}`; only function.json is packaged"),
            });
        }
        out.push((name, json));
    }
    out.sort();
    if out.is_empty() {
        return Err(PackageError::Function {
            name: "*".into(),
            problem: "no function folders".into(),
        });
    }
    Ok(out)
}

/// Every file under `rules/`, repository-relative with `/`, sorted; hidden
/// files are left out.
fn rule_files(root: &Path) -> Result<Vec<String>, PackageError> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) -> Result<(), PackageError> {
        for entry in fs::read_dir(dir).map_err(io_err(dir))? {
            let entry = entry.map_err(io_err(dir))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') {
                continue;
            }
            let path = entry.path();
            if path.is_dir() {
                walk(root, &path, out)?;
            } else if let Ok(rel) = path.strip_prefix(root) {
                let parts: Vec<_> = rel
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect();
                out.push(parts.join("/"));
            }
        }
        Ok(())
    }
    let mut out = Vec::new();
    walk(root, &root.join("rules"), &mut out)?;
    out.sort();
    if !out.iter().any(|f| f == "rules/SOURCES.md") {
        return Err(PackageError::Io {
            path: root.join("rules/SOURCES.md"),
            source: io::Error::new(io::ErrorKind::NotFound, "the rules folder lost SOURCES.md"),
        });
    }
    Ok(out)
}

/// Builds the zip. Checks host.json, the function folders and the binary
/// (x86-64 ELF) before writing anything.
pub fn package(opts: &PackageOptions) -> Result<PackageReport, PackageError> {
    let root = &opts.root;
    let host_path = root.join("host.json");
    let host = read_json(&host_path)?;
    let executable = host_executable(&host)?;

    let functions = function_dirs(root)?;
    for (name, json) in &functions {
        read_json(json)?;
        if [executable.as_str(), "rules", "examples", "host.json"].contains(&name.as_str()) {
            return Err(PackageError::Function {
                name: name.clone(),
                problem: "clashes with another entry at the zip root".into(),
            });
        }
    }

    let binary = fs::read(&opts.binary).map_err(io_err(&opts.binary))?;
    let glibc = glibc::required_glibc(&binary).map_err(|source| PackageError::Binary {
        path: opts.binary.clone(),
        source,
    })?;
    let mut warnings = Vec::new();
    if glibc.exceeds(FUNCTIONS_MIN_GLIBC) {
        let needed = glibc
            .minimum_glibc()
            .map(|v| v.to_string())
            .unwrap_or_default();
        warnings.push(format!(
            "the binary needs glibc {needed}: it will not start on Debian 11 Functions images \
             (glibc {FUNCTIONS_MIN_GLIBC}); Debian 12 images have 2.36"
        ));
    }

    let mut files: Vec<(String, PathBuf, u32)> = vec![("host.json".into(), host_path, 0o644)];
    for (name, json) in &functions {
        files.push((format!("{name}/function.json"), json.clone(), 0o644));
    }
    for rel in rule_files(root)? {
        let path = root.join(&rel);
        files.push((rel, path, 0o644));
    }
    files.push((EXCLUSIONS.into(), root.join(EXCLUSIONS), 0o644));

    fs::create_dir_all(&opts.out_dir).map_err(io_err(&opts.out_dir))?;
    let zip_path = opts.out_dir.join(ZIP_NAME);
    let mut tmp = tempfile::Builder::new()
        .prefix(".rmmhunt-functions.")
        .suffix(".zip.tmp")
        .tempfile_in(&opts.out_dir)
        .map_err(io_err(&opts.out_dir))?;
    write_zip(tmp.as_file_mut(), &files, &executable, &binary)?;
    tmp.as_file().sync_all().map_err(io_err(tmp.path()))?;
    set_readable(tmp.path())?;
    tmp.persist(&zip_path).map_err(|e| PackageError::Io {
        path: zip_path.clone(),
        source: e.error,
    })?;

    let (size, entries) = list_zip(&zip_path)?;
    Ok(PackageReport {
        zip: zip_path,
        size,
        entries,
        executable,
        glibc,
        warnings,
    })
}

#[cfg(unix)]
fn set_readable(path: &Path) -> Result<(), PackageError> {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(0o644)).map_err(io_err(path))
}

#[cfg(not(unix))]
fn set_readable(_: &Path) -> Result<(), PackageError> {
    Ok(())
}

fn write_zip<W: Write + Seek>(
    out: W,
    files: &[(String, PathBuf, u32)],
    executable: &str,
    binary: &[u8],
) -> Result<(), PackageError> {
    // No timestamps beyond the zip default (1980-01-01): the same inputs give
    // the same bytes.
    let options = |mode: u32| {
        SimpleFileOptions::default()
            .compression_method(CompressionMethod::Deflated)
            .unix_permissions(mode)
    };
    let mut zip = ZipWriter::new(out);
    let add = |zip: &mut ZipWriter<W>, name: &str, bytes: &[u8], mode: u32| {
        zip.start_file(name, options(mode))?;
        zip.write_all(bytes).map_err(zip::result::ZipError::Io)?;
        Ok::<(), PackageError>(())
    };
    let mut binary_added = false;
    for (name, path, mode) in files {
        // The binary goes right after the function folders, before rules/.
        if !binary_added && name.starts_with("rules/") {
            add(&mut zip, executable, binary, 0o755)?;
            binary_added = true;
        }
        let bytes = fs::read(path).map_err(io_err(path))?;
        add(&mut zip, name, &bytes, *mode)?;
    }
    if !binary_added {
        add(&mut zip, executable, binary, 0o755)?;
    }
    zip.finish()?;
    Ok(())
}

/// Size and entries of a written zip (read back from disk).
pub fn list_zip(path: &Path) -> Result<(u64, Vec<Entry>), PackageError> {
    let file = fs::File::open(path).map_err(io_err(path))?;
    let size = file.metadata().map_err(io_err(path))?.len();
    let mut archive = ZipArchive::new(file)?;
    let mut entries = Vec::with_capacity(archive.len());
    for i in 0..archive.len() {
        let entry = archive.by_index(i)?;
        entries.push(Entry {
            name: entry.name().to_string(),
            size: entry.size(),
            compressed: entry.compressed_size(),
            mode: entry.unix_mode(),
        });
    }
    Ok((size, entries))
}

/// Reads one entry of a zip fully (tests and checks).
pub fn read_entry(path: &Path, name: &str) -> Result<Vec<u8>, PackageError> {
    let file = fs::File::open(path).map_err(io_err(path))?;
    let mut archive = ZipArchive::new(file)?;
    let mut entry = archive.by_name(name)?;
    let mut out = Vec::new();
    entry.read_to_end(&mut out).map_err(io_err(path))?;
    Ok(out)
}

/// `cargo build --profile dist --target x86_64-unknown-linux-gnu -p rmmhunt
/// --bin rmmhunt` (`dist`: the release profile without debug info, symbols
/// stripped — a seventh of the size); returns the path of the built binary, taken from cargo's JSON
/// messages (so `CARGO_TARGET_DIR` and friends are honoured).
///
/// `linker`: the linker cargo uses for the target (the zig wrapper of
/// [`crate::zig`]); `None`: the system's.
pub fn build_release(root: &Path, linker: Option<&Path>) -> Result<PathBuf, PackageError> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    if let Some(linker) = linker {
        cmd.env("CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_LINKER", linker);
    }
    let output = cmd
        .current_dir(root)
        .args([
            "build",
            "--profile",
            "dist",
            "--locked",
            "--target",
            TARGET,
            "--package",
            "rmmhunt",
            "--bin",
            "rmmhunt",
            "--message-format=json-render-diagnostics",
        ])
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .map_err(io_err(root))?;
    if !output.status.success() {
        return Err(PackageError::Build(format!(
            "cargo exited with {}",
            output.status
        )));
    }
    executable_from_messages(&String::from_utf8_lossy(&output.stdout)).ok_or_else(|| {
        PackageError::Build("cargo reported no executable for the rmmhunt binary".into())
    })
}

/// Finds the `rmmhunt` bin's executable in cargo's `--message-format=json`
/// output.
pub fn executable_from_messages(stdout: &str) -> Option<PathBuf> {
    stdout
        .lines()
        .rev()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|m| m["reason"] == "compiler-artifact" && m["target"]["name"] == "rmmhunt")
        .filter(|m| {
            m["target"]["kind"]
                .as_array()
                .is_some_and(|k| k.iter().any(|k| k == "bin"))
        })
        .find_map(|m| m["executable"].as_str().map(PathBuf::from))
}

/// Where `cargo build --profile dist --target x86_64-unknown-linux-gnu` leaves the
/// binary when `CARGO_TARGET_DIR` is not set (for `--no-build`).
pub fn default_binary(root: &Path) -> PathBuf {
    let target_dir = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    target_dir.join(TARGET).join("dist").join("rmmhunt")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn executable_must_be_a_plain_name() {
        let host = |p: &str| serde_json::json!({"customHandler": {"description": {"defaultExecutablePath": p}}});
        assert_eq!(host_executable(&host("rmmhunt")).unwrap(), "rmmhunt");
        for bad in [
            "",
            "bin/rmmhunt",
            "..",
            "/usr/bin/rmmhunt",
            "a\\b",
            "host.json",
        ] {
            assert!(host_executable(&host(bad)).is_err(), "{bad}");
        }
        assert!(host_executable(&serde_json::json!({})).is_err());
    }

    #[test]
    fn finds_the_executable_in_cargo_messages() {
        let lines = [
            r#"{"reason":"compiler-artifact","target":{"name":"kql","kind":["lib"]},"executable":null}"#,
            r#"{"reason":"compiler-artifact","target":{"name":"rmmhunt","kind":["lib"]},"executable":null}"#,
            "not json",
            r#"{"reason":"compiler-artifact","target":{"name":"rmmhunt","kind":["bin"]},"executable":"/t/x86_64-unknown-linux-gnu/release/rmmhunt"}"#,
            r#"{"reason":"build-finished","success":true}"#,
        ];
        assert_eq!(
            executable_from_messages(&lines.join("\n")),
            Some(PathBuf::from("/t/x86_64-unknown-linux-gnu/release/rmmhunt"))
        );
        assert_eq!(executable_from_messages(lines[0]), None);
    }
}
