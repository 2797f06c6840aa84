//! datetime and timespan: ticks, parsing, printing and civil-calendar
//! helpers. Pure arithmetic on 100 ns ticks; no clock lives here (`now` is
//! the caller's).

use time::{Date, Month};

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
/// The last valid tick (9999-12-31T23:59:59.9999999).
pub const MAX_TICKS: i64 = 3_155_378_975_999_999_999;

/// Julian day number of 0001-01-01 (proleptic Gregorian).
const JD_0001: i64 = 1_721_426;

/// A broken-down UTC instant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Civil {
    pub year: i32,
    /// 1..=12
    pub month: u8,
    /// 1..=31
    pub day: u8,
    pub hour: u8,
    pub minute: u8,
    pub second: u8,
    /// 0..10_000_000 ticks within the second.
    pub frac: u32,
}

/// Days since 0001-01-01 of a calendar date (`None` if invalid).
pub fn days_from_civil(year: i32, month: u8, day: u8) -> Option<i64> {
    let m = Month::try_from(month).ok()?;
    let d = Date::from_calendar_date(year, m, day).ok()?;
    Some(i64::from(d.to_julian_day()) - JD_0001)
}

/// Calendar date of a day number since 0001-01-01.
pub fn civil_from_days(days: i64) -> Option<(i32, u8, u8)> {
    let jd = i32::try_from(days + JD_0001).ok()?;
    let d = Date::from_julian_day(jd).ok()?;
    Some((d.year(), u8::from(d.month()), d.day()))
}

/// Breaks ticks into a UTC civil time (`None` when out of range).
pub fn to_civil(ticks: i64) -> Option<Civil> {
    let days = ticks.div_euclid(DAY);
    let rem = ticks.rem_euclid(DAY);
    let (year, month, day) = civil_from_days(days)?;
    Some(Civil {
        year,
        month,
        day,
        hour: (rem / HOUR) as u8,
        minute: (rem % HOUR / MINUTE) as u8,
        second: (rem % MINUTE / SECOND) as u8,
        frac: (rem % SECOND) as u32,
    })
}

/// Ticks of a civil time (`None` if any part is out of range).
pub fn from_civil(c: &Civil) -> Option<i64> {
    if c.hour > 23 || c.minute > 59 || c.second > 59 || c.frac >= SECOND as u32 {
        return None;
    }
    let days = days_from_civil(c.year, c.month, c.day)?;
    let t = days * DAY
        + i64::from(c.hour) * HOUR
        + i64::from(c.minute) * MINUTE
        + i64::from(c.second) * SECOND
        + i64::from(c.frac);
    in_range(t)
}

/// `Some(t)` when `t` is a representable datetime.
pub fn in_range(t: i64) -> Option<i64> {
    (0..=MAX_TICKS).contains(&t).then_some(t)
}

/// Day of week, 0 = Sunday.
pub fn weekday(ticks: i64) -> i64 {
    // 0001-01-01 was a Monday.
    (ticks.div_euclid(DAY) + 1).rem_euclid(7)
}

/// Number of days in a month.
pub fn days_in_month(year: i32, month: u8) -> u8 {
    match Month::try_from(month) {
        Ok(m) => time::util::days_in_month(m, year),
        Err(_) => 30,
    }
}

/// Adds calendar months, clamping the day to the month's length (as .NET's
/// `AddMonths`).
pub fn add_months(ticks: i64, months: i64) -> Option<i64> {
    let c = to_civil(ticks)?;
    let total = (i64::from(c.year) * 12 + i64::from(c.month) - 1).checked_add(months)?;
    let year = i32::try_from(total.div_euclid(12)).ok()?;
    let month = (total.rem_euclid(12) + 1) as u8;
    if !(1..=9999).contains(&year) {
        return None;
    }
    let day = c.day.min(days_in_month(year, month));
    from_civil(&Civil {
        year,
        month,
        day,
        ..c
    })
}

const MONTHS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];

fn month_from_name(s: &str) -> Option<u8> {
    let l = s.to_ascii_lowercase();
    if l.len() < 3 {
        return None;
    }
    let full = [
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
    ];
    for (i, m) in MONTHS.iter().enumerate() {
        if l == *m || full.get(i).is_some_and(|f| *f == l) || (l == "sept" && i == 8) {
            return Some(i as u8 + 1);
        }
    }
    None
}

/// A small cursor over ASCII text.
struct Cur<'a> {
    s: &'a [u8],
    i: usize,
}

impl Cur<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }
    fn eat(&mut self, b: u8) -> bool {
        if self.peek() == Some(b) {
            self.i += 1;
            true
        } else {
            false
        }
    }
    fn done(&self) -> bool {
        self.i >= self.s.len()
    }
    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.i += 1;
        }
    }
    /// Up to `max` digits; returns (value, count).
    fn digits(&mut self, max: usize) -> Option<(i64, usize)> {
        let start = self.i;
        let mut v: i64 = 0;
        while self.i - start < max {
            match self.peek() {
                Some(c @ b'0'..=b'9') => {
                    v = v * 10 + i64::from(c - b'0');
                    self.i += 1;
                }
                _ => break,
            }
        }
        let n = self.i - start;
        (n > 0).then_some((v, n))
    }
    fn word(&mut self) -> &str {
        let start = self.i;
        while self.peek().is_some_and(|c| c.is_ascii_alphabetic()) {
            self.i += 1;
        }
        std::str::from_utf8(&self.s[start..self.i]).unwrap_or("")
    }
}

/// Fraction digits after the `.`: to ticks (extra digits beyond 7 are
/// truncated).
fn fraction(c: &mut Cur) -> Option<u32> {
    let start = c.i;
    let mut v: u32 = 0;
    let mut n = 0;
    while let Some(d @ b'0'..=b'9') = c.peek() {
        if n < 7 {
            v = v * 10 + u32::from(d - b'0');
            n += 1;
        }
        c.i += 1;
    }
    if c.i == start {
        return None;
    }
    while n < 7 {
        v *= 10;
        n += 1;
    }
    Some(v)
}

/// `hh:mm[:ss[.f]]` (and an optional `AM`/`PM`).
fn time_of_day(c: &mut Cur) -> Option<(u8, u8, u8, u32)> {
    let (h, _) = c.digits(2)?;
    if !c.eat(b':') {
        return None;
    }
    let (m, _) = c.digits(2)?;
    let mut s = 0;
    let mut f = 0;
    if c.eat(b':') {
        s = c.digits(2)?.0;
        if c.eat(b'.') || c.eat(b',') {
            f = fraction(c)?;
        }
    }
    let mut h = h;
    let save = c.i;
    c.skip_ws();
    let w = c.word().to_ascii_lowercase();
    match w.as_str() {
        "am" if h <= 12 => {
            if h == 12 {
                h = 0
            }
        }
        "pm" if h <= 12 => {
            if h < 12 {
                h += 12
            }
        }
        _ => c.i = save,
    }
    Some((h as u8, m as u8, s as u8, f))
}

/// Trailing zone: `Z`, `UTC`, `GMT`, `+hh:mm`, `+hhmm`, `-hh`. Returns the
/// offset in ticks to subtract.
fn zone(c: &mut Cur) -> Option<i64> {
    c.skip_ws();
    match c.peek() {
        None => Some(0),
        Some(b'Z' | b'z') => {
            c.i += 1;
            Some(0)
        }
        Some(sign @ (b'+' | b'-')) => {
            c.i += 1;
            let (hh, n) = c.digits(4)?;
            let (h, m) = if n > 2 {
                (hh / 100, hh % 100)
            } else if c.eat(b':') {
                (hh, c.digits(2)?.0)
            } else {
                (hh, 0)
            };
            if h > 14 || m > 59 {
                return None;
            }
            let off = h * HOUR + m * MINUTE;
            Some(if sign == b'+' { off } else { -off })
        }
        Some(_) => {
            let w = c.word().to_ascii_uppercase();
            match w.as_str() {
                "UTC" | "GMT" | "UT" | "Z" => {
                    if c.peek().is_some_and(|b| b == b'+' || b == b'-') {
                        zone(c)
                    } else {
                        Some(0)
                    }
                }
                _ => None,
            }
        }
    }
}

/// Parses datetime text (`2024-01-01`, `2024-01-01 10:30`,
/// `2024-01-01T10:30:00.1234567Z`, offsets, `12-02-2022` (month first),
/// `2024/01/01`, RFC 1123 `Mon, 01 Jan 2024 10:00:00 GMT`...) to ticks.
pub fn parse_datetime(text: &str) -> Option<i64> {
    let t = text.trim();
    if t.is_empty() || !t.is_ascii() {
        return None;
    }
    let mut c = Cur {
        s: t.as_bytes(),
        i: 0,
    };
    let (year, month, day) = if c.peek().is_some_and(|b| b.is_ascii_digit()) {
        let (a, na) = c.digits(4)?;
        let sep = c.peek()?;
        if sep == b' ' {
            // `01 Jan 2024` style
            c.skip_ws();
            let m = month_from_name(c.word())?;
            c.skip_ws();
            let (y, ny) = c.digits(4)?;
            (two_digit_year(y, ny), m, a as u8)
        } else {
            if !matches!(sep, b'-' | b'/' | b'.') {
                return None;
            }
            c.i += 1;
            let (b, _) = c.digits(2)?;
            if !c.eat(sep) {
                return None;
            }
            let (d, nd) = c.digits(4)?;
            if na == 4 {
                (a as i32, b as u8, d as u8)
            } else if nd == 4 {
                // month-day-year, as .NET's invariant culture reads it
                (d as i32, a as u8, b as u8)
            } else {
                return None;
            }
        }
    } else {
        // RFC 1123 / 822: `[Mon,] 01 Jan 2024 10:00:00 GMT` or `Jan 01 2024`
        let save = c.i;
        let w = c.word().to_string();
        if w.is_empty() {
            return None;
        }
        if month_from_name(&w).is_none() {
            // weekday name
            c.eat(b',');
            c.skip_ws();
        } else {
            c.i = save;
        }
        if c.peek().is_some_and(|b| b.is_ascii_digit()) {
            let (d, _) = c.digits(2)?;
            c.skip_ws();
            c.eat(b'-');
            let m = month_from_name(c.word())?;
            c.skip_ws();
            c.eat(b'-');
            let (y, ny) = c.digits(4)?;
            (two_digit_year(y, ny), m, d as u8)
        } else {
            let m = month_from_name(c.word())?;
            c.skip_ws();
            let (d, _) = c.digits(2)?;
            c.eat(b',');
            c.skip_ws();
            let (y, ny) = c.digits(4)?;
            (two_digit_year(y, ny), m, d as u8)
        }
    };
    let mut civil = Civil {
        year,
        month,
        day,
        hour: 0,
        minute: 0,
        second: 0,
        frac: 0,
    };
    let mut offset = 0;
    if !c.done() {
        let had_t = c.eat(b'T') || c.eat(b't');
        if !had_t {
            c.skip_ws();
        }
        if c.peek().is_some_and(|b| b.is_ascii_digit()) {
            let (h, m, s, f) = time_of_day(&mut c)?;
            civil.hour = h;
            civil.minute = m;
            civil.second = s;
            civil.frac = f;
        } else if had_t {
            return None;
        }
        offset = zone(&mut c)?;
        c.skip_ws();
        if !c.done() {
            return None;
        }
    }
    let t = from_civil(&civil)?;
    in_range(t - offset)
}

fn two_digit_year(y: i64, n: usize) -> i32 {
    if n <= 2 {
        // .NET's two-digit-year window (2029 cut-off)
        if y < 30 {
            2000 + y as i32
        } else {
            1900 + y as i32
        }
    } else {
        y as i32
    }
}

/// `2024-01-01T00:00:00Z`, with 7 fractional digits when non-zero.
pub fn format_datetime(ticks: i64) -> String {
    match to_civil(ticks) {
        Some(c) => {
            let mut s = format!(
                "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
                c.year, c.month, c.day, c.hour, c.minute, c.second
            );
            if c.frac != 0 {
                s.push_str(&format!(".{:07}", c.frac));
            }
            s.push('Z');
            s
        }
        None => String::new(),
    }
}

/// Unit suffixes of timespan literals, longest first where prefixes clash.
const UNITS: &[(&str, i64)] = &[
    ("d", DAY),
    ("day", DAY),
    ("days", DAY),
    ("h", HOUR),
    ("hr", HOUR),
    ("hrs", HOUR),
    ("hour", HOUR),
    ("hours", HOUR),
    ("m", MINUTE),
    ("min", MINUTE),
    ("mins", MINUTE),
    ("minute", MINUTE),
    ("minutes", MINUTE),
    ("s", SECOND),
    ("sec", SECOND),
    ("secs", SECOND),
    ("second", SECOND),
    ("seconds", SECOND),
    ("ms", MILLISECOND),
    ("milli", MILLISECOND),
    ("millis", MILLISECOND),
    ("millisec", MILLISECOND),
    ("millisecond", MILLISECOND),
    ("milliseconds", MILLISECOND),
    ("micro", MICROSECOND),
    ("micros", MICROSECOND),
    ("microsec", MICROSECOND),
    ("microsecond", MICROSECOND),
    ("microseconds", MICROSECOND),
    ("tick", TICK),
    ("ticks", TICK),
];

/// Ticks for a timespan unit name (`d`, `hours`, `ms`, `tick`...).
pub fn timespan_unit(name: &str) -> Option<i64> {
    UNITS
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, t)| *t)
}

/// Parses `[-][d.]hh:mm[:ss[.fffffff]]` and the literal forms `5d`, `1.5h`,
/// `100ms`, `10microsecond`, `1tick`, a bare number (days).
pub fn parse_timespan(text: &str) -> Option<i64> {
    let t = text.trim();
    let (neg, body) = match t.strip_prefix('-') {
        Some(rest) => (true, rest.trim_start()),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    if body.is_empty() || !body.is_ascii() {
        return None;
    }
    let v = if body.contains(':') {
        clock_span(body)?
    } else {
        let split = body
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(body.len());
        let (num, unit) = body.split_at(split);
        let unit = unit.trim();
        let mult = if unit.is_empty() {
            DAY
        } else {
            timespan_unit(unit)?
        };
        scaled(num, mult)?
    };
    Some(if neg { -v } else { v })
}

/// `num * mult` for a decimal `num` like `1.5`, rounded to the tick.
fn scaled(num: &str, mult: i64) -> Option<i64> {
    if num.is_empty() || num.matches('.').count() > 1 || num == "." {
        return None;
    }
    let (int, frac) = num.split_once('.').unwrap_or((num, ""));
    let i: i64 = if int.is_empty() { 0 } else { int.parse().ok()? };
    let mut v = i.checked_mul(mult)?;
    if !frac.is_empty() {
        let digits = &frac[..frac.len().min(18)];
        let f: i128 = digits.parse().ok()?;
        let scale = 10i128.pow(digits.len() as u32);
        let add = (f * i128::from(mult) + scale / 2) / scale;
        v = v.checked_add(i64::try_from(add).ok()?)?;
    }
    Some(v)
}

/// `[d.]hh:mm[:ss[.fffffff]]`
fn clock_span(body: &str) -> Option<i64> {
    let mut c = Cur {
        s: body.as_bytes(),
        i: 0,
    };
    let (first, _) = c.digits(9)?;
    let (days, h) = if c.eat(b'.') {
        (first, c.digits(2)?.0)
    } else {
        (0, first)
    };
    if !c.eat(b':') {
        return None;
    }
    let (m, _) = c.digits(2)?;
    let mut s = 0;
    let mut f = 0;
    if c.eat(b':') {
        s = c.digits(2)?.0;
        if c.eat(b'.') {
            f = fraction(&mut c)?;
        }
    }
    if !c.done() || h > 23 || m > 59 || s > 59 {
        return None;
    }
    days.checked_mul(DAY)?
        .checked_add(h * HOUR + m * MINUTE + s * SECOND + i64::from(f))
}

/// `[-][d.]hh:mm:ss[.fffffff]`
pub fn format_timespan(ticks: i64) -> String {
    let neg = ticks < 0;
    let a = ticks.unsigned_abs();
    let day = DAY as u64;
    let days = a / day;
    let rem = a % day;
    let h = rem / HOUR as u64;
    let m = rem % HOUR as u64 / MINUTE as u64;
    let s = rem % MINUTE as u64 / SECOND as u64;
    let f = rem % SECOND as u64;
    let mut out = String::with_capacity(20);
    if neg {
        out.push('-');
    }
    if days > 0 {
        out.push_str(&format!("{days}."));
    }
    out.push_str(&format!("{h:02}:{m:02}:{s:02}"));
    if f != 0 {
        out.push_str(&format!(".{f:07}"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dt(y: i32, mo: u8, d: u8, h: u8, mi: u8, s: u8, frac: u32) -> i64 {
        from_civil(&Civil {
            year: y,
            month: mo,
            day: d,
            hour: h,
            minute: mi,
            second: s,
            frac,
        })
        .unwrap_or(-1)
    }

    #[test]
    fn epoch_constant() {
        assert_eq!(dt(1970, 1, 1, 0, 0, 0, 0), UNIX_EPOCH);
        assert_eq!(dt(9999, 12, 31, 23, 59, 59, 9_999_999), MAX_TICKS);
    }

    #[test]
    fn parse_datetime_table() {
        let cases: &[(&str, Option<i64>)] = &[
            ("2024-01-01", Some(dt(2024, 1, 1, 0, 0, 0, 0))),
            ("2024-01-01 10:30", Some(dt(2024, 1, 1, 10, 30, 0, 0))),
            ("2024-01-01T10:30:00Z", Some(dt(2024, 1, 1, 10, 30, 0, 0))),
            (
                "2024-01-01T10:30:00.1234567Z",
                Some(dt(2024, 1, 1, 10, 30, 0, 1_234_567)),
            ),
            (
                "2024-01-01T10:30:00.12345678Z",
                Some(dt(2024, 1, 1, 10, 30, 0, 1_234_567)),
            ),
            (
                "2017-10-30 23:00:00.200100",
                Some(dt(2017, 10, 30, 23, 0, 0, 2_001_000)),
            ),
            (
                "2024-01-01T12:00:00+02:00",
                Some(dt(2024, 1, 1, 10, 0, 0, 0)),
            ),
            (
                "2024-01-01T12:00:00-0130",
                Some(dt(2024, 1, 1, 13, 30, 0, 0)),
            ),
            ("1970-5-12", Some(dt(1970, 5, 12, 0, 0, 0, 0))),
            ("2018-02-24T15:14", Some(dt(2018, 2, 24, 15, 14, 0, 0))),
            ("12-02-2022", Some(dt(2022, 12, 2, 0, 0, 0, 0))),
            ("2024/03/05", Some(dt(2024, 3, 5, 0, 0, 0, 0))),
            (
                "Mon, 01 Jan 2024 10:00:00 GMT",
                Some(dt(2024, 1, 1, 10, 0, 0, 0)),
            ),
            (
                "01 Jan 2024 10:00:00 GMT",
                Some(dt(2024, 1, 1, 10, 0, 0, 0)),
            ),
            (
                "Sat, 28 Nov 26 10:00:00 GMT",
                Some(dt(2026, 11, 28, 10, 0, 0, 0)),
            ),
            ("2024-01-01 10:00:00 PM", Some(dt(2024, 1, 1, 22, 0, 0, 0))),
            ("not a date", None),
            ("", None),
            ("2024-13-01", None),
            ("2024-02-30", None),
            ("2024-01-01T25:00", None),
            ("2024-01-01 junk", None),
        ];
        for (text, want) in cases {
            assert_eq!(parse_datetime(text), *want, "parse_datetime({text:?})");
        }
    }

    #[test]
    fn format_datetime_table() {
        let cases = [
            (dt(2024, 1, 1, 0, 0, 0, 0), "2024-01-01T00:00:00Z"),
            (
                dt(2016, 12, 31, 23, 59, 59, 9_999_999),
                "2016-12-31T23:59:59.9999999Z",
            ),
            (
                dt(2024, 1, 1, 0, 0, 0, 1_000_000),
                "2024-01-01T00:00:00.1000000Z",
            ),
            (0, "0001-01-01T00:00:00Z"),
        ];
        for (t, want) in cases {
            assert_eq!(format_datetime(t), want, "format_datetime({t})");
            assert_eq!(parse_datetime(want), Some(t), "roundtrip {want}");
        }
    }

    #[test]
    fn parse_timespan_table() {
        let cases: &[(&str, Option<i64>)] = &[
            ("5d", Some(5 * DAY)),
            ("1h", Some(HOUR)),
            ("30m", Some(30 * MINUTE)),
            ("10s", Some(10 * SECOND)),
            ("100ms", Some(100 * MILLISECOND)),
            ("1.5h", Some(90 * MINUTE)),
            ("2min", Some(2 * MINUTE)),
            ("3sec", Some(3 * SECOND)),
            ("10microsecond", Some(100)),
            ("1tick", Some(1)),
            ("2ticks", Some(2)),
            ("2", Some(2 * DAY)),
            ("0.5", Some(12 * HOUR)),
            ("-90m", Some(-90 * MINUTE)),
            ("3 hours", Some(3 * HOUR)),
            (
                "0.12:34:56.7",
                Some(12 * HOUR + 34 * MINUTE + 56 * SECOND + 7_000_000),
            ),
            ("01:30:00", Some(90 * MINUTE)),
            ("1.00:00:00", Some(DAY)),
            ("-12:00:00", Some(-12 * HOUR)),
            ("00:00:00.1000000", Some(1_000_000)),
            ("10:30", Some(10 * HOUR + 30 * MINUTE)),
            ("5w", None),
            ("abc", None),
            ("", None),
            ("1.2.3h", None),
        ];
        for (text, want) in cases {
            assert_eq!(parse_timespan(text), *want, "parse_timespan({text:?})");
        }
    }

    #[test]
    fn format_timespan_table() {
        let cases = [
            (DAY, "1.00:00:00"),
            (90 * MINUTE, "01:30:00"),
            (-12 * HOUR, "-12:00:00"),
            (1_000_000, "00:00:00.1000000"),
            (1, "00:00:00.0000001"),
            (29 * DAY, "29.00:00:00"),
            (-DAY, "-1.00:00:00"),
            (0, "00:00:00"),
            (
                12 * HOUR + 34 * MINUTE + 56 * SECOND + 7_000_000,
                "12:34:56.7000000",
            ),
        ];
        for (t, want) in cases {
            assert_eq!(format_timespan(t), want, "format_timespan({t})");
            assert_eq!(parse_timespan(want), Some(t), "roundtrip {want}");
        }
    }

    #[test]
    fn calendar_helpers() {
        // 1970-05-12 was a Tuesday.
        assert_eq!(weekday(dt(1970, 5, 12, 0, 0, 0, 0)), 2);
        assert_eq!(weekday(dt(2017, 1, 1, 10, 0, 0, 0)), 0);
        assert_eq!(
            add_months(dt(2024, 1, 31, 0, 0, 0, 0), 1),
            Some(dt(2024, 2, 29, 0, 0, 0, 0))
        );
        assert_eq!(
            add_months(dt(2017, 1, 1, 0, 0, 0, 0), -15),
            Some(dt(2015, 10, 1, 0, 0, 0, 0))
        );
    }
}
