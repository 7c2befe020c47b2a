//! The README's two top commands must work on a fresh machine. Running `cargo run` inside
//! the test suite would rebuild the crate, so this checks what makes them work: with two
//! binaries, `cargo run -- demo` needs `default-run = "sp4n"`, and the test command is the
//! one CI runs.

use std::path::Path;

fn read(name: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(name)).unwrap()
}

#[test]
fn the_readme_top_commands_are_runnable() {
    let readme = read("README.md");
    let block: Vec<&str> = readme
        .split("```sh\n")
        .nth(1)
        .and_then(|b| b.split("```").next())
        .expect("the README starts with a sh block")
        .lines()
        .collect();
    assert!(
        block[0].starts_with("cargo run --release -- demo"),
        "{block:?}"
    );
    assert!(block[1].starts_with("cargo test --locked"), "{block:?}");

    let manifest: toml::Table = toml::from_str(&read("Cargo.toml")).unwrap();
    let bins = manifest["bin"].as_array().unwrap().len();
    if bins > 1 {
        assert_eq!(
            manifest["package"]
                .get("default-run")
                .and_then(|v| v.as_str()),
            Some("sp4n"),
            "`cargo run -- demo` needs default-run with {bins} binaries"
        );
    }
    assert!(read(".ci/run").contains("cargo test --locked"));
}
