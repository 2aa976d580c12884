use super::{AuditAction, StoreError};
use crate::domain::{Actor, ConnectionId};
use chrono::{DateTime, Utc};
use sqlx::{Sqlite, Transaction};

/// Appends to the audit log inside the caller's transaction, so the entry lands with
/// the change it describes or not at all.
pub(super) async fn record(
    tx: &mut Transaction<'_, Sqlite>,
    at: DateTime<Utc>,
    actor: Actor,
    action: AuditAction,
    connection: Option<&ConnectionId>,
    detail: &str,
) -> Result<(), StoreError> {
    // With the count of connections still to switch, as this change leaves it: the
    // burndown's data.
    sqlx::query(
        "INSERT INTO audit_log (at, actor, action, connection_id, detail, unmigrated) \
         VALUES (?, ?, ?, ?, ?, (SELECT total - migrated FROM connection_counts WHERE id = 1))",
    )
    .bind(at)
    .bind(actor)
    .bind(action.as_str())
    .bind(connection.map(ConnectionId::as_str))
    .bind(detail)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// One line of the audit log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    pub at: DateTime<Utc>,
    pub actor: Actor,
    pub action: AuditAction,
    pub connection_id: Option<String>,
    pub detail: String,
}

impl super::Store {
    /// The burndown's points: (when, how many were left), oldest first, one per change
    /// of the count.
    pub async fn progress_history(&self) -> Result<Vec<(DateTime<Utc>, u64)>, StoreError> {
        let rows: Vec<(DateTime<Utc>, i64)> = sqlx::query_as(
            "SELECT at, unmigrated FROM audit_log WHERE unmigrated IS NOT NULL ORDER BY id",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut points: Vec<(DateTime<Utc>, u64)> = Vec::with_capacity(rows.len());
        for (at, left) in rows {
            let left = u64::try_from(left).unwrap_or(0);
            if points.last().map(|(_, n)| *n) != Some(left) {
                points.push((at, left));
            }
        }
        Ok(points)
    }

    /// The newest `limit` entries, newest first; only one connection's when given.
    pub async fn audit_entries(
        &self,
        connection: Option<&ConnectionId>,
        limit: u32,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        use sqlx::Row;
        let rows = sqlx::query(
            "SELECT at, actor, action, connection_id, detail FROM audit_log \
             WHERE (?1 IS NULL OR connection_id = ?1) ORDER BY id DESC LIMIT ?2",
        )
        .bind(connection.map(ConnectionId::as_str))
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(AuditEntry {
                    at: row.try_get("at")?,
                    actor: row.try_get("actor")?,
                    action: row.try_get("action")?,
                    connection_id: row.try_get("connection_id")?,
                    detail: row.try_get("detail")?,
                })
            })
            .collect()
    }
}
