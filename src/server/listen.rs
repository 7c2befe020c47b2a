//! Accepting connections for the local API with bounds a hostile client cannot stretch:
//! at most [`ServeLimits::max_connections`] open at once (further clients wait in the
//! kernel's backlog), a request head must arrive within [`ServeLimits::header_timeout`]
//! (slowloris), a whole request within [`ServeLimits::request_timeout`], and the answers
//! hyper writes by itself for malformed heads (400, 414, 431) carry the API's JSON error
//! body like every other error.

use super::{ApiError, SHUTDOWN_GRACE};
use crate::config::ServerConfig;
use axum::Router;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::{Semaphore, watch};

/// File descriptors kept free for the store, the upstream client and logs when the
/// connection cap is derived from the process's descriptor limit.
const RESERVED_FDS: u64 = 64;

/// How many connections, and how long a client may take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServeLimits {
    /// Open connections at most (lowered to fit the process's descriptor limit).
    pub max_connections: usize,
    /// Time from a connection's readiness for a request to its complete head.
    pub header_timeout: Duration,
    /// Time for a whole request: the body read and the answer.
    pub request_timeout: Duration,
}

impl Default for ServeLimits {
    fn default() -> Self {
        ServeLimits::from_config(&ServerConfig::default())
    }
}

impl ServeLimits {
    /// The limits of `[server]`.
    pub fn from_config(c: &ServerConfig) -> ServeLimits {
        ServeLimits {
            max_connections: c.max_connections.max(1),
            header_timeout: Duration::from_secs(c.header_timeout_seconds.max(1)),
            request_timeout: Duration::from_secs(c.request_timeout_seconds.max(1)),
        }
    }

    /// The connection cap in force: the configured one, lowered so that the open
    /// connections leave [`RESERVED_FDS`] of the process's descriptor limit free.
    pub fn effective_connections(&self) -> usize {
        let mut lim = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: getrlimit(2) writes into the struct we own.
        let ok = unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } == 0;
        if !ok || lim.rlim_cur == libc::RLIM_INFINITY {
            return self.max_connections;
        }
        let room = lim.rlim_cur.saturating_sub(RESERVED_FDS).max(8);
        self.max_connections.min(room as usize)
    }
}

/// Serves `app` on `listener` within `limits` until `shutdown` completes; open
/// connections then get [`SHUTDOWN_GRACE`] to finish.
pub async fn serve_limited(
    listener: tokio::net::TcpListener,
    app: Router,
    limits: ServeLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let cap = limits.effective_connections();
    let app = app.layer(middleware::from_fn_with_state(
        limits.request_timeout,
        request_timeout,
    ));
    let permits = Arc::new(Semaphore::new(cap));
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout);
    tracing::debug!(max_connections = cap, "API connection limits.");
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            p = permits.clone().acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => break,
            },
            _ = &mut shutdown => break,
        };
        let stream = tokio::select! {
            r = listener.accept() => match r {
                Ok((s, _peer)) => s,
                Err(e) => {
                    // Out of descriptors or a connection reset before it was accepted:
                    // the next accept may succeed; do not spin.
                    tracing::warn!(error = %e, "Could not accept an API connection.");
                    drop(permit);
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let io = TokioIo::new(JsonErrorBodies::new(stream));
        let svc = TowerToHyperService::new(app.clone());
        let conn = http.serve_connection(io, svc);
        let mut stop = stop_rx.clone();
        tokio::spawn(async move {
            tokio::pin!(conn);
            let stopped = tokio::select! {
                _ = conn.as_mut() => false,
                r = stop.wait_for(|s| *s) => r.is_ok(),
            };
            if stopped {
                conn.as_mut().graceful_shutdown();
                let _ = conn.await;
            }
            drop(permit);
        });
    }
    drop(listener);
    let _ = stop_tx.send(true);
    let all = u32::try_from(cap).unwrap_or(u32::MAX);
    if tokio::time::timeout(SHUTDOWN_GRACE, permits.acquire_many(all))
        .await
        .is_err()
    {
        tracing::warn!(
            grace_s = SHUTDOWN_GRACE.as_secs(),
            "Closed the API with requests still open."
        );
    }
    Ok(())
}

/// Ends a request that takes longer than the limit (a body trickled in, say) with 408.
async fn request_timeout(State(limit): State<Duration>, req: Request, next: Next) -> Response {
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(r) => r,
        Err(_) => {
            tracing::warn!(
                limit_s = limit.as_secs(),
                "An API request took longer than [server] request_timeout_seconds and was ended."
            );
            ApiError::from_status(StatusCode::REQUEST_TIMEOUT).into_response()
        }
    }
}

/// A connection that rewrites hyper's own bodiless error answers (to heads it cannot
/// parse: 400, 414, 431) into the API's JSON error shape. The API's own errors always
/// have a JSON body, so only hyper's automatic answers (`content-length: 0`) match.
struct JsonErrorBodies<S> {
    inner: S,
    /// A rewritten answer still to be written, and how much of it was.
    pending: Option<(Vec<u8>, usize)>,
}

impl<S> JsonErrorBodies<S> {
    fn new(inner: S) -> Self {
        JsonErrorBodies {
            inner,
            pending: None,
        }
    }
}

/// The JSON answer replacing `head` when it is one of hyper's bodiless error answers.
fn rewrite_error_head(head: &[u8]) -> Option<Vec<u8>> {
    if !(head.starts_with(b"HTTP/1.1 4")
        || head.starts_with(b"HTTP/1.1 5")
        || head.starts_with(b"HTTP/1.0 4"))
        || !head.ends_with(b"\r\n\r\n")
    {
        return None;
    }
    let text = std::str::from_utf8(head).ok()?;
    let mut lines = text.split("\r\n");
    let status_line = lines.next()?;
    let code: u16 = status_line.get(9..12)?.parse().ok()?;
    let status = StatusCode::from_u16(code).ok()?;
    let headers: Vec<&str> = lines.filter(|l| !l.is_empty()).collect();
    let bodiless = headers
        .iter()
        .any(|h| h.eq_ignore_ascii_case("content-length: 0"));
    let typed = headers
        .iter()
        .any(|h| h.to_ascii_lowercase().starts_with("content-type:"));
    if !bodiless || typed {
        return None;
    }
    let e = ApiError::from_status(status);
    let body = serde_json::json!({"error": {"code": e.code, "message": e.message}}).to_string();
    let mut out = format!("{status_line}\r\n");
    for h in headers {
        if !h.to_ascii_lowercase().starts_with("content-length:") {
            out.push_str(h);
            out.push_str("\r\n");
        }
    }
    out.push_str(&format!(
        "content-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    ));
    Some(out.into_bytes())
}

impl<S: AsyncWrite + Unpin> JsonErrorBodies<S> {
    fn poll_pending(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while let Some((buf, pos)) = &mut self.pending {
            if *pos >= buf.len() {
                self.pending = None;
                break;
            }
            let n = ready!(Pin::new(&mut self.inner).poll_write(cx, &buf[*pos..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            *pos += n;
        }
        Poll::Ready(Ok(()))
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for JsonErrorBodies<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for JsonErrorBodies<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        ready!(self.poll_pending(cx))?;
        if let Some(json) = rewrite_error_head(buf) {
            self.pending = Some((json, 0));
            // Claim the whole head; the rewrite is written by flush or the next write.
            let _ = self.poll_pending(cx)?;
            return Poll::Ready(Ok(buf.len()));
        }
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.poll_pending(cx))?;
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.poll_pending(cx))?;
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hypers_bodiless_errors_get_the_json_shape() {
        let head = b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-length: 0\r\ndate: Thu, 01 Jan 2026 00:00:00 GMT\r\n\r\n";
        let out = String::from_utf8(rewrite_error_head(head).unwrap()).unwrap();
        assert!(out.starts_with("HTTP/1.1 431 "), "{out}");
        assert!(out.contains("content-type: application/json"), "{out}");
        assert!(out.contains("\"code\":\"headers_too_large\""), "{out}");
        assert!(!out.contains("content-length: 0"), "{out}");
        // Our own answers (typed, with a body) pass untouched.
        let ours = b"HTTP/1.1 404 Not Found\r\ncontent-type: application/json\r\ncontent-length: 10\r\n\r\n";
        assert!(rewrite_error_head(ours).is_none());
        assert!(rewrite_error_head(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n").is_none());
    }
}
