//! The exclusion file (DESIGN.md "Exclusion file"): named, owned, expiring
//! entries whose `when` conditions (AND within an entry, OR across entries)
//! remove legitimate event rows before aggregation.
//!
//! ```yaml
//! exclusions:
//!   - name: it-support-team            # required, unique
//!     reason: IT support uses Zoho Assist   # required
//!     owner: secops@contoso.example    # optional
//!     expires: 2027-06-30              # optional; applies through that day (UTC)
//!     rules: [b915897c-1fe7-47f4-9e06-2ae74da8203e]   # optional; default every rule
//!     when:
//!       InitiatingProcessAccountName: { in~: [it_support_1, it_support_2] }
//!       Timestamp: { weekly: { days: [Sun], start: "01:00", end: "05:00", tz: Europe/London } }
//! ```
//!
//! Operators: `==`, `in`, `in~`, `has`, `has_any`, `contains`, `startswith`,
//! `endswith`, `matches` (regex), `wildcard` (glob, case-insensitive, whole
//! value), `cidr` (IPv4/IPv6 networks or addresses), `weekly` (a wall-clock
//! window in a time zone on a datetime column; `end` before `start` crosses
//! midnight and belongs to the day it starts). Several operators under one
//! column must all hold. The string operators are the KQL engine's own
//! ([`kql::functions::ops`]), so `has` means here what it means in a rule.
//!
//! Parsing is strict and collects every problem ([`ExclusionErrors`]) with
//! file, line and entry; a file with any error yields no set. Matching is
//! pure: no I/O, no clock (the hunt's `now` is passed in).

use crate::rule::schema::known_tables;
use crate::rule::yaml::{self, Node, NodeKind};
use ipnet::IpNet;
use kql::ast::{BinaryOp, ListOp};
use kql::functions::ops;
use kql::{Schema, Type, Value};
use std::fmt;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

/// One problem in an exclusion file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExclusionError {
    pub path: PathBuf,
    /// 1-based; 0 when the problem has no place (unreadable file).
    pub line: usize,
    pub column: usize,
    /// The entry's name (or `#N`, 1-based, when it has none yet).
    pub entry: Option<String>,
    pub message: String,
}

impl fmt::Display for ExclusionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.path.display())?;
        if self.line > 0 {
            write!(f, ":{}:{}", self.line, self.column)?;
        }
        if let Some(e) = &self.entry {
            write!(f, ": exclusion '{e}'")?;
        }
        write!(f, ": {}", self.message)
    }
}

/// Every problem of an exclusion file (never empty).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct ExclusionErrors(pub Vec<ExclusionError>);

impl fmt::Display for ExclusionErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

/// A loaded, valid exclusion file.
#[derive(Clone, Debug, Default)]
pub struct ExclusionSet {
    pub path: PathBuf,
    pub entries: Vec<Exclusion>,
}

/// One named entry.
#[derive(Clone, Debug)]
pub struct Exclusion {
    pub name: String,
    pub reason: String,
    pub owner: Option<String>,
    /// Last day (UTC) the entry applies.
    pub expires: Option<jiff::civil::Date>,
    /// Rule ids the entry applies to; `None` = every rule.
    pub rules: Option<Vec<String>>,
    pub conditions: Vec<Condition>,
    /// Line and column of the entry in its file (its first key).
    pub line: usize,
    pub column: usize,
}

/// `column` must satisfy `test`.
#[derive(Clone, Debug)]
pub struct Condition {
    pub column: String,
    pub test: Test,
    /// Where the column's key is in the file.
    pub line: usize,
    pub col: usize,
}

/// A compiled operator.
#[derive(Clone, Debug)]
pub enum Test {
    /// `==` (KQL `==`: case-sensitive for strings).
    Eq(Value),
    /// `in`, `in~`, `has_any`
    List(ListOp, ops::ListMatcher),
    /// `has`, `contains`, `startswith`, `endswith`, `matches`
    Str(BinaryOp, ops::StringMatcher),
    /// `wildcard`: any of the globs matches the whole value.
    Wildcard(Vec<regex::Regex>),
    /// `cidr`: the value is an address inside any of the networks.
    Cidr(Vec<IpNet>),
    Weekly(Weekly),
}

/// A weekly wall-clock window.
#[derive(Clone, Debug)]
pub struct Weekly {
    /// Days the window starts on (all when the file lists none).
    pub days: Vec<jiff::civil::Weekday>,
    /// Seconds after local midnight; `end` may be below `start` (crosses
    /// midnight) and may be 86400 (`24:00`).
    pub start: u32,
    pub end: u32,
    pub tz: jiff::tz::TimeZone,
}

impl Weekly {
    /// Whether the datetime (ticks) falls inside the window.
    pub fn contains(&self, ticks: i64) -> bool {
        let secs = ticks
            .saturating_sub(kql::time::UNIX_EPOCH)
            .div_euclid(kql::time::SECOND);
        let Ok(ts) = jiff::Timestamp::from_second(secs) else {
            return false;
        };
        let dt = self.tz.to_datetime(ts);
        let sod = dt.hour() as u32 * 3600 + dt.minute() as u32 * 60 + dt.second() as u32;
        let day = dt.weekday();
        let on = |d: jiff::civil::Weekday| self.days.is_empty() || self.days.contains(&d);
        if self.start < self.end {
            on(day) && sod >= self.start && sod < self.end
        } else {
            (on(day) && sod >= self.start) || (on(day.previous()) && sod < self.end)
        }
    }
}

impl Test {
    /// Whether one value satisfies the test.
    pub fn matches(&self, v: &Value) -> bool {
        match self {
            Test::Eq(want) => ops::binary(BinaryOp::Eq, v, want)
                .ok()
                .and_then(|r| ops::truthy(&r))
                .unwrap_or(false),
            Test::List(_, m) => ops::truthy(&m.eval(v)).unwrap_or(false),
            Test::Str(_, m) => m.matches(&ops::str_of(v)),
            Test::Wildcard(globs) => {
                let s = ops::str_of(v);
                globs.iter().any(|g| g.is_match(&s))
            }
            Test::Cidr(nets) => match ops::str_of(v).trim().parse::<IpAddr>() {
                Ok(ip) => nets.iter().any(|n| n.contains(&ip)),
                Err(_) => false,
            },
            Test::Weekly(w) => match v {
                Value::DateTime(t) => w.contains(*t),
                _ => false,
            },
        }
    }
}

impl Exclusion {
    /// Whether the entry applies to the rule (scope only, not expiry).
    pub fn applies_to(&self, rule_id: &str) -> bool {
        self.rules
            .as_ref()
            .is_none_or(|ids| ids.iter().any(|i| i.eq_ignore_ascii_case(rule_id)))
    }

    /// Whether the entry has expired at `now` (ticks): the UTC date of `now`
    /// is after `expires`.
    pub fn is_expired(&self, now: i64) -> bool {
        let Some(exp) = self.expires else {
            return false;
        };
        let secs = now
            .saturating_sub(kql::time::UNIX_EPOCH)
            .div_euclid(kql::time::SECOND);
        match jiff::Timestamp::from_second(secs) {
            Ok(ts) => jiff::tz::TimeZone::UTC.to_datetime(ts).date() > exp,
            Err(_) => false,
        }
    }

    /// The columns its conditions read, in order, without repeats.
    pub fn columns(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for c in &self.conditions {
            if !out.contains(&c.column.as_str()) {
                out.push(&c.column);
            }
        }
        out
    }
}

impl ExclusionSet {
    /// An empty set (no exclusions file).
    pub fn empty() -> ExclusionSet {
        ExclusionSet::default()
    }

    /// Reads and validates a file.
    pub fn load(path: &Path) -> Result<ExclusionSet, ExclusionErrors> {
        match std::fs::read_to_string(path) {
            Ok(text) => ExclusionSet::parse(path, &text),
            Err(e) => Err(ExclusionErrors(vec![ExclusionError {
                path: path.to_path_buf(),
                line: 0,
                column: 0,
                entry: None,
                message: format!("cannot read the exclusion file: {e}"),
            }])),
        }
    }

    /// Validates exclusion YAML; `path` names the file in errors.
    pub fn parse(path: impl Into<PathBuf>, text: &str) -> Result<ExclusionSet, ExclusionErrors> {
        let path = path.into();
        let mut cx = Cx {
            path: path.clone(),
            errors: Vec::new(),
        };
        let entries = cx.file(text);
        if cx.errors.is_empty() {
            Ok(ExclusionSet { path, entries })
        } else {
            Err(ExclusionErrors(cx.errors))
        }
    }

    /// Checks entries scoped with `rules:` against the rules they name:
    /// every column an entry reads must be in the schema of a table those
    /// rules declare (`requiredDataConnectors[].dataTypes`). Rule ids that
    /// are not among `rules` are not checked (a run may load a subset).
    /// Returns every problem; empty when all is well.
    pub fn check_against(&self, rules: &[crate::rule::Rule]) -> Vec<ExclusionError> {
        let mut out = Vec::new();
        for e in &self.entries {
            let Some(ids) = &e.rules else { continue };
            for rule in rules
                .iter()
                .filter(|r| ids.iter().any(|i| i.eq_ignore_ascii_case(&r.id)))
            {
                let schemas: Vec<&Schema> = rule
                    .data_types
                    .iter()
                    .filter_map(|t| crate::rule::schema::table_schema(t))
                    .collect();
                if schemas.is_empty() {
                    continue;
                }
                for c in &e.conditions {
                    if !schemas.iter().any(|s| s.get(&c.column).is_some()) {
                        out.push(ExclusionError {
                            path: self.path.clone(),
                            line: c.line,
                            column: c.col,
                            entry: Some(e.name.clone()),
                            message: format!(
                                "unknown column `{}` for rule {} (tables: {})",
                                c.column,
                                rule.id,
                                rule.data_types.join(", ")
                            ),
                        });
                    }
                }
            }
        }
        out
    }

    /// Entries that apply to a rule at `now`: in scope, not expired; file order.
    pub fn active_for(&self, rule_id: &str, now: i64) -> Vec<&Exclusion> {
        self.entries
            .iter()
            .filter(|e| e.applies_to(rule_id) && !e.is_expired(now))
            .collect()
    }

    /// Entries that have expired at `now` (reported, never applied).
    pub fn expired(&self, now: i64) -> Vec<&Exclusion> {
        self.entries.iter().filter(|e| e.is_expired(now)).collect()
    }
}

/// Entries bound to the columns of one table of rows.
#[derive(Debug)]
pub struct BoundExclusions<'a> {
    /// `(entry, [(column index, test)])`, file order.
    entries: Vec<(&'a Exclusion, Vec<(usize, &'a Test)>)>,
}

impl<'a> BoundExclusions<'a> {
    /// Binds entries to a schema. An entry that reads a column the rows do
    /// not have cannot match; it is left out and named in the returned
    /// warnings.
    pub fn bind(entries: &[&'a Exclusion], schema: &Schema) -> (BoundExclusions<'a>, Vec<String>) {
        let mut bound = Vec::new();
        let mut warnings = Vec::new();
        for e in entries {
            let mut tests = Vec::new();
            let mut missing = Vec::new();
            for c in &e.conditions {
                match schema.index_of(&c.column) {
                    Some(i) => tests.push((i, &c.test)),
                    None => missing.push(c.column.as_str()),
                }
            }
            if missing.is_empty() {
                bound.push((*e, tests));
            } else {
                warnings.push(format!(
                    "exclusion '{}' not applied: the rule's rows have no column {}",
                    e.name,
                    missing.join(", ")
                ));
            }
        }
        (BoundExclusions { entries: bound }, warnings)
    }

    /// The names of the bound entries, file order.
    pub fn names(&self) -> Vec<&'a str> {
        self.entries.iter().map(|(e, _)| e.name.as_str()).collect()
    }

    /// Index (into [`BoundExclusions::names`]) of the first entry whose
    /// conditions all hold for the row.
    pub fn first_match(&self, row: &[Value]) -> Option<usize> {
        self.entries.iter().position(|(_, tests)| {
            tests
                .iter()
                .all(|(i, t)| row.get(*i).is_some_and(|v| t.matches(v)))
        })
    }
}

// ---------------------------------------------------------------- parsing

struct Cx {
    path: PathBuf,
    errors: Vec<ExclusionError>,
}

const ENTRY_KEYS: &[&str] = &["name", "reason", "owner", "expires", "rules", "when"];
const OPERATORS: &[&str] = &[
    "==",
    "in",
    "in~",
    "has",
    "has_any",
    "contains",
    "startswith",
    "endswith",
    "matches",
    "wildcard",
    "cidr",
    "weekly",
];

/// The type of a column in any known table.
fn column_type(name: &str) -> Option<Type> {
    known_tables()
        .iter()
        .find_map(|(_, s)| s.get(name).map(|c| c.ty))
}

impl Cx {
    fn err(&mut self, node: &Node, entry: Option<&str>, message: impl Into<String>) {
        self.errors.push(ExclusionError {
            path: self.path.clone(),
            line: node.mark.line,
            column: node.mark.col,
            entry: entry.map(str::to_string),
            message: message.into(),
        });
    }

    fn file(&mut self, text: &str) -> Vec<Exclusion> {
        let root = match yaml::parse(text) {
            Ok(Some(root)) => root,
            Ok(None) => {
                self.errors.push(ExclusionError {
                    path: self.path.clone(),
                    line: 1,
                    column: 1,
                    entry: None,
                    message: "empty file: expected `exclusions:` with a list of entries".into(),
                });
                return Vec::new();
            }
            Err(e) => {
                self.errors.push(ExclusionError {
                    path: self.path.clone(),
                    line: e.mark.line,
                    column: e.mark.col,
                    entry: None,
                    message: format!("invalid YAML: {}", e.message),
                });
                return Vec::new();
            }
        };
        let NodeKind::Map(top) = &root.kind else {
            self.err(
                &root,
                None,
                format!(
                    "expected a mapping with `exclusions:`, found {}",
                    root.kind_name()
                ),
            );
            return Vec::new();
        };
        let mut list = None;
        for (k, v) in top {
            match k.as_str() {
                Some("exclusions") if list.is_none() => list = Some(v),
                Some("exclusions") => self.err(k, None, "duplicate key `exclusions`"),
                Some(other) => self.err(
                    k,
                    None,
                    format!("unknown key `{other}` (expected `exclusions`)"),
                ),
                None => self.err(k, None, "keys must be strings"),
            }
        }
        let Some(list) = list else {
            self.err(&root, None, "missing `exclusions:`");
            return Vec::new();
        };
        let items: &[Node] = match &list.kind {
            NodeKind::Seq(items) => items,
            _ if list.is_null() => &[],
            _ => {
                self.err(
                    list,
                    None,
                    format!("`exclusions` must be a list, found {}", list.kind_name()),
                );
                return Vec::new();
            }
        };
        let mut out: Vec<Exclusion> = Vec::new();
        for (i, item) in items.iter().enumerate() {
            if let Some(e) = self.entry(item, i + 1) {
                if let Some(first) = out.iter().find(|x| x.name == e.name) {
                    let msg = format!("duplicate name (first used on line {})", first.line);
                    self.errors.push(ExclusionError {
                        path: self.path.clone(),
                        line: e.line,
                        column: e.column,
                        entry: Some(e.name.clone()),
                        message: msg,
                    });
                } else {
                    out.push(e);
                }
            }
        }
        out
    }

    fn scalar<'n>(&mut self, node: &'n Node, entry: Option<&str>, what: &str) -> Option<&'n str> {
        match node.as_str() {
            Some(s) => Some(s),
            None => {
                self.err(
                    node,
                    entry,
                    format!("{what} must be a single value, found {}", node.kind_name()),
                );
                None
            }
        }
    }

    fn list<'n>(
        &mut self,
        node: &'n Node,
        entry: Option<&str>,
        what: &str,
        allow_scalar: bool,
    ) -> Vec<&'n Node> {
        match &node.kind {
            NodeKind::Seq(items) => {
                let mut out = Vec::new();
                for i in items {
                    if i.as_str().is_some() {
                        out.push(i);
                    } else {
                        self.err(
                            i,
                            entry,
                            format!(
                                "{what}: items must be single values, found {}",
                                i.kind_name()
                            ),
                        );
                    }
                }
                out
            }
            NodeKind::Scalar(..) if allow_scalar => vec![node],
            _ => {
                self.err(
                    node,
                    entry,
                    format!("{what} must be a list, found {}", node.kind_name()),
                );
                Vec::new()
            }
        }
    }

    fn entry(&mut self, item: &Node, index: usize) -> Option<Exclusion> {
        let NodeKind::Map(fields) = &item.kind else {
            self.err(
                item,
                Some(&format!("#{index}")),
                format!("an entry must be a mapping, found {}", item.kind_name()),
            );
            return None;
        };
        // the entry's place: its first key (the `- name:` line)
        let at = fields.first().map_or(item, |(k, _)| k);
        let before = self.errors.len();
        // the name first, so every later error can name the entry
        let name = fields
            .iter()
            .find(|(k, _)| k.as_str() == Some("name"))
            .and_then(|(_, v)| v.as_str())
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty());
        let label = name.clone().unwrap_or_else(|| format!("#{index}"));
        let entry = Some(label.as_str());
        let mut seen: Vec<&str> = Vec::new();
        let (mut reason, mut owner, mut expires, mut rules, mut when) =
            (None, None, None, None, None);
        for (k, v) in fields {
            let Some(key) = k.as_str() else {
                self.err(k, entry, "keys must be strings");
                continue;
            };
            if seen.contains(&key) {
                self.err(k, entry, format!("duplicate key `{key}`"));
                continue;
            }
            seen.push(key);
            match key {
                "name" => {
                    if v.as_str().is_none_or(|s| s.trim().is_empty()) {
                        self.err(v, entry, "`name` must be a non-empty string");
                    }
                }
                "reason" => reason = self.scalar(v, entry, "`reason`").map(str::to_string),
                "owner" => owner = self.scalar(v, entry, "`owner`").map(str::to_string),
                "expires" => {
                    if let Some(s) = self.scalar(v, entry, "`expires`") {
                        match s.trim().parse::<jiff::civil::Date>() {
                            Ok(d) => expires = Some(d),
                            Err(_) => self.err(
                                v,
                                entry,
                                format!("`expires` must be a date YYYY-MM-DD, found {s:?}"),
                            ),
                        }
                    }
                }
                "rules" => {
                    let ids = self.list(v, entry, "`rules`", false);
                    rules = Some(
                        ids.iter()
                            .filter_map(|n| n.as_str())
                            .map(|s| s.trim().to_string())
                            .collect(),
                    );
                }
                "when" => when = Some(v),
                other => self.err(
                    k,
                    entry,
                    format!(
                        "unknown key `{other}` (expected one of: {})",
                        ENTRY_KEYS.join(", ")
                    ),
                ),
            }
        }
        if name.is_none() && !seen.contains(&"name") {
            self.err(at, entry, "missing required key `name`");
        }
        match &reason {
            None if !seen.contains(&"reason") => {
                self.err(at, entry, "missing required key `reason`")
            }
            Some(r) if r.trim().is_empty() => self.err(at, entry, "`reason` must not be empty"),
            _ => {}
        }
        let mut conditions = Vec::new();
        match when {
            None => self.err(at, entry, "missing required key `when` (an entry without conditions would exclude everything)"),
            Some(w) => conditions = self.when(w, entry),
        }
        if self.errors.len() > before {
            return None;
        }
        Some(Exclusion {
            name: name?,
            reason: reason?,
            owner,
            expires,
            rules,
            conditions,
            line: at.mark.line,
            column: at.mark.col,
        })
    }

    fn when(&mut self, node: &Node, entry: Option<&str>) -> Vec<Condition> {
        let NodeKind::Map(cols) = &node.kind else {
            self.err(
                node,
                entry,
                format!(
                    "`when` must map column names to conditions, found {}",
                    node.kind_name()
                ),
            );
            return Vec::new();
        };
        if cols.is_empty() {
            self.err(node, entry, "`when` has no conditions");
        }
        let mut out = Vec::new();
        let mut seen: Vec<&str> = Vec::new();
        for (k, v) in cols {
            let Some(column) = k.as_str() else {
                self.err(k, entry, "column names must be strings");
                continue;
            };
            if seen.contains(&column) {
                self.err(
                    k,
                    entry,
                    format!("column `{column}` appears twice (put both operators under one key)"),
                );
                continue;
            }
            seen.push(column);
            let Some(ty) = column_type(column) else {
                self.err(
                    k,
                    entry,
                    format!("unknown column `{column}` (not in any known table schema)"),
                );
                continue;
            };
            let NodeKind::Map(ops_) = &v.kind else {
                self.err(
                    v,
                    entry,
                    format!("`{column}` must map operators to values, e.g. {{ ==: value }}"),
                );
                continue;
            };
            if ops_.is_empty() {
                self.err(v, entry, format!("`{column}` has no operator"));
            }
            for (opk, arg) in ops_ {
                let Some(op) = opk.as_str() else {
                    self.err(opk, entry, "operators must be strings");
                    continue;
                };
                if let Some(test) = self.test(op, opk, arg, ty, column, entry) {
                    out.push(Condition {
                        column: column.to_string(),
                        test,
                        line: k.mark.line,
                        col: k.mark.col,
                    });
                }
            }
        }
        out
    }

    fn test(
        &mut self,
        op: &str,
        opk: &Node,
        arg: &Node,
        ty: Type,
        column: &str,
        entry: Option<&str>,
    ) -> Option<Test> {
        let lit = |s: &str| -> Value {
            if ty == Type::String {
                Value::string(s)
            } else {
                ops::cast(&Value::string(s), ty)
            }
        };
        match op {
            "==" => {
                let s = self.scalar(arg, entry, "`==`")?;
                let v = lit(s);
                if v.is_null() {
                    self.err(
                        arg,
                        entry,
                        format!("`{s}` is not a {ty} value (column `{column}` is {ty})"),
                    );
                    return None;
                }
                Some(Test::Eq(v))
            }
            "in" | "in~" | "has_any" => {
                let items = self.list(arg, entry, &format!("`{op}`"), false);
                if items.is_empty() {
                    self.err(arg, entry, format!("`{op}` needs at least one value"));
                    return None;
                }
                let list_op = match op {
                    "in" => ListOp::In,
                    "in~" => ListOp::InCi,
                    _ => ListOp::HasAny,
                };
                let values: Vec<Value> = items
                    .iter()
                    .filter_map(|n| n.as_str())
                    .map(|s| {
                        if list_op == ListOp::In {
                            lit(s)
                        } else {
                            Value::string(s)
                        }
                    })
                    .collect();
                match ops::ListMatcher::new(list_op, &values) {
                    Ok(m) => Some(Test::List(list_op, m)),
                    Err(e) => {
                        self.err(arg, entry, format!("`{op}`: {e}"));
                        None
                    }
                }
            }
            "has" | "contains" | "startswith" | "endswith" | "matches" => {
                let s = self.scalar(arg, entry, &format!("`{op}`"))?;
                let bop = match op {
                    "has" => BinaryOp::Has,
                    "contains" => BinaryOp::Contains,
                    "startswith" => BinaryOp::StartsWith,
                    "endswith" => BinaryOp::EndsWith,
                    _ => BinaryOp::MatchesRegex,
                };
                if bop == BinaryOp::MatchesRegex {
                    if let Err(e) = regex::Regex::new(s) {
                        self.err(
                            arg,
                            entry,
                            format!("bad regex {s:?}: {}", one_line(&e.to_string())),
                        );
                        return None;
                    }
                }
                match ops::StringMatcher::new(bop, s) {
                    Some(m) => Some(Test::Str(bop, m)),
                    None => {
                        self.err(arg, entry, format!("`{op}` cannot use {s:?}"));
                        None
                    }
                }
            }
            "wildcard" => {
                let mut globs = Vec::new();
                for n in self.list(arg, entry, "`wildcard`", true) {
                    let s = n.as_str().unwrap_or_default();
                    match glob_regex(s) {
                        Ok(r) => globs.push(r),
                        Err(e) => self.err(n, entry, format!("bad wildcard {s:?}: {e}")),
                    }
                }
                (!globs.is_empty()).then_some(Test::Wildcard(globs))
            }
            "cidr" => {
                let mut nets = Vec::new();
                let mut bad = false;
                for n in self.list(arg, entry, "`cidr`", true) {
                    let s = n.as_str().unwrap_or_default().trim();
                    let parsed = s
                        .parse::<IpNet>()
                        .or_else(|_| s.parse::<IpAddr>().map(IpNet::from));
                    match parsed {
                        Ok(net) => nets.push(net),
                        Err(_) => {
                            bad = true;
                            self.err(n, entry, format!("bad CIDR {s:?} (expected e.g. 10.0.0.0/8, fd00::/8 or an address)"));
                        }
                    }
                }
                (!bad && !nets.is_empty()).then_some(Test::Cidr(nets))
            }
            "weekly" => {
                if ty != Type::DateTime {
                    self.err(
                        opk,
                        entry,
                        format!("`weekly` needs a datetime column; `{column}` is {ty}"),
                    );
                    return None;
                }
                self.weekly(arg, entry).map(Test::Weekly)
            }
            other => {
                self.err(
                    opk,
                    entry,
                    format!(
                        "unknown operator `{other}` (expected one of: {})",
                        OPERATORS.join(", ")
                    ),
                );
                None
            }
        }
    }

    fn weekly(&mut self, node: &Node, entry: Option<&str>) -> Option<Weekly> {
        let NodeKind::Map(fields) = &node.kind else {
            self.err(
                node,
                entry,
                "`weekly` must be a mapping {days, start, end, tz}",
            );
            return None;
        };
        let before = self.errors.len();
        let (mut days, mut start, mut end, mut tz) =
            (Vec::new(), None, None, Some(jiff::tz::TimeZone::UTC));
        for (k, v) in fields {
            match k.as_str() {
                Some("days") => {
                    for d in self.list(v, entry, "`days`", true) {
                        let s = d.as_str().unwrap_or_default();
                        match weekday(s) {
                            Some(w) => days.push(w),
                            None => self.err(
                                d,
                                entry,
                                format!("bad day {s:?} (Mon, Tue, Wed, Thu, Fri, Sat, Sun)"),
                            ),
                        }
                    }
                }
                Some("start") => start = self.time_of_day(v, entry, "start"),
                Some("end") => end = self.time_of_day(v, entry, "end"),
                Some("tz") => {
                    if let Some(s) = self.scalar(v, entry, "`tz`") {
                        match jiff::tz::TimeZone::get(s.trim()) {
                            Ok(z) => tz = Some(z),
                            Err(_) => self.err(v, entry, format!("unknown time zone {s:?} (an IANA name such as Europe/London or UTC)")),
                        }
                    }
                }
                Some(other) => self.err(
                    k,
                    entry,
                    format!("unknown key `{other}` in `weekly` (days, start, end, tz)"),
                ),
                None => self.err(k, entry, "keys must be strings"),
            }
        }
        if start.is_none() && !fields.iter().any(|(k, _)| k.as_str() == Some("start")) {
            self.err(node, entry, "`weekly` needs `start`");
        }
        if end.is_none() && !fields.iter().any(|(k, _)| k.as_str() == Some("end")) {
            self.err(node, entry, "`weekly` needs `end`");
        }
        if let (Some(s), Some(e)) = (start, end) {
            if s == e {
                self.err(
                    node,
                    entry,
                    "`start` and `end` are equal: the window is empty",
                );
            }
        }
        if self.errors.len() > before {
            return None;
        }
        Some(Weekly {
            days,
            start: start?,
            end: end?,
            tz: tz?,
        })
    }

    fn time_of_day(&mut self, node: &Node, entry: Option<&str>, what: &str) -> Option<u32> {
        let s = self.scalar(node, entry, &format!("`{what}`"))?;
        match parse_time_of_day(s.trim()) {
            Some(t) if what == "end" || t < 86_400 => Some(t),
            _ => {
                self.err(
                    node,
                    entry,
                    format!("`{what}` must be a time HH:MM or HH:MM:SS, found {s:?}"),
                );
                None
            }
        }
    }
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `HH:MM[:SS]` -> seconds after midnight; `24:00` allowed (end of day).
fn parse_time_of_day(s: &str) -> Option<u32> {
    let parts: Vec<&str> = s.split(':').collect();
    if !(2..=3).contains(&parts.len())
        || parts
            .iter()
            .any(|p| p.len() != 2 || !p.bytes().all(|b| b.is_ascii_digit()))
    {
        return None;
    }
    let n = |i: usize| parts.get(i).and_then(|p| p.parse::<u32>().ok());
    let (h, m, sec) = (n(0)?, n(1)?, if parts.len() == 3 { n(2)? } else { 0 });
    if m > 59 || sec > 59 || h > 24 || (h == 24 && (m > 0 || sec > 0)) {
        return None;
    }
    Some(h * 3600 + m * 60 + sec)
}

fn weekday(s: &str) -> Option<jiff::civil::Weekday> {
    use jiff::civil::Weekday::*;
    let l = s.trim().to_ascii_lowercase();
    let table = [
        ("mon", Monday, "monday"),
        ("tue", Tuesday, "tuesday"),
        ("wed", Wednesday, "wednesday"),
        ("thu", Thursday, "thursday"),
        ("fri", Friday, "friday"),
        ("sat", Saturday, "saturday"),
        ("sun", Sunday, "sunday"),
    ];
    table
        .iter()
        .find(|(a, _, full)| l == *a || l == *full)
        .map(|(_, w, _)| *w)
}

/// A case-insensitive glob (`*` any run, `?` one character) matching the
/// whole value.
fn glob_regex(glob: &str) -> Result<regex::Regex, String> {
    let mut re = String::from("(?is)^");
    for c in glob.chars() {
        match c {
            '*' => re.push_str(".*"),
            '?' => re.push('.'),
            c => re.push_str(&regex::escape(&c.to_string())),
        }
    }
    re.push('$');
    regex::Regex::new(&re).map_err(|e| one_line(&e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_of_day() {
        for (s, want) in [
            ("01:00", Some(3600)),
            ("23:59:59", Some(86_399)),
            ("24:00", Some(86_400)),
            ("1:00", None),
            ("25:00", None),
            ("12:60", None),
            ("x", None),
        ] {
            assert_eq!(parse_time_of_day(s), want, "{s:?}");
        }
    }

    #[test]
    fn globs() {
        for (g, s, want) in [
            ("srv-*.contoso.local", "SRV-01.Contoso.Local", true),
            ("srv-*.contoso.local", "srv-01.contoso.local.evil", false),
            ("srv-?", "srv-1", true),
            ("srv-?", "srv-12", false),
            ("a.b", "axb", false),
        ] {
            let r = glob_regex(g).map(|r| r.is_match(s));
            assert_eq!(r, Ok(want), "{g:?} vs {s:?}");
        }
    }
}
