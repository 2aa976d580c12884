//! Which backend a switch lands through (`switch.backend`), so callers ask for a link and
//! need not know the two ways there.

use super::celigo::{Celigo, CeligoLink, PrepareError};
use super::{IssueError, Link, ReplyHandle, Switch, ZoomClientId};
use crate::domain::{Actor, Backend, Connection, ConnectionSource};
use crate::settings::BackendChoice;
use secrecy::SecretString;
use std::sync::Arc;

/// The switch and, when integrator.io's API token is set, its celigo backend.
#[derive(Clone)]
pub struct Backends {
    choice: BackendChoice,
    direct: Arc<Switch>,
    celigo: Option<Arc<Celigo>>,
}

/// A personal link either backend gave out.
pub enum Started {
    Direct(Link),
    /// What integrator.io has to add: the iClient made, values it would not show.
    Celigo(CeligoLink),
}

impl Started {
    pub fn link(&self) -> &Link {
        match self {
            Started::Direct(link) => link,
            Started::Celigo(celigo) => &celigo.link,
        }
    }

    pub fn celigo(&self) -> Option<&CeligoLink> {
        match self {
            Started::Direct(_) => None,
            Started::Celigo(celigo) => Some(celigo),
        }
    }
}

impl Backends {
    pub fn new(choice: BackendChoice, direct: Arc<Switch>, celigo: Option<Arc<Celigo>>) -> Self {
        Self {
            choice,
            direct,
            celigo,
        }
    }

    /// The switch both backends share.
    pub fn switch(&self) -> &Arc<Switch> {
        &self.direct
    }

    /// integrator.io, when its API token is set.
    pub fn celigo(&self) -> Option<&Arc<Celigo>> {
        self.celigo.as_ref()
    }

    /// Which way a switch of `connection` lands.
    pub fn backend_for(&self, connection: &Connection) -> Backend {
        match (self.choice, &self.celigo) {
            (BackendChoice::Direct, _) | (_, None) => Backend::Direct,
            (BackendChoice::Celigo, Some(_)) => Backend::Celigo,
            (BackendChoice::Auto, Some(_)) if connection.source == ConnectionSource::Celigo => {
                Backend::Celigo
            }
            (BackendChoice::Auto, Some(_)) => Backend::Direct,
        }
    }

    /// Whether a switch of `connection` could take a secret now: the direct backend seals
    /// it, so without a key it must be refused before anybody types one.
    pub fn ready_for(&self, connection: &Connection) -> Result<(), IssueError> {
        if self.backend_for(connection) == Backend::Direct && !self.direct.can_seal() {
            return Err(IssueError::NoKey);
        }
        Ok(())
    }

    /// A personal link that switches `connection` with the Zoom app's credentials.
    pub async fn start(
        &self,
        actor: Actor,
        connection: &Connection,
        client_id: &ZoomClientId,
        secret: &SecretString,
        reply_to: Option<&ReplyHandle>,
    ) -> Result<Started, PrepareError> {
        match self.celigo_for(connection) {
            Some(celigo) => celigo
                .prepare(actor, connection, client_id, secret, reply_to)
                .await
                .map(Started::Celigo),
            None => Ok(Started::Direct(
                self.direct
                    .issue(actor, &connection.id, client_id.as_str(), secret, reply_to)
                    .await?,
            )),
        }
    }

    /// A new link for the caller's last one (the same credentials, or in integrator.io the
    /// same iClient); the old one stops working.
    pub async fn renew(
        &self,
        actor: Actor,
        connection: &Connection,
        reply_to: Option<&ReplyHandle>,
    ) -> Result<Started, PrepareError> {
        match self.celigo_for(connection) {
            Some(celigo) => celigo
                .fresh_link(actor, connection, reply_to)
                .await
                .map(Started::Celigo),
            None => Ok(Started::Direct(
                self.direct.reissue(actor, &connection.id, reply_to).await?,
            )),
        }
    }

    fn celigo_for(&self, connection: &Connection) -> Option<&Arc<Celigo>> {
        match self.backend_for(connection) {
            Backend::Celigo => self.celigo.as_ref(),
            Backend::Direct => None,
        }
    }
}
