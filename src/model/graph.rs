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
    /// Records that could not be read, and why the first one failed: one
    /// odd record does not cost the rest of the page.
    pub skipped: usize,
    pub first_error: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("not JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("Graph answered with an error: {code}: {message}")]
    Service { code: String, message: String },
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
            if let Some(error) = map.get("error").filter(|e| e.is_object()) {
                return Err(ReadError::Service {
                    code: error["code"].as_str().unwrap_or("").to_owned(),
                    message: error["message"].as_str().unwrap_or("").to_owned(),
                });
            }
            let next = map
                .remove("@odata.nextLink")
                .and_then(|v| v.as_str().map(str::to_owned));
            match map.remove("value") {
                Some(Value::Array(items)) => (items, next),
                // A GET by id sometimes comes wrapped as `{"value": {...}}`.
                Some(one @ Value::Object(_)) => (vec![one], next),
                Some(Value::Null) => (Vec::new(), next),
                Some(_) | None => (vec![Value::Object(map)], next),
            }
        }
        other => (vec![other], None),
    };
    let mut records = Vec::with_capacity(items.len());
    let (mut skipped, mut first_error) = (0, None);
    for (index, item) in items.into_iter().enumerate() {
        match serde_json::from_value(item) {
            Ok(record) => records.push(record),
            Err(e) => {
                skipped += 1;
                first_error.get_or_insert_with(|| format!("record {index}: {e}"));
            }
        }
    }
    Ok(Page {
        records,
        next_link,
        skipped,
        first_error,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::SignIn;

    #[test]
    fn odd_pages_read_or_fail_plainly() {
        let page: Page<SignIn> = read_page(
            r#"{"value": [{"id": "a", "status": null, "location": null}, 42, {"id": "b"}]}"#,
        )
        .unwrap();
        assert_eq!(
            page.records.len(),
            2,
            "nulls read as defaults, the number is skipped"
        );
        assert_eq!(page.skipped, 1);
        assert!(page.first_error.unwrap().starts_with("record 1:"));
        let empty: Page<SignIn> = read_page(r#"{"value": null, "@odata.nextLink": "x"}"#).unwrap();
        assert!(empty.records.is_empty());
        assert_eq!(empty.next_link.as_deref(), Some("x"));
        let err = read_page::<SignIn>(r#"{"error": {"code": "Authorization_RequestDenied", "message": "Insufficient privileges"}}"#).unwrap_err();
        assert!(err.to_string().contains("Authorization_RequestDenied"));
    }
}
