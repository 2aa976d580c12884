//! Fresh Zoom tokens cutover does not keep are revoked at the fake Zoom, never left as a
//! live grant nobody holds: a token that fails verification, an exchange whose link was
//! replaced meanwhile, a switch or a refresh the database cannot take. Database failures
//! are real ones: a trigger that aborts the write, or another connection holding the
//! write lock.

use crate::fake_discord as discord;
use crate::fake_zoom::{TokenMode, CLIENT_ID, CLIENT_SECRET};
use crate::helpers::World;
use crate::helpers::{at, authorize_link, NOW, OWNER};
use crate::revocation::{actions, queued, revoked, round, switch, switch_z1};
use chrono::TimeDelta;
use cutover::domain::ConnectionState;
use cutover::store::AuditAction;
use sqlx::Connection;
use std::sync::Arc;
use tokio::sync::Notify;

/// Submits the form for z1 and follows the link to Zoom: the callback to come back with.
async fn linked(w: &World, interaction: &str) -> String {
    let answer = w
        .send(discord::modal_submit(
            interaction,
            "c1:mf:z1",
            &[("client_id", CLIENT_ID), ("client_secret", CLIENT_SECRET)],
            OWNER,
        ))
        .await;
    w.follow(&authorize_link(&answer["data"])).await
}

/// The (access, refresh) tokens Zoom issued last.
fn last_issued(w: &World) -> (String, String) {
    let issued = w.zoom.issued_tokens();
    let [.., access, refresh] = issued.as_slice() else {
        panic!("no tokens issued: {issued:?}");
    };
    (access.clone(), refresh.clone())
}

/// The tokens named in the revocations Zoom received, in order.
fn revoke_requests(w: &World) -> Vec<String> {
    w.zoom
        .revoke_requests()
        .iter()
        .map(|r| revoked(r).0.to_owned())
        .collect()
}

/// Makes the database refuse one kind of write (`on`, e.g. `INSERT ON oauth_tokens`) from
/// now on, as a failing disk would: a trigger `name` that aborts it.
async fn refuse(w: &World, name: &str, on: &str) {
    let mut db = sqlx::SqliteConnection::connect(&w.app.dir.db_url())
        .await
        .expect("open the database");
    let sql = format!(
        "CREATE TRIGGER {name} BEFORE {on} BEGIN SELECT RAISE(ABORT, 'disk I/O error'); END"
    );
    sqlx::query(&sql).execute(&mut db).await.expect("trigger");
}

#[tokio::test]
async fn a_token_that_fails_verification_is_revoked() {
    let w = World::start().await;
    w.zoom.reject_userinfo();
    let back = linked(&w, "1001").await;
    let (status, page, _) = w.callback(&back).await;
    assert_eq!(status, 502, "{page}");
    let (access, refresh) = last_issued(&w);
    assert!(w.zoom.accepts(&access), "Zoom issued a live grant");

    round(&w).await;
    assert_eq!(revoke_requests(&w), [access.as_str()]);
    assert!(!w.zoom.accepts(&access) && !w.zoom.accepts(&refresh));
    assert_eq!(queued(&w).await, 0);
    let actions = actions(&w).await;
    assert!(
        actions.contains(&AuditAction::TokenRevocationQueued)
            && actions.last() == Some(&AuditAction::TokenRevoked),
        "{actions:?}"
    );
}

#[tokio::test]
async fn a_token_that_fails_verification_is_not_revoked_while_another_connection_may_share_its_grant(
) {
    // z2 holds a token of the app; who authorized the unverified one is not known, and if
    // it was the same person, Zoom's revoke would end z2's too.
    let w = World::start().await;
    let (z2_access, _) = switch(&w, "z2", "1002", (CLIENT_ID, CLIENT_SECRET)).await;
    w.zoom.reject_userinfo();
    let back = linked(&w, "1003").await;
    assert_eq!(w.callback(&back).await.0, 502);

    round(&w).await;
    assert!(revoke_requests(&w).is_empty(), "{:?}", revoke_requests(&w));
    assert!(w.zoom.accepts(&z2_access));
    assert_eq!(queued(&w).await, 0);
    assert_eq!(actions(&w).await.last(), Some(&AuditAction::TokenDropped));
}

#[tokio::test]
async fn an_exchange_whose_link_was_replaced_meanwhile_revokes_its_tokens() {
    let w = World::start().await;
    let back = linked(&w, "1004").await;
    w.zoom.set_token_mode(TokenMode::Held);
    let stale = w.callback(&back);
    let meanwhile = async {
        w.zoom.token_request_arrived().await;
        // Zoom hangs long enough for the attempt to be given up and a new link issued.
        w.app.clock.set(at(NOW) + TimeDelta::minutes(16));
        let fresh = w
            .send(discord::modal_submit(
                "1005",
                "c1:mf:z1",
                &[("client_id", CLIENT_ID), ("client_secret", CLIENT_SECRET)],
                OWNER,
            ))
            .await;
        w.zoom.set_token_mode(TokenMode::Normal);
        w.zoom.release_token_request();
        authorize_link(&fresh["data"])
    };
    let ((status, page, _), fresh_link) = tokio::join!(stale, meanwhile);
    assert_eq!(status, 410, "{page}");
    let (stale_access, _) = last_issued(&w);

    round(&w).await;
    assert_eq!(revoke_requests(&w), [stale_access.as_str()]);
    assert!(!w.zoom.accepts(&stale_access));
    // The newer link still switches, with a grant of its own.
    let back = w.follow(&fresh_link).await;
    assert_eq!(w.callback(&back).await.0, 200);
    let (access, _) = last_issued(&w);
    assert!(w.zoom.accepts(&access));
}

#[tokio::test]
async fn a_switch_the_database_cannot_record_revokes_its_tokens() {
    let w = World::start().await;
    refuse(&w, "no_tokens", "INSERT ON oauth_tokens").await;
    let back = linked(&w, "1006").await;
    let (status, page, _) = w.callback(&back).await;
    assert_eq!(status, 500, "{page}");
    assert_eq!(w.state_of("z1").await, ConnectionState::Pending);
    let (access, refresh) = last_issued(&w);

    round(&w).await;
    assert_eq!(revoke_requests(&w), [access.as_str()]);
    assert!(!w.zoom.accepts(&access) && !w.zoom.accepts(&refresh));
}

#[tokio::test]
async fn a_switch_whose_tokens_the_database_cannot_take_at_all_revokes_them_at_once() {
    let w = World::start().await;
    refuse(&w, "no_tokens", "INSERT ON oauth_tokens").await;
    refuse(&w, "no_queue", "INSERT ON token_revocations").await;
    let back = linked(&w, "1007").await;
    let (status, page, _) = w.callback(&back).await;
    assert_eq!(status, 500, "{page}");
    let (access, _) = last_issued(&w);
    // Before the page: no round needed, nothing could be queued.
    assert_eq!(revoke_requests(&w), [access.as_str()]);
    assert!(!w.zoom.accepts(&access));
}

/// z1 switched, then the clock moved to just before its access token expires.
async fn due_for_refresh() -> (World, String) {
    let w = World::start().await;
    let (_, old_refresh) = switch_z1(&w, "1008", (CLIENT_ID, CLIENT_SECRET)).await;
    w.app.clock.set(at(NOW) + TimeDelta::minutes(55));
    (w, old_refresh)
}

#[tokio::test]
async fn a_refresh_the_database_cannot_store_revokes_the_new_tokens_and_asks_the_owner_again() {
    let (w, old_refresh) = due_for_refresh().await;
    refuse(
        &w,
        "no_refresh",
        "UPDATE OF access_token_sealed ON oauth_tokens",
    )
    .await;
    let report = w.app.switch.refresh_due().await.expect("round");
    assert_eq!(report.needs_reauthorization, 1, "{report:?}");
    let (access, refresh) = last_issued(&w);
    assert!(!w.zoom.accepts(&old_refresh), "Zoom rotated it");
    assert_eq!(
        w.state_of("z1").await,
        ConnectionState::NeedsReauthorization
    );
    let path = format!("/api/v10/channels/{}/messages", discord::CHANNEL_ID);
    assert!(
        w.discord.requests().iter().any(|r| r.path == path
            && r.body["content"].as_str().is_some_and(|c| c.starts_with(
                "<@420000000000000001>: `z1` needs re-authorization: its refreshed token could not be saved."
            ))),
        "{:#?}",
        w.discord.requests()
    );

    round(&w).await;
    assert_eq!(revoke_requests(&w), [access.as_str()]);
    assert!(!w.zoom.accepts(&access) && !w.zoom.accepts(&refresh));
    let actions = actions(&w).await;
    assert!(
        actions.ends_with(&[
            AuditAction::TokenRefreshFailed,
            AuditAction::TokenRevocationQueued,
            AuditAction::TokenRevoked
        ]),
        "{actions:?}"
    );
}

#[tokio::test]
async fn a_refresh_the_database_cannot_take_at_all_is_revoked_at_once_and_marked_when_it_can() {
    let (w, _) = due_for_refresh().await;
    refuse(
        &w,
        "no_refresh",
        "UPDATE OF access_token_sealed ON oauth_tokens",
    )
    .await;
    refuse(&w, "no_queue", "INSERT ON token_revocations").await;
    let report = w.app.switch.refresh_due().await.expect("round");
    assert_eq!(report.failed, 1, "{report:?}");
    let (access, refresh) = last_issued(&w);
    assert_eq!(
        revoke_requests(&w),
        [access.as_str()],
        "revoked in the round"
    );
    assert!(!w.zoom.accepts(&access) && !w.zoom.accepts(&refresh));
    assert_eq!(w.state_of("z1").await, ConnectionState::Migrated);

    // Once the database takes writes again, the next round finds the old refresh token
    // refused and asks the owner to authorize again.
    let mut db = sqlx::SqliteConnection::connect(&w.app.dir.db_url())
        .await
        .expect("open the database");
    for name in ["no_refresh", "no_queue"] {
        sqlx::query(&format!("DROP TRIGGER {name}"))
            .execute(&mut db)
            .await
            .expect("drop trigger");
    }
    let report = w.app.switch.refresh_due().await.expect("round");
    assert_eq!(report.needs_reauthorization, 1, "{report:?}");
    assert_eq!(
        w.state_of("z1").await,
        ConnectionState::NeedsReauthorization
    );
}

/// Wakes the test when cutover logs that it will try a write again: the moment another
/// process may let go of the database, so that the next try finds it free.
struct Retrying(Arc<Notify>);

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Retrying {
    fn on_event(&self, event: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
        struct Message(bool);
        impl tracing::field::Visit for Message {
            fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
                self.0 |= field.name() == "message" && format!("{value:?}").ends_with("; retrying");
            }
        }
        let mut retrying = Message(false);
        event.record(&mut retrying);
        if retrying.0 {
            self.0.notify_one();
        }
    }
}

/// Listens to this test's log (the program runs on the test's thread) for retries.
fn watch_retries() -> (Arc<Notify>, tracing::subscriber::DefaultGuard) {
    use tracing_subscriber::layer::SubscriberExt;
    let retrying = Arc::new(Notify::new());
    let log = tracing_subscriber::registry().with(Retrying(Arc::clone(&retrying)));
    (retrying, tracing::subscriber::set_default(log))
}

/// Takes the database's write lock, as another cutover process (an import, a sync) does
/// while it writes: cutover's writes wait the busy timeout, then fail.
async fn another_writer(w: &World) -> sqlx::SqliteConnection {
    let mut db = sqlx::SqliteConnection::connect(&w.app.dir.db_url())
        .await
        .expect("open the database");
    sqlx::query("BEGIN IMMEDIATE")
        .execute(&mut db)
        .await
        .expect("take the write lock");
    db
}

async fn lets_go(mut db: sqlx::SqliteConnection) {
    sqlx::query("ROLLBACK")
        .execute(&mut db)
        .await
        .expect("let go of the write lock");
}

#[tokio::test]
async fn a_refresh_stored_while_another_process_writes_is_kept_once_it_has_finished() {
    let (retrying, _log) = watch_retries();
    let (w, _) = due_for_refresh().await;
    w.zoom.set_token_mode(TokenMode::Held);
    let switch = Arc::clone(&w.app.switch);
    let mut refreshing = tokio::spawn(async move { switch.refresh_due().await });
    // Claimed and sent to Zoom; then another process takes the database.
    w.zoom.token_request_arrived().await;
    let writer = another_writer(&w).await;
    w.zoom.set_token_mode(TokenMode::Normal);
    w.zoom.release_token_request();
    tokio::select! {
        () = retrying.notified() => {}
        report = &mut refreshing => panic!("the round ended without trying again: {report:?}"),
    }
    lets_go(writer).await;
    let report = refreshing.await.expect("joined").expect("round");
    assert_eq!(report.refreshed, 1, "{report:?}");
    assert_eq!(w.state_of("z1").await, ConnectionState::Migrated);
    assert!(revoke_requests(&w).is_empty());

    // The refresh token kept is the one Zoom rotated to: the next refresh sends it.
    let (_, kept) = last_issued(&w);
    w.app.clock.set(at(NOW) + TimeDelta::minutes(110));
    let report = w.app.switch.refresh_due().await.expect("round");
    assert_eq!(report.refreshed, 1, "{report:?}");
    let sent = w.zoom.token_requests();
    assert_eq!(
        sent.last().and_then(|r| r.form.get("refresh_token")),
        Some(&kept)
    );
}

#[tokio::test]
async fn a_switch_recorded_while_another_process_writes_completes_once_it_has_finished() {
    let (retrying, _log) = watch_retries();
    let w = World::start().await;
    let back = linked(&w, "1009").await;
    w.zoom.set_token_mode(TokenMode::Held);
    let page = w.callback(&back);
    tokio::pin!(page);
    tokio::select! {
        () = w.zoom.token_request_arrived() => {}
        (status, ..) = &mut page => panic!("answered {status} before Zoom was asked"),
    }
    let writer = another_writer(&w).await;
    w.zoom.set_token_mode(TokenMode::Normal);
    w.zoom.release_token_request();
    tokio::select! {
        () = retrying.notified() => {}
        (status, ..) = &mut page => panic!("answered {status} without trying again"),
    }
    lets_go(writer).await;
    let (status, page, _) = page.await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(w.state_of("z1").await, ConnectionState::Migrated);
    let (access, _) = last_issued(&w);
    assert!(w.zoom.accepts(&access));
    round(&w).await;
    assert!(revoke_requests(&w).is_empty());
}
