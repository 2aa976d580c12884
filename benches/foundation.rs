//! The foundation's speed: start-up to a ready /healthz, and /connections in the core,
//! both with 10,000 connections in the database. Run: `cargo bench --bench foundation`.

use cutover::chat::{Action, Caller, OptionValue, Request};
use cutover::clock::SystemClock;
use cutover::domain::{
    Actor, AuthType, ConnectionId, ConnectionRecord, ConnectionSource, DisplayName, Snowflake,
};
use cutover::settings::Settings;
use cutover::startup::Application;
use cutover::store::Store;
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, BufReader};

const CONNECTIONS: usize = 10_000;

fn summary(name: &str, mut samples: Vec<Duration>) {
    samples.sort();
    let pick = |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize];
    println!(
        "{name}: median {:.2} ms, p99 {:.2} ms, max {:.2} ms ({} runs)",
        pick(0.5).as_secs_f64() * 1e3,
        pick(0.99).as_secs_f64() * 1e3,
        pick(1.0).as_secs_f64() * 1e3,
        samples.len()
    );
}

async fn seeded_database(dir: &std::path::Path) -> String {
    let url = format!("sqlite://{}/bench.db", dir.display());
    let store = Store::open(&url).await.expect("open");
    let records: Vec<ConnectionRecord> = (0..CONNECTIONS)
        .map(|i| ConnectionRecord {
            id: ConnectionId::parse(&format!("zc{i:05}")).expect("id"),
            name: DisplayName::parse(&format!("Zoom connection {i}")).expect("name"),
            integration: cutover::domain::IntegrationName::parse(&format!(
                "Integration {}",
                i % 40
            ))
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
    url
}

/// The real binary: exec, migrations, bind, first /healthz answered.
async fn binary_startup(dir: &std::path::Path, url: &str, client: &reqwest::Client) -> Duration {
    let started = Instant::now();
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_cutover"))
        .args(["run", "--no-terminal"])
        .env("CUTOVER__DATABASE__URL", url)
        .env("CUTOVER__SERVER__BIND", "127.0.0.1:0")
        .env("RUST_LOG", "info")
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn");
    let mut lines = BufReader::new(child.stderr.take().expect("stderr")).lines();
    let address = loop {
        let line = lines
            .next_line()
            .await
            .expect("read")
            .expect("listening line");
        if let Some(rest) = line.split("listening on http://").nth(1) {
            break rest.split_whitespace().next().expect("address").to_owned();
        }
    };
    let status = client
        .get(format!("http://{address}/healthz"))
        .send()
        .await
        .expect("healthz")
        .status();
    let elapsed = started.elapsed();
    assert!(status.is_success());
    child.kill().await.expect("kill");
    elapsed
}

fn main() {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = seeded_database(dir.path()).await;
        let client = reqwest::Client::new();

        let mut samples = Vec::new();
        for _ in 0..20 {
            samples.push(binary_startup(dir.path(), &url, &client).await);
        }
        summary(
            "start-up to ready /healthz (binary, 10k connections)",
            samples,
        );

        let config = dir.path().join("bench.toml");
        std::fs::write(
            &config,
            format!("[database]\nurl = \"{url}\"\n[server]\nbind = \"127.0.0.1:0\"\n"),
        )
        .expect("config");
        let settings = Settings::load(Some(&config)).expect("settings");
        let app = Application::build(&settings, Arc::new(SystemClock))
            .await
            .expect("build");
        let core = app.core();
        let caller = Caller {
            actor: Actor::Terminal,
            is_admin: true,
        };
        let mut samples = Vec::new();
        for i in 0..500 {
            let options = if i % 2 == 0 {
                vec![]
            } else {
                vec![(
                    "owner".to_owned(),
                    OptionValue::Text("100000000000000007".into()),
                )]
            };
            let request = Request::new(
                caller,
                Action::Command {
                    name: "connections".into(),
                    options,
                },
            );
            let started = Instant::now();
            let reply = core.handle(request).await;
            samples.push(started.elapsed());
            std::hint::black_box(reply);
        }
        summary("/connections in the core (10k connections)", samples);

        let mut samples = Vec::new();
        for _ in 0..500 {
            let request = Request::new(
                caller,
                Action::Command {
                    name: "deadlines".into(),
                    options: vec![],
                },
            );
            let started = Instant::now();
            std::hint::black_box(core.handle(request).await);
            samples.push(started.elapsed());
        }
        summary("/deadlines in the core (10k connections)", samples);
    });
}
