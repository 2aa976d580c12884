//! integrator.io against the loopback fake (tests/api/fake_celigo.rs): a sync of 5,000
//! connections into the store, and a celigo `/migrate` submit to its private answer in
//! the core (fresh read, iClient, re-read, PUT, authorization address, link). Run:
//! `cargo bench --bench celigo`.

#[allow(dead_code)]
#[path = "../tests/api/fake_celigo.rs"]
mod fake_celigo;

use cutover::chat::{Action, ButtonTarget, Caller, Reply, Request};
use cutover::clock::{Clock, SystemClock};
use cutover::domain::Actor;
use cutover::integrator_io::{self, Health};
use cutover::inventory;
use cutover::settings::Settings;
use cutover::startup::Application;
use cutover::store::Store;
use fake_celigo::{docs, FakeCeligo, TOKEN};
use std::sync::Arc;
use std::time::{Duration, Instant};

const CONNECTIONS: usize = 5_000;
const SYNC_ROUNDS: usize = 8;
const SUBMITS: usize = 40;
/// Zoom's authorize endpoint, as far as the fake and cutover are concerned (never called).
const ZOOM: &str = "http://127.0.0.1:9";

fn summary(name: &str, mut samples: Vec<Duration>) {
    samples.sort();
    let pick =
        |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize].as_secs_f64() * 1e3;
    println!(
        "{name}: median {:.1} ms, p99 {:.1} ms, max {:.1} ms ({} runs)",
        pick(0.5),
        pick(0.99),
        pick(1.0),
        samples.len()
    );
}

/// Lets the client's throttle (10 requests a second, bursts of 10) fill up again, so
/// each run measures the work and not the deliberate pacing.
async fn refill() {
    tokio::time::sleep(Duration::from_millis(1_100)).await;
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let celigo = FakeCeligo::start(ZOOM).await;
        // integrator.io's documents give 1,000 a page as the default (and 100 elsewhere).
        celigo.set_page_size(1_000);
        for i in 0..20 {
            celigo.add_integration(&format!("int{i}"), &format!("Integration {i}"));
        }
        for n in 0..CONNECTIONS {
            let id = format!("64b7f1c2a9e3d4{n:010}");
            let name = format!("Bench connection {n}");
            let integration = format!("int{}", n % 20);
            celigo.put(match n % 3 {
                0 => docs::rest_shaped(&id, &name, Some(&integration), "jwt"),
                1 => docs::http_shaped(&id, &name, Some(&integration), "jwt"),
                _ => docs::connector_based(&id, &name, "jwt"),
            });
        }
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}/bench.db", dir.path().display());
        let token_file = dir.path().join("celigo.token");
        std::fs::write(&token_file, TOKEN).expect("token");
        let key_file = dir.path().join("key");
        std::fs::write(&key_file, "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=").expect("key");
        let config = dir.path().join("bench.toml");
        std::fs::write(
            &config,
            format!(
                "[database]\nurl = \"{url}\"\n[server]\nbind = \"127.0.0.1:0\"\n[security]\nsealing_key_file = \"{}\"\n\
                 [zoom]\nauthorize_url = \"{ZOOM}/oauth/authorize\"\ntoken_url = \"{ZOOM}/oauth/token\"\n{}",
                key_file.display(),
                celigo.config(&token_file, "sync_every = \"0s\"\n"),
            ),
        )
        .expect("config");
        let settings = Settings::load(Some(&config)).expect("settings");

        let store = Store::open(&url).await.expect("open");
        let client = integrator_io::client(&settings, Arc::new(Health::new(false)), Arc::default())
            .expect("client")
            .expect("a token is set");
        let mut first = Vec::new();
        let mut again = Vec::new();
        for round in 0..SYNC_ROUNDS {
            let started = Instant::now();
            let report = inventory::sync(&client, &store, Actor::CommandLine, || SystemClock.now(), &|_| {})
                .await
                .expect("sync");
            let took = started.elapsed();
            assert_eq!(report.zoom, CONNECTIONS);
            if round == 0 {
                assert_eq!(report.summary.new, CONNECTIONS);
                first.push(took);
            } else {
                again.push(took);
            }
            refill().await;
        }
        summary("sync of 5,000 connections, first (all new)", first);
        summary("sync of 5,000 connections, again (nothing changed)", again);
        store.close().await;

        let app = Application::build(&settings, Arc::new(SystemClock)).await.expect("build");
        let core = app.core();
        tokio::spawn(app.run_until_stopped(std::future::pending()));
        let caller = Caller { actor: Actor::Terminal, is_admin: true };
        let mut submits = Vec::new();
        for n in 0..SUBMITS {
            refill().await;
            let action = Action::ModalSubmit {
                id: format!("c1:mf:64b7f1c2a9e3d4{n:010}"),
                values: vec![
                    ("client_id".into(), "BenchClientId0123456789".into()),
                    ("client_secret".into(), "BenchClientSecret0123456789abcdef".into()),
                ],
            };
            let started = Instant::now();
            let reply = core.handle(Request::new(caller, action)).await.reply;
            submits.push(started.elapsed());
            let Reply::Message(message) = reply else { panic!("a private answer") };
            assert!(
                matches!(message.buttons.first().map(|b| &b.target), Some(ButtonTarget::Link(_))),
                "a link: {}",
                message.text
            );
        }
        summary("celigo submit to private answer, in the core (6 requests to integrator.io)", submits);
    });
}
