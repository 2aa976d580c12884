//! What `/readyz` says about integrator.io: whether it accepts cutover's token (as last
//! seen), and how long ago the periodic sync last ran. A refused token does not make
//! cutover unready: Discord still gets its answers, and each Celigo command says why
//! it cannot work.

use chrono::{DateTime, TimeDelta, Utc};
use std::sync::{Mutex, PoisonError};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenState {
    /// Not asked yet.
    Unknown,
    Accepted,
    Refused {
        status: u16,
    },
    Unreachable,
}

impl TokenState {
    pub fn describe(self) -> &'static str {
        match self {
            TokenState::Unknown => "checking",
            TokenState::Accepted => "ok",
            TokenState::Refused { .. } => "token refused",
            TokenState::Unreachable => "unreachable",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncState {
    Off,
    /// Not run yet.
    Starting,
    /// The last round, and whether it worked.
    Ran {
        at: DateTime<Utc>,
        ok: bool,
    },
}

#[derive(Debug)]
pub struct Health {
    token: Mutex<TokenState>,
    sync: Mutex<SyncState>,
}

impl Health {
    pub fn new(periodic_sync: bool) -> Self {
        Self {
            token: Mutex::new(TokenState::Unknown),
            sync: Mutex::new(if periodic_sync {
                SyncState::Starting
            } else {
                SyncState::Off
            }),
        }
    }

    pub fn token(&self) -> TokenState {
        *self.token.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(super) fn set_token(&self, state: TokenState) {
        *self.token.lock().unwrap_or_else(PoisonError::into_inner) = state;
    }

    pub fn sync(&self) -> SyncState {
        *self.sync.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub fn sync_ran(&self, at: DateTime<Utc>, ok: bool) {
        let mut sync = self.sync.lock().unwrap_or_else(PoisonError::into_inner);
        if *sync != SyncState::Off {
            *sync = SyncState::Ran { at, ok };
        }
    }

    /// How long ago the periodic sync last ran, if it has.
    pub fn sync_lag(&self, now: DateTime<Utc>) -> Option<TimeDelta> {
        match self.sync() {
            SyncState::Ran { at, .. } => Some(now - at),
            _ => None,
        }
    }
}
