//! `GET /status/events`: Server-Sent Events, one `change` each time the database
//! changes (a switch, a sync, an import by another process), so the open page fetches
//! itself again. A session that ended meanwhile gets `signed-out` and the stream ends.

use super::Campaign;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::stream;
use std::convert::Infallible;
use std::sync::Arc;

pub(super) async fn stream(State(campaign): State<Arc<Campaign>>, headers: HeaderMap) -> Response {
    if let Err(refused) = campaign.viewer(&headers).await {
        return refused;
    }
    let changes = campaign.store.changes();
    let events = stream::unfold(
        (changes, headers, campaign, false),
        |(mut changes, headers, campaign, ended)| async move {
            if ended || changes.changed().await.is_err() {
                return None;
            }
            let event = match campaign.viewer(&headers).await {
                Ok(_) => (
                    Event::default()
                        .event("change")
                        .data(changes.borrow_and_update().to_string()),
                    false,
                ),
                Err(_) => (
                    Event::default()
                        .event("signed-out")
                        .data("run /status for a new link"),
                    true,
                ),
            };
            Some((
                Ok::<_, Infallible>(event.0),
                (changes, headers, campaign, event.1),
            ))
        },
    );
    Sse::new(events)
        .keep_alive(KeepAlive::default())
        .into_response()
}
