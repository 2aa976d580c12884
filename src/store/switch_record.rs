//! A switch completing, for either backend: what both write inside their transaction
//! (`record_switch`), and each backend's whole transaction around it.

use super::attempts::{Attempt, AttemptStatus};
use super::revocations::{retire_tokens, Successor};
use super::tokens::{SealedTokens, ZoomIdentity};
use super::{audit, AuditAction, Store, StoreError};
use crate::domain::{Actor, MigratedVia};
use chrono::{DateTime, Utc};
use sqlx::{Sqlite, Transaction};

/// The result of a switch, for telling people.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SwitchDone {
    pub left: u64,
}

impl Store {
    /// The switch, in one transaction: tokens stored (sealed), the connection flipped to
    /// OAuth 2.0 with who and when, the attempt closed, the audit log written, and the
    /// tokens of an earlier switch retired (queued for revocation when they belong to
    /// another app or user).
    pub async fn complete_switch(
        &self,
        attempt: &Attempt,
        client_secret_sealed: &[u8],
        tokens: &SealedTokens,
        identity: &ZoomIdentity,
        actor: Actor,
        now: DateTime<Utc>,
    ) -> Result<Option<SwitchDone>, StoreError> {
        let mut tx = self.pool.begin().await?;
        let detail = format!(
            "link #{}: switched to OAuth 2.0 (Zoom user {}, account {})",
            attempt.id, identity.user_id, identity.account_id
        );
        let Some(done) = record_switch(
            &mut tx,
            attempt,
            AttemptStatus::Exchanging,
            MigratedVia::Direct,
            &detail,
            actor,
            now,
        )
        .await?
        else {
            return Ok(None);
        };
        let successor = Successor::Grant {
            client_id: &attempt.client_id,
            zoom_user: Some(&identity.user_id),
        };
        retire_tokens(
            &mut tx,
            &attempt.connection,
            successor,
            "switched again",
            actor,
            now,
        )
        .await?;
        sqlx::query(
            "INSERT INTO oauth_tokens (connection_id, client_id, client_secret_sealed, access_token_sealed, \
             refresh_token_sealed, access_expires_at, scope, zoom_user_id, zoom_email, zoom_account_id, created_at, updated_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(attempt.connection.as_str())
        .bind(&attempt.client_id)
        .bind(client_secret_sealed)
        .bind(&tokens.access_token)
        .bind(&tokens.refresh_token)
        .bind(tokens.access_expires_at)
        .bind(&tokens.scope)
        .bind(&identity.user_id)
        .bind(&identity.email)
        .bind(&identity.account_id)
        .bind(now)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        self.commit(tx).await?;
        Ok(Some(done))
    }

    /// The connection works on OAuth 2.0 in integrator.io: in one transaction the watched
    /// attempt completes, other unused links are voided, the connection is migrated, the
    /// audit log says so. `None` when the attempt stopped being watched meanwhile.
    pub async fn complete_celigo_switch(
        &self,
        attempt: &Attempt,
        detail: &str,
        actor: Actor,
        now: DateTime<Utc>,
    ) -> Result<Option<SwitchDone>, StoreError> {
        let mut tx = self.pool.begin().await?;
        let detail = format!(
            "link #{}: switched to OAuth 2.0 in integrator.io ({detail})",
            attempt.id
        );
        let done = record_switch(
            &mut tx,
            attempt,
            AttemptStatus::Watching,
            MigratedVia::Celigo,
            &detail,
            actor,
            now,
        )
        .await?;
        if done.is_some() {
            // Which Zoom user authorized in integrator.io is not visible to cutover.
            let successor = Successor::Grant {
                client_id: &attempt.client_id,
                zoom_user: None,
            };
            retire_tokens(
                &mut tx,
                &attempt.connection,
                successor,
                "switched in integrator.io",
                actor,
                now,
            )
            .await?;
            self.commit(tx).await?;
        }
        Ok(done)
    }
}

/// Only the attempt that took the link, still `from` (exchanging, or watching), may
/// finish it: if it was given up meanwhile (and a newer link issued), nothing is written
/// and `None` comes back. Otherwise other unused links are voided, the connection is
/// migrated with who, when and how, and the audit log says so with `detail`.
pub(super) async fn record_switch(
    tx: &mut Transaction<'_, Sqlite>,
    attempt: &Attempt,
    from: AttemptStatus,
    via: MigratedVia,
    detail: &str,
    actor: Actor,
    now: DateTime<Utc>,
) -> Result<Option<SwitchDone>, StoreError> {
    let closed = sqlx::query(
        "UPDATE migration_attempts SET status = 'completed', outcome = 'switched', finished_at = ? \
         WHERE id = ? AND status = ?",
    )
    .bind(now)
    .bind(attempt.id)
    .bind(from.as_str())
    .execute(&mut **tx)
    .await?
    .rows_affected();
    if closed == 0 {
        return Ok(None);
    }
    // A switched connection needs no other link.
    sqlx::query(
        "UPDATE migration_attempts SET status = 'voided', outcome = 'the connection was switched', finished_at = ? \
         WHERE connection_id = ? AND status = 'issued'",
    )
    .bind(now)
    .bind(attempt.connection.as_str())
    .execute(&mut **tx)
    .await?;
    // integrator.io's ping just passed when it was switched there: it is online.
    sqlx::query(
        "UPDATE connections SET auth_type = 'oauth2', state = 'migrated', migrated_by = ?1, migrated_at = ?2, \
         migrated_via = ?3, offline = CASE WHEN ?3 = 'celigo' THEN 0 ELSE offline END, updated_at = ?2 \
         WHERE id = ?4",
    )
    .bind(actor.to_string())
    .bind(now)
    .bind(via.as_str())
    .bind(attempt.connection.as_str())
    .execute(&mut **tx)
    .await?;
    audit::record(
        tx,
        now,
        actor,
        AuditAction::MigrationSwitched,
        Some(&attempt.connection),
        detail,
    )
    .await?;
    Ok(Some(SwitchDone {
        left: left(tx).await?,
    }))
}

/// Connections still to switch, read inside the transaction that changed the count.
async fn left(tx: &mut Transaction<'_, Sqlite>) -> Result<u64, StoreError> {
    let (total, migrated): (i64, i64) =
        sqlx::query_as("SELECT total, migrated FROM connection_counts WHERE id = 1")
            .fetch_one(&mut **tx)
            .await?;
    Ok(u64::try_from(total - migrated).unwrap_or(0))
}
