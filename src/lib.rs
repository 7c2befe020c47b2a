//! sp4n-connector: federates Pemerintah Kabupaten Kulon Progo with SP4N-LAPOR!.
//!
//! One module per stage of the pipeline (see `docs/ARCHITECTURE.md`):
//! `upstream` speaks the platform's API, `store` keeps everything on disk, `pull` brings
//! complaints in, `mapping` routes them to OPDs, `push` sends local decisions back,
//! `sla` runs the working-day clocks, `report` tells people how things stand, `schedule`
//! runs the jobs, `server` is the local HTTP API, `sim` is the bundled platform simulator,
//! `app` composes the stages into the jobs the command line, the agent and the API run,
//! and `cli` is the command line.

pub mod app;
pub mod cli;
pub mod config;
pub mod diag;
pub mod limits;
pub mod mapping;
pub mod model;
pub mod pull;
pub mod push;
pub mod report;
pub mod schedule;
pub mod server;
pub mod sim;
pub mod sla;
pub mod store;
pub mod upstream;
