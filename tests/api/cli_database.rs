//! What cutover says about a database it must not or cannot use, through the binary.

use crate::helpers::TestDir;
use std::os::unix::fs::PermissionsExt;
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

/// `cutover` as it runs for a user without root's power to write anywhere. Root (as the
/// tests may run) passes every permission check, so there it runs without the two
/// capabilities that let it (setpriv, from util-linux).
fn unprivileged(dir: &TestDir, probe: &std::path::Path) -> tokio::process::Command {
    let privileged = std::fs::write(probe.join("probe"), "").is_ok();
    if !privileged {
        return dir.cutover();
    }
    let _ = std::fs::remove_file(probe.join("probe"));
    let template = dir.cutover();
    let template = template.as_std();
    let mut command = tokio::process::Command::new("setpriv");
    command
        .args(["--bounding-set=-dac_override,-dac_read_search", "--"])
        .arg(template.get_program())
        .current_dir(dir.path())
        .env("RUST_LOG", "info")
        .kill_on_drop(true);
    for (key, value) in template.get_envs() {
        match value {
            Some(value) => command.env(key, value),
            None => command.env_remove(key),
        };
    }
    command
}

#[tokio::test]
async fn a_database_folder_cutover_may_not_write_in_names_the_permission_it_needs() {
    let dir = TestDir::new();
    let folder = dir.path().join("data");
    std::fs::create_dir(&folder).expect("folder");
    std::fs::set_permissions(&folder, std::fs::Permissions::from_mode(0o555)).expect("chmod");

    let out = unprivileged(&dir, &folder)
        .args(["connections", "list"])
        .env("CUTOVER__DATABASE__URL", dir.db_url())
        .output()
        .await
        .expect("run cutover (setpriv is in util-linux)");
    let err = stderr(&out);
    assert!(!out.status.success(), "{err}");
    assert!(
        err.contains(&format!(
            "error: cannot write in the database folder {}: the user cutover runs as needs write and search \
             permission on it (w and x: SQLite keeps its journal files beside the database)",
            folder.display()
        )),
        "{err}"
    );
    assert!(!err.contains("os error") && !err.contains("lock"), "{err}");

    // The folder missing, and its parent the one that may not be written.
    let url = format!("sqlite://{}/inner/cutover.db", folder.display());
    let out = unprivileged(&dir, &folder)
        .args(["connections", "list"])
        .env("CUTOVER__DATABASE__URL", &url)
        .output()
        .await
        .expect("run cutover");
    let err = stderr(&out);
    assert!(
        !out.status.success()
            && err.contains(&format!(
                "error: cannot create the database folder {}/inner: the user cutover runs as needs write and \
                 search permission (w and x) on {} to create it",
                folder.display(),
                folder.display()
            )),
        "{err}"
    );
    std::fs::set_permissions(&folder, std::fs::Permissions::from_mode(0o755)).expect("chmod back");
}

#[tokio::test]
async fn a_file_where_the_database_folder_goes_is_named() {
    let dir = TestDir::new();
    let file = dir.write("data", "not a folder");
    for url in [
        format!("sqlite://{}/cutover.db", file.display()),
        format!("sqlite://{}/deeper/cutover.db", file.display()),
    ] {
        let out = list(&dir, &url).await;
        let err = stderr(&out);
        assert!(!out.status.success(), "{err}");
        assert!(
            err.contains(&format!(
                "{} is a file, not a folder; move it, or point database.url elsewhere",
                file.display()
            )),
            "{url}: {err}"
        );
    }
}
