//! The gateway adapter: with a bot token, cutover connects to Discord, registers its
//! commands and answers interactions as they arrive.

use super::answer::{first_response, send_aside, FirstResponse};
use super::{from_elsewhere, registration, to_request, to_response, AdminPolicy, SeenInteractions};
use crate::chat::ChatCore;
use serenity::all::{Builder, Context, EventHandler, GatewayIntents, Http, Interaction, Ready};
use serenity::client::ClientBuilder;
use std::sync::Arc;

struct Handler {
    core: Arc<ChatCore>,
    policy: AdminPolicy,
    guild_id: Option<u64>,
    seen: Arc<SeenInteractions>,
}

#[serenity::async_trait]
impl EventHandler for Handler {
    async fn ready(&self, ctx: Context, ready: Ready) {
        tracing::info!(user = %ready.user.name, "connected to the Discord gateway");
        match registration::register(&ctx.http, self.guild_id).await {
            Ok(count) => tracing::info!(count, guild = ?self.guild_id, "slash commands registered"),
            Err(e) => tracing::error!(error = %e, "could not register the slash commands"),
        }
    }

    async fn interaction_create(&self, ctx: Context, interaction: Interaction) {
        // A duplicate event: the first was answered, and Discord takes one answer only.
        if self.seen.repeated(&interaction) {
            return;
        }
        let answered = match from_elsewhere(&interaction, &self.policy) {
            Some(refusal) => FirstResponse {
                response: to_response(refusal),
                aside: None,
            },
            None => {
                let Some(request) = to_request(&interaction, &self.policy) else {
                    return;
                };
                first_response(
                    Arc::clone(&self.core),
                    &interaction,
                    request,
                    Arc::clone(&ctx.http),
                )
                .await
            }
        };
        // Through the builder, which sends attached files as multipart.
        match answered
            .response
            .execute(&ctx.http, (interaction.id(), interaction.token()))
            .await
        {
            Ok(()) => {
                if let Some(aside) = answered.aside {
                    send_aside(&ctx.http, aside).await;
                }
            }
            Err(e) => tracing::warn!(
                error = crate::telemetry::discord_error(&e),
                "could not answer an interaction"
            ),
        }
    }
}

/// A connected gateway client, ready to run until stopped.
pub struct Gateway {
    client: serenity::Client,
}

impl Gateway {
    /// Builds the client on `http` (which carries the token and the API base URL).
    pub async fn build(
        http: Http,
        core: Arc<ChatCore>,
        policy: AdminPolicy,
        guild_id: Option<u64>,
        seen: Arc<SeenInteractions>,
    ) -> serenity::Result<Self> {
        // Interactions arrive whatever the intents; GUILDS is the least that is useful and
        // needs no privilege (no message content).
        let client = ClientBuilder::new_with_http(http, GatewayIntents::GUILDS)
            .event_handler(Handler {
                core,
                policy,
                guild_id,
                seen,
            })
            .await?;
        Ok(Self { client })
    }

    /// Runs the shard until `stop` completes, then closes it cleanly.
    pub async fn run_until_stopped(
        mut self,
        stop: impl std::future::Future<Output = ()>,
    ) -> serenity::Result<()> {
        let manager = Arc::clone(&self.client.shard_manager);
        tokio::select! {
            result = self.client.start() => result,
            () = stop => {
                manager.shutdown_all().await;
                Ok(())
            }
        }
    }
}
