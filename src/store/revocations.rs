//! Old Zoom token sets waiting to be revoked: queued inside the transaction that replaced
//! or removed them (so a crash cannot lose one), revoked by the refresh scheduler, and
//! retried while Zoom cannot be reached.

use super::{audit, AuditAction, Store, StoreError};
use crate::domain::{Actor, ConnectionId};
use chrono::{DateTime, Utc};
use sqlx::{Row, Sqlite, Transaction};

/// What takes the place of a connection's stored tokens.
#[derive(Debug, Clone, Copy)]
pub(super) enum Successor<'a> {
    /// Nothing: the connection is gone.
    Nothing,
    /// A new authorization of this OAuth app, by this Zoom user when known.
    Grant {
        client_id: &'a str,
        zoom_user: Option<&'a str>,
    },
}

/// A queued revocation, secrets sealed as they were in `oauth_tokens`.
#[derive(Debug, Clone)]
pub struct Revocation {
    pub id: i64,
    pub connection: ConnectionId,
    pub client_id: String,
    pub client_secret_sealed: Vec<u8>,
    pub access_token_sealed: Vec<u8>,
    pub refresh_token_sealed: Option<Vec<u8>>,
    pub zoom_user_id: Option<String>,
    /// Tries made so far.
    pub tries: u32,
}

/// How a revocation ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RevocationEnd {
    Revoked,
    /// Not revoked after all: `why` (another connection now holds the same grant).
    Dropped(String),
    /// Zoom refused it for good, or it could not be done in time; `why` says what to do.
    GaveUp(String),
}

/// Moves the connection's stored tokens out of `oauth_tokens`, inside the caller's
/// transaction. They are queued for revocation unless the successor is a new
/// authorization of the same Zoom app by the same user (or a user cutover cannot see):
/// Zoom's revoke ends the app's authorization for that user, which would end the new one
/// too. Then the old copy is only dropped.
pub(super) async fn retire_tokens(
    tx: &mut Transaction<'_, Sqlite>,
    connection: &ConnectionId,
    successor: Successor<'_>,
    reason: &str,
    actor: Actor,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let old: Option<(String, String)> =
        sqlx::query_as("SELECT client_id, zoom_user_id FROM oauth_tokens WHERE connection_id = ?")
            .bind(connection.as_str())
            .fetch_optional(&mut **tx)
            .await?;
    let Some((old_client, old_user)) = old else {
        return Ok(());
    };
    let ends_successor = match successor {
        Successor::Nothing => false,
        Successor::Grant {
            client_id,
            zoom_user,
        } => client_id == old_client && zoom_user.is_none_or(|user| user == old_user),
    };
    let shared_with: Option<String> = sqlx::query_scalar(
        "SELECT connection_id FROM oauth_tokens WHERE client_id = ? AND zoom_user_id = ? AND connection_id != ? LIMIT 1",
    )
    .bind(&old_client)
    .bind(&old_user)
    .bind(connection.as_str())
    .fetch_optional(&mut **tx)
    .await?;
    if !ends_successor && shared_with.is_none() {
        sqlx::query(
            "INSERT INTO token_revocations (connection_id, client_id, client_secret_sealed, access_token_sealed, \
             refresh_token_sealed, zoom_user_id, reason, queued_at, next_try_at) \
             SELECT connection_id, client_id, client_secret_sealed, access_token_sealed, refresh_token_sealed, \
             zoom_user_id, ?, ?, ? FROM oauth_tokens WHERE connection_id = ?",
        )
        .bind(reason)
        .bind(now)
        .bind(now)
        .bind(connection.as_str())
        .execute(&mut **tx)
        .await?;
        let detail =
            format!("{reason}: the earlier Zoom token (app {old_client}) is to be revoked");
        audit::record(
            tx,
            now,
            actor,
            AuditAction::TokenRevocationQueued,
            Some(connection),
            &detail,
        )
        .await?;
    } else {
        let whose = match &shared_with {
            Some(other) => format!("`{other}`'s token"),
            None => "the new authorization".to_owned(),
        };
        let detail = format!(
            "{reason}: the earlier Zoom token was dropped, not revoked: it is for the same app ({old_client}) \
             and user as {whose}, which revoking would end too"
        );
        audit::record(
            tx,
            now,
            actor,
            AuditAction::TokenDropped,
            Some(connection),
            &detail,
        )
        .await?;
    }
    sqlx::query("DELETE FROM oauth_tokens WHERE connection_id = ?")
        .bind(connection.as_str())
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Tokens refreshed from the set `from` after it was retired (sealed: the access token,
/// the refresh token if Zoom sent one) follow it into the revocation queue, inside the
/// caller's transaction. `false` when it is not queued (it was dropped, as they are then).
pub(super) async fn follow_retired(
    tx: &mut Transaction<'_, Sqlite>,
    connection: &ConnectionId,
    from: &[u8],
    (access, refresh): (&[u8], Option<&[u8]>),
) -> Result<bool, StoreError> {
    let queued = sqlx::query(
        "UPDATE token_revocations SET access_token_sealed = ?, refresh_token_sealed = COALESCE(?, refresh_token_sealed) \
         WHERE connection_id = ? AND refresh_token_sealed = ?",
    )
    .bind(access)
    .bind(refresh)
    .bind(connection.as_str())
    .bind(from)
    .execute(&mut **tx)
    .await?
    .rows_affected();
    Ok(queued > 0)
}

impl Store {
    /// Up to `limit` revocations whose next try is due, oldest first.
    pub async fn revocations_due(
        &self,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<Revocation>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, connection_id, client_id, client_secret_sealed, access_token_sealed, refresh_token_sealed, \
             zoom_user_id, tries FROM token_revocations WHERE next_try_at <= ? ORDER BY id LIMIT ?",
        )
        .bind(now)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let connection: String = row.try_get("connection_id")?;
                let tries: i64 = row.try_get("tries")?;
                Ok(Revocation {
                    id: row.try_get("id")?,
                    connection: ConnectionId::parse(&connection).map_err(|_| {
                        StoreError::Corrupt(format!("connection id {connection:?}"))
                    })?,
                    client_id: row.try_get("client_id")?,
                    client_secret_sealed: row.try_get("client_secret_sealed")?,
                    access_token_sealed: row.try_get("access_token_sealed")?,
                    refresh_token_sealed: row.try_get("refresh_token_sealed")?,
                    zoom_user_id: row.try_get("zoom_user_id")?,
                    tries: u32::try_from(tries).unwrap_or(u32::MAX),
                })
            })
            .collect()
    }

    /// Takes a due revocation for one try until `until`: `false` when another round (another
    /// cutover on this database) took it first.
    pub async fn claim_revocation(
        &self,
        revocation: &Revocation,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let claimed = sqlx::query(
            "UPDATE token_revocations SET next_try_at = ? WHERE id = ? AND next_try_at <= ?",
        )
        .bind(until)
        .bind(revocation.id)
        .bind(now)
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(claimed > 0)
    }

    /// Another connection holds a token of the same app and Zoom user now: revoking would
    /// end it. Its id, if so.
    pub async fn revocation_shares_grant(
        &self,
        revocation: &Revocation,
    ) -> Result<Option<String>, StoreError> {
        self.grant_holder(
            &revocation.client_id,
            revocation.zoom_user_id.as_deref(),
            None,
        )
        .await
    }

    /// A connection other than `except` that holds a token of this app authorized by this
    /// Zoom user: its id, if any. When who authorized is not known (a token that failed
    /// verification), any holder of the app counts: it may be the same user, and Zoom's
    /// revoke would end that connection's token too.
    pub async fn grant_holder(
        &self,
        client_id: &str,
        zoom_user: Option<&str>,
        except: Option<&ConnectionId>,
    ) -> Result<Option<String>, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT connection_id FROM oauth_tokens WHERE client_id = ?1 AND (?2 IS NULL OR zoom_user_id = ?2) \
             AND connection_id IS NOT ?3 LIMIT 1",
        )
        .bind(client_id)
        .bind(zoom_user)
        .bind(except.map(ConnectionId::as_str))
        .fetch_optional(&self.pool)
        .await?)
    }

    /// The revocation is over: its row (and the sealed tokens in it) goes, the audit log
    /// says how it ended (once, whichever process ends it).
    pub async fn end_revocation(
        &self,
        revocation: &Revocation,
        end: &RevocationEnd,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        let deleted = sqlx::query("DELETE FROM token_revocations WHERE id = ?")
            .bind(revocation.id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if deleted == 0 {
            return Ok(());
        }
        let (action, detail) = match end {
            RevocationEnd::Revoked => (
                AuditAction::TokenRevoked,
                format!(
                    "Zoom revoked the earlier token (app {})",
                    revocation.client_id
                ),
            ),
            RevocationEnd::Dropped(why) => (AuditAction::TokenDropped, why.clone()),
            RevocationEnd::GaveUp(why) => (AuditAction::TokenRevokeFailed, why.clone()),
        };
        audit::record(
            &mut tx,
            now,
            Actor::System,
            action,
            Some(&revocation.connection),
            &detail,
        )
        .await?;
        self.commit(tx).await?;
        Ok(())
    }

    /// Zoom could not be reached: try again at `next_try_at`.
    pub async fn postpone_revocation(
        &self,
        revocation: &Revocation,
        error: &str,
        next_try_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE token_revocations SET tries = tries + 1, last_error = ?, next_try_at = ? WHERE id = ?",
        )
        .bind(error)
        .bind(next_try_at)
        .bind(revocation.id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}
