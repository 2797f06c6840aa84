//! Where a rule's KQL runs: the [`Source`] trait and its errors.
//!
//! A source takes KQL text and a time window and returns a result table.
//! `local` ([`local::LocalSource`]) runs the embedded engine over a
//! [`kql::Catalog`] (files, in-memory tables); remote sources (Log
//! Analytics, Defender) push the query down to the service. The hunt
//! pipeline sees only this trait: no HTTP, no files. `files` (the input
//! work) exposes the local source's input files as a [`kql::Catalog`].

pub mod defender;
pub mod files;
pub mod local;
pub mod log_analytics;

use kql::time::DAY;
use std::fmt;

/// The time range of a hunt, in ticks (100 ns since 0001-01-01, as
/// [`kql::Value::DateTime`]). `end` is the hunt's `now()`; remote sources
/// send `[start, end]` as the API's `timespan`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimeWindow {
    pub start: i64,
    pub end: i64,
}

impl TimeWindow {
    /// `[now - lookback, now]`.
    pub fn ending_at(now: i64, lookback: i64) -> TimeWindow {
        TimeWindow {
            start: now.saturating_sub(lookback),
            end: now,
        }
    }

    /// The default lookback of the upstream rules: 5 days.
    pub const DEFAULT_LOOKBACK: i64 = 5 * DAY;
}

impl fmt::Display for TimeWindow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}/{}",
            kql::time::format_datetime(self.start),
            kql::time::format_datetime(self.end)
        )
    }
}

/// Runs KQL somewhere.
pub trait Source: Sync {
    /// Short name for reports and logs (`local`, `log-analytics`, `defender`).
    fn name(&self) -> &str;

    /// Runs `kql` with `now()` = `window.end`; the whole result, or an error
    /// (never a silently truncated table).
    fn query(&self, kql: &str, window: TimeWindow) -> Result<kql::Table, SourceError>;
}

/// Why a source could not answer. Context lives in fields.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum SourceError {
    /// The query was rejected before running (syntax, unknown names, types).
    #[error("{origin} rejected the query: {diagnostics}")]
    Query {
        origin: String,
        diagnostics: kql::Diagnostics,
    },
    /// The query failed while running (bad input data, a limit hit...).
    #[error("{origin} failed while running the query: {message}")]
    Eval {
        origin: String,
        message: String,
        diagnostics: kql::Diagnostics,
    },
    /// An HTTP API answered with an error status.
    #[error("{api} answered {status} (request id {request_id}): {message}")]
    Http {
        api: String,
        status: u16,
        request_id: String,
        message: String,
    },
    /// The service could not be reached or did not answer in time.
    #[error("{api}: {message}")]
    Transport { api: String, message: String },
}
