//! The reminders' side of chat: `/progress` (the burndown), `/cutover reminders preview`,
//! and the "Migrate mine" button under every reminder.

use super::{
    Answer, Attachment, Button, ButtonTarget, Caller, ChatCore, ChatError, ComponentId, Message,
    Reply, Visibility,
};
use crate::domain::ShowFilter;
use crate::markdown::truncate;
use crate::reminders::post::progress_line;
use crate::store::ConnectionQuery;

/// How many coming posts the preview lists.
const PREVIEW: usize = 10;
/// Discord shows at most 25 buttons on a message.
const MAX_CHOICES: u64 = 25;

impl ChatCore {
    /// `/progress`: the burndown chart, with where things stand and the projected finish.
    pub(super) async fn progress(&self) -> Result<Reply, ChatError> {
        let progress = self.store.progress().await?;
        let (png, finish) = self.reminders.chart_png().await?;
        let mut text = format!("**Burndown**\n{}", progress_line(progress));
        match finish {
            Some(at) => text.push_str(&format!(
                "\nAt the pace of the last two weeks the last one is switched <t:{0}:R> (<t:{0}:D>).",
                at.timestamp()
            )),
            None if progress.total > progress.migrated => {
                text.push_str("\nNothing was switched in the last two weeks, so there is no projected finish yet.")
            }
            None => {}
        }
        let mut message = Message::public(text);
        message.files.push(Attachment {
            name: "burndown.png".to_owned(),
            bytes: png,
        });
        Ok(Reply::Message(message))
    }

    /// `/cutover reminders preview`: the next posts with their local times, and where
    /// they would go.
    pub(super) async fn reminders_preview(&self) -> Result<Reply, ChatError> {
        let state = self.store.reminder_state().await?;
        let tz = self.timezone.tz();
        let upcoming = self.reminders.preview(PREVIEW).await?;
        let mut text = format!("**Next reminder posts** (times in {})", tz.name());
        text.push_str(
            &match (state.paused, state.channel.or(self.reminders_channel)) {
                (true, _) => {
                    "\nReminders are **paused**: /cutover reminders resume turns them on again."
                        .to_owned()
                }
                (false, Some(channel)) => format!("\nThey go to <#{channel}>."),
                (false, None) if self.reminders.posts_to_discord() => {
                    "\nNo channel is set yet: /cutover reminders channel picks one.".to_owned()
                }
                (false, None) => "\nThe terminal prints them as they fall due.".to_owned(),
            },
        );
        if upcoming.is_empty() {
            text.push_str(
                "\nNone: no deadline is ahead, and no digest is set (reminders.digest_at).",
            );
        }
        for post in upcoming {
            let local = post.at.with_timezone(&tz);
            text.push_str(&format!(
                "\n• {} (<t:{}:R>): {}",
                local.format("%a %-d %b %Y %H:%M %Z"),
                post.at.timestamp(),
                post.what
            ));
        }
        Ok(Reply::Message(Message::private(text)))
    }

    /// "Migrate mine": the presser's own connections still to switch — the form at once
    /// when there is one, a choice when there are several, and a word when none.
    pub(super) async fn migrate_mine(&self, caller: Caller) -> Result<Reply, ChatError> {
        let Some(user) = caller.user_id() else {
            return Ok(Reply::Message(Message::private(
                "At the terminal, run /migrate connection:<id> for the connection to switch.",
            )));
        };
        let mine = self
            .store
            .list_connections(&ConnectionQuery {
                show: ShowFilter::Unmigrated,
                owner: Some(user),
                offset: 0,
                limit: MAX_CHOICES,
            })
            .await?;
        match mine.connections.as_slice() {
            [] => Ok(Reply::Message(Message::private(
                "Nothing left for you: none of the connections still to switch is yours. \
                 /connections shows who has work left.",
            ))),
            [only] => self.migrate_form(caller, only.id.as_str()).await,
            several => {
                let mut text = format!(
                    "You have {} to switch. Pick one:",
                    crate::words::counted(mine.total, "connection", "connections")
                );
                if mine.total > MAX_CHOICES {
                    text.push_str(&format!(
                        " (the first {MAX_CHOICES}; run /migrate connection:<id> for the others)"
                    ));
                }
                let mut message = Message::private(text);
                message.buttons = several
                    .iter()
                    .map(|c| Button {
                        label: truncate(&format!("{} ({})", c.name, c.id), 80),
                        target: ButtonTarget::Action(ComponentId::OpenForm {
                            connection: c.id.clone(),
                        }),
                        disabled: false,
                    })
                    .collect();
                Ok(Reply::Message(message))
            }
        }
    }

    /// Something went wrong with reminders that no admin has heard of: said once to the
    /// next admin, whichever command it was — at the top of a private answer, else beside
    /// a public one, for them alone. A form or suggestions leave it for the next answer
    /// (Discord allows no follow-up to either).
    pub(super) async fn tell_admin(&self, caller: Caller, reply: Reply) -> Answer {
        if !caller.is_admin || matches!(reply, Reply::Modal(_) | Reply::Choices(_)) {
            return Answer::new(reply);
        }
        let Some(notice) = self.take_notice().await else {
            return Answer::new(reply);
        };
        // The notice is cutover's own text (what Discord said is escaped in it).
        let notice = format!("⚠️ {notice}");
        match reply {
            Reply::Message(mut message) if message.visibility == Visibility::Private => {
                message.text = format!("{notice}\n\n{}", message.text);
                Answer::new(Reply::Message(message))
            }
            reply => Answer {
                reply,
                aside: Some(Message::private(notice)),
            },
        }
    }

    /// The reminders notice, taken (so said once); a failed read keeps it for later.
    async fn take_notice(&self) -> Option<String> {
        // Most answers find none: a read first, so they do not all wait for a write.
        match self.store.has_reminder_notice().await {
            Ok(true) => {}
            Ok(false) => return None,
            Err(e) => {
                tracing::warn!(error = %e, "could not read the reminders notice");
                return None;
            }
        }
        self.store
            .take_reminder_notice()
            .await
            .inspect_err(|e| tracing::warn!(error = %e, "could not read the reminders notice"))
            .ok()
            .flatten()
    }
}
