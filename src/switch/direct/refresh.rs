//! Token refresh: a round refreshes every access token close to expiry, keeping the
//! newest refresh token (Zoom rotates them), then revokes the old tokens queued. The scheduler runs a round as it starts and
//! then every minute; its heartbeat tells /readyz whether it keeps going.

use super::revoke::RevokeReport;
use super::zoom;
use crate::domain::{Actor, Snowflake};
use crate::store::{retried, RefreshStored, TokenRecord};
use crate::switch::{token_identity, Sealer, Switch, SwitchEvent, REFRESH_AHEAD};
use std::sync::Arc;
use std::time::Duration;

/// Between rounds.
const ROUND_EVERY: Duration = Duration::from_secs(60);
/// How long a round holds a token set it refreshes: longer than the longest
/// `zoom.request_timeout` (2 minutes), well inside `REFRESH_AHEAD`, so a round that died
/// mid-refresh leaves time for another before the token expires.
const REFRESH_LEASE: chrono::TimeDelta = chrono::TimeDelta::minutes(5);

/// What became of a refresh Zoom answered.
enum Refreshed {
    Kept,
    /// The set was replaced meanwhile; what became of the new tokens.
    Replaced(&'static str),
    /// The new tokens could not be stored: queued for revocation, and the connection
    /// needs re-authorization.
    Abandoned,
}

/// What one round of refreshing did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RefreshReport {
    pub refreshed: usize,
    pub needs_reauthorization: usize,
    /// Another round (another cutover on this database) was refreshing it, or had just
    /// replaced its refresh token.
    pub superseded: usize,
    pub failed: usize,
}

impl Switch {
    /// The scheduler: a round, then rest a minute (or until woken), for ever.
    pub async fn keep_tokens_fresh(self: Arc<Self>) {
        self.heartbeat.begin();
        loop {
            self.heartbeat.round_starts();
            match self.refresh_due().await {
                Ok(report) if report != RefreshReport::default() => {
                    tracing::info!(?report, "tokens refreshed")
                }
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!(error = %e, "the token refresh round failed; retrying in a minute")
                }
            }
            match self.revoke_due().await {
                Ok(report) if report != RevokeReport::default() => {
                    tracing::info!(?report, "old Zoom tokens revoked")
                }
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!(error = %e, "the token revocation round failed; retrying in a minute")
                }
            }
            self.heartbeat.round_finished();
            self.heartbeat.rest(ROUND_EVERY).await;
        }
    }

    /// Refreshes every access token close to expiry, keeping the newest refresh token.
    pub async fn refresh_due(&self) -> anyhow::Result<RefreshReport> {
        let now = self.clock.now();
        let mut report = RefreshReport::default();
        let Some(sealer) = &self.sealer else {
            return Ok(report);
        };
        for record in self.store.tokens_due(now + REFRESH_AHEAD, now).await? {
            // Each claim on the time it is made: earlier refreshes in this round may have
            // taken minutes.
            let now = self.clock.now();
            let until = now + REFRESH_LEASE;
            let claimed = self
                .store
                .claim_refresh(
                    &record.connection,
                    record.refresh_token_sealed.as_deref(),
                    now,
                    until,
                )
                .await?;
            if !claimed {
                report.superseded += 1;
                continue;
            }
            let settled = self.refresh_claimed(sealer, &record, &mut report).await;
            // Given back however it went (a stored refresh already has): no later round
            // clears a claim on a connection that is no longer migrated, and a claim
            // holds off `cutover rekey`.
            self.store
                .release_refresh(&record.connection, until)
                .await?;
            settled?;
        }
        Ok(report)
    }

    /// One claimed token set refreshed, and what became of it counted in `report`.
    async fn refresh_claimed(
        &self,
        sealer: &Sealer,
        record: &TokenRecord,
        report: &mut RefreshReport,
    ) -> anyhow::Result<()> {
        match self.refresh_one(sealer, record).await {
            Ok(Refreshed::Kept) => {
                report.refreshed += 1;
                self.metrics.token_refreshed("refreshed");
            }
            Ok(Refreshed::Replaced(fate)) => {
                report.superseded += 1;
                tracing::info!(connection = %record.connection, "{fate}");
            }
            Ok(Refreshed::Abandoned) => {
                report.needs_reauthorization += 1;
                self.tell_needs_reauthorization(record, "its refreshed token could not be saved")
                    .await;
            }
            Err(zoom::TokenError::InvalidGrant) => {
                let marked = self
                    .store
                    .mark_needs_reauthorization(
                        &record.connection,
                        record.refresh_token_sealed.as_deref(),
                        "the refresh token was refused (invalid_grant)",
                        self.clock.now(),
                    )
                    .await?;
                if marked {
                    report.needs_reauthorization += 1;
                    self.tell_needs_reauthorization(record, "Zoom no longer accepts its token")
                        .await;
                } else {
                    // Refreshed by another round meanwhile: nothing is wrong.
                    report.superseded += 1;
                }
            }
            Err(e) => {
                report.failed += 1;
                self.metrics.token_refreshed("failed");
                tracing::warn!(connection = %record.connection, error = %e, "token refresh failed; will retry");
            }
        }
        Ok(())
    }

    /// Counted, and the owner told in the channel (the terminal hears it too) `why` the
    /// connection's token no longer works.
    async fn tell_needs_reauthorization(&self, record: &TokenRecord, why: &str) {
        self.metrics.token_refreshed("needs_reauthorization");
        let owner = record
            .owner
            .as_deref()
            .and_then(|o| Snowflake::parse(o).ok());
        let who = owner
            .map(|o| format!("{}: ", o.mention()))
            .unwrap_or_default();
        let text = format!(
            "{who}`{}` needs re-authorization: {why}. \
             Run `/migrate connection:{}` to authorize it again.",
            record.connection, record.connection
        );
        self.announcer.post(&text, owner).await;
        let actor = owner.map_or(Actor::Terminal, Actor::Discord);
        // No private answer to update: only the terminal hears it.
        let _ = self
            .announcer
            .tell_person(
                SwitchEvent {
                    actor,
                    connection: record.connection.clone(),
                    text,
                },
                None,
                false,
            )
            .await;
    }

    async fn refresh_one(
        &self,
        sealer: &Sealer,
        record: &TokenRecord,
    ) -> Result<Refreshed, zoom::TokenError> {
        let unavailable = |e: &dyn std::fmt::Display| {
            zoom::TokenError::Unavailable(format!(
                "{e} (if the sealing key changed, set security.previous_sealing_key to the old one)"
            ))
        };
        let secret = sealer
            .open(
                &record.client_secret_sealed,
                &token_identity(&record.connection, "client_secret"),
            )
            .map_err(|e| unavailable(&e))?;
        let Some(sealed_refresh) = &record.refresh_token_sealed else {
            return Err(zoom::TokenError::InvalidGrant);
        };
        let refresh = sealer
            .open(
                sealed_refresh,
                &token_identity(&record.connection, "refresh_token"),
            )
            .map_err(|e| unavailable(&e))?;
        let tokens = self
            .zoom
            .refresh(&record.client_id, &secret, &refresh)
            .await?;
        // Zoom has rotated the refresh token, the old one is dead: the new ones are kept,
        // or let go (revoked, never just dropped while they still work).
        let sealed = self.seal_tokens(sealer, &record.connection, &tokens);
        let stored = match &sealed {
            Ok(sealed) => retried("storing refreshed Zoom tokens", || {
                self.store.store_refreshed(
                    &record.connection,
                    sealed_refresh,
                    sealed,
                    self.clock.now(),
                )
            })
            .await
            .map_err(|e| e.to_string()),
            Err(e) => Err(e.to_string()),
        };
        match stored {
            Ok(RefreshStored::Kept) => Ok(Refreshed::Kept),
            Ok(RefreshStored::Queued) => Ok(Refreshed::Replaced(
                "refreshed while the connection was switched again or removed: the new tokens are queued for revocation",
            )),
            Ok(RefreshStored::Discarded) => Ok(Refreshed::Replaced(
                "refreshed while the connection was switched again or removed: the new tokens were dropped with the old",
            )),
            Err(e) => {
                tracing::error!(connection = %record.connection, error = %e, "refreshed tokens could not be stored; letting them go");
                let abandoned = self
                    .abandon_refresh(record, sealed_refresh, &secret, &tokens, sealed.as_ref().ok())
                    .await;
                match abandoned {
                    Ok(true) => Ok(Refreshed::Abandoned),
                    Ok(false) => Ok(Refreshed::Replaced(
                        "refreshed while the connection was switched again or removed, and not stored: the new tokens \
                         follow the old ones",
                    )),
                    Err(e) => Err(zoom::TokenError::Unavailable(e)),
                }
            }
        }
    }
}
