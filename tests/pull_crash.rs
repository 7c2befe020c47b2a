//! Crash safety: the real `sp4n pull` binary is killed with SIGKILL at pseudo-random
//! moments, at least 30 times, and restarted each time. At the end the store opens, equals
//! the simulator's ground truth, and no event is duplicated.

mod support;
use support::pull as pull_support;

use pull_support::*;
use sp4n::sim::Faults;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_pulls_resume_without_loss_or_duplicate_events() {
    let env = start(31, 6000, Faults::default()).await;
    let cfg = write_config(env.dir.path(), &env, "crash-store", 20);
    let mut next = kill_moments(0x5EED_0000_C0FF_EE11);
    let mut kills = 0;
    let mut runs = 0;
    // The kill comes at a random moment within `window`; a run that finishes first makes
    // the window shorter, so the test reaches 30 kills however fast the machine is.
    let mut window: u64 = 430;
    while kills < 30 && runs < 1000 {
        runs += 1;
        let mut child = support::command(Some(&cfg))
            .args(["pull", "--quiet"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        // Kill timing, not waiting for a server.
        let delay = Duration::from_millis(1 + next() % window);
        tokio::select! {
            status = child.wait() => {
                let code = status.unwrap().code();
                assert!(matches!(code, Some(0) | Some(5)), "pull exited with {code:?}");
                // Finished before the kill: let the world move so later runs have work.
                env.sim.advance(chrono::Duration::hours(6));
                window = (window * 3 / 4).max(5);
            }
            _ = tokio::time::sleep(delay) => {
                child.kill().await.unwrap(); // SIGKILL
                kills += 1;
            }
        }
    }
    assert!(kills >= 30, "only {kills} kills in {runs} runs");
    // One last run to completion.
    let out = support::command(Some(&cfg))
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
