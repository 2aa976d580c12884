//! What can go wrong talking to integrator.io, and how to say it to a person.

use serde_json::Value;
use std::fmt;

/// The first problem an error body names. integrator.io documents
/// `{"errors":[{"code","message","field"}]}`, but its own UI also copes with `errors` of
/// plain strings, `errors` that is not an array, a top-level `message`, and empty bodies
/// (CELIGO.md §7); `code` may be a string or a number.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Problem {
    pub code: Option<String>,
    pub message: Option<String>,
    pub field: Option<String>,
}

fn text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

impl Problem {
    /// Reads whatever an error body holds; never fails.
    pub fn from_body(body: &[u8]) -> Self {
        let Ok(json) = serde_json::from_slice::<Value>(body) else {
            return Self::default();
        };
        Self::from_value(&json)
    }

    pub fn from_value(json: &Value) -> Self {
        let first = match json.get("errors") {
            Some(Value::Array(items)) => items.first(),
            Some(other) => Some(other),
            None => None,
        };
        match first {
            Some(entry @ Value::Object(_)) => Self {
                code: entry.get("code").and_then(text),
                message: entry.get("message").and_then(text),
                field: entry.get("field").and_then(text),
            },
            Some(other) => Self {
                message: text(other),
                ..Self::default()
            },
            None => Self {
                message: json.get("message").and_then(text),
                code: json.get("code").and_then(text),
                ..Self::default()
            },
        }
    }

    /// What integrator.io said, short and on one line, for a person to read.
    pub fn summary(&self) -> Option<String> {
        let message = self.message.as_deref().map(|m| {
            let one_line: String = m
                .chars()
                .map(|c| if c.is_control() { ' ' } else { c })
                .collect();
            let one_line = one_line.trim();
            match one_line.char_indices().nth(200) {
                Some((cut, _)) => format!("{}…", &one_line[..cut]),
                None => one_line.to_owned(),
            }
        });
        match (&self.code, message, &self.field) {
            (None, None, _) => None,
            (code, message, field) => {
                let mut out = String::new();
                if let Some(code) = code {
                    out.push_str(code);
                }
                if let Some(field) = field {
                    out.push_str(&format!(" (field {field})"));
                }
                if let Some(message) = message {
                    if !out.is_empty() {
                        out.push_str(": ");
                    }
                    out.push_str(&message);
                }
                Some(out)
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CeligoError {
    /// 401 or 403: the token is wrong, expired, or not allowed to do this.
    TokenRefused {
        status: u16,
    },
    NotFound,
    /// Another 4xx: integrator.io understood and said no.
    Rejected {
        status: u16,
        problem: Problem,
    },
    /// Still rate limited after waiting as asked, or asked to wait too long.
    RateLimited {
        retry_after: Option<u64>,
    },
    /// 5xx, a timeout or no connection, after the retries that were safe to make.
    Unavailable {
        status: Option<u16>,
    },
    /// A success whose body is not what integrator.io sends.
    BadAnswer(&'static str),
}

pub const TOKEN_ADVICE: &str = "the API token is wrong or lacks access: it needs a Full access token. \
     An admin creates one in integrator.io (Resources › API tokens), sets CUTOVER__CELIGO__API_TOKEN \
     (or celigo.api_token_file) to it and restarts cutover";

impl fmt::Display for CeligoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CeligoError::TokenRefused { status } => {
                write!(f, "integrator.io refused cutover's API token (HTTP {status}): {TOKEN_ADVICE}")
            }
            CeligoError::NotFound => f.write_str("integrator.io has no such record (HTTP 404)"),
            CeligoError::Rejected { status, problem } => {
                write!(f, "integrator.io rejected the request (HTTP {status})")?;
                match problem.summary() {
                    Some(summary) => write!(f, ": {summary}"),
                    None => Ok(()),
                }
            }
            CeligoError::RateLimited { retry_after } => {
                f.write_str("integrator.io is limiting requests")?;
                if let Some(seconds) = retry_after {
                    write!(f, " (it asks to wait {seconds} s)")?;
                }
                f.write_str("; try again in a few minutes")
            }
            CeligoError::Unavailable { status: Some(status) } => write!(
                f,
                "integrator.io is not answering properly (HTTP {status}); try again in a few minutes"
            ),
            CeligoError::Unavailable { status: None } => f.write_str(
                "integrator.io could not be reached or did not answer in time; try again in a few minutes",
            ),
            CeligoError::BadAnswer(what) => write!(
                f,
                "integrator.io answered with something cutover cannot read ({what}); try again, and if it \
                 keeps happening an admin can find the details in cutover's log"
            ),
        }
    }
}

impl std::error::Error for CeligoError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_documented_envelope() {
        let p = Problem::from_body(
            br#"{"errors":[{"code":"invalid_field","message":"`adaptorType` is required","field":"adaptorType"}]}"#,
        );
        assert_eq!(p.code.as_deref(), Some("invalid_field"));
        assert_eq!(p.field.as_deref(), Some("adaptorType"));
        assert_eq!(
            p.summary().as_deref(),
            Some("invalid_field (field adaptorType): `adaptorType` is required")
        );
    }

    #[test]
    fn reads_every_variant_the_ui_tolerates() {
        let numeric =
            Problem::from_body(br#"{"errors":[{"code":401,"message":"Invalid access token"}]}"#);
        assert_eq!(numeric.code.as_deref(), Some("401"));
        let strings = Problem::from_body(br#"{"errors":["Something broke"]}"#);
        assert_eq!(strings.message.as_deref(), Some("Something broke"));
        let not_array = Problem::from_body(br#"{"errors":{"code":"x","message":"y"}}"#);
        assert_eq!(not_array.summary().as_deref(), Some("x: y"));
        let message = Problem::from_body(br#"{"message":"CSRF token mismatch"}"#);
        assert_eq!(message.summary().as_deref(), Some("CSRF token mismatch"));
        for empty in [
            &b""[..],
            b"<html>502</html>",
            b"{}",
            b"[]",
            br#"{"errors":[]}"#,
        ] {
            assert_eq!(Problem::from_body(empty).summary(), None, "{empty:?}");
        }
    }

    #[test]
    fn messages_say_what_to_do_and_stay_on_one_line() {
        let p = Problem::from_body(br#"{"message":"line one\nline two"}"#);
        assert_eq!(p.summary().as_deref(), Some("line one line two"));
        let refused = CeligoError::TokenRefused { status: 401 }.to_string();
        assert!(refused.contains("needs a Full access token"), "{refused}");
        let down = CeligoError::Unavailable { status: Some(500) }.to_string();
        assert!(
            down.contains("HTTP 500") && down.contains("try again"),
            "{down}"
        );
    }
}
