use crate::helpers::TestDir;

async fn cutover(dir: &TestDir, args: &[&str]) -> (bool, String, String) {
    let config = dir.config("");
    let out = dir
        .cutover()
        .arg("--config")
        .arg(&config)
        .args(args)
        .output()
        .await
        .expect("run cutover");
    (
        out.status.success(),
        String::from_utf8(out.stdout).expect("utf-8"),
        String::from_utf8(out.stderr).expect("utf-8"),
    )
}

fn inventory_csv(rows: usize) -> String {
    let mut text = String::from("id,name,integration,owner,auth_type\n");
    for i in 0..rows {
        let owner = if i % 10 == 0 {
            String::new()
        } else {
            format!("{}", 100_000_000_000_000_000u64 + (i % 5) as u64)
        };
        let auth = if i % 4 == 0 { "oauth2" } else { "jwt" };
        text.push_str(&format!(
            "zc{i:04},\"Zoom, connection {i}\",Integration {},{owner},{auth}\n",
            i % 7
        ));
    }
    text
}

#[tokio::test]
async fn a_file_with_a_bad_row_imports_nothing_and_names_each_line() {
    let dir = TestDir::new();
    let mut csv = inventory_csv(300);
    csv = csv.replacen(
        "zc0049,\"Zoom, connection 49\",Integration 0,100000000000000004,jwt",
        "zc0049,\"Zoom, connection 49\",Integration 0,100000000000000004,saml",
        1,
    );
    csv = csv.replacen("zc0120,\"Zoom, connection 120\"", "zc0119,\"\"", 1);
    dir.write("bad.csv", &csv);
    let (ok, out, err) = cutover(&dir, &["connections", "import", "bad.csv"]).await;
    assert!(!ok);
    assert!(out.is_empty());
    assert!(
        err.contains("3 problems in bad.csv; nothing was imported:"),
        "{err}"
    );
    assert!(
        err.contains("line 51, field auth_type: unknown auth type \"saml\": use jwt or oauth2"),
        "{err}"
    );
    assert!(err.contains("line 122, field name: it is empty"), "{err}");
    assert!(
        err.contains("line 122, field id: duplicate id \"zc0119\" (first at line 121)"),
        "{err}"
    );

    let (ok, out, _) = cutover(&dir, &["connections", "list", "--all", "--json"]).await;
    assert!(ok);
    assert_eq!(out.trim(), "[]", "nothing was imported");
}

#[tokio::test]
async fn import_then_list_as_text_and_json_and_again_after_a_restart() {
    let dir = TestDir::new();
    dir.write("inventory.csv", &inventory_csv(300));
    let (ok, out, err) = cutover(&dir, &["connections", "import", "inventory.csv"]).await;
    assert!(ok, "{err}");
    assert_eq!(
        out,
        "Imported 300 connections from inventory.csv: 300 new, 0 updated, 0 unchanged.\n"
    );

    let (ok, out, _) = cutover(&dir, &["connections", "list"]).await;
    assert!(ok);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines[0].split_whitespace().collect::<Vec<_>>(),
        ["ID", "NAME", "INTEGRATION", "OWNER", "AUTH", "STATE"]
    );
    assert_eq!(lines.len(), 1 + 225 + 1);
    assert_eq!(lines[226], "225 connections not yet on OAuth 2.0");
    assert!(out.contains("zc0001  Zoom, connection 1 "), "{out}");

    let (ok, out, _) = cutover(&dir, &["connections", "list", "--all", "--json"]).await;
    assert!(ok);
    let all: Vec<serde_json::Value> = serde_json::from_str(&out).expect("a JSON array");
    assert_eq!(all.len(), 300);
    let first = all.iter().find(|c| c["id"] == "zc0001").expect("zc0001");
    assert_eq!(first["name"], "Zoom, connection 1");
    assert_eq!(first["integration"], "Integration 1");
    assert_eq!(first["owner"], "100000000000000001");
    assert_eq!(first["auth_type"], "jwt");
    assert_eq!(first["state"], "pending");
    let migrated = all.iter().find(|c| c["id"] == "zc0000").expect("zc0000");
    assert_eq!(
        (
            migrated["auth_type"].as_str(),
            migrated["state"].as_str(),
            migrated["owner"].is_null()
        ),
        (Some("oauth2"), Some("migrated"), true)
    );

    // Upsert: rename one, reassign another; a stale "jwt" for a migrated one keeps it migrated.
    dir.write(
        "update.json",
        r#"[{"id": "zc0001", "name": "Renamed", "integration": "Integration 1", "owner": "100000000000000001", "auth_type": "jwt"},
            {"id": "zc0000", "name": "Zoom, connection 0", "integration": "Integration 0", "owner": null, "auth_type": "jwt"},
            {"id": "new1", "name": "Brand new", "auth_type": "jwt"}]"#,
    );
    let (ok, out, err) = cutover(&dir, &["connections", "import", "update.json"]).await;
    assert!(ok, "{err}");
    assert_eq!(
        out,
        "Imported 3 connections from update.json: 1 new, 1 updated, 1 unchanged.\n\
         1 row said jwt for a connection already switched to OAuth 2.0; it stays migrated.\n"
    );
    let (_, out, _) = cutover(&dir, &["connections", "list", "--all", "--json"]).await;
    let all: Vec<serde_json::Value> = serde_json::from_str(&out).expect("a JSON array");
    assert_eq!(all.len(), 301);
    assert!(all
        .iter()
        .any(|c| c["id"] == "zc0001" && c["name"] == "Renamed"));
    assert!(all
        .iter()
        .any(|c| c["id"] == "zc0000" && c["state"] == "migrated"));
}

#[tokio::test]
async fn unreadable_or_unknown_files_say_what_to_do() {
    let dir = TestDir::new();
    let (ok, _, err) = cutover(&dir, &["connections", "import", "inventory.xlsx"]).await;
    assert!(!ok);
    assert!(
        err.contains("inventory.xlsx is neither .csv nor .json"),
        "{err}"
    );
    let (ok, _, err) = cutover(&dir, &["connections", "import", "missing.csv"]).await;
    assert!(!ok);
    assert!(err.contains("cannot read missing.csv"), "{err}");
    dir.write("header.csv", "id;name;owner\n1;x;\n");
    let (ok, _, err) = cutover(&dir, &["connections", "import", "header.csv"]).await;
    assert!(!ok);
    assert!(
        err.contains("line 1 (header): the header must be id,name,integration,owner,auth_type"),
        "{err}"
    );
}

#[tokio::test]
async fn a_json_file_saved_with_a_byte_order_mark_imports() {
    let dir = TestDir::new();
    dir.write(
        "bom.json",
        "\u{feff}[\n  {\"id\": \"z1\", \"name\": \"Zoom one\", \"auth_type\": \"jwt\"},\n  {\"id\": \"z1\", \"name\": \"Again\", \"auth_type\": \"jwt\"}\n]\n",
    );
    let (ok, _, err) = cutover(&dir, &["connections", "import", "bom.json"]).await;
    assert!(!ok);
    assert!(
        err.contains("record 2 (line 3), field id"),
        "the mark is read past and lines still count right: {err}"
    );
    dir.write(
        "bom.json",
        "\u{feff}[{\"id\": \"z1\", \"name\": \"Zoom one\", \"auth_type\": \"jwt\"}]",
    );
    let (ok, out, err) = cutover(&dir, &["connections", "import", "bom.json"]).await;
    assert!(ok, "{err}");
    assert!(out.contains("1 new"), "{out}");
}

#[tokio::test]
async fn processes_starting_at_once_on_a_new_database_all_open_it() {
    // Before migrations took turns, 10–25 % of such pairs failed ("table connections
    // already exists", "duplicate column name").
    for round in 0..12 {
        let dir = TestDir::new();
        let config = dir.config("");
        let run = || {
            dir.cutover()
                .arg("--config")
                .arg(&config)
                .args(["connections", "list"])
                .output()
        };
        let (a, b, c) = tokio::join!(run(), run(), run());
        for out in [a, b, c] {
            let out = out.expect("cutover ran");
            assert!(
                out.status.success(),
                "round {round}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
}

#[tokio::test]
async fn an_error_says_its_cause_once() {
    let dir = TestDir::new();
    // A database file that is not a database.
    std::fs::create_dir_all(dir.path().join("data")).expect("folder");
    std::fs::write(
        dir.path().join("data/cutover.db"),
        "this is not SQLite, but text long enough to be read as a header",
    )
    .expect("write");
    let (ok, _, err) = cutover(&dir, &["connections", "list"]).await;
    assert!(!ok);
    let line = err.lines().find(|l| l.starts_with("error: ")).expect(&err);
    assert!(line.contains("file is not a database"), "{err}");
    assert_eq!(
        line.matches("file is not a database").count(),
        1,
        "said once: {line}"
    );
}

#[tokio::test]
async fn an_import_while_another_process_writes_says_so_and_changes_nothing() {
    use sqlx::Connection;
    let dir = TestDir::new();
    dir.write("one.csv", &inventory_csv(1));
    let (ok, _, err) = cutover(&dir, &["connections", "import", "one.csv"]).await;
    assert!(ok, "{err}");
    dir.write("more.csv", &inventory_csv(20));
    // Another process in the middle of a long write.
    let mut writer = sqlx::SqliteConnection::connect(&dir.db_url())
        .await
        .expect("a second connection");
    sqlx::query("BEGIN IMMEDIATE")
        .execute(&mut writer)
        .await
        .expect("take the write lock");
    let (ok, _, err) = cutover(&dir, &["connections", "import", "more.csv"]).await;
    assert!(!ok);
    assert_eq!(
        err.trim_end(),
        "error: the database is busy: another cutover process (an import or a sync?) has been writing to it for over 5 seconds; try again when it has finished"
    );
    sqlx::query("ROLLBACK")
        .execute(&mut writer)
        .await
        .expect("release");
    let (ok, out, err) = cutover(&dir, &["connections", "list", "--all"]).await;
    assert!(ok, "{err}");
    assert!(
        out.lines().any(|line| line == "1 connection"),
        "still one: {out}"
    );
}

#[tokio::test]
async fn a_json_record_that_gives_a_key_twice_is_refused_with_the_line_and_the_key() {
    let dir = TestDir::new();
    dir.write(
        "twice.json",
        "[\n  {\"id\": \"z1\", \"name\": \"Zoom one\", \"auth_type\": \"jwt\"},\n  {\"id\": \"z2\",\n   \"name\": \"Zoom two\",\n   \"name\": \"Zoom 2\",\n   \"auth_type\": \"jwt\"}\n]\n",
    );
    let (ok, out, err) = cutover(&dir, &["connections", "import", "twice.json"]).await;
    assert!(!ok && out.is_empty(), "{out}{err}");
    assert!(
        err.contains("1 problem in twice.json; nothing was imported:")
            && err.contains("record 2 (line 3), field name: \"name\" is given twice, on line 4 and again on line 5; keep one"),
        "{err}"
    );
    let (ok, out, _) = cutover(&dir, &["connections", "list", "--all", "--json"]).await;
    assert!(ok);
    assert_eq!(out.trim(), "[]", "nothing was imported");
}
