//! The Log Analytics query API over the emulated workspace:
//! `POST /v1/workspaces/{id}/query` with `{"query", "timespan"}`, a token
//! for `https://api.loganalytics.io`, and the service's answers: tables of
//! typed columns with `dynamic` values as JSON text, `BadArgumentError`
//! with the parser's `SyntaxError` / `SemanticError` inside, 429 past 200
//! requests in 30 seconds, and a result cut at the row limit with a
//! `PartialError` beside the rows that came.

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::super::kql::{self, Value as K, eval};
use super::super::throttle::Class;
use super::super::workspace::Window;
use super::{Emulator, bearer, request_id};

/// The service's row limit for one query's result.
pub const ROW_CAP: usize = 500_000;

/// The workspace id a tenant's emulator serves (stable for a tenant).
pub fn id_for(tenant_id: &str) -> String {
    let seed = tenant_id
        .bytes()
        .fold(0x5157_u64, |h, b| super::super::ids::mix(h ^ u64::from(b)));
    super::super::ids::Guid::from_seed(seed).to_string()
}

fn error(status: StatusCode, code: &str, message: &str, inner: Option<(&str, &str)>) -> Response {
    let mut body = json!({
        "error": {
            "message": message,
            "code": code,
            "correlationId": request_id(),
        }
    });
    if let Some((inner_code, inner_message)) = inner {
        body["error"]["innererror"] = json!({
            "code": inner_code,
            "message": inner_message,
        });
    }
    (status, axum::Json(body)).into_response()
}

pub fn query(emu: &Emulator, headers: &HeaderMap, id: &str, body: &[u8]) -> Response {
    let token = bearer(headers);
    let caller = match emu.authority.check(token) {
        Ok(caller) => caller,
        Err(_) => {
            return error(
                StatusCode::UNAUTHORIZED,
                "AuthorizationRequiredError",
                "Valid authentication was not provided",
                None,
            );
        }
    };
    let for_workspaces = emu
        .authority
        .scope_of(token)
        .is_some_and(|s| s.to_lowercase().contains("api.loganalytics.io"));
    if !for_workspaces {
        return error(
            StatusCode::FORBIDDEN,
            "InvalidTokenError",
            "The provided authentication is not valid for this resource",
            Some((
                "InvalidTokenError",
                "The audience of the token is not https://api.loganalytics.io",
            )),
        );
    }
    if !id.eq_ignore_ascii_case(&emu.workspace_id) {
        return error(
            StatusCode::NOT_FOUND,
            "WorkspaceNotFoundError",
            &format!("Workspace {id} not found"),
            None,
        );
    }
    if let Err(t) = emu.throttle.admit(
        &caller.app_id,
        Class::LogAnalytics,
        std::time::Instant::now(),
    ) {
        let mut response = error(
            StatusCode::TOO_MANY_REQUESTS,
            "ThrottledError",
            "Your request was throttled: more than 200 requests in 30 seconds",
            None,
        );
        if let Some(secs) = t.retry_after_secs
            && let Ok(v) = HeaderValue::from_str(&secs.to_string())
        {
            response.headers_mut().insert(header::RETRY_AFTER, v);
        }
        return response;
    }
    let request: Value = match serde_json::from_slice(body) {
        Ok(v) => v,
        Err(e) => {
            return error(
                StatusCode::BAD_REQUEST,
                "BadArgumentError",
                "The request had some invalid properties",
                Some(("InvalidJson", &format!("the body is not JSON: {e}"))),
            );
        }
    };
    let Some(text) = request["query"].as_str() else {
        return error(
            StatusCode::BAD_REQUEST,
            "BadArgumentError",
            "The request had some invalid properties",
            Some(("MissingQuery", "the body has no \"query\"")),
        );
    };
    let range = match request["timespan"].as_str().map(timespan) {
        None => None,
        Some(Ok(range)) => Some(range),
        Some(Err(e)) => {
            return error(
                StatusCode::BAD_REQUEST,
                "BadArgumentError",
                "The request had some invalid properties",
                Some(("InvalidTimespan", &e)),
            );
        }
    };
    let tables = emu.workspace.tables(&emu.read());
    let catalog = Window { tables, range };
    let result = match kql::run(text, &catalog) {
        Ok(t) => t,
        Err(e) => {
            return error(
                StatusCode::BAD_REQUEST,
                "BadArgumentError",
                "The request had some invalid properties",
                Some((e.code, &e.message)),
            );
        }
    };
    // Rows are written one by one until the row or size limit: what fits
    // is sent, with a `PartialError` saying which limit cut it.
    let mut rows = Vec::with_capacity(1 << 16);
    rows.push(b'[');
    let mut cut = None;
    for (n, row) in result.rows.iter().enumerate() {
        if n == emu.workspace_row_cap {
            cut = Some(format!(
                "Query result set has exceeded the internal record count limit {} (E_QUERY_RESULT_SET_TOO_LARGE; see https://aka.ms/kustoquerylimits)",
                emu.workspace_row_cap
            ));
            break;
        }
        let before = rows.len();
        if n > 0 {
            rows.push(b',');
        }
        if serde_json::to_writer(&mut rows, &Cells(row)).is_err() || rows.len() > SIZE_CAP {
            rows.truncate(before);
            cut = Some(format!(
                "Query result set has exceeded the internal data size limit {SIZE_CAP} (E_QUERY_RESULT_SET_TOO_LARGE; see https://aka.ms/kustoquerylimits)"
            ));
            break;
        }
    }
    rows.push(b']');
    let columns: Vec<Value> = result
        .columns
        .iter()
        .map(|(name, kind)| json!({"name": name, "type": kind}))
        .collect();
    let mut body = Vec::with_capacity(rows.len() + 4096);
    body.extend_from_slice(b"{\"tables\":[{\"name\":\"PrimaryResult\",\"columns\":");
    body.extend_from_slice(Value::Array(columns).to_string().as_bytes());
    body.extend_from_slice(b",\"rows\":");
    body.extend_from_slice(&rows);
    body.extend_from_slice(b"}]");
    if let Some(detail) = cut {
        let error = json!({
            "code": "PartialError",
            "message": "There were some errors when processing your query.",
            "details": [{"code": "EngineError", "message": detail}],
        });
        body.extend_from_slice(b",\"error\":");
        body.extend_from_slice(error.to_string().as_bytes());
    }
    body.push(b'}');
    (
        [(header::CONTENT_TYPE, "application/json; charset=utf-8")],
        body,
    )
        .into_response()
}

/// Bytes of rows a result may carry (the service's 64 MB limit).
const SIZE_CAP: usize = 64_000_000;

/// A row as the service writes it: `dynamic` values as JSON text.
struct Cells<'a>(&'a [K]);

impl serde::Serialize for Cells<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        let mut seq = s.serialize_seq(Some(self.0.len()))?;
        for v in self.0 {
            match v {
                K::Null | K::Dyn(Value::Null) => seq.serialize_element(&())?,
                K::Str(text) => seq.serialize_element(text)?,
                K::Dyn(j) => seq.serialize_element(&j.to_string())?,
                K::Bool(b) => seq.serialize_element(b)?,
                K::Long(n) => seq.serialize_element(n)?,
                other => seq.serialize_element(&eval::to_json(other))?,
            }
        }
        seq.end()
    }
}

/// `timespan`: `start/end`, `start/duration` or a duration back from now
/// (ISO 8601: `P30D`, `PT12H`), in nanoseconds.
fn timespan(text: &str) -> Result<(i64, i64), String> {
    let instant = |t: &str| match eval::parse_datetime(t) {
        Some(K::Time(n)) => Ok(n),
        _ => Err(format!("'{t}' is not a time")),
    };
    let now = jiff::Timestamp::now().as_nanosecond() as i64;
    match text.split_once('/') {
        Some((a, b)) if b.starts_with('P') => {
            let from = instant(a)?;
            Ok((from, from + duration(b)?))
        }
        Some((a, b)) => Ok((instant(a)?, instant(b)?)),
        None => Ok((now - duration(text)?, now + 1)),
    }
}

fn duration(text: &str) -> Result<i64, String> {
    let span: jiff::Span = text
        .parse()
        .map_err(|e| format!("'{text}' is not an ISO 8601 duration: {e}"))?;
    let secs = span
        .total((jiff::Unit::Second, jiff::civil::date(2000, 1, 1)))
        .map_err(|e| format!("'{text}': {e}"))?;
    Ok((secs * 1e9) as i64)
}
