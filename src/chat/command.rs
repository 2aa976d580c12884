//! A command as asked, parsed once from its path in [`COMMANDS`](super::COMMANDS) and
//! its checked options, as [`ComponentId`](super::ComponentId) is for buttons: each
//! handler takes typed values and never reads an option by name.

use super::options::Options;
use super::{ChatError, CommandSpec, OptionValue};
use crate::domain::{
    parse_due, AuthType, ConnectionId, ConnectionRecord, DisplayName, IntegrationName, ShowFilter,
    Snowflake, TimeZoneName, UnknownShowFilter, UserId,
};
use crate::markdown::truncate;
use chrono::{DateTime, Utc};

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Command<'a> {
    Deadlines,
    Connections {
        show: ShowFilter,
        owner: Option<UserId>,
    },
    /// The id as typed: one that cannot be an id is answered as no such connection.
    Migrate {
        connection: &'a str,
    },
    /// Without a connection, the caller's own.
    MigrationStatus {
        connection: Option<&'a str>,
    },
    Progress,
    /// A sign-in link to the campaign page.
    Status,
    Help,
    /// `/cutover …`, for admins only.
    Admin(AdminCommand),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum AdminCommand {
    /// A connection the inventory is to hold, on JWT (as every connection starts).
    ConnectionAdd(ConnectionRecord),
    ConnectionAssign {
        id: ConnectionId,
        owner: UserId,
    },
    ConnectionRemove {
        id: ConnectionId,
    },
    ConnectionSync,
    DeadlineAdd {
        title: DisplayName,
        due: DateTime<Utc>,
        note: String,
    },
    DeadlineRemove {
        id: i64,
    },
    RemindersChannel {
        channel: Snowflake,
    },
    RemindersPause,
    RemindersResume,
    RemindersPreview,
}

impl<'a> Command<'a> {
    /// Checks `given` against the command's spec and reads each option; `timezone`
    /// reads a due date typed without one.
    pub(super) fn parse(
        spec: &'static CommandSpec,
        given: &'a [(String, OptionValue)],
        timezone: TimeZoneName,
    ) -> Result<Self, ChatError> {
        let options = Options::check(spec, given)?;
        Ok(match spec.name {
            "deadlines" => Command::Deadlines,
            "connections" => Command::Connections {
                show: match options.text("show") {
                    Some(text) => {
                        text.parse()
                            .map_err(|e: UnknownShowFilter| ChatError::BadOption {
                                option: "show".into(),
                                problem: e.to_string(),
                            })?
                    }
                    None => ShowFilter::default(),
                },
                owner: options.id("owner"),
            },
            "migrate" => Command::Migrate {
                connection: options.text("connection").unwrap_or_default(),
            },
            "migration status" => Command::MigrationStatus {
                connection: options.text("connection"),
            },
            "progress" => Command::Progress,
            "status" => Command::Status,
            "help" => Command::Help,
            admin => Command::Admin(AdminCommand::parse(admin, &options, timezone)?),
        })
    }
}

impl AdminCommand {
    fn parse(name: &str, options: &Options<'_>, timezone: TimeZoneName) -> Result<Self, ChatError> {
        Ok(match name {
            "cutover connection add" => AdminCommand::ConnectionAdd(ConnectionRecord {
                id: options.parsed("id", ConnectionId::parse)?,
                name: options.parsed("name", DisplayName::parse)?,
                integration: options.parsed("integration", IntegrationName::parse)?,
                owner: options.id("owner"),
                auth_type: AuthType::Jwt,
            }),
            "cutover connection assign" => AdminCommand::ConnectionAssign {
                id: options.parsed("id", ConnectionId::parse)?,
                owner: options.required_id("owner")?,
            },
            "cutover connection remove" => AdminCommand::ConnectionRemove {
                id: options.parsed("id", ConnectionId::parse)?,
            },
            "cutover connection sync" => AdminCommand::ConnectionSync,
            "cutover deadline add" => AdminCommand::DeadlineAdd {
                title: options.parsed("title", DisplayName::parse)?,
                due: options.parsed("due", |due| parse_due(due, timezone.tz()))?,
                note: truncate(options.text("note").unwrap_or_default(), 300),
            },
            "cutover deadline remove" => AdminCommand::DeadlineRemove {
                id: options.integer("id").unwrap_or_default(),
            },
            "cutover reminders channel" => AdminCommand::RemindersChannel {
                channel: options.required_id("channel")?,
            },
            "cutover reminders pause" => AdminCommand::RemindersPause,
            "cutover reminders resume" => AdminCommand::RemindersResume,
            "cutover reminders preview" => AdminCommand::RemindersPreview,
            other => return Err(ChatError::UnknownCommand(other.to_owned())),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::{OptionKind, COMMANDS};
    use super::*;

    /// A value each required option accepts, so only the command's path is tested.
    fn required_options(spec: &CommandSpec) -> Vec<(String, OptionValue)> {
        spec.options
            .iter()
            .filter(|o| o.required)
            .map(|o| {
                let value = match (o.kind, o.name) {
                    (OptionKind::Text, "due") => OptionValue::Text("2026-12-15".into()),
                    (OptionKind::Text, _) => OptionValue::Text("z1".into()),
                    (OptionKind::User, _) => OptionValue::User(Snowflake::new(42).expect("id")),
                    (OptionKind::Channel, _) => {
                        OptionValue::Channel(Snowflake::new(7).expect("id"))
                    }
                    (OptionKind::Integer, _) => OptionValue::Integer(1),
                };
                (o.name.to_owned(), value)
            })
            .collect()
    }

    #[test]
    fn every_command_in_the_table_has_a_variant() {
        let timezone = TimeZoneName::parse("UTC").expect("zone");
        for spec in COMMANDS {
            let given = required_options(spec);
            assert!(
                Command::parse(spec, &given, timezone).is_ok(),
                "/{}",
                spec.name
            );
        }
    }
}
