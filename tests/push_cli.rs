//! The push commands as an administrator runs them: the real `sp4n` binary against an
//! in-test simulator over TLS. `sync` pulls and pushes with one report; `dispose`,
//! `followup`, `set-status` and `submit` queue checked input; `push` sends it exactly
//! once; exit codes follow the README (1 held, 2 bad input, 3 token refused, 4 platform
//! unavailable and nothing done); `outbox list/discard` show and settle held entries.

use chrono::{TimeZone, Utc};
use sp4n::model::Status;
use sp4n::sim::{ClockMode, Faults, SimHandle, SimOptions};
use sp4n::store::Store;
use std::path::{Path, PathBuf};

struct Cli {
    cfg: PathBuf,
    store: PathBuf,
}

struct Out {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Cli {
    async fn run(&self, args: &[&str]) -> Out {
        let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_sp4n"))
            .arg("--config")
            .arg(&self.cfg)
            .args(args)
            .output()
            .await
            .unwrap();
        Out {
            code: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into(),
            stderr: String::from_utf8_lossy(&out.stderr).into(),
        }
    }

    /// Open complaints in the store, lowest first (the store is closed again after).
    fn open_ids(&self, n: usize) -> Vec<u64> {
        let s = Store::open(&self.store).unwrap();
        let mut ids: Vec<u64> = s
            .list_complaints(&Default::default())
            .unwrap()
            .into_iter()
            .filter(|c| {
                c.in_stream
                    && matches!(
                        c.complaint.status,
                        Status::BelumDitindaklanjuti | Status::Proses
                    )
            })
            .map(|c| c.tracking_id())
            .collect();
        ids.sort();
        ids.truncate(n);
        ids
    }
}

fn config(dir: &Path, sim: &SimHandle, token_file: Option<&Path>) -> Cli {
    let up = sim.upstream_config();
    let store = dir.join("store");
    let cfg = dir.join(if token_file.is_some() {
        "bad.toml"
    } else {
        "sp4n.toml"
    });
    let token = token_file
        .map(Path::to_path_buf)
        .unwrap_or(up.token_file.unwrap());
    std::fs::write(
        &cfg,
        format!(
            "[upstream]\nbase_url = \"{}\"\ntoken_file = \"{}\"\nca_file = \"{}\"\npage_size = 500\n\n[store]\npath = \"{}\"\n\n[mappings]\ndir = \"{}\"\n",
            up.base_url.unwrap(),
            token.display(),
            up.ca_file.unwrap().display(),
            store.display(),
            Path::new(env!("CARGO_MANIFEST_DIR")).join("mappings").display()
        ),
    )
    .unwrap();
    Cli { cfg, store }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_push_commands_queue_check_send_and_settle() {
    let dir = tempfile::tempdir().unwrap();
    let mut so = SimOptions::new(91, 300, &dir.path().join("sim"));
    so.clock = ClockMode::Driven(Utc.with_ymd_and_hms(2026, 11, 20, 3, 0, 0).unwrap());
    so.events_per_day = 0;
    let sim = sp4n::sim::start(so).await.unwrap();
    let cli = config(dir.path(), &sim, None);

    let o = cli.run(&["sync", "--json", "--quiet"]).await;
    assert_eq!(o.code, Some(0), "{}", o.stderr);
    let r: serde_json::Value = serde_json::from_str(&o.stdout).unwrap();
    assert_eq!(r["run"]["job"], "sync");
    assert!(r["run"]["pulled"].as_u64().unwrap() > 0);
    assert_eq!(r["run"]["held"], 0);

    let [a, b] = cli.open_ids(2)[..] else {
        panic!("too few open complaints")
    };
    let (a_s, b_s) = (a.to_string(), b.to_string());
    assert_eq!(cli.run(&["dispose", &a_s, "DPUPKP"]).await.code, Some(0));
    let o = cli
        .run(&["followup", &a_s, "--opd", "DINKES", "--text", "Sudah."])
        .await;
    assert_eq!(o.code, Some(2));
    assert!(o.stderr.contains("routed to DPUPKP"), "{}", o.stderr);
    let o = cli
        .run(&["set-status", &a_s, "arsip", "--reason", "x"])
        .await;
    assert_eq!(o.code, Some(2));
    assert!(o.stderr.contains("cannot be set"), "{}", o.stderr);
    let text = dir.path().join("tl.txt");
    std::fs::write(&text, "Jalan sudah ditambal pada 25 November 2026.\n").unwrap();
    let o = cli
        .run(&[
            "followup",
            &a_s,
            "--opd",
            "DPUPKP",
            "--text-file",
            text.to_str().unwrap(),
        ])
        .await;
    assert_eq!(o.code, Some(0), "{}", o.stderr);
    let o = cli
        .run(&["set-status", &a_s, "selesai", "--reason", "Sudah dicek."])
        .await;
    assert_eq!(o.code, Some(0), "{}", o.stderr);
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/submit-example.toml");
    let o = cli
        .run(&["submit", "--file", fixture.to_str().unwrap()])
        .await;
    assert_eq!(o.code, Some(0), "{}", o.stderr);

    let o = cli.run(&["outbox", "list", "--json"]).await;
    assert_eq!(o.code, Some(0), "{}", o.stderr);
    let list: Vec<serde_json::Value> = serde_json::from_str(&o.stdout).unwrap();
    assert_eq!(list.len(), 4);
    assert!(
        !o.stdout.contains("warga@example.org"),
        "reporter identity listed"
    );
    let refs: Vec<String> = list
        .iter()
        .map(|e| e["ref"].as_str().unwrap().to_string())
        .collect();

    let o = cli.run(&["push", "--json"]).await;
    assert_eq!(o.code, Some(0), "{}", o.stderr);
    let r: serde_json::Value = serde_json::from_str(&o.stdout).unwrap();
    assert_eq!(r["push"]["sent"], 4, "{r}");
    let gt = sim.ground_truth();
    for rf in &refs {
        assert_eq!(gt.applied(rf), 1);
    }
    assert_eq!(gt.complaint(a).unwrap().status, Status::Selesai);

    // A conflict: held (exit 1), listed with the upstream status, discarded with a reason.
    assert_eq!(cli.run(&["dispose", &b_s, "DPUPKP"]).await.code, Some(0));
    assert_eq!(
        cli.run(&["followup", &b_s, "--opd", "DPUPKP", "--text", "Satu."])
            .await
            .code,
        Some(0)
    );
    assert_eq!(cli.run(&["push"]).await.code, Some(0));
    assert_eq!(
        cli.run(&["followup", &b_s, "--opd", "DPUPKP", "--text", "Dua."])
            .await
            .code,
        Some(0)
    );
    sim.advance(chrono::Duration::days(16));
    let o = cli.run(&["push"]).await;
    assert_eq!(o.code, Some(1), "{}{}", o.stdout, o.stderr);
    assert!(o.stdout.contains("ditahan 1"), "{}", o.stdout);
    let o = cli.run(&["outbox", "list", "--held"]).await;
    assert_eq!(o.code, Some(1));
    assert!(
        o.stdout.contains("STATUS_CONFLICT") && o.stdout.contains("status di platform: Selesai"),
        "{}",
        o.stdout
    );
    let o = cli.run(&["outbox", "list", "--held", "--json"]).await;
    let held: Vec<serde_json::Value> = serde_json::from_str(&o.stdout).unwrap();
    let seq = held[0]["id"].as_u64().unwrap().to_string();
    let o = cli
        .run(&[
            "outbox",
            "discard",
            &seq,
            "--reason",
            "Aduan sudah ditutup platform.",
        ])
        .await;
    assert_eq!(o.code, Some(0), "{}", o.stderr);
    assert_eq!(cli.run(&["outbox", "list", "--held"]).await.code, Some(0));
    {
        let s = Store::open(&cli.store).unwrap();
        let recorded = s.events(b).unwrap().into_iter().any(|e| {
            matches!(e.kind, sp4n::store::EventKind::OutboxDiscarded { ref reason, .. } if reason == "Aduan sudah ditutup platform.")
        });
        assert!(recorded, "discard not in the history");
    }

    // Exit codes: 3 when the token is refused, 4 when the platform is down and nothing
    // could be done; the entry survives both.
    // The platform moved on 16 days: read it again before choosing an open complaint.
    assert_eq!(cli.run(&["pull"]).await.code, Some(0));
    let c = cli.open_ids(3)[2].to_string();
    assert_eq!(cli.run(&["dispose", &c, "DINKES"]).await.code, Some(0));
    let bad_token = dir.path().join("bad-token");
    std::fs::write(&bad_token, "{00000000-0000-4000-8000-000000000000}").unwrap();
    let bad = config(dir.path(), &sim, Some(&bad_token));
    let o = bad.run(&["push"]).await;
    assert_eq!(o.code, Some(3), "{}{}", o.stdout, o.stderr);
    assert!(!o.stdout.contains("00000000-0000") && !o.stderr.contains("00000000-0000"));
    sim.set_faults(Faults {
        internal_every: 1,
        ..Faults::default()
    });
    assert_eq!(cli.run(&["push"]).await.code, Some(4));
    sim.set_faults(Faults::default());
    let o = cli.run(&["outbox", "list", "--json"]).await;
    let list: Vec<serde_json::Value> = serde_json::from_str(&o.stdout).unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["state"], "pending");
    assert!(list[0]["last_error"].as_str().unwrap().contains("INTERNAL"));

    // Exit 0 means nothing is left: while the entry waits out its backoff, `push` and
    // `sync` exit 1 and say so; `push --now` sends it at once, and only then is it 0.
    let o = cli.run(&["push", "--json"]).await;
    assert_eq!(o.code, Some(1), "{}{}", o.stdout, o.stderr);
    let r: serde_json::Value = serde_json::from_str(&o.stdout).unwrap();
    assert_eq!(
        (r["push"]["sent"].as_u64(), r["push"]["pending"].as_u64()),
        (Some(0), Some(1)),
        "{r}"
    );
    let o = cli.run(&["sync", "--quiet"]).await;
    assert_eq!(o.code, Some(1), "{}{}", o.stdout, o.stderr);
    assert!(o.stdout.contains("menunggu giliran"), "{}", o.stdout);
    let o = cli.run(&["push", "--now", "--json"]).await;
    assert_eq!(o.code, Some(0), "{}{}", o.stdout, o.stderr);
    let r: serde_json::Value = serde_json::from_str(&o.stdout).unwrap();
    assert_eq!(r["push"]["pending"], 0, "{r}");
}
