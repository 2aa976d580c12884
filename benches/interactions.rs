//! The HTTP interactions endpoint's whole path (verify, parse, answer) under load:
//! signed `/deadlines` interactions from a load generator on loopback, 10,000
//! connections in the database. Run: `cargo bench --bench interactions`.

use cutover::clock::SystemClock;
use cutover::domain::{
    Actor, AuthType, ConnectionId, ConnectionRecord, ConnectionSource, DisplayName, Snowflake,
};
use cutover::settings::Settings;
use cutover::startup::Application;
use cutover::store::Store;
use ed25519_dalek::{Signer, SigningKey};
use serde_json::json;
use std::sync::Arc;
use std::time::{Duration, Instant};

const REQUESTS: usize = 30_000;
const CONCURRENCY: usize = 32;

fn interaction(i: usize) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "id": format!("{}", 500_000_000_000_000_000u64 + i as u64),
        "application_id": "900000000000000001",
        "type": 2,
        "data": { "id": "610000000000000001", "name": "deadlines", "type": 1, "options": [] },
        "guild_id": "800000000000000001",
        "channel_id": "700000000000000001",
        "member": {
            "user": { "id": "420000000000000001", "username": "bench", "discriminator": "0", "global_name": null, "avatar": null },
            "roles": [], "joined_at": "2024-01-01T00:00:00+00:00", "deaf": false, "mute": false, "flags": 0, "permissions": "3072"
        },
        "token": format!("token-{i}"),
        "version": 1, "app_permissions": "2048", "locale": "en-US", "entitlements": [],
        "authorizing_integration_owners": {}, "context": 0, "attachment_size_limit": 10485760
    }))
    .expect("json")
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}/bench.db", dir.path().display());
        let store = Store::open(&url).await.expect("open");
        let records: Vec<ConnectionRecord> = (0..10_000)
            .map(|i| ConnectionRecord {
                id: ConnectionId::parse(&format!("zc{i:05}")).expect("id"),
                name: DisplayName::parse(&format!("Zoom connection {i}")).expect("name"),
                integration: cutover::domain::IntegrationName::default(),
                owner: Snowflake::new(100_000_000_000_000_000 + (i % 50) as u64).ok(),
                auth_type: if i % 3 == 0 { AuthType::OAuth2 } else { AuthType::Jwt },
            })
            .collect();
        store
            .upsert_connections(&records, ConnectionSource::Import, Actor::CommandLine, chrono::Utc::now(), "bench")
            .await
            .expect("seed");
        store.close().await;

        let key = SigningKey::from_bytes(&[7u8; 32]);
        let config = dir.path().join("bench.toml");
        std::fs::write(
            &config,
            format!(
                "[database]\nurl = \"{url}\"\n[server]\nbind = \"127.0.0.1:0\"\n[discord]\npublic_key = \"{}\"\n",
                hex::encode(key.verifying_key().to_bytes())
            ),
        )
        .expect("config");
        let settings = Settings::load(Some(&config)).expect("settings");
        let app = Application::build(&settings, Arc::new(SystemClock)).await.expect("build");
        let endpoint = format!("http://{}/discord/interactions", app.address());
        tokio::spawn(app.run_until_stopped(std::future::pending()));

        // Signed up front, so the load generator spends its time sending.
        let timestamp = chrono::Utc::now().timestamp().to_string();
        let signed: Arc<Vec<(Vec<u8>, String)>> = Arc::new(
            (0..REQUESTS)
                .map(|i| {
                    let body = interaction(i);
                    let mut message = timestamp.as_bytes().to_vec();
                    message.extend_from_slice(&body);
                    (body, hex::encode(key.sign(&message).to_bytes()))
                })
                .collect(),
        );
        let client = reqwest::Client::builder().pool_max_idle_per_host(CONCURRENCY).build().expect("client");
        let started = Instant::now();
        let workers: Vec<_> = (0..CONCURRENCY)
            .map(|w| {
                let (client, signed, endpoint, timestamp) = (client.clone(), Arc::clone(&signed), endpoint.clone(), timestamp.clone());
                tokio::spawn(async move {
                    let mut latencies = Vec::new();
                    for (body, signature) in signed.iter().skip(w).step_by(CONCURRENCY) {
                        let sent = Instant::now();
                        let response = client
                            .post(&endpoint)
                            .header("X-Signature-Ed25519", signature)
                            .header("X-Signature-Timestamp", &timestamp)
                            .body(body.clone())
                            .send()
                            .await
                            .expect("send");
                        assert_eq!(response.status(), 200);
                        response.bytes().await.expect("body");
                        latencies.push(sent.elapsed());
                    }
                    latencies
                })
            })
            .collect();
        let mut latencies: Vec<Duration> = Vec::with_capacity(REQUESTS);
        for worker in workers {
            latencies.extend(worker.await.expect("worker"));
        }
        let elapsed = started.elapsed();
        latencies.sort();
        let pick = |q: f64| latencies[((latencies.len() - 1) as f64 * q).round() as usize].as_secs_f64() * 1e3;
        println!(
            "signed /deadlines over HTTP ({REQUESTS} requests, {CONCURRENCY} at a time, 10k connections): \
             {:.0} requests/s, median {:.2} ms, p99 {:.2} ms, max {:.2} ms",
            REQUESTS as f64 / elapsed.as_secs_f64(),
            pick(0.5),
            pick(0.99),
            pick(1.0)
        );
    });
}
