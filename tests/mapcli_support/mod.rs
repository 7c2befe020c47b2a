//! Shared by tests/cli_mappings.rs and tests/cli_triage.rs: run the real `sp4n` binary,
//! copy the shipped mapping files to a temporary folder, write a configuration that
//! points at the simulator.
#![allow(dead_code)]

use sp4n::sim::SimHandle;
use std::path::{Path, PathBuf};
use std::process::Stdio;

pub struct Out {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `sp4n [--config CFG] ARGS` as the OS user `admin-uji`, stdin not a terminal.
pub async fn sp4n(cfg: Option<&Path>, args: &[&str]) -> Out {
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_sp4n"));
    if let Some(c) = cfg {
        cmd.arg("--config").arg(c);
    }
    let out = cmd
        .args(args)
        .env_remove("SP4N_CONFIG")
        .env("USER", "admin-uji")
        .stdin(Stdio::null())
        .output()
        .await
        .unwrap();
    Out {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into(),
        stderr: String::from_utf8_lossy(&out.stderr).into(),
    }
}

/// A copy of the shipped mapping files (`DIR/mappings`) the test may edit.
pub fn copy_mappings(dir: &Path) -> PathBuf {
    let to = dir.join("mappings");
    std::fs::create_dir_all(&to).unwrap();
    let from = Path::new(env!("CARGO_MANIFEST_DIR")).join("mappings");
    for f in ["opd.toml", "rules.toml", "calendar.toml"] {
        std::fs::copy(from.join(f), to.join(f)).unwrap();
    }
    to
}

/// Writes `DIR/sp4n.toml` for the simulator, the store `DIR/store` and `mappings`.
pub fn write_config(dir: &Path, sim: &SimHandle, mappings: &Path, auto_dispose: bool) -> PathBuf {
    let up = sim.upstream_config();
    let cfg = dir.join("sp4n.toml");
    std::fs::write(
        &cfg,
        format!(
            "[upstream]\nbase_url = \"{}\"\ntoken_file = \"{}\"\nca_file = \"{}\"\npage_size = 500\n\n[store]\npath = \"{}\"\n\n[mappings]\ndir = \"{}\"\nauto_dispose = {auto_dispose}\n",
            up.base_url.unwrap(),
            up.token_file.unwrap().display(),
            up.ca_file.unwrap().display(),
            dir.join("store").display(),
            mappings.display()
        ),
    )
    .unwrap();
    cfg
}
