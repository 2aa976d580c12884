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
