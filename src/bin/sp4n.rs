//! The `sp4n` command; everything lives in [`sp4n::cli`].

fn main() -> std::process::ExitCode {
    limit_malloc_arenas();
    sp4n::cli::main()
}

/// glibc gives each thread that allocates its own arena (up to 8 per core) and keeps the
/// memory freed in each: the pull's tokio workers, blocking threads and sled's threads
/// made peak memory vary between runs by a third. Two arenas keep it low and steady.
/// Must run before any thread starts.
fn limit_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets an allocator parameter; no thread exists yet.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
        libc::mallopt(libc::M_MMAP_THRESHOLD, 256 * 1024);
    }
}
