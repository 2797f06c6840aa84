//! Argument types shared by several subcommands (`--now RFC3339`; `--data`
//! is `source::files::DataSpec`). Parsing only; no file is opened here.

use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

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
