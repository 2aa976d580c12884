//! `/deadlines`: a countdown to each deadline, with progress so far.

use super::markdown::escape;
use super::{ChatCore, ChatError, Field, Message, Reply};
use crate::domain::{distance, Deadline, DeadlineOrigin};
use crate::store::Progress;

/// The progress line shared by `/deadlines` and reminders.
pub fn progress_line(progress: Progress) -> String {
    if progress.total == 0 {
        return "No connections in the inventory yet: an admin can import them with \
                `cutover connections import FILE`."
            .to_owned();
    }
    let percent = progress.migrated * 100 / progress.total;
    let left = progress.total - progress.migrated;
    format!(
        "Progress: **{} of {}** connections switched to OAuth 2.0 ({percent}%), {left} to go.",
        progress.migrated, progress.total
    )
}

impl ChatCore {
    pub(super) async fn deadlines(&self) -> Result<Reply, ChatError> {
        let now = self.clock.now();
        let mut all: Vec<Deadline> = self.configured_deadlines.clone();
        all.extend(self.store.list_deadlines().await?);
        all.sort_by_key(|d| d.due);
        let progress = self.store.progress().await?;

        let mut message = Message::public(format!(
            "**Zoom JWT → OAuth 2.0 cutover**\n{}",
            progress_line(progress)
        ));
        if all.is_empty() {
            message
                .text
                .push_str("\nNo deadlines are set. Admins can add one with /cutover deadline add.");
        }
        let tz = self.timezone.tz();
        // Discord shows at most 25 fields: the soonest upcoming and latest passed win.
        let first = all.len().saturating_sub(25);
        for deadline in &all[first..] {
            let unix = deadline.due.timestamp();
            let when = if deadline.approximate {
                format!("around <t:{unix}:D> (approximate)")
            } else {
                format!("<t:{unix}:F> (<t:{unix}:R>)")
            };
            let mut value = format!("{when}\n{}", distance(deadline.due, now, tz));
            if !deadline.note.is_empty() {
                value.push('\n');
                value.push_str(&escape(&deadline.note));
            }
            let name = match deadline.origin {
                // Admins remove their own deadlines by this number.
                DeadlineOrigin::Added(id) => format!("{} (#{id})", escape(deadline.title.as_str())),
                DeadlineOrigin::Configured => escape(deadline.title.as_str()),
            };
            message.fields.push(Field { name, value });
        }
        Ok(Reply::Message(message))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_says_how_many_are_left() {
        let line = progress_line(Progress {
            migrated: 3,
            total: 12,
        });
        assert_eq!(
            line,
            "Progress: **3 of 12** connections switched to OAuth 2.0 (25%), 9 to go."
        );
        assert!(progress_line(Progress::default()).contains("import"));
    }
}
