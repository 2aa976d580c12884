use crate::helpers::{TestDir, SEALING_KEY};

async fn check_config(
    dir: &TestDir,
    args: &[&str],
    env: &[(&str, &str)],
) -> (bool, String, String) {
    let mut command = dir.cutover();
    command.args(args).arg("check-config");
    for (k, v) in env {
        command.env(k, v);
    }
    let out = command.output().await.expect("run cutover check-config");
    (
        out.status.success(),
        String::from_utf8(out.stdout).expect("utf-8"),
        String::from_utf8(out.stderr).expect("utf-8"),
    )
}

#[tokio::test]
async fn defaults_are_valid_and_print_every_section_with_the_seed_deadlines() {
    let dir = TestDir::new();
    let (ok, out, err) = check_config(&dir, &[], &[]).await;
    assert!(ok, "{err}");
    for section in [
        "[database]",
        "[server]",
        "[discord]",
        "[zoom]",
        "[security]",
        "[celigo]",
        "[reminders]",
        "[[deadlines]]",
    ] {
        assert!(out.contains(section), "{section} in {out}");
    }
    assert!(out.contains("due = \"2023-06-01T00:00:00+00:00\""));
    assert!(out.contains("title = \"Celigo removes JWT from the Zoom connection\"\ndue = \"2023-07-01T00:00:00+00:00\""), "{out}");
    assert!(out.contains("\napproximate = true\n"), "{out}");
    assert!(out.contains("due = \"2023-09-01T00:00:00+00:00\""));
    assert!(out.contains("2023-09-08"));
    assert!(out.contains("link_ttl = \"10m\""));
}

#[tokio::test]
async fn layers_apply_in_order_and_secrets_are_redacted() {
    let dir = TestDir::new();
    let token_file = dir.write("token.txt", "file-token-value\n");
    let config = dir.write(
        "mine.toml",
        &format!(
            "[server]\nbind = \"0.0.0.0:9000\"\n[discord]\ntoken_file = \"{}\"\n",
            token_file.display()
        ),
    );
    let key = SEALING_KEY;
    let (ok, out, err) = check_config(
        &dir,
        &["--config", config.to_str().expect("path")],
        &[
            ("CUTOVER__SERVER__BIND", "127.0.0.1:9100"),
            ("CUTOVER__SECURITY__SEALING_KEY", key),
            ("CUTOVER__CELIGO__API_TOKEN", "celigo-token-value"),
            ("CUTOVER__DISCORD__GUILD_ID", "123456789012345678"),
            ("CUTOVER__REMINDERS__BEFORE", "[\"7d\", \"1d\"]"),
        ],
    )
    .await;
    assert!(ok, "{err}");
    assert!(
        out.contains("bind = \"127.0.0.1:9100\""),
        "the environment wins over the file: {out}"
    );
    assert!(out.contains("guild_id = \"123456789012345678\""));
    assert!(out.contains("before = [\"7d\", \"1d\"]"), "{out}");
    assert_eq!(out.matches("[redacted]").count(), 3, "{out}");
    for secret in ["file-token-value", key, "celigo-token-value"] {
        assert!(
            !out.contains(secret) && !err.contains(secret),
            "{secret} leaked"
        );
    }

    // CUTOVER_CONFIG names the file too.
    let (ok, out, _) = check_config(
        &dir,
        &[],
        &[("CUTOVER_CONFIG", config.to_str().expect("path"))],
    )
    .await;
    assert!(ok && out.contains("bind = \"0.0.0.0:9000\""), "{out}");
}

#[tokio::test]
async fn bad_values_name_the_key_the_source_and_the_fix() {
    let dir = TestDir::new();
    let (ok, out, err) = check_config(
        &dir,
        &[],
        &[
            ("CUTOVER__SERVER__BIND", "8080"),
            ("CUTOVER__REMINDERS__TIMEZONE", "Mars/Olympus"),
            ("CUTOVER__SECURITY__LINK_TTL", "1h"),
            ("CUTOVER__DISCORD__PUBLIC_KEY", "abc"),
            ("CUTOVER__ZOOM__SCOPE", "x"),
        ],
    )
    .await;
    assert!(!ok);
    assert!(out.is_empty());
    let expected = [
        "server.bind (from environment variable CUTOVER__SERVER__BIND): \"8080\" is not an address to listen on: write IP:PORT",
        "reminders.timezone (from environment variable CUTOVER__REMINDERS__TIMEZONE): \"Mars/Olympus\" is not a time zone: use an IANA name",
        "discord.public_key (from environment variable CUTOVER__DISCORD__PUBLIC_KEY): it is not a Discord public key",
        "zoom.scope (from environment variable CUTOVER__ZOOM__SCOPE): unknown key; the keys here are: authorize_url, token_url",
    ];
    for line in expected {
        assert!(err.contains(line), "expected {line:?} in:\n{err}");
    }

    // Checks across keys run once every value reads.
    let (ok, _, err) = check_config(&dir, &[], &[("CUTOVER__SECURITY__LINK_TTL", "1h")]).await;
    assert!(!ok);
    assert!(
        err.contains(
            "security.link_ttl (from environment variable CUTOVER__SECURITY__LINK_TTL): 1h is out of range: use 1m to 15m"
        ),
        "a range error says where the value came from: {err}"
    );
}

#[tokio::test]
async fn a_missing_file_or_a_secret_in_a_file_is_refused() {
    let dir = TestDir::new();
    let (ok, _, err) = check_config(&dir, &["--config", "nowhere.toml"], &[]).await;
    assert!(!ok);
    assert!(
        err.contains("--config: nowhere.toml does not exist or is not a file"),
        "{err}"
    );

    let config = dir.write(
        "leaky.toml",
        "[discord]\ntoken = \"committed-token\"\n[[deadlines]]\ntitle = \"x\"\ndue = \"soon\"\n",
    );
    let (ok, _, err) = check_config(&dir, &["--config", config.to_str().expect("path")], &[]).await;
    assert!(!ok);
    assert!(err.contains("discord.token (from "), "{err}");
    assert!(
        err.contains("set CUTOVER__DISCORD__TOKEN or discord.token_file instead"),
        "{err}"
    );
    assert!(
        err.contains(&format!(
            "deadlines[0].due (from {}): \"soon\" is not a date or time",
            config.display()
        )),
        "{err}"
    );
    assert!(!err.contains("committed-token"));

    let (ok, _, err) = check_config(
        &dir,
        &[],
        &[("CUTOVER__DISCORD__TOKEN_FILE", "/nonexistent/token")],
    )
    .await;
    assert!(!ok);
    assert!(
        err.contains("discord.token_file (from environment variable CUTOVER__DISCORD__TOKEN_FILE): cannot read /nonexistent/token"),
        "{err}"
    );
}

#[tokio::test]
async fn keygen_prints_a_fresh_key_that_the_configuration_accepts() {
    let dir = TestDir::new();
    let run = || async {
        let out = dir.cutover().arg("keygen").output().await.expect("keygen");
        assert!(out.status.success());
        String::from_utf8(out.stdout)
            .expect("utf-8")
            .trim()
            .to_owned()
    };
    let (first, second) = (run().await, run().await);
    assert_ne!(first, second, "a fresh key each time");
    use base64::Engine;
    assert_eq!(
        base64::engine::general_purpose::STANDARD
            .decode(&first)
            .map(|k| k.len())
            .ok(),
        Some(32)
    );
    let (ok, out, err) =
        check_config(&dir, &[], &[("CUTOVER__SECURITY__SEALING_KEY", &first)]).await;
    assert!(ok, "{err}");
    assert!(out.contains("sealing_key = \"[redacted]\"") && !out.contains(&first));
    let (ok, _, err) = check_config(
        &dir,
        &[],
        &[("CUTOVER__SECURITY__SEALING_KEY", "too-short")],
    )
    .await;
    assert!(!ok);
    assert!(err.contains("security.sealing_key (from environment variable CUTOVER__SECURITY__SEALING_KEY): it is not a sealing key: it must be base64 of exactly 32 bytes; make one with `cutover keygen`"), "{err}");
    assert!(!err.contains("too-short"), "the value is not repeated");

    // The previous key, for `cutover rekey`: only beside a new one, and not the same.
    let (ok, _, err) = check_config(
        &dir,
        &[],
        &[("CUTOVER__SECURITY__PREVIOUS_SEALING_KEY", &first)],
    )
    .await;
    assert!(!ok);
    assert!(
        err.contains("- security.previous_sealing_key (from environment variable CUTOVER__SECURITY__PREVIOUS_SEALING_KEY): \
                      is set without security.sealing_key: set CUTOVER__SECURITY__SEALING_KEY"),
        "{err}"
    );
    let (ok, _, err) = check_config(
        &dir,
        &[],
        &[
            ("CUTOVER__SECURITY__SEALING_KEY", &first),
            ("CUTOVER__SECURITY__PREVIOUS_SEALING_KEY", &first),
        ],
    )
    .await;
    assert!(!ok);
    assert!(
        err.contains(
            "CUTOVER__SECURITY__PREVIOUS_SEALING_KEY): is the same key as security.sealing_key"
        ),
        "{err}"
    );
    let (ok, out, err) = check_config(
        &dir,
        &[],
        &[
            ("CUTOVER__SECURITY__SEALING_KEY", &first),
            ("CUTOVER__SECURITY__PREVIOUS_SEALING_KEY", &second),
        ],
    )
    .await;
    assert!(ok, "{err}");
    assert!(out.contains("previous_sealing_key = \"[redacted]\"") && !out.contains(&second));
    assert!(!err.contains(&second) && !err.contains(&first));
}

#[tokio::test]
async fn a_file_that_is_not_toml_is_one_clear_problem() {
    let dir = TestDir::new();
    let config = dir.write("broken.toml", "[server\nbind = 1\n");
    let (ok, _, err) = check_config(&dir, &["--config", config.to_str().expect("path")], &[]).await;
    assert!(!ok);
    assert_eq!(
        err.matches("\n  - ").count(),
        1,
        "one problem, not one per section:\n{err}"
    );
    assert!(
        err.contains("--config (from ") && err.contains("TOML parse error at line 1"),
        "{err}"
    );
}

#[tokio::test]
async fn a_secret_in_a_file_is_refused_even_when_the_environment_sets_it_too() {
    let dir = TestDir::new();
    let config = dir.write("leaky.toml", "[discord]\ntoken = \"committed-token\"\n");
    let (ok, _, err) = check_config(
        &dir,
        &["--config", config.to_str().expect("path")],
        &[("CUTOVER__DISCORD__TOKEN", "from-env")],
    )
    .await;
    assert!(!ok);
    assert!(err.contains("discord.token (from "), "{err}");
    assert!(!err.contains("committed-token") && !err.contains("from-env"));
}

#[tokio::test]
async fn integrator_io_settings_default_sensibly_and_refuse_what_cannot_work() {
    let dir = TestDir::new();
    let (ok, out, err) = check_config(&dir, &[], &[]).await;
    assert!(ok, "{err}");
    for line in [
        "api_base_url = \"https://api.integrator.io/v1\"",
        "sync_every = \"1h\"",
        "oauth_redirect_url = \"https://integrator.io/connection/oauth2callback\"",
        "return_to_cutover = false",
        "[switch]\nbackend = \"auto\"",
    ] {
        assert!(out.contains(line), "{line} in {out}");
    }
    assert!(!out.contains("api_token"), "no token, none shown");

    // EU: the redirect to register follows the region.
    let (ok, out, err) = check_config(
        &dir,
        &[],
        &[
            (
                "CUTOVER__CELIGO__API_BASE_URL",
                "https://api.eu.integrator.io/v1",
            ),
            ("CUTOVER__CELIGO__API_TOKEN", "celigo-secret-token-value"),
            ("CUTOVER__CELIGO__SYNC_EVERY", "0s"),
        ],
    )
    .await;
    assert!(ok, "{err}");
    assert!(
        out.contains("oauth_redirect_url = \"https://eu.integrator.io/connection/oauth2callback\""),
        "{out}"
    );
    assert!(
        out.contains("api_token = \"[redacted]\"") && !out.contains("celigo-secret-token-value")
    );
    assert!(
        out.contains("sync_every = \"0s\""),
        "zero reads back as written: {out}"
    );

    let (ok, _, err) = check_config(
        &dir,
        &[],
        &[
            (
                "CUTOVER__CELIGO__API_BASE_URL",
                "http://api.integrator.io/v1",
            ),
            ("CUTOVER__CELIGO__SYNC_EVERY", "30s"),
            ("CUTOVER__CELIGO__PING_EVERY", "5m"),
            ("CUTOVER__SWITCH__BACKEND", "celigo"),
        ],
    )
    .await;
    assert!(!ok);
    for expected in [
        "celigo.api_base_url (from environment variable CUTOVER__CELIGO__API_BASE_URL): http://api.integrator.io/v1 is not https",
        "celigo.sync_every (from environment variable CUTOVER__CELIGO__SYNC_EVERY): 30s is too often: use at least 1m",
        "celigo.ping_every (from environment variable CUTOVER__CELIGO__PING_EVERY): 5m is out of range: use 1s to 1m",
        "switch.backend (from environment variable CUTOVER__SWITCH__BACKEND): is celigo, which needs celigo.api_token",
    ] {
        assert!(err.contains(expected), "expected {expected:?} in:\n{err}");
    }
    let (ok, _, err) = check_config(&dir, &[], &[("CUTOVER__SWITCH__BACKEND", "zoom")]).await;
    assert!(
        !ok && err.contains("\"zoom\" is not a switch backend: use auto, direct or celigo"),
        "{err}"
    );
}

#[tokio::test]
async fn a_database_url_that_is_not_sqlite_is_refused_without_repeating_it() {
    let dir = TestDir::new();
    let (ok, out, err) = check_config(
        &dir,
        &[],
        &[(
            "CUTOVER__DATABASE__URL",
            "postgres://cutover:hunter2@db.example/cutover",
        )],
    )
    .await;
    assert!(!ok && out.is_empty());
    assert!(
        err.contains("database.url (from environment variable CUTOVER__DATABASE__URL): a \"postgres\" URL is not one cutover can use"),
        "{err}"
    );
    assert!(
        !err.contains("hunter2"),
        "a password in the URL is not repeated"
    );
    assert!(!dir.path().join("postgres:").exists(), "no folder made");
}

#[tokio::test]
async fn a_weak_discord_public_key_is_refused() {
    let dir = TestDir::new();
    let weak = format!("01{}", "00".repeat(31));
    let (ok, _, err) = check_config(&dir, &[], &[("CUTOVER__DISCORD__PUBLIC_KEY", &weak)]).await;
    assert!(!ok);
    assert!(
        err.contains("discord.public_key (from environment variable CUTOVER__DISCORD__PUBLIC_KEY): it is a weak key, for which forged signatures would pass"),
        "{err}"
    );
}

#[tokio::test]
async fn the_servers_limits_are_kept_in_range() {
    let dir = TestDir::new();
    let (ok, _, err) = check_config(
        &dir,
        &[],
        &[
            ("CUTOVER__SERVER__READ_TIMEOUT", "0s"),
            ("CUTOVER__SERVER__MAX_CONNECTIONS", "0"),
        ],
    )
    .await;
    assert!(!ok);
    for expected in [
        "server.read_timeout (from environment variable CUTOVER__SERVER__READ_TIMEOUT): 0s is out of range: use 1s to 2m",
        "server.max_connections (from environment variable CUTOVER__SERVER__MAX_CONNECTIONS): 0 is out of range: use 1 to 65536, well below the open-files limit (ulimit -n)",
    ] {
        assert!(err.contains(expected), "expected {expected:?} in:\n{err}");
    }
    let (ok, out, _) = check_config(
        &dir,
        &[],
        &[
            ("CUTOVER__SERVER__READ_TIMEOUT", "30s"),
            ("CUTOVER__SERVER__MAX_CONNECTIONS", "64"),
        ],
    )
    .await;
    assert!(ok);
    assert!(
        out.contains("read_timeout = \"30s\"") && out.contains("max_connections = 64"),
        "{out}"
    );
}

#[tokio::test]
async fn environment_mistakes_name_the_variable_set_and_show_the_list_form() {
    let dir = TestDir::new();
    let (ok, _, err) = check_config(
        &dir,
        &[],
        &[
            ("CUTOVER__BOGUS__KEY", "1"),
            ("CUTOVER__DISCORD__ADMIN_ROLE_IDS", "123456789012345678"),
        ],
    )
    .await;
    assert!(!ok);
    assert!(
        err.contains("bogus (from environment variable CUTOVER__BOGUS__KEY): unknown section"),
        "{err}"
    );
    assert!(
        err.contains("discord.admin_role_ids (from environment variable CUTOVER__DISCORD__ADMIN_ROLE_IDS): \"123456789012345678\" is one value, but discord.admin_role_ids is a list; in an environment variable write it as a JSON list: CUTOVER__DISCORD__ADMIN_ROLE_IDS='[\"123456789012345678\"]'"),
        "{err}"
    );
    // The form shown works.
    let (ok, out, err) = check_config(
        &dir,
        &[],
        &[(
            "CUTOVER__DISCORD__ADMIN_ROLE_IDS",
            "[\"123456789012345678\"]",
        )],
    )
    .await;
    assert!(ok, "{err}");
    assert!(
        out.contains("admin_role_ids = [\"123456789012345678\"]"),
        "{out}"
    );
}

#[tokio::test]
async fn an_address_that_cannot_be_listened_on_says_why_and_what_to_do() {
    let dir = TestDir::new();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("a port to hold");
    let address = taken.local_addr().expect("address");
    for (bind, expected) in [
        (
            address.to_string(),
            "another program (or another cutover) is listening there; stop it or choose another port",
        ),
        (
            // TEST-NET-2: no machine has it.
            "198.51.100.7:8080".to_owned(),
            "no network interface of this machine has that address; use 127.0.0.1 (this machine only) or 0.0.0.0 (every interface)",
        ),
    ] {
        let out = dir
            .cutover()
            .arg("run")
            .env("CUTOVER__DATABASE__URL", dir.db_url())
            .env("CUTOVER__SERVER__BIND", &bind)
            .stdin(std::process::Stdio::null())
            .output()
            .await
            .expect("run cutover");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{err}");
        assert!(
            err.contains(&format!("cannot listen on {bind} (server.bind): ")) && err.contains(expected),
            "{err}"
        );
    }
}

#[tokio::test]
async fn every_problem_is_listed_at_once_deadlines_included_with_where_it_came_from() {
    let dir = TestDir::new();
    let file = dir.write(
        "bad.toml",
        "[security]\nlink_ttl = \"1h\"\n[reminders]\ntimezone = \"America/New_York\"\n\
         [[deadlines]]\ntitle = \"x\"\ndue = \"2026-13-01\"\n\
         [[deadlines]]\ntitle = \"gap\"\ndue = \"2026-03-08T02:30\"\n",
    );
    let (ok, _, err) = check_config(&dir, &["--config", &file.display().to_string()], &[]).await;
    assert!(!ok);
    let source = file.display().to_string();
    for expected in [
        format!("security.link_ttl (from {source}): 1h is out of range"),
        format!("deadlines[0].due (from {source}): \"2026-13-01\" is not a date or time"),
        format!("deadlines[1].due (from {source}): 2026-03-08T02:30 never happens in America/New_York: the clocks skip ahead that night (daylight saving time); write 2026-03-08T03:00, the first minute after the change, or a time with an offset"),
    ] {
        assert!(err.contains(&expected), "expected {expected:?} in:\n{err}");
    }
    let (ok, _, err) = check_config(
        &dir,
        &[],
        &[
            ("CUTOVER__DEADLINES", "[{title = \"a\", due = \"someday\"}]"),
            ("CUTOVER__SECURITY__LINK_TTL", "1s"),
        ],
    )
    .await;
    assert!(!ok);
    assert!(
        err.contains("deadlines[0].due (from environment variable CUTOVER__DEADLINES): \"someday\" is not a date or time")
            && err.contains("security.link_ttl (from environment variable CUTOVER__SECURITY__LINK_TTL)"),
        "{err}"
    );
}

#[tokio::test]
async fn check_config_warns_when_nobody_could_be_an_admin_in_discord() {
    let dir = TestDir::new();
    let key = "a".repeat(64);
    let warning = "warning: nobody can be an admin in Discord";
    let (ok, _, err) = check_config(&dir, &[], &[("CUTOVER__DISCORD__PUBLIC_KEY", &key)]).await;
    assert!(ok, "a warning, not an error: {err}");
    assert!(err.contains(warning), "{err}");
    for (name, value) in [
        ("CUTOVER__DISCORD__GUILD_ID", "800000000000000001"),
        (
            "CUTOVER__DISCORD__ADMIN_ROLE_IDS",
            "[\"440000000000000001\"]",
        ),
    ] {
        let (ok, _, err) = check_config(
            &dir,
            &[],
            &[("CUTOVER__DISCORD__PUBLIC_KEY", &key), (name, value)],
        )
        .await;
        assert!(ok && !err.contains(warning), "{name}: {err}");
    }
    // The terminal alone needs no Discord admin.
    let (ok, _, err) = check_config(&dir, &[], &[]).await;
    assert!(ok && !err.contains(warning), "{err}");
}

/// The list form a message shows, as the text between `='` and the closing `'`.
fn shown_list(err: &str, variable: &str) -> String {
    let start = err
        .find(&format!("{variable}='"))
        .map(|at| at + variable.len() + 2)
        .unwrap_or_else(|| panic!("no {variable}='…' in:\n{err}"));
    let end = err[start..].find('\'').expect("closing quote") + start;
    err[start..end].to_owned()
}

#[tokio::test]
async fn a_value_where_a_list_goes_is_answered_with_the_list_to_write_in_the_form_of_its_source() {
    let dir = TestDir::new();
    // A list left open in an environment variable: a JSON list that works, shown whole.
    let (ok, _, err) = check_config(&dir, &[], &[("CUTOVER__REMINDERS__BEFORE", "[\"7d\",")]).await;
    assert!(!ok);
    assert!(
        err.contains("reminders.before (from environment variable CUTOVER__REMINDERS__BEFORE): \"[\\\"7d\\\",\" starts as a list but does not read as one (a closing bracket, a quote or a comma is off); in an environment variable write it as a JSON list: CUTOVER__REMINDERS__BEFORE='[\"14d\", \"7d\", \"1d\"]'"),
        "{err}"
    );
    assert!(
        !err.contains("invalid type") && !err.contains("sequence"),
        "{err}"
    );
    let list = shown_list(&err, "CUTOVER__REMINDERS__BEFORE");
    let (ok, out, err) = check_config(&dir, &[], &[("CUTOVER__REMINDERS__BEFORE", &list)]).await;
    assert!(
        ok && out.contains("before = [\"14d\", \"7d\", \"1d\"]"),
        "{err}{out}"
    );

    // One value in an environment variable: the list made of it.
    let (ok, _, err) = check_config(
        &dir,
        &[],
        &[("CUTOVER__ZOOM__SCOPES", "meeting:read user:read")],
    )
    .await;
    assert!(!ok);
    let list = shown_list(&err, "CUTOVER__ZOOM__SCOPES");
    assert_eq!(list, "[\"meeting:read\", \"user:read\"]", "{err}");
    let (ok, out, err) = check_config(&dir, &[], &[("CUTOVER__ZOOM__SCOPES", &list)]).await;
    assert!(
        ok && out.contains("scopes = [\"meeting:read\", \"user:read\"]"),
        "{err}{out}"
    );

    // One value in a file: a TOML array, and where it goes.
    let file = dir.write("scopes.toml", "[zoom]\nscopes = \"meeting:read\"\n");
    let (ok, _, err) = check_config(&dir, &["--config", &file.display().to_string()], &[]).await;
    assert!(!ok);
    let expected = format!(
        "zoom.scopes (from {}): \"meeting:read\" is one value, but zoom.scopes is a list; write it in brackets: scopes = [\"meeting:read\"] (under [zoom])",
        file.display()
    );
    assert!(err.contains(&expected), "expected {expected:?} in:\n{err}");
    let fixed = dir.write("scopes.toml", "[zoom]\nscopes = [\"meeting:read\"]\n");
    let (ok, _, err) = check_config(&dir, &["--config", &fixed.display().to_string()], &[]).await;
    assert!(ok, "the line shown works: {err}");

    // Deadlines are tables: `[deadlines]` where `[[deadlines]]` was meant.
    let file = dir.write(
        "one.toml",
        "[deadlines]\ntitle = \"Go live\"\ndue = \"2026-12-15\"\n",
    );
    let (ok, _, err) = check_config(&dir, &["--config", &file.display().to_string()], &[]).await;
    assert!(!ok);
    assert!(
        err.contains("is a list of deadlines: write each as a table of its own under [[deadlines]] (two brackets)"),
        "{err}"
    );
}

#[tokio::test]
async fn every_problem_is_listed_at_once_even_beside_values_that_do_not_read() {
    let dir = TestDir::new();
    // Values of the wrong kind in two sections, two in one of them, beside a range and
    // a bad deadline that only a check after reading finds.
    let file = dir.write(
        "four.toml",
        "[server]\nbind = \"8080\"\nmax_connections = \"lots\"\n[security]\nlink_ttl = \"1h\"\n\
         [reminders]\nbefore = \"7d\"\n[[deadlines]]\ntitle = \"Go live\"\ndue = \"2026-13-01\"\n\
         [[deadlines]]\ntitle = 5\ndue = \"someday\"\n",
    );
    let source = file.display().to_string();
    let (ok, _, err) = check_config(&dir, &["--config", &source], &[]).await;
    assert!(!ok);
    let expected = [
        format!("server.bind (from {source}): \"8080\" is not an address to listen on"),
        format!("server.max_connections (from {source}): \"lots\" is not a whole number"),
        format!("security.link_ttl (from {source}): 1h is out of range"),
        format!("reminders.before (from {source}): "),
        format!("deadlines[0].due (from {source}): \"2026-13-01\" is not a date or time"),
        format!("deadlines[1].title (from {source}): 5 is not text: write it in quotes"),
        format!("deadlines[1].due (from {source}): \"someday\" is not a date or time"),
    ];
    for line in &expected {
        assert!(err.contains(line.as_str()), "expected {line:?} in:\n{err}");
    }
    assert_eq!(err.matches("\n  - ").count(), expected.len(), "{err}");
    let positions: Vec<usize> = expected
        .iter()
        .filter_map(|line| err.find(line.as_str()))
        .collect();
    assert!(
        positions.is_sorted(),
        "in the order of the file's sections:\n{err}"
    );

    // A time zone that does not read hides no deadline, and wrongs none: a time that only
    // some zones skip waits for the zone.
    let (ok, _, err) = check_config(
        &dir,
        &[],
        &[
            ("CUTOVER__REMINDERS__TIMEZONE", "Mars/Olympus"),
            (
                "CUTOVER__DEADLINES",
                "[{title = \"a\", due = \"soon\"}, {title = \"b\", due = \"2026-03-08T02:30\"}]",
            ),
        ],
    )
    .await;
    assert!(!ok);
    assert!(
        err.contains("reminders.timezone (from environment variable CUTOVER__REMINDERS__TIMEZONE)"),
        "{err}"
    );
    assert!(err.contains("deadlines[0].due (from environment variable CUTOVER__DEADLINES): \"soon\" is not a date or time"), "{err}");
    assert_eq!(err.matches("\n  - ").count(), 2, "{err}");
}

#[tokio::test]
async fn every_endpoint_that_carries_a_secret_must_be_https_or_this_machine() {
    let dir = TestDir::new();
    let keys = [
        ("CUTOVER__ZOOM__AUTHORIZE_URL", "zoom.authorize_url"),
        ("CUTOVER__ZOOM__TOKEN_URL", "zoom.token_url"),
        ("CUTOVER__ZOOM__USERINFO_URL", "zoom.userinfo_url"),
        ("CUTOVER__ZOOM__REVOKE_URL", "zoom.revoke_url"),
        ("CUTOVER__DISCORD__API_BASE_URL", "discord.api_base_url"),
        ("CUTOVER__CELIGO__API_BASE_URL", "celigo.api_base_url"),
    ];
    let plain: Vec<(&str, &str)> = keys
        .iter()
        .map(|(v, _)| (*v, "http://zoom.example/x"))
        .collect();
    let (ok, _, err) = check_config(&dir, &[], &plain).await;
    assert!(!ok);
    for (variable, key) in keys {
        let line = format!(
            "{key} (from environment variable {variable}): http://zoom.example/x is not https:"
        );
        assert!(err.contains(&line), "expected {line:?} in:\n{err}");
    }
    assert!(
        err.contains("zoom.token_url (from environment variable CUTOVER__ZOOM__TOKEN_URL): http://zoom.example/x is not https: the client secret and the tokens would cross the network in clear; use https://zoom.us/oauth/token, or plain http only to this machine (127.0.0.1, ::1 or localhost)"),
        "{err}"
    );
    // This machine is fine in clear (a proxy, a test stand-in); so is https anywhere.
    for url in [
        "http://127.0.0.1:9/x",
        "http://127.8.0.1/x",
        "http://[::1]:9/x",
        "http://localhost:9/x",
        "https://zoom.example/x",
    ] {
        let env: Vec<(&str, &str)> = keys.iter().map(|(v, _)| (*v, url)).collect();
        let (ok, _, err) = check_config(&dir, &[], &env).await;
        assert!(ok, "{url}: {err}");
    }
}

#[tokio::test]
async fn a_secret_that_reads_as_a_number_is_refused_without_repeating_it() {
    let dir = TestDir::new();
    let (ok, _, err) = check_config(
        &dir,
        &[],
        &[("CUTOVER__CELIGO__API_TOKEN", "8675309867530986")],
    )
    .await;
    assert!(!ok);
    assert!(
        !err.contains("8675309867530986"),
        "the secret leaked: {err}"
    );
    assert!(
        err.contains("celigo.api_token (from environment variable CUTOVER__CELIGO__API_TOKEN): is not text: a secret made only of digits reads as a number, so put it in quotes (CUTOVER__CELIGO__API_TOKEN='\"…\"') or in celigo.api_token_file"),
        "{err}"
    );
    // The way shown works.
    let (ok, out, err) = check_config(
        &dir,
        &[],
        &[("CUTOVER__CELIGO__API_TOKEN", "\"8675309867530986\"")],
    )
    .await;
    assert!(ok && out.contains("api_token = \"[redacted]\""), "{err}");
    assert!(!out.contains("8675309867530986") && !err.contains("8675309867530986"));
}
