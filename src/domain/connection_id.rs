use serde::{Deserialize, Serialize};
use std::fmt;

/// The id of a Zoom connection: an integrator.io `_id` or the id given in an import.
/// Short, printable and free of spaces, so it is safe in custom ids, logs and URLs.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "crate::domain::Scalar", into = "String")]
pub struct ConnectionId(String);

pub const MAX_CONNECTION_ID_LEN: usize = 64;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConnectionIdError {
    #[error("the connection id is empty")]
    Empty,
    #[error(
        "the connection id is {0} characters long; at most {MAX_CONNECTION_ID_LEN} are allowed"
    )]
    TooLong(usize),
    #[error("the connection id contains {0:?}; use only letters, digits, '-', '_' and '.'")]
    BadCharacter(char),
}

impl ConnectionId {
    pub fn parse(raw: &str) -> Result<Self, ConnectionIdError> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Err(ConnectionIdError::Empty);
        }
        let len = raw.chars().count();
        if len > MAX_CONNECTION_ID_LEN {
            return Err(ConnectionIdError::TooLong(len));
        }
        if let Some(bad) = raw
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
        {
            return Err(ConnectionIdError::BadCharacter(bad));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for ConnectionId {
    type Error = ConnectionIdError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<ConnectionId> for String {
    fn from(value: ConnectionId) -> Self {
        value.0
    }
}

impl fmt::Display for ConnectionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

crate::domain::try_from_scalar!(ConnectionId);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_celigo_object_ids_and_simple_names() {
        for ok in ["64b7f1c2a9e3d40012345678", "zoom-prod_1", "a.b", "x"] {
            assert_eq!(
                ConnectionId::parse(ok).map(|c| c.to_string()),
                Ok(ok.to_owned())
            );
        }
    }

    #[test]
    fn trims_surrounding_space() {
        assert_eq!(
            ConnectionId::parse("  abc \n").map(String::from),
            Ok("abc".to_owned())
        );
    }

    #[test]
    fn rejects_empty_long_and_odd_characters() {
        assert_eq!(ConnectionId::parse("  "), Err(ConnectionIdError::Empty));
        assert_eq!(
            ConnectionId::parse(&"a".repeat(65)),
            Err(ConnectionIdError::TooLong(65))
        );
        assert_eq!(
            ConnectionId::parse("a b"),
            Err(ConnectionIdError::BadCharacter(' '))
        );
        assert_eq!(
            ConnectionId::parse("a:b"),
            Err(ConnectionIdError::BadCharacter(':'))
        );
    }
}
