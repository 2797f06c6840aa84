//! The `log-analytics` source: pushes the KQL to the Log Analytics query
//! API ([`crate::azure::log_analytics`]) with the hunt window as the API's
//! `timespan`, and makes sure no row is silently lost: a result truncated at
//! the row limit (500,000, configurable for tests) or carrying a
//! `PartialError` is re-queried as two half windows, recursively, down to a
//! minimum window below which the query fails loudly; the halves' rows are
//! concatenated in time order.
//!
//! Splitting is only valid for row-level queries: the pipeline sends the
//! part of a rule before its final summarize (rows, not aggregates), so the
//! union of the halves' rows is the whole window's rows. A query that
//! aggregates, limits, joins or numbers rows ([`aggregates`]) is never
//! split: a truncated answer to it is an error.
//!
//! Windows are half-open (`[start, mid)` + `[mid, end)`), as the service
//! applies `timespan` (`TimeGenerated >= start and < end`), so a row on the
//! cut is counted once.
//!
//! [`Source::query`] is synchronous; the async client runs on a tokio
//! runtime owned by the source, driven from a scoped thread so that calling
//! the source from inside another runtime never panics.

use super::{Source, SourceError, TimeWindow};
use crate::azure::auth::{audience_to_scope, TokenProvider};
use crate::azure::http::{HttpClient, HttpError};
use crate::azure::log_analytics::{LogAnalyticsClient, API};
use kql::time::MINUTE;
use kql::Table;
use std::future::Future;
use std::sync::Arc;

/// Default smallest window that may still be split.
pub const DEFAULT_MIN_WINDOW: i64 = MINUTE;

pub struct LogAnalyticsSource {
    client: LogAnalyticsClient,
    runtime: tokio::runtime::Runtime,
    max_rows: usize,
    min_window: i64,
}

impl LogAnalyticsSource {
    /// `max_rows`: the row count at which an answer counts as truncated
    /// (the service's 500,000).
    pub fn new(
        client: LogAnalyticsClient,
        max_rows: usize,
    ) -> Result<LogAnalyticsSource, SourceError> {
        Ok(LogAnalyticsSource {
            client,
            runtime: runtime(API)?,
            max_rows: max_rows.max(1),
            min_window: DEFAULT_MIN_WINDOW,
        })
    }

    /// The source the settings describe (`RMMHUNT_WORKSPACE_ID`,
    /// `RMMHUNT_LOGANALYTICS_ENDPOINT`/`_AUDIENCE`, deadline, wait, row
    /// limit); `tokens` is the process's shared provider
    /// ([`crate::azure::auth::from_config`]).
    pub fn from_config(
        v: &crate::config::Validated,
        http: HttpClient,
        tokens: Arc<dyn TokenProvider>,
    ) -> Result<LogAnalyticsSource, SourceError> {
        let workspace_id = v
            .workspace_id
            .clone()
            .ok_or_else(|| SourceError::Transport {
                api: API.into(),
                message: "RMMHUNT_WORKSPACE_ID is not set".into(),
            })?;
        let client = LogAnalyticsClient {
            http,
            tokens,
            endpoint: v.endpoints.log_analytics.clone(),
            scope: audience_to_scope(&v.endpoints.log_analytics_audience),
            workspace_id,
            wait_secs: v.query_wait_secs,
        };
        LogAnalyticsSource::new(client, v.log_analytics_max_rows)
    }

    /// Windows of at most `ticks` are not split further.
    pub fn with_min_window(mut self, ticks: i64) -> LogAnalyticsSource {
        self.min_window = ticks.max(1);
        self
    }
}

impl Source for LogAnalyticsSource {
    fn name(&self) -> &str {
        API
    }

    fn query(&self, kql: &str, window: TimeWindow) -> Result<Table, SourceError> {
        let client = &self.client;
        let max_rows = self.max_rows;
        let fut = query_split(API, kql, window, self.min_window, |timespan| async move {
            let out = client.query(kql, &timespan).await?;
            let trouble = match (&out.partial, out.table.rows.len() >= max_rows) {
                (Some(p), _) => Some(format!(
                    "partial result ({}) (request id {})",
                    p.describe(),
                    out.request_id
                )),
                (None, true) => Some(format!("truncated at {max_rows} rows")),
                (None, false) => None,
            };
            Ok((out.table, trouble))
        });
        block_on(&self.runtime, API, fut)
    }
}

/// A current-thread runtime with IO and time.
pub(crate) fn runtime(api: &str) -> Result<tokio::runtime::Runtime, SourceError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| SourceError::Transport {
            api: api.into(),
            message: format!("cannot start the async runtime: {e}"),
        })
}

/// Runs `fut` to completion on `rt` from a scoped thread (safe to call from
/// inside another runtime).
pub(crate) fn block_on<T: Send>(
    rt: &tokio::runtime::Runtime,
    api: &str,
    fut: impl Future<Output = Result<T, SourceError>> + Send,
) -> Result<T, SourceError> {
    std::thread::scope(|s| {
        s.spawn(|| rt.block_on(fut)).join().unwrap_or_else(|_| {
            Err(SourceError::Transport {
                api: api.into(),
                message: "the query thread panicked".into(),
            })
        })
    })
}

/// `start/end`, ISO 8601 interval.
pub fn timespan(w: TimeWindow) -> String {
    format!("{w}")
}

/// Queries `window`; when `fetch` reports trouble (truncation, partial
/// result) splits it into halves, recursively, and concatenates the rows.
pub(crate) async fn query_split<F, Fut>(
    api: &str,
    kql: &str,
    window: TimeWindow,
    min_window: i64,
    mut fetch: F,
) -> Result<Table, SourceError>
where
    F: FnMut(String) -> Fut,
    Fut: Future<Output = Result<(Table, Option<String>), HttpError>>,
{
    let mut stack = vec![window];
    let mut out: Option<Table> = None;
    while let Some(w) = stack.pop() {
        let (table, trouble) = fetch(timespan(w)).await.map_err(source_error)?;
        if let Some(reason) = trouble {
            if aggregates(kql) {
                return Err(SourceError::Eval {
                    origin: api.into(),
                    message: format!(
                        "{reason} for {w}, and the query aggregates or limits rows, so its window cannot be split"
                    ),
                    diagnostics: kql::Diagnostics(Vec::new()),
                });
            }
            let len = w.end.saturating_sub(w.start);
            if len <= min_window {
                return Err(SourceError::Eval {
                    origin: api.into(),
                    message: format!(
                        "{reason} for {w}, a window too small to split further (minimum {})",
                        kql::time::format_timespan(min_window)
                    ),
                    diagnostics: kql::Diagnostics(Vec::new()),
                });
            }
            let mid = w.start + len / 2;
            stack.push(TimeWindow {
                start: mid,
                end: w.end,
            });
            stack.push(TimeWindow {
                start: w.start,
                end: mid,
            });
            continue;
        }
        out = Some(match out {
            None => table,
            Some(acc) => concat(api, acc, table, w)?,
        });
    }
    out.ok_or_else(|| SourceError::Transport {
        api: api.into(),
        message: "no window was queried".into(),
    })
}

fn concat(api: &str, mut acc: Table, next: Table, w: TimeWindow) -> Result<Table, SourceError> {
    if acc.schema == next.schema {
        acc.rows.extend(next.rows);
        Ok(acc)
    } else if next.rows.is_empty() {
        Ok(acc)
    } else if acc.rows.is_empty() {
        Ok(next)
    } else {
        Err(SourceError::Eval {
            origin: api.into(),
            message: format!(
                "the split windows returned different columns ({} vs {} for {w})",
                acc.schema, next.schema
            ),
            diagnostics: kql::Diagnostics(Vec::new()),
        })
    }
}

/// Whether `kql` does anything that makes the rows of two windows differ
/// from the rows of their union (aggregation, limits, joins, row numbers).
/// Textual and conservative: a false positive only means "do not split"
/// (a loud error instead of a split).
pub fn aggregates(kql: &str) -> bool {
    let text: String = kql
        .to_ascii_lowercase()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    let text = text
        .replace("|", " | ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    const OPS: &[&str] = &[
        "| summarize",
        "| count",
        "| take",
        "| limit",
        "| top",
        "| distinct",
        "| join",
        "| lookup",
        "| evaluate",
        "| make-series",
        "| serialize",
        "| sample",
        "| reduce",
        "| top-nested",
        "| as ",
        "| fork",
        "| facet",
        "| partition",
        "| scan",
    ];
    const FUNCS: &[&str] = &[
        "toscalar(",
        "materialize(",
        "row_number(",
        "prev(",
        "next(",
        "row_cumsum(",
    ];
    OPS.iter().any(|o| text.contains(o)) || FUNCS.iter().any(|f| text.replace(' ', "").contains(f))
}

/// The source-level error for a client error: API status errors keep the
/// API's code, message and request id.
pub(crate) fn source_error(e: HttpError) -> SourceError {
    match e {
        HttpError::Status {
            api,
            status,
            code,
            message,
            request_id,
        } => SourceError::Http {
            api,
            status,
            request_id,
            message: if code.is_empty() || message.contains(&code) {
                message
            } else {
                format!("{message} [code {code}]")
            },
        },
        HttpError::Decode {
            api,
            request_id,
            message,
        } => SourceError::Http {
            api,
            status: 200,
            request_id,
            message,
        },
        other => SourceError::Transport {
            api: other.api().to_string(),
            message: other.to_string(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_counts_as_aggregating() {
        let cases = [
            (
                "DeviceNetworkEvents | where RemoteUrl has 'zoho' | project Timestamp",
                false,
            ),
            ("DeviceNetworkEvents\n|summarize count() by DeviceId", true),
            ("T | where x > 1 | take 10", true),
            ("T | join kind=inner (U) on DeviceId", true),
            ("let n = toscalar(T | count); T | where x > n", true),
            ("T | extend counter = 1 | project-away counter", false),
            ("T | where Url has '| summarize'", true),
        ];
        for (q, want) in cases {
            assert_eq!(aggregates(q), want, "{q}");
        }
    }
}

#[cfg(test)]
mod rule_heads {
    use super::aggregates;
    use crate::pipeline::split;

    /// The part of each built-in rule the pipeline sends to a source is
    /// row-level, so truncation can always be split away.
    #[test]
    fn builtin_rule_heads_are_splittable() {
        let report = crate::rule::builtin_rules();
        assert!(!report.rules.is_empty());
        for rule in &report.rules {
            let q = kql::parse(&rule.query).unwrap_or_else(|d| panic!("{}: {d}", rule.id));
            let head = match split::split(&q) {
                Some(s) => s.head_query(&[]).to_string(),
                None => rule.query.clone(),
            };
            assert!(
                !aggregates(&head),
                "{}: head flagged as aggregating:\n{head}",
                rule.id
            );
        }
    }
}
