//! `/migration status`: where a connection's switch stands, and what happened to it.

use super::{Caller, ChatCore, ChatError, Message, Reply};
use crate::domain::{
    Actor, Connection, ConnectionId, ConnectionSource, ConnectionState, MigratedVia, ShowFilter,
};
use crate::markdown::{escape, truncate};
use crate::store::{AuditAction, ConnectionQuery};
use crate::switch::FINISH_IN_INTEGRATOR_IO;

/// Who did it: a Discord user as a mention (the answer is private and pings nobody),
/// anyone else by name — an actor as the audit log names them, or "integrator.io".
fn person(who: &str) -> String {
    match who.parse::<Actor>() {
        Ok(Actor::Discord(id)) => id.mention(),
        _ => escape(who),
    }
}

/// The connection's first lines: id, name, owner, authentication and state, and where
/// it comes from when that is integrator.io.
fn summary(connection: &Connection) -> String {
    let owner = connection.owner.map_or_else(
        || "no owner".to_owned(),
        |o| format!("owner {}", o.mention()),
    );
    let mut text = format!(
        "**`{}` {}** · {owner}\nAuthentication: {} · {}",
        connection.id,
        escape(connection.name.as_str()),
        connection.auth_type.label(),
        connection.state.label()
    );
    if connection.source == ConnectionSource::Celigo {
        text.push_str("\nFrom integrator.io");
        if connection.offline == Some(true) {
            text.push_str(" · offline there");
        }
    }
    if let Some(at) = connection.removed_at {
        text.push_str(&format!(
            "\nNo longer in integrator.io: a sync found it gone <t:{}:R>.",
            at.timestamp()
        ));
    }
    text
}

/// Where the switch stands: what is left to do, or how, by whom and when it was
/// switched (a line of its own, or nothing).
fn switch_standing(connection: &Connection) -> String {
    let when = connection
        .migrated_at
        .map(|at| format!(" <t:{}:R>", at.timestamp()))
        .unwrap_or_default();
    let by = connection
        .migrated_by
        .as_deref()
        .map(|by| format!(" by {}", person(by)))
        .unwrap_or_default();
    match (connection.state, connection.migrated_via) {
        (ConnectionState::Pending, _) => format!(
            "\nNot switched yet: its owner or an admin can run `/migrate connection:{}`.",
            connection.id
        ),
        (ConnectionState::AwaitingAuthorization, _) => format!(
            "\nOn OAuth 2.0 in integrator.io, awaiting authorization: its owner or an admin runs \
             `/migrate connection:{}` (or presses \"Get a fresh link\") and allows access in Zoom.",
            connection.id
        ),
        (_, Some(MigratedVia::Direct)) => format!(
            "\nSwitched{by}{when} in cutover only: cutover verified the Zoom app and keeps its token, but the \
             connection in integrator.io was not changed. Remaining step: {FINISH_IN_INTEGRATOR_IO}"
        ),
        (_, Some(MigratedVia::Celigo)) => format!("\nSwitched in integrator.io{by}{when}."),
        (_, Some(MigratedVia::IntegratorIo)) => {
            format!("\nSwitched in integrator.io, outside cutover (found{when}).")
        }
        (_, Some(MigratedVia::Inventory)) => {
            format!("\nRecorded as switched by an import{when}.")
        }
        (_, None) => String::new(),
    }
}

impl ChatCore {
    pub(super) async fn migration_status(
        &self,
        caller: Caller,
        connection: Option<&str>,
    ) -> Result<Reply, ChatError> {
        let Some(raw_id) = connection else {
            return self.own_status(caller).await;
        };
        let connection = self.named_connection(raw_id).await?;
        let mut text = summary(&connection);
        text.push_str(&switch_standing(&connection));
        text.push_str(&self.history(&connection.id).await?);
        Ok(Reply::Message(Message::private(text)))
    }

    /// The connection's last ten audit entries, newest first, under a heading (nothing
    /// when it has none).
    async fn history(&self, id: &ConnectionId) -> Result<String, ChatError> {
        let history = self.store.audit_entries(Some(id), 10).await?;
        let mut text = String::new();
        if !history.is_empty() {
            text.push_str("\n\n**History** (newest first)");
            for entry in history {
                let detail = match entry.action {
                    _ if entry.detail.is_empty() => String::new(),
                    AuditAction::CeligoDefinitionBefore => {
                        ": the definition as it was, kept in the audit log".to_owned()
                    }
                    _ => format!(": {}", escape(&truncate(&entry.detail, 120))),
                };
                text.push_str(&format!(
                    "\n• <t:{}:f> {} by {}{detail}",
                    entry.at.timestamp(),
                    entry.action,
                    escape(&entry.actor.to_string())
                ));
            }
        }
        Ok(text)
    }

    async fn own_status(&self, caller: Caller) -> Result<Reply, ChatError> {
        let Some(user) = caller.user_id() else {
            return Err(ChatError::Refused(
                "Name a connection: /migration status connection:<id>.".to_owned(),
            ));
        };
        let page = self
            .store
            .list_connections(&ConnectionQuery {
                show: ShowFilter::All,
                owner: Some(user),
                offset: 0,
                limit: 25,
            })
            .await?;
        if page.connections.is_empty() {
            return Ok(Reply::Message(Message::private(
                "You own no connections in the inventory. /connections lists them all; an admin can assign one to you.",
            )));
        }
        let mut text = format!("**Your connections**: {}", page.total);
        for c in &page.connections {
            text.push_str(&format!(
                "\n• `{}` {} · {}",
                c.id,
                escape(&truncate(c.name.as_str(), 80)),
                c.state.label()
            ));
        }
        if page.total > 25 {
            text.push_str(&format!(
                "\n… and {} more: /connections owner:@you lists them all.",
                page.total - 25
            ));
        }
        Ok(Reply::Message(Message::private(text)))
    }
}
