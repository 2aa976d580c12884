//! Logging: to stderr (stdout belongs to replies and command output), filtered by
//! RUST_LOG. Secrets never reach a log field: they live in redacting types.

use std::io::IsTerminal;
use tracing_subscriber::EnvFilter;

pub fn init(running_the_bot: bool) {
    let default = if running_the_bot {
        "info,sqlx=warn"
    } else {
        "warn"
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    // A second init (tests start several apps in one process) keeps the first subscriber.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .try_init();
}

/// A Discord error for a log line, without the request's address: an interaction's
/// address holds its token, which is a secret.
pub fn discord_error(error: &serenity::Error) -> String {
    use serenity::http::HttpError;
    match error {
        serenity::Error::Http(HttpError::UnsuccessfulRequest(response)) => format!(
            "Discord answered {} ({})",
            response.status_code.as_u16(),
            response.error.message
        ),
        serenity::Error::Http(HttpError::Request(e)) if e.is_timeout() => {
            "the request to Discord timed out".to_owned()
        }
        serenity::Error::Http(HttpError::Request(e)) if e.is_connect() => {
            "Discord could not be reached".to_owned()
        }
        serenity::Error::Http(_) => "the request to Discord failed".to_owned(),
        other => other.to_string(),
    }
}
