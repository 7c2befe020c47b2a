//! The shipped production configuration (deploy/sp4n.toml) parses, keeps the token out of
//! the file, and its [schedule] lines are valid cron lines in WIB.

use sp4n::config::Config;
use std::path::Path;

#[test]
fn the_production_config_parses_and_its_schedule_is_valid() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/sp4n.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    let cfg = Config::parse(&path, &text).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        cfg.upstream.token_file.as_deref(),
        Some(Path::new("/etc/sp4n/token"))
    );
    assert!(cfg.upstream.token_env.is_none());
    assert_eq!(cfg.store_path(), Path::new("/var/lib/sp4n/store"));
    assert!(sp4n::schedule::config_diagnostics(&cfg.schedule, &path, &text).is_empty());
    let jobs: Vec<&str> = sp4n::schedule::schedules_from_config(&cfg.schedule)
        .unwrap()
        .iter()
        .map(|(name, s)| {
            assert_eq!(s.zone(), sp4n::model::WIB);
            *name
        })
        .collect();
    assert_eq!(jobs, ["pull", "push", "reconcile"]);
}
