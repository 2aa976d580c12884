//! What the page shows, read once per request from the same places the chat reads.

use super::table::{TableView, PAGE_SIZE};
use super::Campaign;
use crate::domain::{Actor, Connection, ConnectionState, Deadline, UserId};
use crate::integrator_io::SyncState;
use crate::reminders::Upcoming;
use crate::store::{AuditEntry, LastSync, OwnerRow};
use chrono::{DateTime, Utc};
use std::collections::HashMap;

/// How many connections are in each state (those gone from integrator.io apart).
#[derive(Debug, Clone, Default)]
pub(super) struct Counts {
    pub pending: u64,
    pub awaiting: u64,
    pub needs_reauthorization: u64,
    pub migrated: u64,
    pub removed: u64,
}

impl Counts {
    /// Every connection still in the inventory.
    pub fn total(&self) -> u64 {
        self.pending + self.awaiting + self.needs_reauthorization + self.migrated
    }
}

/// A row of the connections table, with the backend its switch takes (or took).
pub(super) struct Row {
    pub connection: Connection,
    pub backend: &'static str,
}

impl Row {
    /// The state as people read it (a connection gone from integrator.io: removed).
    pub fn state_label(&self) -> &'static str {
        if self.connection.removed_at.is_some() {
            "removed"
        } else {
            self.connection.state.label()
        }
    }
}

pub(super) struct CampaignView {
    pub now: DateTime<Utc>,
    pub deadlines: Vec<Deadline>,
    pub counts: Counts,
    pub chart_svg: Option<String>,
    pub owners: Vec<OwnerRow>,
    pub names: HashMap<UserId, String>,
    pub table: TableView,
    pub rows: Vec<Row>,
    pub matching: u64,
    pub upcoming: Vec<Upcoming>,
    pub last_sync: Option<LastSync>,
    /// The last sync round failed (integrator.io's health says so).
    pub sync_failed: bool,
}

impl CampaignView {
    pub fn pages(&self) -> u64 {
        self.matching.div_ceil(PAGE_SIZE).max(1)
    }
}

pub(super) struct ConnectionView {
    pub row: Row,
    pub history: Vec<AuditEntry>,
    pub names: HashMap<UserId, String>,
}

/// How many reminder posts the page lists.
const UPCOMING: usize = 5;
/// How much of a connection's history its page shows.
const HISTORY: u32 = 200;

impl Campaign {
    pub(super) async fn campaign_view(&self, table: TableView) -> anyhow::Result<CampaignView> {
        let page = self
            .store
            .connection_table(&table.query, table.offset(), PAGE_SIZE)
            .await?;
        let chart_svg = match self.reminders.chart_svg().await {
            Ok(svg) => Some(svg),
            Err(e) => {
                tracing::warn!(error = %e, "the campaign page's chart could not be drawn");
                None
            }
        };
        Ok(CampaignView {
            now: self.clock.now(),
            deadlines: self.reminders.deadlines().await?,
            counts: self.counts().await?,
            chart_svg,
            owners: self.store.owner_rows().await?,
            names: self.store.display_names().await?,
            rows: page.connections.into_iter().map(|c| self.row(c)).collect(),
            matching: page.total,
            table,
            upcoming: self.reminders.preview(UPCOMING).await?,
            last_sync: self.store.last_sync().await?,
            sync_failed: self
                .celigo
                .as_ref()
                .is_some_and(|h| matches!(h.sync(), SyncState::Ran { ok: false, .. })),
        })
    }

    pub(super) async fn connection_view(
        &self,
        connection: Connection,
    ) -> anyhow::Result<ConnectionView> {
        Ok(ConnectionView {
            history: self
                .store
                .audit_entries(Some(&connection.id), HISTORY)
                .await?,
            names: self.store.display_names().await?,
            row: self.row(connection),
        })
    }

    async fn counts(&self) -> anyhow::Result<Counts> {
        let mut counts = Counts::default();
        for (state, n) in self.store.connection_states().await? {
            let n = u64::try_from(n).unwrap_or(0);
            match ConnectionState::parse(state) {
                Some(ConnectionState::Pending) => counts.pending = n,
                Some(ConnectionState::AwaitingAuthorization) => counts.awaiting = n,
                Some(ConnectionState::NeedsReauthorization) => counts.needs_reauthorization = n,
                Some(ConnectionState::Migrated) => counts.migrated = n,
                None => counts.removed = n,
            }
        }
        Ok(counts)
    }

    pub(super) fn row(&self, connection: Connection) -> Row {
        let backend = match connection.migrated_via {
            Some(via) if connection.state == ConnectionState::Migrated => via.as_str(),
            _ => self.backends.backend_for(&connection).as_str(),
        };
        Row {
            connection,
            backend,
        }
    }
}

/// A person as the page names them: their Discord display name where the bot knows it.
pub(super) fn person(actor: Actor, names: &HashMap<UserId, String>) -> String {
    match actor {
        Actor::Discord(id) => names.get(&id).cloned().unwrap_or_else(|| id.to_string()),
        Actor::Terminal => "the terminal".to_owned(),
        Actor::CommandLine => "the command line".to_owned(),
        Actor::System => "cutover".to_owned(),
    }
}
