//! The switch's own work: issuing a link (form submit to private answer, in the core)
//! and the callback (consume, exchange, verify, store), against an instant stand-in for
//! Zoom on loopback. Run: `cargo bench --bench switch`.

use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use axum::Json;
use cutover::chat::{Action, ButtonTarget, Caller, Reply, Request};
use cutover::clock::SystemClock;
use cutover::domain::{
    Actor, AuthType, ConnectionId, ConnectionRecord, ConnectionSource, DisplayName,
};
use cutover::settings::Settings;
use cutover::startup::Application;
use cutover::store::Store;
use serde_json::json;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const ROUNDS: usize = 300;

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

/// Answers like Zoom, without checks and at once: only the round trips are left.
async fn instant_zoom() -> String {
    let counter = Arc::new(AtomicU64::new(0));
    let app = axum::Router::new()
        .route(
            "/oauth/authorize",
            get(|axum::extract::Query(q): axum::extract::Query<HashMap<String, String>>| async move {
                Redirect::to(&format!("{}?code=c&state={}", q["redirect_uri"], q["state"]))
            }),
        )
        .route(
            "/oauth/token",
            post(move || {
                let n = counter.fetch_add(1, Ordering::Relaxed);
                async move {
                    Json(json!({ "access_token": format!("a{n}"), "refresh_token": format!("r{n}"), "token_type": "bearer", "expires_in": 3599 }))
                }
            }),
        )
        .route("/v2/users/me", get(|| async { Json(json!({ "id": "u", "email": "e@x", "account_id": "a" })).into_response() }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("address"));
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let zoom = instant_zoom().await;
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}/bench.db", dir.path().display());
        let store = Store::open(&url).await.expect("open");
        let records: Vec<ConnectionRecord> = (0..ROUNDS)
            .map(|i| ConnectionRecord {
                id: ConnectionId::parse(&format!("b{i:04}")).expect("id"),
                name: DisplayName::parse(&format!("Bench {i}")).expect("name"),
                integration: cutover::domain::IntegrationName::default(),
                owner: None,
                auth_type: AuthType::Jwt,
            })
            .collect();
        store
            .upsert_connections(&records, ConnectionSource::Import, Actor::CommandLine, chrono::Utc::now(), "bench")
            .await
            .expect("seed");
        store.close().await;
        let key_file = dir.path().join("key");
        std::fs::write(&key_file, "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=").expect("key");
        let config = dir.path().join("bench.toml");
        std::fs::write(
            &config,
            format!(
                "[database]\nurl = \"{url}\"\n[server]\nbind = \"127.0.0.1:0\"\n[security]\nsealing_key_file = \"{}\"\n\
                 [zoom]\nauthorize_url = \"{zoom}/oauth/authorize\"\ntoken_url = \"{zoom}/oauth/token\"\nuserinfo_url = \"{zoom}/v2/users/me\"\n",
                key_file.display()
            ),
        )
        .expect("config");
        let settings = Settings::load(Some(&config)).expect("settings");
        let app = Application::build(&settings, Arc::new(SystemClock)).await.expect("build");
        let address = app.address();
        let core = app.core();
        tokio::spawn(app.run_until_stopped(std::future::pending()));
        let caller = Caller { actor: Actor::Terminal, is_admin: true };

        let mut links = Vec::new();
        let mut issuing = Vec::new();
        for i in 0..ROUNDS {
            let action = Action::ModalSubmit {
                id: format!("c1:mf:b{i:04}"),
                values: vec![
                    ("client_id".into(), "BenchClientId0123456789".into()),
                    ("client_secret".into(), "BenchClientSecret0123456789abcdef".into()),
                ],
            };
            let started = Instant::now();
            let reply = core.handle(Request::new(caller, action)).await.reply;
            issuing.push(started.elapsed());
            let Reply::Message(message) = reply else { panic!("a private answer") };
            let Some(ButtonTarget::Link(link)) = message.buttons.first().map(|b| b.target.clone()) else {
                panic!("a link: {}", message.text)
            };
            links.push(link);
        }
        summary("issuing a link (submit to private answer, in the core)", issuing);

        let browser = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client");
        let mut callbacks = Vec::new();
        let mut provider = Vec::new();
        for link in links {
            let location = browser.get(&link).send().await.expect("authorize").headers()["location"]
                .to_str()
                .expect("location")
                .to_owned();
            let path = location.strip_prefix("http://127.0.0.1:8080").expect("default public base").to_owned();
            // The provider's two round trips, measured alone for comparison.
            let started = Instant::now();
            browser.post(format!("{zoom}/oauth/token")).send().await.expect("token").bytes().await.expect("body");
            browser.get(format!("{zoom}/v2/users/me")).send().await.expect("me").bytes().await.expect("body");
            provider.push(started.elapsed());
            let started = Instant::now();
            let page = browser.get(format!("http://{address}{path}")).send().await.expect("callback");
            assert_eq!(page.status(), 200);
            page.bytes().await.expect("page");
            callbacks.push(started.elapsed());
        }
        summary("the callback, whole (HTTP in, exchange, verify, switch, page out)", callbacks);
        summary("  of which the provider's two round trips take about", provider);
    });
}
