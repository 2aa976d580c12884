//! An interaction delivered twice is acted on once: a signed request sent again to the
//! HTTP endpoint (within the five minutes its signature stays fresh) gets a private
//! "already handled", and a duplicate gateway event is ignored.

use crate::fake_discord::{
    self as discord, callback, option, FakeDiscord, EPHEMERAL, MANAGE_GUILD,
};
use crate::fake_zoom::{FakeZoom, CLIENT_ID, CLIENT_SECRET};
use crate::helpers::World;
use crate::helpers::{authorize_link, TestDir, OWNER};
use cutover::domain::ConnectionId;
use cutover::store::AuditAction;
use serde_json::json;
use std::process::Stdio;
use tokio::io::AsyncBufReadExt;

#[tokio::test]
async fn a_replayed_form_submit_is_answered_without_acting_again() {
    let w = World::start().await;
    let submit = discord::modal_submit(
        "961",
        "c1:mf:z1",
        &[("client_id", CLIENT_ID), ("client_secret", CLIENT_SECRET)],
        OWNER,
    );
    let first = w.send(submit.clone()).await;
    let link = authorize_link(&first["data"]);

    // The very same bytes, signature and timestamp (the clock has not moved).
    let again = w.send(submit).await;
    assert_eq!(
        again,
        json!({ "type": callback::CHANNEL_MESSAGE, "data": {
            "content": "This was already handled, so nothing was done again.",
            "flags": EPHEMERAL,
            "allowed_mentions": { "parse": [], "roles": [], "users": [] },
            "attachments": [],
            "components": []
        } }),
        "no new link for whoever sent it again"
    );
    let attempts = w
        .app
        .store
        .audit_entries(Some(&ConnectionId::parse("z1").expect("id")), 20)
        .await
        .expect("audit")
        .into_iter()
        .filter(|e| e.action == AuditAction::MigrationLinkIssued)
        .count();
    assert_eq!(attempts, 1, "one link was made");

    // The person's link was not replaced by the repeat.
    let back = w.follow(&link).await;
    let (status, page, _) = w.callback(&back).await;
    assert_eq!(status, 200, "{page}");
}

fn callback_of(id: &str) -> impl Fn(&crate::fake_discord::Received) -> bool + '_ {
    move |r| {
        r.method == "POST" && r.path == format!("/api/v10/interactions/{id}/token-{id}/callback")
    }
}

#[tokio::test]
async fn a_duplicate_gateway_event_is_ignored() {
    let discord = FakeDiscord::start().await;
    let dir = TestDir::new();
    let config = dir.config(&FakeZoom::start().await.config());
    let mut child = discord
        .bot(&dir, &config)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start cutover");
    let mut log = tokio::io::BufReader::new(child.stderr.take().expect("stderr")).lines();
    discord.wait_for_request(|r| r.method == "PUT").await;

    let add = json!([{ "name": "connection", "type": option::SUB_COMMAND_GROUP, "options": [{ "name": "add", "type": option::SUB_COMMAND, "options": [
        { "name": "id", "type": option::STRING, "value": "z9" }, { "name": "name", "type": option::STRING, "value": "Zoom nine" }
    ] }] }]);
    let event = discord::command("970", "cutover", add, OWNER, MANAGE_GUILD);
    discord.dispatch("INTERACTION_CREATE", event.clone());
    discord.dispatch("INTERACTION_CREATE", event);

    // Either the repeat is noticed, or it is acted on and answered a second time.
    let noticed = async {
        while let Ok(Some(line)) = log.next_line().await {
            if line.contains("a repeated interaction was not acted on again") {
                return true;
            }
        }
        false
    };
    tokio::select! {
        noticed = noticed => assert!(noticed, "the program's log ended first"),
        twice = discord.wait_for_requests(2, callback_of("970")) => {
            panic!("the duplicate event was acted on again: {twice:#?}")
        }
    }
    let answer = discord.wait_for_request(callback_of("970")).await;
    assert!(
        answer.body["data"]["content"]
            .as_str()
            .unwrap_or_default()
            .starts_with("Added `z9` **Zoom nine**"),
        "{:#}",
        answer.body
    );
    let answers = discord
        .requests()
        .iter()
        .filter(|r| callback_of("970")(r))
        .count();
    assert_eq!(answers, 1);
    let _ = child.start_kill();
}
