//! Domains and their federation settings (`domain`,
//! `internalDomainFederation`): where a Golden SAML attacker leaves a
//! second signing certificate or a foreign issuer.

use serde::Deserialize;

use super::SafeText;
use super::de;

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Domain {
    pub id: SafeText,
    pub authentication_type: SafeText,
    #[serde(deserialize_with = "de::boolean")]
    pub is_default: Option<bool>,
    #[serde(deserialize_with = "de::boolean")]
    pub is_verified: Option<bool>,
}

impl Domain {
    pub fn is_federated(&self) -> bool {
        self.authentication_type
            .as_str()
            .eq_ignore_ascii_case("federated")
    }
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct FederationConfiguration {
    pub id: SafeText,
    pub display_name: SafeText,
    pub issuer_uri: SafeText,
    pub passive_sign_in_uri: SafeText,
    pub active_sign_in_uri: SafeText,
    pub metadata_exchange_uri: SafeText,
    pub signing_certificate: SafeText,
    pub next_signing_certificate: SafeText,
    pub federated_idp_mfa_behavior: SafeText,
    pub preferred_authentication_protocol: SafeText,
}
