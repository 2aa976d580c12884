//! A `/migrate` submit with the `celigo` backend: integrator.io is changed the way its own
//! UI would ("Edit connection → OAuth 2.0 → iClient → Save"), leaving the authorization
//! to the person's click. A change that fails leaves the connection as it was and no
//! iClient behind.

use super::definition::{switched_definition, DefinitionError, OAuthTarget};
use super::watch::Checked;
use super::Celigo;
use crate::domain::{Actor, Connection, ConnectionId, ConnectionState};
use crate::integrator_io::{CeligoError, Document, Scheme};
use crate::store::Prepared;
use crate::switch::{IssueError, Link, Outcome, ReplyHandle, Reserved, ZoomClientId};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{json, Value};

/// How long "Get a fresh link" waits for a last look at a watched connection.
const FINAL_CHECK: std::time::Duration = std::time::Duration::from_secs(2);

/// The link, and what the person should know about the change made.
#[derive(Debug)]
pub struct CeligoLink {
    pub link: Link,
    /// The iClient's name in integrator.io, when this answer created it.
    pub iclient_name: Option<String>,
    /// Masked values integrator.io would not show, left out of the new definition.
    pub dropped: Vec<String>,
    /// integrator.io could not give the authorization address just now (the link asks
    /// again when opened).
    pub warning: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum PrepareError {
    #[error(transparent)]
    Issue(#[from] IssueError),
    #[error("{0}")]
    Celigo(#[from] CeligoError),
    #[error("integrator.io says this is not a Zoom connection")]
    NotZoom,
    #[error(
        "it is managed by an integration app: switch it in the app's settings in integrator.io"
    )]
    ManagedByConnector,
    #[error("integrator.io already has it on OAuth 2.0, authorized")]
    AlreadySwitched,
    #[error("integrator.io has it on `{0}` authentication, not JWT")]
    OffJwt(String),
    #[error("integrator.io did not confirm whether it took the new definition ({0})")]
    Unconfirmed(CeligoError),
    #[error("someone changed it in integrator.io while cutover was preparing the switch")]
    EditedMeanwhile,
    #[error("integrator.io did not take the new definition (it does not use the new iClient)")]
    NotApplied,
    #[error("{0}")]
    Definition(#[from] DefinitionError),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl PrepareError {
    /// The attempt's outcome, for the record.
    fn outcome(&self) -> String {
        match self {
            PrepareError::Internal(_) => "internal error".to_owned(),
            other => other.to_string(),
        }
    }
}

/// Whether `doc` is on OAuth 2.0 with `iclient`.
fn uses(doc: &Value, iclient: &str) -> bool {
    let d = Document(doc);
    d.auth() == Some(Scheme::OAuth) && d.iclient() == Some(iclient)
}

fn host(url: &str) -> Option<String> {
    url::Url::parse(url).ok()?.host_str().map(str::to_owned)
}

impl Celigo {
    /// Switches `connection` to OAuth 2.0 in integrator.io with a new iClient holding the
    /// person's Zoom app credentials, and gives them their personal link.
    pub async fn prepare(
        &self,
        actor: Actor,
        connection: &Connection,
        client_id: &ZoomClientId,
        secret: &SecretString,
        reply_to: Option<&ReplyHandle>,
    ) -> Result<CeligoLink, PrepareError> {
        let reserved = self
            .switch
            .reserve_celigo(actor, &connection.id, client_id.as_str(), reply_to)
            .await?;
        let result = self
            .prepare_reserved(actor, connection, client_id, secret, &reserved)
            .await;
        if let Err(failure) = &result {
            tracing::info!(connection = %connection.id, outcome = %failure.outcome(), "a celigo switch was not prepared");
            if !matches!(
                failure,
                PrepareError::AlreadySwitched | PrepareError::OffJwt(_)
            ) {
                if let Err(e) = self
                    .store
                    .fail_attempt(
                        &reserved.attempt,
                        &failure.outcome(),
                        actor,
                        self.clock.now(),
                    )
                    .await
                {
                    tracing::error!(error = %e, "could not close an attempt that failed");
                }
            }
        }
        result
    }

    async fn prepare_reserved(
        &self,
        actor: Actor,
        connection: &Connection,
        client_id: &ZoomClientId,
        secret: &SecretString,
        reserved: &Reserved,
    ) -> Result<CeligoLink, PrepareError> {
        let id = &connection.id;
        let before = self.read_switchable(actor, id, reserved).await?;
        let stamp = Document(&before).last_modified().map(str::to_owned);
        let (iclient_name, iclient) = self
            .new_iclient(connection, client_id, secret, reserved)
            .await?;
        let dropped = match self.switch_definition(id, stamp.as_deref(), &iclient).await {
            Ok(dropped) => dropped,
            // The connection may use it: it stays (a later switch cleans it up if not).
            Err(e @ PrepareError::Unconfirmed(_)) => return Err(e),
            Err(e) => {
                self.discard_iclient(&iclient).await;
                return Err(e);
            }
        };
        // The address is fetched afresh when the link is opened; asking now finds a
        // connection integrator.io cannot authorize before anyone clicks.
        let warning = self.authorization_url(id).await.err();
        let link = self
            .issue_prepared(actor, id, reserved, &before, &iclient, &dropped)
            .await?;
        Ok(CeligoLink {
            link,
            iclient_name: Some(iclient_name),
            dropped,
            warning,
        })
    }

    /// Reads the connection's definition as it is, and refuses what cannot be switched:
    /// not Zoom, managed by an integration app, no auth part, or not on JWT (recorded as
    /// switched elsewhere when it is on OAuth 2.0 already or on another scheme).
    async fn read_switchable(
        &self,
        actor: Actor,
        id: &ConnectionId,
        reserved: &Reserved,
    ) -> Result<Value, PrepareError> {
        let before = self.client.connection(id).await?;
        let doc = Document(&before);
        if !doc.is_zoom() {
            return Err(PrepareError::NotZoom);
        }
        if doc.managed_by_connector() {
            return Err(PrepareError::ManagedByConnector);
        }
        let already = match doc.auth() {
            None => return Err(PrepareError::Definition(DefinitionError::NoAuthPart)),
            Some(Scheme::Jwt) => None,
            Some(Scheme::Other(kind)) => Some(PrepareError::OffJwt(kind)),
            Some(Scheme::OAuth) if doc.has_token() => Some(PrepareError::AlreadySwitched),
            // On OAuth 2.0 without a token in sight: where integrator.io keeps it is not
            // documented, so a working connection is left alone rather than re-switched.
            Some(Scheme::OAuth) => match self.client.ping(id).await {
                Ok(true) => Some(PrepareError::AlreadySwitched),
                _ => None,
            },
        };
        if let Some(already) = already {
            self.store
                .record_switched_elsewhere(&reserved.attempt, actor, self.clock.now())
                .await
                .map_err(anyhow::Error::from)?;
            return Err(already);
        }
        Ok(before)
    }

    /// Creates this attempt's iClient (named after the connection and the attempt) and
    /// records it on the attempt: its name and id.
    async fn new_iclient(
        &self,
        connection: &Connection,
        client_id: &ZoomClientId,
        secret: &SecretString,
        reserved: &Reserved,
    ) -> Result<(String, String), PrepareError> {
        let iclient_name = format!(
            "cutover · {} · #{}",
            connection
                .name
                .as_str()
                .chars()
                .take(60)
                .collect::<String>(),
            reserved.attempt.id
        );
        let iclient = self
            .create_iclient(&iclient_name, client_id, secret)
            .await?;
        if let Err(e) = self
            .store
            .set_attempt_iclient(&reserved.attempt, &iclient)
            .await
        {
            self.discard_iclient(&iclient).await;
            return Err(anyhow::Error::from(e).into());
        }
        Ok((iclient_name, iclient))
    }

    /// Issues the attempt, with the definition as it was before and what was left out of
    /// the new one, lets go of the iClients earlier attempts made, and gives the link.
    async fn issue_prepared(
        &self,
        actor: Actor,
        id: &ConnectionId,
        reserved: &Reserved,
        before: &Value,
        iclient: &str,
        dropped: &[String],
    ) -> Result<Link, PrepareError> {
        let now = self.clock.now();
        let expires_at = now + self.switch.link_ttl().to_chrono();
        let prepared = Prepared {
            iclient_id: iclient.to_owned(),
            definition_before: before.to_string(),
            dropped: dropped.to_vec(),
        };
        let issued = self
            .store
            .issue_prepared_attempt(&reserved.attempt, &prepared, expires_at, actor, now)
            .await
            .map_err(anyhow::Error::from)?
            .ok_or_else(|| {
                anyhow::anyhow!("the attempt was given up while integrator.io was being changed")
            })?;
        self.discard_earlier_iclients(id, iclient).await;
        Ok(self.switch.celigo_link(reserved, issued.expires_at)?)
    }

    /// "Get a fresh link" for a connection switched in integrator.io and awaiting
    /// authorization: a new link for the iClient already in place. A watched link is
    /// checked once more first: the person may have authorized it just now.
    pub async fn fresh_link(
        &self,
        actor: Actor,
        connection: &Connection,
        reply_to: Option<&ReplyHandle>,
    ) -> Result<CeligoLink, PrepareError> {
        let nothing = || PrepareError::Issue(IssueError::NothingToRenew);
        if connection.state != ConnectionState::AwaitingAuthorization {
            return Err(nothing());
        }
        let (iclient, client_id) = self
            .store
            .celigo_iclient(&connection.id)
            .await
            .map_err(anyhow::Error::from)?
            .ok_or_else(nothing)?;
        if let Checked::Watched(Some(Outcome::Switched { .. })) =
            self.check_now(&connection.id, FINAL_CHECK).await
        {
            return Err(PrepareError::AlreadySwitched);
        }
        let link = self
            .switch
            .reissue_celigo(actor, &connection.id, &client_id, &iclient, reply_to)
            .await?;
        Ok(CeligoLink {
            link,
            iclient_name: None,
            dropped: Vec::new(),
            warning: None,
        })
    }

    /// A `custom_oauth2` iClient with the person's credentials, Zoom's endpoints and HTTP
    /// Basic client authentication (as Zoom's token endpoint wants). A create is never
    /// sent twice: if the answer is lost, a look for its (unique) name tells whether it
    /// was made.
    async fn create_iclient(
        &self,
        name: &str,
        client_id: &ZoomClientId,
        secret: &SecretString,
    ) -> Result<String, PrepareError> {
        let mut domains: Vec<String> = [self.authorize_url.as_str(), self.token_url.as_str()]
            .into_iter()
            .filter_map(host)
            .collect();
        domains.dedup();
        let body = json!({
            "name": name,
            "provider": "custom_oauth2",
            "oauth2": {
                "clientId": client_id.as_str(),
                "clientSecret": secret.expose_secret(),
                "grantType": "authorizecode",
                "clientCredentialsLocation": "basicauthheader",
                "auth": { "uri": self.authorize_url.as_str() },
                "token": { "uri": self.token_url.as_str() },
                "validDomainNames": domains,
            }
        });
        match self.client.create_iclient(&body).await {
            Ok(id) => Ok(id),
            Err(e @ CeligoError::Unavailable { .. }) => {
                match self.client.find_iclient_named(name).await {
                    Ok(Some(id)) => {
                        tracing::info!(iclient = %id, "the iClient was created though the answer was lost");
                        Ok(id)
                    }
                    _ => Err(e.into()),
                }
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Re-reads the connection, refuses if it moved since it was first read, and PUTs the
    /// switched definition. Returns the masked values that had to be left out.
    async fn switch_definition(
        &self,
        id: &ConnectionId,
        stamp: Option<&str>,
        iclient: &str,
    ) -> Result<Vec<String>, PrepareError> {
        let fresh = self.client.connection(id).await?;
        if Document(&fresh).last_modified() != stamp {
            return Err(PrepareError::EditedMeanwhile);
        }
        let return_to = self
            .return_base
            .as_ref()
            .map(|base| base.join(&format!("{}/{id}", super::routes::RETURN_PREFIX)));
        let switched = switched_definition(
            &fresh,
            &OAuthTarget {
                iclient_id: iclient,
                authorize_url: self.authorize_url.as_str(),
                token_url: self.token_url.as_str(),
                redirect_to: return_to.as_deref(),
            },
        )?;
        match self.client.replace_connection(id, &switched.body).await {
            Ok(answer) if uses(&answer, iclient) => {}
            // An answer without the document: look.
            Ok(_) => {
                if !uses(&self.client.connection(id).await?, iclient) {
                    return Err(PrepareError::NotApplied);
                }
            }
            // The PUT may have landed before the failure: look before cleaning up.
            Err(e @ CeligoError::Unavailable { .. }) => match self.client.connection(id).await {
                Ok(now) if uses(&now, iclient) => {}
                Ok(_) => return Err(e.into()),
                Err(_) => return Err(PrepareError::Unconfirmed(e)),
            },
            Err(e) => return Err(e.into()),
        }
        Ok(switched.dropped)
    }

    /// integrator.io's authorization address for the connection, checked to lead to
    /// Zoom's authorize endpoint (the origin of `zoom.authorize_url`: https://zoom.us).
    pub(super) async fn authorization_url(&self, id: &ConnectionId) -> Result<String, String> {
        let raw = self
            .client
            .authorization_url(id)
            .await
            .map_err(|e| e.to_string())?;
        let url = url::Url::parse(&raw)
            .map_err(|_| "integrator.io gave an address that does not parse".to_owned())?;
        let expected = url::Url::parse(self.authorize_url.as_str())
            .map_err(|_| "zoom.authorize_url does not parse".to_owned())?;
        // https only, and on Zoom's host: the origin of zoom.authorize_url (which only a
        // loopback stand-in for Zoom in tests makes plain http).
        if url.scheme() != "https" && expected.scheme() == "https" {
            return Err("integrator.io gave an address that is not https; cutover does not send people there".to_owned());
        }
        if url.origin() != expected.origin() {
            return Err(format!(
                "integrator.io gave an address on {}, not on Zoom's {}; cutover does not send people there",
                url.host_str().unwrap_or("no host"),
                expected.host_str().unwrap_or("host")
            ));
        }
        Ok(url.to_string())
    }

    /// Deletes an iClient cutover made, unless something uses it. Best effort: one left
    /// behind is logged for an admin.
    pub(super) async fn discard_iclient(&self, iclient: &str) {
        let result = match self.client.iclient_in_use(iclient).await {
            Ok(false) => self.client.delete_iclient(iclient).await,
            Ok(true) => {
                tracing::info!(iclient, "an iClient cutover made is in use; it is kept");
                Ok(())
            }
            Err(e) => Err(e),
        };
        if let Err(e) = result {
            tracing::warn!(iclient, error = %e, "an iClient cutover made could not be deleted; delete it in integrator.io (Resources › iClients)");
        }
    }

    /// The iClients earlier attempts made for this connection, now replaced.
    async fn discard_earlier_iclients(&self, id: &ConnectionId, keep: &str) {
        match self.store.earlier_iclients(id, keep).await {
            Ok(earlier) => {
                for iclient in earlier {
                    self.discard_iclient(&iclient).await;
                }
            }
            Err(e) => tracing::warn!(error = %e, "could not list earlier iClients"),
        }
    }
}
