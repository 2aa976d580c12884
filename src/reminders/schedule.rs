//! Which reminder posts fall due: a pure function of the settings, the deadlines, what
//! was already posted and now. A milestone sits at each `reminders.before` offset of each
//! deadline; a digest at `reminders.digest_at` on working days in `reminders.timezone`.
//! Offsets in whole days and digest times are wall-clock times: "7 days before" a
//! deadline at 09:00 is at 09:00 a week earlier, whatever DST did in between; a digest
//! time inside a DST gap falls on the first minute after it, and one in a fold on the
//! first of the two (so a digest is never lost nor doubled).

use crate::domain::{local_to_utc, Deadline, HumanDuration};
use chrono::{DateTime, Datelike, NaiveDate, NaiveTime, TimeDelta, Utc, Weekday};
use chrono_tz::Tz;
use sha2::{Digest, Sha256};
use std::collections::{HashMap, HashSet};

/// How late a post may still go out as itself; older ones were missed while cutover
/// was away, and one catch-up post says so instead.
pub const LATE: TimeDelta = TimeDelta::minutes(10);
/// How far ahead the next digest is looked for (skip dates can make long holidays).
const DIGEST_HORIZON_DAYS: i64 = 400;

/// What cutover reminds of, and when.
#[derive(Debug, Clone, Copy)]
pub struct Calendar<'a> {
    pub deadlines: &'a [Deadline],
    pub before: &'a [HumanDuration],
    pub digest_at: Option<NaiveTime>,
    pub timezone: Tz,
    pub skip_dates: &'a [NaiveDate],
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SlotKind {
    /// `before` ahead of `deadlines[deadline]`.
    Milestone {
        deadline: usize,
        before: HumanDuration,
    },
    /// The working-day digest of `date` (local).
    Digest { date: NaiveDate },
}

/// One post the schedule asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Slot {
    /// Names the post for good: the same post always has the same key.
    pub key: String,
    pub at: DateTime<Utc>,
    pub kind: SlotKind,
}

fn short_hash(text: &str) -> String {
    hex::encode(&Sha256::digest(text.as_bytes())[..6])
}

/// A deadline's name for keys: its instant and title (configured deadlines have no id).
pub fn deadline_key(deadline: &Deadline) -> String {
    format!(
        "{}-{}",
        deadline.due.timestamp(),
        short_hash(deadline.title.as_str())
    )
}

impl Calendar<'_> {
    /// When the milestone `before` ahead of `deadline` falls: whole days on the calendar
    /// (same wall-clock time), anything else as a span of time.
    pub fn milestone_at(&self, deadline: &Deadline, before: HumanDuration) -> DateTime<Utc> {
        let seconds = before.as_seconds();
        if seconds > 0 && seconds.is_multiple_of(86_400) {
            let days = i64::try_from(seconds / 86_400).unwrap_or(366);
            let local = deadline.due.with_timezone(&self.timezone).naive_local();
            if let Some(at) = local
                .checked_sub_signed(TimeDelta::days(days))
                .and_then(|earlier| local_to_utc(earlier, self.timezone))
            {
                return at;
            }
        }
        deadline.due - before.to_chrono()
    }

    fn is_working_day(&self, date: NaiveDate) -> bool {
        !matches!(date.weekday(), Weekday::Sat | Weekday::Sun) && !self.skip_dates.contains(&date)
    }

    fn digest(&self, date: NaiveDate) -> Option<Slot> {
        let time = self.digest_at?;
        if !self.is_working_day(date) {
            return None;
        }
        Some(Slot {
            key: format!("digest:{date}"),
            at: local_to_utc(date.and_time(time), self.timezone)?,
            kind: SlotKind::Digest { date },
        })
    }

    fn milestones(&self) -> impl Iterator<Item = Slot> + '_ {
        self.deadlines.iter().enumerate().flat_map(move |(i, d)| {
            self.before.iter().map(move |before| Slot {
                key: format!("milestone:{}:{}", deadline_key(d), before.as_seconds()),
                at: self.milestone_at(d, *before),
                kind: SlotKind::Milestone {
                    deadline: i,
                    before: *before,
                },
            })
        })
    }

    /// Every slot with `from < at <= to`, soonest first.
    pub fn between(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<Slot> {
        let mut slots: Vec<Slot> = self
            .milestones()
            .filter(|s| from < s.at && s.at <= to)
            .collect();
        if self.digest_at.is_some() && from < to {
            // A year at most: a longer absence has nothing to say day by day.
            let first = from
                .max(to - TimeDelta::days(366))
                .with_timezone(&self.timezone)
                .date_naive();
            let last = to.with_timezone(&self.timezone).date_naive();
            let mut date = first;
            while date <= last {
                if let Some(slot) = self.digest(date).filter(|s| from < s.at && s.at <= to) {
                    slots.push(slot);
                }
                date = date.succ_opt().unwrap_or(last + TimeDelta::days(1));
            }
        }
        slots.sort_by(|a, b| a.at.cmp(&b.at).then_with(|| a.key.cmp(&b.key)));
        slots
    }

    /// The slots after `after`, soonest first, at most `count` (digests only when
    /// `digests`: they are made only while something is left to switch).
    pub fn upcoming(&self, after: DateTime<Utc>, count: usize, digests: bool) -> Vec<Slot> {
        let mut slots: Vec<Slot> = self.milestones().filter(|s| s.at > after).collect();
        if digests && self.digest_at.is_some() {
            let mut date = after.with_timezone(&self.timezone).date_naive();
            let mut found = 0;
            for _ in 0..DIGEST_HORIZON_DAYS {
                if let Some(slot) = self.digest(date).filter(|s| s.at > after) {
                    slots.push(slot);
                    found += 1;
                    if found == count {
                        break;
                    }
                }
                let Some(next) = date.succ_opt() else { break };
                date = next;
            }
        }
        slots.sort_by(|a, b| a.at.cmp(&b.at).then_with(|| a.key.cmp(&b.key)));
        slots.truncate(count);
        slots
    }
}

/// What a round of the scheduler should do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// Due now (at most `LATE` late), not posted yet: at most one milestone per deadline
    /// (the latest that fell), and a digest only when no other post goes out.
    pub due: Vec<Slot>,
    /// Fell, but a later post of this round says it: a milestone whose later sibling has
    /// fallen too (its wording would be stale), a digest beside a milestone or a
    /// catch-up. Claimed as such and never sent.
    pub superseded: Vec<Slot>,
    /// Milestones that fell while cutover was away, longer ago than `LATE`, of deadlines
    /// with nothing due now: one catch-up post names them; they are never replayed.
    pub missed: Vec<Slot>,
    /// When the next slot falls.
    pub next: Option<DateTime<Utc>>,
}

/// The round at `now`, given the keys already claimed and the watermark (the last
/// instant a round considered: nothing before it is posted, so a fresh install, a pause
/// or a missing channel never announces the past). Digests fall due only while
/// something is left to switch.
pub fn plan(
    calendar: &Calendar<'_>,
    claimed: &HashSet<String>,
    watermark: DateTime<Utc>,
    now: DateTime<Utc>,
    unmigrated: u64,
) -> Plan {
    let fresh_from = watermark.max(now - LATE);
    let fallen = calendar.between(watermark, now);
    // The latest milestone of each deadline that fell since the watermark, sent or not:
    // the one post that deadline gets. Its earlier siblings are superseded when it goes
    // out now or already went (a crash between two posts of one round).
    let mut latest: HashMap<usize, &Slot> = HashMap::new();
    for slot in &fallen {
        if let SlotKind::Milestone { deadline, .. } = slot.kind {
            let at = latest.entry(deadline).or_insert(slot);
            if slot.at > at.at {
                *at = slot;
            }
        }
    }
    let speaks: HashMap<usize, DateTime<Utc>> = latest
        .into_iter()
        .filter(|(_, slot)| slot.at > fresh_from || claimed.contains(&slot.key))
        .map(|(deadline, slot)| (deadline, slot.at))
        .collect();
    let mut plan = Plan {
        due: Vec::new(),
        superseded: Vec::new(),
        missed: Vec::new(),
        next: calendar
            .upcoming(now, 1, unmigrated > 0)
            .first()
            .map(|s| s.at),
    };
    let mut digests = Vec::new();
    for slot in fallen.iter().filter(|s| !claimed.contains(&s.key)).cloned() {
        let fresh = slot.at > fresh_from;
        match slot.kind {
            SlotKind::Milestone { deadline, .. } => {
                if speaks
                    .get(&deadline)
                    .is_some_and(|latest| slot.at < *latest)
                {
                    plan.superseded.push(slot);
                } else if fresh {
                    plan.due.push(slot);
                } else {
                    plan.missed.push(slot);
                }
            }
            SlotKind::Digest { .. } if fresh && unmigrated > 0 => digests.push(slot),
            SlotKind::Digest { .. } => {}
        }
    }
    if plan.due.is_empty() && plan.missed.is_empty() {
        plan.due.extend(digests);
    } else {
        plan.superseded.extend(digests);
    }
    plan
}

/// The catch-up post's key: where the channel's last round stopped. Two instances that
/// read the same watermark catch up with one post; one that reads it after the other
/// moved it has nothing to catch up.
pub fn catch_up_key(watermark: DateTime<Utc>) -> String {
    format!("catch-up:{}", watermark.timestamp_micros())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{parse_due, DeadlineOrigin, DisplayName};

    fn tz(name: &str) -> Tz {
        name.parse().expect("zone")
    }

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s)
            .expect("instant")
            .with_timezone(&Utc)
    }

    fn deadline(due: &str, zone: Tz) -> Deadline {
        Deadline {
            origin: DeadlineOrigin::Configured,
            title: DisplayName::parse("Cut-off").expect("title"),
            due: parse_due(due, zone).expect("due"),
            note: String::new(),
            approximate: false,
        }
    }

    fn days(n: u64) -> HumanDuration {
        HumanDuration::from_seconds(n * 86_400)
    }

    #[test]
    fn day_milestones_keep_the_wall_clock_time_across_dst() {
        let berlin = tz("Europe/Berlin");
        // 09:00 on 2 April (summer time); a week earlier is 09:00 winter time.
        let d = [deadline("2024-04-02T09:00", berlin)];
        let before = [
            days(7),
            HumanDuration::from_seconds(3_600),
            HumanDuration::from_seconds(0),
        ];
        let cal = Calendar {
            deadlines: &d,
            before: &before,
            digest_at: None,
            timezone: berlin,
            skip_dates: &[],
        };
        assert_eq!(
            cal.milestone_at(&d[0], days(7)),
            utc("2024-03-26T08:00:00Z")
        );
        assert_eq!(
            cal.milestone_at(&d[0], HumanDuration::from_seconds(3_600)),
            utc("2024-04-02T06:00:00Z")
        );
        assert_eq!(
            cal.milestone_at(&d[0], HumanDuration::from_seconds(0)),
            utc("2024-04-02T07:00:00Z")
        );
        let ny = tz("America/New_York");
        // Across the fall-back of 3 November 2024.
        let d = [deadline("2024-11-05T10:00", ny)];
        let cal = Calendar {
            deadlines: &d,
            before: &before,
            digest_at: None,
            timezone: ny,
            skip_dates: &[],
        };
        assert_eq!(
            cal.milestone_at(&d[0], days(7)),
            utc("2024-10-29T14:00:00Z")
        );
    }

    #[test]
    fn digests_fall_on_working_days_at_local_time_through_gaps_and_folds() {
        let ny = tz("America/New_York");
        let skip = [NaiveDate::from_ymd_opt(2024, 3, 11).expect("date")];
        let cal = Calendar {
            deadlines: &[],
            before: &[],
            digest_at: NaiveTime::from_hms_opt(2, 30, 0),
            timezone: ny,
            skip_dates: &skip,
        };
        // Fri 8 March, the weekend, Sun 10 March is the gap (02:30 never happens, and it is
        // a Sunday anyway), Mon 11 March skipped, Tue 12 March.
        let slots = cal.between(utc("2024-03-07T12:00:00Z"), utc("2024-03-13T00:00:00Z"));
        let at: Vec<_> = slots.iter().map(|s| (s.key.as_str(), s.at)).collect();
        assert_eq!(
            at,
            [
                ("digest:2024-03-08", utc("2024-03-08T07:30:00Z")),
                ("digest:2024-03-12", utc("2024-03-12T06:30:00Z")),
            ]
        );
        // Berlin and New York change on Sundays; Cairo sprang forward on Friday 26 April
        // 2024 at midnight: a 00:30 digest that day falls at 01:00, once.
        let cairo = tz("Africa/Cairo");
        let cal = Calendar {
            digest_at: NaiveTime::from_hms_opt(0, 30, 0),
            timezone: cairo,
            skip_dates: &[],
            ..cal
        };
        let slots = cal.between(utc("2024-04-24T12:00:00Z"), utc("2024-04-29T12:00:00Z"));
        let at: Vec<_> = slots.iter().map(|s| (s.key.as_str(), s.at)).collect();
        assert_eq!(
            at,
            [
                ("digest:2024-04-25", utc("2024-04-24T22:30:00Z")),
                ("digest:2024-04-26", utc("2024-04-25T22:00:00Z")),
                ("digest:2024-04-29", utc("2024-04-28T21:30:00Z")),
            ]
        );
    }

    #[test]
    fn a_digest_time_in_the_gap_or_the_fold_happens_once() {
        let ny = tz("America/New_York");
        // Treat Sunday as a working day by asking for the digest directly.
        let cal = Calendar {
            deadlines: &[],
            before: &[],
            digest_at: NaiveTime::from_hms_opt(2, 30, 0),
            timezone: ny,
            skip_dates: &[],
        };
        let gap = NaiveDate::from_ymd_opt(2024, 3, 10).expect("date");
        assert_eq!(
            local_to_utc(
                gap.and_time(NaiveTime::from_hms_opt(2, 30, 0).expect("time")),
                ny
            ),
            Some(utc("2024-03-10T07:00:00Z")),
            "the first minute after the gap"
        );
        let fold_cal = Calendar {
            digest_at: NaiveTime::from_hms_opt(1, 30, 0),
            ..cal
        };
        // Monday 4 November 2024 has no fold, Sunday 3 November does; across it, one digest
        // a working day and none doubled.
        let slots = fold_cal.between(utc("2024-11-01T00:00:00Z"), utc("2024-11-06T00:00:00Z"));
        let keys: Vec<_> = slots.iter().map(|s| s.key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "digest:2024-11-01",
                "digest:2024-11-04",
                "digest:2024-11-05"
            ]
        );
    }

    #[test]
    fn a_digest_time_in_a_fold_on_a_working_day_comes_once_at_the_first() {
        // Cairo fell back on Thursday 31 October 2024: 23:00–24:00 happened twice.
        let cairo = tz("Africa/Cairo");
        let cal = Calendar {
            deadlines: &[],
            before: &[],
            digest_at: NaiveTime::from_hms_opt(23, 30, 0),
            timezone: cairo,
            skip_dates: &[],
        };
        let slots = cal.between(utc("2024-10-31T12:00:00Z"), utc("2024-11-01T12:00:00Z"));
        let at: Vec<_> = slots.iter().map(|s| (s.key.as_str(), s.at)).collect();
        assert_eq!(at, [("digest:2024-10-31", utc("2024-10-31T20:30:00Z"))]);
    }

    #[test]
    fn a_round_posts_what_is_due_once_and_summarizes_what_was_missed() {
        let zone = tz("UTC");
        let d = [deadline("2025-12-31T09:00", zone)];
        let before = [days(3), days(2), days(1), days(0)];
        let cal = Calendar {
            deadlines: &d,
            before: &before,
            digest_at: None,
            timezone: zone,
            skip_dates: &[],
        };
        // The last round ran just before the instant; the next one, just after.
        let now = utc("2025-12-30T09:00:05Z");
        let watermark = utc("2025-12-30T08:59:30Z");
        let p = plan(&cal, &HashSet::new(), watermark, now, 5);
        assert_eq!(p.due.len(), 1);
        assert_eq!(
            p.due[0].at,
            utc("2025-12-30T09:00:00Z"),
            "exactly at its instant"
        );
        assert!(p.missed.is_empty());
        assert_eq!(p.next, Some(utc("2025-12-31T09:00:00Z")));
        let claimed: HashSet<String> = p.due.iter().map(|s| s.key.clone()).collect();
        assert!(
            plan(&cal, &claimed, watermark, now, 5).due.is_empty(),
            "claimed: not again"
        );

        // Away for three milestones: one catch-up, nothing replayed.
        let away = plan(
            &cal,
            &HashSet::new(),
            utc("2025-12-27T00:00:00Z"),
            utc("2025-12-31T12:00:00Z"),
            5,
        );
        assert!(away.due.is_empty());
        assert_eq!(away.missed.len(), 4);
        assert_ne!(
            catch_up_key(utc("2025-12-27T00:00:00Z")),
            catch_up_key(utc("2025-12-27T00:00:01Z")),
            "keyed by the watermark the catch-up starts from"
        );

        // A fresh install (the watermark is now) announces nothing of the past.
        let fresh = plan(
            &cal,
            &HashSet::new(),
            utc("2026-01-05T00:00:00Z"),
            utc("2026-01-05T00:00:00Z"),
            5,
        );
        assert!(fresh.due.is_empty() && fresh.missed.is_empty() && fresh.next.is_none());
    }

    #[test]
    fn after_a_short_outage_a_deadline_gets_one_post_and_never_a_stale_one() {
        let zone = tz("UTC");
        let d = [deadline("2025-12-31T09:00", zone)];
        let before = [
            HumanDuration::from_seconds(60),
            HumanDuration::from_seconds(30),
            HumanDuration::from_seconds(0),
        ];
        let cal = Calendar {
            deadlines: &d,
            before: &before,
            digest_at: None,
            timezone: zone,
            skip_dates: &[],
        };
        // Stopped before the 1-minute milestone, back 10 s after the deadline.
        let watermark = utc("2025-12-31T08:58:30Z");
        let now = utc("2025-12-31T09:00:10Z");
        let p = plan(&cal, &HashSet::new(), watermark, now, 5);
        assert_eq!(p.due.len(), 1, "{p:?}");
        assert_eq!(
            p.due[0].at,
            utc("2025-12-31T09:00:00Z"),
            "the latest that fell"
        );
        let superseded: Vec<DateTime<Utc>> = p.superseded.iter().map(|s| s.at).collect();
        assert_eq!(
            superseded,
            [utc("2025-12-31T08:59:00Z"), utc("2025-12-31T08:59:30Z")]
        );
        assert!(p.missed.is_empty());

        // A crash after the latest was claimed but before its siblings were: they are
        // superseded, not sent, and no catch-up names them either, however late.
        let claimed: HashSet<String> = p.due.iter().map(|s| s.key.clone()).collect();
        for now in [now, utc("2025-12-31T10:00:00Z")] {
            let p = plan(&cal, &claimed, watermark, now, 5);
            assert!(p.due.is_empty() && p.missed.is_empty(), "{p:?}");
            assert_eq!(p.superseded.len(), 2);
        }
    }

    #[test]
    fn a_digest_beside_a_milestone_is_superseded() {
        let zone = tz("UTC");
        let d = [deadline("2025-12-02T09:30", zone)];
        let before = [days(0)];
        let cal = Calendar {
            deadlines: &d,
            before: &before,
            digest_at: NaiveTime::from_hms_opt(9, 30, 0),
            timezone: zone,
            skip_dates: &[],
        };
        let p = plan(
            &cal,
            &HashSet::new(),
            utc("2025-12-02T09:29:00Z"),
            utc("2025-12-02T09:30:05Z"),
            3,
        );
        assert_eq!(p.due.len(), 1, "{p:?}");
        assert!(matches!(p.due[0].kind, SlotKind::Milestone { .. }));
        assert_eq!(p.superseded.len(), 1);
        assert!(matches!(p.superseded[0].kind, SlotKind::Digest { .. }));
    }

    #[test]
    fn digests_stop_when_nothing_is_left() {
        let zone = tz("UTC");
        let cal = Calendar {
            deadlines: &[],
            before: &[],
            digest_at: NaiveTime::from_hms_opt(9, 30, 0),
            timezone: zone,
            skip_dates: &[],
        };
        let now = utc("2025-12-01T09:30:00Z");
        let watermark = utc("2025-12-01T09:00:00Z");
        assert_eq!(plan(&cal, &HashSet::new(), watermark, now, 1).due.len(), 1);
        assert!(plan(&cal, &HashSet::new(), watermark, now, 0)
            .due
            .is_empty());
        let upcoming = cal.upcoming(utc("2025-12-05T10:00:00Z"), 2, true);
        assert_eq!(
            upcoming.iter().map(|s| s.key.as_str()).collect::<Vec<_>>(),
            ["digest:2025-12-08", "digest:2025-12-09"],
            "Friday after the digest: Monday next"
        );
    }
}
