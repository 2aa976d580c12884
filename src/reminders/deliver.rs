//! Sending one reminder to a Discord channel: with a nonce derived from its claim and
//! `enforce_nonce`, so a send repeated after a crash is one message; within a bounded
//! time (serenity retries a 429 without limit when its rate limiter is on); and saying
//! whether to retry, or whether the channel itself is the problem.

use super::post::{Post, MIGRATE_MINE};
use crate::domain::Snowflake;
use crate::store::PostClaim;
use serenity::all::{
    ButtonStyle, ChannelId, CreateActionRow, CreateAllowedMentions, CreateAttachment, CreateButton,
    CreateMessage, Http, HttpError, Nonce, UserId,
};
use sha2::{Digest, Sha256};
use std::time::Duration;

/// How long one send may take before it is given up (and retried later).
pub const SEND_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// 429, 5xx, a network error or a timeout: try again.
    #[error("{0}")]
    Retry(String),
    /// 403 or 404: the channel is gone or the bot may not post there.
    #[error("{0}")]
    Channel(String),
    /// Another refusal: this post will not go out.
    #[error("{0}")]
    Refused(String),
}

/// Discord's nonce (at most 25 characters): the same for every send of one claim.
pub fn nonce(claim: &PostClaim) -> String {
    let digest = Sha256::digest(format!("{}|{}", claim.key, claim.channel).as_bytes());
    hex::encode(&digest[..12])
}

fn classify(error: serenity::Error) -> SendError {
    match error {
        serenity::Error::Http(HttpError::UnsuccessfulRequest(response)) => {
            let status = response.status_code.as_u16();
            let what = format!("Discord answered {status} ({})", response.error.message);
            match status {
                403 | 404 => SendError::Channel(what),
                429 | 500..=599 => SendError::Retry(what),
                _ => SendError::Refused(what),
            }
        }
        serenity::Error::Http(HttpError::Request(e)) if e.is_timeout() => {
            SendError::Retry("the request to Discord timed out".into())
        }
        serenity::Error::Http(HttpError::Request(_)) => {
            SendError::Retry("Discord could not be reached".into())
        }
        // serenity refused to send it (too long, too many parts): it never will.
        serenity::Error::Model(e) => SendError::Refused(e.to_string()),
        other => SendError::Retry(crate::telemetry::discord_error(&other)),
    }
}

/// Posts `post` in `channel`; the new message's id.
pub async fn to_discord(
    http: &Http,
    channel: Snowflake,
    claim: &PostClaim,
    post: &Post,
    chart: Option<&[u8]>,
) -> Result<String, SendError> {
    let mentions =
        CreateAllowedMentions::new().users(post.mentions.iter().map(|u| UserId::new(u.get())));
    let mut message = CreateMessage::new()
        .content(&post.text)
        .allowed_mentions(mentions)
        .nonce(Nonce::String(nonce(claim)))
        .enforce_nonce(true)
        .components(vec![CreateActionRow::Buttons(vec![CreateButton::new(
            MIGRATE_MINE,
        )
        .label("Migrate mine")
        .style(ButtonStyle::Primary)])]);
    if let Some(png) = chart {
        message = message.add_file(CreateAttachment::bytes(png.to_vec(), "burndown.png"));
    }
    let sending = ChannelId::new(channel.get()).send_message(http, message);
    match tokio::time::timeout(SEND_TIMEOUT, sending).await {
        Ok(Ok(sent)) => Ok(sent.id.to_string()),
        Ok(Err(e)) => Err(classify(e)),
        Err(_) => Err(SendError::Retry(format!(
            "Discord did not answer within {} s",
            SEND_TIMEOUT.as_secs()
        ))),
    }
}
