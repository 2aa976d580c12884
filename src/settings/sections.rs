//! The configuration's sections as they are read, each beside its checks. A section
//! written in the shape the program uses is read straight into its settings; a `Raw`
//! one here is written otherwise (a secret as a value or a `*_file`, a value derived
//! when unset, dates as text checked one by one).
//!
//! Every key has its default in config/default.toml, which is read first, so none
//! here is given one again (only a deadline's, which has no defaults).
//!
//! A section is checked even when some of its keys did not read: those were reported
//! already and stand at their defaults, which pass every check of their own. A check
//! that looks at two keys is skipped when either did not read, so nothing is reported
//! about a value nobody wrote.

use super::problems::ConfigProblem;
use super::*;
use crate::domain::{parse_due, BadDue, DeadlineOrigin, DisplayName};
use secrecy::SecretString;
use serde::Deserialize;
use std::fmt;
use std::ops::RangeInclusive;
use std::path::PathBuf;

const MAX_CONNECTIONS: u32 = 65_536;
/// How long one request may take, to Zoom or to integrator.io.
const REQUEST_TIMEOUT: RangeInclusive<HumanDuration> = seconds(1, 120);

const fn seconds(min: u64, max: u64) -> RangeInclusive<HumanDuration> {
    HumanDuration::from_seconds(min)..=HumanDuration::from_seconds(max)
}

/// A section (or one deadline) as read: its values, and the keys that did not read.
pub(super) struct Read<T> {
    pub value: T,
    /// Reported already, and at their defaults in `value`; `*` stands for every key.
    pub broken: Vec<String>,
}

impl<T> Read<T> {
    /// Whether `key` holds what was written (it read, or it was not written at all).
    fn read(&self, key: &str) -> bool {
        !self.broken.iter().any(|b| b == key || b == "*")
    }
}

pub(super) struct Sections {
    pub database: Read<DatabaseSettings>,
    pub server: Read<ServerSettings>,
    pub discord: Read<RawDiscord>,
    pub zoom: Read<ZoomSettings>,
    pub security: Read<RawSecurity>,
    pub celigo: Read<RawCeligo>,
    pub switch: Read<SwitchSettings>,
    pub status: Read<StatusSettings>,
    pub reminders: Read<RawReminders>,
    /// Those that read as tables; one that did not was reported and is not here.
    pub deadlines: Vec<(usize, Read<RawDeadline>)>,
}

/// Where problems go: `key` as people write it (`deadlines[0].due`); where it came from
/// is found afterwards.
struct Problems<'a>(&'a mut Vec<ConfigProblem>);

impl Problems<'_> {
    fn add(&mut self, key: impl Into<String>, message: impl Into<String>) {
        self.0.push(ConfigProblem {
            key: key.into(),
            origin: None,
            message: message.into(),
        });
    }
}

/// Checks every section; the settings, which are only used when nothing was reported.
pub(super) fn validate(raw: Sections, problems: &mut Vec<ConfigProblem>) -> Settings {
    let mut problems = Problems(problems);
    let problems = &mut problems;
    let database = raw.database.value.check(problems);
    raw.server.value.check(problems);
    let discord = raw.discord.value.check(problems);
    raw.zoom.value.check(problems);
    let security = raw.security.check(problems);
    let token_read = raw.celigo.read("api_token") && raw.celigo.read("api_token_file");
    let celigo = raw.celigo.value.check(problems);
    raw.switch.check(token_read, &celigo, problems);
    raw.status.value.check(problems);
    let tz = raw
        .reminders
        .read("timezone")
        .then(|| raw.reminders.value.timezone.tz());
    let reminders = raw.reminders.value.check(problems);
    Settings {
        database,
        server: raw.server.value,
        discord,
        zoom: raw.zoom.value,
        security,
        celigo,
        switch: raw.switch.value,
        status: raw.status.value,
        reminders,
        deadlines: deadlines(raw.deadlines, tz, problems),
    }
}

/// `key` holds a URL that secrets are sent to: https, or plain http to this machine.
fn require_https(url: &HttpUrl, key: &str, carries: &str, use_: &str, problems: &mut Problems) {
    if !is_https_or_loopback(url) {
        problems.add(
            key,
            format!(
                "{url} is not https: {carries} would cross the network in clear; use {use_}, \
                 or plain http only to this machine (127.0.0.1, ::1 or localhost)"
            ),
        );
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

/// `value` within `range`, or a problem that says the range as people write it
/// (`allowed`, with the reason for it where there is one).
fn in_range<T: PartialOrd + fmt::Display>(
    key: &str,
    value: &T,
    range: RangeInclusive<T>,
    allowed: &str,
    problems: &mut Problems,
) {
    if !range.contains(value) {
        problems.add(key, format!("{value} is out of range: use {allowed}"));
    }
}

fn secret(
    key: &str,
    value: Option<SecretString>,
    file: Option<PathBuf>,
    problems: &mut Problems,
) -> Option<SecretString> {
    match (value, file) {
        (Some(_), Some(_)) => {
            problems.add(
                format!("{key}_file"),
                format!("both {key} and {key}_file are set; keep one"),
            );
            None
        }
        (Some(v), None) => Some(v),
        (None, Some(path)) => match std::fs::read_to_string(&path) {
            Ok(text) if !text.trim().is_empty() => Some(SecretString::from(text.trim().to_owned())),
            Ok(_) => {
                problems.add(
                    format!("{key}_file"),
                    format!("{} is empty; put the secret in it", path.display()),
                );
                None
            }
            Err(e) => {
                problems.add(
                    format!("{key}_file"),
                    format!("cannot read {}: {e}", path.display()),
                );
                None
            }
        },
        (None, None) => None,
    }
}

impl DatabaseSettings {
    fn check(self, problems: &mut Problems) -> Self {
        let url = self.url.trim();
        if url.is_empty() {
            problems.add(
                "database.url",
                "it is empty; write e.g. sqlite://data/cutover.db",
            );
        } else if !url
            .get(..7)
            .is_some_and(|s| s.eq_ignore_ascii_case("sqlite:"))
        {
            // Only the scheme is repeated: such a URL may hold a password.
            let scheme = url.split(':').next().unwrap_or_default();
            problems.add(
                "database.url",
                format!(
                    "a {:?} URL is not one cutover can use: it keeps its data in SQLite; write \
                     sqlite://path/to/cutover.db",
                    crate::markdown::truncate(scheme, 20)
                ),
            );
        }
        Self {
            url: url.to_owned(),
        }
    }
}

impl ServerSettings {
    fn check(&self, problems: &mut Problems) {
        in_range(
            "server.read_timeout",
            &self.read_timeout,
            seconds(1, 120),
            "1s to 2m",
            problems,
        );
        in_range(
            "server.max_connections",
            &self.max_connections,
            1..=MAX_CONNECTIONS,
            &format!("1 to {MAX_CONNECTIONS}, well below the open-files limit (ulimit -n)"),
            problems,
        );
    }
}

/// Written with the token as a value or a file: two keys, one secret in the settings.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawDiscord {
    token: Option<SecretString>,
    token_file: Option<PathBuf>,
    application_id: Option<Snowflake>,
    public_key: Option<DiscordPublicKey>,
    guild_id: Option<Snowflake>,
    api_base_url: HttpUrl,
    admin_role_ids: Vec<Snowflake>,
}

impl RawDiscord {
    fn check(self, problems: &mut Problems) -> DiscordSettings {
        require_https(
            &self.api_base_url,
            "discord.api_base_url",
            "the bot token",
            "https://discord.com",
            problems,
        );
        DiscordSettings {
            token: secret("discord.token", self.token, self.token_file, problems),
            application_id: self.application_id,
            public_key: self.public_key,
            guild_id: self.guild_id,
            api_base_url: self.api_base_url,
            admin_role_ids: self.admin_role_ids,
        }
    }
}

impl ZoomSettings {
    fn check(&self, problems: &mut Problems) {
        // The authorize URL carries no secret, but the person's browser is sent there to
        // sign in to Zoom: a page in clear could be swapped for another.
        for (key, url, carries, zooms) in [
            (
                "zoom.authorize_url",
                &self.authorize_url,
                "the sign-in page and its code",
                "https://zoom.us/oauth/authorize",
            ),
            (
                "zoom.token_url",
                &self.token_url,
                "the client secret and the tokens",
                "https://zoom.us/oauth/token",
            ),
            (
                "zoom.userinfo_url",
                &self.userinfo_url,
                "the access token",
                "https://api.zoom.us/v2/users/me",
            ),
            (
                "zoom.revoke_url",
                &self.revoke_url,
                "the client secret and the token",
                "https://zoom.us/oauth/revoke",
            ),
        ] {
            require_https(url, key, carries, zooms, problems);
        }
        in_range(
            "zoom.request_timeout",
            &self.request_timeout,
            REQUEST_TIMEOUT,
            "1s to 2m",
            problems,
        );
        for (i, scope) in self.scopes.iter().enumerate() {
            if scope.is_empty() || scope.chars().any(|c| c.is_whitespace() || c.is_control()) {
                problems.add(
                    format!("zoom.scopes[{i}]"),
                    format!("{scope:?} is not a scope name: one scope per entry, without spaces"),
                );
            }
        }
    }
}

/// Written with each key as a value or a file, as text: the settings hold them parsed.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSecurity {
    sealing_key: Option<SecretString>,
    sealing_key_file: Option<PathBuf>,
    previous_sealing_key: Option<SecretString>,
    previous_sealing_key_file: Option<PathBuf>,
    link_ttl: HumanDuration,
}

impl Read<RawSecurity> {
    fn check(self, problems: &mut Problems) -> SecuritySettings {
        let keys_read = [
            "sealing_key",
            "sealing_key_file",
            "previous_sealing_key",
            "previous_sealing_key_file",
        ]
        .iter()
        .all(|key| self.read(key));
        let raw = self.value;
        in_range(
            "security.link_ttl",
            &raw.link_ttl,
            seconds(60, 15 * 60),
            "1m to 15m (Discord's interaction token lasts 15 minutes)",
            problems,
        );
        let previous_sealing_key = sealing_key(
            "security.previous_sealing_key",
            raw.previous_sealing_key,
            raw.previous_sealing_key_file,
            problems,
        );
        let sealing_key = sealing_key(
            "security.sealing_key",
            raw.sealing_key,
            raw.sealing_key_file,
            problems,
        );
        match (&sealing_key, &previous_sealing_key) {
            (None, Some(_)) if keys_read => problems.add(
                "security.previous_sealing_key",
                "is set without security.sealing_key: set CUTOVER__SECURITY__SEALING_KEY to the new key \
                 (make one with `cutover keygen`) and keep the old one here",
            ),
            (Some(new), Some(old)) if new.bytes() == old.bytes() => problems.add(
                "security.previous_sealing_key",
                "is the same key as security.sealing_key: the new key goes in security.sealing_key \
                 (make one with `cutover keygen`), the one the secrets are sealed under now here",
            ),
            _ => {}
        }
        SecuritySettings {
            sealing_key,
            previous_sealing_key,
            link_ttl: raw.link_ttl,
        }
    }
}

fn sealing_key(
    key: &str,
    value: Option<SecretString>,
    file: Option<PathBuf>,
    problems: &mut Problems,
) -> Option<SealingKey> {
    use secrecy::ExposeSecret;
    let text = secret(key, value, file, problems)?;
    SealingKey::parse(text.expose_secret())
        .map_err(|e| problems.add(key, e.to_string()))
        .ok()
}

/// Written with the token as a value or a file, and the redirect perhaps unset (then
/// derived from the region).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawCeligo {
    api_base_url: HttpUrl,
    api_token: Option<SecretString>,
    api_token_file: Option<PathBuf>,
    sync_every: HumanDuration,
    oauth_redirect_url: Option<HttpUrl>,
    return_to_cutover: bool,
    request_timeout: HumanDuration,
    ping_every: HumanDuration,
}

impl RawCeligo {
    fn check(self, problems: &mut Problems) -> CeligoSettings {
        let raw = self;
        require_https(
            &raw.api_base_url,
            "celigo.api_base_url",
            "the API token",
            "https://api.integrator.io/v1 (EU: https://api.eu.integrator.io/v1)",
            problems,
        );
        in_range(
            "celigo.request_timeout",
            &raw.request_timeout,
            REQUEST_TIMEOUT,
            "1s to 2m",
            problems,
        );
        in_range(
            "celigo.ping_every",
            &raw.ping_every,
            seconds(1, 60),
            "1s to 1m",
            problems,
        );
        if (1..60).contains(&raw.sync_every.as_seconds()) {
            problems.add(
                "celigo.sync_every",
                format!(
                    "{} is too often: use at least 1m (integrator.io limits requests), or 0s to turn the periodic sync off",
                    raw.sync_every
                ),
            );
        }
        let api_token = secret(
            "celigo.api_token",
            raw.api_token,
            raw.api_token_file,
            problems,
        );
        CeligoSettings {
            oauth_redirect_url: raw.oauth_redirect_url.unwrap_or_else(|| {
                // A constant of ours: always a valid URL.
                HttpUrl::parse(celigo_redirect_for(&raw.api_base_url))
                    .unwrap_or_else(|_| raw.api_base_url.clone())
            }),
            api_base_url: raw.api_base_url,
            api_token,
            sync_every: raw.sync_every,
            return_to_cutover: raw.return_to_cutover,
            request_timeout: raw.request_timeout,
            ping_every: raw.ping_every,
        }
    }
}

impl Read<SwitchSettings> {
    /// `celigo` needs the token: only a token that read can be missing.
    fn check(&self, token_read: bool, celigo: &CeligoSettings, problems: &mut Problems) {
        if self.read("backend")
            && token_read
            && self.value.backend == BackendChoice::Celigo
            && celigo.api_token.is_none()
        {
            problems.add(
                "switch.backend",
                "is celigo, which needs celigo.api_token: set CUTOVER__CELIGO__API_TOKEN (or celigo.api_token_file) \
                 to a Full access token, or use auto",
            );
        }
    }
}

impl StatusSettings {
    fn check(&self, problems: &mut Problems) {
        in_range(
            "status.session_ttl",
            &self.session_ttl,
            seconds(60, 30 * 86_400),
            "1m to 30d",
            problems,
        );
    }
}

/// Written with the skip dates as text, so that each date that is not one is named
/// (read as dates, the first would hide the rest).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawReminders {
    channel_id: Option<Snowflake>,
    timezone: TimeZoneName,
    before: Vec<HumanDuration>,
    digest_at: Option<TimeOfDay>,
    skip_dates: Vec<String>,
}

impl RawReminders {
    fn check(self, problems: &mut Problems) -> ReminderSettings {
        if self.before.len() > 20 {
            problems.add(
                "reminders.before",
                "more than 20 milestones; keep the list short",
            );
        }
        let mut skip_dates = Vec::new();
        for (i, text) in self.skip_dates.iter().enumerate() {
            match chrono::NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d") {
                Ok(date) => skip_dates.push(date),
                Err(_) => problems.add(
                    format!("reminders.skip_dates[{i}]"),
                    format!("{text:?} is not a date: write YYYY-MM-DD, like 2026-12-25"),
                ),
            }
        }
        ReminderSettings {
            channel_id: self.channel_id,
            timezone: self.timezone,
            before: self.before,
            digest_at: self.digest_at,
            skip_dates,
        }
    }
}

/// `title` and `due` default to empty only so that a deadline missing one is still read
/// (and its other keys checked); an empty one is reported below.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawDeadline {
    #[serde(default)]
    title: String,
    #[serde(default)]
    due: String,
    #[serde(default)]
    note: String,
    #[serde(default)]
    approximate: bool,
}

/// The deadlines in order; `tz` is `None` when `reminders.timezone` did not read, and
/// then only what is wrong in any time zone is said.
fn deadlines(
    raw: Vec<(usize, Read<RawDeadline>)>,
    tz: Option<chrono_tz::Tz>,
    problems: &mut Problems,
) -> Vec<Deadline> {
    let mut deadlines = Vec::new();
    for (i, d) in raw {
        let title = d.read("title").then(|| {
            DisplayName::parse(&d.value.title).map_err(|e| {
                problems.add(
                    format!("deadlines[{i}].title"),
                    format!("{e}; give the deadline a short title"),
                )
            })
        });
        let due = d.read("due").then(|| {
            let key = format!("deadlines[{i}].due");
            if d.value.due.trim().is_empty() {
                problems.add(
                    key,
                    "missing: write when it is due, like due = \"2026-12-15\" or \"2026-12-15T17:00\"",
                );
                return None;
            }
            match parse_due(&d.value.due, tz.unwrap_or(chrono_tz::UTC)) {
                Ok(due) => Some(due),
                // A time that never happens in some zone is said once the zone reads.
                Err(BadDue::Skipped { .. }) if tz.is_none() => None,
                Err(e) => {
                    problems.add(key, e.to_string());
                    None
                }
            }
        });
        if let (Some(Ok(title)), Some(Some(due))) = (title, due) {
            deadlines.push(Deadline {
                origin: DeadlineOrigin::Configured,
                title,
                due,
                note: d.value.note.trim().to_owned(),
                approximate: d.value.approximate,
            });
        }
    }
    deadlines.sort_by_key(|d| d.due);
    deadlines
}
