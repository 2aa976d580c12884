//! The HTTP interactions endpoint, with requests signed by a test Ed25519 key, through
//! the real program on port 0; every response body checked against Discord's OpenAPI.

use crate::fake_discord::{
    self as discord, callback, component, option, FakeDiscord, EPHEMERAL, MANAGE_GUILD, MEMBER,
};
use crate::fake_zoom::FakeZoom;
use crate::helpers::{at, TestApp, TestDir, NOW, OTHER_USER, OWNER};
use crate::openapi::assert_message_edit;
use cutover::domain::AuthType;
use ed25519_dalek::SigningKey;
use serde_json::{json, Value};
use sqlx::Connection;

const ADMIN_ROLE: &str = "440000000000000001";

fn key() -> SigningKey {
    discord::signing_key()
}

struct Endpoint {
    app: TestApp,
    client: reqwest::Client,
    discord: FakeDiscord,
}

impl Endpoint {
    async fn start() -> Self {
        Self::start_keyed(true).await
    }

    /// With or without a sealing key (without one, no secret is taken).
    async fn start_keyed(sealing_key: bool) -> Self {
        let discord = FakeDiscord::start().await;
        let dir = TestDir::new();
        let zoom = FakeZoom::start().await;
        let config = dir.config(&format!(
            "{}{}admin_role_ids = [\"{ADMIN_ROLE}\"]\n{}",
            zoom.config(),
            discord.config(),
            if sealing_key {
                dir.sealing_key()
            } else {
                String::new()
            }
        ));
        let app = TestApp::spawn_with(dir, &config, NOW).await;
        app.seed(&[
            ("z1", "Zoom one", Some(OWNER), AuthType::Jwt),
            ("z2", "Zoom two", Some(OTHER_USER), AuthType::Jwt),
        ])
        .await;
        Self {
            app,
            client: reqwest::Client::new(),
            discord,
        }
    }

    fn timestamp(&self) -> String {
        at(NOW).timestamp().to_string()
    }

    async fn post_raw(
        &self,
        body: Vec<u8>,
        signature: Option<String>,
        timestamp: Option<String>,
    ) -> (u16, Value) {
        let mut request = self
            .client
            .post(self.app.url("/discord/interactions"))
            .body(body);
        if let Some(signature) = signature {
            request = request.header("X-Signature-Ed25519", signature);
        }
        if let Some(timestamp) = timestamp {
            request = request.header("X-Signature-Timestamp", timestamp);
        }
        let response = request.send().await.expect("endpoint answers");
        let status = response.status().as_u16();
        let body = response.json().await.unwrap_or(Value::Null);
        (status, body)
    }

    fn sign(&self, key: &SigningKey, timestamp: &str, body: &[u8]) -> String {
        discord::sign(key, timestamp, body)
    }

    /// Posts a correctly signed interaction; the response must be 200 and valid for Discord.
    async fn send(&self, interaction: Value) -> Value {
        discord::send_signed(&self.app, interaction).await
    }
}

fn text(response: &Value) -> &str {
    response["data"]["content"].as_str().unwrap_or_default()
}

fn is_private(response: &Value) -> bool {
    response["data"]["flags"]
        .as_u64()
        .is_some_and(|f| f & EPHEMERAL == EPHEMERAL)
}

#[tokio::test]
async fn ping_gets_pong() {
    let e = Endpoint::start().await;
    assert_eq!(
        e.send(discord::ping()).await,
        json!({ "type": callback::PONG })
    );
}

#[tokio::test]
async fn deadlines_and_help_answer_with_a_valid_message() {
    let e = Endpoint::start().await;
    let r = e
        .send(discord::command(
            "1",
            "deadlines",
            json!([]),
            OTHER_USER,
            MEMBER,
        ))
        .await;
    assert_eq!(r["type"], callback::CHANNEL_MESSAGE);
    assert!(!is_private(&r), "/deadlines is for the channel");
    assert!(text(&r).contains("**0 of 2** connections"), "{r}");
    let fields = r["data"]["embeds"][0]["fields"]
        .as_array()
        .expect("deadline fields");
    assert_eq!(fields.len(), 3);
    assert_eq!(fields[2]["name"], "Zoom disables JWT authorization");
    assert!(fields[2]["value"]
        .as_str()
        .unwrap_or_default()
        .contains(":R>)\npassed 812 days ago"));
    assert_eq!(
        r["data"]["allowed_mentions"]["parse"],
        json!([]),
        "no pings"
    );

    let r = e
        .send(discord::command("2", "help", json!([]), OTHER_USER, MEMBER))
        .await;
    assert!(
        is_private(&r) && text(&r).contains("**/migrate** — "),
        "{r}"
    );
    assert!(
        !text(&r).contains("/cutover"),
        "admin commands are not offered to members: {r}"
    );
}

#[tokio::test]
async fn connections_pages_turn_with_buttons() {
    let e = Endpoint::start().await;
    let rows: Vec<(String, String)> = (0..15)
        .map(|i| (format!("p{i:02}"), format!("Paged {i:02}")))
        .collect();
    let rows: Vec<_> = rows
        .iter()
        .map(|(i, n)| (i.as_str(), n.as_str(), None, AuthType::Jwt))
        .collect();
    e.app.seed(&rows).await;
    let options = json!([{ "name": "show", "type": option::STRING, "value": "unmigrated" }]);
    let r = e
        .send(discord::command(
            "3",
            "connections",
            options,
            OTHER_USER,
            MEMBER,
        ))
        .await;
    assert_eq!(r["type"], callback::CHANNEL_MESSAGE);
    assert!(text(&r).contains("(page 1 of 2)"), "{r}");
    let buttons = r["data"]["components"][0]["components"]
        .as_array()
        .expect("a row of buttons");
    assert_eq!(buttons.len(), 2);
    assert_eq!(buttons[0]["disabled"], true);
    let next = buttons[1]["custom_id"].as_str().expect("custom id");

    let r = e.send(discord::button("4", next, OTHER_USER)).await;
    assert_eq!(
        r["type"],
        callback::UPDATE_MESSAGE,
        "a page turn updates the message"
    );
    assert!(text(&r).contains("(page 2 of 2)"), "{r}");

    let r = e
        .send(discord::button("5", "c1:cp:nonsense", OTHER_USER))
        .await;
    assert_eq!(r["type"], callback::CHANNEL_MESSAGE);
    assert!(is_private(&r) && text(&r).contains("out of date"), "{r}");

    let r = e
        .send(discord::command(
            "6",
            "connections",
            json!([{ "name": "show", "type": option::STRING, "value": "some" }]),
            OTHER_USER,
            MEMBER,
        ))
        .await;
    assert!(
        is_private(&r) && text(&r).contains("choose one of: unmigrated, migrated, all"),
        "{r}"
    );
}

#[tokio::test]
async fn migrate_opens_the_modal_for_the_owner_and_refuses_others_privately() {
    let e = Endpoint::start().await;
    let options = json!([{ "name": "connection", "type": option::STRING, "value": "z1" }]);
    let r = e
        .send(discord::command(
            "7",
            "migrate",
            options.clone(),
            OWNER,
            MEMBER,
        ))
        .await;
    assert_eq!(r["type"], callback::MODAL);
    let data = &r["data"];
    assert_eq!(data["custom_id"], "c1:mf:z1");
    assert_eq!(data["title"], "Switch Zoom one to OAuth");
    let inputs: Vec<&Value> = data["components"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|row| &row["components"][0])
        .collect();
    assert_eq!(inputs.len(), 2);
    assert_eq!(
        (inputs[0]["type"].as_u64(), inputs[0]["label"].as_str()),
        (Some(component::TEXT_INPUT), Some("Zoom OAuth client ID"))
    );
    assert_eq!(
        (
            inputs[0]["min_length"].as_u64(),
            inputs[0]["max_length"].as_u64()
        ),
        (Some(8), Some(64))
    );
    assert_eq!(
        (
            inputs[1]["label"].as_str(),
            inputs[1]["max_length"].as_u64()
        ),
        (Some("Zoom OAuth client secret"), Some(128))
    );
    assert!(
        inputs[0]["placeholder"]
            .as_str()
            .unwrap_or_default()
            .contains("does not mask"),
        "{r}"
    );

    let r = e
        .send(discord::command(
            "8", "migrate", options, OTHER_USER, MEMBER,
        ))
        .await;
    assert_eq!(r["type"], callback::CHANNEL_MESSAGE);
    assert!(is_private(&r), "{r}");
    assert!(
        text(&r).starts_with("You cannot switch `z1`: it belongs to <@420000000000000001>."),
        "{r}"
    );

    let r = e
        .send(discord::autocomplete(
            "10",
            "migrate",
            json!([{ "name": "connection", "type": option::STRING, "value": "zoom", "focused": true }]),
            OWNER,
        ))
        .await;
    assert_eq!(r["type"], callback::AUTOCOMPLETE_RESULT);
    assert_eq!(
        r["data"]["choices"],
        json!([{ "name": "Zoom one (z1)", "value": "z1" }]),
        "only the caller's own"
    );
}

#[tokio::test]
async fn without_a_sealing_key_migrate_refuses_before_asking_for_the_secret() {
    let e = Endpoint::start_keyed(false).await;
    let options = json!([{ "name": "connection", "type": option::STRING, "value": "z1" }]);
    let r = e
        .send(discord::command("7", "migrate", options, OWNER, MEMBER))
        .await;
    assert_eq!(
        r["type"],
        callback::CHANNEL_MESSAGE,
        "a message, not the form: {r}"
    );
    assert!(is_private(&r), "{r}");
    assert!(
        text(&r).starts_with("The switch needs a sealing key to keep your client secret safe, and none is configured, so cutover takes no secret and none was stored. An admin runs `cutover keygen`"),
        "{r}"
    );
    // A form opened before the key went away is refused the same way, secret unechoed.
    let secret = "a-client-secret-value-xyz";
    let submit = discord::modal_submit(
        "9",
        "c1:mf:z1",
        &[("client_id", "abcdefghij"), ("client_secret", secret)],
        OWNER,
    );
    let r = e.send(submit).await;
    assert!(
        is_private(&r) && text(&r).contains("runs `cutover keygen`"),
        "{r}"
    );
    assert!(!r.to_string().contains(secret));
    let attempt = e
        .app
        .store
        .latest_attempt(
            &cutover::domain::ConnectionId::parse("z1").expect("id"),
            format!("discord:{OWNER}").parse().expect("actor"),
        )
        .await
        .expect("read");
    assert!(attempt.is_none(), "nothing stored");
}

#[tokio::test]
async fn admin_commands_need_manage_server_or_an_admin_role() {
    let e = Endpoint::start().await;
    let add = json!([{ "name": "connection", "type": option::SUB_COMMAND_GROUP, "options": [{ "name": "add", "type": option::SUB_COMMAND, "options": [
        { "name": "id", "type": option::STRING, "value": "z9" }, { "name": "name", "type": option::STRING, "value": "Zoom nine" },
        { "name": "owner", "type": option::USER, "value": OWNER }
    ] }] }]);
    let r = e
        .send(discord::command(
            "11",
            "cutover",
            add.clone(),
            OTHER_USER,
            MEMBER,
        ))
        .await;
    assert!(is_private(&r) && text(&r).contains("is for admins"), "{r}");
    assert!(e
        .app
        .store
        .get_connection(&cutover::domain::ConnectionId::parse("z9").expect("id"))
        .await
        .expect("read")
        .is_none());

    let r = e
        .send(discord::command(
            "12",
            "cutover",
            add,
            OTHER_USER,
            MANAGE_GUILD,
        ))
        .await;
    assert!(
        is_private(&r) && text(&r).contains("Added `z9` **Zoom nine**"),
        "{r}"
    );

    let deadline = json!([{ "name": "deadline", "type": option::SUB_COMMAND_GROUP, "options": [{ "name": "add", "type": option::SUB_COMMAND, "options": [
        { "name": "title", "type": option::STRING, "value": "Go live" }, { "name": "due", "type": option::STRING, "value": "2025-12-01" }
    ] }] }]);
    let r = e
        .send(discord::command_with_roles(
            "13",
            "cutover",
            deadline,
            OTHER_USER,
            &[ADMIN_ROLE],
        ))
        .await;
    assert!(text(&r).starts_with("Added deadline #1 **Go live**"), "{r}");

    let channel = json!([{ "name": "reminders", "type": option::SUB_COMMAND_GROUP, "options": [{ "name": "channel", "type": option::SUB_COMMAND, "options": [
        { "name": "channel", "type": option::CHANNEL, "value": discord::CHANNEL_ID }
    ] }] }]);
    let r = e
        .send(discord::command(
            "14",
            "cutover",
            channel,
            OTHER_USER,
            MANAGE_GUILD,
        ))
        .await;
    assert!(
        text(&r).contains("Reminders will be posted in <#700000000000000001>"),
        "{r}"
    );
    assert_eq!(
        e.app
            .store
            .reminder_state()
            .await
            .expect("state")
            .channel
            .map(|c| c.to_string())
            .as_deref(),
        Some(discord::CHANNEL_ID)
    );

    let status = json!([{ "name": "status", "type": option::SUB_COMMAND, "options": [{ "name": "connection", "type": option::STRING, "value": "z9" }] }]);
    let r = e
        .send(discord::command(
            "15",
            "migration",
            status,
            OTHER_USER,
            MEMBER,
        ))
        .await;
    assert!(is_private(&r), "{r}");
    assert!(
        text(&r).contains("connection.add by discord:430000000000000001"),
        "{r}"
    );
}

#[tokio::test]
async fn unknown_commands_get_a_private_answer() {
    let e = Endpoint::start().await;
    let r = e
        .send(discord::command(
            "16",
            "frobnicate",
            json!([]),
            OTHER_USER,
            MEMBER,
        ))
        .await;
    assert!(
        is_private(&r) && text(&r).contains("not a cutover command"),
        "{r}"
    );
}

#[tokio::test]
async fn bad_requests_are_refused_before_anything_is_parsed() {
    let e = Endpoint::start().await;
    let body = serde_json::to_vec(&discord::ping()).expect("json");
    let timestamp = e.timestamp();
    let good = e.sign(&key(), &timestamp, &body);

    let (status, r) = e.post_raw(body.clone(), None, None).await;
    assert_eq!(
        (status, r),
        (401, json!({ "error": "missing request signature" }))
    );

    let mut tampered = body.clone();
    tampered.extend_from_slice(b" ");
    let (status, r) = e
        .post_raw(tampered, Some(good.clone()), Some(timestamp.clone()))
        .await;
    assert_eq!(
        (status, r),
        (401, json!({ "error": "invalid request signature" }))
    );

    let other = SigningKey::from_bytes(&[9u8; 32]);
    let wrong = e.sign(&other, &timestamp, &body);
    let (status, r) = e
        .post_raw(body.clone(), Some(wrong), Some(timestamp.clone()))
        .await;
    assert_eq!(
        (status, r),
        (401, json!({ "error": "invalid request signature" }))
    );

    // Each header missing alone.
    let (status, r) = e.post_raw(body.clone(), Some(good.clone()), None).await;
    assert_eq!(
        (status, r),
        (401, json!({ "error": "missing request signature" }))
    );
    let (status, r) = e
        .post_raw(body.clone(), None, Some(timestamp.clone()))
        .await;
    assert_eq!(
        (status, r),
        (401, json!({ "error": "missing request signature" }))
    );

    // Freshness: up to five minutes either way is accepted, a second more is not.
    let now = at(NOW).timestamp();
    for (offset, fresh) in [
        (-301, false),
        (-300, true),
        (300, true),
        (301, false),
        (86_400, false),
    ] {
        let when = (now + offset).to_string();
        let signed = e.sign(&key(), &when, &body);
        let (status, r) = e.post_raw(body.clone(), Some(signed), Some(when)).await;
        if fresh {
            assert_eq!(
                (status, &r),
                (200, &json!({ "type": callback::PONG })),
                "{offset}s"
            );
        } else {
            assert_eq!(
                (status, r),
                (
                    401,
                    json!({ "error": "the request timestamp is too far from now" })
                ),
                "{offset}s"
            );
        }
    }

    let not_json = b"not json at all".to_vec();
    let signature = e.sign(&key(), &timestamp, &not_json);
    let (status, r) = e.post_raw(not_json, Some(signature), Some(timestamp)).await;
    assert_eq!(
        (status, r),
        (
            400,
            json!({ "error": "the body is not an interaction cutover understands" })
        )
    );
}

#[tokio::test]
async fn slow_work_is_deferred_within_discords_three_seconds_and_finished_by_an_edit() {
    let e = Endpoint::start().await;
    // Another writer holds the database, so the admin's change has to wait for it.
    let mut blocker = sqlx::SqliteConnection::connect(&e.app.dir.db_url())
        .await
        .expect("second connection");
    sqlx::query("BEGIN EXCLUSIVE")
        .execute(&mut blocker)
        .await
        .expect("lock");
    let pause = json!([{ "name": "reminders", "type": option::SUB_COMMAND_GROUP, "options": [{ "name": "pause", "type": option::SUB_COMMAND, "options": [] }] }]);
    let r = e
        .send(discord::command(
            "20",
            "cutover",
            pause,
            OTHER_USER,
            MANAGE_GUILD,
        ))
        .await;
    assert_eq!(
        r["type"],
        callback::DEFERRED_CHANNEL_MESSAGE,
        "deferred: {r}"
    );
    assert!(is_private(&r));
    sqlx::query("ROLLBACK")
        .execute(&mut blocker)
        .await
        .expect("unlock");

    let path = format!(
        "/api/v10/webhooks/{}/token-20/messages/@original",
        discord::APPLICATION_ID
    );
    let edit = e
        .discord
        .wait_for_request(|r| r.method == "PATCH" && r.path == path)
        .await;
    assert_message_edit(&edit.body);
    assert_eq!(
        edit.body["content"],
        "Reminders are paused until an admin runs /cutover reminders resume."
    );
    assert_eq!(edit.body["allowed_mentions"]["parse"], json!([]));
    assert!(e.app.store.reminder_state().await.expect("state").paused);
}

#[tokio::test]
async fn every_admin_command_answers_over_http() {
    let e = Endpoint::start().await;
    let sub = |group: &str, name: &str, options: Value| json!([{ "name": group, "type": option::SUB_COMMAND_GROUP, "options": [{ "name": name, "type": option::SUB_COMMAND, "options": options }] }]);
    let cases = [
        (
            sub(
                "connection",
                "assign",
                json!([{ "name": "id", "type": option::STRING, "value": "z2" }, { "name": "owner", "type": option::USER, "value": OWNER }]),
            ),
            "`z2` now belongs to <@420000000000000001>.",
        ),
        (
            sub(
                "deadline",
                "add",
                json!([{ "name": "title", "type": option::STRING, "value": "Cut" }, { "name": "due", "type": option::STRING, "value": "2025-12-24" }]),
            ),
            "Added deadline #1 **Cut**",
        ),
        (
            sub(
                "deadline",
                "remove",
                json!([{ "name": "id", "type": option::INTEGER, "value": 1 }]),
            ),
            "Removed deadline #1.",
        ),
        (sub("reminders", "pause", json!([])), "Reminders are paused"),
        (
            sub("reminders", "resume", json!([])),
            "Reminders are on again.",
        ),
        (
            sub(
                "connection",
                "remove",
                json!([{ "name": "id", "type": option::STRING, "value": "z2" }]),
            ),
            "Removed `z2` from the inventory.",
        ),
    ];
    for (i, (options, expected)) in cases.into_iter().enumerate() {
        let r = e
            .send(discord::command(
                &format!("3{i}"),
                "cutover",
                options,
                OTHER_USER,
                MANAGE_GUILD,
            ))
            .await;
        assert!(
            is_private(&r) && text(&r).starts_with(expected),
            "{expected:?}: {r}"
        );
    }
    let own = json!([{ "name": "status", "type": option::SUB_COMMAND, "options": [] }]);
    let r = e
        .send(discord::command("40", "migration", own, OWNER, MEMBER))
        .await;
    assert!(
        is_private(&r) && text(&r).starts_with("**Your connections**: 1\n• `z1`"),
        "{r}"
    );
}

#[tokio::test]
async fn interactions_from_other_servers_and_direct_messages_are_refused_politely() {
    let e = Endpoint::start().await;
    let remove = json!([{ "name": "connection", "type": option::SUB_COMMAND_GROUP, "options": [{ "name": "remove", "type": option::SUB_COMMAND, "options": [
        { "name": "id", "type": option::STRING, "value": "z1" }
    ] }] }]);
    const REFUSAL: &str = "This cutover works for one team's Discord server, and this is not it: use its commands in that server. Nothing was done here.";
    // Another server, by someone who manages it.
    let mut elsewhere = discord::command("60", "cutover", remove.clone(), OTHER_USER, MANAGE_GUILD);
    elsewhere["guild_id"] = json!("810000000000000009");
    let r = e.send(elsewhere).await;
    assert!(is_private(&r) && text(&r) == REFUSAL, "{r}");
    // A direct message: no server, no member, the user at the top.
    let mut direct = discord::command("61", "connections", json!([]), OWNER, MEMBER);
    let user = direct["member"]["user"].clone();
    direct.as_object_mut().expect("object").remove("guild_id");
    direct.as_object_mut().expect("object").remove("member");
    direct["user"] = user;
    direct["context"] = json!(1);
    let r = e.send(direct).await;
    assert!(is_private(&r) && text(&r) == REFUSAL, "{r}");
    // Suggestions from elsewhere: none.
    let mut suggest = discord::autocomplete(
        "62",
        "migrate",
        json!([{ "name": "connection", "type": option::STRING, "value": "z", "focused": true }]),
        OWNER,
    );
    suggest["guild_id"] = json!("810000000000000009");
    let r = e.send(suggest).await;
    assert_eq!(
        r,
        json!({ "type": callback::AUTOCOMPLETE_RESULT, "data": { "choices": [] } })
    );
    // At home, the same person is answered.
    let r = e
        .send(discord::command(
            "63",
            "connections",
            json!([]),
            OWNER,
            MEMBER,
        ))
        .await;
    assert!(!text(&r).contains("this is not it"), "{r}");
    assert!(e
        .app
        .store
        .get_connection(&cutover::domain::ConnectionId::parse("z1").expect("id"))
        .await
        .expect("read")
        .is_some());
}
