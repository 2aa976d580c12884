//! The command line (INTERFACE.md): parses arguments, loads the settings, runs one command.

use crate::clock::{Clock, SharedClock, SystemClock};
use crate::discord::{self, registration};
use crate::domain::{Actor, ConnectionSource, ShowFilter, Snowflake};
use crate::integrator_io::{self, Health};
use crate::inventory::{self, InventoryError};
use crate::inventory::{SyncError, SyncProgress};
use crate::settings::Settings;
use crate::startup::{Adapter, Application};
use crate::store::{ConnectionQuery, Store};
use crate::switch::Sealer;
use crate::{telemetry, terminal};
use clap::{Parser, Subcommand};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

#[derive(Debug, Parser)]
#[command(
    name = "cutover",
    version,
    about = "Drives a team's Zoom JWT → OAuth 2.0 cutover for Celigo integrator.io connections, from Discord or a terminal."
)]
pub struct Cli {
    /// A TOML file layered over the defaults (see config/default.toml)
    #[arg(long, global = true, env = "CUTOVER_CONFIG", value_name = "FILE")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the bot: HTTP server, and the terminal adapter on stdin/stdout (the default)
    Run {
        /// Serve HTTP only, without the terminal adapter
        #[arg(long)]
        no_terminal: bool,
    },
    /// Check the configuration and print the effective settings, secrets redacted
    CheckConfig,
    /// The inventory of Zoom connections
    #[command(subcommand)]
    Connections(ConnectionsCommand),
    /// Discord slash commands
    #[command(subcommand)]
    Commands(CommandsCommand),
    /// Print a fresh sealing key (base64 of 32 random bytes) for security.sealing_key
    Keygen,
    /// Write a consistent copy of the database to FILE; safe while the bot runs
    Backup {
        /// Where the copy goes (a new file; nothing is overwritten)
        file: PathBuf,
    },
    /// Re-seal every stored secret under security.sealing_key, opening them with
    /// security.previous_sealing_key (the key used until now); all or nothing
    Rekey,
}

#[derive(Debug, Subcommand)]
enum CommandsCommand {
    /// Register the slash commands with Discord (needs discord.token)
    Register {
        /// Register in this guild only (instant); default: discord.guild_id, else globally
        #[arg(long, value_name = "ID")]
        guild: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
enum ConnectionsCommand {
    /// Import connections from a .csv or .json file: all rows or none
    Import {
        /// Columns/keys: id,name,integration,owner,auth_type
        file: PathBuf,
    },
    /// Read the Zoom connections from integrator.io (needs celigo.api_token)
    Sync,
    /// List connections not yet on OAuth 2.0
    List {
        /// List every connection, migrated ones too
        #[arg(long)]
        all: bool,
        /// Print a JSON array instead of a table
        #[arg(long)]
        json: bool,
    },
}

/// Runs the parsed command line; the exit code says whether it worked.
pub async fn run(cli: Cli) -> ExitCode {
    let command = cli.command.unwrap_or(Command::Run { no_terminal: false });
    telemetry::init(matches!(command, Command::Run { .. }));
    if let Command::Keygen = command {
        // Needs no configuration: it is how the configuration gets its key.
        eprintln!(
            "Set this as CUTOVER__SECURITY__SEALING_KEY (or put it in the file named by security.sealing_key_file). \
             Keep it secret and keep it safe: without it, stored secrets cannot be opened."
        );
        return match emit(&format!("{}\n", Sealer::generate_key())) {
            Ok(()) => ExitCode::SUCCESS,
            Err(_) => ExitCode::FAILURE,
        };
    }
    let settings = match Settings::load(cli.config.as_deref()) {
        Ok(settings) => settings,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::FAILURE;
        }
    };
    let result = match command {
        Command::Run { no_terminal } => run_bot(settings, !no_terminal).await,
        Command::CheckConfig => {
            for warning in settings.warnings() {
                eprintln!("warning: {warning}");
            }
            settings.to_redacted_toml().map_err(anyhow::Error::from).and_then(|shown| {
                emit(&format!(
                    "# The configuration is valid. Effective settings (secrets redacted):\n\n{shown}"
                ))
            })
        }
        Command::Connections(ConnectionsCommand::Import { file }) => import(&settings, &file).await,
        Command::Connections(ConnectionsCommand::List { all, json }) => {
            list(&settings, all, json).await
        }
        Command::Connections(ConnectionsCommand::Sync) => sync(&settings).await,
        Command::Commands(CommandsCommand::Register { guild }) => {
            register_commands(&settings, guild.as_deref()).await
        }
        Command::Keygen => Ok(()),
        Command::Backup { file } => backup(&settings, &file).await,
        Command::Rekey => rekey(&settings).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {}", explain(&error));
            ExitCode::FAILURE
        }
    }
}

async fn run_bot(settings: Settings, with_terminal: bool) -> anyhow::Result<()> {
    for warning in settings.warnings() {
        tracing::warn!("{warning}");
    }
    let clock: SharedClock = Arc::new(SystemClock);
    let app = Application::build(&settings, Arc::clone(&clock)).await?;
    let adapter = Adapter::choose(&settings, &app, Arc::clone(&clock), with_terminal);
    let adapter_needs_stopping = adapter.needs_stopping();
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let mut server = tokio::spawn(app.run_until_stopped(async move {
        let mut stopped = stopped;
        // Either a stop is sent or every sender is gone: both mean stop.
        let _ = stopped.wait_for(|stop| *stop).await;
    }));
    let (adapter_stop, adapter_stopped) = tokio::sync::oneshot::channel::<()>();
    let adapter = adapter.run(async {
        let _ = adapter_stopped.await;
    });
    tokio::pin!(adapter);
    let mut signalled = false;
    let reason = tokio::select! {
        reason = &mut adapter => reason,
        () = shutdown_signal() => {
            signalled = true;
            "a stop signal arrived".to_owned()
        }
        result = &mut server => {
            return match result {
                Ok(Ok(())) => Ok(()),
                Ok(Err(error)) => Err(error),
                Err(join) => Err(anyhow::anyhow!("the HTTP server stopped unexpectedly: {join}")),
            };
        }
    };
    tracing::info!("stopping: {reason}");
    if signalled && adapter_needs_stopping {
        let _ = adapter_stop.send(());
        let closed = adapter.await;
        tracing::info!("{closed}");
    }
    let _ = stop.send(true);
    server
        .await
        .map_err(|join| anyhow::anyhow!("the HTTP server stopped unexpectedly: {join}"))??;
    tracing::info!("stopped cleanly");
    Ok(())
}

/// Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}

async fn register_commands(settings: &Settings, guild: Option<&str>) -> anyhow::Result<()> {
    let Some(token) = &settings.discord.token else {
        anyhow::bail!("discord.token is not set: set CUTOVER__DISCORD__TOKEN (or discord.token_file) to the bot token");
    };
    let guild = match guild {
        Some(raw) => Some(Snowflake::parse(raw).map_err(|e| anyhow::anyhow!("--guild: {e}"))?),
        None => settings.discord.guild_id,
    };
    let http = discord::rest_client(&settings.discord.api_base_url, Some(token));
    let application = match settings.discord.application_id {
        Some(id) => serenity::all::ApplicationId::new(id.get()),
        None => http
            .get_current_application_info()
            .await
            .map_err(|e| anyhow::anyhow!("could not ask Discord for the application id (set discord.application_id): {e}"))?
            .id,
    };
    http.set_application_id(application);
    let count = registration::register(&http, guild.map(Snowflake::get))
        .await
        .map_err(|e| anyhow::anyhow!("Discord refused the commands: {e}"))?;
    let place = guild.map_or_else(
        || "globally (may take up to an hour to appear)".to_owned(),
        |g| format!("in guild {g}"),
    );
    emit(&format!(
        "Registered {} {place}.\n",
        crate::words::counted(count, "slash command", "slash commands")
    ))
}

async fn backup(settings: &Settings, file: &Path) -> anyhow::Result<()> {
    let store = Store::open(&settings.database.url).await?;
    store.backup_to(file).await?;
    store.close().await;
    let size = std::fs::metadata(file).map(|m| m.len()).unwrap_or(0);
    emit(&format!(
        "Backed up the database to {} ({size} bytes), checked whole.\n\
         To restore: stop cutover, copy it over the database file ({}), delete the -wal and -shm \
         files beside that if present, and start cutover with the same sealing key.\n",
        file.display(),
        settings.database.url
    ))
}

async fn rekey(settings: &Settings) -> anyhow::Result<()> {
    let (Some(new), Some(previous)) = (
        &settings.security.sealing_key,
        &settings.security.previous_sealing_key,
    ) else {
        anyhow::bail!(
            "cutover rekey needs two keys: the new one in CUTOVER__SECURITY__SEALING_KEY (make one with \
             `cutover keygen`) and the one the secrets are sealed under now in CUTOVER__SECURITY__PREVIOUS_SEALING_KEY \
             (or the *_file settings). Nothing was changed"
        );
    };
    let store = Store::open(&settings.database.url).await?;
    let result = crate::switch::rekey(&store, new, previous, SystemClock.now()).await;
    store.close().await;
    let summary = result?;
    emit(&format!(
        "Re-sealed {} under the new sealing key ({} already under it); {} of the campaign page ended.\n\
         Now run cutover with CUTOVER__SECURITY__SEALING_KEY alone: remove CUTOVER__SECURITY__PREVIOUS_SEALING_KEY \
         and restart any cutover still running with the old key.\n",
        crate::words::counted(summary.resealed, "stored secret", "stored secrets"),
        summary.kept,
        crate::words::counted(summary.signed_out, "session", "sessions"),
    ))
}

async fn import(settings: &Settings, file: &Path) -> anyhow::Result<()> {
    let records = match inventory::read_file(file) {
        Ok(records) => records,
        Err(InventoryError::Rows(errors)) => {
            const SHOWN: usize = 100;
            let mut text = format!(
                "{} in {}; nothing was imported:",
                inventory::problems(errors.len()),
                file.display()
            );
            for error in errors.iter().take(SHOWN) {
                text.push_str(&format!("\n  {error}"));
            }
            if errors.len() > SHOWN {
                text.push_str(&format!("\n  … and {} more", errors.len() - SHOWN));
            }
            anyhow::bail!(text);
        }
        Err(other) => return Err(other.into()),
    };
    let store = Store::open(&settings.database.url).await?;
    let what = format!("import of {}", file.display());
    let summary = store
        .upsert_connections(
            &records,
            ConnectionSource::Import,
            Actor::CommandLine,
            SystemClock.now(),
            &what,
        )
        .await?;
    store.close().await;
    let mut report = format!(
        "Imported {} from {}: {} new, {} updated, {} unchanged.\n",
        crate::words::counted(records.len(), "connection", "connections"),
        file.display(),
        summary.inserted,
        summary.updated,
        summary.unchanged
    );
    if summary.kept_migrated > 0 {
        report.push_str(&format!(
            "{} jwt for a connection already switched to OAuth 2.0; it stays migrated.\n",
            crate::words::counted(summary.kept_migrated, "row said", "rows said")
        ));
    }
    emit(&report)
}

async fn sync(settings: &Settings) -> anyhow::Result<()> {
    let health = Arc::new(Health::new(false));
    let Some(client) = integrator_io::client(settings, health, Arc::default())? else {
        anyhow::bail!(
            "celigo.api_token is not set: set CUTOVER__CELIGO__API_TOKEN (or celigo.api_token_file) to a Full access \
             token from integrator.io (Resources › API tokens)"
        );
    };
    let store = Store::open(&settings.database.url).await?;
    // Progress only where someone watches it: a pipe or a log gets the summary alone.
    let on_terminal = std::io::stderr().is_terminal();
    let progress = move |p: SyncProgress| {
        if on_terminal {
            let line = match p {
                SyncProgress::Integrations(n) => {
                    format!("Reading integrations from integrator.io… {n}")
                }
                SyncProgress::Connections(n) => {
                    format!("Reading connections from integrator.io… {n}")
                }
            };
            eprint!("\r\x1b[2K{line}");
        }
    };
    let result = crate::inventory::sync(
        &client,
        &store,
        Actor::CommandLine,
        || SystemClock.now(),
        &progress,
    )
    .await;
    if on_terminal {
        eprint!("\r\x1b[2K");
    }
    store.close().await;
    match result {
        Ok(report) => emit(&format!("{}\n", report.describe())),
        Err(SyncError::Store(e)) => Err(e.into()),
        Err(e) => anyhow::bail!("the sync did not run, and nothing was changed: {e}"),
    }
}

async fn list(settings: &Settings, all: bool, json: bool) -> anyhow::Result<()> {
    let store = Store::open(&settings.database.url).await?;
    let show = if all {
        ShowFilter::All
    } else {
        ShowFilter::Unmigrated
    };
    let page = store
        .list_connections(&ConnectionQuery {
            show,
            owner: None,
            offset: 0,
            limit: u64::MAX,
        })
        .await?;
    store.close().await;
    if json {
        return emit(&format!(
            "{}\n",
            serde_json::to_string_pretty(&page.connections)?
        ));
    }
    let rows: Vec<[String; 6]> = page
        .connections
        .iter()
        .map(|c| {
            [
                c.id.to_string(),
                c.name.to_string(),
                c.integration.to_string(),
                c.owner.map(|o| o.to_string()).unwrap_or_else(|| "-".into()),
                c.auth_type.as_str().to_owned(),
                c.state.as_str().to_owned(),
            ]
        })
        .collect();
    let mut text = table(
        ["ID", "NAME", "INTEGRATION", "OWNER", "AUTH", "STATE"],
        &rows,
    );
    let counted = crate::words::counted(page.total, "connection", "connections");
    if all {
        text.push_str(&format!("{counted}\n"));
    } else {
        text.push_str(&format!("{counted} not yet on OAuth 2.0\n"));
    }
    emit(&text)
}

/// An error and its causes, each said once: many errors already quote their cause
/// (sqlx's does, and so do ours), which would otherwise print two or three times over.
fn explain(error: &anyhow::Error) -> String {
    let mut text = error.to_string();
    for cause in error.chain().skip(1) {
        let cause = cause.to_string();
        if !text.contains(&cause) {
            text.push_str(": ");
            text.push_str(&cause);
        }
    }
    text
}

/// Writes command output to stdout. A reader that went away (`| head`) is not an error.
fn emit(text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
        _ => Ok(()),
    }
}

fn table<const N: usize>(header: [&str; N], rows: &[[String; N]]) -> String {
    let mut widths = header.map(|h| h.chars().count());
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let mut line = |cells: Vec<&str>| {
        let cells: Vec<String> = cells.iter().map(|c| terminal::neutralize(c)).collect();
        let padded: Vec<String> = cells
            .iter()
            .zip(widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        out.push_str(padded.join("  ").trim_end());
        out.push('\n');
    };
    line(header.to_vec());
    for row in rows {
        line(row.iter().map(String::as_str).collect());
    }
    out
}
