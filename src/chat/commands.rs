//! The commands the bot offers: one table that drives `/help`, option checking and (for
//! Discord) command registration.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OptionKind {
    Text,
    User,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OptionSpec {
    pub name: &'static str,
    pub description: &'static str,
    pub kind: OptionKind,
    pub required: bool,
    /// When not empty, the only values allowed.
    pub choices: &'static [&'static str],
    /// The client should ask the bot for suggestions as the person types.
    pub autocomplete: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CommandSpec {
    /// The command path as typed after the slash, e.g. `connections`.
    pub name: &'static str,
    pub description: &'static str,
    pub options: &'static [OptionSpec],
    /// Only admins may run it (checked by the core, whatever the client shows).
    pub admin_only: bool,
}

impl CommandSpec {
    pub fn option(&self, name: &str) -> Option<&'static OptionSpec> {
        self.options.iter().find(|o| o.name == name)
    }
}

pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "deadlines",
        description: "Countdown to each cutover deadline, with progress so far",
        options: &[],
        admin_only: false,
    },
    CommandSpec {
        name: "connections",
        description: "List the Zoom connections not yet switched to OAuth 2.0",
        options: &[
            OptionSpec {
                name: "show",
                description: "Which connections: unmigrated (default), migrated or all",
                kind: OptionKind::Text,
                required: false,
                choices: &["unmigrated", "migrated", "all"],
                autocomplete: false,
            },
            OptionSpec {
                name: "owner",
                description: "Only this person's connections",
                kind: OptionKind::User,
                required: false,
                choices: &[],
                autocomplete: false,
            },
        ],
        admin_only: false,
    },
    CommandSpec {
        name: "migrate",
        description: "Switch one of your Zoom connections to OAuth 2.0 (opens a private form)",
        options: &[OptionSpec {
            name: "connection",
            description: "The connection's id (see /connections)",
            kind: OptionKind::Text,
            required: true,
            choices: &[],
            autocomplete: true,
        }],
        admin_only: false,
    },
    CommandSpec {
        name: "help",
        description: "What cutover can do and how to use each command",
        options: &[],
        admin_only: false,
    },
];

pub fn find(name: &str) -> Option<&'static CommandSpec> {
    COMMANDS.iter().find(|c| c.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_command_and_option_has_help_text_within_discords_limits() {
        for c in COMMANDS {
            assert!(
                !c.description.is_empty() && c.description.len() <= 100,
                "{}",
                c.name
            );
            for o in c.options {
                assert!(
                    !o.description.is_empty() && o.description.len() <= 100,
                    "{}.{}",
                    c.name,
                    o.name
                );
                assert!(
                    o.name.len() <= 32
                        && o.name
                            .chars()
                            .all(|ch| ch.is_ascii_lowercase() || ch == '_')
                );
            }
        }
    }
}
