//! Wiring: builds the store, the chat core and the HTTP server from [`Settings`], and
//! runs them until told to stop. Tests start it on port 0 exactly as `main` does.

use crate::chat::ChatCore;
use crate::clock::SharedClock;
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
            clock,
            settings.deadlines.clone(),
            settings.reminders.timezone,
        ));
        Ok(Self {
            listener,
            address,
            store,
            core,
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
        let router = http::router(HttpState {
            store: self.store.clone(),
        });
        tracing::info!(address = %self.address, "HTTP server listening on http://{}", self.address);
        axum::serve(self.listener, router)
            .with_graceful_shutdown(shutdown)
            .await
            .context("the HTTP server failed")?;
        self.store.close().await;
        Ok(())
    }
}
