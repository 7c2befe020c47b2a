//! Load on the API's list endpoint over loopback: a small tokio client loop (no external
//! tool) keeps `CONNECTIONS` keep-alive connections busy for `SECONDS` and reports
//! requests per second and latency percentiles.
//!
//! Run: `cargo bench --bench api` (environment: SP4N_BENCH_COMPLAINTS, default 5000;
//! SP4N_BENCH_SECONDS, default 10; SP4N_BENCH_CONNECTIONS, default 32).

#[path = "../tests/support/mod.rs"]
mod support;
use support::server as server_support;

use server_support::*;
use sp4n::model::Status;
use sp4n::server::AppState;
use sp4n::store::Store;
use std::time::{Duration, Instant};

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let complaints = env_or("SP4N_BENCH_COMPLAINTS", 5000);
    let seconds = env_or("SP4N_BENCH_SECONDS", 10) as u64;
    let connections = env_or("SP4N_BENCH_CONNECTIONS", 32);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("store")).unwrap();
        let opd_codes = ["DINKES", "DISHUB", "DPUPKP", "DLH", "ADMIN"];
        let items = (0..complaints as u64)
            .map(|i| {
                let st = if i % 4 == 0 { Status::Selesai } else { Status::Proses };
                stored(complaint(3_000_000 + i, i % 7 == 0, st), opd_codes[i as usize % 5])
            })
            .collect();
        seed(&store, items);
        let tok = token(&store, "bench-admin", "admin");
        let api = start(AppState::new(store, opds(), 64 * 1024)).await;
        let url = api.url("/api/v1/complaints?status=proses&page=2&per_page=50");
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(connections)
            .build()
            .unwrap();
        // Warm-up: the first request builds the list snapshot.
        let r = client.get(&url).bearer_auth(&tok).send().await.unwrap();
        assert_eq!(r.status(), 200);
        let deadline = Instant::now() + Duration::from_secs(seconds);
        let started = Instant::now();
        let mut tasks = Vec::new();
        for _ in 0..connections {
            let client = client.clone();
            let url = url.clone();
            let tok = tok.clone();
            tasks.push(tokio::spawn(async move {
                let mut lat = Vec::with_capacity(1 << 16);
                let mut errors = 0u64;
                while Instant::now() < deadline {
                    let t = Instant::now();
                    match client.get(&url).bearer_auth(&tok).send().await {
                        Ok(r) if r.status() == 200 => {
                            let _ = r.bytes().await;
                            lat.push(t.elapsed());
                        }
                        _ => errors += 1,
                    }
                }
                (lat, errors)
            }));
        }
        let mut all = Vec::new();
        let mut errors = 0;
        for t in tasks {
            let (l, e) = t.await.unwrap();
            all.extend(l);
            errors += e;
        }
        let elapsed = started.elapsed().as_secs_f64();
        all.sort();
        let pct = |p: f64| {
            all.get(((all.len() as f64 * p) as usize).min(all.len().saturating_sub(1)))
                .map(|d| d.as_secs_f64() * 1000.0)
                .unwrap_or(0.0)
        };
        println!(
            "api list: {complaints} complaints, {connections} connections, {seconds} s: {} requests, {:.0} req/s, p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms, errors {errors}",
            all.len(),
            all.len() as f64 / elapsed,
            pct(0.50),
            pct(0.99),
            pct(1.0)
        );
        api.shutdown().await.unwrap();
    });
}
