//! Interactions already answered. Discord signs a request, not a moment: whoever holds a
//! signed body can send it again while its timestamp is fresh (five minutes either side
//! of our clock) and would get the answer — a personal link, say — and the action done
//! again; the gateway, too, may deliver an event twice. So each interaction id is
//! remembered, and a repeat is answered without acting.
//!
//! The memory is this process's own (two instances behind one endpoint do not share
//! it), bounded in time and size, O(1) per request; its lock is held only for the
//! lookup, never across an await.

use crate::chat::{Message, Reply};
use crate::clock::SharedClock;
use chrono::{DateTime, TimeDelta, Utc};
use serenity::all::Interaction;
use std::collections::{HashSet, VecDeque};
use std::sync::{Mutex, PoisonError};

/// Longer than a signed request stays fresh: its timestamp may be five minutes behind our
/// clock at the first delivery and five minutes ahead at a replay (checked in whole
/// seconds, so a little over ten minutes in all): eleven leaves no gap.
const REMEMBER: TimeDelta = TimeDelta::minutes(11);
/// At most this many ids (a couple of megabytes); past it the oldest go first. A team's
/// bot gets far fewer interactions in ten minutes.
const CAPACITY: usize = 50_000;

const ALREADY_HANDLED: &str = "This was already handled, so nothing was done again.";

pub struct SeenInteractions {
    clock: SharedClock,
    seen: Mutex<Seen>,
}

#[derive(Default)]
struct Seen {
    ids: HashSet<u64>,
    /// The same ids in the order they came, to forget the oldest first.
    order: VecDeque<(DateTime<Utc>, u64)>,
}

impl Seen {
    fn forget_oldest(&mut self) {
        if let Some((_, id)) = self.order.pop_front() {
            self.ids.remove(&id);
        }
    }
}

impl SeenInteractions {
    pub fn new(clock: SharedClock) -> Self {
        Self {
            clock,
            seen: Mutex::default(),
        }
    }

    /// Whether `interaction` was seen before (then it is logged, and must not be acted
    /// on); the first time, it is remembered.
    pub fn repeated(&self, interaction: &Interaction) -> bool {
        let id = interaction.id().get();
        if self.first_time(id) {
            return false;
        }
        tracing::info!(
            interaction = id,
            "a repeated interaction was not acted on again"
        );
        true
    }

    fn first_time(&self, id: u64) -> bool {
        let now = self.clock.now();
        let forget_up_to = now - REMEMBER;
        let mut seen = self.seen.lock().unwrap_or_else(PoisonError::into_inner);
        // Each id is popped once, so forgetting costs O(1) per request, amortized.
        while seen
            .order
            .front()
            .is_some_and(|(at, _)| *at <= forget_up_to)
        {
            seen.forget_oldest();
        }
        if !seen.ids.insert(id) {
            return false;
        }
        if seen.order.len() == CAPACITY {
            seen.forget_oldest();
        }
        seen.order.push_back((now, id));
        true
    }
}

/// The answer to a repeat: nothing done, and nothing of the first answer given (the
/// sender may not be Discord).
pub fn repeat_answer(interaction: &Interaction) -> Reply {
    match interaction {
        Interaction::Autocomplete(_) => Reply::Choices(Vec::new()),
        _ => Reply::Message(Message::private(ALREADY_HANDLED)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use std::sync::Arc;

    fn start() -> (SeenInteractions, ManualClock, DateTime<Utc>) {
        let at = DateTime::parse_from_rfc3339("2025-11-21T12:00:00Z")
            .expect("instant")
            .with_timezone(&Utc);
        let clock = ManualClock::new(at);
        (SeenInteractions::new(Arc::new(clock.clone())), clock, at)
    }

    #[test]
    fn a_repeat_is_refused_and_other_ids_pass() {
        let (seen, _, _) = start();
        assert!(seen.first_time(1));
        assert!(seen.first_time(2));
        assert!(!seen.first_time(1));
        assert!(!seen.first_time(2));
    }

    #[test]
    fn an_id_is_remembered_for_ten_minutes() {
        let (seen, clock, at) = start();
        assert!(seen.first_time(1));
        clock.set(at + REMEMBER - TimeDelta::seconds(1));
        assert!(!seen.first_time(1), "still within the window");
        clock.set(at + REMEMBER);
        assert!(
            seen.first_time(1),
            "forgotten once no signature can be fresh"
        );
    }

    #[test]
    fn at_most_the_capacity_is_kept_the_oldest_forgotten_first() {
        let (seen, _, _) = start();
        for id in 0..=CAPACITY as u64 {
            assert!(seen.first_time(id));
        }
        let kept = seen.seen.lock().expect("lock").ids.len();
        assert_eq!(kept, CAPACITY);
        assert!(!seen.first_time(1), "the second oldest is still known");
        assert!(seen.first_time(0), "the oldest made room");
    }
}
