//! The HTTP server's routes. Each capability adds its own router here.

use crate::store::Store;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;

#[derive(Clone)]
pub struct HttpState {
    pub store: Store,
}

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

/// Readiness: the database answers with every migration applied.
async fn readyz(State(state): State<HttpState>) -> impl IntoResponse {
    match state.store.readiness().await {
        Ok(()) => (
            StatusCode::OK,
            Json(json!({ "status": "ready", "database": "ok" })),
        ),
        Err(error) => {
            tracing::warn!(error = %error, "not ready");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({ "status": "not ready", "database": "unavailable" })),
            )
        }
    }
}
