//! The `sp4n` binary end to end against the simulator: exit codes (0, 2, 3, 4), `--json`
//! reports, and what `complaints list/show` reveal (reporter identity only with
//! `--reveal-reporter` and never for anonim; rahasia marked).

mod support;
use support as cli_support;
use support::pull as pull_support;

use pull_support::*;
use sp4n::sim::Faults;
use std::path::{Path, PathBuf};
use std::process::Output;

use cli_support::sp4n;

fn config(dir: &Path, base_url: &str, token_file: &Path, ca_file: &Path) -> PathBuf {
    let text = format!(
        "[upstream]\nbase_url = \"{base_url}\"\ntoken_file = \"{}\"\nca_file = \"{}\"\nconnect_timeout_seconds = 2\ntotal_timeout_seconds = 5\n\n[store]\npath = \"cli-store\"\n[mappings]\ndir = \"{}\"\n",
        token_file.display(),
        ca_file.display(),
        concat!(env!("CARGO_MANIFEST_DIR"), "/mappings")
    );
    let path = dir.join("sp4n.toml");
    std::fs::write(&path, text).unwrap();
    path
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pull_then_list_and_show_with_the_reporter_rules() {
    let env = start(41, 300, Faults::default()).await;
    let cfg = config(
        env.dir.path(),
        env.sim.base_url(),
        env.sim.token_file(),
        env.sim.ca_file(),
    );
    let out = sp4n(&cfg, &["pull", "--json"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["outcome"], "ok");
    assert_eq!(
        report["new"].as_u64().unwrap() as usize,
        all(&env.truth()).count()
    );

    let out = sp4n(&cfg, &["pull"]).await;
    assert_eq!(out.status.code(), Some(0));
    assert!(text(&out).contains("baru 0"), "{}", text(&out));

    let gt = env.truth();
    let named = all(&gt)
        .find(|c| !c.anonim && c.pelapor.is_some())
        .expect("a named reporter");
    let email = named.pelapor.as_ref().unwrap().email.clone();
    let id = named.tracking_id.to_string();
    let hidden = sp4n(&cfg, &["complaints", "show", &id]).await;
    assert_eq!(hidden.status.code(), Some(0), "{}", text(&hidden));
    assert!(!text(&hidden).contains(&email));
    assert!(text(&hidden).contains("--reveal-reporter"));
    let shown = sp4n(&cfg, &["complaints", "show", &id, "--reveal-reporter"]).await;
    assert!(text(&shown).contains(&email), "{}", text(&shown));
    let shown_json = sp4n(
        &cfg,
        &["--json", "complaints", "show", &id, "--reveal-reporter"],
    )
    .await;
    assert!(text(&shown_json).contains(&email));

    if let Some(anon) = all(&gt).find(|c| c.anonim) {
        let out = sp4n(
            &cfg,
            &[
                "complaints",
                "show",
                &anon.tracking_id.to_string(),
                "--reveal-reporter",
            ],
        )
        .await;
        assert!(text(&out).contains("pelapor:    anonim"), "{}", text(&out));
    }
    if let Some(secret) = all(&gt).find(|c| c.rahasia) {
        let out = sp4n(
            &cfg,
            &["complaints", "show", &secret.tracking_id.to_string()],
        )
        .await;
        assert!(text(&out).contains("RAHASIA"), "{}", text(&out));
    }

    let list = sp4n(
        &cfg,
        &[
            "--json",
            "complaints",
            "list",
            "--status",
            "proses",
            "--limit",
            "1000",
        ],
    )
    .await;
    assert_eq!(list.status.code(), Some(0), "{}", text(&list));
    let rows: Vec<serde_json::Value> = serde_json::from_slice(&list.stdout).unwrap();
    let want = all(&gt)
        .filter(|c| c.status == sp4n::model::Status::Proses)
        .count();
    assert_eq!(rows.len(), want);
    assert!(
        !text(&list).contains(&email),
        "list never reveals reporters"
    );

    let bad = sp4n(&cfg, &["complaints", "list", "--status", "open"]).await;
    assert_eq!(bad.status.code(), Some(2), "{}", text(&bad));
    env.sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exit_codes_for_config_token_and_unavailable_platform() {
    let env = start(42, 20, Faults::default()).await;
    let dir = env.dir.path();

    let missing = sp4n(&dir.join("nope.toml"), &["pull"]).await;
    assert_eq!(missing.status.code(), Some(2), "{}", text(&missing));
    assert!(text(&missing).contains("sp4n demo"));

    let wrong_token = dir.join("wrong-token");
    std::fs::write(&wrong_token, "{00000000-0000-4000-8000-000000000000}\n").unwrap();
    let cfg = config(dir, env.sim.base_url(), &wrong_token, env.sim.ca_file());
    let out = sp4n(&cfg, &["pull"]).await;
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert!(!text(&out).contains("00000000-0000-4000"), "token leaked");

    // A port where nothing listens: the platform is unavailable, nothing is done.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let sub = dir.join("down");
    std::fs::create_dir_all(&sub).unwrap();
    let cfg = config(
        &sub,
        &format!("https://127.0.0.1:{port}"),
        env.sim.token_file(),
        env.sim.ca_file(),
    );
    let out = sp4n(&cfg, &["pull"]).await;
    assert_eq!(out.status.code(), Some(4), "{}", text(&out));

    let help = sp4n(&cfg, &["--help"]).await;
    assert!(text(&help).contains("Exit codes:"));
    env.sim.shutdown().await;
}
