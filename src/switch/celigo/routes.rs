//! The `celigo` switch's two routes: the personal link (`GET /oauth/celigo/start`), which
//! checks the link and sends the browser on to a freshly fetched integrator.io
//! authorization address; and, with `celigo.return_to_cutover`, the page integrator.io
//! sends the browser back to (`GET /oauth/celigo/return/{connection}`), which checks at once.

use super::watch::Checked;
use super::Celigo;
use crate::domain::{Backend, ConnectionId, ConnectionState};
use crate::store::NotConsumed;
use crate::switch::{hash_state, Outcome, CELIGO_START_PATH};
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde::Deserialize;
use std::sync::Arc;
use std::time::Duration;

pub const RETURN_PREFIX: &str = "/oauth/celigo/return";
/// How long the return page waits for the check it started before saying it goes on.
const RETURN_WAIT: Duration = Duration::from_secs(8);

#[derive(Deserialize, Default)]
struct StartParams {
    state: Option<String>,
}

/// The start route always; the return page only when `celigo.return_to_cutover` sends
/// browsers there.
pub fn router(celigo: Arc<Celigo>) -> Router {
    let mut router = Router::new().route(CELIGO_START_PATH, get(start));
    if celigo.return_base.is_some() {
        router = router.route(&format!("{RETURN_PREFIX}/{{connection}}"), get(back));
    }
    router.with_state(celigo)
}

/// A 303 to integrator.io's address; like every page here, never cached or referred on.
fn redirect(to: &str) -> Response {
    let Ok(location) = HeaderValue::from_str(to) else {
        return Outcome::Internal.page().into_response();
    };
    let mut response = StatusCode::SEE_OTHER.into_response();
    let headers = response.headers_mut();
    headers.insert(header::LOCATION, location);
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    response
}

// The query holds the state: it is never logged.
#[tracing::instrument(skip_all)]
async fn start(
    State(celigo): State<Arc<Celigo>>,
    query: Result<Query<StartParams>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let params = query.map(|Query(p)| p).unwrap_or_default();
    let Some(state) = params.state.filter(|s| !s.is_empty() && s.len() <= 256) else {
        return Outcome::UnknownLink.page().into_response();
    };
    let taken = celigo
        .store
        .consume_attempt(
            &hash_state(&state),
            Backend::Celigo,
            celigo.clock.now(),
            Some(super::WATCH_GRACE),
        )
        .await;
    let attempt = match taken {
        Ok(Ok(attempt)) => attempt,
        Ok(Err(NotConsumed::Unknown)) => return Outcome::UnknownLink.page().into_response(),
        Ok(Err(NotConsumed::AlreadyUsed)) => return Outcome::UsedLink.page().into_response(),
        Ok(Err(NotConsumed::Replaced)) => return Outcome::ReplacedLink.page().into_response(),
        Ok(Err(NotConsumed::Reassigned { connection, owner })) => {
            let outcome = Outcome::ReassignedLink {
                connection: connection.to_string(),
                owner,
            };
            return outcome.page().into_response();
        }
        Ok(Err(NotConsumed::Expired(attempt))) => {
            celigo.switch.tell_later(*attempt, Outcome::ExpiredLink);
            return Outcome::ExpiredLink.page().into_response();
        }
        Err(e) => {
            tracing::error!(error = %e, "could not read a migration attempt");
            return Outcome::Internal.page().into_response();
        }
    };
    // The rest runs to its end even if the browser goes away, so a taken link is always
    // either watched or given back.
    let work = tokio::spawn(async move {
        match celigo.authorization_url(&attempt.connection).await {
            Ok(url) => {
                tracing::info!(connection = %attempt.connection, "a celigo link was opened; watching the connection");
                celigo.start_watch(attempt);
                redirect(&url)
            }
            Err(why) => {
                tracing::warn!(connection = %attempt.connection, why, "no authorization address from integrator.io");
                if let Err(e) = celigo.store.release_opened_attempt(&attempt).await {
                    tracing::error!(error = %e, "could not give a link back");
                }
                Outcome::CeligoUnavailable(why).page().into_response()
            }
        }
    });
    work.await
        .unwrap_or_else(|_| Outcome::Internal.page().into_response())
}

/// integrator.io sent the browser back: check now, and say how it stands.
async fn back(State(celigo): State<Arc<Celigo>>, Path(raw): Path<String>) -> Response {
    let Ok(id) = ConnectionId::parse(&raw) else {
        return Outcome::UnknownLink.page().into_response();
    };
    if let Checked::Watched(outcome) = celigo.check_now(&id, RETURN_WAIT).await {
        return outcome
            .unwrap_or(Outcome::StillChecking)
            .page()
            .into_response();
    }
    let outcome = match celigo.store.get_connection(&id).await {
        Ok(Some(c)) if c.state == ConnectionState::Migrated => {
            match celigo.store.progress().await {
                Ok(p) => Outcome::Switched {
                    connection: id.to_string(),
                    left: p.total.saturating_sub(p.migrated),
                    backend: Backend::Celigo,
                },
                Err(_) => Outcome::Internal,
            }
        }
        Ok(_) => Outcome::NotWatched,
        Err(_) => Outcome::Internal,
    };
    outcome.page().into_response()
}
