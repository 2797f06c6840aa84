//! String predicates with Kusto's rules: the `has` family (term
//! boundaries, SEMANTICS.md §4.2), `contains`/`startswith`/`endswith`/`=~`
//! with ASCII case folding, `matches regex`, and list membership (`in`,
//! `in~`, `has_any`, `has_all`). Needles are compiled once; matching does
//! not allocate. Re-exported from `ops` (the contract's paths).

use super::ops::{cached_regex, int_of, json_to_value, normalize, str_of, to_string, values_equal};
use crate::ast::{BinaryOp, ListOp};
use crate::value::Value;
use memchr::memmem;
use std::cell::RefCell;
use std::collections::HashSet;

// ------------------------------------------------------ string predicates

#[inline]
fn is_term(b: u8) -> bool {
    b.is_ascii_alphanumeric()
}

thread_local! {
    static FOLD_BUF: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// Runs `f` on the ASCII-lowercased bytes of `h`, folded into a reused
/// per-thread buffer (no allocation once the buffer has grown).
#[inline]
fn with_folded<R>(h: &[u8], f: impl FnOnce(&[u8]) -> R) -> R {
    FOLD_BUF.with(|b| match b.try_borrow_mut() {
        Ok(mut buf) => {
            buf.resize(h.len(), 0);
            for (d, s) in buf.iter_mut().zip(h) {
                *d = s.to_ascii_lowercase();
            }
            f(&buf)
        }
        Err(_) => f(&h.to_ascii_lowercase()),
    })
}

/// Whether the occurrence `h[i..i + n]` sits on the term boundaries the
/// `has` family needs (SEMANTICS.md §4.2).
#[inline]
fn boundary_ok(h: &[u8], i: usize, n: usize, need_left: bool, need_right: bool) -> bool {
    let left_ok = !need_left || i == 0 || h.get(i - 1).is_none_or(|b| !is_term(*b));
    let right_ok = !need_right || h.get(i + n).is_none_or(|b| !is_term(*b));
    left_ok && right_ok
}

/// A case-insensitive (ASCII) substring finder: scans for the rarest needle
/// byte in both cases with `memchr2`, then verifies. No allocation per call.
#[derive(Clone, Debug)]
struct CiFinder {
    /// ASCII-lowercased needle.
    needle: Box<[u8]>,
    /// Offset of the scan byte in the needle, and its two cases.
    at: usize,
    lo: u8,
    up: u8,
}

fn byte_rank(b: u8) -> u8 {
    // Lower is rarer. Rough frequencies of text/URL/command-line bytes.
    match b.to_ascii_lowercase() {
        b'e' | b't' | b'a' | b'o' | b'i' | b'n' | b's' | b'r' | b' ' => 200,
        b'h' | b'l' | b'd' | b'c' | b'u' | b'm' | b'.' | b'/' | b'0' | b'1' => 150,
        b'p' | b'g' | b'f' | b'w' | b'y' | b'b' | b'2' | b'-' | b'\\' | b':' => 100,
        b'v' | b'k' | b'_' | b'3'..=b'9' => 60,
        _ => 20,
    }
}

impl CiFinder {
    fn new(needle: &[u8]) -> CiFinder {
        let needle: Box<[u8]> = needle.to_ascii_lowercase().into();
        let mut at = 0;
        for (i, b) in needle.iter().enumerate() {
            if byte_rank(*b) < byte_rank(needle.get(at).copied().unwrap_or(0)) {
                at = i;
            }
        }
        let b = needle.get(at).copied().unwrap_or(0);
        CiFinder {
            lo: b.to_ascii_lowercase(),
            up: b.to_ascii_uppercase(),
            needle,
            at,
        }
    }

    /// First occurrence at or after `from`.
    #[inline]
    fn find_from(&self, h: &[u8], from: usize) -> Option<usize> {
        let n = self.needle.len();
        if n == 0 {
            return (from <= h.len()).then_some(from);
        }
        let mut scan = from + self.at;
        let last = h.len().checked_sub(n)? + self.at;
        while scan <= last {
            let window = h.get(scan..=last)?;
            let off = if self.lo == self.up {
                memchr::memchr(self.lo, window)?
            } else {
                memchr::memchr2(self.lo, self.up, window)?
            };
            let start = scan + off - self.at;
            if h.get(start..start + n)
                .is_some_and(|w| w.eq_ignore_ascii_case(&self.needle))
            {
                return Some(start);
            }
            scan += off + 1;
        }
        None
    }
}

#[derive(Clone, Debug)]
enum Searcher {
    Cs(Box<memmem::Finder<'static>>),
    Ci(CiFinder),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum MatchKind {
    Has,
    HasPrefix,
    HasSuffix,
    Contains,
    StartsWith,
    EndsWith,
    Equals,
    Regex,
}

/// A string predicate with a constant needle, compiled once (case folding
/// done up front). `op` is one of the string operators (`has`,
/// `!contains_cs`, `startswith`, `=~`, `matches regex`...); `None` for other
/// operators (or an invalid regex).
#[derive(Clone, Debug)]
pub struct StringMatcher {
    kind: MatchKind,
    negate: bool,
    cs: bool,
    /// Needle (lowercased when case-insensitive).
    needle: Box<[u8]>,
    searcher: Searcher,
    /// First/last needle bytes are term characters (need a boundary).
    left_term: bool,
    right_term: bool,
    regex: Option<regex::Regex>,
}

fn op_kind(op: BinaryOp) -> Option<(MatchKind, bool, bool)> {
    use BinaryOp::*;
    use MatchKind as K;
    // (kind, negate, case-sensitive)
    Some(match op {
        Has => (K::Has, false, false),
        NotHas => (K::Has, true, false),
        HasCs => (K::Has, false, true),
        NotHasCs => (K::Has, true, true),
        HasPrefix => (K::HasPrefix, false, false),
        NotHasPrefix => (K::HasPrefix, true, false),
        HasPrefixCs => (K::HasPrefix, false, true),
        NotHasPrefixCs => (K::HasPrefix, true, true),
        HasSuffix => (K::HasSuffix, false, false),
        NotHasSuffix => (K::HasSuffix, true, false),
        HasSuffixCs => (K::HasSuffix, false, true),
        NotHasSuffixCs => (K::HasSuffix, true, true),
        Contains => (K::Contains, false, false),
        NotContains => (K::Contains, true, false),
        ContainsCs => (K::Contains, false, true),
        NotContainsCs => (K::Contains, true, true),
        StartsWith => (K::StartsWith, false, false),
        NotStartsWith => (K::StartsWith, true, false),
        StartsWithCs => (K::StartsWith, false, true),
        NotStartsWithCs => (K::StartsWith, true, true),
        EndsWith => (K::EndsWith, false, false),
        NotEndsWith => (K::EndsWith, true, false),
        EndsWithCs => (K::EndsWith, false, true),
        NotEndsWithCs => (K::EndsWith, true, true),
        EqCi => (K::Equals, false, false),
        NeCi => (K::Equals, true, false),
        MatchesRegex => (K::Regex, false, true),
        _ => return None,
    })
}

impl StringMatcher {
    pub fn new(op: BinaryOp, needle: &str) -> Option<StringMatcher> {
        let (kind, negate, cs) = op_kind(op)?;
        let regex = if kind == MatchKind::Regex {
            Some(cached_regex(needle).ok()?)
        } else {
            None
        };
        let nb = needle.as_bytes();
        // A needle without ASCII letters is the same in both cases: use the
        // (faster) exact searcher.
        let cs = cs || !nb.iter().any(|b| b.is_ascii_alphabetic());
        let stored: Box<[u8]> = if cs {
            nb.into()
        } else {
            nb.to_ascii_lowercase().into()
        };
        let searcher = if cs {
            Searcher::Cs(Box::new(memmem::Finder::new(nb).into_owned()))
        } else {
            Searcher::Ci(CiFinder::new(nb))
        };
        Some(StringMatcher {
            kind,
            negate,
            cs,
            left_term: nb.first().is_some_and(|b| is_term(*b)),
            right_term: nb.last().is_some_and(|b| is_term(*b)),
            needle: stored,
            searcher,
            regex,
        })
    }

    #[inline]
    fn eq_at(&self, w: &[u8]) -> bool {
        if self.cs {
            w == &*self.needle
        } else {
            w.eq_ignore_ascii_case(&self.needle)
        }
    }

    #[inline]
    fn find_from(&self, h: &[u8], from: usize) -> Option<usize> {
        match &self.searcher {
            Searcher::Cs(f) => f.find(h.get(from..)?).map(|i| i + from),
            Searcher::Ci(f) => f.find_from(h, from),
        }
    }

    /// Some occurrence of the needle in `h` satisfies the boundary rule.
    fn search(&self, h: &[u8], need_left: bool, need_right: bool) -> bool {
        let n = self.needle.len();
        let need_left = need_left && self.left_term;
        let need_right = need_right && self.right_term;
        let mut from = 0;
        while let Some(i) = self.find_from(h, from) {
            if boundary_ok(h, i, n, need_left, need_right) {
                return true;
            }
            from = i + 1;
        }
        false
    }

    /// Whether `hay` satisfies the predicate (negations included).
    pub fn matches(&self, hay: &str) -> bool {
        let h = hay.as_bytes();
        let n = self.needle.len();
        let hit = match self.kind {
            MatchKind::Has => self.search(h, true, true),
            MatchKind::HasPrefix => self.search(h, true, false),
            MatchKind::HasSuffix => self.search(h, false, true),
            MatchKind::Contains => self.search(h, false, false),
            MatchKind::StartsWith => h.get(..n).is_some_and(|w| self.eq_at(w)),
            MatchKind::EndsWith => h.len() >= n && self.eq_at(&h[h.len() - n..]),
            MatchKind::Equals => h.len() == n && self.eq_at(h),
            MatchKind::Regex => self.regex.as_ref().is_some_and(|r| r.is_match(hay)),
        };
        hit != self.negate
    }
}

// ------------------------------------------------------ list membership

/// A fast non-cryptographic hasher for the `in` sets (the sets are built
/// from the query, so collision attacks through data do not apply).
#[derive(Clone, Copy, Debug, Default)]
struct FxBuild;

struct FxHasher(u64);

impl std::hash::BuildHasher for FxBuild {
    type Hasher = FxHasher;
    fn build_hasher(&self) -> FxHasher {
        FxHasher(0)
    }
}

impl std::hash::Hasher for FxHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        const K: u64 = 0x517c_c1b7_2722_0a95;
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.0 = (self.0.rotate_left(5) ^ u64::from_le_bytes(w)).wrapping_mul(K);
        }
        for b in chunks.remainder() {
            self.0 = (self.0.rotate_left(5) ^ u64::from(*b)).wrapping_mul(K);
        }
    }
    #[inline]
    fn write_u64(&mut self, i: u64) {
        self.0 = (self.0.rotate_left(5) ^ i).wrapping_mul(0x517c_c1b7_2722_0a95);
    }
    #[inline]
    fn finish(&self) -> u64 {
        self.0
    }
}

#[derive(Clone, Debug)]
enum ListKind {
    In { ci: bool },
    HasAny,
    HasAll,
}

/// The `has_any`/`has_all` needles: one Aho-Corasick automaton over all of
/// them (ASCII case-insensitive unless `_cs`), scanned once per haystack.
#[derive(Clone, Debug)]
struct Terms {
    ac: aho_corasick::AhoCorasick,
    /// Per pattern: needs a left / right term boundary.
    bounds: Vec<(bool, bool)>,
}

impl Terms {
    fn new(needles: &[String], ci: bool) -> Result<Terms, String> {
        let pats: Vec<&[u8]> = needles.iter().map(|n| n.as_bytes()).collect();
        let ac = aho_corasick::AhoCorasick::builder()
            .ascii_case_insensitive(ci)
            .kind(Some(aho_corasick::AhoCorasickKind::DFA))
            .build(&pats)
            .map_err(|e| e.to_string())?;
        let bounds = pats
            .iter()
            .map(|p| {
                (
                    p.first().is_some_and(|b| is_term(*b)),
                    p.last().is_some_and(|b| is_term(*b)),
                )
            })
            .collect();
        Ok(Terms { ac, bounds })
    }

    /// Calls `hit(pattern)` for every occurrence on term boundaries until it
    /// returns true; returns whether it did.
    fn scan(&self, h: &[u8], mut hit: impl FnMut(usize) -> bool) -> bool {
        for m in self.ac.find_overlapping_iter(h) {
            let p = m.pattern().as_usize();
            let (l, r) = self.bounds.get(p).copied().unwrap_or((true, true));
            if boundary_ok(h, m.start(), m.end() - m.start(), l, r) && hit(p) {
                return true;
            }
        }
        false
    }
}

/// `in`/`!in`/`in~`/`!in~`/`has_any`/`has_all` against a flattened item
/// list (dynamic arrays already expanded to their elements, tabular operands
/// to their first column).
#[derive(Clone, Debug)]
pub struct ListMatcher {
    kind: ListKind,
    negate: bool,
    /// String items (lowercased for `in~`).
    strings: HashSet<Box<[u8]>, FxBuild>,
    /// Integer items (also integral reals).
    ints: HashSet<i64, FxBuild>,
    /// Everything else (reals, datetimes, guids, arrays...).
    others: Vec<Value>,
    /// `has_any`/`has_all` needles (`None` when the list is empty).
    terms: Option<Terms>,
    /// Number of distinct `has_any`/`has_all` needles.
    n_terms: usize,
}

impl ListMatcher {
    pub fn new(op: ListOp, items: &[Value]) -> Result<ListMatcher, String> {
        let (kind, negate, cs) = match op {
            ListOp::In => (ListKind::In { ci: false }, false, true),
            ListOp::NotIn => (ListKind::In { ci: false }, true, true),
            ListOp::InCi => (ListKind::In { ci: true }, false, false),
            ListOp::NotInCi => (ListKind::In { ci: true }, true, false),
            ListOp::HasAny => (ListKind::HasAny, false, false),
            ListOp::HasAll => (ListKind::HasAll, false, false),
            ListOp::HasAnyCs => (ListKind::HasAny, false, true),
        };
        let mut m = ListMatcher {
            kind,
            negate,
            strings: HashSet::default(),
            ints: HashSet::default(),
            others: Vec::new(),
            terms: None,
            n_terms: 0,
        };
        let mut flat = Vec::with_capacity(items.len());
        for it in items {
            flatten_into(it, &mut flat);
        }
        match m.kind {
            ListKind::In { ci } => {
                for it in flat {
                    match &it {
                        Value::Null => {}
                        Value::String(s) => {
                            let b: Box<[u8]> = if ci {
                                s.as_bytes().to_ascii_lowercase().into()
                            } else {
                                s.as_bytes().into()
                            };
                            m.strings.insert(b);
                        }
                        _ if ci => {
                            m.strings
                                .insert(to_string(&it).to_ascii_lowercase().into_bytes().into());
                        }
                        Value::Int(_) | Value::Long(_) => {
                            m.ints.insert(int_of(&it).unwrap_or(0));
                        }
                        _ => m.others.push(it),
                    }
                }
            }
            ListKind::HasAny | ListKind::HasAll => {
                let mut seen = HashSet::new();
                let mut needles = Vec::new();
                for it in flat {
                    if it.is_null() {
                        continue;
                    }
                    let s = to_string(&it);
                    let key = if cs {
                        s.clone()
                    } else {
                        s.to_ascii_lowercase()
                    };
                    if seen.insert(key) {
                        needles.push(s);
                    }
                }
                m.n_terms = needles.len();
                if !needles.is_empty() {
                    m.terms = Some(Terms::new(&needles, !cs)?);
                }
            }
        }
        Ok(m)
    }

    fn contains_str(&self, s: &[u8], ci: bool) -> bool {
        if ci && s.iter().any(u8::is_ascii_uppercase) {
            with_folded(s, |f| self.strings.contains(f))
        } else {
            self.strings.contains(s)
        }
    }

    /// `Bool` or `Null` (a null operand of `has_any`/`has_all`).
    pub fn eval(&self, v: &Value) -> Value {
        match &self.kind {
            ListKind::In { ci } => {
                let v = normalize(v);
                let found = match &*v {
                    Value::Null => false,
                    Value::String(s) => self.contains_str(s.as_bytes(), *ci),
                    other if *ci => self.contains_str(to_string(other).as_bytes(), true),
                    other => {
                        let by_int = match other {
                            Value::Int(_) | Value::Long(_) => {
                                self.ints.contains(&int_of(other).unwrap_or(0))
                            }
                            Value::Real(r) if r.fract() == 0.0 && r.abs() < 9.2e18 => {
                                self.ints.contains(&(*r as i64))
                            }
                            _ => false,
                        };
                        by_int || self.others.iter().any(|o| values_equal(other, o))
                    }
                };
                Value::Bool(found != self.negate)
            }
            ListKind::HasAny => {
                if v.is_null() {
                    return Value::Null;
                }
                let s = str_of(v);
                Value::Bool(
                    self.terms
                        .as_ref()
                        .is_some_and(|t| t.scan(s.as_bytes(), |_| true)),
                )
            }
            ListKind::HasAll => {
                if v.is_null() {
                    return Value::Null;
                }
                let Some(t) = &self.terms else {
                    return Value::Bool(true);
                };
                let s = str_of(v);
                let all = if self.n_terms <= 64 {
                    // bitmask of the needles still missing: no allocation
                    let mut missing: u64 = if self.n_terms == 64 {
                        u64::MAX
                    } else {
                        (1u64 << self.n_terms) - 1
                    };
                    t.scan(s.as_bytes(), |p| {
                        missing &= !(1u64 << p.min(63));
                        missing == 0
                    })
                } else {
                    let mut found = vec![false; self.n_terms];
                    let mut left = self.n_terms;
                    t.scan(s.as_bytes(), |p| {
                        if let Some(f) = found.get_mut(p) {
                            if !*f {
                                *f = true;
                                left -= 1;
                            }
                        }
                        left == 0
                    })
                };
                Value::Bool(all)
            }
        }
    }
}

/// Dynamic arrays contribute their elements (recursively), dynamic scalars
/// their plain value.
fn flatten_into(v: &Value, out: &mut Vec<Value>) {
    match v {
        Value::Dynamic(j) => match &**j {
            serde_json::Value::Array(a) => {
                for e in a {
                    match e {
                        serde_json::Value::Array(_) => {
                            flatten_into(&Value::dynamic(e.clone()), out)
                        }
                        other => out.push(json_to_value(other)),
                    }
                }
            }
            other => out.push(json_to_value(other)),
        },
        other => out.push(other.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(x: &str) -> Value {
        Value::string(x)
    }

    fn has(h: &str, n: &str) -> bool {
        StringMatcher::new(BinaryOp::Has, n).is_some_and(|m| m.matches(h))
    }

    fn binary(op: BinaryOp, l: &Value, r: &Value) -> Result<Value, String> {
        super::super::ops::binary(op, l, r)
    }

    /// SEMANTICS.md §4.2, every row of the table plus the corpus cases.
    #[test]
    fn has_family_table() {
        let cases: &[(&str, BinaryOp, &str, bool)] = &[
            ("assist.zoho.com", BinaryOp::Has, "assist.zoho.com", true),
            ("x.assist.zoho.com", BinaryOp::Has, "assist.zoho.com", true),
            ("https://assist.zoho.com/api/v2", BinaryOp::Has, "assist.zoho.com", true),
            ("assist.zoho.com:443", BinaryOp::Has, "assist.zoho.com", true),
            ("assist.zoho.community", BinaryOp::Has, "assist.zoho.com", false),
            ("myassist.zoho.com", BinaryOp::Has, "assist.zoho.com", false),
            ("static.zohocdn.com.evil.net", BinaryOp::Has, "static.zohocdn.com", true),
            ("ASSIST.ZOHO.COM", BinaryOp::Has, "assist.zoho.com", true),
            ("assist.zoho.co", BinaryOp::Has, "assist.zoho.com", false),
            ("zoho.com", BinaryOp::Has, "assist.zoho.com", false),
            ("ZohoAssist", BinaryOp::Has, "Zoho Assist", false),
            ("Zoho Assistant", BinaryOp::Has, "Zoho Assist", false),
            ("ZOHO ASSIST Agent", BinaryOp::Has, "Zoho Assist", true),
            ("My Zoho Assist", BinaryOp::Has, "Zoho Assist", true),
            ("powershell -encodedcommand x", BinaryOp::Has, "-enc", false),
            ("powershell -enc x", BinaryOp::Has, "-enc", true),
            ("powershell -EnC AAAA", BinaryOp::Has, "-enc", true),
            ("powershell.exe-enc", BinaryOp::Has, "-enc", true),
            ("powershell enc", BinaryOp::Has, "-enc", false),
            ("110.1.2.3", BinaryOp::Has, "10.1.2.3", false),
            ("10.1.2.3", BinaryOp::Has, "1.2.3", true),
            ("10.1.2.3", BinaryOp::Has, "10.1.2", true),
            ("src=10.1.2.3:445", BinaryOp::Has, "10.1.2.3", true),
            ("KustoExplorerQueryRun", BinaryOp::Has, "Explorer", false),
            ("KustoExplorerQueryRun", BinaryOp::Contains, "Explorer", true),
            ("Kusto: ad67d136-c1db-4f9f;KustoExplorerQueryRun", BinaryOp::Has, "c1db", true),
            ("Kusto: ad67d136-c1db-4f9f;KustoExplorerQueryRun", BinaryOp::Has, "kusto", true),
            ("Kusto: ad67d136-c1db-4f9f;KustoExplorerQueryRun", BinaryOp::Has, "kustoexplorerqueryrun", true),
            ("", BinaryOp::Has, "x", false),
            ("", BinaryOp::NotHas, "x", true),
            ("a b c", BinaryOp::Has, "b", true),
            ("North America", BinaryOp::Has, "america", true),
            ("Americas", BinaryOp::Has, "america", false),
            ("NorthAmerica", BinaryOp::Has, "america", false),
            ("america!", BinaryOp::Has, "america", true),
            ("North America", BinaryOp::Has, "North America", true),
            ("North America", BinaryOp::HasSuffix, "ica", true),
            ("NORTH CAROLINA", BinaryOp::HasSuffix, "th", true),
            ("North America", BinaryOp::HasPrefixCs, "Ame", true),
            ("North America", BinaryOp::HasPrefixCs, "ame", false),
            ("North America", BinaryOp::HasSuffixCs, "ica", true),
            ("North America", BinaryOp::HasSuffixCs, "icA", false),
            ("North America", BinaryOp::NotHasPrefixCs, "CA", true),
            ("North America", BinaryOp::HasPrefix, "nor", true),
            ("North America", BinaryOp::HasPrefix, "orth", false),
            ("North America", BinaryOp::NotHasSuffix, "ica", false),
            ("North America", BinaryOp::HasCs, "north", false),
            ("North America", BinaryOp::HasCs, "North", true),
            ("North America", BinaryOp::NotHasCs, "north", true),
            ("cmd /c whoami /all", BinaryOp::Has, "/all", true),
            ("cmd /c whoami /allx", BinaryOp::Has, "/all", false),
            ("net user /add", BinaryOp::Has, "/add", true),
            ("https://management.azure.com/subscriptions/0/resourcegroups/test.rg000001?api-version=2021", BinaryOp::Has, "resourcegroups/test.rg000001", true),
            ("https://management.azure.com/subscriptions/0/resourcegroups/test.rg000001?api-version=2021", BinaryOp::Has, "/resourcegroups/test.rg000001?", true),
            ("https://management.azure.com/subscriptions/0/resourcegroups/test.rg000001?api-version=2021", BinaryOp::Has, "resourcegroups/test.rg00000", false),
            // repeated candidate: first occurrence fails the boundary, second passes
            ("myzoho zoho", BinaryOp::Has, "zoho", true),
            ("aaa", BinaryOp::Has, "aa", false),
        ];
        for (h, op, n, want) in cases {
            let m = StringMatcher::new(*op, n);
            assert!(m.is_some(), "{op:?} {n:?}");
            let got = m.map(|m| m.matches(h));
            assert_eq!(got, Some(*want), "{h:?} {} {n:?}", op.text());
            // binary() agrees with the matcher
            assert_eq!(
                binary(*op, &s(h), &s(n)),
                Ok(Value::Bool(*want)),
                "binary {h:?} {} {n:?}",
                op.text()
            );
        }
    }

    /// SEMANTICS.md §4.3: contains/startswith/endswith/=~/regex.
    #[test]
    fn other_string_ops_table() {
        use BinaryOp::*;
        let cases: &[(&str, BinaryOp, &str, bool)] = &[
            ("FabriKam", Contains, "BRik", true),
            ("FabriKam", ContainsCs, "Kam", true),
            ("FabriKam", ContainsCs, "kam", false),
            ("Fabrikam", NotContains, "xyz", true),
            ("Fabrikam", NotContainsCs, "Kam", true),
            ("Fabrikam", StartsWith, "fab", true),
            ("Fabrikam", StartsWithCs, "fab", false),
            ("Fabrikam", EndsWith, "KAM", true),
            ("Fabrikam", EndsWithCs, "kam", true),
            ("Fabrikam", NotStartsWith, "kam", true),
            ("Fabrikam", NotEndsWith, "brik", true),
            ("Fabrikam", NotStartsWithCs, "fab", true),
            ("ab", StartsWith, "abc", false),
            ("ab", EndsWith, "abc", false),
            ("abc", EqCi, "ABC", true),
            ("aBc", NeCi, "ABC", false),
            ("aBc", NeCi, "xyz", true),
            ("KANSAS", MatchesRegex, "K.*S", true),
            ("LAKE SUPERIOR", MatchesRegex, "K.*S", true),
            ("kansas", MatchesRegex, "K.*S", false),
            ("Kansas City", MatchesRegex, "(?i)^kansas$", false),
            ("kansas", MatchesRegex, "(?i)^kansas$", true),
            ("xAbCx", Contains, "abc", true),
            ("xAbx", Contains, "abc", false),
            ("a", Contains, "", true),
        ];
        for (h, op, n, want) in cases {
            assert_eq!(
                binary(*op, &s(h), &s(n)),
                Ok(Value::Bool(*want)),
                "{h:?} {} {n:?}",
                op.text()
            );
        }
    }

    #[test]
    fn string_ops_on_other_types() {
        let d = Value::dynamic(serde_json::json!({"Command": "whoami /all"}));
        assert_eq!(
            binary(BinaryOp::Has, &d, &s("whoami")),
            Ok(Value::Bool(true))
        );
        assert_eq!(
            binary(BinaryOp::Has, &d, &s("command")),
            Ok(Value::Bool(true))
        );
        assert_eq!(
            binary(BinaryOp::Has, &Value::Long(443), &s("443")),
            Ok(Value::Bool(true))
        );
        assert_eq!(
            binary(BinaryOp::Has, &Value::Null, &s("x")),
            Ok(Value::Null)
        );
        assert_eq!(
            binary(BinaryOp::NotHas, &Value::Null, &s("x")),
            Ok(Value::Null)
        );
    }

    /// SEMANTICS.md §3 rule 5 and §4.2/4.3 list operators.
    #[test]
    fn list_matcher_table() {
        let strs = |xs: &[&str]| xs.iter().map(|x| s(x)).collect::<Vec<_>>();
        let ports = vec![Value::dynamic(serde_json::json!([22, 3389, 5985]))];
        let iocs = vec![Value::dynamic(serde_json::json!([
            "44d88612fea8a8f36de82e1278abb02f"
        ]))];
        let cases: Vec<(ListOp, Vec<Value>, Value, Value)> = vec![
            (
                ListOp::In,
                vec![Value::Long(1), Value::Long(2)],
                Value::Null,
                Value::Bool(false),
            ),
            (
                ListOp::NotIn,
                vec![Value::Long(1), Value::Long(2)],
                Value::Null,
                Value::Bool(true),
            ),
            (ListOp::In, ports.clone(), Value::Int(22), Value::Bool(true)),
            (ListOp::In, ports, Value::Int(80), Value::Bool(false)),
            (
                ListOp::In,
                strs(&["powershell.exe", "pwsh.exe"]),
                s("PowerShell.EXE"),
                Value::Bool(false),
            ),
            (
                ListOp::InCi,
                strs(&["powershell.exe", "pwsh.exe"]),
                s("PowerShell.EXE"),
                Value::Bool(true),
            ),
            (
                ListOp::NotInCi,
                strs(&["powershell.exe"]),
                s("PowerShell.EXE"),
                Value::Bool(false),
            ),
            (
                ListOp::In,
                iocs.clone(),
                s("44D88612FEA8A8F36DE82E1278ABB02F"),
                Value::Bool(false),
            ),
            (
                ListOp::InCi,
                iocs,
                s("44D88612FEA8A8F36DE82E1278ABB02F"),
                Value::Bool(true),
            ),
            (
                ListOp::In,
                strs(&["assist.zoho.com"]),
                s("x.assist.zoho.com"),
                Value::Bool(false),
            ),
            (
                ListOp::HasAll,
                strs(&["south", "north"]),
                s("North and South America"),
                Value::Bool(true),
            ),
            (
                ListOp::HasAll,
                strs(&["south", "north"]),
                s("North America"),
                Value::Bool(false),
            ),
            (
                ListOp::HasAny,
                strs(&["south", "north"]),
                s("North America"),
                Value::Bool(true),
            ),
            (
                ListOp::HasAny,
                strs(&["sout", "nort"]),
                s("North America"),
                Value::Bool(false),
            ),
            (
                ListOp::HasAny,
                vec![Value::dynamic(serde_json::json!([]))],
                s("x"),
                Value::Bool(false),
            ),
            (
                ListOp::HasAny,
                strs(&["evil.com"]),
                s("evil.com.au"),
                Value::Bool(true),
            ),
            (
                ListOp::HasAny,
                strs(&["evil.com"]),
                s("notevil.com"),
                Value::Bool(false),
            ),
            (
                ListOp::HasAnyCs,
                strs(&["evil.com"]),
                s("EVIL.COM"),
                Value::Bool(false),
            ),
            (ListOp::HasAny, strs(&["x"]), Value::Null, Value::Null),
            (
                ListOp::In,
                vec![Value::Real(1.5)],
                Value::Real(1.5),
                Value::Bool(true),
            ),
        ];
        for (op, items, v, want) in cases {
            let m = ListMatcher::new(op, &items);
            assert!(m.is_ok(), "{op:?}");
            let got = m.map(|m| m.eval(&v)).unwrap_or(Value::Null);
            assert_eq!(got, want, "{v:?} {} {items:?}", op.text());
        }
    }

    /// `has_any`/`has_all` through the automaton agree with one `has` per
    /// needle, also past 64 needles (the bitmask limit of `has_all`).
    #[test]
    fn list_terms_agree_with_single_has() {
        let hays = [
            "cmd /c whoami /all",
            "net user /add",
            "https://assist.zoho.com/x",
            "ASSIST.ZOHO.COM:443",
            "myassist.zoho.community",
            "t12 t13 t5",
            "",
        ];
        let mut needles: Vec<String> = (0..70).map(|i| format!("t{i}")).collect();
        needles.extend(["whoami", "/add", "assist.zoho.com", "/all", "-x"].map(String::from));
        let items: Vec<Value> = needles.iter().map(|n| s(n)).collect();
        for h in hays {
            let per: Vec<bool> = needles.iter().map(|n| has(h, n)).collect();
            let any = ListMatcher::new(ListOp::HasAny, &items).map(|m| m.eval(&s(h)));
            assert_eq!(
                any,
                Ok(Value::Bool(per.iter().any(|x| *x))),
                "{h:?} has_any"
            );
            let all = ListMatcher::new(ListOp::HasAll, &items).map(|m| m.eval(&s(h)));
            assert_eq!(
                all,
                Ok(Value::Bool(per.iter().all(|x| *x))),
                "{h:?} has_all"
            );
            let few = &items[..3];
            let per_few = per[..3].iter().all(|x| *x);
            let all_few = ListMatcher::new(ListOp::HasAll, few).map(|m| m.eval(&s(h)));
            assert_eq!(all_few, Ok(Value::Bool(per_few)), "{h:?} has_all (3)");
        }
        let all = ListMatcher::new(ListOp::HasAll, &[s("t12"), s("T13"), s("t5")])
            .map(|m| m.eval(&s("t12 t13 t5")));
        assert_eq!(all, Ok(Value::Bool(true)));
    }

    #[test]
    fn has_helper_agrees_with_contains_for_non_term_needles() {
        assert!(has("a.b", "."));
        assert!(!has("ab", "."));
    }
}
