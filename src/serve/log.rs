//! Structured logs of `rmmhunt serve`: JSON lines on stdout (the Functions
//! host forwards them to Application Insights). [`init`] once per process;
//! [`rule_finished`] writes the one line per rule and hunt (`hunt
//! finished`). No secrets: settings print through `config::Secret`, query
//! strings (the host's `code=` key) are never logged, only paths.

use crate::app::RuleRun;
use std::sync::Once;

/// JSON lines on stdout at `info` (the CLI keeps its own stderr text and
/// never calls this).
pub fn init() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let filter = tracing_subscriber::EnvFilter::new("info");
        let _ = tracing_subscriber::fmt()
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .with_target(false)
            .with_env_filter(filter)
            .with_writer(std::io::stdout)
            .try_init();
    });
}

/// How a hunt was started.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Trigger {
    Timer,
    Http,
}

impl Trigger {
    pub fn as_str(self) -> &'static str {
        match self {
            Trigger::Timer => "timer",
            Trigger::Http => "http",
        }
    }
}

/// Rows the Logs Ingestion sink took for a rule (its summary has no
/// counter of its own yet: the rows of a successful write).
/// The `hunt finished` line of one rule.
pub fn rule_finished(trigger: Trigger, request_id: &str, run: &RuleRun) {
    let r = &run.report;
    let excluded: u64 = r.excluded.iter().map(|(_, n)| n).sum();
    let excluded_by: serde_json::Map<String, serde_json::Value> = r
        .excluded
        .iter()
        .map(|(name, n)| (name.clone(), serde_json::json!(n)))
        .collect();
    let excluded_by = serde_json::Value::Object(excluded_by).to_string();
    // a dry run wrote nothing: no incident counts in the log
    let sinks = if run.sinks.iter().all(|(name, _)| name == "dry-run") {
        crate::sink::SinkSummary::default()
    } else {
        run.sink_summary()
    };
    let sink_errors = run.sink_errors();
    let error = match (&r.error, sink_errors.is_empty()) {
        (Some(e), _) => Some(e.to_string()),
        (None, false) => Some(sink_errors.join("; ")),
        (None, true) => None,
    };
    let duration_ms = u64::try_from(run.duration.as_millis()).unwrap_or(u64::MAX);
    // one field list for both levels (the level of a tracing event is part
    // of its static metadata, hence a macro)
    macro_rules! finished {
        ($level:ident $(, $($extra:tt)+)?) => {
            tracing::$level!(
                trigger = trigger.as_str(),
                request_id,
                rule_id = %r.id,
                rows_scanned = r.rows_scanned,
                findings = r.findings.rows.len(),
                excluded,
                excluded_by = %excluded_by,
                incidents_created = sinks.created,
                incidents_updated = sinks.updated,
                findings_ingested = sinks.ingested,
                duration_ms,
                $($($extra)+)?
                "hunt finished"
            )
        };
    }
    match error {
        None => finished!(info),
        Some(error) => finished!(error, error = %error,),
    }
}
