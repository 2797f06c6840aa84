//! Date and time builtins: `bin`/`bin_at`, `startof*`/`endof*`, calendar
//! parts, `datetime_add`/`datetime_diff`/`datetime_part`, formatting,
//! `make_datetime`/`make_timespan` and unix-time conversions. `now`/`ago`
//! are not here (the planner owns the query's fixed `now`).

use super::ops::normalize;
use super::{arg, arg_dt, arg_f64, arg_i64, arg_str, ArgInfo};
use crate::time::{self, Civil, DAY, HOUR, MICROSECOND, MILLISECOND, MINUTE, SECOND};
use crate::value::{Type, Value};

type R = Result<Value, String>;

fn dtv(t: Option<i64>) -> R {
    Ok(t.and_then(time::in_range)
        .map(Value::DateTime)
        .unwrap_or(Value::Null))
}

fn int(v: Option<i64>) -> R {
    Ok(v.map(|v| Value::Int(v as i32)).unwrap_or(Value::Null))
}

pub fn bin_ret(a: &[ArgInfo]) -> Result<Type, String> {
    let first = a.first().map(|x| x.ty).ok_or("missing argument")?;
    let size = a.get(1).map(|x| x.ty).unwrap_or(first);
    Ok(match (first, size) {
        (Type::Int | Type::Long, Type::Real) => Type::Real,
        (Type::Int | Type::Long, _) => Type::Long,
        (Type::Real | Type::Decimal, _) => first,
        (Type::DateTime | Type::TimeSpan, _) => first,
        (Type::Dynamic, _) => Type::Dynamic,
        (other, _) => return Err(format!("bin() cannot bin a {other}")),
    })
}

fn floor_ticks(t: i64, size: i64) -> Option<i64> {
    if size <= 0 {
        return None;
    }
    t.checked_sub(t.rem_euclid(size))
}

fn bin_value(x: &Value, size: &Value) -> Value {
    let x = normalize(x);
    let size = normalize(size);
    match (&*x, &*size) {
        (Value::Null, _) | (_, Value::Null) => Value::Null,
        (Value::DateTime(t), Value::TimeSpan(s)) => floor_ticks(*t, *s)
            .map(Value::DateTime)
            .unwrap_or(Value::Null),
        (Value::TimeSpan(t), Value::TimeSpan(s)) => floor_ticks(*t, *s)
            .map(Value::TimeSpan)
            .unwrap_or(Value::Null),
        (Value::DateTime(t), Value::Long(_) | Value::Int(_) | Value::Real(_)) => {
            // a numeric bin size for a datetime means days? Kusto wants a
            // timespan; treat a number as ticks for robustness.
            match super::ops::cast(&size, Type::Long) {
                Value::Long(s) => floor_ticks(*t, s)
                    .map(Value::DateTime)
                    .unwrap_or(Value::Null),
                _ => Value::Null,
            }
        }
        (Value::Int(_) | Value::Long(_), Value::Int(_) | Value::Long(_)) => {
            let (Value::Long(v), Value::Long(s)) = (
                super::ops::cast(&x, Type::Long),
                super::ops::cast(&size, Type::Long),
            ) else {
                return Value::Null;
            };
            if s <= 0 {
                return Value::Null;
            }
            v.div_euclid(s)
                .checked_mul(s)
                .map(Value::Long)
                .unwrap_or(Value::Null)
        }
        (Value::Decimal(d), _) => match super::ops::cast(&size, Type::Decimal) {
            Value::Decimal(s) if s > rust_decimal::Decimal::ZERO => {
                Value::Decimal((d / s).floor() * s)
            }
            _ => Value::Null,
        },
        _ => {
            let (Value::Real(v), Value::Real(s)) = (
                super::ops::cast(&x, Type::Real),
                super::ops::cast(&size, Type::Real),
            ) else {
                return Value::Null;
            };
            if s <= 0.0 || !s.is_finite() {
                return Value::Null;
            }
            Value::Real((v / s).floor() * s)
        }
    }
}

pub fn bin(a: &[Value]) -> R {
    Ok(bin_value(arg(a, 0), arg(a, 1)))
}

pub fn bin_at(a: &[Value]) -> R {
    let (x, size, anchor) = (normalize(arg(a, 0)), arg(a, 1), normalize(arg(a, 2)));
    Ok(match (&*x, &*anchor) {
        (Value::Null, _) | (_, Value::Null) => Value::Null,
        (Value::DateTime(t), Value::DateTime(an)) => {
            match bin_value(
                &t.checked_sub(*an).map(Value::TimeSpan).unwrap_or_default(),
                size,
            ) {
                Value::TimeSpan(d) => d.checked_add(*an).map(Value::DateTime).unwrap_or_default(),
                _ => Value::Null,
            }
        }
        (Value::TimeSpan(t), Value::TimeSpan(an)) => {
            match bin_value(
                &t.checked_sub(*an).map(Value::TimeSpan).unwrap_or_default(),
                size,
            ) {
                Value::TimeSpan(d) => d.checked_add(*an).map(Value::TimeSpan).unwrap_or_default(),
                _ => Value::Null,
            }
        }
        (Value::Int(_) | Value::Long(_), Value::Int(_) | Value::Long(_)) => {
            let (Value::Long(v), Value::Long(an)) = (
                super::ops::cast(&x, Type::Long),
                super::ops::cast(&anchor, Type::Long),
            ) else {
                return Ok(Value::Null);
            };
            match bin_value(
                &v.checked_sub(an).map(Value::Long).unwrap_or_default(),
                size,
            ) {
                Value::Long(d) => d.checked_add(an).map(Value::Long).unwrap_or_default(),
                _ => Value::Null,
            }
        }
        _ => {
            let (Value::Real(v), Value::Real(an)) = (
                super::ops::cast(&x, Type::Real),
                super::ops::cast(&anchor, Type::Real),
            ) else {
                return Ok(Value::Null);
            };
            match bin_value(&Value::Real(v - an), size) {
                Value::Real(d) => Value::Real(d + an),
                _ => Value::Null,
            }
        }
    })
}

fn offset(a: &[Value]) -> Option<i64> {
    if a.len() > 1 {
        arg_i64(a, 1)
    } else {
        Some(0)
    }
}

fn start_of_day(t: i64, off: i64) -> Option<i64> {
    (t.div_euclid(DAY) * DAY).checked_add(off.checked_mul(DAY)?)
}

fn start_of_week(t: i64, off: i64) -> Option<i64> {
    let day = t.div_euclid(DAY) * DAY;
    (day - time::weekday(t) * DAY).checked_add(off.checked_mul(7 * DAY)?)
}

fn start_of_month(t: i64, off: i64) -> Option<i64> {
    let c = time::to_civil(t)?;
    let first = time::from_civil(&Civil {
        year: c.year,
        month: c.month,
        day: 1,
        hour: 0,
        minute: 0,
        second: 0,
        frac: 0,
    })?;
    time::add_months(first, off)
}

fn start_of_year(t: i64, off: i64) -> Option<i64> {
    let c = time::to_civil(t)?;
    time::from_civil(&Civil {
        year: c.year.checked_add(i32::try_from(off).ok()?)?,
        month: 1,
        day: 1,
        hour: 0,
        minute: 0,
        second: 0,
        frac: 0,
    })
}

fn start_fn(a: &[Value], f: fn(i64, i64) -> Option<i64>, end: bool) -> R {
    let (Some(t), Some(off)) = (arg_dt(a, 0), offset(a)) else {
        return Ok(Value::Null);
    };
    if end {
        dtv(f(t, off.saturating_add(1)).map(|x| x - 1))
    } else {
        dtv(f(t, off))
    }
}

pub fn startofday(a: &[Value]) -> R {
    start_fn(a, start_of_day, false)
}
pub fn startofweek(a: &[Value]) -> R {
    start_fn(a, start_of_week, false)
}
pub fn startofmonth(a: &[Value]) -> R {
    start_fn(a, start_of_month, false)
}
pub fn startofyear(a: &[Value]) -> R {
    start_fn(a, start_of_year, false)
}
pub fn endofday(a: &[Value]) -> R {
    start_fn(a, start_of_day, true)
}
pub fn endofweek(a: &[Value]) -> R {
    start_fn(a, start_of_week, true)
}
pub fn endofmonth(a: &[Value]) -> R {
    start_fn(a, start_of_month, true)
}
pub fn endofyear(a: &[Value]) -> R {
    start_fn(a, start_of_year, true)
}

fn civil(a: &[Value]) -> Option<Civil> {
    time::to_civil(arg_dt(a, 0)?)
}

pub fn dayofweek(a: &[Value]) -> R {
    Ok(arg_dt(a, 0)
        .map(|t| Value::TimeSpan(time::weekday(t) * DAY))
        .unwrap_or(Value::Null))
}
pub fn dayofmonth(a: &[Value]) -> R {
    int(civil(a).map(|c| i64::from(c.day)))
}
fn day_of_year(t: i64) -> Option<i64> {
    let c = time::to_civil(t)?;
    Some(t.div_euclid(DAY) - time::days_from_civil(c.year, 1, 1)? + 1)
}
pub fn dayofyear(a: &[Value]) -> R {
    int(arg_dt(a, 0).and_then(day_of_year))
}
pub fn hourofday(a: &[Value]) -> R {
    int(civil(a).map(|c| i64::from(c.hour)))
}
pub fn getmonth(a: &[Value]) -> R {
    int(civil(a).map(|c| i64::from(c.month)))
}
pub fn getyear(a: &[Value]) -> R {
    int(civil(a).map(|c| i64::from(c.year)))
}
fn iso_week(c: &Civil) -> Option<i64> {
    let m = ::time::Month::try_from(c.month).ok()?;
    let d = ::time::Date::from_calendar_date(c.year, m, c.day).ok()?;
    Some(i64::from(d.iso_week()))
}
pub fn weekofyear(a: &[Value]) -> R {
    int(civil(a).as_ref().and_then(iso_week))
}

fn part_name(a: &[Value], i: usize) -> String {
    let p = arg_str(a, i).trim().to_ascii_lowercase();
    match p.strip_suffix('s') {
        Some(x) if !x.is_empty() && p != "ms" => x.to_string(),
        _ => p,
    }
}

pub fn datetime_add(a: &[Value]) -> R {
    let part = part_name(a, 0);
    let (Some(n), Some(t)) = (arg_i64(a, 1), arg_dt(a, 2)) else {
        return Ok(Value::Null);
    };
    let ticks = |unit: i64| n.checked_mul(unit).and_then(|d| t.checked_add(d));
    dtv(match part.as_str() {
        "year" => n.checked_mul(12).and_then(|m| time::add_months(t, m)),
        "quarter" => n.checked_mul(3).and_then(|m| time::add_months(t, m)),
        "month" => time::add_months(t, n),
        "week" => ticks(7 * DAY),
        "day" => ticks(DAY),
        "hour" => ticks(HOUR),
        "minute" => ticks(MINUTE),
        "second" => ticks(SECOND),
        "millisecond" => ticks(MILLISECOND),
        "microsecond" => ticks(MICROSECOND),
        "nanosecond" => t.checked_add(n / 100),
        other => return Err(format!("datetime_add: unknown part '{other}'")),
    })
}

pub fn datetime_diff(a: &[Value]) -> R {
    let part = part_name(a, 0);
    let (Some(x), Some(y)) = (arg_dt(a, 1), arg_dt(a, 2)) else {
        return Ok(Value::Null);
    };
    let (Some(cx), Some(cy)) = (time::to_civil(x), time::to_civil(y)) else {
        return Ok(Value::Null);
    };
    let units = |u: i64| x.div_euclid(u) - y.div_euclid(u);
    let months = |c: &Civil| i64::from(c.year) * 12 + i64::from(c.month) - 1;
    let v = match part.as_str() {
        "year" => i64::from(cx.year) - i64::from(cy.year),
        "quarter" => months(&cx).div_euclid(3) - months(&cy).div_euclid(3),
        "month" => months(&cx) - months(&cy),
        "week" => match (start_of_week(x, 0), start_of_week(y, 0)) {
            (Some(p), Some(q)) => (p - q) / (7 * DAY),
            _ => return Ok(Value::Null),
        },
        "day" => units(DAY),
        "hour" => units(HOUR),
        "minute" => units(MINUTE),
        "second" => units(SECOND),
        "millisecond" => units(MILLISECOND),
        "microsecond" => units(MICROSECOND),
        "nanosecond" => (x - y).saturating_mul(100),
        other => return Err(format!("datetime_diff: unknown part '{other}'")),
    };
    Ok(Value::Long(v))
}

pub fn datetime_part(a: &[Value]) -> R {
    let part = arg_str(a, 0).trim().to_ascii_lowercase();
    let Some(t) = arg_dt(a, 1) else {
        return Ok(Value::Null);
    };
    let Some(c) = time::to_civil(t) else {
        return Ok(Value::Null);
    };
    let frac = i64::from(c.frac);
    int(Some(match part.as_str() {
        "year" => i64::from(c.year),
        "quarter" => (i64::from(c.month) - 1) / 3 + 1,
        "month" => i64::from(c.month),
        "week_of_year" | "weekofyear" | "week" => return int(iso_week(&c)),
        "day" => i64::from(c.day),
        "dayofyear" => return int(day_of_year(t)),
        "hour" => i64::from(c.hour),
        "minute" => i64::from(c.minute),
        "second" => i64::from(c.second),
        "millisecond" => frac / MILLISECOND,
        "microsecond" => frac / MICROSECOND,
        "nanosecond" => frac * 100,
        other => return Err(format!("datetime_part: unknown part '{other}'")),
    }))
}

/// Splits a format into runs of one repeated letter, quoted literals and
/// other characters.
fn format_runs(fmt: &str) -> Vec<(char, usize)> {
    let mut out: Vec<(char, usize)> = Vec::new();
    for ch in fmt.chars() {
        match out.last_mut() {
            Some((c, n)) if *c == ch && ch.is_ascii_alphabetic() => *n += 1,
            _ => out.push((ch, 1)),
        }
    }
    out
}

fn push_frac(out: &mut String, frac: u32, n: usize, trim: bool) {
    let digits = format!("{frac:07}");
    let mut d = &digits[..n.min(7)];
    if trim {
        d = d.trim_end_matches('0');
    }
    out.push_str(d);
}

pub fn format_datetime(a: &[Value]) -> R {
    let Some(c) = civil(a) else {
        return Ok(Value::empty_string());
    };
    let fmt = arg_str(a, 1);
    let mut out = String::new();
    for (ch, n) in format_runs(&fmt) {
        match ch {
            'y' => match n {
                1 => out.push_str(&(c.year % 100).to_string()),
                2 => out.push_str(&format!("{:02}", c.year % 100)),
                _ => out.push_str(&format!("{:0w$}", c.year, w = n)),
            },
            'M' => out.push_str(&pad(i64::from(c.month), n)),
            'd' => out.push_str(&pad(i64::from(c.day), n)),
            'H' => out.push_str(&pad(i64::from(c.hour), n)),
            'h' => {
                let h = match c.hour % 12 {
                    0 => 12,
                    h => h,
                };
                out.push_str(&pad(i64::from(h), n))
            }
            'm' => out.push_str(&pad(i64::from(c.minute), n)),
            's' => out.push_str(&pad(i64::from(c.second), n)),
            'f' => push_frac(&mut out, c.frac, n, false),
            'F' => push_frac(&mut out, c.frac, n, true),
            't' => {
                let ampm = if c.hour < 12 { "AM" } else { "PM" };
                out.push_str(&ampm[..n.min(2)]);
            }
            other => (0..n).for_each(|_| out.push(other)),
        }
    }
    Ok(Value::string(out))
}

fn pad(v: i64, n: usize) -> String {
    format!("{v:0w$}", w = n.min(2))
}

pub fn format_timespan(a: &[Value]) -> R {
    let Some(t) = super::arg_ts(a, 0) else {
        return Ok(Value::empty_string());
    };
    let fmt = arg_str(a, 1);
    let neg = t < 0;
    let u = t.unsigned_abs();
    let days = u / DAY as u64;
    let rem = u % DAY as u64;
    let (h, m, s, f) = (
        rem / HOUR as u64,
        rem % HOUR as u64 / MINUTE as u64,
        rem % MINUTE as u64 / SECOND as u64,
        (rem % SECOND as u64) as u32,
    );
    let mut out = String::new();
    if neg {
        out.push('-');
    }
    for (ch, n) in format_runs(&fmt) {
        match ch {
            'd' => out.push_str(&format!("{days:0n$}")),
            'h' | 'H' => out.push_str(&format!("{h:0w$}", w = n.min(2))),
            'm' => out.push_str(&format!("{m:0w$}", w = n.min(2))),
            's' => out.push_str(&format!("{s:0w$}", w = n.min(2))),
            'f' => push_frac(&mut out, f, n, false),
            'F' => push_frac(&mut out, f, n, true),
            other => (0..n).for_each(|_| out.push(other)),
        }
    }
    Ok(Value::string(out))
}

pub fn make_datetime(a: &[Value]) -> R {
    let part = |i: usize| if a.len() > i { arg_i64(a, i) } else { Some(0) };
    let (Some(y), Some(mo), Some(d), Some(h), Some(mi)) = (
        arg_i64(a, 0),
        arg_i64(a, 1),
        arg_i64(a, 2),
        part(3),
        part(4),
    ) else {
        return Ok(Value::Null);
    };
    let sec = if a.len() > 5 {
        arg_f64(a, 5)
    } else {
        Some(0.0)
    };
    let Some(sec) = sec else {
        return Ok(Value::Null);
    };
    if !(0.0..60.0).contains(&sec) {
        return Ok(Value::Null);
    }
    let (Ok(y), Ok(mo), Ok(d), Ok(h), Ok(mi)) = (
        i32::try_from(y),
        u8::try_from(mo),
        u8::try_from(d),
        u8::try_from(h),
        u8::try_from(mi),
    ) else {
        return Ok(Value::Null);
    };
    let base = time::from_civil(&Civil {
        year: y,
        month: mo,
        day: d,
        hour: h,
        minute: mi,
        second: 0,
        frac: 0,
    });
    dtv(base.map(|b| b + (sec * SECOND as f64).round() as i64))
}

pub fn make_timespan(a: &[Value]) -> R {
    let n = a.len();
    let (d, h, m, s) = match n {
        2 => (Some(0), arg_i64(a, 0), arg_i64(a, 1), Some(0.0)),
        3 => (Some(0), arg_i64(a, 0), arg_i64(a, 1), arg_f64(a, 2)),
        _ => (arg_i64(a, 0), arg_i64(a, 1), arg_i64(a, 2), arg_f64(a, 3)),
    };
    let (Some(d), Some(h), Some(m), Some(s)) = (d, h, m, s) else {
        return Ok(Value::Null);
    };
    let t = d
        .checked_mul(DAY)
        .and_then(|x| x.checked_add(h.checked_mul(HOUR)?))
        .and_then(|x| x.checked_add(m.checked_mul(MINUTE)?))
        .and_then(|x| x.checked_add((s * SECOND as f64).round() as i64));
    Ok(t.map(Value::TimeSpan).unwrap_or(Value::Null))
}

fn unix(a: &[Value], ticks_per_unit: f64) -> R {
    let v = normalize(arg(a, 0));
    let t = match &*v {
        Value::Int(_) | Value::Long(_) if ticks_per_unit >= 1.0 => {
            arg_i64(a, 0).and_then(|n| n.checked_mul(ticks_per_unit as i64))
        }
        Value::Int(_) | Value::Long(_) => arg_i64(a, 0).map(|n| n / (1.0 / ticks_per_unit) as i64),
        _ => arg_f64(a, 0)
            .filter(|f| f.is_finite())
            .map(|f| (f * ticks_per_unit).round())
            .filter(|f| f.abs() < 9.2e18)
            .map(|f| f as i64),
    };
    dtv(t.and_then(|t| t.checked_add(time::UNIX_EPOCH)))
}

pub fn unix_seconds(a: &[Value]) -> R {
    unix(a, SECOND as f64)
}
pub fn unix_millis(a: &[Value]) -> R {
    unix(a, MILLISECOND as f64)
}
pub fn unix_micros(a: &[Value]) -> R {
    unix(a, MICROSECOND as f64)
}
pub fn unix_nanos(a: &[Value]) -> R {
    unix(a, 0.01)
}

#[cfg(test)]
mod tests {
    use crate::functions::test_util::{check, dt, s};
    use crate::time::{DAY, HOUR};
    use crate::value::Value;

    /// SEMANTICS.md §6 and the corpus's datetime cases.
    #[test]
    fn bin_table() {
        check(&[
            (
                "bin",
                vec![Value::Real(4.5), Value::Long(1)],
                Value::Real(4.0),
            ),
            (
                "bin",
                vec![Value::TimeSpan(16 * DAY), Value::TimeSpan(7 * DAY)],
                Value::TimeSpan(14 * DAY),
            ),
            (
                "bin",
                vec![dt("1970-05-11 13:45:07"), Value::TimeSpan(DAY)],
                dt("1970-05-11"),
            ),
            (
                "bin",
                vec![Value::Long(-7), Value::Long(5)],
                Value::Long(-10),
            ),
            (
                "bin",
                vec![dt("2024-05-01 10:31"), Value::TimeSpan(HOUR)],
                dt("2024-05-01 10:00"),
            ),
            ("bin", vec![Value::Null, Value::Long(5)], Value::Null),
            ("bin", vec![Value::Long(7), Value::Long(0)], Value::Null),
            (
                "floor",
                vec![Value::Long(7), Value::Long(5)],
                Value::Long(5),
            ),
            (
                "bin_at",
                vec![
                    dt("2018-02-23T16:14"),
                    Value::TimeSpan(DAY),
                    dt("2018-02-24 15:14:00"),
                ],
                dt("2018-02-23T15:14:00"),
            ),
            (
                "bin_at",
                vec![
                    dt("2018-02-26T15:14"),
                    Value::TimeSpan(DAY),
                    dt("2018-02-24 15:14:00"),
                ],
                dt("2018-02-26T15:14:00"),
            ),
            (
                "bin_at",
                vec![Value::Real(6.5), Value::Real(2.5), Value::Real(7.0)],
                Value::Real(4.5),
            ),
            (
                "bin_at",
                vec![Value::Long(6), Value::Long(2), Value::Long(7)],
                Value::Long(5),
            ),
        ]);
    }

    #[test]
    fn start_end_table() {
        let t = dt("2017-01-01 10:10:17");
        let cases: Vec<(&str, i64, &str)> = vec![
            ("startofday", -1, "2016-12-31"),
            ("startofday", 0, "2017-01-01"),
            ("startofday", 1, "2017-01-02"),
            ("startofweek", -1, "2016-12-25"),
            ("startofweek", 0, "2017-01-01"),
            ("startofweek", 1, "2017-01-08"),
            ("startofmonth", -1, "2016-12-01"),
            ("startofmonth", 0, "2017-01-01"),
            ("startofmonth", 1, "2017-02-01"),
            ("startofyear", -1, "2016-01-01"),
            ("endofday", -1, "2016-12-31T23:59:59.9999999"),
            ("endofday", 0, "2017-01-01T23:59:59.9999999"),
            ("endofday", 1, "2017-01-02T23:59:59.9999999"),
            ("endofweek", 0, "2017-01-07T23:59:59.9999999"),
            ("endofmonth", 0, "2017-01-31T23:59:59.9999999"),
            ("endofyear", 0, "2017-12-31T23:59:59.9999999"),
        ];
        for (f, off, want) in cases {
            check(&[(f, vec![t.clone(), Value::Long(off)], dt(want))]);
        }
        check(&[("startofday", vec![t.clone()], dt("2017-01-01"))]);
    }

    #[test]
    fn calendar_parts_table() {
        let t = dt("2017-10-30 23:05:01.1234567");
        check(&[
            ("dayofweek", vec![dt("1970-5-12")], Value::TimeSpan(2 * DAY)),
            ("dayofweek", vec![dt("2017-01-01")], Value::TimeSpan(0)),
            ("dayofmonth", vec![t.clone()], Value::Int(30)),
            ("dayofyear", vec![t.clone()], Value::Int(303)),
            ("hourofday", vec![t.clone()], Value::Int(23)),
            ("monthofyear", vec![t.clone()], Value::Int(10)),
            ("getmonth", vec![t.clone()], Value::Int(10)),
            ("getyear", vec![t.clone()], Value::Int(2017)),
            ("weekofyear", vec![dt("2017-01-01")], Value::Int(52)),
            (
                "datetime_part",
                vec![s("quarter"), t.clone()],
                Value::Int(4),
            ),
            ("datetime_part", vec![s("Minute"), t.clone()], Value::Int(5)),
            (
                "datetime_part",
                vec![s("millisecond"), t.clone()],
                Value::Int(123),
            ),
            (
                "datetime_part",
                vec![s("nanosecond"), t.clone()],
                Value::Int(123_456_700),
            ),
            ("dayofmonth", vec![Value::Null], Value::Null),
        ]);
    }

    #[test]
    fn datetime_add_diff_table() {
        let d = |x: &str| dt(x);
        check(&[
            (
                "datetime_add",
                vec![s("year"), Value::Long(-5), d("2017-01-01")],
                d("2012-01-01"),
            ),
            (
                "datetime_add",
                vec![s("quarter"), Value::Long(12), d("2017-01-01")],
                d("2020-01-01"),
            ),
            (
                "datetime_add",
                vec![s("month"), Value::Long(-15), d("2017-01-01")],
                d("2015-10-01"),
            ),
            (
                "datetime_add",
                vec![s("week"), Value::Long(100), d("2017-01-01")],
                d("2018-12-02"),
            ),
            (
                "datetime_add",
                vec![s("day"), Value::Long(1), d("2017-01-31")],
                d("2017-02-01"),
            ),
            (
                "datetime_diff",
                vec![s("year"), d("2017-01-01"), d("2000-12-31")],
                Value::Long(17),
            ),
            (
                "datetime_diff",
                vec![s("quarter"), d("2017-07-01"), d("2017-03-30")],
                Value::Long(2),
            ),
            (
                "datetime_diff",
                vec![s("month"), d("2017-01-01"), d("2015-12-30")],
                Value::Long(13),
            ),
            (
                "datetime_diff",
                vec![s("week"), d("2017-10-29 00:00"), d("2017-09-30 23:59")],
                Value::Long(5),
            ),
            (
                "datetime_diff",
                vec![s("day"), d("2017-10-29 00:00"), d("2017-09-30 23:59")],
                Value::Long(29),
            ),
            (
                "datetime_diff",
                vec![s("hour"), d("2017-10-31 01:00"), d("2017-10-30 23:59")],
                Value::Long(2),
            ),
            (
                "datetime_diff",
                vec![
                    s("minute"),
                    d("2017-10-30 23:05:01"),
                    d("2017-10-30 23:00:59"),
                ],
                Value::Long(5),
            ),
            (
                "datetime_diff",
                vec![
                    s("second"),
                    d("2017-10-30 23:00:10.100"),
                    d("2017-10-30 23:00:00.900"),
                ],
                Value::Long(10),
            ),
            (
                "datetime_diff",
                vec![
                    s("millisecond"),
                    d("2017-10-30 23:00:00.200100"),
                    d("2017-10-30 23:00:00.100900"),
                ],
                Value::Long(100),
            ),
            (
                "datetime_diff",
                vec![
                    s("microsecond"),
                    d("2017-10-30 23:00:00.1009001"),
                    d("2017-10-30 23:00:00.1008009"),
                ],
                Value::Long(100),
            ),
            (
                "datetime_diff",
                vec![
                    s("nanosecond"),
                    d("2017-10-30 23:00:00.0000000"),
                    d("2017-10-30 23:00:00.0000007"),
                ],
                Value::Long(-700),
            ),
        ]);
        assert!(crate::functions::call(
            "datetime_add",
            &[s("fortnight"), Value::Long(1), d("2017-01-01")]
        )
        .is_err());
    }

    #[test]
    fn format_and_make_table() {
        let t = dt("2017-01-29 09:00:05");
        check(&[
            (
                "format_datetime",
                vec![t.clone(), s("yy-MM-dd [HH:mm:ss]")],
                s("17-01-29 [09:00:05]"),
            ),
            (
                "format_datetime",
                vec![t.clone(), s("yyyy-M-dd [H:mm:ss]")],
                s("2017-1-29 [9:00:05]"),
            ),
            (
                "format_datetime",
                vec![dt("2024-03-05 14:07:09"), s("yyyy-MM-dd HH:mm:ss")],
                s("2024-03-05 14:07:09"),
            ),
            (
                "format_datetime",
                vec![dt("2024-03-05 14:07:09.1234"), s("hh:mm tt fff FFFFFFF")],
                s("02:07 PM 123 1234"),
            ),
            (
                "format_timespan",
                vec![
                    Value::TimeSpan(DAY + 2 * HOUR + 123),
                    s("d.hh:mm:ss.fffffff"),
                ],
                s("1.02:00:00.0000123"),
            ),
            (
                "format_timespan",
                vec![Value::TimeSpan(90 * 60 * 10_000_000), s("hh:mm")],
                s("01:30"),
            ),
            (
                "make_datetime",
                vec![Value::Long(2017), Value::Long(1), Value::Long(1)],
                dt("2017-01-01"),
            ),
            (
                "make_datetime",
                vec![
                    Value::Long(2017),
                    Value::Long(10),
                    Value::Long(1),
                    Value::Long(12),
                    Value::Long(10),
                    Value::Real(1.5),
                ],
                dt("2017-10-01 12:10:01.5"),
            ),
            (
                "make_datetime",
                vec![Value::Long(2017), Value::Long(13), Value::Long(1)],
                Value::Null,
            ),
            (
                "make_timespan",
                vec![Value::Long(1), Value::Long(30)],
                Value::TimeSpan(90 * 60 * 10_000_000),
            ),
            (
                "make_timespan",
                vec![
                    Value::Long(1),
                    Value::Long(0),
                    Value::Long(0),
                    Value::Long(1),
                ],
                Value::TimeSpan(DAY + 10_000_000),
            ),
            (
                "unixtime_seconds_todatetime",
                vec![Value::Long(1_546_300_800)],
                dt("2019-01-01"),
            ),
            (
                "unixtime_seconds_todatetime",
                vec![Value::Real(1.5)],
                dt("1970-01-01 00:00:01.5"),
            ),
            (
                "unixtime_milliseconds_todatetime",
                vec![Value::Long(1_546_300_800_000)],
                dt("2019-01-01"),
            ),
            (
                "unixtime_microseconds_todatetime",
                vec![Value::Long(1_546_300_800_000_000)],
                dt("2019-01-01"),
            ),
            (
                "unixtime_nanoseconds_todatetime",
                vec![Value::Long(1_546_300_800_000_000_000)],
                dt("2019-01-01"),
            ),
        ]);
    }
}
