//! Store problems end in a clear message and exit code 5, never a panic: locked by another
//! process (the message names its PID), another format version, a damaged store.

use sp4n::store::{FORMAT_FILE, Store};
use std::path::Path;
use std::process::{Command, Output};

fn sp4n(config: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sp4n"))
        .arg("--config")
        .arg(config)
        .args(args)
        .output()
        .expect("run sp4n")
}

fn setup() -> (tempfile::TempDir, std::path::PathBuf, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let cfg = dir.path().join("sp4n.toml");
    std::fs::write(&cfg, "[store]\npath = \"store\"\n").unwrap();
    (dir, store, cfg)
}

fn assert_store_error(out: &Output, needle: &str) -> String {
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(5), "stderr: {err}");
    assert!(err.contains(needle), "expected '{needle}' in: {err}");
    assert!(!err.contains("panicked"), "panic: {err}");
    err
}

#[test]
fn locked_store_names_the_holding_process() {
    let (_d, store, cfg) = setup();
    let _held = Store::open(&store).unwrap();
    let out = sp4n(&cfg, &["complaints", "list"]);
    assert_store_error(&out, &format!("PID {}", std::process::id()));
}

#[test]
fn other_format_version_is_refused() {
    let (_d, store, cfg) = setup();
    drop(Store::open(&store).unwrap());
    std::fs::write(store.join(FORMAT_FILE), "sp4n-store 1\n").unwrap();
    let out = sp4n(&cfg, &["complaints", "list"]);
    assert_store_error(&out, "format version 1");
}

#[test]
fn damaged_store_names_the_recovery_command() {
    let (_d, store, cfg) = setup();
    {
        let s = Store::open(&store).unwrap();
        s.put_meta(b"x", &"y").unwrap();
    }
    // Overwrite every sled file with garbage.
    for entry in std::fs::read_dir(&store).unwrap() {
        let p = entry.unwrap().path();
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        if p.is_file() && name != FORMAT_FILE && name != "LOCK" {
            std::fs::write(&p, vec![0xA5u8; 4096]).unwrap();
        }
    }
    let out = sp4n(&cfg, &["complaints", "list"]);
    assert_store_error(&out, "sp4n store rebuild");
    // The library gives the same typed error.
    let e = Store::open(&store).unwrap_err();
    assert!(matches!(e, sp4n::store::StoreError::Damaged { .. }), "{e}");
}

#[test]
fn missing_format_file_on_an_existing_store_is_damage() {
    let (_d, store, cfg) = setup();
    drop(Store::open(&store).unwrap());
    std::fs::remove_file(store.join(FORMAT_FILE)).unwrap();
    let out = sp4n(&cfg, &["complaints", "list"]);
    assert_store_error(&out, "damaged");
}
