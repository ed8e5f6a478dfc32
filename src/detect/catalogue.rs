//! The permission catalogue (`assets/catalogue/permissions.toml`): what a
//! Graph or Exchange permission lets an app do and how risky that is, and
//! Microsoft's own mail clients. Rules name its lists with `@name`; the
//! posture review reads the same data.

use serde::Deserialize;

use crate::model::Severity;

const TEXT: &str = include_str!("../../assets/catalogue/permissions.toml");

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Permission {
    pub name: String,
    pub resource: String,
    /// The application permission's app-role id, when it has one.
    pub app_role: Option<String>,
    /// The delegated permission's id, when it is listed.
    pub scope: Option<String>,
    pub risk: Severity,
    /// What holding it reaches, in a phrase.
    pub reach: String,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FirstParty {
    pub app_id: String,
    pub name: String,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Catalogue {
    pub permission: Vec<Permission>,
    pub first_party_mail_client: Vec<FirstParty>,
}

static SHARED: std::sync::LazyLock<Catalogue> = std::sync::LazyLock::new(Catalogue::built_in);

impl Catalogue {
    /// The shipped catalogue, read once.
    pub fn shared() -> &'static Self {
        &SHARED
    }

    pub fn built_in() -> Self {
        toml::from_str(TEXT).expect("the shipped catalogue parses (a unit test checks it)")
    }

    /// A named list for rules: `high-risk-permissions` (names and app-role
    /// ids of every high or critical permission), `critical-permissions`,
    /// `first-party-mail-clients` (app ids).
    pub fn list(&self, name: &str) -> Option<Vec<String>> {
        let permissions = |at_least: Severity| {
            self.permission
                .iter()
                .filter(|p| p.risk <= at_least)
                .flat_map(|p| {
                    std::iter::once(p.name.clone())
                        .chain(p.app_role.clone())
                        .chain(p.scope.clone())
                })
                .collect()
        };
        match name {
            "high-risk-permissions" => Some(permissions(Severity::High)),
            "critical-permissions" => Some(permissions(Severity::Critical)),
            "first-party-mail-clients" => Some(
                self.first_party_mail_client
                    .iter()
                    .map(|a| a.app_id.clone())
                    .collect(),
            ),
            _ => None,
        }
    }

    /// The catalogue entry a text names (a scope name or an app-role id).
    pub fn permission(&self, text: &str) -> Option<&Permission> {
        self.permission.iter().find(|p| {
            p.name.eq_ignore_ascii_case(text)
                || p.app_role.as_deref() == Some(text)
                || p.scope.as_deref() == Some(text)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_catalogue_reads_and_names_its_lists() {
        let c = Catalogue::built_in();
        let high = c.list("high-risk-permissions").unwrap();
        assert!(high.contains(&"Mail.Read".to_owned()));
        assert!(high.contains(&"9e3f62cf-ca93-4989-b6ce-bf83c28f9fe8".to_owned()));
        assert!(!high.contains(&"Directory.Read.All".to_owned()));
        let critical = c.list("critical-permissions").unwrap();
        assert!(!critical.contains(&"Mail.Read".to_owned()));
        assert_eq!(
            c.permission("e2a3a72e-5f79-4c64-b1b1-878b674786c9")
                .unwrap()
                .name,
            "Mail.ReadWrite"
        );
        assert!(c.list("nothing").is_none());
    }
}
