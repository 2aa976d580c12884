//! The HTTP server's routes. Each capability adds its own router here.

use crate::celigo::{Health, SyncState};
use crate::reminders::Reminders;
use crate::store::Store;
use crate::switch::Switch;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;
use std::sync::Arc;

#[derive(Clone)]
pub struct HttpState {
    pub store: Store,
    pub switch: Arc<Switch>,
    /// integrator.io, when a token is set.
    pub celigo: Option<Arc<Health>>,
    pub reminders: Arc<Reminders>,
}

/// The scheduler runs a round a minute; three missed rounds mean it is stuck.
const MAX_SCHEDULER_LAG_SECONDS: i64 = 180;

pub fn router(state: HttpState) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .with_state(state)
}

/// Liveness: the process serves requests.
async fn healthz() -> &'static str {
    "ok\n"
}

/// Readiness: the database answers with every migration applied, and the scheduler
/// (token refresh) has run within the last few minutes. integrator.io's state is reported
/// but does not make cutover unready: chat and the direct switch work without it.
async fn readyz(State(state): State<HttpState>) -> impl IntoResponse {
    let database = match state.store.readiness().await {
        Ok(()) => true,
        Err(error) => {
            tracing::warn!(error = %error, "the database is not ready");
            false
        }
    };
    let lag = state.switch.scheduler_lag().map(|lag| lag.num_seconds());
    let scheduler = lag.is_none_or(|seconds| seconds <= MAX_SCHEDULER_LAG_SECONDS);
    // Reminders round at least once a minute too: stuck, they would go silent.
    let reminder_lag = state.reminders.lag().map(|lag| lag.num_seconds());
    let reminders = reminder_lag.is_none_or(|seconds| seconds <= MAX_SCHEDULER_LAG_SECONDS);
    let status = if database && scheduler && reminders {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let now = state.switch.clock().now();
    let (celigo, sync, sync_lag) = match &state.celigo {
        None => ("not configured", "off", None),
        Some(health) => (
            health.token().describe(),
            match health.sync() {
                SyncState::Off => "off",
                SyncState::Starting => "starting",
                SyncState::Ran { ok: true, .. } => "ok",
                SyncState::Ran { ok: false, .. } => "failing",
            },
            health.sync_lag(now).map(|lag| lag.num_seconds()),
        ),
    };
    let body = json!({
        "status": if status == StatusCode::OK { "ready" } else { "not ready" },
        "database": if database { "ok" } else { "unavailable" },
        "scheduler": match lag {
            None => "starting",
            Some(_) if scheduler => "ok",
            Some(_) => "stalled",
        },
        "scheduler_lag_seconds": lag,
        "reminders": match reminder_lag {
            None => "starting",
            Some(_) if reminders => "ok",
            Some(_) => "stalled",
        },
        "reminders_lag_seconds": reminder_lag,
        "celigo": celigo,
        "sync": sync,
        "sync_lag_seconds": sync_lag,
    });
    (status, Json(body))
}
