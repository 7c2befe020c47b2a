//! End to end through the API: an OPD token posts a follow-up over HTTP, the push stage
//! delivers it to the simulator over TLS, and it lands on the platform exactly once, even
//! when the answer to the first send is lost and the platform ignores refs.

mod support;
use support::pull as pull_support;
use support::server as server_support;

use pull_support::{opts, start};
use sp4n::mapping::{MappingRouter, load_active};
use sp4n::model::Status;
use sp4n::pull::Mode;
use sp4n::push::PushOptions;
use sp4n::server::AppState;
use sp4n::sim::{FaultKind, Faults, ScriptedFault};
use std::path::Path;
use std::sync::Arc;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_opd_follow_up_through_the_api_lands_once_despite_a_lost_answer() {
    let env = start(23, 200, Faults::default()).await;
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("mappings");
    let active = load_active(&dir, &env.store).unwrap();
    let router = Arc::new(MappingRouter(active.mappings.clone()));
    sp4n::pull::pull(&env.store, &env.client, router, &opts(Mode::Pull))
        .await
        .unwrap();

    // A complaint that is open, already at an OPD unit upstream, routed locally to it.
    let target = env
        .store
        .list_complaints(&Default::default())
        .unwrap()
        .into_iter()
        .find(|s| {
            s.in_stream
                && s.complaint.status == Status::Proses
                && s.opd() != "ADMIN"
                && s.complaint.unit.is_some()
        })
        .expect("an open complaint routed to an OPD");
    let id = target.tracking_id();
    let opd = target.opd().to_string();
    let token = server_support::token(&env.store, "petugas", &format!("opd:{opd}"));
    let api = server_support::start(AppState::new(
        env.store.clone(),
        server_support::opds(),
        64 * 1024,
    ))
    .await;

    let text = format!("Tim {opd} sudah meninjau lokasi aduan {id} dan menjadwalkan perbaikan.");
    let r = reqwest::Client::new()
        .post(api.url(&format!("/api/v1/complaints/{id}/followups")))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body(serde_json::json!({ "text": text }).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 202, "{}", r.text().await.unwrap());
    let accepted: serde_json::Value = serde_json::from_slice(&r.bytes().await.unwrap()).unwrap();
    let reference = accepted["outbox"]["ref"].as_str().unwrap().to_string();

    // The platform applies the write but the answer never comes, and it ignores refs.
    env.sim.set_faults(Faults {
        ignore_ref: true,
        script: vec![ScriptedFault {
            kind: FaultKind::ApplyThenHang,
            endpoint: Some("addtindaklanjut".into()),
        }],
        ..Faults::default()
    });
    // The connector's clock follows the platform's (evidence compares the two); every
    // run sends what waits on backoff at once (`push --now`), so nothing sleeps.
    for _ in 0..3 {
        env.sim.advance(chrono::Duration::minutes(2));
        let po = PushOptions {
            clock: env.sim.clock_fn(),
            due_now: true,
            ..PushOptions::default()
        };
        sp4n::push::run(&env.store, &env.client, &po).await.unwrap();
    }

    let gt = env.truth();
    assert_eq!(
        gt.applied(&reference),
        1,
        "the follow-up's ref is applied once"
    );
    let c = gt.complaint(id).unwrap();
    let on_thread = c.thread.iter().filter(|t| t.isi == text).count();
    assert_eq!(
        on_thread, 1,
        "the follow-up is on the platform's thread once"
    );
    let entry = env.store.outbox_by_ref(&reference).unwrap().unwrap();
    assert_eq!(entry.state.name(), "done", "{entry:?}");
    api.shutdown().await.unwrap();
}
