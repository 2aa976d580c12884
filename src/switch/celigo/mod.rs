//! The `celigo` switch backend, which makes the switch in integrator.io itself — the way
//! Celigo's own "Edit connection → OAuth 2.0 → iClient → Save & authorize" does —
//! finished by the person's own click; and, for the running bot, the periodic sync of the
//! inventory through the same client. The API itself is in [`crate::integrator_io`].

mod definition;
pub mod links;
mod prepare;
pub mod routes;
mod watch;

pub use prepare::{CeligoLink, PrepareError};
pub use watch::Checked;

use crate::clock::SharedClock;
use crate::domain::Actor;
use crate::integrator_io::{CeligoClient, Health};
use crate::inventory::{sync, SyncError, SyncProgress, SyncReport};
use crate::settings::{HttpUrl, Settings};
use crate::store::Store;
use crate::switch::Switch;
use chrono::TimeDelta;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How long after its link's life a watch goes on: the person may still be on Zoom's
/// consent page when the link expires. With the default 10-minute link that ends 14
/// minutes after the form was sent, inside the 15 minutes Discord lets the private
/// answer be updated.
const WATCH_GRACE: TimeDelta = TimeDelta::minutes(4);

/// integrator.io, for the running bot: the client, the switch backend and the watches.
pub struct Celigo {
    client: CeligoClient,
    switch: Arc<Switch>,
    store: Store,
    clock: SharedClock,
    authorize_url: HttpUrl,
    token_url: HttpUrl,
    /// `server.public_base_url`, when `celigo.return_to_cutover` asks the browser back.
    return_base: Option<HttpUrl>,
    ping_every: Duration,
    watches: Mutex<HashMap<i64, Arc<watch::Watch>>>,
    /// One sync at a time (the periodic one and an admin's may meet).
    syncing: tokio::sync::Mutex<()>,
}

impl Celigo {
    pub fn new(client: CeligoClient, switch: Arc<Switch>, settings: &Settings) -> Self {
        Self {
            store: switch.store().clone(),
            clock: Arc::clone(switch.clock()),
            client,
            switch,
            authorize_url: settings.zoom.authorize_url.clone(),
            token_url: settings.zoom.token_url.clone(),
            return_base: settings
                .celigo
                .return_to_cutover
                .then(|| settings.server.public_base_url.clone()),
            ping_every: Duration::from_secs(settings.celigo.ping_every.as_seconds()),
            watches: Mutex::new(HashMap::new()),
            syncing: tokio::sync::Mutex::new(()),
        }
    }

    pub fn health(&self) -> &Arc<Health> {
        self.client.health()
    }

    /// Asks integrator.io whether it accepts the token; the answer shows in `/readyz`.
    pub async fn check_token(&self) {
        match self.client.token_info().await {
            Ok(()) => tracing::info!("integrator.io accepts the API token"),
            Err(e) => tracing::warn!("{e}"),
        }
    }

    /// A sync, one at a time.
    pub async fn sync(
        &self,
        actor: Actor,
        progress: &(dyn Fn(SyncProgress) + Send + Sync),
    ) -> Result<SyncReport, SyncError> {
        let _one_at_a_time = self.syncing.lock().await;
        let clock = Arc::clone(&self.clock);
        sync(
            &self.client,
            &self.store,
            actor,
            move || clock.now(),
            progress,
        )
        .await
    }

    /// The periodic sync (`celigo.sync_every`; zero: none), once at start and then on
    /// schedule. A failed round is logged and shows in `/readyz`; the next one tries again.
    pub async fn keep_in_sync(self: Arc<Self>, every: Duration) {
        self.check_token().await;
        if every.is_zero() {
            return;
        }
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            // Watches and preparations a stopped process left are picked up here too.
            self.resume().await;
            let result = self.sync(Actor::System, &|_| {}).await;
            let ok = result.is_ok();
            match result {
                Ok(report) => tracing::info!("{}", report.describe()),
                Err(e) => {
                    tracing::warn!(error = %e, "the periodic sync from integrator.io failed; it runs again later")
                }
            }
            self.health().sync_ran(self.clock.now(), ok);
        }
    }
}
