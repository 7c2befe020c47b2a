//! For the mapping commands' tests: the binary with text output, a copy of the shipped
//! mapping files to edit, a configuration with them.
#![allow(dead_code)]

use sp4n::sim::SimHandle;
use std::path::{Path, PathBuf};

#[allow(unused_imports)]
pub use super::{Out, sp4n_text as sp4n};

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
    let c = super::ConfigFile {
        mappings: mappings.to_path_buf(),
        auto_dispose,
        ..Default::default()
    };
    super::write_config(dir, sim, &c)
}
