//! Answers served from the read cache are never stale: after a write by this program, by
//! another connection, or by another process (`cutover connections import`), the next
//! answer shows it; and a countdown moves at midnight in `reminders.timezone` and when a
//! deadline passes, cache or not.

use crate::helpers::{admin, at, message, metric, user, TestApp};
use chrono::TimeDelta;
use cutover::chat::Reply;
use cutover::domain::AuthType;

/// The whole visible answer: text and embed fields.
fn shown(reply: &Reply) -> String {
    let message = message(reply);
    let mut text = message.text.clone();
    for field in &message.fields {
        text.push_str(&format!("\n{}: {}", field.name, field.value));
    }
    text
}

async fn answer(app: &TestApp, command: &str) -> String {
    shown(&app.command(user(7), command, &[]).await)
}

/// A write on a connection of its own, as another process makes one.
async fn write(app: &TestApp, sql: &str) {
    use sqlx::Connection;
    let mut db = sqlx::SqliteConnection::connect(&app.dir.db_url())
        .await
        .expect("open the database");
    let changed = sqlx::query(sql).execute(&mut db).await.expect("write");
    assert_eq!(changed.rows_affected(), 1, "{sql}");
    db.close().await.expect("close");
}

async fn hits(app: &TestApp) -> f64 {
    metric(app, "cutover_cached_reads_total{outcome=\"hit\"}").await
}

#[tokio::test]
async fn no_answer_is_stale_after_a_write_here_on_another_connection_or_by_another_process() {
    let app = TestApp::spawn("", "2026-03-01T12:00:00Z").await;
    app.seed(&[
        ("z1", "Zoom one", Some("42"), AuthType::Jwt),
        ("z2", "Zoom two", Some("43"), AuthType::Jwt),
        ("z3", "Zoom three", None, AuthType::Jwt),
    ])
    .await;
    assert!(answer(&app, "connections").await.contains("**Zoom one**"));
    assert!(answer(&app, "deadlines").await.contains("**0 of 3**"));
    // Asked again with nothing written: served from the cache.
    let before = hits(&app).await;
    assert!(answer(&app, "connections").await.contains("**Zoom one**"));
    assert!(answer(&app, "deadlines").await.contains("**0 of 3**"));
    assert!(hits(&app).await >= before + 2.0, "the cache is in use");

    // Another connection's writes, each seen by the very next answer.
    for i in 0..30 {
        write(
            &app,
            &format!("UPDATE connections SET name = 'Renamed {i}' WHERE id = 'z1'"),
        )
        .await;
        let listing = answer(&app, "connections").await;
        assert!(
            listing.contains(&format!("**Renamed {i}**")),
            "{i}: {listing}"
        );
        let (state, auth, migrated) = if i % 2 == 0 {
            ("migrated", "oauth2", 1)
        } else {
            ("pending", "jwt", 0)
        };
        write(
            &app,
            &format!(
                "UPDATE connections SET state = '{state}', auth_type = '{auth}' WHERE id = 'z2'"
            ),
        )
        .await;
        let countdown = answer(&app, "deadlines").await;
        assert!(
            countdown.contains(&format!("**{migrated} of 3**")),
            "{i}: {countdown}"
        );
    }

    // Another process: an import from the command line.
    let csv = app.dir.write(
        "more.csv",
        "id,name,integration,owner,auth_type\nz4,Zoom four,,,jwt\nz5,Zoom five,,,jwt\n",
    );
    let out = app
        .dir
        .cutover()
        .arg("--config")
        .arg(app.dir.path().join("test.toml"))
        .args(["connections", "import"])
        .arg(&csv)
        .output()
        .await
        .expect("import");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(answer(&app, "connections").await.contains("**Zoom four**"));
    assert!(answer(&app, "deadlines").await.contains("of 5**"));

    // This program's own writes: a deadline added in chat, then removed elsewhere.
    let added = app
        .command(
            admin(1),
            "cutover deadline add",
            &[("title", "Go live"), ("due", "2026-04-01T09:00")],
        )
        .await;
    assert!(
        message(&added).text.contains("Added"),
        "{}",
        message(&added).text
    );
    assert!(answer(&app, "deadlines").await.contains("Go live"));
    write(&app, "DELETE FROM deadlines WHERE title = 'Go live'").await;
    assert!(!answer(&app, "deadlines").await.contains("Go live"));
}

#[tokio::test]
async fn the_countdown_moves_at_midnight_in_the_configured_zone_and_when_the_deadline_passes() {
    // New York changes to summer time on 8 March 2026: midnight that day is 05:00 UTC,
    // and on 10 March it is 04:00 UTC.
    let app = TestApp::spawn(
        "[reminders]\ntimezone = \"America/New_York\"\n\
         [[deadlines]]\ntitle = \"Team cut-off\"\ndue = \"2026-03-10T09:00\"\n",
        "2026-03-08T04:59:59Z",
    )
    .await;
    let steps = [
        ("2026-03-08T04:59:59Z", "in 3 days"),
        ("2026-03-08T05:00:00Z", "in 2 days"),
        ("2026-03-09T03:59:59Z", "in 2 days"),
        ("2026-03-09T04:00:00Z", "tomorrow"),
        ("2026-03-10T03:59:59Z", "tomorrow"),
        ("2026-03-10T04:00:00Z", "today"),
        ("2026-03-10T12:59:59Z", "today"),
        ("2026-03-10T13:00:00Z", "passed today"),
        ("2026-03-11T03:59:59Z", "passed today"),
        ("2026-03-11T04:00:00Z", "passed 1 day ago"),
    ];
    for (now, expected) in steps {
        app.clock.set(at(now));
        // Twice at each instant: the second from the cache, both current.
        for _ in 0..2 {
            let countdown = answer(&app, "deadlines").await;
            let line = countdown
                .lines()
                .find(|l| {
                    l.contains("days")
                        || l.contains("day ago")
                        || l.contains("today")
                        || l.contains("tomorrow")
                })
                .unwrap_or_default()
                .to_owned();
            assert_eq!(line, expected, "{now}: {countdown}");
        }
    }
    app.clock
        .set(at("2026-03-11T04:00:00Z") + TimeDelta::days(2));
    assert!(answer(&app, "deadlines")
        .await
        .contains("passed 3 days ago"));
}
