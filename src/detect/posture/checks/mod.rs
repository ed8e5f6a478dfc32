//! The posture checks, grouped by what they judge. `Context` indexes the
//! snapshot once (users by id, who holds which role, what each service
//! principal was granted) so each check reads like the rule it is.

mod access;
mod app_settings;
mod apps;
mod edges;
mod federation;
mod hybrid;
mod keepers;
mod pim;
mod policies;
mod roles;
mod tenant_settings;

use std::collections::{BTreeMap, BTreeSet};

use jiff::Timestamp;
use serde_json::Value;

use super::{Check, Failure, Part, Snapshot, Verdict, flag, text};
use crate::detect::catalogue::{Catalogue, Permission};
use crate::model::Severity;

/// Every check, in the order reports list them.
pub static CHECKS: &[&Check] = &[
    &federation::FOREIGN_ISSUER,
    &federation::NEXT_CERTIFICATE_DIFFERS,
    &federation::LONG_LIVED_CERTIFICATE,
    &federation::ACCEPTS_IDP_MFA,
    &apps::NEW_CREDENTIAL_HIGH_RISK,
    &apps::FIRST_PARTY_CREDENTIAL,
    &apps::TENANT_WIDE_GRANT,
    &apps::HIGH_RISK_PERMISSIONS,
    &roles::SYNCED_ADMIN,
    &roles::STANDING_ASSIGNMENT,
    &roles::TOO_MANY_GLOBAL_ADMINS,
    &roles::GUEST_IN_ROLE,
    &roles::ADMIN_WITHOUT_MFA,
    &roles::RECENT_ADMIN_METHOD,
    &roles::PIM_NOT_USED,
    &access::LEGACY_AUTH,
    &access::ADMIN_ACCESS,
    &access::STALE_GUEST,
    &policies::MFA_FOR_ALL,
    &policies::USER_RISK,
    &policies::SIGN_IN_RISK,
    &policies::DEVICE_CODE,
    &policies::AUTH_TRANSFER,
    &policies::REGISTRATION,
    &policies::PHISHING_RESISTANT_ADMINS,
    &policies::CAE_DISABLED,
    &keepers::BREAK_GLASS,
    &keepers::APP_IN_ROLE,
    &keepers::STALE_ADMIN,
    &keepers::GA_SHARE,
    &app_settings::ADMIN_TOOLS_OPEN,
    &app_settings::INSTANCE_LOCK,
    &app_settings::PRIVILEGED_APP_OWNERS,
    &tenant_settings::USER_CONSENT,
    &tenant_settings::USERS_REGISTER_APPS,
    &tenant_settings::GUEST_INVITES,
    &tenant_settings::GUEST_ACCESS,
    &tenant_settings::MSOL_POWERSHELL,
    &tenant_settings::ADMIN_SSPR,
    &tenant_settings::USERS_CREATE_TENANTS,
    &tenant_settings::SELF_SERVICE_JOIN,
    &tenant_settings::CONSENT_WORKFLOW,
    &tenant_settings::WEAK_METHODS,
    &tenant_settings::TAP_REUSABLE,
    &tenant_settings::AUTHENTICATOR_CONTEXT,
    &tenant_settings::SUSPICIOUS_REPORTING,
    &tenant_settings::METHODS_MIGRATION,
    &tenant_settings::REGISTRATION_CAMPAIGN,
    &edges::APP_PASSWORDS,
    &edges::CREDENTIAL_LIFETIME,
    &edges::TOKEN_LIFETIME,
    &edges::CROSS_TENANT_INBOUND,
    &edges::DIRECT_CONNECT_INBOUND,
    &hybrid::SOFT_MATCH,
    &hybrid::HARD_MATCH,
    &hybrid::KERBEROS_ACCOUNT_SYNCED,
    &hybrid::SYNC_ACCOUNT_PRIVILEGED,
    &pim::APPROVAL,
    &pim::ASSIGNMENT_ALERTS,
    &pim::ACTIVATION_ALERTS,
];

pub fn run(ctx: &Context) -> Vec<Verdict> {
    let mut out = Vec::new();
    out.extend(federation::judge(ctx));
    out.extend(apps::judge(ctx));
    out.extend(roles::judge(ctx));
    out.extend(access::judge(ctx));
    out.extend(policies::judge(ctx));
    out.extend(keepers::judge(ctx));
    out.extend(app_settings::judge(ctx));
    out.extend(tenant_settings::judge(ctx));
    out.extend(edges::judge(ctx));
    out.extend(hybrid::judge(ctx));
    out.extend(pim::judge(ctx));
    out
}

/// Microsoft's own tenants: service principals of first-party apps are
/// owned by one of these.
const MICROSOFT_TENANTS: &[&str] = &[
    "f8cdef31-a31e-4b4a-93e4-5f571e91255a",
    "72f988bf-86f1-41af-91ab-2d7cd011db47",
];

/// Global Administrator's role template id.
pub const GLOBAL_ADMIN: &str = "62e90394-69f5-4237-9190-012177145e10";

/// A directory role held by a principal.
#[derive(Clone, Debug)]
pub struct Holding {
    pub principal: String,
    pub role: String,
    pub role_name: String,
    pub privileged: bool,
    /// Standing (outside PIM); `None` when the snapshot cannot tell.
    pub standing: Option<bool>,
    /// Active now; `false` for a PIM eligibility not activated.
    pub active: bool,
    pub assignment_id: String,
}

/// A permission a service principal holds.
#[derive(Clone, Debug)]
pub struct Held {
    pub permission: &'static Permission,
    /// Application permission (app role) rather than delegated.
    pub application: bool,
    /// Delegated for every user (`AllPrincipals`).
    pub tenant_wide: bool,
    pub grant_id: String,
}

pub struct Context<'a> {
    pub snapshot: &'a Snapshot,
    pub now: Timestamp,
    pub users: BTreeMap<&'a str, &'a Value>,
    pub principals: BTreeMap<&'a str, &'a Value>,
    pub holdings: Vec<Holding>,
    /// Service principal id → the permissions it holds.
    pub permissions: BTreeMap<String, Vec<Held>>,
    /// Users left out of some enabled conditional access policy by id:
    /// the emergency access accounts the guidance tells tenants to keep.
    pub excluded_from_ca: BTreeSet<&'a str>,
}

impl<'a> Context<'a> {
    pub fn new(snapshot: &'a Snapshot, now: Timestamp) -> Self {
        use super::Part;
        let by_id = |part: Part| -> BTreeMap<&'a str, &'a Value> {
            snapshot
                .list(part)
                .iter()
                .filter_map(|v| Some((v.get("id")?.as_str()?, v)))
                .collect()
        };
        let users = by_id(Part::Users);
        let principals = by_id(Part::ServicePrincipals);
        let excluded_from_ca = snapshot
            .list(Part::ConditionalAccess)
            .iter()
            .filter(|p| text(p, "state") == Some("enabled"))
            .flat_map(|p| {
                p.pointer("/conditions/users/excludeUsers")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
            })
            .collect();
        Self {
            holdings: holdings(snapshot),
            permissions: permissions(snapshot, Catalogue::shared()),
            snapshot,
            now,
            users,
            principals,
            excluded_from_ca,
        }
    }

    /// A principal's name for people: a user's UPN, an app's name, or the id.
    pub fn name_of(&self, id: &str) -> String {
        if let Some(user) = self.users.get(id) {
            return text(user, "userPrincipalName")
                .or_else(|| text(user, "displayName"))
                .unwrap_or(id)
                .to_owned();
        }
        if let Some(sp) = self.principals.get(id) {
            return text(sp, "displayName").unwrap_or(id).to_owned();
        }
        id.to_owned()
    }

    pub fn is_guest(&self, user: &Value) -> bool {
        text(user, "userType").is_some_and(|t| t.eq_ignore_ascii_case("guest"))
            || text(user, "userPrincipalName").is_some_and(|u| u.contains("#EXT#"))
    }

    pub fn is_first_party(&self, sp: &Value) -> bool {
        text(sp, "appOwnerOrganizationId")
            .is_some_and(|o| MICROSOFT_TENANTS.iter().any(|m| m.eq_ignore_ascii_case(o)))
    }

    /// The emergency access accounts: users holding Global Administrator
    /// as a standing assignment, cloud-only, and left out of every enabled
    /// conditional access policy (by name, not through a group).
    pub fn emergency_accounts(&self) -> BTreeSet<&str> {
        self.holdings
            .iter()
            .filter(|h| h.role.eq_ignore_ascii_case(GLOBAL_ADMIN) && h.active)
            .filter(|h| h.standing == Some(true))
            .filter_map(|h| self.users.get_key_value(h.principal.as_str()))
            .filter(|(_, user)| flag(user, "onPremisesSyncEnabled") != Some(true))
            .map(|(id, _)| *id)
            .filter(|id| self.left_out_of_every_policy(id))
            .collect()
    }

    /// Whether a principal is named in the exclusions of every enabled
    /// conditional access policy (and there is one).
    pub fn left_out_of_every_policy(&self, id: &str) -> bool {
        use super::Part;
        let mut enabled = self
            .snapshot
            .list(Part::ConditionalAccess)
            .iter()
            .filter(|p| text(p, "state") == Some("enabled"))
            .peekable();
        enabled.peek().is_some()
            && enabled.all(|p| {
                lowered(p, "/conditions/users/excludeUsers")
                    .iter()
                    .any(|e| e.eq_ignore_ascii_case(id))
            })
    }

    /// Days between a time and the snapshot.
    pub fn days_before_now(&self, t: Timestamp) -> i64 {
        (self.now.as_second() - t.as_second()) / 86_400
    }
}

/// How long a user has not signed in, and since when in words ("last
/// signed in 2026-05-08"); `None` when the snapshot has no sign-in
/// activity for them.
pub fn idle_days(ctx: &Context, user: &Value) -> Option<(i64, String)> {
    let activity = user.get("signInActivity").filter(|a| a.is_object())?;
    let last = [
        "lastSignInDateTime",
        "lastNonInteractiveSignInDateTime",
        "lastSuccessfulSignInDateTime",
    ]
    .iter()
    .filter_map(|k| super::time(activity, k))
    .max();
    match (last, super::time(user, "createdDateTime")) {
        (Some(last), _) => Some((
            ctx.days_before_now(last),
            format!("last signed in {}", last.strftime("%Y-%m-%d")),
        )),
        (None, Some(created)) => Some((
            ctx.days_before_now(created),
            format!(
                "never signed in since being created {}",
                created.strftime("%Y-%m-%d")
            ),
        )),
        (None, None) => None,
    }
}

/// The role AD Connect's cloud account holds: powerful, but a service
/// account's by design (standing, no MFA); `posture.sync-account-privileged`
/// judges who holds it.
pub const SYNC_ROLE: &str = "d29b2b05-8046-44ba-8758-1e26182fcf32";

fn is_sync_role(role: &str) -> bool {
    role.eq_ignore_ascii_case(SYNC_ROLE)
}

/// Who holds which directory role: active assignments, marked standing
/// or not by the PIM schedule instances (or, without those, by whether an
/// eligibility backs them).
fn holdings(snapshot: &Snapshot) -> Vec<Holding> {
    use super::Part;
    let definitions: BTreeMap<&str, &Value> = snapshot
        .list(Part::RoleDefinitions)
        .iter()
        .filter_map(|d| Some((d.get("id")?.as_str()?, d)))
        .collect();
    let role_facts = |role: &str| -> (String, bool) {
        let known = crate::model::roles::PRIVILEGED_ROLES
            .iter()
            .find(|(id, _)| id.eq_ignore_ascii_case(role));
        let def = definitions.get(role);
        let template = def.and_then(|d| text(d, "templateId")).unwrap_or(role);
        let privileged = def
            .and_then(|d| flag(d, "isPrivileged"))
            .unwrap_or_else(|| crate::model::roles::is_privileged_template(template));
        let name = def
            .and_then(|d| text(d, "displayName"))
            .map(str::to_owned)
            .or_else(|| known.map(|(_, n)| (*n).to_owned()))
            .unwrap_or_else(|| format!("role {role}"));
        (name, privileged)
    };
    let instances = snapshot.list(Part::RoleInstances);
    let have_instances = snapshot.has(Part::RoleInstances);
    let have_eligibilities = snapshot.has(Part::RoleEligibilities);
    let eligible: BTreeSet<(&str, &str)> = snapshot
        .list(Part::RoleEligibilities)
        .iter()
        .filter_map(|e| Some((text(e, "principalId")?, text(e, "roleDefinitionId")?)))
        .collect();
    let mut out = Vec::new();
    for a in snapshot.list(Part::RoleAssignments) {
        let (Some(principal), Some(role)) = (text(a, "principalId"), text(a, "roleDefinitionId"))
        else {
            continue;
        };
        // Only tenant-wide assignments grant the role everywhere.
        if text(a, "directoryScopeId").is_some_and(|s| s != "/") {
            continue;
        }
        let id = text(a, "id").unwrap_or("");
        let instance = instances.iter().find(|i| {
            text(i, "roleAssignmentOriginId") == Some(id)
                || (text(i, "principalId") == Some(principal)
                    && text(i, "roleDefinitionId") == Some(role))
        });
        let standing = match instance {
            Some(i) => Some(
                text(i, "assignmentType").is_some_and(|t| t.eq_ignore_ascii_case("assigned"))
                    && text(i, "endDateTime").is_none(),
            ),
            None if have_eligibilities => Some(!eligible.contains(&(principal, role))),
            None if have_instances => Some(true),
            None => None,
        };
        let (role_name, privileged) = role_facts(role);
        out.push(Holding {
            principal: principal.to_owned(),
            role: role.to_owned(),
            role_name,
            privileged: privileged && !is_sync_role(role),
            standing,
            active: true,
            assignment_id: id.to_owned(),
        });
    }
    // Eligible holders count as admins even while not activated.
    for e in snapshot.list(Part::RoleEligibilities) {
        let (Some(principal), Some(role)) = (text(e, "principalId"), text(e, "roleDefinitionId"))
        else {
            continue;
        };
        if out
            .iter()
            .any(|h| h.principal == principal && h.role == role)
        {
            continue;
        }
        let (role_name, privileged) = role_facts(role);
        out.push(Holding {
            principal: principal.to_owned(),
            role: role.to_owned(),
            role_name,
            privileged,
            standing: Some(false),
            active: false,
            assignment_id: text(e, "id").unwrap_or("").to_owned(),
        });
    }
    out
}

/// What each service principal was granted: application permissions
/// (app-role assignments) and delegated grants, as the catalogue knows them.
fn permissions(snapshot: &Snapshot, catalogue: &'static Catalogue) -> BTreeMap<String, Vec<Held>> {
    use super::Part;
    let mut out: BTreeMap<String, Vec<Held>> = BTreeMap::new();
    for a in snapshot.list(Part::AppRoleAssignments) {
        let (Some(principal), Some(role)) = (text(a, "principalId"), text(a, "appRoleId")) else {
            continue;
        };
        if text(a, "principalType").is_some_and(|t| !t.eq_ignore_ascii_case("ServicePrincipal")) {
            continue;
        }
        if let Some(permission) = catalogue
            .permission
            .iter()
            .find(|p| p.app_role.as_deref() == Some(role))
        {
            out.entry(principal.to_owned()).or_default().push(Held {
                permission,
                application: true,
                tenant_wide: true,
                grant_id: text(a, "id").unwrap_or("").to_owned(),
            });
        }
    }
    for g in snapshot.list(Part::Grants) {
        let Some(client) = text(g, "clientId") else {
            continue;
        };
        let tenant_wide = text(g, "consentType").is_some_and(|c| c == "AllPrincipals");
        for scope in text(g, "scope").unwrap_or("").split_whitespace() {
            if let Some(permission) = catalogue
                .permission
                .iter()
                .find(|p| p.name.eq_ignore_ascii_case(scope))
            {
                out.entry(client.to_owned()).or_default().push(Held {
                    permission,
                    application: false,
                    tenant_wide,
                    grant_id: text(g, "id").unwrap_or("").to_owned(),
                });
            }
        }
    }
    out
}

/// The one object of a single-object part (a tenant-wide policy), or each
/// of `checks` not judged for want of it.
pub fn single<'a>(
    ctx: &'a Context,
    part: Part,
    checks: &[&'static Check],
) -> Result<&'a Value, Vec<Verdict>> {
    match ctx.snapshot.list(part).first() {
        Some(p) if ctx.snapshot.has(part) => Ok(p),
        _ => Err(checks
            .iter()
            .map(|c| Verdict::unknown(c, ctx.snapshot.lacking(part)))
            .collect()),
    }
}

/// A check failed by a tenant-wide setting: one failure, keyed by the
/// check, naming the setting's holder (`("policy", "authorization policy")`).
pub fn setting_failed(
    check: &'static Check,
    why: impl Into<String>,
    (field, value): (&'static str, &str),
) -> Verdict {
    let failure =
        Failure::new(check.id.trim_start_matches("posture."), why.into()).entity(field, value);
    Verdict::from(check, vec![failure], Vec::new(), "")
}

/// The check not judged for want of the first of `parts` the snapshot
/// lacks; `None` when it has them all.
pub fn unknown_without(ctx: &Context, check: &'static Check, parts: &[Part]) -> Option<Verdict> {
    parts
        .iter()
        .find(|part| !ctx.snapshot.has(**part))
        .map(|part| Verdict::unknown(check, ctx.snapshot.lacking(*part)))
}

/// High or critical in the catalogue.
pub fn is_high_risk(p: &Permission) -> bool {
    p.risk <= Severity::High
}

/// "Mail.Read (application), Files.Read.All (delegated, every user)".
pub fn describe(held: &[&Held]) -> String {
    let mut names: Vec<String> = held
        .iter()
        .map(|h| {
            let how = match (h.application, h.tenant_wide) {
                (true, _) => "application",
                (false, true) => "delegated, every user",
                (false, false) => "delegated, one user",
            };
            format!("{} ({how}: {})", h.permission.name, h.permission.reach)
        })
        .collect();
    names.sort();
    names.dedup();
    names.join("; ")
}

/// The credentials an application or service principal carries:
/// (keyId, display name, start).
pub fn credentials(object: &Value) -> Vec<(String, String, Option<Timestamp>)> {
    let mut out = Vec::new();
    for list in ["passwordCredentials", "keyCredentials"] {
        for c in object
            .get(list)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let Some(key) = text(c, "keyId") else {
                continue;
            };
            let kind = if list == "passwordCredentials" {
                "secret"
            } else {
                "certificate"
            };
            let name = text(c, "displayName").unwrap_or("");
            let label = if name.is_empty() {
                kind.to_owned()
            } else {
                format!("{kind} \"{name}\"")
            };
            out.push((key.to_owned(), label, super::time(c, "startDateTime")));
        }
    }
    out
}

/// A list field's strings, lower-cased for comparison.
pub fn lowered(v: &Value, pointer: &str) -> Vec<String> {
    v.pointer(pointer)
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_lowercase)
                .collect()
        })
        .unwrap_or_default()
}
