//! Revoking old Zoom tokens: each round of the token scheduler works through the queue
//! the store keeps (a connection switched again to another app or user, or removed, and
//! fresh tokens nobody holds). A Zoom that cannot be reached is asked again later, with a
//! growing pause, for about a day.

use super::zoom::{RevokeError, TokenKind};
use crate::store::{Revocation, RevocationEnd};
use crate::switch::{token_identity, Sealer, Switch};
use chrono::TimeDelta;
use secrecy::SecretString;

/// Tries before a revocation Zoom never answered is given up.
const MAX_TRIES: u32 = 24;
/// The pause after a failed try doubles from a minute up to this.
const LONGEST_PAUSE: TimeDelta = TimeDelta::hours(1);
/// How long a round holds a revocation it tries (two requests of at most 2 minutes).
const LEASE: TimeDelta = TimeDelta::minutes(5);
/// At most this many revocations a round, and no new one started after `BUDGET`: a
/// backlog must not hold up the token refreshes that share the scheduler.
const PER_ROUND: u32 = 10;
const BUDGET: std::time::Duration = std::time::Duration::from_secs(30);

/// What one round of revoking did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RevokeReport {
    pub revoked: usize,
    pub postponed: usize,
    pub given_up: usize,
    /// Dropped unrevoked: another connection holds a token of the same app and user.
    pub dropped: usize,
}

impl Switch {
    /// Works through the revocations due now.
    pub async fn revoke_due(&self) -> anyhow::Result<RevokeReport> {
        let mut report = RevokeReport::default();
        let Some(sealer) = &self.sealer else {
            return Ok(report);
        };
        // Real time spent, not the (injectable) time of day.
        let started = std::time::Instant::now();
        for revocation in self
            .store
            .revocations_due(self.clock.now(), PER_ROUND)
            .await?
        {
            if started.elapsed() > BUDGET {
                break;
            }
            let now = self.clock.now();
            if !self
                .store
                .claim_revocation(&revocation, now, now + LEASE)
                .await?
            {
                continue;
            }
            if let Some(other) = self.store.revocation_shares_grant(&revocation).await? {
                report.dropped += 1;
                let why = format!(
                    "the earlier Zoom token (app {}) was dropped, not revoked: `{other}` now holds a token of the \
                     same app and user, which revoking would end too",
                    revocation.client_id
                );
                self.store
                    .end_revocation(&revocation, &RevocationEnd::Dropped(why), now)
                    .await?;
                continue;
            }
            match self.revoke_one(sealer, &revocation).await {
                Ok(()) => {
                    report.revoked += 1;
                    self.store
                        .end_revocation(&revocation, &RevocationEnd::Revoked, now)
                        .await?;
                }
                Err(RevokeError::Unsealed(why)) => {
                    // Ours to fix, not Zoom's: never given up on.
                    report.postponed += 1;
                    tracing::warn!(connection = %revocation.connection, error = %why,
                        "an old Zoom token to revoke cannot be opened: if the sealing key changed, set \
                         security.previous_sealing_key to the old one; retrying in an hour");
                    self.store
                        .postpone_revocation(&revocation, &why, now + LONGEST_PAUSE)
                        .await?;
                }
                Err(RevokeError::Unavailable(why))
                    if revocation.tries.saturating_add(1) < MAX_TRIES =>
                {
                    report.postponed += 1;
                    let pause = TimeDelta::minutes(1 << revocation.tries.min(6)).min(LONGEST_PAUSE);
                    tracing::warn!(connection = %revocation.connection, error = %why, "revoking an old Zoom token failed; will retry");
                    self.store
                        .postpone_revocation(&revocation, &why, now + pause)
                        .await?;
                }
                Err(e) => {
                    report.given_up += 1;
                    let why = format!(
                        "the earlier Zoom token (app {}) could not be revoked: {e}. Remove the app's \
                         authorization in the Zoom App Marketplace (Manage, Added Apps) if it is still listed",
                        revocation.client_id
                    );
                    tracing::warn!(connection = %revocation.connection, "{why}");
                    self.store
                        .end_revocation(&revocation, &RevocationEnd::GaveUp(why), now)
                        .await?;
                }
            }
        }
        Ok(report)
    }

    async fn revoke_one(
        &self,
        sealer: &Sealer,
        revocation: &Revocation,
    ) -> Result<(), RevokeError> {
        let open = |sealed: &[u8], what: &str| {
            sealer
                .open(sealed, &token_identity(&revocation.connection, what))
                .map_err(|e| RevokeError::Unsealed(e.to_string()))
        };
        let secret = open(&revocation.client_secret_sealed, "client_secret")?;
        let access = open(&revocation.access_token_sealed, "access_token")?;
        let refresh = revocation
            .refresh_token_sealed
            .as_deref()
            .map(|sealed| open(sealed, "refresh_token"))
            .transpose()?;
        self.revoke_grant(&revocation.client_id, &secret, &access, refresh.as_ref())
            .await
    }

    /// Zoom documents revoking the access token; when Zoom no longer knows that one (it
    /// expired), the refresh token is named instead.
    pub(super) async fn revoke_grant(
        &self,
        client_id: &str,
        secret: &SecretString,
        access: &SecretString,
        refresh: Option<&SecretString>,
    ) -> Result<(), RevokeError> {
        match self
            .zoom
            .revoke(client_id, secret, access, TokenKind::Access)
            .await
        {
            Err(RevokeError::Refused(first)) => match refresh {
                Some(refresh) => {
                    self.zoom
                        .revoke(client_id, secret, refresh, TokenKind::Refresh)
                        .await
                }
                None => Err(RevokeError::Refused(first)),
            },
            other => other,
        }
    }
}
