//! What a reminder says: the deadline with a live countdown (`<t:…:R>` needs no edits),
//! migrated of total, and everyone who still has work, mentioned with a count and as
//! many of their connections' names as fit Discord's 2,000 characters.

use crate::domain::{Deadline, HumanDuration, UserId};
use crate::markdown::{escape, truncate};
use crate::store::{OwnerWork, Progress};
use chrono::{DateTime, TimeDelta, Utc};

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

/// What is left, and whose: every owner with connections still to switch (most first,
/// no owner last), and how many there are in all.
#[derive(Debug, Clone, Copy)]
pub struct Pending<'a> {
    pub owners: &'a [OwnerWork],
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

/// Appends who still has work: a line per owner with a count and as many names as fit.
/// Names are cut, never owners — only when the owners themselves cannot fit are the
/// last counted as "N more people". Returns who is mentioned.
fn pending_section(text: &mut String, pending: Pending<'_>) -> Vec<UserId> {
    if pending.left == 0 {
        text.push_str("\nEverything is switched. 🎉");
        return Vec::new();
    }
    text.push_str("\n**Still to switch** (owners: press Migrate mine):");
    let mut mentions = Vec::new();
    // Discord pings at most 100 people a message: an owner who could not be pinged is
    // counted with the rest, not listed.
    let heads: Vec<String> = pending
        .owners
        .iter()
        .map_while(|work| {
            let who = match work.owner {
                Some(id) if mentions.len() < MAX_MENTIONS => {
                    mentions.push(id);
                    id.mention()
                }
                Some(_) => return None,
                None => "no owner yet".to_owned(),
            };
            Some(format!("\n• {who} ({})", work.left))
        })
        .collect();
    let room = MAX_TEXT.saturating_sub(text.chars().count());
    let (shown, tail) = owners_that_fit(&heads, pending.owners, room);
    let spare = room
        .saturating_sub(tail.chars().count())
        .saturating_sub(heads[..shown].iter().map(|h| h.chars().count()).sum());
    let items: Vec<Vec<String>> = pending.owners[..shown].iter().map(name_items).collect();
    let named = names_that_fit(&items, pending.owners, spare);
    for ((head, work), (items, n)) in heads
        .iter()
        .zip(pending.owners)
        .zip(items.iter().zip(named))
    {
        text.push_str(head);
        text.push_str(&items[..n].concat());
        if n > 0 && (n as u64) < work.left {
            text.push_str(CUT);
        }
    }
    text.push_str(&tail);
    mentions.retain(|id| pending.owners[..shown].iter().any(|w| w.owner == Some(*id)));
    mentions
}

/// How many owner lines (at their shortest; `heads` may stop short of `owners`) fit in
/// `room`, and the line that counts the rest: none when all fit, else as many as leave
/// room for that line.
fn owners_that_fit(heads: &[String], owners: &[OwnerWork], room: usize) -> (usize, String) {
    let mut used = 0;
    let mut fit = heads.len();
    for (i, head) in heads.iter().enumerate() {
        used += head.chars().count();
        if used > room {
            fit = i;
            break;
        }
    }
    if fit == owners.len() {
        return (fit, String::new());
    }
    loop {
        let tail = rest_line(&owners[fit..]);
        let used: usize = heads[..fit].iter().map(|h| h.chars().count()).sum();
        if fit == 0 || used + tail.chars().count() <= room {
            return (fit, tail);
        }
        fit -= 1;
    }
}

/// "… and 5 more people — /connections" (and those nobody owns yet).
fn rest_line(rest: &[OwnerWork]) -> String {
    let people = rest.iter().filter(|w| w.owner.is_some()).count();
    let unowned: u64 = rest
        .iter()
        .filter(|w| w.owner.is_none())
        .map(|w| w.left)
        .sum();
    let mut parts = Vec::new();
    if people > 0 {
        parts.push(crate::words::counted(people, "more person", "more people"));
    }
    if unowned > 0 {
        parts.push(format!("{unowned} with no owner yet"));
    }
    format!("\n… and {} — /connections", parts.join(" and "))
}

/// What marks a cut list of names.
const CUT: &str = ", …";

/// An owner's connections as they are listed: ": `id` name", ", `id` name", ….
fn name_items(work: &OwnerWork) -> Vec<String> {
    work.first
        .iter()
        .enumerate()
        .map(|(i, connection)| {
            format!(
                "{} `{}` {}",
                if i == 0 { ":" } else { "," },
                connection.id,
                escape(&truncate(connection.name.as_str(), 40))
            )
        })
        .collect()
}

/// How many names of each owner fit in `room`: one name per owner a pass, so that
/// everyone gets some before anyone gets many (a cut list keeps room for its mark).
fn names_that_fit(items: &[Vec<String>], owners: &[OwnerWork], room: usize) -> Vec<usize> {
    let mut named = vec![0; items.len()];
    let mut used = 0;
    let mut added = true;
    while added {
        added = false;
        for (i, list) in items.iter().enumerate() {
            let Some(item) = list.get(named[i]) else {
                continue;
            };
            let cut = (named[i] + 1) < owners[i].left as usize;
            let needed = item.chars().count() + if cut { CUT.chars().count() } else { 0 };
            let was_cut = named[i] > 0 && (named[i] as u64) < owners[i].left;
            let freed = if was_cut { CUT.chars().count() } else { 0 };
            if used + needed <= room + freed {
                used = used + needed - freed;
                named[i] += 1;
                added = true;
            }
        }
    }
    named
}

/// How late a "due now" may still be said.
const NOW: TimeDelta = TimeDelta::minutes(1);

/// What a milestone says of its deadline, true at `now` even when sent late (after an
/// outage, or a retry): the offset while it is still about right, else no figure but
/// the live countdown.
fn headline(title: &str, deadline: &Deadline, before: HumanDuration, now: DateTime<Utc>) -> String {
    let left = deadline.due - now;
    if left <= TimeDelta::zero() {
        return if -left <= NOW {
            format!("**{title}** is due now")
        } else {
            format!("**{title}** fell due")
        };
    }
    // Late by at most a tenth of the offset: "in 7 days" still holds a few minutes on.
    let late = before.to_chrono() - left;
    if before.as_seconds() > 0 && late * 10 <= before.to_chrono() {
        format!("**{title}** in {}", spoken(before))
    } else {
        // The countdown after it (`<t:…:R>`) says how long, live.
        format!("**{title}** is coming up")
    }
}

/// The post `before` ahead of `deadline` (at it, when `before` is zero), said at `now`.
pub fn milestone(
    deadline: &Deadline,
    before: HumanDuration,
    now: DateTime<Utc>,
    progress: Progress,
    pending: Pending<'_>,
) -> Post {
    let title = escape(deadline.title.as_str());
    let mut text = format!(
        "⏰ {}: {}.",
        headline(&title, deadline, before, now),
        when(deadline)
    );
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
        AuthType, Connection, ConnectionId, ConnectionSource, ConnectionState, DeadlineOrigin,
        DisplayName, Snowflake,
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

    /// `count` connections each for owners `first..first + owners`, as the store reads
    /// them: a count per owner and its first 25 names.
    fn owners(first: u64, owners: u64, count: usize) -> Vec<OwnerWork> {
        (first..first + owners)
            .map(|owner| OwnerWork {
                owner: Snowflake::new(owner).ok(),
                left: count as u64,
                first: (0..count.min(25))
                    .map(|i| connection(owner as usize * 100 + i, Some(owner)))
                    .collect(),
            })
            .collect()
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

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(seconds, 0).unwrap_or_default()
    }

    const WEEK: u64 = 7 * 86_400;

    #[test]
    fn a_milestone_counts_down_live_and_names_each_owner_once() {
        let work = [
            OwnerWork {
                owner: Snowflake::new(11).ok(),
                left: 2,
                first: vec![connection(1, Some(11)), connection(2, Some(11))],
            },
            OwnerWork {
                owner: None,
                left: 1,
                first: vec![connection(3, None)],
            },
        ];
        let post = milestone(
            &deadline(),
            HumanDuration::from_seconds(WEEK),
            at(1_800_000_000 - WEEK as i64),
            Progress {
                migrated: 1,
                total: 4,
            },
            Pending {
                owners: &work,
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
                "\n• <@11> (2): `c0001` Zoom connection number 1, `c0002` Zoom connection number 2"
            ),
            "{}",
            post.text
        );
        assert!(
            post.text.contains("\n• no owner yet (1): `c0003`"),
            "{}",
            post.text
        );
        assert_eq!(post.mentions, [Snowflake::new(11).expect("id")]);
    }

    #[test]
    fn a_late_milestone_never_says_a_stale_offset() {
        let due = 1_800_000_000;
        let say = |before: u64, now: i64| {
            milestone(
                &deadline(),
                HumanDuration::from_seconds(before),
                at(now),
                Progress::default(),
                Pending {
                    owners: &[],
                    left: 0,
                },
            )
            .text
            .lines()
            .next()
            .unwrap_or_default()
            .to_owned()
        };
        let title = "⏰ **Zoom \\*disables\\* JWT**";
        assert!(say(WEEK, due - WEEK as i64 + 600).starts_with(&format!("{title} in 7 days:")));
        assert!(say(30, due - 30).starts_with(&format!("{title} in 30 seconds:")));
        assert!(
            say(30, due - 20).starts_with(&format!("{title} is coming up: <t:{due}:F>")),
            "ten seconds late, \"in 30 seconds\" would be false"
        );
        assert!(say(0, due + 10).starts_with(&format!("{title} is due now:")));
        assert!(say(30, due + 10).starts_with(&format!("{title} is due now:")));
        assert!(say(0, due + 300).starts_with(&format!("{title} fell due:")));
    }

    #[test]
    fn every_owner_with_work_left_is_mentioned_however_long_the_list() {
        // 9 owners with 120 to go in all: far more names than fit are cut, never owners.
        let mut work = owners(1000, 3, 20);
        work.extend(owners(2000, 6, 10));
        let post = milestone(
            &deadline(),
            HumanDuration::from_seconds(0),
            at(1_800_000_000),
            Progress {
                migrated: 10,
                total: 130,
            },
            Pending {
                owners: &work,
                left: 120,
            },
        );
        assert!(post.text.chars().count() <= 2_000, "{}", post.text.len());
        assert_eq!(post.mentions.len(), 9, "{}", post.text);
        for w in &work {
            let id = w.owner.expect("an owner");
            assert!(
                post.text
                    .contains(&format!("• {} ({})", id.mention(), w.left)),
                "{}",
                post.text
            );
        }
        assert!(!post.text.contains("more people"), "{}", post.text);
        assert!(
            post.text.contains("`c200000`"),
            "the last owner's names too: {}",
            post.text
        );
        assert!(post.text.contains(", …"), "names cut: {}", post.text);

        // 300 owners cannot all fit: as many as do are mentioned (Discord pings 100 at
        // most), the rest counted.
        let work = owners(10_000, 300, 1);
        let post = milestone(
            &deadline(),
            HumanDuration::from_seconds(0),
            at(1_800_000_000),
            Progress {
                migrated: 0,
                total: 300,
            },
            Pending {
                owners: &work,
                left: 300,
            },
        );
        assert!(post.text.chars().count() <= 2_000, "{}", post.text.len());
        let named = post.text.matches("• <@").count();
        assert!(named > 40 && named <= MAX_MENTIONS, "{named}");
        assert_eq!(post.mentions.len(), named);
        assert_eq!(
            post.text.matches("\n• ").count(),
            named,
            "every line listed pings"
        );
        assert!(
            post.text
                .ends_with(&format!("… and {} more people — /connections", 300 - named)),
            "{}",
            post.text
        );
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
            .map(|i| (format!("7 days before **{long}{i}**"), at(i)))
            .collect();
        let work = owners(1000, 300, 1);
        let post = catch_up(
            &missed,
            Progress {
                migrated: 0,
                total: 300,
            },
            Pending {
                owners: &work,
                left: 300,
            },
        );
        assert!(
            post.text.chars().count() <= 2_000,
            "{}",
            post.text.chars().count()
        );
        assert!(!post.mentions.is_empty());
        for id in &post.mentions {
            assert!(post.text.contains(&id.mention()));
        }
    }

    #[test]
    fn nothing_left_says_so() {
        let post = digest(
            &[deadline()],
            at(0),
            Progress {
                migrated: 3,
                total: 3,
            },
            Pending {
                owners: &[],
                left: 0,
            },
        );
        assert!(post.text.contains("Everything is switched"));
        assert!(post.mentions.is_empty() && post.chart);
    }
}
