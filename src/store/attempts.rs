//! Migration attempts: one personal authorization link each, and what became of it.

use super::{audit, AuditAction, Store, StoreError};
use crate::domain::{Actor, Backend, ConnectionId, Snowflake, UserId};
use chrono::{DateTime, Utc};
use sqlx::sqlite::SqliteRow;
use sqlx::Row;

/// Where an attempt stands (see the `celigo` migration for the life cycle).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptStatus {
    /// `celigo`: integrator.io is being changed; no link is out yet.
    Preparing,
    /// The link is out and unused.
    Issued,
    /// `direct`: the browser came back and the code is being exchanged.
    Exchanging,
    /// `celigo`: the link was opened; the connection is pinged until it works.
    Watching,
    Completed,
    Failed,
    Voided,
    Expired,
}

impl AttemptStatus {
    const ALL: [Self; 8] = [
        Self::Preparing,
        Self::Issued,
        Self::Exchanging,
        Self::Watching,
        Self::Completed,
        Self::Failed,
        Self::Voided,
        Self::Expired,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AttemptStatus::Preparing => "preparing",
            AttemptStatus::Issued => "issued",
            AttemptStatus::Exchanging => "exchanging",
            AttemptStatus::Watching => "watching",
            AttemptStatus::Completed => "completed",
            AttemptStatus::Failed => "failed",
            AttemptStatus::Voided => "voided",
            AttemptStatus::Expired => "expired",
        }
    }

    fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == raw)
    }

    /// Work on the connection is under way: nobody else may start another.
    fn in_progress(self) -> bool {
        matches!(
            self,
            AttemptStatus::Preparing | AttemptStatus::Exchanging | AttemptStatus::Watching
        )
    }
}

/// What a new link needs stored. Secrets arrive sealed.
#[derive(Debug, Clone)]
pub struct NewAttempt {
    pub connection: ConnectionId,
    pub actor: Actor,
    pub backend: Backend,
    pub state_hash: Vec<u8>,
    pub client_id: String,
    /// `direct` only: `celigo` hands the secret to integrator.io and keeps none.
    pub client_secret_sealed: Option<Vec<u8>>,
    pub pkce_verifier_sealed: Option<Vec<u8>>,
    /// `celigo`: the iClient the connection uses, when already known (a fresh link).
    pub iclient_id: Option<String>,
    pub reply_application_id: Option<String>,
    pub reply_token_sealed: Option<Vec<u8>>,
    pub expires_at: DateTime<Utc>,
    /// `Issued`, or `Preparing` when integrator.io must be changed before the link is out.
    pub status: AttemptStatus,
}

/// A stored attempt, secrets still sealed.
#[derive(Debug, Clone)]
pub struct Attempt {
    pub id: i64,
    pub connection: ConnectionId,
    pub actor: Actor,
    pub backend: Backend,
    pub state_hash: Vec<u8>,
    pub client_id: String,
    pub client_secret_sealed: Option<Vec<u8>>,
    pub pkce_verifier_sealed: Option<Vec<u8>>,
    pub iclient_id: Option<String>,
    pub reply_application_id: Option<String>,
    pub reply_token_sealed: Option<Vec<u8>>,
    pub status: AttemptStatus,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub watch_until: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone)]
pub enum CreateOutcome {
    Created(Box<Attempt>),
    /// Someone else holds a live link for this connection, or a switch of it is under
    /// way right now (`in_progress`).
    Busy {
        /// `None`: a racing submit won, and had ended before it could be read.
        actor: Option<Actor>,
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
    /// Ended because the connection's owner changed; with who owns it now, so the person
    /// knows whom to ask.
    Reassigned {
        connection: ConnectionId,
        owner: Option<UserId>,
    },
    /// With the attempt, so its person can be told.
    Expired(Box<Attempt>),
}

/// Longer than the two requests to Zoom an exchange makes can take (2 × the 2-minute
/// maximum `zoom.request_timeout`).
const EXCHANGE_GRACE: chrono::TimeDelta = chrono::TimeDelta::minutes(5);
/// Longer than the preparation in integrator.io can take with every retry (a handful of
/// requests, each within `celigo.request_timeout`, at most 2 minutes, retried a few times).
pub const PREPARE_GRACE: chrono::TimeDelta = chrono::TimeDelta::minutes(20);

pub(super) const LIVE: &str = "('preparing', 'issued', 'exchanging', 'watching')";
/// The outcome of an attempt ended because its connection changed owner (its link then
/// says so, rather than "replaced").
pub(super) const REASSIGNED: &str = "the connection was reassigned";

/// The connection's live attempt: who holds it, until when, and its status.
async fn live_attempt(
    tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
    connection: &ConnectionId,
) -> Result<Option<(Actor, DateTime<Utc>, AttemptStatus)>, StoreError> {
    let row: Option<(Actor, DateTime<Utc>, String)> = sqlx::query_as(&format!(
        "SELECT user_id, expires_at, status FROM migration_attempts \
         WHERE connection_id = ? AND status IN {LIVE}"
    ))
    .bind(connection.as_str())
    .fetch_optional(&mut **tx)
    .await?;
    row.map(|(actor, expires, status)| Ok((actor, expires, parse_status(&status)?)))
        .transpose()
}

fn parse_status(raw: &str) -> Result<AttemptStatus, StoreError> {
    AttemptStatus::parse(raw).ok_or_else(|| StoreError::Corrupt(format!("attempt status {raw:?}")))
}

pub(super) const COLUMNS: &str = "id, connection_id, user_id, backend, state_hash, client_id, client_secret_sealed, \
                       pkce_verifier_sealed, iclient_id, reply_application_id, reply_token_sealed, status, \
                       created_at, expires_at, watch_until";

pub(super) fn attempt_from_row(row: &SqliteRow) -> Result<Attempt, StoreError> {
    let connection: String = row.try_get("connection_id")?;
    let backend: String = row.try_get("backend")?;
    let status: String = row.try_get("status")?;
    Ok(Attempt {
        id: row.try_get("id")?,
        connection: ConnectionId::parse(&connection)
            .map_err(|_| StoreError::Corrupt(format!("connection id {connection:?}")))?,
        actor: row.try_get("user_id")?,
        backend: Backend::parse(&backend)
            .ok_or_else(|| StoreError::Corrupt(format!("backend {backend:?}")))?,
        state_hash: row.try_get("state_hash")?,
        client_id: row.try_get("client_id")?,
        client_secret_sealed: row.try_get("client_secret_sealed")?,
        pkce_verifier_sealed: row.try_get("pkce_verifier_sealed")?,
        iclient_id: row.try_get("iclient_id")?,
        reply_application_id: row.try_get("reply_application_id")?,
        reply_token_sealed: row.try_get("reply_token_sealed")?,
        status: parse_status(&status)?,
        created_at: row.try_get("created_at")?,
        expires_at: row.try_get("expires_at")?,
        watch_until: row.try_get("watch_until")?,
    })
}

/// Ends attempts whose time is up (of one connection, or all), so none blocks a new link
/// or a sync: a link past its expiry; an exchange that never finished (the process
/// stopped mid-way) once every request to Zoom it could still be making has timed out;
/// a watch past its end; a preparation that cannot still be running.
pub(super) async fn release_stale(
    tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
    connection: Option<&ConnectionId>,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE migration_attempts \
         SET status = CASE status WHEN 'issued' THEN 'expired' ELSE 'failed' END, \
             outcome = CASE status WHEN 'issued' THEN outcome WHEN 'watching' THEN 'not authorized in time' \
                       ELSE 'interrupted' END, \
             finished_at = ?1 \
         WHERE (?2 IS NULL OR connection_id = ?2) \
           AND ((status = 'issued' AND expires_at <= ?1) \
             OR (status = 'exchanging' AND expires_at <= ?3) \
             OR (status = 'watching' AND watch_until <= ?1) \
             OR (status = 'preparing' AND created_at <= ?4))",
    )
    .bind(now)
    .bind(connection.map(ConnectionId::as_str))
    .bind(now - EXCHANGE_GRACE)
    .bind(now - PREPARE_GRACE)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

impl Store {
    /// Creates an attempt for `new.connection`, in one transaction: attempts whose time
    /// is up are ended, the same person's unused or watched link is voided (a fresh link
    /// or a fresh form replaces it), and anyone else's live attempt — or work under way —
    /// wins. The partial unique index settles two submits racing.
    pub async fn create_attempt(
        &self,
        new: &NewAttempt,
        actor: Actor,
        now: DateTime<Utc>,
    ) -> Result<CreateOutcome, StoreError> {
        let mut tx = self.pool.begin().await?;
        release_stale(&mut tx, Some(&new.connection), now).await?;
        match live_attempt(&mut tx, &new.connection).await? {
            Some((holder, expires_at, status)) if status.in_progress() && holder == new.actor => {
                if status != AttemptStatus::Watching {
                    return Ok(CreateOutcome::Busy {
                        actor: Some(holder),
                        expires_at,
                        in_progress: true,
                    });
                }
                void_own(&mut tx, &new.connection, now).await?;
            }
            Some((holder, expires_at, status)) if holder != new.actor => {
                return Ok(CreateOutcome::Busy {
                    actor: Some(holder),
                    expires_at,
                    in_progress: status.in_progress(),
                });
            }
            Some(_) => void_own(&mut tx, &new.connection, now).await?,
            None => {}
        }
        let inserted = sqlx::query(&format!(
            "INSERT INTO migration_attempts (connection_id, user_id, backend, state_hash, client_id, \
             client_secret_sealed, pkce_verifier_sealed, iclient_id, reply_application_id, reply_token_sealed, \
             status, created_at, expires_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING {COLUMNS}"
        ))
        .bind(new.connection.as_str())
        .bind(new.actor)
        .bind(new.backend.as_str())
        .bind(&new.state_hash)
        .bind(&new.client_id)
        .bind(&new.client_secret_sealed)
        .bind(&new.pkce_verifier_sealed)
        .bind(&new.iclient_id)
        .bind(&new.reply_application_id)
        .bind(&new.reply_token_sealed)
        .bind(new.status.as_str())
        .bind(now)
        .bind(new.expires_at)
        .fetch_one(&mut *tx)
        .await;
        let row = match inserted {
            Ok(row) => row,
            // Another submit for this connection committed first.
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                let (actor, expires_at, in_progress) =
                    live_attempt(&mut tx, &new.connection).await?.map_or_else(
                        || (None, new.expires_at, true),
                        |(a, e, s)| (Some(a), e, s.in_progress()),
                    );
                return Ok(CreateOutcome::Busy {
                    actor,
                    expires_at,
                    in_progress,
                });
            }
            Err(e) => return Err(e.into()),
        };
        let attempt = attempt_from_row(&row)?;
        if new.status == AttemptStatus::Issued {
            record_issued(&mut tx, &attempt, actor, now).await?;
        }
        self.commit(tx).await?;
        Ok(CreateOutcome::Created(Box::new(attempt)))
    }

    /// The newest attempt `actor` made for `connection` that did not complete: a fresh
    /// link reuses its (sealed) credentials, or its iClient.
    pub async fn latest_attempt(
        &self,
        connection: &ConnectionId,
        actor: Actor,
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

    /// Whether the same person made a later attempt for the same connection.
    pub async fn newer_attempt_exists(&self, attempt: &Attempt) -> Result<bool, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM migration_attempts WHERE connection_id = ? AND user_id = ? AND id > ?)",
        )
        .bind(attempt.connection.as_str())
        .bind(attempt.actor)
        .bind(attempt.id)
        .fetch_one(&self.pool)
        .await?)
    }

    /// Takes the link, atomically: of two browsers with the same `state`, exactly one gets
    /// the attempt. A `direct` link turns to exchanging; a `celigo` one to watching until
    /// `watch_grace` after the link's expiry. A link of the other backend is not one this
    /// route gave out.
    pub async fn consume_attempt(
        &self,
        state_hash: &[u8],
        backend: Backend,
        now: DateTime<Utc>,
        watch_grace: Option<chrono::TimeDelta>,
    ) -> Result<Result<Attempt, NotConsumed>, StoreError> {
        let next = match backend {
            Backend::Direct => AttemptStatus::Exchanging,
            Backend::Celigo => AttemptStatus::Watching,
        };
        let watch_until = match watch_grace {
            Some(grace) => sqlx::query_scalar::<_, DateTime<Utc>>(
                "SELECT expires_at FROM migration_attempts WHERE state_hash = ? AND backend = ?",
            )
            .bind(state_hash)
            .bind(backend.as_str())
            .fetch_optional(&self.pool)
            .await?
            .map(|expires| expires + grace),
            None => None,
        };
        let row = sqlx::query(&format!(
            "UPDATE migration_attempts SET status = ?, opened_at = ?, watch_until = ? \
             WHERE state_hash = ? AND backend = ? AND status = 'issued' AND expires_at > ? RETURNING {COLUMNS}"
        ))
        .bind(next.as_str())
        .bind(now)
        .bind(watch_until)
        .bind(state_hash)
        .bind(backend.as_str())
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        if let Some(row) = row {
            return Ok(Ok(attempt_from_row(&row)?));
        }
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM migration_attempts WHERE state_hash = ? AND backend = ?"
        ))
        .bind(state_hash)
        .bind(backend.as_str())
        .fetch_optional(&self.pool)
        .await?;
        let Some(attempt) = row.as_ref().map(attempt_from_row).transpose()? else {
            return Ok(Err(NotConsumed::Unknown));
        };
        Ok(Err(match attempt.status {
            AttemptStatus::Voided => match self.reassigned_to(attempt.id).await? {
                Some(owner) => NotConsumed::Reassigned {
                    connection: attempt.connection,
                    owner,
                },
                None => NotConsumed::Replaced,
            },
            AttemptStatus::Issued | AttemptStatus::Expired => {
                sqlx::query(
                    "UPDATE migration_attempts SET status = 'expired', finished_at = ? WHERE id = ? AND status = 'issued'",
                )
                .bind(now)
                .bind(attempt.id)
                .execute(&self.pool)
                .await?;
                NotConsumed::Expired(Box::new(attempt))
            }
            // Not issued yet: nobody can have been given this link.
            AttemptStatus::Preparing => NotConsumed::Unknown,
            _ => NotConsumed::AlreadyUsed,
        }))
    }

    /// Who owns the connection now, if attempt `id` was ended because its owner changed.
    async fn reassigned_to(&self, id: i64) -> Result<Option<Option<UserId>>, StoreError> {
        let row: Option<(Option<String>,)> = sqlx::query_as(
            "SELECT c.owner_id FROM migration_attempts a JOIN connections c ON c.id = a.connection_id \
             WHERE a.id = ? AND a.outcome = ?",
        )
        .bind(id)
        .bind(REASSIGNED)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|(owner,)| {
            owner
                .map(|o| {
                    Snowflake::parse(&o).map_err(|_| StoreError::Corrupt(format!("owner id {o:?}")))
                })
                .transpose()
        })
        .transpose()
    }

    /// Gives a taken `celigo` link back (integrator.io could not say where to send the
    /// browser), so the person can open it again.
    pub async fn release_opened_attempt(&self, attempt: &Attempt) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE migration_attempts SET status = 'issued', opened_at = NULL, watch_until = NULL \
             WHERE id = ? AND status = 'watching'",
        )
        .bind(attempt.id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Closes a live attempt that did not switch the connection, with its audit entry.
    /// `false` when it was no longer live (replaced or finished meanwhile).
    pub async fn fail_attempt(
        &self,
        attempt: &Attempt,
        outcome: &str,
        actor: Actor,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        let closed = sqlx::query(&format!(
            "UPDATE migration_attempts SET status = 'failed', outcome = ?, finished_at = ? \
             WHERE id = ? AND status IN {LIVE}"
        ))
        .bind(outcome)
        .bind(now)
        .bind(attempt.id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if closed == 0 {
            return Ok(false);
        }
        let detail = format!("link #{} failed: {outcome}", attempt.id);
        audit::record(
            &mut tx,
            now,
            actor,
            AuditAction::MigrationFailed,
            Some(&attempt.connection),
            &detail,
        )
        .await?;
        self.commit(tx).await?;
        Ok(true)
    }

    /// The attempt as it is now (a watcher checks it was not replaced meanwhile).
    pub async fn attempt(&self, id: i64) -> Result<Option<Attempt>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM migration_attempts WHERE id = ?"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(attempt_from_row).transpose()
    }

    /// `celigo` attempts with work to pick up after a start: links being watched, and
    /// preparations that no process can still be running (`prepared_before`).
    pub async fn celigo_attempts_to_resume(
        &self,
        prepared_before: DateTime<Utc>,
    ) -> Result<Vec<Attempt>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM migration_attempts WHERE backend = 'celigo' \
             AND (status = 'watching' OR (status = 'preparing' AND created_at <= ?)) ORDER BY id"
        ))
        .bind(prepared_before)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(attempt_from_row).collect()
    }

    /// The iClients the latest earlier `celigo` attempts created for `connection`, other
    /// than `keep` (older ones were cleaned up by the attempts after them).
    pub async fn earlier_iclients(
        &self,
        connection: &ConnectionId,
        keep: &str,
    ) -> Result<Vec<String>, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT iclient_id FROM migration_attempts \
             WHERE connection_id = ? AND iclient_id IS NOT NULL AND iclient_id != ? \
             GROUP BY iclient_id ORDER BY MAX(id) DESC LIMIT 5",
        )
        .bind(connection.as_str())
        .bind(keep)
        .fetch_all(&self.pool)
        .await?)
    }
}

/// Voids the connection's unused or watched link (the same person asked again).
async fn void_own(
    tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
    connection: &ConnectionId,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE migration_attempts SET status = 'voided', outcome = 'replaced by a fresh link', finished_at = ? \
         WHERE connection_id = ? AND status IN ('issued', 'watching')",
    )
    .bind(now)
    .bind(connection.as_str())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub(super) async fn record_issued(
    tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
    attempt: &Attempt,
    actor: Actor,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let detail = format!(
        "link #{} issued ({}), expires {}",
        attempt.id,
        attempt.backend,
        attempt.expires_at.to_rfc3339()
    );
    audit::record(
        tx,
        now,
        actor,
        AuditAction::MigrationLinkIssued,
        Some(&attempt.connection),
        &detail,
    )
    .await
}
