//! Every sealed value at rest, re-sealed in one transaction: how `cutover rekey` moves
//! the secrets to a new key. The store knows where sealed values lie; what a seal is
//! bound to, and the keys, belong to the caller.

use super::{audit, AuditAction, Store, StoreError};
use crate::domain::{Actor, ConnectionId};
use crate::words::counted;
use chrono::{DateTime, Utc};
use sqlx::Row;

/// What a sealed value's seal is bound to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SealedOwner {
    /// A migration attempt, by the hash of its `state`.
    Attempt(Vec<u8>),
    /// A connection's tokens (stored, or queued for revocation).
    Connection(ConnectionId),
}

/// One sealed value: whose, which secret (`client_secret`, `access_token`, …), the bytes.
#[derive(Debug, Clone)]
pub struct SealedValue {
    pub owner: SealedOwner,
    pub what: &'static str,
    pub sealed: Vec<u8>,
}

/// What becomes of one sealed value.
#[derive(Debug)]
pub enum Reseal {
    /// Already sealed under the new key.
    Keep,
    Replace(Vec<u8>),
    /// It opens with no key given: nothing may be written.
    Unreadable,
}

/// How many values were re-sealed, already under the new key, or unreadable (then
/// nothing was written).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ResealSummary {
    pub resealed: usize,
    pub kept: usize,
    pub unreadable: usize,
    /// Token sets a refresh holds a live claim on: their sealed refresh token is what
    /// the refresh stores over, so nothing is written while there are any.
    pub refreshing: usize,
    /// Campaign-page sessions ended (a new key signs everyone out).
    pub signed_out: u64,
}

/// One place sealed values lie, as [`PLACES`] lists them.
type Place = (&'static str, &'static str, bool, &'static [&'static str]);

/// Where sealed values lie: (table, key column, whether the key is an attempt's state
/// hash or a connection id, the sealed columns). Every `*_sealed` column of the schema.
const PLACES: [Place; 3] = [
    (
        "migration_attempts",
        "id",
        true,
        &["client_secret", "pkce_verifier", "reply_token"],
    ),
    (
        "oauth_tokens",
        "connection_id",
        false,
        &["client_secret", "access_token", "refresh_token"],
    ),
    (
        "token_revocations",
        "id",
        false,
        &["client_secret", "access_token", "refresh_token"],
    ),
];

/// A replacement to write once every value has been offered: the statement, the new
/// sealed bytes, the row's key.
struct Replacement {
    sql: String,
    sealed: Vec<u8>,
    row_key: String,
}

impl Store {
    /// Offers every sealed value to `reseal` inside one write transaction (other writers
    /// wait): if any is unreadable, or a token refresh is under way, nothing is written;
    /// otherwise every replacement lands at once, with an audit entry.
    pub async fn reseal_all(
        &self,
        mut reseal: impl FnMut(&SealedValue) -> Reseal,
        actor: Actor,
        now: DateTime<Utc>,
    ) -> Result<ResealSummary, StoreError> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let mut summary = ResealSummary::default();
        // Only live claims: one a round left behind when it died lapses like any other.
        let refreshing: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM oauth_tokens WHERE refresh_claimed_until > ?")
                .bind(now)
                .fetch_one(&mut *tx)
                .await?;
        if refreshing > 0 {
            summary.refreshing = usize::try_from(refreshing).unwrap_or(usize::MAX);
            return Ok(summary);
        }
        let mut replacements = Vec::new();
        for place in PLACES {
            replacements.extend(offer_place(&mut tx, place, &mut reseal, &mut summary).await?);
        }
        if summary.unreadable > 0 {
            return Ok(summary);
        }
        for replacement in replacements {
            sqlx::query(&replacement.sql)
                .bind(replacement.sealed)
                .bind(replacement.row_key)
                .execute(&mut *tx)
                .await?;
        }
        summary.signed_out = super::sign_in::end_all_sessions(&mut tx).await?;
        let detail = format!(
            "{} re-sealed under the new sealing key, {} already under it",
            counted(summary.resealed, "secret", "secrets"),
            summary.kept
        );
        audit::record(
            &mut tx,
            now,
            actor,
            AuditAction::SecurityRekeyed,
            None,
            &detail,
        )
        .await?;
        self.commit(tx).await?;
        Ok(summary)
    }
}

/// Offers each sealed value in one table to `reseal`, counting what becomes of it, and
/// returns the replacements to write.
async fn offer_place(
    tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
    (table, key, by_attempt, secrets): Place,
    reseal: &mut impl FnMut(&SealedValue) -> Reseal,
    summary: &mut ResealSummary,
) -> Result<Vec<Replacement>, StoreError> {
    let columns: Vec<String> = secrets.iter().map(|s| format!("{s}_sealed")).collect();
    // Names from PLACES, never from input.
    let sql = format!(
        "SELECT CAST({key} AS TEXT) AS row_key, {}, {} FROM {table}",
        if by_attempt {
            "state_hash"
        } else {
            "connection_id"
        },
        columns.join(", ")
    );
    let mut replacements = Vec::new();
    for row in sqlx::query(&sql).fetch_all(&mut **tx).await? {
        let row_key: String = row.try_get("row_key")?;
        let owner = owner_of(&row, table, by_attempt)?;
        for (what, column) in secrets.iter().zip(&columns) {
            let Some(sealed) = row.try_get::<Option<Vec<u8>>, _>(column.as_str())? else {
                continue;
            };
            let value = SealedValue {
                owner: owner.clone(),
                what,
                sealed,
            };
            match reseal(&value) {
                Reseal::Keep => summary.kept += 1,
                Reseal::Unreadable => summary.unreadable += 1,
                Reseal::Replace(new) => {
                    summary.resealed += 1;
                    replacements.push(Replacement {
                        sql: format!("UPDATE {table} SET {column} = ? WHERE {key} = ?"),
                        sealed: new,
                        row_key: row_key.clone(),
                    });
                }
            }
        }
    }
    Ok(replacements)
}

/// Whose the sealed values in `row` of `table` are.
fn owner_of(
    row: &sqlx::sqlite::SqliteRow,
    table: &str,
    by_attempt: bool,
) -> Result<SealedOwner, StoreError> {
    if by_attempt {
        return Ok(SealedOwner::Attempt(row.try_get("state_hash")?));
    }
    let id: String = row.try_get("connection_id")?;
    ConnectionId::parse(&id)
        .map(SealedOwner::Connection)
        .map_err(|_| StoreError::Corrupt(format!("connection id {id:?} in {table}")))
}
