//! The tenant's everyday life: sign-ins across the four kinds, routine
//! directory audits and mailbox activity, at working hours (UTC) over the
//! history; and the model `--live` keeps drawing new sign-ins from.

use super::catalog;
use super::directory::{PrincipalType, User};
use super::generate::{Build, DOMAIN, KEY_VAULT_APP_ID, who};
use super::signins::{Auth, Issuer, Kind, SignIn};
use super::time::{DAY, HOUR, MINUTE};

/// A time in the window, weighted towards the working day (US hours).
/// A draw past the window's end (later today) or before its start moves
/// by whole days into it, keeping its time of day: pinned to the window's
/// edge, hundreds of sign-ins would share one second and the day's rhythm
/// would be one spike. The draws are the same whatever the hour, so the
/// story's ids do not depend on when the emulator starts.
pub(super) fn working_time(rng: &mut fastrand::Rng, start_ms: i64, end_ms: i64, busy: bool) -> i64 {
    let last = (end_ms - MINUTE).max(start_ms);
    let day = rng.i64(0..(end_ms - start_ms) / DAY + 1);
    let hour = if busy && rng.u8(..100) < 80 {
        15 + rng.i64(0..10)
    } else {
        rng.i64(0..24)
    };
    let t = start_ms + day * DAY - (start_ms % DAY) + hour * HOUR + rng.i64(0..HOUR);
    let moved = if t > last {
        t - (t - last + DAY - 1) / DAY * DAY
    } else if t < start_ms {
        t + (start_ms - t + DAY - 1) / DAY * DAY
    } else {
        t
    };
    moved.clamp(start_ms, last)
}

/// Where everyday sign-ins come from; used for the history and, with
/// `--live`, for new events as they arrive.
#[derive(Clone, Debug, Default)]
pub struct NoiseModel {
    users: usize,
    app_sps: Vec<usize>,
    mis: Vec<usize>,
    sp_credentials: Vec<u16>,
    resources_start: u16,
    key_vault: u16,
    sp_principal_base: u32,
    sp_app_index: Vec<u16>,
    mobile: u32,
    corp: Vec<u32>,
    azure: u32,
}

impl NoiseModel {
    /// The model for the first `users_count` users (those the background
    /// was made for; story accounts come later).
    pub fn new(b: &mut Build, users_count: usize) -> Self {
        let users = users_count;
        let app_sps: Vec<usize> = b
            .tenant
            .service_principals
            .iter()
            .enumerate()
            .filter(|(_, s)| {
                s.kind == PrincipalType::Application
                    && s.owner_tenant == b.tenant.id.to_string()
                    && s.display != "warroom Responder"
            })
            .map(|(i, _)| i)
            .collect();
        let mis: Vec<usize> = b
            .tenant
            .service_principals
            .iter()
            .enumerate()
            .filter(|(_, s)| s.kind == PrincipalType::ManagedIdentity)
            .map(|(i, _)| i)
            .collect();
        let mut sp_credentials = Vec::new();
        for &sp in &app_sps {
            let app_id = &b.tenant.service_principals[sp].app_id;
            let key = b
                .tenant
                .applications
                .iter()
                .find(|a| a.app_id.to_string() == *app_id)
                .and_then(|a| a.credentials.first())
                .map(|c| c.key_id);
            let index = key.map_or(0, |k| b.credential(k));
            sp_credentials.push(index);
        }
        let resources_start = catalog::CLIENT_APPS.len() as u16;
        let key_vault = b.app_index(KEY_VAULT_APP_ID);

        Self {
            users,
            app_sps,
            mis,
            sp_credentials,
            resources_start,
            key_vault,
            sp_principal_base: b.sp_principal_base,
            sp_app_index: b.sp_app_index.clone(),
            mobile: b.places.mobile,
            corp: b.places.corp.clone(),
            azure: b.places.azure,
        }
    }

    /// One everyday sign-in; `time` picks its moment (`true`: a person's
    /// working hours).
    pub fn signin(
        &self,
        rng: &mut fastrand::Rng,
        users: &[User],
        key: u64,
        time: &dyn Fn(&mut fastrand::Rng, bool) -> i64,
    ) -> SignIn {
        let roll = rng.u8(..100);
        let kind = match roll {
            0..22 => Kind::Interactive,
            22..88 => Kind::NonInteractive,
            88..98 => Kind::ServicePrincipal,
            _ => Kind::ManagedIdentity,
        };
        match kind {
            Kind::Interactive | Kind::NonInteractive => {
                // A few people sign in far more than the rest.
                let skew = rng.f64().powf(1.7);
                let u = who::BREAK_GLASS + 1 + (skew * (self.users - 1) as f64) as usize;
                let u = if u == who::STALE_GUEST || u >= self.users {
                    who::FIRST_REGULAR.min(self.users - 1)
                } else {
                    u
                };
                let user = &users[u];
                let federated = user.upn.ends_with(DOMAIN) && !user.guest;
                let place = match rng.u8(..100) {
                    0..90 => user.usual_places[rng.usize(..user.usual_places.len())],
                    90..97 => self.mobile,
                    _ => self.corp[rng.usize(..self.corp.len())],
                };
                let agent = user.usual_agents[rng.usize(..user.usual_agents.len())];
                let interactive = kind == Kind::Interactive;
                let legacy = interactive && rng.u16(..1000) < 4;
                let error = if interactive {
                    match rng.u16(..1000) {
                        // A federated user's password is checked by AD FS,
                        // which logs the failure; Entra ID sees nothing
                        // until the user gets it right (see `onprem`).
                        0..30 if federated && !legacy => 0,
                        0..30 => 50126,
                        30..50 => 50074,
                        50..55 => 500121,
                        55..65 => 50140,
                        65..68 => 53003,
                        _ => 0,
                    }
                } else if rng.u16(..1000) < 5 {
                    50074
                } else {
                    0
                };
                let auth = match (interactive, legacy) {
                    (true, true) => Auth::SingleFactor,
                    (true, false) if rng.u8(..100) < 55 => Auth::MfaInCloud,
                    (true, false) => Auth::SingleFactor,
                    (false, _) => Auth::PreviouslySatisfied,
                };
                let client = if legacy {
                    super::signins::LEGACY_CLIENT_START + rng.u8(..3)
                } else if agent >= 4 {
                    1
                } else {
                    0
                };
                SignIn {
                    time_ms: time(rng, true),
                    key,
                    principal: u as u32,
                    place,
                    app: rng.u16(..self.resources_start),
                    resource: self.resources_start + rng.u16(..3),
                    agent,
                    credential: 0,
                    error,
                    kind,
                    auth,
                    issuer: if federated && interactive && !legacy {
                        Issuer::Adfs
                    } else {
                        Issuer::EntraId
                    },
                    risk: u8::from(error == 0 && rng.u16(..2000) == 0),
                    client,
                }
            }
            Kind::ServicePrincipal | Kind::ManagedIdentity => {
                let (kind, pool) = if kind == Kind::ManagedIdentity && !self.mis.is_empty() {
                    (Kind::ManagedIdentity, &self.mis)
                } else {
                    (Kind::ServicePrincipal, &self.app_sps)
                };
                let pick = rng.usize(..pool.len());
                let sp = pool[pick];
                let (credential, resource) = match kind {
                    Kind::ServicePrincipal => (self.sp_credentials[pick], self.resources_start + 1),
                    _ => (0, self.key_vault),
                };
                SignIn {
                    time_ms: time(rng, false),
                    key,
                    principal: self.sp_principal_base + sp as u32,
                    place: self.azure,
                    app: self.sp_app_index[sp],
                    resource,
                    agent: 0,
                    credential,
                    error: 0,
                    kind,
                    auth: Auth::ClientCredential,
                    issuer: Issuer::EntraId,
                    risk: 0,
                    client: 1,
                }
            }
        }
    }
}

pub(super) fn background_signins(b: &mut Build, count: u64) {
    let users = b.tenant.users.len();
    let model = NoiseModel::new(b, users);
    let (start, end) = (b.start_ms, b.end_ms);
    let time = move |rng: &mut fastrand::Rng, busy: bool| working_time(rng, start, end, busy);
    b.records.reserve(count as usize + 1000);
    for _ in 0..count {
        let key = b.key();
        let record = model.signin(&mut b.rng, &b.tenant.users, key, &time);
        if record.kind.is_user() && record.error == 0 {
            let user = &mut b.tenant.users[record.principal as usize];
            user.last_sign_in_ms = Some(user.last_sign_in_ms.unwrap_or(0).max(record.time_ms));
        }
        b.records.push(record);
    }
    b.noise_users = b.tenant.users.len();
}

pub(super) fn background_audits(b: &mut Build, count: u64) {
    use super::audit::{AuditSpec, Initiator, Target, audit};
    const ROUTINE: &[(&str, &str, &str, &str)] = &[
        ("Update user", "UserManagement", "Core Directory", "Update"),
        (
            "Reset user password",
            "UserManagement",
            "Core Directory",
            "Update",
        ),
        (
            "Add member to group",
            "GroupManagement",
            "Core Directory",
            "Add",
        ),
        (
            "Remove member from group",
            "GroupManagement",
            "Core Directory",
            "Remove",
        ),
        (
            "Change user license",
            "UserManagement",
            "Core Directory",
            "Update",
        ),
        (
            "Update group",
            "GroupManagement",
            "Core Directory",
            "Update",
        ),
        ("Update device", "Device", "Core Directory", "Update"),
    ];
    let users = b.tenant.users.len();
    for _ in 0..count {
        let (activity, category, service, operation) = ROUTINE[b.rng.usize(..ROUTINE.len())];
        let actor = if b.rng.bool() {
            who::ISAIAH
        } else {
            who::GRADY
        };
        let target = who::FIRST_REGULAR
            + b.rng
                .usize(..users.saturating_sub(who::FIRST_REGULAR).max(1));
        let target = target.min(users - 1);
        let time_ms = working_time(&mut b.rng, b.start_ms, b.end_ms, true);
        let key = b.key();
        let ip = b.tables.places[b.places.corp[0] as usize].ip.clone();
        let mut targets = vec![Target::user(&b.tenant.users[target])];
        if category == "GroupManagement" && !b.tenant.groups.is_empty() {
            let g = &b.tenant.groups[b.rng.usize(..b.tenant.groups.len())];
            targets.push(Target::other(g.id.to_string(), g.display.clone(), "Group"));
        }
        let modified = if activity == "Update user" {
            vec![(
                "Department",
                "[\"Sales\"]".to_owned(),
                "[\"Operations\"]".to_owned(),
            )]
        } else {
            Vec::new()
        };
        let a = audit(AuditSpec {
            time_ms,
            key,
            activity,
            category,
            service,
            operation,
            initiator: Initiator::User {
                user: &b.tenant.users[actor],
                ip: &ip,
            },
            targets,
            modified,
            failed: b.rng.u8(..100) == 0,
        });
        b.push_audit(a);
    }
}

/// Everyday Unified Audit Log traffic: people reading their own mail,
/// opening files, signing in.
pub(super) fn background_ual(b: &mut Build, count: u64) {
    use super::ual::{RecordSpec, record};
    use serde_json::json;
    let users = b.tenant.users.len();
    let tenant_id = b.tenant.id.to_string();
    for _ in 0..count {
        let u = who::FIRST_REGULAR
            + b.rng
                .usize(..users.saturating_sub(who::FIRST_REGULAR).max(1));
        let u = u.min(users - 1);
        let user = &b.tenant.users[u];
        let place = user.usual_places[0];
        let ip = b.tables.places[place as usize].ip.clone();
        let (upn, user_id) = (user.upn.clone(), user.id.to_string());
        let time_ms = working_time(&mut b.rng, b.start_ms, b.end_ms, true);
        let key = b.key();
        let spec = match b.rng.u8(..10) {
            0..6 => RecordSpec {
                time_ms,
                key,
                tenant_id: &tenant_id,
                record_type: "exchangeItemAggregated",
                record_type_number: 50,
                workload: "Exchange",
                operation: "MailItemsAccessed",
                user_id: &user_id,
                upn: &upn,
                user_type: "regular",
                ip: &ip,
                object_id: "",
                details: json!({
                    "MailboxOwnerUPN": upn,
                    "LogonType": 0,
                    "ClientInfoString": "Client=OutlookService;Outlook-iOS/2.0",
                    "OperationProperties": [{ "Name": "MailAccessType", "Value": "Bind" }, { "Name": "IsThrottled", "Value": "False" }],
                    "OperationCount": 1 + b.rng.u8(..5),
                }),
            },
            6..9 => RecordSpec {
                time_ms,
                key,
                tenant_id: &tenant_id,
                record_type: "sharePointFileOperation",
                record_type_number: 6,
                workload: "SharePoint",
                operation: "FileAccessed",
                user_id: &user_id,
                upn: &upn,
                user_type: "regular",
                ip: &ip,
                object_id: "https://contoso.sharepoint.com/sites/finance/Shared Documents/forecast.xlsx",
                details: json!({ "SourceFileName": "forecast.xlsx", "SiteUrl": "https://contoso.sharepoint.com/sites/finance/" }),
            },
            _ => RecordSpec {
                time_ms,
                key,
                tenant_id: &tenant_id,
                record_type: "azureActiveDirectoryStsLogon",
                record_type_number: 15,
                workload: "AzureActiveDirectory",
                operation: "UserLoggedIn",
                user_id: &user_id,
                upn: &upn,
                user_type: "regular",
                ip: &ip,
                object_id: "",
                details: json!({ "ApplicationId": "00000002-0000-0ff1-ce00-000000000000" }),
            },
        };
        let r = record(spec);
        b.tenant.ual.push(r);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_second_holds_a_crowd() {
        let mut rng = fastrand::Rng::with_seed(5);
        let end = 1_795_000_123_456;
        let start = end - 30 * DAY;
        let mut per_second = std::collections::HashMap::new();
        for i in 0..20_000 {
            let t = working_time(&mut rng, start, end, i % 3 != 0);
            assert!((start..end).contains(&t));
            *per_second.entry(t / 1000).or_insert(0) += 1;
        }
        let crowd = per_second.values().max().copied().unwrap_or(0);
        assert!(crowd <= 4, "{crowd} sign-ins share one second");
    }
}
