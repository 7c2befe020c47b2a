//! Hostile and careless input against the real `sp4n` binary (issue 14): every file read
//! is capped (`/dev/zero` ends with exit 2, not an OOM kill), a flood of connections that
//! never finish their headers cannot keep the API from answering, control characters are
//! refused at the command line, token roles name known OPDs, a duplicate token name is
//! the caller's error, and a world-readable token file warns (and stops `sp4n run`).

use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};

mod support;
use support::sp4n;

fn mappings() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("mappings")
}

/// A configuration with an unreachable upstream, a private token file, a store in `dir`
/// and `extra` appended (e.g. a `[server]` section).
fn config_with(dir: &Path, token_file: &Path, mappings: &Path, extra: &str) -> PathBuf {
    let text = format!(
        "[upstream]\nbase_url = \"https://127.0.0.1:9\"\ntoken_file = \"{}\"\nconnect_timeout_seconds = 1\ntotal_timeout_seconds = 2\n\n[store]\npath = \"{}\"\n\n[mappings]\ndir = \"{}\"\n{extra}\n",
        token_file.display(),
        dir.join("store").display(),
        mappings.display(),
    );
    let path = dir.join("sp4n.toml");
    std::fs::write(&path, text).unwrap();
    path
}

fn private_token(dir: &Path) -> PathBuf {
    let p = dir.join("upstream.token");
    std::fs::write(&p, "{3F2504E0-4F89-41D3-9A0C-0305E82C3301}\n").unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
    p
}

fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_file_read_is_capped_dev_zero_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let token = private_token(dir.path());
    let cfg = config_with(dir.path(), &token, &mappings(), "");
    let zero = Path::new("/dev/zero");

    let out = sp4n(&cfg, &["submit", "--file", "/dev/zero"]).await;
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("larger than"), "{}", stderr(&out));

    let out = sp4n(
        &cfg,
        &[
            "followup",
            "1916449",
            "--opd",
            "DINKES",
            "--text-file",
            "/dev/zero",
        ],
    )
    .await;
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("larger than"), "{}", stderr(&out));

    // The configuration itself.
    let out = sp4n(zero, &["status"]).await;
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("larger than"), "{}", stderr(&out));

    // The upstream token file.
    let cfg_zero_token = config_with(dir.path(), zero, &mappings(), "");
    let out = sp4n(&cfg_zero_token, &["pull"]).await;
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("larger than"), "{}", stderr(&out));

    // A mapping file.
    let m = dir.path().join("mappings");
    std::fs::create_dir(&m).unwrap();
    for f in std::fs::read_dir(mappings()).unwrap() {
        let f = f.unwrap();
        if f.file_type().unwrap().is_file() {
            std::fs::copy(f.path(), m.join(f.file_name())).unwrap();
        }
    }
    std::fs::remove_file(m.join("opd.toml")).unwrap();
    std::os::unix::fs::symlink(zero, m.join("opd.toml")).unwrap();
    let cfg_zero_map = config_with(dir.path(), &private_token(dir.path()), &m, "");
    let out = sp4n(&cfg_zero_map, &["mappings", "check"]).await;
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("larger than")
            || String::from_utf8_lossy(&out.stdout).contains("larger than")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn control_characters_are_refused_at_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let token = private_token(dir.path());
    let cfg = config_with(dir.path(), &token, &mappings(), "");
    let text = dir.path().join("followup.txt");
    std::fs::write(&text, b"Sudah\0ditambal.").unwrap();
    let mut args: Vec<&str> = vec!["followup", "1916449", "--opd", "DINKES", "--text-file"];
    let t = text.to_str().unwrap();
    args.push(t);
    let out = sp4n(&cfg, &args).await;
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("U+0000"), "{}", stderr(&out));

    let form = dir.path().join("form.toml");
    std::fs::write(
        &form,
        "judul = \"Jalan rusak\"\nisi = \"Lubang \\u001b[31m besar\"\nanonim = true\n",
    )
    .unwrap();
    let out = sp4n(&cfg, &["submit", "--file", form.to_str().unwrap()]).await;
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("U+001B"), "{}", stderr(&out));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_roles_name_known_opds_and_a_duplicate_name_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let token = private_token(dir.path());
    let cfg = config_with(dir.path(), &token, &mappings(), "");
    let out = sp4n(
        &cfg,
        &["token", "create", "--role", "opd:NOPE", "--name", "a"],
    )
    .await;
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("NOPE"), "{}", stderr(&out));

    let out = sp4n(
        &cfg,
        &[
            "--json",
            "token",
            "create",
            "--role",
            "opd:dinkes",
            "--name",
            "dinkes",
        ],
    )
    .await;
    assert!(out.status.success(), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["role"], "opd:DINKES", "normalised to the listed code");

    let out = sp4n(
        &cfg,
        &["token", "create", "--role", "viewer", "--name", "dinkes"],
    )
    .await;
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("exists"), "{}", stderr(&out));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_world_readable_token_file_warns_and_stops_the_agent() {
    let dir = tempfile::tempdir().unwrap();
    let token = private_token(dir.path());
    std::fs::set_permissions(&token, std::fs::Permissions::from_mode(0o644)).unwrap();
    let cfg = config_with(dir.path(), &token, &mappings(), "");
    // A one-shot command warns and goes on (here: the upstream is unreachable).
    let out = sp4n(&cfg, &["pull"]).await;
    assert!(stderr(&out).contains("chmod 600"), "{}", stderr(&out));
    assert!(
        !stderr(&out).contains("3F2504E0"),
        "the token is never printed"
    );
    // The agent refuses to start with it.
    let out = sp4n(&cfg, &["run", "--listen", "127.0.0.1:0"]).await;
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("chmod 600"), "{}", stderr(&out));
}

/// Starts `sp4n serve` with at most `nofile` file descriptors; returns it and its address.
async fn serve_limited(cfg: &Path, nofile: u64) -> (tokio::process::Child, String) {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_sp4n"));
    cmd.arg("--config")
        .arg(cfg)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .stderr(Stdio::piped());
    // SAFETY: setrlimit(2) between fork and exec, on the child only; no allocation.
    unsafe {
        cmd.pre_exec(move || {
            let lim = libc::rlimit {
                rlim_cur: nofile,
                rlim_max: nofile,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &lim) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut child = tokio::process::Command::from(cmd)
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
        if let Some(rest) = line.strip_prefix("Serving the API on http://") {
            let addr = rest.split('/').next().unwrap().to_string();
            tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
            return (child, addr);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_partial_headers_cannot_keep_the_api_from_answering() {
    const NOFILE: u64 = 128;
    const FLOOD: usize = 200;
    let dir = tempfile::tempdir().unwrap();
    let token = private_token(dir.path());
    let cfg = config_with(
        dir.path(),
        &token,
        &mappings(),
        "[server]\nmax_connections = 64\nheader_timeout_seconds = 1\n",
    );
    let out = sp4n(
        &cfg,
        &["token", "create", "--role", "admin", "--name", "admin"],
    )
    .await;
    assert!(out.status.success(), "{}", stderr(&out));
    let api_token = String::from_utf8(out.stdout).unwrap().trim().to_string();
    let (child, addr) = serve_limited(&cfg, NOFILE).await;

    // More connections than the server has descriptors, each stuck in its headers.
    let mut flood = Vec::with_capacity(FLOOD);
    for _ in 0..FLOOD {
        let mut s = tokio::net::TcpStream::connect(&addr).await.unwrap();
        s.write_all(b"GET /api/v1/complaints HTTP/1.1\r\nHost: x\r\nX-Slow: ")
            .await
            .unwrap();
        flood.push(s);
    }
    // A real request still gets its answer (bounded wait: a hang fails the test).
    let http = reqwest::Client::new();
    let r = tokio::time::timeout(
        Duration::from_secs(90),
        http.get(format!("http://{addr}/api/v1/complaints"))
            .bearer_auth(&api_token)
            .send(),
    )
    .await
    .expect("the API answered beside the flood")
    .unwrap();
    assert_eq!(r.status(), 200);
    // The server closed the first stalled connection (header timeout), it did not keep it.
    let mut buf = [0u8; 64];
    let n = tokio::time::timeout(Duration::from_secs(30), flood[0].read(&mut buf))
        .await
        .expect("the stalled connection was closed by the server");
    assert!(
        n.map(|n| n == 0).unwrap_or(true),
        "closed without an answer"
    );
    drop(flood);
    // SAFETY: kill(2) on the PID of the child this test started.
    unsafe { libc::kill(child.id().unwrap() as i32, libc::SIGTERM) };
    let status = child.wait_with_output().await.unwrap().status;
    assert!(status.success(), "{status}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_under_many_concurrent_requests_keeps_its_threads_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let token = private_token(dir.path());
    let cfg = config_with(dir.path(), &token, &mappings(), "");
    let out = sp4n(
        &cfg,
        &["token", "create", "--role", "admin", "--name", "admin"],
    )
    .await;
    assert!(out.status.success(), "{}", stderr(&out));
    let api_token = String::from_utf8(out.stdout).unwrap().trim().to_string();
    let (mut child, addr) = serve_limited(&cfg, 4096).await;
    let pid = child.id().unwrap();
    let http = reqwest::Client::new();
    let mut most = 0usize;
    for _ in 0..3 {
        let reqs: Vec<_> = (0..200)
            .map(|_| {
                http.get(format!("http://{addr}/api/v1/complaints"))
                    .bearer_auth(&api_token)
                    .send()
            })
            .collect();
        let answers = futures_util::future::join_all(reqs).await;
        assert!(
            answers
                .iter()
                .all(|r| r.as_ref().is_ok_and(|r| r.status() == 200))
        );
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
        let threads: usize = status
            .lines()
            .find_map(|l| l.strip_prefix("Threads:"))
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        most = most.max(threads);
    }
    assert!(
        most <= sp4n::cli::RUNTIME_THREAD_BUDGET,
        "{most} threads > {}",
        sp4n::cli::RUNTIME_THREAD_BUDGET
    );
    // SAFETY: kill(2) on the PID of the child this test started.
    unsafe { libc::kill(pid as i32, libc::SIGTERM) };
    assert!(child.wait().await.unwrap().success());
}
