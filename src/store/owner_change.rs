//! A connection changed owner: the links other people hold for it stop working, in the
//! same transaction as the change, so someone who no longer owns it cannot finish a
//! switch of it with a link made before.

use super::attempts::{release_stale, LIVE, REASSIGNED};
use super::{audit, AuditAction, StoreError};
use crate::domain::{Actor, ConnectionId, UserId};
use chrono::{DateTime, Utc};

/// Ends the live attempts on `connection` of everyone but `new_owner` (of everyone, when
/// it now has no owner), each with an audit entry. Links already past their time are
/// expired first, so they go on saying that.
pub(super) async fn end_others_attempts(
    tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
    connection: &ConnectionId,
    new_owner: Option<UserId>,
    actor: Actor,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    release_stale(tx, Some(connection), now).await?;
    let keep = new_owner.map(|owner| Actor::Discord(owner).to_string());
    let ended: Vec<(i64, String)> = sqlx::query_as(&format!(
        "UPDATE migration_attempts SET status = 'voided', outcome = ?1, finished_at = ?2 \
         WHERE connection_id = ?3 AND status IN {LIVE} AND user_id IS NOT ?4 RETURNING id, user_id"
    ))
    .bind(REASSIGNED)
    .bind(now)
    .bind(connection.as_str())
    .bind(&keep)
    .fetch_all(&mut **tx)
    .await?;
    let to = keep.as_deref().unwrap_or("nobody");
    for (id, holder) in ended {
        let detail = format!("link #{id} of {holder} ended: the connection was reassigned to {to}");
        audit::record(
            tx,
            now,
            actor,
            AuditAction::MigrationVoided,
            Some(connection),
            &detail,
        )
        .await?;
    }
    Ok(())
}
