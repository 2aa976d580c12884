//! Signing in to the campaign page without a password: `/status` gives a person a
//! personal link (random, single-use, expiring with `security.link_ttl`); opening it
//! starts a session (`status.session_ttl`) held in a cookie. Both are random tokens of
//! 256 bits of which the database keeps only a SHA-256 hash, so a copy of the database
//! signs nobody in; `cutover rekey` and sign-out end sessions on the server.

use crate::clock::SharedClock;
use crate::domain::{Actor, HumanDuration};
use crate::store::{SignIn, Store, StoreError};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, TimeDelta, Utc};
use rand::rngs::OsRng;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// Where a sign-in link leads; its `token` query parameter is the secret.
pub const SIGN_IN_PATH: &str = "/status/sign-in";

/// A personal sign-in link. Its URL is a secret, so Debug leaves it out.
pub struct SignInLink {
    pub url: String,
    pub expires_at: DateTime<Utc>,
}

impl std::fmt::Debug for SignInLink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SignInLink([redacted], expires {})", self.expires_at)
    }
}

/// A session's token, as the cookie carries it. Debug leaves it out.
pub struct SessionToken(String);

impl SessionToken {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for SessionToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SessionToken([redacted])")
    }
}

/// Why a sign-in link did not sign anyone in.
#[derive(Debug, thiserror::Error)]
pub enum SignInError {
    #[error("this sign-in link was used already")]
    Used,
    #[error("this sign-in link has expired")]
    Expired,
    #[error("this is not a sign-in link cutover gave out")]
    Unknown,
    #[error(transparent)]
    Store(#[from] StoreError),
}

pub struct SignIns {
    store: Store,
    clock: SharedClock,
    link_ttl: HumanDuration,
    session_ttl: HumanDuration,
    /// Where the link leads, as browsers reach this server.
    link_base: String,
}

fn random_token() -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

fn hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

fn after(now: DateTime<Utc>, ttl: HumanDuration) -> DateTime<Utc> {
    now + TimeDelta::seconds(i64::try_from(ttl.as_seconds()).unwrap_or(i64::MAX / 2))
}

impl SignIns {
    pub fn new(
        store: Store,
        clock: SharedClock,
        link_ttl: HumanDuration,
        session_ttl: HumanDuration,
        link_base: String,
    ) -> Self {
        Self {
            store,
            clock,
            link_ttl,
            session_ttl,
            link_base,
        }
    }

    pub fn session_ttl(&self) -> HumanDuration {
        self.session_ttl
    }

    /// A new personal link for `actor`.
    pub async fn issue(&self, actor: Actor) -> Result<SignInLink, StoreError> {
        let token = random_token();
        let now = self.clock.now();
        let expires_at = after(now, self.link_ttl);
        self.store
            .create_sign_in_link(&hash(&token), actor, now, expires_at)
            .await?;
        Ok(SignInLink {
            url: format!("{}?token={token}", self.link_base),
            expires_at,
        })
    }

    /// Spends the link's token; the new session's token and whose it is.
    pub async fn sign_in(&self, link_token: &str) -> Result<(SessionToken, Actor), SignInError> {
        let session = random_token();
        let now = self.clock.now();
        match self
            .store
            .sign_in(
                &hash(link_token),
                &hash(&session),
                now,
                after(now, self.session_ttl),
            )
            .await?
        {
            SignIn::Opened(actor) => Ok((SessionToken(session), actor)),
            SignIn::Used => Err(SignInError::Used),
            SignIn::Expired => Err(SignInError::Expired),
            SignIn::Unknown => Err(SignInError::Unknown),
        }
    }

    /// Whose session a cookie's token is, while it lasts.
    pub async fn session(&self, token: &str) -> Result<Option<Actor>, StoreError> {
        self.store.session(&hash(token), self.clock.now()).await
    }

    pub async fn sign_out(&self, token: &str) -> Result<(), StoreError> {
        self.store.end_session(&hash(token)).await
    }
}
