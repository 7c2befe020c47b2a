//! Backfill benchmark: the real `sp4n pull` binary backfills N complaints (default
//! 100,000) from the simulator over loopback TLS into a fresh store. Reports complaints/s,
//! the child's peak RSS (getrusage RUSAGE_CHILDREN), the store's size on disk against the
//! raw XML size, the ratio to the plain fetch baseline, and an incremental pull with
//! everything stored and nothing new (in-process, and as a whole `sp4n pull` process).
//!
//! Run: `cargo bench --bench backfill` (env BENCH_COMPLAINTS, BENCH_PAGE_SIZE, BENCH_WRAP).
//!
//! Peak memory is measured with care: Linux records a child's peak RSS from the memory
//! of the process it was spawned from, so a child spawned by this benchmark (which holds
//! the simulator's whole world) would report this process's size. The benchmark therefore
//! re-executes itself as a small measuring parent (`BENCH_MEASURE_CHILD`) that spawns
//! `sp4n` and reports that child's own rusage (`wait4`).

#[path = "fetch_baseline.rs"]
#[allow(dead_code)]
mod fetch_baseline;

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

fn dir_size(p: &Path) -> u64 {
    let mut total = 0;
    for e in std::fs::read_dir(p).unwrap() {
        let e = e.unwrap();
        let m = e.metadata().unwrap();
        total += if m.is_dir() {
            dir_size(&e.path())
        } else {
            m.len()
        };
    }
    total
}

fn secs(t: libc::timeval) -> f64 {
    t.tv_sec as f64 + t.tv_usec as f64 / 1e6
}

/// The measuring parent: runs its arguments as a command, waits for it with `wait4` and
/// writes `maxrss_kib user_s system_s` to the file named by `BENCH_MEASURE_CHILD`.
/// Exits with the child's exit code.
fn measure_child(report: &str) -> ! {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let child = std::process::Command::new(&args[0])
        .args(&args[1..])
        .spawn()
        .expect("spawn the measured command");
    let mut status = 0;
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: wait4 on our own child, filling structs we own.
    let pid = unsafe { libc::wait4(child.id() as libc::pid_t, &mut status, 0, &mut ru) };
    assert!(pid > 0, "wait4 failed");
    std::fs::write(
        report,
        format!(
            "{} {} {}",
            ru.ru_maxrss,
            secs(ru.ru_utime),
            secs(ru.ru_stime)
        ),
    )
    .unwrap();
    std::process::exit(if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        1
    });
}

fn main() {
    if let Ok(report) = std::env::var("BENCH_MEASURE_CHILD") {
        measure_child(&report);
    }
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let n = fetch_baseline::complaints();
        let page_size: u32 = std::env::var("BENCH_PAGE_SIZE")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(500);
        let dir = tempfile::tempdir().unwrap();
        let t = Instant::now();
        let sim = fetch_baseline::start_sim(&dir.path().join("sim"), n).await;
        println!("simulator with {n} complaints ready in {:.1} s", t.elapsed().as_secs_f64());

        let (pages, xml_bytes, base) = fetch_baseline::fetch_all(&sim, page_size).await;
        println!(
            "baseline fetch: {pages} pages, {:.1} MiB XML, {:.2} s",
            xml_bytes as f64 / 1048576.0,
            base.as_secs_f64()
        );

        let store_path = dir.path().join("store");
        let cfg = dir.path().join("sp4n.toml");
        std::fs::write(
            &cfg,
            format!(
                "[upstream]\nbase_url = \"{}\"\ntoken_file = \"{}\"\nca_file = \"{}\"\npage_size = {page_size}\n\n[store]\npath = \"{}\"\n\n[mappings]\ndir = \"{}\"\n",
                sim.base_url(),
                sim.token_file().display(),
                sim.ca_file().display(),
                store_path.display(),
                Path::new(env!("CARGO_MANIFEST_DIR")).join("mappings").display()
            ),
        )
        .unwrap();
        let usage_file = dir.path().join("usage");
        let run = |args: &'static [&'static str]| {
            let cfg = cfg.clone();
            let usage_file = usage_file.clone();
            async move {
                let t = Instant::now();
                // BENCH_WRAP runs the binary under a tool, e.g.
                // BENCH_WRAP="valgrind --tool=massif --massif-out-file=/tmp/massif.out".
                let wrap = std::env::var("BENCH_WRAP").unwrap_or_default();
                let words = wrap.split_whitespace();
                let mut cmd = tokio::process::Command::new(std::env::current_exe().unwrap());
                cmd.env("BENCH_MEASURE_CHILD", &usage_file);
                cmd.args(words).arg(env!("CARGO_BIN_EXE_sp4n"));
                let out = cmd
                    .arg("--config")
                    .arg(&cfg)
                    .args(args)
                    .output()
                    .await
                    .unwrap();
                assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
                t.elapsed()
            }
        };
        let took = run(&["pull", "--quiet"]).await;
        let usage = std::fs::read_to_string(&usage_file).unwrap();
        let usage: Vec<f64> = usage.split(' ').map(|w| w.parse().unwrap()).collect();
        let (rss_kib, user_s, system_s) = (usage[0], usage[1], usage[2]);
        let size = dir_size(&store_path);
        println!(
            "backfill: {n} complaints in {:.2} s = {:.0} complaints/s; {:.2}x the baseline",
            took.as_secs_f64(),
            n as f64 / took.as_secs_f64(),
            took.as_secs_f64() / base.as_secs_f64()
        );
        println!(
            "CPU time of `sp4n pull`: {:.2} s user + {:.2} s system (load does not distort it)",
            user_s, system_s
        );
        println!(
            "peak RSS of `sp4n pull`: {:.1} MiB (target <= 64 MiB)",
            rss_kib / 1024.0
        );
        println!(
            "store on disk: {:.1} MiB = {:.2}x the raw XML (target <= 3x)",
            size as f64 / 1048576.0,
            size as f64 / xml_bytes as f64
        );

        let whole = run(&["pull", "--quiet"]).await;
        println!(
            "incremental pull, nothing new, whole `sp4n pull` process: {:.1} ms",
            whole.as_secs_f64() * 1000.0
        );
        let store = sp4n::store::Store::open(&store_path).unwrap();
        let client =
            sp4n::upstream::Client::new(&sim.upstream_config(), sim.token()).unwrap();
        let mut o = sp4n::pull::PullOptions::new(sp4n::pull::Mode::Pull);
        o.page_size = page_size;
        let mut best = f64::MAX;
        for _ in 0..5 {
            let t = Instant::now();
            let r = sp4n::pull::pull(&store, &client, Arc::new(sp4n::pull::FallbackRouter), &o)
                .await
                .unwrap();
            assert_eq!(r.new + r.changed, 0);
            best = best.min(t.elapsed().as_secs_f64() * 1000.0);
        }
        println!(
            "incremental pull, nothing new, in-process with {} stored: {best:.1} ms (best of 5; target <= 100 ms)",
            store.complaint_count()
        );
        sim.shutdown().await;
    });
}
