//! The OAuth tokens a switch produced, all secrets sealed, and the switch itself.

use super::revocations::follow_retired;
use super::{audit, AuditAction, Store, StoreError};
use crate::domain::{Actor, ConnectionId};
use chrono::{DateTime, Utc};
use sqlx::{Row, Sqlite, Transaction};

/// Who Zoom says the token belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZoomIdentity {
    pub user_id: String,
    pub email: String,
    pub account_id: String,
}

/// A token set, secrets sealed.
#[derive(Debug, Clone)]
pub struct SealedTokens {
    pub access_token: Vec<u8>,
    pub refresh_token: Option<Vec<u8>>,
    pub access_expires_at: DateTime<Utc>,
    pub scope: String,
}

impl SealedTokens {
    /// The sealed access token, and the refresh token if Zoom sent one.
    pub(super) fn sealed(&self) -> (&[u8], Option<&[u8]>) {
        (&self.access_token, self.refresh_token.as_deref())
    }
}

/// A stored token set, for refreshing.
#[derive(Debug, Clone)]
pub struct TokenRecord {
    pub connection: ConnectionId,
    pub owner: Option<String>,
    pub client_id: String,
    pub client_secret_sealed: Vec<u8>,
    pub refresh_token_sealed: Option<Vec<u8>>,
    pub access_expires_at: DateTime<Utc>,
    /// Who authorized it: the grant at Zoom is this user's authorization of the app.
    pub zoom_user_id: String,
}

/// Where a refreshed token set went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefreshStored {
    Kept,
    /// The set had been replaced or removed meanwhile; the new tokens follow the old ones
    /// into the revocation queue.
    Queued,
    /// As `Queued`, but the old ones were dropped unrevoked: so are these.
    Discarded,
}

impl Store {
    /// Token sets whose access token expires before `before`, soonest first, that no
    /// round is refreshing at `now`.
    pub async fn tokens_due(
        &self,
        before: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<Vec<TokenRecord>, StoreError> {
        let rows = sqlx::query(
            "SELECT t.connection_id, c.owner_id, t.client_id, t.client_secret_sealed, t.refresh_token_sealed, \
             t.access_expires_at, t.zoom_user_id FROM oauth_tokens t JOIN connections c ON c.id = t.connection_id \
             WHERE t.access_expires_at < ? AND c.state = 'migrated' \
             AND (t.refresh_claimed_until IS NULL OR t.refresh_claimed_until <= ?) ORDER BY t.access_expires_at",
        )
        .bind(before)
        .bind(now)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let id: String = row.try_get("connection_id")?;
                Ok(TokenRecord {
                    connection: ConnectionId::parse(&id)
                        .map_err(|_| StoreError::Corrupt(format!("connection id {id:?}")))?,
                    owner: row.try_get("owner_id")?,
                    client_id: row.try_get("client_id")?,
                    client_secret_sealed: row.try_get("client_secret_sealed")?,
                    refresh_token_sealed: row.try_get("refresh_token_sealed")?,
                    access_expires_at: row.try_get("access_expires_at")?,
                    zoom_user_id: row.try_get("zoom_user_id")?,
                })
            })
            .collect()
    }

    /// Claims the token set for one refresh until `until`: `false` when another round
    /// holds it, or has already replaced the refresh token `from`.
    pub async fn claim_refresh(
        &self,
        connection: &ConnectionId,
        from: Option<&[u8]>,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let claimed = sqlx::query(
            "UPDATE oauth_tokens SET refresh_claimed_until = ? WHERE connection_id = ? AND refresh_token_sealed IS ? \
             AND (refresh_claimed_until IS NULL OR refresh_claimed_until <= ?)",
        )
        .bind(until)
        .bind(connection.as_str())
        .bind(from)
        .bind(now)
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(claimed > 0)
    }

    /// A round gives back the claim it made until `until`, however the refresh went: a
    /// claim left behind holds off `cutover rekey`. A claim another round made after this
    /// one's lapsed is left alone.
    pub async fn release_refresh(
        &self,
        connection: &ConnectionId,
        until: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE oauth_tokens SET refresh_claimed_until = NULL WHERE connection_id = ? AND refresh_claimed_until = ?",
        )
        .bind(connection.as_str())
        .bind(until)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Stores a refreshed token set; Zoom rotates refresh tokens, so the new one replaces
    /// the old (a provider that sends none keeps the old one). Only over the set it was
    /// refreshed from (`from`, its sealed refresh token: every seal is unique): if the
    /// connection was switched again or removed meanwhile, the fresh tokens follow the old
    /// ones into the revocation queue, or are dropped with them.
    pub async fn store_refreshed(
        &self,
        connection: &ConnectionId,
        from: &[u8],
        tokens: &SealedTokens,
        now: DateTime<Utc>,
    ) -> Result<RefreshStored, StoreError> {
        let mut tx = self.pool.begin().await?;
        let kept = sqlx::query(
            "UPDATE oauth_tokens SET access_token_sealed = ?, refresh_token_sealed = COALESCE(?, refresh_token_sealed), \
             access_expires_at = ?, updated_at = ?, refresh_claimed_until = NULL \
             WHERE connection_id = ? AND refresh_token_sealed = ?",
        )
        .bind(&tokens.access_token)
        .bind(&tokens.refresh_token)
        .bind(tokens.access_expires_at)
        .bind(now)
        .bind(connection.as_str())
        .bind(from)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if kept == 0 {
            let queued = follow_retired(&mut tx, connection, from, tokens.sealed()).await?;
            self.commit(tx).await?;
            return Ok(if queued {
                RefreshStored::Queued
            } else {
                RefreshStored::Discarded
            });
        }
        audit::record(
            &mut tx,
            now,
            Actor::System,
            AuditAction::TokenRefreshed,
            Some(connection),
            "",
        )
        .await?;
        self.commit(tx).await?;
        Ok(RefreshStored::Kept)
    }

    /// The refresh token `from` stopped working: the connection needs its owner to
    /// authorize again. Unless it is no longer the stored one: another round (another
    /// cutover on this database) used it first and stored its successor, and Zoom refused
    /// the second use. Then nothing is marked, and `false` comes back.
    pub async fn mark_needs_reauthorization(
        &self,
        connection: &ConnectionId,
        from: Option<&[u8]>,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        if !mark_needs_reauthorization(&mut tx, connection, from, reason, now).await? {
            return Ok(false);
        }
        self.commit(tx).await?;
        Ok(true)
    }
}

/// As [`Store::mark_needs_reauthorization`], inside the caller's transaction.
pub(super) async fn mark_needs_reauthorization(
    tx: &mut Transaction<'_, Sqlite>,
    connection: &ConnectionId,
    from: Option<&[u8]>,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let marked = sqlx::query(
        "UPDATE connections SET state = 'needs_reauthorization', updated_at = ? WHERE id = ? AND auth_type = 'oauth2' \
         AND EXISTS (SELECT 1 FROM oauth_tokens WHERE connection_id = connections.id AND refresh_token_sealed IS ?)",
    )
    .bind(now)
    .bind(connection.as_str())
    .bind(from)
    .execute(&mut **tx)
    .await?
    .rows_affected();
    if marked == 0 {
        return Ok(false);
    }
    audit::record(
        tx,
        now,
        Actor::System,
        AuditAction::TokenRefreshFailed,
        Some(connection),
        reason,
    )
    .await?;
    Ok(true)
}
