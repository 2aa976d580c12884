use super::owner_change::end_others_attempts;
use super::revocations::{retire_tokens, Successor};
use super::{audit, AuditAction, Store, StoreError};
use crate::domain::{
    Actor, AuthType, Connection, ConnectionId, ConnectionRecord, ConnectionSource, ConnectionState,
    DisplayName, IntegrationName, MigratedVia, ShowFilter, Snowflake, UserId,
};
use chrono::{DateTime, Utc};
use sqlx::sqlite::SqliteRow;
use sqlx::Row;

/// What an import changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ImportSummary {
    pub inserted: usize,
    pub updated: usize,
    pub unchanged: usize,
    /// Rows saying `jwt` for a connection cutover already knows is on OAuth 2.0: the
    /// store's record wins, since a file can be older than the switch.
    pub kept_migrated: usize,
}

/// How far the cutover has come.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Progress {
    pub migrated: u64,
    pub total: u64,
}

/// One person's connections still to switch (or those nobody owns yet).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnerWork {
    pub owner: Option<UserId>,
    /// How many are left in all.
    pub left: u64,
    /// The first of them by name.
    pub first: Vec<Connection>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ConnectionQuery {
    pub show: ShowFilter,
    pub owner: Option<UserId>,
    pub offset: u64,
    pub limit: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionPage {
    pub connections: Vec<Connection>,
    /// How many match the query in all, across pages.
    pub total: u64,
}

pub(super) const COLUMNS: &str =
    "id, name, integration, owner_id, auth_type, state, source, created_at, updated_at, \
                                  migrated_by, migrated_at, migrated_via, offline, removed_at";

fn state_clause(show: ShowFilter) -> &'static str {
    match show {
        ShowFilter::Unmigrated => "removed_at IS NULL AND state != 'migrated'",
        ShowFilter::Migrated => "removed_at IS NULL AND state = 'migrated'",
        ShowFilter::All => "removed_at IS NULL",
        ShowFilter::Removed => "removed_at IS NOT NULL",
    }
}

fn corrupt(what: &str, value: &str) -> StoreError {
    StoreError::Corrupt(format!("{what} {value:?}"))
}

pub(super) fn connection_from_row(row: &SqliteRow) -> Result<Connection, StoreError> {
    let id: String = row.try_get("id")?;
    let name: String = row.try_get("name")?;
    let owner: Option<String> = row.try_get("owner_id")?;
    let auth_type: String = row.try_get("auth_type")?;
    let state: String = row.try_get("state")?;
    let source: String = row.try_get("source")?;
    let via: Option<String> = row.try_get("migrated_via")?;
    Ok(Connection {
        id: ConnectionId::parse(&id).map_err(|_| corrupt("connection id", &id))?,
        name: DisplayName::parse(&name).map_err(|_| corrupt("connection name", &name))?,
        integration: {
            let text: String = row.try_get("integration")?;
            IntegrationName::parse(&text).map_err(|_| corrupt("integration", &text))?
        },
        owner: owner
            .map(|o| Snowflake::parse(&o).map_err(|_| corrupt("owner id", &o)))
            .transpose()?,
        auth_type: auth_type
            .parse()
            .map_err(|_| corrupt("auth type", &auth_type))?,
        state: ConnectionState::parse(&state).ok_or_else(|| corrupt("state", &state))?,
        source: ConnectionSource::parse(&source).ok_or_else(|| corrupt("source", &source))?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
        migrated_by: row.try_get("migrated_by")?,
        migrated_at: row.try_get("migrated_at")?,
        migrated_via: via
            .map(|v| MigratedVia::parse(&v).ok_or_else(|| corrupt("migrated_via", &v)))
            .transpose()?,
        offline: row.try_get("offline")?,
        removed_at: row.try_get("removed_at")?,
    })
}

impl Store {
    /// Inserts or updates every record, all in one transaction with its audit entry:
    /// either all of them land or none does.
    pub async fn upsert_connections(
        &self,
        records: &[ConnectionRecord],
        source: ConnectionSource,
        actor: Actor,
        now: DateTime<Utc>,
        what: &str,
    ) -> Result<ImportSummary, StoreError> {
        // IMMEDIATE takes the write lock up front (waiting on busy_timeout): a transaction
        // that reads first and writes later fails at once if the bot wrote in between.
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let mut summary = ImportSummary::default();
        for record in records {
            upsert_connection(&mut tx, record, source, actor, now, &mut summary).await?;
        }
        let detail = format!(
            "{what}: {} inserted, {} updated, {} unchanged, {} kept as migrated",
            summary.inserted, summary.updated, summary.unchanged, summary.kept_migrated
        );
        audit::record(
            &mut tx,
            now,
            actor,
            AuditAction::ConnectionsImported,
            None,
            &detail,
        )
        .await?;
        self.commit(tx).await?;
        Ok(summary)
    }

    /// One page of connections, ordered by name, with the total that match (kept between
    /// writes).
    pub async fn list_connections(
        &self,
        query: &ConnectionQuery,
    ) -> Result<ConnectionPage, StoreError> {
        self.cache
            .through(&self.cache.pages, query, self.read_connections(query))
            .await
    }

    async fn read_connections(
        &self,
        query: &ConnectionQuery,
    ) -> Result<ConnectionPage, StoreError> {
        let owner_clause = if query.owner.is_some() {
            "owner_id = ?"
        } else {
            "1 = 1"
        };
        let filter = format!("{} AND {owner_clause}", state_clause(query.show));
        let count_sql = format!("SELECT COUNT(*) FROM connections WHERE {filter}");
        let page_sql = format!(
            "SELECT {COLUMNS} FROM connections WHERE {filter} ORDER BY name COLLATE NOCASE, id LIMIT ? OFFSET ?"
        );
        let owner = query.owner.map(|o| o.to_string());
        let mut count = sqlx::query_scalar::<_, i64>(&count_sql);
        let mut page = sqlx::query(&page_sql);
        if let Some(owner) = &owner {
            count = count.bind(owner);
            page = page.bind(owner);
        }
        // One snapshot for both, so a kept page always agrees with its total.
        let mut tx = self.pool.begin().await?;
        let total = count.fetch_one(&mut *tx).await?;
        let limit = i64::try_from(query.limit).unwrap_or(i64::MAX);
        let offset = i64::try_from(query.offset).unwrap_or(i64::MAX);
        let rows = page.bind(limit).bind(offset).fetch_all(&mut *tx).await?;
        tx.commit().await?;
        let connections = rows
            .iter()
            .map(connection_from_row)
            .collect::<Result<_, _>>()?;
        Ok(ConnectionPage {
            connections,
            total: u64::try_from(total).unwrap_or(0),
        })
    }

    /// Everyone with connections still to switch, most left first (connections with no
    /// owner last), each with how many and the first `names` of them by name: every
    /// owner, however many connections there are, so a reminder can nudge each one.
    pub async fn pending_owners(&self, names: u32) -> Result<Vec<OwnerWork>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS}, left FROM (SELECT *, \
               ROW_NUMBER() OVER (PARTITION BY owner_id ORDER BY name COLLATE NOCASE, id) AS rank, \
               COUNT(*) OVER (PARTITION BY owner_id) AS left \
             FROM connections WHERE removed_at IS NULL AND state != 'migrated') \
             WHERE rank <= ? ORDER BY owner_id IS NULL, left DESC, owner_id, rank"
        ))
        .bind(names)
        .fetch_all(&self.pool)
        .await?;
        let mut owners: Vec<OwnerWork> = Vec::new();
        for row in &rows {
            let connection = connection_from_row(row)?;
            let left: i64 = row.try_get("left")?;
            match owners.last_mut() {
                Some(work) if work.owner == connection.owner => work.first.push(connection),
                _ => owners.push(OwnerWork {
                    owner: connection.owner,
                    left: u64::try_from(left).unwrap_or(0),
                    first: vec![connection],
                }),
            }
        }
        Ok(owners)
    }

    /// Kept current by triggers (see the connection_counts migration).
    /// How many connections are in each state, every state named (zero included), and
    /// those gone from integrator.io as `removed`: for /metrics.
    pub async fn connection_states(&self) -> Result<Vec<(&'static str, i64)>, StoreError> {
        let rows: Vec<(String, i64)> = sqlx::query_as(
            "SELECT CASE WHEN removed_at IS NULL THEN state ELSE 'removed' END, COUNT(*) \
             FROM connections GROUP BY 1",
        )
        .fetch_all(&self.pool)
        .await?;
        let count = |name: &str| {
            rows.iter()
                .find(|(state, _)| state == name)
                .map_or(0, |(_, n)| *n)
        };
        Ok(ConnectionState::ALL
            .iter()
            .map(|s| s.as_str())
            .chain(["removed"])
            .map(|name| (name, count(name)))
            .collect())
    }

    /// Migrated and total (kept between writes).
    pub async fn progress(&self) -> Result<Progress, StoreError> {
        self.cache
            .through(&self.cache.progress, &(), self.read_progress())
            .await
    }

    async fn read_progress(&self) -> Result<Progress, StoreError> {
        let (total, migrated): (i64, i64) =
            sqlx::query_as("SELECT total, migrated FROM connection_counts WHERE id = 1")
                .fetch_one(&self.pool)
                .await?;
        Ok(Progress {
            migrated: u64::try_from(migrated).unwrap_or(0),
            total: u64::try_from(total).unwrap_or(0),
        })
    }
}

/// One record of an import: inserted when its id is new, otherwise updated where it
/// differs (a connection already on OAuth 2.0 stays migrated when the file says `jwt`).
async fn upsert_connection(
    tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
    record: &ConnectionRecord,
    source: ConnectionSource,
    actor: Actor,
    now: DateTime<Utc>,
    summary: &mut ImportSummary,
) -> Result<(), StoreError> {
    let existing =
        sqlx::query("SELECT name, integration, owner_id, auth_type FROM connections WHERE id = ?")
            .bind(record.id.as_str())
            .fetch_optional(&mut **tx)
            .await?;
    let owner = record.owner.map(|o| o.to_string());
    let Some(existing) = existing else {
        insert_imported(tx, record, owner.as_deref(), source, actor, now).await?;
        summary.inserted += 1;
        return Ok(());
    };
    let old_auth: String = existing.try_get("auth_type")?;
    let old_auth: AuthType = old_auth
        .parse()
        .map_err(|_| corrupt("auth type", &old_auth))?;
    let keep_migrated = old_auth == AuthType::OAuth2 && record.auth_type == AuthType::Jwt;
    let auth_type = if keep_migrated {
        old_auth
    } else {
        record.auth_type
    };
    let same = existing.try_get::<String, _>("name")? == record.name.as_str()
        && existing.try_get::<String, _>("integration")? == record.integration.as_str()
        && existing.try_get::<Option<String>, _>("owner_id")? == owner
        && old_auth == auth_type;
    if keep_migrated {
        summary.kept_migrated += 1;
    }
    if same {
        summary.unchanged += 1;
        return Ok(());
    }
    if existing.try_get::<Option<String>, _>("owner_id")? != owner {
        end_others_attempts(tx, &record.id, record.owner, actor, now).await?;
    }
    let upgraded = old_auth == AuthType::Jwt && auth_type == AuthType::OAuth2;
    update_imported(
        tx,
        record,
        owner.as_deref(),
        auth_type,
        upgraded,
        actor,
        now,
    )
    .await?;
    summary.updated += 1;
    Ok(())
}

/// A connection new to the store: pending on JWT, migrated by the import on OAuth 2.0.
async fn insert_imported(
    tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
    record: &ConnectionRecord,
    owner: Option<&str>,
    source: ConnectionSource,
    actor: Actor,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let (state, migrated_by, migrated_at, via) = match record.auth_type {
        AuthType::Jwt => (ConnectionState::Pending, None, None, None),
        AuthType::OAuth2 => (
            ConnectionState::Migrated,
            Some(actor.to_string()),
            Some(now),
            Some(MigratedVia::Inventory.as_str()),
        ),
    };
    sqlx::query(
        "INSERT INTO connections (id, name, integration, owner_id, auth_type, state, source, \
         created_at, updated_at, migrated_by, migrated_at, migrated_via) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(record.id.as_str())
    .bind(record.name.as_str())
    .bind(record.integration.as_str())
    .bind(owner)
    .bind(record.auth_type.as_str())
    .bind(state.as_str())
    .bind(source.as_str())
    .bind(now)
    .bind(now)
    .bind(migrated_by)
    .bind(migrated_at)
    .bind(via)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// A known connection as the import has it; `upgraded` (JWT to OAuth 2.0) makes it
/// migrated by the import, now.
async fn update_imported(
    tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
    record: &ConnectionRecord,
    owner: Option<&str>,
    auth_type: AuthType,
    upgraded: bool,
    actor: Actor,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE connections SET name = ?, integration = ?, owner_id = ?, updated_at = ?, \
         auth_type = ?, \
         state = CASE WHEN ? THEN 'migrated' ELSE state END, \
         migrated_by = CASE WHEN ? THEN ? ELSE migrated_by END, \
         migrated_at = CASE WHEN ? THEN ? ELSE migrated_at END, \
         migrated_via = CASE WHEN ? THEN 'inventory' ELSE migrated_via END \
         WHERE id = ?",
    )
    .bind(record.name.as_str())
    .bind(record.integration.as_str())
    .bind(owner)
    .bind(now)
    .bind(auth_type.as_str())
    .bind(upgraded)
    .bind(upgraded)
    .bind(actor.to_string())
    .bind(upgraded)
    .bind(now)
    .bind(upgraded)
    .bind(record.id.as_str())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

impl Store {
    pub async fn get_connection(
        &self,
        id: &ConnectionId,
    ) -> Result<Option<Connection>, StoreError> {
        let row = sqlx::query(&format!("SELECT {COLUMNS} FROM connections WHERE id = ?"))
            .bind(id.as_str())
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(connection_from_row).transpose()
    }
}

/// What a change to one connection found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    Done,
    NotFound,
    AlreadyExists,
}

impl Store {
    /// Adds one connection from chat; an existing id is left alone.
    pub async fn add_connection(
        &self,
        record: &ConnectionRecord,
        actor: Actor,
        now: DateTime<Utc>,
    ) -> Result<Change, StoreError> {
        let mut tx = self.pool.begin().await?;
        let state = match record.auth_type {
            AuthType::Jwt => ConnectionState::Pending,
            AuthType::OAuth2 => ConnectionState::Migrated,
        };
        let inserted = sqlx::query(
            "INSERT INTO connections (id, name, integration, owner_id, auth_type, state, source, created_at, updated_at, \
             migrated_via) VALUES (?, ?, ?, ?, ?, ?, 'chat', ?, ?, ?) ON CONFLICT (id) DO NOTHING",
        )
        .bind(record.id.as_str())
        .bind(record.name.as_str())
        .bind(record.integration.as_str())
        .bind(record.owner.map(|o| o.to_string()))
        .bind(record.auth_type.as_str())
        .bind(state.as_str())
        .bind(now)
        .bind(now)
        .bind((state == ConnectionState::Migrated).then_some(MigratedVia::Inventory.as_str()))
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if inserted == 0 {
            return Ok(Change::AlreadyExists);
        }
        audit::record(
            &mut tx,
            now,
            actor,
            AuditAction::ConnectionAdded,
            Some(&record.id),
            record.name.as_str(),
        )
        .await?;
        self.commit(tx).await?;
        Ok(Change::Done)
    }

    pub async fn assign_owner(
        &self,
        id: &ConnectionId,
        owner: UserId,
        actor: Actor,
        now: DateTime<Utc>,
    ) -> Result<Change, StoreError> {
        // IMMEDIATE: the owner is read, then written (see `upsert_connections`).
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let Some((before,)) =
            sqlx::query_as::<_, (Option<String>,)>("SELECT owner_id FROM connections WHERE id = ?")
                .bind(id.as_str())
                .fetch_optional(&mut *tx)
                .await?
        else {
            return Ok(Change::NotFound);
        };
        sqlx::query("UPDATE connections SET owner_id = ?, updated_at = ? WHERE id = ?")
            .bind(owner.to_string())
            .bind(now)
            .bind(id.as_str())
            .execute(&mut *tx)
            .await?;
        if before != Some(owner.to_string()) {
            end_others_attempts(&mut tx, id, Some(owner), actor, now).await?;
        }
        audit::record(
            &mut tx,
            now,
            actor,
            AuditAction::ConnectionAssigned,
            Some(id),
            &format!("owner {owner}"),
        )
        .await?;
        self.commit(tx).await?;
        Ok(Change::Done)
    }

    pub async fn remove_connection(
        &self,
        id: &ConnectionId,
        actor: Actor,
        now: DateTime<Utc>,
    ) -> Result<Change, StoreError> {
        // IMMEDIATE: the tokens are read, then written (see `upsert_connections`); a
        // deferred transaction could not take the write lock after a concurrent write.
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        retire_tokens(
            &mut tx,
            id,
            Successor::Nothing,
            "the connection was removed",
            actor,
            now,
        )
        .await?;
        let removed = sqlx::query("DELETE FROM connections WHERE id = ?")
            .bind(id.as_str())
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if removed == 0 {
            return Ok(Change::NotFound);
        }
        audit::record(
            &mut tx,
            now,
            actor,
            AuditAction::ConnectionDeleted,
            Some(id),
            "",
        )
        .await?;
        self.commit(tx).await?;
        Ok(Change::Done)
    }

    /// Up to `limit` connections not yet migrated whose id or name contains `text`
    /// (any case), only `owner`'s when given: suggestions as someone types.
    pub async fn search_unmigrated(
        &self,
        owner: Option<UserId>,
        text: &str,
        limit: u32,
    ) -> Result<Vec<Connection>, StoreError> {
        let pattern = format!(
            "%{}%",
            text.trim()
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_")
        );
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM connections WHERE state != 'migrated' AND removed_at IS NULL AND (?1 IS NULL OR owner_id = ?1) \
             AND (id LIKE ?2 ESCAPE '\\' OR name LIKE ?2 ESCAPE '\\') ORDER BY name COLLATE NOCASE, id LIMIT ?3"
        ))
        .bind(owner.map(|o| o.to_string()))
        .bind(pattern)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(connection_from_row).collect()
    }
}
