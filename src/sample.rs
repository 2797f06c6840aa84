//! Seeded generator of realistic DeviceNetworkEvents rows (JSON Lines or
//! CSV) for demos, tests and benchmarks. Deterministic for a given seed
//! (own splitmix64 PRNG); no I/O besides the writer it is given.
//!
//! The mix (per block of 100 rows, positions shuffled by the seed):
//! 2 true positives of the seed Zoho Assist rule, 7 near misses that the
//! rule must not match, 5 rows for the legitimate scenarios that the
//! exclusion file expresses (true positives of the rule, but legitimate:
//! constants in [`scenario`]), 4 rows that look like those scenarios but
//! fall outside them (true positives that must *not* be excluded), and 82
//! rows of unrelated traffic. Timestamps are spread over the 7 days before
//! `now`; rule hits fall within its 5-day window (maintenance rows excepted:
//! they sit in the last Sunday window, which is inside 5 days when `now` is
//! between Sunday 05:00 and Friday 01:00 London time).

use std::io::{self, Write};

/// The constants of the legitimate scenarios. `examples/exclusions.yaml`
/// is written against exactly these values.
pub mod scenario {
    /// (1) Scheduled maintenance: devices `srv-*.contoso.local` ...
    pub const MAINTENANCE_DEVICE_PREFIX: &str = "srv-";
    pub const MAINTENANCE_DEVICE_SUFFIX: &str = ".contoso.local";
    /// ... on Sundays between 01:00 and 05:00 (local time of
    /// [`MAINTENANCE_TIME_ZONE`]).
    pub const MAINTENANCE_WEEKDAY: &str = "Sunday";
    pub const MAINTENANCE_START_HOUR: u32 = 1;
    pub const MAINTENANCE_END_HOUR: u32 = 5;
    pub const MAINTENANCE_TIME_ZONE: &str = "Europe/London";
    /// (2) IT support technicians (InitiatingProcessAccountName).
    pub const IT_SUPPORT_ACCOUNTS: [&str; 2] = ["it_support_1", "it_support_2"];
    /// (3) Patching jobs (InitiatingProcessAccountName) off-peak, between
    /// 22:00 and 04:00 UTC.
    pub const PATCH_ACCOUNT: &str = "svc_patch";
    pub const PATCH_START_HOUR_UTC: u32 = 22;
    pub const PATCH_END_HOUR_UTC: u32 = 4;
    /// (4) Inventory collection: InitiatingProcessAccountName with
    /// InitiatingProcessAccountDomain.
    pub const INVENTORY_ACCOUNT: &str = "svc_inventory";
    pub const INVENTORY_DOMAIN: &str = "CONTOSO";
    /// (5) SIEM log forwarding: RemoteIP.
    pub const SIEM_IP: &str = "10.20.0.15";
}

/// The 18 domains of the seed rule's `has_any`.
pub const SEED_DOMAINS: [&str; 18] = [
    "assist.zoho.com",
    "assist.zoho.eu",
    "assist.zoho.com.au",
    "assist.zoho.in",
    "assist.zoho.jp",
    "assist.zoho.uk",
    "assistlab.zoho.com",
    "downloads.zohocdn.com",
    "download-accl.zoho.in",
    "zohoassist.com",
    "zohopublic.com",
    "zohopublic.eu",
    "meeting.zoho.com",
    "meeting.zoho.eu",
    "static.zohocdn.com",
    "zohodl.com.cn",
    "zohowebstatic.com",
    "zohostatic.in",
];

/// The columns written, in DeviceNetworkEvents schema order.
pub const COLUMNS: [&str; 49] = [
    "Timestamp",
    "DeviceId",
    "DeviceName",
    "ActionType",
    "RemoteIP",
    "RemotePort",
    "RemoteUrl",
    "LocalIP",
    "LocalPort",
    "Protocol",
    "LocalIPType",
    "RemoteIPType",
    "InitiatingProcessSHA1",
    "InitiatingProcessSHA256",
    "InitiatingProcessMD5",
    "InitiatingProcessFileName",
    "InitiatingProcessFileSize",
    "InitiatingProcessVersionInfoCompanyName",
    "InitiatingProcessVersionInfoProductName",
    "InitiatingProcessVersionInfoProductVersion",
    "InitiatingProcessVersionInfoInternalFileName",
    "InitiatingProcessVersionInfoOriginalFileName",
    "InitiatingProcessVersionInfoFileDescription",
    "InitiatingProcessId",
    "InitiatingProcessCommandLine",
    "InitiatingProcessCreationTime",
    "InitiatingProcessFolderPath",
    "InitiatingProcessParentFileName",
    "InitiatingProcessParentId",
    "InitiatingProcessParentCreationTime",
    "InitiatingProcessAccountDomain",
    "InitiatingProcessAccountName",
    "InitiatingProcessAccountSid",
    "InitiatingProcessAccountUpn",
    "InitiatingProcessAccountObjectId",
    "InitiatingProcessIntegrityLevel",
    "InitiatingProcessTokenElevation",
    "ReportId",
    "AppGuardContainerId",
    "AdditionalFields",
    "InitiatingProcessSessionId",
    "IsInitiatingProcessRemoteSession",
    "InitiatingProcessRemoteSessionDeviceName",
    "InitiatingProcessRemoteSessionIP",
    "TimeGenerated",
    "TenantId",
    "MachineGroup",
    "SourceSystem",
    "Type",
];

/// Output syntax.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SampleFormat {
    Jsonl,
    Csv,
}

impl std::str::FromStr for SampleFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<SampleFormat, String> {
        match s.to_ascii_lowercase().as_str() {
            "jsonl" | "ndjson" => Ok(SampleFormat::Jsonl),
            "csv" => Ok(SampleFormat::Csv),
            _ => Err(format!(
                "unknown sample format '{s}' (expected jsonl or csv)"
            )),
        }
    }
}

/// What to generate.
#[derive(Clone, Debug)]
pub struct GenerateOptions {
    pub rows: u64,
    pub seed: u64,
    pub format: SampleFormat,
    /// The end of the generated time range, in ticks (100 ns) since
    /// 0001-01-01 (see `kql::time`).
    pub now: i64,
}

/// The kind of a generated row.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RowKind {
    /// Unrelated traffic.
    Background,
    /// Zoho Assist traffic the seed rule must report.
    TruePositive,
    /// `myassist.zoho.com`: not a term match of `assist.zoho.com`.
    NearMissMyAssist,
    /// `assist.zoho.community`.
    NearMissCommunity,
    /// `zohoassist.community`.
    NearMissZohoAssistCommunity,
    /// Other products of the same company (Zoho Mail, CRM, ManageEngine).
    NearMissOtherZohoProduct,
    /// ProductName `ZohoAssist` (one term, not `Zoho Assist`).
    NearMissProductText,
    /// A true positive, but older than the rule's 5 days.
    NearMissTooOld,
    /// A browser visiting a Zoho Assist domain (not the Zoho process).
    NearMissBrowser,
    /// Legitimate (1): maintenance on `srv-*.contoso.local`, Sunday 01-05 London.
    Maintenance,
    /// Legitimate (2): IT support technicians.
    ItSupport,
    /// Legitimate (3): patching job account off-peak.
    Patching,
    /// Legitimate (4): inventory account in the CONTOSO domain.
    Inventory,
    /// Legitimate (5): forwarding to the SIEM server IP.
    SiemForwarding,
    /// Rule hits that resemble a legitimate scenario but are outside it
    /// (srv-* on a weekday, svc_patch at midday, svc_inventory in another
    /// domain, an IP next to the SIEM's): must stay findings.
    LookalikeHit,
}

impl RowKind {
    pub const ALL: [RowKind; 15] = [
        RowKind::Background,
        RowKind::TruePositive,
        RowKind::NearMissMyAssist,
        RowKind::NearMissCommunity,
        RowKind::NearMissZohoAssistCommunity,
        RowKind::NearMissOtherZohoProduct,
        RowKind::NearMissProductText,
        RowKind::NearMissTooOld,
        RowKind::NearMissBrowser,
        RowKind::Maintenance,
        RowKind::ItSupport,
        RowKind::Patching,
        RowKind::Inventory,
        RowKind::SiemForwarding,
        RowKind::LookalikeHit,
    ];

    pub fn name(self) -> &'static str {
        match self {
            RowKind::Background => "background",
            RowKind::TruePositive => "true-positive",
            RowKind::NearMissMyAssist => "near-miss-myassist",
            RowKind::NearMissCommunity => "near-miss-community",
            RowKind::NearMissZohoAssistCommunity => "near-miss-zohoassist-community",
            RowKind::NearMissOtherZohoProduct => "near-miss-other-zoho-product",
            RowKind::NearMissProductText => "near-miss-product-text",
            RowKind::NearMissTooOld => "near-miss-too-old",
            RowKind::NearMissBrowser => "near-miss-browser",
            RowKind::Maintenance => "legit-maintenance",
            RowKind::ItSupport => "legit-it-support",
            RowKind::Patching => "legit-patching",
            RowKind::Inventory => "legit-inventory",
            RowKind::SiemForwarding => "legit-siem-forwarding",
            RowKind::LookalikeHit => "lookalike-hit",
        }
    }

    /// True when the seed rule reports rows of this kind.
    pub fn is_rule_hit(self) -> bool {
        matches!(
            self,
            RowKind::TruePositive
                | RowKind::Maintenance
                | RowKind::ItSupport
                | RowKind::Patching
                | RowKind::Inventory
                | RowKind::SiemForwarding
                | RowKind::LookalikeHit
        )
    }

    fn index(self) -> usize {
        RowKind::ALL.iter().position(|k| *k == self).unwrap_or(0)
    }
}

/// What was written.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GenerateStats {
    pub rows: u64,
    pub bytes: u64,
    /// Row count per [`RowKind::ALL`] entry.
    pub per_kind: [u64; 15],
}

impl GenerateStats {
    pub fn count(&self, kind: RowKind) -> u64 {
        self.per_kind.get(kind.index()).copied().unwrap_or(0)
    }
}

/// Writes `opts.rows` rows (plus a header for CSV) to `out`.
pub fn generate(opts: &GenerateOptions, out: &mut dyn Write) -> io::Result<GenerateStats> {
    generate_with(opts, out, &mut |_| {})
}

/// Which mix of row kinds to write.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Mix {
    /// The demo mix of the module docs (per 100 rows: 11 rule hits, 7 near
    /// misses, 82 unrelated): dense, so a small sample shows every case.
    #[default]
    Demo,
    /// A more realistic enterprise mix for benchmarks: per block of 10,000
    /// rows, 10 rule hits (0.1%: 4 true positives, one of each legitimate
    /// scenario, one lookalike), 21 near misses (3 of each kind) and 9,969
    /// rows of unrelated traffic. RMM traffic is a tiny fraction of a
    /// real network's connections.
    Bench,
}

impl std::str::FromStr for Mix {
    type Err = String;
    fn from_str(s: &str) -> Result<Mix, String> {
        match s.to_ascii_lowercase().as_str() {
            "demo" => Ok(Mix::Demo),
            "bench" => Ok(Mix::Bench),
            _ => Err(format!("unknown mix '{s}' (expected demo or bench)")),
        }
    }
}

/// [`generate`] with the given [`Mix`] (`Mix::Demo` is exactly
/// [`generate`]).
pub fn generate_mix(
    opts: &GenerateOptions,
    mix: Mix,
    out: &mut dyn Write,
) -> io::Result<GenerateStats> {
    generate_inner(opts, mix, out, &mut |_| {})
}

/// [`generate`], calling `on_row` with the kind of each row written.
pub fn generate_with(
    opts: &GenerateOptions,
    out: &mut dyn Write,
    on_row: &mut dyn FnMut(RowKind),
) -> io::Result<GenerateStats> {
    generate_inner(opts, Mix::Demo, out, on_row)
}

fn generate_inner(
    opts: &GenerateOptions,
    mix: Mix,
    out: &mut dyn Write,
    on_row: &mut dyn FnMut(RowKind),
) -> io::Result<GenerateStats> {
    let block_len: u64 = match mix {
        Mix::Demo => 100,
        Mix::Bench => 10_000,
    };
    let mut w = io::BufWriter::with_capacity(1 << 20, out);
    let mut stats = GenerateStats::default();
    let mut g = Generator::new(opts.seed, opts.now);
    let mut line: Vec<u8> = Vec::with_capacity(4096);
    if opts.format == SampleFormat::Csv {
        line.extend_from_slice(COLUMNS.join(",").as_bytes());
        line.extend_from_slice(b"\r\n");
        w.write_all(&line)?;
        stats.bytes += line.len() as u64;
    }
    let mut block: Vec<RowKind> = Vec::with_capacity(100);
    for i in 0..opts.rows {
        let slot = (i % block_len) as usize;
        if slot == 0 {
            block = match mix {
                Mix::Demo => g.block(),
                Mix::Bench => g.bench_block(),
            };
        }
        let kind = block.get(slot).copied().unwrap_or(RowKind::Background);
        let row = g.row(kind);
        line.clear();
        match opts.format {
            SampleFormat::Jsonl => write_json(&row, &mut line),
            SampleFormat::Csv => write_csv(&row, &mut line),
        }
        w.write_all(&line)?;
        stats.rows += 1;
        stats.bytes += line.len() as u64;
        if let Some(c) = stats.per_kind.get_mut(kind.index()) {
            *c += 1;
        }
        on_row(kind);
    }
    w.flush()?;
    Ok(stats)
}

// ---------------------------------------------------------------- values

/// One cell.
enum Cell {
    Str(String),
    Int(i64),
    Bool(bool),
    Null,
}

fn write_json(row: &[Cell], out: &mut Vec<u8>) {
    out.push(b'{');
    for (i, (name, cell)) in COLUMNS.iter().zip(row).enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.push(b'"');
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b"\":");
        match cell {
            Cell::Str(s) => json_string(s, out),
            Cell::Int(n) => out.extend_from_slice(n.to_string().as_bytes()),
            Cell::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
            Cell::Null => out.extend_from_slice(b"null"),
        }
    }
    out.extend_from_slice(b"}\n");
}

fn json_string(s: &str, out: &mut Vec<u8>) {
    out.push(b'"');
    for &b in s.as_bytes() {
        match b {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            c if c < 0x20 => out.extend_from_slice(format!("\\u{:04x}", c).as_bytes()),
            c => out.push(c),
        }
    }
    out.push(b'"');
}

fn write_csv(row: &[Cell], out: &mut Vec<u8>) {
    for (i, cell) in row.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        match cell {
            Cell::Str(s) => {
                if s.bytes().any(|b| matches!(b, b',' | b'"' | b'\n' | b'\r')) {
                    out.push(b'"');
                    for &b in s.as_bytes() {
                        if b == b'"' {
                            out.push(b'"');
                        }
                        out.push(b);
                    }
                    out.push(b'"');
                } else {
                    out.extend_from_slice(s.as_bytes());
                }
            }
            Cell::Int(n) => out.extend_from_slice(n.to_string().as_bytes()),
            Cell::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
            Cell::Null => {}
        }
    }
    out.extend_from_slice(b"\r\n");
}

// ---------------------------------------------------------------- time

const TICKS_PER_SECOND: i64 = 10_000_000;
const TICKS_PER_MINUTE: i64 = 60 * TICKS_PER_SECOND;
const TICKS_PER_HOUR: i64 = 60 * TICKS_PER_MINUTE;
const TICKS_PER_DAY: i64 = 24 * TICKS_PER_HOUR;
const UNIX_EPOCH_TICKS: i64 = 621_355_968_000_000_000;

/// (year, month, day) of days since 1970-01-01 (H. Hinnant).
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Days since 1970-01-01 of a tick value.
fn unix_days(ticks: i64) -> i64 {
    (ticks - UNIX_EPOCH_TICKS).div_euclid(TICKS_PER_DAY)
}

/// 0 = Sunday.
fn weekday(unix_day: i64) -> i64 {
    (unix_day + 4).rem_euclid(7)
}

/// The last Sunday of a month (unix days).
fn last_sunday(y: i64, m: i64) -> i64 {
    let next = if m == 12 {
        days_from_civil(y + 1, 1, 1)
    } else {
        days_from_civil(y, m + 1, 1)
    };
    let last = next - 1;
    last - weekday(last)
}

/// Europe/London's UTC offset (hours) on a Sunday after 02:00 local.
fn london_offset_hours_on_sunday(unix_day: i64) -> i64 {
    let (y, _, _) = civil_from_days(unix_day);
    if unix_day >= last_sunday(y, 3) && unix_day < last_sunday(y, 10) {
        1
    } else {
        0
    }
}

/// `2024-05-01T10:01:00.1234567Z`
pub fn format_ticks(ticks: i64) -> String {
    let days = unix_days(ticks);
    let (y, m, d) = civil_from_days(days);
    let rem = (ticks - UNIX_EPOCH_TICKS).rem_euclid(TICKS_PER_DAY);
    let h = rem / TICKS_PER_HOUR;
    let mi = rem % TICKS_PER_HOUR / TICKS_PER_MINUTE;
    let s = rem % TICKS_PER_MINUTE / TICKS_PER_SECOND;
    let f = rem % TICKS_PER_SECOND;
    format!("{y:04}-{m:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{f:07}Z")
}

// ---------------------------------------------------------------- generator

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0).
    fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            0
        } else {
            self.next() % n
        }
    }

    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        if hi <= lo {
            lo
        } else {
            lo + self.below((hi - lo) as u64) as i64
        }
    }

    fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        let i = self.below(xs.len() as u64) as usize;
        &xs[i.min(xs.len().saturating_sub(1))]
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    fn hex(&mut self, n: usize) -> String {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut s = String::with_capacity(n);
        let mut bits = 0u64;
        for i in 0..n {
            if i % 16 == 0 {
                bits = self.next();
            }
            s.push(HEX[(bits & 15) as usize] as char);
            bits >>= 4;
        }
        s
    }

    fn guid(&mut self) -> String {
        let h = self.hex(32);
        format!(
            "{}-{}-{}-{}-{}",
            &h[0..8],
            &h[8..12],
            &h[12..16],
            &h[16..20],
            &h[20..32]
        )
    }
}

struct Device {
    id: String,
    name: String,
    ip: String,
    group: &'static str,
}

struct Process {
    file: &'static str,
    folder: &'static str,
    company: &'static str,
    product: &'static str,
    version: &'static str,
    description: &'static str,
    args: &'static [&'static str],
    parent: &'static str,
    integrity: &'static str,
    /// (sha1, sha256, md5, size), derived once from the seed.
    hashes: (String, String, String, i64),
}

/// (file, folder, company, product, version, description, command lines,
/// parent, integrity level)
type ProcessSpec = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static [&'static str],
    &'static str,
    &'static str,
);

const BACKGROUND_PROCESSES: &[ProcessSpec] = &[
    (
        "chrome.exe",
        r"C:\Program Files\Google\Chrome\Application\chrome.exe",
        "Google LLC",
        "Google Chrome",
        "124.0.6367.91",
        "Google Chrome",
        &[
            r#""C:\Program Files\Google\Chrome\Application\chrome.exe" --type=utility --utility-sub-type=network.mojom.NetworkService --lang=en-US --service-sandbox-type=none --mojo-platform-channel-handle=2148 --field-trial-handle=1960,i,4837465219384756123,1029384756102938475,262144 /prefetch:11"#,
        ],
        "explorer.exe",
        "Medium",
    ),
    (
        "msedge.exe",
        r"C:\Program Files (x86)\Microsoft\Edge\Application\msedge.exe",
        "Microsoft Corporation",
        "Microsoft Edge",
        "124.0.2478.67",
        "Microsoft Edge",
        &[
            r#""C:\Program Files (x86)\Microsoft\Edge\Application\msedge.exe" --type=utility --utility-sub-type=network.mojom.NetworkService --lang=en-GB --service-sandbox-type=none --mojo-platform-channel-handle=2392 --field-trial-handle=2012,i,1736459201837465921,7781920394857261734,262144 /prefetch:3"#,
        ],
        "explorer.exe",
        "Medium",
    ),
    (
        "svchost.exe",
        r"C:\Windows\System32\svchost.exe",
        "Microsoft Corporation",
        "Microsoft® Windows® Operating System",
        "10.0.19041.3636",
        "Host Process for Windows Services",
        &[
            "svchost.exe -k NetworkService -p -s Dnscache",
            "svchost.exe -k netsvcs -p -s wuauserv",
            "svchost.exe -k LocalServiceNetworkRestricted -p -s Dhcp",
        ],
        "services.exe",
        "System",
    ),
    (
        "ms-teams.exe",
        r"C:\Program Files\WindowsApps\MSTeams_24102.2223.2870.9480_x64__8wekyb3d8bbwe\ms-teams.exe",
        "Microsoft Corporation",
        "Microsoft Teams",
        "24102.2223.2870.9480",
        "Microsoft Teams",
        &[
            r#""ms-teams.exe" --type=renderer --enable-features=WebRTCPipeWireCapturer msteams:system-initiated"#,
        ],
        "explorer.exe",
        "Medium",
    ),
    (
        "OneDrive.exe",
        r"C:\Users\Public\AppData\Local\Microsoft\OneDrive\OneDrive.exe",
        "Microsoft Corporation",
        "Microsoft OneDrive",
        "24.076.0414.0005",
        "Microsoft OneDrive",
        &[r#""C:\Users\Public\AppData\Local\Microsoft\OneDrive\OneDrive.exe" /background"#],
        "explorer.exe",
        "Medium",
    ),
    (
        "OUTLOOK.EXE",
        r"C:\Program Files\Microsoft Office\root\Office16\OUTLOOK.EXE",
        "Microsoft Corporation",
        "Microsoft Outlook",
        "16.0.17531.20152",
        "Microsoft Outlook",
        &[r#""C:\Program Files\Microsoft Office\root\Office16\OUTLOOK.EXE" /recycle"#],
        "explorer.exe",
        "Medium",
    ),
    (
        "MsSense.exe",
        r"C:\Program Files\Windows Defender Advanced Threat Protection\MsSense.exe",
        "Microsoft Corporation",
        "Microsoft® Windows® Operating System",
        "10.8760.19041.4291",
        "Windows Defender Advanced Threat Protection Service Executable",
        &[r#""MsSense.exe""#],
        "services.exe",
        "System",
    ),
    (
        "firefox.exe",
        r"C:\Program Files\Mozilla Firefox\firefox.exe",
        "Mozilla Corporation",
        "Firefox",
        "125.0.3",
        "Firefox",
        &[
            r#""C:\Program Files\Mozilla Firefox\firefox.exe" -contentproc --channel=1876 -childID 7 -isForBrowser -prefsLen 31245 -prefMapSize 244537 -jsInitHandle 1128 -parentBuildID 20240423193612 -greomni "C:\Program Files\Mozilla Firefox\omni.ja" 7 tab"#,
        ],
        "explorer.exe",
        "Medium",
    ),
    (
        "python.exe",
        r"C:\Python311\python.exe",
        "Python Software Foundation",
        "Python",
        "3.11.9",
        "Python",
        &[
            r#"python.exe -m pip install --upgrade requests urllib3 certifi idna charset-normalizer"#,
        ],
        "cmd.exe",
        "High",
    ),
    (
        "curl.exe",
        r"C:\Windows\System32\curl.exe",
        "curl, https://curl.se/",
        "The curl executable",
        "8.4.0",
        "The curl executable",
        &[
            r#"curl.exe -sSL -o C:\Temp\update.json https://config.contoso.com/endpoints/update.json"#,
        ],
        "powershell.exe",
        "High",
    ),
];

const ZOHO_PROCESSES: &[(&str, &str, &str, &str)] = &[
    (
        "ZA_Connect.exe",
        r"C:\Program Files (x86)\ZohoMeeting\ZA_Connect.exe",
        "Zoho Assist Connect",
        r#""C:\Program Files (x86)\ZohoMeeting\ZA_Connect.exe" -session 839201 -key 5QX2-9KLM -server https://assist.zoho.com"#,
    ),
    (
        "ZohoURSService.exe",
        r"C:\Program Files (x86)\ZohoMeeting\UnAttended\ZohoMeeting\ZohoURSService.exe",
        "Zoho Assist Unattended Remote Support Service",
        r#""C:\Program Files (x86)\ZohoMeeting\UnAttended\ZohoMeeting\ZohoURSService.exe" -service"#,
    ),
    (
        "ZA_Access.exe",
        r"C:\Program Files (x86)\ZohoMeeting\UnAttended\ZohoMeeting\ZA_Access.exe",
        "Zoho Assist Remote Access",
        r#""C:\Program Files (x86)\ZohoMeeting\UnAttended\ZohoMeeting\ZA_Access.exe" -remote -quiet"#,
    ),
    (
        "zaservice.exe",
        r"C:\Program Files (x86)\ZohoMeeting\zaservice.exe",
        "Zoho Assist Service",
        r#""C:\Program Files (x86)\ZohoMeeting\zaservice.exe""#,
    ),
];

const ZOHO_COMPANIES: &[&str] = &[
    "Zoho Corporation",
    "Zoho Corporation",
    "Zoho Corporation Pvt. Ltd.",
    "ZOHO Corp",
];
const ZOHO_PRODUCTS: &[&str] = &[
    "Zoho Assist",
    "Zoho Assist",
    "Zoho Assist",
    "ZOHO ASSIST",
    "Zoho Assist Agent",
];

/// Same company, other products: (file, folder, company, product, url).
const OTHER_ZOHO: &[(&str, &str, &str, &str, &str)] = &[
    (
        "ZohoMail.exe",
        r"C:\Users\Public\AppData\Local\Programs\zoho-mail-desktop\ZohoMail.exe",
        "Zoho Corporation",
        "Zoho Mail",
        "https://mail.zoho.com/zm/",
    ),
    (
        "ZohoCRM.exe",
        r"C:\Program Files\Zoho\CRM\ZohoCRM.exe",
        "Zoho Corporation",
        "Zoho CRM",
        "crm.zoho.eu",
    ),
    (
        "dcagentservice.exe",
        r"C:\Program Files (x86)\ManageEngine\UEMS_Agent\bin\dcagentservice.exe",
        "ZOHO Corp",
        "ManageEngine Endpoint Central",
        "https://downloads.zohocdn.com/patches/windows/kb5036892.msu",
    ),
    (
        "dcpatchscan.exe",
        r"C:\Program Files (x86)\ManageEngine\UEMS_Agent\bin\dcpatchscan.exe",
        "Zoho Corporation",
        "ManageEngine Patch Manager Plus",
        "files-me-accl.zoho.com",
    ),
];

/// Devices (of the 160 workstations) with Zoho Assist installed.
const ZOHO_DEVICES: u64 = 24;
/// Distinct seed-rule URLs per device.
const URLS_PER_DEVICE: u64 = 4;

const BACKGROUND_URLS: &[&str] = &[
    "www.google.com",
    "https://login.microsoftonline.com/common/oauth2/v2.0/token",
    "teams.microsoft.com",
    "outlook.office365.com",
    "github.com",
    "https://api.github.com/repos/contoso/app/releases/latest",
    "settings-win.data.microsoft.com",
    "ctldl.windowsupdate.com",
    "winatp-gw-weu.microsoft.com",
    "pypi.org",
    "files.pythonhosted.org",
    "www.bbc.co.uk",
    "update.googleapis.com",
    "contoso.sharepoint.com",
    "config.contoso.com",
    "slack.com",
    "zoom.us",
    "www.zoho.com",
    "",
    "",
    "",
    "",
];

const ACTIONS: &[&str] = &[
    "ConnectionSuccess",
    "ConnectionSuccess",
    "ConnectionSuccess",
    "ConnectionSuccess",
    "ConnectionFailed",
    "ConnectionRequest",
    "InboundConnectionAccepted",
    "ListeningConnectionCreated",
    "ConnectionFound",
    "DnsConnectionInspected",
    "HttpConnectionInspected",
    "SslConnectionInspected",
];

const USERS: &[&str] = &[
    "alice.jones",
    "bob.smith",
    "carol.white",
    "dave.brown",
    "erin.taylor",
    "frank.wilson",
    "grace.moore",
    "heidi.clark",
];

struct Generator {
    rng: Rng,
    now: i64,
    devices: Vec<Device>,
    srv_devices: Vec<Device>,
    background: Vec<Process>,
    zoho: Vec<Process>,
    other_zoho: Vec<Process>,
    tenant: String,
    url_seed: u64,
    report_id: i64,
    /// Start of the last Sunday maintenance window (UTC ticks), 02:00 local.
    sunday_window: i64,
}

fn make_device(rng: &mut Rng, name: String, group: &'static str) -> Device {
    Device {
        id: rng.hex(40),
        ip: format!(
            "10.{}.{}.{}",
            rng.range(1, 9),
            rng.range(0, 255),
            rng.range(2, 254)
        ),
        name,
        group,
    }
}

fn hashes(rng: &mut Rng) -> (String, String, String, i64) {
    (
        rng.hex(40),
        rng.hex(64),
        rng.hex(32),
        rng.range(200_000, 90_000_000),
    )
}

impl Generator {
    fn new(seed: u64, now: i64) -> Generator {
        let mut rng = Rng(seed ^ 0x5EED_0F2A_11B5_C0DE);
        let mut devices = Vec::new();
        for i in 0..160 {
            let name = match i % 4 {
                0 | 1 => format!("wks-{:04}.contoso.local", rng.range(1, 9999)),
                2 => format!(
                    "lt-{}-{:03}.contoso.com",
                    rng.pick(&["lon", "nyc", "sgp", "fra"]),
                    rng.range(1, 999)
                ),
                _ => format!("desktop-{}.corp.contoso.com", rng.hex(7).to_uppercase()),
            };
            let group = *rng.pick(&["Workstations", "Laptops", "Finance", "Engineering"]);
            devices.push(make_device(&mut rng, name, group));
        }
        let mut srv_devices = Vec::new();
        for name in [
            "app01", "db01", "db02", "file01", "web01", "web02", "print01", "dc01",
        ] {
            srv_devices.push(make_device(
                &mut rng,
                format!(
                    "{}{}{}",
                    scenario::MAINTENANCE_DEVICE_PREFIX,
                    name,
                    scenario::MAINTENANCE_DEVICE_SUFFIX
                ),
                "Servers",
            ));
        }
        let background = BACKGROUND_PROCESSES
            .iter()
            .map(|p| Process {
                file: p.0,
                folder: p.1,
                company: p.2,
                product: p.3,
                version: p.4,
                description: p.5,
                args: p.6,
                parent: p.7,
                integrity: p.8,
                hashes: hashes(&mut rng),
            })
            .collect();
        let zoho = ZOHO_PROCESSES
            .iter()
            .map(|p| Process {
                file: p.0,
                folder: p.1,
                company: "Zoho Corporation",
                product: "Zoho Assist",
                version: "112.0.1.263",
                description: p.2,
                args: &[],
                parent: "services.exe",
                integrity: "System",
                hashes: hashes(&mut rng),
            })
            .collect();
        let other_zoho = OTHER_ZOHO
            .iter()
            .map(|p| Process {
                file: p.0,
                folder: p.1,
                company: p.2,
                product: p.3,
                version: "11.3.2400.5",
                description: p.3,
                args: &[],
                parent: "services.exe",
                integrity: "System",
                hashes: hashes(&mut rng),
            })
            .collect();
        // The most recent Sunday whose 02:00-05:00 London window ends before now.
        let mut day = unix_days(now);
        let sunday_window = loop {
            if weekday(day) == 0 {
                let start = UNIX_EPOCH_TICKS + day * TICKS_PER_DAY + 2 * TICKS_PER_HOUR
                    - london_offset_hours_on_sunday(day) * TICKS_PER_HOUR;
                if start + 3 * TICKS_PER_HOUR <= now {
                    break start;
                }
            }
            day -= 1;
        };
        let tenant = rng.guid();
        let url_seed = rng.next();
        Generator {
            rng,
            now,
            devices,
            srv_devices,
            background,
            zoho,
            other_zoho,
            tenant,
            url_seed,
            report_id: 1000,
            sunday_window,
        }
    }

    /// The kinds of the next 100 rows, shuffled.
    fn block(&mut self) -> Vec<RowKind> {
        let mut v = vec![RowKind::TruePositive, RowKind::TruePositive];
        v.extend_from_slice(&[
            RowKind::NearMissMyAssist,
            RowKind::NearMissCommunity,
            RowKind::NearMissZohoAssistCommunity,
            RowKind::NearMissOtherZohoProduct,
            RowKind::NearMissProductText,
            RowKind::NearMissTooOld,
            RowKind::NearMissBrowser,
            RowKind::Maintenance,
            RowKind::ItSupport,
            RowKind::Patching,
            RowKind::Inventory,
            RowKind::SiemForwarding,
        ]);
        for _ in 0..4 {
            v.push(RowKind::LookalikeHit);
        }
        while v.len() < 100 {
            v.push(RowKind::Background);
        }
        for i in (1..v.len()).rev() {
            let j = self.rng.below(i as u64 + 1) as usize;
            v.swap(i, j);
        }
        v
    }

    /// The kinds of the next 10,000 rows for [`Mix::Bench`], shuffled.
    fn bench_block(&mut self) -> Vec<RowKind> {
        let mut v = vec![RowKind::TruePositive; 4];
        v.extend_from_slice(&[
            RowKind::Maintenance,
            RowKind::ItSupport,
            RowKind::Patching,
            RowKind::Inventory,
            RowKind::SiemForwarding,
            RowKind::LookalikeHit,
        ]);
        for _ in 0..3 {
            v.extend_from_slice(&[
                RowKind::NearMissMyAssist,
                RowKind::NearMissCommunity,
                RowKind::NearMissZohoAssistCommunity,
                RowKind::NearMissOtherZohoProduct,
                RowKind::NearMissProductText,
                RowKind::NearMissTooOld,
                RowKind::NearMissBrowser,
            ]);
        }
        v.resize(10_000, RowKind::Background);
        for i in (1..v.len()).rev() {
            let j = self.rng.below(i as u64 + 1) as usize;
            v.swap(i, j);
        }
        v
    }

    /// A time in the rule's window (5 days, with a minute's margin).
    fn recent(&mut self) -> i64 {
        self.now
            - self
                .rng
                .range(TICKS_PER_MINUTE, 5 * TICKS_PER_DAY - TICKS_PER_MINUTE)
    }

    /// A time in the rule's window at a UTC hour in `hours`.
    fn recent_at_hours(&mut self, hours: &[i64]) -> i64 {
        for _ in 0..1000 {
            let t = self.recent();
            let h = (t - UNIX_EPOCH_TICKS).rem_euclid(TICKS_PER_DAY) / TICKS_PER_HOUR;
            if hours.contains(&h) {
                return t;
            }
        }
        // Fall back to yesterday at the first hour.
        let day = unix_days(self.now) - 1;
        UNIX_EPOCH_TICKS
            + day * TICKS_PER_DAY
            + hours.first().copied().unwrap_or(0) * TICKS_PER_HOUR
    }

    /// One of the few seed-rule URLs that device `device` talks to (a
    /// Zoho Assist agent keeps hitting the same handful of hosts).
    fn seed_url(&mut self, device: u64) -> String {
        let k = self.rng.below(URLS_PER_DEVICE);
        let mut r =
            Rng(self.url_seed ^ (device * URLS_PER_DEVICE + k).wrapping_mul(0x9E37_79B9_7F4A_7C15));
        let d = *r.pick(&SEED_DOMAINS);
        let d = if r.chance(10) {
            d.to_uppercase()
        } else {
            d.to_string()
        };
        match r.below(6) {
            0 | 1 => d,
            2 => format!("https://{d}/"),
            3 => format!("{}.{d}", r.pick(&["gw", "us4-relay", "eu-node2", "x"])),
            4 => format!("{d}:443"),
            _ => format!(
                "https://{d}/assist-join/session?id={}",
                r.range(100_000, 999_999)
            ),
        }
    }

    fn row(&mut self, kind: RowKind) -> Vec<Cell> {
        let mut e = Event::default();
        match kind {
            RowKind::Background => self.background_event(&mut e),
            RowKind::NearMissBrowser => {
                self.background_event(&mut e);
                e.action = "ConnectionSuccess";
                let dev = match e.device {
                    DeviceRef::Plain(i) => i as u64,
                    _ => 0,
                };
                e.url = self.seed_url(dev);
                e.ts = self.recent();
                e.ensure_process(self, 0);
            }
            _ => {
                self.zoho_event(&mut e);
                match kind {
                    RowKind::NearMissMyAssist => e.url = "myassist.zoho.com".into(),
                    RowKind::NearMissCommunity => {
                        e.url = "https://assist.zoho.community/forum".into()
                    }
                    RowKind::NearMissZohoAssistCommunity => e.url = "zohoassist.community".into(),
                    RowKind::NearMissOtherZohoProduct => {
                        let i = self.rng.below(self.other_zoho.len() as u64) as usize;
                        e.proc_index = Some(ProcRef::OtherZoho(i));
                        e.company = self
                            .other_zoho
                            .get(i)
                            .map(|p| p.company.to_string())
                            .unwrap_or_default();
                        e.product = self
                            .other_zoho
                            .get(i)
                            .map(|p| p.product.to_string())
                            .unwrap_or_default();
                        e.url = OTHER_ZOHO
                            .get(i)
                            .map(|p| p.4.to_string())
                            .unwrap_or_default();
                    }
                    RowKind::NearMissProductText => e.product = "ZohoAssist".into(),
                    RowKind::NearMissTooOld => {
                        e.ts = self.now
                            - self
                                .rng
                                .range(5 * TICKS_PER_DAY + TICKS_PER_MINUTE, 7 * TICKS_PER_DAY);
                    }
                    RowKind::Maintenance => {
                        let i = self.rng.below(self.srv_devices.len() as u64) as usize;
                        e.device = DeviceRef::Srv(i);
                        e.url = self.seed_url(1000 + i as u64);
                        e.ts = self.sunday_window
                            + self.rng.range(0, 3 * TICKS_PER_HOUR - TICKS_PER_MINUTE);
                        e.account = ("CONTOSO".into(), "svc_maint".into());
                    }
                    RowKind::ItSupport => {
                        let a = *self.rng.pick(&scenario::IT_SUPPORT_ACCOUNTS);
                        e.account = ("CONTOSO".into(), a.into());
                    }
                    RowKind::Patching => {
                        e.account = ("CONTOSO".into(), scenario::PATCH_ACCOUNT.into());
                        e.ts = self.recent_at_hours(&[22, 23, 0, 1, 2, 3]);
                    }
                    RowKind::Inventory => {
                        e.account = (
                            scenario::INVENTORY_DOMAIN.into(),
                            scenario::INVENTORY_ACCOUNT.into(),
                        );
                    }
                    RowKind::SiemForwarding => e.remote_ip = scenario::SIEM_IP.into(),
                    RowKind::LookalikeHit => match self.rng.below(5) {
                        0 => {
                            // srv-* device outside the Sunday window
                            let i = self.rng.below(self.srv_devices.len() as u64) as usize;
                            e.device = DeviceRef::Srv(i);
                            e.url = self.seed_url(1000 + i as u64);
                            let mut t = self.recent_at_hours(&[9, 10, 11, 12, 13, 14, 15, 16]);
                            if weekday(unix_days(t)) == 0 {
                                t -= TICKS_PER_DAY;
                            }
                            e.ts = t.max(self.now - 5 * TICKS_PER_DAY + TICKS_PER_HOUR);
                        }
                        1 => {
                            e.account = ("CONTOSO".into(), scenario::PATCH_ACCOUNT.into());
                            e.ts = self.recent_at_hours(&[10, 11, 12, 13, 14]);
                        }
                        2 => e.account = ("FABRIKAM".into(), scenario::INVENTORY_ACCOUNT.into()),
                        3 => e.remote_ip = "10.20.0.16".into(),
                        _ => e.account = ("CONTOSO".into(), "it_support_3".into()),
                    },
                    _ => {}
                }
            }
        }
        self.render(&e)
    }

    fn background_event(&mut self, e: &mut Event) {
        e.ts = self.now - self.rng.range(0, 7 * TICKS_PER_DAY);
        e.device = DeviceRef::Plain(self.rng.below(self.devices.len() as u64) as usize);
        e.action = *self.rng.pick(ACTIONS);
        e.url = self.rng.pick(BACKGROUND_URLS).to_string();
        let p = self.rng.below(self.background.len() as u64) as usize;
        e.ensure_process(self, p);
        e.remote_ip = self.public_ip();
        e.remote_port = *self.rng.pick(&[443, 443, 443, 80, 53, 8080, 3389, 445]);
        let user = *self.rng.pick(USERS);
        e.account = ("CONTOSO".into(), user.into());
        if e.process_is_system() {
            e.account = ("NT AUTHORITY".into(), "system".into());
        }
    }

    fn zoho_event(&mut self, e: &mut Event) {
        e.ts = self.recent();
        let dev = self.rng.below(ZOHO_DEVICES.min(self.devices.len() as u64));
        e.device = DeviceRef::Plain(dev as usize);
        e.action = *self.rng.pick(&[
            "ConnectionSuccess",
            "ConnectionSuccess",
            "ConnectionSuccess",
            "ConnectionFailed",
            "ConnectionRequest",
        ]);
        e.url = self.seed_url(dev);
        let i = self.rng.below(self.zoho.len() as u64) as usize;
        e.proc_index = Some(ProcRef::Zoho(i));
        e.company = self.rng.pick(ZOHO_COMPANIES).to_string();
        e.product = self.rng.pick(ZOHO_PRODUCTS).to_string();
        e.remote_ip = self.public_ip();
        e.remote_port = 443;
        e.account = ("NT AUTHORITY".into(), "system".into());
    }

    fn public_ip(&mut self) -> String {
        if self.rng.chance(8) {
            format!(
                "2a01:111:f400:{:x}::{:x}",
                self.rng.range(0x1000, 0xffff),
                self.rng.range(1, 0xfff)
            )
        } else {
            format!(
                "{}.{}.{}.{}",
                self.rng
                    .pick(&[13, 20, 23, 40, 52, 104, 136, 142, 151, 185]),
                self.rng.range(0, 255),
                self.rng.range(0, 255),
                self.rng.range(1, 254)
            )
        }
    }

    fn render(&mut self, e: &Event) -> Vec<Cell> {
        let r = &mut self.rng;
        let dev = match e.device {
            DeviceRef::Plain(i) => self.devices.get(i),
            DeviceRef::Srv(i) => self.srv_devices.get(i),
            DeviceRef::Unset => None,
        };
        let (dev_id, dev_name, local_ip, group) = match dev {
            Some(d) => (d.id.clone(), d.name.clone(), d.ip.clone(), d.group),
            None => (String::new(), String::new(), String::new(), ""),
        };
        let proc = match e.proc_index {
            Some(ProcRef::Background(i)) => self.background.get(i),
            Some(ProcRef::Zoho(i)) => self.zoho.get(i),
            Some(ProcRef::OtherZoho(i)) => self.other_zoho.get(i),
            None => None,
        };
        let inspected = e.action.ends_with("Inspected");
        let s = |x: &str| Cell::Str(x.to_string());
        let (remote_ip, local_ip_c) = (e.remote_ip.clone(), local_ip);
        let ipv6 = remote_ip.contains(':');
        let remote_type = if remote_ip.starts_with("10.") {
            "Private"
        } else {
            "Public"
        };
        let pid = r.range(400, 40_000);
        let ppid = r.range(400, 40_000);
        let created = e.ts - r.range(TICKS_PER_MINUTE, 3 * TICKS_PER_DAY);
        let parent_created = created - r.range(TICKS_PER_SECOND, TICKS_PER_DAY);
        self.report_id += 1 + r.range(0, 17);
        let report_id = self.report_id;
        let session = r.range(0, 5);
        let local_port = r.range(49_152, 65_535);
        let additional = if inspected {
            match e.action {
                "DnsConnectionInspected" => format!(
                    r#"{{"direction":"Out","query":"{}","query_type":"A","rcode":"NOERROR","answers":["{}"],"ttl":300,"trans_id":{}}}"#,
                    host_of(&e.url, "www.contoso.com"),
                    remote_ip,
                    r.range(1, 65_535)
                ),
                "HttpConnectionInspected" => format!(
                    r#"{{"direction":"Out","host":"{}","method":"GET","uri":"/api/v2/status?client=win","user_agent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36","status_code":200,"request_body_len":0,"response_body_len":{}}}"#,
                    host_of(&e.url, "www.contoso.com"),
                    r.range(100, 90_000)
                ),
                _ => format!(
                    r#"{{"direction":"Out","server_name":"{}","version":"TLSv13","established":true,"client_ciphers":"TLS_AES_256_GCM_SHA384,TLS_CHACHA20_POLY1305_SHA256,TLS_AES_128_GCM_SHA256","ja3":"{}","ja3s":"{}"}}"#,
                    host_of(&e.url, "www.contoso.com"),
                    r.hex(32),
                    r.hex(32)
                ),
            }
        } else {
            format!(
                r#"{{"direction":"Out","localPort":{local_port},"remotePort":{},"protocol":"Tcp","isLoopback":false,"connectionCount":{}}}"#,
                e.remote_port,
                r.range(1, 40)
            )
        };
        let upn = if e.account.0 == "NT AUTHORITY" {
            String::new()
        } else {
            format!("{}@contoso.com", e.account.1)
        };
        let sid = if e.account.0 == "NT AUTHORITY" {
            "S-1-5-18".to_string()
        } else {
            format!(
                "S-1-5-21-1004336348-1177238915-682003330-{}",
                1000 + e.account.1.bytes().map(i64::from).sum::<i64>()
            )
        };
        let oid = if upn.is_empty() {
            String::new()
        } else {
            r.guid()
        };
        let generated = e.ts + r.range(TICKS_PER_SECOND, 5 * TICKS_PER_MINUTE);
        let remote_session = r.chance(3) && !upn.is_empty();
        let mut row = Vec::with_capacity(49);
        row.push(s(&format_ticks(e.ts)));
        row.push(Cell::Str(dev_id));
        row.push(Cell::Str(dev_name));
        row.push(s(e.action));
        row.push(Cell::Str(remote_ip));
        row.push(Cell::Int(e.remote_port));
        row.push(if inspected { s("") } else { s(&e.url) });
        row.push(Cell::Str(if ipv6 {
            "fe80::1c2a:4bff:fe11:2233".into()
        } else {
            local_ip_c
        }));
        row.push(Cell::Int(local_port));
        row.push(s(if e.remote_port == 53 {
            "Udp"
        } else if ipv6 {
            "TcpV6"
        } else {
            "Tcp"
        }));
        row.push(s("Private"));
        row.push(s(remote_type));
        match proc.filter(|_| !inspected) {
            Some(p) => {
                let cmd = match p.args.len() {
                    0 => ZOHO_PROCESSES
                        .iter()
                        .find(|z| z.0 == p.file)
                        .map(|z| z.3.to_string())
                        .unwrap_or_else(|| format!("\"{}\" -service", p.folder)),
                    n => p
                        .args
                        .get(r.below(n as u64) as usize)
                        .copied()
                        .unwrap_or("")
                        .to_string(),
                };
                let company = if e.company.is_empty() {
                    p.company
                } else {
                    e.company.as_str()
                };
                let product = if e.product.is_empty() {
                    p.product
                } else {
                    e.product.as_str()
                };
                row.push(s(&p.hashes.0));
                row.push(s(&p.hashes.1));
                row.push(s(&p.hashes.2));
                row.push(s(p.file));
                row.push(Cell::Int(p.hashes.3));
                row.push(s(company));
                row.push(s(product));
                row.push(s(p.version));
                row.push(s(p.file));
                row.push(s(p.file));
                row.push(s(p.description));
                row.push(Cell::Int(pid));
                row.push(Cell::Str(cmd));
                row.push(s(&format_ticks(created)));
                row.push(s(p.folder));
                row.push(s(p.parent));
                row.push(Cell::Int(ppid));
                row.push(s(&format_ticks(parent_created)));
                row.push(s(&e.account.0));
                row.push(s(&e.account.1));
                row.push(Cell::Str(sid));
                row.push(Cell::Str(upn));
                row.push(Cell::Str(oid));
                row.push(s(p.integrity));
                row.push(s(if p.integrity == "System" {
                    "TokenElevationTypeDefault"
                } else {
                    "TokenElevationTypeLimited"
                }));
            }
            None => {
                for _ in 0..4 {
                    row.push(s(""));
                }
                row.push(Cell::Null);
                for _ in 0..6 {
                    row.push(s(""));
                }
                row.push(Cell::Null);
                row.push(s(""));
                row.push(Cell::Null);
                row.push(s(""));
                row.push(s(""));
                row.push(Cell::Null);
                row.push(Cell::Null);
                for _ in 0..7 {
                    row.push(s(""));
                }
            }
        }
        row.push(Cell::Int(report_id));
        row.push(s(""));
        row.push(Cell::Str(additional));
        row.push(Cell::Int(session));
        row.push(Cell::Bool(remote_session));
        row.push(s(if remote_session {
            "helpdesk-07.contoso.local"
        } else {
            ""
        }));
        row.push(s(if remote_session { "10.1.40.27" } else { "" }));
        row.push(s(&format_ticks(generated)));
        row.push(s(&self.tenant));
        row.push(s(group));
        row.push(s("Microsoft 365 Defender"));
        row.push(s("DeviceNetworkEvents"));
        row
    }
}

fn host_of(url: &str, default: &str) -> String {
    let u = url.split_once("://").map_or(url, |(_, r)| r);
    let h = u.split(['/', ':']).next().unwrap_or("");
    if h.is_empty() {
        default.to_string()
    } else {
        h.to_ascii_lowercase()
    }
}

#[derive(Clone, Copy, Default)]
enum DeviceRef {
    #[default]
    Unset,
    Plain(usize),
    Srv(usize),
}

#[derive(Clone, Copy)]
enum ProcRef {
    Background(usize),
    Zoho(usize),
    OtherZoho(usize),
}

#[derive(Default)]
struct Event {
    ts: i64,
    device: DeviceRef,
    action: &'static str,
    url: String,
    remote_ip: String,
    remote_port: i64,
    proc_index: Option<ProcRef>,
    /// Overrides of the process's version info (empty: the process's own).
    company: String,
    product: String,
    /// (domain, name)
    account: (String, String),
}

impl Event {
    fn ensure_process(&mut self, g: &Generator, i: usize) {
        let i = i.min(g.background.len().saturating_sub(1));
        self.proc_index = Some(ProcRef::Background(i));
        self.company.clear();
        self.product.clear();
    }

    fn process_is_system(&self) -> bool {
        matches!(self.proc_index, Some(ProcRef::Background(i)) if BACKGROUND_PROCESSES.get(i).is_some_and(|p| p.8 == "System"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: &str = "2026-05-06T12:00:00.0000000Z";

    fn now_ticks() -> i64 {
        // 2026-05-06 is a Wednesday.
        UNIX_EPOCH_TICKS + days_from_civil(2026, 5, 6) * TICKS_PER_DAY + 12 * TICKS_PER_HOUR
    }

    fn opts(rows: u64, seed: u64, format: SampleFormat) -> GenerateOptions {
        GenerateOptions {
            rows,
            seed,
            format,
            now: now_ticks(),
        }
    }

    /// Kusto `has` for a needle: case-insensitive, bounded by
    /// non-alphanumerics or string ends.
    fn has(hay: &str, needle: &str) -> bool {
        let h = hay.to_lowercase();
        let n = needle.to_lowercase();
        let hb = h.as_bytes();
        let mut from = 0;
        while let Some(i) = h.get(from..).and_then(|s| s.find(&n)) {
            let at = from + i;
            let end = at + n.len();
            let before = at == 0 || !hb.get(at - 1).is_some_and(|c| c.is_ascii_alphanumeric());
            let after = end >= hb.len() || !hb.get(end).is_some_and(|c| c.is_ascii_alphanumeric());
            if before && after {
                return true;
            }
            from = at + 1;
        }
        false
    }

    fn str_of<'a>(v: &'a serde_json::Value, k: &str) -> &'a str {
        v.get(k).and_then(|x| x.as_str()).unwrap_or("")
    }

    /// The seed rule, evaluated independently of the generator.
    fn rule_hit(v: &serde_json::Value, now: &str) -> bool {
        let ts = str_of(v, "Timestamp");
        let start = format_ticks(now_ticks() - 5 * TICKS_PER_DAY);
        let url = str_of(v, "RemoteUrl");
        ts >= start.as_str()
            && ts <= now
            && SEED_DOMAINS.iter().any(|d| has(url, d))
            && has(str_of(v, "InitiatingProcessVersionInfoCompanyName"), "Zoho")
            && has(
                str_of(v, "InitiatingProcessVersionInfoProductName"),
                "Zoho Assist",
            )
    }

    fn generate_rows(o: &GenerateOptions) -> (Vec<u8>, Vec<RowKind>, GenerateStats) {
        let mut out = Vec::new();
        let mut kinds = Vec::new();
        let stats =
            generate_with(o, &mut out, &mut |k| kinds.push(k)).unwrap_or_else(|e| panic!("{e}"));
        (out, kinds, stats)
    }

    #[test]
    fn bench_mix_is_sparse_and_the_rule_agrees() {
        let o = opts(20_000, 42, SampleFormat::Jsonl);
        let mut out = Vec::new();
        let stats = generate_mix(&o, Mix::Bench, &mut out).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(stats.rows, 20_000);
        let hits: u64 = RowKind::ALL
            .iter()
            .filter(|k| k.is_rule_hit())
            .map(|&k| stats.count(k))
            .sum();
        assert_eq!(hits, 20, "rule hits per 20,000 rows: {:?}", stats.per_kind);
        assert_eq!(
            stats.count(RowKind::NearMissBrowser),
            6,
            "{:?}",
            stats.per_kind
        );
        let text = String::from_utf8(out).unwrap_or_else(|e| panic!("{e}"));
        let rule = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
            .filter(|v: &serde_json::Value| rule_hit(v, NOW))
            .count() as u64;
        assert_eq!(rule, hits);
        // The demo mix is unchanged by the bench option.
        let demo = opts(300, 7, SampleFormat::Csv);
        let (mut a, mut b) = (Vec::new(), Vec::new());
        let sa = generate(&demo, &mut a).unwrap_or_else(|e| panic!("{e}"));
        let sb = generate_mix(&demo, Mix::Demo, &mut b).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((a, sa.per_kind), (b, sb.per_kind));
    }

    #[test]
    fn sample_has_every_kind_and_the_rule_agrees() {
        let o = opts(2000, 7, SampleFormat::Jsonl);
        let (out, kinds, stats) = generate_rows(&o);
        assert_eq!(stats.rows, 2000);
        assert_eq!(stats.bytes, out.len() as u64);
        for k in RowKind::ALL {
            assert!(
                stats.count(k) >= 5,
                "{}: only {} rows",
                k.name(),
                stats.count(k)
            );
        }
        let text = String::from_utf8(out).unwrap_or_default();
        let mut n = 0;
        for (line, kind) in text.lines().zip(&kinds) {
            let v: serde_json::Value =
                serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
            let obj = v.as_object().map(|m| m.len()).unwrap_or(0);
            assert_eq!(obj, 49, "{line}");
            assert_eq!(
                rule_hit(&v, NOW),
                kind.is_rule_hit(),
                "{}: {line}",
                kind.name()
            );
            let account = str_of(&v, "InitiatingProcessAccountName");
            let domain = str_of(&v, "InitiatingProcessAccountDomain");
            let ts = str_of(&v, "Timestamp");
            let hour: u32 = ts.get(11..13).and_then(|h| h.parse().ok()).unwrap_or(99);
            match kind {
                RowKind::ItSupport => {
                    assert!(scenario::IT_SUPPORT_ACCOUNTS.contains(&account), "{line}")
                }
                RowKind::Patching => {
                    assert_eq!(account, scenario::PATCH_ACCOUNT);
                    assert!(!(4..22).contains(&hour), "{line}");
                }
                RowKind::Inventory => {
                    assert_eq!(
                        (account, domain),
                        (scenario::INVENTORY_ACCOUNT, scenario::INVENTORY_DOMAIN)
                    )
                }
                RowKind::SiemForwarding => assert_eq!(str_of(&v, "RemoteIP"), scenario::SIEM_IP),
                RowKind::Maintenance => {
                    let name = str_of(&v, "DeviceName");
                    assert!(
                        name.starts_with("srv-") && name.ends_with(".contoso.local"),
                        "{line}"
                    );
                    // May is BST (UTC+1): 01:00-05:00 London is 00:00-04:00 UTC.
                    assert!(hour < 4, "{line}");
                    let day = unix_days(now_ticks()) - 3; // Sunday 2026-05-03
                    assert!(
                        ts.starts_with(&format_ticks(UNIX_EPOCH_TICKS + day * TICKS_PER_DAY)[..10]),
                        "{line}"
                    );
                }
                _ => {}
            }
            n += 1;
        }
        assert_eq!(n, 2000);
    }

    #[test]
    fn deterministic_per_seed_and_csv_parses() {
        let a = generate_rows(&opts(300, 1, SampleFormat::Csv)).0;
        let b = generate_rows(&opts(300, 1, SampleFormat::Csv)).0;
        let c = generate_rows(&opts(300, 2, SampleFormat::Csv)).0;
        assert_eq!(a, b);
        assert_ne!(a, c);
        // Every record has 49 fields (a quote-aware count).
        let text = String::from_utf8(a).unwrap_or_default();
        let mut records = 0;
        for line in text.split("\r\n").filter(|l| !l.is_empty()) {
            let mut fields = 1;
            let mut q = false;
            for ch in line.chars() {
                match ch {
                    '"' => q = !q,
                    ',' if !q => fields += 1,
                    _ => {}
                }
            }
            assert_eq!(fields, 49, "{line}");
            records += 1;
        }
        assert_eq!(records, 301);
    }

    #[test]
    fn rows_are_about_two_kilobytes() {
        let (out, _, stats) = generate_rows(&opts(1000, 3, SampleFormat::Jsonl));
        let avg = out.len() as u64 / stats.rows;
        assert!(
            (1500..=2600).contains(&avg),
            "average JSONL row {avg} bytes"
        );
    }

    #[test]
    fn times_format_like_defender() {
        assert_eq!(format_ticks(now_ticks()), NOW);
        assert_eq!(weekday(unix_days(now_ticks())), 3);
        // 2026: BST from 29 March to 25 October.
        assert_eq!(
            london_offset_hours_on_sunday(days_from_civil(2026, 3, 29)),
            1
        );
        assert_eq!(
            london_offset_hours_on_sunday(days_from_civil(2026, 3, 22)),
            0
        );
        assert_eq!(
            london_offset_hours_on_sunday(days_from_civil(2026, 10, 25)),
            0
        );
        assert_eq!(
            london_offset_hours_on_sunday(days_from_civil(2026, 10, 18)),
            1
        );
    }
}
