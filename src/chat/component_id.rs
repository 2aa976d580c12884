//! Typed ids for buttons and modals. They carry all the state a press or submit needs,
//! so one that arrives after a restart, or at another instance, still works; they decode
//! fallibly, since the client sends them back.

use crate::domain::{ConnectionId, ShowFilter, Snowflake, UserId};
use std::fmt;

/// Discord's limit on a custom id.
pub const MAX_LEN: usize = 100;
const VERSION: &str = "c1";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ComponentId {
    /// A page of `/connections` (pages count from 1).
    ConnectionsPage {
        show: ShowFilter,
        owner: Option<UserId>,
        page: u32,
    },
    /// The `/migrate` form for one connection.
    MigrateForm { connection: ConnectionId },
    /// "Get a fresh link" under a personal authorization link.
    FreshLink { connection: ConnectionId },
    /// "Migrate mine" under a reminder: the presser's own connections.
    MigrateMine,
    /// Opens the `/migrate` form for one connection (a choice after "Migrate mine").
    OpenForm { connection: ConnectionId },
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("unrecognised component id {0:?}")]
pub struct StaleComponent(pub String);

impl ComponentId {
    pub fn encode(&self) -> String {
        self.to_string()
    }

    pub fn decode(raw: &str) -> Result<Self, StaleComponent> {
        let stale = || StaleComponent(raw.to_owned());
        if raw.len() > MAX_LEN {
            return Err(stale());
        }
        let mut parts = raw.split(':');
        if parts.next() != Some(VERSION) {
            return Err(stale());
        }
        let id = match (parts.next(), parts.next(), parts.next(), parts.next()) {
            (Some("cp"), Some(show), Some(owner), Some(page)) => ComponentId::ConnectionsPage {
                show: show.parse().map_err(|_| stale())?,
                owner: match owner {
                    "-" => None,
                    id => Some(Snowflake::parse(id).map_err(|_| stale())?),
                },
                page: page.parse().ok().filter(|p| *p >= 1).ok_or_else(stale)?,
            },
            (Some("mf"), Some(connection), None, None) => ComponentId::MigrateForm {
                connection: ConnectionId::parse(connection).map_err(|_| stale())?,
            },
            (Some("fl"), Some(connection), None, None) => ComponentId::FreshLink {
                connection: ConnectionId::parse(connection).map_err(|_| stale())?,
            },
            (Some("mm"), None, None, None) => ComponentId::MigrateMine,
            (Some("of"), Some(connection), None, None) => ComponentId::OpenForm {
                connection: ConnectionId::parse(connection).map_err(|_| stale())?,
            },
            _ => return Err(stale()),
        };
        if parts.next().is_some() {
            return Err(stale());
        }
        Ok(id)
    }
}

impl fmt::Display for ComponentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ComponentId::ConnectionsPage { show, owner, page } => {
                let owner = owner.map_or_else(|| "-".to_owned(), |o| o.to_string());
                write!(f, "{VERSION}:cp:{}:{owner}:{page}", show.as_str())
            }
            ComponentId::MigrateForm { connection } => write!(f, "{VERSION}:mf:{connection}"),
            ComponentId::FreshLink { connection } => write!(f, "{VERSION}:fl:{connection}"),
            ComponentId::MigrateMine => write!(f, "{VERSION}:mm"),
            ComponentId::OpenForm { connection } => write!(f, "{VERSION}:of:{connection}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn samples() -> Vec<ComponentId> {
        vec![
            ComponentId::ConnectionsPage {
                show: ShowFilter::All,
                owner: None,
                page: 1,
            },
            ComponentId::ConnectionsPage {
                show: ShowFilter::Unmigrated,
                owner: Snowflake::new(u64::MAX).ok(),
                page: u32::MAX,
            },
            ComponentId::MigrateForm {
                connection: ConnectionId::parse(&"x".repeat(64)).expect("longest id"),
            },
            ComponentId::FreshLink {
                connection: ConnectionId::parse(&"y".repeat(64)).expect("longest id"),
            },
            ComponentId::MigrateMine,
            ComponentId::OpenForm {
                connection: ConnectionId::parse(&"z".repeat(64)).expect("longest id"),
            },
        ]
    }

    #[test]
    fn round_trips_within_discords_limit() {
        for id in samples() {
            let encoded = id.encode();
            assert!(encoded.len() <= MAX_LEN, "{encoded}");
            assert_eq!(ComponentId::decode(&encoded), Ok(id));
        }
    }

    #[test]
    fn the_reminders_button_is_the_one_reminders_post() {
        assert_eq!(
            ComponentId::MigrateMine.encode(),
            crate::reminders::post::MIGRATE_MINE
        );
    }

    #[test]
    fn the_fresh_link_button_is_the_one_the_switch_puts_back() {
        let connection = ConnectionId::parse("z1").expect("id");
        assert_eq!(
            ComponentId::FreshLink {
                connection: connection.clone()
            }
            .encode(),
            crate::switch::fresh_link_id(&connection)
        );
    }

    #[test]
    fn anything_else_is_stale() {
        for bad in [
            "",
            "c1",
            "c0:cp:all:-:1",
            "c1:cp:all:-:0",
            "c1:cp:all:-:x",
            "c1:cp:some:-:1",
            "c1:cp:all:bob:1",
            "c1:cp:all:-:1:extra",
            "c1:mf:",
            "c1:mf:a b",
            "c1:zz:1",
        ] {
            assert!(ComponentId::decode(bad).is_err(), "{bad:?}");
        }
        assert!(ComponentId::decode(&format!("c1:mf:{}", "a".repeat(200))).is_err());
    }
}
