//! An entry's fields as JSON, for the reports of the command line and the
//! browser: the core's one entry-to-JSON (`tallyboard_core::entry::json`,
//! the HTTP API's `fields`) with the entry's type line first and the
//! absent optional fields left out.

use serde_json::{json, Map, Value};
use tallyboard_core::entry::{json as entry_json, Entry};

/// The fields of `entry`, starting with its `type` line.
pub fn entry_fields(entry: &Entry) -> Value {
    let mut out = Map::new();
    out.insert("type".into(), json!(entry.kind().type_line()));
    if let Value::Object(m) = entry_json::fields(entry) {
        out.extend(m.into_iter().filter(|(_, v)| !v.is_null()));
    }
    Value::Object(out)
}

/// The station an entry concerns, for the kinds that name one.
pub fn station_of(entry: &Entry) -> Option<&str> {
    entry.station()
}
