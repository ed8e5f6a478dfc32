//! One sign-in as the feed holds it: [`SignInRow`] as the live task hands
//! it over (owned, sanitised strings), and [`Stored`], the compact form the
//! table keeps for a million of them.

use jiff::Timestamp;

use super::intern::{Interner, Sym};
use crate::model::{SafeText, SignIn, SignInKind};

/// The kind of sign-in, as one short column.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Kind {
    #[default]
    Interactive,
    NonInteractive,
    ServicePrincipal,
    ManagedIdentity,
    Other,
}

impl Kind {
    pub const ALL: [Kind; 5] = [
        Kind::Interactive,
        Kind::NonInteractive,
        Kind::ServicePrincipal,
        Kind::ManagedIdentity,
        Kind::Other,
    ];

    pub fn short(self) -> &'static str {
        match self {
            Kind::Interactive => "user",
            Kind::NonInteractive => "nonint",
            Kind::ServicePrincipal => "sp",
            Kind::ManagedIdentity => "mi",
            Kind::Other => "?",
        }
    }

    /// The kind a filter or command names: the short column text or the
    /// live stream's name.
    pub fn parse(text: &str) -> Option<Kind> {
        Some(match text.to_ascii_lowercase().as_str() {
            "user" | "interactive" | "i" => Kind::Interactive,
            "nonint" | "noninteractive" | "n" => Kind::NonInteractive,
            "sp" | "serviceprincipal" | "app" => Kind::ServicePrincipal,
            "mi" | "managedidentity" => Kind::ManagedIdentity,
            "other" | "?" => Kind::Other,
            _ => return None,
        })
    }

    /// The live stream that delivers this kind.
    pub fn stream(self) -> &'static str {
        match self {
            Kind::Interactive => "interactive",
            Kind::NonInteractive => "noninteractive",
            Kind::ServicePrincipal => "serviceprincipal",
            Kind::ManagedIdentity => "managedidentity",
            Kind::Other => "other",
        }
    }

    pub fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

/// Risk during sign-in, ordered.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Risk {
    #[default]
    Unknown,
    None,
    Low,
    Medium,
    High,
}

impl Risk {
    pub fn parse(text: &str) -> Risk {
        match text.to_ascii_lowercase().as_str() {
            "none" => Risk::None,
            "low" => Risk::Low,
            "medium" => Risk::Medium,
            "high" => Risk::High,
            _ => Risk::Unknown,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Risk::Unknown => "",
            Risk::None => "none",
            Risk::Low => "low",
            Risk::Medium => "medium",
            Risk::High => "high",
        }
    }
}

/// What conditional access made of the sign-in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Access {
    #[default]
    Unknown,
    NotApplied,
    Success,
    Failure,
}

impl Access {
    pub fn parse(text: &str) -> Access {
        match text {
            "notApplied" => Access::NotApplied,
            "success" => Access::Success,
            "failure" => Access::Failure,
            _ => Access::Unknown,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Access::Unknown => "",
            Access::NotApplied => "none",
            Access::Success => "pass",
            Access::Failure => "FAIL",
        }
    }
}

/// What the sign-in asked for and what satisfied it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Mfa {
    #[default]
    Unknown,
    SingleFactor,
    MultiFactor,
    /// MFA satisfied by a claim in the token: what a forged SAML token shows.
    Claim,
}

impl Mfa {
    pub fn label(self) -> &'static str {
        match self {
            Mfa::Unknown => "",
            Mfa::SingleFactor => "1fa",
            Mfa::MultiFactor => "mfa",
            Mfa::Claim => "claim",
        }
    }
}

/// What the live task hands the console: one sign-in, every string
/// already sanitised.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SignInRow {
    /// Graph's id of the event (what notes and findings link to).
    pub id: SafeText,
    pub time: Timestamp,
    pub kind: Kind,
    /// The user's principal name, or the service principal's name.
    pub principal: SafeText,
    pub app: SafeText,
    pub resource: SafeText,
    pub ip: SafeText,
    /// Two-letter country or region code.
    pub country: SafeText,
    pub city: SafeText,
    /// 0 when unknown.
    pub asn: u32,
    /// `clientAppUsed`, or the start of the user agent without it.
    pub client: SafeText,
    /// The client speaks a legacy protocol (no MFA possible).
    pub legacy: bool,
    pub mfa: Mfa,
    /// How the second factor was done (`Mobile app notification`, …).
    pub mfa_method: SafeText,
    pub access: Access,
    /// 0 for success.
    pub error_code: i64,
    pub risk: Risk,
}

/// The client apps Entra ID counts as modern authentication; every other
/// value of `clientAppUsed` is a legacy protocol.
const MODERN_CLIENTS: &[&str] = &["Browser", "Mobile Apps and Desktop clients", ""];

impl SignInRow {
    pub fn from_signin(s: &SignIn) -> Option<Self> {
        let kind = match s.kind() {
            SignInKind::Interactive => Kind::Interactive,
            SignInKind::NonInteractive => Kind::NonInteractive,
            SignInKind::ServicePrincipal => Kind::ServicePrincipal,
            SignInKind::ManagedIdentity => Kind::ManagedIdentity,
            SignInKind::Other(_) => Kind::Other,
        };
        let principal = [
            &s.user_principal_name,
            &s.service_principal_name,
            &s.user_display_name,
        ]
        .into_iter()
        .find(|t| !t.as_str().is_empty())
        .cloned()
        .unwrap_or_default();
        let mfa = if s.mfa_by_claim() {
            Mfa::Claim
        } else {
            match s.authentication_requirement.as_str() {
                "multiFactorAuthentication" => Mfa::MultiFactor,
                "singleFactorAuthentication" => Mfa::SingleFactor,
                _ => Mfa::Unknown,
            }
        };
        // The step that was the second factor, when one was done.
        let mfa_method = s
            .authentication_details
            .iter()
            .rev()
            .find(|step| step.succeeded != Some(false) && !step.authentication_method.is_empty())
            .filter(|_| mfa != Mfa::SingleFactor)
            .map(|step| step.authentication_method.clone())
            .unwrap_or_default();
        let client = if s.client_app_used.is_empty() {
            short_agent(&s.user_agent)
        } else {
            s.client_app_used.clone()
        };
        Some(Self {
            id: s.id.clone(),
            time: s.created_date_time?,
            kind,
            principal,
            app: s.app_display_name.clone(),
            resource: s.resource_display_name.clone(),
            ip: s.ip_address.clone(),
            country: s.location.country_or_region.clone(),
            city: s.location.city.clone(),
            asn: s
                .autonomous_system_number
                .and_then(|n| u32::try_from(n).ok())
                .unwrap_or(0),
            legacy: !MODERN_CLIENTS.contains(&s.client_app_used.as_str()),
            client,
            mfa,
            mfa_method,
            access: Access::parse(s.conditional_access_status.as_str()),
            error_code: s.status.error_code.unwrap_or(0),
            risk: Risk::parse(s.risk_level_during_sign_in.as_str()),
        })
    }
}

/// The product token of a user agent (`python-requests/2.31`), enough to
/// tell a script from a browser in a narrow column.
fn short_agent(agent: &SafeText) -> SafeText {
    match agent.as_str().split_whitespace().next() {
        Some(first) if first.len() < agent.as_str().len() => SafeText::new(first),
        _ => agent.clone(),
    }
}

/// A sign-in as the table keeps it: 64 bytes, strings by symbol.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stored {
    /// Microseconds since the epoch.
    pub micros: i64,
    /// Where the event id starts in the feed's id text.
    pub id: u32,
    pub principal: Sym,
    pub app: Sym,
    pub resource: Sym,
    pub ip: Sym,
    pub country: Sym,
    pub city: Sym,
    pub client: Sym,
    pub mfa_method: Sym,
    pub asn: u32,
    pub error_code: i32,
    pub id_len: u16,
    pub kind: Kind,
    pub risk: Risk,
    pub mfa: Mfa,
    pub access: Access,
    pub legacy: bool,
}

impl Stored {
    pub fn new(row: &SignInRow, id: u32, strings: &mut Interner) -> Self {
        Self {
            micros: row.time.as_microsecond(),
            id,
            id_len: row.id.as_str().len().min(u16::MAX as usize) as u16,
            principal: strings.intern(&row.principal),
            app: strings.intern(&row.app),
            resource: strings.intern(&row.resource),
            ip: strings.intern(&row.ip),
            country: strings.intern(&row.country),
            city: strings.intern(&row.city),
            client: strings.intern(&row.client),
            mfa_method: strings.intern(&row.mfa_method),
            asn: row.asn,
            error_code: i32::try_from(row.error_code).unwrap_or(i32::MAX),
            kind: row.kind,
            risk: row.risk,
            mfa: row.mfa,
            access: row.access,
            legacy: row.legacy,
        }
    }

    pub fn failed(&self) -> bool {
        self.error_code != 0
    }

    pub fn risky(&self) -> bool {
        self.risk >= Risk::Medium
    }

    pub fn time(&self) -> Timestamp {
        Timestamp::from_microsecond(self.micros).unwrap_or(Timestamp::UNIX_EPOCH)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stored_row_stays_small() {
        assert!(std::mem::size_of::<Stored>() <= 64);
    }

    #[test]
    fn a_forged_token_sign_in_reads_as_mfa_by_claim() {
        let s: SignIn = serde_json::from_value(serde_json::json!({
            "id": "1", "createdDateTime": "2026-11-25T10:00:00Z",
            "userPrincipalName": "adele@contoso.com",
            "clientAppUsed": "Browser",
            "authenticationRequirement": "multiFactorAuthentication",
            "status": {"errorCode": 0, "additionalDetails": "MFA requirement satisfied by claim in the token"},
            "location": {"countryOrRegion": "NL", "city": "Amsterdam"},
            "autonomousSystemNumber": 64511
        }))
        .unwrap();
        let row = SignInRow::from_signin(&s).unwrap();
        assert_eq!(row.mfa, Mfa::Claim);
        assert!(!row.legacy);
        assert_eq!(row.asn, 64511);
        assert_eq!(row.country.as_str(), "NL");
    }

    #[test]
    fn legacy_clients_are_marked() {
        let s: SignIn = serde_json::from_value(serde_json::json!({
            "createdDateTime": "2026-11-25T10:00:00Z", "clientAppUsed": "IMAP4",
            "userAgent": "python-requests/2.31 extra"
        }))
        .unwrap();
        let row = SignInRow::from_signin(&s).unwrap();
        assert!(row.legacy);
        assert_eq!(row.client.as_str(), "IMAP4");
    }
}
