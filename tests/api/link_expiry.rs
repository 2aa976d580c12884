//! An expired link and the person's private message: the "expired" edit keeps the
//! fresh-link button, and an old link never overwrites the message that shows a newer
//! one. Asserted on what the fake Discord received.

use crate::fake_discord::{self as discord, callback};
use crate::fake_zoom::{CLIENT_ID, CLIENT_SECRET};
use crate::helpers::World;
use crate::helpers::{at, authorize_link, NOW, OWNER};
use std::time::Duration;

/// Submits the form for z1 as the owner; the answer's personal link.
async fn link_for(w: &World, interaction: &str) -> String {
    let answer = w
        .send(discord::modal_submit(
            interaction,
            "c1:mf:z1",
            &[("client_id", CLIENT_ID), ("client_secret", CLIENT_SECRET)],
            OWNER,
        ))
        .await;
    authorize_link(&answer["data"])
}

fn edits_of(w: &World, token: &str) -> Vec<serde_json::Value> {
    let path = format!(
        "/api/v10/webhooks/{}/{token}/messages/@original",
        discord::APPLICATION_ID
    );
    w.discord
        .requests()
        .into_iter()
        .filter(|r| r.method == "PATCH" && r.path == path)
        .map(|r| r.body)
        .collect()
}

#[tokio::test]
async fn the_expired_message_keeps_the_fresh_link_button() {
    let w = World::start().await;
    let back = w.follow(&link_for(&w, "951").await).await;
    w.app.clock.set(at(NOW) + chrono::TimeDelta::minutes(10));
    let (status, _, _) = w.callback(&back).await;
    assert_eq!(status, 410);

    let edit = w.edit_of("token-951").await;
    assert!(
        edit["content"]
            .as_str()
            .unwrap_or_default()
            .contains("This link has expired"),
        "{edit}"
    );
    let button = &edit["components"][0]["components"][0];
    assert_eq!(
        (button["label"].as_str(), button["custom_id"].as_str()),
        (Some("Get a fresh link"), Some("c1:fl:z1")),
        "{edit}"
    );
    // And it works: the press puts a new link in that message.
    let fresh = w.send(discord::button("952", "c1:fl:z1", OWNER)).await;
    assert_eq!(fresh["type"], callback::UPDATE_MESSAGE);
    authorize_link(&fresh["data"]);
}

#[tokio::test]
async fn an_old_link_leaves_the_message_with_the_newer_link_alone() {
    let w = World::start().await;
    let old_back = w.follow(&link_for(&w, "953").await).await;
    w.app.clock.set(at(NOW) + chrono::TimeDelta::minutes(10));
    // "Get a fresh link" after the first expired: the same message now shows the new one.
    let fresh = w.send(discord::button("954", "c1:fl:z1", OWNER)).await;
    assert_eq!(fresh["type"], callback::UPDATE_MESSAGE);
    let new_link = authorize_link(&fresh["data"]);

    let mut told = w.app.core.switch_events();
    let (status, page, _) = w.callback(&old_back).await;
    assert_eq!(status, 410);
    assert!(page.contains("This link has expired"), "{page}");
    // The person is told (the terminal hears it) only after any edit was sent, so once
    // the event is here every edit of the message would have reached the fake Discord.
    let event = tokio::time::timeout(Duration::from_secs(20), told.recv())
        .await
        .expect("the expiry is told")
        .expect("an event");
    assert!(event.text.contains("This link has expired"), "{event:?}");
    assert_eq!(
        edits_of(&w, "token-953"),
        Vec::<serde_json::Value>::new(),
        "the message showing the newer link was not overwritten"
    );

    // The newer link still works, and its outcome goes to that message.
    let back = w.follow(&new_link).await;
    let (status, page, _) = w.callback(&back).await;
    assert_eq!(status, 200, "{page}");
    let done = w.edit_of("token-954").await;
    assert!(
        done["content"]
            .as_str()
            .unwrap_or_default()
            .contains("Done: z1 is on OAuth 2.0"),
        "{done}"
    );
}
