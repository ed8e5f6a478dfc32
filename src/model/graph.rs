//! Reading Graph responses: one record, a page (`{"value": [...]}`), a
//! GET-by-id wrapped in a collection, or a bare array. Records are read
//! through a JSON tree first, so the duplicate keys some real responses
//! carry are tolerated (the last one wins, as in Graph's own clients).

use serde::de::DeserializeOwned;
use serde_json::Value;

/// A Graph collection page.
#[derive(Debug)]
pub struct Page<T> {
    pub records: Vec<T>,
    pub next_link: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("not JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("record {index}: {message}")]
    Record { index: usize, message: String },
}

/// Reads a page, a single record, or an array of records.
pub fn read_page<T: DeserializeOwned>(text: &str) -> Result<Page<T>, ReadError> {
    let value: Value = serde_json::from_str(text)?;
    page_from_value(value)
}

pub fn page_from_value<T: DeserializeOwned>(value: Value) -> Result<Page<T>, ReadError> {
    let (items, next_link) = match value {
        Value::Array(items) => (items, None),
        Value::Object(mut map) => {
            let next = map
                .remove("@odata.nextLink")
                .and_then(|v| v.as_str().map(str::to_owned));
            match map.remove("value") {
                Some(Value::Array(items)) => (items, next),
                // A GET by id sometimes comes wrapped as `{"value": {...}}`.
                Some(one @ Value::Object(_)) => (vec![one], next),
                Some(_) | None => (vec![Value::Object(map)], next),
            }
        }
        other => (vec![other], None),
    };
    let records = items
        .into_iter()
        .enumerate()
        .map(|(index, item)| {
            serde_json::from_value(item).map_err(|e| ReadError::Record {
                index,
                message: e.to_string(),
            })
        })
        .collect::<Result<Vec<T>, _>>()?;
    Ok(Page { records, next_link })
}
