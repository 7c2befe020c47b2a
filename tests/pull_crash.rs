//! Crash safety: the real `sp4n pull` binary is killed with SIGKILL at pseudo-random
//! moments, at least 30 times, and restarted each time. At the end the store opens, equals
//! the simulator's ground truth, and no event is duplicated.

mod pull_support;

use pull_support::*;
use sp4n::sim::Faults;
use std::path::Path;
use std::time::Duration;

/// Writes an `sp4n.toml` that points at the simulator.
pub fn write_config(dir: &Path, env: &Env, page_size: u32) -> std::path::PathBuf {
    let up = env.sim.upstream_config();
    let text = format!(
        "[upstream]\nbase_url = \"{}\"\ntoken_file = \"{}\"\nca_file = \"{}\"\npage_size = {page_size}\ntotal_timeout_seconds = 10\n\n[store]\npath = \"{}\"\n[mappings]\ndir = \"{}\"\n",
        up.base_url.unwrap(),
        up.token_file.unwrap().display(),
        up.ca_file.unwrap().display(),
        dir.join("crash-store").display(),
        concat!(env!("CARGO_MANIFEST_DIR"), "/mappings")
    );
    let path = dir.join("sp4n.toml");
    std::fs::write(&path, text).unwrap();
    path
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_pulls_resume_without_loss_or_duplicate_events() {
    let env = start(31, 6000, Faults::default()).await;
    let cfg = write_config(env.dir.path(), &env, 20);
    let mut rng: u64 = 0x5EED_0000_C0FF_EE11;
    let mut next = move || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    let mut kills = 0;
    let mut runs = 0;
    while kills < 30 && runs < 300 {
        runs += 1;
        let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_sp4n"))
            .arg("--config")
            .arg(&cfg)
            .args(["pull", "--quiet"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        // Kill timing, not waiting for a server.
        let delay = Duration::from_millis(30 + next() % 400);
        tokio::select! {
            status = child.wait() => {
                let code = status.unwrap().code();
                assert!(matches!(code, Some(0) | Some(5)), "pull exited with {code:?}");
                // Finished before the kill: let the world move so later runs have work.
                env.sim.advance(chrono::Duration::hours(6));
            }
            _ = tokio::time::sleep(delay) => {
                child.kill().await.unwrap(); // SIGKILL
                kills += 1;
            }
        }
    }
    assert!(kills >= 30, "only {kills} kills in {runs} runs");
    // One last run to completion.
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_sp4n"))
        .arg("--config")
        .arg(&cfg)
        .args(["pull", "--quiet", "--json"])
        .output()
        .await
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let store = sp4n::store::Store::open(&env.dir.path().join("crash-store")).unwrap();
    assert_store_equals_truth(&store, &env.truth());
    assert_no_duplicate_events(&store);
    env.sim.shutdown().await;
}
