//! Option values as the adapters deliver them, checked against the command's spec.

use super::{ChatError, CommandSpec, OptionKind, OptionSpec};
use crate::domain::Snowflake;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OptionValue {
    /// Typed text (the terminal sends every value this way; the spec says how to read it).
    Text(String),
    /// A user picked in the client.
    User(Snowflake),
    /// A channel picked in the client.
    Channel(Snowflake),
    Integer(i64),
}

/// A checked option value, of the kind its spec says.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Checked<'a> {
    Text(&'a str),
    Id(Snowflake),
    Integer(i64),
}

/// The options of one command call, every one known to the spec and of the right kind.
pub(super) struct Options<'a> {
    values: Vec<(&'static str, Checked<'a>)>,
}

fn bad(option: &str, problem: impl Into<String>) -> ChatError {
    ChatError::BadOption {
        option: option.to_owned(),
        problem: problem.into(),
    }
}

fn check_value<'a>(option: &OptionSpec, value: &'a OptionValue) -> Result<Checked<'a>, ChatError> {
    let name = option.name;
    match (option.kind, value) {
        (OptionKind::Text, OptionValue::Text(text)) => {
            if !option.choices.is_empty()
                && !option
                    .choices
                    .contains(&text.trim().to_ascii_lowercase().as_str())
            {
                return Err(bad(
                    name,
                    format!(
                        "cannot be {text:?}; choose one of: {}.",
                        option.choices.join(", ")
                    ),
                ));
            }
            Ok(Checked::Text(text.trim()))
        }
        (OptionKind::User, OptionValue::User(id))
        | (OptionKind::Channel, OptionValue::Channel(id)) => Ok(Checked::Id(*id)),
        // `@42`, as the terminal shows a person, names them as well as `<@42>` and `42`.
        (OptionKind::User, OptionValue::Text(text)) => {
            Snowflake::parse(text.trim().strip_prefix('@').unwrap_or(text))
                .map(Checked::Id)
                .map_err(|e| bad(name, format!("must name a person: {e}")))
        }
        (OptionKind::Channel, OptionValue::Text(text)) => {
            let digits = text
                .trim()
                .strip_prefix("<#")
                .and_then(|t| t.strip_suffix('>'))
                .unwrap_or(text);
            Snowflake::parse(digits)
                .map(Checked::Id)
                .map_err(|e| bad(name, format!("must name a channel: {e}")))
        }
        (OptionKind::Integer, OptionValue::Integer(n)) => Ok(Checked::Integer(*n)),
        (OptionKind::Integer, OptionValue::Text(text)) => text
            .trim()
            .parse()
            .map(Checked::Integer)
            .map_err(|_| bad(name, format!("must be a whole number, not {text:?}."))),
        (kind, _) => Err(bad(
            name,
            format!(
                "takes {}.",
                match kind {
                    OptionKind::Text => "text",
                    OptionKind::User => "a person",
                    OptionKind::Channel => "a channel",
                    OptionKind::Integer => "a number",
                }
            ),
        )),
    }
}

impl<'a> Options<'a> {
    pub(super) fn check(
        spec: &'static CommandSpec,
        given: &'a [(String, OptionValue)],
    ) -> Result<Self, ChatError> {
        let mut values = Vec::with_capacity(given.len());
        for (name, value) in given {
            let Some(option) = spec.option(name) else {
                let known: Vec<_> = spec.options.iter().map(|o| o.name).collect();
                let problem = if known.is_empty() {
                    format!("is not one of /{}'s; it takes no options.", spec.name)
                } else {
                    format!(
                        "is not one of /{}'s; it takes: {}.",
                        spec.name,
                        known.join(", ")
                    )
                };
                return Err(bad(name, problem));
            };
            if values.iter().any(|(n, _)| *n == option.name) {
                return Err(bad(name, "is given twice; give it once."));
            }
            values.push((option.name, check_value(option, value)?));
        }
        for option in spec.options.iter().filter(|o| o.required) {
            if !values.iter().any(|(n, _)| *n == option.name) {
                return Err(bad(
                    option.name,
                    format!("is required: /{} {}:…", spec.name, option.name),
                ));
            }
        }
        Ok(Self { values })
    }

    fn get(&self, name: &str) -> Option<&Checked<'a>> {
        self.values.iter().find(|(n, _)| *n == name).map(|(_, v)| v)
    }

    pub(super) fn text(&self, name: &str) -> Option<&'a str> {
        match self.get(name)? {
            Checked::Text(t) => Some(t),
            _ => None,
        }
    }

    /// A user or channel option.
    pub(super) fn id(&self, name: &str) -> Option<Snowflake> {
        match self.get(name)? {
            Checked::Id(id) => Some(*id),
            _ => None,
        }
    }

    /// A text option read by a domain parser, whose complaint becomes the option's.
    pub(super) fn parsed<T, E: std::fmt::Display>(
        &self,
        name: &str,
        parse: impl FnOnce(&'a str) -> Result<T, E>,
    ) -> Result<T, ChatError> {
        parse(self.text(name).unwrap_or_default())
            .map_err(|e| bad(name, format!("is not valid: {e}.")))
    }

    /// A user or channel option the command cannot do without.
    pub(super) fn required_id(&self, name: &str) -> Result<Snowflake, ChatError> {
        self.id(name).ok_or_else(|| bad(name, "is required."))
    }

    pub(super) fn integer(&self, name: &str) -> Option<i64> {
        match self.get(name)? {
            Checked::Integer(n) => Some(*n),
            _ => None,
        }
    }
}
