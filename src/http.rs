//! The HTTP server's routes. Each capability adds its own router here.

use crate::integrator_io::{Health, SyncState};
use crate::metrics::Metrics;
use crate::reminders::Reminders;
use crate::store::Store;
use crate::switch::Switch;
use axum::extract::State;
use axum::http::header;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use chrono::TimeDelta;
use serde_json::json;
use std::sync::Arc;

#[derive(Clone)]
pub struct HttpState {
    pub store: Store,
    pub switch: Arc<Switch>,
    /// integrator.io, when a token is set.
    pub celigo: Option<Arc<Health>>,
    pub reminders: Arc<Reminders>,
    pub metrics: Arc<Metrics>,
}

/// The schedulers run a round a minute; three missed rounds mean one is stuck (or, with
/// no round yet, never got going).
const MAX_SCHEDULER_LAG: TimeDelta = TimeDelta::minutes(3);

pub fn router(state: HttpState) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .with_state(state)
}

/// Prometheus' scrape: OpenMetrics text, the gauges read now.
async fn metrics(State(state): State<HttpState>) -> Response {
    let connections = match state.store.connection_states().await {
        Ok(counts) => counts,
        Err(error) => {
            tracing::warn!(error = %error, "could not count connections for /metrics");
            return (
                StatusCode::SERVICE_UNAVAILABLE,
                "the database is not answering; see /readyz\n",
            )
                .into_response();
        }
    };
    let lag = state
        .reminders
        .heartbeat()
        .pulse(MAX_SCHEDULER_LAG)
        .lag_seconds();
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.metrics.render(&connections, lag),
    )
        .into_response()
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
    let scheduler = state.switch.heartbeat().pulse(MAX_SCHEDULER_LAG);
    // Reminders round at least once a minute too: stuck, they would go silent.
    let reminders = state.reminders.heartbeat().pulse(MAX_SCHEDULER_LAG);
    let status = if database && !scheduler.is_stalled() && !reminders.is_stalled() {
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
        "scheduler": scheduler.name(),
        "scheduler_lag_seconds": scheduler.lag_seconds(),
        "reminders": reminders.name(),
        "reminders_lag_seconds": reminders.lag_seconds(),
        "celigo": celigo,
        "sync": sync,
        "sync_lag_seconds": sync_lag,
    });
    (status, Json(body))
}
