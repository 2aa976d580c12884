//! A loopback integrator.io, built as CELIGO.md's "Loopback fake" describes: bare arrays
//! paged by `Link` (204 when empty), GETs that mask secrets, PUT as a full replace that
//! stores a literal `"******"` if one is sent (so a test fails when cutover sends one),
//! iClients with `dependencies`, the authorization address (either key spelling, the
//! singular path or only the plural), ping failing until consent, and consent done for
//! real: its `/connection/oauth2callback` exchanges Zoom's code at the (fake) Zoom with
//! the iClient's credentials and stores the token. Faults on demand. Every request is
//! recorded.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::Engine;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, PoisonError};

pub const TOKEN: &str = "celigo-full-access-token-for-tests";

/// A canned failure, answered instead of the real thing.
#[derive(Debug, Clone)]
pub enum Fault {
    /// This status with the documented envelope.
    Status(u16),
    /// 429 with `Retry-After`.
    RateLimited { retry_after: u64 },
    /// This status with a `{"message": …}` body.
    Message(u16, &'static str),
    /// Does the work, then answers this status anyway (a response lost on the way).
    AfterApplying(u16),
}

#[derive(Debug, Clone)]
struct Armed {
    method: Method,
    /// Matches paths containing this.
    path: String,
    remaining: usize,
    fault: Fault,
}

#[derive(Debug, Clone)]
pub struct Recorded {
    pub at: std::time::Instant,
    pub method: String,
    pub path: String,
    pub status: u16,
    pub authorization: Option<String>,
    pub accept: Option<String>,
    pub body: Value,
}

struct Consent {
    connection: String,
    verifier: String,
}

struct Celigo {
    base_url: String,
    zoom_url: String,
    connections: BTreeMap<String, Value>,
    integrations: Vec<Value>,
    iclients: BTreeMap<String, Value>,
    page_size: usize,
    key: &'static str,
    plural_only: bool,
    ping_fails_with_status: bool,
    post_ping_not_allowed: bool,
    faults: Vec<Armed>,
    /// Someone else edits this connection right after an iClient is created.
    edit_after_iclient: Option<String>,
    consents: HashMap<String, Consent>,
    requests: Vec<Recorded>,
    counter: u64,
}

#[derive(Clone)]
pub struct FakeCeligo {
    pub base_url: String,
    state: Arc<Mutex<Celigo>>,
    changed: Arc<tokio::sync::Notify>,
}

fn stamp(counter: u64) -> String {
    format!(
        "2025-11-{:02}T{:02}:{:02}:00.000Z",
        1 + counter / 1440 % 28,
        counter / 60 % 24,
        counter % 60
    )
}

/// integrator.io's masks: the whole `encrypted` object, tokens and secrets.
fn masked(doc: &Value) -> Value {
    let mut doc = doc.clone();
    for path in [
        &["http", "encrypted"][..],
        &["rest", "encrypted"][..],
        &["http", "auth", "token", "token"][..],
        &["http", "auth", "token", "refreshToken"][..],
        &["rest", "bearerToken"][..],
        &["rest", "refreshToken"][..],
        &["oauth2", "clientSecret"][..],
    ] {
        let (last, parents) = path.split_last().expect("path");
        let mut slot = Some(&mut doc);
        for key in parents {
            slot = slot.and_then(|v| v.get_mut(*key));
        }
        if let Some(Value::Object(object)) = slot {
            if object.contains_key(*last) {
                object.insert((*last).to_owned(), json!("******"));
            }
        }
    }
    doc
}

fn errors(status: u16, code: &str, message: &str, field: Option<&str>) -> Response {
    let mut entry = json!({ "code": code, "message": message });
    if let Some(field) = field {
        entry["field"] = json!(field);
    }
    (
        StatusCode::from_u16(status).expect("status"),
        Json(json!({ "errors": [entry] })),
    )
        .into_response()
}

fn host(url: &str) -> String {
    url::Url::parse(url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned))
        .unwrap_or_default()
}

impl FakeCeligo {
    pub async fn start(zoom_url: &str) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind celigo");
        let base_url = format!("http://{}", listener.local_addr().expect("celigo address"));
        let state = Arc::new(Mutex::new(Celigo {
            base_url: base_url.clone(),
            zoom_url: zoom_url.to_owned(),
            connections: BTreeMap::new(),
            integrations: Vec::new(),
            iclients: BTreeMap::new(),
            page_size: 100,
            key: "authorizationUrl",
            plural_only: false,
            ping_fails_with_status: false,
            post_ping_not_allowed: false,
            faults: Vec::new(),
            edit_after_iclient: None,
            consents: HashMap::new(),
            requests: Vec::new(),
            counter: 0,
        }));
        let changed = Arc::new(tokio::sync::Notify::new());
        let app = axum::Router::new()
            .fallback(handle)
            .with_state((Arc::clone(&state), Arc::clone(&changed)));
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self {
            base_url,
            state,
            changed,
        }
    }

    fn with<T>(&self, f: impl FnOnce(&mut Celigo) -> T) -> T {
        f(&mut self.state.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// The `[celigo]` settings that point cutover here (`extra`: more keys); pings a
    /// second apart unless `extra` says otherwise.
    pub fn config(&self, token_file: &std::path::Path, extra: &str) -> String {
        let ping = if extra.contains("ping_every") {
            ""
        } else {
            "ping_every = \"1s\"\n"
        };
        format!(
            "[celigo]\napi_base_url = \"{0}/v1\"\napi_token_file = \"{1}\"\noauth_redirect_url = \"{0}/connection/oauth2callback\"\n\
             {ping}{extra}",
            self.base_url,
            token_file.display()
        )
    }

    pub fn add_integration(&self, id: &str, name: &str) {
        self.with(|c| c.integrations.push(json!({ "_id": id, "name": name })));
    }

    /// Stores a connection as integrator.io would (with `createdAt` and `lastModified`).
    pub fn put(&self, mut doc: Value) {
        self.with(|c| {
            c.counter += 1;
            doc["lastModified"] = json!(stamp(c.counter));
            if doc.get("createdAt").is_none() {
                doc["createdAt"] = json!("2020-01-01T00:00:00.000Z");
            }
            let id = doc["_id"].as_str().expect("an _id").to_owned();
            c.connections.insert(id, doc);
        });
    }

    pub fn remove(&self, id: &str) {
        self.with(|c| c.connections.remove(id));
    }

    /// The connection as stored (unmasked).
    pub fn connection(&self, id: &str) -> Value {
        self.with(|c| c.connections.get(id).cloned().unwrap_or(Value::Null))
    }

    pub fn iclients(&self) -> Vec<Value> {
        self.with(|c| c.iclients.values().cloned().collect())
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.with(|c| c.requests.clone())
    }

    pub fn set_page_size(&self, size: usize) {
        self.with(|c| c.page_size = size);
    }

    pub fn spell_key(&self, key: &'static str) {
        self.with(|c| c.key = key);
    }

    pub fn only_plural_oauth2_path(&self) {
        self.with(|c| c.plural_only = true);
    }

    pub fn fail_pings_with_status(&self) {
        self.with(|c| c.ping_fails_with_status = true);
    }

    /// `POST …/ping` answers 405: only GET is offered (as one Celigo page documents).
    pub fn refuse_post_pings(&self) {
        self.with(|c| c.post_ping_not_allowed = true);
    }

    pub fn edit_after_next_iclient(&self, connection: &str) {
        self.with(|c| c.edit_after_iclient = Some(connection.to_owned()));
    }

    /// The next `times` requests of `method` whose path contains `path` get `fault`.
    pub fn fail(&self, method: Method, path: &str, times: usize, fault: Fault) {
        self.with(|c| {
            c.faults.push(Armed {
                method,
                path: path.to_owned(),
                remaining: times,
                fault,
            })
        });
    }

    /// Waits until a request matching `wanted` was recorded (bounded, so a broken program
    /// fails the test instead of hanging it).
    pub async fn wait_for(&self, what: &str, wanted: impl Fn(&Recorded) -> bool) -> Recorded {
        let waiting = async {
            loop {
                let notified = self.changed.notified();
                if let Some(found) = self.requests().into_iter().find(|r| wanted(r)) {
                    return found;
                }
                notified.await;
            }
        };
        tokio::time::timeout(std::time::Duration::from_secs(20), waiting)
            .await
            .unwrap_or_else(|_| {
                panic!(
                    "the fake integrator.io never received {what}; it got {:#?}",
                    self.requests()
                )
            })
    }
}

type Shared = (Arc<Mutex<Celigo>>, Arc<tokio::sync::Notify>);

async fn handle(
    State((state, changed)): State<Shared>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path().to_owned();
    let query: HashMap<String, String> = uri
        .query()
        .map(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .into_owned()
                .collect()
        })
        .unwrap_or_default();
    let body_json: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let header = |name: header::HeaderName| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let response = if path == "/connection/oauth2callback" {
        callback(&state, &query).await
    } else {
        let mut celigo = state.lock().unwrap_or_else(PoisonError::into_inner);
        api(
            &mut celigo,
            &method,
            &path,
            &query,
            &header(header::AUTHORIZATION),
            &body_json,
        )
    };
    let mut celigo = state.lock().unwrap_or_else(PoisonError::into_inner);
    celigo.requests.push(Recorded {
        at: std::time::Instant::now(),
        method: method.to_string(),
        path: path.clone(),
        status: response.status().as_u16(),
        authorization: header(header::AUTHORIZATION),
        accept: header(header::ACCEPT),
        body: body_json,
    });
    drop(celigo);
    changed.notify_waiters();
    response
}

fn api(
    c: &mut Celigo,
    method: &Method,
    path: &str,
    query: &HashMap<String, String>,
    authorization: &Option<String>,
    body: &Value,
) -> Response {
    if authorization.as_deref() != Some(&format!("Bearer {TOKEN}")) {
        return errors(401, "unauthorized", "Invalid or missing API token", None);
    }
    if let Some(armed) = c
        .faults
        .iter_mut()
        .find(|a| a.remaining > 0 && a.method == *method && path.contains(&a.path))
    {
        armed.remaining -= 1;
        return match armed.fault {
            Fault::AfterApplying(status) => {
                let _applied = route(c, method, path, query, body);
                errors(
                    status,
                    "server_error",
                    "Something went wrong after the change",
                    None,
                )
            }
            Fault::Status(status) => errors(status, "server_error", "Something went wrong", None),
            Fault::RateLimited { retry_after } => {
                let mut response = errors(
                    429,
                    "rate_limited",
                    "Too many requests. Retry after a while.",
                    None,
                );
                response.headers_mut().insert(
                    header::RETRY_AFTER,
                    retry_after.to_string().parse().expect("header"),
                );
                response
            }
            Fault::Message(status, message) => (
                StatusCode::from_u16(status).expect("status"),
                Json(json!({ "message": message })),
            )
                .into_response(),
        };
    }
    route(c, method, path, query, body)
}

fn route(
    c: &mut Celigo,
    method: &Method,
    path: &str,
    query: &HashMap<String, String>,
    body: &Value,
) -> Response {
    // The iClient endpoints are case-insensitive (D7).
    let lowered = path.to_ascii_lowercase();
    let parts: Vec<&str> = lowered.trim_start_matches("/v1/").split('/').collect();
    let original: Vec<&str> = path.trim_start_matches("/v1/").split('/').collect();
    match (method.as_str(), parts.as_slice()) {
        ("GET", ["tokeninfo"]) => {
            Json(json!({ "_userId": "5e03061cda20740022300f09", "scope": "*" })).into_response()
        }
        ("GET", ["connections"]) => {
            let all: Vec<Value> = c.connections.values().map(masked).collect();
            page(c, "connections", all, query)
        }
        ("GET", ["integrations"]) => {
            let all = c.integrations.clone();
            page(c, "integrations", all, query)
        }
        ("GET", ["connections", _]) => match c.connections.get(original[1]) {
            Some(doc) => Json(masked(doc)).into_response(),
            None => errors(404, "not_found", "Connection not found", None),
        },
        ("PUT", ["connections", _]) => replace(c, original[1], body),
        ("POST", ["connections", _, "ping"]) if c.post_ping_not_allowed => {
            errors(405, "method_not_allowed", "Use GET", None)
        }
        ("POST" | "GET", ["connections", _, "ping"]) => ping(c, original[1]),
        ("GET", ["connection", _, "oauth2"]) if !c.plural_only => authorization_url(c, original[1]),
        ("GET", ["connections", _, "oauth2"]) => authorization_url(c, original[1]),
        ("GET", ["iclients"]) => {
            Json(Value::Array(c.iclients.values().map(masked).collect())).into_response()
        }
        ("POST", ["iclients"]) => create_iclient(c, body),
        ("GET", ["iclients", id]) => match c.iclients.get(*id) {
            Some(doc) => Json(masked(doc)).into_response(),
            None => errors(404, "not_found", "iClient not found", None),
        },
        ("GET", ["iclients", id, "dependencies"]) => {
            let users: Vec<Value> = c
                .connections
                .values()
                .filter(|doc| uses(doc, id))
                .map(|doc| json!({ "_id": doc["_id"], "name": doc["name"] }))
                .collect();
            Json(json!({ "connections": users })).into_response()
        }
        ("DELETE", ["iclients", id]) => {
            if c.connections.values().any(|doc| uses(doc, id)) {
                return errors(422, "in_use", "The iClient is used by a connection", None);
            }
            match c.iclients.remove(*id) {
                Some(_) => StatusCode::NO_CONTENT.into_response(),
                None => errors(404, "not_found", "iClient not found", None),
            }
        }
        _ => errors(404, "not_found", "Unknown route", None),
    }
}

fn uses(doc: &Value, iclient: &str) -> bool {
    [&doc["http"]["_iClientId"], &doc["rest"]["_iClientId"]]
        .iter()
        .any(|v| v.as_str() == Some(iclient))
}

/// A bare array, `skip`/`limit`, absolute `Link` next/prev; 204 when there is nothing.
fn page(c: &Celigo, resource: &str, all: Vec<Value>, query: &HashMap<String, String>) -> Response {
    if all.is_empty() {
        return StatusCode::NO_CONTENT.into_response();
    }
    let skip: usize = query.get("skip").and_then(|s| s.parse().ok()).unwrap_or(0);
    let limit: usize = query
        .get("limit")
        .and_then(|s| s.parse().ok())
        .unwrap_or(c.page_size)
        .min(c.page_size);
    let items: Vec<Value> = all.iter().skip(skip).take(limit).cloned().collect();
    let mut links = Vec::new();
    if skip + limit < all.len() {
        links.push(format!(
            "<{}/v1/{resource}?skip={}&limit={limit}>; rel=\"next\"",
            c.base_url,
            skip + limit
        ));
    }
    if skip > 0 {
        links.push(format!(
            "<{}/v1/{resource}?skip={}&limit={limit}>; rel=\"prev\"",
            c.base_url,
            skip.saturating_sub(limit)
        ));
    }
    let mut response = Json(Value::Array(items)).into_response();
    if !links.is_empty() {
        response
            .headers_mut()
            .insert(header::LINK, links.join(", ").parse().expect("link header"));
    }
    response
}

/// A full replace: what is left out is erased, and what is sent is stored as sent.
fn replace(c: &mut Celigo, id: &str, body: &Value) -> Response {
    let Some(old) = c.connections.get(id).cloned() else {
        return errors(404, "not_found", "Connection not found", None);
    };
    if !body.is_object() {
        return errors(400, "invalid_json", "The body must be a JSON object", None);
    }
    for part in ["http", "rest"] {
        let sub = &body[part];
        let oauth = if part == "http" {
            sub["auth"]["type"] == "oauth"
        } else {
            sub["authType"] == "oauth"
        };
        if !oauth {
            continue;
        }
        let (auth_uri, token_uri) = if part == "http" {
            (
                &sub["auth"]["oauth"]["authURI"],
                &sub["auth"]["oauth"]["tokenURI"],
            )
        } else {
            (&sub["authURI"], &sub["oauthTokenURI"])
        };
        if auth_uri.as_str().is_none() || token_uri.as_str().is_none() {
            return errors(
                422,
                "missing_required_field",
                "authorizecode requires authURI and tokenURI",
                Some("authURI"),
            );
        }
        match sub["_iClientId"].as_str() {
            Some(ic) if c.iclients.contains_key(ic) => {}
            _ => {
                return errors(
                    422,
                    "invalid_field",
                    "_iClientId does not name an iClient",
                    Some("_iClientId"),
                )
            }
        }
    }
    let mut doc = body.clone();
    c.counter += 1;
    doc["_id"] = json!(id);
    doc["createdAt"] = old["createdAt"].clone();
    doc["lastModified"] = json!(stamp(c.counter));
    if let Some(offline) = old.get("offline") {
        doc["offline"] = offline.clone();
    }
    c.connections.insert(id.to_owned(), doc.clone());
    Json(masked(&doc)).into_response()
}

fn create_iclient(c: &mut Celigo, body: &Value) -> Response {
    let oauth2 = &body["oauth2"];
    if body["provider"].as_str().is_none() {
        return errors(
            422,
            "missing_required_field",
            "provider is required",
            Some("provider"),
        );
    }
    for field in ["clientId", "clientSecret"] {
        if oauth2[field].as_str().is_none_or(str::is_empty) {
            return errors(
                422,
                "missing_required_field",
                "required",
                Some(&format!("oauth2.{field}")),
            );
        }
    }
    let domains: Vec<&str> = oauth2["validDomainNames"]
        .as_array()
        .map(|d| d.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    for uri in [&oauth2["auth"]["uri"], &oauth2["token"]["uri"]] {
        if !domains.contains(&host(uri.as_str().unwrap_or_default()).as_str()) {
            return errors(
                422,
                "invalid_domain",
                "The domain of request url should be present in iClient.oauth2.validDomainNames",
                Some("oauth2.validDomainNames"),
            );
        }
    }
    c.counter += 1;
    let id = format!("{:024x}", 0x1c000000 + c.counter);
    let mut doc = body.clone();
    doc["_id"] = json!(id);
    doc["lastModified"] = json!(stamp(c.counter));
    c.iclients.insert(id.clone(), doc.clone());
    if let Some(connection) = c.edit_after_iclient.take() {
        c.counter += 1;
        let counter = c.counter;
        if let Some(other) = c.connections.get_mut(&connection) {
            other["name"] = json!(format!(
                "{} (renamed)",
                other["name"].as_str().unwrap_or_default()
            ));
            other["lastModified"] = json!(stamp(counter));
        }
    }
    (StatusCode::CREATED, Json(masked(&doc))).into_response()
}

fn has_token(doc: &Value) -> bool {
    doc["http"]["auth"]["token"]["token"]
        .as_str()
        .is_some_and(|t| !t.is_empty())
        || doc["rest"]["bearerToken"]
            .as_str()
            .is_some_and(|t| !t.is_empty())
}

fn ping(c: &mut Celigo, id: &str) -> Response {
    let fails_with_status = c.ping_fails_with_status;
    let Some(doc) = c.connections.get_mut(id) else {
        return errors(404, "not_found", "Connection not found", None);
    };
    let works = has_token(doc);
    doc["offline"] = json!(!works);
    if works {
        return Json(json!({})).into_response();
    }
    let envelope =
        json!({ "errors": [{ "code": 401, "message": "Invalid access token. (Zoom)" }] });
    if fails_with_status {
        (StatusCode::UNAUTHORIZED, Json(envelope)).into_response()
    } else {
        Json(envelope).into_response()
    }
}

fn authorization_url(c: &mut Celigo, id: &str) -> Response {
    let Some(doc) = c.connections.get(id) else {
        return errors(404, "not_found", "Connection not found", None);
    };
    let iclient = doc["http"]["_iClientId"]
        .as_str()
        .or(doc["rest"]["_iClientId"].as_str())
        .and_then(|ic| c.iclients.get(ic));
    let oauth = doc["http"]["auth"]["type"] == "oauth" || doc["rest"]["authType"] == "oauth";
    let (true, Some(iclient)) = (oauth, iclient) else {
        return errors(
            422,
            "invalid_connection",
            "The connection is not an OAuth 2.0 connection with an iClient",
            None,
        );
    };
    c.counter += 1;
    let state = format!("celigostate{}x{}", c.counter, "s".repeat(16));
    let verifier = format!("celigoverifier{}{}", c.counter, "v".repeat(40));
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(Sha256::digest(verifier.as_bytes()));
    let mut url = url::Url::parse(&format!("{}/oauth/authorize", c.zoom_url)).expect("zoom url");
    url.query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair(
            "client_id",
            iclient["oauth2"]["clientId"].as_str().unwrap_or_default(),
        )
        .append_pair(
            "redirect_uri",
            &format!("{}/connection/oauth2callback", c.base_url),
        )
        .append_pair("state", &state)
        .append_pair("code_challenge", &challenge)
        .append_pair("code_challenge_method", "S256");
    c.consents.insert(
        state,
        Consent {
            connection: id.to_owned(),
            verifier,
        },
    );
    Json(json!({ c.key: url.to_string() })).into_response()
}

/// integrator.io's own OAuth redirect: the code is exchanged at Zoom with the iClient's
/// credentials (HTTP Basic, the verifier, this exact redirect URI) and the token stored.
async fn callback(state: &Arc<Mutex<Celigo>>, query: &HashMap<String, String>) -> Response {
    let prepared = {
        let mut c = state.lock().unwrap_or_else(PoisonError::into_inner);
        let consent = query.get("state").and_then(|s| c.consents.remove(s));
        consent.and_then(|consent| {
            let doc = c.connections.get(&consent.connection)?;
            let iclient_id = doc["http"]["_iClientId"]
                .as_str()
                .or(doc["rest"]["_iClientId"].as_str())?;
            let iclient = c.iclients.get(iclient_id)?;
            Some((
                consent,
                iclient["oauth2"]["clientId"].as_str()?.to_owned(),
                iclient["oauth2"]["clientSecret"].as_str()?.to_owned(),
                iclient["oauth2"]["token"]["uri"].as_str()?.to_owned(),
                format!("{}/connection/oauth2callback", c.base_url),
            ))
        })
    };
    let Some((consent, client_id, secret, token_uri, redirect_uri)) = prepared else {
        return (
            StatusCode::BAD_REQUEST,
            "Unknown or used authorization state",
        )
            .into_response();
    };
    let Some(code) = query.get("code") else {
        return (StatusCode::OK, "Authorization was not granted").into_response();
    };
    let exchanged = reqwest::Client::new()
        .post(&token_uri)
        .basic_auth(&client_id, Some(&secret))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", redirect_uri.as_str()),
            ("code_verifier", consent.verifier.as_str()),
        ])
        .send()
        .await;
    let tokens: Value = match exchanged {
        Ok(response) if response.status().is_success() => {
            response.json().await.unwrap_or(Value::Null)
        }
        _ => return (StatusCode::BAD_GATEWAY, "The provider refused the code").into_response(),
    };
    let mut c = state.lock().unwrap_or_else(PoisonError::into_inner);
    let Some(doc) = c.connections.get_mut(&consent.connection) else {
        return (StatusCode::NOT_FOUND, "The connection is gone").into_response();
    };
    let access = tokens["access_token"].clone();
    let refresh = tokens["refresh_token"].clone();
    if doc.get("http").is_some_and(Value::is_object) {
        doc["http"]["auth"]["token"]["token"] = access.clone();
        doc["http"]["auth"]["token"]["refreshToken"] = refresh.clone();
    }
    if doc.get("rest").is_some_and(Value::is_object) {
        doc["rest"]["bearerToken"] = access;
        doc["rest"]["refreshToken"] = refresh;
    }
    doc["offline"] = json!(false);
    let back = doc["http"]["auth"]["oauth"]["oauth2RedirectUrl"]
        .as_str()
        .or(doc["rest"]["oauth"]["oauth2RedirectUrl"].as_str())
        .map(str::to_owned);
    match back {
        Some(url) => axum::response::Redirect::to(&url).into_response(),
        None => (
            StatusCode::OK,
            "Connection authorized. You can close this window.",
        )
            .into_response(),
    }
}

/// Connection documents in the shapes integrator.io has.
pub mod docs {
    use serde_json::{json, Value};

    /// `type: "rest"` with both sub-documents, as Celigo's UI saved Zoom connections.
    pub fn rest_shaped(id: &str, name: &str, integration: Option<&str>, auth: &str) -> Value {
        json!({
            "_id": id, "name": name, "type": "rest", "assistant": "zoom", "sandbox": false, "offline": true,
            "_integrationId": integration, "debugDate": null, "isHTTP": true,
            "queues": [{ "name": id, "size": 0 }],
            "http": { "formType": "assistant", "mediaType": "json", "baseURI": "https://api.zoom.us",
                      "ping": { "relativeURI": "/v2/users", "method": "GET" },
                      "headers": [{ "name": "X-Team", "value": "sales" }],
                      "encrypted": { "apiKey": "jwt-api-key-secret", "apiSecret": "jwt-api-secret" },
                      "auth": { "type": auth } },
            "rest": { "baseURI": "https://api.zoom.us", "mediaType": "json", "authType": auth,
                      "pingRelativeURI": "/v2/users", "pingMethod": "GET",
                      "encrypted": { "apiKey": "jwt-api-key-secret", "apiSecret": "jwt-api-secret" } }
        })
    }

    /// `type: "http"`, as the API creates them.
    pub fn http_shaped(id: &str, name: &str, integration: Option<&str>, auth: &str) -> Value {
        json!({
            "_id": id, "name": name, "type": "http", "assistant": "zoom", "_integrationId": integration,
            "http": { "mediaType": "json", "baseURI": "https://api.zoom.us",
                      "ping": { "relativeURI": "/v2/users", "method": "GET" },
                      "auth": { "type": auth } }
        })
    }

    /// Built on an HTTP connector ("HTTP connector 2.0"); no `offline` key at all.
    pub fn connector_based(id: &str, name: &str, auth: &str) -> Value {
        json!({
            "_id": id, "name": name, "type": "http", "assistant": "zoom",
            "http": { "formType": "assistant", "_httpConnectorId": "hc-zoom", "_httpConnectorVersionId": "hcv-zoom",
                      "baseURI": "https://api.zoom.us/v2", "auth": { "type": auth } }
        })
    }

    /// Managed by an integration app.
    pub fn managed(id: &str, name: &str) -> Value {
        let mut doc = http_shaped(id, name, None, "jwt");
        doc["_connectorId"] = json!("integration-app-1");
        doc
    }

    pub fn not_zoom(id: &str, name: &str) -> Value {
        json!({ "_id": id, "name": name, "type": "netsuite", "offline": false,
                "netsuite": { "account": "TSTDRV1", "roleId": "3" } })
    }

    /// Someone switched and authorized it in integrator.io's UI.
    pub fn authorized_elsewhere(id: &str, name: &str) -> Value {
        let mut doc = http_shaped(id, name, None, "oauth");
        doc["http"]["_iClientId"] = json!("ic-from-the-ui");
        doc["http"]["auth"]["token"] = json!({ "token": "ui-token", "location": "header" });
        doc["offline"] = json!(false);
        doc
    }
}
