//! What cutover says about a database it must not or cannot use, through the binary.

use crate::helpers::TestDir;
use std::process::Output;

async fn list(dir: &TestDir, url: &str) -> Output {
    dir.cutover()
        .args(["connections", "list"])
        .env("CUTOVER__DATABASE__URL", url)
        .output()
        .await
        .expect("run cutover")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[tokio::test]
async fn a_database_from_a_newer_cutover_is_refused_once_and_left_as_it_was() {
    use sqlx::Connection;
    let dir = TestDir::new();
    let out = list(&dir, &dir.db_url()).await;
    assert!(out.status.success(), "{}", stderr(&out));
    // What a later cutover leaves: one migration more than this one knows.
    let mut db = sqlx::SqliteConnection::connect(&dir.db_url())
        .await
        .expect("open the database");
    sqlx::query(
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
         VALUES (99991231000000, 'from the future', 1, x'00', 1)",
    )
    .execute(&mut db)
    .await
    .expect("a newer migration");
    db.close().await.expect("close");
    let file = dir.path().join("data/cutover.db");
    let before = std::fs::read(&file).expect("the database file");

    let said = format!(
        "error: the database {} was written by a newer version of cutover, and this one must not touch it \
         (it could spoil what that version keeps there): nothing was changed. Run the newer cutover on it, \
         or point database.url at another file",
        file.display()
    );
    let run = dir
        .cutover()
        .args(["run", "--no-terminal"])
        .env("CUTOVER__DATABASE__URL", dir.db_url())
        .env("CUTOVER__SERVER__BIND", "127.0.0.1:0")
        .stdin(std::process::Stdio::null())
        .output()
        .await
        .expect("run cutover");
    for out in [list(&dir, &dir.db_url()).await, run] {
        let err = stderr(&out);
        assert!(!out.status.success(), "{err}");
        assert!(err.contains(&said), "expected {said:?} in:\n{err}");
        assert_eq!(
            err.matches("written by a newer version").count(),
            1,
            "said once:\n{err}"
        );
        assert!(!err.contains("migration"), "no internals:\n{err}");
    }
    assert_eq!(std::fs::read(&file).expect("file"), before, "not touched");
}
