//! Argument types shared by several subcommands: `--data [NAME=]FILE` and
//! `--now RFC3339`. Parsing only; no file is opened here.

use std::path::{Path, PathBuf};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// One `--data` argument: a file and the table name it is served as.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DataArg {
    /// The table name: `NAME` of `NAME=FILE`, else the file stem.
    pub table: String,
    pub path: PathBuf,
}

impl std::str::FromStr for DataArg {
    type Err = String;

    /// `NAME=FILE` when the part before the first `=` is a plain identifier
    /// (letters, digits, `_`), else the whole text is a path whose file stem
    /// (`DeviceNetworkEvents.jsonl` -> `DeviceNetworkEvents`) names the table.
    fn from_str(s: &str) -> Result<DataArg, String> {
        if s.is_empty() {
            return Err("empty --data value".into());
        }
        if let Some((name, file)) = s.split_once('=') {
            if is_identifier(name) {
                if file.is_empty() {
                    return Err(format!("--data {s}: no file after '='"));
                }
                return Ok(DataArg {
                    table: name.to_string(),
                    path: PathBuf::from(file),
                });
            }
        }
        let path = PathBuf::from(s);
        let table = table_name_of(&path).ok_or_else(|| {
            format!("--data {s}: cannot take a table name from this path; use NAME=FILE")
        })?;
        Ok(DataArg { table, path })
    }
}

fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The file stem without any extension (`a.jsonl` -> `a`, `a.csv.gz` -> `a`).
fn table_name_of(path: &Path) -> Option<String> {
    let name = path.file_name()?.to_str()?;
    let stem = name.split('.').next()?;
    is_identifier(stem).then(|| stem.to_string())
}

/// `--now`: a pinned `now()` in 100 ns ticks since 0001-01-01 (Kusto's
/// datetime representation).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Now(pub i64);

impl Now {
    /// The current time (used when `--now` is not given).
    pub fn current() -> Now {
        Now(ticks_of(OffsetDateTime::now_utc()))
    }
}

impl std::str::FromStr for Now {
    type Err = String;

    fn from_str(s: &str) -> Result<Now, String> {
        OffsetDateTime::parse(s, &Rfc3339)
            .map(|t| Now(ticks_of(t)))
            .map_err(|e| format!("not an RFC 3339 time (like 2024-05-01T00:00:00Z): {e}"))
    }
}

fn ticks_of(t: OffsetDateTime) -> i64 {
    let ticks = t.unix_timestamp_nanos() / 100 + i128::from(kql::time::UNIX_EPOCH);
    i64::try_from(ticks).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_args() {
        for (input, table, path) in [
            (
                "DeviceNetworkEvents.jsonl",
                "DeviceNetworkEvents",
                "DeviceNetworkEvents.jsonl",
            ),
            ("dir/x.y/Events.csv", "Events", "dir/x.y/Events.csv"),
            ("T=some/file.json", "T", "some/file.json"),
            ("T=a=b.json", "T", "a=b.json"),
            ("./a=b/Events.csv", "Events", "./a=b/Events.csv"),
            ("Events.csv.gz", "Events", "Events.csv.gz"),
        ] {
            let got: DataArg = input.parse().unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!(got.table, table, "{input}");
            assert_eq!(got.path, PathBuf::from(path), "{input}");
        }
        for input in ["", "T=", "1abc.csv", "-x.csv"] {
            assert!(
                input.parse::<DataArg>().is_err(),
                "{input:?} must be rejected"
            );
        }
    }

    #[test]
    fn now_args() {
        for (input, ticks) in [
            ("1970-01-01T00:00:00Z", kql::time::UNIX_EPOCH),
            ("1970-01-01T00:00:01.5Z", kql::time::UNIX_EPOCH + 15_000_000),
            ("1970-01-01T01:00:00+01:00", kql::time::UNIX_EPOCH),
            ("2024-05-01T00:00:00Z", 638_501_184_000_000_000),
        ] {
            assert_eq!(input.parse::<Now>(), Ok(Now(ticks)), "{input}");
        }
        for input in ["", "yesterday", "2024-05-01", "2024-13-01T00:00:00Z"] {
            assert!(input.parse::<Now>().is_err(), "{input:?} must be rejected");
        }
    }
}
