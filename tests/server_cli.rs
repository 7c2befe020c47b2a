//! `sp4n token create|list|revoke` and `sp4n serve` as a real process: the token is printed
//! once and works against the served API, the list never shows a token or its hash, SIGTERM
//! stops the server cleanly, and a revoked token is refused.

mod support;
use support as cli_support;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use tokio::io::{AsyncBufReadExt, BufReader};

use cli_support::sp4n;

fn config(dir: &Path) -> PathBuf {
    let token_file = dir.join("upstream.token");
    std::fs::write(&token_file, "dummy-upstream-token\n").unwrap();
    let text = format!(
        "[upstream]\nbase_url = \"https://127.0.0.1:9\"\ntoken_file = \"{}\"\n\n[store]\npath = \"store\"\n\n[mappings]\ndir = \"{}/mappings\"\n",
        token_file.display(),
        env!("CARGO_MANIFEST_DIR")
    );
    let path = dir.join("sp4n.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// Starts `sp4n serve` on a free port; returns the child and the API's base URL once the
/// ready line was printed.
async fn serve(cfg: &Path) -> (tokio::process::Child, String) {
    let mut child = support::command(Some(cfg))
        .args(["serve", "--listen", "127.0.0.1:0"])
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    loop {
        let line = lines
            .next_line()
            .await
            .unwrap()
            .expect("serve printed its address");
        if let Some(rest) = line.strip_prefix("Serving the API on ") {
            let url = rest.split_whitespace().next().unwrap().to_string();
            tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
            return (child, url);
        }
    }
}

async fn stop(mut child: tokio::process::Child) {
    let pid = child.id().unwrap() as i32;
    // SAFETY: kill(2) on the PID of a child this test started.
    unsafe { libc::kill(pid, libc::SIGTERM) };
    let status = child.wait().await.unwrap();
    assert!(status.success(), "serve exits 0 on SIGTERM: {status}");
}

async fn get_status(url: &str, token: &str) -> u16 {
    reqwest::Client::new()
        .get(format!("{url}/complaints"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_are_shown_once_work_and_can_be_revoked() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path());

    let out = sp4n(
        &cfg,
        &[
            "token",
            "create",
            "--role",
            "opd:DINKES",
            "--name",
            "dinkes-op",
        ],
    )
    .await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let token = String::from_utf8(out.stdout).unwrap().trim().to_string();
    assert!(
        token.starts_with("sp4n_") && !token.contains('\n'),
        "{token}"
    );

    let bad = sp4n(&cfg, &["token", "create", "--role", "root", "--name", "x"]).await;
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("opd:CODE"));
    let dup = sp4n(
        &cfg,
        &["token", "create", "--role", "viewer", "--name", "dinkes-op"],
    )
    .await;
    assert!(!dup.status.success());

    let list = sp4n(&cfg, &["token", "list"]).await;
    let text = String::from_utf8_lossy(&list.stdout).into_owned();
    assert!(
        text.contains("dinkes-op") && text.contains("opd:DINKES"),
        "{text}"
    );
    assert!(!text.contains(&token[5..]), "the list shows the token");
    assert!(
        !text.contains(&sp4n::server::auth::hash_token(&token)),
        "the list shows the hash"
    );
    let json = sp4n(&cfg, &["--json", "token", "list"]).await;
    let json = String::from_utf8_lossy(&json.stdout).into_owned();
    assert!(json.contains("dinkes-op") && !json.contains(&sp4n::server::auth::hash_token(&token)));

    let (child, url) = serve(&cfg).await;
    assert_eq!(get_status(&url, &token).await, 200);
    assert_eq!(get_status(&url, "sp4n_not-a-token").await, 401);
    stop(child).await;

    let rev = sp4n(&cfg, &["token", "revoke", "dinkes-op"]).await;
    assert!(rev.status.success());
    let again = sp4n(&cfg, &["token", "revoke", "dinkes-op"]).await;
    assert_eq!(again.status.code(), Some(2));

    let (child, url) = serve(&cfg).await;
    assert_eq!(get_status(&url, &token).await, 401);
    stop(child).await;
}
