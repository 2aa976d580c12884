use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// A Discord snowflake naming a user (or, with [`SnowflakeKind`], a guild, channel,
/// role or application). Never zero; parsed from digits or a `<@…>` mention.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Snowflake(u64);

/// A Discord user id.
pub type UserId = Snowflake;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SnowflakeError {
    #[error("it is empty; give a Discord id such as 123456789012345678")]
    Empty,
    #[error("{0:?} is not a Discord id: use the digits only (in Discord: Settings > Advanced > Developer Mode, then right-click > Copy ID)")]
    NotDigits(String),
    #[error("0 is not a valid Discord id")]
    Zero,
}

impl Snowflake {
    pub fn new(value: u64) -> Result<Self, SnowflakeError> {
        if value == 0 {
            Err(SnowflakeError::Zero)
        } else {
            Ok(Self(value))
        }
    }

    /// Parses digits, or a user mention `<@123>` / `<@!123>` as chat clients paste it.
    pub fn parse(raw: &str) -> Result<Self, SnowflakeError> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Err(SnowflakeError::Empty);
        }
        let digits = raw
            .strip_prefix("<@")
            .and_then(|rest| rest.strip_suffix('>'))
            .map(|inner| inner.strip_prefix('!').unwrap_or(inner))
            .unwrap_or(raw);
        if !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(SnowflakeError::NotDigits(raw.to_owned()));
        }
        let value = digits
            .parse::<u64>()
            .map_err(|_| SnowflakeError::NotDigits(raw.to_owned()))?;
        Self::new(value)
    }

    pub fn get(self) -> u64 {
        self.0
    }

    /// How Discord renders a mention of this user.
    pub fn mention(self) -> String {
        format!("<@{}>", self.0)
    }
}

impl fmt::Display for Snowflake {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl Serialize for Snowflake {
    /// As a string, the way Discord's JSON carries snowflakes (they overflow JS numbers).
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Snowflake {
    /// Accepts a string or a number: TOML files and environment variables give either.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct SnowflakeVisitor;
        impl Visitor<'_> for SnowflakeVisitor {
            type Value = Snowflake;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a Discord id (digits)")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Snowflake, E> {
                Snowflake::new(v).map_err(E::custom)
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Snowflake, E> {
                u64::try_from(v)
                    .map_err(|_| E::custom(SnowflakeError::NotDigits(v.to_string())))
                    .and_then(|v| Snowflake::new(v).map_err(E::custom))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Snowflake, E> {
                Snowflake::parse(v).map_err(E::custom)
            }
        }
        deserializer.deserialize_any(SnowflakeVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_digits_and_mentions() {
        let id = Snowflake::parse("123456789012345678").map(Snowflake::get);
        assert_eq!(id, Ok(123456789012345678));
        assert_eq!(Snowflake::parse("<@42>").map(Snowflake::get), Ok(42));
        assert_eq!(Snowflake::parse("<@!42>").map(Snowflake::get), Ok(42));
        assert_eq!(
            Snowflake::parse(" 7 ").map(|s| s.mention()),
            Ok("<@7>".into())
        );
    }

    #[test]
    fn rejects_what_is_not_an_id() {
        assert_eq!(Snowflake::parse(""), Err(SnowflakeError::Empty));
        assert_eq!(Snowflake::parse("0"), Err(SnowflakeError::Zero));
        for bad in ["-5", "+5", "12a", "@bob", "<@>", "99999999999999999999999"] {
            assert!(
                matches!(Snowflake::parse(bad), Err(SnowflakeError::NotDigits(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn deserializes_from_string_or_number_and_serializes_as_string() {
        let from_num: Snowflake = serde_json::from_str("42").expect("number");
        let from_str: Snowflake = serde_json::from_str("\"42\"").expect("string");
        assert_eq!(from_num, from_str);
        assert_eq!(serde_json::to_string(&from_num).expect("json"), "\"42\"");
        assert!(serde_json::from_str::<Snowflake>("-1").is_err());
        assert!(serde_json::from_str::<Snowflake>("\"x\"").is_err());
    }
}
