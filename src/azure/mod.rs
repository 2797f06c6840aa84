//! Azure clients: the only code that knows Azure URLs and JSON shapes.
//! `arm` (Sentinel incidents: wire types and a small client), `auth`
//! (tokens), `http` (shared client, retries, error mapping), `log_analytics` and `defender` (query APIs: wire types and one small
//! client each). Nothing here knows about rules, findings or the pipeline.

pub mod arm;
pub mod auth;
pub mod http;
