//! The campaign page's sign-in links and sessions, and the names people go by. Only
//! hashes of the tokens are kept (the caller hashes): what the database holds opens
//! nothing.

use super::StoreError;
use crate::domain::{Actor, UserId};
use chrono::{DateTime, Utc};
use std::collections::HashMap;

/// What became of opening a sign-in link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignIn {
    /// A session for this person now exists.
    Opened(Actor),
    /// The link worked once already.
    Used,
    Expired,
    /// No such link (mistyped, tampered with, or from another installation).
    Unknown,
}

impl super::Store {
    pub async fn create_sign_in_link(
        &self,
        token_hash: &[u8],
        actor: Actor,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        // Links and sessions past their time are of no use to anyone: gone here.
        sqlx::query("DELETE FROM sign_in_links WHERE expires_at < ?")
            .bind(now)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM page_sessions WHERE expires_at < ?")
            .bind(now)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO sign_in_links (token_hash, actor, created_at, expires_at) VALUES (?, ?, ?, ?)",
        )
        .bind(token_hash)
        .bind(actor)
        .bind(now)
        .bind(expires_at)
        .execute(&mut *tx)
        .await?;
        // Nothing cached depends on sign-ins, so no change is announced.
        tx.commit().await?;
        Ok(())
    }

    /// Spends the link and opens a session for its person, in one transaction: two
    /// browsers racing with one link get one session.
    pub async fn sign_in(
        &self,
        link_hash: &[u8],
        session_hash: &[u8],
        now: DateTime<Utc>,
        session_expires_at: DateTime<Utc>,
    ) -> Result<SignIn, StoreError> {
        // IMMEDIATE: the link is read, then spent.
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let link: Option<(Actor, DateTime<Utc>, Option<DateTime<Utc>>)> = sqlx::query_as(
            "SELECT actor, expires_at, used_at FROM sign_in_links WHERE token_hash = ?",
        )
        .bind(link_hash)
        .fetch_optional(&mut *tx)
        .await?;
        let actor = match link {
            None => return Ok(SignIn::Unknown),
            Some((_, _, Some(_))) => return Ok(SignIn::Used),
            Some((_, expires_at, None)) if expires_at <= now => return Ok(SignIn::Expired),
            Some((actor, _, None)) => actor,
        };
        let spent = sqlx::query(
            "UPDATE sign_in_links SET used_at = ? WHERE token_hash = ? AND used_at IS NULL",
        )
        .bind(now)
        .bind(link_hash)
        .execute(&mut *tx)
        .await?;
        if spent.rows_affected() != 1 {
            return Ok(SignIn::Used);
        }
        sqlx::query(
            "INSERT INTO page_sessions (token_hash, actor, created_at, expires_at) VALUES (?, ?, ?, ?)",
        )
        .bind(session_hash)
        .bind(actor)
        .bind(now)
        .bind(session_expires_at)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(SignIn::Opened(actor))
    }

    /// Whose session this is, while it lasts.
    pub async fn session(
        &self,
        session_hash: &[u8],
        now: DateTime<Utc>,
    ) -> Result<Option<Actor>, StoreError> {
        let found: Option<(Actor, DateTime<Utc>)> =
            sqlx::query_as("SELECT actor, expires_at FROM page_sessions WHERE token_hash = ?")
                .bind(session_hash)
                .fetch_optional(&self.pool)
                .await?;
        Ok(found
            .filter(|(_, expires_at)| *expires_at > now)
            .map(|(actor, _)| actor))
    }

    pub async fn end_session(&self, session_hash: &[u8]) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM page_sessions WHERE token_hash = ?")
            .bind(session_hash)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The name a person goes by in Discord, as last seen.
    pub async fn remember_name(
        &self,
        user: UserId,
        name: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO people (user_id, display_name, seen_at) VALUES (?, ?, ?) \
             ON CONFLICT (user_id) DO UPDATE SET display_name = excluded.display_name, seen_at = excluded.seen_at",
        )
        .bind(user.to_string())
        .bind(name)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Everyone whose name the bot has seen.
    pub async fn display_names(&self) -> Result<HashMap<UserId, String>, StoreError> {
        let rows: Vec<(String, String)> =
            sqlx::query_as("SELECT user_id, display_name FROM people")
                .fetch_all(&self.pool)
                .await?;
        Ok(rows
            .into_iter()
            .filter_map(|(id, name)| Some((UserId::parse(&id).ok()?, name)))
            .collect())
    }
}

/// Ends every session and unused sign-in link in `tx`: after `cutover rekey` nobody
/// stays signed in; how many sessions ended.
pub(super) async fn end_all_sessions(
    tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
) -> Result<u64, StoreError> {
    sqlx::query("DELETE FROM sign_in_links")
        .execute(&mut **tx)
        .await?;
    Ok(sqlx::query("DELETE FROM page_sessions")
        .execute(&mut **tx)
        .await?
        .rows_affected())
}
