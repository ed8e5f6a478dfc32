//! The emulated tenant's logs as a Log Analytics workspace holds them: the
//! same records the Graph paths serve, laid out as the tables' columns
//! (PascalCase, objects in `dynamic` columns or as JSON text where the
//! table keeps text, `TimeGenerated`), so the queries `warroom kql` writes
//! run here as in a real workspace. On-premises events are not in it (as
//! Graph does not serve them): a query over `SecurityEvent` is told the
//! table does not exist, as a workspace without that connector says.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde_json::Value as J;

use super::kql::{Catalog, Table, Value, eval};
use super::tenant::Tenant;

/// The tables' columns and types, from Microsoft's table reference (the
/// data `warroom kql` writes against too; the layout below is the
/// emulator's own reading of it, so a mapping error in either shows).
const COLUMNS: &str = include_str!("../../assets/kql/tables.txt");

/// Every table this workspace holds: what the tenant's diagnostic settings
/// for Entra ID and the Office 365 connector send.
const TABLES: &[&str] = &[
    "SigninLogs",
    "AADNonInteractiveUserSignInLogs",
    "AADServicePrincipalSignInLogs",
    "AADManagedIdentitySignInLogs",
    "AuditLogs",
    "AADUserRiskEvents",
    "AADServicePrincipalRiskEvents",
    "OfficeActivity",
];

/// A table's columns, as declared.
fn declared(name: &str) -> Vec<(String, String)> {
    COLUMNS
        .lines()
        .find(|l| l.split_whitespace().next() == Some(name))
        .map(|l| {
            l.split_whitespace()
                .skip(1)
                .filter_map(|w| w.split_once(':'))
                .map(|(c, t)| (c.to_owned(), t.to_owned()))
                .collect()
        })
        .unwrap_or_default()
}

/// Graph fields whose Log Analytics column is not their name in capitals.
const RENAMED: &[(&str, &str)] = &[
    ("location", "LocationDetails"),
    (
        "appliedConditionalAccessPolicies",
        "ConditionalAccessPolicies",
    ),
    ("operationType", "AADOperationType"),
    ("userDisplayName", "Identity"),
];

/// UAL fields whose `OfficeActivity` column is named otherwise.
const OFFICE_RENAMED: &[(&str, &str)] = &[
    ("Id", "OfficeId"),
    ("ObjectId", "OfficeObjectId"),
    ("ClientIPAddress", "Client_IPAddress"),
    ("LogonType", "Logon_Type"),
    ("Workload", "OfficeWorkload"),
    ("SiteUrl", "Site_Url"),
];

/// The tables, built once per state of the tenant's logs.
#[derive(Default)]
pub struct Workspace {
    cache: Mutex<Option<(Version, Arc<Tables>)>>,
}

/// How many records of each log there are (the logs only grow).
type Version = (usize, usize, usize, usize);

pub type Tables = HashMap<String, Arc<Table>>;

impl Workspace {
    pub fn tables(&self, tenant: &Tenant) -> Arc<Tables> {
        let version = (
            tenant.signins.len(),
            tenant.audits.len(),
            tenant.risks.len(),
            tenant.ual.len(),
        );
        let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((v, t)) = cache.as_ref()
            && *v == version
        {
            return t.clone();
        }
        let built = Arc::new(layout(tenant));
        *cache = Some((version, built.clone()));
        built
    }
}

/// Tables with only the rows whose `TimeGenerated` is in a range (the
/// query API's `timespan`).
pub struct Window {
    pub tables: Arc<Tables>,
    /// Nanoseconds, inclusive start and exclusive end.
    pub range: Option<(i64, i64)>,
}

impl Catalog for Window {
    fn table(&self, name: &str) -> Option<Arc<Table>> {
        let table = self.tables.get(name)?.clone();
        let Some((from, to)) = self.range else {
            return Some(table);
        };
        let at = table.column("TimeGenerated")?;
        let rows = table
            .rows
            .iter()
            .filter(|r| matches!(r[at], Value::Time(t) if t >= from && t < to))
            .cloned()
            .collect();
        Some(Arc::new(Table {
            columns: table.columns.clone(),
            rows,
        }))
    }
}

/// An empty table with every column of `name`.
fn empty(name: &str) -> Table {
    Table {
        columns: declared(name),
        rows: Vec::new(),
    }
}

/// Builds rows of one table, column by column name.
struct Builder {
    table: Table,
    index: HashMap<String, usize>,
}

impl Builder {
    fn new(name: &str) -> Self {
        let table = empty(name);
        let index = table.index();
        Self { table, index }
    }

    fn row(&self) -> Vec<Value> {
        vec![Value::Null; self.table.columns.len()]
    }

    /// Sets a column from a JSON value, as the column's type holds it.
    fn put(&self, row: &mut [Value], column: &str, value: &J) {
        let Some(&at) = self.index.get(column) else {
            return;
        };
        row[at] = convert(&self.table.columns[at].1, value);
    }

    /// The column a Graph field goes to: renamed, or the table's own
    /// spelling of the name (`IPAddress` in sign-ins, `IpAddress` in risk
    /// events).
    fn column_of(&self, field: &str) -> Option<&str> {
        if let Some((_, column)) = RENAMED.iter().find(|(f, _)| *f == field) {
            return Some(column);
        }
        self.table
            .columns
            .iter()
            .map(|(c, _)| c.as_str())
            .find(|c| c.eq_ignore_ascii_case(field))
    }
}

fn convert(kind: &str, value: &J) -> Value {
    match (kind, value) {
        (_, J::Null) => Value::Null,
        ("dynamic", J::String(s)) => match serde_json::from_str::<J>(s) {
            Ok(j @ (J::Array(_) | J::Object(_))) => Value::Dyn(j),
            _ => Value::Dyn(value.clone()),
        },
        ("dynamic", _) => Value::Dyn(value.clone()),
        ("datetime", J::String(s)) => eval::parse_datetime(s).unwrap_or(Value::Null),
        ("bool", J::Bool(b)) => Value::Bool(*b),
        ("bool", J::String(s)) => Value::Bool(s.eq_ignore_ascii_case("true")),
        ("long" | "int", J::Number(n)) => n.as_i64().map_or(Value::Null, Value::Long),
        ("long" | "int", J::String(s)) => s.trim().parse().map_or(Value::Null, Value::Long),
        ("real", J::Number(n)) => n.as_f64().map_or(Value::Null, Value::Real),
        (_, J::String(s)) => Value::Str(s.clone()),
        (_, J::Object(_) | J::Array(_)) => Value::Str(value.to_string()),
        (_, other) => Value::Str(other.to_string()),
    }
}

/// One Graph record's top-level fields in the columns of `table`.
fn graph_row(b: &Builder, table: &str, record: &J, time_field: &str) -> Vec<Value> {
    let mut row = b.row();
    if let J::Object(map) = record {
        for (field, value) in map {
            if let Some(column) = b.column_of(field) {
                b.put(&mut row, column, value);
            }
        }
        if let Some(t) = map.get(time_field) {
            b.put(&mut row, "TimeGenerated", t);
        }
    }
    b.put(&mut row, "Type", &J::from(table));
    row
}

/// Every table the tenant's logs fill.
pub fn layout(tenant: &Tenant) -> Tables {
    // Every table the tenant's diagnostic settings stream exists, with
    // rows or without.
    let mut builders: HashMap<&'static str, Builder> =
        TABLES.iter().map(|t| (*t, Builder::new(t))).collect();
    let add =
        |name: &'static str, row: Vec<Value>, builders: &mut HashMap<&'static str, Builder>| {
            builders
                .entry(name)
                .or_insert_with(|| Builder::new(name))
                .table
                .rows
                .push(row);
        };
    // Sign-ins, oldest first, each in its event type's table.
    for record in tenant.signins.records() {
        let json = serde_json::to_value(tenant.signins.wire(record, true)).unwrap_or(J::Null);
        let types: Vec<&str> = json["signInEventTypes"]
            .as_array()
            .map(|a| a.iter().filter_map(J::as_str).collect())
            .unwrap_or_default();
        let name = sign_in_table(&types);
        let b = builders.entry(name).or_insert_with(|| Builder::new(name));
        let mut row = graph_row(b, name, &json, "createdDateTime");
        let status = &json["status"];
        b.put(
            &mut row,
            "ResultType",
            &J::from(status["errorCode"].to_string()),
        );
        b.put(&mut row, "ResultDescription", &status["failureReason"]);
        b.put(&mut row, "UserDisplayName", &json["userDisplayName"]);
        b.put(&mut row, "Location", &json["location"]["countryOrRegion"]);
        b.put(&mut row, "OperationName", &J::from("Sign-in activity"));
        add(name, row, &mut builders);
    }
    for audit in &tenant.audits {
        let name = "AuditLogs";
        let b = builders.entry(name).or_insert_with(|| Builder::new(name));
        let mut row = graph_row(b, name, &audit.json, "activityDateTime");
        b.put(
            &mut row,
            "OperationName",
            &audit.json["activityDisplayName"],
        );
        add(name, row, &mut builders);
    }
    for risk in &tenant.risks {
        let service_principal = risk.json.get("servicePrincipalId").is_some();
        let name = if service_principal {
            "AADServicePrincipalRiskEvents"
        } else {
            "AADUserRiskEvents"
        };
        let b = builders.entry(name).or_insert_with(|| Builder::new(name));
        let row = graph_row(b, name, &risk.json, "detectedDateTime");
        add(name, row, &mut builders);
    }
    for record in &tenant.ual {
        let name = "OfficeActivity";
        let Ok(json) = serde_json::from_str::<J>(&record.json) else {
            continue;
        };
        let b = builders.entry(name).or_insert_with(|| Builder::new(name));
        let mut row = b.row();
        if let J::Object(data) = &json["auditData"] {
            for (field, value) in data {
                let column = OFFICE_RENAMED
                    .iter()
                    .find(|(f, _)| f == field)
                    .map_or(field.as_str(), |(_, c)| c);
                b.put(&mut row, column, value);
            }
        }
        for (field, column) in [
            ("operation", "Operation"),
            ("userPrincipalName", "UserId"),
            ("clientIp", "ClientIP"),
            ("id", "OfficeId"),
            ("createdDateTime", "TimeGenerated"),
            ("auditLogRecordType", "RecordType"),
        ] {
            if !json[field].is_null() {
                b.put(&mut row, column, &json[field]);
            }
        }
        b.put(&mut row, "Type", &J::from(name));
        add(name, row, &mut builders);
    }
    builders
        .into_iter()
        .map(|(name, b)| (name.to_owned(), Arc::new(b.table)))
        .collect()
}

/// The table a sign-in goes to, by its event type.
fn sign_in_table(event_types: &[&str]) -> &'static str {
    let has = |t: &str| event_types.iter().any(|e| e.eq_ignore_ascii_case(t));
    if has("servicePrincipal") {
        "AADServicePrincipalSignInLogs"
    } else if has("managedIdentity") {
        "AADManagedIdentitySignInLogs"
    } else if has("nonInteractiveUser") {
        "AADNonInteractiveUserSignInLogs"
    } else {
        "SigninLogs"
    }
}
