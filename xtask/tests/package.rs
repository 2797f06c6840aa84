//! `cargo xtask package` on a stand-in binary: the zip's layout, modes and
//! contents, the atomic write, and refusals that leave no zip behind.

mod support;

use std::fs;
use std::path::{Path, PathBuf};

use xtask::package::{self, list_zip, read_entry, PackageOptions, ZIP_NAME};

const S_IFREG: u32 = 0o100000;

fn repo() -> PathBuf {
    xtask::repo_root()
}

fn standin(dir: &Path) -> PathBuf {
    let path = dir.join("rmmhunt-standin");
    fs::write(&path, support::standin_binary()).unwrap();
    path
}

fn names_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// rules/ as it is on disk, repository-relative.
fn shipped_rules() -> Vec<String> {
    let mut out: Vec<String> = fs::read_dir(repo().join("rules"))
        .unwrap()
        .map(|e| format!("rules/{}", e.unwrap().file_name().to_string_lossy()))
        .filter(|n| !n.starts_with("rules/."))
        .collect();
    out.sort();
    out
}

#[test]
fn packages_the_layout_the_host_expects() {
    let tmp = tempfile::tempdir().unwrap();
    let binary = standin(tmp.path());
    let out_dir = tmp.path().join("dist");
    let report = package::package(&PackageOptions {
        root: repo(),
        out_dir: out_dir.clone(),
        binary: binary.clone(),
    })
    .unwrap();

    let zip = out_dir.join(ZIP_NAME);
    assert_eq!(report.zip, zip);
    assert_eq!(report.size, fs::metadata(&zip).unwrap().len());
    // Only the zip: the temporary file was renamed, not left beside it.
    assert_eq!(names_in(&out_dir), [ZIP_NAME]);

    let mut expected: Vec<String> = [
        "host.json",
        "Health/function.json",
        "HuntTimer/function.json",
        "Hunts/function.json",
        "OpenApi/function.json",
        "Rules/function.json",
        "rmmhunt",
    ]
    .map(String::from)
    .to_vec();
    let rules = shipped_rules();
    assert!(rules.contains(&"rules/SOURCES.md".to_string()));
    assert!(rules.iter().any(|r| r.ends_with(".yaml")));
    expected.extend(rules);
    expected.push("examples/exclusions.yaml".into());
    let names: Vec<&str> = report.entries.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names, expected);

    for e in &report.entries {
        let want = if e.name == "rmmhunt" { 0o755 } else { 0o644 };
        assert_eq!(e.mode, Some(S_IFREG | want), "{}", e.name);
    }
    // What the report lists is what is on disk.
    assert_eq!(list_zip(&zip).unwrap().1, report.entries);

    // Contents are the repository's files and the given binary, byte for byte.
    assert_eq!(
        read_entry(&zip, "rmmhunt").unwrap(),
        fs::read(&binary).unwrap()
    );
    for (entry, file) in [
        ("host.json", "host.json"),
        (
            "HuntTimer/function.json",
            "function/HuntTimer/function.json",
        ),
        ("Hunts/function.json", "function/Hunts/function.json"),
        ("rules/SOURCES.md", "rules/SOURCES.md"),
        ("examples/exclusions.yaml", "examples/exclusions.yaml"),
    ] {
        assert_eq!(
            read_entry(&zip, entry).unwrap(),
            fs::read(repo().join(file)).unwrap(),
            "{entry}"
        );
    }

    // host.json in the zip names the binary that is at the zip root.
    let host: serde_json::Value =
        serde_json::from_slice(&read_entry(&zip, "host.json").unwrap()).unwrap();
    assert_eq!(
        host["customHandler"]["description"]["defaultExecutablePath"],
        report.executable.as_str()
    );
    assert!(names.contains(&report.executable.as_str()));

    // The stand-in needs glibc 2.34: reported, with the Debian 11 warning.
    assert_eq!(report.glibc.highest().unwrap().to_string(), "2.34");
    assert_eq!(report.warnings.len(), 1);
    assert!(report.warnings[0].contains("2.34"), "{:?}", report.warnings);
    assert!(report.warnings[0].contains("2.31"), "{:?}", report.warnings);
}

#[test]
fn same_inputs_same_bytes_and_a_rerun_replaces_the_zip() {
    let tmp = tempfile::tempdir().unwrap();
    let opts = PackageOptions {
        root: repo(),
        out_dir: tmp.path().join("dist"),
        binary: standin(tmp.path()),
    };
    let first = package::package(&opts).unwrap();
    let bytes = fs::read(&first.zip).unwrap();
    let second = package::package(&opts).unwrap();
    assert_eq!(fs::read(&second.zip).unwrap(), bytes);
    assert_eq!(names_in(&opts.out_dir), [ZIP_NAME]);
}

#[test]
fn an_old_enough_binary_gets_no_warning() {
    let tmp = tempfile::tempdir().unwrap();
    let binary = tmp.path().join("old");
    fs::write(
        &binary,
        support::elf(
            support::EM_X86_64,
            &[("libc.so.6", &["GLIBC_2.2.5", "GLIBC_2.28"])],
        ),
    )
    .unwrap();
    let report = package::package(&PackageOptions {
        root: repo(),
        out_dir: tmp.path().join("dist"),
        binary,
    })
    .unwrap();
    assert!(report.warnings.is_empty(), "{:?}", report.warnings);
}

#[test]
fn a_wrong_binary_leaves_the_previous_zip_untouched() {
    let tmp = tempfile::tempdir().unwrap();
    let out_dir = tmp.path().join("dist");
    let good = package::package(&PackageOptions {
        root: repo(),
        out_dir: out_dir.clone(),
        binary: standin(tmp.path()),
    })
    .unwrap();
    let before = fs::read(&good.zip).unwrap();

    let script = tmp.path().join("script");
    fs::write(&script, "#!/bin/sh\nexec true\n").unwrap();
    let arm = tmp.path().join("arm");
    fs::write(&arm, support::elf(support::EM_AARCH64, &[])).unwrap();
    for bad in [script, arm, tmp.path().join("missing")] {
        let err = package::package(&PackageOptions {
            root: repo(),
            out_dir: out_dir.clone(),
            binary: bad.clone(),
        })
        .unwrap_err();
        assert!(err.to_string().contains(&*bad.to_string_lossy()), "{err}");
        assert_eq!(fs::read(&good.zip).unwrap(), before);
        assert_eq!(names_in(&out_dir), [ZIP_NAME]);
    }
}

/// A copy of the packaged parts of the repository, to break one at a time.
fn fake_root(dir: &Path) -> PathBuf {
    let root = dir.join("root");
    let copy = |rel: &str| {
        let to = root.join(rel);
        fs::create_dir_all(to.parent().unwrap()).unwrap();
        fs::copy(repo().join(rel), to).unwrap();
    };
    copy("host.json");
    copy("examples/exclusions.yaml");
    for r in shipped_rules() {
        copy(&r);
    }
    for f in ["HuntTimer", "Hunts", "Rules", "Health", "OpenApi"] {
        copy(&format!("function/{f}/function.json"));
    }
    root
}

#[test]
fn broken_inputs_are_refused_before_anything_is_written() {
    let tmp = tempfile::tempdir().unwrap();
    let binary = standin(tmp.path());
    let root = fake_root(tmp.path());
    let run = |root: &Path| {
        let out_dir = tmp.path().join("out");
        let r = package::package(&PackageOptions {
            root: root.to_path_buf(),
            out_dir: out_dir.clone(),
            binary: binary.clone(),
        });
        if r.is_err() {
            assert!(!out_dir.join(ZIP_NAME).exists());
        }
        r.map(|_| ()).map_err(|e| e.to_string())
    };
    run(&root).unwrap();
    fs::remove_dir_all(tmp.path().join("out")).unwrap();

    let host = fs::read_to_string(root.join("host.json")).unwrap();
    fs::write(
        root.join("host.json"),
        host.replace("\"rmmhunt\"", "\"bin/rmmhunt\""),
    )
    .unwrap();
    assert!(run(&root).unwrap_err().contains("plain file name"));
    fs::write(root.join("host.json"), "{ not json").unwrap();
    assert!(run(&root).unwrap_err().contains("invalid JSON"));
    fs::write(root.join("host.json"), &host).unwrap();

    fs::write(root.join("function/Hunts/run.sh"), "").unwrap();
    assert!(run(&root).unwrap_err().contains("only function.json"));
    fs::remove_file(root.join("function/Hunts/run.sh")).unwrap();

    fs::create_dir_all(root.join("function/rules")).unwrap();
    fs::write(root.join("function/rules/function.json"), "{}").unwrap();
    assert!(run(&root).unwrap_err().contains("clashes"));
    fs::remove_dir_all(root.join("function/rules")).unwrap();

    fs::remove_file(root.join("rules/SOURCES.md")).unwrap();
    assert!(run(&root).unwrap_err().contains("SOURCES.md"));
}
