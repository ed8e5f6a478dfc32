//! A directory snapshot as the posture review reads it: objects sorted
//! into the parts Graph serves them from, whichever way they arrived
//! (`warroom pull --streams directory`, the console's own snapshot, or
//! Graph pages saved by hand or by another tool), with what the snapshot
//! lacks kept apart so a check can answer "unknown" instead of "pass".

use std::collections::{BTreeMap, BTreeSet};

use jiff::Timestamp;
use serde_json::Value;

/// The parts of a directory a snapshot can hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Part {
    Users,
    Groups,
    RoleDefinitions,
    RoleAssignments,
    RoleEligibilities,
    RoleInstances,
    Applications,
    ServicePrincipals,
    Grants,
    AppRoleAssignments,
    Domains,
    Federation,
    ConditionalAccess,
    SecurityDefaults,
    AuthMethods,
    /// The tenant's authorization policy: user consent, app registration,
    /// guest access and invitations, legacy PowerShell.
    AuthorizationPolicy,
    AdminConsentPolicy,
    /// Which authentication methods the tenant allows, and how.
    AuthMethodsPolicy,
    /// The tenant's default app management policy (credential rules).
    AppManagementPolicy,
    /// Cross-tenant access settings for tenants without their own.
    CrossTenantDefault,
    TokenLifetimePolicies,
    /// Directory synchronization's settings and features.
    OnPremisesSync,
    /// PIM's rules for Global Administrator (approval, notifications).
    RoleManagementPolicies,
}

impl Part {
    /// What the part is called in a sentence ("the snapshot lacks …").
    pub fn name(self) -> &'static str {
        match self {
            Part::Users => "users",
            Part::Groups => "groups",
            Part::RoleDefinitions => "role definitions",
            Part::RoleAssignments => "role assignments",
            Part::RoleEligibilities => "PIM role eligibilities",
            Part::RoleInstances => "role assignment schedule instances",
            Part::Applications => "applications",
            Part::ServicePrincipals => "service principals",
            Part::Grants => "delegated permission grants",
            Part::AppRoleAssignments => "application permission assignments",
            Part::Domains => "domains",
            Part::Federation => "federation configuration",
            Part::ConditionalAccess => "conditional access policies",
            Part::SecurityDefaults => "the security defaults policy",
            Part::AuthMethods => "sign-in methods of privileged users",
            Part::AuthorizationPolicy => "the authorization policy",
            Part::AdminConsentPolicy => "the admin consent request policy",
            Part::AuthMethodsPolicy => "the authentication methods policy",
            Part::AppManagementPolicy => "the default app management policy",
            Part::CrossTenantDefault => "the default cross-tenant access settings",
            Part::TokenLifetimePolicies => "token lifetime policies",
            Part::OnPremisesSync => "the on-premises synchronization settings",
            Part::RoleManagementPolicies => "PIM's role management policies",
        }
    }

    /// The part a Graph path serves (`users`, `domains/x/federationConfiguration`,
    /// `servicePrincipals/{id}/appRoleAssignedTo`, …), ids and `$select`
    /// lists removed first.
    pub fn from_path(path: &str) -> Option<Part> {
        let path = path.split(['?', '#']).next().unwrap_or(path);
        let path = path.trim_start_matches('/');
        let path = path
            .strip_prefix("v1.0/")
            .or_else(|| path.strip_prefix("beta/"))
            .unwrap_or(path);
        let segments: Vec<&str> = path
            .split('/')
            .filter(|s| *s != "$entity")
            .map(entity_set)
            .collect();
        let last = *segments.last()?;
        Some(match (segments.first().copied()?, last) {
            (_, "federationConfiguration") => Part::Federation,
            (_, "appRoleAssignedTo" | "appRoleAssignments") => Part::AppRoleAssignments,
            (_, "methods") => Part::AuthMethods,
            (_, "identitySecurityDefaultsEnforcementPolicy") => Part::SecurityDefaults,
            (_, "authorizationPolicy") => Part::AuthorizationPolicy,
            (_, "adminConsentRequestPolicy") => Part::AdminConsentPolicy,
            (_, "authenticationMethodsPolicy") => Part::AuthMethodsPolicy,
            (_, "defaultAppManagementPolicy") => Part::AppManagementPolicy,
            (_, "default") if path.contains("crossTenantAccessPolicy") => Part::CrossTenantDefault,
            (_, "tokenLifetimePolicies") => Part::TokenLifetimePolicies,
            (_, "onPremisesSynchronization") => Part::OnPremisesSync,
            (_, "roleManagementPolicyAssignments" | "roleManagementPolicies") => {
                Part::RoleManagementPolicies
            }
            (_, "policies") if path.contains("conditionalAccess") => Part::ConditionalAccess,
            (_, "roleDefinitions") => Part::RoleDefinitions,
            (_, "roleAssignments") => Part::RoleAssignments,
            (_, "roleEligibilitySchedules" | "roleEligibilityScheduleInstances") => {
                Part::RoleEligibilities
            }
            (_, "roleAssignmentScheduleInstances" | "roleAssignmentSchedules") => {
                Part::RoleInstances
            }
            ("users", "users") => Part::Users,
            ("groups", "groups") => Part::Groups,
            ("applications", "applications") => Part::Applications,
            ("servicePrincipals", "servicePrincipals") => Part::ServicePrincipals,
            ("oauth2PermissionGrants", _) => Part::Grants,
            ("domains", "domains") => Part::Domains,
            _ => return None,
        })
    }

    /// The part an `@odata.type` names.
    fn from_type(kind: &str) -> Option<Part> {
        let kind = kind.trim_start_matches('#');
        let kind = kind.strip_prefix("microsoft.graph.").unwrap_or(kind);
        Some(match kind {
            "user" => Part::Users,
            "group" => Part::Groups,
            "unifiedRoleDefinition" => Part::RoleDefinitions,
            "unifiedRoleAssignment" => Part::RoleAssignments,
            "unifiedRoleEligibilitySchedule" | "unifiedRoleEligibilityScheduleInstance" => {
                Part::RoleEligibilities
            }
            "unifiedRoleAssignmentScheduleInstance" | "unifiedRoleAssignmentSchedule" => {
                Part::RoleInstances
            }
            "application" => Part::Applications,
            "servicePrincipal" => Part::ServicePrincipals,
            "oAuth2PermissionGrant" => Part::Grants,
            "appRoleAssignment" => Part::AppRoleAssignments,
            "domain" => Part::Domains,
            "internalDomainFederation" | "samlOrWsFedExternalDomainFederation" => Part::Federation,
            "conditionalAccessPolicy" => Part::ConditionalAccess,
            "identitySecurityDefaultsEnforcementPolicy" => Part::SecurityDefaults,
            "authorizationPolicy" => Part::AuthorizationPolicy,
            "adminConsentRequestPolicy" => Part::AdminConsentPolicy,
            "authenticationMethodsPolicy" => Part::AuthMethodsPolicy,
            "tenantAppManagementPolicy" => Part::AppManagementPolicy,
            "crossTenantAccessPolicyConfigurationDefault" => Part::CrossTenantDefault,
            "tokenLifetimePolicy" => Part::TokenLifetimePolicies,
            "onPremisesDirectorySynchronization" => Part::OnPremisesSync,
            "unifiedRoleManagementPolicyAssignment" => Part::RoleManagementPolicies,
            k if k.ends_with("AuthenticationMethod") => Part::AuthMethods,
            _ => return None,
        })
    }

    /// The part an object's fields say it belongs to, for objects that
    /// carry neither a path nor a type.
    fn from_shape(map: &serde_json::Map<String, Value>) -> Option<Part> {
        let has = |k: &str| map.contains_key(k);
        Some(if has("defaultUserRolePermissions") {
            Part::AuthorizationPolicy
        } else if has("applicationRestrictions") {
            Part::AppManagementPolicy
        } else if has("b2bCollaborationInbound") && has("isServiceDefault") {
            Part::CrossTenantDefault
        } else if has("definition") && has("isOrganizationDefault") {
            Part::TokenLifetimePolicies
        } else if has("features") && has("configuration") {
            Part::OnPremisesSync
        } else if has("policyId") && has("scopeType") {
            Part::RoleManagementPolicies
        } else if has("defaultUserRolePermissions") {
            Part::AuthorizationPolicy
        } else if has("authenticationMethodConfigurations") {
            Part::AuthMethodsPolicy
        } else if has("notifyReviewers") && has("reviewers") {
            Part::AdminConsentPolicy
        } else if has("consentType") && has("scope") {
            Part::Grants
        } else if has("appRoleId") && has("principalId") && has("resourceId") {
            Part::AppRoleAssignments
        } else if has("roleDefinitionId") && has("principalId") {
            if has("assignmentType") {
                Part::RoleInstances
            } else if has("scheduleInfo") || (has("status") && has("memberType")) {
                Part::RoleEligibilities
            } else {
                Part::RoleAssignments
            }
        } else if has("rolePermissions") || (has("isBuiltIn") && has("templateId")) {
            Part::RoleDefinitions
        } else if has("issuerUri") || has("signingCertificate") {
            Part::Federation
        } else if has("authenticationType") && (has("isVerified") || has("supportedServices")) {
            Part::Domains
        } else if has("conditions") && (has("grantControls") || has("state")) {
            Part::ConditionalAccess
        } else if has("servicePrincipalType")
            || has("appOwnerOrganizationId")
            || has("servicePrincipalNames")
        {
            Part::ServicePrincipals
        } else if has("appId")
            && (has("signInAudience") || has("requiredResourceAccess") || has("identifierUris"))
        {
            Part::Applications
        } else if has("userPrincipalName") {
            Part::Users
        } else if has("securityEnabled") || has("groupTypes") {
            Part::Groups
        } else if map.get("id").and_then(Value::as_str) == Some(SECURITY_DEFAULTS_ID) {
            Part::SecurityDefaults
        } else {
            return None;
        })
    }
}

/// The security defaults policy has this id in every tenant.
const SECURITY_DEFAULTS_ID: &str = "00000000-0000-0000-0000-000000000005";

/// A part Graph refused when the snapshot was taken, or a page saved
/// without the pages after it.
#[derive(Clone, Debug)]
pub struct Gap {
    pub part: Part,
    /// The Graph path it was read from, when known.
    pub source: String,
    pub status: u64,
    pub reason: String,
    /// The permission Graph said it needs, when it said.
    pub needs: String,
}

#[derive(Clone, Debug, Default)]
pub struct Snapshot {
    /// When it was taken (`@warroom.snapshotAt`), when known.
    pub taken_at: Option<Timestamp>,
    pub objects: BTreeMap<Part, Vec<Value>>,
    /// Federation settings by domain name (`None`: the file did not say
    /// which domain, as a saved `GET …/federationConfiguration` does not).
    pub federation: Vec<(Option<String>, Value)>,
    /// Sign-in methods by user id (`None`: not said, as in `/me/…`).
    pub methods: BTreeMap<Option<String>, Vec<Value>>,
    /// Parts read whole (a warroom snapshot marks each part it read, so
    /// an empty part is known to be empty rather than missing).
    pub complete: BTreeSet<Part>,
    /// The Graph paths marked as read whole.
    pub complete_sources: BTreeSet<String>,
    pub gaps: Vec<Gap>,
    /// Records that are no directory object (sign-ins in the same file).
    pub passed_over: u64,
}

/// What adding a document filed: objects, and pieces refused (why).
#[derive(Debug, Default)]
pub struct Added {
    pub records: u64,
    pub refused: Vec<String>,
}

impl Snapshot {
    pub fn list(&self, part: Part) -> &[Value] {
        self.objects.get(&part).map_or(&[], Vec::as_slice)
    }

    /// Whether the snapshot holds this part whole: objects of it, or a
    /// mark that it was read and held none, and no piece of it refused or
    /// left unread (a part read from several paths, such as the
    /// permissions held on each resource, is whole only if every path was
    /// read). A check on a part the snapshot does not hold whole is "not
    /// judged".
    pub fn has(&self, part: Part) -> bool {
        let partial = self
            .gaps
            .iter()
            .any(|g| g.part == part && !self.complete_sources.contains(&g.source));
        if partial {
            return false;
        }
        match part {
            Part::Federation => !self.federation.is_empty() || self.complete.contains(&part),
            Part::AuthMethods => !self.methods.is_empty() || self.complete.contains(&part),
            _ => self.objects.contains_key(&part) || self.complete.contains(&part),
        }
    }

    /// Why a part is missing, in words: Graph's refusal when there was one.
    pub fn lacking(&self, part: Part) -> String {
        let gap = self
            .gaps
            .iter()
            .find(|g| g.part == part && !self.complete_sources.contains(&g.source));
        match gap {
            Some(gap) if !gap.needs.is_empty() => format!(
                "the snapshot lacks {} (Graph refused: {}; it needs {})",
                part.name(),
                gap.reason,
                gap.needs
            ),
            Some(gap) if gap.status == 0 => {
                format!(
                    "the snapshot holds only part of {} ({})",
                    part.name(),
                    gap.reason
                )
            }
            Some(gap) => format!(
                "the snapshot lacks {} (Graph answered {}: {})",
                part.name(),
                gap.status,
                gap.reason
            ),
            None => format!("the snapshot holds no {}", part.name()),
        }
    }

    /// Every object in the lines of a snapshot (NDJSON from `pull`, or
    /// the console's snapshot task).
    pub fn from_lines(lines: impl IntoIterator<Item = Value>) -> Self {
        let mut snapshot = Self::default();
        for line in lines {
            snapshot.add(line, None);
        }
        snapshot.settle();
        snapshot
    }

    /// A whole JSON document read from `origin` (a file's name): a page
    /// (whose context names the part), the documentation's
    /// `{"value": {…}}` wrapper, an array, or one object.
    pub fn add_document(&mut self, value: Value, origin: &str) -> Added {
        let mut added = Added::default();
        self.add_document_to(value, origin, &mut added);
        added
    }

    fn add_document_to(&mut self, value: Value, origin: &str, added: &mut Added) {
        match value {
            Value::Array(items) => {
                for item in items {
                    self.add_document_to(item, origin, added);
                }
            }
            Value::Object(mut map) if map.contains_key("value") => {
                let context = map
                    .get("@odata.context")
                    .and_then(Value::as_str)
                    .map(str::to_owned);
                // A page with more after it: this file holds only part.
                if map.get("@odata.nextLink").is_some_and(Value::is_string) {
                    let first = match map.get("value") {
                        Some(Value::Array(items)) => items.first().cloned(),
                        _ => None,
                    };
                    if let Some(part) = context
                        .as_deref()
                        .map(|c| c.split_once("$metadata#").map_or(c, |(_, p)| p))
                        .and_then(Part::from_path)
                        .or_else(|| {
                            first
                                .as_ref()
                                .and_then(|f| f.as_object())
                                .and_then(Part::from_shape)
                        })
                    {
                        self.gaps.push(Gap {
                            part,
                            source: format!("{origin}#page"),
                            status: 0,
                            reason: format!(
                                "{origin} is one page of several (it has an @odata.nextLink)"
                            ),
                            needs: String::new(),
                        });
                    }
                }
                match map.remove("value") {
                    Some(Value::Array(items)) => {
                        for item in items {
                            added.records += 1;
                            self.add(item, context.as_deref());
                        }
                    }
                    Some(item @ Value::Object(_)) => {
                        added.records += 1;
                        self.add(item, context.as_deref());
                    }
                    _ => added
                        .refused
                        .push("a page whose value is neither a list nor an object".into()),
                }
            }
            other => {
                added.records += 1;
                self.add(other, None);
            }
        }
    }

    /// Files one object under its part: by the path warroom wrote, the
    /// page's context, its own `@odata.type`, or failing those its shape.
    fn add(&mut self, value: Value, page_context: Option<&str>) {
        let Value::Object(map) = &value else {
            self.passed_over += 1;
            return;
        };
        if let Some(at) = map.get("@warroom.snapshotAt").and_then(Value::as_str) {
            let at = crate::model::de::parse_time(at);
            self.taken_at = self.taken_at.max(at);
        }
        let source = map.get("@warroom.source").and_then(Value::as_str);
        let context = map
            .get("@odata.context")
            .and_then(Value::as_str)
            .or(page_context)
            .map(|c| c.split_once("$metadata#").map_or(c, |(_, path)| path));
        let path = source.or(context);
        let part = path
            .and_then(Part::from_path)
            .or_else(|| {
                map.get("@odata.type")
                    .or_else(|| map.get("odata.type"))
                    .and_then(Value::as_str)
                    .and_then(Part::from_type)
            })
            .or_else(|| Part::from_shape(map));
        let Some(part) = part else {
            self.passed_over += 1;
            return;
        };
        if let Some(gap) = map.get("@warroom.gap") {
            self.gaps.push(Gap {
                part,
                source: source.unwrap_or("").to_owned(),
                status: gap["status"].as_u64().unwrap_or(0),
                reason: gap["reason"].as_str().unwrap_or("").to_owned(),
                needs: gap["needs"].as_str().unwrap_or("").to_owned(),
            });
            return;
        }
        if map.contains_key("@warroom.part") {
            self.complete.insert(part);
            if let Some(source) = source {
                self.complete_sources.insert(source.to_owned());
            }
            return;
        }
        match part {
            Part::Federation => {
                let domain = path.and_then(|p| key_after(p, "domains"));
                self.federation.push((domain, value));
            }
            Part::AuthMethods => {
                let user = path.and_then(|p| key_after(p, "users"));
                self.methods.entry(user).or_default().push(value);
            }
            _ => self.objects.entry(part).or_default().push(value),
        }
    }

    /// After reading: the same object read twice (two parts, two files)
    /// counts once; federation settings whose domain was not said are
    /// matched to the one federated domain they can belong to.
    pub fn settle(&mut self) {
        for list in self.objects.values_mut() {
            let mut seen = BTreeSet::new();
            list.retain(|o| match o["id"].as_str() {
                Some(id) => seen.insert(id.to_owned()),
                None => true,
            });
        }
        let mut seen = BTreeSet::new();
        self.federation.retain(|(_, f)| match f["id"].as_str() {
            Some(id) => seen.insert(id.to_owned()),
            None => true,
        });
        let federated: Vec<String> = self
            .list(Part::Domains)
            .iter()
            .filter(|d| {
                d["authenticationType"]
                    .as_str()
                    .is_some_and(|t| t.eq_ignore_ascii_case("federated"))
            })
            .filter_map(|d| d["id"].as_str().map(str::to_owned))
            .collect();
        if federated.len() == 1 {
            for (domain, _) in &mut self.federation {
                domain.get_or_insert_with(|| federated[0].clone());
            }
        }
    }
}

/// `domains/contoso.com/…` or `domains('contoso.com')/…` → `contoso.com`.
fn key_after(path: &str, collection: &str) -> Option<String> {
    let mut segments = path.split('/');
    while let Some(segment) = segments.next() {
        if segment == collection {
            return segments.next().map(str::to_owned);
        }
        if let Some(rest) = segment.strip_prefix(collection)
            && let Some(key) = rest.strip_prefix("('").and_then(|r| r.strip_suffix("')"))
        {
            return Some(key.to_owned());
        }
    }
    None
}

/// `servicePrincipals('id')` or `users(displayName,…)` → the set's name.
fn entity_set(segment: &str) -> &str {
    segment.split('(').next().unwrap_or(segment)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parts_come_from_paths_contexts_types_and_shapes() {
        assert_eq!(
            Part::from_path("domains/contoso.com/federationConfiguration"),
            Some(Part::Federation)
        );
        assert_eq!(
            Part::from_path("servicePrincipals('8e88')/appRoleAssignedTo"),
            Some(Part::AppRoleAssignments)
        );
        assert_eq!(
            Part::from_path("users(displayName,userPrincipalName,signInActivity)"),
            Some(Part::Users)
        );
        assert_eq!(
            Part::from_path("roleManagement/directory/roleAssignmentScheduleInstances"),
            Some(Part::RoleInstances)
        );
        assert_eq!(
            Part::from_path("identity/conditionalAccess/policies"),
            Some(Part::ConditionalAccess)
        );
        assert_eq!(Part::from_path("auditLogs/signIns"), None);
        let s = Snapshot::from_lines([
            json!({"id": "g1", "clientId": "c", "consentType": "AllPrincipals", "scope": "Mail.Read"}),
            json!({"odata.type": "#microsoft.graph.passwordAuthenticationMethod", "id": "p"}),
            json!({"id": "x", "createdDateTime": "2026-01-01T00:00:00Z", "status": {}}),
        ]);
        assert_eq!(s.list(Part::Grants).len(), 1);
        assert_eq!(s.methods[&None].len(), 1);
        assert_eq!(s.passed_over, 1);
    }

    #[test]
    fn marks_and_gaps_tell_empty_from_missing() {
        let s = Snapshot::from_lines([
            json!({"id": "part:identity/conditionalAccess/policies", "@warroom.source": "identity/conditionalAccess/policies", "@warroom.part": {"objects": 0}}),
            json!({"id": "gap:users/u1/authentication/methods", "@warroom.source": "users/u1/authentication/methods", "@warroom.gap": {"status": 403, "reason": "denied", "needs": "UserAuthenticationMethod.Read.All"}}),
        ]);
        assert!(s.has(Part::ConditionalAccess));
        assert!(s.list(Part::ConditionalAccess).is_empty());
        assert!(!s.has(Part::AuthMethods));
        assert!(
            s.lacking(Part::AuthMethods)
                .contains("UserAuthenticationMethod.Read.All")
        );
        assert!(s.lacking(Part::Domains).contains("holds no domains"));
    }

    #[test]
    fn a_part_read_in_pieces_is_whole_only_if_every_piece_was_read() {
        let mark = |source: &str| json!({"id": format!("part:{source}"), "@warroom.source": source, "@warroom.part": {"objects": 1}});
        let gap = |source: &str| json!({"id": format!("gap:{source}"), "@warroom.source": source, "@warroom.gap": {"status": 403, "reason": "denied", "needs": "Application.Read.All"}});
        // Graph's holders read, Exchange's refused.
        let s = Snapshot::from_lines([
            mark("servicePrincipals/graph/appRoleAssignedTo"),
            gap("servicePrincipals/exchange/appRoleAssignedTo"),
        ]);
        assert!(!s.has(Part::AppRoleAssignments));
        assert!(
            s.lacking(Part::AppRoleAssignments)
                .contains("Application.Read.All")
        );
        // Users refused with their sign-in activity, then read without it.
        let s = Snapshot::from_lines([gap("users"), mark("users")]);
        assert!(s.has(Part::Users));
    }

    #[test]
    fn federation_settings_find_their_domain() {
        let s = Snapshot::from_lines([
            json!({"id": "contoso.com", "authenticationType": "Federated", "isVerified": true}),
            json!({"id": "f1", "issuerUri": "http://contoso.com/adfs/services/trust"}),
            json!({"id": "f2", "issuerUri": "x", "@warroom.source": "domains/fabrikam.com/federationConfiguration"}),
        ]);
        let domains: Vec<_> = s.federation.iter().map(|(d, _)| d.clone()).collect();
        assert_eq!(
            domains,
            vec![Some("contoso.com".into()), Some("fabrikam.com".into())]
        );
    }
}
