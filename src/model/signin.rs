//! A sign-in event as Microsoft Graph describes it (`signIn`, v1.0 and
//! beta), read leniently: every field may be missing, enums are open, and
//! every string a tenant supplies is a [`SafeText`].

use jiff::Timestamp;
use serde::Deserialize;

use super::SafeText;
use super::de;

/// What Entra ID writes when it took MFA as a claim rather than running it:
/// `… in the token` (a federation server's) or `… provided by external
/// provider`.
pub const MFA_BY_CLAIM: &str = "MFA requirement satisfied by claim";

/// The four kinds of sign-in Entra ID logs (`signInEventTypes`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SignInKind {
    Interactive,
    NonInteractive,
    ServicePrincipal,
    ManagedIdentity,
    Other(SafeText),
}

impl SignInKind {
    pub fn parse(text: &str) -> Self {
        match text {
            "interactiveUser" => SignInKind::Interactive,
            "nonInteractiveUser" => SignInKind::NonInteractive,
            "servicePrincipal" => SignInKind::ServicePrincipal,
            "managedIdentity" => SignInKind::ManagedIdentity,
            other => SignInKind::Other(SafeText::new(other)),
        }
    }
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Status {
    #[serde(deserialize_with = "de::number")]
    pub error_code: Option<i64>,
    pub failure_reason: SafeText,
    pub additional_details: SafeText,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct DeviceDetail {
    pub device_id: SafeText,
    pub display_name: SafeText,
    pub operating_system: SafeText,
    pub browser: SafeText,
    #[serde(deserialize_with = "de::boolean")]
    pub is_compliant: Option<bool>,
    #[serde(deserialize_with = "de::boolean")]
    pub is_managed: Option<bool>,
    pub trust_type: SafeText,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Location {
    pub city: SafeText,
    pub state: SafeText,
    pub country_or_region: SafeText,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct AuthenticationStep {
    pub authentication_method: SafeText,
    pub authentication_method_detail: SafeText,
    #[serde(deserialize_with = "de::boolean")]
    pub succeeded: Option<bool>,
    pub authentication_step_result_detail: SafeText,
    pub authentication_step_requirement: SafeText,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct AppliedPolicy {
    pub id: SafeText,
    pub display_name: SafeText,
    pub result: SafeText,
    #[serde(deserialize_with = "de::list")]
    pub enforced_grant_controls: Vec<SafeText>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct SignIn {
    pub id: SafeText,
    #[serde(deserialize_with = "de::time")]
    pub created_date_time: Option<Timestamp>,
    pub user_display_name: SafeText,
    pub user_principal_name: SafeText,
    pub user_id: SafeText,
    pub user_type: SafeText,
    pub app_id: SafeText,
    pub app_display_name: SafeText,
    pub resource_id: SafeText,
    pub resource_display_name: SafeText,
    pub ip_address: SafeText,
    #[serde(deserialize_with = "de::number")]
    pub autonomous_system_number: Option<i64>,
    pub client_app_used: SafeText,
    pub user_agent: SafeText,
    pub correlation_id: SafeText,
    pub conditional_access_status: SafeText,
    #[serde(deserialize_with = "de::boolean")]
    pub is_interactive: Option<bool>,
    #[serde(deserialize_with = "de::list")]
    pub sign_in_event_types: Vec<String>,
    pub authentication_requirement: SafeText,
    #[serde(deserialize_with = "de::list")]
    pub authentication_details: Vec<AuthenticationStep>,
    #[serde(deserialize_with = "de::list")]
    pub authentication_methods_used: Vec<SafeText>,
    pub authentication_protocol: SafeText,
    pub incoming_token_type: SafeText,
    pub token_issuer_type: SafeText,
    pub token_issuer_name: SafeText,
    pub unique_token_identifier: SafeText,
    pub risk_detail: SafeText,
    pub risk_level_aggregated: SafeText,
    pub risk_level_during_sign_in: SafeText,
    pub risk_state: SafeText,
    #[serde(deserialize_with = "de::list")]
    pub risk_event_types: Vec<SafeText>,
    #[serde(rename = "riskEventTypes_v2", deserialize_with = "de::list")]
    pub risk_event_types_v2: Vec<SafeText>,
    #[serde(deserialize_with = "de::or_default")]
    pub status: Status,
    #[serde(deserialize_with = "de::or_default")]
    pub device_detail: DeviceDetail,
    #[serde(deserialize_with = "de::or_default")]
    pub location: Location,
    #[serde(deserialize_with = "de::list")]
    pub applied_conditional_access_policies: Vec<AppliedPolicy>,
    pub service_principal_id: SafeText,
    pub service_principal_name: SafeText,
    pub service_principal_credential_key_id: SafeText,
    pub client_credential_type: SafeText,
    pub cross_tenant_access_type: SafeText,
    pub home_tenant_id: SafeText,
    pub resource_tenant_id: SafeText,
}

impl SignIn {
    /// Which kind of sign-in this is: `signInEventTypes` when present,
    /// else `isInteractive` (v1.0 and older exports).
    pub fn kind(&self) -> SignInKind {
        match self.sign_in_event_types.first() {
            Some(kind) => SignInKind::parse(kind),
            None if self.is_interactive == Some(false) => SignInKind::NonInteractive,
            None => SignInKind::Interactive,
        }
    }

    pub fn succeeded(&self) -> bool {
        self.status.error_code.unwrap_or(0) == 0
    }

    /// MFA satisfied by a claim the token carried rather than by Entra ID:
    /// what a forged SAML token presents. (A refresh token's "First factor
    /// requirement satisfied by claim" is everyday and not this.)
    pub fn mfa_by_claim(&self) -> bool {
        let says = |t: &SafeText| t.as_str().contains(MFA_BY_CLAIM);
        says(&self.status.additional_details)
            || self
                .authentication_details
                .iter()
                .any(|s| says(&s.authentication_step_result_detail))
    }
}
