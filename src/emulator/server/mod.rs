//! The HTTP face of the emulated tenant: the token endpoint of the identity
//! platform and the Graph paths warroom reads, with Graph's paging, limits
//! and error bodies.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Instant;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Serialize;
use serde_json::{Value, json};

use super::faults::{Fault, FaultSpec, Injector, SLOW_DELAY};
use super::ids::Guid;
use super::oauth::{Authority, AuthorityOptions, Caller, Refusal};
use super::odata::{self, Clause, Op};
use super::signins::{Cursor, Kind, Selection, WirePage};
use super::tenant::Tenant;
use super::throttle::{Class, Throttle};
use super::time;
use super::ual::{AuditQuery, QueryRequest};
use super::writes::{self, Method, Outcome};

mod fault;
mod reports;
mod workspace;

use fault::{break_body, fault_response};
use reports::{audits, risks, risky_users, signin, signins};

const SIGNIN_PAGE_MAX: usize = 1000;
const RISK_PAGE_MAX: usize = 500;
const DIRECTORY_PAGE_DEFAULT: usize = 100;
const DIRECTORY_PAGE_MAX: usize = 999;

/// How the emulator behaves, beyond the tenant it serves.
#[derive(Clone, Debug)]
pub struct Options {
    /// Enforce Graph's documented request limits.
    pub throttle: bool,
    pub authority: AuthorityOptions,
    pub faults: FaultSpec,
    /// Seeds the fault injector.
    pub seed: u64,
    /// With `--live`: new sign-ins per minute.
    pub live_per_minute: Option<u32>,
    /// A certificate (DER) the responder app accepts client assertions for.
    pub responder_certificate: Option<Vec<u8>>,
    /// Rows a workspace query returns before the result is cut (the Log
    /// Analytics query API's limit is 500,000).
    pub workspace_row_cap: usize,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            throttle: true,
            authority: AuthorityOptions::default(),
            faults: FaultSpec { rates: Vec::new() },
            seed: 1,
            live_per_minute: None,
            responder_certificate: None,
            workspace_row_cap: workspace::ROW_CAP,
        }
    }
}

pub struct Emulator {
    pub tenant: RwLock<Tenant>,
    throttle: Throttle,
    /// Unified Audit Log queries created by clients.
    queries: Mutex<Vec<AuditQuery>>,
    pub authority: Authority,
    pub faults: Injector,
    /// `http://127.0.0.1:PORT`, for `@odata.nextLink`.
    pub base_url: String,
    /// The tenant's logs as a Log Analytics workspace.
    pub workspace: super::workspace::Workspace,
    pub workspace_id: String,
    workspace_row_cap: usize,
}

impl Emulator {
    pub fn new(tenant: Tenant, options: Options, base_url: String) -> Self {
        let workspace_id = workspace::id_for(&tenant.id.to_string());
        Self {
            workspace: super::workspace::Workspace::default(),
            workspace_id,
            workspace_row_cap: options.workspace_row_cap,
            tenant: RwLock::new(tenant),
            throttle: Throttle::new(options.throttle),
            queries: Mutex::default(),
            authority: Authority::new(options.authority),
            faults: Injector::new(options.faults, options.seed),
            base_url,
        }
    }

    pub(crate) fn read(&self) -> std::sync::RwLockReadGuard<'_, Tenant> {
        self.tenant.read().unwrap_or_else(|p| p.into_inner())
    }
}

pub fn router(emulator: Arc<Emulator>) -> Router {
    Router::new()
        .route(
            "/{*path}",
            get(graph_get).post(post).patch(patch).delete(delete),
        )
        .with_state(emulator)
}

fn request_id() -> String {
    Guid::from_seed(fastrand::u64(..)).to_string()
}

/// A Graph error: status, code and message, written as Graph's error body.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: String,
    message: String,
    retry_after_secs: Option<u64>,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({
            "error": {
                "code": self.code,
                "message": self.message,
                "innerError": {
                    "date": time::iso(time::now_ms()),
                    "request-id": request_id(),
                    "client-request-id": request_id(),
                },
            },
        });
        let mut response = (self.status, axum::Json(body)).into_response();
        if let Some(secs) = self.retry_after_secs
            && let Ok(value) = HeaderValue::from_str(&secs.to_string())
        {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        response
    }
}

/// A Graph error response.
pub fn graph_error(status: StatusCode, code: &str, message: &str) -> Response {
    api_error(status, code, message).into_response()
}

pub fn api_error(status: StatusCode, code: &str, message: &str) -> ApiError {
    ApiError {
        status,
        code: code.to_owned(),
        message: message.to_owned(),
        retry_after_secs: None,
    }
}

fn throttled(retry_after_secs: Option<u64>) -> ApiError {
    ApiError {
        retry_after_secs,
        ..api_error(
            StatusCode::TOO_MANY_REQUESTS,
            "TooManyRequests",
            "Please retry again later.",
        )
    }
}

async fn post(
    State(emu): State<Arc<Emulator>>,
    Path(path): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let segments: Vec<&str> = path.split('/').collect();
    match segments.as_slice() {
        [tenant, "oauth2", "v2.0", "token"] => {
            let form = form_urlencoded_pairs(&body);
            let result = emu.authority.token(&emu.read(), tenant, &form);
            match result {
                Ok(tokens) => axum::Json(tokens).into_response(),
                Err(e) => e.into_response(),
            }
        }
        [tenant, "oauth2", "v2.0", "devicecode"] => {
            let form = form_urlencoded_pairs(&body);
            let result = emu
                .authority
                .device_code(&emu.read(), tenant, &form, &emu.base_url);
            match result {
                Ok(code) => axum::Json(code).into_response(),
                Err(e) => e.into_response(),
            }
        }
        ["v1", "workspaces", id, "query"] => workspace::query(&emu, &headers, id, &body),
        ["v1.0" | "beta", "security", "auditLog", "queries"] => {
            match authenticate(&emu, &headers) {
                Ok(_) => create_query(&emu, &body),
                Err(e) => e.into_response(),
            }
        }
        _ => write(&emu, &headers, Method::Post, &path, &body),
    }
}

async fn patch(
    State(emu): State<Arc<Emulator>>,
    Path(path): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    write(&emu, &headers, Method::Patch, &path, &body)
}

async fn delete(
    State(emu): State<Arc<Emulator>>,
    Path(path): Path<String>,
    headers: HeaderMap,
) -> Response {
    write(&emu, &headers, Method::Delete, &path, &[])
}

/// A write to the directory, by an authenticated caller.
fn write(emu: &Emulator, headers: &HeaderMap, method: Method, path: &str, body: &[u8]) -> Response {
    let caller = match authenticate(emu, headers) {
        Ok(caller) => caller,
        Err(e) => return e.into_response(),
    };
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let Some((&version, rest)) = segments.split_first() else {
        return not_found(path).into_response();
    };
    if version != "v1.0" && version != "beta" {
        return not_found(path).into_response();
    }
    let mut tenant = emu.tenant.write().unwrap_or_else(|p| p.into_inner());
    match writes::apply(&mut tenant, &caller, method, rest, body) {
        Ok(Outcome::NoContent) => StatusCode::NO_CONTENT.into_response(),
        Ok(Outcome::Created(value)) => {
            let mut response = json_response(&value);
            *response.status_mut() = StatusCode::CREATED;
            response
        }
        Ok(Outcome::Body(mut value)) => {
            if let Value::Object(map) = &mut value {
                let kind = if map.contains_key("secretText") {
                    "microsoft.graph.passwordCredential"
                } else {
                    "Edm.Boolean"
                };
                map.insert(
                    "@odata.context".into(),
                    Value::from(format!("{}/{version}/$metadata#{kind}", emu.base_url)),
                );
            }
            json_response(&value)
        }
        Err(e) => e.into_response(),
    }
}

/// `POST security/auditLog/queries`: starts an asynchronous search of the
/// Unified Audit Log.
fn create_query(emu: &Emulator, body: &[u8]) -> Response {
    let request: QueryRequest = match serde_json::from_slice(body) {
        Ok(r) => r,
        Err(e) => {
            return graph_error(
                StatusCode::BAD_REQUEST,
                "BadRequest",
                &format!("Invalid request body: {e}"),
            );
        }
    };
    let bound = |text: &Option<String>, default: i64| match text {
        None => Ok(default),
        Some(t) => time::parse(t).ok_or_else(|| format!("Invalid DateTimeOffset '{t}'")),
    };
    let (from_ms, to_ms) = match (
        bound(&request.filter_start_date_time, i64::MIN),
        bound(&request.filter_end_date_time, i64::MAX),
    ) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(e), _) | (_, Err(e)) => return graph_error(StatusCode::BAD_REQUEST, "BadRequest", &e),
    };
    let query = AuditQuery {
        id: request_id(),
        request,
        from_ms,
        to_ms,
        created: Instant::now(),
    };
    let body = query.json(Instant::now());
    emu.queries
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .push(query);
    (StatusCode::CREATED, axum::Json(body)).into_response()
}

fn audit_queries(ctx: &Ctx<'_>, rest: &[&str], page: Paging) -> Response {
    let now = Instant::now();
    let queries = ctx.emu.queries.lock().unwrap_or_else(|p| p.into_inner());
    let find = |id: &str| queries.iter().find(|q| q.id == id).cloned();
    match rest {
        [] => {
            let list = queries.iter().map(|q| q.json(now)).collect();
            drop(queries);
            listing(ctx, "security/auditLog/queries", list, page)
        }
        [id] => {
            let found = find(id);
            drop(queries);
            one(ctx, found.map(|q| q.json(now)), "security/auditLog/queries")
        }
        [id, "records"] => {
            let Some(query) = find(id) else {
                drop(queries);
                return one(ctx, None, "security/auditLog/queries");
            };
            drop(queries);
            if query.status(now) != "succeeded" {
                return graph_error(
                    StatusCode::BAD_REQUEST,
                    "BadRequest",
                    &format!(
                        "Query {id} has not finished (status {}); poll it until its status is succeeded.",
                        query.status(now)
                    ),
                );
            }
            let top = match page.top(150, 1000) {
                Ok(top) => top,
                Err(r) => return r.into_response(),
            };
            let offset = match page_offset(&page) {
                Ok(offset) => offset,
                Err(e) => return e.into_response(),
            };
            let tenant = ctx.emu.read();
            let matching: Vec<&str> = tenant
                .ual
                .iter()
                .rev()
                .filter(|r| query.matches(r))
                .map(|r| &*r.json)
                .collect();
            // Only the page is turned back into JSON values.
            let value: Vec<Value> = matching
                .iter()
                .skip(offset)
                .take(top)
                .filter_map(|text| serde_json::from_str(text).ok())
                .collect();
            let next = (offset.saturating_add(top) < matching.len())
                .then(|| ctx.next_link(&format!("o{}", offset.saturating_add(top))));
            drop(tenant);
            json_response(&Envelope {
                context: ctx.context("security/auditLog/queries/records"),
                next_link: next,
                value,
            })
        }
        _ => not_found(ctx.path).into_response(),
    }
}

/// Decodes an `application/x-www-form-urlencoded` body.
fn form_urlencoded_pairs(body: &[u8]) -> HashMap<String, String> {
    form_urlencoded::parse(body).into_owned().collect()
}

/// The token of `Authorization: Bearer <token>` (empty when there is none).
fn bearer(headers: &HeaderMap) -> &str {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim)
        .unwrap_or("")
}

/// The calling app, or the 401 Graph sends.
fn authenticate(emu: &Emulator, headers: &HeaderMap) -> Result<Caller, ApiError> {
    match emu.authority.check(bearer(headers)) {
        Ok(caller) => Ok(caller),
        Err(Refusal::Expired) => Err(api_error(
            StatusCode::UNAUTHORIZED,
            "InvalidAuthenticationToken",
            "Lifetime validation failed, the token is expired.",
        )),
        Err(Refusal::Missing) => Err(api_error(
            StatusCode::UNAUTHORIZED,
            "InvalidAuthenticationToken",
            "Access token is empty.",
        )),
        Err(Refusal::Unknown) => Err(api_error(
            StatusCode::UNAUTHORIZED,
            "InvalidAuthenticationToken",
            "IDX14100: JWT is not well formed, there are no dots (.).",
        )),
    }
}

async fn graph_get(
    State(emu): State<Arc<Emulator>>,
    Path(path): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let app = match authenticate(&emu, &headers) {
        Ok(caller) => caller.app_id,
        Err(response) => return response.into_response(),
    };
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    // Not part of Graph: the scenario's truth, for tests and scoring.
    if segments == ["_emulator", "answer-key"] {
        return json_response(&emu.read().answer_key);
    }
    let Some((&version, rest)) = segments.split_first() else {
        return not_found(&path).into_response();
    };
    if version != "v1.0" && version != "beta" {
        return graph_error(
            StatusCode::BAD_REQUEST,
            "BadRequest",
            &format!("Invalid version: {version}"),
        );
    }
    let now = Instant::now();
    let class = match rest {
        ["auditLogs", ..] => Some(Class::Reports),
        ["identityProtection", ..] | ["riskyUsers", ..] => Some(Class::IdentityProtection),
        _ => None,
    };
    if let Some(class) = class
        && let Err(t) = emu.throttle.admit(&app, class, now)
    {
        return throttled(t.retry_after_secs).into_response();
    }
    // A page token is "used" per request URL: the same token text in
    // another listing is another token.
    let page_request = query.get("$skiptoken").map(|_| {
        let mut pairs: Vec<_> = query.iter().collect();
        pairs.sort();
        format!("{path}?{pairs:?}")
    });
    let fault = emu.faults.pick(page_request.as_deref());
    match fault {
        Some(Fault::Slow) => tokio::time::sleep(SLOW_DELAY).await,
        Some(other @ (Fault::Reset | Fault::Malformed)) => {
            let response = read(&emu, version, rest, &path, &query);
            return break_body(response, other).await;
        }
        Some(other) => return fault_response(other),
        None => {}
    }
    read(&emu, version, rest, &path, &query)
}

/// A read of Graph data, after authentication, limits and faults.
fn read(
    emu: &Emulator,
    version: &str,
    rest: &[&str],
    path: &str,
    query: &HashMap<String, String>,
) -> Response {
    let beta = version == "beta";
    let page = Paging::from_query(query);
    let ctx = Ctx {
        emu,
        version,
        path,
        query,
    };
    match rest {
        ["auditLogs", "signIns"] => signins(&ctx, beta, page),
        ["auditLogs", "signIns", id] => signin(&ctx, beta, id),
        ["auditLogs", "directoryAudits"] => audits(&ctx, page),
        ["auditLogs", "directoryAudits", id] => one(
            &ctx,
            emu.read()
                .audits
                .iter()
                .find(|a| a.id == *id)
                .map(|a| a.json.clone()),
            "directoryAudits",
        ),
        ["identityProtection", "riskDetections"] => risks(&ctx, page),
        ["security", "auditLog", "queries", tail @ ..] => audit_queries(&ctx, tail, page),
        ["identityProtection", "riskyUsers"] | ["riskyUsers"] => {
            let list = risky_users(&emu.read());
            listing(&ctx, "riskyUsers", list, page)
        }
        _ => directory(&ctx, rest, page),
    }
}

struct Ctx<'a> {
    emu: &'a Emulator,
    version: &'a str,
    path: &'a str,
    query: &'a HashMap<String, String>,
}

impl Ctx<'_> {
    fn context(&self, entity: &str) -> String {
        format!("{}/{}/$metadata#{entity}", self.emu.base_url, self.version)
    }

    /// This request's URL with `$skiptoken` replaced.
    fn next_link(&self, skiptoken: &str) -> String {
        let mut pairs: Vec<(&str, &str)> = self
            .query
            .iter()
            .filter(|(k, _)| k.as_str() != "$skiptoken")
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        pairs.sort();
        pairs.push(("$skiptoken", skiptoken));
        let query: Vec<String> = pairs
            .iter()
            .map(|(k, v)| format!("{}={}", percent_encode(k), percent_encode(v)))
            .collect();
        format!("{}/{}?{}", self.emu.base_url, self.path, query.join("&"))
    }
}

fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~$".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[derive(Clone, Debug)]
struct Paging {
    top: Option<String>,
    filter: Option<String>,
    skiptoken: Option<String>,
}

impl Paging {
    fn from_query(query: &HashMap<String, String>) -> Self {
        Self {
            top: query.get("$top").cloned(),
            filter: query.get("$filter").cloned(),
            skiptoken: query.get("$skiptoken").cloned(),
        }
    }

    fn top(&self, default: usize, max: usize) -> Result<usize, ApiError> {
        match &self.top {
            None => Ok(default),
            Some(text) => match text.parse::<usize>() {
                Ok(n) if (1..=max).contains(&n) => Ok(n),
                _ => Err(api_error(
                    StatusCode::BAD_REQUEST,
                    "Request_UnsupportedQuery",
                    &format!(
                        "Invalid page size specified: '{text}'. Must be between 1 and {max} inclusive."
                    ),
                )),
            },
        }
    }

    fn clauses(&self) -> Result<Vec<Clause>, ApiError> {
        match &self.filter {
            None => Ok(Vec::new()),
            Some(f) => odata::parse(f).map_err(|e| bad_filter(&e)),
        }
    }
}

fn bad_filter(message: &str) -> ApiError {
    api_error(StatusCode::BAD_REQUEST, "BadRequest", message)
}

fn not_found(path: &str) -> ApiError {
    api_error(
        StatusCode::NOT_FOUND,
        "ResourceNotFound",
        &format!("Resource not found for the segment '{path}'."),
    )
}

#[derive(Serialize)]
struct Envelope<T: Serialize> {
    #[serde(rename = "@odata.context")]
    context: String,
    #[serde(rename = "@odata.nextLink", skip_serializing_if = "Option::is_none")]
    next_link: Option<String>,
    value: T,
}

fn json_response<T: Serialize>(body: &T) -> Response {
    match serde_json::to_vec(body) {
        Ok(bytes) => ([(header::CONTENT_TYPE, "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8")], bytes).into_response(),
        Err(e) => graph_error(StatusCode::INTERNAL_SERVER_ERROR, "InternalServerError", &format!("serialisation failed: {e}")),
    }
}

/// A page of `items` (already filtered), starting at the offset in `$skiptoken`.
fn listing(ctx: &Ctx<'_>, entity: &str, items: Vec<Value>, page: Paging) -> Response {
    let top = match page.top(DIRECTORY_PAGE_DEFAULT, DIRECTORY_PAGE_MAX) {
        Ok(top) => top,
        Err(r) => return r.into_response(),
    };
    paged(ctx, entity, items, top, &page)
}

/// The offset a listing's `$skiptoken` carries.
fn page_offset(page: &Paging) -> Result<usize, ApiError> {
    match page
        .skiptoken
        .as_deref()
        .map(|t| t.strip_prefix('o').and_then(|n| n.parse::<usize>().ok()))
    {
        None => Ok(0),
        Some(Some(n)) => Ok(n),
        Some(None) => Err(api_error(
            StatusCode::BAD_REQUEST,
            "Directory_ExpiredPageToken",
            "The specified page token value has expired and can no longer be included in your request.",
        )),
    }
}

fn paged(ctx: &Ctx<'_>, entity: &str, items: Vec<Value>, top: usize, page: &Paging) -> Response {
    let offset = match page_offset(page) {
        Ok(offset) => offset,
        Err(e) => return e.into_response(),
    };
    let total = items.len();
    let value: Vec<Value> = items.into_iter().skip(offset).take(top).collect();
    let next = (offset.saturating_add(top) < total)
        .then(|| ctx.next_link(&format!("o{}", offset.saturating_add(top))));
    json_response(&Envelope {
        context: ctx.context(entity),
        next_link: next,
        value,
    })
}

/// `eq`/`ne` on any field path (`a/b`) of directory objects.
fn filter_values(items: &mut Vec<Value>, clauses: &[Clause]) -> Result<(), ApiError> {
    for clause in clauses {
        let Clause::Cmp { field, op, value } = clause else {
            return Err(bad_filter("Unsupported filter on this collection."));
        };
        let pointer = format!("/{field}");
        let matches = |v: &Value| match v.pointer(&pointer) {
            Some(Value::String(s)) => s.eq_ignore_ascii_case(value),
            Some(Value::Bool(b)) => b.to_string() == *value,
            Some(Value::Number(n)) => n.to_string() == *value,
            Some(Value::Null) => value == "null",
            _ => false,
        };
        match op {
            Op::Eq => items.retain(matches),
            Op::Ne => items.retain(|v| !matches(v)),
            _ => return Err(bad_filter(&format!("Operator not supported on {field}."))),
        }
    }
    Ok(())
}

fn one(ctx: &Ctx<'_>, value: Option<Value>, entity: &str) -> Response {
    match value {
        Some(mut v) => {
            if let Value::Object(map) = &mut v {
                map.insert(
                    "@odata.context".into(),
                    Value::from(ctx.context(&format!("{entity}/$entity"))),
                );
            }
            json_response(&v)
        }
        None => graph_error(
            StatusCode::NOT_FOUND,
            "Request_ResourceNotFound",
            &format!(
                "Resource '{}' does not exist or one of its queried reference-property objects are not present.",
                ctx.path.rsplit('/').next().unwrap_or("")
            ),
        ),
    }
}

fn directory(ctx: &Ctx<'_>, rest: &[&str], page: Paging) -> Response {
    let tenant = ctx.emu.read();
    let domain = tenant.initial_domain.clone();
    let (entity, items): (String, Vec<Value>) = match rest {
        ["users"] => (
            "users".into(),
            tenant.users.iter().map(|u| u.json(&domain)).collect(),
        ),
        ["users", id] => return one(ctx, tenant.user(id).map(|u| u.json(&domain)), "users"),
        ["groups"] => (
            "groups".into(),
            tenant.groups.iter().map(|g| g.json()).collect(),
        ),
        ["groups", id] => {
            return one(
                ctx,
                tenant
                    .groups
                    .iter()
                    .find(|g| g.id.to_string() == *id)
                    .map(|g| g.json()),
                "groups",
            );
        }
        ["groups", id, "members"] => {
            let Some(group) = tenant.groups.iter().find(|g| g.id.to_string() == *id) else {
                return one(ctx, None, "groups");
            };
            let members = tenant
                .users
                .iter()
                .filter(|u| group.members.contains(&u.id))
                .map(|u| {
                    let mut v = u.json(&domain);
                    v["@odata.type"] = Value::from("#microsoft.graph.user");
                    v
                });
            ("directoryObjects".into(), members.collect())
        }
        ["domains"] => (
            "domains".into(),
            tenant.domains.iter().map(|d| d.json()).collect(),
        ),
        ["domains", id] => {
            return one(
                ctx,
                tenant
                    .domains
                    .iter()
                    .find(|d| d.name.eq_ignore_ascii_case(id))
                    .map(|d| d.json()),
                "domains",
            );
        }
        ["domains", id, "federationConfiguration"] => {
            if !tenant
                .domains
                .iter()
                .any(|d| d.name.eq_ignore_ascii_case(id))
            {
                return one(ctx, None, "domains");
            }
            let list: Vec<Value> = tenant
                .federations
                .iter()
                .filter(|f| f.domain.eq_ignore_ascii_case(id))
                .map(|f| f.json())
                .collect();
            if list.is_empty() {
                // A managed domain has no federation configuration.
                return graph_error(
                    StatusCode::NOT_FOUND,
                    "Request_ResourceNotFound",
                    &format!("Domain '{id}' is not federated."),
                );
            }
            (format!("domains('{id}')/federationConfiguration"), list)
        }
        ["applications"] => {
            // `$expand=owners`: each registration with who owns it.
            let expand = ctx
                .query
                .get("$expand")
                .is_some_and(|e| e.split(',').any(|x| x.trim().starts_with("owners")));
            let apps = tenant.applications.iter().map(|a| {
                let mut json = a.json(&domain);
                if expand {
                    let owners: Vec<Value> = a
                        .owners
                        .iter()
                        .filter_map(|id| tenant.users.iter().find(|u| u.id == *id))
                        .map(|u| {
                            serde_json::json!({
                                "@odata.type": "#microsoft.graph.user",
                                "id": u.id.to_string(),
                                "displayName": u.display,
                                "userPrincipalName": u.upn,
                            })
                        })
                        .collect();
                    json["owners"] = Value::Array(owners);
                }
                json
            });
            ("applications".into(), apps.collect())
        }
        ["applications", id] => {
            return one(
                ctx,
                tenant
                    .applications
                    .iter()
                    .find(|a| a.id.to_string() == *id)
                    .map(|a| a.json(&domain)),
                "applications",
            );
        }
        ["servicePrincipals"] => (
            "servicePrincipals".into(),
            tenant.service_principals.iter().map(|s| s.json()).collect(),
        ),
        ["servicePrincipals", id] => {
            return one(
                ctx,
                tenant.service_principal(id).map(|s| s.json()),
                "servicePrincipals",
            );
        }
        [
            "servicePrincipals",
            id,
            relation @ ("appRoleAssignedTo" | "appRoleAssignments" | "oauth2PermissionGrants"),
        ] => {
            let Some(sp) = tenant.service_principal(id) else {
                return one(ctx, None, "servicePrincipals");
            };
            let assignments = |held_by: bool| -> Vec<Value> {
                let holder = |a: &&super::directory::AppRoleAssignment| {
                    if held_by {
                        a.principal_id == sp.id
                    } else {
                        a.resource_id == sp.id
                    }
                };
                tenant
                    .app_role_assignments
                    .iter()
                    .filter(holder)
                    .map(|a| a.json())
                    .collect()
            };
            match *relation {
                // Who holds this resource's app roles / which roles this principal holds.
                "appRoleAssignedTo" => ("appRoleAssignments".into(), assignments(false)),
                "appRoleAssignments" => ("appRoleAssignments".into(), assignments(true)),
                _ => (
                    "oauth2PermissionGrants".into(),
                    tenant
                        .grants
                        .iter()
                        .filter(|g| g.client_id == sp.id)
                        .map(|g| g.json())
                        .collect(),
                ),
            }
        }
        ["oauth2PermissionGrants"] => (
            "oauth2PermissionGrants".into(),
            tenant.grants.iter().map(|g| g.json()).collect(),
        ),
        ["roleManagement", "directory", "roleAssignments"] => (
            "roleManagement/directory/roleAssignments".into(),
            tenant.role_assignments.iter().map(|r| r.json()).collect(),
        ),
        ["roleManagement", "directory", "roleDefinitions"] => (
            "roleManagement/directory/roleDefinitions".into(),
            super::catalog::ROLES
                .iter()
                .map(|(id, name, privileged)| {
                    json!({
                        "id": id,
                        "templateId": id,
                        "displayName": name,
                        "isBuiltIn": true,
                        "isEnabled": true,
                        "isPrivileged": privileged,
                    })
                })
                .collect(),
        ),
        [
            "roleManagement",
            "directory",
            "roleAssignmentScheduleInstances",
        ] => (
            "roleManagement/directory/roleAssignmentScheduleInstances".into(),
            tenant
                .role_assignments
                .iter()
                .map(|r| r.schedule_instance_json())
                .collect(),
        ),
        ["roleManagement", "directory", "roleEligibilitySchedules"] => (
            "roleManagement/directory/roleEligibilitySchedules".into(),
            tenant.role_eligibilities.iter().map(|r| r.json()).collect(),
        ),
        ["users", id, "authentication", "methods"] => {
            let Some(user) = tenant.user(id) else {
                return one(ctx, None, "users");
            };
            (
                format!("users('{}')/authentication/methods", user.id),
                user.methods
                    .iter()
                    .map(|m| super::directory::method_json(user, m))
                    .collect(),
            )
        }
        ["policies", "identitySecurityDefaultsEnforcementPolicy"] => {
            let policy = json!({
                "id": "00000000-0000-0000-0000-000000000005",
                "displayName": "Security Defaults",
                "description": "Security defaults is a set of basic identity security mechanisms recommended by Microsoft.",
                "isEnabled": tenant.security_defaults_enabled,
            });
            drop(tenant);
            return one(
                ctx,
                Some(policy),
                "policies/identitySecurityDefaultsEnforcementPolicy",
            );
        }
        [
            "policies",
            name @ ("authorizationPolicy"
            | "adminConsentRequestPolicy"
            | "authenticationMethodsPolicy"
            | "defaultAppManagementPolicy"),
        ] => {
            let policies = &tenant.policies;
            let policy = match *name {
                "authorizationPolicy" => policies.authorization.clone(),
                "adminConsentRequestPolicy" => policies.admin_consent.clone(),
                "defaultAppManagementPolicy" => policies.app_management.clone(),
                _ => policies.auth_methods.clone(),
            };
            let path = format!("policies/{name}");
            drop(tenant);
            return one(ctx, Some(policy), &path);
        }
        ["policies", "crossTenantAccessPolicy", "default"] => {
            let policy = tenant.policies.cross_tenant_default.clone();
            drop(tenant);
            return one(
                ctx,
                Some(policy),
                "policies/crossTenantAccessPolicy/default",
            );
        }
        ["policies", "tokenLifetimePolicies"] => (
            "policies/tokenLifetimePolicies".into(),
            tenant.policies.token_lifetime.clone(),
        ),
        ["directory", "onPremisesSynchronization"] => (
            "directory/onPremisesSynchronization".into(),
            vec![tenant.policies.sync.clone()],
        ),
        ["policies", "roleManagementPolicyAssignments"] => {
            // Graph answers only for one scope: the filter must name it.
            let filter = ctx.query.get("$filter").map(String::as_str).unwrap_or("");
            if !(filter.contains("scopeId") && filter.contains("scopeType")) {
                drop(tenant);
                return graph_error(
                    StatusCode::BAD_REQUEST,
                    "BadRequest",
                    "The filter must specify scopeId and scopeType.",
                );
            }
            (
                "policies/roleManagementPolicyAssignments".into(),
                vec![tenant.policies.global_admin_pim.clone()],
            )
        }
        ["identity", "conditionalAccess", "policies"] => (
            "identity/conditionalAccess/policies".into(),
            tenant.ca_policies.clone(),
        ),
        _ => return not_found(ctx.path).into_response(),
    };
    drop(tenant);
    let mut items = items;
    match page.clauses() {
        Ok(clauses) => {
            if let Err(r) = filter_values(&mut items, &clauses) {
                return r.into_response();
            }
        }
        Err(r) => return r.into_response(),
    }
    listing(ctx, &entity, items, page)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_decoding() {
        let form = form_urlencoded_pairs(b"grant_type=client_credentials&scope=https%3A%2F%2Fgraph.microsoft.com%2F.default&x=a+b");
        assert_eq!(form["scope"], "https://graph.microsoft.com/.default");
        assert_eq!(form["x"], "a b");
    }
}
