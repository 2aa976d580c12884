//! The `celigo` switch's records: a prepared attempt becomes a link, a watched one a
//! switch; a connection found already on OAuth 2.0 is recorded as such.

use super::attempts::{attempt_from_row, record_issued, Attempt, COLUMNS};
use super::{audit, AuditAction, Store, StoreError};
use crate::domain::{Actor, ConnectionId};
use chrono::{DateTime, Utc};

/// What preparing the switch in integrator.io did, for the record.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub iclient_id: String,
    /// The connection's definition as it was (integrator.io masks its secrets).
    pub definition_before: String,
    /// Masked fields that had to be left out of the new definition.
    pub dropped: Vec<String>,
}

impl Store {
    /// The iClient cutover put on the connection in integrator.io, with the Zoom client
    /// id it holds, if any.
    pub async fn celigo_iclient(
        &self,
        connection: &ConnectionId,
    ) -> Result<Option<(String, String)>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT c.celigo_iclient_id, a.client_id FROM connections c \
             JOIN migration_attempts a ON a.connection_id = c.id AND a.iclient_id = c.celigo_iclient_id \
             WHERE c.id = ? ORDER BY a.id DESC LIMIT 1",
        )
        .bind(connection.as_str())
        .fetch_optional(&self.pool)
        .await?)
    }

    /// Notes the iClient a preparation created, so it can be cleaned up if the
    /// preparation is interrupted.
    pub async fn set_attempt_iclient(
        &self,
        attempt: &Attempt,
        iclient: &str,
    ) -> Result<(), StoreError> {
        sqlx::query("UPDATE migration_attempts SET iclient_id = ? WHERE id = ?")
            .bind(iclient)
            .bind(attempt.id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// integrator.io now has the connection on OAuth 2.0 with the new iClient: in one
    /// transaction the attempt becomes a link valid until `expires_at`, the connection
    /// awaits authorization, and the audit log keeps the definition as it was. `None` when
    /// the attempt is no longer being prepared (it was given up meanwhile).
    pub async fn issue_prepared_attempt(
        &self,
        attempt: &Attempt,
        prepared: &Prepared,
        expires_at: DateTime<Utc>,
        actor: Actor,
        now: DateTime<Utc>,
    ) -> Result<Option<Attempt>, StoreError> {
        let mut tx = self.pool.begin().await?;
        let row = sqlx::query(&format!(
            "UPDATE migration_attempts SET status = 'issued', iclient_id = ?, expires_at = ? \
             WHERE id = ? AND status = 'preparing' RETURNING {COLUMNS}"
        ))
        .bind(&prepared.iclient_id)
        .bind(expires_at)
        .bind(attempt.id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let issued = attempt_from_row(&row)?;
        sqlx::query(
            "UPDATE connections SET auth_type = 'oauth2', state = 'awaiting_authorization', migrated_by = NULL, \
             migrated_at = NULL, migrated_via = NULL, celigo_iclient_id = ?, updated_at = ? WHERE id = ?",
        )
        .bind(&prepared.iclient_id)
        .bind(now)
        .bind(attempt.connection.as_str())
        .execute(&mut *tx)
        .await?;
        audit::record(
            &mut tx,
            now,
            actor,
            AuditAction::CeligoDefinitionBefore,
            Some(&attempt.connection),
            &prepared.definition_before,
        )
        .await?;
        let mut detail = format!(
            "link #{}: iClient {} created; the connection is on OAuth 2.0 in integrator.io, awaiting authorization",
            attempt.id, prepared.iclient_id
        );
        if !prepared.dropped.is_empty() {
            detail.push_str(&format!(
                "; masked values left out: {}",
                prepared.dropped.join(", ")
            ));
        }
        audit::record(
            &mut tx,
            now,
            actor,
            AuditAction::MigrationPrepared,
            Some(&attempt.connection),
            &detail,
        )
        .await?;
        record_issued(&mut tx, &issued, actor, now).await?;
        self.commit(tx).await?;
        Ok(Some(issued))
    }

    /// A fresh read of integrator.io found the connection already on OAuth 2.0 and
    /// authorized: it is recorded as switched there, and the attempt that found it closed.
    pub async fn record_switched_elsewhere(
        &self,
        attempt: &Attempt,
        actor: Actor,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "UPDATE migration_attempts SET status = 'failed', outcome = 'already on OAuth 2.0 in integrator.io', \
             finished_at = ? WHERE id = ? AND status = 'preparing'",
        )
        .bind(now)
        .bind(attempt.id)
        .execute(&mut *tx)
        .await?;
        switched_elsewhere(&mut tx, &attempt.connection, actor, now).await?;
        self.commit(tx).await?;
        Ok(())
    }
}

async fn switched_elsewhere(
    tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
    connection: &ConnectionId,
    actor: Actor,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let changed = sqlx::query(
        "UPDATE connections SET auth_type = 'oauth2', state = 'migrated', migrated_by = 'integrator.io', \
         migrated_at = ?, migrated_via = 'integrator.io', updated_at = ? WHERE id = ? AND state != 'migrated'",
    )
    .bind(now)
    .bind(now)
    .bind(connection.as_str())
    .execute(&mut **tx)
    .await?
    .rows_affected();
    if changed > 0 {
        audit::record(
            tx,
            now,
            actor,
            AuditAction::MigrationSwitchedElsewhere,
            Some(connection),
            "integrator.io already has it on OAuth 2.0, authorized: switched there outside cutover",
        )
        .await?;
    }
    Ok(())
}
