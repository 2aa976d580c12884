//! `/cutover …`: the admins' commands for the inventory, deadlines and reminders.
//! The core checks the caller is an admin before any of these run.

use super::options::Options;
use super::{Caller, ChatCore, ChatError, Message, Reply};
use crate::domain::{
    parse_due, AuthType, ConnectionId, ConnectionRecord, DisplayName, IntegrationName,
};
use crate::inventory::SyncError;
use crate::markdown::{escape, truncate};
use crate::store::Change;

fn done(text: String) -> Result<Reply, ChatError> {
    Ok(Reply::Message(Message::private(text)))
}

fn connection_id(options: &Options<'_>) -> Result<ConnectionId, ChatError> {
    let raw = options.text("id").unwrap_or_default();
    ConnectionId::parse(raw).map_err(|e| ChatError::BadOption {
        option: "id".into(),
        problem: format!("is not valid: {e}."),
    })
}

impl ChatCore {
    pub(super) async fn admin(
        &self,
        caller: Caller,
        command: &str,
        options: &Options<'_>,
    ) -> Result<Reply, ChatError> {
        let now = self.clock.now();
        let actor = caller.actor;
        match command {
            "cutover connection add" => {
                let id = connection_id(options)?;
                let name =
                    DisplayName::parse(options.text("name").unwrap_or_default()).map_err(|e| {
                        ChatError::BadOption {
                            option: "name".into(),
                            problem: format!("is not valid: {e}."),
                        }
                    })?;
                let record = ConnectionRecord {
                    id: id.clone(),
                    name,
                    integration: IntegrationName::parse(
                        options.text("integration").unwrap_or_default(),
                    )
                    .map_err(|e| ChatError::BadOption {
                        option: "integration".into(),
                        problem: format!("is not valid: {e}."),
                    })?,
                    owner: options.id("owner"),
                    auth_type: AuthType::Jwt,
                };
                match self.store.add_connection(&record, actor, now).await? {
                    Change::AlreadyExists => Err(ChatError::Refused(format!(
                        "`{id}` is already in the inventory. Use /cutover connection assign to change its owner."
                    ))),
                    _ => done(format!("Added `{id}` **{}**, on JWT.", escape(record.name.as_str()))),
                }
            }
            "cutover connection assign" => {
                let id = connection_id(options)?;
                let owner = options.id("owner").ok_or_else(|| ChatError::BadOption {
                    option: "owner".into(),
                    problem: "is required.".into(),
                })?;
                match self.store.assign_owner(&id, owner, actor, now).await? {
                    Change::NotFound => Err(self.no_connection(&id)),
                    _ => done(format!("`{id}` now belongs to {}.", owner.mention())),
                }
            }
            "cutover connection remove" => {
                let id = connection_id(options)?;
                match self.store.remove_connection(&id, actor, now).await? {
                    Change::NotFound => Err(self.no_connection(&id)),
                    _ => done(format!("Removed `{id}` from the inventory.")),
                }
            }
            "cutover connection sync" => {
                let Some(celigo) = &self.backends.celigo else {
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
            "cutover deadline add" => {
                let title =
                    DisplayName::parse(options.text("title").unwrap_or_default()).map_err(|e| {
                        ChatError::BadOption {
                            option: "title".into(),
                            problem: format!("is not valid: {e}."),
                        }
                    })?;
                let due = parse_due(options.text("due").unwrap_or_default(), self.timezone.tz())
                    .map_err(|e| ChatError::BadOption {
                        option: "due".into(),
                        problem: format!("is not valid: {e}."),
                    })?;
                let note = truncate(options.text("note").unwrap_or_default(), 300);
                let id = self
                    .store
                    .add_deadline(&title, due, &note, false, actor, now)
                    .await?;
                self.reminders.wake();
                let unix = due.timestamp();
                done(format!(
                    "Added deadline #{id} **{}**, due <t:{unix}:F> (<t:{unix}:R>).",
                    escape(title.as_str())
                ))
            }
            "cutover deadline remove" => {
                let id = options.integer("id").unwrap_or_default();
                match self.store.remove_deadline(id, actor, now).await? {
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
            "cutover reminders channel" => {
                let channel = options.id("channel").ok_or_else(|| ChatError::BadOption {
                    option: "channel".into(),
                    problem: "is required.".into(),
                })?;
                self.store
                    .set_reminders_channel(channel, actor, now)
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
            "cutover reminders pause" => {
                self.store.set_reminders_paused(true, actor, now).await?;
                self.reminders.wake();
                done(
                    "Reminders are paused until an admin runs /cutover reminders resume."
                        .to_owned(),
                )
            }
            "cutover reminders resume" => {
                self.store.set_reminders_paused(false, actor, now).await?;
                self.reminders.wake();
                done("Reminders are on again.".to_owned())
            }
            "cutover reminders preview" => self.reminders_preview().await,
            other => Err(ChatError::UnknownCommand(other.to_owned())),
        }
    }

    fn no_connection(&self, id: &ConnectionId) -> ChatError {
        ChatError::NotFound(format!(
            "There is no connection with id `{id}`. /connections show:all lists them."
        ))
    }
}
