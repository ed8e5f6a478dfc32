//! Detections that join directory audits to one another, which a rule file
//! cannot express: which keys a credential change really added (the first
//! credential of an app, or one more), a credential added to an app after
//! it was granted high-risk permissions, and an app granted role
//! management that then made someone an administrator.
//!
//! Only the few audits these read are kept (each as a small fact), and the
//! joins run when findings are asked for, so the order events arrive in
//! does not matter.

use super::json::Json;
use std::collections::{BTreeMap, BTreeSet};

use jiff::{SignedDuration, Timestamp};

use super::catalogue::Catalogue;
use super::event::{Event, Kind, text_at, values_at};
use super::{Entity, Finding};
use crate::model::Severity;

/// How long after a grant a credential counts as following it.
const FOLLOWS_WITHIN: SignedDuration = SignedDuration::from_hours(30 * 24);

/// Resources every grant names; they say nothing about the client app.
const RESOURCES: &[&str] = &[
    "microsoft graph",
    "office 365 exchange online",
    "office 365 sharepoint online",
    "windows azure active directory",
    "00000003-0000-0000-c000-000000000000",
    "00000002-0000-0ff1-ce00-000000000000",
    "00000003-0000-0ff1-ce00-000000000000",
    "00000002-0000-0000-c000-000000000000",
];

/// Permissions that let an app make anyone an administrator.
const ROLE_GRANTING: &[&str] = &[
    "RoleManagement.ReadWrite.Directory",
    "AppRoleAssignment.ReadWrite.All",
];

/// Texts every audit the joins read contains (for the scan's prefilter).
pub const READS: super::prefilter::Reads = &[
    (
        Kind::Audit,
        "activityDisplayName",
        "Certificates and secrets management",
    ),
    (
        Kind::Audit,
        "activityDisplayName",
        "service principal credentials",
    ),
    (Kind::Audit, "activityDisplayName", "permission grant"),
    (Kind::Audit, "activityDisplayName", "app role assignment"),
    (Kind::Audit, "activityDisplayName", "Consent to application"),
    (Kind::Audit, "activityDisplayName", "member to role"),
];

#[derive(Clone, Debug)]
pub enum Fact {
    Credential(Credential),
    Grant(Grant),
    RoleAdded(RoleAdded),
}

#[derive(Clone, Debug)]
pub struct Credential {
    /// Names and ids of the app (lower case), for joining.
    app: BTreeSet<String>,
    /// The changed object's id (its name when the audit gives none): two
    /// apps of one name are two apps.
    object: String,
    name: String,
    /// Key ids added; `None` when the audit does not record the keys.
    added: Option<Vec<String>>,
    /// Keys the object had before the change, where the audit lists them
    /// (an application's does; a service principal's names only the key
    /// added).
    had: Option<usize>,
    actor: String,
    /// Where the actor was named (a user's or an app's field).
    actor_field: &'static str,
    time: Option<Timestamp>,
    id: String,
}

#[derive(Clone, Debug)]
pub struct Grant {
    app: BTreeSet<String>,
    name: String,
    permissions: Vec<String>,
    activity: String,
    time: Option<Timestamp>,
    id: String,
}

#[derive(Clone, Debug)]
pub struct RoleAdded {
    /// The app that made the change (lower case names and ids).
    by_app: BTreeSet<String>,
    app_name: String,
    member: String,
    role: String,
    time: Option<Timestamp>,
    id: String,
}

fn lower_set<'a>(items: impl IntoIterator<Item = &'a str>) -> BTreeSet<String> {
    items
        .into_iter()
        .map(|s| s.trim().trim_matches('"').to_lowercase())
        .filter(|s| !s.is_empty() && !RESOURCES.contains(&s.as_str()))
        .collect()
}

/// The texts of one modified property (`oldValue` or `newValue`).
fn property<'a>(v: &'a Json, name: &str, side: &str) -> Option<Vec<&'a str>> {
    let mut props = Vec::new();
    values_at(v, "targetResources.modifiedProperties", &mut props);
    let matching: Vec<&str> = props
        .iter()
        .filter(|p| p["displayName"].as_str() == Some(name))
        .filter_map(|p| p[side].as_str())
        .collect();
    (!props
        .iter()
        .all(|p| p["displayName"].as_str() != Some(name)))
    .then_some(matching)
}

fn key_ids(texts: &[&str]) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for text in texts {
        for part in text.split("KeyIdentifier=").skip(1) {
            let id: String = part
                .chars()
                .take_while(|c| c.is_ascii_hexdigit() || *c == '-')
                .collect();
            if !id.is_empty() {
                out.insert(id.to_lowercase());
            }
        }
    }
    out
}

fn strings<'a>(v: &'a Json, path: &str) -> Vec<&'a str> {
    let mut found = Vec::new();
    values_at(v, path, &mut found);
    found.into_iter().filter_map(|x| x.as_str()).collect()
}

/// The fact a directory audit contributes, if it is one the joins read.
pub fn fact(event: &Event, catalogue: &Catalogue) -> Option<Fact> {
    if event.kind != Kind::Audit {
        return None;
    }
    let v = &event.value;
    if v["result"]
        .as_str()
        .is_some_and(|r| r.eq_ignore_ascii_case("failure"))
    {
        return None;
    }
    let activity = text_at(v, "activityDisplayName")?;
    let lower = activity.to_lowercase();
    let name = text_at(v, "targetResources.displayName").unwrap_or_default();
    if lower.contains("certificates and secrets management")
        || lower == "add service principal credentials"
        || lower == "update service principal credentials"
    {
        let lists_every_key = lower.contains("certificates and secrets management");
        let added = match (
            property(v, "KeyDescription", "oldValue"),
            property(v, "KeyDescription", "newValue"),
        ) {
            (Some(old_text), Some(new_text)) => {
                let (old, new) = (key_ids(&old_text), key_ids(&new_text));
                let added: Vec<String> = new.difference(&old).cloned().collect();
                let nothing = |texts: &[&str]| {
                    texts
                        .iter()
                        .all(|t| matches!(t.trim(), "" | "[]" | "null" | "\"\""))
                };
                if !added.is_empty() {
                    Some((added, old.len()))
                } else if !old.is_empty() || nothing(&new_text) {
                    // A removal, or a change that added nothing.
                    return None;
                } else {
                    // Keys described without their identifiers.
                    None
                }
            }
            _ => None,
        };
        let mut app = lower_set(strings(v, "targetResources.displayName"));
        app.extend(lower_set(strings(v, "targetResources.id")));
        let (actor_field, actor) = [
            "initiatedBy.user.userPrincipalName",
            "initiatedBy.app.displayName",
        ]
        .into_iter()
        .find_map(|field| text_at(v, field).map(|actor| (field, actor)))
        .unwrap_or(("initiatedBy.user.userPrincipalName", String::new()));
        return Some(Fact::Credential(Credential {
            app,
            object: text_at(v, "targetResources.id")
                .unwrap_or_else(|| name.clone())
                .to_lowercase(),
            name,
            had: added
                .as_ref()
                .map(|(_, had)| *had)
                .filter(|had| *had > 0 || lists_every_key),
            added: added.map(|(a, _)| a),
            actor,
            actor_field,
            time: event.time,
            id: event.id.clone(),
        }));
    }
    if matches!(
        lower.as_str(),
        "add delegated permission grant"
            | "add app role assignment to service principal"
            | "consent to application"
    ) {
        let values = strings(v, "targetResources.modifiedProperties.newValue");
        let permissions: Vec<String> = catalogue
            .permission
            .iter()
            .filter(|p| p.risk <= Severity::High)
            .filter(|p| {
                values.iter().any(|text| {
                    std::iter::once(&p.name)
                        .chain(&p.app_role)
                        .chain(&p.scope)
                        .any(|needle| super::rule::has_term(text, needle))
                })
            })
            .map(|p| p.name.clone())
            .collect();
        if permissions.is_empty() {
            return None;
        }
        let mut app = lower_set(strings(v, "targetResources.displayName"));
        app.extend(lower_set(strings(v, "targetResources.id")));
        for prop in [
            "ServicePrincipal.DisplayName",
            "ServicePrincipal.ObjectID",
            "ServicePrincipal.AppId",
        ] {
            if let Some(texts) = property(v, prop, "newValue") {
                app.extend(lower_set(texts));
            }
        }
        let name = strings(v, "targetResources.displayName")
            .into_iter()
            .find(|n| !RESOURCES.contains(&n.to_lowercase().as_str()))
            .unwrap_or(&name)
            .to_owned();
        return Some(Fact::Grant(Grant {
            app,
            name,
            permissions,
            activity,
            time: event.time,
            id: event.id.clone(),
        }));
    }
    if lower.starts_with("add member to role") || lower.starts_with("add eligible member to role") {
        let mut by_app = lower_set(strings(v, "initiatedBy.app.displayName"));
        by_app.extend(lower_set(strings(v, "initiatedBy.app.appId")));
        by_app.extend(lower_set(strings(v, "initiatedBy.app.servicePrincipalId")));
        if by_app.is_empty() {
            return None;
        }
        let role = property(v, "Role.DisplayName", "newValue")
            .and_then(|t| t.first().map(|s| s.trim_matches('"').to_owned()))
            .unwrap_or_default();
        return Some(Fact::RoleAdded(RoleAdded {
            by_app,
            app_name: text_at(v, "initiatedBy.app.displayName")
                .or_else(|| text_at(v, "initiatedBy.app.appId"))
                .unwrap_or_default(),
            member: text_at(v, "targetResources.userPrincipalName")
                .or_else(|| text_at(v, "targetResources.displayName"))
                .unwrap_or_default(),
            role,
            time: event.time,
            id: event.id.clone(),
        }));
    }
    None
}

#[derive(Debug, Default)]
pub struct Joins {
    credentials: Vec<Credential>,
    grants: Vec<Grant>,
    roles: Vec<RoleAdded>,
    /// Event ids taken, so an export's repeated rows count once.
    seen: std::collections::HashSet<String>,
}

fn iso(t: Option<Timestamp>) -> Option<String> {
    t.map(crate::model::de::graph_time)
}

fn entity(field: &str, value: &str) -> Entity {
    Entity {
        field: field.into(),
        value: value.into(),
    }
}

/// Microsoft's services that add credentials as part of their own work,
/// by the name audits give them as the initiating app.
const PLATFORM_SERVICES: [&str; 1] = ["Managed Service Identity"];

fn is_platform_service(app: &str) -> bool {
    PLATFORM_SERVICES
        .iter()
        .any(|s| s.eq_ignore_ascii_case(app))
}

impl Joins {
    pub fn add(&mut self, fact: Fact) {
        let id = match &fact {
            Fact::Credential(c) => &c.id,
            Fact::Grant(g) => &g.id,
            Fact::RoleAdded(r) => &r.id,
        };
        if !self.seen.insert(id.clone()) {
            return;
        }
        match fact {
            Fact::Credential(c) => self.credentials.push(c),
            Fact::Grant(g) => self.grants.push(g),
            Fact::RoleAdded(r) => self.roles.push(r),
        }
    }

    pub fn findings(&self) -> Vec<Finding> {
        let mut out = self.credential_findings();
        out.extend(self.credential_after_grant());
        out.extend(self.promotion_after_grant());
        out
    }

    /// Credentials added, one finding per app, saying whether the app had
    /// any before. Changes made only by Microsoft's own services doing
    /// their work (Azure rolling a managed identity's certificate) are
    /// listed, not rated as an attacker's key.
    fn credential_findings(&self) -> Vec<Finding> {
        let mut by_app: BTreeMap<&str, Vec<&Credential>> = BTreeMap::new();
        for c in &self.credentials {
            by_app.entry(&c.object).or_default().push(c);
        }
        by_app
            .into_iter()
            .map(|(object, mut changes)| {
                changes.sort_by(|a, b| (a.time, &a.id).cmp(&(b.time, &b.id)));
                let first = changes[0];
                // A set: exports repeat rows.
                let keys: BTreeSet<&str> = changes
                    .iter()
                    .flat_map(|c| c.added.iter().flatten())
                    .map(String::as_str)
                    .collect();
                let actors: BTreeSet<(&str, &str)> = changes
                    .iter()
                    .filter(|c| !c.actor.is_empty())
                    .map(|c| (c.actor_field, c.actor.as_str()))
                    .collect();
                let before = match (&first.added, first.had) {
                    (None, _) => "the audit does not record which keys".to_owned(),
                    (Some(_), Some(0)) => "the app had no credential before: its first".to_owned(),
                    (Some(_), Some(had)) => format!("the app already had {had} before"),
                    (Some(_), None) => "the audit does not list what it held before".to_owned(),
                };
                let mut entities = vec![entity("targetResources.displayName", &first.name)];
                entities.extend(keys.iter().map(|k| entity("keyId", k)));
                entities.extend(actors.iter().map(|(field, a)| entity(field, a)));
                let routine = changes.iter().all(|c| {
                    c.actor_field == "initiatedBy.app.displayName" && is_platform_service(&c.actor)
                });
                let before = if routine {
                    format!(
                        "{before}; made by Microsoft's own service, as Azure rolls a managed identity's certificate itself: routine, not an attacker's key, unless the team never made this identity"
                    )
                } else {
                    before
                };
                Finding {
                    id: super::finding_id("audit.app-credential-added", object),
                    detection: "audit.app-credential-added".into(),
                    severity: if routine { Severity::Info } else { Severity::High },
                    title: "Credentials added to an application or service principal".into(),
                    techniques: vec!["T1098.001".into()],
                    entities,
                    evidence: changes.iter().map(|c| c.id.clone()).collect(),
                    count: changes.len() as u64,
                    first_seen: iso(first.time),
                    last_seen: iso(changes.last().and_then(|c| c.time)),
                    remediation: vec![
                        "remove-added-credentials".into(),
                        "review-app-permissions".into(),
                        "revoke-sessions".into(),
                        "reset-passwords".into(),
                    ],
                    explanation: format!(
                        "{} credential changes on {} by {} added {} ({before})",
                        changes.len(),
                        first.name,
                        actors.iter().map(|(_, a)| *a).collect::<Vec<_>>().join(", "),
                        if keys.is_empty() {
                            "keys".to_owned()
                        } else {
                            let keys: Vec<&str> = keys.iter().copied().collect();
                            format!("key {}", keys.join(", "))
                        },
                    ),
                    rationale: "A secret or certificate added to an app lets its holder sign in as the app, with every permission it has, without any user.".into(),
                    verdict: None,
                }
            })
            .collect()
    }

    fn credential_after_grant(&self) -> Vec<Finding> {
        let mut out = Vec::new();
        for c in &self.credentials {
            let Some(added_at) = c.time else { continue };
            // The latest grant before it (the same on every run).
            let grant = self
                .grants
                .iter()
                .filter(|g| {
                    g.time.is_some_and(|t| {
                        t <= added_at && added_at.duration_since(t) <= FOLLOWS_WITHIN
                    }) && !g.app.is_disjoint(&c.app)
                })
                .max_by(|a, b| (a.time, &a.id).cmp(&(b.time, &b.id)));
            let Some(g) = grant else { continue };
            out.push(Finding {
                id: super::finding_id("audit.credential-after-consent", &format!("{}\u{1f}{}", c.id, g.id)),
                detection: "audit.credential-after-consent".into(),
                severity: Severity::Critical,
                title: "Credential added to an app after it was granted high-risk permissions".into(),
                techniques: vec!["T1098.001".into(), "T1528".into()],
                entities: vec![
                    entity("targetResources.displayName", &c.name),
                    entity("permission", &g.permissions.join(" ")),
                    entity(c.actor_field, &c.actor),
                ],
                evidence: vec![g.id.clone(), c.id.clone()],
                count: 2,
                first_seen: iso(g.time),
                last_seen: iso(c.time),
                remediation: vec![
                    "remove-added-credentials".into(),
                    "remove-risky-grants".into(),
                    "review-app-permissions".into(),
                ],
                explanation: format!(
                    "{} was granted {} ({}, {}) and then had a credential added by {} ({}): whoever holds that credential now has those permissions",
                    c.name,
                    g.permissions.join(", "),
                    g.activity,
                    iso(g.time).unwrap_or_default(),
                    c.actor,
                    iso(c.time).unwrap_or_default(),
                ),
                rationale: "Consent first and a credential after is how an attacker turns an app into a mailbox reader that survives password resets.".into(),
                verdict: None,
            });
        }
        out
    }

    fn promotion_after_grant(&self) -> Vec<Finding> {
        let mut out = Vec::new();
        for r in &self.roles {
            let Some(at) = r.time else { continue };
            let grant = self
                .grants
                .iter()
                .filter(|g| {
                    g.time.is_some_and(|t| t <= at)
                        && !g.app.is_disjoint(&r.by_app)
                        && g.permissions
                            .iter()
                            .any(|p| ROLE_GRANTING.contains(&p.as_str()))
                })
                .max_by(|a, b| (a.time, &a.id).cmp(&(b.time, &b.id)));
            let Some(g) = grant else { continue };
            out.push(Finding {
                id: super::finding_id("audit.app-promoted-after-role-grant", &format!("{}\u{1f}{}", r.id, g.id)),
                detection: "audit.app-promoted-after-role-grant".into(),
                severity: Severity::Critical,
                title: "App granted role management then made someone an administrator".into(),
                techniques: vec!["T1098.003".into()],
                entities: vec![
                    entity("initiatedBy.app.displayName", &r.app_name),
                    entity("targetResources.userPrincipalName", &r.member),
                    entity("role", &r.role),
                ],
                evidence: vec![g.id.clone(), r.id.clone()],
                count: 2,
                first_seen: iso(g.time),
                last_seen: iso(r.time),
                remediation: vec![
                    "review-privileged-roles".into(),
                    "remove-risky-grants".into(),
                    "remove-added-credentials".into(),
                ],
                explanation: format!(
                    "{} was granted {} ({}) and then added {} to {}",
                    g.name,
                    g.permissions.join(", "),
                    iso(g.time).unwrap_or_default(),
                    r.member,
                    if r.role.is_empty() { "a directory role" } else { &r.role },
                ),
                rationale: "An app holding RoleManagement.ReadWrite.Directory can make any account Global Administrator; using it to do so is the attacker's way back in.".into(),
                verdict: None,
            });
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn event(v: serde_json::Value) -> Event<'static> {
        Event::new(v, || "x".into()).unwrap()
    }

    fn audit(
        id: &str,
        time: &str,
        activity: &str,
        target: serde_json::Value,
        by_app: Option<&str>,
    ) -> Event<'static> {
        let initiated = match by_app {
            Some(app) => json!({"app": {"displayName": app, "appId": "app-id-1"}}),
            None => json!({"user": {"userPrincipalName": "megan@contoso.com"}}),
        };
        event(json!({
            "id": id, "activityDateTime": time, "activityDisplayName": activity,
            "result": "success", "initiatedBy": initiated, "targetResources": target,
        }))
    }

    fn run(events: &[Event]) -> Vec<Finding> {
        let catalogue = Catalogue::built_in();
        let mut joins = Joins::default();
        for e in events.iter().rev() {
            if let Some(f) = fact(e, &catalogue) {
                joins.add(f);
            }
        }
        joins.findings()
    }

    fn keys(old: &str, new: &str) -> serde_json::Value {
        json!({"displayName": "KeyDescription", "oldValue": old, "newValue": new})
    }

    /// Azure rolling a managed identity's certificate: the audit's shape
    /// (initiated by the app "Managed Service Identity", a certificate key
    /// on the identity's service principal) is listed, not rated high; the
    /// same change by a user, or by any other app, stays high.
    #[test]
    fn a_managed_identity_certificate_roll_is_routine_not_an_attack() {
        let target = |id: &str| {
            json!([{"displayName": "vm-backup-01", "id": id, "type": "ServicePrincipal",
                "modifiedProperties": [keys("", "[\"[KeyIdentifier=dddd-1,KeyType=AsymmetricX509Cert,KeyUsage=Verify,DisplayName=CN=0f3c]\"]")]}])
        };
        let by_azure = audit(
            "m1",
            "2026-10-02T03:00:00Z",
            "Add service principal credentials",
            target("sp-msi"),
            Some("Managed Service Identity"),
        );
        let by_other_app = audit(
            "m2",
            "2026-10-02T03:00:00Z",
            "Add service principal credentials",
            target("sp-other"),
            Some("Graph Explorer"),
        );
        let by_user = audit(
            "m3",
            "2026-10-02T03:00:00Z",
            "Add service principal credentials",
            target("sp-user"),
            None,
        );
        let found = run(&[by_azure, by_other_app, by_user]);
        let severity = |evidence: &str| {
            found
                .iter()
                .find(|f| f.detection == "audit.app-credential-added" && f.evidence == [evidence])
                .map(|f| (f.severity, f.explanation.clone()))
                .unwrap()
        };
        let (azure, why) = severity("m1");
        assert_eq!(azure, Severity::Info, "{why}");
        assert!(why.contains("managed identity"), "{why}");
        assert_eq!(severity("m2").0, Severity::High);
        assert_eq!(severity("m3").0, Severity::High);
    }

    #[test]
    fn first_and_additional_credentials_are_told_apart_and_removals_ignored() {
        let first = audit(
            "a1",
            "2026-10-01T10:00:00Z",
            "Update application – Certificates and secrets management ",
            json!([{"displayName": "HR Sync", "id": "obj-1", "modifiedProperties": [keys("[]", "[\"[KeyIdentifier=aaaa-1,KeyType=Password]\"]")]}]),
            None,
        );
        let more = audit(
            "a2",
            "2026-10-01T10:00:00Z",
            "Add service principal credentials",
            json!([{"displayName": "Payroll", "id": "sp-2", "modifiedProperties": [keys("[\"[KeyIdentifier=bbbb-1]\"]", "[\"[KeyIdentifier=bbbb-1]\",\"[KeyIdentifier=bbbb-2]\"]")]}]),
            None,
        );
        let removal = audit(
            "a3",
            "2026-10-01T10:00:00Z",
            "Update application – Certificates and secrets management.",
            json!([{"displayName": "Old App", "id": "obj-3", "modifiedProperties": [keys("[\"[KeyIdentifier=cccc-1]\",\"[KeyIdentifier=cccc-2]\"]", "[\"[KeyIdentifier=cccc-2]\"]")]}]),
            None,
        );
        let empty = audit(
            "a4",
            "2026-10-01T10:00:00Z",
            "Create application – Certificates and secrets management ",
            json!([{"displayName": "ChatGPT for Excel", "modifiedProperties": [keys("[]", "[]")]}]),
            None,
        );
        // A service principal's audit names only the key added: an empty
        // old value does not mean it held none.
        let sp_add = audit(
            "a5",
            "2026-10-01T10:00:00Z",
            "Add service principal credentials",
            json!([{"displayName": "HR Sync", "id": "sp-1", "modifiedProperties": [keys("[]", "[\"[KeyIdentifier=aaaa-1,KeyType=Password]\"]")]}]),
            None,
        );
        let found = run(&[first, more, removal, empty, sp_add]);
        let cred: Vec<&Finding> = found
            .iter()
            .filter(|f| f.detection == "audit.app-credential-added")
            .collect();
        assert_eq!(cred.len(), 3, "{found:#?}");
        let sp = cred.iter().find(|f| f.evidence == ["a5"]).unwrap();
        assert!(
            sp.explanation.contains("does not list what it held before"),
            "{}",
            sp.explanation
        );
        let hr = cred
            .iter()
            .find(|f| f.explanation.contains("HR Sync") && f.evidence == ["a1"])
            .unwrap();
        assert!(hr.explanation.contains("its first"), "{}", hr.explanation);
        assert!(hr.entities.iter().any(|e| e.value == "aaaa-1"));
        let payroll = cred
            .iter()
            .find(|f| f.explanation.contains("Payroll"))
            .unwrap();
        assert!(
            payroll.explanation.contains("already had 1"),
            "{}",
            payroll.explanation
        );
        assert!(payroll.explanation.contains("bbbb-2") && !payroll.explanation.contains("bbbb-1,"));
    }

    #[test]
    fn credential_after_consent_and_promotion_after_role_grant_are_joined() {
        let consent = audit(
            "g1",
            "2026-10-01T09:00:00Z",
            "Consent to application",
            json!([{"displayName": "Mail Helper", "id": "sp-9", "modifiedProperties": [
                {"displayName": "ConsentAction.Permissions", "oldValue": "", "newValue": "[[Scope: Mail.Read offline_access]]"}]}]),
            None,
        );
        let cred = audit(
            "c1",
            "2026-10-02T09:00:00Z",
            "Add service principal credentials",
            json!([{"displayName": "Mail Helper", "id": "sp-9", "modifiedProperties": [keys("[]", "[\"[KeyIdentifier=dddd-1]\"]")]}]),
            None,
        );
        let role_grant = audit(
            "g2",
            "2026-10-03T09:00:00Z",
            "Add app role assignment to service principal",
            json!([{"displayName": "Microsoft Graph", "id": "graph-sp"}, {"displayName": "Automation", "id": "sp-7", "modifiedProperties": [
                {"displayName": "AppRole.Value", "oldValue": null, "newValue": "\"RoleManagement.ReadWrite.Directory\""}]}]),
            None,
        );
        let promote = audit(
            "r1",
            "2026-10-03T10:00:00Z",
            "Add member to role",
            json!([{"userPrincipalName": "new.admin@contoso.com", "modifiedProperties": [
                {"displayName": "Role.DisplayName", "oldValue": "", "newValue": "\"Global Administrator\""}]}]),
            Some("Automation"),
        );
        // A grant of reading rights only does not make a promotion suspect.
        let found = run(&[consent, cred, role_grant, promote]);
        let after = found
            .iter()
            .find(|f| f.detection == "audit.credential-after-consent")
            .expect("joined");
        assert!(
            after.explanation.contains("Mail.Read"),
            "{}",
            after.explanation
        );
        assert_eq!(after.evidence, vec!["g1", "c1"]);
        let promoted = found
            .iter()
            .find(|f| f.detection == "audit.app-promoted-after-role-grant")
            .expect("joined");
        assert!(
            promoted.explanation.contains("new.admin@contoso.com")
                && promoted.explanation.contains("Global Administrator")
        );
        assert_eq!(promoted.severity, Severity::Critical);
    }

    #[test]
    fn whole_words_only() {
        use super::super::rule::has_term;
        assert!(has_term("User.Read Mail.Read", "Mail.Read"));
        assert!(!has_term("Mail.ReadBasic", "Mail.Read"));
        assert!(has_term("\"Mail.Read\"", "mail.read"));
    }
}
