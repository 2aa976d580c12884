use crate::helpers::{admin, at, message, user, TestApp, TestDir, NOW};
use cutover::chat::{ButtonTarget, ComponentId, Reply, Visibility};
use cutover::domain::{Actor, AuthType, DisplayName};

#[tokio::test]
async fn deadlines_count_down_with_discord_timestamps_and_progress() {
    let app = TestApp::spawn("", NOW).await;
    app.seed(&[
        ("a", "A", None, AuthType::Jwt),
        ("b", "B", None, AuthType::OAuth2),
        ("c", "C", None, AuthType::Jwt),
    ])
    .await;
    app.store
        .add_deadline(
            &DisplayName::parse("Our own cut-off").expect("title"),
            at("2025-11-24T09:00:00Z"),
            "Switch by Monday",
            false,
            Actor::Terminal,
            at(NOW),
        )
        .await
        .expect("add deadline");

    let reply = app.command(user(7), "deadlines", &[]).await;
    let m = message(&reply);
    assert_eq!(m.visibility, Visibility::Public);
    assert!(
        m.text
            .contains("**1 of 3** connections switched to OAuth 2.0 (33%), 2 to go."),
        "{}",
        m.text
    );
    let names: Vec<_> = m.fields.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "Zoom stops creating new JWT apps",
            "Celigo removes JWT from the Zoom connection",
            "Zoom disables JWT authorization",
            "Our own cut-off (#1)",
        ]
    );
    let jwt_off = at("2023-09-01T00:00:00Z").timestamp();
    assert_eq!(
        m.fields[2].value,
        format!("<t:{jwt_off}:F> (<t:{jwt_off}:R>)\npassed 812 days ago\nJWT apps stop authenticating; Zoom gives 2023-09-08 as the end of life.")
    );
    assert!(
        m.fields[1].value.starts_with("around <t:"),
        "{}",
        m.fields[1].value
    );
    assert!(m.fields[1].value.contains("(approximate)"));
    assert!(
        m.fields[3].value.contains("\nin 3 days\nSwitch by Monday"),
        "{}",
        m.fields[3].value
    );
}

#[tokio::test]
async fn deadline_days_follow_the_configured_zone_across_dst() {
    // Berlin springs forward on 2024-03-31: from 00:30 on the 30th to the 1st is 46.5
    // hours, and still two calendar days.
    let config = "[reminders]\ntimezone = \"Europe/Berlin\"\n[[deadlines]]\ntitle = \"Cut-over\"\ndue = \"2024-04-01\"\n";
    let app = TestApp::spawn(config, "2024-03-29T23:30:00Z").await;
    let reply = app.command(user(7), "deadlines", &[]).await;
    let m = message(&reply);
    assert_eq!(
        m.fields.len(),
        1,
        "a file's [[deadlines]] replace the defaults"
    );
    assert!(
        m.fields[0].value.contains("\nin 2 days"),
        "{}",
        m.fields[0].value
    );
    // 2024-04-01 00:00 in Berlin (CEST, +02:00).
    assert!(m.fields[0]
        .value
        .starts_with(&format!("<t:{}:F>", at("2024-03-31T22:00:00Z").timestamp())));
}

#[tokio::test]
async fn connections_page_with_buttons_that_round_trip() {
    let app = TestApp::spawn("", NOW).await;
    let ids: Vec<String> = (0..23).map(|i| format!("z{i:02}")).collect();
    let names: Vec<String> = (0..23).map(|i| format!("Zoom {i:02}")).collect();
    let mut rows: Vec<_> = ids
        .iter()
        .zip(&names)
        .map(|(i, n)| (i.as_str(), n.as_str(), Some("42"), AuthType::Jwt))
        .collect();
    rows.push(("done", "Zoom done", Some("42"), AuthType::OAuth2));
    app.seed(&rows).await;

    let reply = app.command(user(7), "connections", &[]).await;
    let first = message(&reply);
    assert!(
        first
            .text
            .starts_with("**Connections not yet on OAuth 2.0**: 23 (page 1 of 3)"),
        "{}",
        first.text
    );
    assert!(first
        .text
        .contains("• `z00` **Zoom 00** · Sales sync · owner <@42> · JWT · not migrated"));
    assert!(!first.text.contains("z10"), "ten to a page");
    assert!(
        !first.text.contains("Zoom done"),
        "migrated ones are left out by default"
    );
    let [previous, next] = &first.buttons[..] else {
        panic!("two buttons: {:?}", first.buttons)
    };
    assert!(previous.disabled && !next.disabled);
    let ButtonTarget::Action(next_id) = &next.target else {
        panic!("an action button")
    };
    assert_eq!(ComponentId::decode(&next_id.encode()), Ok(next_id.clone()));

    let reply = app.press(user(8), &next_id.encode()).await;
    let Reply::Update(second) = &reply else {
        panic!("a page turn updates the message: {reply:?}")
    };
    assert!(
        second.text.contains("(page 2 of 3)")
            && second.text.contains("`z10`")
            && !second.text.contains("`z09`")
    );

    // A button made when there were more pages shows the last page that exists now.
    let beyond = ComponentId::ConnectionsPage {
        show: Default::default(),
        owner: None,
        page: 9,
    }
    .encode();
    let reply = app.press(user(8), &beyond).await;
    let last = message(&reply);
    assert!(
        last.text.contains("(page 3 of 3)") && last.text.contains("`z22`"),
        "{}",
        last.text
    );
    assert!(last.buttons[1].disabled);

    let stale = app.press(user(8), "c1:cp:everything:-:1").await;
    let stale = message(&stale);
    assert_eq!(stale.visibility, Visibility::Private);
    assert!(stale.text.contains("out of date"), "{}", stale.text);
}

#[tokio::test]
async fn connections_filter_by_state_and_owner() {
    let app = TestApp::spawn("", NOW).await;
    app.seed(&[
        ("mine", "Mine", Some("42"), AuthType::Jwt),
        ("theirs", "Theirs", Some("43"), AuthType::Jwt),
        ("done", "Done", Some("42"), AuthType::OAuth2),
    ])
    .await;
    let reply = app
        .command(user(7), "connections", &[("owner", "<@42>")])
        .await;
    let m = message(&reply);
    assert!(
        m.text.contains("`mine`") && !m.text.contains("`theirs`") && !m.text.contains("`done`"),
        "{}",
        m.text
    );
    assert!(m.buttons.is_empty(), "one page needs no buttons");

    let reply = app
        .command(user(7), "connections", &[("show", "migrated")])
        .await;
    let m = message(&reply);
    assert!(
        m.text
            .starts_with("**Connections switched to OAuth 2.0**: 1"),
        "{}",
        m.text
    );
    assert!(m.text.contains("`done`") && m.text.contains("OAuth 2.0 · migrated"));

    let reply = app
        .command(user(7), "connections", &[("show", "all"), ("owner", "42")])
        .await;
    assert!(message(&reply).text.contains("owned by <@42>**: 2"));

    let reply = app
        .command(user(7), "connections", &[("show", "pending")])
        .await;
    let m = message(&reply);
    assert_eq!(m.visibility, Visibility::Private);
    assert_eq!(
        m.text,
        "The option show cannot be \"pending\"; choose one of: unmigrated, migrated, all, removed."
    );

    let reply = app
        .command(user(7), "connections", &[("owner", "bob")])
        .await;
    assert!(message(&reply)
        .text
        .starts_with("The option owner must name a person"));
}

#[tokio::test]
async fn migrate_opens_a_private_form_for_the_owner_or_an_admin_only() {
    let dir = TestDir::new();
    let key = dir.sealing_key();
    let app = TestApp::spawn_in(dir, &key, NOW).await;
    app.seed(&[
        ("mine", "Mine", Some("42"), AuthType::Jwt),
        ("done", "Done", Some("42"), AuthType::OAuth2),
    ])
    .await;

    let reply = app
        .command(user(42), "migrate", &[("connection", "mine")])
        .await;
    let Reply::Modal(modal) = &reply else {
        panic!("a modal: {reply:?}")
    };
    assert_eq!(
        modal.id,
        ComponentId::MigrateForm {
            connection: "mine".parse_id()
        }
    );
    assert!(modal.title.len() <= 45 && modal.title.contains("Mine"));
    assert!(modal.notice.contains("does not mask"));
    let labels: Vec<_> = modal
        .inputs
        .iter()
        .map(|i| (i.label.as_str(), i.secret))
        .collect();
    assert_eq!(
        labels,
        [
            ("Zoom OAuth client ID", false),
            ("Zoom OAuth client secret", true)
        ]
    );

    let reply = app
        .command(admin(1), "migrate", &[("connection", "mine")])
        .await;
    assert!(
        matches!(reply, Reply::Modal(_)),
        "an admin may switch anyone's"
    );

    let reply = app
        .command(user(43), "migrate", &[("connection", "mine")])
        .await;
    let m = message(&reply);
    assert_eq!(m.visibility, Visibility::Private);
    assert_eq!(
        m.text,
        "You cannot switch `mine`: it belongs to <@42>. Only its owner or an admin can."
    );

    let reply = app
        .command(user(42), "migrate", &[("connection", "done")])
        .await;
    assert!(message(&reply)
        .text
        .starts_with("`done` is already on OAuth 2.0"));

    let reply = app
        .command(user(42), "migrate", &[("connection", "nope")])
        .await;
    assert!(message(&reply)
        .text
        .starts_with("There is no connection with id `nope`."));

    let reply = app.command(user(42), "migrate", &[]).await;
    assert_eq!(
        message(&reply).text,
        "The option connection is required: /migrate connection:…"
    );
}

#[tokio::test]
async fn unknown_commands_and_options_get_a_private_explanation() {
    let app = TestApp::spawn("", NOW).await;
    let reply = app.command(user(7), "frobnicate", &[]).await;
    let m = message(&reply);
    assert_eq!(
        (m.visibility, m.text.as_str()),
        (
            Visibility::Private,
            "/frobnicate is not a cutover command. Type /help to see what there is."
        )
    );
    let reply = app.command(user(7), "deadlines", &[("soon", "yes")]).await;
    assert_eq!(
        message(&reply).text,
        "The option soon is not one of /deadlines's; it takes no options."
    );
    let reply = app.command(user(7), "help", &[]).await;
    let m = message(&reply);
    assert_eq!(m.visibility, Visibility::Private);
    for command in ["/deadlines", "/connections", "/migrate", "/help"] {
        assert!(
            m.text.contains(&format!("**{command}** — ")),
            "{command} in {}",
            m.text
        );
    }
}

trait ParseId {
    fn parse_id(&self) -> cutover::domain::ConnectionId;
}

impl ParseId for str {
    fn parse_id(&self) -> cutover::domain::ConnectionId {
        cutover::domain::ConnectionId::parse(self).expect("id")
    }
}

/// Every change is in the audit log, with who did it (`expected`: "action actor").
async fn assert_audited(app: &TestApp, expected: &[&str]) {
    let actions: Vec<String> = app
        .store
        .audit_entries(None, 50)
        .await
        .expect("audit")
        .into_iter()
        .map(|e| format!("{} {}", e.action, e.actor))
        .collect();
    for expected in expected {
        assert!(
            actions.contains(&(*expected).to_owned()),
            "{expected} in {actions:?}"
        );
    }
}

#[tokio::test]
async fn a_member_is_refused_the_admins_commands() {
    let app = TestApp::spawn("", NOW).await;
    let reply = app
        .command(
            user(42),
            "cutover deadline add",
            &[("title", "Go live"), ("due", "2025-12-01")],
        )
        .await;
    assert!(
        message(&reply).text.contains("is for admins"),
        "a member is refused"
    );
}

#[tokio::test]
async fn admins_add_assign_and_remove_connections_from_chat() {
    let app = TestApp::spawn("", NOW).await;
    app.seed(&[("z1", "Zoom one", Some("42"), AuthType::Jwt)])
        .await;
    let admin = admin(1);
    let reply = app
        .command(
            admin,
            "cutover connection add",
            &[("id", "z2"), ("name", "Zoom two"), ("owner", "43")],
        )
        .await;
    assert_eq!(message(&reply).text, "Added `z2` **Zoom two**, on JWT.");
    let reply = app
        .command(
            admin,
            "cutover connection add",
            &[("id", "z2"), ("name", "Again")],
        )
        .await;
    assert!(message(&reply)
        .text
        .starts_with("`z2` is already in the inventory."));
    let reply = app
        .command(
            admin,
            "cutover connection assign",
            &[("id", "z2"), ("owner", "<@44>")],
        )
        .await;
    assert_eq!(message(&reply).text, "`z2` now belongs to <@44>.");
    let reply = app
        .command(
            admin,
            "cutover connection assign",
            &[("id", "nope"), ("owner", "44")],
        )
        .await;
    assert!(message(&reply)
        .text
        .starts_with("There is no connection with id `nope`."));
    let reply = app
        .command(admin, "cutover connection remove", &[("id", "z1")])
        .await;
    assert_eq!(message(&reply).text, "Removed `z1` from the inventory.");
    assert_audited(
        &app,
        &[
            "connection.add discord:1",
            "connection.assign discord:1",
            "connection.remove discord:1",
        ],
    )
    .await;
}

#[tokio::test]
async fn admins_add_and_remove_deadlines_from_chat_and_members_see_them() {
    let app = TestApp::spawn("", NOW).await;
    let admin = admin(1);
    let reply = app
        .command(
            admin,
            "cutover deadline add",
            &[
                ("title", "Go live"),
                ("due", "2025-12-01T17:00"),
                ("note", "All on OAuth"),
            ],
        )
        .await;
    let unix = at("2025-12-01T17:00:00Z").timestamp();
    assert_eq!(
        message(&reply).text,
        format!("Added deadline #1 **Go live**, due <t:{unix}:F> (<t:{unix}:R>).")
    );
    let reply = app
        .command(
            admin,
            "cutover deadline add",
            &[("title", "Bad"), ("due", "someday")],
        )
        .await;
    assert!(message(&reply)
        .text
        .starts_with("The option due is not valid: \"someday\" is not a date or time"));
    let reply = app.command(user(7), "deadlines", &[]).await;
    assert!(message(&reply)
        .fields
        .iter()
        .any(|f| f.name == "Go live (#1)"));
    let reply = app
        .command(admin, "cutover deadline remove", &[("id", "1")])
        .await;
    assert_eq!(message(&reply).text, "Removed deadline #1.");
    let reply = app
        .command(admin, "cutover deadline remove", &[("id", "1")])
        .await;
    assert!(message(&reply)
        .text
        .starts_with("There is no deadline #1 added from chat."));
    let reply = app
        .command(admin, "cutover deadline remove", &[("id", "one")])
        .await;
    assert_eq!(
        message(&reply).text,
        "The option id must be a whole number, not \"one\"."
    );
    assert_audited(
        &app,
        &["deadline.add discord:1", "deadline.remove discord:1"],
    )
    .await;
}

#[tokio::test]
async fn admins_set_the_reminders_channel_and_pause_and_resume_them_from_chat() {
    let app = TestApp::spawn("", NOW).await;
    let admin = admin(1);
    let reply = app
        .command(admin, "cutover reminders channel", &[("channel", "<#555>")])
        .await;
    assert_eq!(message(&reply).text, "Reminders will be posted in <#555>.");
    app.command(admin, "cutover reminders pause", &[]).await;
    let state = app.store.reminder_state().await.expect("state");
    assert_eq!(
        (state.channel.map(|c| c.get()), state.paused),
        (Some(555), true)
    );
    app.command(admin, "cutover reminders resume", &[]).await;
    assert!(!app.store.reminder_state().await.expect("state").paused);
    assert_audited(
        &app,
        &[
            "reminders.channel discord:1",
            "reminders.pause discord:1",
            "reminders.resume discord:1",
        ],
    )
    .await;
}

#[tokio::test]
async fn migration_status_shows_state_and_history_without_secrets() {
    let app = TestApp::spawn("", NOW).await;
    app.seed(&[
        ("z1", "Zoom one", Some("42"), AuthType::Jwt),
        ("z2", "Zoom two", Some("42"), AuthType::OAuth2),
    ])
    .await;
    app.command(
        admin(1),
        "cutover connection assign",
        &[("id", "z1"), ("owner", "42")],
    )
    .await;

    let reply = app
        .command(user(7), "migration status", &[("connection", "z1")])
        .await;
    let m = message(&reply);
    assert_eq!(m.visibility, Visibility::Private);
    assert!(
        m.text.starts_with(
            "**`z1` Zoom one** · owner <@42>\nAuthentication: JWT · not migrated\nNot switched yet"
        ),
        "{}",
        m.text
    );
    assert!(
        m.text.contains("connection.assign by discord:1: owner 42"),
        "{}",
        m.text
    );

    let reply = app.command(user(42), "migration status", &[]).await;
    let m = message(&reply);
    assert!(
        m.text.starts_with("**Your connections**: 2\n"),
        "{}",
        m.text
    );
    assert!(m.text.contains("`z2` Zoom two · migrated"));

    let reply = app
        .command(user(42), "migration status", &[("connection", "zz")])
        .await;
    assert!(message(&reply)
        .text
        .starts_with("There is no connection with id `zz`."));
}

#[tokio::test]
async fn migrate_suggestions_are_the_callers_own_or_all_for_admins() {
    let app = TestApp::spawn("", NOW).await;
    app.seed(&[
        ("z1", "Zoom one", Some("42"), AuthType::Jwt),
        ("z2", "Zoom two", Some("43"), AuthType::Jwt),
        ("z3", "Zoom three", Some("42"), AuthType::OAuth2),
    ])
    .await;
    let suggest = |caller, partial: &str| {
        let action = cutover::chat::Action::Autocomplete {
            name: "migrate".into(),
            option: "connection".into(),
            partial: partial.into(),
        };
        let core = std::sync::Arc::clone(&app.core);
        async move {
            core.handle(cutover::chat::Request::new(caller, action))
                .await
                .reply
        }
    };
    let Reply::Choices(own) = suggest(user(42), "").await else {
        panic!("choices")
    };
    assert_eq!(
        own.iter().map(|c| c.value.as_str()).collect::<Vec<_>>(),
        ["z1"],
        "own and not yet migrated"
    );
    let Reply::Choices(all) = suggest(admin(1), "TWO").await else {
        panic!("choices")
    };
    assert_eq!(
        all.iter().map(|c| c.label.as_str()).collect::<Vec<_>>(),
        ["Zoom two (z2)"]
    );
    let Reply::Choices(none) = suggest(user(42), "%").await else {
        panic!("choices")
    };
    assert!(none.is_empty(), "LIKE wildcards are matched literally");
}

#[tokio::test]
async fn progress_stays_exact_through_imports_changes_and_removals() {
    let app = TestApp::spawn("", NOW).await;
    app.seed(&[
        ("a", "A", None, AuthType::Jwt),
        ("b", "B", None, AuthType::Jwt),
        ("c", "C", None, AuthType::OAuth2),
    ])
    .await;
    let progress = || async { app.store.progress().await.expect("progress") };
    assert_eq!((progress().await.migrated, progress().await.total), (1, 3));
    // An import that switches one to OAuth 2.0, and a stale one that must not switch back.
    app.seed(&[
        ("a", "A", None, AuthType::OAuth2),
        ("c", "C", None, AuthType::Jwt),
    ])
    .await;
    assert_eq!((progress().await.migrated, progress().await.total), (2, 3));
    app.command(admin(1), "cutover connection remove", &[("id", "a")])
        .await;
    app.command(
        admin(1),
        "cutover connection add",
        &[("id", "d"), ("name", "D")],
    )
    .await;
    assert_eq!((progress().await.migrated, progress().await.total), (1, 3));
    let listed = app
        .store
        .list_connections(&cutover::store::ConnectionQuery {
            show: cutover::domain::ShowFilter::Migrated,
            owner: None,
            offset: 0,
            limit: 100,
        })
        .await
        .expect("list");
    assert_eq!(listed.total, 1, "the kept counts agree with the rows");
}

#[tokio::test]
async fn texts_that_would_drive_a_terminal_are_refused_on_every_way_in() {
    let app = TestApp::spawn("", NOW).await;
    let reply = app
        .command(
            admin(1),
            "cutover connection add",
            &[
                ("id", "z9"),
                ("name", "Zoom"),
                ("integration", "Sales\u{1b}[2J"),
            ],
        )
        .await;
    assert_eq!(
        message(&reply).text,
        "The option integration is not valid: it contains a control character (such as a tab, a line break or an escape sequence)."
    );
    let reply = app
        .command(
            admin(1),
            "cutover connection add",
            &[("id", "z9"), ("name", "Zoom \u{202E}olleh")],
        )
        .await;
    assert!(
        message(&reply).text.contains("bidi override"),
        "{}",
        message(&reply).text
    );
    let reply = app
        .command(
            admin(1),
            "cutover connection add",
            &[
                ("id", "z9"),
                ("name", "Zoom"),
                ("integration", &"x".repeat(201)),
            ],
        )
        .await;
    assert!(
        message(&reply).text.contains("201 characters long"),
        "{}",
        message(&reply).text
    );
    let listed = app
        .store
        .list_connections(&cutover::store::ConnectionQuery {
            show: cutover::domain::ShowFilter::All,
            owner: None,
            offset: 0,
            limit: 10,
        })
        .await
        .expect("list");
    assert_eq!(listed.total, 0, "nothing was added");
}
