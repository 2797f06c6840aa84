//! HTTP tests of the fake, with a plain blocking client: each endpoint's
//! happy path and error shapes, KQL evaluation over fixtures, faults, etag
//! semantics and spec validation.

mod binary;
mod common;
mod graph;
mod identity;
mod incidents;
mod ingestion;
mod log_analytics;
