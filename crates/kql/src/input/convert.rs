//! Text -> typed value conversion for input columns, and type inference
//! from sampled values. No I/O here.
//!
//! Ingestion rule (as Kusto ingestion does): a value that does not convert
//! to its column's type becomes null (for `string` columns: never, any text
//! is kept). Empty text is null for every non-string type.

use crate::time::{DAY, HOUR, MINUTE, SECOND, UNIX_EPOCH};
use crate::value::{Decimal, Type, Uuid, Value};
use std::str::FromStr;

/// Converts field text (a CSV field, or a JSON string) to a value of `ty`.
pub(crate) fn from_text(ty: Type, s: &str) -> Value {
    if ty == Type::String {
        return Value::string(s);
    }
    let t = s.trim();
    if t.is_empty() {
        return Value::Null;
    }
    match ty {
        Type::String => Value::string(s),
        Type::Bool => parse_bool(t).map_or(Value::Null, Value::Bool),
        Type::Int => t.parse::<i32>().map_or(Value::Null, Value::Int),
        Type::Long => t.parse::<i64>().map_or(Value::Null, Value::Long),
        Type::Real => parse_real(t).map_or(Value::Null, Value::Real),
        Type::Decimal => Decimal::from_str(t)
            .or_else(|_| Decimal::from_scientific(t))
            .map_or(Value::Null, Value::Decimal),
        Type::DateTime => parse_datetime(t).map_or(Value::Null, Value::DateTime),
        Type::TimeSpan => crate::time::parse_timespan(t).map_or(Value::Null, Value::TimeSpan),
        Type::Guid => Uuid::parse_str(t).map_or(Value::Null, Value::Guid),
        Type::Dynamic => match serde_json::from_str::<serde_json::Value>(t) {
            Ok(v) => Value::dynamic(v),
            Err(_) => Value::dynamic(serde_json::Value::String(s.to_string())),
        },
    }
}

/// Converts the text of a JSON number to `ty`.
pub(crate) fn from_json_number(ty: Type, raw: &str) -> Value {
    match ty {
        Type::String => Value::string(raw),
        Type::Bool => match raw {
            "0" => Value::Bool(false),
            "1" => Value::Bool(true),
            _ => Value::Null,
        },
        Type::Dynamic => match serde_json::from_str::<serde_json::Value>(raw) {
            Ok(v) => Value::dynamic(v),
            Err(_) => Value::Null,
        },
        Type::DateTime | Type::TimeSpan | Type::Guid => Value::Null,
        _ => from_text(ty, raw),
    }
}

/// Converts a JSON boolean to `ty`.
pub(crate) fn from_json_bool(ty: Type, b: bool) -> Value {
    match ty {
        Type::Bool => Value::Bool(b),
        Type::String => Value::string(if b { "true" } else { "false" }),
        Type::Dynamic => Value::dynamic(serde_json::Value::Bool(b)),
        Type::Int => Value::Int(i32::from(b)),
        Type::Long => Value::Long(i64::from(b)),
        _ => Value::Null,
    }
}

/// Converts a JSON string to `ty` (a string stays a string in `dynamic`).
pub(crate) fn from_json_string(ty: Type, s: &str) -> Value {
    match ty {
        Type::Dynamic => Value::dynamic(serde_json::Value::String(s.to_string())),
        _ => from_text(ty, s),
    }
}

fn parse_bool(t: &str) -> Option<bool> {
    if t.eq_ignore_ascii_case("true") || t == "1" {
        Some(true)
    } else if t.eq_ignore_ascii_case("false") || t == "0" {
        Some(false)
    } else {
        None
    }
}

fn parse_real(t: &str) -> Option<f64> {
    match t.to_ascii_lowercase().as_str() {
        "nan" => Some(f64::NAN),
        "inf" | "+inf" | "infinity" | "+infinity" => Some(f64::INFINITY),
        "-inf" | "-infinity" => Some(f64::NEG_INFINITY),
        _ => {
            if looks_numeric(t.as_bytes()) {
                t.parse::<f64>().ok()
            } else {
                None
            }
        }
    }
}

/// `[+-]digits[.digits][e[+-]digits]` (Rust's f64 parser also accepts
/// `inf`/`nan` spellings, handled separately above).
fn looks_numeric(b: &[u8]) -> bool {
    let b = match b.first() {
        Some(b'+') | Some(b'-') => b.get(1..).unwrap_or_default(),
        _ => b,
    };
    let mut digits = 0;
    let mut i = 0;
    while let Some(c) = b.get(i) {
        if c.is_ascii_digit() {
            digits += 1;
            i += 1;
        } else {
            break;
        }
    }
    if b.get(i) == Some(&b'.') {
        i += 1;
        while let Some(c) = b.get(i) {
            if c.is_ascii_digit() {
                digits += 1;
                i += 1;
            } else {
                break;
            }
        }
    }
    if digits == 0 {
        return false;
    }
    if matches!(b.get(i), Some(b'e') | Some(b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+') | Some(b'-')) {
            i += 1;
        }
        let start = i;
        while let Some(c) = b.get(i) {
            if c.is_ascii_digit() {
                i += 1;
            } else {
                break;
            }
        }
        if i == start {
            return false;
        }
    }
    i == b.len()
}

/// Datetime text to ticks: the ISO-8601 fast path first (Defender exports:
/// `2024-05-01T10:01:00.1234567Z`), then the engine's general parser.
pub(crate) fn parse_datetime(t: &str) -> Option<i64> {
    parse_iso_datetime(t.as_bytes()).or_else(|| crate::time::parse_datetime(t))
}

fn digits(b: &[u8], at: usize, n: usize) -> Option<i64> {
    let s = b.get(at..at + n)?;
    let mut v = 0i64;
    for c in s {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v * 10 + i64::from(c - b'0');
    }
    Some(v)
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(y) => 29,
        _ => 28,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant).
pub(crate) fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Strict ISO-8601: `YYYY-MM-DD`, optionally followed by `T` or a space and
/// `hh:mm[:ss[.fraction]]`, optionally `Z` or `±hh:mm`/`±hhmm`. Fractions
/// beyond 7 digits are truncated. Returns ticks since 0001-01-01.
pub(crate) fn parse_iso_datetime(b: &[u8]) -> Option<i64> {
    let y = digits(b, 0, 4)?;
    if b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') {
        return None;
    }
    let mo = digits(b, 5, 2)?;
    let d = digits(b, 8, 2)?;
    if y < 1 || !(1..=12).contains(&mo) || d < 1 || d > days_in_month(y, mo) {
        return None;
    }
    let mut ticks = (days_from_civil(y, mo, d)) * DAY;
    let mut i = 10;
    if matches!(b.get(i), Some(b'T') | Some(b't') | Some(b' ')) && b.len() > i + 1 {
        let h = digits(b, i + 1, 2)?;
        if b.get(i + 3) != Some(&b':') {
            return None;
        }
        let mi = digits(b, i + 4, 2)?;
        i += 6;
        let mut s = 0;
        if b.get(i) == Some(&b':') {
            s = digits(b, i + 1, 2)?;
            i += 3;
        }
        if h > 23 || mi > 59 || s > 59 {
            return None;
        }
        ticks += h * HOUR + mi * MINUTE + s * SECOND;
        if b.get(i) == Some(&b'.') {
            i += 1;
            let mut frac = 0i64;
            let mut n = 0;
            while let Some(c) = b.get(i) {
                if !c.is_ascii_digit() {
                    break;
                }
                if n < 7 {
                    frac = frac * 10 + i64::from(c - b'0');
                    n += 1;
                }
                i += 1;
            }
            if n == 0 {
                return None;
            }
            for _ in n..7 {
                frac *= 10;
            }
            ticks += frac;
        }
        match b.get(i) {
            None => {}
            Some(b'Z') | Some(b'z') if i + 1 == b.len() => {}
            Some(&sign @ (b'+' | b'-')) => {
                let oh = digits(b, i + 1, 2)?;
                let om = match b.get(i + 3) {
                    Some(b':') if b.len() == i + 6 => digits(b, i + 4, 2)?,
                    Some(_) if b.len() == i + 5 => digits(b, i + 3, 2)?,
                    None => 0,
                    _ => return None,
                };
                if oh > 23 || om > 59 {
                    return None;
                }
                let off = oh * HOUR + om * MINUTE;
                ticks += if sign == b'+' { -off } else { off };
            }
            _ => return None,
        }
    } else if i != b.len() {
        return None;
    }
    Some(ticks + UNIX_EPOCH)
}

/// What sampled values say about a column's type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Guess {
    /// Only nulls / empty text seen so far.
    Unknown,
    Known(Type),
}

impl Guess {
    /// Widens with one more observation: long+real -> real; any other
    /// conflict -> string.
    pub(crate) fn add(self, t: Type) -> Guess {
        match self {
            Guess::Unknown => Guess::Known(t),
            Guess::Known(a) if a == t => self,
            Guess::Known(Type::Long) if t == Type::Real => Guess::Known(Type::Real),
            Guess::Known(Type::Real) if t == Type::Long => self,
            Guess::Known(_) => Guess::Known(Type::String),
        }
    }

    /// The final type: a column with no non-null sample is `string`.
    pub(crate) fn ty(self) -> Type {
        match self {
            Guess::Unknown => Type::String,
            Guess::Known(t) => t,
        }
    }
}

/// The type a piece of text suggests (CSV fields, JSON strings). `None` for
/// empty text. JSON strings only ever suggest `datetime` or `string`.
pub(crate) fn guess_text(s: &str, from_json_string: bool) -> Option<Type> {
    let t = s.trim();
    if t.is_empty() {
        return None;
    }
    if parse_iso_datetime(t.as_bytes()).is_some() {
        return Some(Type::DateTime);
    }
    if from_json_string {
        return Some(Type::String);
    }
    if t.eq_ignore_ascii_case("true") || t.eq_ignore_ascii_case("false") {
        return Some(Type::Bool);
    }
    if t.parse::<i64>().is_ok() {
        return Some(Type::Long);
    }
    if looks_numeric(t.as_bytes()) && t.parse::<f64>().is_ok() {
        return Some(Type::Real);
    }
    if (t.starts_with('{') || t.starts_with('['))
        && serde_json::from_str::<serde_json::Value>(t).is_ok()
    {
        return Some(Type::Dynamic);
    }
    Some(Type::String)
}

/// The type a JSON number suggests.
pub(crate) fn guess_json_number(raw: &str) -> Type {
    if raw.parse::<i64>().is_ok() {
        Type::Long
    } else {
        Type::Real
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_datetimes() {
        let base = parse_iso_datetime(b"2024-05-01T00:00:00Z").unwrap_or_default();
        let cases: &[(&str, Option<i64>)] = &[
            (
                "2024-05-01T10:01:00.1234567Z",
                Some(base + 10 * HOUR + MINUTE + 1_234_567),
            ),
            (
                "2024-05-01T10:01:00.123Z",
                Some(base + 10 * HOUR + MINUTE + 1_230_000),
            ),
            ("2024-05-01 10:01", Some(base + 10 * HOUR + MINUTE)),
            ("2024-05-01", Some(base)),
            ("2024-05-01T02:00:00+02:00", Some(base)),
            ("2024-05-01T02:00:00+0200", Some(base)),
            ("2024-05-01T00:00:00.123456789Z", Some(base + 1_234_567)),
            ("2024-02-30", None),
            ("2024-13-01", None),
            ("2024-05-01T25:00", None),
            ("2024-05-01X", None),
            ("20240501", None),
            ("hello", None),
            ("", None),
        ];
        for (text, want) in cases {
            assert_eq!(parse_iso_datetime(text.as_bytes()), *want, "input {text:?}");
        }
        // 1970-01-01 is the Unix epoch.
        assert_eq!(
            parse_iso_datetime(b"1970-01-01T00:00:00Z"),
            Some(UNIX_EPOCH)
        );
        assert_eq!(parse_iso_datetime(b"0001-01-01T00:00:00Z"), Some(0));
    }

    #[test]
    fn fast_path_agrees_with_the_engine_parser() {
        for text in [
            "2024-05-01T10:01:00.1234567Z",
            "2024-05-01T10:01:00Z",
            "2024-05-01 10:01:00",
            "2024-05-01T10:01",
            "2024-05-01",
            "2024-02-29T23:59:59.9999999Z",
            "1999-12-31T23:00:00+02:00",
            "2024-05-01T10:01:00.5-0130",
        ] {
            assert_eq!(
                parse_iso_datetime(text.as_bytes()),
                crate::time::parse_datetime(text),
                "input {text}"
            );
        }
    }

    #[test]
    fn text_conversions_null_on_failure() {
        let cases: &[(Type, &str, Value)] = &[
            (Type::Long, "42", Value::Long(42)),
            (Type::Long, " 42 ", Value::Long(42)),
            (Type::Long, "4.2", Value::Null),
            (Type::Long, "", Value::Null),
            (Type::Int, "99999999999", Value::Null),
            (Type::Real, "1.5e3", Value::Real(1500.0)),
            (Type::Real, "abc", Value::Null),
            (Type::Bool, "TRUE", Value::Bool(true)),
            (Type::Bool, "0", Value::Bool(false)),
            (Type::Bool, "yes", Value::Null),
            (Type::String, "", Value::string("")),
            (Type::String, " x ", Value::string(" x ")),
            (Type::DateTime, "not a date", Value::Null),
            (
                Type::Dynamic,
                "{\"a\":1}",
                Value::dynamic(serde_json::json!({"a":1})),
            ),
            (
                Type::Dynamic,
                "plain",
                Value::dynamic(serde_json::json!("plain")),
            ),
            (Type::Dynamic, "null", Value::Null),
        ];
        for (ty, text, want) in cases {
            assert_eq!(&from_text(*ty, text), want, "input {text:?} as {ty}");
        }
    }

    #[test]
    fn guesses_widen() {
        let g = Guess::Unknown.add(Type::Long).add(Type::Real);
        assert_eq!(g.ty(), Type::Real);
        let g = Guess::Unknown.add(Type::Long).add(Type::Bool);
        assert_eq!(g.ty(), Type::String);
        assert_eq!(Guess::Unknown.ty(), Type::String);
        let cases: &[(&str, Option<Type>)] = &[
            ("12", Some(Type::Long)),
            ("-1.5", Some(Type::Real)),
            ("true", Some(Type::Bool)),
            ("2024-05-01T10:00:00Z", Some(Type::DateTime)),
            ("{\"a\":1}", Some(Type::Dynamic)),
            ("[1,2]", Some(Type::Dynamic)),
            ("host1", Some(Type::String)),
            ("1.2.3.4", Some(Type::String)),
            ("inf", Some(Type::String)),
            ("", None),
        ];
        for (text, want) in cases {
            assert_eq!(guess_text(text, false), *want, "input {text:?}");
        }
    }
}
