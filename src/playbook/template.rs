//! A playbook template as data (`assets/playbooks/*.toml`): phases, items
//! with rationale, scope, verification, dependencies and waits, and how
//! findings turn an item into concrete ones. Loading checks everything a
//! checklist relies on, so a bad template is refused with what is wrong.

use std::collections::{HashMap, HashSet};

use serde::Deserialize;

pub use crate::model::waits::MAX_WAIT_HOURS;

/// The template shipped with warroom.
pub const BUILT_IN: &str = include_str!("../../assets/playbooks/identity-compromise.toml");

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Template {
    pub name: String,
    #[serde(default)]
    pub source: String,
    #[serde(rename = "phase")]
    pub phases: Vec<Phase>,
    #[serde(rename = "item")]
    pub items: Vec<ItemSpec>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Phase {
    pub id: String,
    pub title: String,
}

#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum Scope {
    Cloud,
    OnPremises,
    Both,
}

impl Scope {
    pub fn label(self) -> &'static str {
        match self {
            Scope::Cloud => "cloud",
            Scope::OnPremises => "on-premises",
            Scope::Both => "cloud and on-premises",
        }
    }
}

/// What the console can do on the tenant for an item (the Graph writes).
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    RevokeSessions,
    DisableAccount,
    ResetPassword,
    /// From the application registration.
    RemoveCredential,
    /// From the app's service principal (its instance in the tenant): a
    /// credential can live on either, or on both.
    RemoveSpCredential,
    RemoveGrant,
    RemoveRoleAssignment,
    ConvertDomain,
}

/// Not before `hours` after item `after` was done.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Wait {
    pub after: String,
    pub hours: f64,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ItemSpec {
    pub id: String,
    pub phase: String,
    pub title: String,
    pub scope: Scope,
    pub rationale: String,
    pub verification: String,
    /// Items that must be done (or not applicable) first.
    #[serde(default)]
    pub after: Vec<String>,
    #[serde(default)]
    pub wait: Option<Wait>,
    /// The title of each concrete item findings make (`{field}` placeholders).
    #[serde(default)]
    pub each: Option<String>,
    /// The finding's entity fields naming the objects of concrete items.
    #[serde(default)]
    pub target: Option<Vec<String>>,
    #[serde(default)]
    pub action: Option<Action>,
}

impl Template {
    /// The built-in template, read once.
    pub fn shared() -> std::sync::Arc<Template> {
        static SHARED: std::sync::OnceLock<std::sync::Arc<Template>> = std::sync::OnceLock::new();
        SHARED
            .get_or_init(|| std::sync::Arc::new(Template::built_in()))
            .clone()
    }

    pub fn built_in() -> Template {
        Template::parse(BUILT_IN, "the built-in playbook")
            .expect("the built-in playbook is valid (tested)")
    }

    /// Reads and checks a template; `origin` names it in errors.
    pub fn parse(text: &str, origin: &str) -> Result<Template, String> {
        let template: Template = toml::from_str(text).map_err(|e| format!("{origin}: {e}"))?;
        let problems = template.problems();
        if problems.is_empty() {
            Ok(template)
        } else {
            Err(format!("{origin}: {}", problems.join("; ")))
        }
    }

    pub fn load(path: &std::path::Path) -> Result<Template, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read the playbook {}: {e}", path.display()))?;
        Template::parse(&text, &path.display().to_string())
    }

    pub fn phase_index(&self, id: &str) -> Option<usize> {
        self.phases.iter().position(|p| p.id == id)
    }

    pub fn item(&self, id: &str) -> Option<&ItemSpec> {
        self.items.iter().find(|i| i.id == id)
    }

    /// Everything wrong with the template, each naming the item.
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if self.phases.is_empty() {
            problems.push("no phases".to_owned());
        }
        let mut ids = HashSet::new();
        for phase in &self.phases {
            if !ids.insert(phase.id.as_str()) {
                problems.push(format!("phase {} is defined twice", phase.id));
            }
        }
        let mut ids = HashSet::new();
        for item in &self.items {
            let at = format!("item {}", item.id);
            if !ids.insert(item.id.as_str()) {
                problems.push(format!("{at} is defined twice"));
            }
            if item.id.is_empty()
                || !item
                    .id
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            {
                problems.push(format!("{at}: ids are lower-case words joined by -"));
            }
            if self.phase_index(&item.phase).is_none() {
                problems.push(format!("{at}: no phase {}", item.phase));
            }
            for text in [&item.title, &item.rationale, &item.verification] {
                if text.trim().is_empty() {
                    problems.push(format!(
                        "{at}: title, rationale and verification must say something"
                    ));
                }
            }
            if let Some(wait) = &item.wait {
                if !item.after.contains(&wait.after) {
                    problems.push(format!(
                        "{at}: waits on {} without being after it",
                        wait.after
                    ));
                }
                if !(wait.hours.is_finite() && wait.hours > 0.0 && wait.hours <= MAX_WAIT_HOURS) {
                    problems.push(format!(
                        "{at}: a wait is a positive number of hours, at most {MAX_WAIT_HOURS}"
                    ));
                }
            }
            match (&item.each, &item.target) {
                (Some(each), Some(target)) => {
                    if !each.contains("{target}") {
                        problems.push(format!("{at}: each does not say where {{target}} goes"));
                    }
                    if target.is_empty() {
                        problems.push(format!("{at}: target names no field"));
                    }
                }
                (None, None) => {}
                _ => problems.push(format!("{at}: each and target go together")),
            }
        }
        for item in &self.items {
            for dep in &item.after {
                if self.item(dep).is_none() {
                    problems.push(format!(
                        "item {}: after {dep}, which does not exist",
                        item.id
                    ));
                }
            }
        }
        if let Some(cycle) = self.cycle() {
            problems.push(format!("dependencies go round: {}", cycle.join(" → ")));
        }
        problems
    }

    /// A dependency cycle, if there is one.
    fn cycle(&self) -> Option<Vec<String>> {
        let after: HashMap<&str, &[String]> = self
            .items
            .iter()
            .map(|i| (i.id.as_str(), i.after.as_slice()))
            .collect();
        // 0 unseen, 1 on the current path, 2 finished.
        let mut mark: HashMap<&str, u8> = HashMap::new();
        fn visit<'a>(
            id: &'a str,
            after: &HashMap<&'a str, &'a [String]>,
            mark: &mut HashMap<&'a str, u8>,
            path: &mut Vec<&'a str>,
        ) -> Option<Vec<String>> {
            match mark.get(id) {
                Some(2) => return None,
                Some(1) => {
                    let start = path.iter().position(|p| *p == id).unwrap_or(0);
                    let mut cycle: Vec<String> =
                        path[start..].iter().map(|s| s.to_string()).collect();
                    cycle.push(id.to_owned());
                    return Some(cycle);
                }
                _ => {}
            }
            mark.insert(id, 1);
            path.push(id);
            for dep in after.get(id).copied().unwrap_or_default() {
                if let Some(cycle) = visit(dep, after, mark, path) {
                    return Some(cycle);
                }
            }
            path.pop();
            mark.insert(id, 2);
            None
        }
        for item in &self.items {
            if let Some(cycle) = visit(&item.id, &after, &mut mark, &mut Vec::new()) {
                return Some(cycle);
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The krbtgt detection's default wait is this template's.
    #[test]
    fn the_krbtgt_wait_is_the_detections() {
        let template = Template::built_in();
        let item = template.item("reset-krbtgt-second").unwrap();
        assert_eq!(
            item.wait.as_ref().unwrap().hours,
            crate::detect::krbtgt::DEFAULT_WAIT_HOURS
        );
    }

    #[test]
    fn the_built_in_playbook_is_valid_and_covers_the_guidance() {
        let t = Template::built_in();
        assert_eq!(t.phases.len(), 4);
        for phase in &t.phases {
            assert!(
                t.items.iter().any(|i| i.phase == phase.id),
                "{} is empty",
                phase.id
            );
        }
        let text = BUILT_IN.to_lowercase();
        for needed in [
            "secure comm",
            "krbtgt",
            "dsrm",
            "token-signing",
            "refresh token",
            "break-glass",
            "mfa",
            "consent",
            "pim",
        ] {
            assert!(text.contains(needed), "the playbook lacks {needed}");
        }
        let krbtgt = t.item("reset-krbtgt-second").unwrap();
        assert_eq!(krbtgt.wait.as_ref().unwrap().hours, 10.0);
    }

    #[test]
    fn every_remediation_a_detection_names_is_an_item() {
        let t = Template::built_in();
        let rules = [
            include_str!("../../assets/detections/signins.toml"),
            include_str!("../../assets/detections/audits.toml"),
            include_str!("../../assets/detections/mail.toml"),
        ];
        for rules in rules {
            let value: toml::Value = toml::from_str(rules).unwrap();
            for rule in value["rule"].as_array().unwrap() {
                for id in rule["remediation"].as_array().unwrap() {
                    let id = id.as_str().unwrap();
                    assert!(
                        t.item(id).is_some(),
                        "rule {} calls for {id}, not in the playbook",
                        rule["id"]
                    );
                }
            }
        }
    }

    fn template(items: &str) -> Result<Template, String> {
        let text = format!("name = \"t\"\n[[phase]]\nid = \"p\"\ntitle = \"P\"\n{items}");
        Template::parse(&text, "test")
    }

    fn item(id: &str, extra: &str) -> String {
        format!(
            "[[item]]\nid = \"{id}\"\nphase = \"p\"\ntitle = \"x\"\nscope = \"cloud\"\nrationale = \"r\"\nverification = \"v\"\n{extra}\n"
        )
    }

    #[test]
    fn a_bad_template_is_refused_with_what_is_wrong() {
        let cycle =
            template(&(item("a", "after = [\"b\"]") + &item("b", "after = [\"a\"]"))).unwrap_err();
        assert!(cycle.contains("dependencies go round"), "{cycle}");
        let missing = template(&item("a", "after = [\"nowhere\"]")).unwrap_err();
        assert!(
            missing.contains("nowhere, which does not exist"),
            "{missing}"
        );
        let wait = template(&(item("a", "") + &item("b", "wait = { after = \"a\", hours = 10 }")))
            .unwrap_err();
        assert!(wait.contains("without being after it"), "{wait}");
        let twice = template(&(item("a", "") + &item("a", ""))).unwrap_err();
        assert!(twice.contains("defined twice"), "{twice}");
        let each = template(&item("a", "each = \"Do {x}\"\ntarget = [\"y\"]")).unwrap_err();
        assert!(each.contains("does not say where {target} goes"), "{each}");
        let unknown = template(&item("a", "colour = \"red\"")).unwrap_err();
        assert!(unknown.contains("colour"), "{unknown}");
        assert!(
            template(
                &(item("a", "")
                    + &item("b", "after = [\"a\"]\nwait = { after = \"a\", hours = 10 }"))
            )
            .is_ok()
        );
    }
}
