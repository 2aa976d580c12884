//! Value types that only the configuration uses. Each parses from the text a person
//! writes and says what is wrong and how to write it otherwise.

use base64::Engine;
use secrecy::{ExposeSecret, SecretBox};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::net::SocketAddr;

/// An absolute http(s) URL, kept without a trailing slash so paths append cleanly.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "crate::domain::Scalar", into = "String")]
pub struct HttpUrl(String);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{0:?} is not an http(s) URL: write it in full, like https://example.com/path")]
pub struct BadUrl(String);

impl HttpUrl {
    pub fn parse(raw: &str) -> Result<Self, BadUrl> {
        let text = raw.trim();
        let url = url::Url::parse(text).map_err(|_| BadUrl(raw.to_owned()))?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
            return Err(BadUrl(raw.to_owned()));
        }
        Ok(Self(text.trim_end_matches('/').to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// This URL with `path` appended (`path` starts with '/').
    pub fn is_https(&self) -> bool {
        self.as_str().starts_with("https:")
    }

    pub fn join(&self, path: &str) -> String {
        format!("{}{}", self.0, path)
    }
}

impl TryFrom<String> for HttpUrl {
    type Error = BadUrl;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<HttpUrl> for String {
    fn from(value: HttpUrl) -> Self {
        value.0
    }
}

impl fmt::Display for HttpUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The address the HTTP server binds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "crate::domain::Scalar", into = "String")]
pub struct BindAddress(SocketAddr);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{0:?} is not an address to listen on: write IP:PORT, like 127.0.0.1:8080 or 0.0.0.0:8080 (port 0 picks a free port)")]
pub struct BadBindAddress(String);

impl BindAddress {
    pub fn parse(raw: &str) -> Result<Self, BadBindAddress> {
        let text = raw.trim();
        let text = text
            .strip_prefix("localhost:")
            .map(|port| format!("127.0.0.1:{port}"));
        let text = text.as_deref().unwrap_or(raw.trim());
        text.parse()
            .map(Self)
            .map_err(|_| BadBindAddress(raw.to_owned()))
    }

    pub fn socket_addr(self) -> SocketAddr {
        self.0
    }
}

impl TryFrom<String> for BindAddress {
    type Error = BadBindAddress;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<BindAddress> for String {
    fn from(value: BindAddress) -> Self {
        value.0.to_string()
    }
}

/// A wall-clock time of day, `HH:MM`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "crate::domain::Scalar", into = "String")]
pub struct TimeOfDay(chrono::NaiveTime);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{0:?} is not a time of day: write HH:MM on a 24-hour clock, like 09:30")]
pub struct BadTimeOfDay(String);

impl TimeOfDay {
    pub fn parse(raw: &str) -> Result<Self, BadTimeOfDay> {
        chrono::NaiveTime::parse_from_str(raw.trim(), "%H:%M")
            .map(Self)
            .map_err(|_| BadTimeOfDay(raw.to_owned()))
    }

    pub fn time(self) -> chrono::NaiveTime {
        self.0
    }
}

impl TryFrom<String> for TimeOfDay {
    type Error = BadTimeOfDay;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<TimeOfDay> for String {
    fn from(value: TimeOfDay) -> Self {
        value.0.format("%H:%M").to_string()
    }
}

/// The Ed25519 public key Discord signs HTTP interactions with (hex, 32 bytes): a point
/// on the curve, and not one of the weak (small-order) ones, for which a fixed forged
/// signature would verify.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "crate::domain::Scalar", into = "String")]
pub struct DiscordPublicKey {
    hex: String,
    key: ed25519_dalek::VerifyingKey,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum BadPublicKey {
    #[error("it is not a Discord public key: copy the 64 hex digits of \"Public Key\" from the Developer Portal (General Information)")]
    NotAKey,
    #[error("it is a weak key, for which forged signatures would pass: it cannot be Discord's; copy \"Public Key\" from the Developer Portal (General Information)")]
    Weak,
}

impl DiscordPublicKey {
    pub fn parse(raw: &str) -> Result<Self, BadPublicKey> {
        let hex = raw.trim().to_ascii_lowercase();
        let mut bytes = [0u8; 32];
        hex::decode_to_slice(&hex, &mut bytes).map_err(|_| BadPublicKey::NotAKey)?;
        let key =
            ed25519_dalek::VerifyingKey::from_bytes(&bytes).map_err(|_| BadPublicKey::NotAKey)?;
        if key.is_weak() {
            return Err(BadPublicKey::Weak);
        }
        Ok(Self { hex, key })
    }

    pub fn as_hex(&self) -> &str {
        &self.hex
    }

    pub fn verifying_key(&self) -> &ed25519_dalek::VerifyingKey {
        &self.key
    }
}

impl TryFrom<String> for DiscordPublicKey {
    type Error = BadPublicKey;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<DiscordPublicKey> for String {
    fn from(value: DiscordPublicKey) -> Self {
        value.hex
    }
}

/// The key that seals secrets at rest: 32 bytes, given base64-encoded. Its Debug output
/// never shows the bytes.
pub struct SealingKey(SecretBox<[u8; 32]>);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("it is not a sealing key: it must be base64 of exactly 32 bytes; make one with `cutover keygen`")]
pub struct BadSealingKey;

impl SealingKey {
    pub fn parse(raw: &str) -> Result<Self, BadSealingKey> {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(raw.trim())
            .map_err(|_| BadSealingKey)?;
        let key: [u8; 32] = bytes.try_into().map_err(|_| BadSealingKey)?;
        Ok(Self(SecretBox::new(Box::new(key))))
    }

    pub fn bytes(&self) -> &[u8; 32] {
        self.0.expose_secret()
    }
}

impl fmt::Debug for SealingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SealingKey([redacted])")
    }
}

/// `switch.backend`: how a switch lands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "crate::domain::Scalar", into = "String")]
pub enum BackendChoice {
    /// `celigo` for connections synced from integrator.io when a token is set, else `direct`.
    Auto,
    Direct,
    Celigo,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{0:?} is not a switch backend: use auto, direct or celigo")]
pub struct BadBackend(String);

impl BackendChoice {
    pub fn as_str(self) -> &'static str {
        match self {
            BackendChoice::Auto => "auto",
            BackendChoice::Direct => "direct",
            BackendChoice::Celigo => "celigo",
        }
    }
}

impl TryFrom<String> for BackendChoice {
    type Error = BadBackend;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        match value.trim().to_ascii_lowercase().as_str() {
            "auto" => Ok(Self::Auto),
            "direct" => Ok(Self::Direct),
            "celigo" => Ok(Self::Celigo),
            _ => Err(BadBackend(value)),
        }
    }
}

impl From<BackendChoice> for String {
    fn from(value: BackendChoice) -> Self {
        value.as_str().to_owned()
    }
}

crate::domain::try_from_scalar!(
    HttpUrl,
    BindAddress,
    TimeOfDay,
    DiscordPublicKey,
    BackendChoice
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_must_be_absolute_http_and_lose_trailing_slashes() {
        assert_eq!(
            HttpUrl::parse("https://discord.com/").map(String::from),
            Ok("https://discord.com".into())
        );
        assert_eq!(
            HttpUrl::parse("http://127.0.0.1:9/x").map(|u| u.join("/y")),
            Ok("http://127.0.0.1:9/x/y".into())
        );
        for bad in ["discord.com", "ftp://x.org", "https://", "", "http//x"] {
            assert!(HttpUrl::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn bind_addresses_take_ip_and_port() {
        assert_eq!(
            BindAddress::parse("0.0.0.0:0").map(String::from),
            Ok("0.0.0.0:0".into())
        );
        assert_eq!(
            BindAddress::parse("localhost:80").map(String::from),
            Ok("127.0.0.1:80".into())
        );
        assert_eq!(
            BindAddress::parse("[::1]:8080").map(String::from),
            Ok("[::1]:8080".into())
        );
        for bad in ["8080", "127.0.0.1", "127.0.0.1:99999", "example.com:80"] {
            assert!(BindAddress::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn times_of_day_are_hh_mm() {
        assert_eq!(
            TimeOfDay::parse("09:30").map(String::from),
            Ok("09:30".into())
        );
        for bad in ["9", "24:00", "09:60", "9.30", "09:30:00"] {
            assert!(TimeOfDay::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn backends_are_three_words() {
        for (text, choice) in [
            ("auto", BackendChoice::Auto),
            (" Direct ", BackendChoice::Direct),
            ("celigo", BackendChoice::Celigo),
        ] {
            assert_eq!(BackendChoice::try_from(text.to_owned()), Ok(choice));
        }
        assert!(BackendChoice::try_from("zoom".to_owned()).is_err());
    }

    #[test]
    fn public_keys_are_32_bytes_of_hex_and_a_strong_point() {
        let key = ed25519_dalek::SigningKey::from_bytes(&[7u8; 32]).verifying_key();
        let hex64 = hex::encode(key.to_bytes()).to_ascii_uppercase();
        assert_eq!(
            DiscordPublicKey::parse(&hex64).map(String::from),
            Ok(hex64.to_ascii_lowercase())
        );
        assert_eq!(DiscordPublicKey::parse("abcd"), Err(BadPublicKey::NotAKey));
        assert_eq!(
            DiscordPublicKey::parse(&"zz".repeat(32)),
            Err(BadPublicKey::NotAKey)
        );
        // 01 then zeros: the identity, a small-order point.
        let weak = format!("01{}", "00".repeat(31));
        assert_eq!(DiscordPublicKey::parse(&weak), Err(BadPublicKey::Weak));
    }

    #[test]
    fn sealing_keys_are_32_bytes_and_never_debug_printed() {
        let encoded = base64::engine::general_purpose::STANDARD.encode([7u8; 32]);
        let key = SealingKey::parse(&encoded).expect("valid key");
        assert_eq!(key.bytes(), &[7u8; 32]);
        assert!(!format!("{key:?}").contains(&encoded));
        let short = base64::engine::general_purpose::STANDARD.encode([7u8; 16]);
        assert!(SealingKey::parse(&short).is_err());
        assert!(SealingKey::parse("not base64!").is_err());
    }
}
