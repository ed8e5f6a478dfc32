//! SigmaHQ rules for Entra ID and Microsoft 365 logs and for Windows
//! event logs (by channel), run beside the built-in detections. Parsing and matching are rsigma's; what is
//! warroom's is which rules can apply to which records (by logsource),
//! the view that answers a rule's field names from Graph-shaped records
//! (`view`), and findings that carry each rule's author, as the Detection
//! Rule License asks.

pub mod build;
pub mod reads;
pub mod view;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use jiff::Timestamp;
use rsigma_parser::{Level, SigmaRule};

use super::{Entity, Event, Finding, Kind};
use crate::model::Severity;

/// The log types rules are written for that warroom keeps.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Service {
    SignIns,
    Audits,
    RiskDetections,
    M365Audit,
    /// A Windows event log, by its place in `WINDOWS`.
    Windows(usize),
}

/// Sigma's Windows logsource services and the event log channel each
/// names, as Sigma's own Windows mapping (and Chainsaw and Hayabusa) has
/// them.
pub const WINDOWS: &[(&str, &str)] = &[
    ("security", "Security"),
    ("system", "System"),
    ("application", "Application"),
    ("powershell", "Microsoft-Windows-PowerShell/Operational"),
    ("powershell-classic", "Windows PowerShell"),
    ("sysmon", "Microsoft-Windows-Sysmon/Operational"),
    (
        "taskscheduler",
        "Microsoft-Windows-TaskScheduler/Operational",
    ),
    ("wmi", "Microsoft-Windows-WMI-Activity/Operational"),
    ("ntlm", "Microsoft-Windows-NTLM/Operational"),
    (
        "windefend",
        "Microsoft-Windows-Windows Defender/Operational",
    ),
    ("bits-client", "Microsoft-Windows-Bits-Client/Operational"),
    (
        "codeintegrity-operational",
        "Microsoft-Windows-CodeIntegrity/Operational",
    ),
    (
        "firewall-as",
        "Microsoft-Windows-Windows Firewall With Advanced Security/Firewall",
    ),
    ("dns-server", "DNS Server"),
    ("applocker", "Microsoft-Windows-AppLocker/EXE and DLL"),
    ("openssh", "OpenSSH/Operational"),
    ("ldap", "Microsoft-Windows-LDAP-Client/Debug"),
    (
        "terminalservices-localsessionmanager",
        "Microsoft-Windows-TerminalServices-LocalSessionManager/Operational",
    ),
];

impl Service {
    /// The logsource `service` the rules use.
    pub fn name(self) -> &'static str {
        match self {
            Service::SignIns => "signinlogs",
            Service::Audits => "auditlogs",
            Service::RiskDetections => "riskdetection",
            Service::M365Audit => "audit",
            Service::Windows(i) => WINDOWS[i].0,
        }
    }

    /// The service of a record: its kind, and for a Windows event its
    /// channel.
    pub fn of_event(event: &Event) -> Option<Self> {
        if event.kind != Kind::WindowsEvent {
            return Self::of(event.kind);
        }
        let channel = event.value.get("Channel").and_then(|c| c.as_str())?;
        WINDOWS
            .iter()
            .position(|(_, c)| c.eq_ignore_ascii_case(channel))
            .map(Service::Windows)
    }

    pub fn of(kind: Kind) -> Option<Self> {
        match kind {
            Kind::SignIn => Some(Service::SignIns),
            Kind::Audit => Some(Service::Audits),
            Kind::Risk => Some(Service::RiskDetections),
            Kind::MailAudit => Some(Service::M365Audit),
            Kind::Directory | Kind::WindowsEvent => None,
        }
    }

    pub fn kind(self) -> Kind {
        match self {
            Service::SignIns => Kind::SignIn,
            Service::Audits => Kind::Audit,
            Service::RiskDetections => Kind::Risk,
            Service::M365Audit => Kind::MailAudit,
            Service::Windows(_) => Kind::WindowsEvent,
        }
    }

    /// The service a rule's logsource names, or why warroom has no
    /// records for it.
    fn of_rule(rule: &SigmaRule) -> Result<Self, String> {
        let product = rule
            .logsource
            .product
            .as_deref()
            .unwrap_or("")
            .to_lowercase();
        let service = rule
            .logsource
            .service
            .as_deref()
            .unwrap_or("")
            .to_lowercase();
        match (product.as_str(), service.as_str()) {
            ("azure", "signinlogs") => Ok(Service::SignIns),
            ("azure", "auditlogs") => Ok(Service::Audits),
            ("azure", "riskdetection") => Ok(Service::RiskDetections),
            ("m365", "audit") => Ok(Service::M365Audit),
            ("azure", "activitylogs") => Err(
                "written for Azure Activity logs (subscription operations), which warroom does not read".into(),
            ),
            ("azure", "pim") => Err(
                "written for PIM alerts, which warroom does not pull (its posture review judges PIM from the directory)".into(),
            ),
            ("m365", "exchange" | "threat_detection" | "threat_management") => Err(format!(
                "written for m365 {service} alert records (eventSource/eventName), not the Unified Audit Log warroom reads"
            )),
            ("windows", "") => Err(match rule.logsource.category.as_deref() {
                Some(category) => format!(
                    "written for the Windows category {category} (Sysmon or EDR telemetry mapped by category), which warroom does not map"
                ),
                None => "a Windows rule with neither service nor category".into(),
            }),
            ("windows", s) => WINDOWS
                .iter()
                .position(|(name, _)| *name == s)
                .map(Service::Windows)
                .ok_or_else(|| format!("written for the Windows log service {s}, which warroom does not map to a channel")),
            (p, s) => Err(format!("logsource {p}/{s} is not a log warroom reads")),
        }
    }
}

/// What a loaded rule is, for its findings.
#[derive(Clone, Debug)]
pub struct RuleInfo {
    pub file: PathBuf,
    pub id: String,
    pub title: String,
    pub author: String,
    pub description: String,
    pub severity: Severity,
    pub techniques: Vec<String>,
    pub service: Service,
    pub rule: SigmaRule,
}

/// The rules of a directory, compiled per service.
pub struct SigmaRules {
    pub rules: Vec<RuleInfo>,
    /// Files that did not load, and why.
    pub refused: Vec<(PathBuf, String)>,
    /// Rules that loaded but can match nothing warroom reads, and why.
    pub inapplicable: Vec<(PathBuf, String)>,
    engines: Vec<(Service, rsigma_eval::Engine)>,
}

/// Rules are compiled under an id that says their place in `rules`
/// (their own id is kept in `RuleInfo`).
const INDEX: &str = "warroom-rule-";

mod pack {
    include!(concat!(env!("OUT_DIR"), "/sigma_pack.rs"));
}

/// The pack's rules left out by default, by id, with the reason.
const LEAVE_OUT: &str = include_str!("../../../assets/sigma/pack.toml");

/// Where the pack comes from: unset, the pinned one; `off`, none; else a
/// directory whose rules replace it.
pub const PACK_VARIABLE: &str = "WARROOM_SIGMA_PACK";

/// The pack's rules left out (`pack.toml`): id to reason.
fn leave_out() -> BTreeMap<String, String> {
    #[derive(serde::Deserialize)]
    struct LeaveOut {
        leave_out: BTreeMap<String, String>,
    }
    toml::from_str::<LeaveOut>(LEAVE_OUT)
        .expect("the shipped pack.toml parses (a test loads it)")
        .leave_out
}

/// What one source added to a set, for the summary.
#[derive(Clone, Copy, Default)]
struct Mark {
    rules: usize,
    inapplicable: usize,
    refused: usize,
}

impl SigmaRules {
    fn empty() -> Self {
        Self {
            rules: Vec::new(),
            refused: Vec::new(),
            inapplicable: Vec::new(),
            engines: Vec::new(),
        }
    }

    fn mark(&self) -> Mark {
        Mark {
            rules: self.rules.len(),
            inapplicable: self.inapplicable.len(),
            refused: self.refused.len(),
        }
    }

    /// Every `.yml` / `.yaml` file under `dir`.
    pub fn load(dir: &Path) -> Result<Self, String> {
        let mut set = Self::empty();
        set.add_rule_dir(dir)?;
        Ok(set)
    }

    /// Adds every rule file under `dir`; a directory without any is an
    /// error (a mistyped `--sigma`).
    fn add_rule_dir(&mut self, dir: &Path) -> Result<(), String> {
        if self.add_dir(dir, &Default::default())? == 0 {
            return Err(format!(
                "{}: no Sigma rule files (.yml) in it",
                dir.display()
            ));
        }
        Ok(())
    }

    /// Adds every rule file under `dir`, but rules whose id is `given`;
    /// how many files there were.
    fn add_dir(
        &mut self,
        dir: &Path,
        given: &std::collections::BTreeSet<String>,
    ) -> Result<usize, String> {
        let mut files = Vec::new();
        collect(dir, &mut files).map_err(|e| format!("{}: {e}", dir.display()))?;
        files.sort();
        let found = files.len();
        for file in files {
            match std::fs::read_to_string(&file) {
                Ok(text) => self.load_text_skipping(&file, &text, given, &BTreeMap::new()),
                Err(e) => self.refused.push((file, e.to_string())),
            }
        }
        Ok(found)
    }

    /// The rules a run uses, and a line for each source saying what
    /// loaded: first `more` (`--sigma`), then the pack (the pinned one, or
    /// the directory `WARROOM_SIGMA_PACK` names, or none when it is `off`),
    /// less the rules `more` gave again. `None`: no rules at all.
    pub fn for_run(more: Option<&Path>) -> Result<(Option<Self>, Vec<String>), String> {
        let mut set = Self::empty();
        let mut lines = Vec::new();
        if let Some(dir) = more {
            set.add_rule_dir(dir)?;
            lines.push(format!("--sigma {}", set.summary_since(Mark::default())));
        }
        let before = set.mark();
        let given: std::collections::BTreeSet<String> =
            set.rules.iter().map(|r| r.id.clone()).collect();
        match std::env::var_os(PACK_VARIABLE) {
            Some(v) if v == "off" => {}
            Some(dir) => {
                let dir = PathBuf::from(dir);
                set.add_dir(&dir, &given)?;
                lines.push(format!(
                    "Sigma pack from {}: {}",
                    dir.display(),
                    set.counts_since(before)
                ));
            }
            None => {
                set.add_pinned_pack(&given);
                lines.push(format!(
                    "Sigma pack (SigmaHQ, Detection Rule License 1.1): {}",
                    set.counts_since(before)
                ));
            }
        }
        Ok((
            (!set.rules.is_empty() || more.is_some()).then_some(set),
            lines,
        ))
    }

    /// The pinned pack, less the rules `pack.toml` leaves out and those
    /// already given.
    fn add_pinned_pack(&mut self, given: &std::collections::BTreeSet<String>) {
        let left_out = leave_out();
        for (name, text) in pack::PACK {
            let file = Path::new("sigma-pack").join(name);
            self.load_text_skipping(&file, text, given, &left_out);
        }
    }

    fn load_text_skipping(
        &mut self,
        file: &Path,
        text: &str,
        given: &std::collections::BTreeSet<String>,
        left_out: &BTreeMap<String, String>,
    ) {
        let id = text
            .lines()
            .find_map(|l| l.strip_prefix("id:"))
            .map(|id| id.trim().trim_matches(|c| c == '\'' || c == '"').to_owned());
        if let Some(id) = &id {
            if given.contains(id) {
                return;
            }
            if let Some(why) = left_out.get(id) {
                self.inapplicable
                    .push((file.to_owned(), format!("left out of the pack: {why}")));
                return;
            }
        }
        self.load_text(file, text);
    }

    /// The rules of one Sigma YAML text, as if read from `name`: for
    /// fuzzing the loader and for tests.
    pub fn from_text(name: &Path, text: &str) -> Self {
        let mut set = Self {
            rules: Vec::new(),
            refused: Vec::new(),
            inapplicable: Vec::new(),
            engines: Vec::new(),
        };
        set.load_text(name, text);
        set
    }

    fn load_text(&mut self, file: &Path, text: &str) {
        let collection = match rsigma_parser::parse_sigma_yaml(text) {
            Ok(c) => c,
            Err(e) => return self.refused.push((file.to_owned(), e.to_string())),
        };
        for error in &collection.errors {
            self.refused.push((file.to_owned(), error.clone()));
        }
        if !collection.correlations.is_empty() {
            self.refused.push((
                file.to_owned(),
                "correlation rules are not run (no state across events here)".into(),
            ));
        }
        for mut rule in collection.rules {
            let service = match Service::of_rule(&rule).and_then(|s| template(&rule).map(|()| s)) {
                Ok(s) => s,
                Err(why) => {
                    self.inapplicable.push((file.to_owned(), why));
                    continue;
                }
            };
            let index = self.rules.len();
            let own_id = rule.id.replace(format!("{INDEX}{index}"));
            let engine = match self.engines.iter_mut().find(|(s, _)| *s == service) {
                Some((_, engine)) => engine,
                None => {
                    self.engines.push((service, rsigma_eval::Engine::new()));
                    &mut self.engines.last_mut().expect("just pushed").1
                }
            };
            if let Err(e) = engine.add_rule(&rule) {
                self.refused
                    .push((file.to_owned(), format!("does not compile: {e}")));
                continue;
            }
            rule.id = own_id;
            self.rules.push(RuleInfo {
                file: file.to_owned(),
                // An id names findings and triage records: plain characters only.
                id: rule
                    .id
                    .clone()
                    .unwrap_or_else(|| file_stem(file))
                    .chars()
                    .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
                    .take(64)
                    .collect(),
                title: rule.title.clone(),
                author: rule
                    .author
                    .clone()
                    .unwrap_or_else(|| "unknown author".into()),
                description: rule.description.clone().unwrap_or_default(),
                severity: severity(rule.level),
                techniques: techniques(&rule.tags),
                service,
                rule,
            });
        }
    }

    /// The rules one record matches (places in `rules`).
    pub fn matches(&self, event: &Event) -> Vec<usize> {
        let Some(service) = Service::of_event(event) else {
            return Vec::new();
        };
        let Some((_, engine)) = self.engines.iter().find(|(s, _)| *s == service) else {
            return Vec::new();
        };
        let view = view::View::new(&event.value, service);
        engine
            .evaluate(&view)
            .iter()
            .filter_map(|r| {
                r.header
                    .rule_id
                    .as_deref()?
                    .strip_prefix(INDEX)?
                    .parse()
                    .ok()
            })
            .collect()
    }

    /// The texts one of which a record of `kind` must hold for some rule
    /// to match it (see `reads`); `None` when every record of the kind
    /// must be read. No rules for the kind: no texts.
    pub fn texts(&self, kind: Kind) -> Option<reads::Texts> {
        let mut out = Vec::new();
        for info in self.rules.iter().filter(|r| r.service.kind() == kind) {
            out.extend(reads::texts(&info.rule, info.service)?);
        }
        Some(out)
    }

    /// The top-level fields the rules may read, and whether a Windows
    /// event must be read whole (a keyword rule searches all its data);
    /// `None`: any field of any record.
    pub fn fields(&self) -> Option<(std::collections::BTreeSet<String>, bool)> {
        let mut out = std::collections::BTreeSet::new();
        let mut windows_whole = false;
        for info in &self.rules {
            match reads::fields(&info.rule, info.service) {
                Some(fields) => out.extend(fields),
                None if info.service.kind() == Kind::WindowsEvent => windows_whole = true,
                None => return None,
            }
        }
        Some((out, windows_whole))
    }

    /// "118 rules loaded; 24 cannot apply (…); 0 refused" for stderr.
    pub fn summary(&self) -> String {
        self.summary_since(Mark::default())
    }

    /// What was added after `mark`, in counts (`warroom rules` lists why).
    fn counts_since(&self, mark: Mark) -> String {
        format!(
            "{} rules loaded; {} cannot apply or are left out (`warroom rules` says why); {} refused",
            self.rules.len() - mark.rules,
            self.inapplicable.len() - mark.inapplicable,
            self.refused.len() - mark.refused
        )
    }

    /// The summary of what was added after `mark`.
    fn summary_since(&self, mark: Mark) -> String {
        let mut why: BTreeMap<&str, usize> = BTreeMap::new();
        for (_, reason) in &self.inapplicable[mark.inapplicable..] {
            *why.entry(reason.as_str()).or_default() += 1;
        }
        let reasons: Vec<String> = why.iter().map(|(r, n)| format!("{n} {r}")).collect();
        format!(
            "{} rules loaded; {} cannot apply{}; {} refused",
            self.rules.len() - mark.rules,
            self.inapplicable.len() - mark.inapplicable,
            if reasons.is_empty() {
                String::new()
            } else {
                format!(" ({})", reasons.join("; "))
            },
            self.refused.len() - mark.refused
        )
    }
}

/// SigmaHQ ships a few rules as templates, with the placeholder `UPN`
/// where the account to watch goes; run as they are, they watch nobody.
fn template(rule: &SigmaRule) -> Result<(), String> {
    use rsigma_parser::ast::Detection;
    fn placeholder(d: &Detection) -> bool {
        match d {
            Detection::AllOf(items) => items.iter().any(|i| {
                i.values.iter().any(|v| {
                    matches!(v, rsigma_parser::value::SigmaValue::String(s) if s.original == "UPN")
                })
            }),
            Detection::AnyOf(options) => options.iter().any(placeholder),
            _ => false,
        }
    }
    if rule.detection.named.values().any(placeholder) {
        return Err("a template: a value is the placeholder 'UPN'; copy the rule with a real account to use it".into());
    }
    Ok(())
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        // Not into linked directories: a loop would never end.
        if entry.file_type()?.is_dir() {
            collect(&path, out)?;
        } else if path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("yml") || e.eq_ignore_ascii_case("yaml"))
        {
            out.push(path);
        }
    }
    Ok(())
}

fn file_stem(file: &Path) -> String {
    file.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn severity(level: Option<Level>) -> Severity {
    match level {
        Some(Level::Critical) => Severity::Critical,
        Some(Level::High) => Severity::High,
        Some(Level::Medium) => Severity::Medium,
        Some(Level::Low) => Severity::Low,
        Some(Level::Informational) | None => Severity::Info,
    }
}

/// `attack.t1078.004` → `T1078.004`; tactic tags are dropped.
fn techniques(tags: &[String]) -> Vec<String> {
    tags.iter()
        .filter_map(|t| t.strip_prefix("attack.t"))
        .filter(|t| t.starts_with(|c: char| c.is_ascii_digit()))
        .map(|t| format!("T{}", t.to_uppercase()))
        .collect()
}

/// What matched each rule so far.
#[derive(Debug, Default)]
pub struct Matches {
    groups: BTreeMap<usize, super::sightings::Sightings>,
}

/// The fields a Sigma finding names its entities by: Graph's for cloud
/// records, the event data's for Windows events.
const ENTITY_FIELDS: [&str; 9] = [
    "userPrincipalName",
    "ipAddress",
    "initiatedBy.user.userPrincipalName",
    "targetResources.displayName",
    "Computer",
    "SubjectUserName",
    "TargetUserName",
    "IpAddress",
    "ServiceName",
];

impl Matches {
    pub fn add(
        &mut self,
        rule: usize,
        time: Option<Timestamp>,
        id: &str,
        entities: &[(&'static str, String)],
    ) {
        self.groups.entry(rule).or_default().add(time, id, entities);
    }

    pub fn findings(&self, rules: &SigmaRules) -> Vec<Finding> {
        self.groups
            .iter()
            .map(|(i, seen)| {
                let rule = &rules.rules[*i];
                let (first_seen, last_seen) = seen.span();
                Finding {
                    id: super::finding_id(&format!("sigma:{}", rule.id), ""),
                    detection: format!("sigma:{}", rule.id),
                    severity: rule.severity,
                    title: rule.title.clone(),
                    techniques: rule.techniques.clone(),
                    entities: seen.entities(Entity {
                        field: "sigma.author".into(),
                        value: rule.author.clone(),
                    }),
                    evidence: seen.evidence(),
                    count: seen.count,
                    first_seen,
                    last_seen,
                    remediation: Vec::new(),
                    explanation: format!(
                        "{} record(s) match the Sigma rule \"{}\" by {} ({}, Detection Rule License 1.1).",
                        seen.count,
                        rule.title,
                        rule.author,
                        rule.file
                            .file_name()
                            .map(|f| f.to_string_lossy().into_owned())
                            .unwrap_or_default()
                    ),
                    rationale: rule.description.clone(),
                    verdict: None,
                }
            })
            .collect()
    }
}

/// The entities a matched record offers.
pub fn entities_of(event: &Event) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    for field in ENTITY_FIELDS {
        if let Some(text) = super::event::text_at(&event.value, field) {
            out.push((field, text));
        }
    }
    out
}

#[cfg(test)]
mod pack_tests {
    use super::*;

    #[test]
    fn the_pinned_pack_loads_whole_and_every_rule_left_out_is_in_it() {
        let mut set = SigmaRules::empty();
        set.add_pinned_pack(&Default::default());
        assert!(set.rules.len() >= 250, "{}", set.summary());
        assert!(set.refused.is_empty(), "{:?}", set.refused);
        let left_out = set
            .inapplicable
            .iter()
            .filter(|(_, why)| why.starts_with("left out of the pack"))
            .count();
        assert_eq!(left_out, leave_out().len());
        // A rule given again (by --sigma) is not loaded twice.
        let given: std::collections::BTreeSet<String> =
            set.rules.iter().map(|r| r.id.clone()).collect();
        let mut again = SigmaRules::empty();
        again.add_pinned_pack(&given);
        assert!(again.rules.is_empty());
    }
}
