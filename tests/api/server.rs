//! The HTTP server under clients that hold connections: half-sent requests, trickled
//! bodies, and more connections than it serves at once.

use crate::fake_zoom::FakeZoom;
use crate::helpers::{browser, message, user, TestApp, TestDir, NOW, OWNER, PUBLIC_BASE};
use cutover::chat::ButtonTarget;
use cutover::domain::AuthType;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A guard against a test hanging forever when the server does not close a connection;
/// never reached when it works (the server's own limit is one second where it matters).
const HANG: Duration = Duration::from_secs(60);

async fn start(read_timeout: &str, max_connections: u32) -> TestApp {
    let dir = TestDir::new();
    let config = dir.config_with_server(
        &format!("read_timeout = \"{read_timeout}\"\nmax_connections = {max_connections}\n"),
        &FakeZoom::start().await.config(),
    );
    TestApp::spawn_with(dir, &config, NOW).await
}

/// Opens a connection and sends `bytes` (part of a request), leaving it open.
async fn send_part(app: &TestApp, bytes: &[u8]) -> TcpStream {
    let mut stream = TcpStream::connect(app.address).await.expect("connect");
    stream.write_all(bytes).await.expect("send");
    stream
}

/// Everything the server sends until it closes the connection.
async fn answer(stream: &mut TcpStream) -> String {
    let mut received = Vec::new();
    match tokio::time::timeout(HANG, stream.read_to_end(&mut received)).await {
        Ok(Ok(_)) => {}
        // A reset after a partial request counts as closed too.
        Ok(Err(error)) => assert_eq!(error.kind(), std::io::ErrorKind::ConnectionReset),
        Err(_) => panic!("the server held the connection open"),
    }
    String::from_utf8_lossy(&received).into_owned()
}

#[tokio::test]
async fn many_half_sent_requests_are_cut_off_and_the_server_answers_again() {
    let app = start("1s", 8).await;
    // Far more half-requests than the server serves at once: every slot is taken, and
    // the rest are turned away instead of using up the process's files.
    let mut slow = Vec::new();
    for _ in 0..64 {
        slow.push(send_part(&app, b"GET /healthz HTTP/1.1\r\nHost: cutover\r\n").await);
    }
    let (mut cut_off, mut turned_away) = (0, 0);
    for stream in &mut slow {
        let answer = answer(stream).await;
        if answer.starts_with("HTTP/1.1 503") {
            turned_away += 1;
        } else {
            assert!(
                answer.is_empty() || answer.starts_with("HTTP/1.1 408"),
                "closed without serving: {answer:?}"
            );
            cut_off += 1;
        }
    }
    // Eight slots held to the end of the read timeout; a slot freed early (a slow test
    // machine) may take one more, but most are turned away.
    assert!(
        cut_off >= 8 && turned_away >= 32,
        "{cut_off} cut off, {turned_away} turned away"
    );
    // The slots are free again: a real client is served.
    let health = tokio::time::timeout(HANG, reqwest::get(app.url("/healthz")))
        .await
        .expect("answered")
        .expect("healthz");
    assert_eq!(health.status(), 200);
}

#[tokio::test]
async fn a_trickled_body_is_answered_408_instead_of_holding_the_handler() {
    let app = start("1s", 4).await;
    let mut stream = send_part(
        &app,
        b"POST /healthz HTTP/1.1\r\nHost: cutover\r\nContent-Length: 100\r\n\r\n{\"type\": 1",
    )
    .await;
    let answer = answer(&mut stream).await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer:?}");
    assert!(
        answer.ends_with("the request body did not arrive in time (server.read_timeout)\n"),
        "{answer:?}"
    );
}

#[tokio::test]
async fn past_the_cap_a_newcomer_is_told_to_come_back_and_the_held_ones_are_served() {
    // Patient enough that the held connections cannot time out during the test.
    let app = start("2m", 2).await;
    let mut held = Vec::new();
    for _ in 0..2 {
        held.push(send_part(&app, b"GET /healthz HTTP/1.1\r\nHost: cutover\r\n").await);
    }
    let mut newcomer = send_part(&app, b"GET /healthz HTTP/1.1\r\nHost: cutover\r\n\r\n").await;
    let turned_away = answer(&mut newcomer).await;
    assert!(
        turned_away.starts_with("HTTP/1.1 503 Service Unavailable\r\n"),
        "{turned_away:?}"
    );
    assert!(
        turned_away.contains("retry-after: 1\r\n"),
        "{turned_away:?}"
    );
    assert!(
        turned_away.ends_with("\r\n\r\ncutover is serving too many connections; retry shortly\n"),
        "{turned_away:?}"
    );
    // The connections that hold the slots are still served once their requests are whole.
    for stream in &mut held {
        stream
            .write_all(b"Connection: close\r\n\r\n")
            .await
            .expect("finish the request");
        let served = answer(stream).await;
        assert!(served.starts_with("HTTP/1.1 200 OK\r\n"), "{served:?}");
        assert!(served.ends_with("\r\n\r\nok\n"), "{served:?}");
    }
}

#[tokio::test]
async fn a_kept_alive_connection_left_idle_is_closed_after_the_read_timeout() {
    let app = start("1s", 4).await;
    let mut stream = send_part(&app, b"GET /healthz HTTP/1.1\r\nHost: cutover\r\n\r\n").await;
    // Served, then kept open for the next request, which never comes: closed.
    let answer = answer(&mut stream).await;
    assert!(answer.starts_with("HTTP/1.1 200 OK\r\n"), "{answer:?}");
    assert!(answer.ends_with("\r\n\r\nok\n"), "{answer:?}");
}

const TOO_LARGE: &str = "the request body is over 64 KiB, more than any cutover route takes\n";

#[tokio::test]
async fn a_body_over_64_kib_is_refused_413_on_every_route() {
    let app = start("1s", 4).await;
    // Announced over the cap: answered from the head alone, before any body is sent.
    for route in [
        "GET /healthz",
        "GET /oauth/zoom/callback",
        "POST /discord/interactions",
    ] {
        let head = format!("{route} HTTP/1.1\r\nHost: cutover\r\nContent-Length: 65537\r\n\r\n");
        let mut stream = send_part(&app, head.as_bytes()).await;
        let refused = answer(&mut stream).await;
        assert!(
            refused.starts_with("HTTP/1.1 413 Payload Too Large\r\n"),
            "{route}: {refused:?}"
        );
        assert!(refused.ends_with(TOO_LARGE), "{route}: {refused:?}");
    }
    // Chunked, with no length announced: refused once it grows past the cap (every byte
    // sent is read by then, the chunk's end never comes).
    let mut chunked =
        b"POST /discord/interactions HTTP/1.1\r\nHost: cutover\r\nTransfer-Encoding: chunked\r\n\r\n10001\r\n"
            .to_vec();
    chunked.resize(chunked.len() + 65537, b'x');
    let mut stream = send_part(&app, &chunked).await;
    let refused = answer(&mut stream).await;
    assert!(refused.starts_with("HTTP/1.1 413 "), "{refused:?}");
    assert!(refused.ends_with(TOO_LARGE), "{refused:?}");

    // 64 KiB itself is read, and the route answers.
    let mut request =
        b"GET /healthz HTTP/1.1\r\nHost: cutover\r\nConnection: close\r\nContent-Length: 65536\r\n\r\n"
            .to_vec();
    request.resize(request.len() + 65536, b'x');
    let mut stream = send_part(&app, &request).await;
    let served = answer(&mut stream).await;
    assert!(served.starts_with("HTTP/1.1 200 OK\r\n"), "{served:?}");
    assert!(served.ends_with("\r\n\r\nok\n"), "{served:?}");
}

#[tokio::test]
async fn an_event_stream_outlives_the_read_timeout_and_ends_when_the_server_stops() {
    let dir = TestDir::new();
    let config = dir.config_with_server(
        &format!("read_timeout = \"1s\"\npublic_base_url = \"{PUBLIC_BASE}\"\n"),
        &FakeZoom::start().await.config(),
    );
    let app = TestApp::spawn_with(dir, &config, NOW).await;
    let mut events = signed_in_events(&app).await;
    // Well past the read timeout and the watchdog's quarter more: an open page's stream
    // is an answer still being sent, not a client keeping the server waiting.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    app.seed(&[("z1", "Zoom one", None, AuthType::Jwt)]).await;
    let mut seen = String::new();
    while !seen.contains("event: change") {
        match tokio::time::timeout(HANG, events.chunk()).await {
            Ok(Ok(Some(chunk))) => seen.push_str(&String::from_utf8_lossy(&chunk)),
            other => panic!("the stream was cut before the change: {other:?}, after {seen:?}"),
        }
    }
    // The stop does not wait for the page to go: the stream ends, whole.
    tokio::time::timeout(HANG, app.stop())
        .await
        .expect("the server stops with a page open");
    loop {
        match tokio::time::timeout(HANG, events.chunk()).await {
            Ok(Ok(Some(_))) => {}
            Ok(Ok(None)) => break,
            other => panic!("the stream did not end cleanly: {other:?}"),
        }
    }
}

/// The campaign page's event stream, signed in by OWNER's `/status` link.
async fn signed_in_events(app: &TestApp) -> reqwest::Response {
    let owner = OWNER.parse().expect("a Discord id");
    let reply = app.command(user(owner), "status", &[]).await;
    let ButtonTarget::Link(link) = &message(&reply).buttons[0].target else {
        panic!("a link button: {reply:?}");
    };
    let path = link
        .strip_prefix(PUBLIC_BASE)
        .expect("one of the program's links");
    let opened = browser().get(app.url(path)).send().await.expect("sign in");
    assert_eq!(opened.status(), 303);
    let cookie = opened.headers()["set-cookie"].to_str().expect("cookie");
    let session = cookie.split(';').next().expect("name=value").to_owned();
    let events = reqwest::Client::new()
        .get(app.url("/status/events"))
        .header("cookie", session)
        .send()
        .await
        .expect("the events");
    assert_eq!(events.status(), 200);
    events
}
