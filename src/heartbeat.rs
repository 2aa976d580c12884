//! The pulse of a background loop (token refresh, reminders): rounds started and finished,
//! when the loop began and when a round last finished. `/readyz` reads it to tell a loop
//! that is fine from one that is stuck in a round or never got going; `tick` wakes the
//! loop and waits for a fresh round, which is how tests drive it with the clock pinned.

use crate::clock::SharedClock;
use chrono::{DateTime, TimeDelta, Utc};
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::Duration;
use tokio::sync::{watch, Notify};

pub struct Heartbeat {
    clock: SharedClock,
    wake: Notify,
    started: AtomicU64,
    finished: watch::Sender<u64>,
    /// Unix seconds; 0 until the loop begins.
    began_at: AtomicI64,
    /// Unix seconds; 0 until a round finishes.
    finished_at: AtomicI64,
}

/// How a loop is doing, as `/readyz` says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pulse {
    /// Not begun, or begun and its first round not yet overdue.
    Starting,
    /// The last round finished this long ago.
    Ok(TimeDelta),
    /// No round has finished for this long: the loop is stuck or has died.
    Stalled(TimeDelta),
}

impl Pulse {
    pub fn name(self) -> &'static str {
        match self {
            Pulse::Starting => "starting",
            Pulse::Ok(_) => "ok",
            Pulse::Stalled(_) => "stalled",
        }
    }

    pub fn lag_seconds(self) -> Option<i64> {
        match self {
            Pulse::Starting => None,
            Pulse::Ok(lag) | Pulse::Stalled(lag) => Some(lag.num_seconds()),
        }
    }

    pub fn is_stalled(self) -> bool {
        matches!(self, Pulse::Stalled(_))
    }
}

impl Heartbeat {
    pub fn new(clock: SharedClock) -> Self {
        let (finished, _) = watch::channel(0);
        Self {
            clock,
            wake: Notify::new(),
            started: AtomicU64::new(0),
            finished,
            began_at: AtomicI64::new(0),
            finished_at: AtomicI64::new(0),
        }
    }

    /// The loop has begun: from now on its first round is expected.
    pub fn begin(&self) {
        self.began_at
            .store(self.clock.now().timestamp(), Ordering::Relaxed);
    }

    pub fn round_starts(&self) {
        self.started.fetch_add(1, Ordering::SeqCst);
    }

    pub fn round_finished(&self) {
        self.finished_at
            .store(self.clock.now().timestamp(), Ordering::Relaxed);
        self.finished.send_modify(|n| *n += 1);
    }

    /// Between rounds: until `at_most` has passed or the loop is woken.
    pub async fn rest(&self, at_most: Duration) {
        tokio::select! {
            () = tokio::time::sleep(at_most) => {}
            () = self.wake.notified() => {}
        }
    }

    /// Something changed: the loop looks again at once.
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Wakes the loop and waits until a round that started after this call has finished.
    pub async fn tick(&self) {
        let target = self.started.load(Ordering::SeqCst) + 1;
        let mut finished = self.finished.subscribe();
        self.wake();
        let _ = finished.wait_for(|n| *n >= target).await;
    }

    /// Rounds finished so far, watched.
    pub fn finished_rounds(&self) -> watch::Receiver<u64> {
        self.finished.subscribe()
    }

    /// Stalled once no round has finished for longer than `max`, counting from when the
    /// loop began if none has yet.
    pub fn pulse(&self, max: TimeDelta) -> Pulse {
        let now = self.clock.now();
        let since = |at: i64| now - DateTime::<Utc>::from_timestamp(at, 0).unwrap_or_default();
        match (
            self.finished_at.load(Ordering::Relaxed),
            self.began_at.load(Ordering::Relaxed),
        ) {
            (0, 0) => Pulse::Starting,
            (0, began) if since(began) <= max => Pulse::Starting,
            (0, began) => Pulse::Stalled(since(began)),
            (last, _) if since(last) <= max => Pulse::Ok(since(last)),
            (last, _) => Pulse::Stalled(since(last)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use std::sync::Arc;

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().expect("instant")
    }

    #[test]
    fn a_loop_that_never_finishes_a_round_stalls_once_overdue() {
        let clock = ManualClock::new(at("2025-01-01T00:00:00Z"));
        let beat = Heartbeat::new(Arc::new(clock.clone()));
        let max = TimeDelta::minutes(3);
        assert_eq!(beat.pulse(max), Pulse::Starting, "not begun");
        beat.begin();
        clock.set(at("2025-01-01T00:03:00Z"));
        assert_eq!(beat.pulse(max), Pulse::Starting, "not yet overdue");
        clock.set(at("2025-01-01T00:03:01Z"));
        assert_eq!(beat.pulse(max), Pulse::Stalled(TimeDelta::seconds(181)));
        beat.round_starts();
        beat.round_finished();
        assert_eq!(beat.pulse(max), Pulse::Ok(TimeDelta::zero()));
        clock.set(at("2025-01-01T00:10:00Z"));
        assert_eq!(
            beat.pulse(max).lag_seconds(),
            Some(419),
            "stalled since the last round"
        );
        assert!(beat.pulse(max).is_stalled());
    }
}
