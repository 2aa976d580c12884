//! The celigo switch end to end: signed interactions over the HTTP endpoint, the real
//! program changing the loopback integrator.io, the personal link followed like a
//! browser through cutover, the fake Zoom and back to the fake integrator.io (which
//! exchanges the code itself), and what every fake received.

use crate::fake_celigo::{docs, FakeCeligo, Fault, TOKEN};
use crate::fake_discord::{self as discord, callback, option, EPHEMERAL, MANAGE_GUILD, MEMBER};
use crate::fake_zoom::{CLIENT_ID, CLIENT_SECRET, OTHER_CLIENT_ID, OTHER_CLIENT_SECRET};
use crate::helpers::{at, authorize_link, Setup, Stopped, World, NOW, OWNER, PUBLIC_BASE};
use crate::openapi::assert_channel_message;
use axum::http::Method;
use cutover::domain::{ConnectionId, ConnectionState, MigratedVia};
use cutover::store::AuditAction;
use serde_json::{json, Value};

pub const Z1: &str = "64b7f1c2a9e3d40000000001";
const ADMIN: &str = "410000000000000001";

/// A world with integrator.io too: everything a [`World`] is (through `Deref`), and the
/// fake integrator.io it is configured for.
pub struct CeligoWorld {
    world: World,
    pub celigo: FakeCeligo,
}

impl std::ops::Deref for CeligoWorld {
    type Target = World;

    fn deref(&self) -> &World {
        &self.world
    }
}

impl CeligoWorld {
    /// Starts the fakes, then cutover with `token` for integrator.io and `extra` keys in
    /// `[celigo]`; `seed` fills the fake integrator.io first.
    pub async fn start_with(token: &str, extra: &str, seed: impl FnOnce(&FakeCeligo)) -> Self {
        let mut stopped = Stopped::fresh(Setup::default()).await;
        let celigo = FakeCeligo::start(&stopped.zoom.base_url).await;
        seed(&celigo);
        let token_file = stopped.dir.write("celigo.token", token);
        stopped.setup.sections = celigo.config(&token_file, extra);
        let world = stopped.start(NOW).await;
        Self { world, celigo }
    }

    /// One Zoom connection on JWT in integrator.io, synced into cutover and owned by OWNER.
    pub async fn start() -> Self {
        Self::start_extra("").await
    }

    pub async fn start_extra(extra: &str) -> Self {
        let w = Self::start_with(TOKEN, &format!("sync_every = \"0s\"\n{extra}"), |c| {
            c.add_integration("int1", "Sales sync");
            c.put(docs::rest_shaped(Z1, "Zoom one", Some("int1"), "jwt"));
        })
        .await;
        let summary = w.admin_sync("801").await;
        assert!(summary.contains("1 new"), "{summary}");
        w.app
            .store
            .assign_owner(
                &id(Z1),
                cutover::domain::Snowflake::parse(OWNER).expect("owner"),
                cutover::domain::Actor::Terminal,
                at(NOW),
            )
            .await
            .expect("assign");
        w
    }

    /// Stops cutover and starts it again on the same database, fakes and settings, the
    /// clock where it stood.
    pub async fn restart(self) -> Self {
        let Self { world, celigo } = self;
        let world = world.restart().await;
        Self { world, celigo }
    }

    /// The first edit of a deferred answer whose text contains `wanted`.
    pub async fn edit_saying(&self, interaction: &str, wanted: &str) -> String {
        let path = format!(
            "/api/v10/webhooks/{}/token-{interaction}/messages/@original",
            discord::APPLICATION_ID
        );
        let edit = self
            .discord
            .wait_for_request(|r| {
                r.method == "PATCH"
                    && r.path == path
                    && r.body["content"]
                        .as_str()
                        .is_some_and(|t| t.contains(wanted))
            })
            .await;
        crate::openapi::assert_message_edit(&edit.body);
        edit.body["content"].as_str().unwrap_or_default().to_owned()
    }

    /// The deferred answer's first edit, whatever it says.
    pub async fn first_edit(&self, interaction: &str) -> Value {
        self.edit_of(&format!("token-{interaction}")).await
    }

    /// `/cutover connection sync` by an admin: deferred at once, the summary as an edit.
    pub async fn admin_sync(&self, interaction: &str) -> String {
        let options = json!([{ "name": "connection", "type": option::SUB_COMMAND_GROUP, "options": [{ "name": "sync", "type": option::SUB_COMMAND, "options": [] }] }]);
        let answer = self
            .send(discord::command(
                interaction,
                "cutover",
                options,
                ADMIN,
                MANAGE_GUILD,
            ))
            .await;
        assert_eq!(
            answer["type"],
            callback::DEFERRED_CHANNEL_MESSAGE,
            "deferred at once: {answer}"
        );
        assert_eq!(answer["data"]["flags"], EPHEMERAL, "privately");
        let edit = self.first_edit(interaction).await;
        edit["content"].as_str().unwrap_or_default().to_owned()
    }

    /// The owner submits the /migrate form with these credentials; returns the private
    /// answer (the deferred response's edit).
    pub async fn submit(&self, interaction: &str, client_id: &str, secret: &str) -> Value {
        let answer = self
            .send(discord::modal_submit(
                interaction,
                &format!("c1:mf:{Z1}"),
                &[("client_id", client_id), ("client_secret", secret)],
                OWNER,
            ))
            .await;
        assert_eq!(
            answer["type"],
            callback::DEFERRED_CHANNEL_MESSAGE,
            "a celigo submit is deferred at once: {answer}"
        );
        assert_eq!(answer["data"]["flags"], EPHEMERAL, "privately");
        self.first_edit(interaction).await
    }

    fn location(response: &reqwest::Response) -> String {
        response.headers()["location"]
            .to_str()
            .expect("location")
            .to_owned()
    }

    /// Opens the personal link and gives consent at Zoom: the browser ends on
    /// integrator.io's callback (or wherever it sends it). Returns that last response.
    pub async fn authorize(&self, link: &str) -> reqwest::Response {
        let to_zoom = self.open_link(link).await;
        self.consent(&to_zoom).await
    }

    /// Opens the personal link: cutover sends the browser on, to Zoom. Where to.
    pub async fn open_link(&self, link: &str) -> String {
        let start = self.open(link).await;
        assert_eq!(start.status(), 303, "cutover sends the browser on");
        assert_eq!(start.headers()["cache-control"], "no-store");
        let to_zoom = Self::location(&start);
        assert!(to_zoom.starts_with(&self.zoom.base_url), "{to_zoom}");
        to_zoom
    }

    /// Gives consent at Zoom, which sends the browser back to integrator.io.
    pub async fn consent(&self, to_zoom: &str) -> reqwest::Response {
        let at_zoom = self.open(to_zoom).await;
        assert_eq!(at_zoom.status(), 303, "Zoom redirects back");
        let back = Self::location(&at_zoom);
        assert!(
            back.starts_with(&format!(
                "{}/connection/oauth2callback",
                self.celigo.base_url
            )),
            "Zoom returns the person to integrator.io: {back}"
        );
        self.open(&back).await
    }

    pub async fn connection(&self) -> cutover::domain::Connection {
        self.app
            .store
            .get_connection(&id(Z1))
            .await
            .expect("read")
            .expect("exists")
    }
}

pub fn id(raw: &str) -> ConnectionId {
    ConnectionId::parse(raw).expect("id")
}

fn text(value: &Value) -> &str {
    value["content"].as_str().unwrap_or_default()
}

/// The definition without what a switch may change: the auth parts, the read-only
/// keys, and the obsolete JWT credentials.
fn non_auth(doc: &Value) -> Value {
    let mut doc = doc.clone();
    let Some(root) = doc.as_object_mut() else {
        return doc;
    };
    for key in [
        "_id",
        "lastModified",
        "createdAt",
        "queues",
        "isHTTP",
        "offline",
    ] {
        root.remove(key);
    }
    if let Some(Value::Object(http)) = root.get_mut("http") {
        for key in ["auth", "_iClientId", "encrypted"] {
            http.remove(key);
        }
    }
    if let Some(Value::Object(rest)) = root.get_mut("rest") {
        for key in [
            "authType",
            "authURI",
            "oauthTokenURI",
            "tokenLocation",
            "authHeader",
            "authScheme",
            "refreshTokenMethod",
            "refreshTokenMediaType",
            "_iClientId",
            "oauth",
            "encrypted",
        ] {
            rest.remove(key);
        }
    }
    doc
}

/// Every non-auth field of the definition as it was is in the PUT, and nothing masked.
fn assert_kept(original: &Value, sent: &Value) {
    assert_eq!(
        non_auth(sent),
        non_auth(original),
        "every non-auth field is kept"
    );
    for key in [
        "_id",
        "lastModified",
        "createdAt",
        "queues",
        "isHTTP",
        "offline",
    ] {
        assert!(sent.get(key).is_none(), "read-only {key} is not sent");
    }
    assert_eq!(
        sent["type"], original["type"],
        "the type is never converted"
    );
    let body = sent.to_string();
    assert!(!body.contains("**"), "no masked value is sent back: {body}");
    assert!(
        !body.contains("encrypted"),
        "the obsolete JWT credentials are dropped"
    );
}

/// `CeligoWorld::start` and the owner's submit (interaction 901) with the right
/// credentials: the world, z1's definition in integrator.io as it was, and the private
/// answer.
async fn submitted() -> (CeligoWorld, Value, Value) {
    let w = CeligoWorld::start().await;
    let original = w.celigo.connection(Z1);
    let answer = w.submit("901", CLIENT_ID, CLIENT_SECRET).await;
    (w, original, answer)
}

/// The person clicks: cutover → integrator.io's address → Zoom → integrator.io. The
/// watch pings once as the link is opened (not working yet: the fake answers with an
/// error until consent), so later pings show it pinging until it works, however fast the
/// machine is. The browser's last response.
async fn click_through(w: &CeligoWorld, link: &str) -> reqwest::Response {
    let to_zoom = w.open_link(link).await;
    w.celigo
        .wait_for("a ping before consent", |r| r.path.ends_with("/ping"))
        .await;
    w.consent(&to_zoom).await
}

#[tokio::test]
async fn a_celigo_submit_answers_privately_with_the_redirect_url_to_register_and_the_link() {
    let (w, _, answer) = submitted().await;
    let message = text(&answer);
    assert!(
        message.contains("switched the connection to OAuth 2.0 in integrator.io")
            && message.contains("awaits your authorization"),
        "{message}"
    );
    assert!(
        message.contains(&format!(
            "`{}/connection/oauth2callback`",
            w.celigo.base_url
        )),
        "the redirect URL to register is integrator.io's: {message}"
    );
    assert!(
        !answer.to_string().contains(CLIENT_SECRET),
        "never repeated back"
    );
    let link = authorize_link(&answer);
    assert!(
        link.starts_with("http://cutover.test/oauth/celigo/start?state="),
        "{link}"
    );
}

#[tokio::test]
async fn a_celigo_submit_creates_an_iclient_with_the_persons_credentials_and_zooms_addresses() {
    let (w, _, _) = submitted().await;
    let requests = w.celigo.requests();
    assert!(requests.iter().all(|r| r.authorization.as_deref()
        == Some(&format!("Bearer {TOKEN}"))
        || r.path.starts_with("/connection/")));
    assert!(requests
        .iter()
        .filter(|r| r.path.starts_with("/v1/"))
        .all(|r| r.accept.as_deref() == Some("application/json")));
    let create = requests
        .iter()
        .find(|r| r.method == "POST" && r.path == "/v1/iclients")
        .expect("iClient created");
    let oauth2 = &create.body["oauth2"];
    assert_eq!(create.body["provider"], "custom_oauth2");
    assert_eq!(
        (oauth2["clientId"].as_str(), oauth2["clientSecret"].as_str()),
        (Some(CLIENT_ID), Some(CLIENT_SECRET))
    );
    assert_eq!(oauth2["clientCredentialsLocation"], "basicauthheader");
    assert_eq!(
        oauth2["auth"]["uri"],
        format!("{}/oauth/authorize", w.zoom.base_url)
    );
    assert_eq!(
        oauth2["token"]["uri"],
        format!("{}/oauth/token", w.zoom.base_url)
    );
    assert_eq!(oauth2["validDomainNames"], json!(["127.0.0.1"]));
}

#[tokio::test]
async fn a_celigo_submit_puts_the_definition_on_oauth_with_the_iclient_and_every_other_field_kept()
{
    let (w, original, _) = submitted().await;
    let iclient = w.celigo.iclients()[0]["_id"]
        .as_str()
        .expect("id")
        .to_owned();
    let requests = w.celigo.requests();
    let put = requests
        .iter()
        .find(|r| r.method == "PUT")
        .expect("the definition PUT");
    assert_eq!(put.path, format!("/v1/connections/{Z1}"));
    assert_kept(&original, &put.body);
    assert_eq!(put.body["http"]["auth"]["type"], "oauth");
    assert_eq!(put.body["http"]["_iClientId"], iclient);
    assert_eq!(put.body["rest"]["authType"], "oauth");
    assert_eq!(put.body["rest"]["_iClientId"], iclient);
    assert_eq!(
        put.body["http"]["auth"]["oauth"]["authURI"],
        format!("{}/oauth/authorize", w.zoom.base_url)
    );
    assert!(
        put.body["http"]["auth"]["oauth"]
            .get("oauth2RedirectUrl")
            .is_none(),
        "return_to_cutover is off"
    );
}

/// As Celigo's UI would leave it, with the definition as it was kept in the audit log.
#[tokio::test]
async fn after_a_celigo_submit_the_connection_awaits_authorization_with_its_definition_kept() {
    let (w, _, _) = submitted().await;
    let c = w.connection().await;
    assert_eq!(c.state, ConnectionState::AwaitingAuthorization);
    let audit = w
        .app
        .store
        .audit_entries(Some(&id(Z1)), 20)
        .await
        .expect("audit");
    let before = audit
        .iter()
        .find(|e| e.action == AuditAction::CeligoDefinitionBefore)
        .expect("kept");
    let kept: Value = serde_json::from_str(&before.detail).expect("the definition as JSON");
    assert_eq!(kept["name"], "Zoom one");
    assert!(
        !before.detail.contains("jwt-api-key-secret"),
        "only the masked GET is kept"
    );
    let listing = w
        .send(discord::command(
            "902",
            "connections",
            json!([]),
            OWNER,
            MEMBER,
        ))
        .await;
    assert!(listing["data"]["content"]
        .as_str()
        .unwrap_or_default()
        .contains("awaiting authorization"));
}

#[tokio::test]
async fn the_persons_consent_completes_the_celigo_switch_and_the_channel_hears_of_it() {
    let (w, _, answer) = submitted().await;
    let landed = click_through(&w, &authorize_link(&answer)).await;
    assert_eq!(landed.status(), 200);
    let exchange = &w.zoom.token_requests()[0];
    assert_eq!(
        exchange.authorization.as_deref(),
        Some(format!("Basic {}", base64_pair(CLIENT_ID, CLIENT_SECRET)).as_str()),
        "integrator.io exchanged the code with the iClient's credentials"
    );

    let done = w.edit_saying("901", "Done").await;
    assert!(
        done.contains(&format!("Done: {Z1} is on OAuth 2.0 in integrator.io")),
        "{done}"
    );
    let path = format!("/api/v10/channels/{}/messages", discord::CHANNEL_ID);
    let post = w
        .discord
        .wait_for_request(|r| r.method == "POST" && r.path == path)
        .await;
    assert_channel_message(&post.body);
    assert_eq!(
        post.body["content"],
        format!("**Zoom one** (`{Z1}`) switched to OAuth 2.0 by <@{OWNER}> — 0 left")
    );
    let c = w.connection().await;
    assert_eq!(
        (c.state, c.migrated_via),
        (ConnectionState::Migrated, Some(MigratedVia::Celigo))
    );
    let pings: Vec<u16> = w
        .celigo
        .requests()
        .iter()
        .filter(|r| r.path.ends_with("/ping"))
        .map(|r| r.status)
        .collect();
    assert!(
        pings.len() >= 2 && pings.last() == Some(&200),
        "pinged until it worked: {pings:?}"
    );
    for request in w.discord.requests() {
        assert!(
            !request.body.to_string().contains(CLIENT_SECRET),
            "the secret never goes to Discord"
        );
    }
}

#[tokio::test]
async fn once_switched_in_integrator_io_migration_status_says_by_whom() {
    let (w, _, answer) = submitted().await;
    click_through(&w, &authorize_link(&answer)).await;
    w.edit_saying("901", "Done").await;
    let status = json!([{ "name": "status", "type": option::SUB_COMMAND, "options": [{ "name": "connection", "type": option::STRING, "value": Z1 }] }]);
    let r = w
        .send(discord::command("903", "migration", status, OWNER, MEMBER))
        .await;
    let t = r["data"]["content"].as_str().unwrap_or_default();
    assert!(
        t.contains(&format!("Switched in integrator.io by <@{OWNER}>"))
            && t.contains("migration.prepared"),
        "{t}"
    );
}

fn base64_pair(id: &str, secret: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}"))
}

#[tokio::test]
async fn someone_editing_the_connection_meanwhile_stops_the_switch_and_leaves_no_iclient() {
    let w = CeligoWorld::start().await;
    w.celigo.edit_after_next_iclient(Z1);
    let answer = w.submit("911", CLIENT_ID, CLIENT_SECRET).await;
    let message = text(&answer);
    assert!(
        message.contains("Someone changed")
            && message.contains("Nothing was changed in integrator.io"),
        "{message}"
    );
    assert!(
        !w.celigo.requests().iter().any(|r| r.method == "PUT"),
        "no PUT after the race"
    );
    assert!(w.celigo.iclients().is_empty(), "the new iClient is deleted");
    assert_eq!(w.celigo.connection(Z1)["http"]["auth"]["type"], "jwt");
    assert_eq!(w.connection().await.state, ConnectionState::Pending);
}

#[tokio::test]
async fn a_put_that_fails_leaves_the_connection_as_it_was_and_no_iclient_behind() {
    let w = CeligoWorld::start().await;
    let before = w.celigo.connection(Z1);
    w.celigo
        .fail(Method::PUT, "/connections/", usize::MAX, Fault::Status(500));
    let answer = w.submit("912", CLIENT_ID, CLIENT_SECRET).await;
    let message = text(&answer);
    assert!(
        message.contains("integrator.io is not answering properly (HTTP 500)")
            && message.contains("Nothing was changed in integrator.io"),
        "{message}"
    );
    assert!(!message.contains("Something went wrong\""), "no raw body");
    let puts = w
        .celigo
        .requests()
        .iter()
        .filter(|r| r.method == "PUT")
        .count();
    assert!(puts > 1, "a full replace is safe to retry: {puts}");
    assert_eq!(
        w.celigo.connection(Z1),
        before,
        "the connection is as it was"
    );
    assert!(w.celigo.iclients().is_empty(), "no iClient behind");
    assert_eq!(w.connection().await.state, ConnectionState::Pending);
    let audit = w
        .app
        .store
        .audit_entries(Some(&id(Z1)), 5)
        .await
        .expect("audit");
    assert_eq!(audit[0].action, AuditAction::MigrationFailed);
}

#[tokio::test]
async fn a_rate_limit_is_waited_out_and_the_create_is_posted_once() {
    let w = CeligoWorld::start().await;
    w.celigo.fail(
        Method::POST,
        "/iclients",
        1,
        Fault::RateLimited { retry_after: 1 },
    );
    let answer = w.submit("913", CLIENT_ID, CLIENT_SECRET).await;
    assert!(
        text(&answer).contains("awaits your authorization"),
        "{answer}"
    );
    let creates: Vec<_> = w
        .celigo
        .requests()
        .into_iter()
        .filter(|r| r.method == "POST" && r.path == "/v1/iclients")
        .collect();
    let statuses: Vec<u16> = creates.iter().map(|r| r.status).collect();
    assert_eq!(statuses, [429, 201], "retried, and created once");
    assert!(
        creates[1].at.duration_since(creates[0].at) >= std::time::Duration::from_secs(1),
        "not before Retry-After: 1 has passed"
    );
    assert_eq!(w.celigo.iclients().len(), 1);
}

#[tokio::test]
async fn an_error_body_with_only_a_message_is_shown_plainly() {
    let w = CeligoWorld::start().await;
    w.celigo.fail(
        Method::POST,
        "/iclients",
        1,
        Fault::Message(400, "CSRF token mismatch"),
    );
    let answer = w.submit("914", CLIENT_ID, CLIENT_SECRET).await;
    let message = text(&answer);
    assert!(
        message.contains("integrator.io rejected the request (HTTP 400): CSRF token mismatch"),
        "{message}"
    );
    assert_eq!(w.connection().await.state, ConnectionState::Pending);
}

#[tokio::test]
async fn an_abandoned_link_leaves_it_awaiting_and_a_retry_with_new_credentials_switches() {
    let w = CeligoWorld::start().await;
    w.celigo.fail_pings_with_status();
    let answer = w.submit("921", CLIENT_ID, CLIENT_SECRET).await;
    let first_iclient = w.celigo.iclients()[0]["_id"]
        .as_str()
        .expect("id")
        .to_owned();
    // Opened, then left at Zoom's consent page.
    let start = w.open(&authorize_link(&answer)).await;
    assert_eq!(start.status(), 303);
    w.celigo
        .wait_for("a failing ping", |r| {
            r.path.ends_with("/ping") && r.status == 401
        })
        .await;
    // The link's life (10 minutes) and the grace (4 more) pass.
    w.app.clock.set(at(NOW) + chrono::TimeDelta::minutes(15));
    let over = w.edit_saying("921", "not completed").await;
    assert!(over.contains("awaiting authorization"), "{over}");
    assert_eq!(
        w.connection().await.state,
        ConnectionState::AwaitingAuthorization
    );
    let listing = w
        .send(discord::command(
            "922",
            "connections",
            json!([]),
            OWNER,
            MEMBER,
        ))
        .await;
    assert!(listing["data"]["content"]
        .as_str()
        .unwrap_or_default()
        .contains("awaiting authorization"));

    // Another Zoom app this time; integrator.io spells the key otherwise and only knows
    // the plural path.
    w.celigo.spell_key("authorizationURL");
    w.celigo.only_plural_oauth2_path();
    let answer = w.submit("923", OTHER_CLIENT_ID, OTHER_CLIENT_SECRET).await;
    assert!(
        text(&answer).contains("awaits your authorization"),
        "{answer}"
    );
    let iclients = w.celigo.iclients();
    assert_eq!(
        iclients.len(),
        1,
        "the old iClient is deleted once nothing uses it: {iclients:#?}"
    );
    assert_eq!(iclients[0]["oauth2"]["clientId"], OTHER_CLIENT_ID);
    assert_ne!(iclients[0]["_id"], first_iclient);
    assert!(w.celigo.requests().iter().any(|r| r.method == "DELETE"
        && r.path == format!("/v1/iclients/{first_iclient}")
        && r.status == 204));

    let landed = w.authorize(&authorize_link(&answer)).await;
    assert_eq!(landed.status(), 200);
    let done = w.edit_saying("923", "Done").await;
    assert!(done.contains("on OAuth 2.0 in integrator.io"), "{done}");
    assert_eq!(w.connection().await.state, ConnectionState::Migrated);
}

#[tokio::test]
async fn a_watch_survives_a_restart() {
    let w = CeligoWorld::start().await;
    let answer = w.submit("931", CLIENT_ID, CLIENT_SECRET).await;
    let start = w.open(&authorize_link(&answer)).await;
    assert_eq!(start.status(), 303);
    let to_zoom = start.headers()["location"]
        .to_str()
        .expect("location")
        .to_owned();
    let w = w.restart().await;
    // Consent after the restart: the watch picked up at start sees it.
    let at_zoom = w.open(&to_zoom).await;
    let back = at_zoom.headers()["location"]
        .to_str()
        .expect("location")
        .to_owned();
    assert_eq!(w.open(&back).await.status(), 200);
    let done = w.edit_saying("931", "Done").await;
    assert!(done.contains("in integrator.io"), "{done}");
}

#[tokio::test]
async fn returning_to_cutover_checks_at_once() {
    // Pings a minute apart: only the return page's own check can answer in time.
    let w = CeligoWorld::start_extra("return_to_cutover = true\nping_every = \"1m\"\n").await;
    let answer = w.submit("941", CLIENT_ID, CLIENT_SECRET).await;
    let put = w
        .celigo
        .requests()
        .into_iter()
        .find(|r| r.method == "PUT")
        .expect("PUT");
    let back_to = format!("{PUBLIC_BASE}/oauth/celigo/return/{Z1}");
    assert_eq!(
        put.body["http"]["auth"]["oauth"]["oauth2RedirectUrl"],
        back_to
    );
    let landed = w.authorize(&authorize_link(&answer)).await;
    assert_eq!(
        landed.status(),
        303,
        "integrator.io sends the browser back to cutover"
    );
    assert_eq!(landed.headers()["location"], back_to.as_str());
    let page = w.open(&back_to).await;
    assert_eq!(page.status(), 200);
    let page = page.text().await.expect("page");
    assert!(page.contains("is on OAuth 2.0 in integrator.io"), "{page}");
}

#[tokio::test]
async fn a_used_or_unknown_link_is_refused() {
    let w = CeligoWorld::start().await;
    let answer = w.submit("951", CLIENT_ID, CLIENT_SECRET).await;
    let link = authorize_link(&answer);
    assert_eq!(w.open(&link).await.status(), 303);
    let again = w.open(&link).await;
    assert_eq!(again.status(), 409);
    assert!(again.text().await.expect("page").contains("already used"));
    let unknown = w
        .open(&format!("{PUBLIC_BASE}/oauth/celigo/start?state=not-ours"))
        .await;
    assert_eq!(unknown.status(), 400);
    // A direct link's state is not a celigo link, nor the other way round.
    let zoom_callback = w
        .open(&format!(
            "{PUBLIC_BASE}/oauth/zoom/callback?code=x&{}",
            link.split('?').nth(1).unwrap_or_default()
        ))
        .await;
    assert_eq!(zoom_callback.status(), 400);
}

#[tokio::test]
async fn a_connection_already_authorized_in_integrator_io_is_recorded_not_switched() {
    let w = CeligoWorld::start().await;
    w.celigo.put(docs::authorized_elsewhere(Z1, "Zoom one"));
    let answer = w.submit("961", CLIENT_ID, CLIENT_SECRET).await;
    assert!(
        text(&answer).contains("already on OAuth 2.0 in integrator.io"),
        "{answer}"
    );
    assert!(w.celigo.iclients().is_empty());
    let c = w.connection().await;
    assert_eq!(
        (c.state, c.migrated_via),
        (ConnectionState::Migrated, Some(MigratedVia::IntegratorIo))
    );
}

#[tokio::test]
async fn a_watch_ending_after_discord_stops_taking_edits_tells_the_person_in_the_channel() {
    let w = CeligoWorld::start().await;
    let answer = w.submit("971", CLIENT_ID, CLIENT_SECRET).await;
    assert_eq!(w.open(&authorize_link(&answer)).await.status(), 303);
    w.discord.expire_interaction_token("token-971");
    w.app.clock.set(at(NOW) + chrono::TimeDelta::minutes(15));
    let path = format!("/api/v10/channels/{}/messages", discord::CHANNEL_ID);
    let post = w
        .discord
        .wait_for_request(|r| r.method == "POST" && r.path == path)
        .await;
    assert_channel_message(&post.body);
    let content = post.body["content"].as_str().unwrap_or_default();
    assert!(
        content.starts_with(&format!("<@{OWNER}>: about `{Z1}`"))
            && content.contains("was not completed"),
        "{content}"
    );
    assert_eq!(
        post.body["allowed_mentions"]["users"],
        json!([OWNER]),
        "only the person is pinged"
    );
}

#[tokio::test]
async fn a_fresh_link_renews_the_link_and_not_the_iclient() {
    let w = CeligoWorld::start().await;
    let answer = w.submit("981", CLIENT_ID, CLIENT_SECRET).await;
    let first = authorize_link(&answer);
    // Opened and abandoned at Zoom: the person asks for a fresh link.
    assert_eq!(w.open(&first).await.status(), 303);
    let renewed = w
        .send(discord::button("982", &format!("c1:fl:{Z1}"), OWNER))
        .await;
    assert_eq!(
        renewed["type"],
        callback::UPDATE_MESSAGE,
        "the private message is updated: {renewed}"
    );
    let second = renewed["data"]["components"][0]["components"][0]["url"]
        .as_str()
        .expect("a link")
        .to_owned();
    assert_ne!(first, second);
    assert_eq!(w.celigo.iclients().len(), 1, "the same iClient");
    assert_eq!(
        w.celigo
            .requests()
            .iter()
            .filter(|r| r.method == "PUT")
            .count(),
        1,
        "integrator.io is not changed again"
    );
    let landed = w.authorize(&second).await;
    assert_eq!(landed.status(), 200);
    // The private message now shows the fresh link: that is the one told.
    let done = w.edit_saying("982", "Done").await;
    assert!(done.contains("in integrator.io"), "{done}");
    let again = w.open(&first).await;
    assert_eq!(again.status(), 410);
    assert!(again
        .text()
        .await
        .expect("page")
        .contains("replaced by a newer one"));
}

#[tokio::test]
async fn a_sync_leaves_a_connection_with_a_live_link_alone_until_the_link_is_over() {
    let w = CeligoWorld::start().await;
    let _answer = w.submit("991", CLIENT_ID, CLIENT_SECRET).await;
    // Someone authorizes it in integrator.io's own UI meanwhile.
    w.celigo.put(docs::authorized_elsewhere(Z1, "Zoom one"));
    let summary = w.admin_sync("992").await;
    assert!(summary.contains("0 switched in integrator.io"), "{summary}");
    assert_eq!(
        w.connection().await.state,
        ConnectionState::AwaitingAuthorization,
        "the link decides"
    );
    // The link was never opened and has expired: the next sync records what happened.
    w.app.clock.set(at(NOW) + chrono::TimeDelta::minutes(11));
    let summary = w.admin_sync("993").await;
    assert!(summary.contains("1 switched in integrator.io"), "{summary}");
    let c = w.connection().await;
    assert_eq!(
        (c.state, c.migrated_via),
        (ConnectionState::Migrated, Some(MigratedVia::IntegratorIo))
    );
}

#[tokio::test]
async fn pings_fall_back_to_get_where_post_is_not_allowed() {
    let w = CeligoWorld::start().await;
    w.celigo.refuse_post_pings();
    let answer = w.submit("1001", CLIENT_ID, CLIENT_SECRET).await;
    let landed = w.authorize(&authorize_link(&answer)).await;
    assert_eq!(landed.status(), 200);
    w.edit_saying("1001", "Done").await;
    let pings: Vec<(String, u16)> = w
        .celigo
        .requests()
        .iter()
        .filter(|r| r.path.ends_with("/ping"))
        .map(|r| (r.method.clone(), r.status))
        .collect();
    assert_eq!(pings[0], ("POST".to_owned(), 405), "{pings:?}");
    assert!(
        pings[1..].iter().all(|(method, _)| method == "GET"),
        "GET from then on: {pings:?}"
    );
    assert_eq!(pings.last().map(|p| p.1), Some(200));
}

#[tokio::test]
async fn a_put_whose_answer_is_lost_after_it_landed_still_gives_the_link() {
    let w = CeligoWorld::start().await;
    w.celigo.fail(
        Method::PUT,
        "/connections/",
        usize::MAX,
        Fault::AfterApplying(502),
    );
    let answer = w.submit("1011", CLIENT_ID, CLIENT_SECRET).await;
    assert!(
        text(&answer).contains("awaits your authorization"),
        "{answer}"
    );
    let iclient = w.celigo.iclients()[0]["_id"].clone();
    assert_eq!(
        w.celigo.connection(Z1)["http"]["_iClientId"],
        iclient,
        "integrator.io took it"
    );
    assert_eq!(
        w.connection().await.state,
        ConnectionState::AwaitingAuthorization
    );
}
