//! The HTTP server's accept loop. `axum::serve` waits for a request for as long as a client
//! likes and takes every connection offered, so clients that send half a request could
//! hold every open file the process has and starve the OAuth callback and the
//! interactions endpoint. Here each connection has a bounded time to send its request (a
//! watchdog closes it after `read_timeout`, within a quarter more) and its body, and at
//! most `max_connections` are served at once; past it, a newcomer is told to come back.
//! An answer streamed for as long as a page is open (the campaign page's events) holds
//! its connection until it ends, and it ends when the server stops.

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;
use http_body_util::LengthLimitError;
use hyper::body::{Body as _, Bytes, Frame, Incoming, SizeHint};
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio::net::TcpListener;
use tokio::sync::{watch, Semaphore};
use tower::ServiceExt;

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

/// The largest request body read, on every route: what the largest one needs (Discord's
/// interactions are a few kilobytes; the other routes take none). Each of
/// `server.max_connections` may buffer this much.
const MAX_BODY_BYTES: usize = 64 * 1024;

/// Serves `router` on `listener` until `shutdown` completes, then lets the requests in
/// flight finish (each is bounded by the limits and the handlers' own timeouts).
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    shutdown: impl Future<Output = ()>,
) {
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
        let router = router.clone();
        let activity = Arc::new(Activity::new());
        let watched = Arc::clone(&activity);
        let answers_end = stopping.clone();
        let service = hyper::service::service_fn(move |request: Request<Incoming>| {
            let router = router.clone();
            let activity = Arc::clone(&watched);
            let stopping = answers_end.clone();
            activity.serving();
            async move {
                let response = body_within(limits.read_timeout, router, request).await;
                Ok::<_, std::convert::Infallible>(answering(response, activity, stopping))
            }
        });
        let mut stopping = stopping.clone();
        tokio::spawn(async move {
            let connection = http1::Builder::new().serve_connection(TokioIo::new(stream), service);
            tokio::pin!(connection);
            let served = tokio::select! {
                served = connection.as_mut() => served,
                () = activity.overdue(limits.read_timeout) => Ok(()),
                _ = stopping.changed() => {
                    connection.as_mut().graceful_shutdown();
                    tokio::select! {
                        served = connection.as_mut() => served,
                        () = activity.overdue(limits.read_timeout) => Ok(()),
                    }
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

/// A connection's clock for its watchdog: since when it has been waiting for the client
/// (to send a request's head, or the next request), or that a request is being served.
/// One check every quarter of the read timeout replaces a timer set and cancelled for
/// every request (hyper's header timeout), which cost a tenth of the endpoint's speed.
struct Activity {
    started: Instant,
    /// Milliseconds after `started` since which the client is waited for; `SERVING`
    /// while a request is being answered (the handlers bound their own time).
    waiting_since: AtomicU64,
}

const SERVING: u64 = u64::MAX;

impl Activity {
    fn new() -> Self {
        Self {
            started: Instant::now(),
            waiting_since: AtomicU64::new(0),
        }
    }

    fn serving(&self) {
        self.waiting_since.store(SERVING, Ordering::Relaxed);
    }

    fn waiting(&self) {
        let now = u64::try_from(self.started.elapsed().as_millis()).unwrap_or(SERVING - 1);
        self.waiting_since.store(now, Ordering::Relaxed);
    }

    /// Completes once the client has been waited for longer than `limit` (checked every
    /// quarter of it): a half-sent head, or a kept-alive connection left idle.
    async fn overdue(&self, limit: Duration) {
        let mut checks = tokio::time::interval(limit / 4);
        checks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let limit = u64::try_from(limit.as_millis()).unwrap_or(u64::MAX);
        loop {
            checks.tick().await;
            let since = self.waiting_since.load(Ordering::Relaxed);
            let now = u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX);
            if since != SERVING && now.saturating_sub(since) > limit {
                return;
            }
        }
    }
}

/// The answer as it goes out. One whose length is known is handed to hyper whole: from
/// then on the connection waits for the client. One streamed is still being answered
/// while it lasts (an event stream lasts as long as its page is open), so the watchdog
/// leaves it be until it ends; at the server's stop it ends at once.
fn answering(
    response: Response,
    activity: Arc<Activity>,
    mut stopping: watch::Receiver<bool>,
) -> Response {
    if response.body().size_hint().exact().is_some() {
        activity.waiting();
        return response;
    }
    let stopped = Box::pin(async move {
        // The sender gone is a stop too.
        let _ = stopping.wait_for(|stopping| *stopping).await;
    });
    response.map(|body| {
        Body::new(Streamed {
            body,
            activity,
            stopped,
        })
    })
}

/// A streamed answer's body: the connection is back to waiting for its client once hyper
/// is done with it (sent whole, or the client gone).
struct Streamed {
    body: Body,
    activity: Arc<Activity>,
    stopped: Pin<Box<dyn Future<Output = ()> + Send>>,
}

impl hyper::body::Body for Streamed {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        if self.stopped.as_mut().poll(cx).is_ready() {
            return Poll::Ready(None);
        }
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

impl Drop for Streamed {
    fn drop(&mut self) {
        self.activity.waiting();
    }
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

/// Reads the whole body within `limit` before the router runs, so a client that
/// trickles its body is answered 408 instead of holding a handler. (Done here rather than
/// as axum middleware, which costs a boxed copy of the router on every request.)
async fn body_within(limit: Duration, router: Router, request: Request<Incoming>) -> Response {
    let (parts, body) = request.into_parts();
    // A body announced (Content-Length) over the cap is refused before any of it is read.
    if body.size_hint().lower() > MAX_BODY_BYTES as u64 {
        return too_large();
    }
    let read = axum::body::to_bytes(Body::new(body), MAX_BODY_BYTES);
    match tokio::time::timeout(limit, read).await {
        Ok(Ok(bytes)) => {
            let request = Request::from_parts(parts, Body::from(bytes));
            match router.oneshot(request).await {
                Ok(response) => response,
                Err(never) => match never {},
            }
        }
        // A chunked body that grew past the cap.
        Ok(Err(error))
            if std::error::Error::source(&error).is_some_and(|e| e.is::<LengthLimitError>()) =>
        {
            too_large()
        }
        Ok(Err(_)) => (
            StatusCode::BAD_REQUEST,
            [(header::CONNECTION, "close")],
            "the request body was cut off\n",
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

fn too_large() -> Response {
    (
        StatusCode::PAYLOAD_TOO_LARGE,
        [(header::CONNECTION, "close")],
        "the request body is over 64 KiB, more than any cutover route takes\n",
    )
        .into_response()
}
