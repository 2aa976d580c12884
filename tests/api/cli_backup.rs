//! `cutover backup FILE`: a consistent copy of the live database, while the bot runs.

use crate::helpers::{TestApp, NOW};
use cutover::domain::AuthType;

#[tokio::test]
async fn a_backup_of_the_running_bot_restores_everything_and_never_overwrites() {
    let app = TestApp::spawn("", NOW).await;
    app.seed(&[
        ("z1", "Zoom one", Some("42"), AuthType::Jwt),
        ("z2", "Zoom two", None, AuthType::Jwt),
        ("z3", "Zoom three", Some("43"), AuthType::OAuth2),
    ])
    .await;
    let config = app.dir.path().join("test.toml");
    let run = |args: &[&str]| {
        let mut command = app.dir.cutover();
        command.arg("--config").arg(&config).args(args);
        command
    };

    let out = run(&["backup", "copy.db"]).output().await.expect("backup");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.starts_with("Backed up the database to copy.db (")
            && stdout.contains("checked whole")
            && stdout.contains("To restore: stop cutover"),
        "{stdout}"
    );
    // The bot went on serving meanwhile.
    let ready = reqwest::get(app.url("/readyz")).await.expect("readyz");
    assert_eq!(ready.status(), 200);

    // The copy is a whole database: cutover reads it like the original.
    let listed = run(&["connections", "list", "--all"])
        .env(
            "CUTOVER__DATABASE__URL",
            format!("sqlite://{}/copy.db", app.dir.path().display()),
        )
        .output()
        .await
        .expect("list the copy");
    let listing = String::from_utf8_lossy(&listed.stdout);
    assert!(listed.status.success(), "{listing}");
    for id in ["z1", "z2", "z3"] {
        assert!(
            listing.lines().any(|l| l.starts_with(&format!("{id} "))),
            "{id}: {listing}"
        );
    }

    let again = run(&["backup", "copy.db"]).output().await.expect("backup");
    let err = String::from_utf8_lossy(&again.stderr);
    assert!(!again.status.success());
    assert_eq!(
        err.trim_end(),
        "error: cannot back up to copy.db: it already exists, and a backup never overwrites anything; choose a new name"
    );
    let nowhere = run(&["backup", "no/such/folder/copy.db"])
        .output()
        .await
        .expect("backup");
    let err = String::from_utf8_lossy(&nowhere.stderr);
    assert!(!nowhere.status.success());
    assert!(
        err.starts_with("error: cannot back up to no/such/folder/copy.db: ")
            && err.contains("check that its folder exists and can be written"),
        "{err}"
    );
}
