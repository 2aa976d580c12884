//! A sync from integrator.io, applied in one transaction: integrator.io is the source of
//! truth for name, integration, authentication and offline state; owners are cutover's.

use super::attempts::release_stale;
use super::revocations::{retire_tokens, Successor};
use super::{audit, AuditAction, Store, StoreError};
use crate::domain::{
    Actor, ConnectionId, ConnectionState, MigratedVia, RemoteAuth, SyncedConnection,
};
use chrono::{DateTime, Utc};
use std::collections::HashMap;

/// What a sync changed in cutover's inventory.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SyncSummary {
    pub new: usize,
    /// Name, integration, offline state or authentication changed (switches included).
    pub changed: usize,
    pub unchanged: usize,
    /// Found on OAuth 2.0 in integrator.io, switched there by other means than cutover.
    pub switched_elsewhere: usize,
    /// Gone from integrator.io: kept, marked removed, out of the default lists.
    pub removed: usize,
    /// Back in integrator.io after having been marked removed.
    pub restored: usize,
    /// integrator.io marks them offline.
    pub offline: usize,
    /// Switched by cutover's `direct` backend, which leaves integrator.io on JWT: kept
    /// migrated, as an import keeps them.
    pub kept_direct: usize,
}

#[derive(sqlx::FromRow)]
struct KnownRow {
    id: String,
    name: String,
    integration: String,
    state: String,
    source: String,
    offline: Option<bool>,
    removed_at: Option<DateTime<Utc>>,
    migrated_via: Option<String>,
    updated_at: DateTime<Utc>,
    busy: bool,
}

/// What the store has of one connection, to compare with integrator.io.
struct Known {
    name: String,
    integration: String,
    state: ConnectionState,
    source: String,
    offline: Option<bool>,
    removed: bool,
    via: Option<MigratedVia>,
    /// A live link or switch decides its state, not the sync; so does a change made
    /// after the listing was read (the listing may predate it).
    settled_elsewhere: bool,
}

/// Where a connection should stand given what integrator.io says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Target {
    state: ConnectionState,
    /// The audit line for a change of state.
    why: Option<&'static str>,
    /// It is now on OAuth 2.0 by integrator.io's doing.
    by_integrator: bool,
    /// A `direct` switch kept against integrator.io's word.
    kept_direct: bool,
}

fn target(known: &Known, record: &SyncedConnection) -> Target {
    use ConnectionState::*;
    let keep = |kept_direct| Target {
        state: known.state,
        why: None,
        by_integrator: false,
        kept_direct,
    };
    let change = |state, why: &'static str, by_integrator| Target {
        state,
        why: Some(why),
        by_integrator,
        kept_direct: false,
    };
    if known.settled_elsewhere {
        return keep(false);
    }
    let direct = known.via == Some(MigratedVia::Direct) && known.state != Pending;
    match (record.auth, known.state) {
        (RemoteAuth::OAuth2 { authorized: true }, _) if direct => change(
            Migrated,
            "integrator.io now has it on OAuth 2.0 too, authorized",
            true,
        ),
        (_, _) if direct => keep(true),
        (RemoteAuth::Jwt, Pending) => keep(false),
        (RemoteAuth::Jwt, _) => change(Pending, "integrator.io shows it on JWT", false),
        (RemoteAuth::OAuth2 { authorized: true }, Pending | AwaitingAuthorization) => change(
            Migrated,
            "switched to OAuth 2.0 and authorized in integrator.io, outside cutover",
            true,
        ),
        (RemoteAuth::OAuth2 { authorized: true }, _) => keep(false),
        (RemoteAuth::OAuth2 { authorized: false }, Pending) => change(
            AwaitingAuthorization,
            "switched to OAuth 2.0 in integrator.io, not authorized yet",
            false,
        ),
        // Where integrator.io keeps a token is not documented: a working connection
        // without a visible token stays migrated; only one that is offline goes back.
        (RemoteAuth::OAuth2 { authorized: false }, Migrated) if record.offline == Some(true) => {
            change(
                AwaitingAuthorization,
                "integrator.io holds no token for it and has it offline",
                false,
            )
        }
        (RemoteAuth::OAuth2 { authorized: false }, _) => keep(false),
    }
}

fn auth_of(state: ConnectionState) -> &'static str {
    match state {
        ConnectionState::Pending => "jwt",
        _ => "oauth2",
    }
}

impl Store {
    /// The connections a sync from integrator.io brought in and it still lists.
    pub async fn celigo_connection_ids(&self) -> Result<Vec<String>, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT id FROM connections WHERE source = 'celigo' AND removed_at IS NULL ORDER BY id",
        )
        .fetch_all(&self.pool)
        .await?)
    }

    /// Applies integrator.io's listing, read from `listed_at` on: connections it lists
    /// are inserted or updated (by id, whatever their source); those in `removed` (gone,
    /// as integrator.io confirmed) are marked removed. Owners are never touched.
    pub async fn sync_from_celigo(
        &self,
        records: &[SyncedConnection],
        removed: &[ConnectionId],
        listed_at: DateTime<Utc>,
        actor: Actor,
        now: DateTime<Utc>,
    ) -> Result<SyncSummary, StoreError> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        release_stale(&mut tx, None, now).await?;
        let known = known_connections(&mut tx, listed_at).await?;
        let mut summary = SyncSummary::default();
        for record in records {
            apply_listed(&mut tx, &known, record, actor, now, &mut summary).await?;
        }
        for id in removed {
            if mark_gone(&mut tx, id, actor, now).await? {
                summary.removed += 1;
            }
        }
        let detail = format!(
            "sync from integrator.io: {}; {} new, {} changed, {} switched in integrator.io, \
             {} removed, {} offline",
            crate::words::counted(records.len(), "Zoom connection", "Zoom connections"),
            summary.new,
            summary.changed,
            summary.switched_elsewhere,
            summary.removed,
            summary.offline
        );
        audit::record(
            &mut tx,
            now,
            actor,
            AuditAction::ConnectionsSynced,
            None,
            &detail,
        )
        .await?;
        self.commit(tx).await?;
        Ok(summary)
    }
}

/// Every connection the store has, by id, as the sync compares it with the listing.
async fn known_connections(
    tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
    listed_at: DateTime<Utc>,
) -> Result<HashMap<String, Known>, StoreError> {
    let rows: Vec<KnownRow> = sqlx::query_as(
        "SELECT c.id, c.name, c.integration, c.state, c.source, c.offline, c.removed_at, c.migrated_via, \
         c.updated_at, EXISTS (SELECT 1 FROM migration_attempts a WHERE a.connection_id = c.id \
                 AND a.status IN ('preparing', 'issued', 'exchanging', 'watching')) AS busy \
         FROM connections c",
    )
    .fetch_all(&mut **tx)
    .await?;
    let mut known = HashMap::with_capacity(rows.len());
    for row in rows {
        let parsed = Known {
            name: row.name,
            integration: row.integration,
            state: ConnectionState::parse(&row.state)
                .ok_or_else(|| StoreError::Corrupt(format!("state {:?}", row.state)))?,
            source: row.source,
            offline: row.offline,
            removed: row.removed_at.is_some(),
            via: row.migrated_via.as_deref().and_then(MigratedVia::parse),
            settled_elsewhere: row.busy || row.updated_at > listed_at,
        };
        known.insert(row.id, parsed);
    }
    Ok(known)
}

/// One connection the listing holds: inserted when it is new, otherwise brought to what
/// integrator.io says, with an audit entry for a restore and for a change of state.
async fn apply_listed(
    tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
    known: &HashMap<String, Known>,
    record: &SyncedConnection,
    actor: Actor,
    now: DateTime<Utc>,
    summary: &mut SyncSummary,
) -> Result<(), StoreError> {
    if record.offline == Some(true) {
        summary.offline += 1;
    }
    let Some(existing) = known.get(record.id.as_str()) else {
        insert(tx, record, now).await?;
        summary.new += 1;
        return Ok(());
    };
    let target = target(existing, record);
    if target.kept_direct {
        summary.kept_direct += 1;
    }
    if is_unchanged(existing, record, &target) {
        summary.unchanged += 1;
        return Ok(());
    }
    summary.changed += 1;
    let switched = target.by_integrator && existing.state != ConnectionState::Migrated;
    update(tx, record, &target, switched, now).await?;
    if switched {
        summary.switched_elsewhere += 1;
    }
    if existing.removed {
        summary.restored += 1;
        audit::record(
            tx,
            now,
            actor,
            AuditAction::ConnectionRestored,
            Some(&record.id),
            "listed by integrator.io again",
        )
        .await?;
    }
    if let Some(why) = target.why {
        let action = if switched {
            AuditAction::MigrationSwitchedElsewhere
        } else {
            AuditAction::ConnectionStateChanged
        };
        let detail = format!("{why}: now {}", target.state.label());
        audit::record(tx, now, actor, action, Some(&record.id), &detail).await?;
    }
    Ok(())
}

/// The store already says what integrator.io says, and its state stays.
fn is_unchanged(existing: &Known, record: &SyncedConnection, target: &Target) -> bool {
    existing.name == record.name.as_str()
        && existing.integration == record.integration.as_str()
        && existing.offline == record.offline
        && existing.source == "celigo"
        && !existing.removed
        && target.why.is_none()
}

/// Writes what integrator.io says of a known connection, in `target`'s state; `switched`
/// when integrator.io switched it (then it is migrated by integrator.io, now).
async fn update(
    tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
    record: &SyncedConnection,
    target: &Target,
    switched: bool,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE connections SET name = ?1, integration = ?2, offline = ?3, source = 'celigo', removed_at = NULL, \
         updated_at = ?4, auth_type = ?5, state = ?6, \
         migrated_by = CASE WHEN ?7 THEN 'integrator.io' \
                            WHEN ?6 IN ('migrated', 'needs_reauthorization') THEN migrated_by END, \
         migrated_at = CASE WHEN ?7 THEN ?4 \
                            WHEN ?6 IN ('migrated', 'needs_reauthorization') THEN migrated_at END, \
         migrated_via = CASE WHEN ?7 OR ?8 THEN 'integrator.io' \
                             WHEN ?6 IN ('migrated', 'needs_reauthorization') THEN migrated_via END \
         WHERE id = ?9",
    )
    .bind(record.name.as_str())
    .bind(record.integration.as_str())
    .bind(record.offline)
    .bind(now)
    .bind(auth_of(target.state))
    .bind(target.state.as_str())
    .bind(switched)
    .bind(target.by_integrator)
    .bind(record.id.as_str())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Marks a connection integrator.io no longer has as removed (kept for the record), its
/// tokens retired, with its audit entry. `false` when there was nothing to mark: not from
/// integrator.io, or already marked.
async fn mark_gone(
    tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
    id: &ConnectionId,
    actor: Actor,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let marked = sqlx::query(
        "UPDATE connections SET removed_at = ?, updated_at = ? \
         WHERE id = ? AND source = 'celigo' AND removed_at IS NULL",
    )
    .bind(now)
    .bind(now)
    .bind(id.as_str())
    .execute(&mut **tx)
    .await?
    .rows_affected();
    if marked == 0 {
        return Ok(false);
    }
    retire_tokens(
        tx,
        id,
        Successor::Nothing,
        "gone from integrator.io",
        actor,
        now,
    )
    .await?;
    audit::record(
        tx,
        now,
        actor,
        AuditAction::ConnectionGone,
        Some(id),
        "gone from integrator.io; kept for the record",
    )
    .await?;
    Ok(true)
}

async fn insert(
    tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
    record: &SyncedConnection,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let (state, migrated) = match record.auth {
        RemoteAuth::Jwt => (ConnectionState::Pending, false),
        RemoteAuth::OAuth2 { authorized: false } => (ConnectionState::AwaitingAuthorization, false),
        RemoteAuth::OAuth2 { authorized: true } => (ConnectionState::Migrated, true),
    };
    sqlx::query(
        "INSERT INTO connections (id, name, integration, owner_id, auth_type, state, source, created_at, updated_at, \
         migrated_by, migrated_at, migrated_via, offline) VALUES (?, ?, ?, NULL, ?, ?, 'celigo', ?, ?, ?, ?, ?, ?)",
    )
    .bind(record.id.as_str())
    .bind(record.name.as_str())
    .bind(record.integration.as_str())
    .bind(auth_of(state))
    .bind(state.as_str())
    .bind(now)
    .bind(now)
    .bind(migrated.then_some("integrator.io"))
    .bind(migrated.then_some(now))
    .bind(migrated.then_some(MigratedVia::IntegratorIo.as_str()))
    .bind(record.offline)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::DisplayName;

    fn known(state: ConnectionState, via: Option<MigratedVia>) -> Known {
        Known {
            name: "Z".into(),
            integration: String::new(),
            state,
            source: "celigo".into(),
            offline: None,
            removed: false,
            via,
            settled_elsewhere: false,
        }
    }

    fn record(auth: RemoteAuth, offline: Option<bool>) -> SyncedConnection {
        SyncedConnection {
            id: ConnectionId::parse("c").expect("id"),
            name: DisplayName::parse("Z").expect("name"),
            integration: crate::domain::IntegrationName::default(),
            auth,
            offline,
        }
    }

    #[test]
    fn integrator_io_decides_unless_something_else_does() {
        use ConnectionState::*;
        let jwt = record(RemoteAuth::Jwt, None);
        let waiting = record(RemoteAuth::OAuth2 { authorized: false }, None);
        let waiting_offline = record(RemoteAuth::OAuth2 { authorized: false }, Some(true));
        let done = record(RemoteAuth::OAuth2 { authorized: true }, Some(false));
        let to = |k: &Known, r: &SyncedConnection| target(k, r).state;
        assert_eq!(to(&known(Pending, None), &done), Migrated);
        assert!(target(&known(Pending, None), &done).by_integrator);
        assert_eq!(to(&known(Pending, None), &waiting), AwaitingAuthorization);
        assert_eq!(to(&known(AwaitingAuthorization, None), &jwt), Pending);
        let celigo = known(Migrated, Some(MigratedVia::Celigo));
        assert_eq!(
            to(&celigo, &waiting),
            Migrated,
            "a hidden token is no reason to demote"
        );
        assert_eq!(to(&celigo, &waiting_offline), AwaitingAuthorization);
        let direct = known(Migrated, Some(MigratedVia::Direct));
        assert!(
            target(&direct, &jwt).kept_direct,
            "integrator.io was never switched"
        );
        assert_eq!(to(&direct, &jwt), Migrated);
        let later = target(&direct, &done);
        assert!(later.by_integrator && later.state == Migrated && later.why.is_some());
        let mut busy = known(Pending, None);
        busy.settled_elsewhere = true;
        assert_eq!(
            target(&busy, &done),
            Target {
                state: Pending,
                why: None,
                by_integrator: false,
                kept_direct: false
            }
        );
    }
}
