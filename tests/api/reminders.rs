//! Reminders through the real program: the scheduler posting to the loopback Discord
//! REST at instants set by the injected clock (each round driven by a tick), across DST,
//! restarts, a stop between send and mark, downtime, a second instance on the same
//! database, Discord refusing, and the chart.

use crate::fake_discord::{self as discord, callback, PostFault, EPHEMERAL, MANAGE_GUILD, MEMBER};
use crate::helpers::{
    admin, at, message, metric, Setup, Stopped, TestApp, TestDir, World, OTHER_USER, OWNER,
};
use crate::openapi::assert_channel_message;
use cutover::chat::Reply;
use cutover::domain::AuthType;
use cutover::reminders::Round;
use cutover::store::AuditAction;
use serde_json::{json, Value};

/// What the reminder tests do with a world: start it with a schedule, move the clock to
/// run rounds, and read what was posted.
impl World {
    /// `reminders` and `deadlines`: TOML for those sections. z1 is OWNER's, z2
    /// OTHER_USER's, z3 nobody's and on OAuth already.
    async fn with_reminders(reminders: &str, deadlines: &str, now: &str) -> Self {
        let setup = Setup {
            reminders: reminders.to_owned(),
            sections: deadlines.to_owned(),
            ..Setup::default()
        };
        let w = Stopped::fresh(setup).await.start(now).await;
        w.app
            .seed(&[
                ("z1", "Zoom one", Some(OWNER), AuthType::Jwt),
                ("z2", "Zoom two", Some(OTHER_USER), AuthType::Jwt),
                ("z3", "Zoom three", None, AuthType::OAuth2),
            ])
            .await;
        // The first round has run at start: from here on, ticks drive the rounds.
        w.app.reminders.tick().await;
        w
    }

    /// Moves the clock to `now` and lets a round run.
    async fn at(&self, now: &str) {
        self.app.clock.set(at(now));
        self.app.reminders.tick().await;
    }

    fn posts(&self) -> Vec<Value> {
        self.discord.created().into_iter().map(|c| c.body).collect()
    }

    /// Every channel post the fake Discord received, kept as a message or not (it keeps
    /// one message per nonce, so two sends of one post would look like one).
    fn sends(&self) -> usize {
        self.discord
            .requests()
            .iter()
            .filter(|r| r.method == "POST" && r.path.ends_with("/messages"))
            .count()
    }

    /// Stops the program and starts it again at `now`; its first round runs.
    async fn back_at(self, now: &str) -> Self {
        let w = self.restart_at(now).await;
        w.app.reminders.tick().await;
        w
    }
}

/// The Berlin milestone of 26 March is sent; Discord makes the message but its answer
/// never reaches cutover, which stops then. What is left: the database, the fakes, the
/// configuration.
async fn stopped_while_discord_holds_the_answer() -> Stopped {
    let w = World::with_reminders(BERLIN, BERLIN_DEADLINE, "2025-03-20T00:00:00Z").await;
    w.discord.fail_channel_posts(&[PostFault::HoldAnswer]);
    w.app.clock.set(at("2025-03-26T08:00:00Z"));
    w.app.reminders.wake();
    w.discord.wait_for_created(1).await;
    let stopped = w.stop().await;
    stopped.discord.release_answer();
    stopped
}

fn content(post: &Value) -> &str {
    post["content"].as_str().unwrap_or_default()
}

const BERLIN: &str = "timezone = \"Europe/Berlin\"\nbefore = [\"7d\", \"1d\", \"0s\"]";
const BERLIN_DEADLINE: &str =
    "[[deadlines]]\ntitle = \"Team cut-off\"\ndue = \"2025-04-02T09:00\"\nnote = \"Switch before the spring release.\"";

#[tokio::test]
async fn milestones_fire_at_their_wall_clock_instants_across_dst_in_berlin() {
    let w = World::with_reminders(BERLIN, BERLIN_DEADLINE, "2025-03-20T00:00:00Z").await;
    // 7 days before 09:00 summer time is 09:00 winter time: 08:00 UTC on 26 March.
    w.at("2025-03-26T07:59:59Z").await;
    assert!(w.posts().is_empty(), "not a second early");
    w.at("2025-03-26T08:00:00Z").await;
    let posts = w.posts();
    assert_eq!(posts.len(), 1);
    let due = at("2025-04-02T07:00:00Z").timestamp();
    assert_eq!(
        content(&posts[0]).lines().next(),
        Some(format!("⏰ **Team cut-off** in 7 days: <t:{due}:F> (<t:{due}:R>).").as_str())
    );
    // Across the change (30 March): 1 day before is 09:00 summer time again.
    w.at("2025-04-01T06:59:59Z").await;
    assert_eq!(w.posts().len(), 1);
    w.at("2025-04-01T07:00:00Z").await;
    w.at("2025-04-02T07:00:00Z").await;
    let posts = w.posts();
    assert_eq!(posts.len(), 3, "{posts:#?}");
    // Each post went out as the bot, with the configured token.
    let path = format!("/api/v10/channels/{}/messages", discord::CHANNEL_ID);
    let sent: Vec<_> = w
        .discord
        .requests()
        .into_iter()
        .filter(|r| r.path == path)
        .collect();
    assert_eq!(sent.len(), 3);
    assert!(sent
        .iter()
        .all(|r| r.authorization.as_deref() == Some("Bot discord-bot-token-for-tests")));
    assert_eq!(
        metric(&w.app, "cutover_reminders_sent_total{kind=\"milestone\"}").await,
        3.0
    );
    assert!(content(&posts[1]).starts_with("⏰ **Team cut-off** in 1 day:"));
    assert!(content(&posts[2]).starts_with("⏰ **Team cut-off** is due now:"));
    for post in &posts {
        assert_channel_message(post);
        assert_eq!(post["enforce_nonce"], true);
        assert!(post["nonce"].as_str().is_some_and(|n| n.len() <= 25));
        let text = content(post);
        assert!(
            text.contains("Progress: **1 of 3**")
                && text.contains("• <@420000000000000001> (1): `z1` Zoom one"),
            "{text}"
        );
        assert!(
            text.contains("• <@430000000000000001> (1): `z2` Zoom two"),
            "{text}"
        );
        assert_eq!(
            post["allowed_mentions"],
            json!({ "parse": [], "roles": [], "users": ["420000000000000001", "430000000000000001"] }),
            "owners only: never @everyone or roles"
        );
        assert_eq!(post["components"][0]["components"][0]["custom_id"], "c1:mm");
        assert_eq!(
            post["components"][0]["components"][0]["label"],
            "Migrate mine"
        );
    }
}

#[tokio::test]
async fn milestones_keep_their_wall_clock_time_across_the_fall_back_in_new_york() {
    let w = World::with_reminders(
        "timezone = \"America/New_York\"\nbefore = [\"7d\", \"1d\", \"1h\"]",
        "[[deadlines]]\ntitle = \"NY cut-off\"\ndue = \"2025-11-04T10:00\"",
        "2025-10-20T00:00:00Z",
    )
    .await;
    // 10:00 EDT a week before (14:00 UTC), 10:00 EST the day before (15:00 UTC), and an
    // hour before as a span of time (14:00 UTC on the day).
    for (instant, expected) in [
        ("2025-10-28T14:00:00Z", "in 7 days"),
        ("2025-11-03T15:00:00Z", "in 1 day"),
        ("2025-11-04T14:00:00Z", "in 1 hour"),
    ] {
        let before = w.posts().len();
        let early = (at(instant) - chrono::TimeDelta::seconds(1)).to_rfc3339();
        w.at(&early).await;
        assert_eq!(w.posts().len(), before, "not before {instant}");
        w.at(instant).await;
        let posts = w.posts();
        assert_eq!(posts.len(), before + 1, "at {instant}");
        assert!(
            content(&posts[before]).contains(expected),
            "{}",
            content(&posts[before])
        );
    }
}

#[tokio::test]
async fn the_preview_lists_what_is_then_posted() {
    let w = World::with_reminders(BERLIN, BERLIN_DEADLINE, "2025-03-20T00:00:00Z").await;
    let reply = w
        .app
        .command(admin(1), "cutover reminders preview", &[])
        .await;
    let text = message(&reply).text.clone();
    assert!(
        text.contains("(times in Europe/Berlin)")
            && text.contains(&format!("<#{}>", discord::CHANNEL_ID)),
        "{text}"
    );
    let first = text.lines().nth(2).expect("a first post");
    assert!(
        first.starts_with(
            "• Wed 26 Mar 2025 09:00 CET (<t:1742976000:R>): 7 days before **Team cut-off**"
        ),
        "{text}"
    );
    w.at("2025-03-26T08:00:00Z").await;
    assert!(
        content(&w.posts()[0]).contains("in 7 days"),
        "what the preview said"
    );
    let reply = w
        .app
        .command(admin(1), "cutover reminders preview", &[])
        .await;
    assert!(
        message(&reply)
            .text
            .lines()
            .nth(2)
            .is_some_and(|l| l.contains("1 day before **Team cut-off**")),
        "the next one now"
    );
}

#[tokio::test]
async fn a_restart_right_after_a_post_does_not_repeat_it() {
    let w = World::with_reminders(BERLIN, BERLIN_DEADLINE, "2025-03-20T00:00:00Z").await;
    w.at("2025-03-26T08:00:00Z").await;
    assert_eq!(w.posts().len(), 1);
    let w = w.back_at("2025-03-26T08:00:30Z").await;
    w.at("2025-03-26T08:01:00Z").await;
    assert_eq!(w.sends(), 1, "sent once");
}

#[tokio::test]
async fn a_stop_between_sending_and_marking_does_not_post_twice() {
    let stopped = stopped_while_discord_holds_the_answer().await;
    // Back after the claim's lease: the post is sent again, with the same nonce.
    let w = stopped.start("2025-03-26T08:02:00Z").await;
    w.app.reminders.tick().await;
    let tries: Vec<Value> = w
        .discord
        .requests()
        .into_iter()
        .filter(|r| r.method == "POST" && r.path.ends_with("/messages"))
        .map(|r| r.body)
        .collect();
    assert_eq!(tries.len(), 2, "sent again after the restart");
    assert_eq!(tries[0]["nonce"], tries[1]["nonce"]);
    assert_eq!(w.discord.created().len(), 1, "Discord kept one message");
    // And it is marked sent now: another round sends nothing.
    w.at("2025-03-26T08:05:00Z").await;
    assert_eq!(w.sends(), 2);
}

#[tokio::test]
async fn a_stop_longer_than_discords_memory_of_the_nonce_names_the_post_instead_of_repeating_it() {
    let stopped = stopped_while_discord_holds_the_answer().await;
    // Ten minutes on, Discord no longer remembers the nonce: sending again could make a
    // second message, so the post is named in a catch-up instead.
    let w = stopped.start("2025-03-26T08:10:00Z").await;
    w.app.reminders.tick().await;
    let created = w.discord.created();
    assert_eq!(created.len(), 2, "{created:#?}");
    assert!(content(&created[1].body)
        .starts_with("🔁 **While cutover was away**, 1 reminder fell due:"));
    assert!(content(&created[1].body).contains("7 days before **Team cut-off**"));
    assert_ne!(created[0].body["nonce"], created[1].body["nonce"]);
}

#[tokio::test]
async fn pause_and_resume_take_effect_at_once_and_nothing_is_replayed() {
    let w = World::with_reminders(BERLIN, BERLIN_DEADLINE, "2025-03-20T00:00:00Z").await;
    let paused = w
        .app
        .command(admin(1), "cutover reminders pause", &[])
        .await;
    assert!(message(&paused).text.contains("paused"));
    w.at("2025-03-26T08:00:00Z").await;
    assert!(
        w.posts().is_empty(),
        "paused: the 7-day post does not go out"
    );
    w.app
        .command(admin(1), "cutover reminders resume", &[])
        .await;
    w.at("2025-03-26T08:01:00Z").await;
    assert!(
        w.posts().is_empty(),
        "resumed: what fell due while paused is not replayed"
    );
    w.at("2025-04-01T07:00:00Z").await;
    assert_eq!(w.posts().len(), 1);
    assert!(content(&w.posts()[0]).contains("in 1 day"));
}

#[tokio::test]
async fn a_fresh_install_announces_nothing_of_the_past() {
    // The 7-day milestone fell a week before the first start; the 0s one is ahead.
    let w = World::with_reminders(
        "before = [\"7d\", \"0s\"]",
        "[[deadlines]]\ntitle = \"Soon\"\ndue = \"2025-03-21T09:00:00Z\"",
        "2025-03-20T00:00:00Z",
    )
    .await;
    w.at("2025-03-20T00:30:00Z").await;
    assert!(
        w.posts().is_empty(),
        "no catch-up of a past nobody was told about"
    );
    w.at("2025-03-21T09:00:00Z").await;
    assert_eq!(w.posts().len(), 1);
    assert!(content(&w.posts()[0]).starts_with("⏰ **Soon** is due now"));
}

#[tokio::test]
async fn three_milestones_missed_while_away_make_one_catch_up_post() {
    let w = World::with_reminders(
        "before = [\"3d\", \"2d\", \"1d\"]",
        "[[deadlines]]\ntitle = \"Cut-off\"\ndue = \"2025-12-10T09:00:00Z\"",
        "2025-12-01T00:00:00Z",
    )
    .await;
    let w = w.back_at("2025-12-09T12:00:00Z").await;
    let posts = w.posts();
    assert_eq!(posts.len(), 1, "{posts:#?}");
    let text = content(&posts[0]);
    assert!(
        text.starts_with("🔁 **While cutover was away**, 3 reminders fell due:"),
        "{text}"
    );
    for what in [
        "3 days before **Cut-off**",
        "2 days before **Cut-off**",
        "1 day before **Cut-off**",
    ] {
        assert!(text.contains(what), "{text}");
    }
    assert_channel_message(&posts[0]);
    w.at("2025-12-09T12:05:00Z").await;
    assert_eq!(w.posts().len(), 1, "never replayed");
}

#[tokio::test]
async fn a_short_outage_posts_the_latest_milestone_once_and_never_a_stale_one() {
    let w = World::with_reminders(
        "before = [\"1m\", \"30s\", \"0s\"]",
        "[[deadlines]]\ntitle = \"Go-live\"\ndue = \"2025-06-02T09:00:00Z\"",
        "2025-06-02T08:58:00Z",
    )
    .await;
    // Stopped before the 1-minute milestone, started again 10 s after the deadline.
    let w = w.back_at("2025-06-02T09:00:10Z").await;
    assert_eq!(w.sends(), 1, "{:#?}", w.posts());
    let text = content(&w.posts()[0]).to_owned();
    assert!(text.starts_with("⏰ **Go-live** is due now:"), "{text}");
    // The two that were overtaken are never sent, nor caught up on later.
    w.at("2025-06-02T09:00:40Z").await;
    let w = w.back_at("2025-06-02T09:30:00Z").await;
    w.at("2025-06-02T09:31:00Z").await;
    assert_eq!(w.sends(), 1, "{:#?}", w.posts());
}

#[tokio::test]
async fn a_digest_that_falls_with_a_milestone_is_one_post() {
    let w = World::with_reminders(
        "before = [\"0s\"]\ndigest_at = \"09:30\"",
        "[[deadlines]]\ntitle = \"Cut-off\"\ndue = \"2025-12-02T09:30:00Z\"",
        "2025-12-02T09:00:00Z",
    )
    .await;
    w.at("2025-12-02T09:30:00Z").await;
    w.at("2025-12-02T09:31:00Z").await;
    assert_eq!(w.sends(), 1, "{:#?}", w.posts());
    assert!(content(&w.posts()[0]).starts_with("⏰ **Cut-off** is due now:"));
    // The day still gets its burndown: the milestone carries the digest's chart.
    let created = w.discord.created();
    assert_eq!(
        created[0].files.first().map(|(name, _)| name.as_str()),
        Some("burndown.png")
    );
    // The next working day's digest comes as usual.
    w.at("2025-12-03T09:30:00Z").await;
    assert_eq!(w.sends(), 2);
    assert!(content(&w.posts()[1]).starts_with("📋 **Cutover digest**"));
}

#[tokio::test]
async fn every_owner_with_work_left_is_pinged_in_a_long_post() {
    let w = World::with_reminders(BERLIN, BERLIN_DEADLINE, "2025-03-20T00:00:00Z").await;
    // 40 connections (3 seeded), 9 owners, 30 to go, with long ids and names: far more
    // than 2,000 characters if every name were listed.
    let owners: Vec<String> = (1..=9)
        .map(|i| (440000000000000000_u64 + i).to_string())
        .collect();
    let rows: Vec<(String, String, &str, AuthType)> = (0..37)
        .map(|i| {
            let (owner, auth) = if i < 28 {
                (owners[i % 9].as_str(), AuthType::Jwt)
            } else {
                (owners[0].as_str(), AuthType::OAuth2)
            };
            (
                format!("5f2a9c0e1b3d4a6f7e8c{i:04}"),
                format!("Zoom meetings to Salesforce, region {i:02} of many"),
                owner,
                auth,
            )
        })
        .collect();
    let rows: Vec<(&str, &str, Option<&str>, AuthType)> = rows
        .iter()
        .map(|(id, name, owner, auth)| (id.as_str(), name.as_str(), Some(*owner), *auth))
        .collect();
    w.app.seed(&rows).await;
    w.at("2025-03-26T08:00:00Z").await;
    let posts = w.posts();
    assert_eq!(posts.len(), 1);
    let text = content(&posts[0]);
    assert!(text.chars().count() <= 2_000, "{}", text.chars().count());
    assert!(text.contains("Progress: **10 of 40**"), "{text}");
    let mut expected: Vec<String> = vec![OWNER.to_owned(), OTHER_USER.to_owned()];
    expected.extend(owners.iter().cloned());
    for id in &expected {
        assert!(
            text.contains(&format!("• <@{id}> (")),
            "{id} not pinged:\n{text}"
        );
    }
    assert!(!text.contains("more people"), "{text}");
    let mut pinged: Vec<String> = posts[0]["allowed_mentions"]["users"]
        .as_array()
        .expect("users")
        .iter()
        .filter_map(|u| u.as_str().map(str::to_owned))
        .collect();
    pinged.sort();
    expected.sort();
    assert_eq!(pinged, expected);
    assert_channel_message(&posts[0]);
}

#[tokio::test]
async fn two_instances_on_one_database_post_once() {
    let w = World::with_reminders(BERLIN, BERLIN_DEADLINE, "2025-03-20T00:00:00Z").await;
    let second_dir = TestDir::new();
    let second_config = second_dir.write(
        "second.toml",
        &std::fs::read_to_string(w.config()).expect("config"),
    );
    let second = TestApp::spawn_with(second_dir, &second_config, "2025-03-20T00:00:00Z").await;
    // The second scheduler's first round runs now, before the clock moves: from here
    // on, both schedulers rest and only the calls below run rounds.
    second.reminders.tick().await;
    for app in [&w.app, &second] {
        app.clock.set(at("2025-03-26T08:00:00Z"));
    }
    // Both plan the same post before either claims it: only the claim keeps the
    // second from sending too.
    let (first, other) = tokio::join!(w.app.reminders.plan_round(), second.reminders.plan_round());
    let (Ok(Round::Planned(first)), Ok(Round::Planned(other))) = (first, other) else {
        panic!("both instances have a round to carry out");
    };
    let (a, b) = tokio::join!(
        w.app.reminders.carry_out(*first),
        second.reminders.carry_out(*other)
    );
    a.expect("first round");
    b.expect("second round");
    assert_eq!(w.sends(), 1, "the claim decided: one send");
    assert_eq!(w.posts().len(), 1);
    // And rounds as the scheduler runs them, side by side, send nothing more.
    for app in [&w.app, &second] {
        app.clock.set(at("2025-03-26T08:00:30Z"));
    }
    tokio::join!(w.app.reminders.tick(), second.reminders.tick());
    assert_eq!(w.sends(), 1);
}

#[tokio::test]
async fn a_rate_limit_then_success_posts_once() {
    let w = World::with_reminders(BERLIN, BERLIN_DEADLINE, "2025-03-20T00:00:00Z").await;
    w.discord.fail_channel_posts(&[PostFault::RateLimited]);
    w.at("2025-03-26T08:00:00Z").await;
    let sends = w
        .discord
        .requests()
        .iter()
        .filter(|r| r.method == "POST" && r.path.ends_with("/messages"))
        .count();
    assert_eq!(sends, 2, "retried");
    assert_eq!(w.posts().len(), 1, "posted once");
}

#[tokio::test]
async fn a_channel_that_is_gone_pauses_reminders_and_the_next_admin_is_told() {
    let w = World::with_reminders(BERLIN, BERLIN_DEADLINE, "2025-03-20T00:00:00Z").await;
    w.discord.fail_channel_posts(&[PostFault::UnknownChannel]);
    w.at("2025-03-26T08:00:00Z").await;
    assert!(w.posts().is_empty());
    let state = w.app.store.reminder_state().await.expect("state");
    assert!(state.paused, "paused");
    let audit = w.app.store.audit_entries(None, 5).await.expect("audit");
    assert!(
        audit
            .iter()
            .any(|e| e.action == AuditAction::RemindersPausedOnError && e.detail.contains("404")),
        "{audit:#?}"
    );
    // The next admin hears of it once, whichever command it was; a member does not.
    let member = discord::send_signed(
        &w.app,
        discord::command("30", "deadlines", json!([]), OWNER, MEMBER),
    )
    .await;
    assert!(!member["data"]["content"].to_string().contains("paused"));
    // A public answer cannot carry it: it follows, for that admin alone.
    let public = discord::send_signed(
        &w.app,
        discord::command("31", "deadlines", json!([]), OWNER, MANAGE_GUILD),
    )
    .await;
    assert_eq!(public["data"]["flags"], 0, "public: {public}");
    assert!(!public["data"]["content"].to_string().contains("paused"));
    let path = format!("/api/v10/webhooks/{}/token-31", discord::APPLICATION_ID);
    let aside = w
        .discord
        .wait_for_request(|r| r.method == "POST" && r.path == path)
        .await;
    assert_eq!(aside.body["flags"], EPHEMERAL, "ephemeral: {}", aside.body);
    let text = aside.body["content"].as_str().unwrap_or_default();
    assert!(
        text.starts_with(&format!(
            "⚠️ Reminders are paused: posting in <#{}> failed (Discord answered 404 (Unknown Channel))",
            discord::CHANNEL_ID
        )),
        "{text}"
    );
    let help = discord::send_signed(
        &w.app,
        discord::command("32", "help", json!([]), OWNER, MANAGE_GUILD),
    )
    .await;
    assert!(
        !help["data"]["content"].to_string().contains("paused"),
        "told once"
    );
    // Paused: nothing more is sent.
    w.at("2025-04-01T07:00:00Z").await;
    assert!(w.posts().is_empty());
}

#[tokio::test]
async fn digests_skip_weekends_and_holidays_and_carry_the_chart() {
    let w = World::with_reminders(
        "timezone = \"America/New_York\"\nbefore = []\ndigest_at = \"09:30\"\nskip_dates = [\"2025-12-01\"]",
        "",
        "2025-11-27T12:00:00Z",
    )
    .await;
    // Fri 28 Nov, the weekend, Mon 1 Dec (a holiday), Tue 2 Dec.
    for day in [
        "2025-11-28",
        "2025-11-29",
        "2025-11-30",
        "2025-12-01",
        "2025-12-02",
    ] {
        w.at(&format!("{day}T14:30:00Z")).await;
    }
    let created = w.discord.created();
    assert_eq!(created.len(), 2, "{created:#?}");
    for post in &created {
        assert!(content(&post.body).starts_with("📋 **Cutover digest**"));
        assert_channel_message(&post.body);
        let (name, png) = &post.files[0];
        assert_eq!(name, "burndown.png");
        let chart = image::load_from_memory(png).expect("a PNG").to_rgb8();
        assert_eq!(chart.dimensions(), (960, 480));
    }
}

#[tokio::test]
async fn a_digest_time_in_the_spring_forward_gap_comes_once_after_it() {
    // Cairo sprang forward at midnight on Friday 26 April 2024: 00:30 never happened.
    let w = World::with_reminders(
        "timezone = \"Africa/Cairo\"\nbefore = []\ndigest_at = \"00:30\"",
        "",
        "2024-04-25T12:00:00Z",
    )
    .await;
    w.at("2024-04-25T21:59:59Z").await;
    assert!(w.posts().is_empty());
    w.at("2024-04-25T22:00:00Z").await;
    w.at("2024-04-25T22:30:00Z").await;
    assert_eq!(w.posts().len(), 1, "01:00 local, once");
}

#[tokio::test]
async fn migrate_mine_opens_the_form_offers_a_choice_or_says_nothing_is_left() {
    let w = World::with_reminders(BERLIN, BERLIN_DEADLINE, "2025-03-20T00:00:00Z").await;
    let one = discord::send_signed(&w.app, discord::button("700", "c1:mm", OWNER)).await;
    assert_eq!(one["type"], callback::MODAL, "the form at once: {one}");
    assert_eq!(one["data"]["custom_id"], "c1:mf:z1");
    let none = discord::send_signed(
        &w.app,
        discord::button("701", "c1:mm", "440000000000000001"),
    )
    .await;
    assert_eq!(none["data"]["flags"], EPHEMERAL, "privately");
    assert!(
        none["data"]["content"]
            .as_str()
            .unwrap_or_default()
            .contains("Nothing left for you"),
        "{none}"
    );
    w.app
        .seed(&[("z4", "Zoom four", Some(OWNER), AuthType::Jwt)])
        .await;
    let several = discord::send_signed(&w.app, discord::button("702", "c1:mm", OWNER)).await;
    assert_eq!(several["data"]["flags"], EPHEMERAL, "privately");
    let ids: Vec<&str> = several["data"]["components"][0]["components"]
        .as_array()
        .map(|b| b.iter().filter_map(|b| b["custom_id"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(ids, ["c1:of:z4", "c1:of:z1"], "{several}");
    let form = discord::send_signed(&w.app, discord::button("703", "c1:of:z4", OWNER)).await;
    assert_eq!(
        (form["type"].as_u64(), form["data"]["custom_id"].as_str()),
        (Some(callback::MODAL), Some("c1:mf:z4"))
    );
}

#[tokio::test]
async fn progress_answers_with_the_chart_and_its_points_follow_the_audit_history() {
    let w = World::with_reminders(BERLIN, BERLIN_DEADLINE, "2025-03-20T00:00:00Z").await;
    // The seed left 2 to switch; an import adds one on JWT, another switches z2.
    w.app.clock.set(at("2025-03-21T10:00:00Z"));
    w.app
        .seed(&[
            ("z5", "Zoom five", None, AuthType::Jwt),
            ("z2", "Zoom two", Some(OTHER_USER), AuthType::OAuth2),
        ])
        .await;
    let history = w.app.store.progress_history().await.expect("history");
    assert_eq!(
        history,
        [(at("2025-03-20T00:00:00Z"), 2)],
        "one import adding one and switching one leaves the count at 2: no new point"
    );
    w.app.clock.set(at("2025-03-22T10:00:00Z"));
    w.app
        .seed(&[("z5", "Zoom five", None, AuthType::OAuth2)])
        .await;
    let history = w.app.store.progress_history().await.expect("history");
    assert_eq!(
        history,
        [
            (at("2025-03-20T00:00:00Z"), 2),
            (at("2025-03-22T10:00:00Z"), 1)
        ]
    );

    let reply = w
        .app
        .command(crate::helpers::user(9), "progress", &[])
        .await;
    let Reply::Message(m) = reply else {
        panic!("a message")
    };
    assert!(m.text.contains("Progress: **3 of 4**"), "{}", m.text);
    let chart = image::load_from_memory(&m.files[0].bytes)
        .expect("a PNG")
        .to_rgb8();
    assert_eq!(chart.dimensions(), (960, 480));
    let line = chart.pixels().filter(|p| p.0 == [31, 98, 181]).count();
    assert!(line > 300, "the burndown line is drawn: {line}");

    // Through the HTTP endpoint: deferred in public, the chart as a file on the edit.
    let deferred = discord::send_signed(
        &w.app,
        discord::command("710", "progress", json!([]), OWNER, MEMBER),
    )
    .await;
    assert_eq!(deferred["type"], callback::DEFERRED_CHANNEL_MESSAGE);
    assert!(
        deferred["data"]["flags"].as_u64().unwrap_or(0) & EPHEMERAL == 0,
        "public: {deferred}"
    );
    let edit = w
        .discord
        .wait_for_request(|r| r.method == "PATCH" && r.path.contains("token-710"))
        .await;
    crate::openapi::assert_message_edit(&edit.body);
    assert_eq!(edit.files.len(), 1);
    assert!(image::load_from_memory(&edit.files[0].1).is_ok());
}

#[tokio::test]
async fn the_terminal_prints_reminders_as_they_fall_due_with_the_chart_saved() {
    let dir = TestDir::new();
    let app = TestApp::spawn_in(
        dir,
        "[reminders]\nbefore = [\"1d\"]\ndigest_at = \"09:30\"\n[[deadlines]]\ntitle = \"Cut-off\"\ndue = \"2025-12-10T09:00:00Z\"\n",
        "2025-12-08T12:00:00Z",
    )
    .await;
    app.seed(&[("z1", "Zoom one", Some("42"), AuthType::Jwt)])
        .await;
    let console = std::sync::Arc::new(crate::helpers::ScriptedConsole::open());
    let terminal = {
        let (core, clock, console) = (app.core.clone(), app.clock.clone(), console.clone());
        tokio::spawn(async move { cutover::terminal::run(&core, &clock, console.as_ref()).await })
    };
    // Once the terminal listens (it has answered a command), reminders go to it.
    console.type_line("/help");
    tokio::time::timeout(std::time::Duration::from_secs(20), async {
        while !console.output().contains("/deadlines") {
            tokio::task::yield_now().await;
        }
    })
    .await
    .expect("the terminal answers");
    // Its first round marks where the terminal started listening.
    app.reminders.tick().await;
    console.type_line("/progress");
    tokio::time::timeout(std::time::Duration::from_secs(20), async {
        while !console.output().contains("burndown.png saved to ") {
            tokio::task::yield_now().await;
        }
    })
    .await
    .expect("/progress saves the chart");
    app.clock.set(at("2025-12-09T09:00:00Z"));
    app.reminders.tick().await;
    app.clock.set(at("2025-12-09T09:30:00Z"));
    app.reminders.tick().await;
    console.end_input();
    terminal.await.expect("terminal");
    let out = console.output();
    assert!(
        out.contains("── reminder ──\n⏰ Cut-off in 1 day: Wednesday, 10 December 2025 09:00 UTC (in 1 day)."),
        "the countdown as of when it is printed: {out}"
    );
    assert!(out.contains("── reminder ──\n📋 Cutover digest"), "{out}");
    let saved = out
        .split("Burndown chart saved to ")
        .nth(1)
        .and_then(|rest| rest.lines().next())
        .expect(&out);
    assert!(image::load_from_memory(&std::fs::read(saved).expect("the chart file")).is_ok());
}
