//! A loopback Discord: REST under /api/v10 and a ws:// gateway that sends HELLO, READY
//! and the events a test pushes. It records every request so tests can assert on them.
//! Like Discord, it refuses a bot route without `Authorization: Bot …` (401) and a body
//! its OpenAPI description rejects (400); unlike Discord, it also fails the test that
//! sent one when it is dropped, so no test can forget to check.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Json;
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, Notify};
use tokio_tungstenite::tungstenite::Message;

pub const APPLICATION_ID: &str = "900000000000000001";
pub const GUILD_ID: &str = "800000000000000001";
pub const CHANNEL_ID: &str = "700000000000000001";
/// Manage Server (0x20).
/// The bot token the binary is given by [`FakeDiscord::bot`].
pub const BOT_TOKEN: &str = "fake-bot-token.for-tests";
pub const MANAGE_GUILD: &str = "32";
/// View Channel and Send Messages only.
pub const MEMBER: &str = "3072";

/// The message flag that shows a reply to its caller only.
pub const EPHEMERAL: u64 = 64;

/// What an interaction is (its `type`).
pub mod interaction_type {
    pub const PING: u64 = 1;
    pub const APPLICATION_COMMAND: u64 = 2;
    pub const MESSAGE_COMPONENT: u64 = 3;
    pub const AUTOCOMPLETE: u64 = 4;
    pub const MODAL_SUBMIT: u64 = 5;
}

/// How an interaction is answered (the response's `type`).
pub mod callback {
    pub const PONG: u64 = 1;
    pub const CHANNEL_MESSAGE: u64 = 4;
    pub const DEFERRED_CHANNEL_MESSAGE: u64 = 5;
    pub const DEFERRED_UPDATE_MESSAGE: u64 = 6;
    pub const UPDATE_MESSAGE: u64 = 7;
    pub const AUTOCOMPLETE_RESULT: u64 = 8;
    pub const MODAL: u64 = 9;
}

/// A command option's `type`.
pub mod option {
    pub const SUB_COMMAND: u64 = 1;
    pub const SUB_COMMAND_GROUP: u64 = 2;
    pub const STRING: u64 = 3;
    pub const INTEGER: u64 = 4;
    pub const USER: u64 = 6;
    pub const CHANNEL: u64 = 7;
}

/// The button style that opens a URL.
pub const LINK_BUTTON: u64 = 5;

/// A slash command (an application command's `type`).
pub const CHAT_INPUT: u64 = 1;

/// A message component's `type`.
pub mod component {
    pub const ACTION_ROW: u64 = 1;
    pub const BUTTON: u64 = 2;
    pub const TEXT_INPUT: u64 = 4;
}

#[derive(Debug, Clone)]
pub struct Received {
    pub method: String,
    pub path: String,
    pub authorization: Option<String>,
    /// The JSON body (`payload_json` of a multipart body).
    pub body: Value,
    /// Files of a multipart body: (file name, bytes).
    pub files: Vec<(String, Vec<u8>)>,
}

/// A message the fake created in a channel.
#[derive(Debug, Clone)]
pub struct Created {
    pub id: String,
    pub channel: String,
    pub body: Value,
    pub files: Vec<(String, Vec<u8>)>,
}

/// How the next channel posts are answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PostFault {
    /// 429, as Discord limits: retry after a tenth of a second.
    RateLimited,
    /// 404 Unknown Channel.
    UnknownChannel,
    /// The message is created, and the answer held until the test releases it.
    HoldAnswer,
}

#[derive(Default)]
struct Log {
    requests: Mutex<Vec<Received>>,
    created: Mutex<Vec<Created>>,
    faults: Mutex<Vec<PostFault>>,
    release: Notify,
    /// Interaction tokens past Discord's 15 minutes: edits with them are refused.
    expired: Mutex<Vec<String>>,
    gateway: Mutex<Vec<Value>>,
    changed: Notify,
    /// Requests Discord would have refused: what was wrong with each.
    violations: Mutex<Vec<String>>,
}

impl Log {
    fn push_request(&self, r: Received) {
        self.requests
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(r);
        self.changed.notify_waiters();
    }

    fn violation(&self, what: String) {
        self.violations
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(what);
    }

    fn push_gateway(&self, v: Value) {
        self.gateway
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(v);
        self.changed.notify_waiters();
    }
}

/// The key Discord signs HTTP interactions with, in these tests.
pub fn signing_key() -> ed25519_dalek::SigningKey {
    ed25519_dalek::SigningKey::from_bytes(&[7u8; 32])
}

/// Discord's signature: Ed25519 over timestamp + body, hex.
pub fn sign(key: &ed25519_dalek::SigningKey, timestamp: &str, body: &[u8]) -> String {
    use ed25519_dalek::Signer;
    let mut message = timestamp.as_bytes().to_vec();
    message.extend_from_slice(body);
    hex::encode(key.sign(&message).to_bytes())
}

/// Posts `interaction` to the app's endpoint as Discord would (signed, timestamped by the
/// app's clock); the answer must be 200 and valid for Discord.
pub async fn send_signed(app: &crate::helpers::TestApp, interaction: Value) -> Value {
    let body = serde_json::to_vec(&interaction).expect("json");
    let timestamp = app.clock_now().timestamp().to_string();
    let signature = sign(&signing_key(), &timestamp, &body);
    let response = reqwest::Client::new()
        .post(app.url("/discord/interactions"))
        .header("X-Signature-Ed25519", signature)
        .header("X-Signature-Timestamp", timestamp)
        .body(body)
        .send()
        .await
        .expect("endpoint answers");
    let status = response.status();
    let json: Value = response.json().await.unwrap_or(Value::Null);
    assert_eq!(status, 200, "{json}");
    crate::openapi::assert_interaction_response(&json);
    json
}

pub struct FakeDiscord {
    pub base_url: String,
    log: Arc<Log>,
    events: mpsc::UnboundedSender<Value>,
}

impl FakeDiscord {
    /// The binary on `config` in `dir` as a bot of this fake: its token, REST, guild and
    /// application (the caller sets the standard streams and spawns it).
    pub fn bot(
        &self,
        dir: &crate::helpers::TestDir,
        config: &std::path::Path,
    ) -> tokio::process::Command {
        let mut command = dir.cutover();
        command
            .arg("--config")
            .arg(config)
            .env("CUTOVER__DISCORD__TOKEN", BOT_TOKEN)
            .env("CUTOVER__DISCORD__API_BASE_URL", &self.base_url)
            .env("CUTOVER__DISCORD__GUILD_ID", GUILD_ID)
            .env("CUTOVER__DISCORD__APPLICATION_ID", APPLICATION_ID);
        command
    }

    pub async fn start() -> Self {
        let ws = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind gateway");
        let ws_url = format!("ws://{}", ws.local_addr().expect("gateway address"));
        let log = Arc::new(Log::default());
        let (events, receiver) = mpsc::unbounded_channel();
        tokio::spawn(gateway(ws, Arc::clone(&log), receiver));

        let rest = TcpListener::bind("127.0.0.1:0").await.expect("bind rest");
        let base_url = format!("http://{}", rest.local_addr().expect("rest address"));
        let app = axum::Router::new()
            .fallback(rest_handler)
            .with_state((Arc::clone(&log), ws_url));
        tokio::spawn(async move { axum::serve(rest, app).await });
        Self {
            base_url,
            log,
            events,
        }
    }

    /// The `[discord]` settings that point cutover here: the key interactions are signed
    /// with, the application and the guild.
    pub fn config(&self) -> String {
        format!(
            "[discord]\npublic_key = \"{}\"\napplication_id = \"{APPLICATION_ID}\"\napi_base_url = \"{}\"\nguild_id = \"{GUILD_ID}\"\n",
            hex::encode(signing_key().verifying_key().to_bytes()),
            self.base_url,
        )
    }

    /// As `config`, with a bot token (in a file in `dir`, as secrets must be).
    pub fn bot_config(&self, dir: &crate::helpers::TestDir) -> String {
        let token_file = dir.write("discord.token", "discord-bot-token-for-tests");
        format!(
            "{}token_file = \"{}\"\n",
            self.config(),
            token_file.display()
        )
    }

    /// Sends a gateway dispatch (e.g. INTERACTION_CREATE) to the connected bot.
    pub fn dispatch(&self, event: &str, data: Value) {
        let _ = self.events.send(json!({ "t": event, "d": data }));
    }

    /// Discord stops taking edits with this interaction token (15 minutes passed).
    pub fn expire_interaction_token(&self, token: &str) {
        self.log
            .expired
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(token.to_owned());
    }

    /// The next channel posts meet these faults, in order.
    pub fn fail_channel_posts(&self, faults: &[PostFault]) {
        self.log
            .faults
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend_from_slice(faults);
    }

    /// Lets a held answer go.
    pub fn release_answer(&self) {
        self.log.release.notify_one();
    }

    /// The messages created in channels, in order (a post de-duplicated by its nonce
    /// is not created twice).
    pub fn created(&self) -> Vec<Created> {
        self.log
            .created
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Waits until `count` channel messages exist (bounded, like every wait here).
    pub async fn wait_for_created(&self, count: usize) -> Vec<Created> {
        self.wait_until(
            "channel messages",
            || {
                let created = self.created();
                (created.len() >= count).then_some(created)
            },
            || format!("{:#?}", self.created()),
        )
        .await
    }

    pub fn requests(&self) -> Vec<Received> {
        self.log
            .requests
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Takes the refused requests, so a test that provokes one on purpose can say so.
    pub fn take_violations(&self) -> Vec<String> {
        std::mem::take(
            &mut *self
                .log
                .violations
                .lock()
                .unwrap_or_else(PoisonError::into_inner),
        )
    }

    pub fn gateway_received(&self) -> Vec<Value> {
        self.log
            .gateway
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Waits until `find` finds something in the log (or fails after a generous bound, so
    /// a broken program fails the test instead of hanging it).
    async fn wait_until<T: std::fmt::Debug>(
        &self,
        what: &str,
        find: impl Fn() -> Option<T>,
        seen: impl Fn() -> String,
    ) -> T {
        let waiting = async {
            loop {
                let notified = self.log.changed.notified();
                if let Some(found) = find() {
                    return found;
                }
                notified.await;
            }
        };
        tokio::time::timeout(Duration::from_secs(20), waiting)
            .await
            .unwrap_or_else(|_| {
                panic!(
                    "the fake Discord never received the expected {what}; it got {}",
                    seen()
                )
            })
    }

    pub async fn wait_for_request(&self, wanted: impl Fn(&Received) -> bool) -> Received {
        self.wait_until(
            "request",
            || self.requests().into_iter().find(|r| wanted(r)),
            || format!("{:#?}", self.requests()),
        )
        .await
    }

    /// Waits until `count` requests match (a second answer, say).
    pub async fn wait_for_requests(
        &self,
        count: usize,
        wanted: impl Fn(&Received) -> bool,
    ) -> Vec<Received> {
        self.wait_until(
            "requests",
            || {
                let found: Vec<Received> =
                    self.requests().into_iter().filter(|r| wanted(r)).collect();
                (found.len() >= count).then_some(found)
            },
            || format!("{:#?}", self.requests()),
        )
        .await
    }

    pub async fn wait_for_gateway(&self, wanted: impl Fn(&Value) -> bool) -> Value {
        self.wait_until(
            "gateway payload",
            || self.gateway_received().into_iter().find(|v| wanted(v)),
            || format!("{:#?}", self.gateway_received()),
        )
        .await
    }
}

impl Drop for FakeDiscord {
    fn drop(&mut self) {
        if std::thread::panicking() {
            return;
        }
        let violations = self.take_violations();
        assert!(
            violations.is_empty(),
            "the program sent Discord requests it would refuse:\n{}",
            violations.join("\n")
        );
    }
}

/// A JSON body, or a multipart one's `payload_json` and files.
async fn read_body(headers: &HeaderMap, body: Bytes) -> (Value, Vec<(String, Vec<u8>)>) {
    let boundary = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|ct| multer::parse_boundary(ct).ok());
    let Some(boundary) = boundary else {
        return (
            serde_json::from_slice(&body).unwrap_or(Value::Null),
            Vec::new(),
        );
    };
    let stream = futures_util::stream::once(async move { Ok::<_, std::io::Error>(body) });
    let mut multipart = multer::Multipart::new(stream, boundary);
    let mut json = Value::Null;
    let mut files = Vec::new();
    while let Ok(Some(field)) = multipart.next_field().await {
        let name = field.name().unwrap_or_default().to_owned();
        let file_name = field.file_name().map(str::to_owned);
        let bytes = field.bytes().await.map(|b| b.to_vec()).unwrap_or_default();
        match file_name {
            Some(file_name) => files.push((file_name, bytes)),
            None if name == "payload_json" => {
                json = serde_json::from_slice(&bytes).unwrap_or(Value::Null)
            }
            None => {}
        }
    }
    (json, files)
}

/// A channel post: faults first, then Discord's nonce rule (with `enforce_nonce`, the same
/// nonce from the bot within minutes returns the message already made).
async fn channel_post(
    log: &Log,
    channel: &str,
    body: &Value,
    files: &[(String, Vec<u8>)],
) -> Response {
    let fault = {
        let mut faults = log.faults.lock().unwrap_or_else(PoisonError::into_inner);
        (!faults.is_empty()).then(|| faults.remove(0))
    };
    match fault {
        Some(PostFault::RateLimited) => {
            return (
                StatusCode::TOO_MANY_REQUESTS,
                Json(json!({ "message": "You are being rate limited.", "retry_after": 0.1, "global": false, "code": 0 })),
            )
                .into_response()
        }
        Some(PostFault::UnknownChannel) => {
            return (StatusCode::NOT_FOUND, Json(json!({ "message": "Unknown Channel", "code": 10003 }))).into_response()
        }
        Some(PostFault::HoldAnswer) | None => {}
    }
    let nonce = body["nonce"].as_str().map(str::to_owned);
    let existing = {
        let created = log.created.lock().unwrap_or_else(PoisonError::into_inner);
        match (&nonce, body["enforce_nonce"].as_bool()) {
            (Some(nonce), Some(true)) => created
                .iter()
                .find(|c| c.channel == channel && c.body["nonce"].as_str() == Some(nonce.as_str()))
                .cloned(),
            _ => None,
        }
    };
    let made = match existing {
        Some(made) => made,
        None => {
            let mut created = log.created.lock().unwrap_or_else(PoisonError::into_inner);
            let made = Created {
                id: format!("53000000000000{:04}", created.len() + 1),
                channel: channel.to_owned(),
                body: body.clone(),
                files: files.to_vec(),
            };
            created.push(made.clone());
            made
        }
    };
    log.changed.notify_waiters();
    if fault == Some(PostFault::HoldAnswer) {
        log.release.notified().await;
    }
    let mut message = bot_message();
    message["id"] = json!(made.id);
    message["channel_id"] = json!(channel);
    message["content"] = body["content"].clone();
    Json(message).into_response()
}

async fn rest_handler(
    State((log, ws_url)): State<(Arc<Log>, String)>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path().to_owned();
    let (body_json, files) = read_body(&headers, body).await;
    let authorization = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    log.push_request(Received {
        method: method.to_string(),
        path: path.clone(),
        authorization: authorization.clone(),
        body: body_json.clone(),
        files: files.clone(),
    });
    let parts: Vec<&str> = path.trim_start_matches("/api/v10/").split('/').collect();
    // Channels and commands are the bot's own: Discord wants its token.
    let bot_route = matches!(parts.first(), Some(&("channels" | "applications")));
    let is_bot = authorization
        .as_deref()
        .and_then(|a| a.strip_prefix("Bot "))
        .is_some_and(|token| !token.trim().is_empty());
    if bot_route && !is_bot {
        log.violation(format!(
            "{method} {path} without Authorization: Bot … (got {authorization:?})"
        ));
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({ "message": "401: Unauthorized", "code": 0 })),
        )
            .into_response();
    }
    if let Some(problems) = crate::openapi::problems(method.as_str(), &parts, &body_json) {
        if !problems.is_empty() {
            log.violation(format!(
                "{method} {path}: {}\nbody: {body_json:#}",
                problems.join("; ")
            ));
            return (
                StatusCode::BAD_REQUEST,
                Json(json!({ "message": "Invalid Form Body", "code": 50035 })),
            )
                .into_response();
        }
    }
    match (method.as_str(), parts.as_slice()) {
        ("GET", ["gateway"]) => Json(json!({ "url": ws_url })).into_response(),
        ("PUT", ["applications", app, "commands"])
        | ("PUT", ["applications", app, "guilds", _, "commands"]) => {
            let commands: Vec<Value> = body_json
                .as_array()
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .enumerate()
                .map(|(i, mut c)| {
                    c["id"] = json!(format!("60000000000000000{i}"));
                    c["application_id"] = json!(app);
                    c["version"] = json!("1");
                    if c.get("type").is_none() {
                        c["type"] = json!(CHAT_INPUT);
                    }
                    c
                })
                .collect();
            Json(Value::Array(commands)).into_response()
        }
        ("POST", ["interactions", _, _, "callback"]) => StatusCode::NO_CONTENT.into_response(),
        ("POST", ["channels", channel, "messages"]) => {
            channel_post(&log, channel, &body_json, &files).await
        }
        ("POST", ["webhooks", _, _]) => {
            let mut message = bot_message();
            message["content"] = body_json["content"].clone();
            Json(message).into_response()
        }
        ("PATCH", ["webhooks", _, token, "messages", "@original"])
            if log
                .expired
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .iter()
                .any(|t| t == token) =>
        {
            (
                StatusCode::NOT_FOUND,
                Json(json!({ "message": "Unknown Webhook", "code": 10015 })),
            )
                .into_response()
        }
        ("PATCH", ["webhooks", _, _, "messages", "@original"]) => {
            let mut message = bot_message();
            message["content"] = body_json["content"].clone();
            Json(message).into_response()
        }
        _ => (
            StatusCode::NOT_FOUND,
            Json(json!({ "message": "Unknown route", "code": 0 })),
        )
            .into_response(),
    }
}

async fn gateway(listener: TcpListener, log: Arc<Log>, mut events: mpsc::UnboundedReceiver<Value>) {
    // One bot connection is all a test needs.
    let Ok((stream, _)) = listener.accept().await else {
        return;
    };
    let Ok(mut socket) = tokio_tungstenite::accept_async(stream).await else {
        return;
    };
    let hello = json!({ "op": 10, "d": { "heartbeat_interval": 45000 } });
    if socket.send(Message::Text(hello.to_string())).await.is_err() {
        return;
    }
    let mut sequence = 0u64;
    loop {
        tokio::select! {
            incoming = socket.next() => {
                let Some(Ok(message)) = incoming else { return };
                if let Message::Close(frame) = &message {
                    let code = frame.as_ref().map(|f| u16::from(f.code));
                    log.push_gateway(json!({ "close": code }));
                    return;
                }
                let Ok(text) = message.into_text() else { continue };
                let Ok(payload) = serde_json::from_str::<Value>(&text) else { continue };
                log.push_gateway(payload.clone());
                match payload["op"].as_u64() {
                    Some(1) => {
                        let ack = json!({ "op": 11 });
                        let _ = socket.send(Message::Text(ack.to_string())).await;
                    }
                    Some(2) => {
                        sequence += 1;
                        let ready = json!({ "op": 0, "t": "READY", "s": sequence, "d": ready() });
                        let _ = socket.send(Message::Text(ready.to_string())).await;
                    }
                    _ => {}
                }
            }
            event = events.recv() => {
                let Some(event) = event else { return };
                sequence += 1;
                let dispatch = json!({ "op": 0, "t": event["t"], "s": sequence, "d": event["d"] });
                if socket.send(Message::Text(dispatch.to_string())).await.is_err() {
                    return;
                }
            }
        }
    }
}

fn ready() -> Value {
    json!({
        "v": 10,
        "user": { "id": "910000000000000001", "username": "cutover", "discriminator": "0", "global_name": null, "avatar": null, "bot": true },
        "guilds": [{ "id": GUILD_ID, "unavailable": true }],
        "session_id": "fake-session",
        "resume_gateway_url": "ws://127.0.0.1:1",
        "application": { "id": APPLICATION_ID, "flags": 0 }
    })
}

fn member(user_id: &str, permissions: &str, roles: &[&str]) -> Value {
    json!({
        "user": { "id": user_id, "username": format!("user{user_id}"), "discriminator": "0", "global_name": null, "avatar": null },
        "roles": roles,
        "joined_at": "2024-01-01T00:00:00+00:00",
        "deaf": false,
        "mute": false,
        "flags": 0,
        "permissions": permissions
    })
}

fn interaction(
    kind: u64,
    id: &str,
    data: Value,
    user_id: &str,
    permissions: &str,
    roles: &[&str],
) -> Value {
    json!({
        "id": id,
        "application_id": APPLICATION_ID,
        "type": kind,
        "data": data,
        "guild_id": GUILD_ID,
        "channel_id": CHANNEL_ID,
        "member": member(user_id, permissions, roles),
        "token": format!("token-{id}"),
        "version": 1,
        "app_permissions": "2048",
        "locale": "en-US",
        "guild_locale": "en-US",
        "entitlements": [],
        "authorizing_integration_owners": { "0": GUILD_ID },
        "context": 0,
        "attachment_size_limit": 10485760
    })
}

pub fn ping() -> Value {
    json!({ "id": "500000000000000000", "application_id": APPLICATION_ID, "type": interaction_type::PING, "token": "token-ping", "version": 1 })
}

/// A slash command; `options` as Discord nests them (subcommands included).
pub fn command(id: &str, name: &str, options: Value, user_id: &str, permissions: &str) -> Value {
    let data =
        json!({ "id": "610000000000000001", "name": name, "type": CHAT_INPUT, "options": options });
    interaction(
        interaction_type::APPLICATION_COMMAND,
        id,
        data,
        user_id,
        permissions,
        &[],
    )
}

pub fn command_with_roles(
    id: &str,
    name: &str,
    options: Value,
    user_id: &str,
    roles: &[&str],
) -> Value {
    let data =
        json!({ "id": "610000000000000001", "name": name, "type": CHAT_INPUT, "options": options });
    interaction(
        interaction_type::APPLICATION_COMMAND,
        id,
        data,
        user_id,
        MEMBER,
        roles,
    )
}

pub fn autocomplete(id: &str, name: &str, options: Value, user_id: &str) -> Value {
    let data =
        json!({ "id": "610000000000000001", "name": name, "type": CHAT_INPUT, "options": options });
    interaction(
        interaction_type::AUTOCOMPLETE,
        id,
        data,
        user_id,
        MEMBER,
        &[],
    )
}

pub fn button(id: &str, custom_id: &str, user_id: &str) -> Value {
    let mut value = interaction(
        interaction_type::MESSAGE_COMPONENT,
        id,
        json!({ "custom_id": custom_id, "component_type": component::BUTTON }),
        user_id,
        MEMBER,
        &[],
    );
    value["message"] = bot_message();
    value
}

/// A message as Discord returns one the bot sent.
fn bot_message() -> Value {
    json!({
        "id": "520000000000000001", "channel_id": CHANNEL_ID, "type": 20, "content": "",
        "author": { "id": "910000000000000001", "username": "cutover", "discriminator": "0", "global_name": null, "avatar": null, "bot": true },
        "timestamp": "2025-11-21T12:00:00+00:00", "edited_timestamp": null, "tts": false, "mention_everyone": false,
        "mentions": [], "mention_roles": [], "attachments": [], "embeds": [], "pinned": false, "components": [], "flags": 0
    })
}

pub fn modal_submit(id: &str, custom_id: &str, values: &[(&str, &str)], user_id: &str) -> Value {
    let rows: Vec<Value> = values
        .iter()
        .map(|(input, value)| json!({ "type": component::ACTION_ROW, "components": [{ "type": component::TEXT_INPUT, "custom_id": input, "value": value }] }))
        .collect();
    interaction(
        interaction_type::MODAL_SUBMIT,
        id,
        json!({ "custom_id": custom_id, "components": rows }),
        user_id,
        MEMBER,
        &[],
    )
}

#[tokio::test]
async fn the_fake_refuses_what_discord_would_and_remembers_it() {
    let discord = FakeDiscord::start().await;
    let client = reqwest::Client::new();
    let url = format!(
        "{}/api/v10/channels/{CHANNEL_ID}/messages",
        discord.base_url
    );
    let anonymous = client
        .post(&url)
        .json(&json!({ "content": "hi" }))
        .send()
        .await
        .expect("answer");
    assert_eq!(anonymous.status(), 401);
    let too_long = client
        .post(&url)
        .header("Authorization", "Bot a-token")
        .json(&json!({ "content": "x".repeat(4001) }))
        .send()
        .await
        .expect("answer");
    assert_eq!(too_long.status(), 400);
    let fine = client
        .post(&url)
        .header("Authorization", "Bot a-token")
        .json(&json!({ "content": "hi" }))
        .send()
        .await
        .expect("answer");
    assert_eq!(fine.status(), 200);
    let violations = discord.take_violations();
    assert_eq!(violations.len(), 2, "{violations:#?}");
    assert!(violations[0].contains("without Authorization: Bot"));
    assert!(
        violations[1].contains("maxLength") || violations[1].contains("longer than"),
        "{}",
        violations[1]
    );
}
