//! `cutover rekey`: every stored secret re-sealed under the new sealing key, in one
//! transaction. A value that opens with the new key already is left alone (so a second
//! run, or values a running cutover sealed with the new key meanwhile, change nothing);
//! one that opens with neither key stops it all before anything is written.

use super::{attempt_identity, token_identity, Sealer};
use crate::domain::Actor;
use crate::settings::SealingKey;
use crate::store::{Reseal, ResealSummary, SealedOwner, SealedValue, Store, StoreError};
use chrono::{DateTime, Utc};
use secrecy::ExposeSecret;

#[derive(Debug, thiserror::Error)]
pub enum RekeyError {
    #[error(
        "{} open with neither the new key nor the previous one: security.previous_sealing_key is not the key \
         they were sealed under. Nothing was changed; give the key cutover used until now",
        crate::words::counted(*.0, "stored secret", "stored secrets")
    )]
    WrongPreviousKey(usize),
    #[error(
        "a token refresh is under way ({}): run cutover rekey again in a few minutes. Nothing was changed",
        crate::words::counted(*.0, "connection", "connections")
    )]
    RefreshUnderWay(usize),
    #[error(transparent)]
    Store(#[from] StoreError),
}

pub async fn rekey(
    store: &Store,
    new: &SealingKey,
    previous: &SealingKey,
    now: DateTime<Utc>,
) -> Result<ResealSummary, RekeyError> {
    let new = Sealer::new(new.bytes());
    let previous = Sealer::new(previous.bytes());
    let reseal = |value: &SealedValue| {
        let identity = match &value.owner {
            SealedOwner::Attempt(state_hash) => attempt_identity(state_hash, value.what),
            SealedOwner::Connection(connection) => token_identity(connection, value.what),
        };
        if new.open(&value.sealed, &identity).is_ok() {
            return Reseal::Keep;
        }
        match previous.open(&value.sealed, &identity) {
            Ok(plain) => match new.seal(plain.expose_secret(), &identity) {
                Ok(sealed) => Reseal::Replace(sealed),
                Err(_) => Reseal::Unreadable,
            },
            Err(_) => Reseal::Unreadable,
        }
    };
    let summary = store.reseal_all(reseal, Actor::CommandLine, now).await?;
    if summary.refreshing > 0 {
        return Err(RekeyError::RefreshUnderWay(summary.refreshing));
    }
    if summary.unreadable > 0 {
        return Err(RekeyError::WrongPreviousKey(summary.unreadable));
    }
    Ok(summary)
}
