//! The links of a `celigo` switch: the attempt reserved while integrator.io is changed,
//! and the personal link, which leads to cutover's start route and on to integrator.io.

use crate::domain::{Actor, Backend, ConnectionId};
use crate::store::{Attempt, AttemptStatus, NewAttempt};
use crate::switch::{attempt_identity, hash_state, IssueError, Link, ReplyHandle, Switch};
use chrono::{DateTime, Utc};
use oauth2::CsrfToken;
use secrecy::{ExposeSecret, SecretString};

/// Where a `celigo` switch's personal link leads: this server's route, which checks the
/// link and sends the browser on to integrator.io's authorization address.
pub const CELIGO_START_PATH: &str = "/oauth/celigo/start";

/// Where `celigo` links lead and what they ask people to register.
#[derive(Debug, Clone)]
pub struct CeligoLinks {
    /// `server.public_base_url` + [`CELIGO_START_PATH`].
    pub start_url: String,
    /// integrator.io's OAuth redirect (`celigo.oauth_redirect_url`).
    pub redirect_url: String,
}

/// A `celigo` attempt reserved while integrator.io is being changed; its `state` goes
/// into the link once the change is done.
pub struct Reserved {
    pub attempt: Attempt,
    state: SecretString,
}

impl std::fmt::Debug for Reserved {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Reserved(#{}, [redacted])", self.attempt.id)
    }
}

impl Switch {
    /// Claims the connection for a `celigo` switch before integrator.io is changed, so
    /// two people never change it at once. No client secret is kept: integrator.io gets it.
    /// Without a sealing key the interaction token is not kept either (the private answer
    /// is then not updated when the switch completes; the channel still hears of it).
    pub async fn reserve_celigo(
        &self,
        actor: Actor,
        connection: &ConnectionId,
        client_id: &str,
        reply_to: Option<&ReplyHandle>,
    ) -> Result<Reserved, IssueError> {
        let (new, state) = self.celigo_attempt(
            actor,
            connection,
            client_id,
            None,
            AttemptStatus::Preparing,
            reply_to,
        )?;
        let attempt = self.create(&new, actor).await?;
        Ok(Reserved { attempt, state })
    }

    /// A `celigo` attempt, and the `state` its link will carry. Without a sealing key the
    /// interaction token is not kept (the private answer is then not updated when the
    /// switch completes; the channel still hears of it).
    fn celigo_attempt(
        &self,
        actor: Actor,
        connection: &ConnectionId,
        client_id: &str,
        iclient_id: Option<String>,
        status: AttemptStatus,
        reply_to: Option<&ReplyHandle>,
    ) -> Result<(NewAttempt, SecretString), IssueError> {
        let state = CsrfToken::new_random_len(32);
        let state_hash = hash_state(state.secret());
        let reply = match (&self.sealer, reply_to) {
            (Some(sealer), Some(reply)) => Some((
                reply.application_id.clone(),
                sealer
                    .seal(
                        reply.token.expose_secret(),
                        &attempt_identity(&state_hash, "reply_token"),
                    )
                    .map_err(|e| IssueError::Internal(e.into()))?,
            )),
            _ => None,
        };
        let (reply_application_id, reply_token_sealed) = reply.unzip();
        let new = NewAttempt {
            connection: connection.clone(),
            actor,
            backend: Backend::Celigo,
            state_hash,
            client_id: client_id.to_owned(),
            client_secret_sealed: None,
            pkce_verifier_sealed: None,
            iclient_id,
            reply_application_id,
            reply_token_sealed,
            expires_at: self.clock.now() + self.link_ttl.to_chrono(),
            status,
        };
        Ok((new, SecretString::from(state.secret().to_owned())))
    }

    /// The personal link of a `celigo` attempt whose preparation is done.
    pub fn celigo_link(
        &self,
        reserved: &Reserved,
        expires_at: DateTime<Utc>,
    ) -> anyhow::Result<Link> {
        self.celigo_link_for(&reserved.state, expires_at)
    }

    fn celigo_link_for(
        &self,
        state: &SecretString,
        expires_at: DateTime<Utc>,
    ) -> anyhow::Result<Link> {
        let links = self
            .celigo_links
            .as_ref()
            .ok_or_else(|| anyhow::anyhow!("celigo links are not configured"))?;
        let mut url = url::Url::parse(&links.start_url)?;
        url.query_pairs_mut()
            .append_pair("state", state.expose_secret());
        Ok(Link {
            url: url.to_string(),
            expires_at,
            redirect_uri: links.redirect_url.clone(),
            backend: Backend::Celigo,
        })
    }

    /// A fresh `celigo` link: integrator.io already has the connection on OAuth 2.0 with
    /// `iclient`, so only the link is new; the person's unused or watched link is voided.
    pub async fn reissue_celigo(
        &self,
        actor: Actor,
        connection: &ConnectionId,
        client_id: &str,
        iclient: &str,
        reply_to: Option<&ReplyHandle>,
    ) -> Result<Link, IssueError> {
        if self.celigo_links.is_none() {
            return Err(IssueError::NothingToRenew);
        }
        let (new, state) = self.celigo_attempt(
            actor,
            connection,
            client_id,
            Some(iclient.to_owned()),
            AttemptStatus::Issued,
            reply_to,
        )?;
        let attempt = self.create(&new, actor).await?;
        self.celigo_link_for(&state, attempt.expires_at)
            .map_err(IssueError::Internal)
    }
}
