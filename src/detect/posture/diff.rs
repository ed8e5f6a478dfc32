//! Two snapshots compared: what was added to or removed from the tenant
//! between them (credentials, permissions, grants, role holders,
//! federation settings, conditional access, domains, users). A change the
//! attacker makes during the response is found here even when its audit
//! event never arrives.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::checks::{credentials, is_high_risk};
use super::{Part, Snapshot, text};
use crate::detect::catalogue::Catalogue;
use crate::detect::{Entity, Finding};
use crate::model::Severity;

/// What comparing two snapshots found.
#[derive(Debug, Default)]
pub struct Changes {
    pub findings: Vec<Finding>,
    /// Parts one of the two snapshots lacks, so their changes are unknown.
    pub not_compared: Vec<String>,
}

struct Kind {
    id: &'static str,
    title: &'static str,
    techniques: &'static [&'static str],
    remediation: &'static [&'static str],
    rationale: &'static str,
}

const CREDENTIAL: Kind = Kind {
    id: "posture.diff.credential-added",
    title: "Credential added to an app since the earlier snapshot",
    techniques: &["T1098.001"],
    remediation: &["remove-added-credentials", "review-app-permissions"],
    rationale: "A secret or certificate that appeared between two snapshots was added during the response window; unless the team added it, someone is keeping a way in.",
};
const CREDENTIAL_GONE: Kind = Kind {
    id: "posture.diff.credential-removed",
    title: "Credential removed from an app since the earlier snapshot",
    techniques: &[],
    remediation: &[],
    rationale: "Removals are usually the response's own work; listed so each can be matched to a checklist action.",
};
const APP_PERMISSION: Kind = Kind {
    id: "posture.diff.app-permission-added",
    title: "Application permission granted since the earlier snapshot",
    techniques: &["T1098.003"],
    remediation: &["review-app-permissions", "remove-risky-grants"],
    rationale: "An application permission needs no user to use it: granted during the response, it is a new way in unless the team granted it.",
};
const GRANT: Kind = Kind {
    id: "posture.diff.grant-added",
    title: "Delegated permission consented since the earlier snapshot",
    techniques: &["T1528"],
    remediation: &["review-app-permissions", "remove-risky-grants"],
    rationale: "A consent given during the response lets the app act as the users it covers; attackers use illicit consent to keep reading mail.",
};
const ROLE: Kind = Kind {
    id: "posture.diff.role-member-added",
    title: "Directory role given since the earlier snapshot",
    techniques: &["T1098.003"],
    remediation: &["review-privileged-roles", "remove-unneeded-admins"],
    rationale: "A role holder who appeared during the response must be someone the team added; otherwise the attacker has given themselves power again.",
};
const FEDERATION: Kind = Kind {
    id: "posture.diff.federation-changed",
    title: "Federation settings changed since the earlier snapshot",
    techniques: &["T1484.002"],
    remediation: &["review-federation-trust", "remove-trust"],
    rationale: "A changed issuer or signing certificate decides whose tokens Entra ID accepts; any change the team did not make is a forged-token backdoor.",
};
const DOMAIN: Kind = Kind {
    id: "posture.diff.domain-changed",
    title: "Domain added or its authentication changed since the earlier snapshot",
    techniques: &["T1484.002"],
    remediation: &["review-federation-trust"],
    rationale: "A new domain, or one switched to federated, can be trusted to an identity provider the attacker runs.",
};
const CONDITIONAL_ACCESS: Kind = Kind {
    id: "posture.diff.conditional-access-changed",
    title: "Conditional access weakened since the earlier snapshot",
    techniques: &["T1556.009"],
    remediation: &["review-conditional-access"],
    rationale: "A policy removed, switched off or edited during the response may be the attacker making room for their own sign-ins.",
};
const TENANT_POLICY: Kind = Kind {
    id: "posture.diff.tenant-policy-changed",
    title: "Tenant-wide policy changed since the earlier snapshot",
    techniques: &["T1556", "T1484"],
    remediation: &["review-conditional-access", "review-app-permissions"],
    rationale: "Who may consent, invite, register methods or take over accounts by sync, how long tokens live, what PIM asks before Global Administrator: a change to these during the response may be the attacker opening a way back, and no audit event is needed to see it here.",
};
const USER: Kind = Kind {
    id: "posture.diff.user-added",
    title: "Account created since the earlier snapshot",
    techniques: &["T1136.003"],
    remediation: &["review-new-accounts"],
    rationale: "New accounts during an incident must each be explained; attackers create cloud accounts to come back with.",
};
const OWNER: Kind = Kind {
    id: "posture.diff.owner-added",
    title: "Owner added to an app registration since the earlier snapshot",
    techniques: &["T1098"],
    remediation: &["review-app-permissions"],
    rationale: "An app's owner can add credentials to it at will; a new owner of an app with broad permissions is a quiet way back in.",
};
const APP: Kind = Kind {
    id: "posture.diff.app-added",
    title: "App or service principal added since the earlier snapshot",
    techniques: &["T1098.001"],
    remediation: &["review-app-permissions"],
    rationale: "An app registered or consented to during the response is a place to hang credentials and permissions.",
};

struct Builder<'a> {
    old_at: String,
    at: Option<String>,
    out: Vec<Finding>,
    old: &'a Snapshot,
    new: &'a Snapshot,
}

impl Builder<'_> {
    fn push(
        &mut self,
        kind: &Kind,
        severity: Severity,
        key: &str,
        explanation: String,
        entities: Vec<(&str, String)>,
        evidence: &str,
    ) {
        let mut entities: Vec<Entity> = entities
            .into_iter()
            .filter(|(_, v)| !v.is_empty())
            .map(|(field, value)| Entity {
                field: field.to_owned(),
                value,
            })
            .collect();
        entities.sort();
        entities.dedup();
        self.out.push(Finding {
            id: crate::detect::finding_id(kind.id, key),
            detection: kind.id.to_owned(),
            severity,
            title: kind.title.to_owned(),
            techniques: kind.techniques.iter().map(|t| t.to_string()).collect(),
            entities,
            evidence: if evidence.is_empty() {
                Vec::new()
            } else {
                vec![evidence.to_owned()]
            },
            count: 1,
            first_seen: Some(self.old_at.clone()).filter(|s| s != "?"),
            last_seen: self.at.clone(),
            remediation: kind.remediation.iter().map(|r| r.to_string()).collect(),
            explanation: format!(
                "{explanation} (compared with the snapshot of {}).",
                self.old_at
            ),
            rationale: kind.rationale.to_owned(),
            verdict: None,
        });
    }

    /// Both snapshots hold the part; else it is noted as not compared.
    fn both(&self, part: Part, not_compared: &mut Vec<String>) -> bool {
        let ok = self.old.has(part) && self.new.has(part);
        if !ok {
            not_compared.push(part.name().to_owned());
        }
        ok
    }
}

fn by_id(list: &[Value]) -> BTreeMap<&str, &Value> {
    list.iter()
        .filter_map(|v| Some((text(v, "id")?, v)))
        .collect()
}

/// What changed from `old` to `new`.
pub fn compare(old: &Snapshot, new: &Snapshot) -> Changes {
    let iso = |t: Option<jiff::Timestamp>| t.map(crate::model::de::graph_time);
    let mut b = Builder {
        old_at: iso(old.taken_at).unwrap_or_else(|| "?".into()),
        at: iso(new.taken_at),
        out: Vec::new(),
        old,
        new,
    };
    let mut not_compared = Vec::new();
    let names: BTreeMap<&str, &str> = new
        .list(Part::ServicePrincipals)
        .iter()
        .chain(old.list(Part::ServicePrincipals))
        .chain(new.list(Part::Users))
        .chain(old.list(Part::Users))
        .filter_map(|v| {
            Some((
                text(v, "id")?,
                text(v, "userPrincipalName").or_else(|| text(v, "displayName"))?,
            ))
        })
        .collect();
    let name = |id: &str| names.get(id).copied().unwrap_or(id).to_owned();

    for part in [Part::Applications, Part::ServicePrincipals] {
        if b.both(part, &mut not_compared) {
            credentials_changed(&mut b, part);
        }
    }
    if old.has(Part::Applications) && new.has(Part::Applications) {
        owners_changed(&mut b, &mut not_compared);
    }
    if b.both(Part::AppRoleAssignments, &mut not_compared) {
        let before = by_id(old.list(Part::AppRoleAssignments));
        for (id, a) in by_id(new.list(Part::AppRoleAssignments)) {
            if before.contains_key(id) {
                continue;
            }
            let role = text(a, "appRoleId").unwrap_or("");
            let permission = Catalogue::shared().permission(role);
            let severity = match permission {
                Some(p) if is_high_risk(p) => Severity::High,
                _ => Severity::Medium,
            };
            let what = permission.map_or_else(
                || format!("app role {role}"),
                |p| format!("{} ({})", p.name, p.reach),
            );
            let principal = text(a, "principalDisplayName")
                .map(str::to_owned)
                .unwrap_or_else(|| name(text(a, "principalId").unwrap_or("")));
            let resource = text(a, "resourceDisplayName")
                .map(str::to_owned)
                .unwrap_or_else(|| name(text(a, "resourceId").unwrap_or("")));
            b.push(
                &APP_PERMISSION,
                severity,
                id,
                format!("{principal} was granted {what} on {resource}"),
                vec![
                    ("targetResources.displayName", principal.clone()),
                    (
                        "permission",
                        permission.map(|p| p.name.clone()).unwrap_or_default(),
                    ),
                ],
                id,
            );
        }
    }
    if b.both(Part::Grants, &mut not_compared) {
        let before = by_id(old.list(Part::Grants));
        for (id, g) in by_id(new.list(Part::Grants)) {
            let scopes = |v: Option<&&Value>| -> BTreeSet<String> {
                v.and_then(|v| text(v, "scope"))
                    .unwrap_or("")
                    .split_whitespace()
                    .map(str::to_owned)
                    .collect()
            };
            let added: Vec<String> = scopes(Some(&g))
                .difference(&scopes(before.get(id)))
                .cloned()
                .collect();
            if added.is_empty() {
                continue;
            }
            let risky = added
                .iter()
                .any(|s| Catalogue::shared().permission(s).is_some_and(is_high_risk));
            let client = name(text(g, "clientId").unwrap_or(""));
            let everyone = text(g, "consentType") == Some("AllPrincipals");
            b.push(
                &GRANT,
                if risky {
                    Severity::High
                } else {
                    Severity::Medium
                },
                &format!("{id}:{}", added.join(" ")),
                format!(
                    "{client} was given {} {}",
                    added.join(" "),
                    if everyone {
                        "for every user".to_owned()
                    } else {
                        format!("for {}", name(text(g, "principalId").unwrap_or("one user")))
                    }
                ),
                vec![("targetResources.displayName", client.clone())],
                id,
            );
        }
    }
    if b.both(Part::RoleAssignments, &mut not_compared) {
        // Who holds which role, where, and how (active or eligible): an
        // eligible admin made permanent, or a role scoped to an
        // administrative unit made tenant-wide, is a change too.
        let key = |a: &'_ Value, eligible: bool| -> Option<(String, String, String, bool)> {
            Some((
                text(a, "principalId")?.to_owned(),
                text(a, "roleDefinitionId")?.to_lowercase(),
                text(a, "directoryScopeId").unwrap_or("/").to_owned(),
                eligible,
            ))
        };
        let held = |s: &Snapshot| -> BTreeSet<(String, String, String, bool)> {
            s.list(Part::RoleAssignments)
                .iter()
                .filter_map(|a| key(a, false))
                .chain(
                    s.list(Part::RoleEligibilities)
                        .iter()
                        .filter_map(|a| key(a, true)),
                )
                .collect()
        };
        let before = held(old);
        let now = held(new);
        for (principal, role, scope, eligible) in now.difference(&before) {
            let (principal, role) = (principal.as_str(), role.as_str());
            // An eligible admin activating the role through PIM is PIM at
            // work, not a change to the tenant.
            let activation = !eligible
                && now.contains(&(principal.to_owned(), role.to_owned(), scope.clone(), true));
            let eligible = *eligible;
            let list = if eligible {
                new.list(Part::RoleEligibilities)
            } else {
                new.list(Part::RoleAssignments)
            };
            let object_id = list
                .iter()
                .find(|a| {
                    text(a, "principalId") == Some(principal)
                        && text(a, "roleDefinitionId").is_some_and(|r| r.eq_ignore_ascii_case(role))
                })
                .and_then(|a| text(a, "id"))
                .unwrap_or("")
                .to_owned();
            let privileged = crate::model::roles::is_privileged_template(role);
            let role_name = crate::model::roles::PRIVILEGED_ROLES
                .iter()
                .find(|(id, _)| id.eq_ignore_ascii_case(role))
                .map_or_else(|| format!("role {role}"), |(_, n)| (*n).to_owned());
            let severity = match (activation, privileged) {
                (true, _) => Severity::Info,
                (false, true) => Severity::High,
                (false, false) => Severity::Medium,
            };
            let how = match (activation, eligible) {
                (true, _) => " (activated through PIM)",
                (false, true) => " (eligible)",
                (false, false) => " (active)",
            };
            let scope_text = if scope == "/" {
                String::new()
            } else {
                format!(" in scope {scope}")
            };
            b.push(
                &ROLE,
                severity,
                &format!("{principal}:{role}:{scope}:{eligible}"),
                format!("{} now holds {role_name}{how}{scope_text}", name(principal)),
                vec![
                    ("targetResources.userPrincipalName", name(principal)),
                    ("role", role_name.clone()),
                ],
                &object_id,
            );
        }
    }
    if b.both(Part::Domains, &mut not_compared) {
        let before = by_id(old.list(Part::Domains));
        for (id, d) in by_id(new.list(Part::Domains)) {
            let auth = text(d, "authenticationType").unwrap_or("?");
            match before.get(id) {
                None => b.push(
                    &DOMAIN,
                    Severity::Medium,
                    id,
                    format!("The domain {id} was added ({auth})"),
                    vec![("targetResources.displayName", id.to_owned())],
                    id,
                ),
                Some(was) if text(was, "authenticationType") != Some(auth) => {
                    let federated = auth.eq_ignore_ascii_case("federated");
                    b.push(
                        &DOMAIN,
                        if federated {
                            Severity::Critical
                        } else {
                            Severity::Info
                        },
                        &format!("{id}:{auth}"),
                        format!(
                            "{id} changed from {} to {auth} authentication",
                            text(was, "authenticationType").unwrap_or("?")
                        ),
                        vec![("targetResources.displayName", id.to_owned())],
                        id,
                    );
                }
                Some(_) => {}
            }
        }
    }
    if old.has(Part::Federation) || new.has(Part::Federation) {
        federation_changed(&mut b);
    }
    if b.both(Part::ConditionalAccess, &mut not_compared) {
        conditional_access_changed(&mut b);
    }
    if b.both(Part::Users, &mut not_compared) {
        let before = by_id(old.list(Part::Users));
        for (id, u) in by_id(new.list(Part::Users)) {
            if before.contains_key(id) {
                continue;
            }
            let upn = text(u, "userPrincipalName").unwrap_or(id);
            b.push(
                &USER,
                Severity::Medium,
                id,
                format!(
                    "{upn} was created ({})",
                    text(u, "userType").unwrap_or("Member")
                ),
                vec![("targetResources.userPrincipalName", upn.to_owned())],
                id,
            );
        }
    }
    if b.both(Part::ServicePrincipals, &mut Vec::new()) {
        let before = by_id(old.list(Part::ServicePrincipals));
        for (id, sp) in by_id(new.list(Part::ServicePrincipals)) {
            if before.contains_key(id) {
                continue;
            }
            let display = text(sp, "displayName").unwrap_or(id);
            b.push(
                &APP,
                Severity::Low,
                id,
                format!(
                    "The service principal {display} (appId {}) appeared",
                    text(sp, "appId").unwrap_or("?")
                ),
                vec![("targetResources.displayName", display.to_owned())],
                id,
            );
        }
    }
    if let (Some(was), Some(now)) = (
        old.list(Part::SecurityDefaults).first(),
        new.list(Part::SecurityDefaults).first(),
    ) && super::flag(was, "isEnabled") == Some(true)
        && super::flag(now, "isEnabled") == Some(false)
    {
        b.push(
            &CONDITIONAL_ACCESS,
            Severity::High,
            "security-defaults",
            "Security defaults were turned off".into(),
            Vec::new(),
            text(now, "id").unwrap_or(""),
        );
    }
    tenant_policies_changed(&mut b, &mut not_compared);
    not_compared.sort();
    not_compared.dedup();
    Changes {
        findings: b.out,
        not_compared,
    }
}

fn credentials_changed(b: &mut Builder, part: Part) {
    let what = if part == Part::Applications {
        "application"
    } else {
        "service principal"
    };
    let before: BTreeMap<&str, BTreeSet<String>> = b
        .old
        .list(part)
        .iter()
        .filter_map(|o| {
            Some((
                text(o, "id")?,
                credentials(o)
                    .into_iter()
                    .map(|(k, _, _)| k.to_lowercase())
                    .collect(),
            ))
        })
        .collect();
    let mut found = Vec::new();
    for object in b.new.list(part) {
        let Some(id) = text(object, "id") else {
            continue;
        };
        let display = text(object, "displayName").unwrap_or(id).to_owned();
        let app_id = text(object, "appId").unwrap_or("").to_owned();
        let had = before.get(id);
        let now: BTreeSet<String> = credentials(object)
            .iter()
            .map(|(k, _, _)| k.to_lowercase())
            .collect();
        for (key, label, start) in credentials(object) {
            if had.is_some_and(|h| h.contains(&key.to_lowercase())) {
                continue;
            }
            let since = start
                .map(|s| format!(", valid from {}", crate::model::de::graph_time(s)))
                .unwrap_or_default();
            found.push((
                &CREDENTIAL,
                Severity::High,
                format!("{id}:{key}"),
                format!(
                    "A {label} (keyId {key}{since}) appeared on the {what} {display}{}",
                    if had.is_none() {
                        ", which is itself new"
                    } else {
                        ""
                    }
                ),
                vec![
                    ("targetResources.displayName", display.clone()),
                    ("keyId", key.clone()),
                    ("appId", app_id.clone()),
                ],
                id.to_owned(),
            ));
        }
        for gone in had.into_iter().flatten().filter(|k| !now.contains(*k)) {
            found.push((
                &CREDENTIAL_GONE,
                Severity::Info,
                format!("{id}:{gone}:gone"),
                format!("The credential {gone} is no longer on the {what} {display}"),
                vec![
                    ("targetResources.displayName", display.clone()),
                    ("keyId", gone.clone()),
                ],
                id.to_owned(),
            ));
        }
    }
    for (kind, severity, key, text, entities, evidence) in found {
        b.push(kind, severity, &key, text, entities, &evidence);
    }
}

/// Owners of app registrations, where both snapshots list them
/// (`$expand=owners`).
fn owners_changed(b: &mut Builder, not_compared: &mut Vec<String>) {
    let owners = |app: &Value| -> Option<BTreeMap<String, String>> {
        let list = app.get("owners")?.as_array()?;
        Some(
            list.iter()
                .filter_map(|o| {
                    let id = text(o, "id")?.to_owned();
                    let name = text(o, "userPrincipalName")
                        .or_else(|| text(o, "displayName"))
                        .unwrap_or(&id)
                        .to_owned();
                    Some((id, name))
                })
                .collect(),
        )
    };
    let before: BTreeMap<&str, Option<BTreeMap<String, String>>> = b
        .old
        .list(Part::Applications)
        .iter()
        .filter_map(|a| Some((text(a, "id")?, owners(a))))
        .collect();
    let mut found = Vec::new();
    let mut unknown = false;
    for app in b.new.list(Part::Applications) {
        let Some(id) = text(app, "id") else { continue };
        let Some(now) = owners(app) else {
            unknown = true;
            continue;
        };
        let had = match before.get(id) {
            Some(Some(had)) => had.clone(),
            Some(None) => {
                unknown = true;
                continue;
            }
            // A new registration: its owners come with it.
            None => continue,
        };
        let display = text(app, "displayName").unwrap_or(id).to_owned();
        for (owner, name) in now.iter().filter(|(o, _)| !had.contains_key(*o)) {
            found.push((
                format!("{id}:{owner}"),
                format!("{name} became an owner of the app registration {display}"),
                vec![
                    ("targetResources.displayName", display.clone()),
                    ("owner", name.clone()),
                ],
                id.to_owned(),
            ));
        }
    }
    if unknown {
        not_compared.push("application owners".into());
    }
    for (key, explanation, entities, evidence) in found {
        b.push(
            &OWNER,
            Severity::High,
            &key,
            explanation,
            entities,
            &evidence,
        );
    }
}

const FEDERATION_FIELDS: &[&str] = &[
    "issuerUri",
    "signingCertificate",
    "nextSigningCertificate",
    "federatedIdpMfaBehavior",
    "passiveSignInUri",
    "activeSignInUri",
    "metadataExchangeUri",
    "signOutUri",
    "preferredAuthenticationProtocol",
];

fn federation_changed(b: &mut Builder) {
    let key = |(domain, v): &(Option<String>, Value)| {
        domain
            .clone()
            .or_else(|| text(v, "id").map(str::to_owned))
            .unwrap_or_default()
            .to_lowercase()
    };
    let before: BTreeMap<String, &Value> =
        b.old.federation.iter().map(|f| (key(f), &f.1)).collect();
    let mut found = Vec::new();
    for f in &b.new.federation {
        let domain = key(f);
        let now = &f.1;
        match before.get(&domain) {
            None if b.old.has(Part::Federation) => found.push((
                format!("{domain}:new"),
                format!(
                    "{domain} has federation settings it did not have (issuer {})",
                    text(now, "issuerUri").unwrap_or("?")
                ),
            )),
            None => {}
            Some(was) => {
                let changed: Vec<String> = FEDERATION_FIELDS
                    .iter()
                    .filter(|field| text(was, field) != text(now, field))
                    .map(|field| match *field {
                        "signingCertificate" | "nextSigningCertificate" => format!(
                            "{field} (now {})",
                            text(now, field).map(short).unwrap_or_else(|| "none".into())
                        ),
                        _ => format!(
                            "{field} from {} to {}",
                            text(was, field).unwrap_or("none"),
                            text(now, field).unwrap_or("none")
                        ),
                    })
                    .collect();
                if !changed.is_empty() {
                    found.push((
                        format!("{domain}:{}", changed.join(",")),
                        format!(
                            "{domain}'s federation settings changed: {}",
                            changed.join("; ")
                        ),
                    ));
                }
            }
        }
    }
    for (key, explanation) in found {
        let domain = key.split(':').next().unwrap_or("").to_owned();
        b.push(
            &FEDERATION,
            Severity::Critical,
            &key,
            explanation,
            vec![("targetResources.displayName", domain)],
            "",
        );
    }
}

/// The start of a certificate blob, enough to tell two apart.
fn short(blob: &str) -> String {
    let tail: String = blob
        .chars()
        .rev()
        .take(12)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    format!("…{tail}")
}

fn conditional_access_changed(b: &mut Builder) {
    let before = by_id(b.old.list(Part::ConditionalAccess));
    let now = by_id(b.new.list(Part::ConditionalAccess));
    let mut found = Vec::new();
    for (id, was) in &before {
        let name = text(was, "displayName").unwrap_or(id).to_owned();
        match now.get(id) {
            None => found.push((
                Severity::High,
                format!("{id}:removed"),
                format!("The policy \"{name}\" was deleted"),
                name,
            )),
            Some(policy) => {
                let (state_was, state) = (
                    text(was, "state").unwrap_or("?"),
                    text(policy, "state").unwrap_or("?"),
                );
                if state_was != state {
                    let weaker = state_was == "enabled";
                    found.push((
                        if weaker {
                            Severity::High
                        } else {
                            Severity::Info
                        },
                        format!("{id}:{state}"),
                        format!("The policy \"{name}\" went from {state_was} to {state}"),
                        name,
                    ));
                } else if strip_times(was) != strip_times(policy) {
                    found.push((
                        Severity::Medium,
                        format!(
                            "{id}:edited:{}",
                            text(policy, "modifiedDateTime").unwrap_or("")
                        ),
                        format!("The policy \"{name}\" was edited (conditions or controls differ)"),
                        name,
                    ));
                }
            }
        }
    }
    for (severity, key, explanation, name) in found {
        b.push(
            &CONDITIONAL_ACCESS,
            severity,
            &key,
            explanation,
            vec![("policy", name)],
            key.split(':').next().unwrap_or(""),
        );
    }
}

/// The tenant-wide policies (each object by id): any change is named with
/// the top-level settings that differ.
fn tenant_policies_changed(b: &mut Builder, not_compared: &mut Vec<String>) {
    let parts = [
        Part::AuthorizationPolicy,
        Part::AdminConsentPolicy,
        Part::AuthMethodsPolicy,
        Part::AppManagementPolicy,
        Part::CrossTenantDefault,
        Part::TokenLifetimePolicies,
        Part::OnPremisesSync,
        Part::RoleManagementPolicies,
    ];
    let mut found = Vec::new();
    for part in parts {
        if !b.both(part, not_compared) {
            continue;
        }
        // Single objects may come without an id: the part is the key.
        let keyed = |list: &'_ [Value]| -> Vec<(String, Value)> {
            list.iter()
                .map(|v| {
                    let id = text(v, "id").unwrap_or(part.name()).to_owned();
                    (id, strip_times(v))
                })
                .collect()
        };
        let before = keyed(b.old.list(part));
        let now = keyed(b.new.list(part));
        for (id, policy) in &now {
            let was = before.iter().find(|(i, _)| i == id).map(|(_, v)| v);
            let changed: Vec<&str> = match (was, policy) {
                (Some(Value::Object(was)), Value::Object(policy)) => policy
                    .iter()
                    .filter(|(k, v)| was.get(k.as_str()) != Some(v))
                    .map(|(k, _)| k.as_str())
                    .chain(
                        was.keys()
                            .filter(|k| !policy.contains_key(*k))
                            .map(String::as_str),
                    )
                    .collect(),
                (None, _) => vec!["(new)"],
                _ => Vec::new(),
            };
            if !changed.is_empty() {
                found.push((
                    format!("{}:{id}", part.name()),
                    format!(
                        "{} changed: {}",
                        capitalised(part.name()),
                        changed.join(", ")
                    ),
                    part.name(),
                    id.clone(),
                ));
            }
        }
    }
    for (key, explanation, name, id) in found {
        b.push(
            &TENANT_POLICY,
            Severity::Medium,
            &key,
            explanation,
            vec![("policy", name.to_owned())],
            &id,
        );
    }
}

fn capitalised(text: &str) -> String {
    let mut c = text.chars();
    c.next()
        .map(|first| first.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

/// A policy without the fields that change on every save.
fn strip_times(policy: &Value) -> Value {
    let mut p = policy.clone();
    if let Value::Object(map) = &mut p {
        for k in [
            "modifiedDateTime",
            "lastModifiedDateTime",
            "@warroom.snapshotAt",
            "@warroom.source",
            "@odata.context",
        ] {
            map.remove(k);
        }
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn snapshot(invites: &str, lifetime: &str) -> Snapshot {
        Snapshot::from_lines(vec![
            json!({"@odata.type": "#microsoft.graph.authorizationPolicy", "id": "authorizationPolicy",
                "allowInvitesFrom": invites, "blockMsolPowerShell": true,
                "defaultUserRolePermissions": {"allowedToCreateApps": false}}),
            json!({"@odata.type": "#microsoft.graph.tokenLifetimePolicy", "id": "t1",
                "definition": [format!("{{\"TokenLifetimePolicy\":{{\"AccessTokenLifetime\":\"{lifetime}\"}}}}")],
                "isOrganizationDefault": true, "displayName": "tokens"}),
        ])
    }

    #[test]
    fn a_tenant_policy_changed_names_the_settings_that_differ() {
        let before = snapshot("adminsAndGuestInviters", "1:00:00");
        let same = compare(&before, &snapshot("adminsAndGuestInviters", "1:00:00"));
        assert!(
            same.findings
                .iter()
                .all(|f| f.detection != TENANT_POLICY.id),
            "{:?}",
            same.findings
        );
        let changed = compare(&before, &snapshot("everyone", "8:00:00"));
        let texts: Vec<&str> = changed
            .findings
            .iter()
            .filter(|f| f.detection == TENANT_POLICY.id)
            .map(|f| f.explanation.as_str())
            .collect();
        assert_eq!(texts.len(), 2, "{texts:?}");
        assert!(
            texts
                .iter()
                .any(|t| t.contains("authorization policy changed: allowInvitesFrom")),
            "{texts:?}"
        );
        assert!(
            texts
                .iter()
                .any(|t| t.contains("Token lifetime policies") && t.contains("definition"))
        );
    }
}
