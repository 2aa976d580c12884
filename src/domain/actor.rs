use super::UserId;
use std::fmt;
use std::str::FromStr;

/// Who did something, as the audit log and "migrated by" record it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Actor {
    /// A Discord user.
    Discord(UserId),
    /// The person at the terminal adapter.
    Terminal,
    /// A `cutover …` command line invocation.
    CommandLine,
    /// cutover itself (scheduled jobs).
    System,
}

impl fmt::Display for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Actor::Discord(id) => write!(f, "discord:{id}"),
            Actor::Terminal => f.write_str("terminal"),
            Actor::CommandLine => f.write_str("command-line"),
            Actor::System => f.write_str("cutover"),
        }
    }
}

/// A stored actor that is none of the forms [`Actor`] prints.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{0:?} is not an actor cutover records (discord:<id>, terminal, command-line, cutover)")]
pub struct ActorError(String);

impl FromStr for Actor {
    type Err = ActorError;

    /// The forms `Display` prints, and only those.
    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        match raw {
            "terminal" => Ok(Actor::Terminal),
            "command-line" => Ok(Actor::CommandLine),
            "cutover" => Ok(Actor::System),
            other => other
                .strip_prefix("discord:")
                .and_then(|id| UserId::parse(id).ok())
                .map(Actor::Discord)
                .ok_or_else(|| ActorError(other.chars().take(40).collect())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_actor_reads_back_as_it_prints_and_nothing_else_reads() {
        let id = UserId::new(420_000_000_000_000_001).expect("id");
        for actor in [
            Actor::Discord(id),
            Actor::Terminal,
            Actor::CommandLine,
            Actor::System,
        ] {
            assert_eq!(actor.to_string().parse::<Actor>(), Ok(actor));
        }
        for bad in [
            "",
            "discord:",
            "discord:0",
            "discord:abc",
            "Terminal",
            "system",
        ] {
            assert!(bad.parse::<Actor>().is_err(), "{bad}");
        }
    }
}
