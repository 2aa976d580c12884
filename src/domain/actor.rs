use super::UserId;
use std::fmt;

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
