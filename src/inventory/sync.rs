//! The inventory from the source of truth: every connection integrator.io lists, the
//! Zoom ones kept (CELIGO.md's detection rule), with their integration's name, applied to
//! the store in one transaction.

use crate::domain::{
    is_bidi_control, Actor, ConnectionId, DisplayName, IntegrationName, RemoteAuth,
    SyncedConnection, MAX_NAME_LEN,
};
use crate::integrator_io::{CeligoClient, CeligoError, Document, Scheme};
use crate::store::{Store, StoreError, SyncSummary};
use crate::words::counted;
use chrono::{DateTime, Utc};
use serde_json::Value;
use std::collections::{HashMap, HashSet};

/// Where a sync is, for a progress line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncProgress {
    Integrations(usize),
    Connections(usize),
}

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error("{0}")]
    Celigo(#[from] CeligoError),
    #[error(
        "integrator.io no longer lists {missing} connections cutover synced from it; that looks like another \
         account or region, so nothing was marked removed. Check celigo.api_base_url and whose token \
         celigo.api_token is"
    )]
    TooManyMissing { missing: usize },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What a sync saw and did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SyncReport {
    /// Connections of every kind integrator.io listed.
    pub listed: usize,
    pub zoom: usize,
    /// Zoom connections managed by an integration app: switched in the app, not here.
    pub managed: usize,
    /// Records that are not readable connections (no id, or no auth type on a Zoom one).
    pub unreadable: usize,
    pub summary: SyncSummary,
}

impl SyncReport {
    /// One paragraph for people: the counts that matter, then what to know.
    pub fn describe(&self) -> String {
        let s = &self.summary;
        let mut text = format!(
            "Synced {} from integrator.io (of {} listed): {} new, {} changed, \
             {} switched in integrator.io, {} removed, {} offline.",
            counted(self.zoom, "Zoom connection", "Zoom connections"),
            counted(self.listed, "connection", "connections"),
            s.new,
            s.changed,
            s.switched_elsewhere,
            s.removed,
            s.offline
        );
        if s.restored > 0 {
            text.push_str(&format!(
                " {} back in integrator.io after being removed.",
                counted(s.restored, "is", "are")
            ));
        }
        if s.kept_direct > 0 {
            text.push_str(&format!(
                " {} switched by cutover without integrator.io stay migrated, though integrator.io still shows JWT.",
                s.kept_direct
            ));
        }
        if self.managed > 0 {
            text.push_str(&format!(
                " {} managed by an integration app: left out; switch those in the app's settings.",
                counted(self.managed, "Zoom connection is", "Zoom connections are")
            ));
        }
        if self.unreadable > 0 {
            text.push_str(&format!(
                " {} could not be read and left out (see cutover's log).",
                counted(self.unreadable, "record", "records")
            ));
        }
        text
    }
}

/// What one listed record is, for cutover.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Listed {
    Zoom(SyncedConnection),
    NotZoom,
    Managed,
    Unreadable(String),
}

/// Text from integrator.io made fit to show: one line, no control characters or bidi
/// controls, bounded. Someone else's data is kept readable rather than refused.
fn clean(raw: &str) -> String {
    let one_line: String = raw
        .chars()
        .filter(|c| !is_bidi_control(*c))
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let trimmed = one_line.trim();
    match trimmed.char_indices().nth(MAX_NAME_LEN - 1) {
        Some((cut, _)) => format!("{}…", &trimmed[..cut]),
        None => trimmed.to_owned(),
    }
}

fn classify(doc: &Value, integrations: &HashMap<String, String>) -> Listed {
    let d = Document(doc);
    if !doc.is_object() {
        return Listed::Unreadable("a record that is not an object".into());
    }
    if !d.is_zoom() {
        return Listed::NotZoom;
    }
    let Some(id) = d.id().and_then(|raw| ConnectionId::parse(raw).ok()) else {
        return Listed::Unreadable(format!(
            "a Zoom connection without a usable _id ({:?})",
            d.id()
        ));
    };
    if d.managed_by_connector() {
        return Listed::Managed;
    }
    let auth = match d.auth() {
        Some(Scheme::Jwt) => RemoteAuth::Jwt,
        Some(Scheme::OAuth) => RemoteAuth::OAuth2 {
            authorized: d.has_token(),
        },
        // Off JWT by another way (Zoom Server-to-Server is `custom`): nothing to switch.
        Some(Scheme::Other(_)) => RemoteAuth::OAuth2 { authorized: true },
        None => return Listed::Unreadable(format!("Zoom connection {id} has no auth type")),
    };
    let name = d
        .name()
        .map(clean)
        .and_then(|n| DisplayName::parse(&n).ok())
        .or_else(|| DisplayName::parse(&format!("Zoom connection {id}")).ok());
    let Some(name) = name else {
        return Listed::Unreadable(format!("Zoom connection {id} has no usable name"));
    };
    let integration = d
        .integration_id()
        .and_then(|i| integrations.get(i))
        .and_then(|name| IntegrationName::parse(name).ok())
        .unwrap_or_default();
    Listed::Zoom(SyncedConnection {
        id,
        name,
        integration,
        auth,
        offline: d.offline(),
    })
}

/// More connections than this missing from one listing is not a clean-up but a sign
/// of the wrong account or region: nothing is marked removed, and the sync says so.
const MAX_REMOVED: usize = 100;

/// Reads every connection (and integration name) from integrator.io and applies the
/// Zoom ones to the store. Nothing is written unless the whole listing was read. A
/// connection the listing lacks is marked removed only once integrator.io answers 404
/// for it (paging by skip can miss a record when the account changes meanwhile).
pub async fn sync(
    client: &CeligoClient,
    store: &Store,
    actor: Actor,
    now: impl Fn() -> DateTime<Utc>,
    progress: &(dyn Fn(SyncProgress) + Send + Sync),
) -> Result<SyncReport, SyncError> {
    let listed_at = now();
    let integrations: HashMap<String, String> = client
        .list_all("integrations", |n| progress(SyncProgress::Integrations(n)))
        .await?
        .iter()
        .filter_map(|i| {
            let d = Document(i);
            Some((d.id()?.to_owned(), clean(d.name()?)))
        })
        .collect();
    let listed = client
        .list_all("connections", |n| progress(SyncProgress::Connections(n)))
        .await?;
    let mut report = SyncReport {
        listed: listed.len(),
        ..SyncReport::default()
    };
    let mut records = Vec::new();
    let mut listed_ids = HashSet::new();
    for doc in &listed {
        if let Some(id) = Document(doc).id() {
            listed_ids.insert(id.to_owned());
        }
        match classify(doc, &integrations) {
            Listed::Zoom(record) => records.push(record),
            Listed::NotZoom => {}
            Listed::Managed => report.managed += 1,
            Listed::Unreadable(why) => {
                tracing::warn!(why, "an integrator.io record was left out of the sync");
                report.unreadable += 1;
            }
        }
    }
    let missing: Vec<String> = store
        .celigo_connection_ids()
        .await?
        .into_iter()
        .filter(|id| !listed_ids.contains(id))
        .collect();
    if missing.len() > MAX_REMOVED {
        return Err(SyncError::TooManyMissing {
            missing: missing.len(),
        });
    }
    let mut removed = Vec::new();
    for raw in missing {
        let Ok(id) = ConnectionId::parse(&raw) else {
            continue;
        };
        match client.connection(&id).await {
            Err(CeligoError::NotFound) => removed.push(id),
            Ok(doc) => {
                if let Listed::Zoom(record) = classify(&doc, &integrations) {
                    records.push(record);
                }
            }
            Err(e) => return Err(e.into()),
        }
    }
    // The same id listed twice (a page boundary that moved) counts once.
    let mut seen = HashSet::new();
    records.retain(|r| seen.insert(r.id.clone()));
    report.zoom = records.len();
    report.summary = store
        .sync_from_celigo(&records, &removed, listed_at, actor, now())
        .await?;
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn names() -> HashMap<String, String> {
        HashMap::from([("int1".to_owned(), "Sales sync".to_owned())])
    }

    #[test]
    fn zoom_connections_carry_their_integrations_name_and_state() {
        let doc = json!({ "_id": "64b7f1c2a9e3d40012345678", "name": " Zoom\tsales ", "assistant": "zoom", "type": "http",
                          "_integrationId": "int1", "offline": true, "http": { "auth": { "type": "jwt" } } });
        let Listed::Zoom(record) = classify(&doc, &names()) else {
            panic!("a Zoom connection");
        };
        assert_eq!(record.name.as_str(), "Zoom sales");
        assert_eq!(record.integration.as_str(), "Sales sync");
        assert_eq!(record.auth, RemoteAuth::Jwt);
        assert_eq!(record.offline, Some(true));
    }

    #[test]
    fn oauth_is_authorized_only_with_a_token() {
        let waiting = json!({ "_id": "a", "name": "Z", "assistant": "zoom", "http": { "auth": { "type": "oauth" } } });
        let done = json!({ "_id": "b", "name": "Z", "assistant": "zoom",
                           "http": { "auth": { "type": "oauth", "token": { "token": "******" } } } });
        let s2s = json!({ "_id": "c", "name": "Z", "assistant": "zoom", "http": { "auth": { "type": "custom" } } });
        let auth = |doc: &Value| match classify(doc, &names()) {
            Listed::Zoom(r) => Some(r.auth),
            _ => None,
        };
        assert_eq!(
            auth(&waiting),
            Some(RemoteAuth::OAuth2 { authorized: false })
        );
        assert_eq!(auth(&done), Some(RemoteAuth::OAuth2 { authorized: true }));
        assert_eq!(auth(&s2s), Some(RemoteAuth::OAuth2 { authorized: true }));
    }

    #[test]
    fn others_are_left_out_with_a_reason() {
        assert_eq!(
            classify(&json!({ "_id": "x", "type": "netsuite" }), &names()),
            Listed::NotZoom
        );
        assert_eq!(
            classify(
                &json!({ "_id": "x", "assistant": "zoom", "_connectorId": "app", "http": { "auth": { "type": "jwt" } } }),
                &names()
            ),
            Listed::Managed
        );
        assert!(matches!(
            classify(&json!({ "assistant": "zoom" }), &names()),
            Listed::Unreadable(_)
        ));
        assert!(matches!(
            classify(&json!({ "_id": "x y", "assistant": "zoom" }), &names()),
            Listed::Unreadable(_)
        ));
        assert!(matches!(
            classify(&json!({ "_id": "x", "assistant": "zoom" }), &names()),
            Listed::Unreadable(_)
        ));
        assert!(matches!(
            classify(&json!("zoom"), &names()),
            Listed::Unreadable(_)
        ));
    }

    #[test]
    fn long_or_missing_names_still_make_a_name() {
        let long = json!({ "_id": "x", "name": "n".repeat(500), "assistant": "zoom", "http": { "auth": { "type": "jwt" } } });
        let Listed::Zoom(record) = classify(&long, &names()) else {
            panic!("kept");
        };
        assert_eq!(record.name.as_str().chars().count(), MAX_NAME_LEN);
        let unnamed =
            json!({ "_id": "x", "assistant": "zoom", "http": { "auth": { "type": "jwt" } } });
        let Listed::Zoom(record) = classify(&unnamed, &names()) else {
            panic!("kept");
        };
        assert_eq!(record.name.as_str(), "Zoom connection x");
    }

    #[test]
    fn escape_sequences_and_bidi_controls_are_taken_out_of_names() {
        let doc = json!({ "_id": "x", "name": "Zoom\u{1b}[2J \u{202E}sales", "assistant": "zoom",
                          "_integrationId": "int2", "http": { "auth": { "type": "jwt" } } });
        let integrations = HashMap::from([("int2".to_owned(), "\u{2066}Ops\u{7}".to_owned())]);
        let integrations = integrations
            .into_iter()
            .map(|(id, name)| (id, clean(&name)))
            .collect();
        let Listed::Zoom(record) = classify(&doc, &integrations) else {
            panic!("kept");
        };
        assert_eq!(record.name.as_str(), "Zoom [2J sales");
        assert_eq!(record.integration.as_str(), "Ops");
    }
}
