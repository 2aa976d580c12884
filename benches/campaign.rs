//! The campaign page over 10,000 connections: `GET /status` (its first 100 rows, the
//! owners, the SVG burndown) and the CSV of every row, through the real program on
//! loopback, one request at a time, timed at the client (so the server's share is at
//! most this); and the page's finished load in headless Chromium (Debian's `chromium`,
//! or `CHROMIUM`), from the navigation's start to its load event. Run:
//! `cargo bench --bench campaign`.

use cutover::chat::{Action, Caller, Reply, Request};
use cutover::clock::SystemClock;
use cutover::domain::{
    Actor, AuthType, ConnectionId, ConnectionRecord, ConnectionSource, DisplayName, Snowflake,
};
use cutover::settings::Settings;
use cutover::startup::Application;
use cutover::store::Store;
use std::sync::Arc;
use std::time::{Duration, Instant};

const CONNECTIONS: usize = 10_000;
const RUNS: usize = 200;

fn summary(name: &str, mut samples: Vec<Duration>) {
    samples.sort();
    let pick =
        |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize].as_secs_f64() * 1e3;
    println!(
        "{name}: median {:.2} ms, p99 {:.2} ms ({} runs)",
        pick(0.5),
        pick(0.99),
        samples.len()
    );
}

async fn seed(url: &str) {
    let store = Store::open(url).await.expect("open");
    let records: Vec<ConnectionRecord> = (0..CONNECTIONS)
        .map(|i| ConnectionRecord {
            id: ConnectionId::parse(&format!("zc{i:05}")).expect("id"),
            name: DisplayName::parse(&format!("Zoom connection {i}")).expect("name"),
            integration: cutover::domain::IntegrationName::parse(&format!("Flow {}", i % 40))
                .expect("integration"),
            owner: Snowflake::new(100_000_000_000_000_000 + (i % 50) as u64).ok(),
            auth_type: if i % 3 == 0 {
                AuthType::OAuth2
            } else {
                AuthType::Jwt
            },
        })
        .collect();
    store
        .upsert_connections(
            &records,
            ConnectionSource::Import,
            Actor::CommandLine,
            chrono::Utc::now(),
            "bench",
        )
        .await
        .expect("seed");
    store.close().await;
}

/// A `/status` sign-in link, as the terminal is given one.
async fn sign_in_link(core: &cutover::chat::ChatCore) -> String {
    let caller = Caller {
        actor: Actor::Terminal,
        is_admin: true,
    };
    let answer = core
        .handle(Request::new(
            caller,
            Action::Command {
                name: "status".into(),
                options: vec![],
            },
        ))
        .await;
    let Reply::Message(message) = answer.reply else {
        panic!("a message");
    };
    let Some(cutover::chat::Button {
        target: cutover::chat::ButtonTarget::Link(link),
        ..
    }) = message.buttons.first().cloned()
    else {
        panic!("a link");
    };
    link
}

/// A session, signed in the way a person does: `/status`, then the link.
async fn session(core: &cutover::chat::ChatCore, base: &str) -> String {
    let link = sign_in_link(core).await;
    let path = link.split_once("/status").map(|(_, p)| p).expect("path");
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let opened = client
        .get(format!("{base}/status{path}"))
        .send()
        .await
        .expect("sign in");
    let cookie = opened.headers()["set-cookie"].to_str().expect("cookie");
    cookie.split(';').next().expect("pair").to_owned()
}

async fn time(client: &reqwest::Client, url: &str, cookie: &str) -> (Duration, usize) {
    let started = Instant::now();
    let response = client
        .get(url)
        .header("cookie", cookie)
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 200);
    let body = response.bytes().await.expect("body");
    (started.elapsed(), body.len())
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}/bench.db", dir.path().display());
        seed(&url).await;
        let config = dir.path().join("bench.toml");
        std::fs::write(
            &config,
            format!(
                "[database]\nurl = \"{url}\"\n[server]\nbind = \"127.0.0.1:0\"\n\
                 public_base_url = \"http://127.0.0.1\"\n"
            ),
        )
        .expect("config");
        let settings = Settings::load(Some(&config)).expect("settings");
        let app = Application::build(&settings, Arc::new(SystemClock))
            .await
            .expect("build");
        let base = format!("http://{}", app.address());
        let core = app.core();
        tokio::spawn(app.run_until_stopped(std::future::pending()));
        let cookie = session(&core, &base).await;
        let client = reqwest::Client::new();
        for (name, path) in [
            ("GET /status (first 100 of 10,000 rows)", "/status"),
            (
                "GET /status?state=pending&sort=changed&dir=desc",
                "/status?state=pending&sort=changed&dir=desc",
            ),
            (
                "GET /status/connections.csv (10,000 rows)",
                "/status/connections.csv",
            ),
        ] {
            let target = format!("{base}{path}");
            let (_, size) = time(&client, &target, &cookie).await;
            let mut samples = Vec::with_capacity(RUNS);
            for _ in 0..RUNS {
                samples.push(time(&client, &target, &cookie).await.0);
            }
            summary(&format!("{name}, {} KiB", size / 1024), samples);
        }
        let link = sign_in_link(&core).await;
        let path = link.split_once("/status").map(|(_, p)| p).expect("path");
        summary(
            "Chromium: GET /status to its load event",
            browser_loads(&format!("{base}/status{path}"), &format!("{base}/status")).await,
        );
    });
}

const LOADS: usize = 30;

/// Opens the sign-in link in headless Chromium, then loads the page `LOADS` times; each
/// load's time from navigation start to the load event, as the browser measured it.
async fn browser_loads(sign_in: &str, page_url: &str) -> Vec<Duration> {
    use chromiumoxide::{Browser, BrowserConfig};
    use futures_util::StreamExt;
    let executable = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    let profile = tempfile::tempdir().expect("profile");
    let config = BrowserConfig::builder()
        .chrome_executable(&executable)
        .no_sandbox()
        .user_data_dir(profile.path())
        .window_size(1280, 1600)
        .args([
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ])
        .build()
        .expect("browser configuration");
    let (mut browser, mut handler) = Browser::launch(config)
        .await
        .unwrap_or_else(|e| panic!("Chromium at {executable} did not start: {e}"));
    let events = tokio::spawn(async move { while handler.next().await.is_some() {} });
    let page = browser.new_page(sign_in).await.expect("signed in");
    let mut samples = Vec::with_capacity(LOADS);
    for _ in 0..LOADS {
        page.goto(page_url).await.expect("the page loads");
        let load: f64 = page
            .evaluate_function(
                "async () => { const n = performance.getEntriesByType('navigation')[0]; \
                 while (n.loadEventEnd === 0) await new Promise(r => setTimeout(r, 5)); return n.loadEventEnd - n.startTime; }",
            )
            .await
            .expect("timing")
            .into_value()
            .expect("a number");
        samples.push(Duration::from_secs_f64(load / 1e3));
    }
    browser.close().await.expect("closes");
    browser.wait().await.expect("exits");
    events.abort();
    samples
}
