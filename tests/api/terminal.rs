use crate::helpers::{listening_address, ScriptedConsole, TestApp, TestDir, NOW};
use cutover::domain::AuthType;
use std::process::Stdio;
use tokio::io::{AsyncWriteExt, BufReader};

#[tokio::test]
async fn the_terminal_renders_replies_as_plain_text_and_buttons_as_numbers() {
    let app = TestApp::spawn("", NOW).await;
    let rows: Vec<(String, String)> = (0..12)
        .map(|i| (format!("z{i:02}"), format!("Zoom {i:02}")))
        .collect();
    let rows: Vec<_> = rows
        .iter()
        .map(|(i, n)| (i.as_str(), n.as_str(), Some("42"), AuthType::Jwt))
        .collect();
    app.seed(&rows).await;
    let console = ScriptedConsole::new(&[
        "/deadlines",
        "/connections",
        "2",
        "1",
        "1",
        "7",
        "/connections show:nah",
    ]);
    cutover::terminal::run(&app.core, &app.clock, &console).await;
    let out = console.output();
    assert!(out.contains("Zoom disables JWT authorization\n    Friday, 1 September 2023 00:00 UTC (2 years ago)\n    passed 812 days ago\n"), "{out}");
    assert!(
        out.contains(
            "Celigo removes JWT from the Zoom connection\n    around 1 July 2023 (approximate)\n"
        ),
        "{out}"
    );
    assert!(out.contains("Connections not yet on OAuth 2.0: 12 (page 1 of 2)\n• z00 Zoom 00 · Sales sync · owner @42 · JWT · not migrated\n"), "{out}");
    assert!(
        out.contains("  [1] ◀ Previous (not available)\n  [2] Next ▶\n"),
        "{out}"
    );
    assert!(out.contains("(page 2 of 2)\n• z10 Zoom 10"), "{out}");
    assert_eq!(out.matches("(page 1 of 2)").count(), 2, "{out}");
    assert!(
        out.contains("[1] ◀ Previous is not available here."),
        "{out}"
    );
    assert!(
        out.contains("There is no button [7] on the last reply."),
        "{out}"
    );
    assert!(out.contains("The option show cannot be \"nah\""), "{out}");
    assert!(
        !out.contains("<t:") && !out.contains("**") && !out.contains("<@"),
        "markup left in: {out}"
    );
}

#[tokio::test]
async fn the_binary_runs_on_a_pipe_serves_health_and_stops_at_end_of_input() {
    let dir = TestDir::new();
    let config = dir.config("");
    let mut child = dir
        .cutover()
        .arg("--config")
        .arg(&config)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start cutover");
    let mut stderr = BufReader::new(child.stderr.take().expect("stderr"));
    let mut log = String::new();
    let address = listening_address(&mut stderr, &mut log).await;

    let health = reqwest::get(format!("http://{address}/healthz"))
        .await
        .expect("healthz");
    assert_eq!(health.status(), 200);

    let mut stdin = child.stdin.take().expect("stdin");
    stdin
        .write_all(b"/help\n/deadlines\n/connections\n")
        .await
        .expect("write commands");
    drop(stdin); // Ctrl-D
    let output = child.wait_with_output().await.expect("cutover exits");
    let mut rest = String::new();
    tokio::io::AsyncReadExt::read_to_string(&mut stderr, &mut rest)
        .await
        .expect("stderr");
    log.push_str(&rest);
    assert!(output.status.success(), "exit: {:?}\n{log}", output.status);
    let out = String::from_utf8(output.stdout).expect("utf-8");
    assert!(
        out.contains("/connections — List the Zoom connections"),
        "{out}"
    );
    assert!(
        out.contains("Zoom disables JWT authorization\n    Friday, 1 September 2023 00:00 UTC"),
        "{out}"
    );
    assert!(out.contains("No connections in the inventory yet"), "{out}");
    assert!(!out.contains("cutover> "), "no prompts on a pipe: {out}");
    assert!(
        log.contains("stopping: the terminal input ended") && log.contains("stopped cleanly"),
        "{log}"
    );
    assert!(
        dir.path().join("data/cutover.db").exists(),
        "the database and its folder are created"
    );
}

#[tokio::test]
async fn the_server_only_mode_stops_cleanly_on_sigterm() {
    let dir = TestDir::new();
    let config = dir.config("");
    let mut child = dir
        .cutover()
        .args(["run", "--no-terminal", "--config"])
        .arg(&config)
        .stdin(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start cutover");
    let mut stderr = BufReader::new(child.stderr.take().expect("stderr"));
    let mut log = String::new();
    let address = listening_address(&mut stderr, &mut log).await;
    // Stdin is closed, yet the server-only mode keeps serving.
    let ready = reqwest::get(format!("http://{address}/readyz"))
        .await
        .expect("readyz");
    assert_eq!(ready.status(), 200);

    let pid = child.id().expect("pid").to_string();
    let killed = tokio::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .await
        .expect("kill");
    assert!(killed.success());
    let status = child.wait().await.expect("exit");
    tokio::io::AsyncReadExt::read_to_string(&mut stderr, &mut log)
        .await
        .expect("stderr");
    assert!(status.success(), "{status:?}\n{log}");
    assert!(
        log.contains("stopping: a stop signal arrived") && log.contains("stopped cleanly"),
        "{log}"
    );
}

#[tokio::test]
async fn an_unreadable_line_is_named_and_the_session_goes_on() {
    let out = on_a_pipe(b"/help\n/dead\xfflines\n/deadlines\n").await;
    assert!(
        out.contains("Line 2 of the input is not UTF-8 text, so it was skipped; type it again."),
        "{out}"
    );
    assert!(
        out.contains("Zoom disables JWT authorization"),
        "the commands after it ran: {out}"
    );
}

#[tokio::test]
async fn a_person_is_named_as_the_terminal_shows_them_and_no_secret_is_asked_without_a_key() {
    // This instance has no sealing key.
    let app = TestApp::spawn("", NOW).await;
    app.seed(&[
        ("z1", "Zoom one", Some("42"), AuthType::Jwt),
        ("z2", "Zoom two", Some("43"), AuthType::Jwt),
    ])
    .await;
    let console = ScriptedConsole::new(&[
        "/connections owner:@42",
        "/migrate connection:z1",
        "abcdefghij",
        "a-client-secret-value-xyz",
    ]);
    cutover::terminal::run(&app.core, &app.clock, &console).await;
    let out = console.output();
    // `@42` is how the list shows the owner, and it names them back.
    assert!(
        out.contains("• z1 Zoom one · Sales sync · owner @42"),
        "{out}"
    );
    assert!(!out.contains("z2 Zoom two"), "{out}");
    assert!(
        out.contains("The switch needs a sealing key to keep your client secret safe"),
        "{out}"
    );
    assert!(
        console.secret_prompts().is_empty(),
        "the secret was asked for: {out}"
    );
    assert!(!out.contains("Zoom OAuth client ID"), "no form: {out}");
}

#[tokio::test]
async fn words_that_are_no_command_are_answered_about_what_was_typed() {
    let out = on_a_pipe(b"hello world\n/hello world\n").await;
    assert!(
        out.contains("\"hello world\" is not something cutover understands: it takes commands, which start with a slash, like /deadlines. Type /help to see them all."),
        "{out}"
    );
    assert_eq!(
        out.matches("is not a cutover command").count(),
        1,
        "only the line with a slash is taken for a command: {out}"
    );
    assert!(
        out.contains("/hello world is not a cutover command. Type /help to see what there is."),
        "a slash makes it a command that does not exist: {out}"
    );
}

#[tokio::test]
async fn slow_work_first_says_what_it_is_doing() {
    let out = on_a_pipe(b"/progress\n").await;
    let working = out.find("Drawing the burndown chart…").expect(&out);
    let saved = out.find("saved to").expect(&out);
    assert!(working < saved, "{out}");
    // No integrator.io is configured here, and none is talked to.
    assert!(!out.contains("integrator.io"), "{out}");
}

#[tokio::test]
async fn a_command_its_options_refuse_is_answered_at_once_without_the_slow_line() {
    let out = on_a_pipe(b"/progress week:2\n").await;
    assert!(
        out.contains("The option week is not one of /progress's; it takes no options."),
        "{out}"
    );
    assert!(!out.contains("Drawing the burndown chart…"), "{out}");
}

/// The binary with a default configuration, `input` on its standard input until it
/// ends; what it printed.
async fn on_a_pipe(input: &[u8]) -> String {
    let dir = TestDir::new();
    let config = dir.config("");
    let mut child = dir
        .cutover()
        .arg("--config")
        .arg(&config)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start cutover");
    let mut stdin = child.stdin.take().expect("stdin");
    stdin.write_all(input).await.expect("write the input");
    drop(stdin);
    let output = child.wait_with_output().await.expect("cutover exits");
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[tokio::test]
async fn status_at_the_terminal_prints_a_sign_in_link_that_opens_the_page() {
    let app = TestApp::spawn("", NOW).await;
    app.seed(&[("z1", "Zoom sales", None, AuthType::Jwt)]).await;
    let console = ScriptedConsole::new(&["/status"]);
    cutover::terminal::run(&app.core, &app.clock, &console).await;
    let out = console.output();
    let link = out
        .split_whitespace()
        .find(|word| word.contains("/status/sign-in?token="))
        .unwrap_or_else(|| panic!("a sign-in link: {out}"));
    let path = link.split_once("/status/").map(|(_, p)| p).expect("a path");
    let browser = crate::helpers::browser();
    let opened = browser
        .get(app.url(&format!("/status/{path}")))
        .send()
        .await
        .expect("sign in");
    assert_eq!(opened.status(), 303, "{out}");
    let cookie = opened.headers()["set-cookie"].to_str().expect("cookie");
    let page = browser
        .get(app.url("/status"))
        .header("cookie", cookie.split(';').next().expect("pair"))
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("text");
    assert!(
        page.contains("Signed in as <strong>the terminal</strong>"),
        "{page}"
    );
    assert!(page.contains("Zoom sales"), "{page}");
}
