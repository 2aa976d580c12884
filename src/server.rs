//! The HTTP server's accept loop. `axum::serve` waits for a request for as long as a client
//! likes and takes every connection offered, so clients that send half a request could
//! hold every open file the process has and starve the OAuth callback and the
//! interactions endpoint. Here each connection has a bounded time to send its request, and
//! at most `max_connections` are served at once; past it, a newcomer is told to come back.

use axum::body::Body;
use axum::extract::Request;
use axum::http::{header, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::Router;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use std::future::Future;
use std::io;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::{watch, Semaphore};

/// How much of a client's patience and the process's files the server may use.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// For a request's head (and between requests on a kept-alive connection), then
    /// again for its body.
    pub read_timeout: Duration,
    pub max_connections: u32,
}

/// The answer to a connection past the cap, written in one go without reading the request.
const BUSY: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\n\
content-type: text/plain; charset=utf-8\r\n\
retry-after: 1\r\n\
connection: close\r\n\
content-length: 55\r\n\
\r\n\
cutover is serving too many connections; retry shortly\n";

/// The largest request body read; Discord's interactions are a few kilobytes.
const MAX_BODY_BYTES: usize = 1024 * 1024;

/// Serves `router` on `listener` until `shutdown` completes, then lets the requests in
/// flight finish (each is bounded by the limits and the handlers' own timeouts).
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    shutdown: impl Future<Output = ()>,
) {
    let router = router.layer(middleware::from_fn(move |request, next| {
        body_within(limits.read_timeout, request, next)
    }));
    let slots = Arc::new(Semaphore::new(limits.max_connections as usize));
    let (stop, stopping) = watch::channel(false);
    tokio::pin!(shutdown);
    loop {
        let stream = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(error) => {
                    handle_accept_error(error).await;
                    continue;
                }
            },
        };
        let Ok(slot) = Arc::clone(&slots).try_acquire_owned() else {
            // One write into a fresh socket's buffer: it cannot block the loop. Whether
            // the client reads it or not, the connection is closed at once.
            let _ = stream.try_write(BUSY);
            tracing::warn!(
                max_connections = limits.max_connections,
                "a connection was turned away: server.max_connections are all in use"
            );
            continue;
        };
        let _ = stream.set_nodelay(true);
        let service = TowerToHyperService::new(router.clone());
        let mut stopping = stopping.clone();
        tokio::spawn(async move {
            let connection = http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(limits.read_timeout)
                .serve_connection(TokioIo::new(stream), service);
            tokio::pin!(connection);
            let served = tokio::select! {
                served = connection.as_mut() => served,
                _ = stopping.changed() => {
                    connection.as_mut().graceful_shutdown();
                    connection.await
                }
            };
            if let Err(error) = served {
                tracing::debug!(error = %error, "a connection ended with an error");
            }
            drop(slot);
        });
    }
    drop(listener);
    let _ = stop.send(true);
    // Every slot back means every connection has finished.
    let _ = slots.acquire_many(limits.max_connections).await;
}

/// Accept fails when the process is out of files or the client gave up during the
/// handshake; neither should end the server, and the first should not make it spin.
async fn handle_accept_error(error: io::Error) {
    if matches!(
        error.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    ) {
        return;
    }
    tracing::error!(error = %error, "accepting a connection failed; retrying in a second");
    tokio::time::sleep(Duration::from_secs(1)).await;
}

/// Reads the whole body within `limit` before the handler runs, so a client that
/// trickles its body is answered 408 instead of holding the handler.
async fn body_within(limit: Duration, request: Request, next: Next) -> Response {
    let (parts, body) = request.into_parts();
    match tokio::time::timeout(limit, axum::body::to_bytes(body, MAX_BODY_BYTES)).await {
        Ok(Ok(bytes)) => {
            next.run(Request::from_parts(parts, Body::from(bytes)))
                .await
        }
        Ok(Err(_)) => (
            StatusCode::PAYLOAD_TOO_LARGE,
            [(header::CONNECTION, "close")],
            "the request body is too large or was cut off\n",
        )
            .into_response(),
        Err(_) => (
            StatusCode::REQUEST_TIMEOUT,
            [(header::CONNECTION, "close")],
            "the request body did not arrive in time (server.read_timeout)\n",
        )
            .into_response(),
    }
}
