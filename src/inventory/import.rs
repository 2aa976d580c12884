//! Reading a connection inventory file (CSV or JSON, format in INTERFACE.md). Every bad
//! row is reported with where it is and which field, and nothing is returned unless the
//! whole file is good, so an import is all-or-nothing.

use crate::domain::{
    AuthType, ConnectionId, ConnectionRecord, DisplayName, IntegrationName, Snowflake,
};
use serde_json::value::RawValue;
use std::collections::HashMap;
use std::fmt;
use std::path::Path;

pub const COLUMNS: [&str; 5] = ["id", "name", "integration", "owner", "auth_type"];
const MAX_FILE_BYTES: u64 = 64 * 1024 * 1024;

/// One problem in the file: where, which field, what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    pub location: String,
    pub field: Option<&'static str>,
    pub message: String,
}

impl fmt::Display for RowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.field {
            Some(field) => write!(f, "{}, field {field}: {}", self.location, self.message),
            None => write!(f, "{}: {}", self.location, self.message),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum InventoryError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path} is {size} bytes; the limit is 64 MiB. Split it into several files")]
    TooLarge { path: String, size: u64 },
    #[error("{0} is neither .csv nor .json; name the file by its format")]
    UnknownFormat(String),
    #[error("{} in the file; nothing was imported", problems(.0.len()))]
    Rows(Vec<RowError>),
}

/// "1 problem", "3 problems".
pub fn problems(count: usize) -> String {
    crate::words::counted(count, "problem", "problems")
}

/// Reads and checks a whole inventory file.
pub fn read_file(path: &Path) -> Result<Vec<ConnectionRecord>, InventoryError> {
    let shown = path.display().to_string();
    let extension = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    let parse: fn(&str) -> Result<Vec<ConnectionRecord>, Vec<RowError>> = match extension.as_deref()
    {
        Some("csv") => parse_csv,
        Some("json") => parse_json,
        _ => return Err(InventoryError::UnknownFormat(shown)),
    };
    let read_error = |source| InventoryError::Read {
        path: shown.clone(),
        source,
    };
    let size = std::fs::metadata(path).map_err(read_error)?.len();
    if size > MAX_FILE_BYTES {
        return Err(InventoryError::TooLarge { path: shown, size });
    }
    let bytes = std::fs::read(path).map_err(read_error)?;
    let text = String::from_utf8(bytes).map_err(|e| {
        InventoryError::Rows(vec![RowError {
            location: format!(
                "line {}",
                line_of(&e.as_bytes()[..e.utf8_error().valid_up_to()])
            ),
            field: None,
            message: "the file is not UTF-8 text; save it as UTF-8".into(),
        }])
    })?;
    // A byte-order mark (as some editors save UTF-8) is not part of the data.
    parse(text.strip_prefix('\u{feff}').unwrap_or(&text)).map_err(InventoryError::Rows)
}

fn line_of(prefix: &[u8]) -> usize {
    prefix.iter().filter(|b| **b == b'\n').count() + 1
}

/// The five fields of a row, as text, before checking.
struct RawRow<'a> {
    id: &'a str,
    name: &'a str,
    integration: &'a str,
    owner: &'a str,
    auth_type: &'a str,
}

/// Checks one row; `seen` maps ids to where they first appeared.
fn check_row(
    raw: RawRow<'_>,
    location: String,
    seen: &mut HashMap<ConnectionId, String>,
    errors: &mut Vec<RowError>,
) -> Option<ConnectionRecord> {
    let before = errors.len();
    let mut fail = |field: &'static str, message: String| {
        errors.push(RowError {
            location: location.clone(),
            field: Some(field),
            message,
        });
    };
    let id = ConnectionId::parse(raw.id)
        .map_err(|e| fail("id", e.to_string()))
        .ok();
    let name = DisplayName::parse(raw.name)
        .map_err(|e| fail("name", format!("{e}; every connection needs a name")))
        .ok();
    let integration = IntegrationName::parse(raw.integration)
        .map_err(|e| fail("integration", e.to_string()))
        .ok();
    let owner = match raw.owner.trim() {
        "" => None,
        text => Snowflake::parse(text)
            .map_err(|e| fail("owner", e.to_string()))
            .ok(),
    };
    let auth_type = raw
        .auth_type
        .parse::<AuthType>()
        .map_err(|e| fail("auth_type", e.to_string()))
        .ok();
    if let Some(id) = &id {
        if let Some(first) = seen.get(id) {
            fail(
                "id",
                format!(
                    "duplicate id {:?} (first at {first}); each connection once",
                    id.as_str()
                ),
            );
        } else {
            seen.insert(id.clone(), location.clone());
        }
    }
    if errors.len() > before {
        return None;
    }
    Some(ConnectionRecord {
        id: id?,
        name: name?,
        integration: integration?,
        owner,
        auth_type: auth_type?,
    })
}

pub fn parse_csv(text: &str) -> Result<Vec<ConnectionRecord>, Vec<RowError>> {
    // Flexible: a row with the wrong number of fields is ours to explain (an unclosed
    // quote reads as one long field, which a count alone would hide).
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_reader(text.as_bytes());
    let names = csv_header(&mut reader)?;
    let column = |name: &str| names.iter().position(|n| n == name).unwrap_or(0);
    let columns = COLUMNS.map(column);

    let mut records = Vec::new();
    let mut errors = Vec::new();
    let mut seen = HashMap::new();
    for row in reader.records() {
        if let Some(record) = csv_record(row, names.len(), columns, &mut seen, &mut errors) {
            records.push(record);
        }
    }
    if errors.is_empty() {
        Ok(records)
    } else {
        Err(errors)
    }
}

/// The header's column names (trimmed, lower case), which must be [`COLUMNS`] in any
/// order: otherwise one error saying what is missing or unknown.
fn csv_header(reader: &mut csv::Reader<&[u8]>) -> Result<Vec<String>, Vec<RowError>> {
    let header_error = |message: String| {
        vec![RowError {
            location: "line 1 (header)".into(),
            field: None,
            message,
        }]
    };
    let headers = reader
        .headers()
        .map_err(|e| header_error(e.to_string()))?
        .clone();
    let names: Vec<String> = headers
        .iter()
        .map(|h| h.trim().to_ascii_lowercase())
        .collect();
    let missing: Vec<_> = COLUMNS
        .iter()
        .filter(|c| !names.iter().any(|n| n == *c))
        .collect();
    let unknown: Vec<_> = names
        .iter()
        .filter(|n| !COLUMNS.contains(&n.as_str()))
        .collect();
    if !missing.is_empty() || !unknown.is_empty() || names.len() != COLUMNS.len() {
        return Err(header_error(format!(
            "the header must be {} (found {:?}{}{})",
            COLUMNS.join(","),
            names.join(","),
            if missing.is_empty() {
                String::new()
            } else {
                format!("; missing {:?}", missing)
            },
            if unknown.is_empty() {
                String::new()
            } else {
                format!("; unknown {:?}", unknown)
            },
        )));
    }
    Ok(names)
}

/// Checks one CSV row of `width` fields, `columns` being where [`COLUMNS`] are in it.
fn csv_record(
    row: Result<csv::StringRecord, csv::Error>,
    width: usize,
    [id, name, integration, owner, auth_type]: [usize; 5],
    seen: &mut HashMap<ConnectionId, String>,
    errors: &mut Vec<RowError>,
) -> Option<ConnectionRecord> {
    let row = match row {
        Ok(row) => row,
        Err(e) => {
            errors.push(RowError {
                location: format!("line {}", e.position().map_or(0, |p| p.line())),
                field: None,
                message: e.to_string(),
            });
            return None;
        }
    };
    let line = row.position().map_or(0, |p| p.line());
    let location = format!("line {line}");
    if row.len() != width {
        let message = if row.iter().any(|field| field.contains('\n')) {
            format!(
                "a quote opened on line {line} is never closed, so what follows reads as one value; \
                 close it, and write a quote inside a value as two (\"\")"
            )
        } else {
            format!(
                "{} fields where the header has {}; quote values that contain commas",
                row.len(),
                width
            )
        };
        errors.push(RowError {
            location,
            field: None,
            message,
        });
        return None;
    }
    let get = |i: usize| row.get(i).unwrap_or("");
    let raw = RawRow {
        id: get(id),
        name: get(name),
        integration: get(integration),
        owner: get(owner),
        auth_type: get(auth_type),
    };
    check_row(raw, location, seen, errors)
}

pub fn parse_json(text: &str) -> Result<Vec<ConnectionRecord>, Vec<RowError>> {
    let items: Vec<&RawValue> = serde_json::from_str(text).map_err(|e| {
        vec![RowError {
            location: format!("line {}", e.line()),
            field: None,
            message: format!("{e}; the file must be a JSON array of objects"),
        }]
    })?;
    let mut records = Vec::new();
    let mut errors = Vec::new();
    let mut seen = HashMap::new();
    for (index, item) in items.iter().enumerate() {
        let location = format!("record {} (line {})", index + 1, line_in(text, item));
        if let Some(record) = json_record(text, item, location, &mut seen, &mut errors) {
            records.push(record);
        }
    }
    if errors.is_empty() {
        Ok(records)
    } else {
        Err(errors)
    }
}

/// The line of `text` that `raw` starts on: a raw value borrows from the text it was
/// read from, so its offset says where it is.
fn line_in(text: &str, raw: &RawValue) -> usize {
    let offset = (raw.get().as_ptr() as usize).saturating_sub(text.as_ptr() as usize);
    line_of(&text.as_bytes()[..offset.min(text.len())])
}

/// Checks one JSON record (`item`, read from `text`). Every problem in it is reported,
/// each once; it is returned only when it has none.
fn json_record(
    text: &str,
    item: &RawValue,
    location: String,
    seen: &mut HashMap<ConnectionId, String>,
    errors: &mut Vec<RowError>,
) -> Option<ConnectionRecord> {
    let Ok(entries) = serde_json::from_str::<Entries<'_>>(item.get()) else {
        errors.push(RowError {
            location,
            field: None,
            message: "not an object; each record is {\"id\": …, \"name\": …, …}".into(),
        });
        return None;
    };
    let before = errors.len();
    let object = json_object(text, entries, &location, errors);
    let texts = field_texts(&object, &location, errors);
    for required in ["id", "name", "auth_type"] {
        if !object.contains_key(required) {
            errors.push(RowError {
                location: location.clone(),
                field: Some(required),
                message: "missing".into(),
            });
        }
    }
    let bad = errors.len() > before;
    // The fields that are text are still checked, so one wrong type hides nothing
    // else; the fields already reported are not reported again.
    let reported: Vec<&str> = errors[before..].iter().filter_map(|e| e.field).collect();
    let get = |k: &str| texts.get(k).map_or("", String::as_str);
    let raw = RawRow {
        id: get("id"),
        name: get("name"),
        integration: get("integration"),
        owner: get("owner"),
        auth_type: get("auth_type"),
    };
    let mut more = Vec::new();
    let record = check_row(raw, location, seen, &mut more);
    errors.extend(
        more.into_iter()
            .filter(|e| !e.field.is_some_and(|f| reported.contains(&f))),
    );
    record.filter(|_| !bad)
}

/// The record's values by key. A key given twice is refused: which value was meant is
/// anyone's guess (a plain JSON reader would keep the last without a word).
fn json_object(
    text: &str,
    entries: Entries<'_>,
    location: &str,
    errors: &mut Vec<RowError>,
) -> serde_json::Map<String, serde_json::Value> {
    let mut object = serde_json::Map::new();
    let mut lines: HashMap<String, usize> = HashMap::new();
    for (key, raw) in entries.0 {
        let line = line_in(text, raw);
        if let Some(first) = lines.get(&key) {
            errors.push(RowError {
                location: location.to_owned(),
                field: COLUMNS.iter().find(|c| **c == key.as_str()).copied(),
                message: format!(
                    "{key:?} is given twice, on line {first} and again on line {line}; keep one"
                ),
            });
            continue;
        }
        match serde_json::from_str(raw.get()) {
            Ok(value) => {
                object.insert(key.clone(), value);
            }
            Err(e) => {
                errors.push(RowError {
                    location: location.to_owned(),
                    field: None,
                    message: format!("the value of {key:?} cannot be read: {e}"),
                });
            }
        }
        lines.insert(key, line);
    }
    object
}

/// The record's fields as text: text as it is, an owner given as a number, an empty
/// owner or integration given as null. Unknown keys and other kinds of value are reported.
fn field_texts(
    object: &serde_json::Map<String, serde_json::Value>,
    location: &str,
    errors: &mut Vec<RowError>,
) -> HashMap<&'static str, String> {
    let mut texts: HashMap<&'static str, String> = HashMap::new();
    for (key, value) in object {
        let Some(field) = COLUMNS.iter().find(|c| **c == key.as_str()) else {
            errors.push(RowError {
                location: location.to_owned(),
                field: None,
                message: format!("unknown key {key:?}; the keys are {}", COLUMNS.join(", ")),
            });
            continue;
        };
        let text = match value {
            serde_json::Value::String(s) => s.clone(),
            serde_json::Value::Number(n) if *field == "owner" => n.to_string(),
            serde_json::Value::Null if matches!(*field, "owner" | "integration") => String::new(),
            other => {
                errors.push(RowError {
                    location: location.to_owned(),
                    field: Some(field),
                    message: format!("expected text, found {other}"),
                });
                continue;
            }
        };
        texts.insert(field, text);
    }
    texts
}

/// A record's keys and values in the order written, a repeated key kept as often as it
/// is given (a JSON map would keep only the last).
struct Entries<'a>(Vec<(String, &'a RawValue)>);

impl<'de> serde::Deserialize<'de> for Entries<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visit;
        impl<'de> serde::de::Visitor<'de> for Visit {
            type Value = Entries<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Self::Value, A::Error> {
                let mut entries = Vec::new();
                while let Some(entry) = map.next_entry::<String, &'de RawValue>()? {
                    entries.push(entry);
                }
                Ok(Entries(entries))
            }
        }
        deserializer.deserialize_map(Visit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn messages(errors: Vec<RowError>) -> Vec<String> {
        errors.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn reads_a_good_csv_in_any_column_order() {
        let text = "name,id,auth_type,owner,integration\nZoom prod,z1,jwt,123456789012345678,Sales sync\n\"Zoom, EU\",z2,oauth2,,\n";
        let records = parse_csv(text).expect("valid csv");
        assert_eq!(records.len(), 2);
        assert_eq!(records[0].id.as_str(), "z1");
        assert_eq!(records[0].owner.map(|o| o.get()), Some(123456789012345678));
        assert_eq!(records[1].name.as_str(), "Zoom, EU");
        assert_eq!(records[1].auth_type, AuthType::OAuth2);
        assert_eq!(records[1].owner, None);
    }

    #[test]
    fn reports_every_bad_row_with_line_and_field() {
        let text = "id,name,integration,owner,auth_type\n\
                    a,A,,1,jwt\n\
                    b,,,2,jwt\n\
                    a,A again,,3,jwt\n\
                    c,C,,bob,saml\n\
                    d,D,,4\n\
                    e,E,\"Ops\u{1b}]0;pwned\u{7}\",,jwt\n";
        let errors = messages(parse_csv(text).expect_err("bad rows"));
        assert_eq!(errors.len(), 6, "{errors:#?}");
        assert!(
            errors[0].starts_with("line 3, field name: it is empty; every connection needs a name"),
            "{}",
            errors[0]
        );
        assert!(
            errors[1].starts_with("line 4, field id: duplicate id \"a\" (first at line 2)"),
            "{}",
            errors[1]
        );
        assert!(
            errors[2].starts_with("line 5, field owner:"),
            "{}",
            errors[2]
        );
        assert!(
            errors[3].starts_with("line 5, field auth_type: unknown auth type \"saml\""),
            "{}",
            errors[3]
        );
        assert!(
            errors[4].starts_with("line 6: 4 fields where the header has 5"),
            "{}",
            errors[4]
        );
        assert!(
            errors[5].starts_with("line 7, field integration: it contains a control character"),
            "{}",
            errors[5]
        );
    }

    #[test]
    fn a_wrong_header_is_one_clear_error() {
        let errors =
            messages(parse_csv("id,title,owner,auth\nx,y,,jwt\n").expect_err("bad header"));
        assert_eq!(errors.len(), 1);
        assert!(
            errors[0].contains("line 1 (header)")
                && errors[0].contains("missing")
                && errors[0].contains("\"title\""),
            "{}",
            errors[0]
        );
    }

    #[test]
    fn reads_json_and_locates_bad_records_by_line() {
        let text = "[\n  {\"id\": \"j1\", \"name\": \"J\", \"integration\": null, \"owner\": 42, \"auth_type\": \"jwt\"},\n  {\"id\": \"j2\", \"name\": \"K\", \"auth_type\": \"oauth2\"}\n]";
        let records = parse_json(text).expect("valid json");
        assert_eq!(records.len(), 2);
        assert_eq!(records[0].owner.map(|o| o.get()), Some(42));

        let bad = "[\n {\"id\": \"j1\", \"name\": \"J\", \"auth_type\": \"jwt\"},\n {\"id\": \"j1\", \"name\": \"J\", \"auth_type\": \"jwt\", \"colour\": \"red\"},\n {\"id\": \"j3\", \"auth_type\": \"x\"},\n 7\n]";
        let errors = messages(parse_json(bad).expect_err("bad records"));
        assert_eq!(errors[0], "record 2 (line 3): unknown key \"colour\"; the keys are id, name, integration, owner, auth_type");
        // A record with one problem is still checked for the others.
        assert_eq!(errors[1], "record 2 (line 3), field id: duplicate id \"j1\" (first at record 1 (line 2)); each connection once");
        assert_eq!(errors[2], "record 3 (line 4), field name: missing");
        assert!(
            errors[3].starts_with("record 3 (line 4), field auth_type: unknown auth type \"x\""),
            "{}",
            errors[3]
        );
        assert!(
            errors[4].starts_with("record 4 (line 5): not an object"),
            "{}",
            errors[4]
        );
        assert_eq!(errors.len(), 5, "{errors:#?}");
    }

    #[test]
    fn a_wrong_type_hides_no_other_problem_and_is_said_once() {
        let errors = messages(
            parse_json("[{\"id\": \"z1\", \"name\": 5, \"owner\": true, \"auth_type\": \"saml\"}]")
                .expect_err("bad record"),
        );
        assert_eq!(
            errors,
            [
                "record 1 (line 1), field name: expected text, found 5",
                "record 1 (line 1), field owner: expected text, found true",
                "record 1 (line 1), field auth_type: unknown auth type \"saml\": use jwt or oauth2",
            ]
        );
    }

    #[test]
    fn an_unclosed_quote_is_named_as_such() {
        let errors = messages(
            parse_csv("id,name,integration,owner,auth_type\nz1,\"Zoom one,,,jwt\nz2,Two,,,jwt\n")
                .expect_err("unclosed"),
        );
        assert_eq!(
            errors,
            ["line 2: a quote opened on line 2 is never closed, so what follows reads as one value; close it, and write a quote inside a value as two (\"\")"]
        );
    }

    #[test]
    fn a_key_given_twice_is_refused_with_both_lines() {
        let text = "[\n  {\"id\": \"z1\", \"name\": \"Old\",\n   \"name\": \"New\", \"auth_type\": \"jwt\",\n   \"colour\": 1, \"colour\": 2}\n]";
        let errors = messages(parse_json(text).expect_err("a repeated key"));
        assert_eq!(
            errors,
            [
                "record 1 (line 2), field name: \"name\" is given twice, on line 2 and again on line 3; keep one",
                "record 1 (line 2): \"colour\" is given twice, on line 4 and again on line 4; keep one",
                "record 1 (line 2): unknown key \"colour\"; the keys are id, name, integration, owner, auth_type",
            ]
        );
    }

    #[test]
    fn json_syntax_errors_name_the_line() {
        let errors = messages(parse_json("[\n{\"id\": \"a\",,}\n]").expect_err("syntax"));
        assert!(errors[0].starts_with("line 2:"), "{}", errors[0]);
        assert!(parse_json("{\"id\": 1}").is_err());
    }
}
