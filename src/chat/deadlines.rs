//! `/deadlines`: a countdown to each deadline, with progress so far.

use super::{ChatCore, ChatError, Field, Message, Reply};
use crate::domain::{distance, Deadline, DeadlineOrigin};
use crate::markdown::{escape, truncate};
use crate::reminders::post::progress_line;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;

/// Discord's limits on one embed: 25 fields, 6,000 characters in all (kept under, for
/// the rest of the embed).
const MAX_FIELDS: usize = 25;
const MAX_EMBED_CHARS: usize = 5_500;

fn field(deadline: &Deadline, now: DateTime<Utc>, tz: Tz) -> Field {
    let unix = deadline.due.timestamp();
    let when = if deadline.approximate {
        format!("around <t:{unix}:D> (approximate)")
    } else {
        format!("<t:{unix}:F> (<t:{unix}:R>)")
    };
    let mut value = format!("{when}\n{}", distance(deadline.due, now, tz));
    if !deadline.note.is_empty() {
        value.push('\n');
        value.push_str(&escape(&truncate(&deadline.note, 300)));
    }
    let name = match deadline.origin {
        // Admins remove their own deadlines by this number.
        DeadlineOrigin::Added(id) => format!("{} (#{id})", escape(deadline.title.as_str())),
        DeadlineOrigin::Configured => escape(deadline.title.as_str()),
    };
    Field { name, value }
}

/// The fields that fit one embed, in date order: upcoming deadlines first (soonest
/// first), then passed ones (latest first); older passed ones are left out.
fn fit_fields(fields: Vec<(DateTime<Utc>, Field)>, now: DateTime<Utc>) -> Vec<Field> {
    let (mut upcoming, mut passed): (Vec<_>, Vec<_>) =
        fields.into_iter().partition(|(due, _)| *due > now);
    upcoming.sort_by_key(|(due, _)| *due);
    passed.sort_by_key(|(due, _)| std::cmp::Reverse(*due));
    let mut kept = Vec::new();
    let mut chars = 0;
    for (due, field) in upcoming.into_iter().chain(passed) {
        let size = field.name.chars().count() + field.value.chars().count();
        if kept.len() == MAX_FIELDS || chars + size > MAX_EMBED_CHARS {
            break;
        }
        chars += size;
        kept.push((due, field));
    }
    kept.sort_by_key(|(due, _)| *due);
    kept.into_iter().map(|(_, field)| field).collect()
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
        let fields: Vec<(DateTime<Utc>, Field)> =
            all.iter().map(|d| (d.due, field(d, now, tz))).collect();
        let shown = fit_fields(fields, now);
        if shown.len() < all.len() {
            message.text.push_str(&format!(
                "\n{} not shown.",
                crate::words::counted(all.len() - shown.len(), "older deadline", "older deadlines")
            ));
        }
        message.fields = shown;
        Ok(Reply::Message(message))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_embed_keeps_the_upcoming_deadlines_and_the_latest_passed_ones() {
        let now = DateTime::parse_from_rfc3339("2025-01-01T00:00:00Z")
            .expect("now")
            .with_timezone(&Utc);
        let day = chrono::TimeDelta::days(1);
        // 30 passed and 5 upcoming, each with a long value.
        let fields: Vec<_> = (-30..5)
            .map(|i| {
                (
                    now + day * i + chrono::TimeDelta::hours(1),
                    Field {
                        name: format!("d{i}"),
                        value: "x".repeat(150),
                    },
                )
            })
            .collect();
        let kept = fit_fields(fields, now);
        let names: Vec<_> = kept.iter().map(|f| f.name.as_str()).collect();
        assert!(kept.len() <= MAX_FIELDS);
        assert_eq!(
            names.last(),
            Some(&"d4"),
            "the furthest upcoming one is kept"
        );
        assert!(names.contains(&"d0") && names.contains(&"d-1"), "{names:?}");
        assert!(!names.contains(&"d-30"), "the oldest passed ones go first");
        let total: usize = kept.iter().map(|f| f.name.len() + f.value.len()).sum();
        assert!(total <= MAX_EMBED_CHARS);
        let mut sorted = kept.clone();
        sorted.sort_by_key(|f| f.name[1..].parse::<i32>().unwrap_or_default());
        assert_eq!(sorted, kept, "shown in date order");
    }
}
