//! `/help`: every command with its options, as the caller may use them.

use super::{Caller, Message, Reply, COMMANDS};

pub(super) fn help(caller: Caller) -> Reply {
    let mut text = String::from(
        "**cutover** helps switch the team's Zoom connections in integrator.io from JWT to OAuth 2.0.\n",
    );
    for command in COMMANDS.iter().filter(|c| caller.is_admin || !c.admin_only) {
        text.push_str(&format!(
            "\n**/{}** — {}",
            command.name, command.description
        ));
        for option in command.options {
            let required = if option.required {
                "required"
            } else {
                "optional"
            };
            let choices = if option.choices.is_empty() {
                String::new()
            } else {
                format!(" ({})", option.choices.join(" | "))
            };
            text.push_str(&format!(
                "\n  `{}:` {required}, {}{choices}",
                option.name, option.description
            ));
        }
    }
    Reply::Message(Message::private(text))
}
