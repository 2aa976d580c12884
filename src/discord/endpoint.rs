//! `POST /discord/interactions`: Discord's HTTP interactions endpoint. The signature is
//! checked over the raw bytes before anything is parsed; the response goes back in the
//! HTTP reply, deferred and finished later if the core takes too long (see `answer`).

use super::answer::{first_response, send_aside};
use super::replay::{repeat_answer, SeenInteractions};
use super::{from_elsewhere, to_request, to_response, AdminPolicy};
use crate::chat::ChatCore;
use crate::clock::SharedClock;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::json;
use serenity::all::{CreateInteractionResponse, Http, Interaction};
use std::sync::Arc;

/// Most answers (a message with an embed and buttons) fit in this many bytes.
const RESPONSE_CAPACITY: usize = 2 * 1024;
/// How far the signed timestamp may be from our clock.
const MAX_SKEW_SECONDS: i64 = 5 * 60;

#[derive(Clone)]
pub struct EndpointState {
    /// Discord's public key (checked not to be weak when the configuration was read).
    pub key: ed25519_dalek::VerifyingKey,
    pub core: Arc<ChatCore>,
    pub policy: AdminPolicy,
    pub clock: SharedClock,
    /// For finishing deferred responses (interaction webhooks need no bot token).
    pub rest: Arc<Http>,
    /// Interactions already answered (shared with the gateway).
    pub seen: Arc<SeenInteractions>,
}

pub fn router(state: EndpointState) -> Router {
    Router::new()
        .route("/discord/interactions", post(interactions))
        // Shared, not cloned per request (the policy's role list would be copied each time).
        .with_state(Arc::new(state))
}

fn error(status: StatusCode, message: &str) -> Response {
    (status, Json(json!({ "error": message }))).into_response()
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// Whether `signature` (hex) is the key's Ed25519 signature of `timestamp` + `body`,
/// checked strictly (no small-order or non-canonical parts that could forge it).
fn signed_by(
    key: &ed25519_dalek::VerifyingKey,
    signature: &str,
    timestamp: &str,
    body: &[u8],
) -> bool {
    let mut bytes = [0u8; 64];
    if hex::decode_to_slice(signature.trim(), &mut bytes).is_err() {
        return false;
    }
    let signature = ed25519_dalek::Signature::from_bytes(&bytes);
    let mut message = Vec::with_capacity(timestamp.len() + body.len());
    message.extend_from_slice(timestamp.as_bytes());
    message.extend_from_slice(body);
    key.verify_strict(&message, &signature).is_ok()
}

/// The interaction of that `kind` (its `type`). serenity's own `Interaction` reads the
/// body into a map of values and then the kind's type from that; going straight to the
/// kind's type skips the map (a tenth of the endpoint's work for a command).
fn parse(kind: u8, body: &[u8]) -> serde_json::Result<Interaction> {
    Ok(match kind {
        2 => Interaction::Command(serde_json::from_slice(body)?),
        3 => Interaction::Component(serde_json::from_slice(body)?),
        4 => Interaction::Autocomplete(serde_json::from_slice(body)?),
        5 => Interaction::Modal(serde_json::from_slice(body)?),
        _ => serde_json::from_slice(body)?,
    })
}

#[tracing::instrument(skip_all)]
async fn interactions(
    State(state): State<Arc<EndpointState>>,
    headers: HeaderMap,
    // Read whole by the server, which caps every body at what an interaction needs.
    body: Bytes,
) -> Response {
    let (Some(signature), Some(timestamp)) = (
        header(&headers, "x-signature-ed25519"),
        header(&headers, "x-signature-timestamp"),
    ) else {
        return error(StatusCode::UNAUTHORIZED, "missing request signature");
    };
    if !signed_by(&state.key, signature, timestamp, &body) {
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
    // Discord's health check, answered before the whole interaction is parsed (serenity
    // reads every interaction into a map first): it must be quick and is sent often. It
    // is not remembered: a repeated PONG does nothing and tells nothing.
    #[derive(serde::Deserialize)]
    struct Kind {
        #[serde(rename = "type")]
        kind: u8,
    }
    let kind = serde_json::from_slice::<Kind>(&body).map_or(0, |k| k.kind);
    if kind == 1 {
        // Exactly `{"type":1}` (serenity's Pong would add `"data": null`).
        return Json(json!({ "type": 1 })).into_response();
    }
    let interaction = match parse(kind, &body) {
        Ok(interaction) => interaction,
        Err(e) => {
            tracing::warn!(error = %e, "a signed body is not an interaction");
            return error(
                StatusCode::BAD_REQUEST,
                "the body is not an interaction cutover understands",
            );
        }
    };
    if state.seen.repeated(&interaction) {
        return json_response(&to_response(repeat_answer(&interaction)));
    }
    if let Some(refusal) = from_elsewhere(&interaction, &state.policy) {
        return json_response(&to_response(refusal));
    }
    let Some(request) = to_request(&interaction, &state.policy) else {
        return error(
            StatusCode::BAD_REQUEST,
            "this kind of interaction is not supported",
        );
    };
    let answered = first_response(
        Arc::clone(&state.core),
        &interaction,
        request,
        Arc::clone(&state.rest),
    )
    .await;
    if let Some(aside) = answered.aside {
        // After the response, which goes back in this HTTP reply.
        let rest = Arc::clone(&state.rest);
        tokio::spawn(async move { send_aside(&rest, aside).await });
    }
    json_response(&answered.response)
}

/// The response as JSON, written into a buffer sized for a typical answer at once (axum's
/// `Json` starts at 128 bytes and grows it several times for a message).
fn json_response(response: &CreateInteractionResponse) -> Response {
    let mut body = Vec::with_capacity(RESPONSE_CAPACITY);
    match serde_json::to_writer(&mut body, response) {
        Ok(()) => ([(header::CONTENT_TYPE, "application/json")], body).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "an interaction response could not be written");
            error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "cutover could not write its answer",
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::Signer;

    #[test]
    fn only_the_keys_own_signature_of_that_timestamp_and_body_passes() {
        let signing = ed25519_dalek::SigningKey::from_bytes(&[7u8; 32]);
        let key = signing.verifying_key();
        let good = hex::encode(signing.sign(b"1700000000{}").to_bytes());
        assert!(signed_by(&key, &good, "1700000000", b"{}"));
        assert!(
            !signed_by(&key, &good, "1700000001", b"{}"),
            "another timestamp"
        );
        assert!(
            !signed_by(&key, &good, "1700000000", b"{ }"),
            "another body"
        );
        assert!(!signed_by(&key, "zz", "1700000000", b"{}"));
        assert!(!signed_by(&key, &good[..60], "1700000000", b"{}"));
        // The forgery a weak key would let through: R the identity, s zero.
        let weak = ed25519_dalek::VerifyingKey::from_bytes(&{
            let mut b = [0u8; 32];
            b[0] = 1;
            b
        })
        .expect("a point");
        let forged = format!("01{}", "00".repeat(63));
        assert!(!signed_by(&weak, &forged, "1700000000", b"{}"));
    }
}
