//! The local HTTP API (`sp4n serve`, and inside `sp4n run`): JSON under `/api/v1` for
//! administrators, OPD staff and national coordinators, plus `/healthz` and `/metrics`.
//!
//! It owns authentication (bearer tokens with roles, [`auth`]), authorization per
//! complaint, request size limits and JSON errors a person can act on. It never logs a
//! request body, a token, reporter identity or rahasia content: one line per request with
//! the method, the route template, the status, the latency and the caller's role.
//! Writes go to the push outbox through [`actions`] and are answered only after the
//! store flushed the entry.

pub mod actions;
pub mod auth;
mod error;
mod handlers;
mod listen;

pub use actions::OpdDirectory;
pub use error::ApiError;
pub use listen::{ServeLimits, serve_limited};

use crate::store::Store;
use auth::Role;
use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::header;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long open connections may finish after shutdown was asked for.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);
/// How old the complaint list snapshot may be before it is rebuilt.
pub const DEFAULT_LIST_TTL: Duration = Duration::from_secs(1);

/// What every request handler shares. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub(crate) inner: Arc<StateInner>,
}

pub(crate) struct StateInner {
    pub store: Store,
    pub opds: OpdDirectory,
    pub max_body_bytes: usize,
    pub list: handlers::ListCache,
}

impl AppState {
    /// The state of an API over `store`, with the OPDs of the mapping files and the body
    /// limit of `[server] max_body_bytes`.
    pub fn new(store: Store, opds: OpdDirectory, max_body_bytes: usize) -> AppState {
        AppState::with_list_ttl(store, opds, max_body_bytes, DEFAULT_LIST_TTL)
    }

    /// As [`AppState::new`], with how stale the complaint list may be (zero: always
    /// read the store).
    pub fn with_list_ttl(
        store: Store,
        opds: OpdDirectory,
        max_body_bytes: usize,
        list_ttl: Duration,
    ) -> AppState {
        AppState {
            inner: Arc::new(StateInner {
                store,
                opds,
                max_body_bytes,
                list: handlers::ListCache::new(list_ttl),
            }),
        }
    }

    pub fn store(&self) -> &Store {
        &self.inner.store
    }
}

/// The authenticated caller of a request.
#[derive(Clone, Debug)]
pub struct Caller {
    /// The token's name (recorded as who asked for an outbox entry).
    pub name: String,
    pub role: Role,
}

/// The role recorded on the response, for the request log.
#[derive(Clone, Debug)]
struct LoggedRole(String);

/// The API routes (`/api/v1/...`) with authentication, limits, JSON errors and request
/// logging.
pub fn router(state: AppState) -> Router {
    router_with(state, Router::new())
}

/// As [`router`], with `extra` routes (e.g. `/healthz`, `/metrics`) mounted beside the
/// API. They get the request log and the JSON 404 for unknown paths, not authentication.
pub fn router_with(state: AppState, extra: Router) -> Router {
    let limit = state.inner.max_body_bytes;
    let api = handlers::api_routes()
        .route_layer(middleware::from_fn_with_state(state.clone(), authenticate))
        .with_state(state);
    Router::new()
        .nest("/api/v1", api)
        .merge(extra)
        .fallback(not_found)
        .layer(axum::extract::DefaultBodyLimit::max(limit))
        .layer(tower_http::limit::RequestBodyLimitLayer::new(limit))
        .layer(middleware::map_response(json_errors))
        .layer(middleware::from_fn(log_request))
}

/// Serves `app` on `listener` with the default [`ServeLimits`] until `shutdown`
/// completes, then lets open requests finish for at most [`SHUTDOWN_GRACE`].
pub async fn serve_router(
    listener: tokio::net::TcpListener,
    app: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    listen::serve_limited(listener, app, ServeLimits::default(), shutdown).await
}

/// Serves the API of `state` on `listener` until `shutdown` completes (bounded grace).
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_router(listener, router(state), shutdown).await
}

async fn not_found() -> ApiError {
    ApiError::not_found(
        "no such endpoint: the API lives under /api/v1 (see docs/api.md for the list)",
    )
}

/// Checks the bearer token and puts the [`Caller`] into the request.
async fn authenticate(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let presented = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            let (scheme, rest) = v.split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then(|| rest.trim())
        })
        .filter(|t| !t.is_empty())
        .map(auth::hash_token);
    let Some(hash) = presented else {
        return with_role(
            ApiError::unauthorized(
                "this endpoint needs an API token: send 'Authorization: Bearer TOKEN' (an administrator makes one with `sp4n token create`)",
            )
            .into_response(),
            "none",
        );
    };
    let found = state.inner.store.run(move |s| s.token_by_hash(&hash)).await;
    let token = match found {
        Ok(Some(t)) => t,
        Ok(None) => {
            return with_role(
                ApiError::unauthorized(
                    "the API token is unknown or was revoked: ask an administrator for a new one (`sp4n token create`)",
                )
                .into_response(),
                "none",
            );
        }
        Err(e) => return with_role(ApiError::from(e).into_response(), "none"),
    };
    let role = match Role::parse(&token.role) {
        Ok(r) => r,
        Err(_) => {
            return with_role(
                ApiError::unauthorized(
                    "the API token carries a role this version does not know: revoke it and create a new one",
                )
                .into_response(),
                "none",
            );
        }
    };
    let logged = role_label(&role);
    req.extensions_mut().insert(Caller {
        name: token.name,
        role,
    });
    with_role(next.run(req).await, &logged)
}

/// The role as logged: the kind and, for OPDs, the code (never the token's name).
fn role_label(role: &Role) -> String {
    role.to_string()
}

fn with_role(mut resp: Response, role: &str) -> Response {
    resp.extensions_mut().insert(LoggedRole(role.to_string()));
    resp
}

/// Gives every error response that is not already JSON (405 from routing, 413 from the
/// body limit) the JSON error shape.
async fn json_errors(resp: Response) -> Response {
    let status = resp.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return resp;
    }
    let is_json = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if is_json {
        return resp;
    }
    let role = resp.extensions().get::<LoggedRole>().cloned();
    let mut out = ApiError::from_status(status).into_response();
    if let Some(allow) = resp.headers().get(header::ALLOW) {
        out.headers_mut().insert(header::ALLOW, allow.clone());
    }
    if let Some(r) = role {
        out.extensions_mut().insert(r);
    }
    out
}

/// One log line per request: method, route template, status, latency, role. Never the
/// raw path's query, a body, or a header.
async fn log_request(req: Request, next: Next) -> Response {
    let start = Instant::now();
    let method = req.method().clone();
    let template = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "<unmatched>".to_string());
    let resp = next.run(req).await;
    let role = resp
        .extensions()
        .get::<LoggedRole>()
        .map(|r| r.0.clone())
        .unwrap_or_else(|| "-".into());
    let status = resp.status().as_u16();
    let latency_ms = start.elapsed().as_secs_f64() * 1000.0;
    tracing::info!(
        method = %method,
        path = %template,
        status,
        latency_ms = format_args!("{latency_ms:.2}"),
        role = %role,
        "API request."
    );
    resp
}
