//! `sp4n-sim`, a faithful simulator of SP4N-LAPOR! as `shared/spec/upstream-api.md`
//! describes it. It owns a deterministic Kulon Progo world built from a seed
//! ([`world`]), a real or test-driven [`clock`], switchable [`faults`], the two platform
//! APIs over real TLS on loopback ([`server`]) and a loopback [`control`] API that exposes
//! the ground truth. Every test, the demo and the benchmarks talk to it instead of mocks.
//!
//! It speaks the wire format through [`crate::upstream::xml`], the same writers and
//! parsers the client uses, so both halves share one dialect.
//!
//! ```no_run
//! # async fn demo() -> Result<(), sp4n::sim::SimError> {
//! let dir = tempfile::tempdir().unwrap();
//! let sim = sp4n::sim::start(sp4n::sim::SimOptions::new(7, 1000, dir.path())).await?;
//! let cfg = sim.upstream_config(); // base_url, ca_file, token_file, short timeouts
//! # let _ = cfg; sim.shutdown().await; Ok(()) }
//! ```

pub mod calendar;
pub mod clock;
pub mod control;
pub mod faults;
pub mod server;
pub mod texts;
pub mod vocabulary;
pub mod world;

pub use clock::ClockMode;
pub use faults::{FaultKind, Faults, ScriptedFault};
pub use vocabulary::Vocabulary;
pub use world::{GroundTruth, World};

use crate::config::UpstreamConfig;
use crate::model::StatusLabels;
use crate::upstream::Token;
use chrono::{DateTime, Utc};
use server::Shared;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// How many platform events (new complaints, replies, admin actions) happen per
/// simulated day by default: a busy Kulon Progo week, compressed a little.
pub const DEFAULT_EVENTS_PER_DAY: u32 = 48;

/// How to start a simulator.
#[derive(Clone, Debug)]
pub struct SimOptions {
    pub seed: u64,
    pub complaints: usize,
    /// Serve plain HTTP (loopback debugging only).
    pub plain_http: bool,
    pub clock: ClockMode,
    pub faults: Faults,
    /// Where `ca.pem` and `token` are written.
    pub dir: PathBuf,
    /// Platform events per simulated day (0: the world changes only through writes).
    pub events_per_day: u32,
    /// Where to bind the API (default `127.0.0.1:0`).
    pub listen: std::net::SocketAddr,
    /// Where to bind the control API (default `127.0.0.1:0`; must be loopback).
    pub control_listen: std::net::SocketAddr,
    /// Overrides of the CA and token paths (default: inside `dir`).
    pub ca_out: Option<PathBuf>,
    pub token_out: Option<PathBuf>,
    /// The deployment's topic and unit ids (default: [`vocabulary::STANDARD`]).
    pub vocabulary: &'static Vocabulary,
}

impl SimOptions {
    pub fn new(seed: u64, complaints: usize, dir: &Path) -> Self {
        let lo = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
        SimOptions {
            seed,
            complaints,
            plain_http: false,
            clock: ClockMode::Real,
            faults: Faults::default(),
            dir: dir.to_path_buf(),
            events_per_day: DEFAULT_EVENTS_PER_DAY,
            listen: lo,
            control_listen: lo,
            ca_out: None,
            token_out: None,
            vocabulary: &vocabulary::STANDARD,
        }
    }
}

/// Why the simulator could not start.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("cannot bind {addr}: {source}")]
    Bind {
        addr: std::net::SocketAddr,
        source: std::io::Error,
    },
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot set up TLS: {0}")]
    Tls(String),
    #[error("{0}")]
    Options(String),
}

/// A running simulator. Dropping it stops it; [`SimHandle::shutdown`] also waits.
pub struct SimHandle {
    shared: Arc<Shared>,
    base_url: String,
    control_url: String,
    ca_file: PathBuf,
    token_file: PathBuf,
    plain_http: bool,
    stop: watch::Sender<bool>,
    tasks: Mutex<Vec<JoinHandle<()>>>,
}

/// A GUID-like token derived from the seed, in braces as the platform issues them.
fn token_for(seed: u64) -> String {
    let mut r = world::Rng::new(seed ^ 0x70CE_4E11_D00D_F00D);
    let (a, b) = (r.next_u64(), r.next_u64());
    format!(
        "{{{:08X}-{:04X}-4{:03X}-{:04X}-{:012X}}}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xfff,
        (b >> 48) & 0x3fff | 0x8000,
        b & 0xffff_ffff_ffff
    )
}

fn write_file(path: &Path, text: &str, private: bool) -> Result<(), SimError> {
    let err = |source| SimError::Write {
        path: path.to_path_buf(),
        source,
    };
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(err)?;
    }
    std::fs::write(path, text).map_err(err)?;
    #[cfg(unix)]
    if private {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).map_err(err)?;
    }
    #[cfg(not(unix))]
    let _ = private;
    Ok(())
}

/// Builds the world, binds both listeners and returns once they accept connections.
pub async fn start(opts: SimOptions) -> Result<SimHandle, SimError> {
    if !opts.control_listen.ip().is_loopback() {
        return Err(SimError::Options(format!(
            "the control API must listen on loopback, not {}",
            opts.control_listen
        )));
    }
    if opts.plain_http && !opts.listen.ip().is_loopback() {
        return Err(SimError::Options(
            "--plain-http is for loopback debugging only; listen on 127.0.0.1".into(),
        ));
    }
    let clock = clock::Clock::new(opts.clock);
    let start_at: DateTime<Utc> = clock.now();
    let (seed, n, events) = (opts.seed, opts.complaints, opts.events_per_day);
    let vocab = opts.vocabulary;
    let mut world = tokio::task::spawn_blocking(move || {
        World::with_vocabulary(seed, n, start_at, events, vocab)
    })
    .await
    .map_err(|e| SimError::Options(format!("building the world failed: {e}")))?;
    world.late_visibility_max_seconds = opts.faults.late_visibility_max_seconds;

    let token = token_for(opts.seed);
    let token_file = opts.token_out.clone().unwrap_or(opts.dir.join("token"));
    write_file(&token_file, &format!("{token}\n"), true)?;
    let ca_file = opts.ca_out.clone().unwrap_or(opts.dir.join("ca.pem"));
    let tls = if opts.plain_http {
        None
    } else {
        let (ca_pem, cfg) = server::make_tls()?;
        write_file(&ca_file, &ca_pem, false)?;
        Some(cfg)
    };

    let bind = |addr| async move {
        TcpListener::bind(addr)
            .await
            .map_err(|source| SimError::Bind { addr, source })
    };
    let api_listener = bind(opts.listen).await?;
    let control_listener = bind(opts.control_listen).await?;
    let api_addr = api_listener.local_addr().map_err(|source| SimError::Bind {
        addr: opts.listen,
        source,
    })?;
    let control_addr = control_listener
        .local_addr()
        .map_err(|source| SimError::Bind {
            addr: opts.control_listen,
            source,
        })?;

    let (stop, stop_rx) = watch::channel(false);
    let shared = Arc::new(Shared {
        world: Mutex::new(world),
        faults: Mutex::new(faults::FaultState::new(opts.faults.clone())),
        clock,
        token,
        labels: StatusLabels::default(),
        shutdown: stop_rx.clone(),
    });
    let mut tasks = Vec::new();
    tasks.push(tokio::spawn(server::serve(
        api_listener,
        server::router(shared.clone()),
        tls,
        stop_rx.clone(),
    )));
    tasks.push(tokio::spawn(server::serve(
        control_listener,
        control::router(shared.clone()),
        None,
        stop_rx.clone(),
    )));
    if !shared.clock.is_driven() {
        // On the real clock the world lives on its own, once a second.
        let s = shared.clone();
        let mut rx = stop_rx.clone();
        tasks.push(tokio::spawn(async move {
            let mut every = tokio::time::interval(std::time::Duration::from_secs(1));
            loop {
                tokio::select! {
                    _ = rx.wait_for(|stop| *stop) => break,
                    _ = every.tick() => { s.tick(); }
                }
            }
        }));
    }
    let scheme = if opts.plain_http { "http" } else { "https" };
    Ok(SimHandle {
        shared,
        base_url: format!("{scheme}://{api_addr}"),
        control_url: format!("http://{control_addr}"),
        ca_file,
        token_file,
        plain_http: opts.plain_http,
        stop,
        tasks: Mutex::new(tasks),
    })
}

impl SimHandle {
    /// `https://127.0.0.1:<port>` (or `http://` with `plain_http`).
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// `http://127.0.0.1:<port>` of the control API.
    pub fn control_url(&self) -> &str {
        &self.control_url
    }

    /// The generated CA's PEM file.
    pub fn ca_file(&self) -> &Path {
        &self.ca_file
    }

    /// The file holding the token.
    pub fn token_file(&self) -> &Path {
        &self.token_file
    }

    pub fn token(&self) -> Token {
        Token::new(self.shared.token.clone())
    }

    /// An `[upstream]` configuration pointing at this simulator, with short timeouts.
    pub fn upstream_config(&self) -> UpstreamConfig {
        UpstreamConfig {
            base_url: Some(self.base_url.clone()),
            token_file: Some(self.token_file.clone()),
            ca_file: (!self.plain_http).then(|| self.ca_file.clone()),
            connect_timeout_seconds: 5,
            read_timeout_seconds: 5,
            total_timeout_seconds: 5,
            ..UpstreamConfig::default()
        }
    }

    /// Replaces the faults in force (counters restart).
    pub fn set_faults(&self, f: Faults) {
        control::apply_faults(&self.shared, f);
    }

    /// The faults in force.
    pub fn faults(&self) -> Faults {
        self.shared.fault_state().faults.clone()
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.shared.clock.now()
    }

    /// The simulator's clock as a function, for a client whose clock must agree with the
    /// platform's (read-back evidence compares the two).
    pub fn clock_fn(&self) -> std::sync::Arc<dyn Fn() -> DateTime<Utc> + Send + Sync> {
        let s = self.shared.clone();
        std::sync::Arc::new(move || s.clock.now())
    }

    /// How many one-shot scripted faults have not fired yet.
    pub fn script_left(&self) -> usize {
        self.shared.fault_state().script_left()
    }

    /// Driven clock: moves time by `d` and runs the world's behaviour for the elapsed
    /// time. On the real clock it only ticks.
    pub fn advance(&self, d: chrono::Duration) {
        let change = control::ClockChange {
            set: None,
            advance_seconds: Some(d.num_seconds()),
        };
        if control::change_clock(&self.shared, &change).is_none() {
            self.shared.tick();
        }
    }

    /// Driven clock: sets the time (then ticks).
    pub fn set_now(&self, t: DateTime<Utc>) {
        let change = control::ClockChange {
            set: Some(t),
            advance_seconds: None,
        };
        let _ = control::change_clock(&self.shared, &change);
    }

    /// The whole world as the instansi would see it, with ref application counts.
    pub fn ground_truth(&self) -> GroundTruth {
        let now = self.shared.tick();
        self.shared.world().ground_truth(now)
    }

    /// Runs `f` on the world (for tests that need a reporter reply at a given time, …).
    pub fn with_world<R>(&self, f: impl FnOnce(&mut World) -> R) -> R {
        f(&mut self.shared.world())
    }

    /// Stops both listeners, ends every open connection (hanging ones included) and waits.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        let tasks = std::mem::take(&mut *self.tasks.lock().unwrap_or_else(|e| e.into_inner()));
        for t in tasks {
            let _ = t.await;
        }
    }
}

impl Drop for SimHandle {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_looks_like_a_guid_in_braces() {
        let t = token_for(7);
        assert_eq!(t.len(), 38, "{t}");
        assert!(t.starts_with('{') && t.ends_with('}'));
        assert_eq!(t, token_for(7));
        assert_ne!(t, token_for(8));
    }
}
