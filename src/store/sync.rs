//! A sync from integrator.io, applied in one transaction: integrator.io is the source of
//! truth for name, integration, authentication and offline state; owners are cutover's.

use super::{audit, Store, StoreError};
use crate::domain::{
    Actor, ConnectionId, ConnectionState, MigratedVia, RemoteAuth, SyncedConnection,
};
use chrono::{DateTime, Utc};
use std::collections::{HashMap, HashSet};

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
    /// A link or switch is under way: the attempt decides its state, not the sync.
    busy: bool,
}

/// Where a connection should stand given what integrator.io says, the audit line for a
/// change of state, and whether a `direct` switch was kept against integrator.io's word.
fn target(known: &Known, remote: RemoteAuth) -> (ConnectionState, Option<&'static str>, bool) {
    use ConnectionState::*;
    let direct = known.via == Some(MigratedVia::Direct) && known.state != Pending;
    if known.busy {
        return (known.state, None, false);
    }
    if direct && remote != (RemoteAuth::OAuth2 { authorized: true }) {
        return (known.state, None, true);
    }
    let (state, why) = match (remote, known.state) {
        (RemoteAuth::Jwt, Pending) => (Pending, None),
        (RemoteAuth::Jwt, _) => (Pending, Some("integrator.io shows it on JWT")),
        (RemoteAuth::OAuth2 { authorized: true }, Pending | AwaitingAuthorization) => (
            Migrated,
            Some("switched to OAuth 2.0 and authorized in integrator.io, outside cutover"),
        ),
        (RemoteAuth::OAuth2 { authorized: true }, state) => (state, None),
        (RemoteAuth::OAuth2 { authorized: false }, Pending) => (
            AwaitingAuthorization,
            Some("switched to OAuth 2.0 in integrator.io, not authorized yet"),
        ),
        (RemoteAuth::OAuth2 { authorized: false }, Migrated) => (
            AwaitingAuthorization,
            Some("integrator.io no longer holds a token for it"),
        ),
        (RemoteAuth::OAuth2 { authorized: false }, state) => (state, None),
    };
    (state, why, false)
}

fn auth_of(state: ConnectionState) -> &'static str {
    match state {
        ConnectionState::Pending => "jwt",
        _ => "oauth2",
    }
}

impl Store {
    /// Applies a complete listing of integrator.io's Zoom connections. Connections it
    /// lists are inserted or updated (by id, whatever their source); celigo connections it
    /// no longer lists are marked removed. Owners are never touched.
    pub async fn sync_from_celigo(
        &self,
        records: &[SyncedConnection],
        actor: Actor,
        now: DateTime<Utc>,
    ) -> Result<SyncSummary, StoreError> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let rows: Vec<KnownRow> = sqlx::query_as(
            "SELECT c.id, c.name, c.integration, c.state, c.source, c.offline, c.removed_at, c.migrated_via, \
             EXISTS (SELECT 1 FROM migration_attempts a WHERE a.connection_id = c.id \
                     AND a.status IN ('preparing', 'issued', 'exchanging', 'watching')) AS busy \
             FROM connections c",
        )
        .fetch_all(&mut *tx)
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
                busy: row.busy,
            };
            known.insert(row.id, parsed);
        }

        let mut summary = SyncSummary::default();
        let mut seen = HashSet::with_capacity(records.len());
        for record in records {
            seen.insert(record.id.as_str());
            if record.offline == Some(true) {
                summary.offline += 1;
            }
            let Some(existing) = known.get(record.id.as_str()) else {
                insert(&mut tx, record, now).await?;
                summary.new += 1;
                continue;
            };
            let (state, why, kept_direct) = target(existing, record.auth);
            let same = existing.name == record.name.as_str()
                && existing.integration == record.integration
                && existing.offline == record.offline
                && existing.source == "celigo"
                && !existing.removed
                && existing.state == state;
            if kept_direct {
                summary.kept_direct += 1;
            }
            if same {
                summary.unchanged += 1;
                continue;
            }
            summary.changed += 1;
            let switched = state == ConnectionState::Migrated && existing.state != state;
            sqlx::query(
                "UPDATE connections SET name = ?1, integration = ?2, offline = ?3, source = 'celigo', removed_at = NULL, \
                 updated_at = ?4, auth_type = ?5, state = ?6, \
                 migrated_by = CASE WHEN ?7 THEN 'integrator.io' \
                                    WHEN ?6 IN ('migrated', 'needs_reauthorization') THEN migrated_by END, \
                 migrated_at = CASE WHEN ?7 THEN ?4 \
                                    WHEN ?6 IN ('migrated', 'needs_reauthorization') THEN migrated_at END, \
                 migrated_via = CASE WHEN ?7 THEN 'integrator.io' \
                                     WHEN ?6 IN ('migrated', 'needs_reauthorization') THEN migrated_via END \
                 WHERE id = ?8",
            )
            .bind(record.name.as_str())
            .bind(&record.integration)
            .bind(record.offline)
            .bind(now)
            .bind(auth_of(state))
            .bind(state.as_str())
            .bind(switched)
            .bind(record.id.as_str())
            .execute(&mut *tx)
            .await?;
            if switched {
                summary.switched_elsewhere += 1;
            }
            if existing.removed {
                summary.restored += 1;
                audit::record(
                    &mut tx,
                    now,
                    actor,
                    "connection.restored",
                    Some(&record.id),
                    "listed by integrator.io again",
                )
                .await?;
            }
            if let Some(why) = why {
                let action = if switched {
                    "migration.switched_elsewhere"
                } else {
                    "connection.state"
                };
                let detail = format!("{why}: now {}", state.label());
                audit::record(&mut tx, now, actor, action, Some(&record.id), &detail).await?;
            }
        }

        for (id, existing) in &known {
            if existing.source != "celigo" || existing.removed || seen.contains(id.as_str()) {
                continue;
            }
            sqlx::query("UPDATE connections SET removed_at = ?, updated_at = ? WHERE id = ?")
                .bind(now)
                .bind(now)
                .bind(id)
                .execute(&mut *tx)
                .await?;
            summary.removed += 1;
            let connection = ConnectionId::parse(id)
                .map_err(|_| StoreError::Corrupt(format!("connection id {id:?}")))?;
            audit::record(
                &mut tx,
                now,
                actor,
                "connection.removed",
                Some(&connection),
                "no longer listed by integrator.io; kept for the record",
            )
            .await?;
        }

        let detail = format!(
            "sync from integrator.io: {} Zoom connection(s); {} new, {} changed, {} switched in integrator.io, \
             {} removed, {} offline",
            records.len(),
            summary.new,
            summary.changed,
            summary.switched_elsewhere,
            summary.removed,
            summary.offline
        );
        audit::record(&mut tx, now, actor, "connections.sync", None, &detail).await?;
        tx.commit().await?;
        Ok(summary)
    }
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
    .bind(&record.integration)
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
