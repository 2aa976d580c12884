//! The whole switch from a shell: the real binary's terminal adapter on a pipe, the
//! link followed like a browser, the outcome printed — with every log line captured and
//! searched for the secrets involved.

use crate::fake_zoom::{FakeZoom, CLIENT_ID, CLIENT_SECRET};
use crate::helpers::{browser, listening_address, TestDir, PUBLIC_BASE, SEALING_KEY};
use std::process::Stdio;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::ChildStdout;

async fn read_until(
    lines: &mut Lines<BufReader<ChildStdout>>,
    seen: &mut String,
    wanted: &str,
) -> String {
    let reading = async {
        loop {
            let line = lines
                .next_line()
                .await
                .expect("stdout")
                .unwrap_or_else(|| panic!("stdout ended before {wanted:?}:\n{seen}"));
            seen.push_str(&line);
            seen.push('\n');
            if line.contains(wanted) {
                return line;
            }
        }
    };
    tokio::time::timeout(std::time::Duration::from_secs(20), reading)
        .await
        .unwrap_or_else(|_| panic!("the terminal never printed {wanted:?}"))
}

/// A whole switch of z1 typed into the binary's terminal on a pipe, with debug logging
/// on, the link followed like a browser; run until the terminal printed the outcome and
/// the program ended at the end of its input.
struct TerminalSwitch {
    zoom: FakeZoom,
    /// What the terminal printed.
    out: String,
    /// Everything the program logged.
    log: String,
    /// Where Zoom sent the browser back to (with the code and the state).
    location: String,
    /// The callback page.
    page: String,
    exit: std::process::ExitStatus,
}

impl TerminalSwitch {
    async fn run() -> Self {
        let zoom = FakeZoom::start().await;
        let dir = TestDir::new();
        let config = dir.config("");
        import_z1_and_z2(&dir, &config).await;
        let mut child = start_on_a_pipe(&dir, &config, &zoom);
        let mut stderr = BufReader::new(child.stderr.take().expect("stderr"));
        let mut log = String::new();
        let address = listening_address(&mut stderr, &mut log).await;
        let mut stdin = child.stdin.take().expect("stdin");
        let mut stdout = BufReader::new(child.stdout.take().expect("stdout")).lines();
        let mut out = String::new();

        stdin
            .write_all(format!("/migrate connection:z1\n{CLIENT_ID}\n{CLIENT_SECRET}\n").as_bytes())
            .await
            .expect("type");
        let link_line = read_until(&mut stdout, &mut out, "Authorize with Zoom: ").await;
        let link = link_line
            .split("Authorize with Zoom: ")
            .nth(1)
            .expect("link")
            .trim()
            .to_owned();
        let (location, page) = follow(&link, &address).await;

        // The terminal prints the outcome by itself, while waiting for the next command.
        read_until(&mut stdout, &mut out, "Done: z1 is on OAuth 2.0").await;
        drop(stdin);
        let exit = child.wait().await.expect("exit");
        while let Some(line) = stdout.next_line().await.expect("stdout") {
            out.push_str(&line);
            out.push('\n');
        }
        stderr.read_to_string(&mut log).await.expect("stderr");
        Self {
            zoom,
            out,
            log,
            location,
            page,
            exit,
        }
    }

    /// The secrets of the run, each with what it is: the client secret, the code, the
    /// PKCE verifier, the sealing key, and every token Zoom issued.
    fn secrets(&self) -> Vec<(&'static str, String)> {
        let code = self
            .location
            .split("code=")
            .nth(1)
            .and_then(|c| c.split('&').next())
            .expect("code")
            .to_owned();
        let exchange = self
            .zoom
            .token_requests()
            .into_iter()
            .next()
            .expect("exchange");
        let verifier = exchange.form["code_verifier"].clone();
        let mut secrets = vec![
            ("client secret", CLIENT_SECRET.to_owned()),
            ("code", code),
            ("PKCE verifier", verifier),
            ("sealing key", SEALING_KEY.to_owned()),
        ];
        for token in self.zoom.issued_tokens() {
            secrets.push(("token", token));
        }
        secrets
    }

    /// The `state` Zoom sent back.
    fn state(&self) -> &str {
        self.location.split("state=").nth(1).expect("state")
    }
}

/// `cutover connections import` of an inventory with z1 and z2 on JWT, nobody's.
async fn import_z1_and_z2(dir: &TestDir, config: &std::path::Path) {
    dir.write(
        "inventory.csv",
        "id,name,integration,owner,auth_type\nz1,Zoom one,,,jwt\nz2,Zoom two,,,jwt\n",
    );
    let imported = dir
        .cutover()
        .arg("--config")
        .arg(config)
        .args(["connections", "import", "inventory.csv"])
        .output()
        .await
        .expect("import");
    assert!(imported.status.success());
}

/// The binary with its terminal on a pipe, debug logging on, a sealing key, reached at
/// `PUBLIC_BASE`, Zoom at the fake.
fn start_on_a_pipe(
    dir: &TestDir,
    config: &std::path::Path,
    zoom: &FakeZoom,
) -> tokio::process::Child {
    dir.cutover()
        .arg("--config")
        .arg(config)
        .env("RUST_LOG", "debug")
        .env("CUTOVER__SECURITY__SEALING_KEY", SEALING_KEY)
        .env("CUTOVER__SERVER__PUBLIC_BASE_URL", PUBLIC_BASE)
        .env(
            "CUTOVER__ZOOM__AUTHORIZE_URL",
            format!("{}/oauth/authorize", zoom.base_url),
        )
        .env(
            "CUTOVER__ZOOM__TOKEN_URL",
            format!("{}/oauth/token", zoom.base_url),
        )
        .env(
            "CUTOVER__ZOOM__USERINFO_URL",
            format!("{}/v2/users/me", zoom.base_url),
        )
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start cutover")
}

/// A browser following the link to Zoom, and back to the program at `address`: where Zoom
/// sent it, and the callback page (which must be a 200).
async fn follow(link: &str, address: &str) -> (String, String) {
    let browser = browser();
    let to_zoom = browser.get(link).send().await.expect("zoom");
    let location = to_zoom.headers()["location"]
        .to_str()
        .expect("location")
        .to_owned();
    let back = location
        .strip_prefix(PUBLIC_BASE)
        .expect("our redirect URI")
        .to_owned();
    let page = browser
        .get(format!("http://{address}{back}"))
        .send()
        .await
        .expect("callback");
    assert_eq!(page.status(), 200);
    let page = page.text().await.expect("page");
    (location, page)
}

#[tokio::test]
async fn the_terminal_runs_the_whole_switch_and_prints_the_outcome_by_itself() {
    let run = TerminalSwitch::run().await;
    let out = &run.out;
    assert!(
        out.contains("Redirect URL for OAuth to http://cutover.test/oauth/zoom/callback"),
        "{out}"
    );
    assert!(out.contains("Done: z1 is on OAuth 2.0"), "{out}");
    assert!(run.exit.success());
}

#[tokio::test]
async fn no_secret_of_a_terminal_switch_reaches_the_log_the_terminal_or_the_page() {
    let run = TerminalSwitch::run().await;
    let (log, out, page) = (&run.log, &run.out, &run.page);
    assert!(log.contains("DEBUG"), "debug logging was on");
    for (what, secret) in &run.secrets() {
        assert!(
            !log.contains(secret.as_str()),
            "the {what} is in the log:\n{log}"
        );
        assert!(
            !out.contains(secret.as_str()),
            "the {what} is in the terminal output:\n{out}"
        );
        assert!(!page.contains(secret.as_str()), "the {what} is in the page");
    }
    assert!(!log.contains(run.state()), "the state is in the log");
}
