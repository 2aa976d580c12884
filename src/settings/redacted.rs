//! How `cutover check-config` shows what `Serialize` cannot take as it is: secrets only as
//! set (a marker) or left out, and deadlines as they are written.

use crate::domain::Deadline;
use serde::{Serialize, Serializer};

const REDACTED: &str = "[redacted]";

/// A secret that is set, shown only as a marker (the key is left out when it is not set).
pub(super) fn secret<T, S: Serializer>(
    _value: &Option<T>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(REDACTED)
}

/// A deadline as one is written under `[[deadlines]]`: `due` in RFC 3339, and the keys
/// left at their defaults left out.
#[derive(Serialize)]
struct Written {
    title: String,
    due: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    note: String,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    approximate: bool,
}

pub(super) fn deadlines<S: Serializer>(
    deadlines: &[Deadline],
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.collect_seq(deadlines.iter().map(|d| Written {
        title: d.title.to_string(),
        due: d.due.to_rfc3339(),
        note: d.note.clone(),
        approximate: d.approximate,
    }))
}

#[cfg(test)]
mod tests {
    use crate::settings::{SealingKey, Settings};
    use base64::Engine;
    use secrecy::SecretString;

    #[test]
    fn secrets_are_shown_only_as_set_in_the_toml_and_in_debug() {
        // The defaults (and whatever CUTOVER__ variables the test run has, normally none).
        let mut settings = Settings::load(None).expect("the defaults are valid");
        let unset = settings.to_redacted_toml().expect("serializes");
        assert!(
            !unset.contains("[redacted]"),
            "an unset secret is left out: {unset}"
        );

        let key = base64::engine::general_purpose::STANDARD.encode([9u8; 32]);
        settings.discord.token = Some(SecretString::from("discord-secret"));
        settings.celigo.api_token = Some(SecretString::from("celigo-secret"));
        settings.security.sealing_key = SealingKey::parse(&key).ok();
        settings.security.previous_sealing_key = SealingKey::parse(&key).ok();
        let shown = settings.to_redacted_toml().expect("serializes");
        for line in [
            "token = \"[redacted]\"",
            "api_token = \"[redacted]\"",
            "\nsealing_key = \"[redacted]\"",
            "previous_sealing_key = \"[redacted]\"",
        ] {
            assert!(shown.contains(line), "{line} in {shown}");
        }
        let debug = format!("{settings:?}");
        for secret in ["discord-secret", "celigo-secret", key.as_str()] {
            assert!(
                !shown.contains(secret) && !debug.contains(secret),
                "{secret} leaked"
            );
        }
    }
}
