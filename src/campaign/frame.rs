//! The page around every answer: the head with the one stylesheet and script, the
//! header with who is signed in, and the one-message notices (sign in first, a link that
//! does not work, signed out) that show nothing of the campaign.

use super::assets::{asset_url, Asset};
use crate::sign_in::SignInError;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use maud::{html, Markup, DOCTYPE};

/// Why there is no viewer: no cookie at all, or one that no longer opens anything.
pub(super) enum NoSession {
    SignedOut,
    Ended,
}

pub(super) fn html_response(status: StatusCode, markup: Markup) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        markup.into_string(),
    )
        .into_response()
}

/// A page that says one thing and what to do next, with no campaign data.
pub(super) struct Notice {
    title: &'static str,
    text: String,
    next: &'static str,
}

const GET_A_LINK: &str =
    "Run /status in the team's Discord server (or type /status at cutover's terminal) \
                          for a personal sign-in link, then open it in this browser.";

impl Notice {
    pub fn sign_in_first(why: NoSession) -> Self {
        Self {
            title: "Sign in to see the campaign",
            text: match why {
                NoSession::SignedOut => {
                    "This page shows the team's Zoom OAuth cutover to the people in it, \
                                         so it needs a sign-in."
                }
                NoSession::Ended => {
                    "Your sign-in has ended (it expired, you signed out, or cutover's key \
                                     was changed)."
                }
            }
            .to_owned(),
            next: GET_A_LINK,
        }
    }

    pub fn link_refused(why: &SignInError) -> Self {
        Self {
            title: "This sign-in link does not work",
            text: format!(
                "{why}: a sign-in link works once, for a few minutes, and only as cutover gave it out."
            ),
            next: GET_A_LINK,
        }
    }

    pub fn signed_out() -> Self {
        Self {
            title: "Signed out",
            text:
                "Your session has ended on the server; this browser can no longer see the campaign."
                    .to_owned(),
            next: GET_A_LINK,
        }
    }

    pub fn unavailable() -> Self {
        Self {
            title: "The campaign cannot be shown just now",
            text: "cutover could not read its database.".to_owned(),
            next: "Try again in a minute; if it goes on, an operator can look at /readyz and cutover's log.",
        }
    }

    pub fn no_connection() -> Self {
        Self {
            title: "No such connection",
            text: "There is no connection with that id in the inventory.".to_owned(),
            next: "Go back to the campaign page and choose one from the table.",
        }
    }
}

pub(super) fn notice_response(status: StatusCode, notice: &Notice) -> Response {
    let body = html! {
        section.notice {
            h2 { (notice.title) }
            p { (notice.text) }
            p.next { (notice.next) }
        }
    };
    html_response(status, layout(notice.title, None, body))
}

/// Every page around its body; `signed_in`: who is looking, as the page names them.
pub(super) fn layout(title: &str, signed_in: Option<&str>, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="color-scheme" content="light dark";
                title { (title) " · cutover" }
                link rel="icon" type="image/svg+xml" href=(asset_url(Asset::Icon));
                link rel="stylesheet" href=(asset_url(Asset::Style));
                script src=(asset_url(Asset::Script)) defer {}
            }
            body {
                header.top {
                    p.brand { a href="/status" { "cutover" } " · Zoom JWT → OAuth 2.0" }
                    @if let Some(name) = signed_in {
                        form.signout method="post" action="/status/sign-out" {
                            span { "Signed in as " strong { (name) } }
                            " "
                            button type="submit" { "Sign out" }
                        }
                    }
                }
                main id="campaign" data-events=[signed_in.map(|_| "/status/events")] {
                    (body)
                }
            }
        }
    }
}
