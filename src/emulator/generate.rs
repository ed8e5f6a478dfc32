//! Builds the emulated tenant from a seed: a directory with realistic
//! shape and security debt, weeks of background sign-ins and audits, and
//! (per scenario) an attacker's story woven into them. The story itself
//! lives in `story.rs`; the scenarios are described in `assets/scenarios/`.

use super::catalog;
use super::directory::{
    CredentialKind, Domain, Federation, Group, PrincipalType, RoleAssignment, RoleEligibility, User,
};
use super::ids::{Guid, GuidSource};
use super::live::LiveSource;
use super::signins::{App, Place, Principal, SignIn, SignInLog, Tables};
use super::story;
use super::tenant::{AnswerKey, Audit, Debt, Responder, Tenant};
use super::time::{DAY, HOUR};

pub use super::apps::{application, delegated_grant, grant_app_role, opaque_id, service_principal};
use super::apps::{applications, credential};
pub use super::noise::NoiseModel;
use super::noise::{background_audits, background_signins, background_ual};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scenario {
    /// A systemic compromise through forged SAML tokens (see assets/scenarios).
    GoldenSaml,
    /// The same tenant and noise with no attacker: the false-positive baseline.
    Clean,
    /// Clean, but names, apps and user agents carry terminal attacks.
    Hostile,
    /// No attack and no security debt: the tenant set up the way the
    /// posture baselines ask (every posture check passes).
    Hardened,
}

impl Scenario {
    pub const ALL: [Scenario; 4] = [
        Scenario::GoldenSaml,
        Scenario::Clean,
        Scenario::Hostile,
        Scenario::Hardened,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Scenario::GoldenSaml => "golden-saml",
            Scenario::Clean => "clean",
            Scenario::Hostile => "hostile",
            Scenario::Hardened => "hardened",
        }
    }

    pub fn from_name(name: &str) -> Option<Scenario> {
        Scenario::ALL.into_iter().find(|s| s.name() == name)
    }
}

#[derive(Clone, Debug)]
pub struct Spec {
    pub scenario: Scenario,
    pub seed: u64,
    /// Background sign-ins across all four kinds.
    pub signins: u64,
    pub days: u32,
    /// The end of the generated history (normally start-up time).
    pub end_ms: i64,
}

pub const DOMAIN: &str = "contoso.com";
pub const INITIAL_DOMAIN: &str = "contoso.onmicrosoft.com";
pub(super) const KEY_VAULT_APP_ID: &str = "cfa8b339-82a2-471a-a3c9-0fc0be7a4093";
pub const FEDERATION_ISSUER: &str = "http://sts.contoso.com/adfs/services/trust";

const FIRST: &[&str] = &[
    "Alex", "Allan", "Anna", "Ben", "Carla", "Chris", "Dana", "Diego", "Elena", "Emily", "Ethan",
    "Fatima", "Grace", "Hana", "Henry", "Irvin", "Jae", "James", "Johanna", "Kenji", "Lara", "Lee",
    "Lidia", "Marcus", "Maria", "Miriam", "Nestor", "Nina", "Omar", "Pradeep", "Priya", "Raul",
    "Sara", "Sofia", "Tomas", "Uma", "Victor", "Wei", "Yara", "Zoe",
];
const LAST: &[&str] = &[
    "Adams", "Bauer", "Chen", "Diaz", "Evans", "Fischer", "Garcia", "Hughes", "Ibrahim", "Jensen",
    "Kim", "Lopez", "Martin", "Nakamura", "Okafor", "Patel", "Quinn", "Rossi", "Schmidt", "Singh",
    "Tanaka", "Usman", "Varga", "Walsh", "Xu", "Young", "Zhang", "Holloway", "Moreau", "Novak",
];
const DEPARTMENTS: &[&str] = &[
    "Finance",
    "Sales",
    "Engineering",
    "Legal",
    "HR",
    "Operations",
    "Marketing",
    "IT",
];
const CITIES: &[(&str, &str)] = &[
    ("Seattle", "Washington"),
    ("Redmond", "Washington"),
    ("Portland", "Oregon"),
    ("Denver", "Colorado"),
    ("Austin", "Texas"),
    ("Chicago", "Illinois"),
    ("New York", "New York"),
    ("Boston", "Massachusetts"),
    ("Atlanta", "Georgia"),
    ("San Francisco", "California"),
];
pub const AGENTS: &[&str] = &[
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36",
    "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.18129; Pro)",
    "Outlook-iOS/2.0",
];
/// What an attacker's tooling sends.
pub const ATTACKER_AGENT: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/118.0.0.0 Safari/537.36";
pub const ATTACKER_SCRIPT_AGENT: &str = "python-requests/2.31.0";

/// Indexes of the special users, in the order `directory_users` makes them.
pub mod who {
    pub const BREAK_GLASS: usize = 0;
    pub const MEGAN: usize = 1;
    pub const ADELE: usize = 2;
    pub const GRADY: usize = 3;
    pub const LYNNE: usize = 4;
    pub const PATTI: usize = 5;
    pub const ISAIAH: usize = 6;
    pub const STALE_GUEST: usize = 7;
    pub const FIRST_REGULAR: usize = 8;
}

/// Places with a fixed role in the story, after the generated ones.
pub struct KnownPlaces {
    pub corp: Vec<u32>,
    pub mobile: u32,
    pub azure: u32,
    pub attacker_portal: u32,
    pub attacker_api: u32,
}

/// Everything under construction, shared with the story.
pub struct Build {
    pub rng: fastrand::Rng,
    pub ids: GuidSource,
    pub start_ms: i64,
    pub end_ms: i64,
    pub tenant: Tenant,
    pub tables: Tables,
    pub records: Vec<SignIn>,
    pub places: KnownPlaces,
    /// Index of the first service principal in `tables.principals`.
    pub sp_principal_base: u32,
    /// appId index in `tables.apps` for each tenant service principal.
    pub sp_app_index: Vec<u16>,
    /// How many users the background traffic was made for.
    pub noise_users: usize,
    /// The attacker's app sign-in that `--live` keeps repeating.
    pub live_attacker: Option<SignIn>,
}

impl Build {
    pub fn key(&mut self) -> u64 {
        self.rng.u64(..)
    }

    pub fn place(&mut self, ip: &str, city: &str, state: &str, country: &str, asn: u32) -> u32 {
        self.tables.places.push(Place {
            ip: ip.to_owned(),
            city: city.to_owned(),
            state: state.to_owned(),
            country: country.to_owned(),
            asn,
        });
        (self.tables.places.len() - 1) as u32
    }

    pub fn agent(&mut self, agent: &str) -> u16 {
        if let Some(i) = self.tables.agents.iter().position(|a| a == agent) {
            return i as u16;
        }
        self.tables.agents.push(agent.to_owned());
        (self.tables.agents.len() - 1) as u16
    }

    pub fn app_index(&self, app_id: &str) -> u16 {
        self.tables
            .apps
            .iter()
            .position(|a| a.app_id == app_id)
            .unwrap_or(0) as u16
    }

    pub fn credential(&mut self, key_id: Guid) -> u16 {
        if let Some(i) = self.tables.credentials.iter().position(|k| *k == key_id) {
            return i as u16;
        }
        self.tables.credentials.push(key_id);
        (self.tables.credentials.len() - 1) as u16
    }

    pub fn sp_index(&self, display: &str) -> Option<usize> {
        self.tenant
            .service_principals
            .iter()
            .position(|s| s.display == display)
    }

    pub fn push_audit(&mut self, audit: Audit) {
        self.tenant.audits.push(audit);
    }
}

pub fn build(spec: &Spec) -> Tenant {
    let start_ms = spec.end_ms - i64::from(spec.days.max(1)) * DAY;
    let mut ids = GuidSource::new(spec.seed);
    let tenant_id = ids.next_guid();
    let responder_app = ids.next_guid();
    let mut b = Build {
        rng: fastrand::Rng::with_seed(spec.seed),
        ids,
        start_ms,
        end_ms: spec.end_ms,
        tenant: Tenant {
            id: tenant_id,
            display: "Contoso".into(),
            initial_domain: INITIAL_DOMAIN.into(),
            users: Vec::new(),
            groups: Vec::new(),
            applications: Vec::new(),
            service_principals: Vec::new(),
            app_role_assignments: Vec::new(),
            grants: Vec::new(),
            role_assignments: Vec::new(),
            role_eligibilities: Vec::new(),
            domains: Vec::new(),
            federations: Vec::new(),
            ca_policies: Vec::new(),
            security_defaults_enabled: false,
            policies: super::policies::Policies::ordinary(
                &super::time::iso(start_ms - 200 * DAY),
                &tenant_id.to_string(),
            ),
            signins: SignInLog::default(),
            audits: Vec::new(),
            risks: Vec::new(),
            ual: Vec::new(),
            responder: Responder {
                app_id: responder_app,
                secret: String::new(),
                certificates: Vec::new(),
            },
            answer_key: AnswerKey {
                scenario: spec.scenario.name().into(),
                ..AnswerKey::default()
            },
            live: LiveSource::placeholder(),
        },
        tables: Tables {
            tenant_id,
            federation_issuer: FEDERATION_ISSUER.into(),
            forged_issuer: story::FORGED_ISSUER.into(),
            credentials: vec![Guid(0)],
            ..Tables::default()
        },
        records: Vec::new(),
        places: KnownPlaces {
            corp: Vec::new(),
            mobile: 0,
            azure: 0,
            attacker_portal: 0,
            attacker_api: 0,
        },
        sp_principal_base: 0,
        sp_app_index: Vec::new(),
        noise_users: 0,
        live_attacker: None,
    };
    for agent in AGENTS {
        b.agent(agent);
    }
    network(&mut b);
    let user_count = (spec.signins / 400).clamp(40, 5000) as usize;
    directory_users(&mut b, user_count);
    domains(&mut b);
    applications(&mut b);
    roles_and_groups(&mut b);
    conditional_access(&mut b);
    principals_table(&mut b);
    background_signins(&mut b, spec.signins);
    background_audits(&mut b, (u64::from(spec.days) * 15).max(spec.signins / 150));
    background_ual(&mut b, (u64::from(spec.days) * 20).max(spec.signins / 40));
    match spec.scenario {
        Scenario::Hardened => super::hardened::harden(&mut b),
        _ => security_debt(&mut b),
    }
    match spec.scenario {
        Scenario::GoldenSaml => story::golden_saml(&mut b),
        Scenario::Clean | Scenario::Hardened => {}
        Scenario::Hostile => story::hostile(&mut b),
    }
    b.tenant.responder.secret = responder_secret(&mut b.rng);
    finish(b)
}

/// A client secret in the shape Entra issues (40 characters, `~` inside).
fn responder_secret(rng: &mut fastrand::Rng) -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    let mut s: String = (0..3)
        .map(|_| ALPHABET[rng.usize(..ALPHABET.len())] as char)
        .collect();
    s.push_str("8Q~");
    s.extend((0..34).map(|_| ALPHABET[rng.usize(..ALPHABET.len())] as char));
    s
}

fn finish(mut b: Build) -> Tenant {
    let users = b.noise_users;
    let noise = NoiseModel::new(&mut b, users);
    let seed = b.rng.u64(..);
    b.tenant.live = LiveSource::new(noise, seed, b.live_attacker.take());
    b.tenant.audits.sort_by_key(|a| a.time_ms);
    b.tenant.risks.sort_by_key(|r| r.time_ms);
    b.tenant.ual.sort_by_key(|r| r.time_ms);
    let records = std::mem::take(&mut b.records);
    b.tenant.signins = SignInLog::new(std::mem::take(&mut b.tables), records);
    b.tenant
}

/// Addresses come from the documentation ranges (RFC 5737, RFC 3849) and
/// the ASNs from the documentation range (RFC 5398), so nothing here points
/// at a real network.
fn network(b: &mut Build) {
    for i in 10..14 {
        let p = b.place(
            &format!("198.51.100.{i}"),
            "Seattle",
            "Washington",
            "US",
            64500,
        );
        b.places.corp.push(p);
    }
    b.places.mobile = b.place("192.0.2.77", "Seattle", "Washington", "US", 64501);
    b.places.azure = b.place("198.51.100.200", "Quincy", "Washington", "US", 64502);
    b.places.attacker_portal = b.place(
        story::ATTACKER_IP_PORTAL,
        "Amsterdam",
        "Noord-Holland",
        "NL",
        64511,
    );
    b.places.attacker_api = b.place(
        story::ATTACKER_IP_API,
        "Frankfurt am Main",
        "Hessen",
        "DE",
        64511,
    );
}

pub(super) fn user(
    b: &mut Build,
    display: &str,
    upn: &str,
    synced: bool,
    job: &str,
    dept: &str,
) -> usize {
    let created = b.start_ms - (200 + b.rng.i64(0..1500)) * DAY;
    let home = {
        let (city, state) = CITIES[b.rng.usize(..CITIES.len())];
        let n = b.tenant.users.len();
        let ip = format!(
            "2001:db8:{:x}:{:x}::{:x}",
            0x100 + n / 256,
            n % 256,
            b.rng.u16(1..0xfff)
        );
        b.place(&ip, city, state, "US", 64496 + (n % 4) as u32)
    };
    let corp = b.places.corp[b.rng.usize(..b.places.corp.len())];
    let agents = vec![b.rng.u16(0..4), 4 + b.rng.u16(0..4)];
    let id = b.ids.next_guid();
    b.tenant.users.push(User {
        id,
        display: display.to_owned(),
        upn: upn.to_owned(),
        guest: upn.contains("#EXT#"),
        synced,
        enabled: true,
        created_ms: created,
        last_sign_in_ms: None,
        job_title: job.to_owned(),
        department: dept.to_owned(),
        methods: vec!["password", "microsoftAuthenticator"],
        refresh_tokens_valid_from_ms: created,
        password_changed_ms: created,
        usual_places: vec![corp, home],
        usual_agents: agents,
    });
    b.tenant.users.len() - 1
}

fn directory_users(b: &mut Build, count: usize) {
    let cloud = INITIAL_DOMAIN;
    user(
        b,
        "Break Glass 01",
        &format!("bg-admin01@{cloud}"),
        false,
        "Emergency access",
        "IT",
    );
    user(
        b,
        "Megan Bowen",
        &format!("megan.bowen@{DOMAIN}"),
        true,
        "IT Director",
        "IT",
    );
    user(
        b,
        "Adele Vance",
        &format!("adele.vance@{cloud}"),
        false,
        "Cloud Administrator",
        "IT",
    );
    user(
        b,
        "Grady Archie",
        &format!("grady.archie@{DOMAIN}"),
        true,
        "Messaging Engineer",
        "IT",
    );
    user(
        b,
        "Lynne Robbins",
        &format!("lynne.robbins@{DOMAIN}"),
        true,
        "Chief Executive Officer",
        "Executive",
    );
    user(
        b,
        "Patti Fernandez",
        &format!("patti.fernandez@{DOMAIN}"),
        true,
        "Chief Financial Officer",
        "Executive",
    );
    user(
        b,
        "Isaiah Langer",
        &format!("isaiah.langer@{DOMAIN}"),
        true,
        "Service Desk Lead",
        "IT",
    );
    user(
        b,
        "Joni Sherman (Fabrikam)",
        &format!("joni.sherman_fabrikam.com#EXT#@{cloud}"),
        false,
        "",
        "",
    );
    b.tenant.users[who::BREAK_GLASS].methods = vec!["password", "fido2"];
    b.tenant.users[who::GRADY].methods = vec!["password"];
    let stale = &mut b.tenant.users[who::STALE_GUEST];
    stale.last_sign_in_ms = Some(b.end_ms - 214 * DAY);
    let mut taken = std::collections::HashSet::new();
    while b.tenant.users.len() < count {
        let first = FIRST[b.rng.usize(..FIRST.len())];
        let last = LAST[b.rng.usize(..LAST.len())];
        let mut upn = format!("{}.{}@{DOMAIN}", first.to_lowercase(), last.to_lowercase());
        let mut n = 2;
        while !taken.insert(upn.clone()) {
            upn = format!(
                "{}.{}{n}@{DOMAIN}",
                first.to_lowercase(),
                last.to_lowercase()
            );
            n += 1;
        }
        let dept = DEPARTMENTS[b.rng.usize(..DEPARTMENTS.len())];
        if b.rng.u8(..100) < 3 {
            let guest = format!(
                "{}.{}_partner.example#EXT#@{INITIAL_DOMAIN}",
                first.to_lowercase(),
                last.to_lowercase()
            );
            user(
                b,
                &format!("{first} {last} (Partner)"),
                &guest,
                false,
                "",
                "",
            );
        } else {
            user(b, &format!("{first} {last}"), &upn, true, "Analyst", dept);
        }
    }
}

fn domains(b: &mut Build) {
    b.tenant.domains = vec![
        Domain {
            name: INITIAL_DOMAIN.into(),
            federated: false,
            is_default: false,
            is_initial: true,
        },
        Domain {
            name: DOMAIN.into(),
            federated: true,
            is_default: true,
            is_initial: false,
        },
    ];
    let id = b.ids.next_guid();
    // AD FS rolls its signing certificate yearly; this one is mid-life.
    let signing = story::certificate(
        &mut b.rng,
        "CN=ADFS Signing - sts.contoso.com",
        b.end_ms - 200 * DAY,
        365,
    );
    b.tenant.federations.push(Federation {
        id,
        domain: DOMAIN.into(),
        display: "Contoso AD FS".into(),
        issuer_uri: FEDERATION_ISSUER.into(),
        passive_sign_in_uri: "https://sts.contoso.com/adfs/ls/".into(),
        active_sign_in_uri: "https://sts.contoso.com/adfs/services/trust/2005/usernamemixed".into(),
        sign_out_uri: "https://sts.contoso.com/adfs/ls/?wa=wsignout1.0".into(),
        metadata_exchange_uri: "https://sts.contoso.com/adfs/services/trust/mex".into(),
        signing_certificate: signing,
        next_signing_certificate: None,
        mfa_behavior: "acceptIfMfaDoneByFederatedIdp",
    });
}

fn roles_and_groups(b: &mut Build) {
    // Standing (outside PIM) when `active_for` is None; else eligible in
    // PIM and activated for that long.
    let assign = |b: &mut Build, user: usize, role: &'static str, active_for: Option<i64>| {
        let key = b.key();
        let principal_id = b.tenant.users[user].id;
        let (created_ms, activated_until_ms) = match active_for {
            None => (b.start_ms - 600 * DAY, None),
            Some(span) => (b.end_ms - HOUR, Some(b.end_ms - HOUR + span)),
        };
        b.tenant.role_assignments.push(RoleAssignment {
            id: format!("{:x}", super::ids::mix(key)),
            principal_id,
            role_template_id: role,
            created_ms,
            activated_until_ms,
        });
        if active_for.is_some() {
            let id = b.ids.next_guid();
            b.tenant.role_eligibilities.push(RoleEligibility {
                id,
                principal_id,
                role_template_id: role,
                start_ms: b.start_ms - 400 * DAY,
                end_ms: b.end_ms + 365 * DAY,
            });
        }
    };
    // Break-glass accounts stay standing by design; Adele's is debt.
    assign(b, who::BREAK_GLASS, catalog::GLOBAL_ADMINISTRATOR, None);
    assign(b, who::ADELE, catalog::GLOBAL_ADMINISTRATOR, None);
    assign(b, who::MEGAN, catalog::GLOBAL_ADMINISTRATOR, Some(8 * HOUR));
    assign(
        b,
        who::GRADY,
        catalog::EXCHANGE_ADMINISTRATOR,
        Some(4 * HOUR),
    );
    assign(
        b,
        who::ISAIAH,
        catalog::HELPDESK_ADMINISTRATOR,
        Some(8 * HOUR),
    );
    let security = who::FIRST_REGULAR.min(b.tenant.users.len() - 1);
    assign(b, security, catalog::SECURITY_ADMINISTRATOR, Some(2 * HOUR));

    for (name, security) in [
        ("All Staff", false),
        ("IT Admins", true),
        ("Finance", true),
        ("VPN Users", true),
    ] {
        let members: Vec<Guid> = b
            .tenant
            .users
            .iter()
            .filter(|u| !u.guest && (name == "All Staff" || b.rng.u8(..4) == 0))
            .map(|u| u.id)
            .collect();
        let id = b.ids.next_guid();
        b.tenant.groups.push(Group {
            id,
            display: name.into(),
            description: format!("{name} of Contoso"),
            security,
            members,
            created_ms: b.start_ms - 600 * DAY,
        });
    }
}

fn conditional_access(b: &mut Build) {
    use serde_json::json;
    let mfa_admins = json!({
        "id": b.ids.next_guid().to_string(),
        "displayName": "Require MFA for administrators",
        "state": "enabled",
        "createdDateTime": super::time::iso(b.start_ms - 400 * DAY),
        "modifiedDateTime": super::time::iso(b.start_ms - 150 * DAY),
        // Switched off once to quiet a sign-in loop, and never back on.
        "sessionControls": { "continuousAccessEvaluation": { "mode": "disabled" } },
        "conditions": {
            "clientAppTypes": ["browser", "mobileAppsAndDesktopClients"],
            "users": { "includeRoles": [catalog::GLOBAL_ADMINISTRATOR, catalog::EXCHANGE_ADMINISTRATOR], "excludeUsers": [b.tenant.users[who::BREAK_GLASS].id.to_string()] },
            "applications": { "includeApplications": ["All"] },
        },
        "grantControls": { "operator": "OR", "builtInControls": ["mfa"] },
    });
    // Legacy authentication is only reported on, never blocked: security debt.
    let legacy = json!({
        "id": b.ids.next_guid().to_string(),
        "displayName": "Block legacy authentication",
        "state": "enabledForReportingButNotEnforced",
        "createdDateTime": super::time::iso(b.start_ms - 380 * DAY),
        "modifiedDateTime": super::time::iso(b.start_ms - 200 * DAY),
        "sessionControls": null,
        "conditions": {
            "clientAppTypes": ["exchangeActiveSync", "other"],
            "users": { "includeUsers": ["All"] },
            "applications": { "includeApplications": ["All"] },
        },
        "grantControls": { "operator": "OR", "builtInControls": ["block"] },
    });
    b.tenant.ca_policies = vec![mfa_admins, legacy];
}

/// Fills the sign-in tables: principals (users, then service principals),
/// and the apps they use.
fn principals_table(b: &mut Build) {
    for u in &b.tenant.users {
        b.tables.principals.push(Principal {
            id: u.id,
            display: u.display.clone(),
            upn: u.upn.clone(),
            guest: u.guest,
            app_id: String::new(),
            azure_resource: String::new(),
        });
    }
    b.sp_principal_base = b.tables.principals.len() as u32;
    let sp_of = |b: &Build, app_id: &str| {
        b.tenant
            .service_principals
            .iter()
            .find(|s| s.app_id == app_id)
            .map_or(String::new(), |s| s.id.to_string())
    };
    for (app_id, name) in catalog::CLIENT_APPS.iter().chain(catalog::RESOURCES) {
        let sp_id = sp_of(b, app_id);
        b.tables.apps.push(App {
            app_id: (*app_id).into(),
            name: (*name).into(),
            sp_id,
        });
    }
    b.tables.apps.push(App {
        app_id: KEY_VAULT_APP_ID.into(),
        name: "Azure Key Vault".into(),
        sp_id: String::new(),
    });
    let tenant = b.tenant.id;
    for sp in &b.tenant.service_principals {
        let azure_resource = if sp.kind == PrincipalType::ManagedIdentity {
            format!(
                "/subscriptions/{}/resourceGroups/prod/providers/Microsoft.Web/sites/{}",
                Guid::from_seed(tenant.0 as u64),
                sp.display
            )
        } else {
            String::new()
        };
        b.tables.principals.push(Principal {
            id: sp.id,
            display: sp.display.clone(),
            upn: String::new(),
            guest: false,
            app_id: sp.app_id.clone(),
            azure_resource,
        });
        let index = match b.tables.apps.iter().position(|a| a.app_id == sp.app_id) {
            Some(i) => i,
            None => {
                b.tables.apps.push(App {
                    app_id: sp.app_id.clone(),
                    name: sp.display.clone(),
                    sp_id: sp.id.to_string(),
                });
                b.tables.apps.len() - 1
            }
        };
        b.sp_app_index.push(index as u16);
    }
}

/// The tenant's own weaknesses, present in every scenario.
/// AD Connect's cloud account with a role beyond its own, and Cloud
/// Kerberos trust's key account synchronized: made from existing users
/// without drawing random numbers, so the story after them is unchanged.
fn hybrid_debt(b: &mut Build) {
    let template = b.tenant.users[who::MEGAN].clone();
    let seed = b.tenant.id.0 as u64;
    let mut sync = template.clone();
    sync.id = Guid(u128::from(super::ids::mix(seed ^ 0x5c)) << 64 | 0x5c);
    sync.display = "On-Premises Directory Synchronization Service Account".into();
    sync.upn = format!("Sync_ADCONNECT01_5d2a91c7e3f4@{INITIAL_DOMAIN}");
    sync.synced = false;
    sync.methods = vec!["password"];
    sync.last_sign_in_ms = Some(b.end_ms - HOUR);
    sync.job_title = String::new();
    let mut kerberos = template;
    kerberos.id = Guid(u128::from(super::ids::mix(seed ^ 0x4b)) << 64 | 0x4b);
    kerberos.display = "krbtgt_AzureAD".into();
    kerberos.upn = format!("krbtgt_AzureAD@{DOMAIN}");
    kerberos.synced = true;
    kerberos.enabled = false;
    kerberos.methods = vec!["password"];
    kerberos.last_sign_in_ms = None;
    kerberos.job_title = String::new();
    for (i, role) in [
        DIRECTORY_SYNCHRONIZATION,
        catalog::HYBRID_IDENTITY_ADMINISTRATOR,
    ]
    .into_iter()
    .enumerate()
    {
        b.tenant.role_assignments.push(RoleAssignment {
            id: format!("{:x}", super::ids::mix(seed ^ (0x51 + i as u64))),
            principal_id: sync.id,
            role_template_id: role,
            created_ms: b.start_ms - 500 * DAY,
            activated_until_ms: None,
        });
    }
    b.tenant.users.push(sync);
    b.tenant.users.push(kerberos);
}

/// The role AD Connect's account holds.
const DIRECTORY_SYNCHRONIZATION: &str = "d29b2b05-8046-44ba-8758-1e26182fcf32";

fn security_debt(b: &mut Build) {
    let exchange = b.sp_index("Office 365 Exchange Online").unwrap_or(0);
    let cred = credential(
        b,
        CredentialKind::Certificate,
        "CN=exchange-hybrid",
        b.start_ms - 500 * DAY,
    );
    b.tenant.service_principals[exchange].credentials.push(cred);
    // An automation app made an administrator of every app, not granted
    // just what it needs.
    if let Some(automation) = b.sp_index("IT Automation") {
        // Its id from the principal's, not the generator: the story after
        // this draws the same numbers with or without it.
        let principal_id = b.tenant.service_principals[automation].id;
        b.tenant.role_assignments.push(RoleAssignment {
            id: format!("{:x}", super::ids::mix(principal_id.0 as u64 ^ 0x5e1f)),
            principal_id,
            role_template_id: catalog::APPLICATION_ADMINISTRATOR,
            created_ms: b.start_ms - 300 * DAY,
            activated_until_ms: None,
        });
    }
    hybrid_debt(b);
    let users = &b.tenant.users;
    let analytics = b.sp_index("Marketing Analytics").unwrap_or(0);
    let debt = vec![
        Debt {
            kind: "permanentGlobalAdminOutsidePim",
            object: users[who::ADELE].upn.clone(),
            note: "Global Administrator as a standing assignment, not an eligible PIM role".into(),
        },
        Debt {
            kind: "syncedAdmin",
            object: users[who::MEGAN].upn.clone(),
            note: "Global Administrator synced from on-premises Active Directory".into(),
        },
        Debt {
            kind: "adminWithoutMfa",
            object: users[who::GRADY].upn.clone(),
            note: "Exchange Administrator with no authentication method but a password".into(),
        },
        Debt {
            kind: "firstPartyPrincipalWithCredential",
            object: catalog::EXCHANGE_APP_ID.into(),
            note: "Office 365 Exchange Online's service principal carries a certificate".into(),
        },
        Debt {
            kind: "tenantWideHighRiskGrant",
            object: b.tenant.service_principals[analytics].app_id.clone(),
            note:
                "Marketing Analytics holds Mail.ReadWrite and Directory.ReadWrite.All for all users"
                    .into(),
        },
        Debt {
            kind: "legacyAuthNotBlocked",
            object: "Block legacy authentication".into(),
            note: "The policy is report-only; IMAP and SMTP sign-ins succeed".into(),
        },
        Debt {
            kind: "federationAcceptsIdpMfa",
            object: DOMAIN.into(),
            note: "contoso.com takes the federation server's word for MFA (acceptIfMfaDoneByFederatedIdp)"
                .into(),
        },
        Debt {
            kind: "servicePrincipalInPrivilegedRole",
            object: "IT Automation".into(),
            note: "The IT Automation app holds Application Administrator as a standing assignment".into(),
        },
        Debt {
            kind: "singleUntestedEmergencyAccount",
            object: users[who::BREAK_GLASS].upn.clone(),
            note: "One emergency access account, never signed in to (untested)".into(),
        },
        Debt {
            kind: "conditionalAccessGaps",
            object: "conditional access".into(),
            note: "No MFA for all users, no risk-based policies, device code flow and authentication transfer open, security-info registration unguarded, no phishing-resistant strength for administrators".into(),
        },
        Debt {
            kind: "adminToolsOpen",
            object: "Microsoft Graph Command Line Tools".into(),
            note: "Microsoft's administration tools (Graph and Azure PowerShell, Azure CLI, Graph Explorer) have no service principal requiring assignment".into(),
        },
        Debt {
            kind: "multiTenantAppUnlocked",
            object: "Marketing Analytics".into(),
            note: "A multi-tenant app without app instance property lock".into(),
        },
        Debt {
            kind: "authorizationPolicyDefaults",
            object: "authorization policy".into(),
            note: "Users consent to apps and register them, anyone invites guests who see what members see, MSOnline PowerShell open, administrators use self-service reset".into(),
        },
        Debt {
            kind: "adminConsentWorkflowOff",
            object: "admin consent request policy".into(),
            note: "No admin consent workflow".into(),
        },
        Debt {
            kind: "weakAuthenticationMethods",
            object: "authentication methods policy".into(),
            note: "SMS, voice and e-mail codes on, reusable Temporary Access Passes, Authenticator without context, no suspicious-activity reporting, migration in progress".into(),
        },
        Debt {
            kind: "continuousAccessEvaluationOff",
            object: "Require MFA for administrators".into(),
            note: "The administrators' policy switches continuous access evaluation off".into(),
        },
        Debt {
            kind: "appCredentialsUnrestricted",
            object: "default app management policy".into(),
            note: "Apps may get new client secrets of any lifetime".into(),
        },
        Debt {
            kind: "crossTenantOpen",
            object: "default cross-tenant access".into(),
            note: "B2B collaboration and direct connect open to every tenant by default".into(),
        },
        Debt {
            kind: "longTokenLifetime",
            object: "Long access tokens".into(),
            note: "An organization-default token lifetime policy of eight hours".into(),
        },
        Debt {
            kind: "syncTakeoverOpen",
            object: "on-premises synchronization".into(),
            note: "Soft and hard match may take over cloud accounts".into(),
        },
        Debt {
            kind: "globalAdminPimDefaults",
            object: "Global Administrator".into(),
            note: "Global Administrator activates without approval and alerts go only to the default recipients".into(),
        },
        Debt {
            kind: "kerberosAccountSynced",
            object: format!("krbtgt_AzureAD@{DOMAIN}"),
            note: "Cloud Kerberos trust's krbtgt_AzureAD account is synchronized to the cloud".into(),
        },
        Debt {
            kind: "syncAccountPrivileged",
            object: format!("Sync_ADCONNECT01_5d2a91c7e3f4@{INITIAL_DOMAIN}"),
            note: "AD Connect's account also holds Hybrid Identity Administrator".into(),
        },
        Debt {
            kind: "staleGuest",
            object: users[who::STALE_GUEST].upn.clone(),
            note: "Guest with no sign-in for over 200 days".into(),
        },
    ];
    b.tenant.answer_key.debt = debt;
}
