//! Running the real `sp4n` binary in tests: one place for how a command is started.
#![allow(dead_code)]

use std::path::Path;
use std::process::Output;

/// Runs `sp4n --config CFG ARGS…` to completion and returns what it printed.
pub async fn sp4n(cfg: &Path, args: &[&str]) -> Output {
    tokio::process::Command::new(env!("CARGO_BIN_EXE_sp4n"))
        .arg("--config")
        .arg(cfg)
        .args(args)
        .output()
        .await
        .unwrap()
}
