//! The API's graceful shutdown is bounded: a client that never finishes its request cannot
//! keep the server alive.
//!
//! This test has its own binary on purpose: the abandoned connection's task is dropped
//! only when the test's runtime shuts down, and in a binary that installs a global tracing
//! subscriber (as `server_api` does, to inspect logs) an event emitted while a worker
//! thread's thread-locals are being destroyed aborts the process.

mod support;
use support::server as server_support;

use server_support::{opds, start};
use sp4n::server::AppState;
use sp4n::store::Store;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_is_bounded_with_a_request_left_open() {
    use tokio::io::AsyncWriteExt;
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("store")).unwrap();
    let api = start(AppState::new(store, opds(), 65536)).await;
    // A client that starts a request and never finishes its headers: graceful shutdown
    // would wait for it forever without the bound.
    let mut open = tokio::net::TcpStream::connect(api.addr).await.unwrap();
    open.write_all(b"GET /api/v1/complaints HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let done = tokio::time::timeout(Duration::from_secs(60), api.shutdown()).await;
    assert!(
        done.is_ok(),
        "shutdown did not end with a request left open"
    );
    drop(open);
}
