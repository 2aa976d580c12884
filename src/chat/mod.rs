//! The chat core: takes a [`Request`] (who, and what they asked) and returns a
//! [`Reply`]. It knows nothing of Discord or the terminal; those are thin adapters.

mod admin;
mod command;
mod commands;
mod component_id;
mod connections;
mod deadlines;
mod error;
mod help;
mod migrate;
mod options;
mod reminders;
mod reply;
mod sign_in_link;
mod status;

pub use commands::{
    find as find_command, group_description, CommandSpec, OptionKind, OptionSpec, COMMANDS,
};
pub use component_id::{ComponentId, StaleComponent};
pub use error::ChatError;
pub use options::OptionValue;
pub use reply::{
    Answer, Attachment, Button, ButtonTarget, Choice, Field, Message, Modal, Reply, TextInput,
    Visibility,
};

use crate::clock::SharedClock;
use crate::domain::{Actor, Deadline, Snowflake, TimeZoneName, UserId};
use crate::metrics::Metrics;
use crate::reminders::Reminders;
use crate::sign_in::SignIns;
use crate::store::Store;
use crate::switch::{Backends, ReplyHandle};
use command::{AdminCommand, Command};
use std::collections::HashMap;
use std::sync::Arc;

/// Who is asking.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Caller {
    pub actor: Actor,
    pub is_admin: bool,
}

impl Caller {
    pub fn user_id(&self) -> Option<UserId> {
        match self.actor {
            Actor::Discord(id) => Some(id),
            _ => None,
        }
    }
}

/// Debug shows a form's field names, never their values (a client secret is one).
#[derive(Clone, PartialEq)]
pub enum Action {
    /// A slash command: its path (e.g. `connections`) and the options given.
    Command {
        name: String,
        options: Vec<(String, OptionValue)>,
    },
    /// A button press, with the id the client sent back.
    Button { id: String },
    /// A filled-in modal, with the id the client sent back and each input's value.
    ModalSubmit {
        id: String,
        values: Vec<(String, String)>,
    },
    /// The person is typing `option` of command `name`; `partial` is what they typed.
    Autocomplete {
        name: String,
        option: String,
        partial: String,
    },
}

impl Action {
    /// The command it belongs to, for /metrics: only names cutover has, so typed
    /// nonsense cannot grow the label set.
    fn metric_name(&self) -> String {
        let command = |name: &str| find_command(name).map_or("unknown", |spec| spec.name);
        match self {
            Action::Command { name, .. } => command(name).to_owned(),
            Action::Autocomplete { name, .. } => format!("{} (suggestions)", command(name)),
            Action::Button { .. } => "button".to_owned(),
            Action::ModalSubmit { .. } => "form".to_owned(),
        }
    }
}

impl std::fmt::Debug for Action {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Action::Command { name, options } => f
                .debug_struct("Command")
                .field("name", name)
                .field("options", options)
                .finish(),
            Action::Button { id } => f.debug_struct("Button").field("id", id).finish(),
            Action::ModalSubmit { id, values } => {
                let fields: Vec<&str> = values.iter().map(|(k, _)| k.as_str()).collect();
                f.debug_struct("ModalSubmit")
                    .field("id", id)
                    .field("fields", &fields)
                    .finish()
            }
            Action::Autocomplete {
                name,
                option,
                partial,
            } => f
                .debug_struct("Autocomplete")
                .field("name", name)
                .field("option", option)
                .field("partial", partial)
                .finish(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Request {
    pub caller: Caller,
    pub action: Action,
    /// How to reach the person's answer later (Discord: edit the private message when
    /// the switch completes). The terminal needs none.
    pub reply_to: Option<ReplyHandle>,
    /// The name the person goes by in the chat, when it tells (the campaign page shows
    /// it instead of an id).
    pub display_name: Option<String>,
}

impl Request {
    pub fn new(caller: Caller, action: Action) -> Self {
        Self {
            caller,
            action,
            reply_to: None,
            display_name: None,
        }
    }
}

/// What the core needs, shared by every adapter.
pub struct ChatCore {
    store: Store,
    clock: SharedClock,
    configured_deadlines: Vec<Deadline>,
    timezone: TimeZoneName,
    backends: Backends,
    sign_ins: Arc<SignIns>,
    /// Names already stored, so a name is written once, not at every interaction.
    names_stored: std::sync::Mutex<HashMap<UserId, String>>,
    reminders: Arc<Reminders>,
    /// `reminders.channel_id` from the configuration (admins may set another from chat).
    reminders_channel: Option<Snowflake>,
    metrics: Arc<Metrics>,
}

impl ChatCore {
    pub fn new(
        store: Store,
        clock: SharedClock,
        configured_deadlines: Vec<Deadline>,
        backends: Backends,
        sign_ins: Arc<SignIns>,
        reminders: Arc<Reminders>,
        metrics: Arc<Metrics>,
    ) -> Self {
        Self {
            store,
            clock,
            configured_deadlines,
            timezone: reminders.timezone(),
            reminders_channel: reminders.configured_channel(),
            backends,
            sign_ins,
            names_stored: std::sync::Mutex::new(HashMap::new()),
            reminders,
            metrics,
        }
    }

    /// Reminders as they fall due (the terminal prints them).
    pub fn reminder_events(
        &self,
    ) -> tokio::sync::broadcast::Receiver<crate::reminders::ReminderEvent> {
        self.reminders.subscribe()
    }

    /// Saves a file a reply carries, for the terminal; its path.
    pub fn save_file(&self, file: &Attachment) -> std::io::Result<std::path::PathBuf> {
        self.reminders.save_chart(&file.bytes)
    }

    /// Whether the answer is for the channel (a deferred answer must say so up front).
    pub fn answers_publicly(&self, request: &Request) -> bool {
        matches!(self.asked_command(request), Some(Command::Progress))
    }

    /// The command `request` asks for, when it is one that parses; whether the caller
    /// may run it is for `dispatch` to say.
    fn asked_command<'a>(&self, request: &'a Request) -> Option<Command<'a>> {
        let Action::Command { name, options } = &request.action else {
            return None;
        };
        Command::parse(find_command(name)?, options, self.timezone).ok()
    }

    /// What answering is busy with when it takes long enough that an adapter should say
    /// so at once (Discord: defer now and edit later; the terminal: this line), in words
    /// true of every answer to `request`; `None` when the answer comes at once.
    pub fn slow_work(&self, request: &Request) -> Option<&'static str> {
        let celigo = self.backends.celigo().is_some();
        match &request.action {
            Action::Command { .. } => match self.asked_command(request)? {
                // A chart is drawn and sent as a file: both take a moment.
                Command::Progress => Some("Drawing the burndown chart…"),
                Command::Admin(AdminCommand::ConnectionSync) if celigo => {
                    Some("Reading the Zoom connections from integrator.io…")
                }
                _ => None,
            },
            // Slow only for a connection switched in integrator.io, which the backend
            // decides later; the words hold for either.
            Action::ModalSubmit { id, .. }
                if celigo
                    && matches!(ComponentId::decode(id), Ok(ComponentId::MigrateForm { .. })) =>
            {
                Some("Preparing your personal link…")
            }
            _ => None,
        }
    }

    /// The switch's outcomes as they happen (the terminal prints its own).
    pub fn switch_events(&self) -> tokio::sync::broadcast::Receiver<crate::switch::SwitchEvent> {
        self.backends.switch().announcer().subscribe()
    }

    pub fn timezone(&self) -> TimeZoneName {
        self.timezone
    }

    /// Answers one request. Never fails: problems become a private explanation.
    #[tracing::instrument(skip_all, fields(actor = %request.caller.actor))]
    pub async fn handle(&self, request: Request) -> Answer {
        // Measured on the process's own clock: how long people wait, not what time it is.
        let started = std::time::Instant::now();
        self.remember_name(&request).await;
        let answered = self.dispatch(&request).await;
        self.metrics.interaction(
            request.action.metric_name(),
            answered.as_ref().map_or_else(ChatError::outcome, |_| "ok"),
            started.elapsed(),
        );
        let reply = match answered {
            Ok(reply) => reply,
            Err(error) => Reply::Message(error.into_message()),
        };
        self.tell_admin(request.caller, reply).await
    }

    /// Keeps the name a person goes by, when it is new or changed.
    async fn remember_name(&self, request: &Request) {
        let (Some(user), Some(name)) = (request.caller.user_id(), &request.display_name) else {
            return;
        };
        let known = self
            .names_stored
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(&user)
            == Some(name);
        if known {
            return;
        }
        match self.store.remember_name(user, name, self.clock.now()).await {
            Ok(()) => {
                self.names_stored
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .insert(user, name.clone());
            }
            // Only a nicety for the campaign page: the answer goes on.
            Err(e) => tracing::warn!(error = %e, "could not keep a person's display name"),
        }
    }

    async fn dispatch(&self, request: &Request) -> Result<Reply, ChatError> {
        let caller = request.caller;
        match &request.action {
            Action::Command { name, options } => {
                let spec =
                    find_command(name).ok_or_else(|| ChatError::UnknownCommand(name.clone()))?;
                if spec.admin_only && !caller.is_admin {
                    return Err(ChatError::NotAllowed(format!(
                        "/{} is for admins (Manage Server permission or an admin role).",
                        spec.name
                    )));
                }
                self.run(caller, Command::parse(spec, options, self.timezone)?)
                    .await
            }
            Action::Button { id } => {
                match ComponentId::decode(id).map_err(|_| ChatError::StaleComponent)? {
                    ComponentId::ConnectionsPage { show, owner, page } => self
                        .connections_page(show, owner, page)
                        .await
                        .map(Reply::Update),
                    ComponentId::FreshLink { connection } => {
                        self.fresh_link(caller, &connection, request.reply_to.as_ref())
                            .await
                    }
                    ComponentId::MigrateForm { .. } => Err(ChatError::StaleComponent),
                    ComponentId::MigrateMine => self.migrate_mine(caller).await,
                    ComponentId::OpenForm { connection } => {
                        self.migrate_form(caller, connection.as_str()).await
                    }
                }
            }
            Action::ModalSubmit { id, values } => {
                match ComponentId::decode(id).map_err(|_| ChatError::StaleComponent)? {
                    ComponentId::MigrateForm { connection } => {
                        self.migrate_submit(caller, &connection, values, request.reply_to.as_ref())
                            .await
                    }
                    _ => Err(ChatError::StaleComponent),
                }
            }
            Action::Autocomplete {
                name,
                option,
                partial,
            } => match (name.as_str(), option.as_str()) {
                ("migrate", "connection") => self.migrate_suggestions(caller, partial).await,
                // Nothing to suggest: an empty list lets the person type freely.
                _ => Ok(Reply::Choices(Vec::new())),
            },
        }
    }

    /// Answers a command the caller may run, its options already read.
    async fn run(&self, caller: Caller, command: Command<'_>) -> Result<Reply, ChatError> {
        match command {
            Command::Deadlines => self.deadlines().await,
            Command::Connections { show, owner } => self
                .connections_page(show, owner, 1)
                .await
                .map(Reply::Message),
            Command::Migrate { connection } => self.migrate_form(caller, connection).await,
            Command::MigrationStatus { connection } => {
                self.migration_status(caller, connection).await
            }
            Command::Progress => self.progress().await,
            Command::Status => self.sign_in_link(caller).await,
            Command::Help => Ok(help::help(caller)),
            Command::Admin(command) => self.admin(caller.actor, command).await,
        }
    }
}
