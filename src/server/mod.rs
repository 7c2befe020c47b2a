//! The local HTTP API (`sp4n serve`, and inside `sp4n run`): JSON under `/api/v1` for
//! administrators, OPD staff and national coordinators, plus `/healthz` and `/metrics`.
//!
//! It owns authentication (bearer tokens with roles, [`auth`]), authorization per
//! complaint, request size limits and JSON errors a person can act on.

pub mod auth;
