//! The campaign page through the real program over HTTP: signing in with a `/status`
//! link, what a session shows and what nothing else does, the CSV, the events stream.

use crate::fake_discord::{self as discord, EPHEMERAL, MEMBER};
use crate::fake_zoom::{CLIENT_ID, CLIENT_SECRET};
use crate::helpers::{authorize_link, Setup, World, OTHER_USER, OWNER, PUBLIC_BASE};
use cutover::domain::AuthType;
use serde_json::json;
use std::time::Duration;

const CELIGO_TOKEN: &str = "celigo-api-token-0123456789abcdef";

/// Asks for a sign-in link over the Discord endpoint, as `person`; the link.
async fn sign_in_link(w: &World, interaction: &str, person: &str) -> String {
    let answer = w
        .send(discord::command(
            interaction,
            "status",
            json!([]),
            person,
            MEMBER,
        ))
        .await;
    assert_eq!(
        answer["data"]["flags"], EPHEMERAL,
        "a private answer: {answer}"
    );
    let button = &answer["data"]["components"][0]["components"][0];
    assert_eq!(button["label"], "Open the campaign page", "{answer}");
    let url = button["url"].as_str().expect("a link").to_owned();
    assert!(
        url.starts_with(&format!("{PUBLIC_BASE}/status/sign-in?token=")),
        "{url}"
    );
    url
}

/// Opens the link; the session cookie's `name=value`, checked for its attributes.
async fn sign_in(w: &World, link: &str) -> String {
    let opened = w.open(link).await;
    assert_eq!(opened.status(), 303, "to the page");
    assert_eq!(opened.headers()["location"], "/status");
    let cookie = opened.headers()["set-cookie"]
        .to_str()
        .expect("cookie")
        .to_owned();
    for attribute in ["HttpOnly", "SameSite=Lax", "Path=/status", "Max-Age=43200"] {
        assert!(cookie.contains(attribute), "{cookie}");
    }
    assert!(
        !cookie.contains("Secure"),
        "plain http to this test's address: {cookie}"
    );
    let pair = cookie.split(';').next().expect("pair").to_owned();
    assert!(
        !pair.contains(OWNER),
        "a random token, never the user id: {pair}"
    );
    pair
}

async fn get(w: &World, path: &str, cookie: Option<&str>) -> (u16, String) {
    let mut request = reqwest::Client::new().get(w.app.url(path));
    if let Some(cookie) = cookie {
        request = request.header("cookie", cookie);
    }
    let response = request.send().await.expect("request");
    let status = response.status().as_u16();
    (status, response.text().await.expect("body"))
}

const ROUTES: [&str; 4] = [
    "/status",
    "/status/connections.csv",
    "/status/events",
    "/status/connections/z1",
];

/// A 401 page that says how to get in and shows nothing of the campaign.
fn assert_shut(status: u16, body: &str, what: &str) {
    assert_eq!(status, 401, "{what}: {body}");
    assert!(body.contains("Run /status"), "{what}: {body}");
    for data in ["z1", "z2", "of 2 migrated", "Owners", OWNER] {
        assert!(!body.contains(data), "{what} shows {data:?}: {body}");
    }
}

#[tokio::test]
async fn without_a_session_no_route_shows_anything_of_the_campaign() {
    let w = World::start().await;
    for route in ROUTES {
        let (status, body) = get(&w, route, None).await;
        assert_shut(status, &body, route);
        let (status, body) = get(
            &w,
            route,
            Some("cutover_session=forged-token-of-43-characters-aaaaaaaa"),
        )
        .await;
        assert_shut(status, &body, &format!("{route} with a forged cookie"));
    }
}

#[tokio::test]
async fn a_sign_in_link_works_once_and_its_session_shows_the_campaign() {
    let w = World::start().await;
    let link = sign_in_link(&w, "71", OWNER).await;
    let cookie = sign_in(&w, &link).await;
    let (status, page) = get(&w, "/status", Some(&cookie)).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("0 of 2 migrated"), "{page}");
    assert!(page.contains("<svg"), "the burndown is drawn: {page:.300}");
    assert!(
        page.contains("Signed in as <strong>user420000000000000001</strong>"),
        "the name Discord showed: {page:.2000}"
    );
    // Used once: the same link again signs nobody in and shows nothing.
    let again = w.open(&link).await;
    assert_eq!(again.status(), 410);
    assert!(again.headers().get("set-cookie").is_none());
    let body = again.text().await.expect("page");
    assert!(
        body.contains("used already") && !body.contains("z1"),
        "{body}"
    );
}

#[tokio::test]
async fn an_expired_or_tampered_link_is_refused_and_signs_nobody_in() {
    let w = World::start().await;
    let link = sign_in_link(&w, "72", OWNER).await;
    let mut tampered = link.clone();
    let last = tampered.pop().expect("a token");
    tampered.push(if last == 'A' { 'B' } else { 'A' });
    let refused = w.open(&tampered).await;
    assert_eq!(refused.status(), 410);
    assert!(refused.headers().get("set-cookie").is_none());
    assert!(refused
        .text()
        .await
        .expect("page")
        .contains("not a sign-in link cutover gave out"));
    // Past security.link_ttl (10 minutes): expired, even unused.
    w.app
        .clock
        .set(w.app.clock_now() + chrono::TimeDelta::minutes(11));
    let expired = w.open(&link).await;
    assert_eq!(expired.status(), 410);
    assert!(expired.text().await.expect("page").contains("has expired"));
}

#[tokio::test]
async fn a_session_ends_after_its_time_and_at_sign_out() {
    let w = World::start().await;
    let cookie = sign_in(&w, &sign_in_link(&w, "73", OWNER).await).await;
    let out = reqwest::Client::new()
        .post(w.app.url("/status/sign-out"))
        .header("cookie", &cookie)
        .send()
        .await
        .expect("sign out");
    assert_eq!(out.status(), 200);
    assert!(out.headers()["set-cookie"]
        .to_str()
        .expect("cookie")
        .contains("Max-Age=0"));
    // The server forgot it: the old cookie, kept by a browser, opens nothing.
    for route in ROUTES {
        let (status, body) = get(&w, route, Some(&cookie)).await;
        assert_shut(status, &body, route);
        assert!(body.contains("Your sign-in has ended"), "{body}");
    }
    // status.session_ttl (12 hours) ends a session nobody signed out of.
    let cookie = sign_in(&w, &sign_in_link(&w, "74", OWNER).await).await;
    w.app
        .clock
        .set(w.app.clock_now() + chrono::TimeDelta::hours(12) + chrono::TimeDelta::seconds(1));
    let (status, body) = get(&w, "/status", Some(&cookie)).await;
    assert_shut(status, &body, "after 12 hours");
}

#[tokio::test]
async fn rekey_ends_every_session_and_every_unused_link() {
    let w = World::start().await;
    let cookie = sign_in(&w, &sign_in_link(&w, "75", OWNER).await).await;
    let unused = sign_in_link(&w, "76", OWNER).await;
    let old = cutover::settings::SealingKey::parse(crate::helpers::SEALING_KEY).expect("key");
    let new = cutover::settings::SealingKey::parse("Hx8eHRwbGhkYFxYVFBMSERAPDg0MCwoJCAcGBQQDAgE=")
        .expect("key");
    let summary = cutover::switch::rekey(&w.app.store, &new, &old, w.app.clock_now())
        .await
        .expect("rekey");
    assert_eq!(summary.signed_out, 1);
    let (status, body) = get(&w, "/status", Some(&cookie)).await;
    assert_shut(status, &body, "after rekey");
    assert_eq!(
        w.open(&unused).await.status(),
        410,
        "a link from before the rekey"
    );
}

#[tokio::test]
async fn a_person_from_another_server_gets_no_link() {
    let w = World::start().await;
    let mut elsewhere = discord::command("77", "status", json!([]), OTHER_USER, MEMBER);
    elsewhere["guild_id"] = json!("810000000000000009");
    let answer = w.send(elsewhere).await;
    assert_eq!(answer["data"]["flags"], EPHEMERAL);
    assert!(
        answer["data"]["components"]
            .as_array()
            .is_none_or(Vec::is_empty),
        "{answer}"
    );
    assert!(!answer.to_string().contains("/status/sign-in"), "{answer}");
    assert!(
        answer["data"]["content"]
            .as_str()
            .expect("text")
            .contains("this is not it"),
        "{answer}"
    );
}

#[tokio::test]
async fn names_are_escaped_and_a_cell_that_would_be_a_formula_is_text() {
    let w = World::start().await;
    w.app
        .seed(&[
            (
                "z3",
                "Sales <script>alert(1)</script>",
                Some(OWNER),
                AuthType::Jwt,
            ),
            (
                "z4",
                "=HYPERLINK(\"http://evil.test\")",
                None,
                AuthType::Jwt,
            ),
        ])
        .await;
    let cookie = sign_in(&w, &sign_in_link(&w, "78", OWNER).await).await;
    for path in ["/status", "/status/connections/z3"] {
        let (status, page) = get(&w, path, Some(&cookie)).await;
        assert_eq!(status, 200);
        assert!(!page.contains("<script>alert"), "{path}: {page}");
        assert!(
            page.contains("Sales &lt;script&gt;alert(1)&lt;/script&gt;"),
            "{path}"
        );
    }
    let (status, csv) = get(&w, "/status/connections.csv", Some(&cookie)).await;
    assert_eq!(status, 200);
    assert!(
        csv.starts_with("id,name,state,owner,owner_id,integration,backend,last_change\n"),
        "{csv}"
    );
    assert!(
        csv.contains("z4,\"'=HYPERLINK(\"\"http://evil.test\"\")\",not migrated,"),
        "{csv}"
    );
    assert!(
        csv.contains("z3,Sales <script>alert(1)</script>,not migrated,user420000000000000001,"),
        "{csv}"
    );
}

#[tokio::test]
async fn the_table_filters_sorts_and_pages_by_its_address_and_the_csv_follows_the_filter() {
    let w = World::start().await;
    let rows: Vec<(String, String)> = (0..150)
        .map(|i| (format!("m{i:03}"), format!("Meetings {i:03}")))
        .collect();
    let seed: Vec<_> = rows
        .iter()
        .map(|(id, name)| (id.as_str(), name.as_str(), Some(OTHER_USER), AuthType::Jwt))
        .collect();
    w.app.seed(&seed).await;
    let cookie = sign_in(&w, &sign_in_link(&w, "79", OWNER).await).await;
    let rows_in = |page: &str| page.matches("href=\"/status/connections/").count();
    // The owner's own (z1, z2) first, then by name: 100 on the first page.
    let (_, first) = get(&w, "/status", Some(&cookie)).await;
    assert_eq!(rows_in(&first), 100);
    let z1 = first.find("/status/connections/z1").expect("own first");
    assert!(
        z1 < first
            .find("/status/connections/m000")
            .expect("then the rest")
    );
    assert!(first.contains("152 match."), "{first:.200}");
    assert!(
        first.contains("href=\"/status?page=2\""),
        "a link to the next page"
    );
    let (_, second) = get(&w, "/status?page=2", Some(&cookie)).await;
    assert_eq!(rows_in(&second), 52);
    // An address typed by hand with nonsense in it still shows the page (the first).
    let (status, odd) = get(&w, "/status?page=x&sort=nope&state=weird", Some(&cookie)).await;
    assert_eq!((status, rows_in(&odd)), (200, 100), "{odd:.300}");
    let (_, found) = get(
        &w,
        "/status?q=meetings+14&sort=name&dir=desc",
        Some(&cookie),
    )
    .await;
    assert!(found.contains("10 match."), "m140–m149");
    assert!(
        found.find("m149").expect("m149") < found.find("m140").expect("m140"),
        "descending"
    );
    let (_, csv) = get(
        &w,
        "/status/connections.csv?q=meetings+14&dir=desc",
        Some(&cookie),
    )
    .await;
    assert_eq!(
        csv.lines().count(),
        11,
        "the header and the 10 that match: {csv}"
    );
    let (_, theirs) = get(&w, &format!("/status?owner={OWNER}"), Some(&cookie)).await;
    assert!(theirs.contains("2 match."));
}

/// The page's event stream, opened with the session `cookie`.
async fn open_events(w: &World, cookie: &str) -> reqwest::Response {
    reqwest::Client::new()
        .get(w.app.url("/status/events"))
        .header("cookie", cookie)
        .send()
        .await
        .expect("events")
}

/// Reads the event stream until `event: name` arrives (or the test's deadline passes).
async fn next_event(response: &mut reqwest::Response, name: &str) -> String {
    let mut seen = String::new();
    let wanted = format!("event: {name}");
    tokio::time::timeout(Duration::from_secs(10), async {
        while !seen.contains(&wanted) {
            match response.chunk().await.expect("stream") {
                Some(chunk) => seen.push_str(&String::from_utf8_lossy(&chunk)),
                None => break,
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("no {name} event within 10 s; got {seen:?}"));
    assert!(
        seen.contains(&wanted),
        "the stream ended without {name}: {seen:?}"
    );
    seen
}

#[tokio::test]
async fn the_events_stream_says_when_anything_changes_even_from_another_process() {
    let w = World::start().await;
    let cookie = sign_in(&w, &sign_in_link(&w, "80", OWNER).await).await;
    let mut events = open_events(&w, &cookie).await;
    assert_eq!(events.status(), 200);
    assert_eq!(events.headers()["content-type"], "text/event-stream");
    // An import by the command line: another process, on the same database.
    let file = w.app.dir.write(
        "more.csv",
        "id,name,integration,owner,auth_type\nz9,Zoom nine,Nine,,jwt\n",
    );
    let import = w
        .app
        .dir
        .cutover()
        .args([
            "--config",
            &w.config().display().to_string(),
            "connections",
            "import",
        ])
        .arg(&file)
        .output()
        .await
        .expect("import runs");
    assert!(
        import.status.success(),
        "{}",
        String::from_utf8_lossy(&import.stderr)
    );
    next_event(&mut events, "change").await;
    // Signed out meanwhile: the stream says so at the next change and ends.
    reqwest::Client::new()
        .post(w.app.url("/status/sign-out"))
        .header("cookie", &cookie)
        .send()
        .await
        .expect("sign out");
    w.app
        .seed(&[("z8", "Zoom eight", None, AuthType::Jwt)])
        .await;
    next_event(&mut events, "signed-out").await;
}

#[tokio::test]
async fn no_page_csv_or_event_carries_a_secret_or_token() {
    // integrator.io's API token set too (the switch stays direct, integrator.io unreached).
    let token_file = tempfile::NamedTempFile::new().expect("token file");
    std::fs::write(token_file.path(), CELIGO_TOKEN).expect("token written");
    let w = World::start_with(Setup {
        sections: format!(
            "[celigo]\napi_token_file = \"{}\"\napi_base_url = \"http://127.0.0.1:9/v1\"\nsync_every = \"0s\"\n\
             [switch]\nbackend = \"direct\"\n",
            token_file.path().display()
        ),
        ..Setup::default()
    })
    .await;
    let cookie = sign_in(&w, &sign_in_link(&w, "81", OWNER).await).await;
    let mut events = open_events(&w, &cookie).await;
    // A whole direct switch: the client secret typed, tokens issued by Zoom.
    let answer = w
        .send(discord::modal_submit(
            "82",
            "c1:mf:z1",
            &[("client_id", CLIENT_ID), ("client_secret", CLIENT_SECRET)],
            OWNER,
        ))
        .await;
    // With integrator.io set up a submit may be deferred (the link then comes as the
    // edit) or, done at once, answered in the reply itself.
    let message = if answer["type"] == discord::callback::DEFERRED_CHANNEL_MESSAGE {
        w.edit_of("token-82").await
    } else {
        answer["data"].clone()
    };
    let back = w.follow(&authorize_link(&message)).await;
    let (status, done, _) = w.callback(&back).await;
    assert_eq!(status, 200, "{done}");
    let mut seen = next_event(&mut events, "change").await;
    let tokens = w.zoom.issued_tokens();
    assert!(!tokens.is_empty(), "Zoom issued tokens");
    let state = back
        .split("state=")
        .nth(1)
        .unwrap_or_default()
        .split('&')
        .next()
        .unwrap_or_default()
        .to_owned();
    for path in [
        "/status",
        "/status/connections/z1",
        "/status/connections.csv",
    ] {
        let (status, body) = get(&w, path, Some(&cookie)).await;
        assert_eq!(status, 200, "{path}");
        seen.push_str(&body);
    }
    assert!(seen.contains("1 of 2 migrated"), "the switch shows");
    let cookie_token = cookie.split('=').nth(1).unwrap_or_default();
    for secret in tokens.iter().map(String::as_str).chain([
        CLIENT_SECRET,
        state.as_str(),
        cookie_token,
        crate::helpers::SEALING_KEY,
    ]) {
        assert!(
            !secret.is_empty() && !seen.contains(secret),
            "{secret:?} shown"
        );
    }
}
