//! The `sp4n` command; everything lives in [`sp4n::cli`].

fn main() -> std::process::ExitCode {
    sp4n::cli::main()
}
