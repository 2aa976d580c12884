//! One typed configuration, layered as INTERFACE.md says: the committed defaults, then
//! an optional file, then `CUTOVER__SECTION__KEY` environment variables.

mod load;
mod problems;
mod redacted;
mod sections;
mod values;

pub use problems::{ConfigError, ConfigProblem};
pub use values::{BackendChoice, BindAddress, DiscordPublicKey, HttpUrl, SealingKey, TimeOfDay};

use crate::domain::{Deadline, HumanDuration, Snowflake, TimeZoneName};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// The defaults, compiled in so the binary runs from any directory.
pub const DEFAULT_TOML: &str = include_str!("../../config/default.toml");

/// The environment's layer: `CUTOVER__SECTION__KEY`.
const ENV_PREFIX: &str = "CUTOVER__";

/// Read only from the environment or a `*_file`, and never repeated in a message.
const SECRETS: [&str; 4] = [
    "discord.token",
    "security.sealing_key",
    "security.previous_sealing_key",
    "celigo.api_token",
];

/// In the order of config/default.toml, which problems are listed in.
const SECTIONS: [&str; 10] = [
    "database",
    "server",
    "discord",
    "zoom",
    "security",
    "celigo",
    "switch",
    "status",
    "reminders",
    "deadlines",
];

#[derive(Debug, Serialize)]
pub struct Settings {
    pub database: DatabaseSettings,
    pub server: ServerSettings,
    pub discord: DiscordSettings,
    pub zoom: ZoomSettings,
    pub security: SecuritySettings,
    pub celigo: CeligoSettings,
    pub switch: SwitchSettings,
    pub status: StatusSettings,
    pub reminders: ReminderSettings,
    #[serde(serialize_with = "redacted::deadlines")]
    pub deadlines: Vec<Deadline>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseSettings {
    pub url: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSettings {
    pub bind: BindAddress,
    pub public_base_url: HttpUrl,
    /// How long a client may take to send a request's head, then its body; an idle
    /// keep-alive connection is closed after it too.
    pub read_timeout: HumanDuration,
    /// Connections served at once; past it a client is told to come back.
    pub max_connections: u32,
}

impl ServerSettings {
    /// The redirect URI that must be registered in the Zoom app.
    pub fn oauth_redirect_uri(&self) -> String {
        self.public_base_url.join("/oauth/zoom/callback")
    }
}

#[derive(Debug, Serialize)]
pub struct DiscordSettings {
    #[serde(
        serialize_with = "redacted::secret",
        skip_serializing_if = "Option::is_none"
    )]
    pub token: Option<SecretString>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub application_id: Option<Snowflake>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public_key: Option<DiscordPublicKey>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub guild_id: Option<Snowflake>,
    pub api_base_url: HttpUrl,
    pub admin_role_ids: Vec<Snowflake>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ZoomSettings {
    pub authorize_url: HttpUrl,
    pub token_url: HttpUrl,
    pub userinfo_url: HttpUrl,
    pub revoke_url: HttpUrl,
    pub scopes: Vec<String>,
    /// How long one request to Zoom may take (the token exchange is never retried).
    pub request_timeout: HumanDuration,
}

#[derive(Debug, Serialize)]
pub struct SecuritySettings {
    #[serde(
        serialize_with = "redacted::secret",
        skip_serializing_if = "Option::is_none"
    )]
    pub sealing_key: Option<SealingKey>,
    /// The key secrets were sealed under before `sealing_key`, while they are re-sealed
    /// (`cutover rekey`): still opened with, never sealed with.
    #[serde(
        serialize_with = "redacted::secret",
        skip_serializing_if = "Option::is_none"
    )]
    pub previous_sealing_key: Option<SealingKey>,
    pub link_ttl: HumanDuration,
}

#[derive(Debug, Serialize)]
pub struct CeligoSettings {
    pub api_base_url: HttpUrl,
    #[serde(
        serialize_with = "redacted::secret",
        skip_serializing_if = "Option::is_none"
    )]
    pub api_token: Option<SecretString>,
    /// How often the inventory is synced from integrator.io; zero: never on its own.
    pub sync_every: HumanDuration,
    /// integrator.io's OAuth redirect, to register in the Zoom app (derived from the
    /// region of `api_base_url` unless set).
    pub oauth_redirect_url: HttpUrl,
    /// Set `oauth2RedirectUrl` so the browser comes back to cutover after integrator.io.
    pub return_to_cutover: bool,
    /// How long one request to integrator.io may take.
    pub request_timeout: HumanDuration,
    /// How often a connection is pinged while its link is open.
    pub ping_every: HumanDuration,
}

/// integrator.io's OAuth redirect for the region `api_base_url` belongs to.
pub fn celigo_redirect_for(api_base_url: &HttpUrl) -> &'static str {
    let eu = url::Url::parse(api_base_url.as_str())
        .ok()
        .and_then(|u| {
            u.host_str()
                .map(|h| h.eq_ignore_ascii_case("api.eu.integrator.io"))
        })
        .unwrap_or(false);
    if eu {
        "https://eu.integrator.io/connection/oauth2callback"
    } else {
        "https://integrator.io/connection/oauth2callback"
    }
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SwitchSettings {
    pub backend: BackendChoice,
}

/// The campaign page (`GET /status`).
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatusSettings {
    /// How long a sign-in lasts (it ends early at sign-out or `cutover rekey`).
    pub session_ttl: HumanDuration,
}

#[derive(Debug, Clone, Serialize)]
pub struct ReminderSettings {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub channel_id: Option<Snowflake>,
    pub timezone: TimeZoneName,
    pub before: Vec<HumanDuration>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub digest_at: Option<TimeOfDay>,
    /// Dates with no digest (holidays).
    pub skip_dates: Vec<chrono::NaiveDate>,
}

impl ServerSettings {
    /// Where this server's `path` is, as browsers reach it.
    pub fn public_url(&self, path: &str) -> String {
        self.public_base_url.join(path)
    }
}

impl Settings {
    /// Loads the layers (defaults, `file`, the process environment) and validates them.
    pub fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
        load::load(file)
    }

    /// The effective settings as TOML, every secret replaced by a marker.
    pub fn to_redacted_toml(&self) -> Result<String, toml::ser::Error> {
        toml::to_string(self)
    }

    /// What is valid but probably not meant: said by `check-config` and at start.
    pub fn warnings(&self) -> Vec<String> {
        let discord = &self.discord;
        let mut warnings = Vec::new();
        let in_discord = discord.token.is_some() || discord.public_key.is_some();
        if in_discord && discord.guild_id.is_none() && discord.admin_role_ids.is_empty() {
            warnings.push(
                "nobody can be an admin in Discord: Manage Server counts only in discord.guild_id, and \
                 discord.admin_role_ids is empty. Set discord.guild_id to the team's server (or list admin roles); \
                 until then admin commands work only at the terminal"
                    .to_owned(),
            );
        }
        if self.security.previous_sealing_key.is_some() {
            warnings.push(
                "security.previous_sealing_key is set: secrets sealed under it are still opened. Run `cutover rekey` \
                 to re-seal them under security.sealing_key, then remove the previous key"
                    .to_owned(),
            );
        }
        warnings
    }
}
