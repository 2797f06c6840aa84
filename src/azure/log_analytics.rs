//! Log Analytics query API (reference A): `POST
//! {endpoint}/v1/workspaces/{id}/query` with `{query, timespan}`,
//! `Content-Type: application/json` (without it the service answers an
//! empty 200) and `Prefer: wait=N`. The answer is `tables[{name,
//! columns[{name,type}], rows[[..]]}]`, possibly with a top-level `error`
//! (`PartialError`) on a 200. Wire types and one small client; splitting
//! windows is the source's business (`source::log_analytics`).

use super::auth::TokenProvider;
use super::http::{ErrorInfo, HttpClient, HttpError, Request};
use super::{column_type, decode_value};
use kql::{Column, Schema, Table};
use reqwest::header::{HeaderName, HeaderValue};
use reqwest::Method;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

pub const API: &str = "log-analytics";

/// Request body (`queryBody`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct QueryBody {
    pub query: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timespan: Option<String>,
}

/// Response body (`queryResults`), with the partial-result `error`.
#[derive(Debug, Clone, Deserialize)]
pub struct QueryResults {
    #[serde(default)]
    pub tables: Option<Vec<WireTable>>,
    #[serde(default)]
    pub error: Option<serde_json::Value>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct WireTable {
    pub name: String,
    pub columns: Vec<WireColumn>,
    pub rows: Vec<Vec<serde_json::Value>>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct WireColumn {
    pub name: String,
    #[serde(rename = "type", default)]
    pub ty: String,
}

/// A decoded answer: the primary table and the partial error, if any.
#[derive(Debug, Clone)]
pub struct QueryOutcome {
    pub table: Table,
    pub partial: Option<ErrorInfo>,
    pub request_id: String,
}

/// Queries one workspace.
#[derive(Clone)]
pub struct LogAnalyticsClient {
    pub http: HttpClient,
    pub tokens: Arc<dyn TokenProvider>,
    /// Base URL without `/v1`.
    pub endpoint: String,
    /// Token scope (`https://api.loganalytics.io/.default`).
    pub scope: String,
    pub workspace_id: String,
    /// `Prefer: wait=` seconds.
    pub wait_secs: u64,
}

impl LogAnalyticsClient {
    pub async fn query(&self, kql: &str, timespan: &str) -> Result<QueryOutcome, HttpError> {
        let body = serde_json::to_value(QueryBody {
            query: kql.to_string(),
            timespan: Some(timespan.to_string()),
        })
        .map_err(|e| decode_err("", e.to_string()))?;
        let prefer = HeaderValue::from_str(&format!("wait={}", self.wait_secs))
            .unwrap_or(HeaderValue::from_static("wait=180"));
        let req = Request {
            api: API,
            method: Method::POST,
            url: format!(
                "{}/v1/workspaces/{}/query",
                self.endpoint.trim_end_matches('/'),
                self.workspace_id
            ),
            headers: vec![(HeaderName::from_static("prefer"), prefer)],
            json: Some(&body),
            scope: Some(&self.scope),
        };
        let resp = self.http.send(&req, Some(self.tokens.as_ref())).await?;
        if resp.status == 204 {
            // Documented: a workspace that never received data. The query
            // itself is fine; there are no rows, but we also have no
            // schema. Report it rather than invent columns.
            return Err(decode_err(
                &resp.request_id,
                "204 No Content: the workspace has no data".into(),
            ));
        }
        decode_results(&resp.body, &resp.request_id)
    }
}

fn decode_err(request_id: &str, message: String) -> HttpError {
    HttpError::Decode {
        api: API.into(),
        request_id: request_id.into(),
        message,
    }
}

/// Decodes a 200 body. An empty body or one without `tables` is an error
/// (the missing-Content-Type answer), never zero rows.
pub fn decode_results(body: &[u8], request_id: &str) -> Result<QueryOutcome, HttpError> {
    if body.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(decode_err(
            request_id,
            "empty 200 response (no tables)".into(),
        ));
    }
    let r: QueryResults = serde_json::from_slice(body)
        .map_err(|e| decode_err(request_id, format!("response is not query results: {e}")))?;
    let partial = r.error.as_ref().map(ErrorInfo::from_json);
    let tables = match r.tables {
        Some(t) if !t.is_empty() => t,
        _ => {
            return Err(match partial {
                Some(p) => HttpError::Status {
                    api: API.into(),
                    status: 200,
                    code: p.deepest_code().to_string(),
                    message: p.describe(),
                    request_id: request_id.into(),
                },
                None => decode_err(request_id, "200 response without tables".into()),
            })
        }
    };
    let primary = tables
        .iter()
        .find(|t| t.name == "PrimaryResult")
        .or(tables.first())
        .ok_or_else(|| decode_err(request_id, "no tables".into()))?;
    let table = to_table(primary).map_err(|m| decode_err(request_id, m))?;
    Ok(QueryOutcome {
        table,
        partial,
        request_id: request_id.into(),
    })
}

fn to_table(t: &WireTable) -> Result<Table, String> {
    let columns: Vec<Column> = t
        .columns
        .iter()
        .map(|c| Column::new(c.name.clone(), column_type(&c.ty)))
        .collect();
    let mut rows = Vec::with_capacity(t.rows.len());
    for (i, r) in t.rows.iter().enumerate() {
        if r.len() != columns.len() {
            return Err(format!(
                "row {i} has {} cells for {} columns",
                r.len(),
                columns.len()
            ));
        }
        let row = r
            .iter()
            .zip(&columns)
            .map(|(cell, col)| {
                decode_value(col.ty, cell).map_err(|m| format!("row {i}, column {}: {m}", col.name))
            })
            .collect::<Result<Vec<_>, _>>()?;
        rows.push(row);
    }
    Ok(Table {
        schema: Schema::new(columns),
        rows,
    })
}
