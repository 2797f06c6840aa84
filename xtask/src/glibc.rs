//! Which glibc a Linux x86-64 binary needs, read from its ELF `.gnu.version_r`
//! (`SHT_GNU_VERNEED`) section with the `object` crate: every `GLIBC_x.y[.z]`
//! version the dynamic linker must find, plus the non-numeric `GLIBC_*` tags
//! (`GLIBC_PRIVATE`, `GLIBC_ABI_DT_RELR`, ...).

use std::collections::BTreeSet;
use std::fmt;

use object::elf;
use object::read::elf::{FileHeader, SectionHeader as _};
use object::Endianness;

/// glibc of the oldest Azure Functions Linux image (Debian 11 "bullseye");
/// Debian 12 "bookworm" images have 2.36.
pub const FUNCTIONS_MIN_GLIBC: GlibcVersion = GlibcVersion {
    major: 2,
    minor: 31,
    patch: 0,
};

/// `GLIBC_ABI_DT_RELR` (packed relative relocations) first shipped in glibc 2.36.
const DT_RELR_GLIBC: GlibcVersion = GlibcVersion {
    major: 2,
    minor: 36,
    patch: 0,
};

/// A numeric glibc symbol version (`GLIBC_2.2.5` is 2.2.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct GlibcVersion {
    pub major: u32,
    pub minor: u32,
    pub patch: u32,
}

impl GlibcVersion {
    /// Parses the part after `GLIBC_`: `2.34`, `2.2.5`. `None` for tags such
    /// as `PRIVATE`.
    pub fn parse(text: &str) -> Option<GlibcVersion> {
        let mut parts = text.split('.');
        let major = parts.next()?.parse().ok()?;
        let minor = parts.next()?.parse().ok()?;
        let patch = match parts.next() {
            Some(p) => p.parse().ok()?,
            None => 0,
        };
        if parts.next().is_some() {
            return None;
        }
        Some(GlibcVersion {
            major,
            minor,
            patch,
        })
    }
}

impl fmt::Display for GlibcVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)?;
        if self.patch != 0 {
            write!(f, ".{}", self.patch)?;
        }
        Ok(())
    }
}

/// What the binary asks of the C library.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GlibcRequirement {
    /// Every numeric `GLIBC_*` version named in `.gnu.version_r`.
    pub versions: BTreeSet<GlibcVersion>,
    /// Non-numeric `GLIBC_*` tags (`GLIBC_PRIVATE`, `GLIBC_ABI_DT_RELR`).
    pub tags: BTreeSet<String>,
    /// The shared libraries the version needs are against (`libc.so.6`, ...).
    pub libraries: BTreeSet<String>,
}

impl GlibcRequirement {
    /// The highest numeric `GLIBC_x.y` symbol version, `None` for a binary that
    /// needs no versioned glibc symbol (static, musl).
    pub fn highest(&self) -> Option<GlibcVersion> {
        self.versions.iter().next_back().copied()
    }

    /// The oldest glibc that can load the binary: the highest symbol version,
    /// raised to 2.36 when `GLIBC_ABI_DT_RELR` is required.
    pub fn minimum_glibc(&self) -> Option<GlibcVersion> {
        let relr = self
            .tags
            .contains("GLIBC_ABI_DT_RELR")
            .then_some(DT_RELR_GLIBC);
        self.highest().max(relr)
    }

    /// True when the binary will not load on a Debian 11 Functions image.
    pub fn exceeds(&self, available: GlibcVersion) -> bool {
        self.minimum_glibc().is_some_and(|v| v > available)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ElfError {
    #[error("not an ELF64 file: {0}")]
    NotElf(String),
    #[error("ELF for machine {0:#x}, not x86-64 (EM_X86_64 = 0x3e)")]
    WrongMachine(u16),
    #[error("malformed ELF: {0}")]
    Malformed(String),
}

fn malformed(e: object::read::Error) -> ElfError {
    ElfError::Malformed(e.to_string())
}

/// Checks that `data` is an x86-64 ELF64 file and reads its glibc needs.
pub fn required_glibc(data: &[u8]) -> Result<GlibcRequirement, ElfError> {
    let header = elf::FileHeader64::<Endianness>::parse(data)
        .map_err(|e| ElfError::NotElf(e.to_string()))?;
    let endian = header.endian().map_err(malformed)?;
    let machine = header.e_machine(endian);
    if machine != elf::EM_X86_64 {
        return Err(ElfError::WrongMachine(machine.0));
    }
    let sections = header.sections(endian, data).map_err(malformed)?;
    let mut req = GlibcRequirement::default();
    for section in sections.iter() {
        if section.sh_type(endian) != elf::SHT_GNU_VERNEED {
            continue;
        }
        let Some((mut needs, link)) = section.gnu_verneed(endian, data).map_err(malformed)? else {
            continue;
        };
        let strings = sections.strings(endian, data, link).map_err(malformed)?;
        while let Some((need, mut auxes)) = needs.next().map_err(malformed)? {
            let file = need.file(endian, strings).map_err(malformed)?;
            let mut any_glibc = false;
            while let Some(aux) = auxes.next().map_err(malformed)? {
                let name = aux.name(endian, strings).map_err(malformed)?;
                let name = String::from_utf8_lossy(name);
                let Some(rest) = name.strip_prefix("GLIBC_") else {
                    continue;
                };
                any_glibc = true;
                match GlibcVersion::parse(rest) {
                    Some(v) => {
                        req.versions.insert(v);
                    }
                    None => {
                        req.tags.insert(name.into_owned());
                    }
                }
            }
            if any_glibc {
                req.libraries
                    .insert(String::from_utf8_lossy(file).into_owned());
            }
        }
    }
    Ok(req)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_orders_versions() {
        let v = |s| GlibcVersion::parse(s).unwrap();
        assert_eq!(v("2.2.5").to_string(), "2.2.5");
        assert_eq!(v("2.34").to_string(), "2.34");
        assert!(v("2.4") < v("2.31"));
        assert!(v("2.2.5") < v("2.3"));
        assert_eq!(GlibcVersion::parse("PRIVATE"), None);
        assert_eq!(GlibcVersion::parse("2"), None);
        assert_eq!(GlibcVersion::parse("2.3.4.5"), None);
    }

    #[test]
    fn dt_relr_raises_the_minimum() {
        let mut req = GlibcRequirement::default();
        req.versions.insert(GlibcVersion::parse("2.17").unwrap());
        assert!(!req.exceeds(FUNCTIONS_MIN_GLIBC));
        req.tags.insert("GLIBC_ABI_DT_RELR".into());
        assert_eq!(req.minimum_glibc(), GlibcVersion::parse("2.36"));
        assert!(req.exceeds(FUNCTIONS_MIN_GLIBC));
        assert_eq!(GlibcRequirement::default().minimum_glibc(), None);
    }

    #[test]
    fn rejects_what_is_not_an_x86_64_elf() {
        assert!(matches!(
            required_glibc(b"#!/bin/sh\necho hi\n"),
            Err(ElfError::NotElf(_))
        ));
        assert!(matches!(required_glibc(&[]), Err(ElfError::NotElf(_))));
    }
}
