//! What cutover knows about one Zoom connection.

use super::{ConnectionId, UserId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// How the connection authenticates to Zoom.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AuthType {
    Jwt,
    #[serde(rename = "oauth2")]
    OAuth2,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("unknown auth type {0:?}: use jwt or oauth2")]
pub struct UnknownAuthType(pub String);

impl AuthType {
    pub fn as_str(self) -> &'static str {
        match self {
            AuthType::Jwt => "jwt",
            AuthType::OAuth2 => "oauth2",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            AuthType::Jwt => "JWT",
            AuthType::OAuth2 => "OAuth 2.0",
        }
    }
}

impl FromStr for AuthType {
    type Err = UnknownAuthType;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "jwt" => Ok(AuthType::Jwt),
            "oauth2" => Ok(AuthType::OAuth2),
            _ => Err(UnknownAuthType(s.to_owned())),
        }
    }
}

/// Where the connection stands in the cutover. `Pending` is on JWT; the others are on
/// OAuth 2.0: `AwaitingAuthorization` has been switched in integrator.io but nobody has
/// authorized it yet (as Celigo's own UI leaves it), and `NeedsReauthorization` means its
/// tokens stopped working.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConnectionState {
    Pending,
    AwaitingAuthorization,
    Migrated,
    NeedsReauthorization,
}

impl ConnectionState {
    pub const ALL: [Self; 4] = [
        Self::Pending,
        Self::AwaitingAuthorization,
        Self::Migrated,
        Self::NeedsReauthorization,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ConnectionState::Pending => "pending",
            ConnectionState::AwaitingAuthorization => "awaiting_authorization",
            ConnectionState::Migrated => "migrated",
            ConnectionState::NeedsReauthorization => "needs_reauthorization",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            ConnectionState::Pending => "not migrated",
            ConnectionState::AwaitingAuthorization => "awaiting authorization",
            ConnectionState::Migrated => "migrated",
            ConnectionState::NeedsReauthorization => "needs re-authorization",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == raw)
    }
}

/// How a connection reached OAuth 2.0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum MigratedVia {
    /// cutover's `direct` switch: the token is verified and kept by cutover, but the
    /// connection in integrator.io was not changed.
    #[serde(rename = "direct")]
    Direct,
    /// cutover's `celigo` switch, in integrator.io itself.
    #[serde(rename = "celigo")]
    Celigo,
    /// Someone switched it in integrator.io (a sync found it on OAuth 2.0).
    #[serde(rename = "integrator.io")]
    IntegratorIo,
    /// An imported inventory said it is on OAuth 2.0.
    #[serde(rename = "inventory")]
    Inventory,
}

impl MigratedVia {
    const ALL: [Self; 4] = [
        Self::Direct,
        Self::Celigo,
        Self::IntegratorIo,
        Self::Inventory,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            MigratedVia::Direct => "direct",
            MigratedVia::Celigo => "celigo",
            MigratedVia::IntegratorIo => "integrator.io",
            MigratedVia::Inventory => "inventory",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == raw)
    }
}

/// Where the record came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ConnectionSource {
    Import,
    Celigo,
    Chat,
}

impl ConnectionSource {
    pub fn as_str(self) -> &'static str {
        match self {
            ConnectionSource::Import => "import",
            ConnectionSource::Celigo => "celigo",
            ConnectionSource::Chat => "chat",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        [Self::Import, Self::Celigo, Self::Chat]
            .into_iter()
            .find(|s| s.as_str() == raw)
    }
}

/// Which connections a listing shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ShowFilter {
    /// Not yet on a working OAuth 2.0 token: pending, awaiting authorization, or needing
    /// re-authorization.
    #[default]
    Unmigrated,
    Migrated,
    /// Every connection still in the inventory.
    All,
    /// Those a sync found gone from integrator.io (kept for the record).
    Removed,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{0:?} is not a choice for show: use all, migrated, unmigrated or removed")]
pub struct UnknownShowFilter(pub String);

impl ShowFilter {
    pub const ALL: [ShowFilter; 4] = [
        ShowFilter::Unmigrated,
        ShowFilter::Migrated,
        ShowFilter::All,
        ShowFilter::Removed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ShowFilter::Unmigrated => "unmigrated",
            ShowFilter::Migrated => "migrated",
            ShowFilter::All => "all",
            ShowFilter::Removed => "removed",
        }
    }
}

impl FromStr for ShowFilter {
    type Err = UnknownShowFilter;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|f| f.as_str() == s.trim().to_ascii_lowercase())
            .ok_or_else(|| UnknownShowFilter(s.to_owned()))
    }
}

/// A human-readable name: trimmed, non-empty, no control characters, bounded.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "crate::domain::Scalar", into = "String")]
pub struct DisplayName(String);

pub const MAX_NAME_LEN: usize = 200;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DisplayNameError {
    #[error("it is empty")]
    Empty,
    #[error("it is {0} characters long; at most {MAX_NAME_LEN} are allowed")]
    TooLong(usize),
    #[error("it contains a control character (such as a tab, a line break or an escape sequence)")]
    ControlCharacter,
    #[error("it contains a character that reverses how text reads (a bidi override)")]
    BidiOverride,
}

/// Whether `c` is a bidi override, isolate or mark: invisible characters that make text
/// read in another order than it is stored (the "Trojan Source" trick).
pub fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}')
}

/// Characters that make a terminal or a chat client show text other than it is: control
/// characters (escape sequences start with one) and bidi controls.
fn unsafe_char(c: char) -> Option<DisplayNameError> {
    if c.is_control() {
        Some(DisplayNameError::ControlCharacter)
    } else if is_bidi_control(c) {
        Some(DisplayNameError::BidiOverride)
    } else {
        None
    }
}

/// Checks text people will read: trimmed, bounded, nothing that changes how it shows.
fn checked_text(raw: &str) -> Result<&str, DisplayNameError> {
    let text = raw.trim();
    let len = text.chars().count();
    if len > MAX_NAME_LEN {
        return Err(DisplayNameError::TooLong(len));
    }
    match text.chars().find_map(unsafe_char) {
        Some(problem) => Err(problem),
        None => Ok(text),
    }
}

impl DisplayName {
    pub fn parse(raw: &str) -> Result<Self, DisplayNameError> {
        if raw.trim().is_empty() {
            return Err(DisplayNameError::Empty);
        }
        checked_text(raw).map(|text| Self(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for DisplayName {
    type Error = DisplayNameError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<DisplayName> for String {
    fn from(value: DisplayName) -> Self {
        value.0
    }
}

impl fmt::Display for DisplayName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One connection as the inventory delivers it (an import row, a sync record).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionRecord {
    pub id: ConnectionId,
    pub name: DisplayName,
    /// The integration (flow group) it belongs to; may be empty.
    pub integration: IntegrationName,
    pub owner: Option<UserId>,
    pub auth_type: AuthType,
}

/// The integration a connection belongs to, as people read it: like a [`DisplayName`],
/// but it may be empty (none).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "crate::domain::Scalar", into = "String")]
pub struct IntegrationName(String);

impl IntegrationName {
    pub fn parse(raw: &str) -> Result<Self, DisplayNameError> {
        checked_text(raw).map(|text| Self(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl TryFrom<String> for IntegrationName {
    type Error = DisplayNameError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<IntegrationName> for String {
    fn from(value: IntegrationName) -> Self {
        value.0
    }
}

impl fmt::Display for IntegrationName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// How integrator.io reports a Zoom connection's authentication.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RemoteAuth {
    Jwt,
    /// On OAuth 2.0; `authorized` when integrator.io holds a token for it.
    OAuth2 {
        authorized: bool,
    },
}

/// One Zoom connection as a sync from integrator.io delivers it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncedConnection {
    pub id: ConnectionId,
    pub name: DisplayName,
    /// The integration's name (empty when it belongs to none).
    pub integration: IntegrationName,
    pub auth: RemoteAuth,
    pub offline: Option<bool>,
}

/// One connection as the store holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Connection {
    pub id: ConnectionId,
    pub name: DisplayName,
    pub integration: IntegrationName,
    pub owner: Option<UserId>,
    pub auth_type: AuthType,
    pub state: ConnectionState,
    pub source: ConnectionSource,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub migrated_by: Option<String>,
    pub migrated_at: Option<DateTime<Utc>>,
    pub migrated_via: Option<MigratedVia>,
    /// integrator.io's `offline` flag, when known.
    pub offline: Option<bool>,
    /// When a sync found it gone from integrator.io.
    pub removed_at: Option<DateTime<Utc>>,
}

crate::domain::try_from_scalar!(DisplayName, IntegrationName);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auth_type_parses_the_two_names_only() {
        assert_eq!("jwt".parse(), Ok(AuthType::Jwt));
        assert_eq!(" OAuth2 ".parse(), Ok(AuthType::OAuth2));
        assert_eq!(
            "oauth".parse::<AuthType>(),
            Err(UnknownAuthType("oauth".into()))
        );
        assert_eq!("".parse::<AuthType>(), Err(UnknownAuthType("".into())));
    }

    #[test]
    fn state_and_source_names_round_trip() {
        for s in ConnectionState::ALL {
            assert_eq!(ConnectionState::parse(s.as_str()), Some(s));
        }
        for v in MigratedVia::ALL {
            assert_eq!(MigratedVia::parse(v.as_str()), Some(v));
            assert_eq!(
                serde_json::to_value(v).ok(),
                Some(serde_json::Value::from(v.as_str()))
            );
        }
        for s in [
            ConnectionSource::Import,
            ConnectionSource::Celigo,
            ConnectionSource::Chat,
        ] {
            assert_eq!(ConnectionSource::parse(s.as_str()), Some(s));
        }
        assert_eq!(ConnectionState::parse("done"), None);
    }

    #[test]
    fn show_filter_parses_its_three_choices() {
        for f in ShowFilter::ALL {
            assert_eq!(f.as_str().parse(), Ok(f));
        }
        assert_eq!("ALL".parse(), Ok(ShowFilter::All));
        assert!("pending".parse::<ShowFilter>().is_err());
    }

    #[test]
    fn display_names_are_trimmed_and_bounded() {
        assert_eq!(
            DisplayName::parse("  Zoom prod ").map(String::from),
            Ok("Zoom prod".into())
        );
        assert_eq!(DisplayName::parse(" \t "), Err(DisplayNameError::Empty));
        assert_eq!(
            DisplayName::parse("a\nb"),
            Err(DisplayNameError::ControlCharacter)
        );
        assert_eq!(
            DisplayName::parse(&"n".repeat(201)),
            Err(DisplayNameError::TooLong(201))
        );
        assert!(DisplayName::parse(&"é".repeat(200)).is_ok());
        assert_eq!(
            DisplayName::parse("Zoom \u{1b}[31mred"),
            Err(DisplayNameError::ControlCharacter),
            "an escape sequence"
        );
        assert_eq!(
            DisplayName::parse("invoice \u{202E}fdp.exe"),
            Err(DisplayNameError::BidiOverride)
        );
    }

    #[test]
    fn integration_names_may_be_empty_but_not_unsafe() {
        assert_eq!(IntegrationName::parse("  ").map(|i| i.is_empty()), Ok(true));
        assert_eq!(
            IntegrationName::parse(" Sales sync ").map(String::from),
            Ok("Sales sync".into())
        );
        assert!(IntegrationName::parse("a\u{1b}]0;title\u{7}").is_err());
        assert!(IntegrationName::parse(&"n".repeat(201)).is_err());
    }
}
