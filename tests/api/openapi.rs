//! Checks bodies the bot sends Discord against Discord's own OpenAPI description
//! (tests/reference/discord-openapi.json), so a shape Discord would reject fails here.

use crate::fake_discord::callback;
use jsonschema::Validator;
use serde_json::{json, Value};
use std::sync::OnceLock;

fn document() -> &'static Value {
    static DOCUMENT: OnceLock<Value> = OnceLock::new();
    DOCUMENT.get_or_init(|| {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/reference/discord-openapi.json"
        );
        let text = std::fs::read_to_string(path)
            .expect("Discord's OpenAPI description in tests/reference");
        serde_json::from_str(&text).expect("OpenAPI JSON")
    })
}

/// A validator for the JSON request body of `method` on `path` (as the spec writes it).
fn validator(path: &str, method: &str) -> Validator {
    let doc = document();
    let mut schema =
        doc["paths"][path][method]["requestBody"]["content"]["application/json"]["schema"].clone();
    assert!(
        schema.is_object(),
        "no JSON body for {method} {path} in the spec"
    );
    // The body schema's $refs point into the document's components.
    schema["components"] = doc["components"].clone();
    schema["$schema"] = json!("https://json-schema.org/draft/2020-12/schema");
    jsonschema::validator_for(&schema).expect("the spec's schema compiles")
}

fn errors(validator: &Validator, body: &Value) -> Vec<String> {
    validator
        .iter_errors(body)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect()
}

fn check(validator: &Validator, what: &str, body: &Value) {
    let errors = errors(validator, body);
    assert!(
        errors.is_empty(),
        "{what} does not match Discord's OpenAPI description:\n{}\nbody: {body:#}",
        errors.join("\n")
    );
}

fn interaction_response() -> &'static Validator {
    static V: OnceLock<Validator> = OnceLock::new();
    V.get_or_init(|| {
        validator(
            "/interactions/{interaction_id}/{interaction_token}/callback",
            "post",
        )
    })
}

fn channel_message() -> &'static Validator {
    static V: OnceLock<Validator> = OnceLock::new();
    V.get_or_init(|| validator("/channels/{channel_id}/messages", "post"))
}

fn followup() -> &'static Validator {
    static V: OnceLock<Validator> = OnceLock::new();
    V.get_or_init(|| validator("/webhooks/{webhook_id}/{webhook_token}", "post"))
}

fn message_edit() -> &'static Validator {
    static V: OnceLock<Validator> = OnceLock::new();
    V.get_or_init(|| {
        validator(
            "/webhooks/{webhook_id}/{webhook_token}/messages/@original",
            "patch",
        )
    })
}

fn command_registration(guild: bool) -> &'static Validator {
    static GLOBAL: OnceLock<Validator> = OnceLock::new();
    static GUILD: OnceLock<Validator> = OnceLock::new();
    if guild {
        GUILD.get_or_init(|| {
            validator(
                "/applications/{application_id}/guilds/{guild_id}/commands",
                "put",
            )
        })
    } else {
        GLOBAL.get_or_init(|| validator("/applications/{application_id}/commands", "put"))
    }
}

/// What is wrong with the body of a request to Discord's REST API (`parts`: the path
/// after `/api/v10/`, split at `/`), by Discord's description of that route. `None`: a
/// route without a JSON body to check.
pub fn problems(method: &str, parts: &[&str], body: &Value) -> Option<Vec<String>> {
    Some(match (method, parts) {
        ("POST", ["interactions", _, _, "callback"]) => errors(interaction_response(), body),
        ("POST", ["channels", _, "messages"]) => errors(channel_message(), &uploaded_forms(body)),
        ("POST", ["webhooks", _, _]) => errors(followup(), body),
        ("PATCH", ["webhooks", _, _, "messages", "@original"]) => {
            errors(message_edit(), &uploaded_forms(body))
        }
        ("PUT", ["applications", _, "commands"]) => {
            errors(command_registration(false), &documented_forms(body))
        }
        ("PUT", ["applications", _, "guilds", _, "commands"]) => {
            errors(command_registration(true), &documented_forms(body))
        }
        _ => return None,
    })
}

pub fn assert_interaction_response(body: &Value) {
    check(interaction_response(), "an interaction response", body);
}

pub fn assert_channel_message(body: &Value) {
    check(
        channel_message(),
        "a channel message",
        &uploaded_forms(body),
    );
}

/// A file uploaded with a message is named in `attachments` by its place among the
/// upload's parts: Discord's documentation writes that id as a number (`"id": 0`), which
/// serenity sends; the spec types attachment ids as snowflake strings only. The number is
/// checked here and given to the spec as a string.
fn uploaded_forms(body: &Value) -> Value {
    let mut body = body.clone();
    for attachment in body["attachments"].as_array_mut().into_iter().flatten() {
        if let Some(n) = attachment["id"].as_u64() {
            assert!(n < 10, "an upload's place: {n}");
            attachment["id"] = json!(n.to_string());
        }
    }
    body
}

pub fn assert_followup(body: &Value) {
    check(followup(), "a follow-up message", body);
}

pub fn assert_message_edit(body: &Value) {
    check(message_edit(), "a message edit", &uploaded_forms(body));
}

/// Where Discord's documentation and the (preview) spec disagree, the documentation
/// wins (see the spec's README): the docs type `default_member_permissions` as a string
/// of digits, which is what serenity sends; the spec only lists integer or null. The
/// value is checked here (digits only) and then given to the spec as the integer it means.
fn documented_forms(body: &Value) -> Value {
    let mut body = body.clone();
    for command in body.as_array_mut().into_iter().flatten() {
        if let Some(Value::String(bits)) = command.get("default_member_permissions") {
            let number: u64 = bits
                .parse()
                .unwrap_or_else(|_| panic!("permissions {bits:?} are not digits"));
            command["default_member_permissions"] = json!(number);
        }
    }
    body
}

pub fn assert_command_registration(body: &Value, guild: bool) {
    check(
        command_registration(guild),
        "a command registration",
        &documented_forms(body),
    );
}

#[test]
fn the_validator_rejects_what_discord_would() {
    // A modal without a title, and a message with a 2001-character content.
    let bad_modal =
        json!({ "type": callback::MODAL, "data": { "custom_id": "x", "components": [] } });
    let validator = validator(
        "/interactions/{interaction_id}/{interaction_token}/callback",
        "post",
    );
    assert!(!validator.is_valid(&bad_modal));
    let too_long =
        json!({ "type": callback::CHANNEL_MESSAGE, "data": { "content": "x".repeat(2001) } });
    assert!(!validator.is_valid(&too_long));
    assert!(validator
        .is_valid(&json!({ "type": callback::CHANNEL_MESSAGE, "data": { "content": "ok" } })));
    // The fake Discord's check, by route.
    assert_eq!(
        problems(
            "POST",
            &["channels", "7", "messages"],
            &json!({ "content": "x".repeat(4001) })
        )
        .map(|p| p.len()),
        Some(1)
    );
    assert_eq!(
        problems(
            "POST",
            &["channels", "7", "messages"],
            &json!({ "content": "ok" })
        ),
        Some(vec![])
    );
    assert_eq!(problems("GET", &["gateway"], &Value::Null), None);
}
