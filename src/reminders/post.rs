//! What a reminder says: the deadline with a live countdown (`<t:…:R>` needs no edits),
//! migrated of total, and who still has work, grouped by owner and mentioned — within
//! Discord's 2,000 characters, the rest cut as "and N more — /connections".

use crate::domain::{Connection, Deadline, HumanDuration, UserId};
use crate::markdown::{escape, truncate};
use crate::store::Progress;
use chrono::{DateTime, Utc};

/// The custom id of the "Migrate mine" button under a reminder.
pub const MIGRATE_MINE: &str = "c1:mm";
/// Discord's limit on a message's content, with room to spare.
const MAX_TEXT: usize = 1_900;
/// Discord pings at most 100 users named in `allowed_mentions`.
const MAX_MENTIONS: usize = 100;

/// A reminder to post.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Post {
    pub text: String,
    /// Owners named in the text: the only ones it pings (never roles or @everyone).
    pub mentions: Vec<UserId>,
    /// Attach the burndown chart.
    pub chart: bool,
}

/// The progress line shared by `/deadlines` and reminders.
pub fn progress_line(progress: Progress) -> String {
    if progress.total == 0 {
        return "No connections in the inventory yet: an admin can import them with \
                `cutover connections import FILE`."
            .to_owned();
    }
    let percent = progress.migrated.min(progress.total) * 100 / progress.total;
    let left = progress.total.saturating_sub(progress.migrated);
    format!(
        "Progress: **{} of {}** connections switched to OAuth 2.0 ({percent}%), {left} to go.",
        progress.migrated, progress.total
    )
}

/// What is left, and whose: `pending` holds the unmigrated connections (ordered by
/// owner), `left` how many there are in all.
#[derive(Debug, Clone, Copy)]
pub struct Pending<'a> {
    pub connections: &'a [Connection],
    pub left: u64,
}

/// "7 days", "1 hour", "30 minutes": an offset as people say it.
pub fn spoken(before: HumanDuration) -> String {
    let seconds = before.as_seconds();
    let (n, unit) = match seconds {
        s if s.is_multiple_of(86_400) => (s / 86_400, "day"),
        s if s.is_multiple_of(3_600) => (s / 3_600, "hour"),
        s if s.is_multiple_of(60) => (s / 60, "minute"),
        s => (s, "second"),
    };
    if n == 1 {
        format!("1 {unit}")
    } else {
        format!("{n} {unit}s")
    }
}

fn when(deadline: &Deadline) -> String {
    let unix = deadline.due.timestamp();
    if deadline.approximate {
        format!("around <t:{unix}:D> (approximate)")
    } else {
        format!("<t:{unix}:F> (<t:{unix}:R>)")
    }
}

/// The post, cut at a line to Discord's limit if the lines before the list ran long
/// (long deadline titles), with only the mentions still in it.
fn finish(text: String, mentions: Vec<UserId>, chart: bool) -> Post {
    let text = if text.chars().count() <= MAX_TEXT {
        text
    } else {
        let mut cut = String::new();
        for line in text.lines() {
            if cut.chars().count() + line.chars().count() + 1 > MAX_TEXT - 20 {
                break;
            }
            if !cut.is_empty() {
                cut.push('\n');
            }
            cut.push_str(line);
        }
        if cut.is_empty() {
            cut = truncate(&text, MAX_TEXT - 20);
        }
        cut.push_str("\n… — /connections");
        cut
    };
    let mentions = mentions
        .into_iter()
        .filter(|m| text.contains(&m.mention()))
        .collect();
    Post {
        text,
        mentions,
        chart,
    }
}

/// Appends who still has work, owner by owner, cut to fit; returns who is mentioned.
fn pending_section(text: &mut String, pending: Pending<'_>) -> Vec<UserId> {
    if pending.left == 0 {
        text.push_str("\nEverything is switched. 🎉");
        return Vec::new();
    }
    text.push_str("\n**Still to switch** (owners: press Migrate mine):");
    let mut mentions = Vec::new();
    let mut shown: u64 = 0;
    for group in pending.connections.chunk_by(|a, b| a.owner == b.owner) {
        let owner = group[0].owner;
        let who = match owner {
            Some(id) if mentions.len() < MAX_MENTIONS => id.mention(),
            Some(id) => format!("@{id}"),
            None => "no owner yet".to_owned(),
        };
        let mut line = format!("\n• {who}:");
        let mut in_line = 0;
        let mut cut = false;
        for (i, c) in group.iter().enumerate() {
            let item = format!(
                "{} `{}` {}",
                if i == 0 { "" } else { "," },
                c.id,
                escape(&truncate(c.name.as_str(), 40))
            );
            if text.len() + line.len() + item.len() + 60 > MAX_TEXT {
                cut = true;
                break;
            }
            line.push_str(&item);
            in_line += 1;
        }
        if in_line == 0 {
            break;
        }
        text.push_str(&line);
        shown += in_line as u64;
        if let (Some(id), true) = (owner, mentions.len() < MAX_MENTIONS) {
            mentions.push(id);
        }
        if cut {
            break;
        }
    }
    if shown < pending.left {
        text.push_str(&format!(
            "\n… and {} more — /connections",
            pending.left - shown
        ));
    }
    mentions
}

/// The post `before` ahead of `deadline` (at it, when `before` is zero).
pub fn milestone(
    deadline: &Deadline,
    before: HumanDuration,
    progress: Progress,
    pending: Pending<'_>,
) -> Post {
    let title = escape(deadline.title.as_str());
    let mut text = if before.as_seconds() == 0 {
        format!("⏰ **{title}** is due now: {}.", when(deadline))
    } else {
        format!("⏰ **{title}** in {}: {}.", spoken(before), when(deadline))
    };
    if !deadline.note.is_empty() {
        text.push_str(&format!("\n{}", escape(&truncate(&deadline.note, 200))));
    }
    text.push('\n');
    text.push_str(&progress_line(progress));
    let mentions = pending_section(&mut text, pending);
    finish(text, mentions, false)
}

/// The working-day digest: where things stand, every deadline still ahead and those
/// passed, and who has work left; with the burndown chart.
pub fn digest(
    deadlines: &[Deadline],
    now: DateTime<Utc>,
    progress: Progress,
    pending: Pending<'_>,
) -> Post {
    let mut text = format!("📋 **Cutover digest**\n{}", progress_line(progress));
    let (ahead, passed): (Vec<&Deadline>, Vec<&Deadline>) =
        deadlines.iter().partition(|d| d.due > now);
    for d in ahead.iter().take(3) {
        text.push_str(&format!(
            "\n• Next: **{}** {}",
            escape(d.title.as_str()),
            when(d)
        ));
    }
    if let Some(latest) = passed.iter().max_by_key(|d| d.due) {
        text.push_str(&format!(
            "\n• Overdue: **{}** passed <t:{}:R>",
            escape(latest.title.as_str()),
            latest.due.timestamp()
        ));
    }
    let mentions = pending_section(&mut text, pending);
    finish(text, mentions, true)
}

/// After downtime: what was missed, once, then where things stand — never a backlog.
pub fn catch_up(
    missed: &[(String, DateTime<Utc>)],
    progress: Progress,
    pending: Pending<'_>,
) -> Post {
    let mut text = format!(
        "🔁 **While cutover was away**, {} fell due:",
        crate::words::counted(missed.len(), "reminder", "reminders")
    );
    for (what, at) in missed.iter().take(8) {
        text.push_str(&format!(
            "\n• {} (<t:{}:f>)",
            truncate(what, 120),
            at.timestamp()
        ));
    }
    if missed.len() > 8 {
        text.push_str(&format!("\n• … and {} more", missed.len() - 8));
    }
    text.push_str("\nWhere things stand now: ");
    text.push_str(&progress_line(progress));
    let mentions = pending_section(&mut text, pending);
    finish(text, mentions, true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{
        AuthType, ConnectionId, ConnectionSource, ConnectionState, DeadlineOrigin, DisplayName,
        Snowflake,
    };

    fn connection(id: usize, owner: Option<u64>) -> Connection {
        let at = DateTime::from_timestamp(0, 0).unwrap_or_default();
        Connection {
            id: ConnectionId::parse(&format!("c{id:04}")).expect("id"),
            name: DisplayName::parse(&format!("Zoom connection number {id}")).expect("name"),
            integration: crate::domain::IntegrationName::default(),
            owner: owner.and_then(|o| Snowflake::new(o).ok()),
            auth_type: AuthType::Jwt,
            state: ConnectionState::Pending,
            source: ConnectionSource::Import,
            created_at: at,
            updated_at: at,
            migrated_by: None,
            migrated_at: None,
            migrated_via: None,
            offline: None,
            removed_at: None,
        }
    }

    fn deadline() -> Deadline {
        Deadline {
            origin: DeadlineOrigin::Configured,
            title: DisplayName::parse("Zoom *disables* JWT").expect("title"),
            due: DateTime::from_timestamp(1_800_000_000, 0).unwrap_or_default(),
            note: String::new(),
            approximate: false,
        }
    }

    #[test]
    fn a_milestone_counts_down_live_and_names_each_owner_once() {
        let pending = [
            connection(1, Some(11)),
            connection(2, Some(11)),
            connection(3, None),
        ];
        let post = milestone(
            &deadline(),
            HumanDuration::from_seconds(7 * 86_400),
            Progress {
                migrated: 1,
                total: 4,
            },
            Pending {
                connections: &pending,
                left: 3,
            },
        );
        assert!(
            post.text.starts_with(
                "⏰ **Zoom \\*disables\\* JWT** in 7 days: <t:1800000000:F> (<t:1800000000:R>)."
            ),
            "{}",
            post.text
        );
        assert!(
            post.text.contains(
                "\n• <@11>: `c0001` Zoom connection number 1, `c0002` Zoom connection number 2"
            ),
            "{}",
            post.text
        );
        assert!(
            post.text.contains("\n• no owner yet: `c0003`"),
            "{}",
            post.text
        );
        assert_eq!(post.mentions, [Snowflake::new(11).expect("id")]);
    }

    #[test]
    fn a_long_list_is_cut_within_discords_limit() {
        let pending: Vec<Connection> = (0..500)
            .map(|i| connection(i, Some(1000 + i as u64 / 3)))
            .collect();
        let post = milestone(
            &deadline(),
            HumanDuration::from_seconds(0),
            Progress {
                migrated: 0,
                total: 500,
            },
            Pending {
                connections: &pending,
                left: 500,
            },
        );
        assert!(post.text.chars().count() <= 2_000, "{}", post.text.len());
        assert!(post.text.len() <= MAX_TEXT + 100);
        let shown = post.text.matches('`').count() / 2;
        assert!(
            post.text
                .ends_with(&format!("… and {} more — /connections", 500 - shown)),
            "{}",
            post.text
        );
        assert!(post.mentions.len() <= MAX_MENTIONS);
        for id in &post.mentions {
            assert!(
                post.text.contains(&id.mention()),
                "only those named are pinged"
            );
        }
    }

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

    #[test]
    fn a_catch_up_with_long_titles_still_fits() {
        let long = "T".repeat(200);
        let missed: Vec<(String, DateTime<Utc>)> = (0..12)
            .map(|i| {
                (
                    format!("7 days before **{long}{i}**"),
                    DateTime::from_timestamp(i, 0).unwrap_or_default(),
                )
            })
            .collect();
        let pending: Vec<Connection> = (0..300)
            .map(|i| connection(i, Some(1000 + i as u64)))
            .collect();
        let post = catch_up(
            &missed,
            Progress {
                migrated: 0,
                total: 300,
            },
            Pending {
                connections: &pending,
                left: 300,
            },
        );
        assert!(
            post.text.chars().count() <= 2_000,
            "{}",
            post.text.chars().count()
        );
        for id in &post.mentions {
            assert!(post.text.contains(&id.mention()));
        }
    }

    #[test]
    fn nothing_left_says_so() {
        let post = digest(
            &[deadline()],
            DateTime::from_timestamp(0, 0).unwrap_or_default(),
            Progress {
                migrated: 3,
                total: 3,
            },
            Pending {
                connections: &[],
                left: 0,
            },
        );
        assert!(post.text.contains("Everything is switched"));
        assert!(post.mentions.is_empty() && post.chart);
    }
}
