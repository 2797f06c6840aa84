//! The raw-text row prefilter: decides, from a row's undecoded bytes,
//! whether the row can possibly satisfy the query's filter.
//!
//! Soundness rules (a skipped row must never be one the query would keep):
//! - a needle set is only used if every alternative is non-empty ASCII text
//!   without the characters that the format can hide behind an escape
//!   (JSON: `"` `\` and control characters; CSV: `"`); other sets are dropped;
//! - JSON rows whose escapes could hide a needle character (`\u....`, `\/`)
//!   are never skipped ([`json_raw_is_verbatim`]);
//! - case-insensitive matching in Kusto uses Unicode case mapping, under
//!   which some non-ASCII letters match ASCII `k`, `s` and `i` (KELVIN SIGN,
//!   LONG S, dotless/dotted I); when a needle contains one of those letters,
//!   rows holding one of those four characters are never skipped.
//!
//! Readers run it over whole buffers of lines first
//! ([`CompiledPrefilter::first_match`], [`CompiledPrefilter::first_hidden_json`],
//! [`CompiledPrefilter::first_candidate_csv`]): the lines before the first
//! possible candidate are skipped unsplit; the candidate line then goes
//! through [`CompiledPrefilter::may_match`] as before.
//!
//! This module holds no I/O.

use crate::table::Prefilter;
use aho_corasick::AhoCorasick;

/// A prefilter ready to run over raw row bytes.
#[derive(Debug)]
pub(crate) struct CompiledPrefilter {
    sets: Vec<AhoCorasick>,
    /// Rows with non-ASCII bytes must be decoded (see module docs).
    guard_non_ascii: bool,
}

/// Which input syntax the raw text is in (what it can hide).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RawSyntax {
    Json,
    Csv,
}

impl CompiledPrefilter {
    /// `None` when no needle set is usable (nothing can be skipped).
    pub(crate) fn new(p: &Prefilter, syntax: RawSyntax) -> Option<CompiledPrefilter> {
        let mut sets = Vec::new();
        let mut guard_non_ascii = false;
        // Most selective first (a guess: fewer, longer alternatives), so
        // most rows are rejected by the first, cheapest search.
        let mut order: Vec<&Vec<String>> = p.required.iter().collect();
        order.sort_by_key(|alts| {
            let shortest = alts.iter().map(String::len).min().unwrap_or(0);
            (alts.len(), std::cmp::Reverse(shortest))
        });
        for alts in order {
            if alts.is_empty() || !alts.iter().all(|a| usable(a, syntax)) {
                continue;
            }
            if alts.iter().any(|a| {
                a.bytes()
                    .any(|b| matches!(b.to_ascii_lowercase(), b'k' | b's' | b'i'))
            }) {
                guard_non_ascii = true;
            }
            let Ok(ac) = AhoCorasick::builder()
                .ascii_case_insensitive(true)
                .build(alts)
            else {
                continue;
            };
            sets.push(ac);
        }
        if sets.is_empty() {
            None
        } else {
            Some(CompiledPrefilter {
                sets,
                guard_non_ascii,
            })
        }
    }

    /// False only when the row certainly fails the filter. `raw` must be
    /// text whose string contents appear verbatim (see module docs).
    pub(crate) fn may_match(&self, raw: &[u8]) -> bool {
        if self.guard_non_ascii && has_ascii_case_variant(raw) {
            return true;
        }
        self.sets.iter().all(|ac| ac.is_match(raw))
    }
}

impl CompiledPrefilter {
    /// For a block of whole JSON lines: the offset of the first byte from
    /// which on a line may pass [`CompiledPrefilter::may_match`] or hide a
    /// needle (an escape `\u`/`\/`, a case-variant letter); `None` when
    /// every line of `raw` certainly fails. Conservative: the line holding
    /// the returned offset still goes through the per-line checks.
    #[cfg(test)]
    pub(crate) fn first_candidate_json(&self, raw: &[u8]) -> Option<usize> {
        let first = self.first_match(raw);
        // The other searches only need to look before the first match.
        let head = raw.get(..first.unwrap_or(raw.len())).unwrap_or(raw);
        self.first_hidden_json(head).or(first)
    }

    /// Offset of the first match of the first (most selective) needle set.
    pub(crate) fn first_match(&self, raw: &[u8]) -> Option<usize> {
        self.sets
            .first()
            .and_then(|ac| ac.find(raw))
            .map(|m| m.start())
    }

    /// Offset of the first escape (`\u`, `\/`) or case-variant letter
    /// that could hide a needle in JSON text.
    pub(crate) fn first_hidden_json(&self, raw: &[u8]) -> Option<usize> {
        let mut first = memchr::memmem::find(raw, b"\\u");
        let head = raw.get(..first.unwrap_or(raw.len())).unwrap_or(raw);
        if let Some(c) = memchr::memmem::find(head, b"\\/") {
            first = Some(c);
        }
        if self.guard_non_ascii {
            let head = raw.get(..first.unwrap_or(raw.len())).unwrap_or(raw);
            if let Some(c) = first_ascii_case_variant(head) {
                first = Some(c);
            }
        }
        first
    }
}

impl CompiledPrefilter {
    /// For a block of whole CSV lines: the offset of the first byte from
    /// which on a line may pass [`CompiledPrefilter::may_match`] (a match
    /// of the first needle set, a case-variant letter); `None` when no line
    /// of `raw` can. CSV shows needle text verbatim (needles hold no `"`).
    pub(crate) fn first_candidate_csv(&self, raw: &[u8]) -> Option<usize> {
        let first = self
            .sets
            .first()
            .and_then(|ac| ac.find(raw))
            .map(|m| m.start());
        if !self.guard_non_ascii {
            return first;
        }
        let head = raw.get(..first.unwrap_or(raw.len())).unwrap_or(raw);
        first_ascii_case_variant(head).or(first)
    }
}

/// Offset of the first non-ASCII letter that case-maps to `k`, `s` or `i`
/// (see [`has_ascii_case_variant`]).
fn first_ascii_case_variant(raw: &[u8]) -> Option<usize> {
    memchr::memchr3_iter(0xC4, 0xC5, 0xE2, raw).find(|&i| {
        let next = |k: usize| raw.get(i + k).copied();
        match raw.get(i) {
            Some(0xC4) => matches!(next(1), Some(0xB0 | 0xB1)),
            Some(0xC5) => next(1) == Some(0xBF),
            _ => next(1) == Some(0x84) && next(2) == Some(0xAA),
        }
    })
}

/// True when `raw` holds a non-ASCII letter that some Unicode case mapping
/// turns into ASCII `k`, `s` or `i`: U+212A KELVIN SIGN (E2 84 AA),
/// U+017F LONG S (C5 BF), U+0130/U+0131 dotted/dotless I (C4 B0, C4 B1).
fn has_ascii_case_variant(raw: &[u8]) -> bool {
    memchr::memchr3_iter(0xC4, 0xC5, 0xE2, raw).any(|i| {
        let next = |k: usize| raw.get(i + k).copied();
        match raw.get(i) {
            Some(0xC4) => matches!(next(1), Some(0xB0 | 0xB1)),
            Some(0xC5) => next(1) == Some(0xBF),
            _ => next(1) == Some(0x84) && next(2) == Some(0xAA),
        }
    })
}

fn usable(needle: &str, syntax: RawSyntax) -> bool {
    !needle.is_empty()
        && needle.bytes().all(|b| {
            b.is_ascii()
                && match syntax {
                    RawSyntax::Json => b != b'"' && b != b'\\' && !b.is_ascii_control(),
                    RawSyntax::Csv => b != b'"',
                }
        })
}

/// True when every JSON string in `raw` shows all the characters a usable
/// needle can contain verbatim: the only escapes are `\"`, `\\`, `\b`,
/// `\f`, `\n`, `\r`, `\t` (which stand for characters no usable needle
/// has). A `\u` or `\/` escape could hide a needle letter.
pub(crate) fn json_raw_is_verbatim(raw: &[u8]) -> bool {
    let mut it = memchr::memchr_iter(b'\\', raw);
    while let Some(i) = it.next() {
        match raw.get(i + 1) {
            Some(b'"') | Some(b'b') | Some(b'f') | Some(b'n') | Some(b'r') | Some(b't') => {}
            Some(b'\\') => {
                // The next backslash is the escaped one; skip it.
                it.next();
            }
            _ => return false,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pf(sets: &[&[&str]]) -> Prefilter {
        Prefilter {
            required: sets
                .iter()
                .map(|s| s.iter().map(|a| a.to_string()).collect())
                .collect(),
        }
    }

    #[test]
    fn case_insensitive_all_sets() {
        let Some(c) = CompiledPrefilter::new(
            &pf(&[&["assist.zoho.com", "zohoassist.com"], &["zoho"]]),
            RawSyntax::Json,
        ) else {
            panic!("expected a prefilter")
        };
        let cases: &[(&str, bool)] = &[
            (r#"{"u":"ASSIST.ZOHO.COM","c":"Zoho"}"#, true),
            (r#"{"u":"gw.zohoassist.com"}"#, true),
            (r#"{"u":"example.com","c":"Zoho"}"#, false),
            (r#"{"u":"assist.zoho.eu","c":"Zoho"}"#, false),
            // non-ASCII letters that case-map to k/s/i: never skipped
            (r#"{"u":"ſ"}"#, true),
            ("{\"u\":\"\u{212A}\"}", true),
            ("{\"u\":\"\u{131}\"}", true),
            // other non-ASCII text is no reason to decode
            (r#"{"u":"Microsoft® Windows®","c":"Zoho"}"#, false),
        ];
        for (raw, want) in cases {
            assert_eq!(c.may_match(raw.as_bytes()), *want, "raw {raw}");
        }
    }

    #[test]
    fn first_candidate_in_a_block() {
        let Some(c) =
            CompiledPrefilter::new(&pf(&[&["assist.zoho.com"], &["zoho"]]), RawSyntax::Json)
        else {
            panic!("expected a prefilter")
        };
        let cases: &[(&str, Option<usize>)] = &[
            ("{\"u\":\"a\"}\n{\"u\":\"b\"}\n", None),
            ("{\"u\":\"a\"}\n{\"u\":\"ASSIST.zoho.com\"}\n", Some(16)),
            // escapes that could hide a needle letter: candidates
            ("{\"u\":\"a\"}\n{\"u\":\"\\u0061\"}\n", Some(16)),
            ("{\"u\":\"http:\\/\\/x\"}\n", Some(11)),
            // harmless escapes are not
            ("{\"u\":\"c:\\\\x\\n\"}\n", None),
            // a case-variant letter (the needles hold 's' and 'i')
            ("{\"u\":\"a\"}\n{\"u\":\"\u{17f}\"}\n", Some(16)),
        ];
        for (raw, want) in cases {
            assert_eq!(c.first_candidate_json(raw.as_bytes()), *want, "raw {raw:?}");
        }
    }

    #[test]
    fn unusable_sets_are_dropped() {
        assert!(CompiledPrefilter::new(&pf(&[&["a\"b"]]), RawSyntax::Json).is_none());
        assert!(CompiledPrefilter::new(&pf(&[&["ü"]]), RawSyntax::Json).is_none());
        assert!(CompiledPrefilter::new(&pf(&[&["x", ""]]), RawSyntax::Csv).is_none());
        assert!(CompiledPrefilter::new(&pf(&[&["a\\b"]]), RawSyntax::Csv).is_some());
    }

    #[test]
    fn verbatim_json() {
        let cases: &[(&str, bool)] = &[
            (r#"{"a":"plain"}"#, true),
            (r#"{"a":"{\"k\":\"v\"}"}"#, true),
            (r#"{"a":"c:\\windows\\x"}"#, true),
            (r#"{"a":"\u007aoho"}"#, false),
            (r#"{"a":"http:\/\/x"}"#, false),
            (r#"{"a":"\\\u0041"}"#, false),
            (r#"{"a":"\\\\"}"#, true),
        ];
        for (raw, want) in cases {
            assert_eq!(json_raw_is_verbatim(raw.as_bytes()), *want, "raw {raw}");
        }
    }
}
