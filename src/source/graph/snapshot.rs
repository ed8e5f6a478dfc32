//! A directory snapshot: the objects the posture review and the detections
//! judge (users, groups, roles and who holds them, apps and service
//! principals with their credentials, consent grants and app-role
//! assignments, domains and their federation, conditional access, security
//! defaults, the sign-in methods of privileged users), each written as
//! Graph returned it plus `@warroom.source` (the Graph path it came from)
//! and `@warroom.snapshotAt`.
//!
//! A part Graph refuses (no permission, no licence) does not sink the
//! snapshot: it is written as a gap line (`@warroom.gap`) so a reader can
//! say "unknown, because the snapshot lacks X" instead of "pass".

use std::collections::BTreeSet;

use jiff::Timestamp;
use serde_json::{Value, json};

use super::budget::Family;
use super::client::{GraphClient, GraphError};
use super::pull::{PullError, encode, rebase};

/// Resource service principals whose app roles are the high-risk
/// application permissions (Microsoft Graph, Exchange Online, SharePoint
/// Online, Azure AD Graph, Office 365 Management APIs).
pub const RESOURCE_APPS: &[&str] = &[
    "00000003-0000-0000-c000-000000000000",
    "00000002-0000-0ff1-ce00-000000000000",
    "00000003-0000-0ff1-ce00-000000000000",
    "00000002-0000-0000-c000-000000000000",
    "c5393580-f805-4401-95e8-94b7a6ef2fc2",
];

const USER_FIELDS: &str = "id,displayName,userPrincipalName,mail,userType,accountEnabled,createdDateTime,onPremisesSyncEnabled,onPremisesImmutableId,onPremisesSamAccountName,externalUserState,lastPasswordChangeDateTime";

/// The fixed parts, in the order they are read: (path and query, the
/// object type written when Graph leaves it out).
const FIXED_PARTS: &[(&str, &str)] = &[
    (
        "groups?$top=999&$select=id,displayName,securityEnabled,mailEnabled,groupTypes,isAssignableToRole,onPremisesSyncEnabled,createdDateTime",
        "#microsoft.graph.group",
    ),
    (
        "roleManagement/directory/roleDefinitions",
        "#microsoft.graph.unifiedRoleDefinition",
    ),
    (
        "roleManagement/directory/roleAssignments",
        "#microsoft.graph.unifiedRoleAssignment",
    ),
    (
        "roleManagement/directory/roleEligibilitySchedules",
        "#microsoft.graph.unifiedRoleEligibilitySchedule",
    ),
    (
        "roleManagement/directory/roleAssignmentScheduleInstances",
        "#microsoft.graph.unifiedRoleAssignmentScheduleInstance",
    ),
    (
        "applications?$top=999&$expand=owners($select=id,displayName,userPrincipalName)",
        "#microsoft.graph.application",
    ),
    (
        "servicePrincipals?$top=999",
        "#microsoft.graph.servicePrincipal",
    ),
    (
        "oauth2PermissionGrants?$top=999",
        "#microsoft.graph.oAuth2PermissionGrant",
    ),
    ("domains", "#microsoft.graph.domain"),
    (
        "identity/conditionalAccess/policies",
        "#microsoft.graph.conditionalAccessPolicy",
    ),
    (
        "policies/tokenLifetimePolicies",
        "#microsoft.graph.tokenLifetimePolicy",
    ),
    (
        "directory/onPremisesSynchronization",
        "#microsoft.graph.onPremisesDirectorySynchronization",
    ),
    (
        "policies/roleManagementPolicyAssignments?$filter=scopeId eq '/' and scopeType eq 'DirectoryRole' and roleDefinitionId eq '62e90394-69f5-4237-9190-012177145e10'&$expand=policy($expand=rules)",
        "#microsoft.graph.unifiedRoleManagementPolicyAssignment",
    ),
];

/// Tenant-wide policies, one object each (Policy.Read.All).
const SINGLE_POLICIES: &[(&str, &str)] = &[
    (
        "policies/identitySecurityDefaultsEnforcementPolicy",
        "#microsoft.graph.identitySecurityDefaultsEnforcementPolicy",
    ),
    (
        "policies/authorizationPolicy",
        "#microsoft.graph.authorizationPolicy",
    ),
    (
        "policies/adminConsentRequestPolicy",
        "#microsoft.graph.adminConsentRequestPolicy",
    ),
    (
        "policies/authenticationMethodsPolicy",
        "#microsoft.graph.authenticationMethodsPolicy",
    ),
    (
        "policies/defaultAppManagementPolicy",
        "#microsoft.graph.tenantAppManagementPolicy",
    ),
    (
        "policies/crossTenantAccessPolicy/default",
        "#microsoft.graph.crossTenantAccessPolicyConfigurationDefault",
    ),
];

/// What a snapshot read.
#[derive(Debug, Default)]
pub struct SnapshotSummary {
    pub objects: u64,
    /// Parts Graph refused, with its reason.
    pub gaps: Vec<String>,
}

/// Reads a snapshot, handing each part's lines to `commit` as they come.
pub async fn snapshot(
    client: &GraphClient,
    graph: &str,
    mut commit: impl FnMut(Vec<Value>) -> Result<(), PullError>,
    progress: &(dyn Fn(&str) + Send + Sync),
) -> Result<SnapshotSummary, PullError> {
    let at = crate::model::de::graph_time(Timestamp::now());
    let mut reader = Reader {
        client,
        graph: graph.trim_end_matches('/').to_owned(),
        at,
        summary: SnapshotSummary::default(),
    };
    // Users with their last sign-in where the licence allows; otherwise
    // without it (and a gap says what is missing).
    let with_activity = format!("users?$top=999&$select={USER_FIELDS},signInActivity");
    let users = match reader.list(&with_activity, "#microsoft.graph.user").await? {
        Part::Read(lines) => lines,
        Part::Refused(gap) => {
            let mut lines = vec![gap];
            let plain = format!("users?$top=999&$select={USER_FIELDS}");
            lines.extend(reader.list(&plain, "#microsoft.graph.user").await?.lines());
            lines
        }
    };
    let user_ids: BTreeSet<String> = users.iter().filter_map(id_of).collect();
    reader.emit(users, &mut commit, progress)?;

    let mut assignments = Vec::new();
    let mut definitions = Vec::new();
    let mut domains = Vec::new();
    let mut principals = Vec::new();
    for (path, kind) in FIXED_PARTS {
        let lines = reader.list(path, kind).await?.lines();
        let keep = match *path {
            // Eligible holders are administrators too, one activation
            // away: their methods are read like active ones'.
            "roleManagement/directory/roleAssignments"
            | "roleManagement/directory/roleEligibilitySchedules" => Some(&mut assignments),
            "roleManagement/directory/roleDefinitions" => Some(&mut definitions),
            "domains" => Some(&mut domains),
            "servicePrincipals?$top=999" => Some(&mut principals),
            _ => None,
        };
        if let Some(keep) = keep {
            keep.extend(lines.iter().cloned());
        }
        reader.emit(lines, &mut commit, progress)?;
    }
    for (path, kind) in SINGLE_POLICIES {
        let policy = reader.one(path, kind).await?;
        reader.emit(vec![policy], &mut commit, progress)?;
    }

    for domain in domains
        .iter()
        .filter(|d| d["authenticationType"] == "Federated")
    {
        let Some(name) = domain["id"].as_str() else {
            continue;
        };
        let path = format!("domains/{}/federationConfiguration", encode(name));
        let lines = reader
            .list(&path, "#microsoft.graph.internalDomainFederation")
            .await?
            .lines();
        reader.emit(lines, &mut commit, progress)?;
    }
    for sp in principals
        .iter()
        .filter(|sp| RESOURCE_APPS.contains(&sp["appId"].as_str().unwrap_or("")))
    {
        let Some(id) = sp["id"].as_str() else {
            continue;
        };
        let path = format!(
            "servicePrincipals/{}/appRoleAssignedTo?$top=999",
            encode(id)
        );
        let lines = reader
            .list(&path, "#microsoft.graph.appRoleAssignment")
            .await?
            .lines();
        reader.emit(lines, &mut commit, progress)?;
    }
    for user in privileged_users(&assignments, &definitions, &user_ids) {
        let path = format!("users/{}/authentication/methods", encode(&user));
        let lines = reader
            .list(&path, "#microsoft.graph.authenticationMethod")
            .await?
            .lines();
        reader.emit(lines, &mut commit, progress)?;
    }
    Ok(reader.summary)
}

/// A whole snapshot in memory (for `warroom posture` and the console,
/// which judge it rather than keep it).
pub async fn take(
    client: &GraphClient,
    graph: &str,
    progress: &(dyn Fn(&str) + Send + Sync),
) -> Result<(Vec<Value>, SnapshotSummary), PullError> {
    let mut lines = Vec::new();
    let summary = snapshot(
        client,
        graph,
        |part| {
            lines.extend(part);
            Ok(())
        },
        progress,
    )
    .await?;
    Ok((lines, summary))
}

/// Users holding a privileged directory role (by the role definition's
/// `isPrivileged`, or a built-in role known to be privileged when the
/// definitions lack the flag).
fn privileged_users(
    assignments: &[Value],
    definitions: &[Value],
    users: &BTreeSet<String>,
) -> BTreeSet<String> {
    let privileged: BTreeSet<&str> = definitions
        .iter()
        .filter(|d| {
            d["isPrivileged"].as_bool().unwrap_or_else(|| {
                crate::model::roles::is_privileged_template(d["templateId"].as_str().unwrap_or(""))
            })
        })
        .filter_map(|d| d["id"].as_str())
        .collect();
    assignments
        .iter()
        .filter(|a| privileged.contains(a["roleDefinitionId"].as_str().unwrap_or("")))
        .filter_map(|a| a["principalId"].as_str())
        .filter(|p| users.contains(*p))
        .map(str::to_owned)
        .collect()
}

enum Part {
    Read(Vec<Value>),
    /// A gap line: Graph refused this part.
    Refused(Value),
}

impl Part {
    fn lines(self) -> Vec<Value> {
        match self {
            Part::Read(lines) => lines,
            Part::Refused(gap) => vec![gap],
        }
    }
}

struct Reader<'a> {
    client: &'a GraphClient,
    graph: String,
    at: String,
    summary: SnapshotSummary,
}

impl Reader<'_> {
    fn url(&self, path: &str) -> String {
        format!("{}/v1.0/{path}", self.graph)
    }

    /// Every page of a collection, marked with where it came from.
    async fn list(&mut self, path: &str, kind: &str) -> Result<Part, PullError> {
        let source = path.split('?').next().unwrap_or(path).to_owned();
        let mut lines = Vec::new();
        let mut url = Some(self.url(path));
        while let Some(current) = url.take() {
            match self.client.page(&current, Family::Directory).await {
                Ok(page) => {
                    for object in page.value {
                        lines.push(self.mark(object, &source, kind));
                    }
                    url = page.next_link.map(|l| rebase(&l, &self.graph));
                }
                Err(e) => match self.gap(&source, &e) {
                    Some(gap) => return Ok(Part::Refused(gap)),
                    None => return Err(e.into()),
                },
            }
        }
        // Read whole: a reader can tell "none" from "not read".
        let count = lines.len();
        lines.push(json!({
            "id": format!("part:{source}"),
            "@warroom.source": source,
            "@warroom.snapshotAt": self.at,
            "@warroom.part": { "objects": count },
        }));
        Ok(Part::Read(lines))
    }

    /// A single object (not a collection).
    async fn one(&mut self, path: &str, kind: &str) -> Result<Value, PullError> {
        match self.client.get(&self.url(path), Family::Directory).await {
            Ok(mut object) => {
                if let Value::Object(map) = &mut object {
                    map.remove("@odata.context");
                }
                Ok(self.mark(object, path, kind))
            }
            Err(e) => self.gap(path, &e).ok_or_else(|| e.into()),
        }
    }

    fn mark(&self, mut object: Value, source: &str, kind: &str) -> Value {
        if let Value::Object(map) = &mut object {
            map.entry("@odata.type").or_insert_with(|| kind.into());
            map.insert("@warroom.source".into(), source.into());
            map.insert("@warroom.snapshotAt".into(), self.at.clone().into());
        }
        object
    }

    /// A refusal that leaves the rest of the snapshot worth having becomes
    /// a gap line; anything else (network, server) fails the pull, which
    /// a rerun resumes.
    fn gap(&mut self, source: &str, error: &GraphError) -> Option<Value> {
        let (status, reason, needs) = match error {
            GraphError::Permission { message, needs, .. } => (403, message.clone(), *needs),
            GraphError::Rejected {
                status: status @ (400 | 404),
                message,
                ..
            } => (*status, message.clone(), ""),
            _ => return None,
        };
        self.summary
            .gaps
            .push(format!("{source}: {status} {reason}"));
        Some(json!({
            "id": format!("gap:{source}"),
            "@warroom.source": source,
            "@warroom.snapshotAt": self.at,
            "@warroom.gap": { "status": status, "reason": reason, "needs": needs },
        }))
    }

    fn emit(
        &mut self,
        lines: Vec<Value>,
        commit: &mut impl FnMut(Vec<Value>) -> Result<(), PullError>,
        progress: &(dyn Fn(&str) + Send + Sync),
    ) -> Result<(), PullError> {
        self.summary.objects += lines
            .iter()
            .filter(|l| l.get("@warroom.gap").is_none() && l.get("@warroom.part").is_none())
            .count() as u64;
        commit(lines)?;
        progress(&format!(
            "directory snapshot: {} objects",
            self.summary.objects
        ));
        Ok(())
    }
}

fn id_of(object: &Value) -> Option<String> {
    object["id"].as_str().map(str::to_owned)
}

/// The key a snapshot line is de-duplicated by: the same id can appear
/// in two parts (a sign-in method id is the same for every user).
pub fn line_key(line: &Value) -> Option<String> {
    let id = line["id"].as_str()?;
    Some(match line["@warroom.source"].as_str() {
        Some(source) => format!("{source}#{id}"),
        None => id.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn privileged_users_come_from_privileged_roles_only() {
        let definitions = vec![
            json!({"id": "r-ga", "isPrivileged": true}),
            json!({"id": "r-reader", "isPrivileged": false}),
        ];
        let assignments = vec![
            json!({"principalId": "u1", "roleDefinitionId": "r-ga"}),
            json!({"principalId": "u2", "roleDefinitionId": "r-reader"}),
            json!({"principalId": "sp1", "roleDefinitionId": "r-ga"}),
        ];
        let users: BTreeSet<String> = ["u1", "u2"].iter().map(|s| s.to_string()).collect();
        let found = privileged_users(&assignments, &definitions, &users);
        assert_eq!(found.into_iter().collect::<Vec<_>>(), vec!["u1"]);
    }

    #[test]
    fn keys_tell_parts_apart() {
        let a = json!({"id": "28c10230", "@warroom.source": "users/u1/authentication/methods"});
        let b = json!({"id": "28c10230", "@warroom.source": "users/u2/authentication/methods"});
        assert_ne!(line_key(&a), line_key(&b));
        assert_eq!(line_key(&json!({"id": "x"})).as_deref(), Some("x"));
    }
}
