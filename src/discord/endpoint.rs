//! `POST /discord/interactions`: Discord's HTTP interactions endpoint. The signature is
//! checked over the raw bytes before anything is parsed; the response goes back in the
//! HTTP reply, deferred (and finished by an edit) if the core takes too long.

use super::respond::to_edit;
use super::{to_request, to_response, AdminPolicy};
use crate::chat::{ChatCore, Reply};
use crate::clock::SharedClock;
use axum::body::{to_bytes, Body};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::json;
use serenity::all::{
    CreateInteractionResponse, CreateInteractionResponseMessage, Http, Interaction,
};
use serenity::interactions_endpoint::Verifier;
use std::sync::Arc;
use std::time::Duration;

/// Discord's interactions are small; anything bigger is not from Discord.
pub const MAX_BODY_BYTES: usize = 64 * 1024;
/// How far the signed timestamp may be from our clock.
const MAX_SKEW_SECONDS: i64 = 5 * 60;
/// Discord waits 3 s for the first response; past this we defer and edit later.
const ANSWER_WITHIN: Duration = Duration::from_millis(2_500);

#[derive(Clone)]
pub struct EndpointState {
    pub verifier: Arc<Verifier>,
    pub core: Arc<ChatCore>,
    pub policy: AdminPolicy,
    pub clock: SharedClock,
    /// For finishing deferred responses (interaction webhooks need no bot token).
    pub rest: Arc<Http>,
}

pub fn router(state: EndpointState) -> Router {
    Router::new()
        .route("/discord/interactions", post(interactions))
        .with_state(state)
}

fn error(status: StatusCode, message: &str) -> Response {
    (status, Json(json!({ "error": message }))).into_response()
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

#[tracing::instrument(skip_all)]
async fn interactions(
    State(state): State<EndpointState>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let Ok(body) = to_bytes(body, MAX_BODY_BYTES).await else {
        return error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "the request body is larger than an interaction can be",
        );
    };
    let (Some(signature), Some(timestamp)) = (
        header(&headers, "x-signature-ed25519"),
        header(&headers, "x-signature-timestamp"),
    ) else {
        return error(StatusCode::UNAUTHORIZED, "missing request signature");
    };
    if state.verifier.verify(signature, timestamp, &body).is_err() {
        return error(StatusCode::UNAUTHORIZED, "invalid request signature");
    }
    let fresh = timestamp
        .parse::<i64>()
        .is_ok_and(|t| (state.clock.now().timestamp() - t).abs() <= MAX_SKEW_SECONDS);
    if !fresh {
        return error(
            StatusCode::UNAUTHORIZED,
            "the request timestamp is too far from now",
        );
    }
    let interaction: Interaction = match serde_json::from_slice(&body) {
        Ok(interaction) => interaction,
        Err(e) => {
            tracing::warn!(error = %e, "a signed body is not an interaction");
            return error(
                StatusCode::BAD_REQUEST,
                "the body is not an interaction cutover understands",
            );
        }
    };
    if matches!(interaction, Interaction::Ping(_)) {
        // Exactly `{"type":1}` (serenity's Pong would add `"data": null`).
        return Json(json!({ "type": 1 })).into_response();
    }
    let Some(request) = to_request(&interaction, &state.policy) else {
        return error(
            StatusCode::BAD_REQUEST,
            "this kind of interaction is not supported",
        );
    };
    let is_component = matches!(interaction, Interaction::Component(_));
    let core = Arc::clone(&state.core);
    let mut work = tokio::spawn(async move { core.handle(request).await });
    match tokio::time::timeout(ANSWER_WITHIN, &mut work).await {
        Ok(Ok(reply)) => Json(to_response(reply)).into_response(),
        Ok(Err(join)) => {
            tracing::error!(error = %join, "answering an interaction failed");
            Json(to_response(Reply::Message(crate::chat::Message::private(
                "Something went wrong on cutover's side, and nothing was changed. Try again in a moment.",
            ))))
            .into_response()
        }
        Err(_) => {
            // Finish in the background by editing the deferred response.
            let token = interaction.token().to_owned();
            if let Some(id) = interaction_application(&interaction) {
                state.rest.set_application_id(id);
            }
            let rest = Arc::clone(&state.rest);
            tokio::spawn(async move {
                let Ok(reply) = work.await else { return };
                if let Err(e) = rest
                    .edit_original_interaction_response(&token, &to_edit(reply), vec![])
                    .await
                {
                    tracing::warn!(error = %e, "could not finish a deferred interaction");
                }
            });
            let deferred = if is_component {
                CreateInteractionResponse::Acknowledge
            } else {
                // Private, since the answer's visibility is not known yet.
                CreateInteractionResponse::Defer(
                    CreateInteractionResponseMessage::new().ephemeral(true),
                )
            };
            Json(deferred).into_response()
        }
    }
}

fn interaction_application(interaction: &Interaction) -> Option<serenity::all::ApplicationId> {
    match interaction {
        Interaction::Command(c) | Interaction::Autocomplete(c) => Some(c.application_id),
        Interaction::Component(c) => Some(c.application_id),
        Interaction::Modal(m) => Some(m.application_id),
        _ => None,
    }
}
