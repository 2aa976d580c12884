//! The campaign page: the whole cutover at a glance in a browser, read-only, for the
//! people who steer it. A room of its own over the same reads as the chat (the store,
//! the reminders, the switch's backends); its templates (`pages`) hold no SQL and no
//! rules. Signed in by a personal `/status` link ([`crate::sign_in`]); live through
//! Server-Sent Events fed by the store's change feed.

mod assets;
mod csv_export;
mod events;
mod frame;
mod pages;
mod session;
mod table;
mod view;

use crate::clock::SharedClock;
use crate::integrator_io::Health;
use crate::reminders::Reminders;
use crate::sign_in::{SignIns, SIGN_IN_PATH};
use crate::store::Store;
use crate::switch::Backends;
use axum::http::{header, HeaderValue};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use std::sync::Arc;

pub use assets::ASSETS_PATH;

/// What the page reads from, and how its cookie is set.
pub struct Campaign {
    store: Store,
    clock: SharedClock,
    sign_ins: Arc<SignIns>,
    backends: Backends,
    reminders: Arc<Reminders>,
    /// integrator.io's health, when a token is set (the last sync's outcome).
    celigo: Option<Arc<Health>>,
    /// `server.public_base_url` is https: the cookie is `Secure`.
    secure_cookie: bool,
}

impl Campaign {
    pub fn new(
        store: Store,
        clock: SharedClock,
        sign_ins: Arc<SignIns>,
        backends: Backends,
        reminders: Arc<Reminders>,
        celigo: Option<Arc<Health>>,
        secure_cookie: bool,
    ) -> Self {
        Self {
            store,
            clock,
            sign_ins,
            backends,
            reminders,
            celigo,
            secure_cookie,
        }
    }
}

pub fn router(campaign: Arc<Campaign>) -> Router {
    Router::new()
        .route("/status", get(pages::campaign_page))
        .route(SIGN_IN_PATH, get(session::sign_in))
        .route("/status/sign-out", post(session::sign_out))
        .route("/status/connections/{id}", get(pages::connection_page))
        .route("/status/connections.csv", get(csv_export::download))
        .route("/status/events", get(events::stream))
        .route(&format!("{ASSETS_PATH}/{{file}}"), get(assets::serve))
        .with_state(campaign)
        .layer(axum::middleware::map_response(guarded))
}

/// Every answer of the page: no script but our own file, nothing framed, nothing sent on
/// as a referrer (a sign-in link's token is in its URL), and nothing kept by a cache but
/// the versioned assets.
async fn guarded(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; \
             connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
        ),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers
        .entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    response
}
