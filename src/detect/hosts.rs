//! Which Windows hosts act as domain controllers, told from their own
//! records: a rule about Active Directory must not fire on a member
//! server's local groups, whose events (4732 to `Builtin\Administrators`,
//! 4720 for a local account) have the same shape as a domain
//! controller's.
//!
//! A host is a domain controller when it logs what only a domain
//! controller logs: Kerberos ticket service (4768–4773), computer
//! accounts (4741–4743), global and universal groups (4727–4730,
//! 4754–4758), directory service access and changes (4662, 5136–5141),
//! trusts, SID history, AdminSDHolder, DSRM and replication; or when it
//! manages an account or group of a domain (one named neither `Builtin`
//! nor after the host itself: a member server's own accounts and groups
//! carry its name). A host with none of these in the records given is
//! "not seen acting as a domain controller": said so, not asserted.

use std::collections::BTreeSet;

use super::event::{Event, Kind};
use super::json::Json;

/// Texts that mark the records this reads (for the scan's prefilter):
/// the leading digits of their event ids, anywhere in the record (more
/// records pass than are needed, none that is needed is missed).
pub const READS: super::prefilter::Reads = &[
    (Kind::WindowsEvent, "", "4662"),
    (Kind::WindowsEvent, "", "470"),
    (Kind::WindowsEvent, "", "471"),
    (Kind::WindowsEvent, "", "472"),
    (Kind::WindowsEvent, "", "473"),
    (Kind::WindowsEvent, "", "474"),
    (Kind::WindowsEvent, "", "475"),
    (Kind::WindowsEvent, "", "476"),
    (Kind::WindowsEvent, "", "477"),
    (Kind::WindowsEvent, "", "478"),
    (Kind::WindowsEvent, "", "479"),
    (Kind::WindowsEvent, "", "492"),
    (Kind::WindowsEvent, "", "493"),
    (Kind::WindowsEvent, "", "513"),
    (Kind::WindowsEvent, "", "514"),
];

/// Events only a domain controller writes.
pub(crate) fn dc_only(id: u64) -> bool {
    matches!(id,
        4662 | 4706 | 4707 | 4713 | 4716
        | 4727..=4730 | 4741..=4743 | 4754..=4758
        | 4765 | 4766 | 4768..=4773 | 4780 | 4794
        | 4928..=4937 | 5136..=5141)
}

/// Account and local-group management: on a domain controller they
/// concern the domain's accounts, on any other host its own.
pub(crate) fn account_management(id: u64) -> bool {
    matches!(id, 4720 | 4722..=4726 | 4731..=4735 | 4738 | 4740 | 4767 | 4781)
}

/// A host's name as events write `Computer`, lower-cased: the key hosts
/// are known by.
pub fn host_key(computer: &str) -> String {
    computer.trim().to_lowercase()
}

/// The host this event shows acting as a domain controller, if it does.
pub fn dc_fact(event: &Event) -> Option<String> {
    if event.kind != Kind::WindowsEvent {
        return None;
    }
    let v = &event.value;
    let text = |k: &str| v.get(k).and_then(Json::as_str).unwrap_or("").trim();
    let computer = text("Computer");
    if computer.is_empty() {
        return None;
    }
    let id = v.get("EventID")?.as_u64()?;
    let domain_account = || {
        let domain = text("TargetDomainName");
        let short = computer.split('.').next().unwrap_or(computer);
        // NetBIOS names are cut at 15 characters.
        let own = |name: &str| {
            name.eq_ignore_ascii_case(short)
                || short.len() > 15
                    && short
                        .get(..15)
                        .is_some_and(|s| name.eq_ignore_ascii_case(s))
        };
        !domain.is_empty()
            && domain != "-"
            && !domain.eq_ignore_ascii_case("builtin")
            && !domain.eq_ignore_ascii_case("nt authority")
            && !own(domain)
    };
    (dc_only(id) || account_management(id) && domain_account()).then(|| host_key(computer))
}

/// The hosts seen acting as domain controllers.
#[derive(Debug, Default)]
pub struct DomainControllers(BTreeSet<String>);

impl DomainControllers {
    pub fn add(&mut self, host: String) {
        self.0.insert(host);
    }

    pub fn contains(&self, computer: &str) -> bool {
        self.0.contains(&host_key(computer))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(json: &str) -> Event<'static> {
        let mut value: serde_json::Value = serde_json::from_str(json).unwrap();
        value["Channel"] = "Security".into();
        value["TimeCreated"] = "2026-11-20T10:00:00Z".into();
        let event = Event::new(value, || "e1".into()).unwrap();
        assert_eq!(event.kind, Kind::WindowsEvent, "{json}");
        event
    }

    #[test]
    fn ticket_service_and_domain_accounts_mark_a_domain_controller() {
        let kdc = event(r#"{"EventID": 4769, "Computer": "DC01.contoso.local"}"#);
        assert_eq!(dc_fact(&kdc).as_deref(), Some("dc01.contoso.local"));
        let domain_user = event(
            r#"{"EventID": 4720, "Computer": "dc01.contoso.local", "TargetDomainName": "CONTOSO"}"#,
        );
        assert!(dc_fact(&domain_user).is_some());
    }

    #[test]
    fn a_member_servers_own_accounts_and_builtin_groups_do_not() {
        for json in [
            r#"{"EventID": 4720, "Computer": "FS03.offsec.lan", "TargetDomainName": "FS03"}"#,
            r#"{"EventID": 4732, "Computer": "jump01.offsec.lan", "TargetDomainName": "Builtin"}"#,
            r#"{"EventID": 4732, "Computer": "MSEDGEWIN10", "TargetDomainName": "BUILTIN"}"#,
            r#"{"EventID": 4624, "Computer": "dc01.contoso.local", "TargetDomainName": "CONTOSO"}"#,
            r#"{"EventID": 4720, "Computer": "averyveryverylonghost.x.y", "TargetDomainName": "AVERYVERYVERYLO"}"#,
        ] {
            assert_eq!(dc_fact(&event(json)), None, "{json}");
        }
    }
}
