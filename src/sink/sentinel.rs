//! Findings -> Microsoft Sentinel incidents, one per (rule, DeviceId).
//!
//! **Ids.** The incident id is UUID v5 in [`NAMESPACE`] of
//! `"<rule id, lower case>\n<DeviceId>"` ([`incident_id`]), so a rerun or a
//! retried timer PUTs the same resource instead of a duplicate. `NAMESPACE`
//! is itself UUID v5 of the URL `urn:rmmhunt:sentinel-incident` in the RFC
//! 4122 URL namespace (`6d788b64-6558-58a2-a05b-9fcc73a97822`, checked by a test). Rows without a
//! `DeviceId` column, or with an empty one, go to one incident per rule
//! (DeviceId `""`), updated like the others: never one per run, which
//! would duplicate on every retry.
//!
//! **Activity.** Each row's last activity is its `LastSeen` (else
//! `Timestamp`, `TimeGenerated`, `FirstSeen`), its first its `FirstSeen`
//! (else the same). The incident's `lastActivityTimeUtc` (written at whole
//! seconds, since the service may store less precision) records what has
//! been reported: a row is *new* when its last activity is in a later
//! second.
//!
//! **Create.** Status New, severity from [`IncidentSettings`], labels: the
//! rule's techniques (T1219), the tool, `rmmhunt`; the description is an
//! HTML evidence table ([`render_description`]).
//!
//! **Update (open incident, new rows).** A comment with the new rows (id
//! UUID v5 of incident id + new last activity, so a retry rewrites the same
//! comment), then a PUT with the etag just read that only moves
//! `lastActivityTimeUtc` (and `firstActivityTimeUtc` earlier) and adds our
//! labels if missing; title, severity, description, status, owner,
//! classification and every label analysts set are sent back as read. The
//! description is never rewritten: history stays as it was. No new rows:
//! nothing is written (reruns are idempotent). A 409/412 (stale etag)
//! re-reads and tries again, at most [`CONFLICT_ATTEMPTS`] times.
//!
//! **Closed incidents are never reopened.** New activity after an incident
//! was closed creates a *new* incident whose id is UUID v5 of
//! `"<closed incident id>/after-closure"` ([`successor_id`]), titled like
//! the first and linking to it in its description; it holds only the rows
//! after the closure. A comment on a closed incident would go unseen in
//! the queue of open work; a new incident is seen, and the closed one keeps
//! the analyst's verdict. If the successor is closed too, the chain goes on
//! (at most [`MAX_CLOSED_CHAIN`] links). Accepted activity belongs in the
//! exclusion file, which stops it before it becomes a finding.
//!
//! Does not live here: JSON shapes and HTTP (`azure::arm`).

use super::{Sink, SinkError, SinkSummary};
use crate::azure::arm::{
    ArmClient, ArmError, Incident, IncidentLabel, IncidentProperties, IncidentPut, IncidentStatus,
    Severity,
};
use crate::rule::Rule;
use kql::{Table, Value};
use std::collections::BTreeMap;
use uuid::Uuid;

/// Namespace of incident ids: UUID v5 of `urn:rmmhunt:sentinel-incident`
/// in the URL namespace.
pub const NAMESPACE: Uuid = Uuid::from_u128(0x6d78_8b64_6558_58a2_a05b_9fcc_73a9_7822);
/// Re-reads after a stale etag before giving up.
pub const CONFLICT_ATTEMPTS: u32 = 5;
/// Closed incidents followed for one device.
pub const MAX_CLOSED_CHAIN: usize = 8;
/// Rows shown in one evidence table.
pub const MAX_TABLE_ROWS: usize = 50;
/// Upper bound on a rendered description or comment (characters).
pub const MAX_TEXT_CHARS: usize = 20_000;

/// The deterministic incident id of (rule, DeviceId).
pub fn incident_id(rule_id: &str, device_id: &str) -> Uuid {
    Uuid::new_v5(
        &NAMESPACE,
        format!("{}\n{device_id}", rule_id.to_ascii_lowercase()).as_bytes(),
    )
}

/// The id of the incident that takes new activity after `closed` was closed.
pub fn successor_id(closed: &str) -> Uuid {
    Uuid::new_v5(&NAMESPACE, format!("{closed}/after-closure").as_bytes())
}

/// The id of the comment reporting activity up to `last` (ticks) on an
/// incident.
pub fn comment_id(incident: &str, last_ticks: i64) -> Uuid {
    Uuid::new_v5(
        &NAMESPACE,
        format!("{incident}/activity/{}", floor_second(last_ticks)).as_bytes(),
    )
}

/// Settings of incident content.
#[derive(Clone, Debug)]
pub struct IncidentSettings {
    pub severity: Severity,
    /// Base URL where rules can be read (`<base>/<rule id>`), if any.
    pub rule_link_base: Option<String>,
}

impl Default for IncidentSettings {
    fn default() -> IncidentSettings {
        IncidentSettings {
            severity: Severity::Medium,
            rule_link_base: None,
        }
    }
}

/// Where incidents go and what they look like, from the checked settings
/// (`RMMHUNT_SENTINEL_*`, `RMMHUNT_ARM_ENDPOINT`,
/// `RMMHUNT_INCIDENTS_API_VERSION`, `RMMHUNT_INCIDENT_SEVERITY`). `Err`
/// names what is missing.
pub fn settings_from_config(
    config: &crate::config::Validated,
) -> Result<(crate::azure::arm::ArmTarget, IncidentSettings), String> {
    let severity = config.incident_severity.parse().unwrap_or(Severity::Medium);
    let settings = IncidentSettings {
        severity,
        rule_link_base: None,
    };
    let Some(t) = &config.sentinel else {
        return Err("RMMHUNT_SENTINEL_SUBSCRIPTION_ID, RMMHUNT_SENTINEL_RESOURCE_GROUP and RMMHUNT_SENTINEL_WORKSPACE must be set to write incidents".into());
    };
    Ok((
        crate::azure::arm::ArmTarget {
            endpoint: config.endpoints.arm.trim_end_matches('/').to_string(),
            api_version: config.incidents_api_version.clone(),
            subscription_id: t.subscription_id.clone(),
            resource_group: t.resource_group.clone(),
            workspace: t.workspace.clone(),
        },
        settings,
    ))
}

/// The rows of one device.
#[derive(Clone, Debug, PartialEq)]
pub struct DeviceGroup {
    /// `""` when the rows carry no DeviceId.
    pub device_id: String,
    /// DeviceName of the first row that has one, else the DeviceId.
    pub device_name: String,
    pub rows: Vec<Vec<Value>>,
    /// Earliest first activity and latest last activity (ticks).
    pub first: Option<i64>,
    pub last: Option<i64>,
}

/// Column positions used for evidence.
struct Cols {
    device_id: Option<usize>,
    device_name: Option<usize>,
    first: Option<usize>,
    last: Option<usize>,
    count: Option<usize>,
}

impl Cols {
    fn of(t: &Table) -> Cols {
        let find = |names: &[&str]| {
            names.iter().find_map(|n| {
                t.schema
                    .columns
                    .iter()
                    .position(|c| c.name.eq_ignore_ascii_case(n))
            })
        };
        Cols {
            device_id: find(&["DeviceId"]),
            device_name: find(&["DeviceName"]),
            first: find(&["FirstSeen", "Timestamp", "TimeGenerated", "LastSeen"]),
            last: find(&["LastSeen", "Timestamp", "TimeGenerated", "FirstSeen"]),
            count: find(&["Count", "count_", "ConnectionCount"]),
        }
    }
}

fn cell(row: &[Value], i: Option<usize>) -> Option<&Value> {
    i.and_then(|i| row.get(i))
}

fn ticks(v: Option<&Value>) -> Option<i64> {
    match v? {
        Value::DateTime(t) => Some(*t),
        Value::String(s) => kql::time::parse_datetime(s),
        _ => None,
    }
}

fn text(v: Option<&Value>) -> String {
    v.map(kql::output::cell_text).unwrap_or_default()
}

fn floor_second(t: i64) -> i64 {
    t.div_euclid(kql::time::SECOND) * kql::time::SECOND
}

/// Groups a rule's rows by DeviceId (sorted by DeviceId).
pub fn group_by_device(findings: &Table) -> Vec<DeviceGroup> {
    let cols = Cols::of(findings);
    let mut groups: BTreeMap<String, DeviceGroup> = BTreeMap::new();
    for row in &findings.rows {
        let id = text(cell(row, cols.device_id));
        let g = groups.entry(id.clone()).or_insert_with(|| DeviceGroup {
            device_id: id.clone(),
            device_name: String::new(),
            rows: Vec::new(),
            first: None,
            last: None,
        });
        if g.device_name.is_empty() {
            g.device_name = text(cell(row, cols.device_name));
        }
        if let Some(f) = ticks(cell(row, cols.first)) {
            g.first = Some(g.first.map_or(f, |x| x.min(f)));
        }
        if let Some(l) = ticks(cell(row, cols.last)) {
            g.last = Some(g.last.map_or(l, |x| x.max(l)));
        }
        g.rows.push(row.clone());
    }
    groups
        .into_values()
        .map(|mut g| {
            if g.device_name.is_empty() {
                g.device_name = if g.device_id.is_empty() {
                    "unknown device".into()
                } else {
                    g.device_id.clone()
                };
            }
            g
        })
        .collect()
}

/// The tool a rule hunts: the middle part of upstream names like
/// `Remote Management and Monitoring tool - ZohoAssist - Network
/// Connection`, camel case spaced (`Zoho Assist`); else the rule name.
pub fn tool_name(rule_name: &str) -> String {
    let parts: Vec<&str> = rule_name.split(" - ").map(str::trim).collect();
    let raw = match parts.as_slice() {
        [_, tool, _, ..] => tool,
        _ => rule_name,
    };
    let mut out = String::new();
    let mut prev_lower = false;
    for c in raw.chars() {
        if c.is_uppercase() && prev_lower {
            out.push(' ');
        }
        prev_lower = c.is_lowercase();
        out.push(c);
    }
    out
}

/// `"Zoho Assist connection on wks-5182.contoso.local"`.
pub fn title(rule: &Rule, device_name: &str) -> String {
    let what = if rule.name.to_ascii_lowercase().contains("network") {
        "connection"
    } else {
        "activity"
    };
    format!("{} {what} on {device_name}", tool_name(&rule.name))
}

/// Our labels: techniques, the tool, `rmmhunt`.
pub fn labels(rule: &Rule) -> Vec<IncidentLabel> {
    let mut out: Vec<IncidentLabel> = rule
        .techniques
        .iter()
        .map(|t| IncidentLabel::new(t))
        .collect();
    out.push(IncidentLabel::new(&tool_name(&rule.name)));
    out.push(IncidentLabel::new("rmmhunt"));
    out
}

fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn fmt_time(t: Option<i64>) -> String {
    t.map(kql::time::format_datetime)
        .unwrap_or_else(|| "unknown".into())
}

/// Connections: the sum of a `Count` column, else the number of rows.
fn activity_count(findings: &Table, rows: &[Vec<Value>]) -> i64 {
    let cols = Cols::of(findings);
    match cols.count {
        Some(_) => rows
            .iter()
            .map(|r| match cell(r, cols.count) {
                Some(Value::Long(n)) => *n,
                Some(Value::Int(n)) => i64::from(*n),
                _ => 1,
            })
            .sum(),
        None => i64::try_from(rows.len()).unwrap_or(i64::MAX),
    }
}

/// An HTML table of rows (at most [`MAX_TABLE_ROWS`], and stopping before
/// `budget` characters), with a line saying how many were left out.
fn render_table(findings: &Table, rows: &[Vec<Value>], budget: usize) -> String {
    let mut out = String::from("<table><tr>");
    for c in &findings.schema.columns {
        out.push_str(&format!("<th>{}</th>", html_escape(&c.name)));
    }
    out.push_str("</tr>");
    let mut shown = 0;
    for row in rows {
        if shown >= MAX_TABLE_ROWS {
            break;
        }
        let mut tr = String::from("<tr>");
        for v in row {
            tr.push_str(&format!(
                "<td>{}</td>",
                html_escape(&kql::output::cell_text(v))
            ));
        }
        tr.push_str("</tr>");
        if out.len() + tr.len() + 200 > budget {
            break;
        }
        out.push_str(&tr);
        shown += 1;
    }
    out.push_str("</table>");
    if shown < rows.len() {
        out.push_str(&format!(
            "<p>{} more row(s) not shown; run the rule for all of them.</p>",
            rows.len() - shown
        ));
    }
    out
}

fn rule_ref(rule: &Rule, settings: &IncidentSettings) -> String {
    match &settings.rule_link_base {
        Some(base) => format!(
            "<a href=\"{}/{}\">{}</a>",
            html_escape(base.trim_end_matches('/')),
            html_escape(&rule.id),
            html_escape(&rule.id)
        ),
        None => html_escape(&rule.id),
    }
}

/// The incident description: what was found, where, when, how often, and
/// the evidence rows (HTML: `p`, `b`, `br`, `a`, `table`, which the
/// Sentinel portal renders), at most [`MAX_TEXT_CHARS`] characters.
pub fn render_description(
    rule: &Rule,
    findings: &Table,
    group: &DeviceGroup,
    settings: &IncidentSettings,
    previous: Option<&Incident>,
) -> String {
    let mut out = format!(
        "<p><b>{}</b> activity on <b>{}</b>{} found by the rmmhunt hunting rule <b>{}</b>.</p>",
        html_escape(&tool_name(&rule.name)),
        html_escape(&group.device_name),
        if group.device_id.is_empty() {
            String::new()
        } else {
            format!(" (DeviceId {})", html_escape(&group.device_id))
        },
        html_escape(&rule.name),
    );
    if let Some(prev) = previous {
        out.push_str(&format!(
            "<p>New activity after incident {} was closed{}.</p>",
            prev.read_only
                .incident_number
                .map(|n| format!("#{n}"))
                .or_else(|| prev.name.clone())
                .map(|s| html_escape(&s))
                .unwrap_or_default(),
            prev.read_only
                .incident_url
                .as_ref()
                .map(|u| format!(" (<a href=\"{}\">link</a>)", html_escape(u)))
                .unwrap_or_default()
        ));
    }
    out.push_str(&format!(
        "<p>Rule: {}<br>Techniques: {}<br>First seen: {}<br>Last seen: {}<br>Connections: {}<br>Rows: {}</p>",
        rule_ref(rule, settings),
        html_escape(&rule.techniques.join(", ")),
        fmt_time(group.first),
        fmt_time(group.last),
        activity_count(findings, &group.rows),
        group.rows.len(),
    ));
    let budget = MAX_TEXT_CHARS.saturating_sub(out.len());
    out.push_str(&render_table(findings, &group.rows, budget));
    out
}

/// The comment reporting new rows on an open incident.
pub fn render_comment(
    findings: &Table,
    new_rows: &[Vec<Value>],
    first: Option<i64>,
    last: Option<i64>,
) -> String {
    let mut out = format!(
        "<p><b>New activity</b> found by rmmhunt: {} row(s), {} connection(s), from {} to {}.</p>",
        new_rows.len(),
        activity_count(findings, new_rows),
        fmt_time(first),
        fmt_time(last),
    );
    let budget = MAX_TEXT_CHARS.saturating_sub(out.len());
    out.push_str(&render_table(findings, new_rows, budget));
    out
}

/// What to do for one device given the incident read (if any).
#[derive(Clone, Debug, PartialEq)]
pub enum Plan {
    /// Nothing new.
    Nothing,
    /// PUT a new incident (no etag).
    Create { id: String, body: IncidentPut },
    /// New rows on an open incident: comment, then PUT with etag.
    Update {
        id: String,
        comment_id: String,
        comment: String,
        body: IncidentPut,
    },
    /// The incident is closed and there are new rows: go to its successor
    /// with these rows.
    FollowClosed {
        successor: String,
        rows: Vec<Vec<Value>>,
    },
}

/// Rows newer than an incident's recorded last activity (whole seconds).
fn new_rows(findings: &Table, rows: &[Vec<Value>], since: Option<i64>) -> Vec<Vec<Value>> {
    let cols = Cols::of(findings);
    rows.iter()
        .filter(|r| match (since, ticks(cell(r, cols.last))) {
            (None, _) => true,
            (Some(s), Some(l)) => floor_second(l) > floor_second(s),
            // A row without a time cannot be told apart: treat as known.
            (Some(_), None) => false,
        })
        .cloned()
        .collect()
}

fn regroup(findings: &Table, device: &DeviceGroup, rows: Vec<Vec<Value>>) -> DeviceGroup {
    let cols = Cols::of(findings);
    DeviceGroup {
        device_id: device.device_id.clone(),
        device_name: device.device_name.clone(),
        first: rows.iter().filter_map(|r| ticks(cell(r, cols.first))).min(),
        last: rows.iter().filter_map(|r| ticks(cell(r, cols.last))).max(),
        rows,
    }
}

fn time_prop(t: Option<i64>) -> Option<String> {
    t.map(|t| kql::time::format_datetime(floor_second(t)))
}

/// The pure decision for one device; `previous` is the closed incident this
/// one succeeds, if any.
pub fn plan(
    rule: &Rule,
    findings: &Table,
    group: &DeviceGroup,
    id: &str,
    existing: Option<&Incident>,
    previous: Option<&Incident>,
    settings: &IncidentSettings,
) -> Plan {
    let Some(existing) = existing else {
        return Plan::Create {
            id: id.to_string(),
            body: IncidentPut {
                etag: None,
                properties: IncidentProperties {
                    title: title(rule, &group.device_name),
                    severity: settings.severity,
                    status: IncidentStatus::New,
                    description: Some(render_description(
                        rule, findings, group, settings, previous,
                    )),
                    first_activity_time_utc: time_prop(group.first),
                    last_activity_time_utc: time_prop(group.last),
                    labels: labels(rule),
                    owner: None,
                    classification: None,
                    classification_reason: None,
                    classification_comment: None,
                },
            },
        };
    };
    let since = existing
        .properties
        .last_activity_time_utc
        .as_deref()
        .and_then(kql::time::parse_datetime);
    let fresh = new_rows(findings, &group.rows, since);
    if fresh.is_empty() {
        return Plan::Nothing;
    }
    if existing.is_closed() {
        return Plan::FollowClosed {
            successor: successor_id(id).to_string(),
            rows: fresh,
        };
    }
    let fresh = regroup(findings, group, fresh);
    let mut props = existing.properties.clone();
    for l in labels(rule) {
        if !props
            .labels
            .iter()
            .any(|x| x.label_name.eq_ignore_ascii_case(&l.label_name))
        {
            props.labels.push(l);
        }
    }
    let old_first = props
        .first_activity_time_utc
        .as_deref()
        .and_then(kql::time::parse_datetime);
    if let (Some(f), Some(o)) = (fresh.first, old_first) {
        if f < o {
            props.first_activity_time_utc = time_prop(Some(f));
        }
    }
    let last = fresh.last.or(since);
    props.last_activity_time_utc = time_prop(last);
    Plan::Update {
        id: id.to_string(),
        comment_id: comment_id(id, last.unwrap_or_default()).to_string(),
        comment: render_comment(findings, &fresh.rows, fresh.first, fresh.last),
        body: IncidentPut {
            etag: existing.etag.clone(),
            properties: props,
        },
    }
}

/// Writes incidents through ARM.
pub struct SentinelSink {
    pub client: ArmClient,
    pub settings: IncidentSettings,
}

impl SentinelSink {
    pub fn new(client: ArmClient, settings: IncidentSettings) -> SentinelSink {
        SentinelSink { client, settings }
    }

    fn write_group(
        &self,
        rule: &Rule,
        findings: &Table,
        group: &DeviceGroup,
    ) -> Result<SinkSummary, SinkError> {
        let arm = |source: ArmError| SinkError::Arm {
            rule_id: rule.id.clone(),
            device: group.device_name.clone(),
            source: Box::new(source),
        };
        let mut id = incident_id(&rule.id, &group.device_id).to_string();
        let mut group = group.clone();
        let mut previous: Option<Incident> = None;
        let mut summary = SinkSummary::default();
        let mut depth = 0;
        let mut attempt = 0;
        loop {
            let existing = self.client.get_incident(&id).map_err(arm)?;
            let p = plan(
                rule,
                findings,
                &group,
                &id,
                existing.as_ref(),
                previous.as_ref(),
                &self.settings,
            );
            let result = match &p {
                Plan::Nothing => {
                    summary.unchanged += 1;
                    return Ok(summary);
                }
                Plan::Create { id, body } => self.client.put_incident(id, body).map(|_| {
                    summary.created += 1;
                    summary
                        .actions
                        .push(format!("created incident {id}: {}", body.properties.title));
                }),
                Plan::Update {
                    id,
                    comment_id,
                    comment,
                    body,
                } => self
                    .client
                    .put_comment(id, comment_id, comment)
                    .and_then(|()| self.client.put_incident(id, body))
                    .map(|_| {
                        summary.comments += 1;
                        summary.updated += 1;
                        summary.actions.push(format!(
                            "commented on and updated incident {id}: {}",
                            body.properties.title
                        ));
                    }),
                Plan::FollowClosed { successor, rows } => {
                    depth += 1;
                    if depth > MAX_CLOSED_CHAIN {
                        return Err(SinkError::ClosedChainTooLong {
                            rule_id: rule.id.clone(),
                            device: group.device_name.clone(),
                            depth,
                        });
                    }
                    group = regroup(findings, &group, rows.clone());
                    previous = existing;
                    id = successor.clone();
                    attempt = 0;
                    continue;
                }
            };
            match result {
                Ok(()) => return Ok(summary),
                Err(ArmError::Conflict { .. }) if attempt + 1 < CONFLICT_ATTEMPTS => {
                    attempt += 1;
                }
                Err(ArmError::Conflict { .. }) => {
                    return Err(SinkError::ConflictRetriesExhausted {
                        rule_id: rule.id.clone(),
                        device: group.device_name.clone(),
                        incident_id: id,
                        attempts: CONFLICT_ATTEMPTS,
                    })
                }
                Err(e) => return Err(arm(e)),
            }
        }
    }
}

impl Sink for SentinelSink {
    fn name(&self) -> &str {
        "sentinel"
    }

    fn write(&self, rule: &Rule, findings: &Table) -> Result<SinkSummary, SinkError> {
        let mut summary = SinkSummary::default();
        let mut errors = Vec::new();
        for group in group_by_device(findings) {
            match self.write_group(rule, findings, &group) {
                Ok(s) => summary.add(s),
                Err(e) => errors.push(e),
            }
        }
        if errors.is_empty() {
            Ok(summary)
        } else {
            Err(SinkError::Several { errors, summary })
        }
    }
}

/// Says what would be written, writes nothing (no ARM call: it plans as
/// if no incident existed yet).
#[derive(Default)]
pub struct DryRunSink {
    pub settings: IncidentSettings,
}

impl Sink for DryRunSink {
    fn name(&self) -> &str {
        "dry-run"
    }

    fn write(&self, rule: &Rule, findings: &Table) -> Result<SinkSummary, SinkError> {
        let mut summary = SinkSummary::default();
        for group in group_by_device(findings) {
            let id = incident_id(&rule.id, &group.device_id);
            summary.created += 1;
            summary.actions.push(format!(
                "would create or update incident {id}: \"{}\" (severity {:?}, {} row(s), last seen {})",
                title(rule, &group.device_name),
                self.settings.severity,
                group.rows.len(),
                fmt_time(group.last),
            ));
        }
        Ok(summary)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::azure::arm::IncidentOwner;
    use kql::{Column, Schema, Type};

    fn rule() -> Option<Rule> {
        crate::rule::builtin_rules().rules.into_iter().next()
    }

    fn dt(s: &str) -> Value {
        Value::DateTime(kql::time::parse_datetime(s).unwrap_or_default())
    }

    fn findings(rows: &[(&str, &str, &str, &str, &str, i64)]) -> Table {
        Table {
            schema: Schema::new(vec![
                Column::new("DeviceId", Type::String),
                Column::new("DeviceName", Type::String),
                Column::new("RemoteUrl", Type::String),
                Column::new("FirstSeen", Type::DateTime),
                Column::new("LastSeen", Type::DateTime),
                Column::new("Count", Type::Long),
            ]),
            rows: rows
                .iter()
                .map(|(id, name, url, f, l, n)| {
                    vec![
                        Value::string(*id),
                        Value::string(*name),
                        Value::string(*url),
                        dt(f),
                        dt(l),
                        Value::Long(*n),
                    ]
                })
                .collect(),
        }
    }

    #[test]
    fn namespace_is_the_documented_derivation() {
        assert_eq!(
            NAMESPACE,
            Uuid::new_v5(&Uuid::NAMESPACE_URL, b"urn:rmmhunt:sentinel-incident")
        );
    }

    #[test]
    fn ids_are_deterministic_and_distinct() {
        let a = incident_id("B915897C-1fe7-47f4-9e06-2ae74da8203e", "dev1");
        assert_eq!(
            a,
            incident_id("b915897c-1fe7-47f4-9e06-2ae74da8203e", "dev1")
        );
        assert_ne!(
            a,
            incident_id("b915897c-1fe7-47f4-9e06-2ae74da8203e", "dev2")
        );
        assert_ne!(a, incident_id("other", "dev1"));
        assert_eq!(a.get_version_num(), 5);
        let s = successor_id(&a.to_string());
        assert_ne!(s, a);
        assert_eq!(s, successor_id(&a.to_string()));
    }

    #[test]
    fn tool_names() {
        for (name, want) in [
            (
                "Remote Management and Monitoring tool - ZohoAssist - Network Connection",
                "Zoho Assist",
            ),
            ("RMM - AnyDesk - Process", "Any Desk"),
            ("My rule", "My rule"),
        ] {
            assert_eq!(tool_name(name), want, "{name}");
        }
    }

    #[test]
    fn groups_by_device_with_time_bounds() {
        let t = findings(&[
            (
                "d2",
                "b.local",
                "u1",
                "2026-11-20T01:00:00Z",
                "2026-11-21T01:00:00Z",
                2,
            ),
            (
                "d1",
                "a.local",
                "u1",
                "2026-11-22T01:00:00Z",
                "2026-11-22T02:00:00Z",
                1,
            ),
            (
                "d2",
                "b.local",
                "u2",
                "2026-11-19T01:00:00Z",
                "2026-11-20T01:00:00Z",
                3,
            ),
        ]);
        let g = group_by_device(&t);
        let summary: Vec<(String, String, usize, String, String)> = g
            .iter()
            .map(|g| {
                (
                    g.device_id.clone(),
                    g.device_name.clone(),
                    g.rows.len(),
                    fmt_time(g.first),
                    fmt_time(g.last),
                )
            })
            .collect();
        assert_eq!(
            summary,
            vec![
                (
                    "d1".into(),
                    "a.local".into(),
                    1,
                    "2026-11-22T01:00:00Z".into(),
                    "2026-11-22T02:00:00Z".into()
                ),
                (
                    "d2".into(),
                    "b.local".into(),
                    2,
                    "2026-11-19T01:00:00Z".into(),
                    "2026-11-21T01:00:00Z".into()
                ),
            ]
        );
    }

    #[test]
    fn rows_without_device_id_make_one_rule_level_group() {
        let t = Table {
            schema: Schema::new(vec![Column::new("RemoteUrl", Type::String)]),
            rows: vec![vec![Value::string("a")], vec![Value::string("b")]],
        };
        let g = group_by_device(&t);
        assert_eq!(g.len(), 1);
        assert_eq!(g.first().map(|g| g.device_id.as_str()), Some(""));
    }

    fn existing(status: IncidentStatus, last: &str) -> Incident {
        Incident {
            id: None,
            name: Some("x".into()),
            etag: Some("\"e1\"".into()),
            properties: IncidentProperties {
                title: "Analyst title".into(),
                severity: Severity::High,
                status,
                description: Some("old".into()),
                first_activity_time_utc: Some("2026-11-20T00:00:00Z".into()),
                last_activity_time_utc: Some(last.into()),
                labels: vec![IncidentLabel {
                    label_name: "analyst-label".into(),
                    label_type: Some("User".into()),
                }],
                owner: Some(IncidentOwner {
                    object_id: Some("2046feea-040d-4a46-9e2b-91c2941bfa70".into()),
                    ..IncidentOwner::default()
                }),
                classification: None,
                classification_reason: None,
                classification_comment: None,
            },
            read_only: Default::default(),
        }
    }

    #[test]
    fn plans() {
        let Some(rule) = rule() else {
            panic!("no builtin rule")
        };
        let t = findings(&[(
            "d1",
            "a.local",
            "u1",
            "2026-11-22T01:00:00Z",
            "2026-11-22T02:00:00.1234567Z",
            1,
        )]);
        let groups = group_by_device(&t);
        let Some(g) = groups.first() else {
            panic!("no group")
        };
        let s = IncidentSettings::default();
        let id = incident_id(&rule.id, "d1").to_string();

        // Nothing there: create, New, Medium, our labels, whole seconds.
        match plan(&rule, &t, g, &id, None, None, &s) {
            Plan::Create { body, .. } => {
                assert_eq!(body.etag, None);
                assert_eq!(body.properties.status, IncidentStatus::New);
                assert_eq!(body.properties.severity, Severity::Medium);
                assert_eq!(body.properties.title, "Zoho Assist connection on a.local");
                assert_eq!(
                    body.properties.last_activity_time_utc.as_deref(),
                    Some("2026-11-22T02:00:00Z")
                );
                let names: Vec<&str> = body
                    .properties
                    .labels
                    .iter()
                    .map(|l| l.label_name.as_str())
                    .collect();
                assert_eq!(names, ["T1219", "Zoho Assist", "rmmhunt"]);
            }
            other => panic!("want Create, got {other:?}"),
        }

        // Everything already reported (same second): nothing.
        let open = existing(IncidentStatus::Active, "2026-11-22T02:00:00Z");
        assert_eq!(
            plan(&rule, &t, g, &id, Some(&open), None, &s),
            Plan::Nothing
        );

        // New rows on an open incident: analyst fields kept, etag sent.
        let older = existing(IncidentStatus::Active, "2026-11-21T00:00:00Z");
        match plan(&rule, &t, g, &id, Some(&older), None, &s) {
            Plan::Update { body, comment, .. } => {
                assert_eq!(body.etag.as_deref(), Some("\"e1\""));
                let p = &body.properties;
                assert_eq!(p.title, "Analyst title");
                assert_eq!(p.severity, Severity::High);
                assert_eq!(p.status, IncidentStatus::Active);
                assert_eq!(p.description.as_deref(), Some("old"));
                assert_eq!(p.owner, older.properties.owner);
                assert_eq!(
                    p.last_activity_time_utc.as_deref(),
                    Some("2026-11-22T02:00:00Z")
                );
                assert!(p.labels.iter().any(|l| l.label_name == "analyst-label"));
                assert!(p.labels.iter().any(|l| l.label_name == "T1219"));
                assert!(comment.contains("<td>u1</td>"), "{comment}");
            }
            other => panic!("want Update, got {other:?}"),
        }

        // Closed with new rows: go to the successor; closed without: nothing.
        let closed = existing(IncidentStatus::Closed, "2026-11-21T00:00:00Z");
        match plan(&rule, &t, g, &id, Some(&closed), None, &s) {
            Plan::FollowClosed { successor, rows } => {
                assert_eq!(successor, successor_id(&id).to_string());
                assert_eq!(rows.len(), 1);
            }
            other => panic!("want FollowClosed, got {other:?}"),
        }
        let closed = existing(IncidentStatus::Closed, "2026-11-22T02:00:00Z");
        assert_eq!(
            plan(&rule, &t, g, &id, Some(&closed), None, &s),
            Plan::Nothing
        );
    }

    #[test]
    fn description_is_escaped_and_bounded() {
        let Some(rule) = rule() else {
            panic!("no builtin rule")
        };
        let rows: Vec<(&str, &str, &str, &str, &str, i64)> = (0..500)
            .map(|_| {
                (
                    "d1",
                    "<script>",
                    "https://x/?a=1&b=2",
                    "2026-11-22T01:00:00Z",
                    "2026-11-22T02:00:00Z",
                    1,
                )
            })
            .collect();
        let t = findings(&rows);
        let groups = group_by_device(&t);
        let Some(g) = groups.first() else {
            panic!("no group")
        };
        let d = render_description(&rule, &t, g, &IncidentSettings::default(), None);
        assert!(d.len() <= MAX_TEXT_CHARS, "{}", d.len());
        assert!(!d.contains("<script>"), "{d}");
        assert!(
            d.contains("&lt;script&gt;") && d.contains("a=1&amp;b=2"),
            "{d}"
        );
        assert!(d.contains("450 more row(s) not shown"), "{d}");
        assert!(d.contains("Connections: 500"), "{d}");
    }
}
