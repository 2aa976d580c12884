//! One integration-test binary: the real program (in-process on port 0, or the built
//! binary), a fresh SQLite file per test, the clock pinned where output depends on it.

mod campaign;
mod campaign_browser;
mod celigo;
mod celigo_sync;
mod chat;
mod cli_backup;
mod cli_database;
mod cli_inventory;
mod cli_rekey;
mod cli_settings;
mod discord_endpoint;
mod discord_gateway;
mod fake_celigo;
mod fake_discord;
mod fake_zoom;
mod fresh_answers;
mod health;
mod helpers;
mod link_expiry;
mod link_reassigned;
mod openapi;
mod pty;
mod refresh_claims;
mod reminders;
mod replays;
mod revocation;
mod server;
mod stray_tokens;
mod switch;
mod switch_terminal;
mod terminal;
