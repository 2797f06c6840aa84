//! Settings: the only reader of the process environment.
//!
//! Shape (STYLE.md §4): the raw settings ([`Raw`], every value an optional
//! string exactly as found) → [`Raw::validate`] (pure: no network, no
//! credentials, no await; returns *every* problem) → [`Validated`] (typed
//! values the CLI and the server build clients from). Tests call
//! [`from_env_map`] with a `HashMap`, never the process environment; only
//! [`from_process_env`] reads it.
//!
//! Defaults are the Azure public cloud. Sovereign clouds (set the endpoint,
//! the audience and, for service principals, the authority together):
//!
//! | setting | public (default) | Azure Government | Azure China (21Vianet) |
//! |---|---|---|---|
//! | `RMMHUNT_LOGANALYTICS_ENDPOINT` | `https://api.loganalytics.azure.com` | `https://api.loganalytics.us` | `https://api.loganalytics.azure.cn` |
//! | `RMMHUNT_LOGANALYTICS_AUDIENCE` | `https://api.loganalytics.io` | `https://api.loganalytics.us` | `https://api.loganalytics.azure.cn` |
//! | `RMMHUNT_GRAPH_ENDPOINT` / `_AUDIENCE` | `https://graph.microsoft.com` | `https://graph.microsoft.us` (L4) / `https://dod-graph.microsoft.us` (L5) | `https://microsoftgraph.chinacloudapi.cn` |
//! | `RMMHUNT_ARM_ENDPOINT` / `_AUDIENCE` | `https://management.azure.com` | `https://management.usgovcloudapi.net` | `https://management.chinacloudapi.cn` |
//! | `RMMHUNT_AUTHORITY_ENDPOINT` | `https://login.microsoftonline.com` | `https://login.microsoftonline.us` | `https://login.chinacloudapi.cn` |
//!
//! (The sovereign values are Microsoft's documented national-cloud hosts;
//! they were not tested against live services.)
//!
//! Secrets ([`Secret`]) never print: Debug and Display show `***`.

use std::collections::HashMap;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

/// A secret string (client secret, identity header, access token). Debug and
/// Display print `***`; read it with [`Secret::expose`] only where it is sent.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// The secret value, for the one place that sends it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// Public-cloud defaults.
pub mod defaults {
    pub const LOGANALYTICS_ENDPOINT: &str = "https://api.loganalytics.azure.com";
    pub const LOGANALYTICS_AUDIENCE: &str = "https://api.loganalytics.io";
    pub const GRAPH_ENDPOINT: &str = "https://graph.microsoft.com";
    pub const GRAPH_AUDIENCE: &str = "https://graph.microsoft.com";
    pub const ARM_ENDPOINT: &str = "https://management.azure.com";
    pub const ARM_AUDIENCE: &str = "https://management.azure.com";
    pub const AUTHORITY_ENDPOINT: &str = "https://login.microsoftonline.com";
    /// Microsoft.SecurityInsights stable api-version (reference C.1: newest
    /// documented stable; 2025-12-01 exists in the spec repo).
    pub const INCIDENTS_API_VERSION: &str = "2025-09-01";
    pub const INCIDENT_SEVERITY: &str = "Medium";
    /// Overall deadline for one API call including retries, seconds (kept
    /// below the 230 s HTTP front-end cut of Functions).
    pub const REQUEST_DEADLINE_SECS: u64 = 200;
    /// `Prefer: wait=` for Log Analytics, seconds (service default 180, max 600).
    pub const QUERY_WAIT_SECS: u64 = 180;
    pub const LOGANALYTICS_MAX_ROWS: usize = 500_000;
    pub const DEFENDER_MAX_ROWS: usize = 100_000;
    /// Token audience of the Logs Ingestion API (Azure Monitor).
    pub const MONITOR_AUDIENCE: &str = "https://monitor.azure.com";
    /// Stream of the findings table in the data collection rule.
    pub const LOGS_INGESTION_STREAM: &str = "Custom-RmmHuntFindings_CL";
    /// Deadline of a hunt started over HTTP (`POST /api/hunts`), seconds:
    /// below the 230 s cut of the Functions front end, with room to answer.
    pub const HTTP_HUNT_DEADLINE_SECS: u64 = 200;
}

/// Every setting, as found (names in DESIGN.md "Settings").
#[derive(Clone, Default)]
pub struct Raw {
    vars: HashMap<String, String>,
}

/// Names of all settings read here.
pub const VARIABLES: &[&str] = &[
    "RMMHUNT_SOURCE",
    "RMMHUNT_RULES",
    "RMMHUNT_EXCLUSIONS",
    "RMMHUNT_DATA",
    "RMMHUNT_WORKSPACE_ID",
    "RMMHUNT_SENTINEL_SUBSCRIPTION_ID",
    "RMMHUNT_SENTINEL_RESOURCE_GROUP",
    "RMMHUNT_SENTINEL_WORKSPACE",
    "RMMHUNT_LOGANALYTICS_ENDPOINT",
    "RMMHUNT_GRAPH_ENDPOINT",
    "RMMHUNT_ARM_ENDPOINT",
    "RMMHUNT_AUTHORITY_ENDPOINT",
    "RMMHUNT_LOGANALYTICS_AUDIENCE",
    "RMMHUNT_GRAPH_AUDIENCE",
    "RMMHUNT_ARM_AUDIENCE",
    "RMMHUNT_CREDENTIAL",
    "RMMHUNT_IMDS_ENDPOINT",
    "RMMHUNT_INCIDENTS_API_VERSION",
    "RMMHUNT_INCIDENT_SEVERITY",
    "RMMHUNT_REQUEST_DEADLINE_SECS",
    "RMMHUNT_QUERY_WAIT_SECS",
    "RMMHUNT_LOGANALYTICS_MAX_ROWS",
    "RMMHUNT_DEFENDER_MAX_ROWS",
    "IDENTITY_ENDPOINT",
    "IDENTITY_HEADER",
    "AZURE_CLIENT_ID",
    "AZURE_TENANT_ID",
    "AZURE_CLIENT_SECRET",
    "FUNCTIONS_CUSTOMHANDLER_PORT",
    "RMMHUNT_SCHEDULE",
    "RMMHUNT_DISABLED_RULES",
    "RMMHUNT_HTTP_DEADLINE_SECS",
    "RMMHUNT_API_AUTH",
    "RMMHUNT_API_KEY",
    "RMMHUNT_API_TENANT_ID",
    "RMMHUNT_API_AUDIENCE",
    "RMMHUNT_API_JWKS_URL",
    "RMMHUNT_API_REQUIRED_ROLE",
    "RMMHUNT_LOGS_INGESTION_ENDPOINT",
    "RMMHUNT_LOGS_INGESTION_DCR_ID",
    "RMMHUNT_LOGS_INGESTION_STREAM",
    "RMMHUNT_MONITOR_AUDIENCE",
];

/// Which source runs the KQL.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SourceKind {
    Local,
    LogAnalytics,
    Defender,
}

impl SourceKind {
    pub fn parse(s: &str) -> Option<SourceKind> {
        match s {
            "local" => Some(SourceKind::Local),
            "log-analytics" => Some(SourceKind::LogAnalytics),
            "defender" => Some(SourceKind::Defender),
            _ => None,
        }
    }
}

/// How tokens are obtained (`RMMHUNT_CREDENTIAL`: `auto` (default),
/// `managed-identity`, `service-principal`, `azure-cli`).
///
/// `auto`: a service principal when `AZURE_TENANT_ID` + `AZURE_CLIENT_ID` +
/// `AZURE_CLIENT_SECRET` are set; else the App Service managed identity when
/// `IDENTITY_ENDPOINT` + `IDENTITY_HEADER` are set; else the developer's
/// Azure CLI login. `managed-identity` without `IDENTITY_ENDPOINT` uses IMDS.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Credential {
    /// App Service protocol (`app_service` set) or IMDS (`imds_endpoint`).
    ManagedIdentity {
        app_service: Option<(String, Secret)>,
        imds_endpoint: String,
        /// User-assigned identity (`AZURE_CLIENT_ID`).
        client_id: Option<String>,
    },
    ServicePrincipal {
        authority: String,
        tenant_id: String,
        client_id: String,
        secret: Secret,
    },
    AzureCli,
}

/// Where incidents go.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SentinelTarget {
    pub subscription_id: String,
    pub resource_group: String,
    pub workspace: String,
}

/// API base URLs and token audiences.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoints {
    pub log_analytics: String,
    pub graph: String,
    pub arm: String,
    pub log_analytics_audience: String,
    pub graph_audience: String,
    pub arm_audience: String,
    /// `RMMHUNT_MONITOR_AUDIENCE` (Logs Ingestion API).
    pub monitor_audience: String,
}

/// How `rmmhunt serve` checks its callers (`RMMHUNT_API_AUTH`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ApiAuth {
    /// `host`: behind the Functions host, which checks function keys
    /// (`authLevel: function`) before it forwards a request; the default
    /// when `FUNCTIONS_CUSTOMHANDLER_PORT` is set.
    Host,
    /// `none`: no check at all, chosen on purpose (a test rig).
    None,
    /// `key`: every `/api/*` request carries `x-api-key: <RMMHUNT_API_KEY>`.
    Key(Secret),
    /// `entra`: every `/api/*` request carries an Entra ID access token
    /// (`Authorization: Bearer`) for `audience`, issued by `tenant_id`,
    /// signed by a key of `jwks_url`.
    Entra(EntraAuth),
}

/// Settings of `RMMHUNT_API_AUTH=entra`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EntraAuth {
    /// `RMMHUNT_API_TENANT_ID` (GUID).
    pub tenant_id: String,
    /// `RMMHUNT_API_AUDIENCE`: the API's application ID URI or client id.
    pub audience: String,
    /// `RMMHUNT_API_JWKS_URL`; default
    /// `{RMMHUNT_AUTHORITY_ENDPOINT}/{tenant}/discovery/v2.0/keys`.
    pub jwks_url: String,
    /// `RMMHUNT_AUTHORITY_ENDPOINT` (issuers are
    /// `{authority}/{tenant}/v2.0` and `https://sts.windows.net/{tenant}/`).
    pub authority: String,
    /// `RMMHUNT_API_REQUIRED_ROLE`: an app role the token's `roles` claim
    /// must hold (none when unset).
    pub required_role: Option<String>,
}

/// Where the Logs Ingestion sink writes findings (all three of
/// `RMMHUNT_LOGS_INGESTION_ENDPOINT`, `_DCR_ID`, `_STREAM` (default
/// `Custom-RmmHuntFindings_CL`)).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogsIngestionTarget {
    /// The data collection endpoint's (or `kind: Direct` DCR's)
    /// logs-ingestion URL, without a path.
    pub endpoint: String,
    /// The DCR's immutable id (`dcr-<32 hex>`), not its ARM name.
    pub dcr_immutable_id: String,
    pub stream: String,
}

/// Checked settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Validated {
    pub source: Option<SourceKind>,
    pub rules: Option<PathBuf>,
    pub exclusions: Option<PathBuf>,
    pub data: Vec<String>,
    pub workspace_id: Option<String>,
    pub sentinel: Option<SentinelTarget>,
    pub endpoints: Endpoints,
    pub credential: Credential,
    pub incidents_api_version: String,
    /// `Informational`, `Low`, `Medium` (default) or `High`.
    pub incident_severity: String,
    pub request_deadline: Duration,
    pub query_wait_secs: u64,
    pub log_analytics_max_rows: usize,
    pub defender_max_rows: usize,
    /// `FUNCTIONS_CUSTOMHANDLER_PORT`: set = running under the Functions host.
    pub port: Option<u16>,
    /// `RMMHUNT_SCHEDULE`: the timer's NCRONTAB (six fields); read by the
    /// host through `%RMMHUNT_SCHEDULE%` in function/HuntTimer, checked and
    /// shown by `/api/health` here.
    pub schedule: Option<String>,
    /// `RMMHUNT_DISABLED_RULES`: rule ids (comma-separated) the timer and
    /// `/api/hunts` (without a `rule`) skip.
    pub disabled_rules: Vec<String>,
    /// `RMMHUNT_HTTP_DEADLINE_SECS`: a hunt started over HTTP is cut here.
    pub http_hunt_deadline: Duration,
    /// `RMMHUNT_API_AUTH` (`host`, `none`, `key`, `entra`); `None` when unset
    /// and not under the Functions host: `serve` then refuses to start.
    pub api_auth: Option<ApiAuth>,
    /// The Logs Ingestion sink, when configured.
    pub logs_ingestion: Option<LogsIngestionTarget>,
}

/// One problem with one setting.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{variable}: {message}")]
pub struct ConfigError {
    pub variable: &'static str,
    pub message: String,
}

/// All problems found, in setting order.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{}", .0.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("; "))]
pub struct ConfigErrors(pub Vec<ConfigError>);

impl fmt::Debug for Raw {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut m = f.debug_map();
        for name in VARIABLES {
            if let Some(v) = self.vars.get(*name) {
                if is_secret(name) {
                    m.entry(name, &"***");
                } else {
                    m.entry(name, v);
                }
            }
        }
        m.finish()
    }
}

fn is_http_url(v: &str) -> bool {
    reqwest::Url::parse(v).is_ok_and(|u| u.scheme() == "https" || u.scheme() == "http")
}

fn is_secret(name: &str) -> bool {
    matches!(
        name,
        "AZURE_CLIENT_SECRET" | "IDENTITY_HEADER" | "RMMHUNT_API_KEY"
    )
}

/// Reads the known settings from the process environment.
pub fn from_process_env() -> Raw {
    let vars = VARIABLES
        .iter()
        .filter_map(|n| std::env::var(n).ok().map(|v| (n.to_string(), v)))
        .collect();
    Raw { vars }
}

/// The settings found in `env` (tests; unknown names are ignored).
pub fn from_env_map(env: &HashMap<String, String>) -> Raw {
    let vars = VARIABLES
        .iter()
        .filter_map(|n| env.get(*n).map(|v| (n.to_string(), v.clone())))
        .collect();
    Raw { vars }
}

impl Raw {
    /// A setting, trimmed; empty counts as unset.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.vars
            .get(name)
            .map(|s| s.trim())
            .filter(|s| !s.is_empty())
    }

    /// A comma-separated setting: its non-empty items, trimmed.
    fn list(&self, name: &str) -> Vec<String> {
        self.get(name)
            .map(|s| {
                s.split(',')
                    .map(str::trim)
                    .filter(|p| !p.is_empty())
                    .map(String::from)
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Checks everything and returns every problem.
    pub fn validate(&self) -> Result<Validated, ConfigErrors> {
        let mut errs: Vec<ConfigError> = Vec::new();
        let err = |errs: &mut Vec<ConfigError>, variable: &'static str, message: String| {
            errs.push(ConfigError { variable, message })
        };

        let source = match self.get("RMMHUNT_SOURCE") {
            None => None,
            Some(s) => match SourceKind::parse(s) {
                Some(k) => Some(k),
                None => {
                    err(
                        &mut errs,
                        "RMMHUNT_SOURCE",
                        format!("`{s}` is not one of local, log-analytics, defender"),
                    );
                    None
                }
            },
        };
        let data = self.list("RMMHUNT_DATA");
        let workspace_id = self.get("RMMHUNT_WORKSPACE_ID").map(String::from);
        if let Some(w) = &workspace_id {
            if uuid::Uuid::parse_str(w).is_err() {
                err(
                    &mut errs,
                    "RMMHUNT_WORKSPACE_ID",
                    format!("`{w}` is not a GUID (the workspace ID, not its name)"),
                );
            }
        } else if source == Some(SourceKind::LogAnalytics) {
            err(
                &mut errs,
                "RMMHUNT_WORKSPACE_ID",
                "required with RMMHUNT_SOURCE=log-analytics".into(),
            );
        }
        let sub = self.get("RMMHUNT_SENTINEL_SUBSCRIPTION_ID");
        let rg = self.get("RMMHUNT_SENTINEL_RESOURCE_GROUP");
        let ws = self.get("RMMHUNT_SENTINEL_WORKSPACE");
        let sentinel = match (sub, rg, ws) {
            (Some(s), Some(r), Some(w)) => Some(SentinelTarget {
                subscription_id: s.into(),
                resource_group: r.into(),
                workspace: w.into(),
            }),
            (None, None, None) => None,
            _ => {
                err(
                    &mut errs,
                    "RMMHUNT_SENTINEL_SUBSCRIPTION_ID",
                    "set RMMHUNT_SENTINEL_SUBSCRIPTION_ID, RMMHUNT_SENTINEL_RESOURCE_GROUP and RMMHUNT_SENTINEL_WORKSPACE together".into(),
                );
                None
            }
        };

        let mut url = |name: &'static str, default: &str| -> String {
            let v = self.get(name).unwrap_or(default);
            if is_http_url(v) {
                v.trim_end_matches('/').to_string()
            } else {
                err(&mut errs, name, format!("`{v}` is not an http(s) URL"));
                v.to_string()
            }
        };
        let endpoints = Endpoints {
            log_analytics: url(
                "RMMHUNT_LOGANALYTICS_ENDPOINT",
                defaults::LOGANALYTICS_ENDPOINT,
            ),
            graph: url("RMMHUNT_GRAPH_ENDPOINT", defaults::GRAPH_ENDPOINT),
            arm: url("RMMHUNT_ARM_ENDPOINT", defaults::ARM_ENDPOINT),
            log_analytics_audience: url(
                "RMMHUNT_LOGANALYTICS_AUDIENCE",
                defaults::LOGANALYTICS_AUDIENCE,
            ),
            graph_audience: url("RMMHUNT_GRAPH_AUDIENCE", defaults::GRAPH_AUDIENCE),
            arm_audience: url("RMMHUNT_ARM_AUDIENCE", defaults::ARM_AUDIENCE),
            monitor_audience: url("RMMHUNT_MONITOR_AUDIENCE", defaults::MONITOR_AUDIENCE),
        };
        let authority = url("RMMHUNT_AUTHORITY_ENDPOINT", defaults::AUTHORITY_ENDPOINT);
        let imds = url(
            "RMMHUNT_IMDS_ENDPOINT",
            crate::azure::auth::IMDS_TOKEN_ENDPOINT,
        );
        let identity_endpoint = self.get("IDENTITY_ENDPOINT").map(|v| {
            if reqwest::Url::parse(v).is_err() {
                err(
                    &mut errs,
                    "IDENTITY_ENDPOINT",
                    format!("`{v}` is not a URL"),
                );
            }
            v.to_string()
        });

        let tenant = self.get("AZURE_TENANT_ID");
        let client_id = self.get("AZURE_CLIENT_ID");
        let secret = self.get("AZURE_CLIENT_SECRET");
        let header = self.get("IDENTITY_HEADER");
        let app_service = match (identity_endpoint, header) {
            (Some(e), Some(h)) => Some((e, Secret::new(h))),
            (Some(_), None) => {
                err(
                    &mut errs,
                    "IDENTITY_HEADER",
                    "required with IDENTITY_ENDPOINT (App Service managed identity)".into(),
                );
                None
            }
            _ => None,
        };
        let managed = |app_service| Credential::ManagedIdentity {
            app_service,
            imds_endpoint: imds.clone(),
            client_id: client_id.map(String::from),
        };
        let sp = |errs: &mut Vec<ConfigError>| match (tenant, client_id, secret) {
            (Some(t), Some(c), Some(s)) => Some(Credential::ServicePrincipal {
                authority: authority.clone(),
                tenant_id: t.into(),
                client_id: c.into(),
                secret: Secret::new(s),
            }),
            _ => {
                err(
                    errs,
                    "AZURE_CLIENT_SECRET",
                    "service principal needs AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET"
                        .into(),
                );
                None
            }
        };
        let credential = match self.get("RMMHUNT_CREDENTIAL").unwrap_or("auto") {
            "auto" => {
                if tenant.is_some() && client_id.is_some() && secret.is_some() {
                    sp(&mut errs).unwrap_or(Credential::AzureCli)
                } else if app_service.is_some() {
                    managed(app_service)
                } else {
                    Credential::AzureCli
                }
            }
            "managed-identity" => managed(app_service),
            "service-principal" => sp(&mut errs).unwrap_or(Credential::AzureCli),
            "azure-cli" => Credential::AzureCli,
            other => {
                err(
                    &mut errs,
                    "RMMHUNT_CREDENTIAL",
                    format!("`{other}` is not one of auto, managed-identity, service-principal, azure-cli"),
                );
                Credential::AzureCli
            }
        };

        let incident_severity = self
            .get("RMMHUNT_INCIDENT_SEVERITY")
            .unwrap_or(defaults::INCIDENT_SEVERITY)
            .to_string();
        if !["Informational", "Low", "Medium", "High"].contains(&incident_severity.as_str()) {
            err(
                &mut errs,
                "RMMHUNT_INCIDENT_SEVERITY",
                format!("`{incident_severity}` is not one of Informational, Low, Medium, High"),
            );
        }
        let incidents_api_version = self
            .get("RMMHUNT_INCIDENTS_API_VERSION")
            .unwrap_or(defaults::INCIDENTS_API_VERSION)
            .to_string();
        let mut num = |name: &'static str, default: u64, min: u64, max: u64| -> u64 {
            match self.get(name) {
                None => default,
                Some(v) => match v.parse::<u64>() {
                    Ok(n) if (min..=max).contains(&n) => n,
                    _ => {
                        err(
                            &mut errs,
                            name,
                            format!("`{v}` is not a whole number in {min}..={max}"),
                        );
                        default
                    }
                },
            }
        };
        let request_deadline = Duration::from_secs(num(
            "RMMHUNT_REQUEST_DEADLINE_SECS",
            defaults::REQUEST_DEADLINE_SECS,
            1,
            3600,
        ));
        let query_wait_secs = num("RMMHUNT_QUERY_WAIT_SECS", defaults::QUERY_WAIT_SECS, 1, 600);
        let la_rows = num(
            "RMMHUNT_LOGANALYTICS_MAX_ROWS",
            defaults::LOGANALYTICS_MAX_ROWS as u64,
            1,
            defaults::LOGANALYTICS_MAX_ROWS as u64,
        ) as usize;
        let def_rows = num(
            "RMMHUNT_DEFENDER_MAX_ROWS",
            defaults::DEFENDER_MAX_ROWS as u64,
            1,
            defaults::DEFENDER_MAX_ROWS as u64,
        ) as usize;
        let port = self
            .get("FUNCTIONS_CUSTOMHANDLER_PORT")
            .map(|_| num("FUNCTIONS_CUSTOMHANDLER_PORT", 0, 1, 65535) as u16)
            .filter(|p| *p != 0);
        let http_hunt_deadline = Duration::from_secs(num(
            "RMMHUNT_HTTP_DEADLINE_SECS",
            defaults::HTTP_HUNT_DEADLINE_SECS,
            1,
            3600,
        ));

        let schedule = self.get("RMMHUNT_SCHEDULE").map(String::from);
        if let Some(s) = &schedule {
            let fields = s.split_whitespace().count();
            if fields != 6 {
                err(
                    &mut errs,
                    "RMMHUNT_SCHEDULE",
                    format!("`{s}` has {fields} fields; an NCRONTAB expression has six: second minute hour day month day-of-week (e.g. `0 0 * * * *`)"),
                );
            }
        }
        let disabled_rules = self.list("RMMHUNT_DISABLED_RULES");

        let api_auth = match self.get("RMMHUNT_API_AUTH") {
            None if port.is_some() => Some(ApiAuth::Host),
            None => None,
            Some("host") => Some(ApiAuth::Host),
            Some("none") => Some(ApiAuth::None),
            Some("key") => match self.get("RMMHUNT_API_KEY") {
                Some(k) if k.len() >= 16 => Some(ApiAuth::Key(Secret::new(k))),
                Some(_) => {
                    err(
                        &mut errs,
                        "RMMHUNT_API_KEY",
                        "too short: use at least 16 characters (e.g. `openssl rand -hex 32`)"
                            .into(),
                    );
                    None
                }
                None => {
                    err(
                        &mut errs,
                        "RMMHUNT_API_KEY",
                        "required with RMMHUNT_API_AUTH=key".into(),
                    );
                    None
                }
            },
            Some("entra") => {
                let tenant = self.get("RMMHUNT_API_TENANT_ID").or(tenant);
                let audience = self.get("RMMHUNT_API_AUDIENCE");
                match (tenant, audience) {
                    (Some(t), Some(a)) => {
                        if uuid::Uuid::parse_str(t).is_err() {
                            err(
                                &mut errs,
                                "RMMHUNT_API_TENANT_ID",
                                format!("`{t}` is not a GUID (the directory (tenant) ID)"),
                            );
                        }
                        let jwks_url = match self.get("RMMHUNT_API_JWKS_URL") {
                            Some(u) => {
                                if reqwest::Url::parse(u).is_err() {
                                    err(
                                        &mut errs,
                                        "RMMHUNT_API_JWKS_URL",
                                        format!("`{u}` is not a URL"),
                                    );
                                }
                                u.to_string()
                            }
                            None => format!("{authority}/{t}/discovery/v2.0/keys"),
                        };
                        Some(ApiAuth::Entra(EntraAuth {
                            tenant_id: t.into(),
                            audience: a.into(),
                            jwks_url,
                            authority: authority.clone(),
                            required_role: self.get("RMMHUNT_API_REQUIRED_ROLE").map(String::from),
                        }))
                    }
                    _ => {
                        err(
                            &mut errs,
                            "RMMHUNT_API_AUDIENCE",
                            "RMMHUNT_API_AUTH=entra needs RMMHUNT_API_AUDIENCE and RMMHUNT_API_TENANT_ID (or AZURE_TENANT_ID)".into(),
                        );
                        None
                    }
                }
            }
            Some(other) => {
                err(
                    &mut errs,
                    "RMMHUNT_API_AUTH",
                    format!("`{other}` is not one of host, none, key, entra"),
                );
                None
            }
        };

        let li_endpoint = self.get("RMMHUNT_LOGS_INGESTION_ENDPOINT");
        let li_dcr = self.get("RMMHUNT_LOGS_INGESTION_DCR_ID");
        let logs_ingestion = match (li_endpoint, li_dcr) {
            (Some(e), Some(d)) => {
                if !is_http_url(e) {
                    err(
                        &mut errs,
                        "RMMHUNT_LOGS_INGESTION_ENDPOINT",
                        format!("`{e}` is not an http(s) URL"),
                    );
                }
                let hex = d.strip_prefix("dcr-").unwrap_or("");
                if hex.len() != 32 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                    err(
                        &mut errs,
                        "RMMHUNT_LOGS_INGESTION_DCR_ID",
                        format!("`{d}` is not a DCR immutable id (`dcr-` and 32 hex digits; not the DCR's name)"),
                    );
                }
                Some(LogsIngestionTarget {
                    endpoint: e.trim_end_matches('/').to_string(),
                    dcr_immutable_id: d.to_string(),
                    stream: self
                        .get("RMMHUNT_LOGS_INGESTION_STREAM")
                        .unwrap_or(defaults::LOGS_INGESTION_STREAM)
                        .to_string(),
                })
            }
            (None, None) => None,
            _ => {
                err(
                    &mut errs,
                    "RMMHUNT_LOGS_INGESTION_ENDPOINT",
                    "set RMMHUNT_LOGS_INGESTION_ENDPOINT and RMMHUNT_LOGS_INGESTION_DCR_ID together".into(),
                );
                None
            }
        };

        if !errs.is_empty() {
            return Err(ConfigErrors(errs));
        }
        Ok(Validated {
            source,
            rules: self.get("RMMHUNT_RULES").map(PathBuf::from),
            exclusions: self.get("RMMHUNT_EXCLUSIONS").map(PathBuf::from),
            data,
            workspace_id,
            sentinel,
            endpoints,
            credential,
            incidents_api_version,
            incident_severity,
            request_deadline,
            query_wait_secs,
            log_analytics_max_rows: la_rows,
            defender_max_rows: def_rows,
            port,
            schedule,
            disabled_rules,
            http_hunt_deadline,
            api_auth,
            logs_ingestion,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn defaults_are_public_cloud() {
        let v = from_env_map(&env(&[])).validate();
        let v = v.unwrap_or_else(|e| panic!("empty env must validate: {e}"));
        assert_eq!(v.endpoints.log_analytics, defaults::LOGANALYTICS_ENDPOINT);
        assert_eq!(v.endpoints.graph_audience, defaults::GRAPH_AUDIENCE);
        assert_eq!(v.credential, Credential::AzureCli);
        assert_eq!(v.incident_severity, "Medium");
        assert_eq!(v.log_analytics_max_rows, 500_000);
        assert_eq!(v.defender_max_rows, 100_000);
    }

    #[test]
    fn every_problem_is_reported() {
        let e = env(&[
            ("RMMHUNT_SOURCE", "log-analytics"),
            ("RMMHUNT_GRAPH_ENDPOINT", "not a url"),
            ("RMMHUNT_INCIDENT_SEVERITY", "Critical"),
            ("IDENTITY_ENDPOINT", "http://127.0.0.1:1/msi/token"),
            ("RMMHUNT_REQUEST_DEADLINE_SECS", "x"),
        ]);
        let errs = from_env_map(&e)
            .validate()
            .err()
            .map(|e| e.0)
            .unwrap_or_default();
        let vars: Vec<_> = errs.iter().map(|e| e.variable).collect();
        for want in [
            "RMMHUNT_WORKSPACE_ID",
            "RMMHUNT_GRAPH_ENDPOINT",
            "RMMHUNT_INCIDENT_SEVERITY",
            "IDENTITY_HEADER",
            "RMMHUNT_REQUEST_DEADLINE_SECS",
        ] {
            assert!(
                vars.contains(&want),
                "{want} missing from {vars:?} for {e:?}"
            );
        }
    }

    #[test]
    fn credential_selection() {
        let mi = env(&[
            ("IDENTITY_ENDPOINT", "http://127.0.0.1:9/msi/token"),
            ("IDENTITY_HEADER", "hdr-secret-value"),
            ("AZURE_CLIENT_ID", "cid"),
        ]);
        let v = from_env_map(&mi).validate().map_err(|e| e.to_string());
        let Ok(v) = v else { panic!("{v:?}") };
        assert!(
            matches!(&v.credential, Credential::ManagedIdentity { app_service: Some(_), client_id: Some(c), .. } if c == "cid")
        );
        let dbg = format!("{:?} {:?}", v, from_env_map(&mi));
        assert!(!dbg.contains("hdr-secret-value"), "{dbg}");

        let sp = env(&[
            ("AZURE_TENANT_ID", "t"),
            ("AZURE_CLIENT_ID", "c"),
            ("AZURE_CLIENT_SECRET", "sp-secret-value"),
            ("IDENTITY_ENDPOINT", "http://127.0.0.1:9/msi/token"),
            ("IDENTITY_HEADER", "h"),
        ]);
        let v = from_env_map(&sp).validate().map_err(|e| e.to_string());
        let Ok(v) = v else { panic!("{v:?}") };
        assert!(matches!(v.credential, Credential::ServicePrincipal { .. }));
        let dbg = format!("{:?} {:?}", v, from_env_map(&sp));
        assert!(!dbg.contains("sp-secret-value"), "{dbg}");

        let imds = env(&[("RMMHUNT_CREDENTIAL", "managed-identity")]);
        let v = from_env_map(&imds).validate().map_err(|e| e.to_string());
        assert!(
            matches!(
                &v,
                Ok(Validated {
                    credential: Credential::ManagedIdentity {
                        app_service: None,
                        ..
                    },
                    ..
                })
            ),
            "{v:?}"
        );
    }

    #[test]
    fn api_auth_defaults_to_the_host_only_under_the_host() {
        let v = from_env_map(&env(&[]))
            .validate()
            .map_err(|e| e.to_string());
        assert!(matches!(&v, Ok(v) if v.api_auth.is_none()), "{v:?}");
        let v = from_env_map(&env(&[("FUNCTIONS_CUSTOMHANDLER_PORT", "7071")]))
            .validate()
            .map_err(|e| e.to_string());
        assert!(
            matches!(&v, Ok(v) if v.api_auth == Some(ApiAuth::Host)),
            "{v:?}"
        );
        let key = env(&[
            ("RMMHUNT_API_AUTH", "key"),
            ("RMMHUNT_API_KEY", "0123456789abcdef-secret"),
        ]);
        let v = from_env_map(&key).validate().map_err(|e| e.to_string());
        assert!(
            matches!(&v, Ok(v) if matches!(v.api_auth, Some(ApiAuth::Key(_)))),
            "{v:?}"
        );
        let dbg = format!("{v:?} {:?}", from_env_map(&key));
        assert!(!dbg.contains("0123456789abcdef-secret"), "{dbg}");
        let short = env(&[("RMMHUNT_API_AUTH", "key"), ("RMMHUNT_API_KEY", "short")]);
        let e = from_env_map(&short)
            .validate()
            .err()
            .map(|e| e.0)
            .unwrap_or_default();
        assert_eq!(e.first().map(|e| e.variable), Some("RMMHUNT_API_KEY"));
    }

    #[test]
    fn entra_auth_and_logs_ingestion_and_schedule() {
        let e = env(&[
            ("RMMHUNT_API_AUTH", "entra"),
            (
                "RMMHUNT_API_TENANT_ID",
                "72f988bf-86f1-41af-91ab-2d7cd011db47",
            ),
            ("RMMHUNT_API_AUDIENCE", "api://rmmhunt"),
            (
                "RMMHUNT_LOGS_INGESTION_ENDPOINT",
                "https://dce.westeurope-1.ingest.monitor.azure.com/",
            ),
            (
                "RMMHUNT_LOGS_INGESTION_DCR_ID",
                "dcr-0123456789abcdef0123456789abcdef",
            ),
            ("RMMHUNT_SCHEDULE", "0 */30 * * * *"),
            ("RMMHUNT_DISABLED_RULES", " a , b ,"),
        ]);
        let v = from_env_map(&e).validate().map_err(|e| e.to_string());
        let Ok(v) = v else { panic!("{v:?}") };
        let Some(ApiAuth::Entra(a)) = &v.api_auth else {
            panic!("{v:?}")
        };
        assert_eq!(
            a.jwks_url,
            "https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/discovery/v2.0/keys"
        );
        let li = v
            .logs_ingestion
            .as_ref()
            .map(|l| (l.endpoint.as_str(), l.stream.as_str()));
        assert_eq!(
            li,
            Some((
                "https://dce.westeurope-1.ingest.monitor.azure.com",
                "Custom-RmmHuntFindings_CL"
            ))
        );
        assert_eq!(v.disabled_rules, vec!["a", "b"]);
        assert_eq!(v.endpoints.monitor_audience, "https://monitor.azure.com");

        let bad = env(&[
            ("RMMHUNT_SCHEDULE", "*/5 * * * *"),
            ("RMMHUNT_LOGS_INGESTION_ENDPOINT", "https://dce.example"),
            ("RMMHUNT_LOGS_INGESTION_DCR_ID", "my-dcr"),
            ("RMMHUNT_API_AUTH", "open"),
        ]);
        let errs = from_env_map(&bad)
            .validate()
            .err()
            .map(|e| e.0)
            .unwrap_or_default();
        let vars: Vec<_> = errs.iter().map(|e| e.variable).collect();
        assert_eq!(
            vars,
            [
                "RMMHUNT_SCHEDULE",
                "RMMHUNT_API_AUTH",
                "RMMHUNT_LOGS_INGESTION_DCR_ID"
            ]
        );
    }

    #[test]
    fn secret_never_prints() {
        let s = Secret::new("abc123");
        assert_eq!(format!("{s:?} {s}"), "*** ***");
        assert_eq!(s.expose(), "abc123");
    }
}
