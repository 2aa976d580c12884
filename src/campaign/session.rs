//! The session cookie: set by opening a sign-in link, checked on every request, ended
//! by sign-out. The cookie holds only the session's random token.

use super::frame::{self, NoSession, Notice};
use super::Campaign;
use crate::domain::Actor;
use crate::sign_in::SignInError;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use std::sync::Arc;

const COOKIE: &str = "cutover_session";

/// Who is looking, by their session.
#[derive(Debug, Clone, Copy)]
pub(super) struct Viewer {
    pub actor: Actor,
}

/// The session token the request's cookie carries, if any.
fn cookie_token(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|pair| {
            let (name, value) = pair.trim().split_once('=')?;
            (name == COOKIE).then_some(value)
        })
}

impl Campaign {
    /// The viewer, while their session lasts.
    pub(super) async fn viewer(&self, headers: &HeaderMap) -> Result<Viewer, Response> {
        let Some(token) = cookie_token(headers) else {
            return Err(self.no_session(NoSession::SignedOut));
        };
        match self.sign_ins.session(token).await {
            Ok(Some(actor)) => Ok(Viewer { actor }),
            Ok(None) => Err(self.no_session(NoSession::Ended)),
            Err(e) => {
                tracing::warn!(error = %e, "could not read a campaign-page session");
                Err(frame::notice_response(
                    StatusCode::SERVICE_UNAVAILABLE,
                    &Notice::unavailable(),
                ))
            }
        }
    }

    fn no_session(&self, why: NoSession) -> Response {
        let mut response =
            frame::notice_response(StatusCode::UNAUTHORIZED, &Notice::sign_in_first(why));
        if let Ok(clear) = HeaderValue::from_str(&self.cookie("", 0)) {
            response.headers_mut().insert(header::SET_COOKIE, clear);
        }
        response
    }

    /// The cookie: only for cutover's page paths, never for scripts, never sent with
    /// requests from other sites' forms.
    fn cookie(&self, value: &str, max_age: u64) -> String {
        let secure = if self.secure_cookie { "; Secure" } else { "" };
        format!("{COOKIE}={value}; Path=/status; Max-Age={max_age}; HttpOnly; SameSite=Lax{secure}")
    }
}

#[derive(Deserialize)]
pub(super) struct SignInQuery {
    token: Option<String>,
}

/// Opens a sign-in link: a session for its person, then the page (the token leaves the
/// address bar at once).
pub(super) async fn sign_in(
    State(campaign): State<Arc<Campaign>>,
    Query(query): Query<SignInQuery>,
) -> Response {
    let token = query.token.unwrap_or_default();
    match campaign.sign_ins.sign_in(&token).await {
        Ok((session, _)) => {
            let cookie = campaign.cookie(
                session.as_str(),
                campaign.sign_ins.session_ttl().as_seconds(),
            );
            match HeaderValue::from_str(&cookie) {
                Ok(cookie) => {
                    let mut response = Redirect::to("/status").into_response();
                    response.headers_mut().insert(header::SET_COOKIE, cookie);
                    response
                }
                Err(_) => frame::notice_response(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    &Notice::unavailable(),
                ),
            }
        }
        Err(SignInError::Store(e)) => {
            tracing::warn!(error = %e, "could not open a campaign-page session");
            frame::notice_response(StatusCode::SERVICE_UNAVAILABLE, &Notice::unavailable())
        }
        Err(refused) => frame::notice_response(StatusCode::GONE, &Notice::link_refused(&refused)),
    }
}

/// Ends the session on the server, whatever the browser does with its cookie.
pub(super) async fn sign_out(
    State(campaign): State<Arc<Campaign>>,
    headers: HeaderMap,
) -> Response {
    if let Some(token) = cookie_token(&headers) {
        if let Err(e) = campaign.sign_ins.sign_out(token).await {
            tracing::warn!(error = %e, "could not end a campaign-page session");
            return frame::notice_response(StatusCode::SERVICE_UNAVAILABLE, &Notice::unavailable());
        }
    }
    let mut response = frame::notice_response(StatusCode::OK, &Notice::signed_out());
    if let Ok(clear) = HeaderValue::from_str(&campaign.cookie("", 0)) {
        response.headers_mut().insert(header::SET_COOKIE, clear);
    }
    response
}
