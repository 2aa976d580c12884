//! The inventory from integrator.io: the CLI's `connections sync` (the built binary), the
//! admins' `/cutover connection sync`, the periodic sync, and a token integrator.io
//! refuses — against the loopback fake integrator.io.

use crate::celigo::{id, CeligoWorld, Z1};
use crate::fake_celigo::{docs, FakeCeligo, TOKEN};
use crate::fake_discord::{self as discord, option, MEMBER};
use crate::fake_zoom::{CLIENT_ID, CLIENT_SECRET};
use crate::helpers::{at, metric, TestDir, NOW, OWNER};
use cutover::domain::{Actor, AuthType, ConnectionState, MigratedVia, ShowFilter, Snowflake};
use cutover::store::{AuditAction, ConnectionQuery};
use serde_json::json;

fn cid(n: usize) -> String {
    format!("64b7f1c2a9e3d4{n:010}")
}

/// 300 connections of every kind: the three Zoom shapes on JWT, Zoom on OAuth 2.0 (with
/// and without a token), managed by an integration app, and not Zoom at all.
fn mixed(c: &FakeCeligo) {
    for i in 1..=4 {
        c.add_integration(&format!("int{i}"), &format!("Integration {i}"));
    }
    for n in 0..300 {
        let id = cid(n);
        let name = format!("Connection {n:03}");
        let integration = format!("int{}", n % 4 + 1);
        let doc = match n % 10 {
            0..=2 => docs::rest_shaped(&id, &name, Some(&integration), "jwt"),
            3 | 4 => docs::http_shaped(&id, &name, Some(&integration), "jwt"),
            5 => docs::connector_based(&id, &name, "jwt"),
            6 => docs::authorized_elsewhere(&id, &name),
            7 => docs::http_shaped(&id, &name, None, "oauth"),
            8 => docs::managed(&id, &name),
            _ => docs::not_zoom(&id, &name),
        };
        c.put(doc);
    }
}

async fn run_sync(dir: &TestDir, config: &std::path::Path) -> std::process::Output {
    dir.cutover()
        .arg("--config")
        .arg(config)
        .args(["connections", "sync"])
        .output()
        .await
        .expect("cutover connections sync")
}

/// 300 connections in integrator.io, listed 64 to a page, synced a first time; the
/// world and the sync's output.
async fn synced_from_the_command_line() -> (CeligoWorld, std::process::Output) {
    let w = CeligoWorld::start_with(TOKEN, "sync_every = \"0s\"\n", |c| {
        mixed(c);
        c.set_page_size(64);
    })
    .await;
    // An imported row with an id integrator.io lists, and one it does not.
    w.app
        .seed(&[
            (
                &cid(0),
                "Imported name",
                Some("420000000000000009"),
                AuthType::Jwt,
            ),
            ("legacy-import", "Only in the file", None, AuthType::Jwt),
        ])
        .await;

    // The first sync, from the command line (the real binary, on the same database).
    let config = w.app.dir.path().join("test.toml");
    let out = run_sync(&w.app.dir, &config).await;
    (w, out)
}

fn all_of(show: ShowFilter) -> ConnectionQuery {
    ConnectionQuery {
        show,
        owner: None,
        offset: 0,
        limit: 1000,
    }
}

#[tokio::test]
async fn a_sync_of_hundreds_keeps_zoom_connections_and_their_owners() {
    let (w, out) = synced_from_the_command_line().await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("Synced 240 Zoom connections from integrator.io (of 300 connections listed): 239 new, 1 changed"),
        "{stdout}"
    );
    assert!(
        stdout.contains("30 Zoom connections are managed by an integration app: left out"),
        "{stdout}"
    );
    assert!(!stderr.contains(TOKEN), "the token never reaches a log");
    let pages = w
        .celigo
        .requests()
        .iter()
        .filter(|r| r.path == "/v1/connections")
        .count();
    assert_eq!(pages, 5, "followed Link: rel=\"next\" across 300 / 64");

    let listed = w
        .app
        .store
        .list_connections(&all_of(ShowFilter::All))
        .await
        .expect("list");
    assert_eq!(
        listed.total, 241,
        "240 from integrator.io and the row only in the file"
    );
    let get = |n: usize| {
        listed
            .connections
            .iter()
            .find(|c| c.id.as_str() == cid(n))
            .cloned()
    };
    let first = get(0).expect("the imported id");
    assert_eq!(
        first.name.as_str(),
        "Connection 000",
        "integrator.io names it"
    );
    assert_eq!(
        first.integration.as_str(),
        "Integration 1",
        "by the integration's name, not its id"
    );
    assert_eq!(
        first.owner,
        Snowflake::new(420000000000000009).ok(),
        "the owner stays"
    );
    assert_eq!(first.offline, Some(true));
    assert_eq!(
        get(5).map(|c| c.offline),
        Some(None),
        "no offline key: not known"
    );
    assert_eq!(get(6).map(|c| c.state), Some(ConnectionState::Migrated));
    assert_eq!(
        get(7).map(|c| c.state),
        Some(ConnectionState::AwaitingAuthorization)
    );
    assert!(
        get(8).is_none() && get(9).is_none(),
        "managed and non-Zoom are left out"
    );
    assert!(listed
        .connections
        .iter()
        .any(|c| c.id.as_str() == "legacy-import"));
}

#[tokio::test]
async fn a_second_sync_tells_what_changed_in_integrator_io_since_the_first() {
    let (w, out) = synced_from_the_command_line().await;
    assert!(out.status.success());
    // Owners are given; then in integrator.io one is deleted, one switched, one renamed.
    for n in [1, 2, 3] {
        w.app
            .store
            .assign_owner(
                &id(&cid(n)),
                Snowflake::parse(OWNER).expect("owner"),
                Actor::Terminal,
                at(NOW),
            )
            .await
            .expect("assign");
    }
    w.celigo.remove(&cid(1));
    w.celigo
        .put(docs::authorized_elsewhere(&cid(2), "Connection 002"));
    w.celigo.put(docs::rest_shaped(
        &cid(3),
        "Connection 003 renamed",
        Some("int4"),
        "jwt",
    ));

    // The second, from chat.
    let summary = w.admin_sync("811").await;
    assert!(
        summary.contains("Synced 239 Zoom connections")
            && summary.contains("0 new, 2 changed, 1 switched in integrator.io, 1 removed"),
        "{summary}"
    );
    let c = |n: usize| {
        let store = w.app.store.clone();
        async move {
            store
                .get_connection(&id(&cid(n)))
                .await
                .expect("read")
                .expect("kept")
        }
    };
    let removed = c(1).await;
    assert!(removed.removed_at.is_some(), "kept, marked removed");
    assert_eq!(removed.owner, Snowflake::parse(OWNER).ok());
    let switched = c(2).await;
    assert_eq!(
        (switched.state, switched.migrated_via),
        (ConnectionState::Migrated, Some(MigratedVia::IntegratorIo))
    );
    assert_eq!(switched.owner, Snowflake::parse(OWNER).ok());
    let renamed = c(3).await;
    assert_eq!(
        (renamed.name.as_str(), renamed.integration.as_str()),
        ("Connection 003 renamed", "Integration 4")
    );
    assert_eq!(renamed.owner, Snowflake::parse(OWNER).ok());
    let audit = w
        .app
        .store
        .audit_entries(Some(&id(&cid(2))), 5)
        .await
        .expect("audit");
    assert_eq!(audit[0].action, AuditAction::MigrationSwitchedElsewhere);
    let audit = w
        .app
        .store
        .audit_entries(Some(&id(&cid(1))), 5)
        .await
        .expect("audit");
    assert_eq!(audit[0].action, AuditAction::ConnectionGone);

    // Removed connections are out of the default lists, and shown on request.
    let unmigrated = w
        .app
        .store
        .list_connections(&all_of(ShowFilter::Unmigrated))
        .await
        .expect("list");
    assert!(!unmigrated
        .connections
        .iter()
        .any(|c| c.id.as_str() == cid(1)));
    let r = w
        .send(discord::command(
            "812",
            "connections",
            json!([{ "name": "show", "type": option::STRING, "value": "removed" }]),
            OWNER,
            MEMBER,
        ))
        .await;
    let listing = r["data"]["content"].as_str().unwrap_or_default();
    assert!(
        listing.contains("Connections no longer in integrator.io**: 1")
            && listing.contains("gone from integrator.io"),
        "{listing}"
    );
}

#[tokio::test]
async fn an_empty_account_answers_204_and_syncs_nothing() {
    let w = CeligoWorld::start_with(TOKEN, "sync_every = \"0s\"\n", |_| {}).await;
    let summary = w.admin_sync("821").await;
    assert!(
        summary.contains("Synced 0 Zoom connections from integrator.io (of 0 connections listed)"),
        "{summary}"
    );
    let statuses: Vec<u16> = w
        .celigo
        .requests()
        .iter()
        .filter(|r| r.path == "/v1/connections")
        .map(|r| r.status)
        .collect();
    assert_eq!(statuses, [204]);
    // Every request integrator.io answered is counted by its status.
    let answered = w
        .celigo
        .requests()
        .iter()
        .filter(|r| r.status == 204)
        .count();
    let counted = metric(&w.app, "cutover_celigo_requests_total{status=\"204\"}").await;
    assert_eq!(counted, answered as f64);
    assert!(counted >= 1.0);
}

#[tokio::test]
async fn the_periodic_sync_runs_on_its_own_and_readyz_shows_it() {
    let w = CeligoWorld::start_with(TOKEN, "", |c| {
        c.put(docs::http_shaped(Z1, "Zoom one", None, "jwt"));
    })
    .await;
    w.celigo
        .wait_for("the sync at start", |r| r.path == "/v1/connections")
        .await;
    // The round is recorded just after its writes: ask /readyz until it says so (each
    // ask is a round trip; the bound fails a broken program instead of hanging).
    let body = tokio::time::timeout(std::time::Duration::from_secs(20), async {
        loop {
            let body: serde_json::Value = reqwest::get(w.app.url("/readyz"))
                .await
                .expect("readyz")
                .json()
                .await
                .expect("json");
            if body["sync"] == "ok" {
                return body;
            }
        }
    })
    .await
    .expect("the periodic sync ran");
    assert!(w
        .app
        .store
        .get_connection(&id(Z1))
        .await
        .expect("read")
        .is_some());
    assert_eq!(body["celigo"], "ok", "{body}");
    assert_eq!(body["status"], "ready");
    assert!(body["sync_lag_seconds"].as_i64().is_some(), "{body}");
    assert!(w
        .celigo
        .requests()
        .iter()
        .any(|r| r.path == "/v1/tokenInfo" && r.status == 200));
}

#[tokio::test]
async fn a_refused_token_is_explained_in_the_cli_in_chat_and_in_readyz_without_stopping_the_bot() {
    let w = CeligoWorld::start_with("not-the-token", "sync_every = \"0s\"\n", |c| {
        c.put(docs::http_shaped(Z1, "Zoom one", None, "jwt"));
    })
    .await;
    let config = w.app.dir.path().join("test.toml");
    let out = run_sync(&w.app.dir, &config).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("the sync did not run, and nothing was changed: integrator.io refused cutover's API token (HTTP 401)")
            && stderr.contains("it needs a Full access token"),
        "{stderr}"
    );
    assert!(!stderr.contains("not-the-token"));

    let summary = w.admin_sync("831").await;
    assert!(
        summary.contains("it needs a Full access token") && summary.contains("nothing was changed"),
        "{summary}"
    );

    let body: serde_json::Value = reqwest::get(w.app.url("/readyz"))
        .await
        .expect("readyz")
        .json()
        .await
        .expect("json");
    assert_eq!(body["celigo"], "token refused", "{body}");
    assert_eq!(
        body["status"], "ready",
        "the bot goes on without integrator.io"
    );
}

#[tokio::test]
async fn a_refused_token_is_explained_to_whoever_runs_migrate() {
    // Forced celigo backend: the imported connection is switched in integrator.io.
    let w = CeligoWorld::start_with(
        "not-the-token",
        "sync_every = \"0s\"\n[switch]\nbackend = \"celigo\"\n",
        |c| {
            c.put(docs::http_shaped(Z1, "Zoom one", None, "jwt"));
        },
    )
    .await;
    w.app
        .seed(&[(Z1, "Zoom one", Some(OWNER), AuthType::Jwt)])
        .await;
    let answer = w.submit("841", CLIENT_ID, CLIENT_SECRET).await;
    let text = answer["content"].as_str().unwrap_or_default();
    assert!(
        text.contains("integrator.io refused cutover's API token (HTTP 401)")
            && text.contains("Full access token"),
        "{text}"
    );
    assert_eq!(
        w.connection().await.state,
        ConnectionState::Pending,
        "nothing changed"
    );
}

#[tokio::test]
async fn the_terminal_says_it_is_working_then_gives_the_summary() {
    let w = CeligoWorld::start_with(TOKEN, "sync_every = \"0s\"\n", |c| {
        c.put(docs::http_shaped(Z1, "Zoom one", None, "jwt"));
    })
    .await;
    let console = crate::helpers::ScriptedConsole::new(&["/cutover connection sync"]);
    cutover::terminal::run(&w.app.core, &w.app.clock, &console).await;
    let out = console.output();
    let working = out
        .find("Reading the Zoom connections from integrator.io…")
        .expect(&out);
    let summary = out
        .find("Synced 1 Zoom connection from integrator.io")
        .expect(&out);
    assert!(working < summary, "{out}");
}
