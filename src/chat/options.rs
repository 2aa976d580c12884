//! Option values as the adapters deliver them, checked against the command's spec.

use super::{ChatError, CommandSpec, OptionKind};
use crate::domain::{Snowflake, UserId};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OptionValue {
    /// Typed text (the terminal sends every value this way; the spec says how to read it).
    Text(String),
    /// A user picked in the client.
    User(UserId),
}

/// The options of one command call, every one known to the spec and of the right kind.
pub(super) struct Options<'a> {
    values: Vec<(&'static str, &'a OptionValue)>,
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
                return Err(ChatError::BadOption {
                    option: name.clone(),
                    problem,
                });
            };
            if values.iter().any(|(n, _)| *n == option.name) {
                return Err(ChatError::BadOption {
                    option: name.clone(),
                    problem: "is given twice; give it once.".into(),
                });
            }
            match (option.kind, value) {
                (OptionKind::Text, OptionValue::Text(text))
                    if !option.choices.is_empty()
                        && !option
                            .choices
                            .contains(&text.trim().to_ascii_lowercase().as_str()) =>
                {
                    return Err(ChatError::BadOption {
                        option: name.clone(),
                        problem: format!(
                            "cannot be {text:?}; choose one of: {}.",
                            option.choices.join(", ")
                        ),
                    });
                }
                (OptionKind::User, OptionValue::Text(text)) => {
                    Snowflake::parse(text).map_err(|e| ChatError::BadOption {
                        option: name.clone(),
                        problem: format!("must name a person: {e}"),
                    })?;
                }
                (OptionKind::Text, OptionValue::User(_)) => {
                    return Err(ChatError::BadOption {
                        option: name.clone(),
                        problem: "takes text, not a person.".into(),
                    })
                }
                _ => {}
            }
            values.push((option.name, value));
        }
        for option in spec.options.iter().filter(|o| o.required) {
            if !values.iter().any(|(n, _)| *n == option.name) {
                return Err(ChatError::BadOption {
                    option: option.name.into(),
                    problem: format!("is required: /{} {}:…", spec.name, option.name),
                });
            }
        }
        Ok(Self { values })
    }

    fn get(&self, name: &str) -> Option<&'a OptionValue> {
        self.values
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| *v)
    }

    pub(super) fn text(&self, name: &str) -> Option<&'a str> {
        match self.get(name)? {
            OptionValue::Text(t) => Some(t.trim()),
            OptionValue::User(_) => None,
        }
    }

    /// A user option (already checked to parse).
    pub(super) fn user(&self, name: &str) -> Option<UserId> {
        match self.get(name)? {
            OptionValue::User(id) => Some(*id),
            OptionValue::Text(t) => Snowflake::parse(t).ok(),
        }
    }
}
