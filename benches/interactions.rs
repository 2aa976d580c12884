//! The HTTP interactions endpoint under load, side by side with its limit: a bare axum
//! server that checks one Ed25519 signature and sends a fixed answer. Both run in this
//! process, one after the other, fed by the same load generator on loopback (16
//! concurrent clients); 10,000 connections in the database. PING, signed `/deadlines`
//! and the first page of `/connections` are measured; each against the limit in the same
//! run. Run: `cargo bench --bench interactions`.

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::{Json, Router};
use cutover::clock::SystemClock;
use cutover::domain::{
    Actor, AuthType, ConnectionId, ConnectionRecord, ConnectionSource, DisplayName, Snowflake,
};
use cutover::settings::Settings;
use cutover::startup::Application;
use cutover::store::Store;
use ed25519_dalek::{Signer, SigningKey, VerifyingKey};
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::{Duration, Instant};

const REQUESTS: usize = 20_000;
const CONCURRENCY: usize = 16;
/// Runs of each side, alternating; the best of each is reported (the least disturbed).
const RUNS: usize = 5;

fn interaction(i: usize, kind: u8, data: Option<Value>) -> Vec<u8> {
    let mut body = json!({
        "id": format!("{}", 500_000_000_000_000_000u64 + i as u64),
        "application_id": "900000000000000001",
        "type": kind,
        "guild_id": "800000000000000001",
        "channel_id": "700000000000000001",
        "member": {
            "user": { "id": "420000000000000001", "username": "bench", "discriminator": "0", "global_name": null, "avatar": null },
            "roles": [], "joined_at": "2024-01-01T00:00:00+00:00", "deaf": false, "mute": false, "flags": 0, "permissions": "3072"
        },
        "token": format!("token-{i}"),
        "version": 1, "app_permissions": "2048", "locale": "en-US", "entitlements": [],
        "authorizing_integration_owners": {}, "context": 0, "attachment_size_limit": 10485760
    });
    if let Some(data) = data {
        body["data"] = data;
    }
    serde_json::to_vec(&body).expect("json")
}

fn command(i: usize, name: &str) -> Vec<u8> {
    interaction(
        i,
        2,
        Some(json!({ "id": "610000000000000001", "name": name, "type": 1, "options": [] })),
    )
}

/// The limit: what any endpoint must do (read the body, verify once, answer).
async fn limit(
    key: Arc<VerifyingKey>,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, Json<Value>) {
    let get = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    };
    let mut signature = [0u8; 64];
    let decoded = hex::decode_to_slice(get("x-signature-ed25519"), &mut signature).is_ok();
    let mut message = get("x-signature-timestamp").as_bytes().to_vec();
    message.extend_from_slice(&body);
    let signature = ed25519_dalek::Signature::from_bytes(&signature);
    if !decoded || key.verify_strict(&message, &signature).is_err() {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({ "error": "invalid request signature" })),
        );
    }
    (
        StatusCode::OK,
        Json(json!({ "type": 4, "data": { "content": "A fixed answer.", "flags": 64 } })),
    )
}

struct Stats {
    per_second: f64,
    median_ms: f64,
    p99_ms: f64,
}

/// Makes the body of the interaction with the given id offset.
type Body = fn(usize) -> Vec<u8>;

/// Requests signed now: the timestamp they carry, and each body with its signature.
struct Signed {
    timestamp: String,
    requests: Arc<Vec<(Vec<u8>, String)>>,
}

fn signed(key: &SigningKey, bodies: Vec<Vec<u8>>) -> Signed {
    let timestamp = chrono::Utc::now().timestamp().to_string();
    let requests = bodies
        .into_iter()
        .map(|body| {
            let mut message = timestamp.as_bytes().to_vec();
            message.extend_from_slice(&body);
            let signature = hex::encode(key.sign(&message).to_bytes());
            (body, signature)
        })
        .collect();
    Signed {
        timestamp,
        requests: Arc::new(requests),
    }
}

async fn drive(endpoint: &str, load: &Signed) -> Stats {
    let (timestamp, signed) = (&load.timestamp, &load.requests);
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(CONCURRENCY)
        .build()
        .expect("client");
    let started = Instant::now();
    let workers: Vec<_> = (0..CONCURRENCY)
        .map(|w| {
            let (client, signed, endpoint, timestamp) = (
                client.clone(),
                Arc::clone(signed),
                endpoint.to_owned(),
                timestamp.to_owned(),
            );
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                for (body, signature) in signed.iter().skip(w).step_by(CONCURRENCY) {
                    let sent = Instant::now();
                    let response = client
                        .post(&endpoint)
                        .header("X-Signature-Ed25519", signature)
                        .header("X-Signature-Timestamp", &timestamp)
                        .header("Content-Type", "application/json")
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
    let mut latencies: Vec<Duration> = Vec::with_capacity(signed.len());
    for worker in workers {
        latencies.extend(worker.await.expect("worker"));
    }
    let elapsed = started.elapsed();
    latencies.sort();
    let pick =
        |q: f64| latencies[((latencies.len() - 1) as f64 * q).round() as usize].as_secs_f64() * 1e3;
    Stats {
        per_second: latencies.len() as f64 / elapsed.as_secs_f64(),
        median_ms: pick(0.5),
        p99_ms: pick(0.99),
    }
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
                "[database]\nurl = \"{url}\"\n[server]\nbind = \"127.0.0.1:0\"\nmax_connections = 4096\n\
                 [discord]\npublic_key = \"{}\"\n\
                 [[deadlines]]\ntitle = \"JWT apps stop working\"\ndue = \"2027-06-01T00:00:00Z\"\n\
                 [[deadlines]]\ntitle = \"Team cut-off\"\ndue = \"2027-05-01T09:00:00Z\"\n",
                hex::encode(key.verifying_key().to_bytes())
            ),
        )
        .expect("config");
        let settings = Settings::load(Some(&config)).expect("settings");
        let app = Application::build(&settings, Arc::new(SystemClock)).await.expect("build");
        let app_endpoint = format!("http://{}/discord/interactions", app.address());
        tokio::spawn(app.run_until_stopped(std::future::pending()));

        let verifying = Arc::new(key.verifying_key());
        let limit_app = Router::new().route(
            "/discord/interactions",
            post(move |headers: HeaderMap, body: Bytes| limit(Arc::clone(&verifying), headers, body)),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let limit_endpoint = format!("http://{}/discord/interactions", listener.local_addr().expect("address"));
        tokio::spawn(async move { axum::serve(listener, limit_app).await });

        // Signed before each run, so the load generator spends its time sending. Every
        // request has an interaction id of its own, as Discord's do: cutover answers an id
        // it has seen with "already handled", which is not what is measured here.
        let mut next_id = 0;
        let mut batch = |make: Body, count: usize| {
            let first = next_id;
            next_id += count;
            signed(&key, (first..first + count).map(make).collect())
        };
        let loads: [(&str, Body); 3] = [
            ("PING", |i| interaction(i, 1, None)),
            ("/deadlines", |i| command(i, "deadlines")),
            ("/connections, first page", |i| command(i, "connections")),
        ];
        // `cargo bench --bench interactions -- connections`: only the loads so named (to
        // profile one). cargo passes `--bench` itself.
        let only = std::env::args().skip(1).find(|a| !a.starts_with("--"));
        for (name, make) in loads {
            if only.as_ref().is_some_and(|word| !name.contains(word.as_str())) {
                continue;
            }
            // Warm both (connections, caches) before measuring.
            drive(&limit_endpoint, &batch(make, 2_000)).await;
            drive(&app_endpoint, &batch(make, 2_000)).await;
            let (mut best_limit, mut best_app): (Option<Stats>, Option<Stats>) = (None, None);
            for _ in 0..RUNS {
                let limit = drive(&limit_endpoint, &batch(make, REQUESTS)).await;
                let app = drive(&app_endpoint, &batch(make, REQUESTS)).await;
                if best_limit.as_ref().is_none_or(|b| limit.per_second > b.per_second) {
                    best_limit = Some(limit);
                }
                if best_app.as_ref().is_none_or(|b| app.per_second > b.per_second) {
                    best_app = Some(app);
                }
            }
            let (limit, app) = (best_limit.expect("a run"), best_app.expect("a run"));
            println!(
                "{name}: cutover {:.0}/s (median {:.2} ms, p99 {:.2} ms); limit {:.0}/s (median {:.2} ms, p99 {:.2} ms); \
                 {:.2}x the limit",
                app.per_second,
                app.median_ms,
                app.p99_ms,
                limit.per_second,
                limit.median_ms,
                limit.p99_ms,
                app.per_second / limit.per_second
            );
        }
        peak_memory(&dir, &url, &key, &mut batch).await;
    });
}

/// The binary's own memory under this load: the real program in a process of its own on
/// the same database (the figures above share one process with the load generator and
/// its signed requests), sent each load once; its peak resident set after.
async fn peak_memory(
    dir: &tempfile::TempDir,
    url: &str,
    key: &SigningKey,
    batch: &mut impl FnMut(Body, usize) -> Signed,
) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let config = dir.path().join("binary.toml");
    std::fs::write(
        &config,
        format!(
            "[database]\nurl = \"{url}\"\n[server]\nbind = \"127.0.0.1:{port}\"\n\
             [discord]\npublic_key = \"{}\"\n",
            hex::encode(key.verifying_key().to_bytes())
        ),
    )
    .expect("config");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_cutover"))
        .args(["run", "--no-terminal", "--config"])
        .arg(&config)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("the cutover binary starts");
    let health = format!("http://127.0.0.1:{port}/healthz");
    let client = reqwest::Client::new();
    // A bench may wait on a clock: until the binary answers.
    while client.get(&health).send().await.is_err() {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let endpoint = format!("http://127.0.0.1:{port}/discord/interactions");
    let loads: [Body; 3] = [
        |i| interaction(i, 1, None),
        |i| command(i, "deadlines"),
        |i| command(i, "connections"),
    ];
    for make in loads {
        drive(&endpoint, &batch(make, REQUESTS)).await;
    }
    let status =
        std::fs::read_to_string(format!("/proc/{}/status", child.id())).unwrap_or_default();
    let peak = status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .map_or("unknown".to_owned(), |kb| kb.trim().to_owned());
    println!(
        "the cutover binary, after {} requests of each kind at this load: peak RSS {peak}",
        REQUESTS
    );
    let _ = child.kill();
    let _ = child.wait();
}
