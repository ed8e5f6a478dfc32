//! An Identity Protection risk detection (`riskDetection`). Older pages
//! call the event type `riskType`; both names are read.

use jiff::Timestamp;
use serde::Deserialize;

use super::SafeText;
use super::de;
use super::signin::Location;

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct RiskDetection {
    pub id: SafeText,
    pub request_id: SafeText,
    pub correlation_id: SafeText,
    #[serde(alias = "riskType")]
    pub risk_event_type: SafeText,
    pub risk_state: SafeText,
    pub risk_level: SafeText,
    pub risk_detail: SafeText,
    pub source: SafeText,
    pub detection_timing_type: SafeText,
    pub activity: SafeText,
    pub token_issuer_type: SafeText,
    pub ip_address: SafeText,
    #[serde(deserialize_with = "de::time")]
    pub activity_date_time: Option<Timestamp>,
    #[serde(deserialize_with = "de::time")]
    pub detected_date_time: Option<Timestamp>,
    pub user_id: SafeText,
    pub user_display_name: SafeText,
    pub user_principal_name: SafeText,
    pub additional_info: SafeText,
    #[serde(deserialize_with = "de::or_default")]
    pub location: Location,
}
