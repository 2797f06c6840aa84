//! datetime and timespan: ticks, parsing and printing.

/// 100 ns ticks per unit.
pub const TICK: i64 = 1;
pub const MICROSECOND: i64 = 10;
pub const MILLISECOND: i64 = 10_000;
pub const SECOND: i64 = 10_000_000;
pub const MINUTE: i64 = 60 * SECOND;
pub const HOUR: i64 = 60 * MINUTE;
pub const DAY: i64 = 24 * HOUR;
/// Ticks from 0001-01-01 to 1970-01-01.
pub const UNIX_EPOCH: i64 = 621_355_968_000_000_000;

/// Parses datetime text (`2024-01-01`, `2024-01-01 10:30`,
/// `2024-01-01T10:30:00.1234567Z`, offsets, RFC 1123...) to ticks.
pub fn parse_datetime(_text: &str) -> Option<i64> {
    None
}

/// `2024-01-01T00:00:00Z`, with 7 fractional digits when non-zero.
pub fn format_datetime(_ticks: i64) -> String {
    String::new()
}

/// Parses `[-][d.]hh:mm:ss[.fffffff]` and the literal forms `5d`, `1.5h`,
/// `100ms`, `10microsecond`, `1tick`, a bare number (days).
pub fn parse_timespan(_text: &str) -> Option<i64> {
    None
}

/// `[-][d.]hh:mm:ss[.fffffff]`
pub fn format_timespan(_ticks: i64) -> String {
    String::new()
}
