//! The composition of a hunt, shared by `rmmhunt hunt` (CLI) and
//! `rmmhunt serve` (timer and HTTP API): settings, plus what the CLI's flags
//! override ([`Overrides`]), → rules, exclusions, source and sinks
//! ([`App`]); [`App::run`] runs one [`HuntRequest`] and returns a
//! [`HuntOutcome`] (the pipeline's report, per-rule sink results, rules
//! skipped because they were already running, whether a deadline cut it);
//! [`App::view`] turns it into DESIGN.md's JSON shape ([`HuntView`]).
//!
//! Lives here: what both edges need. Does not live here: printing, exit
//! codes, progress bars (`cli`), HTTP, envelopes and logs (`serve`). Neither
//! edge imports the other; both build the same hunt from here.
//!
//! Sources and sinks are built per hunt ([`App::source`], [`App::sinks`]):
//! the Azure ones drive their own current-thread runtime and are not `Send`,
//! so the server builds them inside the blocking task that runs the hunt.
//! The HTTP client and the token cache are built once and shared.

use crate::azure::arm::{ArmClient, AzureTransport, RetryPolicy as ArmRetry, Severity};
use crate::azure::auth::{self, TokenProvider};
use crate::azure::http::{HttpClient, RetryPolicy};
use crate::config::{SourceKind, Validated};
use crate::pipeline::exclude::ExclusionSet;
use crate::pipeline::{
    expired_exclusions, run_rule, ExpiredExclusion, HuntOptions, HuntReport, RuleReport,
};
use crate::rule::{self, Rule};
use crate::sample::{self, GenerateOptions, SampleFormat};
use crate::sink::logs_ingestion::LogsIngestionSink;
use crate::sink::sentinel::{self, DryRunSink, SentinelSink};
use crate::sink::{Sink, SinkSummary};
use crate::source::defender::DefenderSource;
use crate::source::files::{DataSpec, FileCatalog, FileError, FileSource};
use crate::source::local::LocalSource;
use crate::source::log_analytics::LogAnalyticsSource;
use crate::source::{Source, TimeWindow};
use kql::input::{ByteSource, Format, MemorySource};
use kql::Table;
use serde_json::{json, Map, Value as Json};
use std::collections::HashSet;
use std::io::Read;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Seed of the built-in sample data (no data files).
pub const SAMPLE_SEED: u64 = 7;
/// Rows of the built-in sample data: 5 blocks of the generator's mix.
pub const SAMPLE_ROWS: u64 = 500;
/// `now` of the built-in sample data: a Wednesday, so the sample's Sunday
/// maintenance window lies inside the rule's 5-day lookback.
pub const SAMPLE_NOW: &str = "2026-11-25T12:00:00Z";
/// The example exclusions, used with the sample data when no exclusion
/// file is given.
pub const EXAMPLE_EXCLUSIONS: &str = include_str!("../examples/exclusions.yaml");
pub const EXAMPLE_EXCLUSIONS_PATH: &str = "examples/exclusions.yaml";

/// What the CLI's flags set; the settings fill what they leave open.
#[derive(Clone, Debug, Default)]
pub struct Overrides {
    pub source: Option<SourceKind>,
    pub rules: Option<PathBuf>,
    /// Run only these rules (ids, case-insensitive); empty: every rule.
    pub rule_ids: Vec<String>,
    pub data: Vec<DataSpec>,
    pub exclusions: Option<PathBuf>,
}

/// Why an [`App`] could not be built: nothing ran.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// A setting or flag is wrong (the message names it).
    #[error("{0}")]
    Setting(String),
    /// The rules have errors (rendered in `diagnostics`, file:line:col).
    #[error("the rules have errors (see above); nothing was run")]
    Rules { diagnostics: Vec<String> },
    /// `rule_ids` names a rule that is not loaded.
    #[error("no rule with id {}; loaded: {}", .unknown.join(", "), .loaded.join(", "))]
    UnknownRules {
        unknown: Vec<String>,
        loaded: Vec<String>,
    },
    #[error("no rules to run")]
    NoRules,
    /// The exclusion file has errors (one line each, file:line:col).
    #[error("the exclusion file has errors (see above); nothing was run")]
    Exclusions { problems: Vec<String> },
    /// The exclusion file reads columns the rules' tables lack.
    #[error("the exclusion file does not fit the rules (see above); nothing was run")]
    ExclusionsDoNotFit { problems: Vec<String> },
}

/// The settings, an HTTP client and a token provider for Azure.
#[derive(Clone)]
pub struct AzureClients {
    pub config: Validated,
    pub http: HttpClient,
    pub tokens: Arc<dyn TokenProvider>,
}

impl AzureClients {
    pub fn new(cfg: &Validated) -> Result<AzureClients, String> {
        let http = HttpClient::new(RetryPolicy {
            deadline: cfg.request_deadline,
            ..RetryPolicy::default()
        })
        .map_err(|e| e.to_string())?;
        let tokens = auth::from_config(&cfg.credential, http.reqwest());
        Ok(AzureClients {
            config: cfg.clone(),
            http,
            tokens,
        })
    }
}

/// Which sinks a hunt writes to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SinkMode {
    /// Write nothing; say what would be written (one incident per rule and
    /// device).
    DryRun,
    /// Every configured sink (Sentinel incidents when `RMMHUNT_SENTINEL_*`
    /// are set, ...); possibly none.
    Configured,
    /// Like `Configured`, but Sentinel must be configured (`hunt
    /// --incidents`).
    Incidents,
}

/// Everything a hunt is composed from, built once.
pub struct App {
    pub settings: Validated,
    pub source_kind: SourceKind,
    /// The rules to run (the selected ones, when `rule_ids` was given).
    pub rules: Vec<Rule>,
    /// Rendered rule diagnostics (warnings) of the load.
    pub rule_diagnostics: Vec<String>,
    pub exclusions: ExclusionSet,
    /// Where the exclusions came from (`None`: nothing is excluded).
    pub exclusions_file: Option<String>,
    /// Data files of the local source (empty: the built-in sample).
    pub data: Vec<DataSpec>,
    azure: Option<AzureClients>,
}

impl App {
    /// Resolves settings and overrides, loads and checks rules and
    /// exclusions, and prepares the Azure clients when anything talks to
    /// Azure (`azure_sinks`: the hunt may write incidents).
    pub fn build(settings: Validated, ov: Overrides, azure_sinks: bool) -> Result<App, AppError> {
        let source_kind = ov.source.or(settings.source).unwrap_or(SourceKind::Local);
        let mut data = ov.data;
        if data.is_empty() && source_kind == SourceKind::Local {
            for spec in &settings.data {
                match spec.parse::<DataSpec>() {
                    Ok(d) => data.push(d),
                    Err(e) => return Err(AppError::Setting(format!("RMMHUNT_DATA: {spec}: {e}"))),
                }
            }
        }
        let remote = source_kind != SourceKind::Local;
        if remote && !data.is_empty() {
            return Err(AppError::Setting(
                "--data is for --source local; a remote source reads its own tables".into(),
            ));
        }
        let azure = if remote || azure_sinks || settings.logs_ingestion.is_some() {
            Some(AzureClients::new(&settings).map_err(AppError::Setting)?)
        } else {
            None
        };
        let sample_mode = !remote && data.is_empty();

        let rules_path = ov.rules.or(settings.rules.clone());
        let loaded = match &rules_path {
            Some(path) => {
                if !path.exists() {
                    return Err(AppError::Setting(format!(
                        "--rules {}: no such file or folder",
                        path.display()
                    )));
                }
                rule::load_path(path)
            }
            None => rule::builtin_rules(),
        };
        let rule_diagnostics: Vec<String> = loaded
            .diagnostics
            .iter()
            .map(|d| d.render_plain())
            .collect();
        if loaded.has_errors() {
            return Err(AppError::Rules {
                diagnostics: rule_diagnostics,
            });
        }
        let rules = select(loaded.rules, &ov.rule_ids)?;

        let exclusions_path = ov.exclusions.or(settings.exclusions.clone());
        let (loaded, exclusions_file) = match &exclusions_path {
            Some(path) => (ExclusionSet::load(path), Some(path.display().to_string())),
            None if sample_mode => (
                ExclusionSet::parse(EXAMPLE_EXCLUSIONS_PATH, EXAMPLE_EXCLUSIONS),
                Some(EXAMPLE_EXCLUSIONS_PATH.to_string()),
            ),
            None => (Ok(ExclusionSet::empty()), None),
        };
        let exclusions = loaded.map_err(|errors| AppError::Exclusions {
            problems: errors.0.iter().map(|e| e.to_string()).collect(),
        })?;
        let problems = exclusions.check_against(&rules);
        if !problems.is_empty() {
            return Err(AppError::ExclusionsDoNotFit {
                problems: problems.iter().map(|e| e.to_string()).collect(),
            });
        }
        Ok(App {
            settings,
            source_kind,
            rules,
            rule_diagnostics,
            exclusions,
            exclusions_file,
            data,
            azure,
        })
    }

    /// No data files and the local source: the built-in sample data.
    pub fn sample_mode(&self) -> bool {
        self.source_kind == SourceKind::Local && self.data.is_empty()
    }

    /// The source's short name (`local`, `log-analytics`, `defender`).
    pub fn source_name(&self) -> &'static str {
        match self.source_kind {
            SourceKind::Local => "local",
            SourceKind::LogAnalytics => "log-analytics",
            SourceKind::Defender => "defender",
        }
    }

    /// `now` when none is given: the sample's time in sample mode (its data
    /// is generated there), else the current time.
    pub fn default_now(&self) -> i64 {
        if self.sample_mode() {
            sample_now()
        } else {
            current_ticks()
        }
    }

    /// Whether a rule runs when no rule is named (`RMMHUNT_DISABLED_RULES`).
    pub fn enabled(&self, rule: &Rule) -> bool {
        !self
            .settings
            .disabled_rules
            .iter()
            .any(|d| d.eq_ignore_ascii_case(&rule.id))
    }

    /// The rule with this id (case-insensitive).
    pub fn rule(&self, id: &str) -> Option<&Rule> {
        self.rules.iter().find(|r| r.id.eq_ignore_ascii_case(id))
    }

    /// Names of the sinks [`SinkMode::Configured`] writes to.
    pub fn configured_sinks(&self) -> Vec<&'static str> {
        let mut out = Vec::new();
        if self.settings.sentinel.is_some() {
            out.push("sentinel-incidents");
        }
        if self.settings.logs_ingestion.is_some() {
            out.push("logs-ingestion");
        }
        out
    }

    /// The source, built for one hunt. `sample_now`: when the built-in
    /// sample data is generated; `counter`: told every byte read from data
    /// files (a progress bar).
    pub fn source(
        &self,
        sample_now: i64,
        counter: Option<ByteCounter>,
    ) -> Result<Box<dyn Source + Send>, String> {
        match (self.source_kind, &self.azure) {
            (SourceKind::LogAnalytics, Some(az)) => {
                LogAnalyticsSource::from_config(&az.config, az.http.clone(), az.tokens.clone())
                    .map(|s| Box::new(s) as Box<dyn Source + Send>)
                    .map_err(|e| format!("--source log-analytics: {e}"))
            }
            (SourceKind::Defender, Some(az)) => {
                DefenderSource::from_config(&az.config, az.http.clone(), az.tokens.clone())
                    .map(|s| Box::new(s) as Box<dyn Source + Send>)
                    .map_err(|e| format!("--source defender: {e}"))
            }
            (SourceKind::Local, _) => {
                let catalog = if self.sample_mode() {
                    sample_catalog(sample_now)
                } else {
                    open_catalog(&self.data, counter)
                };
                Ok(Box::new(LocalSource::new(catalog?)))
            }
            _ => Err("the Azure clients were not prepared".into()),
        }
    }

    /// The sinks of one hunt; every problem when one cannot be built.
    pub fn sinks(&self, mode: SinkMode) -> Result<Vec<Box<dyn Sink>>, Vec<String>> {
        let severity = self
            .settings
            .incident_severity
            .parse()
            .ok()
            .unwrap_or(Severity::Medium);
        if mode == SinkMode::DryRun {
            return Ok(vec![Box::new(DryRunSink {
                settings: sentinel::IncidentSettings {
                    severity,
                    ..Default::default()
                },
            })]);
        }
        let mut sinks: Vec<Box<dyn Sink>> = Vec::new();
        let mut errors = Vec::new();
        let az = match &self.azure {
            Some(az) => az,
            None if mode == SinkMode::Configured && self.configured_sinks().is_empty() => {
                return Ok(sinks)
            }
            None => return Err(vec!["the Azure clients were not prepared".into()]),
        };
        if mode == SinkMode::Incidents || self.settings.sentinel.is_some() {
            match sentinel_sink(az) {
                Ok(s) => sinks.push(Box::new(s)),
                Err(e) => errors.extend(e),
            }
        }
        // Logs Ingestion (RMMHUNT_LOGS_INGESTION_*; `None` when not set).
        match LogsIngestionSink::from_config(&az.config, az.http.clone(), az.tokens.clone()) {
            Ok(Some(s)) => sinks.push(Box::new(s)),
            Ok(None) => {}
            Err(e) => errors.push(format!("logs ingestion: {e}")),
        }
        if errors.is_empty() {
            Ok(sinks)
        } else {
            Err(errors)
        }
    }

    /// Runs the request's rules over `source`, each rule's findings into
    /// every sink right after the rule (skipped for a failed rule, no
    /// findings, or a rule that finished after the deadline). Every
    /// finished rule is also pushed to `progress`, so a caller that stops
    /// waiting at the deadline can answer with what finished.
    pub fn run(
        &self,
        req: &HuntRequest,
        source: &dyn Source,
        sinks: &[Box<dyn Sink>],
        progress: &Progress,
    ) -> HuntOutcome {
        let opts = HuntOptions::new(req.window).with_device(req.device.clone());
        let mut outcome = HuntOutcome {
            window: req.window,
            source: source.name().to_string(),
            rules: Vec::new(),
            skipped: Vec::new(),
            cut: false,
            dry_run: sinks.iter().all(|s| s.name() == "dry-run"),
            expired: Vec::new(),
        };
        for rule in self.selected(req) {
            if progress.is_cancelled() || req.deadline.is_some_and(|d| Instant::now() >= d) {
                outcome.cut = true;
                break;
            }
            let claim = match &req.in_flight {
                Some(set) => match set.try_claim(&rule.id) {
                    Some(c) => Some(c),
                    None => {
                        outcome.skipped.push(rule.id.clone());
                        continue;
                    }
                },
                None => None,
            };
            if let Some(f) = &req.on_rule {
                f(rule);
            }
            let started = Instant::now();
            let report = run_rule(rule, source, &self.exclusions, &opts);
            if req.deadline.is_some_and(|d| Instant::now() >= d) {
                // Too late: the caller has answered without this rule; write
                // nothing it was not told about. (A cancel at shutdown lets
                // the running rule finish: its caller still gets the answer.)
                outcome.cut = true;
                break;
            }
            let mut run = RuleRun {
                sinks: Vec::new(),
                duration: Duration::ZERO,
                report,
            };
            if run.report.error.is_none() && !run.report.findings.rows.is_empty() {
                for sink in sinks {
                    let result = sink.write(rule, &run.report.findings).map_err(|e| {
                        let message = e.to_string();
                        let summary = match e {
                            crate::sink::SinkError::Several { summary, .. } => summary,
                            crate::sink::SinkError::Ingestion { summary, .. } => *summary,
                            _ => SinkSummary::default(),
                        };
                        SinkFailure { message, summary }
                    });
                    run.sinks.push((sink.name().to_string(), result));
                }
            }
            run.duration = started.elapsed();
            drop(claim);
            progress.push(run.clone());
            outcome.rules.push(run);
        }
        outcome.expired = expired_exclusions(&self.exclusions, req.window.end);
        outcome
    }

    /// The rules a request runs, in load order.
    fn selected<'a>(&'a self, req: &'a HuntRequest) -> impl Iterator<Item = &'a Rule> + 'a {
        self.rules.iter().filter(move |r| {
            if req.rules.is_empty() {
                !req.skip_disabled || self.enabled(r)
            } else {
                req.rules.iter().any(|id| id.eq_ignore_ascii_case(&r.id))
            }
        })
    }

    /// DESIGN.md's JSON view of an outcome (also `hunt --format json`).
    pub fn view(&self, outcome: &HuntOutcome) -> HuntView {
        self.view_of(
            outcome.window,
            &outcome.source,
            &outcome.rules,
            &outcome.expired,
        )
    }

    /// The view of the rules in `runs` (e.g. what finished before a deadline).
    pub fn view_of(
        &self,
        window: TimeWindow,
        source: &str,
        runs: &[RuleRun],
        expired: &[ExpiredExclusion],
    ) -> HuntView {
        HuntView {
            now: kql::time::format_datetime(window.end),
            start: kql::time::format_datetime(window.start),
            source: source.to_string(),
            rules: runs
                .iter()
                .map(|run| {
                    let r = &run.report;
                    RuleView {
                        id: r.id.clone(),
                        name: r.name.clone(),
                        findings: r.findings.clone(),
                        excluded: r
                            .excluded
                            .iter()
                            .map(|(name, rows)| ExcludedView {
                                name: name.clone(),
                                reason: self
                                    .exclusions
                                    .entries
                                    .iter()
                                    .find(|e| e.name == *name)
                                    .map(|e| e.reason.clone())
                                    .unwrap_or_default(),
                                rows: *rows,
                            })
                            .collect(),
                        error: r.error.as_ref().map(|e| e.to_string()),
                    }
                })
                .collect(),
            expired: expired
                .iter()
                .map(|e| ExpiredView {
                    name: e.name.clone(),
                    expires: e.expires.clone(),
                })
                .collect(),
        }
    }
}

/// Picks `ids` out of `rules` (all when empty).
fn select(mut rules: Vec<Rule>, ids: &[String]) -> Result<Vec<Rule>, AppError> {
    if !ids.is_empty() {
        let unknown: Vec<String> = ids
            .iter()
            .filter(|id| !rules.iter().any(|r| r.id.eq_ignore_ascii_case(id)))
            .cloned()
            .collect();
        if !unknown.is_empty() {
            return Err(AppError::UnknownRules {
                unknown,
                loaded: rules.iter().map(|r| r.id.clone()).collect(),
            });
        }
        rules.retain(|r| ids.iter().any(|id| r.id.eq_ignore_ascii_case(id)));
    }
    if rules.is_empty() {
        return Err(AppError::NoRules);
    }
    Ok(rules)
}

/// One hunt to run.
#[derive(Clone)]
pub struct HuntRequest {
    /// Rule ids to run; empty: every rule (minus the disabled ones when
    /// `skip_disabled`).
    pub rules: Vec<String>,
    pub skip_disabled: bool,
    pub window: TimeWindow,
    /// Keep only this device's rows (`DeviceName =~` / `DeviceId ==`).
    pub device: Option<String>,
    /// Stop starting rules, and write nothing for a rule finished, after this.
    pub deadline: Option<Instant>,
    /// Rules already running elsewhere are skipped (the timer).
    pub in_flight: Option<Arc<InFlight>>,
    /// Told each rule as it starts (the CLI's progress bar).
    pub on_rule: Option<RuleHook>,
}

impl HuntRequest {
    /// Every rule over `window`, nothing else set.
    pub fn new(window: TimeWindow) -> HuntRequest {
        HuntRequest {
            rules: Vec::new(),
            skip_disabled: false,
            window,
            device: None,
            deadline: None,
            in_flight: None,
            on_rule: None,
        }
    }
}

/// Told each rule as it starts.
pub type RuleHook = Arc<dyn Fn(&Rule) + Send + Sync>;
/// Told the bytes read from data files.
pub type ByteCounter = Arc<dyn Fn(u64) + Send + Sync>;

/// A sink write that failed, with what it wrote before failing.
#[derive(Clone, Debug)]
pub struct SinkFailure {
    pub message: String,
    pub summary: SinkSummary,
}

/// One rule's run: the pipeline's report, each sink's result, how long.
#[derive(Clone, Debug)]
pub struct RuleRun {
    pub report: RuleReport,
    /// `(sink name, result)` in sink order; empty when nothing was written
    /// (failed rule, no findings).
    pub sinks: Vec<(String, Result<SinkSummary, SinkFailure>)>,
    pub duration: Duration,
}

impl RuleRun {
    /// What the sinks did (including the part of failed writes that
    /// happened).
    pub fn sink_summary(&self) -> SinkSummary {
        let mut total = SinkSummary::default();
        for (_, r) in &self.sinks {
            match r {
                Ok(s) => total.add(s.clone()),
                Err(f) => total.add(f.summary.clone()),
            }
        }
        total
    }

    /// The failed sink writes' messages.
    pub fn sink_errors(&self) -> Vec<String> {
        self.sinks
            .iter()
            .filter_map(|(_, r)| r.as_ref().err().map(|f| f.message.clone()))
            .collect()
    }
}

/// What a hunt did.
#[derive(Clone, Debug)]
pub struct HuntOutcome {
    pub window: TimeWindow,
    pub source: String,
    /// The rules that finished, in order.
    pub rules: Vec<RuleRun>,
    /// Rules not run because they were already running.
    pub skipped: Vec<String>,
    /// The deadline (or a cancel) stopped the hunt before every rule ran.
    pub cut: bool,
    /// Nothing was written (the dry-run sink only, or no sink).
    pub dry_run: bool,
    /// Expired exclusions: not applied.
    pub expired: Vec<ExpiredExclusion>,
}

impl HuntOutcome {
    /// The pipeline's report of the finished rules.
    pub fn report(&self) -> HuntReport {
        HuntReport {
            rules: self.rules.iter().map(|r| r.report.clone()).collect(),
            expired: self.expired.clone(),
        }
    }

    /// All sinks, all rules.
    pub fn sink_summary(&self) -> SinkSummary {
        let mut total = SinkSummary::default();
        for r in &self.rules {
            total.add(r.sink_summary());
        }
        total
    }

    pub fn sink_errors(&self) -> Vec<String> {
        self.rules.iter().flat_map(|r| r.sink_errors()).collect()
    }

    /// Some rule failed at the source or in the engine.
    pub fn rule_failed(&self) -> bool {
        self.rules.iter().any(|r| r.report.error.is_some())
    }
}

/// Rules running now, so overlapping hunts never run one twice.
#[derive(Debug, Default)]
pub struct InFlight {
    ids: Mutex<HashSet<String>>,
}

impl InFlight {
    /// Marks `rule_id` running; `None` when it already is. The mark goes
    /// when the [`Claim`] is dropped.
    pub fn try_claim(self: &Arc<Self>, rule_id: &str) -> Option<Claim> {
        let key = rule_id.to_ascii_lowercase();
        let mut ids = match self.ids.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        if !ids.insert(key.clone()) {
            return None;
        }
        Some(Claim {
            set: self.clone(),
            key,
        })
    }

    /// Claims every id or none.
    pub fn try_claim_all(self: &Arc<Self>, rule_ids: &[String]) -> Option<Vec<Claim>> {
        let mut claims = Vec::new();
        for id in rule_ids {
            claims.push(self.try_claim(id)?);
        }
        Some(claims)
    }

    pub fn is_running(&self, rule_id: &str) -> bool {
        let ids = match self.ids.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        ids.contains(&rule_id.to_ascii_lowercase())
    }
}

/// A rule marked running (see [`InFlight`]).
#[derive(Debug)]
pub struct Claim {
    set: Arc<InFlight>,
    key: String,
}

impl Drop for Claim {
    fn drop(&mut self) {
        let mut ids = match self.set.ids.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        ids.remove(&self.key);
    }
}

/// The rules a running hunt has finished so far, and a cancel flag.
#[derive(Debug, Default)]
pub struct Progress {
    done: Mutex<Vec<RuleRun>>,
    cancelled: AtomicBool,
}

impl Progress {
    fn push(&self, run: RuleRun) {
        match self.done.lock() {
            Ok(mut g) => g.push(run),
            Err(p) => p.into_inner().push(run),
        }
    }

    /// The rules finished so far.
    pub fn finished(&self) -> Vec<RuleRun> {
        match self.done.lock() {
            Ok(g) => g.clone(),
            Err(p) => p.into_inner().clone(),
        }
    }

    /// Asks the hunt to start no further rule (the running one finishes).
    pub fn cancel(&self) {
        self.cancelled.store(true, Ordering::SeqCst);
    }

    pub fn is_cancelled(&self) -> bool {
        self.cancelled.load(Ordering::SeqCst)
    }
}

/// The outcome of a hunt, ready to render: DESIGN.md's `hunt --format json`
/// object ([`HuntView::to_json`], also the HTTP API's answer); the CLI adds
/// its other renderings.
#[derive(Clone, Debug, Default)]
pub struct HuntView {
    /// `now` of the run (RFC 3339) and the window start (`now - lookback`).
    pub now: String,
    pub start: String,
    pub source: String,
    pub rules: Vec<RuleView>,
    /// Exclusions past their `expires` date: not applied, reported.
    pub expired: Vec<ExpiredView>,
}

#[derive(Clone, Debug, Default)]
pub struct RuleView {
    pub id: String,
    pub name: String,
    pub findings: Table,
    /// Rows each exclusion removed, in exclusion-file order (only exclusions
    /// that apply to this rule).
    pub excluded: Vec<ExcludedView>,
    /// Set when the rule failed at run time (its findings are then empty).
    pub error: Option<String>,
}

#[derive(Clone, Debug, Default)]
pub struct ExcludedView {
    pub name: String,
    pub reason: String,
    pub rows: u64,
}

#[derive(Clone, Debug, Default)]
pub struct ExpiredView {
    pub name: String,
    pub expires: String,
}

impl HuntView {
    /// DESIGN.md's `hunt --format json` object (also the HTTP API's answer).
    pub fn to_json(&self) -> Json {
        let rules: Vec<Json> = self
            .rules
            .iter()
            .map(|r| {
                let excluded: Map<String, Json> = r
                    .excluded
                    .iter()
                    .map(|e| (e.name.clone(), json!(e.rows)))
                    .collect();
                let mut obj = json!({
                    "id": r.id,
                    "name": r.name,
                    "findings": kql::output::table_to_json(&r.findings),
                    "excluded": excluded,
                });
                if let (Some(err), Some(map)) = (&r.error, obj.as_object_mut()) {
                    map.insert("error".into(), json!(err));
                }
                obj
            })
            .collect();
        let expired: Vec<Json> = self
            .expired
            .iter()
            .map(|e| json!({"name": e.name, "expires": e.expires}))
            .collect();
        json!({
            "rules": rules,
            "now": self.now,
            "start": self.start,
            "source": self.source,
            "expired_exclusions": expired,
        })
    }
}

/// The current time in ticks.
pub fn current_ticks() -> i64 {
    let now = time::OffsetDateTime::now_utc();
    let ticks = now.unix_timestamp_nanos() / 100 + i128::from(kql::time::UNIX_EPOCH);
    i64::try_from(ticks).unwrap_or(i64::MAX)
}

/// [`SAMPLE_NOW`] in ticks.
pub fn sample_now() -> i64 {
    kql::time::parse_datetime(SAMPLE_NOW).unwrap_or_default()
}

/// The Sentinel sink from settings (every problem listed).
fn sentinel_sink(az: &AzureClients) -> Result<SentinelSink, Vec<String>> {
    // Its own client and token cache: a reqwest client's pooled
    // connections belong to the runtime that opened them, and the source
    // and the sink each drive their own runtime.
    let az = AzureClients::new(&az.config).map_err(|e| vec![e])?;
    let (target, settings) = sentinel::settings_from_config(&az.config).map_err(|e| vec![e])?;
    let transport = AzureTransport::new(
        az.http.clone(),
        az.tokens.clone(),
        &az.config.endpoints.arm_audience,
    )
    .map_err(|e| vec![e])?;
    let mut client = ArmClient::new(target, Box::new(transport));
    // The shared client already retries 429/5xx within its deadline.
    client.retry = ArmRetry {
        attempts: 1,
        ..ArmRetry::default()
    };
    Ok(SentinelSink::new(client, settings))
}

/// DeviceNetworkEvents from the seeded generator, in memory.
fn sample_catalog(now: i64) -> Result<FileCatalog, String> {
    let opts = GenerateOptions {
        rows: SAMPLE_ROWS,
        seed: SAMPLE_SEED,
        format: SampleFormat::Jsonl,
        now,
    };
    let mut bytes = Vec::new();
    sample::generate(&opts, &mut bytes).map_err(|e| format!("generating the sample data: {e}"))?;
    let mut catalog = FileCatalog::new();
    catalog
        .add_source(
            "DeviceNetworkEvents",
            &format!("sample data (seed {SAMPLE_SEED})"),
            Arc::new(MemorySource::new(bytes)),
            Format::JsonLines,
        )
        .map_err(|e| e.to_string())?;
    Ok(catalog)
}

/// `FileCatalog::open`, with every byte read told to `counter`.
fn open_catalog(specs: &[DataSpec], counter: Option<ByteCounter>) -> Result<FileCatalog, String> {
    let Some(counter) = counter else {
        return FileCatalog::open(specs).map_err(|e| e.to_string());
    };
    let mut catalog = FileCatalog::new();
    for spec in specs {
        let path = spec.path.display().to_string();
        let table = spec
            .table_name()
            .ok_or_else(|| FileError::NoTableName { path: path.clone() }.to_string())?;
        let format = spec
            .path
            .extension()
            .and_then(|e| e.to_str())
            .and_then(Format::from_extension)
            .ok_or_else(|| FileError::UnknownFormat { path: path.clone() }.to_string())?;
        let file = FileSource::open(&spec.path).map_err(|source| {
            FileError::Io {
                path: path.clone(),
                source,
            }
            .to_string()
        })?;
        let counted = Counted {
            inner: file,
            counter: counter.clone(),
        };
        catalog
            .add_source(&table, &path, Arc::new(counted), format)
            .map_err(|e| e.to_string())?;
    }
    Ok(catalog)
}

/// A byte source that reports what is read from it.
struct Counted {
    inner: FileSource,
    counter: ByteCounter,
}

impl ByteSource for Counted {
    fn len(&self) -> u64 {
        self.inner.len()
    }

    fn open_range(&self, start: u64, end: u64) -> std::io::Result<Box<dyn Read + Send>> {
        Ok(Box::new(CountedRead {
            inner: self.inner.open_range(start, end)?,
            counter: self.counter.clone(),
        }))
    }
}

struct CountedRead {
    inner: Box<dyn Read + Send>,
    counter: ByteCounter,
}

impl Read for CountedRead {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        (self.counter)(n as u64);
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sample_constants_parse() {
        assert!(kql::time::parse_datetime(SAMPLE_NOW).is_some());
        let set = ExclusionSet::parse(EXAMPLE_EXCLUSIONS_PATH, EXAMPLE_EXCLUSIONS);
        assert!(set.is_ok(), "{:?}", set.err());
    }

    #[test]
    fn in_flight_claims_once_and_releases_on_drop() {
        let set = Arc::new(InFlight::default());
        let a = set.try_claim("Rule-A");
        assert!(a.is_some());
        assert!(set.try_claim("rule-a").is_none(), "case-insensitive");
        assert!(set.try_claim_all(&["b".into(), "RULE-A".into()]).is_none());
        assert!(!set.is_running("b"), "an all-or-none claim left b marked");
        drop(a);
        assert!(!set.is_running("rule-a"));
        assert!(set.try_claim_all(&["b".into(), "rule-a".into()]).is_some());
    }
}
