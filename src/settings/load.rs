use super::sections::{validate, RawDeadline, Read, Sections};
use super::*;
use figment::error::{Actual, Kind};
use figment::providers::{Env, Format, Toml};
use figment::value::{Dict, Value};
use figment::{Figment, Source};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use std::fmt;
use std::path::Path;

const ENV_PREFIX: &str = "CUTOVER__";

/// Read only from the environment or a `*_file`, and never repeated in a message.
const SECRETS: [&str; 4] = [
    "discord.token",
    "security.sealing_key",
    "security.previous_sealing_key",
    "celigo.api_token",
];

const SECTIONS: [&str; 9] = [
    "database",
    "server",
    "discord",
    "zoom",
    "security",
    "celigo",
    "switch",
    "reminders",
    "deadlines",
];

/// Reads every section on its own, and every key in each, so that one run reports all
/// there is to fix; `None` only when the configuration is not TOML at all.
fn read_sections(figment: &Figment, problems: &mut Vec<ConfigProblem>) -> Option<Sections> {
    // A file that is not TOML at all is one problem, not one per section.
    let dict = match figment.extract::<Dict>() {
        Ok(dict) => dict,
        Err(error) => {
            problems.extend(error.into_iter().map(|e| problem_from(figment, &[], e)));
            return None;
        }
    };
    for key in dict.keys().filter(|k| !SECTIONS.contains(&k.as_str())) {
        problems.push(ConfigProblem {
            key: key.clone(),
            origin: figment
                .find_metadata(key)
                .map(|m| origin_of(m, std::slice::from_ref(key))),
            message: format!(
                "unknown section; the sections are: {}. Check the spelling (see config/default.toml)",
                SECTIONS.join(", ")
            ),
        });
    }
    let defaults = Figment::from(Toml::string(DEFAULT_TOML));
    Some(Sections {
        database: read_section(figment, &defaults, "database", problems)?,
        server: read_section(figment, &defaults, "server", problems)?,
        discord: read_section(figment, &defaults, "discord", problems)?,
        zoom: read_section(figment, &defaults, "zoom", problems)?,
        security: read_section(figment, &defaults, "security", problems)?,
        celigo: read_section(figment, &defaults, "celigo", problems)?,
        switch: read_section(figment, &defaults, "switch", problems)?,
        reminders: read_section(figment, &defaults, "reminders", problems)?,
        deadlines: read_deadlines(figment, problems),
    })
}

/// One section; where it is not a table at all, its defaults, every key counted as not
/// read. `None` only if the defaults themselves do not read (a test says they do).
fn read_section<T: DeserializeOwned>(
    figment: &Figment,
    defaults: &Figment,
    name: &str,
    problems: &mut Vec<ConfigProblem>,
) -> Option<Read<T>> {
    let defaults = defaults
        .find_value(name)
        .ok()
        .and_then(Value::into_dict)
        .unwrap_or_default();
    match figment.find_value(name) {
        Ok(Value::Dict(_, written)) => {
            read_table(figment, &[name.to_owned()], written, &defaults, problems)
        }
        written => {
            if written.is_ok() {
                problems.push(ConfigProblem {
                    key: name.to_owned(),
                    origin: None,
                    message: format!(
                        "is a section, not a value: write its keys under [{name}] in a file, or one variable \
                         per key in the environment ({ENV_PREFIX}{}__KEY)",
                        name.to_ascii_uppercase()
                    ),
                });
            }
            let value = T::deserialize(&Value::from(defaults)).ok()?;
            Some(Read {
                value,
                broken: vec!["*".to_owned()],
            })
        }
    }
}

/// A table as `T`, every key that does not read reported: serde stops at the first, so
/// each is put back to its default (or left out when it has none) and the rest read again.
fn read_table<T: DeserializeOwned>(
    figment: &Figment,
    path: &[String],
    mut table: Dict,
    defaults: &Dict,
    problems: &mut Vec<ConfigProblem>,
) -> Option<Read<T>> {
    let mut broken: Vec<String> = Vec::new();
    loop {
        let error = match T::deserialize(&Value::from(table.clone())) {
            Ok(value) => return Some(Read { value, broken }),
            Err(error) => error,
        };
        let before = broken.len();
        for e in error {
            let key = e.path.first().cloned().or_else(|| match &e.kind {
                Kind::UnknownField(field, _) => Some(field.clone()),
                Kind::MissingField(field) => Some(field.to_string()),
                _ => None,
            });
            problems.push(problem_from(figment, path, e));
            // A key put back that still does not read cannot happen with the defaults;
            // if it did, this table is given up rather than read forever.
            let key = key.filter(|k| !broken.contains(k))?;
            match defaults.get(&key) {
                Some(default) => table.insert(key.clone(), default.clone()),
                None => table.remove(&key),
            };
            broken.push(key);
        }
        if broken.len() == before {
            return None;
        }
    }
}

/// The `[[deadlines]]`, each on its own: one that does not read hides no other.
fn read_deadlines(
    figment: &Figment,
    problems: &mut Vec<ConfigProblem>,
) -> Vec<(usize, Read<RawDeadline>)> {
    let path = ["deadlines".to_owned()];
    let Ok(written) = figment.find_value("deadlines") else {
        return Vec::new();
    };
    let items = match Vec::<Value>::deserialize(&written) {
        Ok(items) => items,
        Err(error) => {
            problems.extend(error.into_iter().map(|e| problem_from(figment, &path, e)));
            return Vec::new();
        }
    };
    let mut deadlines = Vec::new();
    for (i, item) in items.into_iter().enumerate() {
        let path = ["deadlines".to_owned(), i.to_string()];
        match item {
            Value::Dict(_, table) => {
                if let Some(read) = read_table(figment, &path, table, &Dict::new(), problems) {
                    deadlines.push((i, read));
                }
            }
            _ => problems.push(ConfigProblem {
                key: key_name(&path),
                origin: None,
                message: "is not a table: each deadline has keys, title = \"…\" and due = \"…\" \
                          (in a file, under its own [[deadlines]])"
                    .to_owned(),
            }),
        }
    }
    deadlines
}
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
    fn one(key: &str, message: impl Into<String>) -> Self {
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

pub(super) fn load(file: Option<&Path>) -> Result<Settings, ConfigError> {
    let mut figment = Figment::from(Toml::string(DEFAULT_TOML));
    if let Some(path) = file {
        if !path.is_file() {
            return Err(ConfigError::one(
                "--config",
                format!(
                    "{} does not exist or is not a file; give the path of a TOML file, or leave --config and CUTOVER_CONFIG unset",
                    path.display()
                ),
            ));
        }
        figment = figment.merge(Toml::file_exact(path));
    }
    figment = figment.merge(Env::prefixed(ENV_PREFIX).split("__"));

    let mut problems = secrets_written_in(file);
    let Some(raw) = read_sections(&figment, &mut problems) else {
        return Err(ConfigError { problems });
    };
    let settings = validate(raw, &mut problems);
    if problems.is_empty() {
        return Ok(settings);
    }
    in_order_with_origins(&mut problems, &figment);
    Err(ConfigError { problems })
}

/// A secret written in the configuration file: refused, whatever else sets it.
fn secrets_written_in(file: Option<&Path>) -> Vec<ConfigProblem> {
    let mut problems = Vec::new();
    for key in SECRETS {
        // Asked of the file alone: an environment variable set too must not hide it.
        if let Some(source) = file.and_then(|path| file_that_sets(path, key)) {
            let env = format!(
                "{ENV_PREFIX}{}",
                key.replace('.', "__").to_ascii_uppercase()
            );
            problems.push(ConfigProblem {
                key: key.to_owned(),
                origin: Some(source),
                message: format!(
                    "secrets are not read from configuration files; set {env} or {key}_file instead, and remove it from the file"
                ),
            });
        }
    }
    problems
}

/// The problems in the order of the sections, as config/default.toml has them (stable:
/// the keys of a section stay in the order they were found), each saying where the
/// value came from (the file, or an environment variable).
fn in_order_with_origins(problems: &mut [ConfigProblem], figment: &Figment) {
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

fn file_that_sets(path: &Path, key: &str) -> Option<String> {
    Figment::from(Toml::file_exact(path))
        .contains(key)
        .then(|| path.display().to_string())
}

fn origin_of(metadata: &figment::Metadata, path: &[String]) -> String {
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
fn key_name(path: &[String]) -> String {
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
fn problem_from(figment: &Figment, prefix: &[String], e: figment::Error) -> ConfigProblem {
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
        return if environment {
            format!(
                "is a list of deadlines, each a table with title and due: in an environment variable write \
                 {variable}='[{{title = \"Go live\", due = \"2026-12-15\"}}]'"
            )
        } else {
            "is a list of deadlines: write each as a table of its own under [[deadlines]] (two brackets), \
             with title = \"…\" and due = \"…\""
                .to_owned()
        };
    }
    let written = match found {
        Actual::Str(text) => Some(text.trim().to_owned()),
        Actual::Unsigned(n) => Some(n.to_string()),
        Actual::Signed(n) => Some(n.to_string()),
        _ => None,
    };
    let broken_list = written.as_deref().is_some_and(|w| w.starts_with('['));
    // "7d, 1d" or "meeting:read user:read" meant as a list: shown back as one.
    let items: Vec<String> = written
        .as_deref()
        .filter(|w| !broken_list && w.len() <= 80)
        .map(|w| {
            w.split(|c: char| c == ',' || c.is_whitespace())
                .filter(|item| !item.is_empty())
                .map(|item| serde_json::Value::from(item).to_string())
                .collect()
        })
        .filter(|items: &Vec<String>| !items.is_empty())
        .unwrap_or_else(|| {
            example_list(&key)
                .iter()
                .map(|i| format!("{i:?}"))
                .collect()
        });
    let list = format!("[{}]", items.join(", "));
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
    fn the_defaults_alone_read_with_no_key_put_back() {
        // What a key that does not read is put back to must read itself.
        let figment = Figment::from(Toml::string(DEFAULT_TOML));
        let mut problems = Vec::new();
        let sections = read_sections(&figment, &mut problems).expect("the defaults read");
        assert_eq!(problems, []);
        let broken = [
            sections.database.broken,
            sections.server.broken,
            sections.discord.broken,
            sections.zoom.broken,
            sections.security.broken,
            sections.celigo.broken,
            sections.switch.broken,
            sections.reminders.broken,
        ];
        assert!(broken.iter().all(Vec::is_empty));
        assert_eq!(sections.deadlines.len(), 3);
    }

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
}
