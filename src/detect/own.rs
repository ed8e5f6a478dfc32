//! The team's own writes to the tenant, as the case journal records them,
//! recognised in the audits that follow so they are never counted as the
//! attacker's: a revocation the team made is not a rollback of
//! StsRefreshTokensValidFrom, a credential it removed is not tampering.

use std::collections::HashMap;

use jiff::{SignedDuration, Timestamp};

use super::event::{Event, Kind};

/// What the team knows that the detections take into account.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Team {
    /// Triage decisions: finding id to state.
    pub verdicts: HashMap<String, String>,
    /// Writes warroom made on the tenant.
    pub writes: Vec<OwnWrite>,
}

/// One write warroom sent (its journal record).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OwnWrite {
    /// The checklist action: `revoke-sessions`, `remove-credential`, …
    pub action: String,
    pub object_id: String,
    pub object_name: String,
    /// When the journal recorded it (after Graph answered).
    pub at: Timestamp,
}

/// Graph files an audit a little before or after the journal records the
/// answer; Entra delivers it minutes later, but its time is the change's.
const BEFORE: SignedDuration = SignedDuration::from_mins(2);
const AFTER: SignedDuration = SignedDuration::from_mins(10);

/// Words of the audit activities each action makes (lower case).
fn activities(action: &str) -> &'static [&'static str] {
    match action {
        "revoke-sessions" | "reset-password" | "disable-account" => &[
            "update user",
            "reset password",
            "reset user password",
            "disable account",
            "invalidate",
        ],
        "remove-credential" | "remove-sp-credential" => &[
            "update application",
            "certificates and secrets",
            "remove service principal credentials",
            "update service principal",
        ],
        "remove-grant" => &[
            "remove delegated permission grant",
            "remove app role assignment",
            "remove oauth2permissiongrant",
        ],
        "remove-role-assignment" => &[
            "remove member from role",
            "remove eligible member from role",
        ],
        "convert-domain" => &[
            "set domain authentication",
            "set federation settings on domain",
            "update domain",
        ],
        _ => &[],
    }
}

/// Whether a directory audit is the record of one of the team's writes:
/// the same object, an activity that write makes, within minutes of it.
pub fn is_own(writes: &[OwnWrite], event: &Event) -> bool {
    if writes.is_empty() || event.kind != Kind::Audit {
        return false;
    }
    let v = &event.value;
    let Some(at) = event.time else {
        return false;
    };
    let activity = v["activityDisplayName"]
        .as_str()
        .unwrap_or("")
        .to_lowercase();
    let targets: Vec<String> = v["targetResources"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|t| {
            ["id", "userPrincipalName", "displayName"]
                .into_iter()
                .filter_map(|k| t[k].as_str().map(str::to_lowercase))
        })
        .collect();
    writes.iter().any(|w| {
        let near = at >= w.at - BEFORE && at <= w.at + AFTER;
        let object = [&w.object_id, &w.object_name]
            .into_iter()
            .filter(|s| !s.is_empty())
            .any(|s| targets.contains(&s.to_lowercase()));
        near && object && activities(&w.action).iter().any(|a| activity.contains(a))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn audit(activity: &str, at: &str, target: &str) -> Event<'static> {
        Event::new(
            json!({
                "id": "a1",
                "category": "UserManagement",
                "activityDisplayName": activity,
                "activityDateTime": at,
                "initiatedBy": {"user": {"userPrincipalName": "responder@contoso.com"}},
                "targetResources": [{"id": "u-1", "userPrincipalName": target}],
            }),
            || "t".into(),
        )
        .unwrap()
    }

    #[test]
    fn the_teams_revocation_is_its_own_and_the_attackers_earlier_one_is_not() {
        let writes = [OwnWrite {
            action: "revoke-sessions".into(),
            object_id: "u-1".into(),
            object_name: "megan@contoso.com".into(),
            at: "2026-11-25T12:00:00Z".parse().unwrap(),
        }];
        assert!(is_own(
            &writes,
            &audit("Update user", "2026-11-25T12:00:03Z", "megan@contoso.com")
        ));
        // The attacker's change of the same kind, days before.
        assert!(!is_own(
            &writes,
            &audit("Update user", "2026-11-20T08:00:00Z", "megan@contoso.com")
        ));
        // Another kind of change to the same user.
        assert!(!is_own(
            &writes,
            &audit(
                "Add member to role",
                "2026-11-25T12:00:03Z",
                "megan@contoso.com"
            )
        ));
        assert!(!is_own(
            &[],
            &audit("Update user", "2026-11-25T12:00:03Z", "megan@contoso.com")
        ));
    }
}
