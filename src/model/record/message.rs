//! The fields of a Windows event's rendered message (what Splunk's
//! classic text and anonymised exports keep instead of the event's XML).

use serde_json::{Map, Value};

/// A rendered message's labelled lines as the event's fields (named as
/// its XML names them); continuation lines join the value above them.
pub fn message_fields(message: &str) -> Map<String, Value> {
    let mut map = Map::new();
    let mut section = String::new();
    let mut last: Option<String> = None;
    {
        for line in message.lines().skip(1) {
            if line.trim().is_empty() {
                last = None;
                continue;
            }
            if !line.starts_with(['\t', ' ']) {
                section = line.to_owned();
                last = None;
                continue;
            }
            let body = line.trim();
            match body.split_once(':') {
                Some((label, value)) if line.starts_with('\t') && !line.starts_with("\t\t") => {
                    let name = field_name(&section, label.trim());
                    map.entry(name.clone()).or_insert(Value::from(value.trim()));
                    last = Some(name);
                }
                _ => {
                    if let Some(name) = &last
                        && let Some(Value::String(v)) = map.get_mut(name)
                    {
                        v.push('\n');
                        v.push_str(body);
                    }
                }
            }
        }
    }
    map
}

/// The XML name of a label in a message section.
fn field_name(section: &str, label: &str) -> String {
    let section = section.trim().trim_end_matches(':').trim();
    let named = match (section, label) {
        ("Subject", "Security ID") => "SubjectUserSid",
        ("Subject", "Account Name") => "SubjectUserName",
        ("Subject", "Account Domain") => "SubjectDomainName",
        ("Subject", "Logon ID") => "SubjectLogonId",
        ("Operation", "Accesses") => "AccessList",
        ("Member", "Security ID") => "MemberSid",
        ("Member", "Account Name") => "MemberName",
        ("Group", "Security ID") => "TargetSid",
        ("Group", "Group Name") => "TargetUserName",
        ("Group", "Group Domain") => "TargetDomainName",
        ("New Logon" | "New Account" | "Target Account", "Security ID") => "TargetSid",
        ("New Logon" | "New Account" | "Target Account", "Account Name") => "TargetUserName",
        ("New Logon" | "New Account" | "Target Account", "Account Domain") => "TargetDomainName",
        ("New Logon", "Logon ID") => "TargetLogonId",
        ("Network Information", "Source Network Address") => "IpAddress",
        (_, "Handle ID") => "HandleId",
        _ => "",
    };
    if named.is_empty() {
        label.split_whitespace().collect()
    } else {
        named.to_owned()
    }
}
