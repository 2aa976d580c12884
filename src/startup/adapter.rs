//! The chat adapter that runs beside the HTTP endpoint, chosen from the settings: the
//! Discord gateway with a bot token, else the terminal on stdin/stdout when wanted, else
//! none (the endpoint alone).

use super::Application;
use crate::chat::ChatCore;
use crate::clock::SharedClock;
use crate::discord::{self, gateway::Gateway, AdminPolicy, SeenInteractions};
use crate::settings::Settings;
use crate::terminal;
use serenity::all::Http;
use std::future::Future;
use std::sync::Arc;

pub enum Adapter {
    Gateway {
        // Boxed: a client is large beside the other adapters.
        http: Box<Http>,
        core: Arc<ChatCore>,
        policy: AdminPolicy,
        guild: Option<u64>,
        seen: Arc<SeenInteractions>,
    },
    Terminal {
        core: Arc<ChatCore>,
        clock: SharedClock,
    },
    None,
}

impl Adapter {
    pub fn choose(
        settings: &Settings,
        app: &Application,
        clock: SharedClock,
        with_terminal: bool,
    ) -> Self {
        if let Some(token) = &settings.discord.token {
            Self::Gateway {
                http: Box::new(discord::rest_client(
                    &settings.discord.api_base_url,
                    Some(token),
                )),
                core: app.core(),
                policy: AdminPolicy::of(&settings.discord),
                guild: settings.discord.guild_id.map(|g| g.get()),
                seen: app.seen_interactions(),
            }
        } else if with_terminal {
            Self::Terminal {
                core: app.core(),
                clock,
            }
        } else {
            Self::None
        }
    }

    /// Whether it must be told to stop before the server and the store do: the gateway
    /// closes its shards (a proper close frame) so no interaction reaches a closed store.
    pub fn needs_stopping(&self) -> bool {
        matches!(self, Self::Gateway { .. })
    }

    /// Runs until it ends by itself (the terminal's input ends, the gateway closes) or,
    /// for the gateway, until `stop` completes; why it ended.
    pub async fn run(self, stop: impl Future<Output = ()> + Send + 'static) -> String {
        match self {
            Self::Gateway {
                http,
                core,
                policy,
                guild,
                seen,
            } => {
                let gateway = match Gateway::build(*http, core, policy, guild, seen).await {
                    Ok(gateway) => gateway,
                    Err(e) => return format!("the Discord gateway could not start: {e}"),
                };
                match gateway.run_until_stopped(stop).await {
                    Ok(()) => "the Discord gateway closed".to_owned(),
                    Err(e) => format!("the Discord gateway failed: {e}"),
                }
            }
            Self::Terminal { core, clock } => {
                let console = terminal::StdConsole::new();
                terminal::run(&core, clock.as_ref(), &console).await;
                "the terminal input ended".to_owned()
            }
            Self::None => std::future::pending::<String>().await,
        }
    }
}
