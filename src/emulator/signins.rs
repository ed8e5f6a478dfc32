//! Sign-in events, stored compactly and written as Graph JSON per request.
//!
//! A record is a few dozen bytes of indexes into shared tables (principals,
//! apps, places, user agents), so two million sign-ins stay around 100 MB.
//! Records are kept sorted by time; a page is a binary search plus a scan
//! backwards (Graph lists newest first).

use serde::Serialize;
use serde::ser::SerializeSeq;

use super::ids::{Guid, mix};
use super::time::iso;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Kind {
    Interactive = 0,
    NonInteractive = 1,
    ServicePrincipal = 2,
    ManagedIdentity = 3,
}

impl Kind {
    pub const ALL: [Kind; 4] = [
        Kind::Interactive,
        Kind::NonInteractive,
        Kind::ServicePrincipal,
        Kind::ManagedIdentity,
    ];

    /// The `signInEventTypes` value.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Interactive => "interactiveUser",
            Kind::NonInteractive => "nonInteractiveUser",
            Kind::ServicePrincipal => "servicePrincipal",
            Kind::ManagedIdentity => "managedIdentity",
        }
    }

    pub fn from_name(name: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.name() == name)
    }

    pub fn bit(self) -> u8 {
        1 << (self as u8)
    }

    pub fn is_user(self) -> bool {
        matches!(self, Kind::Interactive | Kind::NonInteractive)
    }
}

/// How the sign-in satisfied authentication.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Auth {
    SingleFactor,
    /// MFA done by Entra ID (push notification).
    MfaInCloud,
    /// MFA claimed by the federation server inside the token: what a forged
    /// SAML token carries.
    MfaByClaim,
    /// A refresh or session token: MFA satisfied earlier.
    PreviouslySatisfied,
    /// An application authenticating with a secret or certificate.
    ClientCredential,
}

/// Who issued the token that was presented.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Issuer {
    EntraId,
    /// The tenant's own AD FS farm.
    Adfs,
    /// A token minted with a stolen or attacker-added signing key.
    AdfsForged,
}

/// Who signed in: a user, a service principal or a managed identity.
#[derive(Clone, Debug)]
pub struct Principal {
    pub id: Guid,
    pub display: String,
    /// User principal name; empty for service principals.
    pub upn: String,
    pub guest: bool,
    /// For service principals and managed identities: their appId.
    pub app_id: String,
    /// For managed identities: the Azure resource they belong to.
    pub azure_resource: String,
}

#[derive(Clone, Debug)]
pub struct App {
    pub app_id: String,
    pub name: String,
    /// The app's service principal in this tenant, when it has one.
    pub sp_id: String,
}

/// A network location: address with its geography and ASN.
#[derive(Clone, Debug)]
pub struct Place {
    pub ip: String,
    pub city: String,
    pub state: String,
    pub country: String,
    pub asn: u32,
}

#[derive(Clone, Copy, Debug)]
pub struct SignIn {
    pub time_ms: i64,
    /// Seed of the id, correlation id and token id.
    pub key: u64,
    pub principal: u32,
    pub place: u32,
    pub app: u16,
    pub resource: u16,
    pub agent: u16,
    /// Index into the credential key ids (0: none) for application sign-ins.
    pub credential: u16,
    pub error: u32,
    pub kind: Kind,
    pub auth: Auth,
    pub issuer: Issuer,
    /// 0 none, 1 low, 2 medium, 3 high.
    pub risk: u8,
    /// `clientAppUsed` index (see `CLIENT_APPS_USED`).
    pub client: u8,
}

impl SignIn {
    pub fn id(&self) -> Guid {
        Guid::from_seed(self.key)
    }

    fn correlation(&self) -> Guid {
        Guid::from_seed(mix(self.key ^ 0xc0ffee))
    }

    fn sort_key(&self) -> (i64, u64) {
        (self.time_ms, self.key)
    }
}

/// Values of `clientAppUsed`; the legacy protocols come last.
pub const CLIENT_APPS_USED: &[&str] = &[
    "Browser",
    "Mobile Apps and Desktop clients",
    "Exchange ActiveSync",
    "IMAP4",
    "Authenticated SMTP",
];
pub const LEGACY_CLIENT_START: u8 = 2;

/// AADSTS error codes the generator uses, with Graph's failure text.
pub fn failure_reason(code: u32) -> &'static str {
    match code {
        0 => "",
        50126 => "Error validating credentials due to invalid username or password.",
        50074 => "Strong Authentication is required.",
        50140 => {
            "This error occurred due to 'Keep me signed in' interrupt when the user was signing in."
        }
        500121 => "Authentication failed during strong authentication request.",
        53003 => {
            "Access has been blocked by Conditional Access policies. The access policy does not allow token issuance."
        }
        50053 => {
            "Account is locked because user tried to sign in too many times with an incorrect user ID or password."
        }
        5000811 => {
            "Unable to verify token signature. The signing key identifier does not match any valid registered keys."
        }
        7000215 => "Invalid client secret is provided.",
        _ => "Other.",
    }
}

/// Shared tables every record points into.
#[derive(Clone, Debug, Default)]
pub struct Tables {
    pub principals: Vec<Principal>,
    pub apps: Vec<App>,
    pub places: Vec<Place>,
    pub agents: Vec<String>,
    /// Credential key ids used by application sign-ins; index 0 is "none".
    pub credentials: Vec<Guid>,
    pub tenant_id: Guid,
    pub federation_issuer: String,
    pub forged_issuer: String,
}

/// All sign-ins, sorted by (time, key).
#[derive(Debug, Default)]
pub struct SignInLog {
    pub tables: Tables,
    records: Vec<SignIn>,
}

/// Which sign-ins a request selects.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Selection {
    /// Bit set of `Kind::bit()`.
    pub kinds: u8,
    pub from_ms: i64,
    pub to_ms: i64,
    pub principal: Option<u32>,
    pub app_id: Option<String>,
    pub ip: Option<String>,
    pub id: Option<Guid>,
}

impl Default for Selection {
    fn default() -> Self {
        Self {
            kinds: Kind::Interactive.bit(),
            from_ms: i64::MIN,
            to_ms: i64::MAX,
            principal: None,
            app_id: None,
            ip: None,
            id: None,
        }
    }
}

/// Where the next page starts: strictly older than this (time, key).
pub type Cursor = (i64, u64);

impl SignInLog {
    pub fn new(tables: Tables, mut records: Vec<SignIn>) -> Self {
        records.sort_unstable_by_key(SignIn::sort_key);
        Self { tables, records }
    }

    pub fn len(&self) -> usize {
        self.records.len()
    }

    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    pub fn records(&self) -> &[SignIn] {
        &self.records
    }

    /// Adds records (live mode); keeps the order.
    pub fn insert(&mut self, new: impl IntoIterator<Item = SignIn>) {
        for record in new {
            let at = self
                .records
                .partition_point(|r| r.sort_key() < record.sort_key());
            self.records.insert(at, record);
        }
    }

    fn matches(&self, r: &SignIn, s: &Selection) -> bool {
        s.kinds & r.kind.bit() != 0
            && s.principal.is_none_or(|p| p == r.principal)
            && s.id.is_none_or(|id| id == r.id())
            && s.app_id.as_deref().is_none_or(|a| {
                self.tables.apps[usize::from(r.app)]
                    .app_id
                    .eq_ignore_ascii_case(a)
            })
            && s.ip
                .as_deref()
                .is_none_or(|ip| self.tables.places[r.place as usize].ip == ip)
    }

    /// Up to `top` records, newest first, older than `after`; and the cursor
    /// of the next page when more remain.
    pub fn page(
        &self,
        s: &Selection,
        top: usize,
        after: Option<Cursor>,
    ) -> (Vec<&SignIn>, Option<Cursor>) {
        let upper = match after {
            Some(cursor) => self.records.partition_point(|r| r.sort_key() < cursor),
            None => self.records.partition_point(|r| r.time_ms <= s.to_ms),
        };
        let mut page = Vec::with_capacity(top.min(1024));
        let mut more = false;
        for r in self.records[..upper].iter().rev() {
            if r.time_ms < s.from_ms {
                break;
            }
            if !self.matches(r, s) {
                continue;
            }
            if page.len() == top {
                more = true;
                break;
            }
            page.push(r);
        }
        let next = if more {
            page.last().map(|r| r.sort_key())
        } else {
            None
        };
        (page, next)
    }

    pub fn wire<'a>(&'a self, r: &'a SignIn, beta: bool) -> WireSignIn<'a> {
        WireSignIn { log: self, r, beta }
    }
}

/// One sign-in as Graph JSON (v1.0 fields, plus beta's when `beta`).
pub struct WireSignIn<'a> {
    log: &'a SignInLog,
    r: &'a SignIn,
    beta: bool,
}

/// Writes a page of sign-ins as a JSON array without building a tree.
pub struct WirePage<'a> {
    pub log: &'a SignInLog,
    pub records: &'a [&'a SignIn],
    pub beta: bool,
}

impl Serialize for WirePage<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(self.records.len()))?;
        for r in self.records {
            seq.serialize_element(&self.log.wire(r, self.beta))?;
        }
        seq.end()
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Status<'a> {
    error_code: u32,
    failure_reason: Option<&'a str>,
    additional_details: Option<&'a str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct DeviceDetail<'a> {
    device_id: &'a str,
    display_name: &'a str,
    operating_system: &'a str,
    browser: &'a str,
    is_compliant: bool,
    is_managed: bool,
    trust_type: &'a str,
}

#[derive(Serialize)]
struct Empty {}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Location<'a> {
    city: &'a str,
    state: &'a str,
    country_or_region: &'a str,
    geo_coordinates: Empty,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct AuthStep<'a> {
    authentication_step_date_time: &'a str,
    authentication_method: &'a str,
    authentication_method_detail: Option<&'a str>,
    succeeded: bool,
    authentication_step_result_detail: &'a str,
    authentication_step_requirement: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ManagedIdentityDetail<'a> {
    msi_type: &'a str,
    associated_resource_id: &'a str,
    federated_token_id: Option<&'a str>,
    federated_token_issuer: Option<&'a str>,
}

fn risk_level(risk: u8) -> &'static str {
    match risk {
        0 => "none",
        1 => "low",
        2 => "medium",
        _ => "high",
    }
}

/// Operating system and browser, guessed from the user agent like Entra does.
fn device_from_agent(agent: &str) -> (&'static str, &'static str) {
    let os = if agent.contains("Windows") {
        "Windows 10"
    } else if agent.contains("iPhone") || agent.contains("iOS") {
        "Ios"
    } else if agent.contains("Android") {
        "Android"
    } else if agent.contains("Mac OS") || agent.contains("Macintosh") {
        "MacOs"
    } else if agent.contains("Linux") {
        "Linux"
    } else {
        ""
    };
    let browser = if agent.contains("Edg/") {
        "Edge 131.0.0"
    } else if agent.contains("Chrome/") {
        "Chrome 131.0.0"
    } else if agent.contains("Firefox/") {
        "Firefox 133.0"
    } else if agent.contains("Safari/") {
        "Safari 18.1"
    } else if agent.contains("python") || agent.contains("PowerShell") {
        "Rich Client"
    } else {
        ""
    };
    (os, browser)
}

impl Serialize for WireSignIn<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let r = self.r;
        let t = &self.log.tables;
        let who = &t.principals[r.principal as usize];
        let app = &t.apps[usize::from(r.app)];
        let resource = &t.apps[usize::from(r.resource)];
        let place = &t.places[r.place as usize];
        let agent = t
            .agents
            .get(usize::from(r.agent))
            .map_or("", String::as_str);
        let when = iso(r.time_ms);
        let user = r.kind.is_user();
        let failed = r.error != 0;
        let reason = failure_reason(r.error);
        let ca_status = match (r.error, r.kind) {
            (53003, _) => "failure",
            (_, Kind::ServicePrincipal | Kind::ManagedIdentity) => "notApplied",
            _ if r.auth == Auth::SingleFactor => "notApplied",
            _ => "success",
        };
        let (os, browser) = device_from_agent(agent);

        let mut m = serializer.serialize_map(None)?;
        m.serialize_entry("id", &r.id().to_string())?;
        m.serialize_entry("createdDateTime", &when)?;
        m.serialize_entry(
            "userDisplayName",
            if user { who.display.as_str() } else { "" },
        )?;
        m.serialize_entry(
            "userPrincipalName",
            if user { who.upn.as_str() } else { "" },
        )?;
        m.serialize_entry(
            "userId",
            &if user {
                who.id.to_string()
            } else {
                String::new()
            },
        )?;
        m.serialize_entry("appId", &app.app_id)?;
        m.serialize_entry("appDisplayName", &app.name)?;
        m.serialize_entry("ipAddress", &place.ip)?;
        m.serialize_entry("clientAppUsed", CLIENT_APPS_USED[usize::from(r.client)])?;
        m.serialize_entry("correlationId", &r.correlation().to_string())?;
        m.serialize_entry("conditionalAccessStatus", ca_status)?;
        m.serialize_entry("isInteractive", &(r.kind == Kind::Interactive))?;
        m.serialize_entry("riskDetail", "none")?;
        m.serialize_entry("riskLevelAggregated", risk_level(r.risk))?;
        m.serialize_entry("riskLevelDuringSignIn", risk_level(r.risk))?;
        m.serialize_entry("riskState", if r.risk > 0 { "atRisk" } else { "none" })?;
        let risk_events: &[&str] = match (r.risk, r.issuer) {
            (0, _) => &[],
            (_, Issuer::AdfsForged) => &["tokenIssuerAnomaly"],
            _ => &["unfamiliarFeatures"],
        };
        m.serialize_entry("riskEventTypes", risk_events)?;
        m.serialize_entry("resourceDisplayName", &resource.name)?;
        m.serialize_entry("resourceId", &resource.app_id)?;
        m.serialize_entry(
            "status",
            &Status {
                error_code: r.error,
                failure_reason: failed.then_some(reason),
                additional_details: match r.auth {
                    Auth::MfaByClaim if !failed => {
                        Some("MFA requirement satisfied by claim in the token")
                    }
                    Auth::MfaInCloud if !failed => Some("MFA completed in Azure AD"),
                    _ => None,
                },
            },
        )?;
        m.serialize_entry(
            "deviceDetail",
            &DeviceDetail {
                device_id: "",
                display_name: "",
                operating_system: if user { os } else { "" },
                browser: if user { browser } else { "" },
                is_compliant: false,
                is_managed: false,
                trust_type: "",
            },
        )?;
        m.serialize_entry(
            "location",
            &Location {
                city: &place.city,
                state: &place.state,
                country_or_region: &place.country,
                geo_coordinates: Empty {},
            },
        )?;
        m.serialize_entry("appliedConditionalAccessPolicies", &[] as &[Empty])?;
        if !self.beta {
            return m.end();
        }

        // Beta-only fields.
        m.serialize_entry("signInEventTypes", &[r.kind.name()])?;
        m.serialize_entry("riskEventTypes_v2", risk_events)?;
        m.serialize_entry("userType", if who.guest { "guest" } else { "member" })?;
        m.serialize_entry("userAgent", agent)?;
        m.serialize_entry(
            "signInIdentifier",
            if r.kind == Kind::Interactive {
                who.upn.as_str()
            } else {
                ""
            },
        )?;
        m.serialize_entry("homeTenantId", &t.tenant_id.to_string())?;
        m.serialize_entry("homeTenantName", "")?;
        m.serialize_entry("resourceTenantId", &t.tenant_id.to_string())?;
        m.serialize_entry("resourceServicePrincipalId", &resource.sp_id)?;
        m.serialize_entry("azureResourceId", "")?;
        m.serialize_entry("federatedCredentialId", "")?;
        m.serialize_entry("authenticationContextClassReferences", &[] as &[Empty])?;
        m.serialize_entry("authenticationAppDeviceDetails", &[] as &[Empty])?;
        m.serialize_entry("authenticationAppPolicyDetails", &[] as &[Empty])?;
        m.serialize_entry("autonomousSystemNumber", &place.asn)?;
        m.serialize_entry("originalRequestId", &r.id().to_string())?;
        m.serialize_entry(
            "uniqueTokenIdentifier",
            &format!("{:016x}{:08x}", mix(r.key ^ 7), r.key as u32),
        )?;
        m.serialize_entry("processingTimeInMilliseconds", &(40 + (r.key % 400)))?;
        m.serialize_entry(
            "crossTenantAccessType",
            if who.guest {
                "b2bCollaboration"
            } else {
                "none"
            },
        )?;
        m.serialize_entry("isTenantRestricted", &false)?;
        m.serialize_entry("flaggedForReview", &false)?;
        let requirement = match r.auth {
            Auth::MfaInCloud | Auth::MfaByClaim | Auth::PreviouslySatisfied => {
                "multiFactorAuthentication"
            }
            Auth::SingleFactor | Auth::ClientCredential => "singleFactorAuthentication",
        };
        m.serialize_entry("authenticationRequirement", requirement)?;
        let (issuer_type, issuer_name) = match r.issuer {
            Issuer::EntraId => ("AzureAD", ""),
            Issuer::Adfs => ("ADFederationServices", t.federation_issuer.as_str()),
            Issuer::AdfsForged => ("ADFederationServices", t.forged_issuer.as_str()),
        };
        m.serialize_entry("tokenIssuerType", issuer_type)?;
        m.serialize_entry("tokenIssuerName", issuer_name)?;
        let incoming = match (r.issuer, r.auth) {
            (Issuer::Adfs | Issuer::AdfsForged, _) => "saml11",
            (_, Auth::PreviouslySatisfied) => "refreshToken",
            _ => "none",
        };
        m.serialize_entry("incomingTokenType", incoming)?;
        m.serialize_entry(
            "authenticationProtocol",
            match (r.issuer, r.kind) {
                (Issuer::Adfs | Issuer::AdfsForged, _) => "wsFederation",
                (_, Kind::Interactive) => "oAuth2",
                _ => "none",
            },
        )?;
        let methods: &[&str] = match r.auth {
            Auth::SingleFactor => &["Password"],
            Auth::MfaInCloud => &["Password", "Mobile app notification"],
            Auth::MfaByClaim => &[],
            Auth::PreviouslySatisfied => &[],
            Auth::ClientCredential => &[],
        };
        m.serialize_entry("authenticationMethodsUsed", methods)?;
        let mut steps = Vec::new();
        if user && r.kind == Kind::Interactive {
            let primary = match r.issuer {
                Issuer::EntraId => ("Password", Some("Password Hash Sync")),
                Issuer::Adfs | Issuer::AdfsForged => ("Password", Some("Federated")),
            };
            steps.push(AuthStep {
                authentication_step_date_time: &when,
                authentication_method: primary.0,
                authentication_method_detail: primary.1,
                succeeded: !failed || r.auth == Auth::MfaInCloud,
                authentication_step_result_detail: if failed { reason } else { "Correct password" },
                authentication_step_requirement: "Primary authentication",
            });
            match r.auth {
                Auth::MfaInCloud => steps.push(AuthStep {
                    authentication_step_date_time: &when,
                    authentication_method: "Mobile app notification",
                    authentication_method_detail: None,
                    succeeded: !failed,
                    authentication_step_result_detail: if failed { reason } else { "MFA successfully completed" },
                    authentication_step_requirement: "Multi-factor authentication",
                }),
                Auth::MfaByClaim => steps.push(AuthStep {
                    authentication_step_date_time: &when,
                    authentication_method: "Claim in access token",
                    authentication_method_detail: None,
                    succeeded: !failed,
                    authentication_step_result_detail: "MFA requirement satisfied by claim in the token",
                    authentication_step_requirement: "Multi-factor authentication",
                }),
                Auth::SingleFactor | Auth::PreviouslySatisfied | Auth::ClientCredential => {}
            }
        } else if user {
            steps.push(AuthStep {
                authentication_step_date_time: &when,
                authentication_method: "Previously satisfied",
                authentication_method_detail: None,
                succeeded: !failed,
                authentication_step_result_detail: if failed {
                    reason
                } else {
                    "First factor requirement satisfied by claim in the token"
                },
                authentication_step_requirement: "Primary authentication",
            });
        }
        m.serialize_entry("authenticationDetails", &steps)?;
        m.serialize_entry("authenticationProcessingDetails", &[] as &[Empty])?;
        m.serialize_entry("authenticationRequirementPolicies", &[] as &[Empty])?;
        m.serialize_entry("sessionLifetimePolicies", &[] as &[Empty])?;
        m.serialize_entry("networkLocationDetails", &[] as &[Empty])?;
        m.serialize_entry("mfaDetail", &None::<()>)?;
        let app_signin = !user;
        m.serialize_entry(
            "servicePrincipalId",
            &if app_signin {
                who.id.to_string()
            } else {
                String::new()
            },
        )?;
        m.serialize_entry(
            "servicePrincipalName",
            if app_signin { who.display.as_str() } else { "" },
        )?;
        let key_id = t
            .credentials
            .get(usize::from(r.credential))
            .filter(|_| r.credential != 0);
        m.serialize_entry(
            "servicePrincipalCredentialKeyId",
            &key_id.map_or(String::new(), Guid::to_string),
        )?;
        m.serialize_entry("servicePrincipalCredentialThumbprint", "")?;
        m.serialize_entry(
            "clientCredentialType",
            match r.kind {
                Kind::ServicePrincipal => "clientSecret",
                Kind::ManagedIdentity => "managedIdentity",
                Kind::Interactive | Kind::NonInteractive => "none",
            },
        )?;
        let msi = ManagedIdentityDetail {
            msi_type: if r.kind == Kind::ManagedIdentity {
                "systemAssigned"
            } else {
                "none"
            },
            associated_resource_id: &who.azure_resource,
            federated_token_id: None,
            federated_token_issuer: None,
        };
        m.serialize_entry("managedServiceIdentity", &msi)?;
        m.end()
    }
}
