//! `cutover check-config` output: the effective settings, secrets shown only as set/unset.

use super::Settings;
use secrecy::SecretString;
use toml::{Table, Value};

const REDACTED: &str = "[redacted]";

fn text(value: impl ToString) -> Value {
    Value::String(value.to_string())
}

fn list<T: std::fmt::Display>(values: &[T]) -> Value {
    Value::Array(
        values
            .iter()
            .map(|v| Value::String(v.to_string()))
            .collect(),
    )
}

fn put_opt<T: ToString>(table: &mut Table, key: &str, value: Option<T>) {
    if let Some(v) = value {
        table.insert(key.into(), text(v));
    }
}

fn put_secret(table: &mut Table, key: &str, value: Option<&SecretString>) {
    if value.is_some() {
        table.insert(key.into(), text(REDACTED));
    }
}

pub(super) fn to_toml(s: &Settings) -> String {
    let mut root = Table::new();

    let mut database = Table::new();
    database.insert("url".into(), text(&s.database.url));
    root.insert("database".into(), Value::Table(database));

    let mut server = Table::new();
    server.insert("bind".into(), text(String::from(s.server.bind)));
    server.insert("public_base_url".into(), text(&s.server.public_base_url));
    server.insert("read_timeout".into(), text(s.server.read_timeout));
    server.insert(
        "max_connections".into(),
        Value::Integer(s.server.max_connections.into()),
    );
    root.insert("server".into(), Value::Table(server));

    let mut discord = Table::new();
    put_secret(&mut discord, "token", s.discord.token.as_ref());
    put_opt(&mut discord, "application_id", s.discord.application_id);
    put_opt(
        &mut discord,
        "public_key",
        s.discord.public_key.as_ref().map(|k| k.as_hex()),
    );
    put_opt(&mut discord, "guild_id", s.discord.guild_id);
    discord.insert("api_base_url".into(), text(&s.discord.api_base_url));
    discord.insert("admin_role_ids".into(), list(&s.discord.admin_role_ids));
    root.insert("discord".into(), Value::Table(discord));

    let mut zoom = Table::new();
    zoom.insert("authorize_url".into(), text(&s.zoom.authorize_url));
    zoom.insert("token_url".into(), text(&s.zoom.token_url));
    zoom.insert("userinfo_url".into(), text(&s.zoom.userinfo_url));
    zoom.insert("revoke_url".into(), text(&s.zoom.revoke_url));
    zoom.insert("scopes".into(), list(&s.zoom.scopes));
    zoom.insert("request_timeout".into(), text(s.zoom.request_timeout));
    root.insert("zoom".into(), Value::Table(zoom));

    let mut security = Table::new();
    if s.security.sealing_key.is_some() {
        security.insert("sealing_key".into(), text(REDACTED));
    }
    if s.security.previous_sealing_key.is_some() {
        security.insert("previous_sealing_key".into(), text(REDACTED));
    }
    security.insert("link_ttl".into(), text(s.security.link_ttl));
    root.insert("security".into(), Value::Table(security));

    let mut celigo = Table::new();
    celigo.insert("api_base_url".into(), text(&s.celigo.api_base_url));
    put_secret(&mut celigo, "api_token", s.celigo.api_token.as_ref());
    celigo.insert("sync_every".into(), text(s.celigo.sync_every));
    celigo.insert(
        "oauth_redirect_url".into(),
        text(&s.celigo.oauth_redirect_url),
    );
    celigo.insert(
        "return_to_cutover".into(),
        Value::Boolean(s.celigo.return_to_cutover),
    );
    celigo.insert("request_timeout".into(), text(s.celigo.request_timeout));
    celigo.insert("ping_every".into(), text(s.celigo.ping_every));
    root.insert("celigo".into(), Value::Table(celigo));

    let mut switch = Table::new();
    switch.insert("backend".into(), text(s.switch.backend.as_str()));
    root.insert("switch".into(), Value::Table(switch));

    let mut reminders = Table::new();
    put_opt(&mut reminders, "channel_id", s.reminders.channel_id);
    reminders.insert("timezone".into(), text(String::from(s.reminders.timezone)));
    reminders.insert("before".into(), list(&s.reminders.before));
    put_opt(
        &mut reminders,
        "digest_at",
        s.reminders.digest_at.map(String::from),
    );
    reminders.insert("skip_dates".into(), list(&s.reminders.skip_dates));
    root.insert("reminders".into(), Value::Table(reminders));

    let deadlines = s
        .deadlines
        .iter()
        .map(|d| {
            let mut t = Table::new();
            t.insert("title".into(), text(&d.title));
            t.insert("due".into(), text(d.due.to_rfc3339()));
            if !d.note.is_empty() {
                t.insert("note".into(), text(&d.note));
            }
            if d.approximate {
                t.insert("approximate".into(), Value::Boolean(true));
            }
            Value::Table(t)
        })
        .collect();
    root.insert("deadlines".into(), Value::Array(deadlines));

    // A table of plain strings, numbers and arrays always serializes.
    toml::to_string(&root).unwrap_or_default()
}
