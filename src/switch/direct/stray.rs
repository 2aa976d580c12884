//! Fresh Zoom tokens nobody will hold — a switch that got its tokens but will not keep
//! them, a refresh whose tokens could not be stored — are let go: queued for revocation,
//! or, when the store cannot take even that, revoked at once.

use super::zoom;
use crate::domain::ConnectionId;
use crate::store::{Attempt, SealedTokens, StrayTokens, TokenRecord};
use crate::switch::{token_identity, Sealer, Switch};
use secrecy::{ExposeSecret, SecretString};

impl Switch {
    /// Tokens a switch got from Zoom but will not keep (`reason` says why), by the Zoom
    /// user `zoom_user` when Zoom said who.
    pub(super) async fn let_go(
        &self,
        sealer: &Sealer,
        attempt: &Attempt,
        secret: &SecretString,
        tokens: &zoom::Tokens,
        zoom_user: Option<&str>,
        reason: &str,
    ) {
        let connection = &attempt.connection;
        let sealed = self
            .seal_tokens(sealer, connection, tokens)
            .and_then(|sealed| {
                let secret = sealer.seal(
                    secret.expose_secret(),
                    &token_identity(connection, "client_secret"),
                )?;
                Ok((sealed, secret))
            });
        let queued = match &sealed {
            Ok((sealed, secret_sealed)) => {
                let stray = StrayTokens {
                    connection,
                    client_id: &attempt.client_id,
                    client_secret_sealed: secret_sealed,
                    tokens: sealed,
                    zoom_user,
                };
                let actor = attempt.actor;
                self.store
                    .queue_stray(&stray, reason, actor, self.clock.now())
                    .await
                    .map_err(|e| e.to_string())
            }
            Err(e) => Err(e.to_string()),
        };
        if let Err(e) = queued {
            tracing::error!(connection = %connection, error = %e,
                "fresh Zoom tokens could not be queued for revocation; revoking them now");
            let grant = Grant {
                client_id: &attempt.client_id,
                secret,
                zoom_user,
            };
            self.revoke_now(connection, grant, tokens, None).await;
        }
    }

    /// A refresh Zoom answered whose tokens could not be stored, even when tried again:
    /// the set is over (its refresh token rotated away). The connection needs
    /// re-authorization and the refreshed tokens are queued for revocation, in one go:
    /// `Ok(true)`, or `Ok(false)` when the set was replaced meanwhile. When the store
    /// cannot take that either, they are revoked at once and the next round, finding the
    /// old refresh token refused, marks the connection.
    pub(super) async fn abandon_refresh(
        &self,
        record: &TokenRecord,
        from: &[u8],
        secret: &SecretString,
        tokens: &zoom::Tokens,
        sealed: Option<&SealedTokens>,
    ) -> Result<bool, String> {
        let abandoned = match sealed {
            Some(sealed) => self
                .store
                .abandon_refresh(&record.connection, from, sealed, self.clock.now())
                .await
                .map_err(|e| e.to_string()),
            None => Err("the refreshed tokens could not be sealed".to_owned()),
        };
        if abandoned.is_err() {
            let grant = Grant {
                client_id: &record.client_id,
                secret,
                zoom_user: Some(&record.zoom_user_id),
            };
            // The connection's own set is over: only another connection can hold the grant.
            self.revoke_now(&record.connection, grant, tokens, Some(&record.connection))
                .await;
        }
        abandoned
    }

    /// Revokes fresh tokens at once, unless a connection other than `except` holds a
    /// token of the same grant (or whether one does cannot be read).
    async fn revoke_now(
        &self,
        connection: &ConnectionId,
        grant: Grant<'_>,
        tokens: &zoom::Tokens,
        except: Option<&ConnectionId>,
    ) {
        match self
            .store
            .grant_holder(grant.client_id, grant.zoom_user, except)
            .await
        {
            Ok(None) => {}
            Ok(Some(other)) => {
                tracing::info!(connection = %connection, holder = %other,
                    "fresh Zoom tokens were dropped, not revoked: another connection holds the same grant");
                return;
            }
            Err(e) => {
                tracing::error!(connection = %connection, error = %e,
                    "fresh Zoom tokens were not revoked: whether another connection holds the same grant cannot be read");
                return;
            }
        }
        match self
            .revoke_grant(
                grant.client_id,
                grant.secret,
                &tokens.access,
                tokens.refresh.as_ref(),
            )
            .await
        {
            Ok(()) => {
                tracing::info!(connection = %connection, "fresh Zoom tokens nobody holds were revoked")
            }
            Err(e) => tracing::error!(connection = %connection, error = %e,
                "fresh Zoom tokens nobody holds could not be revoked: remove the app's authorization in the \
                 Zoom App Marketplace (Manage, Added Apps) if no other connection uses it"),
        }
    }
}

/// Whose grant a token set is: the app (with its secret, to revoke) and the Zoom user.
struct Grant<'a> {
    client_id: &'a str,
    secret: &'a SecretString,
    zoom_user: Option<&'a str>,
}
