//! The switch, what both backends share: a personal one-time authorization link (the
//! attempt and its lifecycle), the outcome pages, sealing, announcing. Each backend has
//! its room: [`direct`] (cutover exchanges the code at Zoom) and [`celigo`] (integrator.io
//! does, after cutover prepared the connection there).

mod announce;
mod backends;
pub mod celigo;
mod credentials;
pub mod direct;
mod outcome;
mod page;
mod rekey;
mod sealing;

pub use celigo::links::{CeligoLinks, Reserved, CELIGO_START_PATH};
pub use direct::callback;

pub use announce::{fresh_link_id, Announcer, SwitchEvent};
pub use backends::{Backends, Started};
pub use credentials::{parse_client_secret, ZoomClientId};
pub use direct::{RefreshReport, RevokeReport, Zoom};
pub use outcome::{Outcome, FINISH_IN_INTEGRATOR_IO};
pub use page::Page;
pub use rekey::{rekey, RekeyError};
pub use sealing::{SealError, Sealer};

use crate::clock::SharedClock;
use crate::domain::{Actor, Backend, ConnectionId, HumanDuration};
use crate::heartbeat::Heartbeat;
use crate::metrics::Metrics;
use crate::store::{Attempt, AttemptStatus, CreateOutcome, NewAttempt, SealedTokens, Store};
use chrono::{DateTime, TimeDelta, Utc};
use oauth2::{CsrfToken, PkceCodeChallenge};
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use std::sync::Arc;

/// Refresh access tokens this long before they expire.
const REFRESH_AHEAD: TimeDelta = TimeDelta::minutes(10);

/// A Discord interaction's application and token: enough to edit the answer for the
/// 15 minutes the token lives. The token is a secret.
#[derive(Clone)]
pub struct ReplyHandle {
    pub application_id: String,
    pub token: SecretString,
}

impl std::fmt::Debug for ReplyHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ReplyHandle({}, [redacted])", self.application_id)
    }
}

/// A personal authorization link. Its URL carries the `state`, so Debug leaves it out.
#[derive(Clone)]
pub struct Link {
    pub url: String,
    pub expires_at: DateTime<Utc>,
    /// The redirect URL to register in the Zoom app: cutover's callback (`direct`) or
    /// integrator.io's (`celigo`).
    pub redirect_uri: String,
    pub backend: Backend,
}

impl std::fmt::Debug for Link {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Link([redacted], {}, expires {})",
            self.backend, self.expires_at
        )
    }
}

/// The links the switch gives out: how long they live, and where `celigo` ones lead.
#[derive(Debug, Clone)]
pub struct Links {
    pub ttl: HumanDuration,
    pub celigo: Option<CeligoLinks>,
}

#[derive(Debug, thiserror::Error)]
pub enum IssueError {
    #[error("no sealing key is configured")]
    NoKey,
    #[error("{} holds a live link until {expires_at}", actor.map_or_else(|| "someone".to_owned(), |a| a.to_string()))]
    Busy {
        /// `None`: a racing submit won and had ended before it could be read.
        actor: Option<Actor>,
        expires_at: DateTime<Utc>,
        in_progress: bool,
    },
    #[error("no earlier link to renew")]
    NothingToRenew,
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

pub struct Switch {
    /// The refresh scheduler's pulse, for /readyz.
    heartbeat: Heartbeat,
    store: Store,
    clock: SharedClock,
    sealer: Option<Sealer>,
    zoom: Zoom,
    link_ttl: HumanDuration,
    announcer: Announcer,
    celigo_links: Option<CeligoLinks>,
    metrics: Arc<Metrics>,
}

/// What a sealed value belongs to: the associated data that ties it to its record.
fn attempt_identity(state_hash: &[u8], what: &str) -> String {
    format!("attempt:{}:{what}", hex::encode(state_hash))
}

fn token_identity(connection: &ConnectionId, what: &str) -> String {
    format!("connection:{connection}:{what}")
}

pub fn hash_state(state: &str) -> Vec<u8> {
    Sha256::digest(state.as_bytes()).to_vec()
}

impl Switch {
    pub fn new(
        store: Store,
        clock: SharedClock,
        sealer: Option<Sealer>,
        zoom: Zoom,
        links: Links,
        announcer: Announcer,
        metrics: Arc<Metrics>,
    ) -> Self {
        Self {
            heartbeat: Heartbeat::new(Arc::clone(&clock)),
            store,
            clock,
            sealer,
            zoom,
            link_ttl: links.ttl,
            announcer,
            celigo_links: links.celigo,
            metrics,
        }
    }

    pub fn link_ttl(&self) -> HumanDuration {
        self.link_ttl
    }

    /// The refresh scheduler's pulse; `tick` on it drives a round.
    pub fn heartbeat(&self) -> &Heartbeat {
        &self.heartbeat
    }

    pub fn announcer(&self) -> &Announcer {
        &self.announcer
    }

    /// An attempt has ended: counted for /metrics (before anyone is told, so a scrape
    /// right after the page shows it).
    pub fn count_outcome(&self, attempt: &Attempt, outcome: &Outcome) {
        self.metrics
            .switch_ended(attempt.backend.as_str(), outcome.label());
    }

    fn sealer(&self) -> Result<&Sealer, IssueError> {
        self.sealer.as_ref().ok_or(IssueError::NoKey)
    }

    /// Whether a secret can be taken at all: asked before anyone types one.
    pub fn can_seal(&self) -> bool {
        self.sealer.is_some()
    }

    /// Seals the credentials, creates the attempt and builds its link.
    pub async fn issue(
        &self,
        actor: Actor,
        connection: &ConnectionId,
        client_id: &str,
        client_secret: &SecretString,
        reply_to: Option<&ReplyHandle>,
    ) -> Result<Link, IssueError> {
        let sealer = self.sealer()?;
        let now = self.clock.now();
        let state = CsrfToken::new_random_len(32);
        let state_hash = hash_state(state.secret());
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let seal = |value: &str, what: &str| {
            sealer
                .seal(value, &attempt_identity(&state_hash, what))
                .map_err(|e| IssueError::Internal(e.into()))
        };
        let new = NewAttempt {
            connection: connection.clone(),
            actor,
            backend: Backend::Direct,
            state_hash: state_hash.clone(),
            client_id: client_id.to_owned(),
            client_secret_sealed: Some(seal(client_secret.expose_secret(), "client_secret")?),
            pkce_verifier_sealed: Some(seal(verifier.secret(), "pkce_verifier")?),
            iclient_id: None,
            reply_application_id: reply_to.map(|r| r.application_id.clone()),
            reply_token_sealed: reply_to
                .map(|r| seal(r.token.expose_secret(), "reply_token"))
                .transpose()?,
            expires_at: now + self.link_ttl.to_chrono(),
            status: AttemptStatus::Issued,
        };
        let url = self
            .zoom
            .authorize_url(client_id, state.secret(), challenge)
            .map_err(|e| IssueError::Internal(e.into()))?;
        let attempt = self.create(&new, actor).await?;
        Ok(Link {
            url,
            expires_at: attempt.expires_at,
            redirect_uri: self.zoom.redirect_uri().to_owned(),
            backend: Backend::Direct,
        })
    }

    /// Stores a new attempt; someone else's live link, or work under way, is `Busy`.
    async fn create(&self, new: &NewAttempt, actor: Actor) -> Result<Attempt, IssueError> {
        match self
            .store
            .create_attempt(new, actor, self.clock.now())
            .await
            .map_err(anyhow::Error::from)?
        {
            CreateOutcome::Created(attempt) => Ok(*attempt),
            CreateOutcome::Busy {
                actor,
                expires_at,
                in_progress,
            } => Err(IssueError::Busy {
                actor,
                expires_at,
                in_progress,
            }),
        }
    }

    /// A fresh `direct` link from the person's last unfinished attempt's credentials; the
    /// old link stops working. (A `celigo` link is renewed by the celigo backend.)
    pub async fn reissue(
        &self,
        actor: Actor,
        connection: &ConnectionId,
        reply_to: Option<&ReplyHandle>,
    ) -> Result<Link, IssueError> {
        let last = self
            .store
            .latest_attempt(connection, actor)
            .await
            .map_err(anyhow::Error::from)?
            .filter(|last| last.backend == Backend::Direct)
            .ok_or(IssueError::NothingToRenew)?;
        let sealer = self.sealer()?;
        let sealed = last.client_secret_sealed.as_deref().ok_or_else(|| {
            IssueError::Internal(anyhow::anyhow!("a direct attempt without its secret"))
        })?;
        let secret = sealer
            .open(sealed, &attempt_identity(&last.state_hash, "client_secret"))
            .map_err(|e| IssueError::Internal(e.into()))?;
        self.issue(actor, connection, &last.client_id, &secret, reply_to)
            .await
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn clock(&self) -> &SharedClock {
        &self.clock
    }

    fn open_reply(&self, attempt: &Attempt) -> Option<(String, SecretString)> {
        let sealer = self.sealer.as_ref()?;
        let token = sealer
            .open(
                attempt.reply_token_sealed.as_ref()?,
                &attempt_identity(&attempt.state_hash, "reply_token"),
            )
            .ok()?;
        Some((attempt.reply_application_id.clone()?, token))
    }

    fn seal_tokens(
        &self,
        sealer: &Sealer,
        connection: &ConnectionId,
        tokens: &direct::zoom::Tokens,
    ) -> Result<SealedTokens, SealError> {
        // Zoom's access tokens last an hour; assume so when the answer does not say, or
        // says something no token lives (which would also overflow the date arithmetic).
        let lifetime = tokens
            .expires_in
            .filter(|d| *d <= std::time::Duration::from_secs(7 * 86_400))
            .and_then(|d| TimeDelta::from_std(d).ok())
            .unwrap_or(TimeDelta::hours(1));
        Ok(SealedTokens {
            access_token: sealer.seal(
                tokens.access.expose_secret(),
                &token_identity(connection, "access_token"),
            )?,
            refresh_token: tokens
                .refresh
                .as_ref()
                .map(|r| {
                    sealer.seal(
                        r.expose_secret(),
                        &token_identity(connection, "refresh_token"),
                    )
                })
                .transpose()?,
            access_expires_at: self.clock.now() + lifetime,
            scope: tokens.scope.clone(),
        })
    }
}
