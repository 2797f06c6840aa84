//! Where a rule's findings go after the hunt: [`Sink`] receives one rule
//! and its finding rows and writes them somewhere ([`sentinel`]: Microsoft
//! Sentinel incidents, or a dry run that only says what it would write).
//!
//! Lives here: the trait, its typed errors and the summary of what was
//! written. Does not live here: HTTP or JSON shapes of Azure (those are in
//! `azure::arm`), printing (the CLI prints the summary).
//! [`logs_ingestion`]: one record per finding row in the custom table
//! `RmmHuntFindings_CL` through the Logs Ingestion API.

pub mod logs_ingestion;
pub mod sentinel;

use crate::rule::Rule;
use kql::Table;

/// What a sink did (or, for a dry run, would do) for one rule.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SinkSummary {
    pub created: usize,
    pub updated: usize,
    pub comments: usize,
    /// Groups whose incident already holds all their activity.
    pub unchanged: usize,
    /// Finding rows the Logs Ingestion API accepted.
    pub ingested: usize,
    /// One line per write, for people (`create incident <id>: <title>`).
    pub actions: Vec<String>,
}

impl SinkSummary {
    pub fn add(&mut self, other: SinkSummary) {
        self.created += other.created;
        self.updated += other.updated;
        self.comments += other.comments;
        self.unchanged += other.unchanged;
        self.ingested += other.ingested;
        self.actions.extend(other.actions);
    }
}

/// A write that failed. The sink still tries the other groups; the run
/// must fail (never fewer incidents without an error).
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum SinkError {
    /// ARM refused or could not be reached for one device's incident.
    #[error("rule {rule_id}, device {device}: {source}")]
    Arm {
        rule_id: String,
        device: String,
        #[source]
        source: Box<crate::azure::arm::ArmError>,
    },
    /// The incident kept changing under us (409/412 after every re-read).
    #[error("rule {rule_id}, device {device}: incident {incident_id} changed on every one of {attempts} attempts; not written")]
    ConflictRetriesExhausted {
        rule_id: String,
        device: String,
        incident_id: String,
        attempts: u32,
    },
    /// Too many closed incidents in a row for one device.
    #[error("rule {rule_id}, device {device}: {depth} closed incidents in a row; new activity was not written")]
    ClosedChainTooLong {
        rule_id: String,
        device: String,
        depth: usize,
    },
    /// The Logs Ingestion API refused (or could not be reached for) some
    /// batches of one rule's records. Each batch was either accepted
    /// (counted in `accepted` and `summary`) or not written at all
    /// (counted in `failed`); `source` is the first failure.
    #[error("rule {rule_id}: Logs Ingestion into {stream} accepted {accepted} record(s); {failed} record(s) in {failed_batches} of {total_batches} batch(es) not written: {source}")]
    Ingestion {
        rule_id: String,
        stream: String,
        accepted: usize,
        failed: usize,
        failed_batches: usize,
        total_batches: usize,
        #[source]
        source: Box<crate::azure::http::HttpError>,
        summary: Box<SinkSummary>,
    },
    /// Several of the above for one rule (what was written is in `summary`).
    #[error("{} incident write(s) failed: {}", .errors.len(), .errors.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("; "))]
    Several {
        errors: Vec<SinkError>,
        summary: SinkSummary,
    },
}

/// Receives each rule's findings.
pub trait Sink {
    fn name(&self) -> &str;
    /// Writes one rule's finding rows (an empty table writes nothing).
    fn write(&self, rule: &Rule, findings: &Table) -> Result<SinkSummary, SinkError>;
}
