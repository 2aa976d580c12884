//! The real binary with a bot token, against the loopback fake Discord: REST through
//! `discord.api_base_url` and a ws:// gateway; and the program in-process with its
//! gateway (`startup::Adapter`, as `cutover run` runs it), the clock pinned. Asserts what
//! the fake received.

use crate::fake_discord::{self as discord, callback, option, FakeDiscord, EPHEMERAL, MEMBER};
use crate::fake_zoom::FakeZoom;
use crate::helpers::{at, metric, Setup, Stopped, TestDir, NOW, OTHER_USER, OWNER};
use crate::openapi::{assert_command_registration, assert_interaction_response};
use serde_json::json;
use std::process::Stdio;
use tokio::io::AsyncReadExt;

const TOKEN: &str = discord::BOT_TOKEN;

fn callback_of(id: &str) -> impl Fn(&crate::fake_discord::Received) -> bool + '_ {
    move |r| {
        r.method == "POST" && r.path == format!("/api/v10/interactions/{id}/token-{id}/callback")
    }
}

fn is_guild_registration(r: &crate::fake_discord::Received) -> bool {
    r.method == "PUT"
        && r.path
            == format!(
                "/api/v10/applications/{}/guilds/{}/commands",
                discord::APPLICATION_ID,
                discord::GUILD_ID
            )
}

/// The binary with a bot token against the fake Discord, twelve connections of OWNER's
/// imported first; handed back once it has registered its commands, so that
/// interactions come to a bot that is ready.
async fn gateway_bot() -> (FakeDiscord, TestDir, tokio::process::Child) {
    let discord = FakeDiscord::start().await;
    let dir = TestDir::new();
    let zoom = FakeZoom::start().await;
    let config = dir.config(&format!("{}{}", zoom.config(), dir.sealing_key()));
    let mut csv = String::from("id,name,integration,owner,auth_type\n");
    for i in 0..12 {
        csv.push_str(&format!("g{i:02},Gateway {i:02},,{OWNER},jwt\n"));
    }
    dir.write("inventory.csv", &csv);
    let imported = dir
        .cutover()
        .arg("--config")
        .arg(&config)
        .args(["connections", "import", "inventory.csv"])
        .output()
        .await
        .expect("import");
    assert!(imported.status.success());

    let child = discord
        .bot(&dir, &config)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start cutover");
    discord.wait_for_request(is_guild_registration).await;
    (discord, dir, child)
}

#[tokio::test]
async fn the_gateway_adapter_identifies_and_registers_the_commands() {
    let (discord, _dir, _child) = gateway_bot().await;
    // It identifies with the token and only non-privileged intents.
    let identify = discord.wait_for_gateway(|p| p["op"] == 2).await;
    assert_eq!(identify["d"]["token"], format!("Bot {TOKEN}"));
    let intents = identify["d"]["intents"].as_u64().expect("intents");
    assert_eq!(intents, 1, "GUILDS only");
    assert_eq!(intents & (1 << 15), 0, "no message content");

    // It registers the commands in the configured guild, in a shape Discord accepts.
    let registration = discord.wait_for_request(is_guild_registration).await;
    assert_command_registration(&registration.body, true);
    let names: Vec<&str> = registration
        .body
        .as_array()
        .expect("commands")
        .iter()
        .filter_map(|c| c["name"].as_str())
        .collect();
    assert_eq!(
        names,
        [
            "deadlines",
            "connections",
            "migrate",
            "migration",
            "cutover",
            "progress",
            "status",
            "help"
        ]
    );
    let cutover = &registration.body[4];
    assert_eq!(cutover["default_member_permissions"], "32");
    let migrate = &registration.body[2];
    assert_eq!(migrate["options"][0]["autocomplete"], true);
}

#[tokio::test]
async fn in_process_the_gateway_answers_at_the_pinned_instant_and_closes_before_the_server() {
    let mut world = Stopped::fresh(Setup::default())
        .await
        .start_with_gateway(NOW)
        .await;
    let identify = world.discord.wait_for_gateway(|p| p["op"] == 2).await;
    assert_eq!(identify["d"]["token"], "Bot discord-bot-token-for-tests");
    world.discord.wait_for_request(is_guild_registration).await;

    world.discord.dispatch(
        "INTERACTION_CREATE",
        discord::command("720", "deadlines", json!([]), OWNER, MEMBER),
    );
    let answer = world
        .discord
        .wait_for_request(callback_of("720"))
        .await
        .body;
    assert_interaction_response(&answer);
    assert_eq!(answer["type"], callback::CHANNEL_MESSAGE);
    assert_eq!(answer["data"]["flags"].as_u64().unwrap_or(0) & EPHEMERAL, 0);
    // Counted from the test's clock, not the machine's: the program's own core answered.
    let jwt_off = at("2023-09-01T00:00:00Z").timestamp();
    assert_eq!(
        answer["data"]["embeds"][0]["fields"][2]["value"],
        format!("<t:{jwt_off}:F> (<t:{jwt_off}:R>)\npassed 812 days ago\nJWT apps stop authenticating; Zoom gives 2023-09-08 as the end of life.")
    );
    let answered = "cutover_interactions_total{command=\"deadlines\",outcome=\"ok\"}";
    assert_eq!(metric(&world.app, answered).await, 1.0);

    // The gateway closes first, with a normal close frame; then the server stops cleanly.
    let closed = world.app.stop_gateway().await;
    assert_eq!(closed.as_deref(), Some("the Discord gateway closed"));
    let close = world
        .discord
        .wait_for_gateway(|p| p.get("close").is_some())
        .await;
    assert_eq!(close["close"], 1000, "a normal close frame");
    world.stop().await;
}

#[tokio::test]
async fn the_gateway_adapter_answers_interactions_and_stops_cleanly() {
    let (discord, _dir, mut child) = gateway_bot().await;
    // /deadlines: a public message with the countdown.
    discord.dispatch(
        "INTERACTION_CREATE",
        discord::command("700", "deadlines", json!([]), OWNER, MEMBER),
    );
    let answer = discord.wait_for_request(callback_of("700")).await.body;
    assert_interaction_response(&answer);
    assert_eq!(answer["type"], callback::CHANNEL_MESSAGE);
    assert!(answer["data"]["flags"].as_u64().unwrap_or(0) & EPHEMERAL == 0);
    assert_eq!(
        answer["data"]["embeds"][0]["fields"]
            .as_array()
            .map(Vec::len),
        Some(3)
    );

    // /migrate: the modal, with the connection in its custom id.
    let options = json!([{ "name": "connection", "type": option::STRING, "value": "g01" }]);
    discord.dispatch(
        "INTERACTION_CREATE",
        discord::command("701", "migrate", options, OWNER, MEMBER),
    );
    let modal = discord.wait_for_request(callback_of("701")).await.body;
    assert_interaction_response(&modal);
    assert_eq!(modal["type"], callback::MODAL);
    assert_eq!(modal["data"]["custom_id"], "c1:mf:g01");
    let limits: Vec<(Option<u64>, Option<u64>)> = modal["data"]["components"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|row| {
            (
                row["components"][0]["min_length"].as_u64(),
                row["components"][0]["max_length"].as_u64(),
            )
        })
        .collect();
    assert_eq!(limits, [(Some(8), Some(64)), (Some(8), Some(128))]);

    // Someone else's /migrate: private.
    let options = json!([{ "name": "connection", "type": option::STRING, "value": "g01" }]);
    discord.dispatch(
        "INTERACTION_CREATE",
        discord::command("702", "migrate", options, OTHER_USER, MEMBER),
    );
    let refused = discord.wait_for_request(callback_of("702")).await.body;
    assert_interaction_response(&refused);
    assert_eq!(refused["data"]["flags"], EPHEMERAL);

    // /connections and its next-page button, whose id comes back to the bot.
    discord.dispatch(
        "INTERACTION_CREATE",
        discord::command("703", "connections", json!([]), OWNER, MEMBER),
    );
    let page = discord.wait_for_request(callback_of("703")).await.body;
    assert_interaction_response(&page);
    let next = page["data"]["components"][0]["components"][1]["custom_id"]
        .as_str()
        .expect("next button")
        .to_owned();
    discord.dispatch("INTERACTION_CREATE", discord::button("704", &next, OWNER));
    let turned = discord.wait_for_request(callback_of("704")).await.body;
    assert_interaction_response(&turned);
    assert_eq!(turned["type"], callback::UPDATE_MESSAGE);
    assert!(
        turned["data"]["content"]
            .as_str()
            .unwrap_or_default()
            .contains("(page 2 of 2)"),
        "{turned}"
    );

    // From another server: refused privately, nothing done.
    let remove = json!([{ "name": "connection", "type": option::SUB_COMMAND_GROUP, "options": [{ "name": "remove", "type": option::SUB_COMMAND, "options": [
        { "name": "id", "type": option::STRING, "value": "g01" }
    ] }] }]);
    let mut elsewhere = discord::command("705", "cutover", remove, OWNER, discord::MANAGE_GUILD);
    elsewhere["guild_id"] = json!("810000000000000009");
    discord.dispatch("INTERACTION_CREATE", elsewhere);
    let refused = discord.wait_for_request(callback_of("705")).await.body;
    assert_interaction_response(&refused);
    assert_eq!(refused["data"]["flags"], EPHEMERAL, "private");
    assert_eq!(
        refused["data"]["content"],
        "This cutover works for one team's Discord server, and this is not it: use its commands in that server. \
         Nothing was done here."
    );

    // SIGTERM closes the shard and the program cleanly.
    let pid = child.id().expect("pid").to_string();
    assert!(tokio::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .await
        .expect("kill")
        .success());
    let status = child.wait().await.expect("exit");
    let mut log = String::new();
    child
        .stderr
        .take()
        .expect("stderr")
        .read_to_string(&mut log)
        .await
        .expect("log");
    assert!(status.success(), "{log}");
    assert!(log.contains("stopped cleanly"), "{log}");
    assert!(log.contains("the Discord gateway closed"), "{log}");
    let close = discord.wait_for_gateway(|p| p.get("close").is_some()).await;
    assert_eq!(close["close"], 1000, "a normal close frame");
    assert!(!log.contains(TOKEN), "the token must never be logged");
}

#[tokio::test]
async fn commands_register_puts_the_commands_globally_or_in_a_guild() {
    let discord = FakeDiscord::start().await;
    let dir = TestDir::new();
    let config = dir.config(&FakeZoom::start().await.config());
    let run = |guild: Option<&str>| {
        let mut command = dir.cutover();
        command
            .arg("--config")
            .arg(&config)
            .args(["commands", "register"])
            .env("CUTOVER__DISCORD__TOKEN", TOKEN)
            .env("CUTOVER__DISCORD__API_BASE_URL", &discord.base_url)
            .env("CUTOVER__DISCORD__APPLICATION_ID", discord::APPLICATION_ID);
        if let Some(guild) = guild {
            command.args(["--guild", guild]);
        }
        command.output()
    };
    let out = run(None).await.expect("register globally");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "Registered 8 slash commands globally (may take up to an hour to appear).\n"
    );
    let global = discord
        .wait_for_request(|r| {
            r.method == "PUT"
                && r.path == format!("/api/v10/applications/{}/commands", discord::APPLICATION_ID)
        })
        .await;
    assert_command_registration(&global.body, false);

    let out = run(Some(discord::GUILD_ID))
        .await
        .expect("register in a guild");
    assert!(out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stdout).contains(&format!("in guild {}", discord::GUILD_ID))
    );

    let out = run(Some("general")).await.expect("bad guild");
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("--guild: \"general\" is not a Discord id")
    );

    let no_token = dir
        .cutover()
        .arg("--config")
        .arg(&config)
        .args(["commands", "register"])
        .output()
        .await
        .expect("run");
    assert!(!no_token.status.success());
    assert!(String::from_utf8_lossy(&no_token.stderr)
        .contains("discord.token is not set: set CUTOVER__DISCORD__TOKEN"));
}

#[tokio::test]
async fn the_gateway_defers_slow_work_and_finishes_it_by_an_edit() {
    use sqlx::Connection;
    let discord = FakeDiscord::start().await;
    let dir = TestDir::new();
    let config = dir.config(&FakeZoom::start().await.config());
    let mut child = discord
        .bot(&dir, &config)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start cutover");
    discord.wait_for_request(|r| r.method == "PUT").await;

    let mut blocker = sqlx::SqliteConnection::connect(&dir.db_url())
        .await
        .expect("second connection");
    sqlx::query("BEGIN EXCLUSIVE")
        .execute(&mut blocker)
        .await
        .expect("lock");
    let pause = json!([{ "name": "reminders", "type": option::SUB_COMMAND_GROUP, "options": [{ "name": "pause", "type": option::SUB_COMMAND, "options": [] }] }]);
    discord.dispatch(
        "INTERACTION_CREATE",
        discord::command(
            "800",
            "cutover",
            pause,
            OWNER,
            crate::fake_discord::MANAGE_GUILD,
        ),
    );
    let deferred = discord.wait_for_request(callback_of("800")).await.body;
    assert_interaction_response(&deferred);
    assert_eq!(
        (
            deferred["type"].as_u64(),
            deferred["data"]["flags"].as_u64()
        ),
        (Some(callback::DEFERRED_CHANNEL_MESSAGE), Some(EPHEMERAL))
    );
    sqlx::query("ROLLBACK")
        .execute(&mut blocker)
        .await
        .expect("unlock");

    let path = format!(
        "/api/v10/webhooks/{}/token-800/messages/@original",
        discord::APPLICATION_ID
    );
    let edit = discord
        .wait_for_request(|r| r.method == "PATCH" && r.path == path)
        .await;
    crate::openapi::assert_message_edit(&edit.body);
    assert_eq!(
        edit.body["content"],
        "Reminders are paused until an admin runs /cutover reminders resume."
    );
    let _ = child.start_kill();
}

#[tokio::test]
async fn over_the_gateway_an_admins_public_answer_brings_the_paused_notice_privately() {
    use sqlx::Connection;
    let discord = FakeDiscord::start().await;
    let dir = TestDir::new();
    let config = dir.config(&FakeZoom::start().await.config());
    // The database as a round that found the channel gone left it (that round itself is
    // in tests/api/reminders.rs): migrated by a first run, then the notice in it.
    let listed = dir
        .cutover()
        .arg("--config")
        .arg(&config)
        .args(["connections", "list"])
        .output()
        .await
        .expect("list");
    assert!(listed.status.success());
    let notice = "Reminders are paused: posting in <#700000000000000001> failed.";
    let mut db = sqlx::SqliteConnection::connect(&dir.db_url())
        .await
        .expect("database");
    sqlx::query(
        "INSERT INTO bot_settings (key, value, updated_by, updated_at) \
         VALUES ('reminders.notice', ?, 'cutover', '2026-12-07T00:00:00Z')",
    )
    .bind(notice)
    .execute(&mut db)
    .await
    .expect("notice");
    db.close().await.expect("closed");

    let mut child = discord
        .bot(&dir, &config)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start cutover");
    discord.wait_for_request(|r| r.method == "PUT").await;
    discord.dispatch(
        "INTERACTION_CREATE",
        discord::command(
            "810",
            "deadlines",
            json!([]),
            OWNER,
            crate::fake_discord::MANAGE_GUILD,
        ),
    );
    // The public answer first, without the notice; then the notice, for the admin alone.
    let answer = discord.wait_for_request(callback_of("810")).await.body;
    assert_interaction_response(&answer);
    assert_eq!(
        answer["data"]["flags"].as_u64().unwrap_or(0) & EPHEMERAL,
        0,
        "{answer}"
    );
    assert!(!answer.to_string().contains("paused"), "{answer}");
    let path = format!("/api/v10/webhooks/{}/token-810", discord::APPLICATION_ID);
    let aside = discord
        .wait_for_request(|r| r.method == "POST" && r.path == path)
        .await;
    assert_eq!(aside.body["flags"], EPHEMERAL, "{}", aside.body);
    assert_eq!(aside.body["content"], format!("⚠️ {notice}"));
    let _ = child.start_kill();
}
