use chrono::{DateTime, Utc};
use cutover::chat::{Action, Caller, ChatCore, OptionValue, Reply, Request};
use cutover::clock::ManualClock;
use cutover::domain::{
    Actor, AuthType, ConnectionId, ConnectionRecord, ConnectionSource, DisplayName, Snowflake,
};
use cutover::settings::Settings;
use cutover::startup::Application;
use cutover::store::Store;
use cutover::terminal::Console;
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tempfile::TempDir;

pub fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .expect("test instant")
        .with_timezone(&Utc)
}

/// A folder of its own for each test: database, config files, working directory.
pub struct TestDir {
    dir: TempDir,
}

impl TestDir {
    pub fn new() -> Self {
        Self {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn db_url(&self) -> String {
        format!("sqlite://{}/data/cutover.db", self.path().display())
    }

    pub fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.path().join(name);
        std::fs::write(&path, text).expect("write test file");
        path
    }

    /// A config file with this folder's database, port 0, and `extra` TOML.
    pub fn config(&self, extra: &str) -> PathBuf {
        let mut text = format!(
            "[database]\nurl = \"{}\"\n[server]\nbind = \"127.0.0.1:0\"\n",
            self.db_url()
        );
        text.push_str(extra);
        self.write("test.toml", &text)
    }

    /// The built `cutover` binary, run in this folder with no CUTOVER settings inherited.
    pub fn cutover(&self) -> tokio::process::Command {
        let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_cutover"));
        command
            .current_dir(self.path())
            .env("RUST_LOG", "info")
            .env_remove("RUST_BACKTRACE");
        for (key, _) in std::env::vars() {
            if key.starts_with("CUTOVER") {
                command.env_remove(key);
            }
        }
        command.kill_on_drop(true);
        command
    }
}

/// The application started in-process on port 0, as `cutover run` starts it.
pub struct TestApp {
    pub address: SocketAddr,
    pub core: Arc<ChatCore>,
    pub store: Store,
    pub clock: ManualClock,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
    pub dir: TestDir,
}

impl TestApp {
    pub async fn spawn(extra_config: &str, now: &str) -> Self {
        Self::spawn_in(TestDir::new(), extra_config, now).await
    }

    pub async fn spawn_in(dir: TestDir, extra_config: &str, now: &str) -> Self {
        let settings = Settings::load(Some(&dir.config(extra_config))).expect("test settings");
        let clock = ManualClock::new(at(now));
        let app = Application::build(&settings, Arc::new(clock.clone()))
            .await
            .expect("app builds");
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let address = app.address();
        let core = app.core();
        let store = app.store();
        let server = tokio::spawn(app.run_until_stopped(async move {
            let _ = stopped.await;
        }));
        Self {
            address,
            core,
            store,
            clock,
            stop: Some(stop),
            server: Some(server),
            dir,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.address)
    }

    /// Stops the server and waits for it, handing back the folder (to start again on it).
    pub async fn stop(mut self) -> TestDir {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(server) = self.server.take() {
            server
                .await
                .expect("server task")
                .expect("server stopped cleanly");
        }
        self.store.close().await;
        std::mem::replace(&mut self.dir, TestDir::new())
    }

    pub async fn seed(&self, rows: &[(&str, &str, Option<u64>, AuthType)]) {
        let records: Vec<ConnectionRecord> = rows
            .iter()
            .map(|(id, name, owner, auth_type)| ConnectionRecord {
                id: ConnectionId::parse(id).expect("id"),
                name: DisplayName::parse(name).expect("name"),
                integration: "Sales sync".into(),
                owner: owner.map(|o| Snowflake::new(o).expect("owner")),
                auth_type: *auth_type,
            })
            .collect();
        self.store
            .upsert_connections(
                &records,
                ConnectionSource::Import,
                Actor::CommandLine,
                self.clock_now(),
                "test seed",
            )
            .await
            .expect("seed");
    }

    fn clock_now(&self) -> DateTime<Utc> {
        use cutover::clock::Clock;
        self.clock.now()
    }

    pub async fn command(&self, caller: Caller, name: &str, options: &[(&str, &str)]) -> Reply {
        let options = options
            .iter()
            .map(|(k, v)| ((*k).to_owned(), OptionValue::Text((*v).to_owned())))
            .collect();
        self.core
            .handle(Request::new(
                caller,
                Action::Command {
                    name: name.into(),
                    options,
                },
            ))
            .await
    }

    pub async fn press(&self, caller: Caller, id: &str) -> Reply {
        self.core
            .handle(Request::new(caller, Action::Button { id: id.into() }))
            .await
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

pub fn user(id: u64) -> Caller {
    Caller {
        actor: Actor::Discord(Snowflake::new(id).expect("user id")),
        is_admin: false,
    }
}

pub fn admin(id: u64) -> Caller {
    Caller {
        actor: Actor::Discord(Snowflake::new(id).expect("user id")),
        is_admin: true,
    }
}

/// A console fed from a script, recording what the adapter prints and how it asked.
#[derive(Default)]
pub struct ScriptedConsole {
    input: VecDeque<String>,
    pub output: String,
    /// The prompts that were read without echo.
    pub secret_prompts: Vec<String>,
}

impl ScriptedConsole {
    pub fn new(lines: &[&str]) -> Self {
        Self {
            input: lines.iter().map(|l| (*l).to_owned()).collect(),
            ..Self::default()
        }
    }
}

impl Console for ScriptedConsole {
    async fn read_line(&mut self, _prompt: &str) -> Option<String> {
        self.input.pop_front()
    }

    async fn read_secret(&mut self, prompt: &str) -> Option<String> {
        self.secret_prompts.push(prompt.to_owned());
        self.input.pop_front()
    }

    fn write(&mut self, text: &str) {
        self.output.push_str(text);
        self.output.push('\n');
    }
}

/// A message reply's text, fields and all, or a panic naming what came instead.
pub fn message(reply: &Reply) -> &cutover::chat::Message {
    match reply {
        Reply::Message(m) | Reply::Update(m) => m,
        other => panic!("expected a message, got {other:?}"),
    }
}
