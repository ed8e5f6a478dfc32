//! CSV exports as they are really handed over: Log Analytics portal
//! downloads (UTF-8 BOM, CRLF, `TimeGenerated [UTC]` headers with
//! localised dates, JSON columns as quoted text, `X_dynamic`/`X_string`
//! column pairs) and Purview audit searches (`AuditData` JSON column).
//! Each row becomes a JSON object keyed by its cleaned header; the shape
//! normaliser takes it from there.

use std::io::BufRead;

use serde_json::{Map, Value};

use super::FileSummary;

/// How a header is read: its clean name, and whether it holds a time.
struct Column {
    name: String,
    time: bool,
}

/// Headers that hold a time although the export does not say `[UTC]`.
const TIME_COLUMNS: &[&str] = &[
    "CreationDate",
    "TimeGenerated",
    "CreatedDateTime",
    "ActivityDateTime",
];

fn column(header: &str) -> Column {
    let header = header.trim_start_matches('\u{feff}').trim();
    let (name, utc) = match header.strip_suffix("[UTC]") {
        Some(rest) => (rest.trim_end(), true),
        None => (header, false),
    };
    // `ConditionalAccessPolicies_dynamic` and `_string` are one column.
    let name = name
        .strip_suffix("_dynamic")
        .or_else(|| name.strip_suffix("_string"))
        .unwrap_or(name);
    Column {
        time: utc || TIME_COLUMNS.contains(&name),
        name: name.to_owned(),
    }
}

/// `text` without the `#TYPE System.Management.Automation.PSCustomObject`
/// line Windows PowerShell's `Export-Csv` puts before the header.
pub fn after_type_line(text: &[u8]) -> &[u8] {
    let bare = text.strip_prefix(b"\xef\xbb\xbf").unwrap_or(text);
    if has_type_line(text) {
        let end = bare
            .iter()
            .position(|b| *b == b'\n')
            .map_or(bare.len(), |p| p + 1);
        &bare[end..]
    } else {
        text
    }
}

fn has_type_line(text: &[u8]) -> bool {
    text.strip_prefix(b"\xef\xbb\xbf")
        .unwrap_or(text)
        .starts_with(b"#TYPE")
}

/// Reads every row; `each` gets it as an object with its place. Text that
/// is not UTF-8 (an export saved by a spreadsheet in a Windows code page)
/// is read with the odd characters replaced, not dropped.
pub fn read_csv(
    mut reader: impl BufRead,
    summary: &mut FileSummary,
    each: &mut dyn FnMut(Value, String),
) {
    // Past a `#TYPE` line, keeping line numbers true.
    let mut first_line = 1;
    if reader.fill_buf().is_ok_and(has_type_line) {
        let mut skipped = Vec::new();
        let _ = reader.read_until(b'\n', &mut skipped);
        first_line = 2;
    }
    let mut csv = csv::ReaderBuilder::new()
        .flexible(true)
        .has_headers(true)
        .from_reader(reader);
    let columns: Vec<Column> = match csv.byte_headers() {
        Ok(headers) => headers
            .iter()
            .map(|h| column(&String::from_utf8_lossy(h)))
            .collect(),
        Err(e) => {
            summary.skip(1, format!("unreadable CSV header ({e})"));
            return;
        }
    };
    let mut record = csv::ByteRecord::new();
    loop {
        let line = csv.position().line() + first_line - 1;
        match csv.read_byte_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {
                summary.records += 1;
                each(
                    row(&columns, &record),
                    format!("{}:{line}", summary.path.display()),
                );
            }
            Err(e) => {
                let line = e.position().map_or(line, |p| p.line() + first_line - 1);
                if matches!(e.kind(), csv::ErrorKind::Io(_)) {
                    summary.skip(
                        line,
                        format!("read failed ({e}); the rest of the file is not read"),
                    );
                    break;
                }
                summary.skip(line, format!("unreadable CSV row ({e})"));
            }
        }
    }
}

fn row(columns: &[Column], record: &csv::ByteRecord) -> Value {
    let mut out = Map::new();
    for (column, cell) in columns.iter().zip(record.iter()) {
        let cell = String::from_utf8_lossy(cell);
        let cell = cell.trim();
        if cell.is_empty() || column.name.is_empty() {
            continue;
        }
        let value = if column.time {
            match crate::model::de::iso_from(cell) {
                Some(iso) => Value::String(iso),
                None => Value::String(cell.to_owned()),
            }
        } else {
            json_cell(cell)
        };
        // Of a `_dynamic`/`_string` pair the first filled one is kept.
        out.entry(column.name.clone()).or_insert(value);
    }
    Value::Object(out)
}

/// A JSON column held as text becomes JSON again; anything else is text.
fn json_cell(cell: &str) -> Value {
    if (cell.starts_with('{') || cell.starts_with('['))
        && let Ok(value) = serde_json::from_str::<Value>(cell)
    {
        return value;
    }
    Value::String(cell.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::de::iso_from;

    #[test]
    fn portal_dates_become_iso() {
        assert_eq!(
            iso_from("10/2/2026, 3:52:10.114 AM").unwrap(),
            "2026-10-02T03:52:10.114Z"
        );
        assert_eq!(
            iso_from("9/20/2023 4:05:03 PM").unwrap(),
            "2023-09-20T16:05:03Z"
        );
        assert_eq!(
            iso_from("4/28/2021, 12:08:45.221 AM").unwrap(),
            "2021-04-28T00:08:45.221Z"
        );
        assert_eq!(
            iso_from("2/10/2026 15:52:10").unwrap(),
            "2026-10-02T15:52:10Z"
        );
        assert_eq!(
            iso_from("25/10/2026 15:52:10").unwrap(),
            "2026-10-25T15:52:10Z"
        );
        assert_eq!(
            iso_from("2.10.2026 15:52:10").unwrap(),
            "2026-10-02T15:52:10Z"
        );
        assert_eq!(
            iso_from("2026-10-02T03:52:10Z").unwrap(),
            "2026-10-02T03:52:10Z"
        );
        assert!(iso_from("13/13/2026 1:00:00").is_none());
        assert!(iso_from("yesterday").is_none());
        assert!(iso_from("10/2/26 3:52 PM").is_none());
        assert_eq!(
            iso_from("10/2/2026 3:52:10\u{202f}PM").unwrap(),
            "2026-10-02T15:52:10Z"
        );
    }

    #[test]
    fn rows_are_objects_with_clean_headers() {
        let text = "\u{feff}TimeGenerated [UTC],Status_dynamic,Status_string,TargetResources,Empty\r\n\
                    \"4/28/2021, 2:08:45.221 PM\",\"{\"\"errorCode\"\":0}\",,\"[{\"\"id\"\":\"\"x\"\"}]\",\r\n";
        let mut summary = FileSummary::default();
        let mut rows = Vec::new();
        read_csv(text.as_bytes(), &mut summary, &mut |v, _| rows.push(v));
        assert_eq!(summary.records, 1);
        let row = &rows[0];
        assert_eq!(row["TimeGenerated"], "2021-04-28T14:08:45.221Z");
        assert_eq!(row["Status"]["errorCode"], 0);
        assert_eq!(row["TargetResources"][0]["id"], "x");
        assert!(row.get("Empty").is_none());
    }
}
