//! What is wrong with the configuration, said the way people wrote it: the key as it is
//! spelled, where its value came from (a file or an environment variable), what to do.

use super::*;
use figment::error::{Actual, Kind};
use figment::{Figment, Source};
use std::fmt;

/// One thing wrong with the configuration: which key, where it came from, what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigProblem {
    pub key: String,
    pub origin: Option<String>,
    pub message: String,
}

impl fmt::Display for ConfigProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.key)?;
        if let Some(origin) = &self.origin {
            write!(f, " (from {origin})")?;
        }
        write!(f, ": {}", self.message)
    }
}

/// Everything wrong with the configuration, so one run shows all there is to fix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub problems: Vec<ConfigProblem>,
}

impl ConfigError {
    pub(super) fn one(key: &str, message: impl Into<String>) -> Self {
        Self {
            problems: vec![ConfigProblem {
                key: key.to_owned(),
                origin: None,
                message: message.into(),
            }],
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the configuration is not valid:")?;
        for problem in &self.problems {
            write!(f, "\n  - {problem}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigError {}

/// The problems in the order of the sections, as config/default.toml has them (stable:
/// the keys of a section stay in the order they were found), each saying where the
/// value came from (the file, or an environment variable).
pub(super) fn in_order_with_origins(problems: &mut [ConfigProblem], figment: &Figment) {
    problems.sort_by_key(|p| {
        let mut parts = p.key.split(['.', '[', ']']);
        let section = parts.next().unwrap_or_default();
        let deadline = parts.next().and_then(|i| i.parse::<usize>().ok());
        (SECTIONS.iter().position(|s| *s == section), deadline)
    });
    for problem in problems.iter_mut().filter(|p| p.origin.is_none()) {
        let path = problem.key.replace('[', ".").replace(']', "");
        let parts: Vec<String> = path.split('.').map(str::to_owned).collect();
        problem.origin = written_at(figment, &parts).map(|m| origin_of(m, &parts));
    }
}

/// Who wrote the value at `path` (not the defaults). figment finds no metadata inside an
/// array (`deadlines.0.due`): the nearest enclosing key that it finds says where it came from.
fn written_at<'a>(figment: &'a Figment, path: &[String]) -> Option<&'a figment::Metadata> {
    (1..=path.len())
        .rev()
        .find_map(|n| figment.find_metadata(&path[..n].join(".")))
        .filter(|m| !matches!(&m.source, Some(Source::Code(_))) && m.name != "TOML source string")
}

pub(super) fn origin_of(metadata: &figment::Metadata, path: &[String]) -> String {
    match &metadata.source {
        Some(Source::File(p)) => p.display().to_string(),
        _ if is_environment(Some(metadata)) => environment_variables(path),
        _ => metadata.name.to_string(),
    }
}

fn is_environment(metadata: Option<&figment::Metadata>) -> bool {
    metadata.is_some_and(|m| m.name.contains("environment"))
}

/// The variables that set `path`, something under it or something around it, as they
/// are spelled in the environment: an unknown section `bogus` names `CUTOVER__BOGUS__KEY`,
/// and `deadlines[0].due` names `CUTOVER__DEADLINES`, the variables set.
fn environment_variables(path: &[String]) -> String {
    let name = format!("{ENV_PREFIX}{}", path.join("__").to_ascii_uppercase());
    let under = format!("{name}__");
    let mut set: Vec<String> = std::env::vars_os()
        .filter_map(|(key, _)| key.into_string().ok())
        .filter(|key| {
            let key = key.to_ascii_uppercase();
            let ours = key.len() > ENV_PREFIX.len() && key.starts_with(ENV_PREFIX);
            ours && (key == name
                || key.starts_with(&under)
                || under.starts_with(&format!("{key}__")))
        })
        .collect();
    set.sort();
    match set.as_slice() {
        [] => format!("environment variable {name}"),
        [one] => format!("environment variable {one}"),
        many => format!("environment variables {}", many.join(", ")),
    }
}

/// `reminders.before.0` as people write it: `reminders.before[0]`.
pub(super) fn key_name(path: &[String]) -> String {
    let mut key = String::new();
    for part in path {
        if part.bytes().all(|b| b.is_ascii_digit()) && !key.is_empty() {
            key.push_str(&format!("[{part}]"));
        } else {
            if !key.is_empty() {
                key.push('.');
            }
            key.push_str(part);
        }
    }
    if key.is_empty() {
        // Only a file that is not valid TOML fails with no key at all.
        "--config".to_owned()
    } else {
        key
    }
}

/// A problem figment or serde found in the table at `prefix`.
pub(super) fn problem_from(
    figment: &Figment,
    prefix: &[String],
    e: figment::Error,
) -> ConfigProblem {
    let mut path: Vec<String> = prefix
        .iter()
        .cloned()
        .chain(e.path.iter().cloned())
        .collect();
    let message = match &e.kind {
        Kind::UnknownField(field, expected) => {
            if path.last() != Some(field) {
                path.push(field.clone());
            }
            format!(
                "unknown key; the keys here are: {}. Check the spelling (see config/default.toml)",
                expected.join(", ")
            )
        }
        Kind::MissingField(field) => {
            if path.last().map(String::as_str) != Some(field.as_ref()) {
                path.push(field.to_string());
            }
            "missing; config/default.toml lists every key with its meaning".to_owned()
        }
        Kind::InvalidType(found, expected) if expected == "a sequence" => {
            let source = e.metadata.as_ref().or_else(|| written_at(figment, &path));
            list_expected(&path, found, is_environment(source))
        }
        // The value is not repeated: a token of digits reads as a number.
        Kind::InvalidType(..) if SECRETS.contains(&key_name(&path).as_str()) => format!(
            "is not text: a secret made only of digits reads as a number, so put it in quotes \
             ({}='\"…\"') or in {}_file",
            format_args!("{ENV_PREFIX}{}", path.join("__").to_ascii_uppercase()),
            key_name(&path)
        ),
        Kind::InvalidType(found, expected) => wrong_type(found, expected),
        other => other.to_string(),
    };
    // Set when figment knows; otherwise found from the key once every problem is in.
    let origin = e.metadata.as_ref().map(|m| origin_of(m, &path));
    ConfigProblem {
        key: key_name(&path),
        origin,
        message,
    }
}

/// What to write where a list is expected and something else was written: the list in
/// the form its source takes (a TOML array in a file, JSON in an environment variable),
/// made of what was written when that was a plain value.
fn list_expected(path: &[String], found: &Actual, environment: bool) -> String {
    let key = key_name(path);
    let variable = format!("{ENV_PREFIX}{}", path.join("__").to_ascii_uppercase());
    if key == "deadlines" {
        return deadlines_expected(&variable, environment);
    }
    let written = match found {
        Actual::Str(text) => Some(text.trim().to_owned()),
        Actual::Unsigned(n) => Some(n.to_string()),
        Actual::Signed(n) => Some(n.to_string()),
        _ => None,
    };
    let broken_list = written.as_deref().is_some_and(|w| w.starts_with('['));
    let list = list_like(written.as_deref().filter(|_| !broken_list), &key);
    let what = match &written {
        Some(w) if broken_list => format!(
            "{:?} starts as a list but does not read as one (a closing bracket, a quote or a comma is off)",
            crate::markdown::truncate(w, 40)
        ),
        Some(w) => format!(
            "{:?} is one value, but {key} is a list",
            crate::markdown::truncate(w, 40)
        ),
        None => format!("{key} is a list"),
    };
    if environment {
        format!("{what}; in an environment variable write it as a JSON list: {variable}='{list}'")
    } else {
        let (section, name) = match path {
            [section, name, ..] => (section.as_str(), name.as_str()),
            _ => ("", key.as_str()),
        };
        format!("{what}; write it in brackets: {name} = {list} (under [{section}])")
    }
}

/// `deadlines` is a list of tables, written one way in a file and another in `variable`.
fn deadlines_expected(variable: &str, environment: bool) -> String {
    if environment {
        format!(
            "is a list of deadlines, each a table with title and due: in an environment variable write \
             {variable}='[{example}]'",
            example = r#"{title = "Go live", due = "2026-12-15"}"#
        )
    } else {
        "is a list of deadlines: write each as a table of its own under [[deadlines]] (two brackets), \
         with title = \"…\" and due = \"…\""
            .to_owned()
    }
}

/// A list, in brackets, of the items in `written` ("7d, 1d" or "meeting:read user:read"
/// meant as a list), or `key`'s example when there are none to take.
fn list_like(written: Option<&str>, key: &str) -> String {
    let items: Vec<String> = written
        .filter(|w| w.len() <= 80)
        .map(|w| {
            w.split(|c: char| c == ',' || c.is_whitespace())
                .filter(|item| !item.is_empty())
                .map(|item| serde_json::Value::from(item).to_string())
                .collect()
        })
        .filter(|items: &Vec<String>| !items.is_empty())
        .unwrap_or_else(|| example_list(key).iter().map(|i| format!("{i:?}")).collect());
    format!("[{}]", items.join(", "))
}

/// A value of the wrong kind, in the words of the file rather than serde's.
fn wrong_type(found: &Actual, expected: &str) -> String {
    let found = match found {
        Actual::Str(text) => format!("{:?}", crate::markdown::truncate(text, 40)),
        Actual::Unsigned(n) => n.to_string(),
        Actual::Signed(n) => n.to_string(),
        Actual::Float(n) => n.to_string(),
        Actual::Bool(b) => b.to_string(),
        Actual::Seq => "a list".to_owned(),
        Actual::Map => "a table".to_owned(),
        other => other.to_string(),
    };
    match expected {
        "a string" | "text" => format!("{found} is not text: write it in quotes"),
        "a boolean" => format!("{found} is not true or false"),
        number if number.starts_with('u') || number.starts_with('i') => {
            format!("{found} is not a whole number")
        }
        other => format!("{found} is not {other}"),
    }
}

/// A list like one that `key` takes, when what was written cannot be made into one.
fn example_list(key: &str) -> &'static [&'static str] {
    match key {
        "discord.admin_role_ids" => &["123456789012345678"],
        "zoom.scopes" => &["meeting:read", "user:read"],
        "reminders.before" => &["14d", "7d", "1d"],
        "reminders.skip_dates" => &["2026-12-25"],
        _ => &["first", "second"],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_list_shown_back_is_made_of_what_was_written() {
        let path = ["zoom".to_owned(), "scopes".to_owned()];
        let said = |found: Actual, environment| list_expected(&path, &found, environment);
        assert!(said(Actual::Str("a, b c".into()), true)
            .ends_with("CUTOVER__ZOOM__SCOPES='[\"a\", \"b\", \"c\"]'"));
        // Quotes and backslashes inside stay valid JSON and TOML.
        assert!(said(Actual::Str("a\"b\\".into()), false)
            .ends_with("scopes = [\"a\\\"b\\\\\"] (under [zoom])"));
        // Nothing to make a list of: the key's own example.
        assert!(said(Actual::Map, true)
            .ends_with("CUTOVER__ZOOM__SCOPES='[\"meeting:read\", \"user:read\"]'"));
        assert!(said(Actual::Str("x".repeat(100)), false)
            .ends_with("scopes = [\"meeting:read\", \"user:read\"] (under [zoom])"));
    }

    #[test]
    fn deadlines_are_shown_as_tables_in_the_form_of_their_source() {
        let path = ["deadlines".to_owned()];
        assert_eq!(
            list_expected(&path, &Actual::Str("Go live".into()), true),
            "is a list of deadlines, each a table with title and due: in an environment variable write \
             CUTOVER__DEADLINES='[{title = \"Go live\", due = \"2026-12-15\"}]'"
        );
        assert_eq!(
            list_expected(&path, &Actual::Map, false),
            "is a list of deadlines: write each as a table of its own under [[deadlines]] (two brackets), \
             with title = \"…\" and due = \"…\""
        );
    }
}
