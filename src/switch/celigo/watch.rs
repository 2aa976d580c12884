//! Completion of a `celigo` switch. Zoom sends the person back to integrator.io, which
//! stores the token; nothing tells cutover. So from the moment a link is opened the
//! connection is pinged every `celigo.ping_every` until the link's life plus a grace
//! period; on the first success a fresh read confirms it (OAuth 2.0, our iClient, a token
//! present), and the switch is recorded and announced. Watches outlive restarts: they
//! are picked up again at start.

use super::Celigo;
use crate::domain::{Backend, ConnectionId};
use crate::integrator_io::{CeligoError, Document, Scheme};
use crate::store::{Attempt, AttemptStatus, PREPARE_GRACE};
use crate::switch::Outcome;
use std::sync::{Arc, PoisonError};
use std::time::Duration;
use tokio::sync::{watch as channel, Notify};
use tokio::time::Instant;

/// However often a watch is woken, it pings at most this often.
const MIN_GAP: Duration = Duration::from_secs(1);

/// One running watch: a way to wake it (the browser came back, or a fresh link is asked
/// for), the rounds it has made, and its outcome.
pub(super) struct Watch {
    connection: ConnectionId,
    wake: Notify,
    rounds: channel::Sender<u64>,
    outcome: channel::Sender<Option<Outcome>>,
}

/// What checking a connection at once found.
pub enum Checked {
    /// No link of it is being watched.
    NotWatched,
    /// The watch made a round (or ended): its outcome, if it has one.
    Watched(Option<Outcome>),
}

enum Confirmed {
    Switched(Outcome),
    /// Not yet: ping again.
    NotYet,
    /// The connection no longer uses cutover's iClient, or is gone.
    Changed,
    /// The attempt stopped being watched meanwhile.
    Over,
}

impl Celigo {
    /// Watches an opened link's connection in the background (once per attempt).
    pub fn start_watch(self: &Arc<Self>, attempt: Attempt) {
        let (outcome, _) = channel::channel(None);
        let (rounds, _) = channel::channel(0);
        let watch = Arc::new(Watch {
            connection: attempt.connection.clone(),
            wake: Notify::new(),
            rounds,
            outcome,
        });
        {
            let mut watches = self.watches.lock().unwrap_or_else(PoisonError::into_inner);
            if watches.contains_key(&attempt.id) {
                return;
            }
            watches.insert(attempt.id, Arc::clone(&watch));
        }
        let this = Arc::clone(self);
        tokio::spawn(async move {
            let outcome = this.watch(&attempt, &watch).await;
            this.watches
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .remove(&attempt.id);
            if let Some(outcome) = outcome {
                watch.outcome.send_replace(Some(outcome.clone()));
                this.switch.count_outcome(&attempt, &outcome);
                this.switch.tell(&attempt, &outcome).await;
            }
        });
    }

    /// Wakes the watch of `connection`, if one runs, and waits (at most `within`) for the
    /// round that follows.
    pub async fn check_now(&self, connection: &ConnectionId, within: Duration) -> Checked {
        let (mut outcome, mut rounds) = {
            let watches = self.watches.lock().unwrap_or_else(PoisonError::into_inner);
            let Some(watch) = watches.values().find(|w| &w.connection == connection) else {
                return Checked::NotWatched;
            };
            watch.wake.notify_one();
            (watch.outcome.subscribe(), watch.rounds.subscribe())
        };
        rounds.borrow_and_update();
        let _ = tokio::time::timeout(within, async {
            tokio::select! {
                _ = outcome.wait_for(Option::is_some) => {}
                _ = rounds.changed() => {}
            }
        })
        .await;
        let result = outcome.borrow().clone();
        Checked::Watched(result)
    }

    /// Pings until the switch is confirmed, the watch's time is up, or the attempt is no
    /// longer watched. `None`: nothing to tell (someone else finished or replaced it).
    async fn watch(&self, attempt: &Attempt, watch: &Watch) -> Option<Outcome> {
        let until = attempt.watch_until?;
        let id = &attempt.connection;
        loop {
            match self.store.attempt(attempt.id).await {
                Ok(Some(now)) if now.status == AttemptStatus::Watching => {}
                Ok(_) => return None,
                Err(e) => {
                    tracing::warn!(error = %e, "could not read a watched attempt; trying again")
                }
            }
            if self.clock.now() >= until {
                return self
                    .end(
                        attempt,
                        "not authorized in time",
                        Outcome::NotAuthorizedInTime,
                    )
                    .await;
            }
            match self.client.ping(id).await {
                Ok(true) => match self.confirm(attempt).await {
                    Confirmed::Switched(outcome) => return Some(outcome),
                    Confirmed::Changed => {
                        return self
                            .end(
                                attempt,
                                "the connection no longer uses cutover's iClient",
                                Outcome::ChangedInCeligo,
                            )
                            .await
                    }
                    Confirmed::Over => return None,
                    Confirmed::NotYet => {}
                },
                Ok(false) => tracing::debug!(connection = %id, "not authorized yet"),
                Err(CeligoError::NotFound) => {
                    return self
                        .end(
                            attempt,
                            "the connection is gone from integrator.io",
                            Outcome::ChangedInCeligo,
                        )
                        .await
                }
                Err(e) => {
                    tracing::warn!(connection = %id, error = %e, "could not ping the connection; trying again")
                }
            }
            let pinged = Instant::now();
            watch.rounds.send_modify(|round| *round += 1);
            tokio::select! {
                () = tokio::time::sleep(self.ping_every) => {}
                () = watch.wake.notified() => tokio::time::sleep_until(pinged + MIN_GAP).await,
            }
        }
    }

    /// Ends a watch that did not switch: the connection stays awaiting authorization.
    async fn end(&self, attempt: &Attempt, why: &str, outcome: Outcome) -> Option<Outcome> {
        match self
            .store
            .fail_attempt(attempt, why, attempt.actor, self.clock.now())
            .await
        {
            Ok(true) => Some(outcome),
            Ok(false) => None,
            Err(e) => {
                tracing::error!(error = %e, "could not close a watched attempt");
                None
            }
        }
    }

    /// After a successful ping: the connection must be on OAuth 2.0 with the iClient this
    /// attempt made, and hold a token — or, since where integrator.io keeps the token is
    /// not documented, read `offline: false` right after the ping that passed.
    async fn confirm(&self, attempt: &Attempt) -> Confirmed {
        let doc = match self.client.connection(&attempt.connection).await {
            Ok(doc) => doc,
            Err(CeligoError::NotFound) => return Confirmed::Changed,
            Err(e) => {
                tracing::warn!(error = %e, "could not read the connection to confirm the switch");
                return Confirmed::NotYet;
            }
        };
        let d = Document(&doc);
        if d.auth() != Some(Scheme::OAuth) || d.iclient() != attempt.iclient_id.as_deref() {
            return Confirmed::Changed;
        }
        let evidence = if d.has_token() {
            "a token is stored"
        } else if d.offline() == Some(false) {
            "online"
        } else {
            return Confirmed::NotYet;
        };
        let detail = format!(
            "iClient {}, ping passed, {evidence}",
            attempt.iclient_id.as_deref().unwrap_or_default()
        );
        match self
            .store
            .complete_celigo_switch(attempt, &detail, attempt.actor, self.clock.now())
            .await
        {
            Ok(Some(done)) => {
                tracing::info!(connection = %attempt.connection, "switched to OAuth 2.0 in integrator.io");
                Confirmed::Switched(Outcome::Switched {
                    connection: attempt.connection.to_string(),
                    left: done.left,
                    backend: Backend::Celigo,
                })
            }
            Ok(None) => Confirmed::Over,
            Err(e) => {
                tracing::error!(error = %e, "could not record the switch; trying again");
                Confirmed::NotYet
            }
        }
    }

    /// At start: watches of opened links go on; a preparation a stopped process left
    /// half done is closed, and its iClient deleted unless integrator.io already uses it.
    pub async fn resume(self: &Arc<Self>) {
        let attempts = match self
            .store
            .celigo_attempts_to_resume(self.clock.now() - PREPARE_GRACE)
            .await
        {
            Ok(attempts) => attempts,
            Err(e) => {
                tracing::error!(error = %e, "could not read the switches to resume");
                return;
            }
        };
        for attempt in attempts {
            if attempt.status == AttemptStatus::Watching {
                self.start_watch(attempt);
                continue;
            }
            let landed = match &attempt.iclient_id {
                None => false,
                Some(iclient) => match self.client.connection(&attempt.connection).await {
                    Ok(doc) => Document(&doc).iclient() == Some(iclient.as_str()),
                    // Not knowing, leave it for the next start.
                    Err(e) => {
                        tracing::warn!(error = %e, "could not check an interrupted preparation");
                        continue;
                    }
                },
            };
            let why = if landed {
                "interrupted after integrator.io was switched: it awaits authorization"
            } else {
                if let Some(iclient) = &attempt.iclient_id {
                    self.discard_iclient(iclient).await;
                }
                "interrupted before integrator.io was switched"
            };
            if let Err(e) = self
                .store
                .fail_attempt(&attempt, why, attempt.actor, self.clock.now())
                .await
            {
                tracing::error!(error = %e, "could not close an interrupted preparation");
            }
        }
    }
}
