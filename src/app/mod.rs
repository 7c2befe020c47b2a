//! The application layer: what the command line, the agent and the local HTTP API do,
//! written once. Each function here is one job (pull, push, sync, reroute, rebuild, the
//! agent's scheduled jobs, its health and metrics) over the pipeline's stages; the callers
//! only parse their input and present the result.
//!
//! * [`context`]: from a configuration to what a job needs: the platform client, the
//!   mappings in force (the last valid revision when an edit broke the files), the
//!   platform's vocabulary.
//! * [`sync`]: pull, reconcile, push and sync, each recorded as a run report and a job run.
//! * [`agent`]: `sp4n run`: the scheduled jobs, `/healthz`, `/metrics`, signals.
//! * [`status`], [`report`], [`metrics`]: the snapshots people and monitors read.
//! * [`mappings`]: checking the mapping files, the platform's units and topics, adopt.
//! * [`reroute`]: moving stored complaints with the mappings in force.
//! * [`rebuild`]: exporting what exists only locally, restoring it into a fresh store.
//! * [`triage`]: the triage desk: what waits, and an administrator's assignment.
//!
//! Errors are [`AppError`]: typed, saying what to do and whether trying again may help.

pub mod agent;
pub mod context;
pub mod mappings;
pub mod metrics;
pub mod rebuild;
pub mod report;
pub mod reroute;
pub mod status;
pub mod sync;
pub mod triage;

mod error;

pub use error::AppError;
