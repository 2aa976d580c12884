//! `/migrate`: the private form that collects a Zoom OAuth app's credentials.

use super::markdown::{escape, truncate};
use super::options::Options;
use super::{Caller, ChatCore, ChatError, Choice, ComponentId, Message, Modal, Reply, TextInput};
use crate::domain::{Connection, ConnectionId, ConnectionState};

pub const CLIENT_ID_INPUT: &str = "client_id";
pub const CLIENT_SECRET_INPUT: &str = "client_secret";

impl ChatCore {
    /// The connection, if the caller may migrate it: its owner, or an admin.
    async fn migratable(&self, caller: Caller, raw_id: &str) -> Result<Connection, ChatError> {
        let not_found = || {
            ChatError::NotFound(format!(
                "There is no connection with id `{}`. /connections lists them with their ids.",
                escape(&truncate(raw_id, 64))
            ))
        };
        let id = ConnectionId::parse(raw_id).map_err(|_| not_found())?;
        let connection = self
            .store
            .get_connection(&id)
            .await?
            .ok_or_else(not_found)?;
        let is_owner = caller.user_id().is_some() && caller.user_id() == connection.owner;
        if !(is_owner || caller.is_admin) {
            let owner = connection.owner.map_or_else(
                || "it has no owner yet; an admin can assign one".to_owned(),
                |o| format!("it belongs to {}", o.mention()),
            );
            return Err(ChatError::NotAllowed(format!(
                "You cannot switch `{}`: {owner}. Only its owner or an admin can.",
                connection.id
            )));
        }
        if connection.state == ConnectionState::Migrated {
            let by = connection.migrated_by.as_deref().unwrap_or("someone");
            let when = connection
                .migrated_at
                .map(|t| format!(" <t:{}:R>", t.timestamp()))
                .unwrap_or_default();
            return Err(ChatError::Refused(format!(
                "`{}` is already on OAuth 2.0 (switched by {}{when}). Nothing to do.",
                connection.id,
                escape(by)
            )));
        }
        Ok(connection)
    }

    pub(super) async fn migrate(
        &self,
        caller: Caller,
        options: &Options<'_>,
    ) -> Result<Reply, ChatError> {
        let raw_id = options.text("connection").unwrap_or_default();
        let connection = self.migratable(caller, raw_id).await?;
        Ok(Reply::Modal(Modal {
            id: ComponentId::MigrateForm {
                connection: connection.id.clone(),
            },
            // Discord allows 45 characters in a modal title.
            title: truncate(&format!("Switch {} to OAuth", connection.name), 45),
            notice: "Discord does not mask what you type here; only you can see this form."
                .to_owned(),
            inputs: vec![
                TextInput {
                    id: CLIENT_ID_INPUT,
                    label: "Zoom OAuth client ID".to_owned(),
                    placeholder: "From your Zoom OAuth app: App Credentials > Client ID".to_owned(),
                    min_length: 8,
                    max_length: 64,
                    secret: false,
                },
                TextInput {
                    id: CLIENT_SECRET_INPUT,
                    label: "Zoom OAuth client secret".to_owned(),
                    placeholder: "App Credentials > Client Secret (kept sealed, never shown)"
                        .to_owned(),
                    min_length: 8,
                    max_length: 128,
                    secret: true,
                },
            ],
        }))
    }

    /// Connections the caller may switch whose id or name contains what they typed.
    pub(super) async fn migrate_suggestions(
        &self,
        caller: Caller,
        partial: &str,
    ) -> Result<Reply, ChatError> {
        let owner = if caller.is_admin {
            None
        } else {
            caller.user_id()
        };
        if owner.is_none() && !caller.is_admin {
            return Ok(Reply::Choices(Vec::new()));
        }
        let found = self.store.search_unmigrated(owner, partial, 25).await?;
        Ok(Reply::Choices(
            found
                .into_iter()
                .map(|c| Choice {
                    label: truncate(&format!("{} ({})", c.name, c.id), 100),
                    value: c.id.to_string(),
                })
                .collect(),
        ))
    }

    pub(super) async fn migrate_submit(
        &self,
        caller: Caller,
        connection: &ConnectionId,
        _values: &[(String, String)],
    ) -> Result<Reply, ChatError> {
        let connection = self.migratable(caller, connection.as_str()).await?;
        // The switch itself (sealing the secret, the personal link, the redirect) comes
        // with the OAuth flow; until then nothing from the form is kept.
        Ok(Reply::Message(Message::private(format!(
            "Got it, but the switch is not available yet in this version of cutover, so nothing was stored \
             for `{}`. Your client secret was discarded.",
            connection.id
        ))))
    }
}
