//! The one test harness. The common core, used by every test that needs it:
//! [`start_sim`] (the simulator on a driven clock over loopback TLS), [`write_config`]
//! (an `sp4n.toml` for it), [`sp4n`] / [`sp4n_text`] / [`command`] (the real binary, always
//! started the same way) and [`kill`] (a signal to a process the test started). The
//! submodules hold each area's fixtures, built on that core: `pull`, `push`, `mapping`,
//! `server`, `mapcli`.
#![allow(dead_code)]

pub mod mapcli;
pub mod mapping;
pub mod pull;
pub mod push;
pub mod server;

use chrono::{DateTime, TimeZone, Utc};
use sp4n::sim::{ClockMode, Faults, SimHandle, SimOptions};
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};

/// Friday 20 November 2026, 10:00 WIB: where the simulator's driven clock starts.
pub fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 20, 3, 0, 0).unwrap()
}

/// Starts the simulator in `dir/sim` on a driven clock at [`t0`] with `complaints`
/// complaints; `events_per_day`: how busy the platform is (`None`: its default).
pub async fn start_sim(
    dir: &Path,
    seed: u64,
    complaints: usize,
    faults: Faults,
    events_per_day: Option<u32>,
) -> SimHandle {
    let mut so = SimOptions::new(seed, complaints, &dir.join("sim"));
    so.clock = ClockMode::Driven(t0());
    so.faults = faults;
    if let Some(n) = events_per_day {
        so.events_per_day = n;
    }
    sp4n::sim::start(so).await.unwrap()
}

/// What an `sp4n.toml` written by [`write_config`] says beside the simulator upstream.
#[derive(Debug, Clone)]
pub struct ConfigFile {
    /// The store, relative to the directory.
    pub store: String,
    /// The mapping folder (default: the shipped one).
    pub mappings: PathBuf,
    pub page_size: u32,
    pub auto_dispose: bool,
    pub total_timeout_seconds: Option<u64>,
}

impl Default for ConfigFile {
    fn default() -> Self {
        ConfigFile {
            store: "store".into(),
            mappings: Path::new(env!("CARGO_MANIFEST_DIR")).join("mappings"),
            page_size: 500,
            auto_dispose: false,
            total_timeout_seconds: None,
        }
    }
}

/// Writes `dir/sp4n.toml` for the simulator `sim` as `c` says; its path.
pub fn write_config(dir: &Path, sim: &SimHandle, c: &ConfigFile) -> PathBuf {
    let up = sim.upstream_config();
    let timeout = c
        .total_timeout_seconds
        .map(|s| format!("total_timeout_seconds = {s}\n"))
        .unwrap_or_default();
    let text = format!(
        "[upstream]\nbase_url = \"{}\"\ntoken_file = \"{}\"\nca_file = \"{}\"\npage_size = {}\n{timeout}\n[store]\npath = \"{}\"\n\n[mappings]\ndir = \"{}\"\nauto_dispose = {}\n",
        up.base_url.unwrap(),
        up.token_file.unwrap().display(),
        up.ca_file.unwrap().display(),
        c.page_size,
        dir.join(&c.store).display(),
        c.mappings.display(),
        c.auto_dispose,
    );
    let path = dir.join("sp4n.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// The real `sp4n` binary, started the one way: `--config CFG` when given, no
/// `SP4N_CONFIG` from the environment, the OS user `admin-uji`, stdin not a terminal.
pub fn command(cfg: Option<&Path>) -> tokio::process::Command {
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_sp4n"));
    if let Some(c) = cfg {
        cmd.arg("--config").arg(c);
    }
    cmd.env_remove("SP4N_CONFIG")
        .env("USER", "admin-uji")
        .stdin(Stdio::null());
    cmd
}

/// Runs `sp4n --config CFG ARGS…` to completion; what it printed.
pub async fn sp4n(cfg: &Path, args: &[&str]) -> Output {
    command(Some(cfg)).args(args).output().await.unwrap()
}

/// What a command printed, as text.
pub struct Out {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `sp4n [--config CFG] ARGS…` to completion; exit code and output as text.
pub async fn sp4n_text(cfg: Option<&Path>, args: &[&str]) -> Out {
    let out = command(cfg).args(args).output().await.unwrap();
    Out {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into(),
        stderr: String::from_utf8_lossy(&out.stderr).into(),
    }
}

/// Sends `signal` (e.g. `libc::SIGKILL`, `libc::SIGTERM`) to a process the test started.
pub fn kill(pid: u32, signal: i32) {
    // SAFETY: kill(2) with a PID this test spawned; no memory is shared.
    unsafe {
        libc::kill(pid as i32, signal);
    }
}
