//! What the campaign page reads: the connections table filtered, sorted and paged (or
//! whole, for the CSV), one row per owner, and the last sync.

use super::connections::{connection_from_row, COLUMNS};
use super::{AuditAction, StoreError};
use crate::domain::{Connection, ConnectionState, UserId};
use chrono::{DateTime, Utc};
use sqlx::Row;

/// Which connections the table shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StateFilter {
    /// Every connection still in the inventory.
    #[default]
    Any,
    One(ConnectionState),
    /// Gone from integrator.io.
    Removed,
}

/// The columns the table sorts by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortBy {
    #[default]
    Name,
    State,
    Owner,
    Integration,
    Changed,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TableQuery {
    pub state: StateFilter,
    pub owner: Option<UserId>,
    /// Part of the id, name or integration, any case.
    pub text: Option<String>,
    pub sort: SortBy,
    pub descending: bool,
    /// This person's connections come first (an owner looking at the page).
    pub first_for: Option<UserId>,
}

#[derive(Debug, Clone)]
pub struct TablePage {
    pub connections: Vec<Connection>,
    /// How many match, over every page.
    pub total: u64,
}

/// One owner's share of the campaign (`owner` none: connections nobody owns).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnerRow {
    pub owner: Option<UserId>,
    pub pending: u64,
    pub awaiting: u64,
    pub needs_reauthorization: u64,
    pub switched: u64,
    pub last_activity: DateTime<Utc>,
}

impl OwnerRow {
    /// What they still have to do.
    pub fn left(&self) -> u64 {
        self.pending + self.awaiting + self.needs_reauthorization
    }
}

/// The last sync from integrator.io, as the audit log has it.
#[derive(Debug, Clone)]
pub struct LastSync {
    pub at: DateTime<Utc>,
    pub detail: String,
}

impl TableQuery {
    /// The WHERE clause and its values, in order.
    fn filter(&self) -> (String, Vec<String>) {
        let mut clauses = vec![match self.state {
            StateFilter::Any => "removed_at IS NULL".to_owned(),
            StateFilter::One(_) => "removed_at IS NULL AND state = ?".to_owned(),
            StateFilter::Removed => "removed_at IS NOT NULL".to_owned(),
        }];
        let mut values = Vec::new();
        if let StateFilter::One(state) = self.state {
            values.push(state.as_str().to_owned());
        }
        if let Some(owner) = self.owner {
            clauses.push("owner_id = ?".to_owned());
            values.push(owner.to_string());
        }
        if let Some(text) = self.text.as_deref().filter(|t| !t.is_empty()) {
            clauses.push(
                "(id LIKE ? ESCAPE '\\' OR name LIKE ? ESCAPE '\\' OR integration LIKE ? ESCAPE '\\')"
                    .to_owned(),
            );
            let pattern = format!("%{}%", escape_like(text));
            values.extend([pattern.clone(), pattern.clone(), pattern]);
        }
        (clauses.join(" AND "), values)
    }

    /// The ORDER BY clause: only our own column names, never what a browser sent.
    fn order(&self) -> String {
        let column = match self.sort {
            SortBy::Name => "name COLLATE NOCASE",
            SortBy::State => "state",
            SortBy::Owner => "owner_id IS NULL, owner_id",
            SortBy::Integration => "integration COLLATE NOCASE",
            SortBy::Changed => "updated_at",
        };
        let direction = if self.descending { " DESC" } else { "" };
        let first = if self.first_for.is_some() {
            "owner_id IS NOT ?, "
        } else {
            ""
        };
        format!("{first}{column}{direction}, id{direction}")
    }
}

/// `%` and `_` in what someone typed are letters, not wildcards.
fn escape_like(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

impl super::Store {
    /// One page of the table, with how many match in all (one snapshot for both).
    pub async fn connection_table(
        &self,
        query: &TableQuery,
        offset: u64,
        limit: u64,
    ) -> Result<TablePage, StoreError> {
        let (filter, values) = query.filter();
        let mut tx = self.pool.begin().await?;
        let count_sql = format!("SELECT COUNT(*) FROM connections WHERE {filter}");
        let mut count = sqlx::query_scalar::<_, i64>(&count_sql);
        for value in &values {
            count = count.bind(value);
        }
        let total = count.fetch_one(&mut *tx).await?;
        let connections = self
            .table_rows(&mut tx, query, &filter, &values, offset, limit)
            .await?;
        tx.commit().await?;
        Ok(TablePage {
            connections,
            total: u64::try_from(total).unwrap_or(0),
        })
    }

    /// Every row the filter matches, in the table's order (for the CSV).
    pub async fn connection_table_all(
        &self,
        query: &TableQuery,
    ) -> Result<Vec<Connection>, StoreError> {
        let (filter, values) = query.filter();
        let mut tx = self.pool.begin().await?;
        let rows = self
            .table_rows(&mut tx, query, &filter, &values, 0, u64::MAX)
            .await?;
        tx.commit().await?;
        Ok(rows)
    }

    async fn table_rows(
        &self,
        tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
        query: &TableQuery,
        filter: &str,
        values: &[String],
        offset: u64,
        limit: u64,
    ) -> Result<Vec<Connection>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM connections WHERE {filter} ORDER BY {} LIMIT ? OFFSET ?",
            query.order()
        );
        let mut select = sqlx::query(&sql);
        for value in values {
            select = select.bind(value);
        }
        if let Some(first) = query.first_for {
            select = select.bind(first.to_string());
        }
        let rows = select
            .bind(i64::try_from(limit).unwrap_or(i64::MAX))
            .bind(i64::try_from(offset).unwrap_or(i64::MAX))
            .fetch_all(&mut **tx)
            .await?;
        rows.iter().map(connection_from_row).collect()
    }

    /// One row per owner still in the inventory, most left to do first.
    pub async fn owner_rows(&self) -> Result<Vec<OwnerRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT owner_id, \
               SUM(state = 'pending') AS pending, \
               SUM(state = 'awaiting_authorization') AS awaiting, \
               SUM(state = 'needs_reauthorization') AS reauthorize, \
               SUM(state = 'migrated') AS switched, \
               MAX(updated_at) AS last_activity \
             FROM connections WHERE removed_at IS NULL GROUP BY owner_id \
             ORDER BY pending + awaiting + reauthorize DESC, owner_id IS NULL, owner_id",
        )
        .fetch_all(&self.pool)
        .await?;
        let count = |row: &sqlx::sqlite::SqliteRow, column: &str| -> Result<u64, StoreError> {
            Ok(u64::try_from(row.try_get::<i64, _>(column)?).unwrap_or(0))
        };
        rows.iter()
            .map(|row| {
                let owner: Option<String> = row.try_get("owner_id")?;
                Ok(OwnerRow {
                    owner: owner.as_deref().and_then(|o| UserId::parse(o).ok()),
                    pending: count(row, "pending")?,
                    awaiting: count(row, "awaiting")?,
                    needs_reauthorization: count(row, "reauthorize")?,
                    switched: count(row, "switched")?,
                    last_activity: row.try_get("last_activity")?,
                })
            })
            .collect()
    }

    pub async fn last_sync(&self) -> Result<Option<LastSync>, StoreError> {
        let row: Option<(DateTime<Utc>, String)> = sqlx::query_as(
            "SELECT at, detail FROM audit_log WHERE action = ? ORDER BY id DESC LIMIT 1",
        )
        .bind(AuditAction::ConnectionsSynced.as_str())
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|(at, detail)| LastSync { at, detail }))
    }
}
