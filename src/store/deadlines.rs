use super::{audit, AuditAction, Store, StoreError};
use crate::domain::{Actor, Deadline, DeadlineOrigin, DisplayName};
use chrono::{DateTime, Utc};
use sqlx::Row;

impl Store {
    /// Adds an admin's deadline, with its audit entry, and returns its id.
    pub async fn add_deadline(
        &self,
        title: &DisplayName,
        due: DateTime<Utc>,
        note: &str,
        approximate: bool,
        actor: Actor,
        now: DateTime<Utc>,
    ) -> Result<i64, StoreError> {
        let mut tx = self.pool.begin().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO deadlines (title, due_at, note, approximate, created_by, created_at) \
             VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(title.as_str())
        .bind(due)
        .bind(note)
        .bind(approximate)
        .bind(actor.to_string())
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        let detail = format!("#{id} {title:?} due {}", due.to_rfc3339());
        audit::record(
            &mut tx,
            now,
            actor,
            AuditAction::DeadlineAdded,
            None,
            &detail,
        )
        .await?;
        self.commit(tx).await?;
        Ok(id)
    }

    /// The deadlines admins added, soonest first (kept between writes).
    pub async fn list_deadlines(&self) -> Result<Vec<Deadline>, StoreError> {
        self.cache
            .through(&self.cache.deadlines, &(), self.read_deadlines())
            .await
    }

    async fn read_deadlines(&self) -> Result<Vec<Deadline>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, title, due_at, note, approximate FROM deadlines ORDER BY due_at, id",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let title: String = row.try_get("title")?;
                Ok(Deadline {
                    origin: DeadlineOrigin::Added(row.try_get("id")?),
                    title: DisplayName::parse(&title)
                        .map_err(|_| StoreError::Corrupt(format!("deadline title {title:?}")))?,
                    due: row.try_get("due_at")?,
                    note: row.try_get("note")?,
                    approximate: row.try_get("approximate")?,
                })
            })
            .collect()
    }
}

impl Store {
    /// Removes an admin-added deadline; `Change::NotFound` when there is none with that id.
    pub async fn remove_deadline(
        &self,
        id: i64,
        actor: Actor,
        now: DateTime<Utc>,
    ) -> Result<super::Change, StoreError> {
        let mut tx = self.pool.begin().await?;
        let title: Option<String> =
            sqlx::query_scalar("DELETE FROM deadlines WHERE id = ? RETURNING title")
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?;
        let Some(title) = title else {
            return Ok(super::Change::NotFound);
        };
        audit::record(
            &mut tx,
            now,
            actor,
            AuditAction::DeadlineRemoved,
            None,
            &format!("#{id} {title:?}"),
        )
        .await?;
        self.commit(tx).await?;
        Ok(super::Change::Done)
    }
}
