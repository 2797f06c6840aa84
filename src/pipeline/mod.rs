//! The hunt (DESIGN.md "One hunt, three entry points"): rule -> source ->
//! rows -> exclusions -> aggregate -> findings.
//!
//! [`run_rule`] cuts the rule's KQL at its final `summarize`
//! ([`split::split`]); the part before it runs at the [`Source`] with a
//! `project` of the columns the summarize and the exclusions need; excluded
//! rows are dropped and counted per exclusion (first matching entry in file
//! order); the summarize and whatever follows it run in the embedded engine
//! over the remaining rows. A rule without a summarize runs whole at the
//! source and its output rows are filtered. With no exclusions the findings
//! equal running the whole query at once.
//!
//! [`run_hunt`] runs many rules; one failing rule never stops the rest (its
//! [`RuleReport::error`] says why). Pure logic over the `Source` trait: no
//! HTTP, files, clock or environment.
//!
//! ```no_run
//! use rmmhunt::pipeline::{self, exclude::ExclusionSet, HuntOptions};
//! use rmmhunt::rule;
//! use rmmhunt::source::{local::LocalSource, TimeWindow};
//!
//! let rules = rule::builtin_rules().rules; // or rule::load_path(path).rules
//! let source = LocalSource::new(kql::MemoryCatalog::new()); // the CLI: a FileCatalog of --data
//! let exclusions = ExclusionSet::load("examples/exclusions.yaml".as_ref())
//!     .unwrap_or_else(|errors| panic!("{errors}")); // every error, file:line:col and entry
//! let now = kql::time::parse_datetime("2026-11-25T12:00:00Z").unwrap_or_default();
//! let opts = HuntOptions::new(TimeWindow::ending_at(now, TimeWindow::DEFAULT_LOOKBACK));
//! let report = pipeline::run_hunt(&rules, &source, &exclusions, &opts);
//! for r in &report.rules {
//!     println!("{}: {} findings, excluded {:?}", r.name, r.findings.rows.len(), r.excluded);
//! }
//! if report.failed() { /* exit non-zero */ }
//! ```

pub mod device;
pub mod exclude;
pub mod split;

use crate::rule::schema::known_tables;
use crate::rule::Rule;
use crate::source::{Source, SourceError, TimeWindow};
use exclude::{BoundExclusions, ExclusionSet};
use kql::{EvalContext, MemoryCatalog, Table};

/// How a hunt runs.
#[derive(Clone, Debug)]
pub struct HuntOptions {
    /// The hunt's time range; `window.end` is `now()` and the day expiry
    /// of exclusions is judged on.
    pub window: TimeWindow,
    /// Bounds for the embedded engine's part of the work.
    pub limits: kql::Limits,
    /// Keep only rows of this device (`DeviceName =~` or `DeviceId ==`),
    /// pushed to the source ([`device`]).
    pub device: Option<String>,
}

impl HuntOptions {
    pub fn new(window: TimeWindow) -> HuntOptions {
        HuntOptions {
            window,
            limits: kql::Limits::default(),
            device: None,
        }
    }

    /// The same options, keeping only rows of `device`.
    pub fn with_device(mut self, device: Option<String>) -> HuntOptions {
        self.device = device;
        self
    }
}

/// Why a rule produced no findings.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum HuntError {
    /// The rule's query did not parse (rules from the loader always do).
    #[error("rule {rule_id}: the query does not parse: {diagnostics}")]
    Parse {
        rule_id: String,
        diagnostics: kql::Diagnostics,
    },
    /// The source failed.
    #[error("rule {rule_id}: {source}")]
    Source {
        rule_id: String,
        #[source]
        source: SourceError,
    },
    /// The embedded engine failed on the summarize part.
    #[error("rule {rule_id}: aggregating the remaining rows failed: {diagnostics}")]
    Aggregate {
        rule_id: String,
        diagnostics: kql::Diagnostics,
    },
}

/// What one rule's run produced.
#[derive(Debug, Clone)]
pub struct RuleReport {
    pub id: String,
    pub name: String,
    /// The rule's output rows (empty table when `error` is set).
    pub findings: Table,
    /// Rows removed per exclusion, every applicable entry in file order
    /// (0 when it matched nothing). Adds up to the rows removed.
    pub excluded: Vec<(String, u64)>,
    /// Rows the source returned (before exclusions).
    pub rows_scanned: u64,
    /// Things worth knowing that did not stop the rule (e.g. an exclusion
    /// that reads a column this rule's rows do not have).
    pub warnings: Vec<String>,
    pub error: Option<HuntError>,
}

/// An exclusion that has expired and was not applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpiredExclusion {
    pub name: String,
    /// `YYYY-MM-DD`
    pub expires: String,
}

/// What a hunt produced: one report per rule, in the order given.
#[derive(Debug, Clone, Default)]
pub struct HuntReport {
    pub rules: Vec<RuleReport>,
    /// Expired exclusions (not applied), file order.
    pub expired: Vec<ExpiredExclusion>,
}

impl HuntReport {
    /// Whether any rule failed (the CLI exits non-zero, the server answers
    /// non-2xx).
    pub fn failed(&self) -> bool {
        self.rules.iter().any(|r| r.error.is_some())
    }
}

/// Runs every rule; see the module docs.
pub fn run_hunt(
    rules: &[Rule],
    source: &dyn Source,
    exclusions: &ExclusionSet,
    opts: &HuntOptions,
) -> HuntReport {
    HuntReport {
        rules: rules
            .iter()
            .map(|r| run_rule(r, source, exclusions, opts))
            .collect(),
        expired: expired_exclusions(exclusions, opts.window.end),
    }
}

/// The entries of `exclusions` that have expired by `end` (not applied).
pub fn expired_exclusions(exclusions: &ExclusionSet, end: i64) -> Vec<ExpiredExclusion> {
    exclusions
        .expired(end)
        .into_iter()
        .map(|e| ExpiredExclusion {
            name: e.name.clone(),
            expires: e.expires.map(|d| d.to_string()).unwrap_or_default(),
        })
        .collect()
}

/// Runs one rule; see the module docs.
pub fn run_rule(
    rule: &Rule,
    source: &dyn Source,
    exclusions: &ExclusionSet,
    opts: &HuntOptions,
) -> RuleReport {
    let mut report = RuleReport {
        id: rule.id.clone(),
        name: rule.name.clone(),
        findings: Table::default(),
        excluded: Vec::new(),
        rows_scanned: 0,
        warnings: Vec::new(),
        error: None,
    };
    if let Err(e) = hunt(rule, source, exclusions, opts, &mut report) {
        report.findings = Table::default();
        report.error = Some(e);
    }
    report
}

fn hunt(
    rule: &Rule,
    source: &dyn Source,
    exclusions: &ExclusionSet,
    opts: &HuntOptions,
    report: &mut RuleReport,
) -> Result<(), HuntError> {
    let ast = kql::parse(&rule.query).map_err(|d| HuntError::Parse {
        rule_id: rule.id.clone(),
        diagnostics: d,
    })?;
    let active = exclusions.active_for(&rule.id, opts.window.end);
    let source_err = |e| HuntError::Source {
        rule_id: rule.id.clone(),
        source: e,
    };
    let ctx = EvalContext {
        now: opts.window.end,
        limits: opts.limits.clone(),
    };
    let Some(mut split) = split::split(&ast) else {
        // no summarize: the whole query at the source, rows filtered
        let text = match &opts.device {
            None => rule.query.clone(),
            Some(device) => {
                let schema = schema_of(&split::with_take_zero(&ast), &ctx);
                match device_where(device, schema.as_ref(), report) {
                    Some(op) => split::piped(&ast, op).to_string(),
                    None => return Ok(()),
                }
            }
        };
        let table = source.query(&text, opts.window).map_err(source_err)?;
        report.rows_scanned = table.rows.len() as u64;
        report.findings = apply_exclusions(table, &active, report);
        return Ok(());
    };

    // Which columns the head must keep: what the summarize reads and what
    // the exclusions read, among the columns the head actually has.
    let head_schema = schema_of(&split.head_schema_query(), &ctx);
    if let Some(device) = &opts.device {
        match device_where(device, head_schema.as_ref(), report) {
            Some(op) => split.push_head(op),
            None => return Ok(()),
        }
    }
    let mut columns: Option<Vec<String>> = split.summarize_names();
    if let (Some(cols), Some(schema)) = (&mut columns, &head_schema) {
        cols.retain(|c| schema.index_of(c).is_some());
        for e in &active {
            for c in e.columns() {
                if schema.index_of(c).is_some() && !cols.iter().any(|x| x == c) {
                    cols.push(c.to_string());
                }
            }
        }
    }
    let columns = match (columns, head_schema) {
        (Some(c), Some(_)) => c,
        // `*` in the summarize, or the head's schema is unknown: keep every column
        _ => Vec::new(),
    };
    // printed with the canonical printer: what the source receives is the AST we reasoned about
    let head_text = split.head_query(&columns).to_string();
    let rows = source.query(&head_text, opts.window).map_err(source_err)?;
    report.rows_scanned = rows.rows.len() as u64;
    let rows = apply_exclusions(rows, &active, report);

    let tail = split.tail_query();
    let catalog = MemoryCatalog::new().with_table(split::ROWS_TABLE, rows);
    let aggregate_err = |d| HuntError::Aggregate {
        rule_id: rule.id.clone(),
        diagnostics: d,
    };
    let plan = kql::plan(&tail, &catalog).map_err(aggregate_err)?;
    report.findings = kql::run(&plan, &catalog, &ctx).map_err(|e| HuntError::Aggregate {
        rule_id: rule.id.clone(),
        diagnostics: kql::Diagnostics(vec![e.to_diagnostic()]),
    })?;
    Ok(())
}

/// The device filter over the device columns `schema` has (both when the
/// schema is unknown: the source then judges the names). `None` after a
/// warning when the rows have neither column: the rule cannot be narrowed
/// to one device, so it reports no findings for it.
fn device_where(
    device: &str,
    schema: Option<&kql::Schema>,
    report: &mut RuleReport,
) -> Option<kql::ast::Operator> {
    let has = |c: &str| schema.is_none_or(|s| s.index_of(c).is_some());
    let op = device::filter(device, has(device::DEVICE_NAME), has(device::DEVICE_ID));
    if op.is_none() {
        report.warnings.push(format!(
            "the rule's rows have no {} or {} column: no findings for a device hunt",
            device::DEVICE_NAME,
            device::DEVICE_ID
        ));
    }
    op
}

/// The output schema of `q` (a query ending in `take 0`), found by running
/// it over empty tables of the known schemas. `None` if that fails (e.g. a
/// table we do not know): then the head keeps every column.
fn schema_of(q: &kql::ast::Query, ctx: &EvalContext) -> Option<kql::Schema> {
    let mut catalog = MemoryCatalog::new();
    for (name, schema) in known_tables() {
        catalog.insert(
            name.clone(),
            Table {
                schema: schema.clone(),
                rows: Vec::new(),
            },
        );
    }
    let plan = kql::plan(q, &catalog).ok()?;
    kql::run(&plan, &catalog, ctx).ok().map(|t| t.schema)
}

/// Drops rows matching an exclusion, counting them under the first entry
/// that matches; fills `report.excluded` and warnings.
fn apply_exclusions(
    table: Table,
    active: &[&exclude::Exclusion],
    report: &mut RuleReport,
) -> Table {
    let (bound, warnings) = BoundExclusions::bind(active, &table.schema);
    report.warnings.extend(warnings);
    let names = bound.names();
    let mut counts = vec![0u64; names.len()];
    let Table { schema, rows } = table;
    let rows = if names.is_empty() {
        rows
    } else {
        rows.into_iter()
            .filter(|row| match bound.first_match(row) {
                Some(i) => {
                    if let Some(c) = counts.get_mut(i) {
                        *c += 1;
                    }
                    false
                }
                None => true,
            })
            .collect()
    };
    report.excluded = names.iter().map(|n| n.to_string()).zip(counts).collect();
    Table { schema, rows }
}
