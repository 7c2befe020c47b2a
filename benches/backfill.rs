//! Backfill benchmark: the real `sp4n pull` binary backfills N complaints (default
//! 100,000) from the simulator over loopback TLS into a fresh store. Reports complaints/s,
//! the child's peak RSS (getrusage RUSAGE_CHILDREN), the store's size on disk against the
//! raw XML size, the ratio to the plain fetch baseline, and an incremental pull with
//! everything stored and nothing new (in-process, and as a whole `sp4n pull` process).
//!
//! Run: `cargo bench --bench backfill` (env BENCH_COMPLAINTS, BENCH_PAGE_SIZE).

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

fn children_max_rss_kib() -> i64 {
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: getrusage fills the struct we own.
    unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut ru) };
    ru.ru_maxrss
}

fn main() {
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
                "[upstream]\nbase_url = \"{}\"\ntoken_file = \"{}\"\nca_file = \"{}\"\npage_size = {page_size}\n\n[store]\npath = \"{}\"\n",
                sim.base_url(),
                sim.token_file().display(),
                sim.ca_file().display(),
                store_path.display()
            ),
        )
        .unwrap();
        let run = |args: &'static [&'static str]| {
            let cfg = cfg.clone();
            async move {
                let t = Instant::now();
                let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_sp4n"))
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
        let rss_kib = children_max_rss_kib();
        let size = dir_size(&store_path);
        println!(
            "backfill: {n} complaints in {:.2} s = {:.0} complaints/s; {:.2}x the baseline",
            took.as_secs_f64(),
            n as f64 / took.as_secs_f64(),
            took.as_secs_f64() / base.as_secs_f64()
        );
        println!(
            "peak RSS of `sp4n pull`: {:.1} MiB (target <= 64 MiB)",
            rss_kib as f64 / 1024.0
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
