//! Wiring: builds the store, the chat core and the HTTP server from [`Settings`], and
//! runs them until told to stop. Tests start it on port 0 exactly as `main` does.

use crate::chat::ChatCore;
use crate::clock::SharedClock;
use crate::discord::endpoint::{self, EndpointState};
use crate::discord::AdminPolicy;
use crate::http::{self, HttpState};
use crate::settings::Settings;
use crate::store::Store;
use anyhow::Context;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;

pub struct Application {
    listener: TcpListener,
    address: SocketAddr,
    store: Store,
    core: Arc<ChatCore>,
    router: axum::Router,
}

impl Application {
    /// Opens (and migrates) the database and binds the listener; serves nothing yet.
    pub async fn build(settings: &Settings, clock: SharedClock) -> anyhow::Result<Self> {
        let store = Store::open(&settings.database.url).await?;
        let bind = settings.server.bind.socket_addr();
        let listener = TcpListener::bind(bind).await.with_context(|| {
            format!("cannot listen on {bind} (server.bind); is another program using it?")
        })?;
        let address = listener.local_addr().context("reading the bound address")?;
        let core = Arc::new(ChatCore::new(
            store.clone(),
            Arc::clone(&clock),
            settings.deadlines.clone(),
            settings.reminders.timezone,
        ));
        let mut router = http::router(HttpState {
            store: store.clone(),
        });
        if let Some(key) = &settings.discord.public_key {
            let verifier = serenity::interactions_endpoint::Verifier::try_new(key.bytes()).map_err(|_| {
                anyhow::anyhow!(
                    "discord.public_key is not a valid Ed25519 public key; copy \"Public Key\" from the Developer Portal again"
                )
            })?;
            let rest = crate::discord::rest_client(
                &settings.discord.api_base_url,
                settings.discord.token.as_ref(),
            );
            if let Some(id) = settings.discord.application_id {
                rest.set_application_id(serenity::all::ApplicationId::new(id.get()));
            }
            router = router.merge(endpoint::router(EndpointState {
                verifier: Arc::new(verifier),
                core: Arc::clone(&core),
                policy: AdminPolicy {
                    admin_role_ids: settings.discord.admin_role_ids.clone(),
                },
                clock,
                rest: Arc::new(rest),
            }));
            tracing::info!("Discord HTTP interactions endpoint enabled at /discord/interactions");
        }
        Ok(Self {
            listener,
            address,
            store,
            core,
            router,
        })
    }

    /// The address actually bound (with port 0, the one the system picked).
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    pub fn core(&self) -> Arc<ChatCore> {
        Arc::clone(&self.core)
    }

    pub fn store(&self) -> Store {
        self.store.clone()
    }

    /// Serves HTTP until `shutdown` completes, then finishes in-flight requests.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        tracing::info!(address = %self.address, "HTTP server listening on http://{}", self.address);
        axum::serve(self.listener, self.router)
            .with_graceful_shutdown(shutdown)
            .await
            .context("the HTTP server failed")?;
        self.store.close().await;
        Ok(())
    }
}
