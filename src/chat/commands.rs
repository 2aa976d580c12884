//! The commands the bot offers: one table that drives `/help`, option checking and (for
//! Discord) command registration.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OptionKind {
    Text,
    User,
    Channel,
    Integer,
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

const fn text(name: &'static str, description: &'static str, required: bool) -> OptionSpec {
    OptionSpec {
        name,
        description,
        kind: OptionKind::Text,
        required,
        choices: &[],
        autocomplete: false,
    }
}

const fn of_kind(
    name: &'static str,
    description: &'static str,
    kind: OptionKind,
    required: bool,
) -> OptionSpec {
    OptionSpec {
        name,
        description,
        kind,
        required,
        choices: &[],
        autocomplete: false,
    }
}

const CONNECTION_TO_MIGRATE: OptionSpec = OptionSpec {
    name: "connection",
    description: "The connection's id (see /connections)",
    kind: OptionKind::Text,
    required: true,
    choices: &[],
    autocomplete: true,
};

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
                description: "Which: unmigrated (default), migrated, all, or removed (gone from integrator.io)",
                kind: OptionKind::Text,
                required: false,
                choices: &["unmigrated", "migrated", "all", "removed"],
                autocomplete: false,
            },
            of_kind(
                "owner",
                "Only this person's connections",
                OptionKind::User,
                false,
            ),
        ],
        admin_only: false,
    },
    CommandSpec {
        name: "migrate",
        description: "Switch one of your Zoom connections to OAuth 2.0 (opens a private form)",
        options: &[CONNECTION_TO_MIGRATE],
        admin_only: false,
    },
    CommandSpec {
        name: "migration status",
        description: "Where a connection's switch stands, with its history (no secrets)",
        options: &[text(
            "connection",
            "The connection's id; leave out for your own connections",
            false,
        )],
        admin_only: false,
    },
    CommandSpec {
        name: "cutover connection add",
        description: "Add a Zoom connection to the inventory (on JWT)",
        options: &[
            text("id", "Its id (the integrator.io _id, or your own)", true),
            text("name", "Its name", true),
            of_kind("owner", "Who switches it", OptionKind::User, false),
            text("integration", "The integration it belongs to", false),
        ],
        admin_only: true,
    },
    CommandSpec {
        name: "cutover connection assign",
        description: "Make someone the owner of a connection",
        options: &[
            text("id", "The connection's id", true),
            of_kind("owner", "The new owner", OptionKind::User, true),
        ],
        admin_only: true,
    },
    CommandSpec {
        name: "cutover connection remove",
        description: "Remove a connection from the inventory",
        options: &[text("id", "The connection's id", true)],
        admin_only: true,
    },
    CommandSpec {
        name: "cutover connection sync",
        description: "Read the Zoom connections from integrator.io now (owners set here stay)",
        options: &[],
        admin_only: true,
    },
    CommandSpec {
        name: "cutover deadline add",
        description: "Add a deadline to the countdown",
        options: &[
            text("title", "What happens then", true),
            text(
                "due",
                "2026-12-15, 2026-12-15T17:00 (reminders time zone) or RFC 3339",
                true,
            ),
            text("note", "A line of detail", false),
        ],
        admin_only: true,
    },
    CommandSpec {
        name: "cutover deadline remove",
        description: "Remove a deadline an admin added (its number shows in /deadlines)",
        options: &[of_kind(
            "id",
            "The deadline's number",
            OptionKind::Integer,
            true,
        )],
        admin_only: true,
    },
    CommandSpec {
        name: "cutover reminders channel",
        description: "Post reminders in this channel",
        options: &[of_kind("channel", "The channel", OptionKind::Channel, true)],
        admin_only: true,
    },
    CommandSpec {
        name: "cutover reminders pause",
        description: "Stop posting reminders until resumed",
        options: &[],
        admin_only: true,
    },
    CommandSpec {
        name: "cutover reminders resume",
        description: "Post reminders again",
        options: &[],
        admin_only: true,
    },
    CommandSpec {
        name: "cutover reminders preview",
        description: "The next reminder posts, with their local times",
        options: &[],
        admin_only: true,
    },
    CommandSpec {
        name: "progress",
        description: "The burndown chart: what is left, each deadline, the projected finish",
        options: &[],
        admin_only: false,
    },
    CommandSpec {
        name: "status",
        description: "A personal sign-in link to the campaign page: the whole cutover in your browser",
        options: &[],
        admin_only: false,
    },
    CommandSpec {
        name: "help",
        description: "What cutover can do and how to use each command",
        options: &[],
        admin_only: false,
    },
];

/// Descriptions of the words that group commands (Discord needs one for each level).
pub const GROUPS: &[(&str, &str)] = &[
    ("migration", "Your Zoom connections' switch to OAuth 2.0"),
    ("cutover", "Admin: inventory, deadlines and reminders"),
    (
        "cutover connection",
        "Admin: the inventory of Zoom connections",
    ),
    ("cutover deadline", "Admin: deadlines in the countdown"),
    ("cutover reminders", "Admin: automated reminders"),
];

pub fn group_description(path: &str) -> &'static str {
    GROUPS
        .iter()
        .find(|(p, _)| *p == path)
        .map_or("", |(_, d)| d)
}

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
