//! The first response to an interaction, for both adapters: the core's answer, or — when
//! it takes longer than Discord's 3 seconds allow — a deferral now and the answer later.

use super::respond::{to_edit, to_followup};
use super::to_response;
use crate::chat::{ChatCore, Message, Reply, Request};
use serenity::all::{
    Builder, CreateAutocompleteResponse, CreateInteractionResponse,
    CreateInteractionResponseMessage, Http, Interaction,
};
use std::sync::Arc;
use std::time::Duration;

/// Discord waits 3 s for the first response; past this we defer.
const ANSWER_WITHIN: Duration = Duration::from_millis(2_500);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Command,
    Autocomplete,
    Component,
    Modal,
}

/// Answers `interaction` (whose request is `request`); a late answer goes through `rest`.
pub async fn first_response(
    core: Arc<ChatCore>,
    interaction: &Interaction,
    request: Request,
    rest: Arc<Http>,
) -> CreateInteractionResponse {
    let (kind, application) = match interaction {
        Interaction::Command(c) => (Kind::Command, c.application_id),
        Interaction::Autocomplete(c) => (Kind::Autocomplete, c.application_id),
        Interaction::Component(c) => (Kind::Component, c.application_id),
        Interaction::Modal(m) => (Kind::Modal, m.application_id),
        _ => return to_response(Reply::Choices(Vec::new())),
    };
    // Slow work (integrator.io, a chart) is deferred at once: its answer comes as an edit.
    let public = core.answers_publicly(&request);
    let wait = if core.slow_work(&request).is_some() {
        Duration::ZERO
    } else {
        ANSWER_WITHIN
    };
    let mut work = tokio::spawn(async move { core.handle(request).await });
    match tokio::time::timeout(wait, &mut work).await {
        Ok(Ok(reply)) => to_response(reply),
        Ok(Err(join)) => {
            tracing::error!(error = %join, "answering an interaction failed");
            to_response(Reply::Message(Message::private(
                "Something went wrong on cutover's side, and nothing was changed. Try again in a moment.",
            )))
        }
        // Suggestions cannot be deferred: none now is better than none ever.
        Err(_) if kind == Kind::Autocomplete => {
            work.abort();
            CreateInteractionResponse::Autocomplete(CreateAutocompleteResponse::new())
        }
        Err(_) => {
            rest.set_application_id(application);
            let token = interaction.token().to_owned();
            tokio::spawn(async move {
                let Ok(reply) = work.await else { return };
                // Through the builders, which send attached files as multipart.
                let delivered = match (kind, reply) {
                    // A page turn: the message the button is on changes.
                    (Kind::Component, Reply::Update(message)) => to_edit(Reply::Update(message))
                        .execute(&*rest, &token)
                        .await
                        .map(|_| ()),
                    // Anything else after a button stays private, and leaves that message alone.
                    (Kind::Component, reply) => to_followup(reply)
                        .execute(&*rest, (None, &token))
                        .await
                        .map(|_| ()),
                    // The deferred answer itself.
                    (_, reply) => to_edit(reply).execute(&*rest, &token).await.map(|_| ()),
                };
                if let Err(e) = delivered {
                    tracing::warn!(
                        error = crate::telemetry::discord_error(&e),
                        "could not finish a deferred interaction"
                    );
                }
            });
            if kind == Kind::Component {
                CreateInteractionResponse::Acknowledge
            } else {
                // Private unless the answer is known to be public (an error is then public
                // too, but says nothing private).
                CreateInteractionResponse::Defer(
                    CreateInteractionResponseMessage::new().ephemeral(!public),
                )
            }
        }
    }
}
