//! Reading integrator.io's connection documents (CELIGO.md §2): which are Zoom
//! connections, how they authenticate, whether a token is there. A Zoom connection comes
//! in three shapes — `type: "rest"` with both `http` and `rest`, `type: "http"`, and one
//! built on an HTTP connector (`http._httpConnectorId`) — and its auth type may sit in
//! `http.auth.type` or `rest.authType`.

use serde_json::Value;

/// A string of only asterisks: integrator.io's mask for a secret (`"******"`, and
/// `"****"` in some iClient fields). Shorter runs are left alone: `"*"` can be a real
/// value (a wildcard).
pub fn is_masked(value: &Value) -> bool {
    value
        .as_str()
        .is_some_and(|s| s.len() >= 4 && s.bytes().all(|b| b == b'*'))
}

fn at<'a>(doc: &'a Value, path: &[&str]) -> Option<&'a Value> {
    path.iter().try_fold(doc, |value, key| value.get(key))
}

fn text<'a>(doc: &'a Value, path: &[&str]) -> Option<&'a str> {
    at(doc, path)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

/// How a connection authenticates, as integrator.io says it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scheme {
    Jwt,
    OAuth,
    /// Anything else (`custom`, i.e. Zoom Server-to-Server, `token`, …): off JWT.
    Other(String),
}

/// A connection document, read.
#[derive(Debug, Clone, Copy)]
pub struct Document<'a>(pub &'a Value);

impl<'a> Document<'a> {
    pub fn id(self) -> Option<&'a str> {
        text(self.0, &["_id"])
    }

    pub fn name(self) -> Option<&'a str> {
        text(self.0, &["name"])
    }

    pub fn integration_id(self) -> Option<&'a str> {
        text(self.0, &["_integrationId"])
    }

    pub fn last_modified(self) -> Option<&'a str> {
        text(self.0, &["lastModified"])
    }

    /// integrator.io's `offline`; absent means not known to be offline.
    pub fn offline(self) -> Option<bool> {
        self.0.get("offline").and_then(Value::as_bool)
    }

    /// The detection rule: `assistant` is `zoom`; or, without an assistant, a base URI on
    /// `api.zoom.us`.
    pub fn is_zoom(self) -> bool {
        match text(self.0, &["assistant"]) {
            Some(assistant) => assistant.eq_ignore_ascii_case("zoom"),
            None => [["http", "baseURI"], ["rest", "baseURI"]]
                .iter()
                .filter_map(|path| text(self.0, path))
                .any(|uri| uri.to_ascii_lowercase().contains("api.zoom.us")),
        }
    }

    /// Managed by an integration app (a connector): changed through the app, not here.
    pub fn managed_by_connector(self) -> bool {
        text(self.0, &["_connectorId"]).is_some()
    }

    /// The auth type from `http.auth.type` and `rest.authType`; JWT if either says so
    /// (a half-converted document is still on JWT).
    pub fn auth(self) -> Option<Scheme> {
        let kinds: Vec<String> = [
            text(self.0, &["http", "auth", "type"]),
            text(self.0, &["rest", "authType"]),
        ]
        .into_iter()
        .flatten()
        .map(str::to_ascii_lowercase)
        .collect();
        if kinds.iter().any(|k| k == "jwt") {
            return Some(Scheme::Jwt);
        }
        kinds.into_iter().next().map(|kind| match kind.as_str() {
            "oauth" => Scheme::OAuth,
            _ => Scheme::Other(kind),
        })
    }

    /// The iClient an OAuth connection names.
    pub fn iclient(self) -> Option<&'a str> {
        text(self.0, &["http", "_iClientId"]).or_else(|| text(self.0, &["rest", "_iClientId"]))
    }

    /// A token is stored (masked, so its value is never known): where integrator.io keeps
    /// an OAuth connection's access token once someone has authorized it.
    pub fn has_token(self) -> bool {
        [
            &["http", "auth", "token", "token"][..],
            &["http", "auth", "token", "refreshToken"][..],
            &["rest", "bearerToken"][..],
            &["rest", "refreshToken"][..],
        ]
        .iter()
        .any(|path| text(self.0, path).is_some())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The three shapes CELIGO.md describes, on JWT.
    fn shapes() -> [Value; 3] {
        [
            json!({ "_id": "a1", "name": "Zoom", "type": "rest", "assistant": "zoom", "offline": true,
                    "http": { "formType": "assistant", "baseURI": "https://api.zoom.us", "encrypted": "******", "auth": { "type": "jwt" } },
                    "rest": { "baseURI": "https://api.zoom.us", "authType": "jwt", "encrypted": "******" } }),
            json!({ "_id": "a2", "name": "Zoom http", "type": "http", "assistant": "zoom",
                    "http": { "baseURI": "https://api.zoom.us", "auth": { "type": "jwt" } } }),
            json!({ "_id": "a3", "name": "Zoom 2.0", "type": "http", "assistant": "zoom",
                    "http": { "formType": "assistant", "_httpConnectorId": "hc1", "_httpConnectorVersionId": "v1",
                              "auth": { "type": "jwt" } } }),
        ]
    }

    #[test]
    fn every_shape_is_a_zoom_connection_on_jwt() {
        for doc in shapes() {
            let d = Document(&doc);
            assert!(d.is_zoom(), "{doc}");
            assert_eq!(d.auth(), Some(Scheme::Jwt), "{doc}");
            assert!(!d.has_token());
        }
    }

    #[test]
    fn zoom_without_an_assistant_is_found_by_its_base_uri() {
        let doc = json!({ "_id": "b", "type": "http", "http": { "baseURI": "https://API.zoom.us/v2", "auth": { "type": "oauth" } } });
        assert!(Document(&doc).is_zoom());
        let other = json!({ "_id": "c", "type": "http", "assistant": "shopify", "http": { "baseURI": "https://api.zoom.us" } });
        assert!(
            !Document(&other).is_zoom(),
            "an assistant that is not zoom wins"
        );
        let netsuite = json!({ "_id": "d", "type": "netsuite" });
        assert!(!Document(&netsuite).is_zoom());
    }

    #[test]
    fn auth_and_token_are_read_from_either_sub_document() {
        let oauth = json!({ "rest": { "authType": "oauth", "bearerToken": "******", "_iClientId": "ic1" } });
        let d = Document(&oauth);
        assert_eq!(d.auth(), Some(Scheme::OAuth));
        assert!(d.has_token());
        assert_eq!(d.iclient(), Some("ic1"));
        let half =
            json!({ "http": { "auth": { "type": "oauth" } }, "rest": { "authType": "jwt" } });
        assert_eq!(Document(&half).auth(), Some(Scheme::Jwt));
        let s2s = json!({ "http": { "auth": { "type": "custom" } } });
        assert_eq!(Document(&s2s).auth(), Some(Scheme::Other("custom".into())));
        assert_eq!(Document(&json!({})).auth(), None);
    }

    #[test]
    fn masks_are_runs_of_four_or_more_asterisks() {
        assert!(is_masked(&json!("******")));
        assert!(is_masked(&json!("****")));
        assert!(!is_masked(&json!("*")));
        assert!(!is_masked(&json!("a*****")));
        assert!(!is_masked(&json!(6)));
    }

    #[test]
    fn offline_may_be_absent_and_connectors_are_noticed() {
        let doc = json!({ "_connectorId": "app1", "offline": false });
        assert_eq!(Document(&doc).offline(), Some(false));
        assert!(Document(&doc).managed_by_connector());
        assert_eq!(Document(&json!({})).offline(), None);
        assert!(!Document(&json!({ "_connectorId": null })).managed_by_connector());
    }
}
