//! What both backends write when a switch completes, inside their transaction.

use super::attempts::{Attempt, AttemptStatus};
use super::tokens::SwitchDone;
use super::{audit, StoreError};
use crate::domain::{Actor, MigratedVia};
use chrono::{DateTime, Utc};
use sqlx::{Sqlite, Transaction};

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
        "migration.switched",
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
