//! Benchmark: parsing one `getstream` page of 500 realistic complaints (from the
//! simulator's world, written by its XML writer) into typed values, on one core.
//! Reports complaints per second and MB/s. Target: at least 100 MB/s.
//!
//! Both wall-clock and this thread's CPU time are measured: on a shared, oversubscribed
//! machine the CPU time is the honest "one core" figure.
//!
//! Run: `cargo bench --bench parse_stream`

use sp4n::model::{StatusLabels, StreamKey};
use sp4n::sim::World;
use sp4n::upstream::xml::{self, Outcome};
use std::hint::black_box;
use std::time::{Duration, Instant};

fn main() {
    let now = sp4n::model::parse_timestamp("2026-11-23T09:00:00+07:00").unwrap();
    let world = World::new(7, 2000, now, 0);
    let since = StreamKey::since(sp4n::model::parse_timestamp("2020-01-01T00:00:00Z").unwrap());
    let page = world.page(&since, 500, now);
    assert_eq!(page.items.len(), 500);
    let labels = StatusLabels::default();
    let text = xml::write_stream_page(&page.items, page.next.as_ref(), &labels);
    let bytes = text.len();

    let parse = || match xml::parse_stream_page(black_box(&text), &labels) {
        Ok(Outcome::Ok(p)) => {
            assert_eq!(p.items.len(), 500);
            black_box(p);
        }
        _ => panic!("the page must parse"),
    };
    // Warm up, then measure for about three seconds in rounds, keeping the best round.
    for _ in 0..20 {
        parse();
    }
    let mut best = Duration::MAX;
    let mut best_cpu = Duration::MAX;
    let mut total_iters = 0u32;
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(3) {
        let iters = 20;
        let t = Instant::now();
        let c = thread_cpu();
        for _ in 0..iters {
            parse();
        }
        best_cpu = best_cpu.min((thread_cpu() - c) / iters);
        best = best.min(t.elapsed() / iters);
        total_iters += iters;
    }
    println!("getstream page: 500 complaints, {bytes} bytes ({total_iters} parses)");
    for (what, d) in [("wall clock", best), ("thread CPU", best_cpu)] {
        let secs = d.as_secs_f64();
        println!(
            "  {what:>10}: {:.3} ms/page, {:.0} complaints/s, {:.1} MB/s",
            secs * 1e3,
            500.0 / secs,
            bytes as f64 / secs / 1e6
        );
    }
}

/// CPU time consumed by this thread so far.
fn thread_cpu() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one timespec into the pointer we pass.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}
