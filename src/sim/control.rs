//! The control API for tests and harnesses, on its own plain-HTTP listener bound to
//! loopback (never reachable through the platform API or with the token):
//!
//! - `GET /truth`: the whole world as JSON ([`GroundTruth`](super::GroundTruth)),
//!   including how many times each `ref` was applied;
//! - `GET /faults`, `POST /faults` (a [`Faults`] JSON document; replaces the faults and
//!   restarts their counters);
//! - `POST /clock` with `{"set": "<RFC 3339>"}` and/or `{"advance_seconds": n}` (driven
//!   clock only; the world ticks through the elapsed time);
//! - `POST /tick`: run the world's behaviour up to now; `GET /now`.

use super::faults::Faults;
use super::server::Shared;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use std::sync::Arc;

/// A clock change.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClockChange {
    pub set: Option<DateTime<Utc>>,
    pub advance_seconds: Option<i64>,
}

pub fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/truth", get(truth))
        .route("/faults", get(get_faults).post(set_faults))
        .route("/clock", post(clock))
        .route("/tick", post(tick))
        .route("/now", get(now))
        .with_state(shared)
}

async fn truth(State(s): State<Arc<Shared>>) -> Response {
    let now = s.tick();
    Json(s.world().ground_truth(now)).into_response()
}

async fn get_faults(State(s): State<Arc<Shared>>) -> Json<Faults> {
    Json(s.fault_state().faults.clone())
}

async fn set_faults(State(s): State<Arc<Shared>>, Json(f): Json<Faults>) -> StatusCode {
    apply_faults(&s, f);
    StatusCode::NO_CONTENT
}

/// Installs new faults (shared by the control API and the Rust API).
pub fn apply_faults(s: &Shared, f: Faults) {
    s.world().late_visibility_max_seconds = f.late_visibility_max_seconds;
    s.fault_state().set(f);
}

/// Moves a driven clock and ticks the world; `None` when the clock is real.
pub fn change_clock(s: &Shared, c: &ClockChange) -> Option<DateTime<Utc>> {
    if !s.clock.is_driven() {
        return None;
    }
    if let Some(t) = c.set {
        s.clock.set(t);
    }
    if let Some(secs) = c.advance_seconds {
        s.clock.advance(chrono::Duration::seconds(secs));
    }
    Some(s.tick())
}

async fn clock(State(s): State<Arc<Shared>>, Json(c): Json<ClockChange>) -> Response {
    match change_clock(&s, &c) {
        Some(now) => Json(serde_json::json!({ "now": now })).into_response(),
        None => (
            StatusCode::CONFLICT,
            "the simulator runs on the real clock; start it with --clock-start to drive time",
        )
            .into_response(),
    }
}

async fn tick(State(s): State<Arc<Shared>>) -> Json<serde_json::Value> {
    Json(serde_json::json!({ "now": s.tick() }))
}

async fn now(State(s): State<Arc<Shared>>) -> Json<serde_json::Value> {
    Json(serde_json::json!({ "now": s.clock.now() }))
}
