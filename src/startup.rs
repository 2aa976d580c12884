//! Wiring: builds the store, the chat core and the HTTP server from [`Settings`], and
//! runs them until told to stop; and picks the chat adapter beside them ([`Adapter`]).
//! Tests start it on port 0 exactly as `main` does.

mod adapter;

pub use adapter::Adapter;

use crate::campaign::{self, Campaign};
use crate::chat::ChatCore;
use crate::clock::SharedClock;
use crate::discord::endpoint::{self, EndpointState};
use crate::discord::{AdminPolicy, SeenInteractions};
use crate::http::{self, HttpState};
use crate::integrator_io::{self, Health};
use crate::metrics::Metrics;
use crate::reminders::Reminders;
use crate::server;
use crate::settings::Settings;
use crate::sign_in::{SignIns, SIGN_IN_PATH};
use crate::store::Store;
use crate::switch::celigo::{self, Celigo};
use crate::switch::{
    callback, Announcer, Backends, CeligoLinks, Links, Sealer, Switch, Zoom, CELIGO_START_PATH,
};
use anyhow::Context;
use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;

pub struct Application {
    listener: TcpListener,
    address: SocketAddr,
    store: Store,
    core: Arc<ChatCore>,
    router: axum::Router,
    switch: Arc<Switch>,
    celigo: Option<Arc<Celigo>>,
    sync_every: Duration,
    reminders: Arc<Reminders>,
    seen_interactions: Arc<SeenInteractions>,
    limits: server::Limits,
}

impl Application {
    /// Opens (and migrates) the database and binds the listener; serves nothing yet.
    pub async fn build(settings: &Settings, clock: SharedClock) -> anyhow::Result<Self> {
        let store = Store::open(&settings.database.url).await?;
        let (listener, address) = listen(settings).await?;
        let discord_rest = discord_rest(settings);
        let sync_every = Duration::from_secs(settings.celigo.sync_every.as_seconds());
        let health = Arc::new(Health::new(!sync_every.is_zero()));
        let metrics = Arc::new(Metrics::new(store.cache_reads()));
        let celigo_client =
            integrator_io::client(settings, Arc::clone(&health), Arc::clone(&metrics))
                .context("building the HTTP client for integrator.io")?;
        let switch = Arc::new(switch(
            settings,
            &store,
            &clock,
            discord_rest.clone(),
            celigo_client.is_some(),
            &metrics,
        )?);
        let celigo = celigo_client
            .map(|client| Arc::new(Celigo::new(client, Arc::clone(&switch), settings)));
        let reminders = Arc::new(reminders(
            settings,
            &store,
            &clock,
            discord_rest.as_ref(),
            &metrics,
        ));
        let sign_ins = Arc::new(sign_ins(settings, &store, &clock));
        let backends = Backends::new(settings.switch.backend, Arc::clone(&switch), celigo.clone());
        let core = Arc::new(ChatCore::new(
            store.clone(),
            Arc::clone(&clock),
            settings.deadlines.clone(),
            backends.clone(),
            Arc::clone(&sign_ins),
            Arc::clone(&reminders),
            Arc::clone(&metrics),
        ));
        let mut router = http::router(HttpState {
            store: store.clone(),
            switch: Arc::clone(&switch),
            celigo: celigo.as_ref().map(|_| Arc::clone(&health)),
            reminders: Arc::clone(&reminders),
            metrics,
        })
        .merge(callback::router(Arc::clone(&switch)))
        .merge(campaign::router(Arc::new(Campaign::new(
            store.clone(),
            Arc::clone(&clock),
            sign_ins,
            backends,
            Arc::clone(&reminders),
            celigo.as_ref().map(|_| Arc::clone(&health)),
            settings.server.public_base_url.is_https(),
        ))));
        if let Some(celigo) = &celigo {
            router = router.merge(celigo::routes::router(Arc::clone(celigo)));
        }
        let seen_interactions = Arc::new(SeenInteractions::new(Arc::clone(&clock)));
        if let Some(endpoint) = interactions_endpoint(
            settings,
            discord_rest.as_ref(),
            &core,
            clock,
            &seen_interactions,
        ) {
            router = router.merge(endpoint);
        }
        Ok(Self {
            listener,
            address,
            store,
            core,
            router,
            switch,
            celigo,
            sync_every,
            reminders,
            seen_interactions,
            limits: server::Limits {
                read_timeout: Duration::from_secs(settings.server.read_timeout.as_seconds()),
                max_connections: settings.server.max_connections,
            },
        })
    }

    pub fn reminders(&self) -> Arc<Reminders> {
        Arc::clone(&self.reminders)
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

    pub fn switch(&self) -> Arc<Switch> {
        Arc::clone(&self.switch)
    }

    /// Interactions already answered, for the gateway to share with the HTTP endpoint.
    pub fn seen_interactions(&self) -> Arc<SeenInteractions> {
        Arc::clone(&self.seen_interactions)
    }

    /// Serves HTTP until `shutdown` completes, then finishes in-flight requests.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        tracing::info!(address = %self.address, "HTTP server listening on http://{}", self.address);
        let mut background = vec![
            tokio::spawn(Arc::clone(&self.switch).keep_tokens_fresh()),
            tokio::spawn(Arc::clone(&self.reminders).run()),
        ];
        if let Some(celigo) = &self.celigo {
            celigo.resume().await;
            background.push(tokio::spawn(
                Arc::clone(celigo).keep_in_sync(self.sync_every),
            ));
        }
        server::serve(self.listener, self.router, self.limits, shutdown).await;
        for task in background {
            task.abort();
        }
        self.store.close().await;
        Ok(())
    }
}

/// Discord's HTTP interactions endpoint, when `discord.public_key` is set.
fn interactions_endpoint(
    settings: &Settings,
    rest: Option<&Arc<serenity::http::Http>>,
    core: &Arc<ChatCore>,
    clock: SharedClock,
    seen: &Arc<SeenInteractions>,
) -> Option<axum::Router> {
    let (key, rest) = (settings.discord.public_key.as_ref()?, rest?);
    tracing::info!("Discord HTTP interactions endpoint enabled at /discord/interactions");
    Some(endpoint::router(EndpointState {
        key: *key.verifying_key(),
        core: Arc::clone(core),
        policy: AdminPolicy::of(&settings.discord),
        clock,
        rest: Arc::clone(rest),
        seen: Arc::clone(seen),
    }))
}

/// Discord's REST API, when a bot token or an interactions endpoint needs it.
fn discord_rest(settings: &Settings) -> Option<Arc<serenity::http::Http>> {
    let discord = &settings.discord;
    (discord.token.is_some() || discord.public_key.is_some()).then(|| {
        let rest = crate::discord::rest_client(&discord.api_base_url, discord.token.as_ref());
        if let Some(id) = discord.application_id {
            rest.set_application_id(serenity::all::ApplicationId::new(id.get()));
        }
        Arc::new(rest)
    })
}

/// Reminders, posted by the bot when it has a token; charts saved beside the database.
fn reminders(
    settings: &Settings,
    store: &Store,
    clock: &SharedClock,
    discord_rest: Option<&Arc<serenity::http::Http>>,
    metrics: &Arc<Metrics>,
) -> Reminders {
    Reminders::new(
        store.clone(),
        Arc::clone(clock),
        settings.reminders.clone(),
        settings.deadlines.clone(),
        discord_rest
            .filter(|_| settings.discord.token.is_some())
            .map(Arc::clone),
        crate::store::folder_of(&settings.database.url)
            .unwrap_or_else(|| PathBuf::from("."))
            .join("charts"),
        Arc::clone(metrics),
    )
}

/// The switch both backends share: Zoom, the sealing keys, the links and the announcer.
fn switch(
    settings: &Settings,
    store: &Store,
    clock: &SharedClock,
    discord_rest: Option<Arc<serenity::http::Http>>,
    with_celigo: bool,
    metrics: &Arc<Metrics>,
) -> anyhow::Result<Switch> {
    let announcer = Announcer::new(
        store.clone(),
        discord_rest,
        settings.discord.token.is_some(),
        settings.reminders.channel_id,
    );
    let zoom = Zoom::new(
        settings.zoom.clone(),
        settings.server.oauth_redirect_uri(),
        Duration::from_secs(settings.zoom.request_timeout.as_seconds()),
    )
    .context("building the HTTP client for Zoom")?;
    let security = &settings.security;
    let sealer = security.sealing_key.as_ref().map(|key| {
        let sealer = Sealer::new(key.bytes());
        match &security.previous_sealing_key {
            Some(previous) => sealer.with_previous(previous.bytes()),
            None => sealer,
        }
    });
    let celigo_links = with_celigo.then(|| CeligoLinks {
        start_url: settings.server.public_url(CELIGO_START_PATH),
        redirect_url: settings.celigo.oauth_redirect_url.to_string(),
    });
    Ok(Switch::new(
        store.clone(),
        Arc::clone(clock),
        sealer,
        zoom,
        Links {
            ttl: security.link_ttl,
            celigo: celigo_links,
        },
        announcer,
        Arc::clone(metrics),
    ))
}

async fn listen(settings: &Settings) -> anyhow::Result<(TcpListener, SocketAddr)> {
    let bind = settings.server.bind.socket_addr();
    let listener = TcpListener::bind(bind)
        .await
        .map_err(|error| bind_error(bind, &error))?;
    let address = listener.local_addr().context("reading the bound address")?;
    Ok((listener, address))
}

/// The campaign page's sign-in links: as long-lived as the switch's, leading here.
fn sign_ins(settings: &Settings, store: &Store, clock: &SharedClock) -> SignIns {
    SignIns::new(
        store.clone(),
        Arc::clone(clock),
        settings.security.link_ttl,
        settings.status.session_ttl,
        settings.server.public_url(SIGN_IN_PATH),
    )
}

/// Why the listener could not be bound, with what to do about it.
fn bind_error(bind: SocketAddr, error: &std::io::Error) -> anyhow::Error {
    let hint = match error.kind() {
        std::io::ErrorKind::AddrInUse => {
            "another program (or another cutover) is listening there; stop it or choose another port"
        }
        std::io::ErrorKind::AddrNotAvailable => {
            "no network interface of this machine has that address; use 127.0.0.1 (this machine only) or 0.0.0.0 (every interface)"
        }
        std::io::ErrorKind::PermissionDenied => {
            "ports below 1024 need privileges; use a port above 1024 behind a reverse proxy"
        }
        _ => "check server.bind",
    };
    anyhow::anyhow!("cannot listen on {bind} (server.bind): {error}; {hint}")
}
