//! `/cutover …`: the admins' commands for the inventory, deadlines and reminders.
//! The core checks the caller is an admin before any of these run.

use super::command::AdminCommand;
use super::{ChatCore, ChatError, Message, Reply};
use crate::domain::{Actor, ConnectionId, ConnectionRecord, DisplayName, Snowflake, UserId};
use crate::inventory::SyncError;
use crate::markdown::escape;
use crate::store::Change;
use chrono::{DateTime, Utc};

fn done(text: String) -> Result<Reply, ChatError> {
    Ok(Reply::Message(Message::private(text)))
}

fn no_connection(id: &ConnectionId) -> ChatError {
    ChatError::NotFound(format!(
        "There is no connection with id `{id}`. /connections show:all lists them."
    ))
}

impl ChatCore {
    pub(super) async fn admin(
        &self,
        actor: Actor,
        command: AdminCommand,
    ) -> Result<Reply, ChatError> {
        match command {
            AdminCommand::ConnectionAdd(record) => self.add_connection(actor, record).await,
            AdminCommand::ConnectionAssign { id, owner } => {
                self.assign_owner(actor, &id, owner).await
            }
            AdminCommand::ConnectionRemove { id } => self.remove_connection(actor, &id).await,
            AdminCommand::ConnectionSync => self.sync_connections(actor).await,
            AdminCommand::DeadlineAdd { title, due, note } => {
                self.add_deadline(actor, &title, due, &note).await
            }
            AdminCommand::DeadlineRemove { id } => self.remove_deadline(actor, id).await,
            AdminCommand::RemindersChannel { channel } => {
                self.set_reminders_channel(actor, channel).await
            }
            AdminCommand::RemindersPause => self.pause_reminders(actor).await,
            AdminCommand::RemindersResume => self.resume_reminders(actor).await,
            AdminCommand::RemindersPreview => self.reminders_preview().await,
        }
    }

    async fn add_connection(
        &self,
        actor: Actor,
        record: ConnectionRecord,
    ) -> Result<Reply, ChatError> {
        let id = &record.id;
        match self
            .store
            .add_connection(&record, actor, self.clock.now())
            .await?
        {
            Change::AlreadyExists => Err(ChatError::Refused(format!(
                "`{id}` is already in the inventory. Use /cutover connection assign to change its owner."
            ))),
            _ => done(format!(
                "Added `{id}` **{}**, on JWT.",
                escape(record.name.as_str())
            )),
        }
    }

    async fn assign_owner(
        &self,
        actor: Actor,
        id: &ConnectionId,
        owner: UserId,
    ) -> Result<Reply, ChatError> {
        match self
            .store
            .assign_owner(id, owner, actor, self.clock.now())
            .await?
        {
            Change::NotFound => Err(no_connection(id)),
            _ => done(format!("`{id}` now belongs to {}.", owner.mention())),
        }
    }

    async fn remove_connection(&self, actor: Actor, id: &ConnectionId) -> Result<Reply, ChatError> {
        match self
            .store
            .remove_connection(id, actor, self.clock.now())
            .await?
        {
            Change::NotFound => Err(no_connection(id)),
            _ => done(format!("Removed `{id}` from the inventory.")),
        }
    }

    async fn sync_connections(&self, actor: Actor) -> Result<Reply, ChatError> {
        let Some(celigo) = self.backends.celigo() else {
            return Err(ChatError::Refused(
                "integrator.io is not set up: an admin sets CUTOVER__CELIGO__API_TOKEN (a Full access token) \
                 and restarts cutover. Until then the inventory comes from `cutover connections import`."
                    .to_owned(),
            ));
        };
        match celigo.sync(actor, &|_| {}).await {
            Ok(report) => done(report.describe()),
            Err(SyncError::Store(e)) => Err(e.into()),
            Err(e) => Err(ChatError::Refused(format!(
                "The sync did not run, and nothing was changed: {e}."
            ))),
        }
    }

    async fn add_deadline(
        &self,
        actor: Actor,
        title: &DisplayName,
        due: DateTime<Utc>,
        note: &str,
    ) -> Result<Reply, ChatError> {
        let id = self
            .store
            .add_deadline(title, due, note, false, actor, self.clock.now())
            .await?;
        self.reminders.wake();
        let unix = due.timestamp();
        done(format!(
            "Added deadline #{id} **{}**, due <t:{unix}:F> (<t:{unix}:R>).",
            escape(title.as_str())
        ))
    }

    async fn remove_deadline(&self, actor: Actor, id: i64) -> Result<Reply, ChatError> {
        match self
            .store
            .remove_deadline(id, actor, self.clock.now())
            .await?
        {
            Change::NotFound => Err(ChatError::NotFound(format!(
                "There is no deadline #{id} added from chat. /deadlines shows their numbers; \
                 the ones without a number come from the configuration file."
            ))),
            _ => {
                self.reminders.wake();
                done(format!("Removed deadline #{id}."))
            }
        }
    }

    async fn set_reminders_channel(
        &self,
        actor: Actor,
        channel: Snowflake,
    ) -> Result<Reply, ChatError> {
        self.store
            .set_reminders_channel(channel, actor, self.clock.now())
            .await?;
        self.reminders.wake();
        if self.store.reminder_state().await?.paused {
            done(format!(
                "Reminders will be posted in <#{channel}> once resumed: they are paused. \
                 /cutover reminders resume turns them on."
            ))
        } else {
            done(format!("Reminders will be posted in <#{channel}>."))
        }
    }

    async fn pause_reminders(&self, actor: Actor) -> Result<Reply, ChatError> {
        self.store
            .set_reminders_paused(true, actor, self.clock.now())
            .await?;
        self.reminders.wake();
        done("Reminders are paused until an admin runs /cutover reminders resume.".to_owned())
    }

    async fn resume_reminders(&self, actor: Actor) -> Result<Reply, ChatError> {
        self.store
            .set_reminders_paused(false, actor, self.clock.now())
            .await?;
        self.reminders.wake();
        done("Reminders are on again.".to_owned())
    }
}
