//! Telling people how a switch went: the person's private message (Discord), the
//! reminders channel, and the terminal — always after the page is answered, never
//! blocking it.

use crate::domain::{Actor, ConnectionId, Snowflake};
use crate::store::Store;
use secrecy::{ExposeSecret, SecretString};
use serenity::all::{
    ApplicationId, ButtonStyle, ChannelId, CreateActionRow, CreateAllowedMentions, CreateButton,
    CreateMessage, EditInteractionResponse, Http, UserId,
};
use std::sync::Arc;
use tokio::sync::broadcast;

/// An outcome for whoever started the switch (the terminal listens for its own).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SwitchEvent {
    /// Who started it, as the audit log names them (`terminal`, `discord:<id>`).
    pub actor: Actor,
    pub connection: ConnectionId,
    pub text: String,
}

/// The custom id of the "Get a fresh link" button, as the chat core decodes it
/// (`ComponentId::FreshLink`; a test there keeps the two equal).
pub fn fresh_link_id(connection: &ConnectionId) -> String {
    format!("c1:fl:{connection}")
}

pub struct Announcer {
    events: broadcast::Sender<SwitchEvent>,
    discord: Option<Arc<Http>>,
    /// Channel posts need the bot token; interaction edits do not.
    can_post: bool,
    configured_channel: Option<Snowflake>,
    store: Store,
}

impl Announcer {
    pub fn new(
        store: Store,
        discord: Option<Arc<Http>>,
        can_post: bool,
        configured_channel: Option<Snowflake>,
    ) -> Self {
        let (events, _) = broadcast::channel(64);
        Self {
            events,
            discord,
            can_post,
            configured_channel,
            store,
        }
    }

    pub fn subscribe(&self) -> broadcast::Receiver<SwitchEvent> {
        self.events.subscribe()
    }

    /// The person's private answer says what happened (Discord), and so does the terminal.
    /// With `offer_fresh_link` the answer keeps its "Get a fresh link" button (the text
    /// tells them to press it); otherwise its buttons go. `false` when there was a private
    /// answer to update and Discord refused (its token lives 15 minutes).
    pub async fn tell_person(
        &self,
        event: SwitchEvent,
        reply: Option<(String, SecretString)>,
        offer_fresh_link: bool,
    ) -> bool {
        let mut delivered = true;
        if let (Some(http), Some((application, token))) = (&self.discord, reply) {
            if let Ok(id) = application.parse::<u64>() {
                if id != 0 {
                    http.set_application_id(ApplicationId::new(id));
                }
            }
            let buttons = if offer_fresh_link {
                vec![CreateActionRow::Buttons(vec![CreateButton::new(
                    fresh_link_id(&event.connection),
                )
                .style(ButtonStyle::Secondary)
                .label("Get a fresh link")])]
            } else {
                Vec::new()
            };
            let edit = EditInteractionResponse::new()
                .content(&event.text)
                .components(buttons)
                .allowed_mentions(CreateAllowedMentions::new());
            if let Err(e) = http
                .edit_original_interaction_response(token.expose_secret(), &edit, Vec::new())
                .await
            {
                tracing::info!(
                    error = crate::telemetry::discord_error(&e),
                    connection = %event.connection,
                    "could not update the private message"
                );
                delivered = false;
            }
        }
        // Nobody listening (no terminal) is fine.
        let _ = self.events.send(event);
        delivered
    }

    /// A line in the reminders channel, when one is set and the bot can post.
    pub async fn post(&self, text: &str, mention: Option<Snowflake>) {
        let (Some(http), true) = (&self.discord, self.can_post) else {
            return;
        };
        let channel = match self.store.reminder_state().await {
            Ok(state) => state.channel.or(self.configured_channel),
            Err(e) => {
                tracing::warn!(error = %e, "could not read the reminders channel");
                return;
            }
        };
        let Some(channel) = channel else { return };
        let mentions = match mention {
            Some(user) => CreateAllowedMentions::new().users([UserId::new(user.get())]),
            None => CreateAllowedMentions::new(),
        };
        let message = CreateMessage::new()
            .content(text)
            .allowed_mentions(mentions);
        if let Err(e) = ChannelId::new(channel.get())
            .send_message(http.as_ref(), message)
            .await
        {
            tracing::warn!(
                error = crate::telemetry::discord_error(&e),
                channel = %channel,
                "could not post in the reminders channel"
            );
        }
    }
}
