//! `GET /oauth/zoom/callback`: the redirect that completes the switch.

use super::zoom;
use crate::domain::{Actor, Backend};
use crate::store::{retried, Attempt, NotConsumed};
use crate::switch::{
    attempt_identity, hash_state, token_identity, Outcome, Sealer, Switch, SwitchEvent,
};
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use secrecy::SecretString;
use serde::Deserialize;
use std::sync::Arc;

pub const PATH: &str = "/oauth/zoom/callback";

#[derive(Deserialize, Default)]
pub struct CallbackParams {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

pub fn router(switch: Arc<Switch>) -> Router {
    Router::new().route(PATH, get(callback)).with_state(switch)
}

// The query holds the code and state: it is never logged.
#[tracing::instrument(skip_all)]
async fn callback(
    State(switch): State<Arc<Switch>>,
    query: Result<Query<CallbackParams>, axum::extract::rejection::QueryRejection>,
) -> Response {
    // A malformed query is just a link cutover did not make.
    let params = query.map(|Query(p)| p).unwrap_or_default();
    let switch_for_work = Arc::clone(&switch);
    // The work runs to its end even if the browser goes away mid-exchange, so an attempt
    // is never left half done.
    let outcome = tokio::spawn(async move { switch_for_work.complete(params).await })
        .await
        .unwrap_or(Outcome::Internal);
    outcome.page().into_response()
}

impl Switch {
    /// Runs the redirect to its outcome; telling people happens afterwards, in the
    /// background, so the page never waits on Discord.
    pub async fn complete(self: &Arc<Self>, params: CallbackParams) -> Outcome {
        let Some(state) = params.state.filter(|s| !s.is_empty() && s.len() <= 256) else {
            return Outcome::UnknownLink;
        };
        let attempt = match self
            .store
            .consume_attempt(&hash_state(&state), Backend::Direct, self.clock.now(), None)
            .await
        {
            Ok(Ok(attempt)) => attempt,
            Ok(Err(NotConsumed::Unknown)) => return Outcome::UnknownLink,
            Ok(Err(NotConsumed::AlreadyUsed)) => return Outcome::UsedLink,
            Ok(Err(NotConsumed::Replaced)) => return Outcome::ReplacedLink,
            Ok(Err(NotConsumed::Reassigned { connection, owner })) => {
                return Outcome::ReassignedLink {
                    connection: connection.to_string(),
                    owner,
                }
            }
            Ok(Err(NotConsumed::Expired(attempt))) => {
                self.tell_later(*attempt, Outcome::ExpiredLink);
                return Outcome::ExpiredLink;
            }
            Err(e) => {
                tracing::error!(error = %e, "could not read a migration attempt");
                return Outcome::Internal;
            }
        };
        let outcome = match (params.error, params.code) {
            (Some(error), _) if error == "access_denied" => Outcome::Denied,
            (Some(error), _) => {
                let code: String = error
                    .chars()
                    .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .take(40)
                    .collect();
                Outcome::ProviderError(code)
            }
            (None, Some(code)) if !code.is_empty() => self.exchange(&attempt, &code).await,
            // Zoom always sends a code or an error; neither is not a usable answer.
            (None, _) => Outcome::ProviderError("no_code".to_owned()),
        };
        let actor = attempt.actor;
        if !matches!(outcome, Outcome::Switched { .. }) {
            let why = format!("{outcome:?}");
            if let Err(e) = self
                .store
                .fail_attempt(&attempt, &why, actor, self.clock.now())
                .await
            {
                tracing::error!(error = %e, "could not close a failed attempt");
            }
            tracing::info!(connection = %attempt.connection, outcome = %why, "a switch did not complete");
        }
        // A stale exchange whose link was replaced leaves the person's message alone: it
        // may show the newer link by now.
        if outcome != Outcome::ReplacedLink {
            self.tell_later(attempt, outcome.clone());
        }
        outcome
    }

    /// Tells people in the background, so a page never waits on Discord.
    pub fn tell_later(self: &Arc<Self>, attempt: Attempt, outcome: Outcome) {
        self.count_outcome(&attempt, &outcome);
        let this = Arc::clone(self);
        tokio::spawn(async move { this.tell(&attempt, &outcome).await });
    }

    /// Whether the person made a newer attempt for the connection since `attempt`. A
    /// switch voids every other link, so its news is never stale; on a store error the
    /// message is left alone, as it may show the newer link.
    async fn superseded(&self, attempt: &Attempt, outcome: &Outcome) -> bool {
        if matches!(outcome, Outcome::Switched { .. }) {
            return false;
        }
        self.store
            .newer_attempt_exists(attempt)
            .await
            .unwrap_or_else(|e| {
                tracing::warn!(error = %e, "could not check for a newer link; the private message is left as it is");
                true
            })
    }

    /// Code for tokens, then kept.
    async fn exchange(&self, attempt: &Attempt, code: &str) -> Outcome {
        let Some(sealer) = &self.sealer else {
            return Outcome::Internal;
        };
        let (Some(sealed_secret), Some(sealed_verifier)) =
            (&attempt.client_secret_sealed, &attempt.pkce_verifier_sealed)
        else {
            return Outcome::Internal;
        };
        let opened = sealer
            .open(
                sealed_secret,
                &attempt_identity(&attempt.state_hash, "client_secret"),
            )
            .and_then(|secret| {
                sealer
                    .open(
                        sealed_verifier,
                        &attempt_identity(&attempt.state_hash, "pkce_verifier"),
                    )
                    .map(|verifier| (secret, verifier))
            });
        let Ok((secret, verifier)) = opened else {
            tracing::error!(connection = %attempt.connection, "a sealed credential did not open (was the sealing key changed?)");
            return Outcome::Internal;
        };
        let tokens = match self
            .zoom
            .exchange_code(&attempt.client_id, &secret, code, &verifier)
            .await
        {
            Ok(tokens) => tokens,
            Err(zoom::TokenError::InvalidClient) => return Outcome::InvalidClient,
            Err(zoom::TokenError::InvalidGrant) => return Outcome::InvalidGrant,
            Err(e) => {
                tracing::warn!(connection = %attempt.connection, error = %e, "the code exchange failed");
                return Outcome::TokenEndpointUnavailable;
            }
        };
        self.keep(sealer, attempt, &secret, tokens).await
    }

    /// Fresh tokens verified, then the switch in one transaction. Zoom holds a live grant
    /// for them: every way out that does not store them lets them go.
    async fn keep(
        &self,
        sealer: &Sealer,
        attempt: &Attempt,
        secret: &SecretString,
        tokens: zoom::Tokens,
    ) -> Outcome {
        let identity = match self.zoom.verify(&tokens.access).await {
            Ok(identity) => identity,
            Err(e) => {
                tracing::warn!(connection = %attempt.connection, error = %e, "the new token failed verification");
                let reason = "the new token failed verification";
                self.let_go(sealer, attempt, secret, &tokens, None, reason)
                    .await;
                return Outcome::VerificationFailed;
            }
        };
        let user = Some(identity.user_id.as_str());
        let sealed = self.seal_tokens(sealer, &attempt.connection, &tokens);
        let secret_for_refresh = sealer.seal(
            secrecy::ExposeSecret::expose_secret(secret),
            &token_identity(&attempt.connection, "client_secret"),
        );
        let (Ok(sealed), Ok(secret_sealed)) = (sealed, secret_for_refresh) else {
            let reason = "the new token could not be sealed";
            self.let_go(sealer, attempt, secret, &tokens, user, reason)
                .await;
            return Outcome::Internal;
        };
        let switched = retried("recording a switch", || {
            self.store.complete_switch(
                attempt,
                &secret_sealed,
                &sealed,
                &identity,
                attempt.actor,
                self.clock.now(),
            )
        })
        .await;
        match switched {
            Ok(Some(done)) => {
                tracing::info!(connection = %attempt.connection, "switched to OAuth 2.0");
                Outcome::Switched {
                    connection: attempt.connection.to_string(),
                    left: done.left,
                    backend: Backend::Direct,
                }
            }
            // The attempt was given up while Zoom was slow, and a newer link exists.
            Ok(None) => {
                let reason = "the link was replaced while Zoom answered";
                self.let_go(sealer, attempt, secret, &tokens, user, reason)
                    .await;
                Outcome::ReplacedLink
            }
            Err(e) => {
                tracing::error!(error = %e, "could not record the switch");
                let reason = "the switch could not be recorded";
                self.let_go(sealer, attempt, secret, &tokens, user, reason)
                    .await;
                Outcome::Internal
            }
        }
    }

    /// After the page: the private message, the terminal, and (on success) the channel.
    pub async fn tell(&self, attempt: &Attempt, outcome: &Outcome) {
        // "Get a fresh link" puts the newer link in the same private message (a new form
        // answers in another), and which message shows which attempt is not kept: once the
        // person has a newer attempt, an older one's outcome edits no message (the
        // terminal still hears of it).
        let reply: Option<(String, SecretString)> = if self.superseded(attempt, outcome).await {
            None
        } else {
            self.open_reply(attempt)
        };
        let event = SwitchEvent {
            actor: attempt.actor,
            connection: attempt.connection.clone(),
            text: outcome.message(),
        };
        let delivered = self
            .announcer
            .tell_person(event, reply, outcome.offers_fresh_link())
            .await;
        // A watch can end after Discord stopped taking edits of the private answer: what
        // the person must act on then goes to the channel, to them.
        if !delivered
            && matches!(
                outcome,
                Outcome::NotAuthorizedInTime | Outcome::ChangedInCeligo
            )
        {
            if let Actor::Discord(person) = attempt.actor {
                let text = format!(
                    "{}: about `{}` — {}",
                    person.mention(),
                    attempt.connection,
                    outcome.message()
                );
                self.announcer.post(&text, Some(person)).await;
            }
        }
        if let Outcome::Switched { left, backend, .. } = outcome {
            let name = match self.store.get_connection(&attempt.connection).await {
                Ok(Some(c)) => c.name.to_string(),
                _ => attempt.connection.to_string(),
            };
            let who = match attempt.actor {
                Actor::Discord(id) => id.mention(),
                _ => "an admin at the terminal".to_owned(),
            };
            // A direct switch leaves integrator.io as it was: the channel hears that too.
            let where_ = match backend {
                Backend::Celigo => "",
                Backend::Direct => " in cutover (integrator.io still to be switched)",
            };
            let text = format!(
                "**{}** (`{}`) switched to OAuth 2.0{where_} by {who} — {left} left",
                crate::markdown::escape(&name),
                attempt.connection
            );
            self.announcer.post(&text, None).await;
        }
    }
}
