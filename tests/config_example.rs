//! The shipped example configuration parses, and means what its comments say.

use sp4n::config::Config;
use std::path::Path;

#[test]
fn example_config_parses_with_documented_values() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("sp4n.example.toml");
    let cfg = Config::load(&path).expect("sp4n.example.toml must parse");
    assert_eq!(
        cfg.upstream.base_url.as_deref(),
        Some("https://www.lapor.go.id")
    );
    assert_eq!(cfg.upstream.page_size, 100);
    assert_eq!(cfg.upstream.overlap_seconds, 600);
    assert_eq!(cfg.upstream.max_response_bytes, 8 * 1024 * 1024);
    assert_eq!(
        cfg.upstream.token_file.as_deref(),
        Some(Path::new("/etc/sp4n/token"))
    );
    assert_eq!(cfg.schedule.zone, "Asia/Jakarta");
    assert_eq!(cfg.server.listen, "127.0.0.1:8080");
    assert_eq!(cfg.store_path(), Path::new("/var/lib/sp4n/store"));
}

#[test]
fn example_config_with_a_typo_points_at_it() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("sp4n.example.toml");
    let text = std::fs::read_to_string(&path)
        .unwrap()
        .replace("overlap_seconds = 600", "overlap_secs = 600");
    let err = Config::parse(&path, &text).unwrap_err().to_string();
    let line = text
        .lines()
        .position(|l| l.starts_with("overlap_secs"))
        .unwrap()
        + 1;
    assert!(
        err.contains(&format!("sp4n.example.toml:{line}:1")),
        "{err}"
    );
    assert!(err.contains("unknown field `overlap_secs`"), "{err}");
}
