use super::*;
use crate::domain::{parse_due, DeadlineOrigin, DisplayName};
use figment::providers::{Env, Format, Toml};
use figment::{Figment, Source};
use secrecy::SecretString;
use serde::Deserialize;
use std::fmt;
use std::path::{Path, PathBuf};

const ENV_PREFIX: &str = "CUTOVER__";
const MAX_LINK_TTL_SECONDS: u64 = 15 * 60;
const MIN_LINK_TTL_SECONDS: u64 = 60;
const MAX_CONNECTIONS: u32 = 65_536;

struct RawSettings {
    database: RawDatabase,
    server: RawServer,
    discord: RawDiscord,
    zoom: RawZoom,
    security: RawSecurity,
    celigo: RawCeligo,
    switch: RawSwitch,
    reminders: RawReminders,
    deadlines: Vec<RawDeadline>,
}

const SECTIONS: [&str; 9] = [
    "database",
    "server",
    "discord",
    "zoom",
    "security",
    "celigo",
    "switch",
    "reminders",
    "deadlines",
];

fn extract_sections(figment: &Figment, problems: &mut Vec<ConfigProblem>) -> Option<RawSettings> {
    // A file that is not TOML at all is one problem, not one per section.
    let dict = match figment.extract::<figment::value::Dict>() {
        Ok(dict) => dict,
        Err(error) => {
            problems.extend(from_figment(error).problems);
            return None;
        }
    };
    {
        for key in dict.keys().filter(|k| !SECTIONS.contains(&k.as_str())) {
            problems.push(ConfigProblem {
                key: key.clone(),
                origin: figment.find_metadata(key).map(|m| origin_of(m, std::slice::from_ref(key))),
                message: format!(
                    "unknown section; the sections are: {}. Check the spelling (see config/default.toml)",
                    SECTIONS.join(", ")
                ),
            });
        }
    }
    fn section<T: serde::de::DeserializeOwned>(
        figment: &Figment,
        name: &str,
        problems: &mut Vec<ConfigProblem>,
    ) -> Option<T> {
        figment
            .extract_inner(name)
            .map_err(|error| {
                // figment names a key inside a section as [inner path…, section].
                let error = error.into_iter().map(|mut e| {
                    if e.path.last().map(String::as_str) == Some(name) {
                        e.path.pop();
                    }
                    e.path.insert(0, name.to_owned());
                    e
                });
                for e in error {
                    problems.extend(from_figment(e).problems);
                }
            })
            .ok()
    }
    let database = section(figment, "database", problems);
    let server = section(figment, "server", problems);
    let discord = section(figment, "discord", problems);
    let zoom = section(figment, "zoom", problems);
    let security = section(figment, "security", problems);
    let celigo = section(figment, "celigo", problems);
    let switch = section(figment, "switch", problems);
    let reminders = section(figment, "reminders", problems);
    let deadlines = if figment.contains("deadlines") {
        section(figment, "deadlines", problems)
    } else {
        Some(Vec::new())
    };
    Some(RawSettings {
        database: database?,
        server: server?,
        discord: discord?,
        zoom: zoom?,
        security: security?,
        celigo: celigo?,
        switch: switch?,
        reminders: reminders?,
        deadlines: deadlines?,
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDatabase {
    url: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawServer {
    bind: BindAddress,
    public_base_url: HttpUrl,
    read_timeout: HumanDuration,
    max_connections: u32,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDiscord {
    token: Option<SecretString>,
    token_file: Option<PathBuf>,
    application_id: Option<Snowflake>,
    public_key: Option<DiscordPublicKey>,
    guild_id: Option<Snowflake>,
    api_base_url: HttpUrl,
    #[serde(default)]
    admin_role_ids: Vec<Snowflake>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawZoom {
    authorize_url: HttpUrl,
    token_url: HttpUrl,
    userinfo_url: HttpUrl,
    revoke_url: HttpUrl,
    #[serde(default)]
    scopes: Vec<String>,
    request_timeout: HumanDuration,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSecurity {
    sealing_key: Option<SecretString>,
    sealing_key_file: Option<PathBuf>,
    previous_sealing_key: Option<SecretString>,
    previous_sealing_key_file: Option<PathBuf>,
    link_ttl: HumanDuration,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCeligo {
    api_base_url: HttpUrl,
    api_token: Option<SecretString>,
    api_token_file: Option<PathBuf>,
    sync_every: HumanDuration,
    oauth_redirect_url: Option<HttpUrl>,
    return_to_cutover: bool,
    request_timeout: HumanDuration,
    ping_every: HumanDuration,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSwitch {
    backend: BackendChoice,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawReminders {
    channel_id: Option<Snowflake>,
    timezone: TimeZoneName,
    before: Vec<HumanDuration>,
    digest_at: Option<TimeOfDay>,
    #[serde(default)]
    skip_dates: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDeadline {
    title: String,
    due: String,
    #[serde(default)]
    note: String,
    #[serde(default)]
    approximate: bool,
}

/// One thing wrong with the configuration: which key, where it came from, what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigProblem {
    pub key: String,
    pub origin: Option<String>,
    pub message: String,
}

impl fmt::Display for ConfigProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.key)?;
        if let Some(origin) = &self.origin {
            write!(f, " (from {origin})")?;
        }
        write!(f, ": {}", self.message)
    }
}

/// Everything wrong with the configuration, so one run shows all there is to fix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub problems: Vec<ConfigProblem>,
}

impl ConfigError {
    fn one(key: &str, message: impl Into<String>) -> Self {
        Self {
            problems: vec![ConfigProblem {
                key: key.to_owned(),
                origin: None,
                message: message.into(),
            }],
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the configuration is not valid:")?;
        for problem in &self.problems {
            write!(f, "\n  - {problem}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigError {}

pub(super) fn load(file: Option<&Path>) -> Result<Settings, ConfigError> {
    let mut figment = Figment::from(Toml::string(DEFAULT_TOML));
    if let Some(path) = file {
        if !path.is_file() {
            return Err(ConfigError::one(
                "--config",
                format!(
                    "{} does not exist or is not a file; give the path of a TOML file, or leave --config and CUTOVER_CONFIG unset",
                    path.display()
                ),
            ));
        }
        figment = figment.merge(Toml::file_exact(path));
    }
    figment = figment.merge(Env::prefixed(ENV_PREFIX).split("__"));

    let mut problems = Vec::new();
    for key in [
        "discord.token",
        "security.sealing_key",
        "security.previous_sealing_key",
        "celigo.api_token",
    ] {
        // Asked of the file alone: an environment variable set too must not hide it.
        if let Some(source) = file.and_then(|path| file_that_sets(path, key)) {
            let env = format!(
                "{ENV_PREFIX}{}",
                key.replace('.', "__").to_ascii_uppercase()
            );
            problems.push(ConfigProblem {
                key: key.to_owned(),
                origin: Some(source),
                message: format!(
                    "secrets are not read from configuration files; set {env} or {key}_file instead, and remove it from the file"
                ),
            });
        }
    }
    // Each section on its own, so one run reports a problem in every section at once.
    let raw = extract_sections(&figment, &mut problems);
    let Some(raw) = raw else {
        return Err(ConfigError { problems });
    };
    let settings = validate(raw, &mut problems);
    if problems.is_empty() {
        return Ok(settings);
    }
    // Say where each checked value came from (the file, or an environment variable).
    for problem in problems.iter_mut().filter(|p| p.origin.is_none()) {
        let path = problem.key.replace('[', ".").replace(']', "");
        let parts: Vec<String> = path.split('.').map(str::to_owned).collect();
        // figment finds no metadata inside an array (`deadlines.0.due`); the nearest
        // enclosing key that it finds says where the value came from.
        problem.origin = (1..=parts.len())
            .rev()
            .find_map(|n| figment.find_metadata(&parts[..n].join(".")))
            .filter(|m| {
                !matches!(&m.source, Some(Source::Code(_))) && m.name != "TOML source string"
            })
            .map(|m| origin_of(m, &parts));
    }
    Err(ConfigError { problems })
}

fn file_that_sets(path: &Path, key: &str) -> Option<String> {
    Figment::from(Toml::file_exact(path))
        .contains(key)
        .then(|| path.display().to_string())
}

fn origin_of(metadata: &figment::Metadata, path: &[String]) -> String {
    match &metadata.source {
        Some(Source::File(p)) => p.display().to_string(),
        _ if is_environment(Some(metadata)) => environment_variables(path),
        _ => metadata.name.to_string(),
    }
}

fn is_environment(metadata: Option<&figment::Metadata>) -> bool {
    metadata.is_some_and(|m| m.name.contains("environment"))
}

/// The variables that set `path`, something under it or something around it, as they
/// are spelled in the environment: an unknown section `bogus` names `CUTOVER__BOGUS__KEY`,
/// and `deadlines[0].due` names `CUTOVER__DEADLINES`, the variables set.
fn environment_variables(path: &[String]) -> String {
    let name = format!("{ENV_PREFIX}{}", path.join("__").to_ascii_uppercase());
    let under = format!("{name}__");
    let mut set: Vec<String> = std::env::vars_os()
        .filter_map(|(key, _)| key.into_string().ok())
        .filter(|key| {
            let key = key.to_ascii_uppercase();
            let ours = key.len() > ENV_PREFIX.len() && key.starts_with(ENV_PREFIX);
            ours && (key == name
                || key.starts_with(&under)
                || under.starts_with(&format!("{key}__")))
        })
        .collect();
    set.sort();
    match set.as_slice() {
        [] => format!("environment variable {name}"),
        [one] => format!("environment variable {one}"),
        many => format!("environment variables {}", many.join(", ")),
    }
}

/// `reminders.before.0` as people write it: `reminders.before[0]`.
fn key_name(path: &[String]) -> String {
    let mut key = String::new();
    for part in path {
        if part.bytes().all(|b| b.is_ascii_digit()) && !key.is_empty() {
            key.push_str(&format!("[{part}]"));
        } else {
            if !key.is_empty() {
                key.push('.');
            }
            key.push_str(part);
        }
    }
    if key.is_empty() {
        // Only a file that is not valid TOML fails with no key at all.
        "--config".to_owned()
    } else {
        key
    }
}

fn from_figment(error: figment::Error) -> ConfigError {
    let problems = error
        .into_iter()
        .map(|e| {
            let mut path = e.path.clone();
            let message = match &e.kind {
                figment::error::Kind::UnknownField(field, expected) => {
                    if path.last() != Some(field) {
                        path.push(field.clone());
                    }
                    format!(
                        "unknown key; the keys here are: {}. Check the spelling (see config/default.toml)",
                        expected.join(", ")
                    )
                }
                figment::error::Kind::MissingField(field) => {
                    if path.last().map(String::as_str) != Some(field.as_ref()) {
                        path.push(field.to_string());
                    }
                    "missing; config/default.toml lists every key with its meaning".to_owned()
                }
                figment::error::Kind::InvalidType(_, expected)
                    if expected == "a sequence" && is_environment(e.metadata.as_ref()) =>
                {
                    format!(
                        "{}; in an environment variable a list is written as in TOML, in brackets: {ENV_PREFIX}{}='[\"first\", \"second\"]'",
                        e.kind,
                        path.join("__").to_ascii_uppercase()
                    )
                }
                other => other.to_string(),
            };
            let origin = e.metadata.as_ref().map(|m| origin_of(m, &path));
            ConfigProblem { key: key_name(&path), origin, message }
        })
        .collect();
    ConfigError { problems }
}

fn secret(
    section: &str,
    value: Option<SecretString>,
    file: Option<PathBuf>,
    problems: &mut Vec<ConfigProblem>,
) -> Option<SecretString> {
    match (value, file) {
        (Some(_), Some(_)) => {
            problems.push(ConfigProblem {
                key: format!("{section}_file"),
                origin: None,
                message: format!("both {section} and {section}_file are set; keep one"),
            });
            None
        }
        (Some(v), None) => Some(v),
        (None, Some(path)) => match std::fs::read_to_string(&path) {
            Ok(text) if !text.trim().is_empty() => Some(SecretString::from(text.trim().to_owned())),
            Ok(_) => {
                problems.push(ConfigProblem {
                    key: format!("{section}_file"),
                    origin: None,
                    message: format!("{} is empty; put the secret in it", path.display()),
                });
                None
            }
            Err(e) => {
                problems.push(ConfigProblem {
                    key: format!("{section}_file"),
                    origin: None,
                    message: format!("cannot read {}: {e}", path.display()),
                });
                None
            }
        },
        (None, None) => None,
    }
}

/// https, or plain http only to this machine (a proxy or a test stand-in on loopback).
fn is_https_or_loopback(url: &HttpUrl) -> bool {
    let Ok(parsed) = url::Url::parse(url.as_str()) else {
        return false;
    };
    parsed.scheme() == "https"
        || match parsed.host() {
            Some(url::Host::Domain(domain)) => domain.eq_ignore_ascii_case("localhost"),
            Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
            Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
            None => false,
        }
}

fn validate(raw: RawSettings, problems: &mut Vec<ConfigProblem>) -> Settings {
    let mut problem = |key: String, message: String| {
        problems.push(ConfigProblem {
            key,
            origin: None,
            message,
        });
    };
    let url = raw.database.url.trim();
    if url.is_empty() {
        problem(
            "database.url".into(),
            "it is empty; write e.g. sqlite://data/cutover.db".into(),
        );
    } else if !url
        .get(..7)
        .is_some_and(|s| s.eq_ignore_ascii_case("sqlite:"))
    {
        // Only the scheme is repeated: such a URL may hold a password.
        let scheme = url.split(':').next().unwrap_or_default();
        problem(
            "database.url".into(),
            format!(
                "a {:?} URL is not one cutover can use: it keeps its data in SQLite; write \
                 sqlite://path/to/cutover.db",
                crate::markdown::truncate(scheme, 20)
            ),
        );
    }
    let ttl = raw.security.link_ttl.as_seconds();
    if !(MIN_LINK_TTL_SECONDS..=MAX_LINK_TTL_SECONDS).contains(&ttl) {
        problem(
            "security.link_ttl".into(),
            format!(
                "{} is out of range: use 1m to 15m (Discord's interaction token lasts 15 minutes)",
                raw.security.link_ttl
            ),
        );
    }
    if !(1..=120).contains(&raw.server.read_timeout.as_seconds()) {
        problem(
            "server.read_timeout".into(),
            format!("{} is out of range: use 1s to 2m", raw.server.read_timeout),
        );
    }
    if !(1..=MAX_CONNECTIONS).contains(&raw.server.max_connections) {
        problem(
            "server.max_connections".into(),
            format!(
                "{} is out of range: use 1 to {MAX_CONNECTIONS}, well below the open-files limit (ulimit -n)",
                raw.server.max_connections
            ),
        );
    }
    if !(1..=120).contains(&raw.zoom.request_timeout.as_seconds()) {
        problem(
            "zoom.request_timeout".into(),
            format!("{} is out of range: use 1s to 2m", raw.zoom.request_timeout),
        );
    }
    if !is_https_or_loopback(&raw.celigo.api_base_url) {
        problem(
            "celigo.api_base_url".into(),
            format!(
                "{} is not https: the API token would cross the network in clear; use https://api.integrator.io/v1 \
                 (EU: https://api.eu.integrator.io/v1)",
                raw.celigo.api_base_url
            ),
        );
    }
    if !(1..=120).contains(&raw.celigo.request_timeout.as_seconds()) {
        problem(
            "celigo.request_timeout".into(),
            format!(
                "{} is out of range: use 1s to 2m",
                raw.celigo.request_timeout
            ),
        );
    }
    if !(1..=60).contains(&raw.celigo.ping_every.as_seconds()) {
        problem(
            "celigo.ping_every".into(),
            format!("{} is out of range: use 1s to 1m", raw.celigo.ping_every),
        );
    }
    if (1..60).contains(&raw.celigo.sync_every.as_seconds()) {
        problem(
            "celigo.sync_every".into(),
            format!(
                "{} is too often: use at least 1m (integrator.io limits requests), or 0s to turn the periodic sync off",
                raw.celigo.sync_every
            ),
        );
    }
    for (i, scope) in raw.zoom.scopes.iter().enumerate() {
        if scope.is_empty() || scope.chars().any(|c| c.is_whitespace() || c.is_control()) {
            problem(
                format!("zoom.scopes[{i}]"),
                format!("{scope:?} is not a scope name: one scope per entry, without spaces"),
            );
        }
    }
    if raw.reminders.before.len() > 20 {
        problem(
            "reminders.before".into(),
            "more than 20 milestones; keep the list short".into(),
        );
    }
    let mut skip_dates = Vec::new();
    for (i, text) in raw.reminders.skip_dates.iter().enumerate() {
        match chrono::NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d") {
            Ok(date) => skip_dates.push(date),
            Err(_) => problem(
                format!("reminders.skip_dates[{i}]"),
                format!("{text:?} is not a date: write YYYY-MM-DD, like 2026-12-25"),
            ),
        }
    }
    let tz = raw.reminders.timezone.tz();
    let mut deadlines = Vec::new();
    for (i, d) in raw.deadlines.into_iter().enumerate() {
        let title = DisplayName::parse(&d.title).map_err(|e| {
            problem(
                format!("deadlines[{i}].title"),
                format!("{e}; give the deadline a short title"),
            )
        });
        let due = parse_due(&d.due, tz)
            .map_err(|e| problem(format!("deadlines[{i}].due"), e.to_string()));
        if let (Ok(title), Ok(due)) = (title, due) {
            deadlines.push(Deadline {
                origin: DeadlineOrigin::Configured,
                title,
                due,
                note: d.note.trim().to_owned(),
                approximate: d.approximate,
            });
        }
    }
    deadlines.sort_by_key(|d| d.due);

    let discord_token = secret(
        "discord.token",
        raw.discord.token,
        raw.discord.token_file,
        problems,
    );
    let celigo_token = secret(
        "celigo.api_token",
        raw.celigo.api_token,
        raw.celigo.api_token_file,
        problems,
    );
    if raw.switch.backend == BackendChoice::Celigo && celigo_token.is_none() {
        problems.push(ConfigProblem {
            key: "switch.backend".into(),
            origin: None,
            message: "is celigo, which needs celigo.api_token: set CUTOVER__CELIGO__API_TOKEN (or celigo.api_token_file) \
                      to a Full access token, or use auto"
                .into(),
        });
    }
    let key_from = |key: &str, value, file, problems: &mut Vec<ConfigProblem>| {
        secret(key, value, file, problems).and_then(|s| {
            use secrecy::ExposeSecret;
            SealingKey::parse(s.expose_secret())
                .map_err(|e| {
                    problems.push(ConfigProblem {
                        key: key.into(),
                        origin: None,
                        message: e.to_string(),
                    })
                })
                .ok()
        })
    };
    let previous_sealing_key = key_from(
        "security.previous_sealing_key",
        raw.security.previous_sealing_key,
        raw.security.previous_sealing_key_file,
        problems,
    );
    let sealing_key = key_from(
        "security.sealing_key",
        raw.security.sealing_key,
        raw.security.sealing_key_file,
        problems,
    );
    match (&sealing_key, &previous_sealing_key) {
        (None, Some(_)) => problems.push(ConfigProblem {
            key: "security.previous_sealing_key".into(),
            origin: None,
            message: "is set without security.sealing_key: set CUTOVER__SECURITY__SEALING_KEY to the new key \
                      (make one with `cutover keygen`) and keep the old one here"
                .into(),
        }),
        (Some(new), Some(old)) if new.bytes() == old.bytes() => problems.push(ConfigProblem {
            key: "security.previous_sealing_key".into(),
            origin: None,
            message: "is the same key as security.sealing_key: the new key goes in security.sealing_key \
                      (make one with `cutover keygen`), the one the secrets are sealed under now here"
                .into(),
        }),
        _ => {}
    }

    Settings {
        database: DatabaseSettings {
            url: raw.database.url.trim().to_owned(),
        },
        server: ServerSettings {
            bind: raw.server.bind,
            public_base_url: raw.server.public_base_url,
            read_timeout: raw.server.read_timeout,
            max_connections: raw.server.max_connections,
        },
        discord: DiscordSettings {
            token: discord_token,
            application_id: raw.discord.application_id,
            public_key: raw.discord.public_key,
            guild_id: raw.discord.guild_id,
            api_base_url: raw.discord.api_base_url,
            admin_role_ids: raw.discord.admin_role_ids,
        },
        zoom: ZoomSettings {
            authorize_url: raw.zoom.authorize_url,
            token_url: raw.zoom.token_url,
            userinfo_url: raw.zoom.userinfo_url,
            revoke_url: raw.zoom.revoke_url,
            scopes: raw.zoom.scopes,
            request_timeout: raw.zoom.request_timeout,
        },
        security: SecuritySettings {
            sealing_key,
            previous_sealing_key,
            link_ttl: raw.security.link_ttl,
        },
        celigo: CeligoSettings {
            oauth_redirect_url: raw.celigo.oauth_redirect_url.unwrap_or_else(|| {
                // A constant of ours: always a valid URL.
                HttpUrl::parse(celigo_redirect_for(&raw.celigo.api_base_url))
                    .unwrap_or_else(|_| raw.celigo.api_base_url.clone())
            }),
            api_base_url: raw.celigo.api_base_url,
            api_token: celigo_token,
            sync_every: raw.celigo.sync_every,
            return_to_cutover: raw.celigo.return_to_cutover,
            request_timeout: raw.celigo.request_timeout,
            ping_every: raw.celigo.ping_every,
        },
        switch: SwitchSettings {
            backend: raw.switch.backend,
        },
        reminders: ReminderSettings {
            channel_id: raw.reminders.channel_id,
            timezone: raw.reminders.timezone,
            before: raw.reminders.before,
            digest_at: raw.reminders.digest_at,
            skip_dates,
        },
        deadlines,
    }
}
