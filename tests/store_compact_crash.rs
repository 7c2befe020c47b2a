//! Crash safety of the value log's compaction: the real `sp4n store compact` is killed
//! with SIGKILL at pseudo-random moments, at least 20 times. After every kill the store
//! opens and holds exactly the same complaints and histories; at the end a compaction
//! that completes leaves no dead bytes and no stray segment.

mod support;
use support as cli_support;
use support::pull as pull_support;

use pull_support::*;
use sp4n::sim::Faults;
use sp4n::store::{ComplaintFilter, Store};
use std::path::Path;
use std::time::Duration;

use cli_support::sp4n;

/// Everything a person can read from the store: records and histories.
fn snapshot(path: &Path) -> Vec<(sp4n::store::StoredComplaint, usize)> {
    let s = Store::open(path).unwrap();
    s.list_complaints(&ComplaintFilter::default())
        .unwrap()
        .into_iter()
        .map(|c| {
            let n = s.events(c.tracking_id()).unwrap().len();
            (c, n)
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_compactions_lose_nothing() {
    let env = start(71, 2000, Faults::default()).await;
    let cfg = write_config(env.dir.path(), &env, "compact-store", 100);
    assert_eq!(
        sp4n(&cfg, &["pull", "--quiet"]).await.status.code(),
        Some(0)
    );
    let store_path = env.dir.path().join("compact-store");
    {
        // Rewrite every record twice: two thirds of the records in the log are dead.
        let s = Store::open(&store_path).unwrap();
        for _ in 0..2 {
            for id in s.complaint_ids().unwrap() {
                s.update_complaint(id, |_| Ok(vec![]), vec![]).unwrap();
            }
        }
        assert!(s.value_log_usage().unwrap().1 > 0);
    }
    let expected = snapshot(&store_path);
    assert_eq!(expected.len(), 2000);

    let mut next = kill_moments(0xC0DE_5EED_0000_0071);
    let (mut kills, mut runs, mut completed) = (0, 0, 0);
    // The kill comes at a random moment within `window`; a compaction that finishes
    // first makes the window shorter, so the test gets its kills on any machine.
    let mut window: u64 = 300;
    while kills < 20 && runs < 500 {
        runs += 1;
        let mut child = support::command(Some(&cfg))
            .args(["store", "compact", "--json"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        // Kill timing, not waiting for a server.
        let delay = Duration::from_millis(1 + next() % window);
        tokio::select! {
            status = child.wait() => {
                assert_eq!(status.unwrap().code(), Some(0));
                completed += 1;
                window = (window * 3 / 4).max(3);
            }
            _ = tokio::time::sleep(delay) => {
                child.kill().await.unwrap(); // SIGKILL
                kills += 1;
            }
        }
        assert!(
            snapshot(&store_path) == expected,
            "run {runs}: the store changed"
        );
    }
    assert!(
        kills >= 20,
        "only {kills} kills in {runs} runs ({completed} completed)"
    );

    let out = sp4n(&cfg, &["store", "compact", "--json"]).await;
    assert_eq!(out.status.code(), Some(0));
    let s = Store::open(&store_path).unwrap();
    let (size, dead) = s.value_log_usage().unwrap();
    assert_eq!(dead, 0);
    drop(s);
    // Only the new segments are left, and they hold exactly the live values.
    let segments = std::fs::read_dir(store_path.join("blobs")).unwrap().count();
    assert!(segments <= 2, "{segments} segments left");
    assert!(size > 0);
    assert!(snapshot(&store_path) == expected);
}
