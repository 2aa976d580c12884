//! integrator.io's API as cutover uses it: the client (paced, retried, its token's
//! health watched), the documents it returns read safely, and its errors said plainly.
//! Used by the inventory's sync and by the `celigo` switch backend. What is known of the
//! API, and what is only inferred, is in CELIGO.md.

mod client;
mod document;
mod error;
mod health;

pub use client::CeligoClient;
pub use document::{is_masked, Document, Scheme};
pub use error::{CeligoError, TOKEN_ADVICE};
pub use health::{Health, SyncState, TokenState};

use crate::metrics::Metrics;
use crate::settings::Settings;
use std::sync::Arc;
use std::time::Duration;

/// Builds the client for `settings`, if a token is set.
pub fn client(
    settings: &Settings,
    health: Arc<Health>,
    metrics: Arc<Metrics>,
) -> anyhow::Result<Option<CeligoClient>> {
    let Some(token) = settings.celigo.api_token.clone() else {
        return Ok(None);
    };
    CeligoClient::new(
        &settings.celigo.api_base_url,
        token,
        Duration::from_secs(settings.celigo.request_timeout.as_seconds()),
        health,
        metrics,
    )
    .map(Some)
}
