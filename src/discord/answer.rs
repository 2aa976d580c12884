//! The first response to an interaction, for both adapters: the core's answer, or — when
//! it takes longer than Discord's 3 seconds allow — a deferral now and the answer later;
//! then, when the core had a word for the caller alone, an ephemeral follow-up.

use super::respond::{to_edit, to_followup};
use super::to_response;
use crate::chat::{Answer, ChatCore, Message, Reply, Request};
use serenity::all::{
    ApplicationId, Builder, CreateAutocompleteResponse, CreateInteractionResponse,
    CreateInteractionResponseMessage, Http, Interaction,
};
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;
use tokio::task::JoinHandle;

/// Discord waits 3 s for the first response; past this we defer.
const ANSWER_WITHIN: Duration = Duration::from_millis(2_500);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Command,
    Autocomplete,
    Component,
    Modal,
}

/// Edits and follow-ups sent before Discord has taken the first response are refused as
/// unknown: an endpoint's response travels in its HTTP reply, a gateway's in a REST call
/// made after the work began, so either may be overtaken.
const EARLY_TRIES: [Duration; 3] = [
    Duration::from_millis(250),
    Duration::from_secs(1),
    Duration::from_secs(3),
];

/// The response to send now, and what to send after it.
pub struct FirstResponse {
    pub response: CreateInteractionResponse,
    /// For the caller alone: send with [`send_aside`] once the response is on its way.
    pub aside: Option<Aside>,
}

impl FirstResponse {
    fn now(response: CreateInteractionResponse) -> Self {
        Self {
            response,
            aside: None,
        }
    }
}

/// A private word beside an answer, for the interaction it belongs to.
pub struct Aside {
    application: ApplicationId,
    token: String,
    message: Message,
}

/// Sends `aside` as an ephemeral follow-up.
pub async fn send_aside(rest: &Http, aside: Aside) {
    rest.set_application_id(aside.application);
    let sent = until_known(|| {
        let followup = to_followup(Reply::Message(aside.message.clone()));
        let token = aside.token.as_str();
        async move { followup.execute(rest, (None, token)).await.map(|_| ()) }
    })
    .await;
    if let Err(e) = sent {
        tracing::warn!(
            error = crate::telemetry::discord_error(&e),
            "could not send a private follow-up"
        );
    }
}

/// Runs `send` until it works, trying again while Discord does not know the
/// interaction's response yet (it may still be on its way: an edit or a follow-up can
/// overtake it).
async fn until_known<F, Fut>(mut send: F) -> serenity::Result<()>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = serenity::Result<()>>,
{
    let mut waits = EARLY_TRIES.iter();
    loop {
        match (send().await, waits.next()) {
            (Ok(()), _) => return Ok(()),
            (Err(e), Some(wait)) if not_known_yet(&e) => {
                tracing::debug!(
                    error = crate::telemetry::discord_error(&e),
                    "Discord did not know the interaction's response yet"
                );
                tokio::time::sleep(*wait).await;
            }
            (Err(e), _) => return Err(e),
        }
    }
}

/// Discord's answer while it has not taken the interaction's response yet.
fn not_known_yet(error: &serenity::Error) -> bool {
    matches!(
        error,
        serenity::Error::Http(serenity::http::HttpError::UnsuccessfulRequest(response))
            if response.status_code.as_u16() == 404
    )
}

/// Answers `interaction` (whose request is `request`); a late answer goes through `rest`.
pub async fn first_response(
    core: Arc<ChatCore>,
    interaction: &Interaction,
    request: Request,
    rest: Arc<Http>,
) -> FirstResponse {
    let (kind, application) = match interaction {
        Interaction::Command(c) => (Kind::Command, c.application_id),
        Interaction::Autocomplete(c) => (Kind::Autocomplete, c.application_id),
        Interaction::Component(c) => (Kind::Component, c.application_id),
        Interaction::Modal(m) => (Kind::Modal, m.application_id),
        _ => return FirstResponse::now(to_response(Reply::Choices(Vec::new()))),
    };
    // Slow work (integrator.io, a chart) is deferred at once: its answer comes as an edit.
    let public = core.answers_publicly(&request);
    let wait = if core.slow_work(&request).is_some() {
        Duration::ZERO
    } else {
        ANSWER_WITHIN
    };
    let token = interaction.token().to_owned();
    let mut work: Work = Box::pin(async move { core.handle(request).await });
    // Most answers come from kept data without waiting on anything: one poll here answers
    // them, with no task to spawn and no timer to set (together a tenth of the
    // endpoint's work). Only an answer that has to wait gets both.
    let done = if wait.is_zero() {
        None
    } else {
        poll_once(&mut work)
    };
    let outcome = match done {
        Some(done) => done,
        None => {
            let mut task = tokio::spawn(work);
            match tokio::time::timeout(wait, &mut task).await {
                Ok(joined) => joined.map_err(|join| join.to_string()),
                Err(_) => return late(kind, application, token, public, task, rest),
            }
        }
    };
    match outcome {
        Ok(Answer { reply, aside: word }) => FirstResponse {
            response: to_response(reply),
            aside: word.map(|message| Aside {
                application,
                token,
                message,
            }),
        },
        Err(failure) => {
            tracing::error!(error = %failure, "answering an interaction failed");
            FirstResponse::now(to_response(Reply::Message(Message::private(
                "Something went wrong on cutover's side, and nothing was changed. Try again in a moment.",
            ))))
        }
    }
}

/// The core's work on one request, movable into a task once begun.
type Work = Pin<Box<dyn Future<Output = Answer> + Send>>;

/// Polls `work` once, as a task would; `None` while it waits on something. A panic is
/// caught as a task's would be (the work is then not polled again).
fn poll_once(work: &mut Work) -> Option<Result<Answer, String>> {
    let mut context = std::task::Context::from_waker(std::task::Waker::noop());
    match std::panic::catch_unwind(AssertUnwindSafe(|| work.as_mut().poll(&mut context))) {
        Ok(Poll::Ready(answer)) => Some(Ok(answer)),
        Ok(Poll::Pending) => None,
        Err(_) => Some(Err("the answer panicked".to_owned())),
    }
}

/// The work outlasted its wait: a deferral now, and the answer when it comes.
fn late(
    kind: Kind,
    application: ApplicationId,
    token: String,
    public: bool,
    work: JoinHandle<Answer>,
    rest: Arc<Http>,
) -> FirstResponse {
    // Suggestions cannot be deferred: none now is better than none ever.
    if kind == Kind::Autocomplete {
        work.abort();
        return FirstResponse::now(CreateInteractionResponse::Autocomplete(
            CreateAutocompleteResponse::new(),
        ));
    }
    rest.set_application_id(application);
    tokio::spawn(async move {
        let Ok(Answer { reply, aside: word }) = work.await else {
            return;
        };
        // Through the builders, which send attached files as multipart.
        let delivered = until_known(|| {
            let (rest, token, reply) = (&*rest, token.as_str(), reply.clone());
            async move {
                match (kind, reply) {
                    // A page turn: the message the button is on changes.
                    (Kind::Component, Reply::Update(message)) => {
                        to_edit(Reply::Update(message)).execute(rest, token).await?;
                    }
                    // Anything else after a button stays private, and leaves that
                    // message alone.
                    (Kind::Component, reply) => {
                        to_followup(reply).execute(rest, (None, token)).await?;
                    }
                    // The deferred answer itself.
                    (_, reply) => {
                        to_edit(reply).execute(rest, token).await?;
                    }
                }
                Ok(())
            }
        })
        .await;
        match delivered {
            Ok(()) => {
                if let Some(message) = word {
                    let aside = Aside {
                        application,
                        token,
                        message,
                    };
                    send_aside(&rest, aside).await;
                }
            }
            Err(e) => tracing::warn!(
                error = crate::telemetry::discord_error(&e),
                "could not finish a deferred interaction"
            ),
        }
    });
    FirstResponse::now(if kind == Kind::Component {
        CreateInteractionResponse::Acknowledge
    } else {
        // Private unless the answer is known to be public (an error is then public
        // too, but says nothing private).
        CreateInteractionResponse::Defer(CreateInteractionResponseMessage::new().ephemeral(!public))
    })
}
