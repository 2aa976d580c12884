//! The switch (the `direct` backend of INTERFACE.md): a personal one-time authorization
//! link, the OAuth redirect that completes it, and keeping the tokens alive.

mod announce;
pub mod callback;
mod credentials;
mod outcome;
mod page;
mod sealing;
mod zoom;

pub use announce::{Announcer, SwitchEvent};
pub use credentials::{parse_client_secret, ZoomClientId};
use outcome::Outcome;
pub use sealing::{SealError, Sealer};
pub use zoom::Zoom;

use crate::chat::ReplyHandle;
use crate::clock::SharedClock;
use crate::domain::{Actor, ConnectionId, HumanDuration, Snowflake};
use crate::store::{Attempt, CreateOutcome, NewAttempt, SealedTokens, Store, TokenRecord};
use chrono::{DateTime, TimeDelta, Utc};
use oauth2::{CsrfToken, PkceCodeChallenge};
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};

/// Refresh access tokens this long before they expire.
const REFRESH_AHEAD: TimeDelta = TimeDelta::minutes(10);

/// A personal authorization link. Its URL carries the `state`, so Debug leaves it out.
#[derive(Clone)]
pub struct Link {
    pub url: String,
    pub expires_at: DateTime<Utc>,
    pub redirect_uri: String,
}

impl std::fmt::Debug for Link {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Link([redacted], expires {})", self.expires_at)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum IssueError {
    #[error("no sealing key is configured")]
    NoKey,
    #[error("{actor} holds a live link until {expires_at}")]
    Busy {
        actor: String,
        expires_at: DateTime<Utc>,
        in_progress: bool,
    },
    #[error("no earlier link to renew")]
    NothingToRenew,
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

/// What one round of refreshing did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RefreshReport {
    pub refreshed: usize,
    pub needs_reauthorization: usize,
    pub failed: usize,
}

pub struct Switch {
    /// When the last refresh round started (unix seconds; 0 before the first): the
    /// scheduler's heartbeat for /readyz.
    last_round: std::sync::atomic::AtomicI64,
    store: Store,
    clock: SharedClock,
    sealer: Option<Sealer>,
    zoom: Zoom,
    link_ttl: HumanDuration,
    announcer: Announcer,
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
        link_ttl: HumanDuration,
        announcer: Announcer,
    ) -> Self {
        Self {
            last_round: std::sync::atomic::AtomicI64::new(0),
            store,
            clock,
            sealer,
            zoom,
            link_ttl,
            announcer,
        }
    }

    /// How long ago the last refresh round started, if one has.
    pub fn scheduler_lag(&self) -> Option<TimeDelta> {
        match self.last_round.load(std::sync::atomic::Ordering::Relaxed) {
            0 => None,
            at => Some(self.clock.now() - DateTime::from_timestamp(at, 0).unwrap_or_default()),
        }
    }

    pub fn announcer(&self) -> &Announcer {
        &self.announcer
    }

    fn sealer(&self) -> Result<&Sealer, IssueError> {
        self.sealer.as_ref().ok_or(IssueError::NoKey)
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
            actor: actor.to_string(),
            state_hash: state_hash.clone(),
            client_id: client_id.to_owned(),
            client_secret_sealed: seal(client_secret.expose_secret(), "client_secret")?,
            pkce_verifier_sealed: seal(verifier.secret(), "pkce_verifier")?,
            reply_application_id: reply_to.map(|r| r.application_id.clone()),
            reply_token_sealed: reply_to
                .map(|r| seal(r.token.expose_secret(), "reply_token"))
                .transpose()?,
            expires_at: now + self.link_ttl.to_chrono(),
        };
        let url = self
            .zoom
            .authorize_url(client_id, state.secret(), challenge)
            .map_err(|e| IssueError::Internal(e.into()))?;
        match self
            .store
            .create_attempt(&new, actor, now)
            .await
            .map_err(anyhow::Error::from)?
        {
            CreateOutcome::Created(attempt) => Ok(Link {
                url,
                expires_at: attempt.expires_at,
                redirect_uri: self.zoom.redirect_uri().to_owned(),
            }),
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

    /// A fresh link from the person's last unfinished attempt's credentials; the old link
    /// stops working.
    pub async fn reissue(
        &self,
        actor: Actor,
        connection: &ConnectionId,
        reply_to: Option<&ReplyHandle>,
    ) -> Result<Link, IssueError> {
        let sealer = self.sealer()?;
        let last = self
            .store
            .latest_attempt(connection, &actor.to_string())
            .await
            .map_err(anyhow::Error::from)?
            .ok_or(IssueError::NothingToRenew)?;
        let secret = sealer
            .open(
                &last.client_secret_sealed,
                &attempt_identity(&last.state_hash, "client_secret"),
            )
            .map_err(|e| IssueError::Internal(e.into()))?;
        self.issue(actor, connection, &last.client_id, &secret, reply_to)
            .await
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

    /// Refreshes every access token close to expiry, keeping the newest refresh token.
    pub async fn refresh_due(&self) -> anyhow::Result<RefreshReport> {
        let now = self.clock.now();
        self.last_round
            .store(now.timestamp(), std::sync::atomic::Ordering::Relaxed);
        let mut report = RefreshReport::default();
        let Some(sealer) = &self.sealer else {
            return Ok(report);
        };
        for record in self.store.tokens_due(now + REFRESH_AHEAD).await? {
            match self.refresh_one(sealer, &record).await {
                Ok(()) => report.refreshed += 1,
                Err(zoom::TokenError::InvalidGrant) => {
                    report.needs_reauthorization += 1;
                    self.store
                        .mark_needs_reauthorization(
                            &record.connection,
                            "the refresh token was refused (invalid_grant)",
                            self.clock.now(),
                        )
                        .await?;
                    let owner = record
                        .owner
                        .as_deref()
                        .and_then(|o| Snowflake::parse(o).ok());
                    let who = owner
                        .map(|o| format!("{}: ", o.mention()))
                        .unwrap_or_default();
                    let text = format!(
                        "{who}`{}` needs re-authorization: Zoom no longer accepts its token. \
                         Run `/migrate connection:{}` to authorize it again.",
                        record.connection, record.connection
                    );
                    self.announcer.post(&text, owner).await;
                    let actor = owner
                        .map_or_else(|| "terminal".to_owned(), |o| Actor::Discord(o).to_string());
                    self.announcer
                        .tell_person(
                            SwitchEvent {
                                actor,
                                connection: record.connection.clone(),
                                text,
                            },
                            None,
                        )
                        .await;
                }
                Err(e) => {
                    report.failed += 1;
                    tracing::warn!(connection = %record.connection, error = %e, "token refresh failed; will retry");
                }
            }
        }
        Ok(report)
    }

    async fn refresh_one(
        &self,
        sealer: &Sealer,
        record: &TokenRecord,
    ) -> Result<(), zoom::TokenError> {
        let unavailable = |e: &dyn std::fmt::Display| zoom::TokenError::Unavailable(e.to_string());
        let secret = sealer
            .open(
                &record.client_secret_sealed,
                &token_identity(&record.connection, "client_secret"),
            )
            .map_err(|e| unavailable(&e))?;
        let Some(sealed_refresh) = &record.refresh_token_sealed else {
            return Err(zoom::TokenError::InvalidGrant);
        };
        let refresh = sealer
            .open(
                sealed_refresh,
                &token_identity(&record.connection, "refresh_token"),
            )
            .map_err(|e| unavailable(&e))?;
        let tokens = self
            .zoom
            .refresh(&record.client_id, &secret, &refresh)
            .await?;
        // Zoom has rotated the refresh token: if the new one cannot be kept, the old one is
        // already dead, and the next round will find the connection needs re-authorization.
        let kept = match self.seal_tokens(sealer, &record.connection, &tokens) {
            Ok(sealed) => self
                .store
                .store_refreshed(&record.connection, &sealed, self.clock.now())
                .await
                .map_err(|e| e.to_string()),
            Err(e) => Err(e.to_string()),
        };
        kept.map_err(|e| {
            tracing::error!(connection = %record.connection, error = %e, "a refreshed token could not be stored");
            zoom::TokenError::Unavailable(e)
        })
    }

    fn seal_tokens(
        &self,
        sealer: &Sealer,
        connection: &ConnectionId,
        tokens: &zoom::Tokens,
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
