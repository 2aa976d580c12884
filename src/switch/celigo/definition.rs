//! The connection's definition switched to OAuth 2.0, as CELIGO.md §10 lays it out: a
//! PUT replaces the whole document, so the body is the fresh GET with only the
//! authentication changed — every other field kept, no masked `"******"` value sent back
//! (integrator.io would store it literally), read-only keys dropped, `type` kept.

use crate::integrator_io::is_masked;
use serde_json::{json, Map, Value};

/// Keys integrator.io sets itself.
const READ_ONLY: [&str; 6] = [
    "_id",
    "lastModified",
    "createdAt",
    "queues",
    "isHTTP",
    "offline",
];

/// What the new authentication points at.
#[derive(Debug, Clone)]
pub struct OAuthTarget<'a> {
    pub iclient_id: &'a str,
    pub authorize_url: &'a str,
    pub token_url: &'a str,
    /// `celigo.return_to_cutover`: where the browser goes after integrator.io.
    pub redirect_to: Option<&'a str>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Switched {
    pub body: Value,
    /// Masked values that were left out, by path (the JWT key and secret among them):
    /// their real values cannot be known, so they could not be kept.
    pub dropped: Vec<String>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DefinitionError {
    #[error("integrator.io's definition of the connection is not a JSON object")]
    NotAnObject,
    #[error("the connection's definition has neither an `http` nor a `rest` part to switch")]
    NoAuthPart,
}

/// Removes masked values everywhere, recording their paths.
fn strip_masked(value: &mut Value, path: &str, dropped: &mut Vec<String>) {
    match value {
        Value::Object(object) => strip_masked_from(object, path, dropped),
        Value::Array(items) => {
            let mut index = 0;
            items.retain(|item| {
                let keep = !is_masked(item);
                if !keep {
                    dropped.push(format!("{path}[{index}]"));
                }
                index += 1;
                keep
            });
            for (i, child) in items.iter_mut().enumerate() {
                strip_masked(child, &format!("{path}[{i}]"), dropped);
            }
        }
        _ => {}
    }
}

/// `strip_masked` for an object at `path`.
fn strip_masked_from(object: &mut Map<String, Value>, path: &str, dropped: &mut Vec<String>) {
    let masked: Vec<String> = object
        .iter()
        .filter(|(_, v)| is_masked(v))
        .map(|(k, _)| k.clone())
        .collect();
    for key in masked {
        object.remove(&key);
        dropped.push(join(path, &key));
    }
    for (key, child) in object.iter_mut() {
        strip_masked(child, &join(path, key), dropped);
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

/// `object[key]` as an object, made one if absent or of another kind.
fn object_at<'a>(object: &'a mut Map<String, Value>, key: &str) -> &'a mut Map<String, Value> {
    let slot = object.entry(key).or_insert_with(|| json!({}));
    if !slot.is_object() {
        *slot = json!({});
    }
    match slot {
        Value::Object(inner) => inner,
        // Made an object just above.
        _ => unreachable!("object_at made an object"),
    }
}

fn set(object: &mut Map<String, Value>, pairs: &[(&str, Value)]) {
    for (key, value) in pairs {
        object.insert((*key).to_owned(), value.clone());
    }
}

/// The definition to PUT: `fresh` (a GET of the connection) switched to OAuth 2.0 with
/// the new iClient, as Celigo's own Zoom form would save it.
pub fn switched_definition(
    fresh: &Value,
    target: &OAuthTarget<'_>,
) -> Result<Switched, DefinitionError> {
    let mut body = fresh.clone();
    let Value::Object(root) = &mut body else {
        return Err(DefinitionError::NotAnObject);
    };
    if !root.get("http").is_some_and(Value::is_object)
        && !root.get("rest").is_some_and(Value::is_object)
    {
        return Err(DefinitionError::NoAuthPart);
    }
    let dropped = leave_out_what_is_not_sent_back(root);
    if root.get("http").is_some_and(Value::is_object) {
        switch_http(object_at(root, "http"), target);
    }
    if root.get("rest").is_some_and(Value::is_object) {
        switch_rest(object_at(root, "rest"), target);
    }
    Ok(Switched { body, dropped })
}

/// Removes the read-only keys, the obsolete JWT credentials and every masked value; the
/// paths of the values left out (read-only keys aside).
fn leave_out_what_is_not_sent_back(root: &mut Map<String, Value>) -> Vec<String> {
    for key in READ_ONLY {
        root.remove(key);
    }
    let mut dropped = Vec::new();
    // The JWT API key and secret: obsolete, and masked anyway.
    for part in ["http", "rest"] {
        if let Some(Value::Object(sub)) = root.get_mut(part) {
            if sub.remove("encrypted").is_some() {
                dropped.push(format!("{part}.encrypted"));
            }
        }
    }
    strip_masked_from(root, "", &mut dropped);
    dropped
}

/// The `http` part on OAuth 2.0: the iClient, the authorization and the bearer token.
fn switch_http(http: &mut Map<String, Value>, target: &OAuthTarget<'_>) {
    http.insert("_iClientId".into(), json!(target.iclient_id));
    let auth = object_at(http, "auth");
    auth.insert("type".into(), json!("oauth"));
    auth.remove("jwt");
    let oauth = object_at(auth, "oauth");
    set(
        oauth,
        &[
            ("authURI", json!(target.authorize_url)),
            ("tokenURI", json!(target.token_url)),
            ("useIClientFields", json!(false)),
            ("grantType", json!("authorizecode")),
        ],
    );
    if let Some(url) = target.redirect_to {
        oauth.insert("oauth2RedirectUrl".into(), json!(url));
    }
    let token = object_at(auth, "token");
    set(
        token,
        &[
            ("location", json!("header")),
            ("headerName", json!("Authorization")),
            ("scheme", json!("Bearer")),
            ("refreshMethod", json!("POST")),
            ("refreshMediaType", json!("urlencoded")),
        ],
    );
}

/// The `rest` part on OAuth 2.0, in its own flat keys, and the iClient.
fn switch_rest(rest: &mut Map<String, Value>, target: &OAuthTarget<'_>) {
    set(
        rest,
        &[
            ("authType", json!("oauth")),
            ("authURI", json!(target.authorize_url)),
            ("oauthTokenURI", json!(target.token_url)),
            ("tokenLocation", json!("header")),
            ("authHeader", json!("Authorization")),
            ("authScheme", json!("Bearer")),
            ("refreshTokenMethod", json!("POST")),
            ("refreshTokenMediaType", json!("urlencoded")),
            ("_iClientId", json!(target.iclient_id)),
        ],
    );
    let oauth = object_at(rest, "oauth");
    set(
        oauth,
        &[
            ("useIClientFields", json!(false)),
            ("grantType", json!("authorizecode")),
        ],
    );
    if let Some(url) = target.redirect_to {
        oauth.insert("oauth2RedirectUrl".into(), json!(url));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TARGET: OAuthTarget<'static> = OAuthTarget {
        iclient_id: "ic9",
        authorize_url: "https://zoom.us/oauth/authorize",
        token_url: "https://zoom.us/oauth/token",
        redirect_to: None,
    };

    fn rest_shaped() -> Value {
        json!({
            "_id": "c1", "name": "Zoom", "type": "rest", "assistant": "zoom", "offline": true, "sandbox": false,
            "lastModified": "2024-01-01T00:00:00.000Z", "createdAt": "2020-01-01T00:00:00.000Z", "isHTTP": true,
            "queues": [{ "name": "c1", "size": 0 }], "_integrationId": "int1", "debugDate": null,
            "http": { "formType": "assistant", "mediaType": "json", "baseURI": "https://api.zoom.us",
                      "ping": { "relativeURI": "/v2/users", "method": "GET" },
                      "headers": [{ "name": "X-Team", "value": "sales" }, { "name": "X-Key", "value": "******" }],
                      "encrypted": "******", "auth": { "type": "jwt", "jwt": { "algorithm": "HS256" } } },
            "rest": { "baseURI": "https://api.zoom.us", "mediaType": "json", "authType": "jwt",
                      "pingRelativeURI": "/v2/users", "pingMethod": "GET", "encrypted": { "apiKey": "******" } }
        })
    }

    #[test]
    fn switches_both_parts_and_keeps_every_other_field() {
        let fresh = rest_shaped();
        let Switched { body, dropped } = switched_definition(&fresh, &TARGET).expect("switches");
        for key in READ_ONLY {
            assert!(body.get(key).is_none(), "{key} is read-only");
        }
        for key in [
            "name",
            "type",
            "assistant",
            "sandbox",
            "_integrationId",
            "debugDate",
        ] {
            assert_eq!(body[key], fresh[key], "{key} kept");
        }
        assert_eq!(body["type"], "rest", "the type is never converted");
        assert_eq!(body["http"]["ping"], fresh["http"]["ping"]);
        assert_eq!(body["http"]["baseURI"], fresh["http"]["baseURI"]);
        assert_eq!(body["http"]["formType"], "assistant");
        assert_eq!(body["http"]["headers"][0], fresh["http"]["headers"][0]);
        assert_eq!(body["rest"]["pingRelativeURI"], "/v2/users");

        assert_eq!(body["http"]["auth"]["type"], "oauth");
        assert!(body["http"]["auth"].get("jwt").is_none());
        assert_eq!(body["http"]["_iClientId"], "ic9");
        assert_eq!(
            body["http"]["auth"]["oauth"]["authURI"],
            TARGET.authorize_url
        );
        assert_eq!(body["http"]["auth"]["oauth"]["tokenURI"], TARGET.token_url);
        assert_eq!(body["http"]["auth"]["oauth"]["useIClientFields"], false);
        assert_eq!(body["http"]["auth"]["token"]["scheme"], "Bearer");
        assert_eq!(body["rest"]["authType"], "oauth");
        assert_eq!(body["rest"]["oauthTokenURI"], TARGET.token_url);
        assert_eq!(body["rest"]["_iClientId"], "ic9");
        assert!(body["rest"]["oauth"].get("oauth2RedirectUrl").is_none());

        assert!(
            !body.to_string().contains("**"),
            "no masked value is sent back: {body}"
        );
        assert_eq!(
            dropped,
            ["http.encrypted", "rest.encrypted", "http.headers[1].value"]
        );
    }

    #[test]
    fn an_http_only_document_stays_http_only() {
        let fresh = json!({ "_id": "c2", "type": "http", "assistant": "zoom",
                            "http": { "_httpConnectorId": "hc", "auth": { "type": "jwt", "token": { "token": "******" } } } });
        let Switched { body, dropped } = switched_definition(&fresh, &TARGET).expect("switches");
        assert!(body.get("rest").is_none());
        assert_eq!(body["http"]["_httpConnectorId"], "hc");
        assert_eq!(dropped, ["http.auth.token.token"]);
        assert_eq!(body["http"]["auth"]["token"]["location"], "header");
    }

    #[test]
    fn the_return_address_is_set_only_when_asked() {
        let target = OAuthTarget {
            redirect_to: Some("https://cutover.example/oauth/celigo/return/c1"),
            ..TARGET
        };
        let body = switched_definition(&rest_shaped(), &target)
            .expect("switches")
            .body;
        assert_eq!(
            body["http"]["auth"]["oauth"]["oauth2RedirectUrl"],
            target.redirect_to.unwrap_or_default()
        );
        assert_eq!(
            body["rest"]["oauth"]["oauth2RedirectUrl"],
            target.redirect_to.unwrap_or_default()
        );
    }

    #[test]
    fn refuses_what_it_cannot_switch() {
        assert_eq!(
            switched_definition(&json!([1]), &TARGET),
            Err(DefinitionError::NotAnObject)
        );
        assert_eq!(
            switched_definition(&json!({ "type": "netsuite" }), &TARGET),
            Err(DefinitionError::NoAuthPart)
        );
    }
}
