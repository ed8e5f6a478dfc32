//! A directory audit (`directoryAudit`), read leniently. Older documented
//! shapes spell the target type `Type` and the target list
//! `targetResource`; both are accepted.

use jiff::Timestamp;
use serde::Deserialize;

use super::SafeText;
use super::de;

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct UserIdentity {
    pub id: SafeText,
    pub display_name: SafeText,
    pub user_principal_name: SafeText,
    pub ip_address: SafeText,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct AppIdentity {
    pub app_id: SafeText,
    pub display_name: SafeText,
    pub service_principal_id: SafeText,
    pub service_principal_name: SafeText,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct InitiatedBy {
    pub user: Option<UserIdentity>,
    pub app: Option<AppIdentity>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ModifiedProperty {
    pub display_name: SafeText,
    pub old_value: SafeText,
    pub new_value: SafeText,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct TargetResource {
    pub id: SafeText,
    pub display_name: SafeText,
    #[serde(alias = "Type")]
    pub r#type: SafeText,
    pub user_principal_name: SafeText,
    #[serde(deserialize_with = "de::list")]
    pub modified_properties: Vec<ModifiedProperty>,
    /// Some responses carry the kind only here (`#microsoft.graph.targetResourceUser`).
    #[serde(rename = "@odata.type")]
    pub odata_type: SafeText,
}

impl TargetResource {
    /// `User`, `Group`, `ServicePrincipal`...: the `type` field, or what
    /// `@odata.type` names when that is missing.
    pub fn kind(&self) -> &str {
        if !self.r#type.is_empty() {
            return self.r#type.as_str();
        }
        let odata = self.odata_type.as_str();
        let name = odata.rsplit('.').next().unwrap_or("");
        name.strip_prefix("TargetResource")
            .or_else(|| name.strip_prefix("targetResource"))
            .unwrap_or(name)
    }
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct KeyValue {
    pub key: SafeText,
    pub value: SafeText,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct DirectoryAudit {
    pub id: SafeText,
    #[serde(deserialize_with = "de::time")]
    pub activity_date_time: Option<Timestamp>,
    pub activity_display_name: SafeText,
    pub category: SafeText,
    pub correlation_id: SafeText,
    pub logged_by_service: SafeText,
    pub operation_type: SafeText,
    pub result: SafeText,
    pub result_reason: SafeText,
    #[serde(deserialize_with = "de::or_default")]
    pub initiated_by: InitiatedBy,
    #[serde(alias = "targetResource", deserialize_with = "de::list")]
    pub target_resources: Vec<TargetResource>,
    #[serde(deserialize_with = "de::list")]
    pub additional_details: Vec<KeyValue>,
}
