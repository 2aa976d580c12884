//! The switch end to end: a signed /migrate submit over the HTTP endpoint, the personal
//! link followed like a browser through the fake Zoom, the callback over HTTP, and what
//! the fakes (Zoom and Discord) received.

use crate::fake_discord::{self as discord, callback, option, EPHEMERAL, MEMBER};
use crate::fake_zoom::{TokenMode, CLIENT_ID, CLIENT_SECRET};
use crate::helpers::{
    at, authorize_link, metric, Setup, World, NOW, OTHER_USER, OWNER, PUBLIC_BASE, SEALING_KEY,
};
use crate::openapi::{assert_channel_message, assert_followup};
use cutover::chat::Reply;
use cutover::domain::{AuthType, ConnectionId, ConnectionState};
use cutover::store::AuditAction;
use serde_json::{json, Value};

/// What the switch tests, and the files built on them, do with a world: follow a link
/// through Zoom, fetch the callback, read what was stored.
impl World {
    /// A browser following the link: Zoom redirects to the callback, which is fetched
    /// from this program (the configured public address is only a name here).
    pub async fn follow(&self, link: &str) -> String {
        let to_zoom = self.open(link).await;
        assert_eq!(to_zoom.status(), 303, "Zoom redirects back");
        let location = to_zoom.headers()["location"]
            .to_str()
            .expect("location")
            .to_owned();
        location
            .strip_prefix(PUBLIC_BASE)
            .expect("back to the configured redirect URI")
            .to_owned()
    }

    /// Fetches a callback path and returns (status, page, content security policy).
    pub async fn callback(&self, path_and_query: &str) -> (u16, String, String) {
        let response = self.open(&format!("{PUBLIC_BASE}{path_and_query}")).await;
        let status = response.status().as_u16();
        let csp = response
            .headers()
            .get("content-security-policy")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        assert_eq!(
            response.headers()["content-type"],
            "text/html; charset=utf-8"
        );
        assert_eq!(response.headers()["referrer-policy"], "no-referrer");
        assert_eq!(response.headers()["cache-control"], "no-store");
        (status, response.text().await.expect("page"), csp)
    }

    /// The sealed access and refresh tokens stored for `id`, read as they lie at rest.
    pub async fn sealed_tokens(&self, id: &str) -> Option<(Vec<u8>, Option<Vec<u8>>)> {
        use sqlx::Connection;
        let mut db = sqlx::SqliteConnection::connect(&self.app.dir.db_url())
            .await
            .expect("open the database");
        sqlx::query_as(
            "SELECT access_token_sealed, refresh_token_sealed FROM oauth_tokens WHERE connection_id = ?",
        )
        .bind(id)
        .fetch_optional(&mut db)
        .await
        .expect("read the tokens")
    }

    pub async fn state_of(&self, id: &str) -> ConnectionState {
        self.app
            .store
            .get_connection(&ConnectionId::parse(id).expect("id"))
            .await
            .expect("read")
            .expect("exists")
            .state
    }
}

fn token_of(submit_index: &str) -> String {
    format!("token-{submit_index}")
}

#[tokio::test]
async fn the_owners_submit_is_answered_privately_with_the_link_to_zoom() {
    let w = World::start().await;
    let answer = w
        .send(discord::modal_submit(
            "901",
            "c1:mf:z1",
            &[("client_id", CLIENT_ID), ("client_secret", CLIENT_SECRET)],
            OWNER,
        ))
        .await;
    assert_eq!(answer["type"], callback::CHANNEL_MESSAGE);
    assert_eq!(
        answer["data"]["flags"], EPHEMERAL,
        "the link is for the caller only"
    );
    let text = answer["data"]["content"].as_str().expect("text");
    let expires = at(NOW).timestamp() + 600;
    assert!(text.contains(&format!("expires <t:{expires}:R>")), "{text}");
    assert!(
        text.contains("`http://cutover.test/oauth/zoom/callback`"),
        "{text}"
    );
    assert!(text.contains("OAuth allow list"), "{text}");
    assert!(
        text.contains("the connection in integrator.io is **not** changed")
            && text.contains("Authentication type: OAuth 2.0")
            && text.contains("Save & authorize"),
        "the direct switch says what it leaves to do in integrator.io: {text}"
    );
    assert!(
        !answer.to_string().contains(CLIENT_SECRET),
        "the secret is never repeated back"
    );
    let fresh = &answer["data"]["components"][0]["components"][1];
    assert_eq!(
        (fresh["label"].as_str(), fresh["custom_id"].as_str()),
        (Some("Get a fresh link"), Some("c1:fl:z1"))
    );

    let link = authorize_link(&answer["data"]);
    let authorize = url::Url::parse(&link).expect("url");
    let q: std::collections::HashMap<_, _> = authorize.query_pairs().into_owned().collect();
    assert_eq!(q["response_type"], "code");
    assert_eq!(q["client_id"], CLIENT_ID);
    assert_eq!(q["redirect_uri"], "http://cutover.test/oauth/zoom/callback");
    assert_eq!(q["code_challenge_method"], "S256");
    assert!(q["state"].len() >= 40, "a long random state");
}

#[tokio::test]
async fn the_callback_says_done_and_zoom_saw_one_verified_exchange() {
    let w = World::start().await;
    let back = linked(&w, "901").await;
    let (status, page, csp) = w.callback(&back).await;
    assert_eq!(status, 200, "{page}");
    for value in query_values(&back) {
        assert!(
            !page.contains(&value),
            "the code and state stay out of the page"
        );
    }
    assert!(page.contains("Done: z1 is on OAuth 2.0"), "{page}");
    assert!(
        page.contains("the connection in integrator.io was not changed")
            && page.contains("Save &amp; authorize"),
        "{page}"
    );
    assert!(csp.starts_with("default-src 'none'"), "{csp}");

    // What Zoom received: Basic auth, the verifier, the exact redirect URI, once.
    let exchanges = w.zoom.token_requests();
    assert_eq!(exchanges.len(), 1);
    assert!(exchanges[0]
        .authorization
        .as_deref()
        .is_some_and(|a| a.starts_with("Basic ")));
    assert_eq!(exchanges[0].form["grant_type"], "authorization_code");
    assert_eq!(
        exchanges[0].form["redirect_uri"],
        "http://cutover.test/oauth/zoom/callback"
    );
    assert!(exchanges[0].form.contains_key("code_verifier"));
    let issued = w.zoom.issued_tokens();
    assert_eq!(
        w.zoom.userinfo_requests(),
        [Some(format!("Bearer {}", issued[0]))]
    );
}

/// Switches z1 through Zoom as the owner (submit "901"); the tokens Zoom issued.
async fn switched(w: &World) -> Vec<String> {
    let back = linked(w, "901").await;
    let (status, page, _) = w.callback(&back).await;
    assert_eq!(status, 200, "{page}");
    w.zoom.issued_tokens()
}

#[tokio::test]
async fn a_switch_is_stored_by_the_owner_with_the_tokens_sealed() {
    let w = World::start().await;
    let issued = switched(&w).await;
    // The store: switched by the owner, tokens sealed.
    assert_eq!(w.state_of("z1").await, ConnectionState::Migrated);
    let connection = w
        .app
        .store
        .get_connection(&ConnectionId::parse("z1").expect("id"))
        .await
        .expect("read")
        .expect("z1");
    assert_eq!(connection.auth_type, AuthType::OAuth2);
    assert_eq!(
        connection.migrated_by.as_deref(),
        Some("discord:420000000000000001")
    );
    let (access, refresh) = w.sealed_tokens("z1").await.expect("tokens");
    let refresh = refresh.expect("refresh");
    for (sealed, plain) in [(&access, &issued[0]), (&refresh, &issued[1])] {
        assert!(
            !sealed.windows(plain.len()).any(|w| w == plain.as_bytes()),
            "sealed at rest"
        );
    }
    // And what is sealed is exactly what Zoom issued, under the configured key, bound to
    // the connection and the kind of token.
    use base64::Engine;
    let key: [u8; 32] = base64::engine::general_purpose::STANDARD
        .decode(SEALING_KEY)
        .expect("base64")
        .try_into()
        .expect("32 bytes");
    let sealer = cutover::switch::Sealer::new(&key);
    use secrecy::ExposeSecret;
    let opened = |sealed: &[u8], what: &str| {
        sealer
            .open(sealed, &format!("connection:z1:{what}"))
            .map(|s| s.expose_secret().to_owned())
    };
    assert_eq!(opened(&access, "access_token").as_ref(), Ok(&issued[0]));
    assert_eq!(opened(&refresh, "refresh_token").as_ref(), Ok(&issued[1]));
    assert!(
        opened(&access, "refresh_token").is_err(),
        "a token opens only as what it was sealed as"
    );
    let audit = w
        .app
        .store
        .audit_entries(Some(&ConnectionId::parse("z1").expect("id")), 10)
        .await
        .expect("audit");
    assert_eq!(audit[0].action, AuditAction::MigrationSwitched);
}

#[tokio::test]
async fn a_switch_tells_the_person_the_channel_and_the_status_command() {
    let w = World::start().await;
    let issued = switched(&w).await;
    // The person's private message and the channel are told.
    let edit = w.edit_of(&token_of("901")).await;
    assert!(
        edit["content"]
            .as_str()
            .unwrap_or_default()
            .contains("Done: z1 is on OAuth 2.0"),
        "{edit}"
    );
    let path = format!("/api/v10/channels/{}/messages", discord::CHANNEL_ID);
    let post = w
        .discord
        .wait_for_request(|r| r.method == "POST" && r.path == path)
        .await;
    assert_channel_message(&post.body);
    assert_eq!(
        post.body["content"],
        "**Zoom one** (`z1`) switched to OAuth 2.0 in cutover (integrator.io still to be switched) \
         by <@420000000000000001> — 1 left",
        "a direct switch says integrator.io is unchanged"
    );
    assert_eq!(
        post.body["allowed_mentions"]["parse"],
        json!([]),
        "the channel post pings nobody"
    );

    // /migration status shows it, without secrets.
    let status = json!([{ "name": "status", "type": option::SUB_COMMAND, "options": [{ "name": "connection", "type": option::STRING, "value": "z1" }] }]);
    let r = w
        .send(discord::command("902", "migration", status, OWNER, MEMBER))
        .await;
    let text = r["data"]["content"].as_str().unwrap_or_default();
    assert!(
        text.contains("Authentication: OAuth 2.0 · migrated")
            && text.contains("migration.switched"),
        "{text}"
    );
    assert!(
        text.contains("in cutover only")
            && text.contains("integrator.io was not changed")
            && text.contains("Remaining step"),
        "{text}"
    );
    for secret in [CLIENT_SECRET, &issued[0], &issued[1]] {
        assert!(!text.contains(secret));
    }
}

/// Submits for z1 as the owner and returns the callback path the browser comes back to.
async fn linked(w: &World, interaction: &str) -> String {
    let answer = w
        .send(discord::modal_submit(
            interaction,
            "c1:mf:z1",
            &[("client_id", CLIENT_ID), ("client_secret", CLIENT_SECRET)],
            OWNER,
        ))
        .await;
    w.follow(&authorize_link(&answer["data"])).await
}

async fn assert_not_switched(w: &World, page: &str) {
    assert_eq!(w.state_of("z1").await, ConnectionState::Pending, "{page}");
    assert!(w.sealed_tokens("z1").await.is_none());
    assert!(!page.contains(CLIENT_SECRET), "{page}");
}

/// The query values of a callback path, decoded.
fn query_values(back: &str) -> Vec<String> {
    let query = back.split('?').nth(1).unwrap_or_default();
    url::form_urlencoded::parse(query.as_bytes())
        .map(|(_, v)| v.into_owned())
        .collect()
}

#[tokio::test]
async fn unknown_missing_and_used_links_say_so() {
    let w = World::start().await;
    let (status, page, _) = w
        .callback("/oauth/zoom/callback?code=abc&state=not-a-state-we-made")
        .await;
    assert_eq!(status, 400);
    assert!(
        page.contains("This is not a link cutover gave out"),
        "{page}"
    );
    let (status, page, _) = w.callback("/oauth/zoom/callback").await;
    assert_eq!(
        (status, page.contains("not a link cutover gave out")),
        (400, true)
    );
    let (status, page, _) = w.callback("/oauth/zoom/callback?state=%ZZ").await;
    assert_eq!(
        (status, page.contains("not a link cutover gave out")),
        (400, true),
        "a malformed query is the same plain page: {page}"
    );
    assert!(
        !page.contains("deserialize") && !page.contains("%ZZ"),
        "no internals, nothing echoed: {page}"
    );

    let back = linked(&w, "910").await;
    let (status, _, _) = w.callback(&back).await;
    assert_eq!(status, 200);
    let (status, page, _) = w.callback(&back).await;
    assert_eq!(status, 409);
    assert!(page.contains("This link was already used"), "{page}");
    assert_eq!(
        w.zoom.token_requests().len(),
        1,
        "a used link never reaches Zoom again"
    );
}

#[tokio::test]
async fn an_expired_link_does_nothing_and_says_how_to_get_a_fresh_one() {
    let w = World::start().await;
    let back = linked(&w, "911").await;
    w.app.clock.set(at(NOW) + chrono::TimeDelta::minutes(10));
    let (status, page, _) = w.callback(&back).await;
    assert_eq!(status, 410);
    assert!(
        page.contains("This link has expired") && page.contains("Get a fresh link"),
        "{page}"
    );
    assert!(w.zoom.token_requests().is_empty());
    assert_not_switched(&w, &page).await;
    let edit = w.edit_of(&token_of("911")).await;
    assert!(
        edit["content"]
            .as_str()
            .unwrap_or_default()
            .contains("This link has expired"),
        "{edit}"
    );
}

#[tokio::test]
async fn declined_access_and_other_provider_errors_change_nothing() {
    let w = World::start().await;
    w.zoom.deny_next();
    let back = linked(&w, "912").await;
    assert!(back.contains("error=access_denied"));
    let (status, page, _) = w.callback(&back).await;
    assert_eq!(status, 200);
    assert!(page.contains("You did not allow access in Zoom"), "{page}");
    assert_not_switched(&w, &page).await;
    let edit = w.edit_of(&token_of("912")).await;
    assert!(
        edit["content"]
            .as_str()
            .unwrap_or_default()
            .contains("You did not allow access"),
        "{edit}"
    );

    let back = linked(&w, "913").await;
    let state = back.split("state=").nth(1).expect("state");
    let (status, page, _) = w
        .callback(&format!(
            "/oauth/zoom/callback?error=server_error%3Cscript%3E&error_description=x&state={state}"
        ))
        .await;
    assert_eq!(status, 502);
    assert!(
        page.contains("Zoom sent the person back with the error &quot;server_errorscript&quot;"),
        "{page}"
    );
    assert!(!page.contains("<script"));
    assert_not_switched(&w, &page).await;
}

#[tokio::test]
async fn a_wrong_client_secret_is_invalid_client() {
    let w = World::start().await;
    let answer = w
        .send(discord::modal_submit(
            "914",
            "c1:mf:z1",
            &[
                ("client_id", CLIENT_ID),
                ("client_secret", "WrongSecret0123456789"),
            ],
            OWNER,
        ))
        .await;
    let back = w.follow(&authorize_link(&answer["data"])).await;
    let (status, page, _) = w.callback(&back).await;
    assert_eq!(status, 400);
    assert!(
        page.contains("Check the client secret and run /migrate again."),
        "{page}"
    );
    assert_not_switched(&w, &page).await;
    assert!(!page.contains("WrongSecret"));
}

#[tokio::test]
async fn a_refused_code_is_invalid_grant() {
    let w = World::start().await;
    let back = linked(&w, "915").await;
    let state = back.split("state=").nth(1).expect("state");
    let (status, page, _) = w
        .callback(&format!("/oauth/zoom/callback?code=forged&state={state}"))
        .await;
    assert_eq!(status, 400);
    assert!(page.contains("invalid_grant"), "{page}");
    assert_not_switched(&w, &page).await;
}

#[tokio::test]
async fn a_failing_or_silent_token_endpoint_is_reported_and_never_retried() {
    let w = World::start().await;
    w.zoom.set_token_mode(TokenMode::ServerError);
    let back = linked(&w, "916").await;
    let (status, page, _) = w.callback(&back).await;
    assert_eq!(status, 502);
    assert!(page.contains("Zoom did not answer properly"), "{page}");
    assert!(!page.contains("upstream error"), "no raw provider body");
    assert_eq!(w.zoom.token_requests().len(), 1, "a code is sent once");
    assert_not_switched(&w, &page).await;
}

#[tokio::test]
async fn a_token_endpoint_timeout_ends_the_attempt() {
    let w = World::start_with(Setup {
        zoom: "request_timeout = \"1s\"\n".into(),
        ..Setup::default()
    })
    .await;
    w.zoom.set_token_mode(TokenMode::Hang);
    let back = linked(&w, "917").await;
    let (status, page, _) = w.callback(&back).await;
    assert_eq!(status, 502);
    assert!(page.contains("timed out or failed"), "{page}");
    assert_eq!(w.zoom.token_requests().len(), 1);
    assert_not_switched(&w, &page).await;
}

#[tokio::test]
async fn a_token_that_fails_verification_never_switches_the_connection() {
    let w = World::start().await;
    w.zoom.reject_userinfo();
    let back = linked(&w, "918").await;
    let (status, page, _) = w.callback(&back).await;
    assert_eq!(status, 502);
    assert!(page.contains("The new token did not work"), "{page}");
    assert_not_switched(&w, &page).await;
}

#[tokio::test]
async fn two_browsers_racing_the_same_callback_switch_once() {
    let w = World::start().await;
    let back = linked(&w, "919").await;
    // The first browser's exchange is held at Zoom while the second arrives.
    w.zoom.set_token_mode(TokenMode::Held);
    let first = w.callback(&back);
    let second = async {
        w.zoom.token_request_arrived().await;
        let second = w.callback(&back).await;
        w.zoom.release_token_request();
        second
    };
    let (first, second) = tokio::join!(first, second);
    assert_eq!(
        second.0, 409,
        "the second browser is told the link was used: {}",
        second.1
    );
    assert_eq!(first.0, 200, "{}", first.1);
    assert_eq!(
        w.zoom.token_requests().len(),
        1,
        "exactly one code exchange"
    );
    let audit = w
        .app
        .store
        .audit_entries(Some(&ConnectionId::parse("z1").expect("id")), 20)
        .await
        .expect("audit");
    assert_eq!(
        audit
            .iter()
            .filter(|e| e.action == AuditAction::MigrationSwitched)
            .count(),
        1
    );
}

#[tokio::test]
async fn a_link_issued_before_a_restart_still_completes() {
    let w = World::start().await;
    let back = linked(&w, "920").await;
    let w = w.restart().await;
    let (status, page, _) = w.callback(&back).await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(w.state_of("z1").await, ConnectionState::Migrated);
}

#[tokio::test]
async fn one_live_link_per_connection_and_a_fresh_link_voids_the_old() {
    let w = World::start().await;
    let first = w
        .send(discord::modal_submit(
            "921",
            "c1:mf:z1",
            &[("client_id", CLIENT_ID), ("client_secret", CLIENT_SECRET)],
            OWNER,
        ))
        .await;
    let old_link = authorize_link(&first["data"]);

    // An admin trying meanwhile is told who holds it and until when, without secrets.
    let admin_try = w
        .send({
            let mut submit = discord::modal_submit(
                "922",
                "c1:mf:z1",
                &[("client_id", CLIENT_ID), ("client_secret", CLIENT_SECRET)],
                OTHER_USER,
            );
            submit["member"]["permissions"] = json!("32");
            submit
        })
        .await;
    let text = admin_try["data"]["content"].as_str().unwrap_or_default();
    let until = at(NOW).timestamp() + 600;
    assert_eq!(admin_try["data"]["flags"], EPHEMERAL);
    assert!(
        text.starts_with(&format!(
            "<@420000000000000001> already has a link for `z1`, valid until <t:{until}:t>"
        )),
        "{text}"
    );
    assert!(!admin_try.to_string().contains(CLIENT_SECRET));

    // The owner presses "Get a fresh link": a new link replaces the message's old one.
    let fresh = w.send(discord::button("923", "c1:fl:z1", OWNER)).await;
    assert_eq!(fresh["type"], callback::UPDATE_MESSAGE);
    let new_link = authorize_link(&fresh["data"]);
    assert_ne!(new_link, old_link);
    let back = w.follow(&old_link).await;
    let (status, page, _) = w.callback(&back).await;
    assert_eq!(status, 410);
    assert!(page.contains("replaced by a newer one"), "{page}");
    let back = w.follow(&new_link).await;
    let (status, _, _) = w.callback(&back).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn bad_credentials_are_refused_privately_without_repeating_the_secret() {
    let w = World::start().await;
    let r = w
        .send(discord::modal_submit(
            "924",
            "c1:mf:z1",
            &[("client_id", "bad id!"), ("client_secret", CLIENT_SECRET)],
            OWNER,
        ))
        .await;
    assert_eq!(r["data"]["flags"], EPHEMERAL);
    assert!(r["data"]["content"]
        .as_str()
        .unwrap_or_default()
        .starts_with("The client ID should be 8 to 64 letters and digits"));
    let secret = "with spaces is not a secret";
    let r = w
        .send(discord::modal_submit(
            "925",
            "c1:mf:z1",
            &[("client_id", CLIENT_ID), ("client_secret", secret)],
            OWNER,
        ))
        .await;
    assert!(r["data"]["content"]
        .as_str()
        .unwrap_or_default()
        .starts_with("The client secret does not look like"));
    assert!(!r.to_string().contains(secret));
    let r = w
        .send(discord::modal_submit(
            "926",
            "c1:mf:z1",
            &[("client_id", CLIENT_ID), ("client_secret", CLIENT_SECRET)],
            OTHER_USER,
        ))
        .await;
    assert!(r["data"]["content"]
        .as_str()
        .unwrap_or_default()
        .starts_with("You cannot switch `z1`"));
}

#[tokio::test]
async fn tokens_refresh_before_expiry_keeping_the_newest_refresh_token() {
    let w = World::start().await;
    let back = linked(&w, "930").await;
    assert_eq!(w.callback(&back).await.0, 200);
    let switch = w.app.switch.clone();
    // Nothing is due yet.
    assert_eq!(switch.refresh_due().await.expect("round").refreshed, 0);
    w.app.clock.set(at(NOW) + chrono::TimeDelta::minutes(55));
    assert_eq!(switch.refresh_due().await.expect("round").refreshed, 1);
    w.app.clock.set(at(NOW) + chrono::TimeDelta::minutes(110));
    assert_eq!(switch.refresh_due().await.expect("round").refreshed, 1);
    let issued = w.zoom.issued_tokens();
    let refreshes: Vec<_> = w
        .zoom
        .token_requests()
        .into_iter()
        .filter(|r| r.form["grant_type"] == "refresh_token")
        .collect();
    assert_eq!(refreshes.len(), 2);
    assert!(refreshes.iter().all(|r| r
        .authorization
        .as_deref()
        .is_some_and(|a| a.starts_with("Basic "))));
    // Each refresh used the refresh token from the exchange before it (Zoom rotates them).
    assert_eq!(refreshes[0].form["refresh_token"], issued[1]);
    assert_eq!(refreshes[1].form["refresh_token"], issued[3]);
    assert_eq!(w.state_of("z1").await, ConnectionState::Migrated);
}

#[tokio::test]
async fn metrics_count_answers_switches_refreshes_and_connections() {
    let w = World::start().await;
    let deadlines = "cutover_interactions_total{command=\"deadlines\",outcome=\"ok\"}";
    let switched = "cutover_switch_total{backend=\"direct\",outcome=\"switched\"}";
    let refreshed = "cutover_token_refresh_total{outcome=\"refreshed\"}";
    assert_eq!(metric(&w.app, deadlines).await, 0.0);
    w.send(discord::command(
        "940",
        "deadlines",
        json!([]),
        OWNER,
        MEMBER,
    ))
    .await;
    assert_eq!(metric(&w.app, deadlines).await, 1.0);
    assert!(metric(&w.app, "cutover_interaction_seconds_count").await >= 1.0);

    let back = linked(&w, "941").await;
    assert_eq!(w.callback(&back).await.0, 200);
    assert_eq!(metric(&w.app, switched).await, 1.0);
    assert_eq!(
        metric(&w.app, "cutover_connections{state=\"migrated\"}").await,
        1.0
    );
    assert_eq!(
        metric(&w.app, "cutover_connections{state=\"pending\"}").await,
        1.0
    );
    // A link used twice is no second switch, and no attempt of its own.
    assert_eq!(w.callback(&back).await.0, 409);
    assert_eq!(metric(&w.app, switched).await, 1.0);

    w.app.clock.set(at(NOW) + chrono::TimeDelta::minutes(55));
    w.app.switch.refresh_due().await.expect("round");
    assert_eq!(metric(&w.app, refreshed).await, 1.0);
    assert!(metric(&w.app, "process_resident_memory_bytes").await > 0.0);
}

#[tokio::test]
async fn two_rounds_at_once_send_a_refresh_token_once() {
    // Two cutovers on one database refreshing the same token: Zoom would rotate it for the
    // first and refuse the second use, which would look like a revoked grant.
    let w = World::start().await;
    let back = linked(&w, "936").await;
    assert_eq!(w.callback(&back).await.0, 200);
    w.app.switch.heartbeat().tick().await;
    w.zoom.set_token_mode(TokenMode::Held);
    w.app.clock.set(at(NOW) + chrono::TimeDelta::minutes(55));
    let round = || {
        let switch = std::sync::Arc::clone(&w.app.switch);
        tokio::spawn(async move { switch.refresh_due().await })
    };
    let first = round();
    w.zoom.token_request_arrived().await;
    // The second finds the token set claimed, and leaves it alone.
    // (Bounded only so that a broken claim fails here rather than hanging on the fake.)
    let second = tokio::time::timeout(std::time::Duration::from_secs(30), round())
        .await
        .expect("the second round never waits on Zoom")
        .expect("joined")
        .expect("round");
    assert_eq!(second, cutover::switch::RefreshReport::default());
    w.zoom.release_token_request();
    let first = first.await.expect("joined").expect("round");
    assert_eq!((first.refreshed, first.superseded), (1, 0), "{first:?}");
    let refreshes = w
        .zoom
        .token_requests()
        .into_iter()
        .filter(|r| r.form.get("grant_type").map(String::as_str) == Some("refresh_token"))
        .count();
    assert_eq!(refreshes, 1, "the refresh token was sent once");
    assert_eq!(w.state_of("z1").await, ConnectionState::Migrated);
    // A claim given back by a failed round lets the next one try at once.
    w.zoom.set_token_mode(TokenMode::ServerError);
    w.app.clock.set(at(NOW) + chrono::TimeDelta::minutes(115));
    assert_eq!(w.app.switch.refresh_due().await.expect("round").failed, 1);
    w.zoom.set_token_mode(TokenMode::Normal);
    assert_eq!(
        w.app.switch.refresh_due().await.expect("round").refreshed,
        1
    );
    assert!(!w
        .discord
        .requests()
        .iter()
        .any(|r| r.body.to_string().contains("needs re-authorization")));
}

#[tokio::test]
async fn a_refresh_that_meets_a_zoom_error_or_a_hang_is_retried_not_reauthorized() {
    let w = World::start_with(Setup {
        zoom: "request_timeout = \"1s\"\n".into(),
        ..Setup::default()
    })
    .await;
    let back = linked(&w, "932").await;
    assert_eq!(w.callback(&back).await.0, 200);
    w.app.clock.set(at(NOW) + chrono::TimeDelta::minutes(55));
    for mode in [TokenMode::ServerError, TokenMode::Hang] {
        w.zoom.set_token_mode(mode);
        let report = w.app.switch.refresh_due().await.expect("round");
        assert_eq!(
            report,
            cutover::switch::RefreshReport {
                refreshed: 0,
                needs_reauthorization: 0,
                superseded: 0,
                failed: 1
            },
            "{mode:?}"
        );
        assert_eq!(
            w.state_of("z1").await,
            ConnectionState::Migrated,
            "{mode:?}"
        );
    }
    let audit = w
        .app
        .store
        .audit_entries(Some(&ConnectionId::parse("z1").expect("id")), 20)
        .await
        .expect("audit");
    assert!(
        audit
            .iter()
            .all(|e| e.action != AuditAction::TokenRefreshFailed),
        "{audit:?}"
    );
    assert!(
        w.discord
            .requests()
            .iter()
            .all(|r| !r.body.to_string().contains("needs re-authorization")),
        "nobody was told to re-authorize"
    );
    // Zoom is back: the refresh token it never saw used still works.
    w.zoom.set_token_mode(TokenMode::Normal);
    let report = w.app.switch.refresh_due().await.expect("round");
    assert_eq!(report.refreshed, 1);
}

#[tokio::test]
async fn readiness_turns_503_while_the_first_refresh_round_is_overdue() {
    let w = World::start().await;
    let back = linked(&w, "933").await;
    assert_eq!(w.callback(&back).await.0, 200);
    // Restarted when the token is due, Zoom holding the refresh: the first round hangs.
    w.zoom.set_token_mode(TokenMode::Held);
    let w = w.restart_at("2025-11-21T12:55:00Z").await;
    tokio::time::timeout(
        std::time::Duration::from_secs(60),
        w.zoom.token_request_arrived(),
    )
    .await
    .expect("the scheduler began its first round on its own");
    let readyz = || async {
        let response = reqwest::get(w.app.url("/readyz")).await.expect("readyz");
        let status = response.status().as_u16();
        let body: Value = response.json().await.expect("json");
        (status, body)
    };
    let (status, body) = readyz().await;
    assert_eq!((status, &body["scheduler"]), (200, &json!("starting")));
    w.app.clock.set(at("2025-11-21T12:59:00Z"));
    let (status, body) = readyz().await;
    assert_eq!(
        (status, &body["scheduler"], &body["scheduler_lag_seconds"]),
        (503, &json!("stalled"), &json!(240)),
        "{body}"
    );
    // Zoom answers: the round finishes and the instance is ready again.
    let mut rounds = w.app.switch.heartbeat().finished_rounds();
    w.zoom.release_token_request();
    rounds
        .wait_for(|finished| *finished >= 1)
        .await
        .expect("the round finished");
    // The reminders' scheduler saw the clock move too.
    w.app.reminders.tick().await;
    let (status, body) = readyz().await;
    assert_eq!((status, &body["scheduler"]), (200, &json!("ok")), "{body}");
}

#[tokio::test]
async fn a_refused_refresh_marks_the_connection_and_tells_the_owner() {
    let w = World::start().await;
    let back = linked(&w, "931").await;
    assert_eq!(w.callback(&back).await.0, 200);
    w.zoom.revoke_refresh_tokens();
    w.app.clock.set(at(NOW) + chrono::TimeDelta::minutes(55));
    let report = w.app.switch.refresh_due().await.expect("round");
    assert_eq!(report.needs_reauthorization, 1);
    assert_eq!(
        w.state_of("z1").await,
        ConnectionState::NeedsReauthorization
    );
    let audit = w
        .app
        .store
        .audit_entries(Some(&ConnectionId::parse("z1").expect("id")), 5)
        .await
        .expect("audit");
    assert_eq!(audit[0].action, AuditAction::TokenRefreshFailed);
    let path = format!("/api/v10/channels/{}/messages", discord::CHANNEL_ID);
    let post = w
        .discord
        .wait_for_request(|r| {
            r.path == path
                && r.body["content"]
                    .as_str()
                    .unwrap_or_default()
                    .contains("needs re-authorization")
        })
        .await;
    assert_channel_message(&post.body);
    assert!(post.body["content"]
        .as_str()
        .unwrap_or_default()
        .starts_with("<@420000000000000001>: `z1` needs re-authorization"));
    assert_eq!(
        post.body["allowed_mentions"]["users"],
        json!(["420000000000000001"]),
        "only the owner is pinged"
    );
    // It shows as not migrated again, and /migrate works for it.
    let r = w
        .send(discord::command(
            "932",
            "migrate",
            json!([{ "name": "connection", "type": option::STRING, "value": "z1" }]),
            OWNER,
            MEMBER,
        ))
        .await;
    assert_eq!(r["type"], callback::MODAL);
}

#[tokio::test]
async fn the_terminal_reads_the_secret_without_echo_and_prints_the_link() {
    let w = World::start().await;
    let console =
        crate::helpers::ScriptedConsole::new(&["/migrate connection:z1", CLIENT_ID, CLIENT_SECRET]);
    cutover::terminal::run(&w.app.core, &w.app.clock, &console).await;
    assert_eq!(console.secret_prompts(), ["Zoom OAuth client secret: "]);
    let out = console.output();
    assert!(
        out.contains("── Switch Zoom one to OAuth ──\nDiscord does not mask"),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "[1] Authorize with Zoom: {}/oauth/authorize?",
            w.zoom.base_url
        )),
        "{out}"
    );
    assert!(out.contains("[2] Get a fresh link"), "{out}");
    assert!(!out.contains(CLIENT_SECRET));
}

#[tokio::test]
async fn an_exchange_interrupted_by_a_crash_does_not_block_the_connection_forever() {
    let w = World::start().await;
    let back = linked(&w, "940").await;
    // The process stopped between taking the link and finishing the exchange.
    let state = back.split("state=").nth(1).expect("state");
    let state = url::form_urlencoded::parse(format!("s={state}").as_bytes())
        .next()
        .expect("decoded")
        .1
        .into_owned();
    let taken = w
        .app
        .store
        .consume_attempt(
            &cutover::switch::hash_state(&state),
            cutover::domain::Backend::Direct,
            at(NOW),
            None,
        )
        .await
        .expect("consume");
    assert!(taken.is_ok());
    let w = w.restart().await;
    let r = w
        .send(discord::modal_submit(
            "941",
            "c1:mf:z1",
            &[("client_id", CLIENT_ID), ("client_secret", CLIENT_SECRET)],
            OWNER,
        ))
        .await;
    assert!(
        r["data"]["content"]
            .as_str()
            .unwrap_or_default()
            .contains("is being completed right now"),
        "still within its time: {r}"
    );
    // Its link expired at +10 minutes; Zoom requests could still run 5 more.
    w.app.clock.set(at(NOW) + chrono::TimeDelta::minutes(16));
    let r = w
        .send(discord::modal_submit(
            "942",
            "c1:mf:z1",
            &[("client_id", CLIENT_ID), ("client_secret", CLIENT_SECRET)],
            OWNER,
        ))
        .await;
    assert!(
        !authorize_link(&r["data"]).is_empty(),
        "past its expiry, a new link is issued"
    );
}

#[tokio::test]
async fn debug_output_never_shows_a_form_value_or_a_links_state() {
    let w = World::start().await;
    let caller = crate::helpers::user(OWNER.parse().expect("owner id"));
    let action = cutover::chat::Action::ModalSubmit {
        id: "c1:mf:z1".into(),
        values: vec![
            ("client_id".into(), CLIENT_ID.into()),
            ("client_secret".into(), CLIENT_SECRET.into()),
        ],
    };
    let request = cutover::chat::Request::new(caller, action);
    assert!(
        !format!("{request:?}").contains(CLIENT_SECRET),
        "{request:?}"
    );
    let reply = w.app.core.handle(request).await.reply;
    let Reply::Message(message) = &reply else {
        panic!("a message: {reply:?}")
    };
    let cutover::chat::ButtonTarget::Link(link) = &message.buttons[0].target else {
        panic!("a link")
    };
    let state = url::Url::parse(link)
        .expect("url")
        .query_pairs()
        .find(|(k, _)| k == "state")
        .expect("state")
        .1
        .into_owned();
    assert!(!format!("{reply:?}").contains(&state), "{reply:?}");
}

#[tokio::test]
async fn an_exchange_that_outlives_its_link_cannot_switch_after_a_newer_link() {
    let w = World::start().await;
    let back = linked(&w, "950").await;
    w.zoom.set_token_mode(TokenMode::Held);
    let stale = w.callback(&back);
    let meanwhile = async {
        w.zoom.token_request_arrived().await;
        // Zoom hangs long enough for the attempt to be given up and a new link issued.
        w.app.clock.set(at(NOW) + chrono::TimeDelta::minutes(16));
        let fresh = w
            .send(discord::modal_submit(
                "951",
                "c1:mf:z1",
                &[("client_id", CLIENT_ID), ("client_secret", CLIENT_SECRET)],
                OWNER,
            ))
            .await;
        w.zoom.set_token_mode(TokenMode::Normal);
        w.zoom.release_token_request();
        authorize_link(&fresh["data"])
    };
    let ((status, page, _), fresh_link) = tokio::join!(stale, meanwhile);
    assert_eq!(status, 410, "{page}");
    assert!(page.contains("replaced by a newer one"), "{page}");
    assert_eq!(
        w.state_of("z1").await,
        ConnectionState::Pending,
        "the stale exchange switched nothing"
    );
    let back = w.follow(&fresh_link).await;
    assert_eq!(w.callback(&back).await.0, 200, "the newer link still works");
}

#[tokio::test]
async fn a_slow_button_answer_that_is_private_arrives_as_a_private_follow_up() {
    use sqlx::Connection;
    let w = World::start().await;
    // The owner's link expires; an admin takes the connection; the owner asks for a fresh link.
    let first = w
        .send(discord::modal_submit(
            "960",
            "c1:mf:z1",
            &[("client_id", CLIENT_ID), ("client_secret", CLIENT_SECRET)],
            OWNER,
        ))
        .await;
    authorize_link(&first["data"]);
    w.app.clock.set(at(NOW) + chrono::TimeDelta::minutes(11));
    let mut admin = discord::modal_submit(
        "961",
        "c1:mf:z1",
        &[("client_id", CLIENT_ID), ("client_secret", CLIENT_SECRET)],
        OTHER_USER,
    );
    admin["member"]["permissions"] = json!("32");
    authorize_link(&w.send(admin).await["data"]);

    // The database is busy, so the answer cannot come within Discord's 3 seconds.
    let mut blocker = sqlx::SqliteConnection::connect(&w.app.dir.db_url())
        .await
        .expect("second connection");
    sqlx::query("BEGIN EXCLUSIVE")
        .execute(&mut blocker)
        .await
        .expect("lock");
    let pressed = w.send(discord::button("962", "c1:fl:z1", OWNER)).await;
    assert_eq!(
        pressed["type"],
        callback::DEFERRED_UPDATE_MESSAGE,
        "acknowledged, the message left as it is"
    );
    sqlx::query("ROLLBACK")
        .execute(&mut blocker)
        .await
        .expect("unlock");

    let path = format!("/api/v10/webhooks/{}/token-962", discord::APPLICATION_ID);
    let followup = w
        .discord
        .wait_for_request(|r| r.method == "POST" && r.path == path)
        .await;
    assert_followup(&followup.body);
    assert_eq!(followup.body["flags"], EPHEMERAL, "private");
    assert!(
        followup.body["content"]
            .as_str()
            .unwrap_or_default()
            .starts_with("<@430000000000000001> already has a link"),
        "{}",
        followup.body
    );
    let edits = w
        .discord
        .requests()
        .into_iter()
        .filter(|r| r.method == "PATCH" && r.path.contains("token-962"))
        .count();
    assert_eq!(
        edits, 0,
        "the message the button is on is not replaced by a private answer"
    );
}
