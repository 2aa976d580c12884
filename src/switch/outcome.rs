//! Every way a redirect can end, with what to tell the person: on the page and in
//! their private message alike.

use super::page::Page;
use crate::domain::{Backend, UserId};
use crate::words::counted;
use axum::http::StatusCode;

/// What remains to do in integrator.io after a `direct` switch (from Celigo's article).
pub const FINISH_IN_INTEGRATOR_IO: &str = "In integrator.io: Resources › Connections › the connection's ⋯ › Edit connection › \
     Authentication type: OAuth 2.0 › + to create an iClient with the same client ID and secret › Save & authorize.";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Switched {
        connection: String,
        left: u64,
        backend: Backend,
    },
    UnknownLink,
    UsedLink,
    ReplacedLink,
    /// The connection changed owner after the link was made, which ended it.
    ReassignedLink {
        connection: String,
        owner: Option<UserId>,
    },
    ExpiredLink,
    Denied,
    /// Another error Zoom sent back in the redirect (only its code, checked to be a word).
    ProviderError(String),
    InvalidClient,
    InvalidGrant,
    TokenEndpointUnavailable,
    VerificationFailed,
    /// `celigo`: integrator.io could not say where to authorize (why, in plain words).
    CeligoUnavailable(String),
    /// `celigo`: the watch ended without integrator.io reporting the connection working.
    NotAuthorizedInTime,
    /// `celigo`: the connection stopped using the iClient cutover created.
    ChangedInCeligo,
    /// `celigo`: back from integrator.io; the check is still running.
    StillChecking,
    /// `celigo`: back from integrator.io, but no link of this connection is open.
    NotWatched,
    Internal,
}

impl Outcome {
    /// A fixed name for /metrics (never the provider's own error text).
    pub fn label(&self) -> &'static str {
        match self {
            Outcome::Switched { .. } => "switched",
            Outcome::UnknownLink => "unknown_link",
            Outcome::UsedLink => "used_link",
            Outcome::ReplacedLink => "replaced_link",
            Outcome::ReassignedLink { .. } => "reassigned_link",
            Outcome::ExpiredLink => "expired_link",
            Outcome::Denied => "denied",
            Outcome::ProviderError(_) => "provider_error",
            Outcome::InvalidClient => "invalid_client",
            Outcome::InvalidGrant => "invalid_grant",
            Outcome::TokenEndpointUnavailable => "token_endpoint_unavailable",
            Outcome::VerificationFailed => "verification_failed",
            Outcome::CeligoUnavailable(_) => "celigo_unavailable",
            Outcome::NotAuthorizedInTime => "not_authorized_in_time",
            Outcome::ChangedInCeligo => "changed_in_celigo",
            Outcome::StillChecking => "still_checking",
            Outcome::NotWatched => "not_watched",
            Outcome::Internal => "internal",
        }
    }

    fn parts(&self) -> (StatusCode, String, String, String) {
        let again = "Run /migrate again for a new link.";
        match self {
            Outcome::Switched {
                connection,
                left,
                backend: Backend::Direct,
            } => (
                StatusCode::OK,
                format!("Done: {connection} is on OAuth 2.0"),
                "cutover checked the new token with Zoom and keeps it, sealed. This was the direct switch: the \
                 connection in integrator.io was not changed."
                    .to_owned(),
                format!(
                    "One step is left. {FINISH_IN_INTEGRATOR_IO} {} left to switch.",
                    counted(*left, "connection", "connections")
                ),
            ),
            Outcome::Switched {
                connection,
                left,
                backend: Backend::Celigo,
            } => (
                StatusCode::OK,
                format!("Done: {connection} is on OAuth 2.0 in integrator.io"),
                "integrator.io holds the new token and the connection passes its test (ping). cutover has recorded the switch."
                    .to_owned(),
                format!(
                    "You can close this page. {} left to switch.",
                    counted(*left, "connection", "connections")
                ),
            ),
            Outcome::UnknownLink => (
                StatusCode::BAD_REQUEST,
                "This is not a link cutover gave out".to_owned(),
                "The address is incomplete or was not made by cutover, so nothing was changed.".to_owned(),
                "Run /migrate in Discord (or the terminal) to get your personal link.".to_owned(),
            ),
            Outcome::UsedLink => (
                StatusCode::CONFLICT,
                "This link was already used".to_owned(),
                "Each link works once, and this one has been used.".to_owned(),
                "Check /migration status. If the switch did not finish, press \"Get a fresh link\" or run /migrate again."
                    .to_owned(),
            ),
            Outcome::ReplacedLink => (
                StatusCode::GONE,
                "This link was replaced by a newer one".to_owned(),
                "A fresh link was made after this one, so this one no longer works. Nothing was changed.".to_owned(),
                "Use the newest link in your private message from cutover.".to_owned(),
            ),
            Outcome::ReassignedLink { connection, owner } => (
                StatusCode::GONE,
                format!("This link no longer works: {connection} was reassigned"),
                format!(
                    "The owner of {connection} changed after this link was made, so the link was ended. Nothing was changed."
                ),
                match owner {
                    // A page knows no Discord names: the id, and where Discord shows the name.
                    Some(owner) => format!(
                        "It now belongs to Discord user {owner} (/migration status connection:{connection} in Discord \
                         shows who that is): ask them, or an admin, whether you should still switch it."
                    ),
                    None => format!(
                        "It has no owner now: ask an admin (/migration status connection:{connection} in Discord \
                         shows its history)."
                    ),
                },
            ),
            Outcome::ExpiredLink => (
                StatusCode::GONE,
                "This link has expired".to_owned(),
                "Links work for a few minutes only, to keep them safe. Nothing was changed.".to_owned(),
                format!("Press \"Get a fresh link\" under your /migrate answer. {again}"),
            ),
            Outcome::Denied => (
                StatusCode::OK,
                "You did not allow access in Zoom".to_owned(),
                "Zoom says access was declined, so nothing was changed.".to_owned(),
                format!("To switch the connection, {} and choose Allow.", "run /migrate again"),
            ),
            Outcome::ProviderError(code) => (
                StatusCode::BAD_GATEWAY,
                "Zoom reported a problem".to_owned(),
                format!("Zoom sent the person back with the error \"{code}\", so nothing was changed."),
                format!("Check the OAuth app in the Zoom App Marketplace (redirect URL, allow list, scopes). {again}"),
            ),
            Outcome::InvalidClient => (
                StatusCode::BAD_REQUEST,
                "Zoom refused the client ID or secret".to_owned(),
                "Zoom did not accept the app's credentials (invalid_client), so nothing was changed.".to_owned(),
                "Check the client secret and run /migrate again.".to_owned(),
            ),
            Outcome::InvalidGrant => (
                StatusCode::BAD_REQUEST,
                "Zoom refused the authorization".to_owned(),
                "Zoom did not accept the authorization code (invalid_grant): it may have expired, or the redirect URL in the app may not match exactly. Nothing was changed."
                    .to_owned(),
                format!("Check the app's redirect URL. {again}"),
            ),
            Outcome::TokenEndpointUnavailable => (
                StatusCode::BAD_GATEWAY,
                "Zoom did not answer properly".to_owned(),
                "Zoom's token service timed out or failed, so nothing was changed.".to_owned(),
                format!("Try again in a few minutes: {again}"),
            ),
            Outcome::VerificationFailed => (
                StatusCode::BAD_GATEWAY,
                "The new token did not work".to_owned(),
                "Zoom gave a token, but it failed when cutover checked it, so the connection was not switched.".to_owned(),
                format!("Check the app's scopes in the Zoom App Marketplace. {again}"),
            ),
            Outcome::CeligoUnavailable(why) => (
                StatusCode::BAD_GATEWAY,
                "integrator.io did not say where to authorize".to_owned(),
                format!("cutover asked integrator.io for the address to authorize the connection at: {why}"),
                "Your link was not used up: open it again in a minute.".to_owned(),
            ),
            Outcome::NotAuthorizedInTime => (
                StatusCode::OK,
                "The authorization was not completed".to_owned(),
                "cutover watched the connection until your link's time ran out, and integrator.io never reported it \
                 working. It stays on OAuth 2.0 in integrator.io, awaiting authorization."
                    .to_owned(),
                "Press \"Get a fresh link\", or run /migrate again (new credentials are fine).".to_owned(),
            ),
            Outcome::ChangedInCeligo => (
                StatusCode::CONFLICT,
                "Someone changed the connection in integrator.io".to_owned(),
                "It no longer uses the iClient cutover created for you, so cutover stopped watching it. Nothing more was changed."
                    .to_owned(),
                "Check the connection in integrator.io, then run /migrate again if it still needs switching.".to_owned(),
            ),
            Outcome::StillChecking => (
                StatusCode::OK,
                "Thanks: cutover is checking the connection".to_owned(),
                "integrator.io sent you back; cutover is confirming that the connection works with the new token.".to_owned(),
                "Your private message from cutover will say when it is done. You can close this page.".to_owned(),
            ),
            Outcome::NotWatched => (
                StatusCode::OK,
                "cutover is not waiting for this connection".to_owned(),
                "No personal link for it is open right now: it was not opened, ran out, or was replaced.".to_owned(),
                "Check /migration status; to authorize it, press \"Get a fresh link\" or run /migrate again.".to_owned(),
            ),
            Outcome::Internal => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "Something went wrong on cutover's side".to_owned(),
                "The switch could not be completed, and the connection was not changed.".to_owned(),
                "Try again in a moment; if it keeps happening, an admin can find the details in cutover's log.".to_owned(),
            ),
        }
    }

    /// Whether what to do next is "Get a fresh link": the private answer then keeps it.
    pub fn offers_fresh_link(&self) -> bool {
        matches!(self, Outcome::ExpiredLink | Outcome::NotAuthorizedInTime)
    }

    pub fn page(&self) -> Page {
        let (status, title, body, next) = self.parts();
        Page {
            status,
            title,
            body,
            next,
        }
    }

    /// The same, as the private message says it.
    pub fn message(&self) -> String {
        let (_, title, body, next) = self.parts();
        let mark = if matches!(self, Outcome::Switched { .. }) {
            "✅"
        } else {
            "⚠️"
        };
        format!("{mark} **{title}**\n{body}\n{next}")
    }
}
