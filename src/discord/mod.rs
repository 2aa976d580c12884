//! Discord: two thin adapters over the chat core — the gateway (a bot token) and the
//! HTTP interactions endpoint (a public key) — sharing the conversion of interactions
//! into requests and of replies into interaction responses.

mod answer;
mod convert;
pub mod endpoint;
pub mod gateway;
pub mod registration;
mod replay;
mod respond;

pub use convert::{from_elsewhere, to_request, AdminPolicy};
pub use replay::SeenInteractions;
pub use respond::to_response;

use crate::settings::HttpUrl;
use secrecy::{ExposeSecret, SecretString};
use serenity::http::{Http, HttpBuilder};

const DISCORD: &str = "https://discord.com";

/// A REST client for `api_base_url`. Anywhere but discord.com it goes through serenity's
/// proxy setting, whose rate limiter must then be off (it would ignore the proxy).
pub fn rest_client(api_base_url: &HttpUrl, token: Option<&SecretString>) -> Http {
    let token = token
        .map(|t| t.expose_secret().to_owned())
        .unwrap_or_default();
    let builder = HttpBuilder::new(token);
    if api_base_url.as_str() == DISCORD {
        builder.build()
    } else {
        builder
            .proxy(api_base_url.as_str())
            .ratelimiter_disabled(true)
            .build()
    }
}
