//! Azure clients: the only code that knows Azure URLs and JSON shapes.
//! `auth` (tokens), `http` (shared client, retries, error mapping),
//! `log_analytics` and `defender` (query APIs: wire types and one small
//! client each). Nothing here knows about rules, findings or the pipeline.

pub mod auth;
pub mod http;
