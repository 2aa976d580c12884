//! The slash commands as Discord registers them, built from the core's command table.

use crate::chat::{group_description, CommandSpec, OptionKind, OptionSpec, COMMANDS};
use serenity::all::{
    Command, CommandOptionType, CreateCommand, CreateCommandOption, GuildId, Http, Permissions,
};

fn option(spec: &OptionSpec) -> CreateCommandOption {
    let kind = match spec.kind {
        OptionKind::Text => CommandOptionType::String,
        OptionKind::User => CommandOptionType::User,
        OptionKind::Channel => CommandOptionType::Channel,
        OptionKind::Integer => CommandOptionType::Integer,
    };
    let mut built = CreateCommandOption::new(kind, spec.name, spec.description)
        .required(spec.required)
        .set_autocomplete(spec.autocomplete);
    for choice in spec.choices {
        built = built.add_string_choice(*choice, *choice);
    }
    if spec.kind == OptionKind::Text {
        built = built.max_length(200);
    }
    built
}

fn subcommand(name: &str, spec: &CommandSpec) -> CreateCommandOption {
    spec.options.iter().fold(
        CreateCommandOption::new(CommandOptionType::SubCommand, name, spec.description),
        |sub, o| sub.add_sub_option(option(o)),
    )
}

/// Every command, grouped as Discord wants: `cutover connection add` becomes the
/// command `cutover`, its group `connection`, its subcommand `add`.
pub fn commands() -> Vec<CreateCommand> {
    let mut tops: Vec<&str> = Vec::new();
    for spec in COMMANDS {
        let top = spec.name.split(' ').next().unwrap_or(spec.name);
        if !tops.contains(&top) {
            tops.push(top);
        }
    }
    tops.into_iter()
        .map(|top| {
            let specs: Vec<&CommandSpec> = COMMANDS
                .iter()
                .filter(|s| s.name.split(' ').next() == Some(top))
                .collect();
            let mut command = match specs.as_slice() {
                [single] if single.name == top => single.options.iter().fold(
                    CreateCommand::new(top).description(single.description),
                    |c, o| c.add_option(option(o)),
                ),
                _ => {
                    let mut command = CreateCommand::new(top).description(group_description(top));
                    let mut groups: Vec<&str> = Vec::new();
                    for spec in &specs {
                        let words: Vec<&str> = spec.name.split(' ').collect();
                        match words.as_slice() {
                            [_, sub] => command = command.add_option(subcommand(sub, spec)),
                            [_, group, _] if !groups.contains(group) => {
                                groups.push(group);
                                let path = format!("{top} {group}");
                                let mut built = CreateCommandOption::new(
                                    CommandOptionType::SubCommandGroup,
                                    *group,
                                    group_description(&path),
                                );
                                for member in specs
                                    .iter()
                                    .filter(|s| s.name.starts_with(&format!("{path} ")))
                                {
                                    let sub = member.name.rsplit(' ').next().unwrap_or(member.name);
                                    built = built.add_sub_option(subcommand(sub, member));
                                }
                                command = command.add_option(built);
                            }
                            _ => {}
                        }
                    }
                    command
                }
            };
            // Discord hides admin commands from members without Manage Server; the core
            // checks again, since a hidden command is not a permission.
            if specs.iter().all(|s| s.admin_only) {
                command = command
                    .default_member_permissions(Permissions::MANAGE_GUILD)
                    .dm_permission(false);
            }
            command
        })
        .collect()
}

/// Registers every command in one guild (instant) or globally.
pub async fn register(http: &Http, guild: Option<u64>) -> serenity::Result<usize> {
    let registered = match guild {
        Some(guild) => GuildId::new(guild).set_commands(http, commands()).await?,
        None => Command::set_global_commands(http, commands()).await?,
    };
    Ok(registered.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_commands_by_their_first_words() {
        let json = serde_json::to_value(commands()).expect("serializes");
        let names: Vec<_> = json
            .as_array()
            .expect("array")
            .iter()
            .map(|c| c["name"].as_str().unwrap_or(""))
            .collect();
        assert_eq!(
            names,
            [
                "deadlines",
                "connections",
                "migrate",
                "migration",
                "cutover",
                "progress",
                "status",
                "help"
            ]
        );
        let cutover = &json[4];
        assert_eq!(cutover["default_member_permissions"], "32");
        let groups: Vec<_> = cutover["options"]
            .as_array()
            .expect("groups")
            .iter()
            .map(|g| {
                (
                    g["name"].as_str(),
                    g["type"].as_u64(),
                    g["options"].as_array().map(Vec::len),
                )
            })
            .collect();
        assert_eq!(
            groups,
            [
                (Some("connection"), Some(2), Some(4)),
                (Some("deadline"), Some(2), Some(2)),
                (Some("reminders"), Some(2), Some(4))
            ]
        );
        let migration = &json[3];
        assert_eq!(migration["options"][0]["name"], "status");
        assert_eq!(migration["options"][0]["type"], 1);
        assert!(json[0]
            .get("default_member_permissions")
            .is_none_or(serde_json::Value::is_null));
    }
}
