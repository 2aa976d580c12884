//! Every way a redirect can end, with what to tell the person: on the page and in
//! their private message alike.

use super::page::Page;
use crate::domain::{Backend, UserId};
use crate::words::counted;
use axum::http::StatusCode;

/// What remains to do in integrator.io after a `direct` switch (from Celigo's article).
pub const FINISH_IN_INTEGRATOR_IO: &str = "In integrator.io: Resources › Connections › the connection's ⋯ › Edit connection › \
     Authentication type: OAuth 2.0 › + to create an iClient with the same client ID and secret › Save & authorize.";

/// The end of most pages that say nothing was changed.
const RUN_MIGRATE_AGAIN: &str = "Run /migrate again for a new link.";

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

    /// The page the redirect ends on; the private message says the same.
    pub fn page(&self) -> Page {
        match self {
            Outcome::Switched {
                connection,
                left,
                backend,
            } => switched(connection, *left, *backend),
            Outcome::UnknownLink
            | Outcome::UsedLink
            | Outcome::ReplacedLink
            | Outcome::ReassignedLink { .. }
            | Outcome::ExpiredLink => self.link_page(),
            Outcome::Denied
            | Outcome::ProviderError(_)
            | Outcome::InvalidClient
            | Outcome::InvalidGrant
            | Outcome::TokenEndpointUnavailable
            | Outcome::VerificationFailed => self.zoom_page(),
            Outcome::CeligoUnavailable(_)
            | Outcome::NotAuthorizedInTime
            | Outcome::ChangedInCeligo
            | Outcome::StillChecking
            | Outcome::NotWatched => self.celigo_page(),
            Outcome::Internal => Page {
                status: StatusCode::INTERNAL_SERVER_ERROR,
                title: "Something went wrong on cutover's side".to_owned(),
                body: "The switch could not be completed, and the connection was not changed.".to_owned(),
                next: "Try again in a moment; if it keeps happening, an admin can find the details in cutover's log.".to_owned(),
            },
        }
    }

    /// The link itself ended the redirect: not ours, used, replaced, reassigned, expired.
    fn link_page(&self) -> Page {
        match self {
            Outcome::UnknownLink => Page {
                status: StatusCode::BAD_REQUEST,
                title: "This is not a link cutover gave out".to_owned(),
                body: "The address is incomplete or was not made by cutover, so nothing was changed.".to_owned(),
                next: "Run /migrate in Discord (or the terminal) to get your personal link.".to_owned(),
            },
            Outcome::UsedLink => Page {
                status: StatusCode::CONFLICT,
                title: "This link was already used".to_owned(),
                body: "Each link works once, and this one has been used.".to_owned(),
                next: "Check /migration status. If the switch did not finish, press \"Get a fresh link\" or run /migrate again."
                    .to_owned(),
            },
            Outcome::ReplacedLink => Page {
                status: StatusCode::GONE,
                title: "This link was replaced by a newer one".to_owned(),
                body: "A fresh link was made after this one, so this one no longer works. Nothing was changed.".to_owned(),
                next: "Use the newest link in your private message from cutover.".to_owned(),
            },
            Outcome::ReassignedLink { connection, owner } => Page {
                status: StatusCode::GONE,
                title: format!("This link no longer works: {connection} was reassigned"),
                body: format!(
                    "The owner of {connection} changed after this link was made, so the link was ended. Nothing was changed."
                ),
                next: match owner {
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
            },
            Outcome::ExpiredLink => Page {
                status: StatusCode::GONE,
                title: "This link has expired".to_owned(),
                body: "Links work for a few minutes only, to keep them safe. Nothing was changed.".to_owned(),
                next: format!("Press \"Get a fresh link\" under your /migrate answer. {RUN_MIGRATE_AGAIN}"),
            },
            _ => unreachable!("page() sends only the link's own outcomes here"),
        }
    }

    /// Zoom's answer ended it: access declined, an error, refused credentials or
    /// authorization, no answer, or a token that did not work.
    fn zoom_page(&self) -> Page {
        match self {
            Outcome::Denied => Page {
                status: StatusCode::OK,
                title: "You did not allow access in Zoom".to_owned(),
                body: "Zoom says access was declined, so nothing was changed.".to_owned(),
                next: format!("To switch the connection, {} and choose Allow.", "run /migrate again"),
            },
            Outcome::ProviderError(code) => Page {
                status: StatusCode::BAD_GATEWAY,
                title: "Zoom reported a problem".to_owned(),
                body: format!("Zoom sent the person back with the error \"{code}\", so nothing was changed."),
                next: format!("Check the OAuth app in the Zoom App Marketplace (redirect URL, allow list, scopes). {RUN_MIGRATE_AGAIN}"),
            },
            Outcome::InvalidClient => Page {
                status: StatusCode::BAD_REQUEST,
                title: "Zoom refused the client ID or secret".to_owned(),
                body: "Zoom did not accept the app's credentials (invalid_client), so nothing was changed.".to_owned(),
                next: "Check the client secret and run /migrate again.".to_owned(),
            },
            Outcome::InvalidGrant => Page {
                status: StatusCode::BAD_REQUEST,
                title: "Zoom refused the authorization".to_owned(),
                body: "Zoom did not accept the authorization code (invalid_grant): it may have expired, or the redirect URL in the app may not match exactly. Nothing was changed."
                    .to_owned(),
                next: format!("Check the app's redirect URL. {RUN_MIGRATE_AGAIN}"),
            },
            Outcome::TokenEndpointUnavailable => Page {
                status: StatusCode::BAD_GATEWAY,
                title: "Zoom did not answer properly".to_owned(),
                body: "Zoom's token service timed out or failed, so nothing was changed.".to_owned(),
                next: format!("Try again in a few minutes: {RUN_MIGRATE_AGAIN}"),
            },
            Outcome::VerificationFailed => Page {
                status: StatusCode::BAD_GATEWAY,
                title: "The new token did not work".to_owned(),
                body: "Zoom gave a token, but it failed when cutover checked it, so the connection was not switched.".to_owned(),
                next: format!("Check the app's scopes in the Zoom App Marketplace. {RUN_MIGRATE_AGAIN}"),
            },
            _ => unreachable!("page() sends only Zoom's outcomes here"),
        }
    }

    /// `celigo`: integrator.io's side ended it, or the person is back from it.
    fn celigo_page(&self) -> Page {
        match self {
            Outcome::CeligoUnavailable(why) => Page {
                status: StatusCode::BAD_GATEWAY,
                title: "integrator.io did not say where to authorize".to_owned(),
                body: format!("cutover asked integrator.io for the address to authorize the connection at: {why}"),
                next: "Your link was not used up: open it again in a minute.".to_owned(),
            },
            Outcome::NotAuthorizedInTime => Page {
                status: StatusCode::OK,
                title: "The authorization was not completed".to_owned(),
                body: "cutover watched the connection until your link's time ran out, and integrator.io never reported it \
                 working. It stays on OAuth 2.0 in integrator.io, awaiting authorization."
                    .to_owned(),
                next: "Press \"Get a fresh link\", or run /migrate again (new credentials are fine).".to_owned(),
            },
            Outcome::ChangedInCeligo => Page {
                status: StatusCode::CONFLICT,
                title: "Someone changed the connection in integrator.io".to_owned(),
                body: "It no longer uses the iClient cutover created for you, so cutover stopped watching it. Nothing more was changed."
                    .to_owned(),
                next: "Check the connection in integrator.io, then run /migrate again if it still needs switching.".to_owned(),
            },
            Outcome::StillChecking => Page {
                status: StatusCode::OK,
                title: "Thanks: cutover is checking the connection".to_owned(),
                body: "integrator.io sent you back; cutover is confirming that the connection works with the new token.".to_owned(),
                next: "Your private message from cutover will say when it is done. You can close this page.".to_owned(),
            },
            Outcome::NotWatched => Page {
                status: StatusCode::OK,
                title: "cutover is not waiting for this connection".to_owned(),
                body: "No personal link for it is open right now: it was not opened, ran out, or was replaced.".to_owned(),
                next: "Check /migration status; to authorize it, press \"Get a fresh link\" or run /migrate again.".to_owned(),
            },
            _ => unreachable!("page() sends only integrator.io's outcomes here"),
        }
    }

    /// Whether what to do next is "Get a fresh link": the private answer then keeps it.
    pub fn offers_fresh_link(&self) -> bool {
        matches!(self, Outcome::ExpiredLink | Outcome::NotAuthorizedInTime)
    }

    /// The same, as the private message says it.
    pub fn message(&self) -> String {
        let Page {
            title, body, next, ..
        } = self.page();
        let mark = if matches!(self, Outcome::Switched { .. }) {
            "✅"
        } else {
            "⚠️"
        };
        format!("{mark} **{title}**\n{body}\n{next}")
    }
}

/// The switch went through: done, and what is left (in integrator.io too, after `direct`).
fn switched(connection: &str, left: u64, backend: Backend) -> Page {
    match backend {
            Backend::Direct => Page {
                status: StatusCode::OK,
                title: format!("Done: {connection} is on OAuth 2.0"),
                body: "cutover checked the new token with Zoom and keeps it, sealed. This was the direct switch: the \
                 connection in integrator.io was not changed."
                    .to_owned(),
                next: format!(
                    "One step is left. {FINISH_IN_INTEGRATOR_IO} {} left to switch.",
                    counted(left, "connection", "connections")
                ),
            },
            Backend::Celigo => Page {
                status: StatusCode::OK,
                title: format!("Done: {connection} is on OAuth 2.0 in integrator.io"),
                body: "integrator.io holds the new token and the connection passes its test (ping). cutover has recorded the switch."
                    .to_owned(),
                next: format!(
                    "You can close this page. {} left to switch.",
                    counted(left, "connection", "connections")
                ),
            },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `page` hands each outcome to the part that words it: every one gets a page.
    #[test]
    fn every_outcome_has_a_page() {
        let connection = "z1".to_owned();
        let all = [
            Outcome::Switched {
                connection: connection.clone(),
                left: 2,
                backend: Backend::Direct,
            },
            Outcome::Switched {
                connection: connection.clone(),
                left: 1,
                backend: Backend::Celigo,
            },
            Outcome::UnknownLink,
            Outcome::UsedLink,
            Outcome::ReplacedLink,
            Outcome::ReassignedLink {
                connection: connection.clone(),
                owner: None,
            },
            Outcome::ExpiredLink,
            Outcome::Denied,
            Outcome::ProviderError("server_error".to_owned()),
            Outcome::InvalidClient,
            Outcome::InvalidGrant,
            Outcome::TokenEndpointUnavailable,
            Outcome::VerificationFailed,
            Outcome::CeligoUnavailable("it did not answer".to_owned()),
            Outcome::NotAuthorizedInTime,
            Outcome::ChangedInCeligo,
            Outcome::StillChecking,
            Outcome::NotWatched,
            Outcome::Internal,
        ];
        for outcome in &all {
            let page = outcome.page();
            assert!(
                !page.title.is_empty() && !page.body.is_empty() && !page.next.is_empty(),
                "{outcome:?}"
            );
            assert!(outcome.message().contains(&page.title), "{outcome:?}");
        }
    }
}
