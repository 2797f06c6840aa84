//! Microsoft Graph advanced hunting (reference B.2): `POST
//! {endpoint}/v1.0/security/runHuntingQuery` with `{Query, Timespan}`; the
//! answer is `{schema[{name,type}], results[{col: value}]}` with .NET type
//! names (`DateTime`, `String`, `Int64`, `Object`...). Key case varies
//! between doc examples (`schema`/`Schema`, `name`/`Name`): both are
//! accepted. Wire types and one small client; window splitting lives in
//! `source::defender`.

use super::auth::TokenProvider;
use super::http::{HttpClient, HttpError, Request};
use super::{column_type, decode_value};
use kql::{Column, Schema, Table};
use reqwest::Method;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

pub const API: &str = "defender";

/// Request body, PascalCase as in the Graph docs.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct HuntingQuery {
    #[serde(rename = "Query")]
    pub query: String,
    #[serde(rename = "Timespan", skip_serializing_if = "Option::is_none")]
    pub timespan: Option<String>,
}

/// `huntingQueryResults`.
#[derive(Debug, Clone, Deserialize)]
pub struct HuntingResults {
    #[serde(alias = "Schema")]
    pub schema: Option<Vec<SchemaColumn>>,
    #[serde(alias = "Results")]
    pub results: Option<Vec<serde_json::Map<String, serde_json::Value>>>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct SchemaColumn {
    #[serde(alias = "Name")]
    pub name: String,
    #[serde(rename = "type", alias = "Type", default)]
    pub ty: String,
}

#[derive(Clone)]
pub struct DefenderClient {
    pub http: HttpClient,
    pub tokens: Arc<dyn TokenProvider>,
    /// Base URL without `/v1.0`.
    pub endpoint: String,
    /// `https://graph.microsoft.com/.default`.
    pub scope: String,
}

impl DefenderClient {
    pub async fn query(&self, kql: &str, timespan: &str) -> Result<Table, HttpError> {
        let body = serde_json::to_value(HuntingQuery {
            query: kql.to_string(),
            timespan: Some(timespan.to_string()),
        })
        .map_err(|e| decode_err("", e.to_string()))?;
        let req = Request {
            api: API,
            method: Method::POST,
            url: format!(
                "{}/v1.0/security/runHuntingQuery",
                self.endpoint.trim_end_matches('/')
            ),
            headers: Vec::new(),
            json: Some(&body),
            scope: Some(&self.scope),
        };
        let resp = self.http.send(&req, Some(self.tokens.as_ref())).await?;
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

/// Decodes a 200 body; a body without `schema`/`results` is an error.
pub fn decode_results(body: &[u8], request_id: &str) -> Result<Table, HttpError> {
    let r: HuntingResults = serde_json::from_slice(body)
        .map_err(|e| decode_err(request_id, format!("response is not hunting results: {e}")))?;
    let (Some(schema), Some(results)) = (r.schema, r.results) else {
        return Err(decode_err(
            request_id,
            "200 response without schema/results".into(),
        ));
    };
    let columns: Vec<Column> = schema
        .iter()
        .map(|c| Column::new(c.name.clone(), column_type(&c.ty)))
        .collect();
    let mut rows = Vec::with_capacity(results.len());
    for (i, obj) in results.iter().enumerate() {
        let row = columns
            .iter()
            .map(|col| {
                let cell = obj.get(&col.name).unwrap_or(&serde_json::Value::Null);
                decode_value(col.ty, cell).map_err(|m| {
                    decode_err(request_id, format!("row {i}, column {}: {m}", col.name))
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        rows.push(row);
    }
    Ok(Table {
        schema: Schema::new(columns),
        rows,
    })
}
