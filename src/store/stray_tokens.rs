//! Fresh Zoom tokens cutover will not keep: a switch that got its tokens but did not
//! complete, a refresh whose tokens could not be stored. Left alone they would be a live
//! grant nobody holds, so they join the revocation queue.

use super::revocations::{follow_retired, retire_tokens, Successor};
use super::tokens::{mark_needs_reauthorization, SealedTokens};
use super::{audit, AuditAction, Store, StoreError};
use crate::domain::{Actor, ConnectionId};
use chrono::{DateTime, Utc};

/// A token set just issued that no connection will hold, sealed as `oauth_tokens` seals
/// a connection's tokens.
#[derive(Debug, Clone, Copy)]
pub struct StrayTokens<'a> {
    pub connection: &'a ConnectionId,
    pub client_id: &'a str,
    pub client_secret_sealed: &'a [u8],
    pub tokens: &'a SealedTokens,
    /// Who authorized, as Zoom said; `None` when the token failed verification.
    pub zoom_user: Option<&'a str>,
}

impl Store {
    /// Queues a stray token set for revocation, with an audit entry saying `reason`. The
    /// revocation round checks, before revoking, that no connection holds the same grant.
    pub async fn queue_stray(
        &self,
        stray: &StrayTokens<'_>,
        reason: &str,
        actor: Actor,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO token_revocations (connection_id, client_id, client_secret_sealed, access_token_sealed, \
             refresh_token_sealed, zoom_user_id, reason, queued_at, next_try_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(stray.connection.as_str())
        .bind(stray.client_id)
        .bind(stray.client_secret_sealed)
        .bind(&stray.tokens.access_token)
        .bind(&stray.tokens.refresh_token)
        .bind(stray.zoom_user)
        .bind(reason)
        .bind(now)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        let detail = format!(
            "{reason}: the new Zoom token (app {}) is to be revoked",
            stray.client_id
        );
        audit::record(
            &mut tx,
            now,
            actor,
            AuditAction::TokenRevocationQueued,
            Some(stray.connection),
            &detail,
        )
        .await?;
        self.commit(tx).await
    }

    /// A refresh Zoom answered from the set `from` whose tokens could not be stored: Zoom
    /// has rotated the refresh token, so the set is over. In one transaction the
    /// connection needs re-authorization (while its set is still `from`: `true` then), and
    /// the set leaves `oauth_tokens` for the revocation queue carrying the refreshed
    /// tokens, now the only live ones (dropped instead while another connection holds the
    /// same grant). A set replaced or removed meanwhile is only followed, as
    /// [`Store::store_refreshed`] does.
    pub async fn abandon_refresh(
        &self,
        connection: &ConnectionId,
        from: &[u8],
        tokens: &SealedTokens,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        const REASON: &str = "a refreshed token could not be stored";
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let marked =
            mark_needs_reauthorization(&mut tx, connection, Some(from), REASON, now).await?;
        if marked {
            retire_tokens(
                &mut tx,
                connection,
                Successor::Nothing,
                REASON,
                Actor::System,
                now,
            )
            .await?;
        }
        follow_retired(&mut tx, connection, from, tokens.sealed()).await?;
        self.commit(tx).await?;
        Ok(marked)
    }
}
