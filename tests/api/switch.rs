//! The switch end to end: a signed /migrate submit over the HTTP endpoint, the personal
//! link followed like a browser through the fake Zoom, the callback over HTTP, and what
//! the fakes (Zoom and Discord) received.

use crate::fake_discord::{self as discord, FakeDiscord, MEMBER};
use crate::fake_zoom::{FakeZoom, TokenMode, CLIENT_ID, CLIENT_SECRET};
use crate::helpers::{at, TestApp, TestDir};
use crate::openapi::{assert_channel_message, assert_interaction_response, assert_message_edit};
use cutover::domain::{AuthType, ConnectionId, ConnectionState};
use ed25519_dalek::{Signer, SigningKey};
use serde_json::{json, Value};

const NOW: &str = "2025-11-21T12:00:00Z";
pub const OWNER: &str = "420000000000000001";
const OTHER: &str = "430000000000000001";
pub const SEALING_KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
const PUBLIC_BASE: &str = "http://cutover.test";

fn key() -> SigningKey {
    SigningKey::from_bytes(&[7u8; 32])
}

pub struct World {
    pub app: TestApp,
    pub zoom: FakeZoom,
    pub discord: FakeDiscord,
    browser: reqwest::Client,
    extra: String,
}

impl World {
    pub async fn start() -> Self {
        Self::start_with("").await
    }

    pub async fn start_with(extra: &str) -> Self {
        let zoom = FakeZoom::start().await;
        let discord = FakeDiscord::start().await;
        let dir = TestDir::new();
        let config = Self::config(&dir, &zoom, &discord, extra);
        let app = TestApp::spawn_with(dir, &config, NOW).await;
        app.seed(&[("z1", "Zoom one", Some(420000000000000001), AuthType::Jwt), ("z2", "Zoom two", Some(420000000000000001), AuthType::Jwt)])
            .await;
        let browser = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("browser");
        Self { app, zoom, discord, browser, extra: extra.to_owned() }
    }

    fn config(dir: &TestDir, zoom: &FakeZoom, discord: &FakeDiscord, extra: &str) -> std::path::PathBuf {
        let key_file = dir.write("sealing.key", SEALING_KEY);
        let token_file = dir.write("discord.token", "discord-bot-token-for-tests");
        let rest = format!(
            "{}[security]\nsealing_key_file = \"{}\"\n\
             [discord]\npublic_key = \"{}\"\napplication_id = \"{}\"\napi_base_url = \"{}\"\ntoken_file = \"{}\"\n\
             [reminders]\nchannel_id = \"{}\"\n{extra}",
            zoom.config(),
            key_file.display(),
            hex::encode(key().verifying_key().to_bytes()),
            discord::APPLICATION_ID,
            discord.base_url,
            token_file.display(),
            discord::CHANNEL_ID,
        );
        dir.config_with_server(&format!("public_base_url = \"{PUBLIC_BASE}\"\n"), &rest)
    }

    /// Stops the program and starts it again on the same database and settings.
    pub async fn restart(self) -> Self {
        let Self { app, zoom, discord, browser, extra } = self;
        let dir = app.stop().await;
        let config = Self::config(&dir, &zoom, &discord, &extra);
        let app = TestApp::spawn_with(dir, &config, NOW).await;
        Self { app, zoom, discord, browser, extra }
    }

    pub async fn send(&self, interaction: Value) -> Value {
        let body = serde_json::to_vec(&interaction).expect("json");
        let timestamp = self.app.clock_now().timestamp().to_string();
        let mut message = timestamp.as_bytes().to_vec();
        message.extend_from_slice(&body);
        let signature = hex::encode(key().sign(&message).to_bytes());
        let response = reqwest::Client::new()
            .post(self.app.url("/discord/interactions"))
            .header("X-Signature-Ed25519", signature)
            .header("X-Signature-Timestamp", timestamp)
            .body(body)
            .send()
            .await
            .expect("endpoint");
        assert_eq!(response.status(), 200);
        let json: Value = response.json().await.expect("json");
        assert_interaction_response(&json);
        json
    }

    /// `/migrate connection:<id>` submitted with these credentials; returns the answer.
    pub async fn submit(&self, id: &str, user: &str, client_id: &str, secret: &str) -> Value {
        let custom_id = format!("c1:mf:{id}");
        let interaction_id = format!("9{}", self.discord.requests().len() + 100);
        self.send(discord::modal_submit(&interaction_id, &custom_id, &[("client_id", client_id), ("client_secret", secret)], user))
            .await
    }

    /// The personal link in an answer.
    pub fn link(answer: &Value) -> String {
        let button = &answer["data"]["components"][0]["components"][0];
        assert_eq!(button["style"], 5, "a link button: {answer}");
        assert_eq!(button["label"], "Authorize with Zoom");
        button["url"].as_str().expect("url").to_owned()
    }

    /// A browser following the link: Zoom redirects to the callback, which is fetched
    /// from this program (the configured public address is only a name here).
    pub async fn follow(&self, link: &str) -> String {
        let to_zoom = self.browser.get(link).send().await.expect("zoom authorize");
        assert_eq!(to_zoom.status(), 303, "Zoom redirects back");
        let location = to_zoom.headers()["location"].to_str().expect("location").to_owned();
        location.strip_prefix(PUBLIC_BASE).expect("back to the configured redirect URI").to_owned()
    }

    /// Fetches a callback path and returns (status, page, content security policy).
    pub async fn callback(&self, path_and_query: &str) -> (u16, String, String) {
        let response = self.browser.get(self.app.url(path_and_query)).send().await.expect("callback");
        let status = response.status().as_u16();
        let csp = response.headers().get("content-security-policy").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
        assert_eq!(response.headers()["content-type"], "text/html; charset=utf-8");
        assert_eq!(response.headers()["referrer-policy"], "no-referrer");
        assert_eq!(response.headers()["cache-control"], "no-store");
        (status, response.text().await.expect("page"), csp)
    }

    pub async fn state_of(&self, id: &str) -> ConnectionState {
        self.app.store.get_connection(&ConnectionId::parse(id).expect("id")).await.expect("read").expect("exists").state
    }

    /// The private message edit for a submit's interaction, once it arrives.
    pub async fn edit_of(&self, answer_token: &str) -> Value {
        let path = format!("/api/v10/webhooks/{}/{answer_token}/messages/@original", discord::APPLICATION_ID);
        let edit = self.discord.wait_for_request(|r| r.method == "PATCH" && r.path == path).await;
        assert_message_edit(&edit.body);
        edit.body
    }
}

fn token_of(submit_index: &str) -> String {
    format!("token-{submit_index}")
}

#[tokio::test]
async fn the_happy_path_switches_with_a_verified_token_and_tells_everyone() {
    let w = World::start().await;
    let answer = w.send(discord::modal_submit("901", "c1:mf:z1", &[("client_id", CLIENT_ID), ("client_secret", CLIENT_SECRET)], OWNER)).await;
    assert_eq!(answer["type"], 4);
    assert_eq!(answer["data"]["flags"], 64, "the link is for the caller only");
    let text = answer["data"]["content"].as_str().expect("text");
    let expires = at(NOW).timestamp() + 600;
    assert!(text.contains(&format!("expires <t:{expires}:R>")), "{text}");
    assert!(text.contains("`http://cutover.test/oauth/zoom/callback`"), "{text}");
    assert!(text.contains("OAuth allow list"), "{text}");
    assert!(!answer.to_string().contains(CLIENT_SECRET), "the secret is never repeated back");
    let fresh = &answer["data"]["components"][0]["components"][1];
    assert_eq!((fresh["label"].as_str(), fresh["custom_id"].as_str()), (Some("Get a fresh link"), Some("c1:fl:z1")));

    let link = World::link(&answer);
    let authorize = url::Url::parse(&link).expect("url");
    let q: std::collections::HashMap<_, _> = authorize.query_pairs().into_owned().collect();
    assert_eq!(q["response_type"], "code");
    assert_eq!(q["client_id"], CLIENT_ID);
    assert_eq!(q["redirect_uri"], "http://cutover.test/oauth/zoom/callback");
    assert_eq!(q["code_challenge_method"], "S256");
    assert!(q["state"].len() >= 40, "a long random state");

    let back = w.follow(&link).await;
    let (status, page, csp) = w.callback(&back).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("Done: z1 is on OAuth 2.0"), "{page}");
    assert!(csp.starts_with("default-src 'none'"), "{csp}");

    // What Zoom received: Basic auth, the verifier, the exact redirect URI, once.
    let exchanges = w.zoom.token_requests();
    assert_eq!(exchanges.len(), 1);
    assert!(exchanges[0].authorization.as_deref().is_some_and(|a| a.starts_with("Basic ")));
    assert_eq!(exchanges[0].form["grant_type"], "authorization_code");
    assert_eq!(exchanges[0].form["redirect_uri"], "http://cutover.test/oauth/zoom/callback");
    assert!(exchanges[0].form.contains_key("code_verifier"));
    let issued = w.zoom.issued_tokens();
    assert_eq!(w.zoom.userinfo_requests(), [Some(format!("Bearer {}", issued[0]))]);

    // The store: switched by the owner, tokens sealed.
    assert_eq!(w.state_of("z1").await, ConnectionState::Migrated);
    let connection = w.app.store.get_connection(&ConnectionId::parse("z1").expect("id")).await.expect("read").expect("z1");
    assert_eq!(connection.auth_type, AuthType::OAuth2);
    assert_eq!(connection.migrated_by.as_deref(), Some("discord:420000000000000001"));
    let (access, refresh) = w.app.store.sealed_access_token(&ConnectionId::parse("z1").expect("id")).await.expect("read").expect("tokens");
    for (sealed, plain) in [(&access, &issued[0]), (&refresh.expect("refresh"), &issued[1])] {
        assert!(!sealed.windows(plain.len()).any(|w| w == plain.as_bytes()), "sealed at rest");
    }
    let audit = w.app.store.audit_entries(Some(&ConnectionId::parse("z1").expect("id")), 10).await.expect("audit");
    assert_eq!(audit[0].action, "migration.switched");

    // The person's private message and the channel are told.
    let edit = w.edit_of(&token_of("901")).await;
    assert!(edit["content"].as_str().unwrap_or_default().contains("Done: z1 is on OAuth 2.0"), "{edit}");
    let path = format!("/api/v10/channels/{}/messages", discord::CHANNEL_ID);
    let post = w.discord.wait_for_request(|r| r.method == "POST" && r.path == path).await;
    assert_channel_message(&post.body);
    assert_eq!(post.body["content"], "**Zoom one** (`z1`) switched to OAuth 2.0 by <@420000000000000001> — 1 left");
    assert_eq!(post.body["allowed_mentions"]["parse"], json!([]), "the channel post pings nobody");

    // /migration status shows it, without secrets.
    let status = json!([{ "name": "status", "type": 1, "options": [{ "name": "connection", "type": 3, "value": "z1" }] }]);
    let r = w.send(discord::command("902", "migration", status, OWNER, MEMBER)).await;
    let text = r["data"]["content"].as_str().unwrap_or_default();
    assert!(text.contains("Authentication: OAuth 2.0 · migrated") && text.contains("migration.switched"), "{text}");
    for secret in [CLIENT_SECRET, &issued[0], &issued[1]] {
        assert!(!text.contains(secret));
    }
}
