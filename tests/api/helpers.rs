use crate::fake_discord::FakeDiscord;
use crate::fake_zoom::FakeZoom;
use chrono::{DateTime, Utc};
use cutover::chat::{Action, Caller, ChatCore, OptionValue, Reply, Request};
use cutover::clock::ManualClock;
use cutover::domain::{
    Actor, AuthType, ConnectionId, ConnectionRecord, ConnectionSource, DisplayName, Snowflake,
};
use cutover::settings::Settings;
use cutover::startup::{Adapter, Application};
use cutover::store::Store;
use cutover::terminal::Console;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tempfile::TempDir;

/// The instant most tests pin the clock at.
pub const NOW: &str = "2025-11-21T12:00:00Z";
/// The Discord user who owns the connections tests seed.
pub const OWNER: &str = "420000000000000001";
/// A Discord user who is not `OWNER`: a stranger to OWNER's connections, the owner of
/// another, or the one a connection is given to.
pub const OTHER_USER: &str = "430000000000000001";
/// The sealing key of the tests' instances (base64 of 32 bytes).
pub const SEALING_KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
/// Where the tests' instances say they are reached: the links they hand out start with it.
pub const PUBLIC_BASE: &str = "http://cutover.test";

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

    /// A `[security]` section with a sealing key (in a file, as secrets must be): what an
    /// instance needs before `/migrate` takes a client secret.
    pub fn sealing_key(&self) -> String {
        let key_file = self.write("sealing.key", SEALING_KEY);
        format!(
            "[security]\nsealing_key_file = \"{}\"\n",
            key_file.display()
        )
    }

    pub fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.path().join(name);
        std::fs::write(&path, text).expect("write test file");
        path
    }

    /// A config file with this folder's database, port 0, and `extra` TOML.
    pub fn config(&self, extra: &str) -> PathBuf {
        self.config_with_server("", extra)
    }

    /// As `config`, with more keys in `[server]`.
    pub fn config_with_server(&self, server: &str, extra: &str) -> PathBuf {
        let mut text = format!(
            "[database]\nurl = \"{}\"\n[server]\nbind = \"127.0.0.1:0\"\n{server}",
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
    pub switch: Arc<cutover::switch::Switch>,
    pub reminders: Arc<cutover::reminders::Reminders>,
    pub clock: ManualClock,
    /// The default Discord fake, kept so that it checks, when dropped, what it received.
    discord: Option<FakeDiscord>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
    /// The Discord gateway beside the server, when started with it: its stop and its
    /// task, which ends saying why.
    gateway: Option<(
        tokio::sync::oneshot::Sender<()>,
        tokio::task::JoinHandle<String>,
    )>,
    pub dir: TestDir,
}

impl TestApp {
    pub async fn spawn(extra_config: &str, now: &str) -> Self {
        Self::spawn_in(TestDir::new(), extra_config, now).await
    }

    /// Starts in `dir` with `extra_config`, Zoom and Discord at loopback fakes so that no
    /// test reaches the real ones.
    pub async fn spawn_in(dir: TestDir, extra_config: &str, now: &str) -> Self {
        let zoom = FakeZoom::start().await;
        let discord = FakeDiscord::start().await;
        let config = dir.config(&format!(
            "{}[discord]\napi_base_url = \"{}\"\n{extra_config}",
            zoom.config(),
            discord.base_url
        ));
        let mut app = Self::spawn_with(dir, &config, now).await;
        app.discord = Some(discord);
        app
    }

    /// Starts on a config file already written in `dir`.
    pub async fn spawn_with(dir: TestDir, config: &Path, now: &str) -> Self {
        Self::spawn_running(dir, config, now, false).await
    }

    /// As `spawn_with`, with the Discord gateway beside the server, chosen and run as
    /// `cutover run` does (the settings must have a bot token).
    pub async fn spawn_with_gateway(dir: TestDir, config: &Path, now: &str) -> Self {
        Self::spawn_running(dir, config, now, true).await
    }

    async fn spawn_running(dir: TestDir, config: &Path, now: &str, with_gateway: bool) -> Self {
        let settings = Settings::load(Some(config)).expect("test settings");
        let clock = ManualClock::new(at(now));
        let app = Application::build(&settings, Arc::new(clock.clone()))
            .await
            .expect("app builds");
        // Chosen before the server takes the application, as cli.rs does.
        let gateway = with_gateway.then(|| {
            let adapter = Adapter::choose(&settings, &app, Arc::new(clock.clone()), false);
            assert!(adapter.needs_stopping(), "a bot token chooses the gateway");
            let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
            let task = tokio::spawn(adapter.run(async move {
                let _ = stopped.await;
            }));
            (stop, task)
        });
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let address = app.address();
        let core = app.core();
        let store = app.store();
        let switch = app.switch();
        let reminders = app.reminders();
        let server = tokio::spawn(app.run_until_stopped(async move {
            let _ = stopped.await;
        }));
        Self {
            address,
            core,
            store,
            switch,
            reminders,
            clock,
            discord: None,
            stop: Some(stop),
            server: Some(server),
            gateway,
            dir,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.address)
    }

    /// Stops the gateway, if it runs, and waits for it to close; why it ended.
    pub async fn stop_gateway(&mut self) -> Option<String> {
        let (stop, task) = self.gateway.take()?;
        let _ = stop.send(());
        Some(task.await.expect("gateway task"))
    }

    /// Stops the gateway first, so no interaction reaches a closed store, then the server,
    /// and waits for them, handing back the folder (to start again on it).
    pub async fn stop(mut self) -> TestDir {
        self.stop_gateway().await;
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

    /// Imports connections: (id, name, owner's Discord id, auth type).
    pub async fn seed(&self, rows: &[(&str, &str, Option<&str>, AuthType)]) {
        let records: Vec<ConnectionRecord> = rows
            .iter()
            .map(|(id, name, owner, auth_type)| ConnectionRecord {
                id: ConnectionId::parse(id).expect("id"),
                name: DisplayName::parse(name).expect("name"),
                integration: cutover::domain::IntegrationName::parse("Sales sync")
                    .expect("integration"),
                owner: owner.map(|o| Snowflake::parse(o).expect("owner")),
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

    pub fn clock_now(&self) -> DateTime<Utc> {
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
            .reply
    }

    pub async fn press(&self, caller: Caller, id: &str) -> Reply {
        self.core
            .handle(Request::new(caller, Action::Button { id: id.into() }))
            .await
            .reply
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some((stop, _)) = self.gateway.take() {
            let _ = stop.send(());
        }
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// What a test adds to its world's configuration: nothing, by default.
#[derive(Clone, Default)]
pub struct Setup {
    /// Keys for `[zoom]`, after the fake's addresses.
    pub zoom: String,
    /// Keys for `[reminders]`, after the fake Discord's channel.
    pub reminders: String,
    /// Sections of their own, such as `[celigo]` or `[[deadlines]]`.
    pub sections: String,
}

/// The program with the fakes it talks to: started in-process on a fresh folder with a
/// sealing key, reached at `PUBLIC_BASE`, Zoom at a loopback fake and Discord at another
/// (as its bot, reminders to the fake's channel); stopped and started again on the same
/// database, fakes and configuration.
pub struct World {
    pub app: TestApp,
    pub zoom: FakeZoom,
    pub discord: FakeDiscord,
    browser: reqwest::Client,
    setup: Setup,
    /// The `[security]` section it runs with.
    security: String,
    /// The configuration file it runs on.
    config: PathBuf,
}

/// A world whose program is not running, not yet or no longer: its folder (database
/// and files), its fakes and what its configuration says.
pub struct Stopped {
    pub dir: TestDir,
    pub zoom: FakeZoom,
    pub discord: FakeDiscord,
    browser: reqwest::Client,
    pub setup: Setup,
    /// The `[security]` section: the sealing key, unless a test changes it.
    pub security: String,
}

impl Stopped {
    /// The fakes started, and a fresh folder with a sealing key.
    pub async fn fresh(setup: Setup) -> Self {
        let zoom = FakeZoom::start().await;
        let discord = FakeDiscord::start().await;
        let dir = TestDir::new();
        let security = dir.sealing_key();
        Self {
            dir,
            zoom,
            discord,
            browser: browser(),
            setup,
            security,
        }
    }

    /// Writes the configuration file; its path.
    pub fn config(&self) -> PathBuf {
        let Setup {
            zoom,
            reminders,
            sections,
        } = &self.setup;
        let rest = format!(
            "{}{zoom}{}{}[reminders]\nchannel_id = \"{}\"\n{reminders}\n{sections}",
            self.zoom.config(),
            self.security,
            self.discord.bot_config(&self.dir),
            crate::fake_discord::CHANNEL_ID,
        );
        self.dir
            .config_with_server(&format!("public_base_url = \"{PUBLIC_BASE}\"\n"), &rest)
    }

    /// Starts the program with the clock at `now`.
    pub async fn start(self, now: &str) -> World {
        self.start_running(now, false).await
    }

    /// As `start`, with the Discord gateway connected to the fake's (which takes one
    /// connection: a world started so is not restarted).
    pub async fn start_with_gateway(self, now: &str) -> World {
        self.start_running(now, true).await
    }

    async fn start_running(self, now: &str, with_gateway: bool) -> World {
        let config = self.config();
        let app = if with_gateway {
            TestApp::spawn_with_gateway(self.dir, &config, now).await
        } else {
            TestApp::spawn_with(self.dir, &config, now).await
        };
        World {
            app,
            zoom: self.zoom,
            discord: self.discord,
            browser: self.browser,
            setup: self.setup,
            security: self.security,
            config,
        }
    }
}

impl World {
    /// The world most tests start from: two connections on JWT, z1 and z2, owned by
    /// OWNER; the clock at NOW.
    pub async fn start() -> Self {
        Self::start_with(Setup::default()).await
    }

    /// As `start`, with `setup` in the configuration.
    pub async fn start_with(setup: Setup) -> Self {
        let w = Stopped::fresh(setup).await.start(NOW).await;
        w.app
            .seed(&[
                ("z1", "Zoom one", Some(OWNER), AuthType::Jwt),
                ("z2", "Zoom two", Some(OWNER), AuthType::Jwt),
            ])
            .await;
        w
    }

    /// Stops the program and waits for it; the folder and the fakes are kept.
    pub async fn stop(self) -> Stopped {
        let Self {
            app,
            zoom,
            discord,
            browser,
            setup,
            security,
            config: _,
        } = self;
        Stopped {
            dir: app.stop().await,
            zoom,
            discord,
            browser,
            setup,
            security,
        }
    }

    /// Stops the program and starts it again, the clock where it stood.
    pub async fn restart(self) -> Self {
        let now = self.app.clock_now().to_rfc3339();
        self.restart_at(&now).await
    }

    /// As `restart`, with the clock at `now`.
    pub async fn restart_at(self, now: &str) -> Self {
        self.stop().await.start(now).await
    }

    /// The configuration file the program runs on.
    pub fn config(&self) -> &Path {
        &self.config
    }

    /// Sends a signed interaction to the HTTP endpoint, as Discord would; the answer.
    pub async fn send(&self, interaction: serde_json::Value) -> serde_json::Value {
        crate::fake_discord::send_signed(&self.app, interaction).await
    }

    /// The edit of a deferred answer (interaction token `answer_token`), once it arrives.
    pub async fn edit_of(&self, answer_token: &str) -> serde_json::Value {
        let path = format!(
            "/api/v10/webhooks/{}/{answer_token}/messages/@original",
            crate::fake_discord::APPLICATION_ID
        );
        let edit = self
            .discord
            .wait_for_request(|r| r.method == "PATCH" && r.path == path)
            .await;
        crate::openapi::assert_message_edit(&edit.body);
        edit.body
    }

    /// A browser opening a link or page, stopping at redirects (the program's own
    /// addresses, under `PUBLIC_BASE`, are fetched from the program).
    pub async fn open(&self, url: &str) -> reqwest::Response {
        let url = match url.strip_prefix(PUBLIC_BASE) {
            Some(path) => self.app.url(path),
            None => url.to_owned(),
        };
        self.browser.get(url).send().await.expect("browser request")
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
pub struct ScriptedConsole {
    input: tokio::sync::Mutex<tokio::sync::mpsc::UnboundedReceiver<String>>,
    sender: std::sync::Mutex<Option<tokio::sync::mpsc::UnboundedSender<String>>>,
    output: std::sync::Mutex<String>,
    /// The prompts that were read without echo.
    secret_prompts: std::sync::Mutex<Vec<String>>,
}

impl ScriptedConsole {
    /// A console whose input is `lines` and then ends.
    pub fn new(lines: &[&str]) -> Self {
        let console = Self::open();
        for line in lines {
            console.type_line(line);
        }
        console.end_input();
        console
    }

    /// A console whose input stays open until `end_input`.
    pub fn open() -> Self {
        let (sender, input) = tokio::sync::mpsc::unbounded_channel();
        Self {
            input: tokio::sync::Mutex::new(input),
            sender: std::sync::Mutex::new(Some(sender)),
            output: std::sync::Mutex::new(String::new()),
            secret_prompts: std::sync::Mutex::new(Vec::new()),
        }
    }

    pub fn type_line(&self, line: &str) {
        if let Some(sender) = self.sender.lock().expect("sender").as_ref() {
            let _ = sender.send(line.to_owned());
        }
    }

    /// Ctrl-D.
    pub fn end_input(&self) {
        self.sender.lock().expect("sender").take();
    }

    pub fn output(&self) -> String {
        self.output.lock().expect("output").clone()
    }

    pub fn secret_prompts(&self) -> Vec<String> {
        self.secret_prompts.lock().expect("prompts").clone()
    }
}

impl Console for ScriptedConsole {
    async fn read_line(&self, _prompt: &str) -> Option<String> {
        self.input.lock().await.recv().await
    }

    async fn read_secret(&self, prompt: &str) -> Option<String> {
        self.secret_prompts
            .lock()
            .expect("prompts")
            .push(prompt.to_owned());
        self.input.lock().await.recv().await
    }

    fn write(&self, text: &str) {
        let mut output = self.output.lock().expect("output");
        output.push_str(text);
        output.push('\n');
    }
}

/// A browser that stops at each redirect, so a test sees where it is sent.
pub fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("browser")
}

/// The personal link on a message's "Authorize with Zoom" button (`message`: an
/// interaction answer's `data`, or the body of an edit).
pub fn authorize_link(message: &serde_json::Value) -> String {
    let button = &message["components"][0]["components"][0];
    assert_eq!(
        button["style"],
        crate::fake_discord::LINK_BUTTON,
        "a link button: {message}"
    );
    assert_eq!(button["label"], "Authorize with Zoom");
    button["url"].as_str().expect("url").to_owned()
}

/// A message reply's text, fields and all, or a panic naming what came instead.
pub fn message(reply: &Reply) -> &cutover::chat::Message {
    match reply {
        Reply::Message(m) | Reply::Update(m) => m,
        other => panic!("expected a message, got {other:?}"),
    }
}

/// Reads the child's stderr until the server says where it listens.
pub async fn listening_address(
    stderr: &mut (impl tokio::io::AsyncBufReadExt + Unpin),
    log: &mut String,
) -> String {
    let mut line = String::new();
    loop {
        line.clear();
        let n = stderr.read_line(&mut line).await.expect("read stderr");
        assert!(n > 0, "the program ended before listening; its log:\n{log}");
        log.push_str(&line);
        if let Some(rest) = line.split("listening on http://").nth(1) {
            return rest.split_whitespace().next().expect("address").to_owned();
        }
    }
}

/// One sample from the app's `/metrics`, e.g. `cutover_switch_total{backend="direct",outcome="switched"}`
/// (labels in the order the program writes them); 0 when the series does not exist yet.
pub async fn metric(app: &TestApp, series: &str) -> f64 {
    let response = reqwest::get(app.url("/metrics")).await.expect("/metrics");
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-type"]
        .to_str()
        .is_ok_and(|t| t.starts_with("application/openmetrics-text")));
    let text = response.text().await.expect("text");
    assert!(text.ends_with("# EOF\n"), "{text}");
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
        .map_or(0.0, |value| value.parse().expect("a number"))
}
