//! The agent (`sp4n run`) as a real process against the simulator over loopback TLS:
//! ready line, /healthz and /metrics, one agent per store (exit 5 with the first one's
//! PID), `sp4n status` beside a running agent, and SIGTERM in the middle of a pull and of
//! a push: exit 0, a consistent store, nothing lost or sent twice after a restart.

mod support;
use support as cli_support;

use sp4n::sim::{Faults, SimHandle, SimOptions};
use sp4n::store::{EventKind, OutboxState, Store};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, ChildStderr, Command};

use cli_support::sp4n;

struct Env {
    dir: tempfile::TempDir,
    sim: SimHandle,
}

async fn start_sim(seed: u64, complaints: usize) -> Env {
    let dir = tempfile::tempdir().unwrap();
    let mut so = SimOptions::new(seed, complaints, &dir.path().join("sim"));
    so.events_per_day = 0;
    let sim = sp4n::sim::start(so).await.unwrap();
    Env { dir, sim }
}

fn mappings_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("mappings")
}

/// A configuration file: the simulator upstream, a store in the temp dir, the shipped
/// mappings, and `schedule` as the body of `[schedule]`.
fn config(env: &Env, extra: &str, schedule: &str) -> PathBuf {
    let text = format!(
        "[upstream]\nbase_url = \"{}\"\ntoken_file = \"{}\"\nca_file = \"{}\"\npage_size = 20\nconnect_timeout_seconds = 5\ntotal_timeout_seconds = 20\n\n[store]\npath = \"{}\"\n\n[mappings]\ndir = \"{}\"\n{extra}\n\n[schedule]\n{schedule}\n",
        env.sim.base_url(),
        env.sim.token_file().display(),
        env.sim.ca_file().display(),
        store_path(env).display(),
        mappings_dir().display(),
    );
    let path = env.dir.path().join("sp4n.toml");
    std::fs::write(&path, text).unwrap();
    path
}

fn store_path(env: &Env) -> PathBuf {
    env.dir.path().join("store")
}

struct Agent {
    child: Child,
    pid: u32,
    addr: String,
    stderr: tokio::io::Lines<BufReader<ChildStderr>>,
}

/// Starts `sp4n run` and waits for its ready line.
async fn agent(cfg: &Path) -> Agent {
    let mut child = Command::new(env!("CARGO_BIN_EXE_sp4n"))
        .arg("--config")
        .arg(cfg)
        .args(["run", "--listen", "127.0.0.1:0"])
        .env("SP4N_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap()).lines();
    let stderr = BufReader::new(child.stderr.take().unwrap()).lines();
    let line = stdout
        .next_line()
        .await
        .unwrap()
        .expect("the agent prints a ready line");
    // "sp4n agent ready: pid PID, listening on http://ADDR"
    let pid: u32 = line
        .split("pid ")
        .nth(1)
        .and_then(|r| r.split(',').next())
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("no pid in {line:?}"));
    let addr = line
        .split("http://")
        .nth(1)
        .unwrap_or_else(|| panic!("no address in {line:?}"))
        .trim()
        .to_string();
    assert_eq!(Some(pid), child.id());
    Agent {
        child,
        pid,
        addr,
        stderr,
    }
}

impl Agent {
    /// Reads the log until a line containing every one of `words` (returns the log so far).
    async fn wait_log(&mut self, words: &[&str]) -> String {
        let mut seen = String::new();
        while let Some(l) = self.stderr.next_line().await.unwrap() {
            seen.push_str(&l);
            seen.push('\n');
            if words.iter().all(|w| l.contains(w)) {
                return seen;
            }
        }
        panic!("the agent ended before logging {words:?}:\n{seen}");
    }

    fn signal(&self, sig: i32) {
        // SAFETY: sending a signal to our own child process.
        assert_eq!(unsafe { libc::kill(self.pid as i32, sig) }, 0);
    }

    /// Waits for exit; returns the code and the rest of the log.
    async fn wait(mut self) -> (Option<i32>, String) {
        let mut rest = String::new();
        while let Some(l) = self.stderr.next_line().await.unwrap() {
            rest.push_str(&l);
            rest.push('\n');
        }
        (self.child.wait().await.unwrap().code(), rest)
    }
}

async fn get(addr: &str, path: &str) -> (u16, String) {
    let r = reqwest::get(format!("http://{addr}{path}")).await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_agent_per_store_health_metrics_and_status_beside_it() {
    let env = start_sim(61, 40).await;
    // A pull every second; no push or reconcile.
    let cfg = config(&env, "", "pull = \"* * * * * *\"\ngrace_seconds = 5");
    let mut a = agent(&cfg).await;
    a.wait_log(&["Job finished", "pull"]).await;

    // A second agent on the same store is refused: exit 5 with the first one's PID.
    let second = sp4n(&cfg, &["run", "--listen", "127.0.0.1:0"]).await;
    let err = String::from_utf8_lossy(&second.stderr);
    assert_eq!(second.status.code(), Some(5), "{err}");
    assert!(err.contains(&format!("PID {}", a.pid)), "{err}");
    assert!(err.contains("in use by another process"), "{err}");

    let (code, body) = get(&a.addr, "/healthz").await;
    let h: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(code, 200, "{body}");
    assert_eq!(h["status"], "ok", "{body}");
    assert_eq!(h["pid"], a.pid);
    assert_eq!(h["held"], 0);
    assert_eq!(h["token_refused"], false);
    let pull = &h["jobs"][0];
    assert_eq!(pull["name"], "pull");
    assert_eq!(pull["last_outcome"], "ok", "{body}");
    assert!(pull["next_fire"].is_string());

    let (code, m) = get(&a.addr, "/metrics").await;
    assert_eq!(code, 200);
    assert!(m.contains("sp4n_pulled_total 40\n"), "{m}");
    assert!(m.contains("sp4n_outbox_depth 0\n"), "{m}");
    assert!(m.contains("sp4n_outbox_held 0\n"), "{m}");
    assert!(
        m.lines().any(
            |l| l.starts_with("sp4n_job_last_success_timestamp_seconds{job=\"pull\"} ")
                && !l.ends_with(" 0")
        ),
        "{m}"
    );
    assert!(m.contains("# TYPE sp4n_overdue_complaints gauge"), "{m}");
    // No complaint text or reporter identity, no token.
    let token = std::fs::read_to_string(env.sim.token_file()).unwrap();
    assert!(!m.contains(token.trim()) && !body.contains(token.trim()));

    // `sp4n status` while the agent holds the store: its published snapshot.
    let st = sp4n(&cfg, &["status"]).await;
    let text = String::from_utf8_lossy(&st.stdout);
    assert!(
        text.contains(&format!("running agent, PID {}", a.pid)),
        "{text}{}",
        String::from_utf8_lossy(&st.stderr)
    );
    assert!(text.contains("pull"), "{text}");
    let st = sp4n(&cfg, &["status", "--json"]).await;
    let j: serde_json::Value = serde_json::from_slice(&st.stdout).unwrap();
    assert_eq!(j["agent"]["pid"], a.pid);

    a.signal(libc::SIGTERM);
    let (code, log) = a.wait().await;
    assert_eq!(code, Some(0), "{log}");
    assert!(log.contains("Agent stopped"), "{log}");
    assert!(!log.contains(token.trim()));

    // Without an agent, status opens the store itself.
    let st = sp4n(&cfg, &["status", "--json"]).await;
    let j: serde_json::Value = serde_json::from_slice(&st.stdout).unwrap();
    assert!(j["agent"].is_null(), "{j}");
    assert_eq!(j["store"]["complaints"], 40);
    assert_eq!(j["jobs"][0]["name"], "pull");
    assert!(j["jobs"][0]["last_run"].is_object(), "{j}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_in_the_middle_of_a_pull_then_a_restart_completes_it() {
    let env = start_sim(62, 1500).await;
    // The 5th request never gets an answer: the pull is certainly in the middle (after
    // some committed pages, waiting on a page) when SIGTERM comes, however fast it runs.
    env.sim.set_faults(Faults {
        hang_every: 5,
        ..Faults::default()
    });
    let cfg = config(&env, "", "pull = \"* * * * * *\"\ngrace_seconds = 1");
    let mut a = agent(&cfg).await;
    a.wait_log(&["Job started", "pull"]).await;
    a.signal(libc::SIGTERM);
    let (code, log) = a.wait().await;
    assert_eq!(code, Some(0), "{log}");

    // Consistent store: it opens, and what it holds is a subset of the platform's truth.
    let truth = env.sim.ground_truth();
    let truth_ids: std::collections::BTreeSet<u64> =
        truth.complaints.iter().map(|c| c.tracking_id).collect();
    // Complaints that left the stream may have been seen before they left.
    let known: std::collections::BTreeSet<u64> = truth
        .complaints
        .iter()
        .chain(truth.left_stream.iter())
        .map(|c| c.tracking_id)
        .collect();
    {
        let store = Store::open(&store_path(&env)).unwrap();
        let ids = store.complaint_ids().unwrap();
        assert!(
            ids.len() < truth_ids.len(),
            "the pull was not cut: {}",
            ids.len()
        );
        assert!(ids.iter().all(|i| known.contains(i)));
    }

    // A restarted agent's next pull brings everything, each complaint once.
    env.sim.set_faults(Faults::default());
    let mut a = agent(&cfg).await;
    a.wait_log(&["Job finished", "pull"]).await;
    a.signal(libc::SIGINT);
    let (code, log) = a.wait().await;
    assert_eq!(code, Some(0), "{log}");
    let store = Store::open(&store_path(&env)).unwrap();
    let ids: std::collections::BTreeSet<u64> = store.complaint_ids().unwrap().into_iter().collect();
    assert!(truth_ids.is_subset(&ids));
    assert!(ids.is_subset(&known));
    for id in ids.iter().take(200) {
        let firsts = store
            .events(*id)
            .unwrap()
            .iter()
            .filter(|e| matches!(e.kind, EventKind::FirstSeen))
            .count();
        assert!(firsts <= 1, "complaint {id} first seen {firsts} times");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_in_the_middle_of_a_push_then_nothing_is_sent_twice() {
    // auto_dispose: the pull queues a disposition for every open complaint without a
    // unit upstream routed to an OPD (the platform's own dispositions stand), so a larger
    // world gives enough of them to interrupt.
    let env = start_sim(63, 1500).await;
    let cfg = config(
        &env,
        "auto_dispose = true",
        "push = \"* * * * * *\"\ngrace_seconds = 1",
    );
    let out = sp4n(&cfg, &["pull", "--quiet"]).await;
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let queued = {
        let store = Store::open(&store_path(&env)).unwrap();
        store.outbox_unfinished().unwrap().len()
    };
    assert!(queued > 50, "only {queued} dispositions queued");

    let mut a = agent(&cfg).await;
    a.wait_log(&["Job started", "push"]).await;
    a.signal(libc::SIGTERM);
    let (code, log) = a.wait().await;
    assert_eq!(code, Some(0), "{log}");

    // Restart: the agent delivers what is left.
    let mut a = agent(&cfg).await;
    a.wait_log(&["Job finished", "push"]).await;
    a.signal(libc::SIGTERM);
    let (code, log) = a.wait().await;
    assert_eq!(code, Some(0), "{log}");

    let store = Store::open(&store_path(&env)).unwrap();
    let all = store.outbox_all().unwrap();
    assert_eq!(all.len(), queued);
    let truth = env.sim.ground_truth();
    let mut done = 0;
    for e in &all {
        match e.state {
            OutboxState::Done { .. } => {
                done += 1;
                assert_eq!(truth.applied(&e.ref_), 1, "ref {} applied", e.ref_);
            }
            // Refused by the platform's rules: waits for a person, never applied.
            OutboxState::Held { .. } => assert_eq!(truth.applied(&e.ref_), 0),
            ref s => panic!("entry {} neither delivered nor held: {s:?}", e.seq),
        }
    }
    assert!(done > 50, "only {done} delivered");
    assert!(truth.writes_applied.values().all(|n| *n == 1));
    assert_eq!(truth.writes_applied.len(), done);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sighup_rereads_the_configuration_and_keeps_the_old_one_when_invalid() {
    let env = start_sim(66, 10).await;
    let cfg = config(&env, "", "pull = \"0 3 1 1 *\"");
    let mut a = agent(&cfg).await;
    let text = std::fs::read_to_string(&cfg).unwrap();

    std::fs::write(&cfg, text.replace("0 3 1 1 *", "bogus line")).unwrap();
    a.signal(libc::SIGHUP);
    let log = a.wait_log(&["keeping the old one"]).await;
    assert!(log.contains("pull"), "{log}");
    let (_, body) = get(&a.addr, "/healthz").await;
    let h: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(h["jobs"][0]["schedule"], "0 3 1 1 *", "{body}");

    std::fs::write(&cfg, text.replace("0 3 1 1 *", "0 4 1 1 *")).unwrap();
    a.signal(libc::SIGHUP);
    a.wait_log(&["Configuration re-read"]).await;
    let (_, body) = get(&a.addr, "/healthz").await;
    let h: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(h["jobs"][0]["schedule"], "0 4 1 1 *", "{body}");

    a.signal(libc::SIGTERM);
    let (code, log) = a.wait().await;
    assert_eq!(code, Some(0), "{log}");
}

// ------------------------------------------------------------------ issue 14: the agent

/// A copy of the shipped mapping files that a test may change.
fn own_mappings(env: &Env) -> PathBuf {
    let m = env.dir.path().join("mappings");
    std::fs::create_dir_all(&m).unwrap();
    for f in std::fs::read_dir(mappings_dir()).unwrap() {
        let f = f.unwrap();
        if f.file_type().unwrap().is_file() {
            std::fs::copy(f.path(), m.join(f.file_name())).unwrap();
        }
    }
    m
}

fn pull_last_success(health: &str) -> serde_json::Value {
    let h: serde_json::Value = serde_json::from_str(health).unwrap();
    h["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|j| j["name"] == "pull")
        .map(|j| j["last_success"].clone())
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn job_history_survives_a_restart_and_a_rejected_reload() {
    let env = start_sim(71, 30).await;
    let cfg = config(&env, "", "pull = \"* * * * * *\"\ngrace_seconds = 5");
    let mut a = agent(&cfg).await;
    a.wait_log(&["Job finished", "pull"]).await;
    a.signal(libc::SIGTERM);
    let (code, log) = a.wait().await;
    assert_eq!(code, Some(0), "{log}");

    // Restarted with a pull that will not fire during the test: the history is the store's.
    let cfg = config(&env, "", "pull = \"0 0 1 1 *\"\ngrace_seconds = 5");
    let mut a = agent(&cfg).await;
    let (_, body) = get(&a.addr, "/healthz").await;
    assert!(
        pull_last_success(&body).is_string(),
        "after a restart: {body}"
    );
    let (_, m) = get(&a.addr, "/metrics").await;
    assert!(
        m.lines().any(
            |l| l.starts_with("sp4n_job_last_success_timestamp_seconds{job=\"pull\"} ")
                && !l.ends_with(" 0")
        ),
        "{m}"
    );
    assert!(
        m.contains("sp4n_job_last_duration_seconds{job=\"pull\"} "),
        "{m}"
    );
    assert!(
        m.contains(&format!(
            "sp4n_build_info{{version=\"{}\"}} 1",
            env!("CARGO_PKG_VERSION")
        )),
        "{m}"
    );

    // A rejected configuration on SIGHUP keeps the history too.
    let valid = std::fs::read_to_string(&cfg).unwrap();
    std::fs::write(&cfg, "[upstream]\nthis is not toml\n").unwrap();
    a.signal(libc::SIGHUP);
    a.wait_log(&["invalid"]).await;
    let (_, body) = get(&a.addr, "/healthz").await;
    assert!(pull_last_success(&body).is_string(), "after SIGHUP: {body}");
    std::fs::write(&cfg, valid).unwrap();
    let st = sp4n(&cfg, &["status", "--json"]).await;
    let j: serde_json::Value = serde_json::from_slice(&st.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&st.stderr)));
    assert!(
        j.to_string().contains("\"last_success\":\""),
        "`sp4n status` beside the agent shows the last success: {j}"
    );
    a.signal(libc::SIGTERM);
    let (code, log) = a.wait().await;
    assert_eq!(code, Some(0), "{log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn port_in_use_is_a_restartable_failure() {
    let env = start_sim(72, 5).await;
    let cfg = config(&env, "", "pull = \"0 0 1 1 *\"");
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    for cmd in ["run", "serve"] {
        let out = sp4n(&cfg, &[cmd, "--listen", &addr]).await;
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(4), "{cmd}: {err}");
        assert!(err.contains("in use"), "{err}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_do_not_reread_every_complaint_and_the_calendar_per_scrape() {
    let env = start_sim(73, 30).await;
    let m = own_mappings(&env);
    let cfg = config(&env, "", "pull = \"0 0 1 1 *\"");
    let text = std::fs::read_to_string(&cfg).unwrap().replace(
        &mappings_dir().display().to_string(),
        &m.display().to_string(),
    );
    std::fs::write(&cfg, text).unwrap();
    let a = agent(&cfg).await;
    let gauge = |m: &str| {
        m.lines()
            .find(|l| l.starts_with("sp4n_calendar_covers_current_year "))
            .map(str::to_string)
            .unwrap()
    };
    let (_, first) = get(&a.addr, "/metrics").await;
    assert!(gauge(&first).ends_with(" 1"), "{first}");
    // The calendar goes away: the next scrapes reuse the figures instead of re-reading it.
    std::fs::remove_file(m.join("calendar.toml")).unwrap();
    for _ in 0..3 {
        let (code, again) = get(&a.addr, "/metrics").await;
        assert_eq!(code, 200);
        assert_eq!(gauge(&again), gauge(&first));
    }
    a.signal(libc::SIGTERM);
    let (code, log) = a.wait().await;
    assert_eq!(code, Some(0), "{log}");
}
