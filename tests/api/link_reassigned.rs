//! A connection given to a new owner ends the links other people hold for it: by
//! `/cutover connection assign` and by an inventory import, through the real program.

use crate::fake_discord::{self as discord, option, MANAGE_GUILD};
use crate::fake_zoom::{CLIENT_ID, CLIENT_SECRET};
use crate::helpers::World;
use crate::helpers::{authorize_link, OTHER_USER, OWNER};
use cutover::domain::{AuthType, ConnectionId, ConnectionState};
use cutover::store::AuditAction;
use serde_json::json;

const ADMIN: &str = "450000000000000001";

async fn link_for(w: &World, interaction: &str, person: &str) -> serde_json::Value {
    w.send(discord::modal_submit(
        interaction,
        "c1:mf:z1",
        &[("client_id", CLIENT_ID), ("client_secret", CLIENT_SECRET)],
        person,
    ))
    .await
}

/// The old owner opens their link after the change: a page saying so and whom to ask,
/// Zoom never asked for tokens, the connection unchanged, the end audited.
async fn assert_old_link_ended(w: &World, old_link: &str) {
    let back = w.follow(old_link).await;
    let (status, page, _) = w.callback(&back).await;
    assert_eq!(status, 410, "{page}");
    assert!(
        page.contains("This link no longer works: z1 was reassigned")
            && page.contains(&format!("It now belongs to Discord user {OTHER_USER}"))
            && page.contains("/migration status connection:z1"),
        "{page}"
    );
    assert!(w.zoom.token_requests().is_empty(), "nothing was exchanged");
    assert_eq!(w.state_of("z1").await, ConnectionState::Pending);
    let audit = w
        .app
        .store
        .audit_entries(Some(&ConnectionId::parse("z1").expect("id")), 20)
        .await
        .expect("audit");
    assert!(
        audit
            .iter()
            .any(|e| e.action == AuditAction::MigrationVoided
                && e.detail.ends_with(&format!(
                "of discord:{OWNER} ended: the connection was reassigned to discord:{OTHER_USER}"
            ))),
        "{audit:#?}"
    );
}

#[tokio::test]
async fn assigning_a_new_owner_ends_the_old_owners_live_link() {
    let w = World::start().await;
    let answer = link_for(&w, "941", OWNER).await;
    let old_link = authorize_link(&answer["data"]);

    let assign = json!([{ "name": "connection", "type": option::SUB_COMMAND_GROUP, "options": [{ "name": "assign", "type": option::SUB_COMMAND, "options": [
        { "name": "id", "type": option::STRING, "value": "z1" }, { "name": "owner", "type": option::USER, "value": OTHER_USER }
    ] }] }]);
    let r = w
        .send(discord::command(
            "942",
            "cutover",
            assign,
            ADMIN,
            MANAGE_GUILD,
        ))
        .await;
    assert!(
        r["data"]["content"]
            .as_str()
            .unwrap_or_default()
            .starts_with("`z1` now belongs to <@430000000000000001>."),
        "{r}"
    );

    assert_old_link_ended(&w, &old_link).await;
    // The new owner is not told someone else holds a link: there is none.
    let theirs = link_for(&w, "943", OTHER_USER).await;
    authorize_link(&theirs["data"]);
}

#[tokio::test]
async fn an_import_that_changes_the_owner_ends_the_old_owners_live_link() {
    let w = World::start().await;
    let answer = link_for(&w, "944", OWNER).await;
    let old_link = authorize_link(&answer["data"]);

    // What `cutover connections import` applies (the store's import, at the test's
    // clock: the binary would read the wall clock, past this link's pinned expiry).
    w.app
        .seed(&[("z1", "Zoom one", Some(OTHER_USER), AuthType::Jwt)])
        .await;

    assert_old_link_ended(&w, &old_link).await;
}

#[tokio::test]
async fn the_same_owner_again_keeps_the_link() {
    let w = World::start().await;
    let answer = link_for(&w, "945", OWNER).await;
    let link = authorize_link(&answer["data"]);
    let assign = json!([{ "name": "connection", "type": option::SUB_COMMAND_GROUP, "options": [{ "name": "assign", "type": option::SUB_COMMAND, "options": [
        { "name": "id", "type": option::STRING, "value": "z1" }, { "name": "owner", "type": option::USER, "value": OWNER }
    ] }] }]);
    w.send(discord::command(
        "946",
        "cutover",
        assign,
        ADMIN,
        MANAGE_GUILD,
    ))
    .await;
    let back = w.follow(&link).await;
    let (status, page, _) = w.callback(&back).await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(w.state_of("z1").await, ConnectionState::Migrated);
}
