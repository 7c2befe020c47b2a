//! Baseline for the backfill benchmark: a plain HTTP client that fetches every
//! `getstream` page from the simulator over loopback TLS and discards it (it only finds
//! the `<lanjut>` key to ask for the next page). The pull may take at most 1.5x this.
//!
//! Run: `cargo bench --bench fetch_baseline` (env BENCH_COMPLAINTS, default 100000).

use chrono::TimeZone;
use sp4n::model::StreamKey;
use std::time::{Duration, Instant};

/// Fetches all pages; returns (pages, bytes, elapsed).
pub async fn fetch_all(sim: &sp4n::sim::SimHandle, page_size: u32) -> (u64, u64, Duration) {
    let ca = std::fs::read(sim.ca_file()).unwrap();
    let http = reqwest::Client::builder()
        .tls_certs_merge(reqwest::Certificate::from_pem_bundle(&ca).unwrap())
        .build()
        .unwrap();
    let token = sim.token();
    let url = format!("{}/api/stream/getstream", sim.base_url());
    let mut key = StreamKey::since(chrono::Utc.with_ymd_and_hms(2000, 1, 1, 0, 0, 0).unwrap());
    let (mut pages, mut bytes) = (0u64, 0u64);
    let start = Instant::now();
    loop {
        let body = sp4n::upstream::xml::write_getstream_request(token.expose(), &key, page_size);
        let resp = http
            .post(&url)
            .header("content-type", "text/xml; charset=UTF-8")
            .body(body)
            .send()
            .await
            .unwrap();
        let text = resp.text().await.unwrap();
        pages += 1;
        bytes += text.len() as u64;
        match next_key(&text) {
            Some(k) => key = k,
            None => break,
        }
    }
    (pages, bytes, start.elapsed())
}

fn attr<'a>(s: &'a str, name: &str) -> Option<&'a str> {
    let start = s.find(&format!("{name}=\""))? + name.len() + 2;
    let end = s[start..].find('"')? + start;
    Some(&s[start..end])
}

fn next_key(text: &str) -> Option<StreamKey> {
    let at = text.rfind("<lanjut ")?;
    let tail = &text[at..];
    Some(StreamKey {
        sejak: sp4n::model::parse_timestamp(attr(tail, "sejak")?).ok()?,
        setelah: attr(tail, "setelah").and_then(|s| s.parse().ok()),
    })
}

pub fn complaints() -> usize {
    std::env::var("BENCH_COMPLAINTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000)
}

pub async fn start_sim(dir: &std::path::Path, n: usize) -> sp4n::sim::SimHandle {
    let mut so = sp4n::sim::SimOptions::new(7, n, dir);
    so.clock =
        sp4n::sim::ClockMode::Driven(chrono::Utc.with_ymd_and_hms(2026, 11, 20, 3, 0, 0).unwrap());
    sp4n::sim::start(so).await.unwrap()
}

#[allow(dead_code)]
fn main() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let n = complaints();
        let sim = start_sim(dir.path(), n).await;
        for page_size in [500u32, 100] {
            let (pages, bytes, took) = fetch_all(&sim, page_size).await;
            println!(
                "fetch_baseline: {n} complaints, page size {page_size}: {pages} pages, {:.1} MiB, {:.2} s, {:.0} complaints/s",
                bytes as f64 / 1048576.0,
                took.as_secs_f64(),
                n as f64 / took.as_secs_f64()
            );
        }
        sim.shutdown().await;
    });
}
