//! Where each kind of record lives in a Log Analytics workspace, and which
//! column holds each of Graph's fields: the compiler writes queries with
//! it, and the emulator lays its own records out by it.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use crate::detect::event::Kind;

/// Columns and their Kusto types, per table (Microsoft's table reference).
const COLUMNS: &str = include_str!("../../../assets/kql/tables.txt");

/// A table's columns, name to Kusto type.
pub fn columns(table: &str) -> Option<&'static BTreeMap<String, String>> {
    static TABLES: OnceLock<BTreeMap<String, BTreeMap<String, String>>> = OnceLock::new();
    TABLES
        .get_or_init(|| {
            COLUMNS
                .lines()
                .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
                .filter_map(|line| {
                    let mut words = line.split_whitespace();
                    let name = words.next()?.to_owned();
                    let cols = words
                        .filter_map(|w| w.split_once(':'))
                        .map(|(c, t)| (c.to_owned(), t.to_owned()))
                        .collect();
                    Some((name, cols))
                })
                .collect()
        })
        .get(table)
}

/// Whether `table` has `column`.
pub fn has(table: &str, column: &str) -> bool {
    columns(table).is_some_and(|c| c.contains_key(column))
}

/// One table that holds records of a kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Table {
    pub name: &'static str,
    /// When the event happened (what windows are measured on).
    pub time: &'static str,
}

const SIGN_INS: &[Table] = &[
    Table {
        name: "SigninLogs",
        time: "CreatedDateTime",
    },
    Table {
        name: "AADNonInteractiveUserSignInLogs",
        time: "CreatedDateTime",
    },
    Table {
        name: "AADServicePrincipalSignInLogs",
        time: "CreatedDateTime",
    },
    Table {
        name: "AADManagedIdentitySignInLogs",
        time: "CreatedDateTime",
    },
];
const AUDITS: &[Table] = &[Table {
    name: "AuditLogs",
    time: "ActivityDateTime",
}];
const RISKS: &[Table] = &[
    Table {
        name: "AADUserRiskEvents",
        time: "DetectedDateTime",
    },
    Table {
        name: "AADServicePrincipalRiskEvents",
        time: "DetectedDateTime",
    },
];
const MAIL: &[Table] = &[Table {
    name: "OfficeActivity",
    time: "TimeGenerated",
}];
pub const SECURITY_EVENT: Table = Table {
    name: "SecurityEvent",
    time: "TimeGenerated",
};
pub const EVENT: Table = Table {
    name: "Event",
    time: "TimeGenerated",
};

/// The tables that may hold records of `kind`.
pub fn tables(kind: Kind) -> &'static [Table] {
    match kind {
        Kind::SignIn => SIGN_INS,
        Kind::Audit => AUDITS,
        Kind::Risk => RISKS,
        Kind::MailAudit => MAIL,
        Kind::WindowsEvent => &[SECURITY_EVENT, EVENT],
        Kind::Directory => &[],
    }
}

/// Graph's top-level field names whose column is not the name with a
/// capital (the reverse of the importer's list).
fn renamed_column(field: &str) -> Option<&'static str> {
    crate::model::record::RENAMED
        .iter()
        .find(|(_, graph)| *graph == field)
        .map(|(column, _)| *column)
}

/// `name` with its first letter in capitals.
pub fn capital(name: &str) -> String {
    let mut chars = name.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// Where one of Graph's fields is in a row of `table`: the column and the
/// path inside it. `None` when the table has no such column.
pub fn locate(kind: Kind, table: &str, field: &str) -> Option<Place> {
    let (head, rest) = field.split_once('.').unwrap_or((field, ""));
    let rest: Vec<String> = if rest.is_empty() {
        Vec::new()
    } else {
        rest.split('.').map(str::to_owned).collect()
    };
    let candidates = match kind {
        Kind::MailAudit => return locate_mail(table, head, rest),
        Kind::WindowsEvent => return locate_windows(table, field),
        _ if head == "id" => vec!["Id".to_owned()],
        _ => renamed_column(head)
            .map(str::to_owned)
            .into_iter()
            .chain([capital(head)])
            .collect(),
    };
    // Tables differ in capitals (`IPAddress` in sign-ins, `IpAddress` in
    // risk events): the table's own spelling of the name.
    let column = candidates.iter().find_map(|c| {
        columns(table)?
            .keys()
            .find(|k| k.eq_ignore_ascii_case(c))
            .cloned()
    })?;
    Some(Place::Column { column, path: rest })
}

/// How a field is read from a row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Place {
    /// A column, and the path inside it when it holds an object.
    Column { column: String, path: Vec<String> },
    /// A named value of a Windows event's XML (`<Data Name="…">`).
    EventData(String),
}

/// The Unified Audit Log in `OfficeActivity`: the record's own fields are
/// its columns, some renamed.
fn locate_mail(table: &str, head: &str, rest: Vec<String>) -> Option<Place> {
    let (column, path) = match head {
        "operation" => ("Operation".to_owned(), rest),
        "userPrincipalName" | "userId" => ("UserId".to_owned(), rest),
        "clientIp" => ("ClientIP".to_owned(), rest),
        "id" => ("OfficeId".to_owned(), rest),
        "auditData" => {
            let mut rest = rest.into_iter();
            let name = rest.next()?;
            (office_column(&name), rest.collect())
        }
        other => (capital(other), rest),
    };
    has(table, &column).then_some(Place::Column { column, path })
}

/// The `OfficeActivity` column of a Unified Audit Log field.
pub fn office_column(field: &str) -> String {
    match field {
        "Id" => "OfficeId",
        "ObjectId" => "OfficeObjectId",
        "ClientIPAddress" => "Client_IPAddress",
        "LogonType" => "Logon_Type",
        "Workload" => "OfficeWorkload",
        "SiteUrl" => "Site_Url",
        other => other,
    }
    .to_owned()
}

fn locate_windows(table: &str, field: &str) -> Option<Place> {
    let column = match (table, field) {
        (_, "EventData") => "EventData",
        ("SecurityEvent", "Provider") => "EventSourceName",
        ("Event", "Provider") => "Source",
        ("Event", "Channel") => "EventLog",
        ("Event", "EventID" | "Computer") => field,
        ("Event", _) => return Some(Place::EventData(field.to_owned())),
        (_, other) => other,
    };
    if has(table, column) {
        Some(Place::Column {
            column: column.to_owned(),
            path: Vec::new(),
        })
    } else {
        Some(Place::EventData(field.to_owned()))
    }
}

/// Graph paths of each kind that hold arrays (whose items a condition is
/// tested on one by one, as the engine does).
pub fn is_array(kind: Kind, path: &str) -> bool {
    let arrays: &[&str] = match kind {
        Kind::SignIn => &[
            "authenticationDetails",
            "appliedConditionalAccessPolicies",
            "authenticationProcessingDetails",
            "networkLocationDetails",
            "riskEventTypes",
            "riskEventTypes_v2",
            "sessionLifetimePolicies",
            "authenticationMethodsUsed",
            "authenticationRequirementPolicies",
            "appliedEventListeners",
        ],
        Kind::Audit => &[
            "targetResources",
            "targetResources.modifiedProperties",
            "additionalDetails",
        ],
        Kind::MailAudit => &[
            "auditData.Parameters",
            "auditData.OperationProperties",
            "auditData.Folders",
            "auditData.Folders.FolderItems",
            "auditData.AffectedItems",
            "auditData.ExtendedProperties",
            "auditData.ModifiedProperties",
        ],
        Kind::Risk | Kind::WindowsEvent | Kind::Directory => &[],
    };
    arrays.contains(&path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn graph_fields_are_found_in_their_columns() {
        let col = |kind, table: &str, field: &str| match locate(kind, table, field) {
            Some(Place::Column { column, path }) => format!("{column} {}", path.join(".")),
            Some(Place::EventData(name)) => format!("xml {name}"),
            None => "-".into(),
        };
        assert_eq!(col(Kind::SignIn, "SigninLogs", "ipAddress"), "IPAddress ");
        assert_eq!(
            col(Kind::SignIn, "SigninLogs", "status.errorCode"),
            "Status errorCode"
        );
        assert_eq!(
            col(Kind::SignIn, "SigninLogs", "riskEventTypes_v2"),
            "RiskEventTypes_V2 "
        );
        // Service principals have no user.
        assert_eq!(
            col(
                Kind::SignIn,
                "AADServicePrincipalSignInLogs",
                "userPrincipalName"
            ),
            "-"
        );
        assert_eq!(
            col(Kind::Risk, "AADUserRiskEvents", "ipAddress"),
            "IpAddress "
        );
        assert_eq!(
            col(Kind::MailAudit, "OfficeActivity", "auditData.ObjectId"),
            "OfficeObjectId "
        );
        assert_eq!(
            col(
                Kind::MailAudit,
                "OfficeActivity",
                "auditData.Parameters.Value"
            ),
            "Parameters Value"
        );
        assert_eq!(
            col(Kind::WindowsEvent, "SecurityEvent", "TargetUserName"),
            "TargetUserName "
        );
        assert_eq!(
            col(Kind::WindowsEvent, "SecurityEvent", "ObjectDN"),
            "xml ObjectDN"
        );
        assert_eq!(col(Kind::WindowsEvent, "Event", "Provider"), "Source ");
    }
}
