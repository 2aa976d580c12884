//! Old Zoom tokens revoked: when a connection is switched again to another app or user,
//! or removed, its earlier tokens are revoked at the fake Zoom by the token scheduler,
//! with that app's Basic auth; never when revoking would end the new authorization.

use crate::fake_discord::{self as discord, option, MANAGE_GUILD};
use crate::fake_zoom::{
    TokenMode, TokenRequest, CLIENT_ID, CLIENT_SECRET, OTHER_CLIENT_ID, OTHER_CLIENT_SECRET,
};
use crate::helpers::World;
use crate::helpers::{at, authorize_link, NOW, OWNER};
use base64::Engine;
use chrono::TimeDelta;
use cutover::domain::{ConnectionId, ConnectionState};
use cutover::store::{AuditAction, AuditEntry};
use serde_json::json;

/// Submits the form for z1 with these credentials, follows the link and comes back:
/// the (access, refresh) tokens Zoom issued.
pub async fn switch_z1(w: &World, interaction: &str, client: (&str, &str)) -> (String, String) {
    switch(w, "z1", interaction, client).await
}

/// As `switch_z1`, for any connection the owner has.
pub async fn switch(
    w: &World,
    connection: &str,
    interaction: &str,
    client: (&str, &str),
) -> (String, String) {
    let answer = w
        .send(discord::modal_submit(
            interaction,
            &format!("c1:mf:{connection}"),
            &[("client_id", client.0), ("client_secret", client.1)],
            OWNER,
        ))
        .await;
    let back = w.follow(&authorize_link(&answer["data"])).await;
    let (status, page, _) = w.callback(&back).await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(w.state_of(connection).await, ConnectionState::Migrated);
    let issued = w.zoom.issued_tokens();
    let [.., access, refresh] = issued.as_slice() else {
        panic!("no tokens issued: {issued:?}");
    };
    (access.clone(), refresh.clone())
}

/// `/cutover connection remove id:<id>` by an admin; the answer.
pub async fn remove(w: &World, interaction: &str, id: &str) -> serde_json::Value {
    let options = json!([{ "name": "connection", "type": option::SUB_COMMAND_GROUP, "options": [{ "name": "remove", "type": option::SUB_COMMAND, "options": [
        { "name": "id", "type": option::STRING, "value": id }
    ] }] }]);
    w.send(discord::command(
        interaction,
        "cutover",
        options,
        OWNER,
        MANAGE_GUILD,
    ))
    .await
}

/// Zoom stops taking z1's refresh token: the next round marks it for re-authorization,
/// as the owner would find it before switching again.
async fn needs_reauthorization(w: &World, minutes: i64) {
    w.zoom.revoke_refresh_tokens();
    w.app.clock.set(at(NOW) + TimeDelta::minutes(minutes));
    w.app.switch.refresh_due().await.expect("round");
    assert_eq!(
        w.state_of("z1").await,
        ConnectionState::NeedsReauthorization
    );
}

/// A round of the token scheduler, as it runs on its own.
pub async fn round(w: &World) {
    w.app.switch.heartbeat().tick().await;
}

fn basic(client: (&str, &str)) -> String {
    let pair = format!("{}:{}", client.0, client.1);
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(pair)
    )
}

pub fn revoked(request: &TokenRequest) -> (&str, &str) {
    (
        request.form.get("token").map_or("", String::as_str),
        request
            .form
            .get("token_type_hint")
            .map_or("", String::as_str),
    )
}

/// z1's audit log, newest first.
async fn z1_audit(w: &World) -> Vec<AuditEntry> {
    let z1 = ConnectionId::parse("z1").expect("id");
    w.app
        .store
        .audit_entries(Some(&z1), 50)
        .await
        .expect("audit")
}

/// z1's audit actions, oldest first.
pub async fn actions(w: &World) -> Vec<AuditAction> {
    z1_audit(w)
        .await
        .into_iter()
        .rev()
        .map(|e| e.action)
        .collect()
}

pub async fn queued(w: &World) -> i64 {
    use sqlx::Connection;
    let mut db = sqlx::SqliteConnection::connect(&w.app.dir.db_url())
        .await
        .expect("open the database");
    sqlx::query_scalar("SELECT COUNT(*) FROM token_revocations")
        .fetch_one(&mut db)
        .await
        .expect("count")
}

#[tokio::test]
async fn switching_again_to_another_app_revokes_the_old_token_with_that_apps_credentials() {
    let w = World::start().await;
    let (old_access, old_refresh) = switch_z1(&w, "960", (CLIENT_ID, CLIENT_SECRET)).await;
    needs_reauthorization(&w, 55).await;
    assert!(w.zoom.accepts(&old_access), "the old grant still works");

    let (new_access, new_refresh) =
        switch_z1(&w, "961", (OTHER_CLIENT_ID, OTHER_CLIENT_SECRET)).await;
    assert_eq!(queued(&w).await, 1, "queued with the switch");
    assert!(actions(&w)
        .await
        .contains(&AuditAction::TokenRevocationQueued));
    round(&w).await;

    let requests = w.zoom.revoke_requests();
    assert_eq!(requests.len(), 1, "{requests:?}");
    assert_eq!(
        requests[0].authorization.as_deref(),
        Some(basic((CLIENT_ID, CLIENT_SECRET)).as_str()),
        "the old app's credentials, by HTTP Basic"
    );
    assert!(!requests[0].form.contains_key("client_secret"));
    assert_eq!(revoked(&requests[0]), (old_access.as_str(), "access_token"));
    assert!(!w.zoom.accepts(&old_access));
    assert!(!w.zoom.accepts(&old_refresh));
    assert!(w.zoom.accepts(&new_access) && w.zoom.accepts(&new_refresh));
    assert_eq!(queued(&w).await, 0, "the sealed copy is gone");
    assert_eq!(actions(&w).await.last(), Some(&AuditAction::TokenRevoked));
    // Nothing is revoked twice.
    round(&w).await;
    assert_eq!(w.zoom.revoke_requests().len(), 1);
}

#[tokio::test]
async fn the_same_app_and_user_again_drops_the_old_token_but_another_user_revokes_it() {
    let w = World::start().await;
    switch_z1(&w, "962", (CLIENT_ID, CLIENT_SECRET)).await;
    needs_reauthorization(&w, 55).await;
    // Same app, same Zoom user: Zoom's revoke would remove the app for that user, ending
    // the authorization just made. The old copy is dropped instead.
    let (second_access, _) = switch_z1(&w, "963", (CLIENT_ID, CLIENT_SECRET)).await;
    round(&w).await;
    assert!(w.zoom.revoke_requests().is_empty());
    assert!(w.zoom.accepts(&second_access));
    assert_eq!(queued(&w).await, 0);
    assert!(actions(&w).await.contains(&AuditAction::TokenDropped));

    // Same app, another Zoom user: the first user's grant is revoked, the new one works.
    needs_reauthorization(&w, 110).await;
    w.zoom.sign_in_as("zoomuser2");
    let (third_access, _) = switch_z1(&w, "964", (CLIENT_ID, CLIENT_SECRET)).await;
    round(&w).await;
    let requests = w.zoom.revoke_requests();
    assert_eq!(requests.len(), 1, "{requests:?}");
    assert_eq!(revoked(&requests[0]).0, second_access);
    assert!(!w.zoom.accepts(&second_access));
    assert!(w.zoom.accepts(&third_access));
}

#[tokio::test]
async fn a_removed_connection_is_revoked_after_zoom_comes_back_even_across_a_restart() {
    let w = World::start().await;
    let (access, refresh) = switch_z1(&w, "965", (CLIENT_ID, CLIENT_SECRET)).await;
    w.zoom.set_revoke_mode(TokenMode::ServerError);
    let r = remove(&w, "966", "z1").await;
    assert!(
        r.to_string().contains("Removed `z1` from the inventory."),
        "{r}"
    );
    assert!(w.sealed_tokens("z1").await.is_none());
    round(&w).await;
    assert_eq!(w.zoom.revoke_requests().len(), 1, "tried once");
    assert_eq!(queued(&w).await, 1, "kept for the next try");

    // After a restart, a minute later, Zoom answers again. The access token has expired
    // meanwhile, so Zoom does not know it: the refresh token is named instead.
    let w = w.restart().await;
    w.zoom.set_revoke_mode(TokenMode::Normal);
    w.zoom.expire_access_tokens();
    w.app.clock.set(at(NOW) + TimeDelta::minutes(2));
    round(&w).await;
    let requests = w.zoom.revoke_requests();
    let tried: Vec<_> = requests.iter().skip(1).map(revoked).collect();
    assert_eq!(
        tried,
        [
            (access.as_str(), "access_token"),
            (refresh.as_str(), "refresh_token")
        ]
    );
    assert!(!w.zoom.accepts(&refresh));
    assert_eq!(queued(&w).await, 0);
    let entries = z1_audit(&w).await;
    assert_eq!(entries[0].action, AuditAction::TokenRevoked);
}

#[tokio::test]
async fn a_refresh_that_lands_after_the_removal_is_revoked_not_kept() {
    let w = World::start().await;
    switch_z1(&w, "967", (CLIENT_ID, CLIENT_SECRET)).await;
    w.zoom.set_token_mode(TokenMode::Held);
    w.app.clock.set(at(NOW) + TimeDelta::minutes(55));
    let switch = std::sync::Arc::clone(&w.app.switch);
    let refreshing = tokio::spawn(async move { switch.refresh_due().await });
    w.zoom.token_request_arrived().await;
    // Removed while Zoom is issuing the refreshed tokens.
    remove(&w, "968", "z1").await;
    w.zoom.release_token_request();
    let report = refreshing.await.expect("joined").expect("round");
    assert_eq!((report.refreshed, report.superseded), (0, 1), "{report:?}");
    assert!(w.sealed_tokens("z1").await.is_none(), "not stored again");
    let issued = w.zoom.issued_tokens();
    let fresh_access = issued[issued.len() - 2].clone();
    assert!(w.zoom.accepts(&fresh_access));

    w.zoom.set_token_mode(TokenMode::Normal);
    round(&w).await;
    let requests = w.zoom.revoke_requests();
    assert_eq!(requests.len(), 1, "{requests:?}");
    assert_eq!(
        revoked(&requests[0]).0,
        fresh_access,
        "the live token is revoked"
    );
    assert!(!w.zoom.accepts(&fresh_access));
}

#[tokio::test]
async fn a_revocation_zoom_refuses_for_good_is_given_up_with_what_to_do() {
    let w = World::start().await;
    switch_z1(&w, "969", (CLIENT_ID, CLIENT_SECRET)).await;
    // The Zoom app was deleted: its credentials no longer work.
    w.zoom.delete_app(CLIENT_ID);
    remove(&w, "970", "z1").await;
    round(&w).await;
    assert_eq!(queued(&w).await, 0, "not retried for ever");
    let entries = z1_audit(&w).await;
    assert_eq!(entries[0].action, AuditAction::TokenRevokeFailed);
    assert!(
        entries[0].detail.contains("invalid_client")
            && entries[0].detail.contains("Zoom App Marketplace"),
        "{}",
        entries[0].detail
    );
    assert!(!entries[0].detail.contains(CLIENT_SECRET));
}

#[tokio::test]
async fn a_grant_another_connection_still_uses_is_never_revoked() {
    // z1 and z2 authorized by the same Zoom user with the same app: one grant at Zoom.
    let w = World::start().await;
    switch(&w, "z1", "971", (CLIENT_ID, CLIENT_SECRET)).await;
    let (z2_access, _) = switch(&w, "z2", "972", (CLIENT_ID, CLIENT_SECRET)).await;
    remove(&w, "973", "z1").await;
    round(&w).await;
    assert!(
        w.zoom.revoke_requests().is_empty(),
        "revoking would end z2's too"
    );
    assert!(w.zoom.accepts(&z2_access));
    assert_eq!(queued(&w).await, 0);
    let entries = z1_audit(&w).await;
    let dropped = entries
        .iter()
        .find(|e| e.action == AuditAction::TokenDropped)
        .expect("dropped, and said why");
    assert!(
        dropped.detail.contains("`z2`'s token"),
        "{}",
        dropped.detail
    );
}
