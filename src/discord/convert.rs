//! Interactions as the chat core's requests.

use crate::chat::{Action, Caller, Message, OptionValue, Reply, Request};
use crate::domain::{Actor, Snowflake};
use crate::settings::DiscordSettings;
use crate::switch::ReplyHandle;
use secrecy::SecretString;
use serenity::all::{
    ActionRowComponent, CommandDataOption, CommandDataOptionValue, CommandInteraction, GuildId,
    Interaction, Member, Permissions, User,
};

/// Who counts as an admin: Manage Server (or Administrator), or one of these roles.
#[derive(Debug, Clone, Default)]
pub struct AdminPolicy {
    pub admin_role_ids: Vec<Snowflake>,
    /// The team's server (`discord.guild_id`). Manage Server counts only there: the bot may
    /// sit in other servers, whose managers are not this team's admins.
    pub home_guild: Option<Snowflake>,
}

impl AdminPolicy {
    pub fn of(discord: &DiscordSettings) -> Self {
        Self {
            admin_role_ids: discord.admin_role_ids.clone(),
            home_guild: discord.guild_id,
        }
    }

    fn is_admin(&self, member: Option<&Member>, guild: Option<GuildId>) -> bool {
        // Outside a server (a DM) nobody has server permissions.
        let Some(member) = member else { return false };
        let in_home_guild = matches!((self.home_guild, guild), (Some(home), Some(guild)) if home.get() == guild.get());
        let by_permission = in_home_guild
            && member.permissions.is_some_and(|p| {
                p.contains(Permissions::MANAGE_GUILD) || p.contains(Permissions::ADMINISTRATOR)
            });
        // Role ids are unique across Discord, so a listed role is the team's wherever it is.
        let by_role = member
            .roles
            .iter()
            .any(|role| self.admin_role_ids.iter().any(|id| id.get() == role.get()));
        by_permission || by_role
    }

    fn caller(
        &self,
        user: &User,
        member: Option<&Member>,
        guild: Option<GuildId>,
    ) -> Option<Caller> {
        let id = Snowflake::new(user.id.get()).ok()?;
        Some(Caller {
            actor: Actor::Discord(id),
            is_admin: self.is_admin(member, guild),
        })
    }
}

/// The answer to an interaction from outside the team's server (`discord.guild_id`):
/// another server or a direct message. `None` when it comes from home, or when no home
/// server is configured.
pub fn from_elsewhere(interaction: &Interaction, policy: &AdminPolicy) -> Option<Reply> {
    let home = policy.home_guild?;
    let guild = match interaction {
        Interaction::Command(c) | Interaction::Autocomplete(c) => c.guild_id,
        Interaction::Component(c) => c.guild_id,
        Interaction::Modal(m) => m.guild_id,
        _ => return None,
    };
    if guild.is_some_and(|g| g.get() == home.get()) {
        return None;
    }
    Some(match interaction {
        Interaction::Autocomplete(_) => Reply::Choices(Vec::new()),
        _ => Reply::Message(Message::private(
            "This cutover works for one team's Discord server, and this is not it: \
             use its commands in that server. Nothing was done here.",
        )),
    })
}

/// Flattens subcommand groups into the core's command path and leaf options.
fn command_path(command: &CommandInteraction) -> (String, &[CommandDataOption]) {
    let mut name = command.data.name.clone();
    let mut options: &[CommandDataOption] = &command.data.options;
    while let [only] = options {
        match &only.value {
            CommandDataOptionValue::SubCommandGroup(inner)
            | CommandDataOptionValue::SubCommand(inner) => {
                name.push(' ');
                name.push_str(&only.name);
                options = inner;
            }
            _ => break,
        }
    }
    (name, options)
}

fn option_value(value: &CommandDataOptionValue) -> Option<OptionValue> {
    let id = |raw: u64| Snowflake::new(raw).ok();
    Some(match value {
        CommandDataOptionValue::String(s) => OptionValue::Text(s.clone()),
        CommandDataOptionValue::Integer(n) => OptionValue::Integer(*n),
        CommandDataOptionValue::User(user) => OptionValue::User(id(user.get())?),
        CommandDataOptionValue::Channel(channel) => OptionValue::Channel(id(channel.get())?),
        CommandDataOptionValue::Number(n) => OptionValue::Text(n.to_string()),
        CommandDataOptionValue::Boolean(b) => OptionValue::Text(b.to_string()),
        CommandDataOptionValue::Autocomplete { value, .. } => OptionValue::Text(value.clone()),
        _ => return None,
    })
}

/// What Discord shows for the person here: their server nickname, else their global
/// display name, else their username.
fn display_name(user: &User, member: Option<&Member>) -> String {
    member
        .and_then(|m| m.nick.clone())
        .or_else(|| user.global_name.clone())
        .unwrap_or_else(|| user.name.clone())
}

fn handle(application_id: u64, token: &str) -> ReplyHandle {
    ReplyHandle {
        application_id: application_id.to_string(),
        token: SecretString::from(token.to_owned()),
    }
}

/// The request an interaction makes, or `None` for a ping (answered before the core).
pub fn to_request(interaction: &Interaction, policy: &AdminPolicy) -> Option<Request> {
    match interaction {
        Interaction::Command(command) => {
            let caller =
                policy.caller(&command.user, command.member.as_deref(), command.guild_id)?;
            let (name, options) = command_path(command);
            let options = options
                .iter()
                .filter_map(|o| option_value(&o.value).map(|v| (o.name.clone(), v)))
                .collect();
            let mut request = Request::new(caller, Action::Command { name, options });
            request.display_name = Some(display_name(&command.user, command.member.as_deref()));
            Some(request)
        }
        Interaction::Autocomplete(command) => {
            let caller =
                policy.caller(&command.user, command.member.as_deref(), command.guild_id)?;
            let (name, options) = command_path(command);
            let (option, partial) = options.iter().find_map(|o| match &o.value {
                CommandDataOptionValue::Autocomplete { value, .. } => {
                    Some((o.name.clone(), value.clone()))
                }
                _ => None,
            })?;
            Some(Request::new(
                caller,
                Action::Autocomplete {
                    name,
                    option,
                    partial,
                },
            ))
        }
        Interaction::Component(component) => {
            let caller = policy.caller(
                &component.user,
                component.member.as_ref(),
                component.guild_id,
            )?;
            let mut request = Request::new(
                caller,
                Action::Button {
                    id: component.data.custom_id.clone(),
                },
            );
            request.reply_to = Some(handle(component.application_id.get(), &component.token));
            Some(request)
        }
        Interaction::Modal(modal) => {
            let caller = policy.caller(&modal.user, modal.member.as_ref(), modal.guild_id)?;
            let values = modal
                .data
                .components
                .iter()
                .flat_map(|row| &row.components)
                .filter_map(|c| match c {
                    ActionRowComponent::InputText(input) => Some((
                        input.custom_id.clone(),
                        input.value.clone().unwrap_or_default(),
                    )),
                    _ => None,
                })
                .collect();
            let mut request = Request::new(
                caller,
                Action::ModalSubmit {
                    id: modal.data.custom_id.clone(),
                    values,
                },
            );
            request.reply_to = Some(handle(modal.application_id.get(), &modal.token));
            Some(request)
        }
        _ => None,
    }
}
