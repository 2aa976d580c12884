use crate::helpers::{TestApp, NOW};
use cutover::store::AuditAction;

#[tokio::test]
async fn health_and_readiness_answer() {
    let app = TestApp::spawn("", NOW).await;
    let client = reqwest::Client::new();
    let health = client
        .get(app.url("/healthz"))
        .send()
        .await
        .expect("healthz");
    assert_eq!(health.status(), 200);
    assert_eq!(health.text().await.expect("body"), "ok\n");
    let ready = client.get(app.url("/readyz")).send().await.expect("readyz");
    assert_eq!(ready.status(), 200);
    let body: serde_json::Value = ready.json().await.expect("json");
    assert_eq!(body["status"], "ready");
    assert_eq!(body["database"], "ok");
    assert!(
        matches!(body["scheduler"].as_str(), Some("starting" | "ok")),
        "{body}"
    );

    // A scheduler that stopped running makes the instance not ready.
    app.switch.heartbeat().tick().await;
    app.reminders.tick().await;
    let body: serde_json::Value = client
        .get(app.url("/readyz"))
        .send()
        .await
        .expect("readyz")
        .json()
        .await
        .expect("json");
    assert_eq!(
        (
            body["scheduler"].as_str(),
            body["scheduler_lag_seconds"].as_i64()
        ),
        (Some("ok"), Some(0))
    );
    assert_eq!(
        (
            body["reminders"].as_str(),
            body["reminders_lag_seconds"].as_i64()
        ),
        (Some("ok"), Some(0)),
        "the reminders' scheduler beside the refresh one"
    );
    app.clock.set(crate::helpers::at("2025-11-21T12:04:00Z"));
    let stalled = client.get(app.url("/readyz")).send().await.expect("readyz");
    assert_eq!(stalled.status(), 503);
    let body: serde_json::Value = stalled.json().await.expect("json");
    assert_eq!(
        (
            body["scheduler"].as_str(),
            body["scheduler_lag_seconds"].as_i64()
        ),
        (Some("stalled"), Some(240))
    );
    assert_eq!(body["reminders"], "stalled", "{body}");
    let missing = client.get(app.url("/nope")).send().await.expect("404");
    assert_eq!(missing.status(), 404);
}

#[tokio::test]
async fn everything_is_still_there_after_a_restart() {
    let app = TestApp::spawn("", NOW).await;
    app.seed(&[("z1", "Zoom one", Some("42"), cutover::domain::AuthType::Jwt)])
        .await;
    let dir = app.stop().await;
    let app = TestApp::spawn_in(dir, "", NOW).await;
    let reply = app
        .command(crate::helpers::user(7), "connections", &[])
        .await;
    assert!(crate::helpers::message(&reply)
        .text
        .contains("`z1` **Zoom one**"));
    let audit = app.store.audit_entries(None, 10).await.expect("audit");
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0].action, AuditAction::ConnectionsImported);
}

#[tokio::test]
async fn the_refresh_scheduler_runs_its_first_round_on_its_own() {
    let app = TestApp::spawn("", NOW).await;
    // Nobody ticks it: the round must come from the scheduler the program started.
    let mut rounds = app.switch.heartbeat().finished_rounds();
    tokio::time::timeout(
        std::time::Duration::from_secs(60),
        rounds.wait_for(|finished| *finished >= 1),
    )
    .await
    .expect("the scheduler ran a round within a minute")
    .expect("the scheduler is alive");
    let body: serde_json::Value = reqwest::get(app.url("/readyz"))
        .await
        .expect("readyz")
        .json()
        .await
        .expect("json");
    assert_eq!(body["scheduler"], "ok", "{body}");
}

#[tokio::test]
async fn readiness_fails_when_the_database_file_is_deleted() {
    let app = TestApp::spawn("", NOW).await;
    let ready = reqwest::get(app.url("/readyz")).await.expect("readyz");
    assert_eq!(ready.status(), 200);
    std::fs::remove_file(app.dir.path().join("data/cutover.db")).expect("delete the database");
    let ready = reqwest::get(app.url("/readyz")).await.expect("readyz");
    assert_eq!(ready.status(), 503);
    let body: serde_json::Value = ready.json().await.expect("json");
    assert_eq!(body["database"], "unavailable");
    // Rounds that open a connection meanwhile find no file rather than make an empty one.
    app.reminders.tick().await;
    assert!(
        !app.dir.path().join("data/cutover.db").exists(),
        "no empty database was created in its place"
    );
}
