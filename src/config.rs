//! The connector's configuration file (`sp4n.toml`): its schema, its defaults and its
//! validation.
//!
//! Loading is two-phase. The TOML text is deserialized into plain structs with
//! `deny_unknown_fields`, so a misspelt key is an error that names file, line and column;
//! then [`Config::load`] checks what types cannot (ranges, token sources, URLs) against the
//! source spans. Defaults are named constants with their reason. Relative paths are
//! resolved against the directory of the file. The token itself never lives here: only
//! where to read it (`token_file` or `token_env`).

use crate::diag::Diagnostic;
use crate::model::{Status, StatusLabels};
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// Connect timeout: long enough for a slow government network, short enough to notice an
/// outage within one scheduled run.
pub const DEFAULT_CONNECT_TIMEOUT_SECONDS: u64 = 10;
/// Longest silence between two reads of one response.
pub const DEFAULT_READ_TIMEOUT_SECONDS: u64 = 60;
/// Longest any single call may take, end to end.
pub const DEFAULT_TOTAL_TIMEOUT_SECONDS: u64 = 120;
/// A full page of 500 complaints is about 1.5 MiB; 8 MiB leaves room and still caps abuse.
pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 8 * 1024 * 1024;
/// The platform's default page size.
pub const DEFAULT_PAGE_SIZE: u32 = 100;
/// Late visibility is up to 5 minutes; re-reading twice that is safe.
pub const DEFAULT_OVERLAP_SECONDS: u64 = 600;
/// First retry after a temporary push failure.
pub const DEFAULT_BACKOFF_INITIAL_SECONDS: u64 = 30;
/// Retries never wait longer than this.
pub const DEFAULT_BACKOFF_MAX_SECONDS: u64 = 1800;
/// How long one run may spend waiting on `Retry-After` before it gives up for now.
pub const DEFAULT_WAIT_BUDGET_SECONDS: u64 = 120;
/// Grace time for the current step when the agent is asked to stop.
pub const DEFAULT_GRACE_SECONDS: u64 = 30;

/// Where the connector's files live, when the configuration does not say.
pub const DEFAULT_CONFIG_FILE: &str = "sp4n.toml";

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub upstream: UpstreamConfig,
    #[serde(default)]
    pub store: StoreConfig,
    #[serde(default)]
    pub mappings: MappingsConfig,
    #[serde(default)]
    pub push: PushConfig,
    #[serde(default)]
    pub schedule: ScheduleConfig,
    #[serde(default)]
    pub server: ServerConfig,
    /// The file this was read from (`None`: embedded defaults).
    #[serde(skip)]
    pub source: Option<PathBuf>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpstreamConfig {
    /// Production: `https://www.lapor.go.id`. `http://` only for a loopback host.
    pub base_url: Option<String>,
    pub token_file: Option<PathBuf>,
    pub token_env: Option<String>,
    /// An extra trusted CA (PEM), e.g. the simulator's.
    pub ca_file: Option<PathBuf>,
    #[serde(default = "d_connect")]
    pub connect_timeout_seconds: u64,
    #[serde(default = "d_read")]
    pub read_timeout_seconds: u64,
    #[serde(default = "d_total")]
    pub total_timeout_seconds: u64,
    #[serde(default = "d_max_bytes")]
    pub max_response_bytes: usize,
    #[serde(default = "d_page")]
    pub page_size: u32,
    #[serde(default = "d_overlap")]
    pub overlap_seconds: u64,
    #[serde(default)]
    pub paths: PathsConfig,
    #[serde(default)]
    pub status_labels: StatusLabelsConfig,
}

fn d_connect() -> u64 {
    DEFAULT_CONNECT_TIMEOUT_SECONDS
}
fn d_read() -> u64 {
    DEFAULT_READ_TIMEOUT_SECONDS
}
fn d_total() -> u64 {
    DEFAULT_TOTAL_TIMEOUT_SECONDS
}
fn d_max_bytes() -> usize {
    DEFAULT_MAX_RESPONSE_BYTES
}
fn d_page() -> u32 {
    DEFAULT_PAGE_SIZE
}
fn d_overlap() -> u64 {
    DEFAULT_OVERLAP_SECONDS
}

impl Default for UpstreamConfig {
    fn default() -> Self {
        UpstreamConfig {
            base_url: None,
            token_file: None,
            token_env: None,
            ca_file: None,
            connect_timeout_seconds: DEFAULT_CONNECT_TIMEOUT_SECONDS,
            read_timeout_seconds: DEFAULT_READ_TIMEOUT_SECONDS,
            total_timeout_seconds: DEFAULT_TOTAL_TIMEOUT_SECONDS,
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
            page_size: DEFAULT_PAGE_SIZE,
            overlap_seconds: DEFAULT_OVERLAP_SECONDS,
            paths: PathsConfig::default(),
            status_labels: StatusLabelsConfig::default(),
        }
    }
}

impl UpstreamConfig {
    /// The status labels with the configured overrides applied.
    pub fn labels(&self) -> StatusLabels {
        self.status_labels.to_labels()
    }
}

/// Endpoint paths, relative to `base_url`. Each can be overridden.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PathsConfig {
    pub gettopics: String,
    pub getunits: String,
    pub getstream: String,
    pub getlaporan: String,
    pub adddisposisi: String,
    pub addtindaklanjut: String,
    pub setstatus: String,
    pub addstream: String,
}

impl Default for PathsConfig {
    fn default() -> Self {
        PathsConfig {
            gettopics: "/api/services/f01/gettopics".into(),
            getunits: "/api/services/f01/getunits".into(),
            getstream: "/api/stream/getstream".into(),
            getlaporan: "/api/stream/getlaporan".into(),
            adddisposisi: "/api/stream/adddisposisi".into(),
            addtindaklanjut: "/api/stream/addtindaklanjut".into(),
            setstatus: "/api/stream/setstatus".into(),
            addstream: "/api/stream/addstream".into(),
        }
    }
}

/// Overrides of the status labels a deployment writes.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatusLabelsConfig {
    pub belum_terverifikasi: Option<String>,
    pub belum_ditindaklanjuti: Option<String>,
    pub proses: Option<String>,
    pub ditunda: Option<String>,
    pub bukan_wewenang: Option<String>,
    pub selesai: Option<String>,
    pub arsip: Option<String>,
}

impl StatusLabelsConfig {
    pub fn to_labels(&self) -> StatusLabels {
        let mut l = StatusLabels::default();
        let pairs = [
            (Status::BelumTerverifikasi, &self.belum_terverifikasi),
            (Status::BelumDitindaklanjuti, &self.belum_ditindaklanjuti),
            (Status::Proses, &self.proses),
            (Status::Ditunda, &self.ditunda),
            (Status::BukanWewenang, &self.bukan_wewenang),
            (Status::Selesai, &self.selesai),
            (Status::Arsip, &self.arsip),
        ];
        for (s, v) in pairs {
            if let Some(v) = v {
                l.set(s, v.clone());
            }
        }
        l
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoreConfig {
    /// The sled directory. Default: `sp4n-store` beside the configuration file.
    pub path: Option<PathBuf>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MappingsConfig {
    /// The folder with `opd.toml`, `rules.toml` and `calendar.toml`.
    #[serde(default = "d_mappings_dir")]
    pub dir: PathBuf,
    /// Queue a disposition for every complaint routed to an OPD other than `ADMIN`.
    #[serde(default)]
    pub auto_dispose: bool,
}

fn d_mappings_dir() -> PathBuf {
    PathBuf::from("mappings")
}

impl Default for MappingsConfig {
    fn default() -> Self {
        MappingsConfig {
            dir: d_mappings_dir(),
            auto_dispose: false,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PushConfig {
    #[serde(default = "d_backoff_initial")]
    pub backoff_initial_seconds: u64,
    #[serde(default = "d_backoff_max")]
    pub backoff_max_seconds: u64,
    /// Longest total wait on `Retry-After` within one run.
    #[serde(default = "d_wait_budget")]
    pub wait_budget_seconds: u64,
    /// Clock skew allowed between this host and the platform when a read-back compares
    /// a platform time with the first attempt.
    #[serde(default = "d_clock_skew")]
    pub clock_skew_seconds: u64,
    /// How long a new complaint may take to appear in the stream: a lost `addstream`
    /// is not sent again before this has passed.
    #[serde(default = "d_visibility_delay")]
    pub visibility_delay_seconds: u64,
}

fn d_clock_skew() -> u64 {
    crate::push::policy::DEFAULT_CLOCK_SKEW_SECONDS
}
fn d_visibility_delay() -> u64 {
    crate::push::policy::DEFAULT_VISIBILITY_DELAY_SECONDS
}

fn d_backoff_initial() -> u64 {
    DEFAULT_BACKOFF_INITIAL_SECONDS
}
fn d_backoff_max() -> u64 {
    DEFAULT_BACKOFF_MAX_SECONDS
}
fn d_wait_budget() -> u64 {
    DEFAULT_WAIT_BUDGET_SECONDS
}

impl Default for PushConfig {
    fn default() -> Self {
        PushConfig {
            backoff_initial_seconds: DEFAULT_BACKOFF_INITIAL_SECONDS,
            backoff_max_seconds: DEFAULT_BACKOFF_MAX_SECONDS,
            wait_budget_seconds: DEFAULT_WAIT_BUDGET_SECONDS,
            clock_skew_seconds: d_clock_skew(),
            visibility_delay_seconds: d_visibility_delay(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduleConfig {
    /// The zone cron lines are read in.
    #[serde(default = "d_zone")]
    pub zone: String,
    /// Crontab lines (5 fields, 1 = Monday; or 6 with seconds). Absent: the job never runs.
    pub pull: Option<String>,
    pub push: Option<String>,
    pub reconcile: Option<String>,
    #[serde(default = "d_grace")]
    pub grace_seconds: u64,
}

fn d_zone() -> String {
    "Asia/Jakarta".into()
}
fn d_grace() -> u64 {
    DEFAULT_GRACE_SECONDS
}

impl Default for ScheduleConfig {
    fn default() -> Self {
        ScheduleConfig {
            zone: d_zone(),
            pull: Some("*/15 * * * *".into()),
            push: Some("*/5 * * * *".into()),
            reconcile: Some("30 2 * * *".into()),
            grace_seconds: DEFAULT_GRACE_SECONDS,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerConfig {
    /// Where the local HTTP API listens. Loopback by default.
    #[serde(default = "d_listen")]
    pub listen: String,
    /// Largest accepted request body.
    #[serde(default = "d_body")]
    pub max_body_bytes: usize,
    /// Open API connections at most; more clients wait until one closes. Lowered to fit
    /// the process's file-descriptor limit.
    #[serde(default = "d_max_connections")]
    pub max_connections: usize,
    /// Seconds a client may take to send a request's head (line and headers).
    #[serde(default = "d_header_timeout")]
    pub header_timeout_seconds: u64,
    /// Seconds a request may take as a whole: its body and the answer.
    #[serde(default = "d_request_timeout")]
    pub request_timeout_seconds: u64,
}

fn d_max_connections() -> usize {
    256
}
fn d_header_timeout() -> u64 {
    10
}
fn d_request_timeout() -> u64 {
    30
}

fn d_listen() -> String {
    "127.0.0.1:8080".into()
}
fn d_body() -> usize {
    64 * 1024
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            listen: d_listen(),
            max_body_bytes: d_body(),
            max_connections: d_max_connections(),
            header_timeout_seconds: d_header_timeout(),
            request_timeout_seconds: d_request_timeout(),
        }
    }
}

/// Why a configuration could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}", crate::diag::render_all(.0))]
    Invalid(Vec<Diagnostic>),
}

impl Config {
    /// Reads and validates a configuration file.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = crate::limits::read_to_string_capped(path, crate::limits::MAX_CONFIG_BYTES)
            .map_err(|source| ConfigError::Io {
                path: path.to_path_buf(),
                source,
            })?;
        Config::parse(path, &text)
    }

    /// Parses configuration text; `path` names it in errors and anchors relative paths.
    pub fn parse(path: &Path, text: &str) -> Result<Config, ConfigError> {
        let mut cfg: Config = toml::from_str(text).map_err(|e| {
            let mut d = Diagnostic::from_toml(path, text, &e);
            if d.message.contains("unknown field `token`") {
                d.hint = "the token is never written in this file: put it in a file named by token_file, or an environment variable named by token_env".into();
                // The line holds the secret: show its key only.
                d.source_line = "token = ***".into();
                d.width = 5;
            }
            ConfigError::Invalid(vec![d])
        })?;
        let diags = cfg.check(path, text);
        if !diags.is_empty() {
            return Err(ConfigError::Invalid(diags));
        }
        let base = path.parent().unwrap_or(Path::new("."));
        cfg.resolve_paths(base);
        cfg.source = Some(path.to_path_buf());
        Ok(cfg)
    }

    fn resolve_paths(&mut self, base: &Path) {
        let fix = |p: &mut PathBuf| {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        };
        if let Some(p) = self.upstream.token_file.as_mut() {
            fix(p);
        }
        if let Some(p) = self.upstream.ca_file.as_mut() {
            fix(p);
        }
        if let Some(p) = self.store.path.as_mut() {
            fix(p);
        }
        fix(&mut self.mappings.dir);
    }

    /// The store directory: configured, or `sp4n-store` beside the configuration file.
    pub fn store_path(&self) -> PathBuf {
        if let Some(p) = &self.store.path {
            return p.clone();
        }
        let dir = self
            .source
            .as_ref()
            .and_then(|p| p.parent().map(Path::to_path_buf))
            .unwrap_or_else(|| PathBuf::from("."));
        dir.join("sp4n-store")
    }

    fn check(&self, path: &Path, text: &str) -> Vec<Diagnostic> {
        let mut out = Vec::new();
        let span_of = |key: &str| find_key_span(text, key);
        let mut err = |key: &str, msg: String, hint: &str| {
            out.push(Diagnostic::error(path, text, span_of(key), msg, hint));
        };
        let u = &self.upstream;
        if u.token_file.is_some() && u.token_env.is_some() {
            err(
                "token_env",
                "both token_file and token_env are set".into(),
                "keep exactly one of them",
            );
        }
        if let Some(url) = &u.base_url
            && let Err(e) = check_base_url(url)
        {
            err(
                "base_url",
                e.to_string(),
                "use https://, or http:// only for 127.0.0.1 or localhost",
            );
        }
        if !(1..=500).contains(&u.page_size) {
            err(
                "page_size",
                format!("page_size {} is outside 1 to 500", u.page_size),
                "the platform serves 1 to 500 complaints a page; 100 is its default",
            );
        }
        for (key, v) in [
            ("connect_timeout_seconds", u.connect_timeout_seconds),
            ("read_timeout_seconds", u.read_timeout_seconds),
            ("total_timeout_seconds", u.total_timeout_seconds),
        ] {
            if v == 0 {
                err(key, format!("{key} must be at least 1"), "");
            }
        }
        if u.max_response_bytes < 4096 {
            err(
                "max_response_bytes",
                "max_response_bytes is below 4096".into(),
                "a single complaint can be several KiB; the default is 8388608 (8 MiB)",
            );
        }
        if self.push.backoff_initial_seconds == 0
            || self.push.backoff_max_seconds < self.push.backoff_initial_seconds
        {
            err(
                "backoff_max_seconds",
                "backoff_initial_seconds must be at least 1 and at most backoff_max_seconds".into(),
                "",
            );
        }
        if self.schedule.zone.parse::<chrono_tz::Tz>().is_err() {
            err(
                "zone",
                format!("unknown time zone '{}'", self.schedule.zone),
                "use an IANA zone name such as Asia/Jakarta",
            );
        }
        if self.server.listen.parse::<std::net::SocketAddr>().is_err() {
            err(
                "listen",
                format!("'{}' is not an address and port", self.server.listen),
                "write it as 127.0.0.1:8080",
            );
        }
        out
    }
}

/// Finds the span of `key = value`'s value in TOML text (first occurrence), for semantic
/// errors on values that deserialized fine.
pub fn find_key_span(text: &str, key: &str) -> Option<std::ops::Range<usize>> {
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim_start();
        if let Some(rest) = trimmed.strip_prefix(key) {
            let rest_trim = rest.trim_start();
            if rest_trim.starts_with('=') {
                let indent = line.len() - trimmed.len();
                let value_start = offset + indent + key.len() + (rest.len() - rest_trim.len()) + 1;
                let value = line[value_start - offset..].trim();
                let lead = line[value_start - offset..].len()
                    - line[value_start - offset..].trim_start().len();
                return Some(value_start + lead..value_start + lead + value.len());
            }
        }
        offset += line.len();
    }
    None
}

/// A `base_url` refused: not a URL, or one the token must not travel to.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct BaseUrlError(String);

/// Accepts `https://` anywhere and `http://` only for a loopback host.
pub fn check_base_url(url: &str) -> Result<(), BaseUrlError> {
    let parsed = url::Url::parse(url)
        .map_err(|e| BaseUrlError(format!("base_url '{url}' is not a URL: {e}")))?;
    match parsed.scheme() {
        "https" => Ok(()),
        "http" => {
            let loopback = match parsed.host() {
                Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
                Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
                Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
                None => false,
            };
            if loopback {
                Ok(())
            } else {
                Err(BaseUrlError(format!(
                    "base_url '{url}' uses plain http:// to a host that is not loopback; the token would travel unencrypted"
                )))
            }
        }
        other => Err(BaseUrlError(format!(
            "base_url '{url}' has scheme '{other}'; use https://"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_key_names_file_line_column() {
        let text = "[upstream]\nbase_url = \"https://www.lapor.go.id\"\npage_sise = 50\n";
        let err = Config::parse(Path::new("sp4n.toml"), text).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("sp4n.toml:3:1"), "{msg}");
        assert!(msg.contains("page_sise"), "{msg}");
    }

    #[test]
    fn inline_token_is_refused_with_a_hint() {
        let text = "[upstream]\ntoken = \"{ABC}\"\n";
        let msg = Config::parse(Path::new("x.toml"), text)
            .unwrap_err()
            .to_string();
        assert!(msg.contains("token_file"), "{msg}");
        assert!(
            !msg.contains("ABC"),
            "the error must not echo the token: {msg}"
        );
    }

    #[test]
    fn semantic_errors_point_at_the_value() {
        let text = "[upstream]\nbase_url = \"http://example.org\"\npage_size = 900\n";
        let msg = Config::parse(Path::new("x.toml"), text)
            .unwrap_err()
            .to_string();
        assert!(msg.contains("x.toml:2:12"), "{msg}");
        assert!(msg.contains("x.toml:3:13"), "{msg}");
    }
}
