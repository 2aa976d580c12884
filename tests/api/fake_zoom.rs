//! A loopback Zoom that enforces what Zoom enforces: `/oauth/authorize` sends the
//! browser back with a one-time code; `/oauth/token` demands HTTP Basic client auth,
//! checks the S256 verifier against the challenge and the exact redirect URI, accepts
//! each code once, and rotates refresh tokens; `/v2/users/me` checks the Bearer token;
//! `/oauth/revoke` demands the Basic auth of the app the token was issued to and, as
//! Zoom does, ends the app's authorization for that user: every token of the pair.

use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use base64::Engine;
use serde_json::json;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

pub const CLIENT_ID: &str = "ZoomClientId0123456789";
pub const CLIENT_SECRET: &str = "ZoomClientSecret0123456789abcdef";
/// A second OAuth app, for a person who tries again with other credentials.
pub const OTHER_CLIENT_ID: &str = "OtherZoomApp0123456789";
pub const OTHER_CLIENT_SECRET: &str = "OtherZoomAppSecret0123456789abcd";

/// How the token endpoint behaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TokenMode {
    #[default]
    Normal,
    ServerError,
    /// Never answers (the client's timeout must end it).
    Hang,
    /// Holds each request until the test releases it, then answers normally.
    Held,
}

#[derive(Debug, Clone)]
pub struct TokenRequest {
    pub authorization: Option<String>,
    pub form: HashMap<String, String>,
}

/// Who authorized which app: what a token belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Grant {
    client_id: String,
    user: String,
}

struct Code {
    user: String,
    client_id: String,
    redirect_uri: String,
    challenge: String,
    used: bool,
}

struct Zoom {
    /// Registered OAuth apps: client id → secret.
    clients: HashMap<String, String>,
    codes: HashMap<String, Code>,
    access_tokens: HashMap<String, Grant>,
    /// Refresh token → (still valid, whose).
    refresh_tokens: HashMap<String, (bool, Grant)>,
    issued: Vec<String>,
    token_requests: Vec<TokenRequest>,
    revoke_requests: Vec<TokenRequest>,
    revoke_mode: TokenMode,
    /// Who signs in at the next authorization.
    user: String,
    userinfo_requests: Vec<Option<String>>,
    token_mode: TokenMode,
    deny: bool,
    reject_userinfo: bool,
    counter: u64,
    arrived: Arc<tokio::sync::Notify>,
    release: Arc<tokio::sync::Notify>,
}

impl Default for Zoom {
    fn default() -> Self {
        Self {
            clients: HashMap::from([
                (CLIENT_ID.to_owned(), CLIENT_SECRET.to_owned()),
                (OTHER_CLIENT_ID.to_owned(), OTHER_CLIENT_SECRET.to_owned()),
            ]),
            codes: HashMap::new(),
            access_tokens: HashMap::new(),
            refresh_tokens: HashMap::new(),
            issued: Vec::new(),
            token_requests: Vec::new(),
            revoke_requests: Vec::new(),
            revoke_mode: TokenMode::default(),
            user: "zoomuser1".to_owned(),
            userinfo_requests: Vec::new(),
            token_mode: TokenMode::default(),
            deny: false,
            reject_userinfo: false,
            counter: 0,
            arrived: Arc::default(),
            release: Arc::default(),
        }
    }
}

#[derive(Clone)]
pub struct FakeZoom {
    pub base_url: String,
    state: Arc<Mutex<Zoom>>,
}

impl FakeZoom {
    pub async fn start() -> Self {
        let state = Arc::new(Mutex::new(Zoom::default()));
        let app = Router::new()
            .route("/oauth/authorize", get(authorize))
            .route("/oauth/token", post(token))
            .route("/v2/users/me", get(me))
            .route("/oauth/revoke", post(revoke))
            .with_state(Arc::clone(&state));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind zoom");
        let base_url = format!("http://{}", listener.local_addr().expect("zoom address"));
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self { base_url, state }
    }

    fn with<T>(&self, f: impl FnOnce(&mut Zoom) -> T) -> T {
        f(&mut self.state.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// The `[zoom]` settings that point cutover here.
    pub fn config(&self) -> String {
        format!(
            "[zoom]\nauthorize_url = \"{0}/oauth/authorize\"\ntoken_url = \"{0}/oauth/token\"\nuserinfo_url = \"{0}/v2/users/me\"\nrevoke_url = \"{0}/oauth/revoke\"\n",
            self.base_url
        )
    }

    pub fn set_token_mode(&self, mode: TokenMode) {
        self.with(|z| z.token_mode = mode);
    }

    /// How the revocation endpoint behaves (`Normal`, `ServerError` or `Hang`).
    pub fn set_revoke_mode(&self, mode: TokenMode) {
        self.with(|z| z.revoke_mode = mode);
    }

    /// Who signs in to Zoom at the next authorizations.
    pub fn sign_in_as(&self, user: &str) {
        self.with(|z| z.user = user.to_owned());
    }

    /// The app is deleted: its credentials stop working.
    pub fn delete_app(&self, client_id: &str) {
        self.with(|z| z.clients.remove(client_id));
    }

    /// Every access token expires (refresh tokens still work).
    pub fn expire_access_tokens(&self) {
        self.with(|z| z.access_tokens.clear());
    }

    /// Whether Zoom still accepts `token` (an access token, or an unused refresh token).
    pub fn accepts(&self, token: &str) -> bool {
        self.with(|z| {
            z.access_tokens.contains_key(token)
                || z.refresh_tokens.get(token).is_some_and(|(valid, _)| *valid)
        })
    }

    pub fn revoke_requests(&self) -> Vec<TokenRequest> {
        self.with(|z| z.revoke_requests.clone())
    }

    pub fn deny_next(&self) {
        self.with(|z| z.deny = true);
    }

    pub fn reject_userinfo(&self) {
        self.with(|z| z.reject_userinfo = true);
    }

    /// Every refresh token stops working (the user removed the app).
    pub fn revoke_refresh_tokens(&self) {
        self.with(|z| {
            z.refresh_tokens
                .values_mut()
                .for_each(|(valid, _)| *valid = false)
        });
    }

    /// Waits until a held token request has arrived.
    pub async fn token_request_arrived(&self) {
        let arrived = self.with(|z| Arc::clone(&z.arrived));
        arrived.notified().await;
    }

    /// Lets a held token request go on.
    pub fn release_token_request(&self) {
        self.with(|z| z.release.notify_one());
    }

    pub fn token_requests(&self) -> Vec<TokenRequest> {
        self.with(|z| z.token_requests.clone())
    }

    pub fn userinfo_requests(&self) -> Vec<Option<String>> {
        self.with(|z| z.userinfo_requests.clone())
    }

    /// Every token this Zoom handed out (access and refresh).
    pub fn issued_tokens(&self) -> Vec<String> {
        self.with(|z| z.issued.clone())
    }
}

fn error(status: StatusCode, error: &str, reason: &str) -> Response {
    (status, Json(json!({ "reason": reason, "error": error }))).into_response()
}

async fn authorize(
    State(state): State<Arc<Mutex<Zoom>>>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let mut zoom = state.lock().unwrap_or_else(PoisonError::into_inner);
    let get = |k: &str| q.get(k).cloned().unwrap_or_default();
    if get("response_type") != "code"
        || !zoom.clients.contains_key(&get("client_id"))
        || get("redirect_uri").is_empty()
    {
        return (StatusCode::BAD_REQUEST, "invalid authorization request").into_response();
    }
    // Zoom falls back to "plain" without a method; cutover must always send S256.
    if get("code_challenge_method") != "S256" || get("code_challenge").is_empty() {
        return (StatusCode::BAD_REQUEST, "S256 PKCE required by this fake").into_response();
    }
    let separator = if get("redirect_uri").contains('?') {
        '&'
    } else {
        '?'
    };
    let state_param = urlencode(&get("state"));
    if std::mem::take(&mut zoom.deny) {
        return Redirect::to(&format!(
            "{}{separator}error=access_denied&state={state_param}",
            get("redirect_uri")
        ))
        .into_response();
    }
    zoom.counter += 1;
    let code = format!("code{}x{}", zoom.counter, "Zq".repeat(8));
    let user = zoom.user.clone();
    zoom.codes.insert(
        code.clone(),
        Code {
            user,
            client_id: get("client_id"),
            redirect_uri: get("redirect_uri"),
            challenge: get("code_challenge"),
            used: false,
        },
    );
    Redirect::to(&format!(
        "{}{separator}code={code}&state={state_param}",
        get("redirect_uri")
    ))
    .into_response()
}

fn urlencode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

fn issue(zoom: &mut Zoom, grant: Grant) -> Response {
    zoom.counter += 1;
    let access = format!("access{}Tk{}", zoom.counter, "a".repeat(20));
    let refresh = format!("refresh{}Tk{}", zoom.counter, "r".repeat(20));
    zoom.access_tokens.insert(access.clone(), grant.clone());
    zoom.refresh_tokens.insert(refresh.clone(), (true, grant));
    zoom.issued.push(access.clone());
    zoom.issued.push(refresh.clone());
    Json(json!({ "access_token": access, "token_type": "bearer", "refresh_token": refresh, "expires_in": 3599, "scope": "user:read" }))
        .into_response()
}

async fn token(
    State(state): State<Arc<Mutex<Zoom>>>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let authorization = authorization_of(&headers);
    let (mode, arrived, release) = {
        let mut zoom = state.lock().unwrap_or_else(PoisonError::into_inner);
        zoom.token_requests.push(TokenRequest {
            authorization: authorization.clone(),
            form: form.clone(),
        });
        (
            zoom.token_mode,
            Arc::clone(&zoom.arrived),
            Arc::clone(&zoom.release),
        )
    };
    match mode {
        TokenMode::ServerError => {
            return (StatusCode::BAD_GATEWAY, "<html>upstream error</html>").into_response()
        }
        TokenMode::Hang => std::future::pending::<()>().await,
        TokenMode::Held => {
            arrived.notify_one();
            release.notified().await;
        }
        TokenMode::Normal => {}
    }
    let mut zoom = state.lock().unwrap_or_else(PoisonError::into_inner);
    let Some(client_id) = client_of(&zoom, authorization.as_deref(), &form) else {
        return error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "Invalid client_id or client_secret",
        );
    };
    let get = |k: &str| form.get(k).cloned().unwrap_or_default();
    match get("grant_type").as_str() {
        "authorization_code" => {
            let Some(code) = zoom.codes.get_mut(&get("code")) else {
                return error(
                    StatusCode::BAD_REQUEST,
                    "invalid_grant",
                    "Invalid authorization code",
                );
            };
            // A code works once, whatever happens next.
            if std::mem::replace(&mut code.used, true) {
                return error(
                    StatusCode::BAD_REQUEST,
                    "invalid_grant",
                    "Invalid authorization code",
                );
            }
            let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
                .encode(Sha256::digest(get("code_verifier").as_bytes()));
            if code.client_id != client_id
                || code.redirect_uri != get("redirect_uri")
                || code.challenge != challenge
            {
                return error(
                    StatusCode::BAD_REQUEST,
                    "invalid_grant",
                    "Invalid authorization code",
                );
            }
            let grant = Grant {
                client_id,
                user: code.user.clone(),
            };
            issue(&mut zoom, grant)
        }
        "refresh_token" => {
            let grant = match zoom.refresh_tokens.get_mut(&get("refresh_token")) {
                // Rotation: a refresh token works once, and only for its own app.
                Some((valid, grant)) if *valid && grant.client_id == client_id => {
                    *valid = false;
                    grant.clone()
                }
                _ => return error(StatusCode::BAD_REQUEST, "invalid_grant", "Invalid Token!"),
            };
            issue(&mut zoom, grant)
        }
        _ => error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "Unsupported grant type",
        ),
    }
}

fn authorization_of(headers: &HeaderMap) -> Option<String> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// HTTP Basic with a registered app's id and secret (form-urlencoded first, as RFC 6749
/// says), and never the secret in the form: the app's id.
fn client_of(
    zoom: &Zoom,
    authorization: Option<&str>,
    form: &HashMap<String, String>,
) -> Option<String> {
    let decode = |text: &str| {
        url::form_urlencoded::parse(format!("x={text}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
    };
    authorization
        .and_then(|a| a.strip_prefix("Basic "))
        .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|pair| {
            let (id, secret) = pair.split_once(':')?;
            Some((decode(id)?, decode(secret)?))
        })
        .filter(|(id, secret)| zoom.clients.get(id) == Some(secret))
        .filter(|_| !form.contains_key("client_secret"))
        .map(|(id, _)| id)
}

async fn revoke(
    State(state): State<Arc<Mutex<Zoom>>>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let authorization = authorization_of(&headers);
    let mode = {
        let mut zoom = state.lock().unwrap_or_else(PoisonError::into_inner);
        zoom.revoke_requests.push(TokenRequest {
            authorization: authorization.clone(),
            form: form.clone(),
        });
        zoom.revoke_mode
    };
    match mode {
        TokenMode::ServerError => {
            return (StatusCode::SERVICE_UNAVAILABLE, "<html>try later</html>").into_response()
        }
        TokenMode::Hang => std::future::pending::<()>().await,
        TokenMode::Held | TokenMode::Normal => {}
    }
    let mut zoom = state.lock().unwrap_or_else(PoisonError::into_inner);
    let Some(client_id) = client_of(&zoom, authorization.as_deref(), &form) else {
        return error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "Invalid client_id or client_secret",
        );
    };
    let token = form.get("token").cloned().unwrap_or_default();
    let grant = zoom.access_tokens.get(&token).cloned().or_else(|| {
        zoom.refresh_tokens
            .get(&token)
            .filter(|(valid, _)| *valid)
            .map(|(_, grant)| grant.clone())
    });
    let Some(grant) = grant.filter(|g| g.client_id == client_id) else {
        return error(StatusCode::BAD_REQUEST, "invalid_request", "Invalid Token!");
    };
    // Zoom's revoke removes the app for that user: every token of the pair stops working.
    zoom.access_tokens.retain(|_, g| *g != grant);
    zoom.refresh_tokens
        .values_mut()
        .filter(|(_, g)| *g == grant)
        .for_each(|(valid, _)| *valid = false);
    Json(json!({ "status": "success" })).into_response()
}

async fn me(State(state): State<Arc<Mutex<Zoom>>>, headers: HeaderMap) -> Response {
    let mut zoom = state.lock().unwrap_or_else(PoisonError::into_inner);
    let authorization = authorization_of(&headers);
    zoom.userinfo_requests.push(authorization.clone());
    let token = authorization
        .as_deref()
        .and_then(|a| a.strip_prefix("Bearer "))
        .unwrap_or_default();
    let user = match zoom.access_tokens.get(token) {
        Some(grant) if !zoom.reject_userinfo => grant.user.clone(),
        _ => {
            return (
                StatusCode::UNAUTHORIZED,
                Json(json!({ "code": 124, "message": "Invalid access token." })),
            )
                .into_response()
        }
    };
    let email = if user == "zoomuser1" {
        "owner@example.com".to_owned()
    } else {
        format!("{user}@example.com")
    };
    Json(json!({ "id": user, "email": email, "account_id": "acct42", "first_name": "Olive", "last_name": "Owner" }))
        .into_response()
}
