//! The glibc reader on hand-made ELF files and on real binaries.

mod support;

use xtask::glibc::{required_glibc, ElfError, GlibcVersion, FUNCTIONS_MIN_GLIBC};

fn v(s: &str) -> GlibcVersion {
    GlibcVersion::parse(s).unwrap()
}

#[test]
fn reads_every_glibc_version_of_every_library() {
    let req = required_glibc(&support::standin_binary()).unwrap();
    let versions: Vec<String> = req.versions.iter().map(|v| v.to_string()).collect();
    assert_eq!(versions, ["2.2.5", "2.18", "2.34"]);
    assert_eq!(req.highest(), Some(v("2.34")));
    assert_eq!(req.tags.iter().collect::<Vec<_>>(), ["GLIBC_PRIVATE"]);
    // libgcc_s only carries GCC_* versions.
    assert_eq!(req.libraries.iter().collect::<Vec<_>>(), ["libc.so.6"]);
    assert!(req.exceeds(FUNCTIONS_MIN_GLIBC));
}

#[test]
fn an_old_enough_binary_passes_and_dt_relr_counts_as_2_36() {
    let old = support::elf(
        support::EM_X86_64,
        &[("libc.so.6", &["GLIBC_2.2.5", "GLIBC_2.28"])],
    );
    let req = required_glibc(&old).unwrap();
    assert_eq!(req.minimum_glibc(), Some(v("2.28")));
    assert!(!req.exceeds(FUNCTIONS_MIN_GLIBC));

    let relr = support::elf(
        support::EM_X86_64,
        &[("libc.so.6", &["GLIBC_2.17", "GLIBC_ABI_DT_RELR"])],
    );
    let req = required_glibc(&relr).unwrap();
    assert_eq!(req.highest(), Some(v("2.17")));
    assert_eq!(req.minimum_glibc(), Some(v("2.36")));
    assert!(req.exceeds(FUNCTIONS_MIN_GLIBC));
}

#[test]
fn no_verneed_means_no_glibc_requirement() {
    let req = required_glibc(&support::elf(support::EM_X86_64, &[])).unwrap();
    assert_eq!(req.highest(), None);
    assert!(!req.exceeds(FUNCTIONS_MIN_GLIBC));
}

#[test]
fn other_machines_and_garbage_are_refused() {
    let arm = support::elf(support::EM_AARCH64, &[("libc.so.6", &["GLIBC_2.17"])]);
    assert!(matches!(
        required_glibc(&arm),
        Err(ElfError::WrongMachine(183))
    ));
    let mut cut = support::standin_binary();
    cut.truncate(100);
    assert!(required_glibc(&cut).is_err());
    let mut bad_offset = support::standin_binary();
    // e_shoff far past the end of the file.
    bad_offset[40..48].copy_from_slice(&u64::MAX.to_le_bytes());
    assert!(required_glibc(&bad_offset).is_err());
}

/// The test binary itself is a real glibc-linked x86-64 executable; compare
/// with `readelf -V` when it is installed.
#[test]
#[cfg(all(target_os = "linux", target_arch = "x86_64", target_env = "gnu"))]
fn agrees_with_readelf_on_a_real_binary() {
    let exe = std::env::current_exe().unwrap();
    let req = required_glibc(&std::fs::read(&exe).unwrap()).unwrap();
    let highest = req.highest().expect("a glibc binary names GLIBC_ versions");
    assert!(highest >= v("2.2.5"));
    assert!(req.libraries.iter().any(|l| l.starts_with("libc.so")));
    let Ok(out) = std::process::Command::new("readelf")
        .arg("-V")
        .arg(&exe)
        .output()
    else {
        eprintln!("readelf not installed; compared nothing more");
        return;
    };
    let text = String::from_utf8_lossy(&out.stdout);
    let from_readelf = text
        .split(|c: char| c.is_whitespace())
        .filter_map(|w| w.strip_prefix("GLIBC_"))
        .filter_map(GlibcVersion::parse)
        .max();
    assert_eq!(from_readelf, Some(highest));
}
