//! The real program on a real (pseudo-)terminal: the client secret asked for by
//! `/migrate` is read with echo off, so it never appears on the screen.

use crate::helpers::TestDir;
use rustix::pty::{grantpt, openpt, ptsname, unlockpt, OpenptFlags};
use rustix::termios::{tcgetattr, LocalModes};
use std::io::{Read, Write};
use std::os::fd::OwnedFd;
use std::process::Stdio;
use std::time::Duration;
use tokio::sync::mpsc;

const SECRET: &str = "pty-secret-never-echoed-0123";
const CLIENT_ID: &str = "PtyClientId0123";
/// A bound for each wait, so a broken program fails the test instead of hanging it.
const WAIT: Duration = Duration::from_secs(30);

/// The terminal side the test holds: what the program writes arrives on `output`.
struct Terminal {
    master: std::fs::File,
    output: mpsc::UnboundedReceiver<Vec<u8>>,
    seen: String,
    /// How much of `seen` earlier waits have used up.
    read: usize,
}

impl Terminal {
    /// Opens a pseudo-terminal; returns the test's side and the program's (the device).
    fn open() -> (Self, std::fs::File) {
        let master: OwnedFd =
            openpt(OpenptFlags::RDWR | OpenptFlags::NOCTTY).expect("a pseudo-terminal");
        grantpt(&master).expect("grantpt");
        unlockpt(&master).expect("unlockpt");
        let name = ptsname(&master, Vec::new()).expect("its name");
        let device = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(name.to_str().expect("a path"))
            .expect("open the terminal device");
        let master = std::fs::File::from(master);
        let mut reader = master.try_clone().expect("a second handle");
        let (sender, output) = mpsc::unbounded_channel();
        // Reading a terminal blocks: a plain thread, ended by the read error at close.
        std::thread::spawn(move || {
            let mut buffer = [0u8; 4096];
            while let Ok(n @ 1..) = reader.read(&mut buffer) {
                if sender.send(buffer[..n].to_vec()).is_err() {
                    break;
                }
            }
        });
        let terminal = Self {
            master,
            output,
            seen: String::new(),
            read: 0,
        };
        (terminal, device)
    }

    /// Waits until the screen shows `text` after what earlier waits found.
    async fn wait_for(&mut self, text: &str) {
        let found = tokio::time::timeout(WAIT, async {
            loop {
                if let Some(at) = self.seen[self.read..].find(text) {
                    self.read += at + text.len();
                    return true;
                }
                match self.output.recv().await {
                    Some(bytes) => self.seen.push_str(&String::from_utf8_lossy(&bytes)),
                    None => return false,
                }
            }
        })
        .await;
        assert!(
            matches!(found, Ok(true)),
            "the terminal never showed {text:?}; it showed:\n{}",
            self.seen
        );
    }

    fn type_line(&mut self, text: &str) {
        self.master
            .write_all(format!("{text}\r").as_bytes())
            .expect("type");
    }

    fn echoes(&self) -> bool {
        tcgetattr(&self.master)
            .expect("the terminal's modes")
            .local_modes
            .contains(LocalModes::ECHO)
    }
}

#[tokio::test]
async fn the_client_secret_is_read_without_echo_on_a_real_terminal() {
    let dir = TestDir::new();
    let config = dir.config(&dir.sealing_key());
    dir.write(
        "one.csv",
        "id,name,integration,owner,auth_type\nz1,Zoom one,,,jwt\n",
    );
    let imported = dir
        .cutover()
        .arg("--config")
        .arg(&config)
        .args(["connections", "import", "one.csv"])
        .output()
        .await
        .expect("import");
    assert!(imported.status.success());

    let (mut terminal, device) = Terminal::open();
    // `setsid -c` makes the terminal the program's controlling terminal, as a login
    // shell would: the secret is read from /dev/tty.
    let mut command = tokio::process::Command::new("setsid");
    command
        .arg("-c")
        .arg(env!("CARGO_BIN_EXE_cutover"))
        .arg("--config")
        .arg(&config)
        .current_dir(dir.path())
        .env("RUST_LOG", "warn")
        .stdin(Stdio::from(device.try_clone().expect("stdin")))
        .stdout(Stdio::from(device.try_clone().expect("stdout")))
        .stderr(Stdio::from(device))
        .kill_on_drop(true);
    for (key, _) in std::env::vars() {
        if key.starts_with("CUTOVER") {
            command.env_remove(key);
        }
    }
    let mut child = command.spawn().expect("start cutover on the terminal");

    terminal.wait_for("cutover> ").await;
    assert!(terminal.echoes(), "an ordinary prompt echoes what is typed");
    terminal.type_line("/migrate connection:z1");
    terminal.wait_for("Zoom OAuth client ID: ").await;
    terminal.type_line(CLIENT_ID);
    terminal.wait_for("Zoom OAuth client secret: ").await;
    // The program turns echo off as it starts reading; type only once it has.
    tokio::time::timeout(WAIT, async {
        while terminal.echoes() {
            tokio::task::yield_now().await;
        }
    })
    .await
    .expect("echo is turned off for the secret");
    terminal.type_line(SECRET);
    terminal.wait_for("Authorize with Zoom").await;
    terminal.wait_for("cutover> ").await;
    assert!(terminal.echoes(), "echo is back on after the secret");

    let screen = terminal.seen.clone();
    assert!(
        screen.contains(CLIENT_ID),
        "the client ID is echoed: {screen}"
    );
    assert!(
        !screen.contains(SECRET),
        "the secret was shown on the terminal:\n{screen}"
    );
    let _ = child.start_kill();
    let _ = child.wait().await;
}
