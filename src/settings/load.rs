use super::problems::{
    in_order_with_origins, key_name, origin_of, problem_from, ConfigError, ConfigProblem,
};
use super::sections::{validate, RawDeadline, Read, Sections};
use super::*;
use figment::error::Kind;
use figment::providers::{Env, Format, Toml};
use figment::value::{Dict, Value};
use figment::Figment;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use std::path::Path;

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
        status: read_section(figment, &defaults, "status", problems)?,
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

fn file_that_sets(path: &Path, key: &str) -> Option<String> {
    Figment::from(Toml::file_exact(path))
        .contains(key)
        .then(|| path.display().to_string())
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
            sections.status.broken,
            sections.reminders.broken,
        ];
        assert!(broken.iter().all(Vec::is_empty));
        assert_eq!(sections.deadlines.len(), 3);
    }
}
