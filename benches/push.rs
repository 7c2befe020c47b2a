//! Push throughput to the simulator over loopback TLS: follow-ups queued for many
//! complaints (each complaint strictly in order, complaints concurrently), one
//! `push::run`, writes per second. Every write is flushed to disk twice (in flight, done),
//! as in production. Run with `cargo bench --bench push` (release profile).
//!
//! Arguments (optional): number of complaints (default 200), follow-ups each (default 10).

use chrono::{TimeZone, Utc};
use sp4n::mapping::Mappings;
use sp4n::model::Status;
use sp4n::pull::{FallbackRouter, Mode, PullOptions};
use sp4n::push::PushOptions;
use sp4n::push::input::{self, Disposition, FollowUp};
use sp4n::sim::{ClockMode, SimOptions};
use sp4n::store::Store;
use std::sync::Arc;
use std::time::Instant;

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let complaints = args.first().copied().unwrap_or(200);
    let per = args.get(1).copied().unwrap_or(10);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(bench(complaints, per));
}

async fn bench(complaints: usize, per: usize) {
    let dir = tempfile::tempdir().unwrap();
    let mut so = SimOptions::new(81, complaints * 12, &dir.path().join("sim"));
    so.clock = ClockMode::Driven(Utc.with_ymd_and_hms(2026, 11, 20, 3, 0, 0).unwrap());
    so.events_per_day = 0;
    let sim = sp4n::sim::start(so).await.unwrap();
    let client = sp4n::upstream::Client::new(&sim.upstream_config(), sim.token()).unwrap();
    let store = Store::open(&dir.path().join("store")).unwrap();
    let mut o = PullOptions::new(Mode::Pull);
    o.page_size = 500;
    sp4n::pull::pull(&store, &client, Arc::new(FallbackRouter), &o)
        .await
        .unwrap();
    let m = Mappings::load(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("mappings"))
        .unwrap()
        .0;
    let mut ids: Vec<u64> = store
        .list_complaints(&Default::default())
        .unwrap()
        .into_iter()
        .filter(|s| {
            s.in_stream
                && matches!(
                    s.complaint.status,
                    Status::BelumDitindaklanjuti | Status::Proses
                )
        })
        .map(|s| s.tracking_id())
        .collect();
    ids.sort();
    ids.truncate(complaints);
    // Route each complaint to DPUPKP first (not measured).
    for id in &ids {
        let d = Disposition {
            tracking_id: *id,
            opd: "DPUPKP".into(),
            note: None,
        };
        input::dispose(&store, &m, &d, "bench").unwrap();
    }
    sp4n::push::run(&store, &client, &PushOptions::default())
        .await
        .unwrap();
    for round in 0..per {
        for id in &ids {
            let f = FollowUp {
                tracking_id: *id,
                opd: "DPUPKP".into(),
                text: format!("Tindak lanjut ke-{round} untuk aduan {id}."),
            };
            input::followup(&store, &m, &f, "bench").unwrap();
        }
    }
    let writes = ids.len() * per;
    let t = Instant::now();
    let r = sp4n::push::run(&store, &client, &PushOptions::default())
        .await
        .unwrap();
    let secs = t.elapsed().as_secs_f64();
    assert_eq!(r.sent as usize, writes, "{r:?}");
    println!(
        "push: {writes} follow-ups on {} complaints in {secs:.2} s = {:.0} writes/s (concurrency {})",
        ids.len(),
        writes as f64 / secs,
        sp4n::push::DEFAULT_CONCURRENCY
    );
}
