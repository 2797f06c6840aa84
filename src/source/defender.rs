//! The `defender` source: pushes the KQL to Microsoft Graph advanced
//! hunting ([`crate::azure::defender`]) with the hunt window as `Timespan`.
//! A result at the row limit (100,000, configurable for tests) counts as
//! truncated: the window is split into halves and queried again, exactly as
//! in [`super::log_analytics`] (same rules: row-level queries only, a
//! minimum window, half-open windows, rows concatenated in time order).

use super::log_analytics::{block_on, query_split, runtime, DEFAULT_MIN_WINDOW};
use super::{Source, SourceError, TimeWindow};
use crate::azure::auth::{audience_to_scope, TokenProvider};
use crate::azure::defender::{DefenderClient, API};
use crate::azure::http::HttpClient;
use kql::Table;
use std::sync::Arc;

pub struct DefenderSource {
    client: DefenderClient,
    runtime: tokio::runtime::Runtime,
    max_rows: usize,
    min_window: i64,
}

impl DefenderSource {
    pub fn new(client: DefenderClient, max_rows: usize) -> Result<DefenderSource, SourceError> {
        Ok(DefenderSource {
            client,
            runtime: runtime(API)?,
            max_rows: max_rows.max(1),
            min_window: DEFAULT_MIN_WINDOW,
        })
    }

    /// The source the settings describe (`RMMHUNT_GRAPH_ENDPOINT`/`_AUDIENCE`,
    /// deadline, row limit).
    pub fn from_config(
        v: &crate::config::Validated,
        http: HttpClient,
        tokens: Arc<dyn TokenProvider>,
    ) -> Result<DefenderSource, SourceError> {
        let client = DefenderClient {
            http,
            tokens,
            endpoint: v.endpoints.graph.clone(),
            scope: audience_to_scope(&v.endpoints.graph_audience),
        };
        DefenderSource::new(client, v.defender_max_rows)
    }

    pub fn with_min_window(mut self, ticks: i64) -> DefenderSource {
        self.min_window = ticks.max(1);
        self
    }
}

impl Source for DefenderSource {
    fn name(&self) -> &str {
        API
    }

    fn query(&self, kql: &str, window: TimeWindow) -> Result<Table, SourceError> {
        let client = &self.client;
        let max_rows = self.max_rows;
        let fut = query_split(API, kql, window, self.min_window, |timespan| async move {
            let table = client.query(kql, &timespan).await?;
            let trouble =
                (table.rows.len() >= max_rows).then(|| format!("truncated at {max_rows} rows"));
            Ok((table, trouble))
        });
        block_on(&self.runtime, API, fut)
    }
}
