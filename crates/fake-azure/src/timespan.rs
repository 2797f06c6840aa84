//! ISO 8601 durations and intervals as the query APIs accept them in
//! `timespan` (Log Analytics) and `Timespan` (Graph): `PT12H`, `P1D`,
//! `start/end`, `start/duration`, `duration/end`, and (Graph only) a single
//! start datetime. Pure parsing to kql ticks; no clock (the caller passes
//! `now`).

use kql::time::{DAY, HOUR, MINUTE, SECOND};

/// A half-open time window `[start, end)` in kql ticks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    pub start: i64,
    pub end: i64,
}

impl Window {
    /// The overlap of two windows (an empty window when they do not meet).
    pub fn intersect(self, other: Window) -> Window {
        let start = self.start.max(other.start);
        let end = self.end.min(other.end).max(start);
        Window { start, end }
    }
}

/// Why a timespan did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid timespan '{text}': {reason}")]
pub struct TimespanError {
    pub text: String,
    pub reason: String,
}

fn err(text: &str, reason: &str) -> TimespanError {
    TimespanError {
        text: text.to_string(),
        reason: reason.to_string(),
    }
}

/// Parses an ISO 8601 duration (`P1D`, `PT1H30M`, `P2W`, `PT0.5S`) to ticks.
/// Years and months count as 365 and 30 days (the fake's approximation).
pub fn parse_duration(text: &str) -> Option<i64> {
    let t = text.trim();
    let rest = t.strip_prefix('P').or_else(|| t.strip_prefix('p'))?;
    if rest.is_empty() {
        return None;
    }
    let mut total: i64 = 0;
    let mut in_time = false;
    let mut num = String::new();
    let mut any = false;
    for c in rest.chars() {
        match c {
            'T' | 't' => {
                if in_time || !num.is_empty() {
                    return None;
                }
                in_time = true;
            }
            '0'..='9' | '.' | ',' => num.push(if c == ',' { '.' } else { c }),
            _ => {
                let unit = match (in_time, c.to_ascii_uppercase()) {
                    (false, 'Y') => 365 * DAY,
                    (false, 'M') => 30 * DAY,
                    (false, 'W') => 7 * DAY,
                    (false, 'D') => DAY,
                    (true, 'H') => HOUR,
                    (true, 'M') => MINUTE,
                    (true, 'S') => SECOND,
                    _ => return None,
                };
                let n: f64 = num.parse().ok()?;
                if !n.is_finite() || n < 0.0 {
                    return None;
                }
                let ticks = n * unit as f64;
                if ticks > i64::MAX as f64 / 2.0 {
                    return None;
                }
                total = total.checked_add(ticks.round() as i64)?;
                num.clear();
                any = true;
            }
        }
    }
    if !num.is_empty() || !any {
        return None;
    }
    Some(total)
}

fn parse_instant(text: &str) -> Option<i64> {
    let t = text.trim();
    // Require an ISO date so durations are never read as datetimes.
    if t.len() < 10 || !t.as_bytes().first().is_some_and(|b| b.is_ascii_digit()) {
        return None;
    }
    kql::time::parse_datetime(t)
}

/// Which spellings a service accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    /// Log Analytics: duration, start/end, start/duration.
    LogAnalytics,
    /// Graph runHuntingQuery: also duration/end and a single start.
    Graph,
}

/// Parses a timespan to a window; a bare duration (or a bare start) ends
/// at `now`.
pub fn parse_timespan(text: &str, now: i64, dialect: Dialect) -> Result<Window, TimespanError> {
    let t = text.trim();
    if t.is_empty() {
        return Err(err(text, "empty"));
    }
    let window = match t.split_once('/') {
        None => {
            if let Some(d) = parse_duration(t) {
                Window {
                    start: now.saturating_sub(d),
                    end: now,
                }
            } else if let (Dialect::Graph, Some(s)) = (dialect, parse_instant(t)) {
                Window { start: s, end: now }
            } else {
                return Err(err(text, "expected an ISO 8601 duration or interval"));
            }
        }
        Some((a, b)) => match (parse_instant(a), parse_instant(b)) {
            (Some(s), Some(e)) => Window { start: s, end: e },
            (Some(s), None) => {
                let d = parse_duration(b).ok_or_else(|| err(text, "bad duration after '/'"))?;
                Window {
                    start: s,
                    end: s.saturating_add(d),
                }
            }
            (None, Some(e)) if dialect == Dialect::Graph => {
                let d = parse_duration(a).ok_or_else(|| err(text, "bad duration before '/'"))?;
                Window {
                    start: e.saturating_sub(d),
                    end: e,
                }
            }
            _ => return Err(err(text, "expected start/end or start/duration")),
        },
    };
    if window.end < window.start {
        return Err(err(text, "the end is before the start"));
    }
    Ok(window)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> i64 {
        kql::time::parse_datetime(s).unwrap_or_default()
    }

    #[test]
    fn durations() {
        let cases: &[(&str, Option<i64>)] = &[
            ("P1D", Some(DAY)),
            ("PT12H", Some(12 * HOUR)),
            ("PT1H30M", Some(HOUR + 30 * MINUTE)),
            ("P1DT1S", Some(DAY + SECOND)),
            ("P2W", Some(14 * DAY)),
            ("PT0.5S", Some(SECOND / 2)),
            ("P", None),
            ("PT", None),
            ("1D", None),
            ("P1H", None),
            ("PT1D", None),
            ("P1", None),
        ];
        for (text, want) in cases {
            assert_eq!(parse_duration(text), *want, "duration {text}");
        }
    }

    #[test]
    fn intervals() {
        let now = at("2024-03-26T12:00:00Z");
        type Case<'a> = (&'a str, Dialect, Option<(&'a str, &'a str)>);
        let cases: &[Case] = &[
            (
                "P1D",
                Dialect::LogAnalytics,
                Some(("2024-03-25T12:00:00Z", "2024-03-26T12:00:00Z")),
            ),
            (
                "2024-01-01T00:00:00Z/2024-01-02T00:00:00Z",
                Dialect::LogAnalytics,
                Some(("2024-01-01T00:00:00Z", "2024-01-02T00:00:00Z")),
            ),
            (
                "2024-01-01T00:00:00Z/PT1H",
                Dialect::LogAnalytics,
                Some(("2024-01-01T00:00:00Z", "2024-01-01T01:00:00Z")),
            ),
            ("P1D/2024-01-02T00:00:00Z", Dialect::LogAnalytics, None),
            (
                "P1D/2024-01-02T00:00:00Z",
                Dialect::Graph,
                Some(("2024-01-01T00:00:00Z", "2024-01-02T00:00:00Z")),
            ),
            (
                "2024-03-20T00:00:00Z",
                Dialect::Graph,
                Some(("2024-03-20T00:00:00Z", "2024-03-26T12:00:00Z")),
            ),
            ("2024-03-20T00:00:00Z", Dialect::LogAnalytics, None),
            (
                "2024-01-02T00:00:00Z/2024-01-01T00:00:00Z",
                Dialect::LogAnalytics,
                None,
            ),
            ("yesterday", Dialect::Graph, None),
        ];
        for (text, dialect, want) in cases {
            let got = parse_timespan(text, now, *dialect).ok();
            let want = want.map(|(s, e)| Window {
                start: at(s),
                end: at(e),
            });
            assert_eq!(got, want, "timespan {text} ({dialect:?})");
        }
    }
}
