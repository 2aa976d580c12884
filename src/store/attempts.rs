//! Migration attempts: one personal authorization link each, and what became of it.

use super::{audit, Store, StoreError};
use crate::domain::{Actor, ConnectionId};
use chrono::{DateTime, Utc};
use sqlx::sqlite::SqliteRow;
use sqlx::Row;

/// What a new link needs stored. Secrets arrive sealed.
#[derive(Debug, Clone)]
pub struct NewAttempt {
    pub connection: ConnectionId,
    pub actor: String,
    pub state_hash: Vec<u8>,
    pub client_id: String,
    pub client_secret_sealed: Vec<u8>,
    pub pkce_verifier_sealed: Vec<u8>,
    pub reply_application_id: Option<String>,
    pub reply_token_sealed: Option<Vec<u8>>,
    pub expires_at: DateTime<Utc>,
}

/// A stored attempt, secrets still sealed.
#[derive(Debug, Clone)]
pub struct Attempt {
    pub id: i64,
    pub connection: ConnectionId,
    pub actor: String,
    pub state_hash: Vec<u8>,
    pub client_id: String,
    pub client_secret_sealed: Vec<u8>,
    pub pkce_verifier_sealed: Vec<u8>,
    pub reply_application_id: Option<String>,
    pub reply_token_sealed: Option<Vec<u8>>,
    pub status: String,
    pub expires_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub enum CreateOutcome {
    Created(Box<Attempt>),
    /// Someone else holds a live link for this connection, or a switch of it is being
    /// completed right now (`in_progress`).
    Busy {
        actor: String,
        expires_at: DateTime<Utc>,
        in_progress: bool,
    },
}

/// Why a `state` did not start an exchange.
#[derive(Debug, Clone)]
pub enum NotConsumed {
    Unknown,
    AlreadyUsed,
    Replaced,
    /// With the attempt, so its person can be told.
    Expired(Box<Attempt>),
}

/// Longer than the two requests to Zoom an exchange makes can take (2 × the 2-minute
/// maximum `zoom.request_timeout`).
const EXCHANGE_GRACE: chrono::TimeDelta = chrono::TimeDelta::minutes(5);

/// The connection's live attempt: who holds it, until when, and its status.
async fn live_attempt(
    tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
    connection: &ConnectionId,
) -> Result<Option<(String, DateTime<Utc>, String)>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT user_id, expires_at, status FROM migration_attempts \
         WHERE connection_id = ? AND status IN ('issued', 'exchanging')",
    )
    .bind(connection.as_str())
    .fetch_optional(&mut **tx)
    .await?)
}

const COLUMNS: &str = "id, connection_id, user_id, state_hash, client_id, client_secret_sealed, pkce_verifier_sealed, \
                       reply_application_id, reply_token_sealed, status, expires_at";

fn attempt_from_row(row: &SqliteRow) -> Result<Attempt, StoreError> {
    let connection: String = row.try_get("connection_id")?;
    Ok(Attempt {
        id: row.try_get("id")?,
        connection: ConnectionId::parse(&connection)
            .map_err(|_| StoreError::Corrupt(format!("connection id {connection:?}")))?,
        actor: row.try_get("user_id")?,
        state_hash: row.try_get("state_hash")?,
        client_id: row.try_get("client_id")?,
        client_secret_sealed: row.try_get("client_secret_sealed")?,
        pkce_verifier_sealed: row.try_get("pkce_verifier_sealed")?,
        reply_application_id: row.try_get("reply_application_id")?,
        reply_token_sealed: row.try_get("reply_token_sealed")?,
        status: row.try_get("status")?,
        expires_at: row.try_get("expires_at")?,
    })
}

impl Store {
    /// Creates a link for `new.connection`, in one transaction: links past their expiry are
    /// marked expired, the same person's live link is voided (a fresh link replaces it), and
    /// another person's live link wins. The partial unique index settles two submits racing.
    pub async fn create_attempt(
        &self,
        new: &NewAttempt,
        actor: Actor,
        now: DateTime<Utc>,
    ) -> Result<CreateOutcome, StoreError> {
        let mut tx = self.pool.begin().await?;
        // A link past its expiry is over; so is an exchange that never finished (the
        // process stopped mid-way) once its link has expired and every request to Zoom
        // it could still be making has timed out: neither may block a new link.
        sqlx::query(
            "UPDATE migration_attempts \
             SET status = CASE status WHEN 'issued' THEN 'expired' ELSE 'failed' END, \
                 outcome = CASE status WHEN 'issued' THEN outcome ELSE 'interrupted' END, finished_at = ? \
             WHERE connection_id = ? \
               AND ((status = 'issued' AND expires_at <= ?) OR (status = 'exchanging' AND expires_at <= ?))",
        )
        .bind(now)
        .bind(new.connection.as_str())
        .bind(now)
        .bind(now - EXCHANGE_GRACE)
        .execute(&mut *tx)
        .await?;
        match live_attempt(&mut tx, &new.connection).await? {
            Some(live) if live.2 == "exchanging" || live.0 != new.actor => {
                return Ok(CreateOutcome::Busy {
                    actor: live.0,
                    expires_at: live.1,
                    in_progress: live.2 == "exchanging",
                });
            }
            Some(_) => {
                sqlx::query(
                    "UPDATE migration_attempts SET status = 'voided', outcome = 'replaced by a fresh link', finished_at = ? \
                     WHERE connection_id = ? AND status = 'issued'",
                )
                .bind(now)
                .bind(new.connection.as_str())
                .execute(&mut *tx)
                .await?;
            }
            None => {}
        }
        let inserted = sqlx::query(&format!(
            "INSERT INTO migration_attempts (connection_id, user_id, state_hash, client_id, client_secret_sealed, \
             pkce_verifier_sealed, reply_application_id, reply_token_sealed, status, created_at, expires_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'issued', ?, ?) RETURNING {COLUMNS}"
        ))
        .bind(new.connection.as_str())
        .bind(&new.actor)
        .bind(&new.state_hash)
        .bind(&new.client_id)
        .bind(&new.client_secret_sealed)
        .bind(&new.pkce_verifier_sealed)
        .bind(&new.reply_application_id)
        .bind(&new.reply_token_sealed)
        .bind(now)
        .bind(new.expires_at)
        .fetch_one(&mut *tx)
        .await;
        let row = match inserted {
            Ok(row) => row,
            // Another submit for this connection committed first.
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                let (actor, expires_at, status) = live_attempt(&mut tx, &new.connection)
                    .await?
                    .unwrap_or_else(|| ("someone else".into(), new.expires_at, String::new()));
                return Ok(CreateOutcome::Busy {
                    actor,
                    expires_at,
                    in_progress: status == "exchanging",
                });
            }
            Err(e) => return Err(e.into()),
        };
        let attempt = attempt_from_row(&row)?;
        let detail = format!(
            "link #{} issued, expires {}",
            attempt.id,
            new.expires_at.to_rfc3339()
        );
        audit::record(
            &mut tx,
            now,
            actor,
            "migration.link",
            Some(&new.connection),
            &detail,
        )
        .await?;
        tx.commit().await?;
        Ok(CreateOutcome::Created(Box::new(attempt)))
    }

    /// The newest attempt `actor` made for `connection` that did not complete: a fresh
    /// link reuses its (sealed) credentials.
    pub async fn latest_attempt(
        &self,
        connection: &ConnectionId,
        actor: &str,
    ) -> Result<Option<Attempt>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM migration_attempts WHERE connection_id = ? AND user_id = ? \
             AND status != 'completed' ORDER BY id DESC LIMIT 1"
        ))
        .bind(connection.as_str())
        .bind(actor)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(attempt_from_row).transpose()
    }

    /// Takes the link for exchange, atomically: of two callbacks with the same `state`,
    /// exactly one gets the attempt.
    pub async fn consume_attempt(
        &self,
        state_hash: &[u8],
        now: DateTime<Utc>,
    ) -> Result<Result<Attempt, NotConsumed>, StoreError> {
        let row = sqlx::query(&format!(
            "UPDATE migration_attempts SET status = 'exchanging' \
             WHERE state_hash = ? AND status = 'issued' AND expires_at > ? RETURNING {COLUMNS}"
        ))
        .bind(state_hash)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        if let Some(row) = row {
            return Ok(Ok(attempt_from_row(&row)?));
        }
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM migration_attempts WHERE state_hash = ?"
        ))
        .bind(state_hash)
        .fetch_optional(&self.pool)
        .await?;
        let Some(attempt) = row.as_ref().map(attempt_from_row).transpose()? else {
            return Ok(Err(NotConsumed::Unknown));
        };
        Ok(Err(match attempt.status.as_str() {
            "voided" => NotConsumed::Replaced,
            "issued" | "expired" => {
                sqlx::query(
                    "UPDATE migration_attempts SET status = 'expired', finished_at = ? WHERE id = ? AND status = 'issued'",
                )
                .bind(now)
                .bind(attempt.id)
                .execute(&self.pool)
                .await?;
                NotConsumed::Expired(Box::new(attempt))
            }
            _ => NotConsumed::AlreadyUsed,
        }))
    }

    /// Closes an attempt that did not switch the connection, with its audit entry.
    pub async fn fail_attempt(
        &self,
        attempt: &Attempt,
        outcome: &str,
        actor: Actor,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("UPDATE migration_attempts SET status = 'failed', outcome = ?, finished_at = ? WHERE id = ?")
            .bind(outcome)
            .bind(now)
            .bind(attempt.id)
            .execute(&mut *tx)
            .await?;
        let detail = format!("link #{} failed: {outcome}", attempt.id);
        audit::record(
            &mut tx,
            now,
            actor,
            "migration.failed",
            Some(&attempt.connection),
            &detail,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
