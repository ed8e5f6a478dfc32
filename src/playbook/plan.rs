//! The living checklist: the template's items, the concrete items findings
//! call for, the team's own items, and each one's state as the case journal
//! records it. Plain data, rebuilt from records and findings; `update`
//! keeps it, the remediation pane draws it.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};

use super::accounts::{self, Evidence, Made};
use super::template::{Action, ItemSpec, Template};
use crate::case::record::{Body, Record};
use crate::model::SafeText;
use crate::model::finding::FindingRow;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Status {
    #[default]
    Todo,
    InProgress,
    Done,
    Blocked,
    NotApplicable,
}

impl Status {
    pub const ALL: [Status; 5] = [
        Status::Todo,
        Status::InProgress,
        Status::Done,
        Status::Blocked,
        Status::NotApplicable,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Status::Todo => "todo",
            Status::InProgress => "in-progress",
            Status::Done => "done",
            Status::Blocked => "blocked",
            Status::NotApplicable => "n/a",
        }
    }

    /// The box drawn before the item, readable without colour.
    pub fn mark(self) -> &'static str {
        match self {
            Status::Todo => "[ ]",
            Status::InProgress => "[~]",
            Status::Done => "[x]",
            Status::Blocked => "[!]",
            Status::NotApplicable => "[-]",
        }
    }

    pub fn parse(word: &str) -> Option<Status> {
        let word = word.to_ascii_lowercase();
        let word = match word.as_str() {
            "doing" | "started" | "progress" | "in_progress" | "inprogress" => "in-progress",
            "na" | "not-applicable" | "n.a." => "n/a",
            other => other,
        };
        Status::ALL.into_iter().find(|s| s.name() == word)
    }

    /// Done, or set aside as not applicable: nothing left to do.
    pub fn finished(self) -> bool {
        matches!(self, Status::Done | Status::NotApplicable)
    }
}

/// One line of the checklist.
#[derive(Clone, Debug, PartialEq)]
pub struct Item {
    /// The template item's id; `ID:target` for a concrete item; `own-…`
    /// for one the team added.
    pub key: String,
    /// The template item it is (or, for a concrete item, belongs to).
    pub spec: Option<usize>,
    /// For a concrete item: its template item's id.
    pub parent: Option<String>,
    pub phase: usize,
    pub title: SafeText,
    /// The object a concrete item acts on.
    pub target: Option<SafeText>,
    /// The findings that called for it.
    pub findings: Vec<String>,
    /// Why the account it acts on is in the plan (compromised, made by
    /// the attacker), for items the plan adds from that evidence.
    pub why: Option<SafeText>,
    pub status: Status,
    pub reason: SafeText,
    pub owner: SafeText,
    /// Who last changed it, and when.
    pub by: SafeText,
    pub changed: Option<Timestamp>,
}

/// What the journal says about one item, latest first wins.
#[derive(Clone, Debug, PartialEq)]
struct Recorded {
    status: Status,
    reason: SafeText,
    owner: SafeText,
    by: SafeText,
    at: Option<Timestamp>,
}

#[derive(Clone, Debug)]
pub struct Plan {
    pub template: Arc<Template>,
    items: Vec<Item>,
    recorded: HashMap<String, Recorded>,
    /// Items the team added: key, phase, title.
    own: Vec<(String, usize, SafeText)>,
    /// Concrete items from findings, keyed, in the order first seen.
    generated: Vec<Item>,
    /// Hours to wait per item id where the configuration overrides the
    /// template.
    waits: HashMap<String, f64>,
    /// What the evidence shows of an item (krbtgt resets in the domain
    /// controllers' logs): it wins over the journal, except n/a.
    seen: HashMap<String, Recorded>,
    /// Emergency access accounts (lower-cased), from the configuration
    /// and the directory snapshot: never locked out on weak evidence.
    emergency: BTreeSet<String>,
    /// The team's triage, by finding id.
    verdicts: HashMap<String, String>,
    /// The findings last given, to generate again when triage or the
    /// emergency accounts change.
    findings: Vec<FindingRow>,
    /// Items the findings call for that the plan does not propose.
    withheld: Vec<Withheld>,
}

/// An emergency account the plan spares: the items it holds back, the
/// findings behind them (sorted, each once), and why.
#[derive(Clone, Debug, PartialEq)]
pub struct Spared {
    pub account: SafeText,
    pub items: Vec<SafeText>,
    pub findings: Vec<String>,
    pub reason: String,
}

/// An item the plan leaves out, and why.
#[derive(Clone, Debug, PartialEq)]
pub struct Withheld {
    pub title: SafeText,
    pub target: SafeText,
    pub findings: Vec<String>,
    pub reason: String,
}

impl Plan {
    pub fn new(template: Arc<Template>) -> Plan {
        let mut plan = Plan {
            template,
            items: Vec::new(),
            recorded: HashMap::new(),
            own: Vec::new(),
            generated: Vec::new(),
            waits: HashMap::new(),
            seen: HashMap::new(),
            emergency: BTreeSet::new(),
            verdicts: HashMap::new(),
            findings: Vec::new(),
            withheld: Vec::new(),
        };
        plan.rebuild();
        plan
    }

    /// Overrides a template wait (configuration: a longer ticket lifetime).
    pub fn set_wait(&mut self, item: &str, hours: f64) {
        self.waits.insert(item.to_owned(), hours);
    }

    pub fn items(&self) -> &[Item] {
        &self.items
    }

    pub fn spec(&self, item: &Item) -> Option<&ItemSpec> {
        item.spec.map(|i| &self.template.items[i])
    }

    /// Takes in one journal record; `true` when it was about the checklist.
    pub fn apply(&mut self, record: &Record) -> bool {
        let at = record.time.parse::<Timestamp>().ok();
        match &record.body {
            Body::ItemState {
                item,
                state,
                reason,
                owner,
                at: happened,
                ..
            } => {
                let status = Status::parse(state).unwrap_or(Status::InProgress);
                // Done by hand earlier than recorded: waits count from then.
                let at = happened.parse::<Timestamp>().ok().or(at);
                self.recorded.insert(
                    item.clone(),
                    Recorded {
                        status,
                        reason: SafeText::new(reason),
                        owner: SafeText::new(owner),
                        by: SafeText::new(&record.author),
                        at,
                    },
                );
            }
            // A verified change on the tenant does the item.
            Body::Action {
                item,
                outcome,
                verified,
                summary,
                ..
            } => {
                if !*verified || outcome == "dry-run" {
                    return false;
                }
                self.recorded.insert(
                    item.clone(),
                    Recorded {
                        status: Status::Done,
                        reason: SafeText::new(summary),
                        owner: SafeText::default(),
                        by: SafeText::new(&record.author),
                        at,
                    },
                );
            }
            Body::Triage { finding, state, .. } => {
                // Triage changes which accounts the plan acts on; it is
                // not a change of the checklist's own to announce.
                self.verdicts.insert(finding.clone(), state.clone());
                self.regenerate();
                return false;
            }
            Body::ItemAdded { phase, title } => {
                let phase = self.template.phase_index(phase).unwrap_or(0);
                let key = format!("own-{}", &record.id[..record.id.len().min(8)]);
                self.own.push((key, phase, SafeText::new(title)));
            }
            _ => return false,
        }
        self.rebuild();
        true
    }

    /// Emergency access accounts (user principal names): the plan does
    /// not lock them out unless their own activity shows them taken.
    pub fn set_emergency_accounts(&mut self, accounts: impl IntoIterator<Item = String>) {
        self.emergency = accounts.into_iter().map(|a| a.to_lowercase()).collect();
        self.regenerate();
    }

    /// Adds emergency accounts (a directory snapshot's); `false` when all
    /// were known already. Never removes one: sparing an account that is
    /// no longer one is the safe mistake.
    pub fn add_emergency_accounts(&mut self, accounts: impl IntoIterator<Item = String>) -> bool {
        let before = self.emergency.len();
        self.emergency
            .extend(accounts.into_iter().map(|a| a.to_lowercase()));
        if self.emergency.len() == before {
            return false;
        }
        self.regenerate();
        true
    }

    /// The concrete items made again from the findings last given (after
    /// triage or the emergency accounts changed).
    fn regenerate(&mut self) {
        let findings = std::mem::take(&mut self.findings);
        self.set_findings(&findings);
    }

    pub fn emergency_accounts(&self) -> &BTreeSet<String> {
        &self.emergency
    }

    /// Whether `account` (a user principal name) is an emergency account:
    /// named so, or named like one (`bg-…`, `breakglass…`).
    pub fn is_emergency(&self, account: &str) -> bool {
        self.emergency.contains(&account.to_lowercase()) || accounts::named_like_emergency(account)
    }

    /// Items the findings call for that the plan does not propose.
    pub fn withheld(&self) -> &[Withheld] {
        &self.withheld
    }

    /// The withheld items by account, in the order the accounts come.
    pub fn spared(&self) -> Vec<Spared> {
        let mut out: Vec<Spared> = Vec::new();
        for w in &self.withheld {
            let at = match out.iter().position(|s| s.account == w.target) {
                Some(at) => at,
                None => {
                    out.push(Spared {
                        account: w.target.clone(),
                        items: Vec::new(),
                        findings: Vec::new(),
                        reason: w.reason.clone(),
                    });
                    out.len() - 1
                }
            };
            out[at].items.push(w.title.clone());
            out[at].findings.extend(w.findings.iter().cloned());
        }
        for s in &mut out {
            s.findings.sort();
            s.findings.dedup();
        }
        out
    }

    /// The concrete items the findings call for, one per object named,
    /// however many findings name it; and the containment items for every
    /// account the findings show compromised or made by the attacker.
    pub fn set_findings(&mut self, findings: &[FindingRow]) {
        let confirmed = accounts::confirmed(&self.verdicts);
        let mut emergency = self.emergency.clone();
        emergency.extend(
            accounts::named_users(findings)
                .into_iter()
                .filter(|u| accounts::named_like_emergency(u)),
        );
        let compromised = accounts::compromised(findings, &confirmed, &emergency);
        let mut generated: Vec<Item> = Vec::new();
        for finding in findings {
            // What a compromised account made is contained, not reviewed.
            let mut remediation = finding.remediation.clone();
            for (made, _) in compromised
                .values()
                .flat_map(|e| e.made.iter())
                .filter(|(_, id)| *id == finding.id)
            {
                remediation.push(match made {
                    Made::Created => "disable-attacker-accounts".to_owned(),
                    Made::Promoted => "remove-unneeded-admins".to_owned(),
                });
            }
            // A credential can live on the application and on its service
            // principal: removing it means both.
            if remediation.iter().any(|r| r == "remove-added-credentials") {
                remediation.push("remove-added-sp-credentials".to_owned());
            }
            for remediation in &remediation {
                let Some(index) = self
                    .template
                    .items
                    .iter()
                    .position(|i| &i.id == remediation)
                else {
                    continue;
                };
                let spec = &self.template.items[index];
                let (Some(each), Some(target)) = (&spec.each, &spec.target) else {
                    continue;
                };
                let values = finding
                    .entities
                    .iter()
                    .filter(|(field, value)| target.contains(field) && !value.is_empty());
                for (_, value) in values {
                    let title = fill(each, value.as_str(), finding);
                    self.generate(&mut generated, index, value, &title, &finding.id, None);
                }
            }
        }
        // Every compromised account gets its sessions revoked and its
        // password reset, and one the attacker made is disabled, with the
        // evidence named.
        for (user, evidence) in &compromised {
            let mut items = Vec::new();
            if !evidence.own.is_empty() || !evidence.made.is_empty() {
                items.extend(["revoke-sessions", "reset-passwords"]);
            }
            if evidence.made.iter().any(|(m, _)| *m == Made::Created) {
                items.push("disable-attacker-accounts");
            }
            let why = why(evidence);
            for id in items {
                let Some(index) = self.template.items.iter().position(|i| i.id == id) else {
                    continue;
                };
                let Some(each) = &self.template.items[index].each else {
                    continue;
                };
                let value = SafeText::new(user);
                let title = each.replace("{target}", user);
                for finding in evidence.findings() {
                    self.generate(&mut generated, index, &value, &title, &finding, Some(&why));
                }
            }
        }
        // Emergency accounts are not locked out on weak evidence.
        let mut withheld = Vec::new();
        generated.retain(|item| {
            let locks_out = self
                .spec(item)
                .and_then(|s| s.action)
                .is_some_and(|a| {
                    matches!(
                        a,
                        Action::RevokeSessions
                            | Action::ResetPassword
                            | Action::DisableAccount
                            | Action::RemoveRoleAssignment
                    )
                });
            let Some(user) = item.target.as_ref().map(|t| t.as_str().to_lowercase()) else {
                return true;
            };
            if locks_out && accounts::spared(&user, &emergency, compromised.get(&user)) {
                withheld.push(Withheld {
                    title: item.title.clone(),
                    target: SafeText::new(&user),
                    findings: item.findings.clone(),
                    reason: format!(
                        "{user} is an emergency access account: the team may lose its way into the tenant. Nothing shows the account itself taken (no sign-in, token or infrastructure finding about it); confirm a finding about it (triage) to act on it."
                    ),
                });
                return false;
            }
            true
        });
        self.findings = findings.to_vec();
        let seen = self.krbtgt_seen(findings);
        if generated != self.generated || seen != self.seen || withheld != self.withheld {
            self.generated = generated;
            self.seen = seen;
            self.withheld = withheld;
            self.rebuild();
        }
    }

    /// Adds a concrete item of template item `index` on `value`, or the
    /// finding to the one already there (names differ in case across
    /// logs: one item per object).
    fn generate(
        &self,
        generated: &mut Vec<Item>,
        index: usize,
        value: &SafeText,
        title: &str,
        finding: &str,
        why: Option<&str>,
    ) {
        let spec = &self.template.items[index];
        let key = format!("{}:{}", spec.id, value.as_str().to_lowercase());
        if let Some(known) = generated.iter_mut().find(|g| g.key == key) {
            if !known.findings.iter().any(|f| f == finding) {
                known.findings.push(finding.to_owned());
            }
            if known.why.is_none() {
                known.why = why.map(SafeText::new);
            }
            return;
        }
        generated.push(Item {
            key,
            spec: Some(index),
            parent: Some(spec.id.clone()),
            phase: self.template.phase_index(&spec.phase).unwrap_or(0),
            title: SafeText::new(title),
            target: Some(value.clone()),
            findings: vec![finding.to_owned()],
            why: why.map(SafeText::new),
            status: Status::Todo,
            reason: SafeText::default(),
            owner: SafeText::default(),
            by: SafeText::default(),
            changed: None,
        });
    }

    /// The two krbtgt items as the logged resets of `krbtgt` show them:
    /// the first done when the wait's reset happened (a reset inside the
    /// wait restarts it), the second done by a reset after the wait, or
    /// held open when the last reset came too soon.
    fn krbtgt_seen(&self, findings: &[FindingRow]) -> HashMap<String, Recorded> {
        use crate::detect::krbtgt;
        let mut seen = HashMap::new();
        let hours = self
            .template
            .item("reset-krbtgt-second")
            .map_or(krbtgt::DEFAULT_WAIT_HOURS, |spec| self.wait_hours(spec));
        // Each domain's krbtgt (read-only DCs' krbtgt_NNNNN are their own
        // matter): the items are as far as the domain furthest behind.
        let schedules: Vec<krbtgt::Schedule> = findings
            .iter()
            .filter(|f| {
                f.detection == krbtgt::RESET
                    && f.entities
                        .iter()
                        .any(|(k, v)| k == "TargetUserName" && v.as_str() == "krbtgt")
            })
            .map(|f| {
                let times: Vec<i64> = f
                    .entities
                    .iter()
                    .filter(|(k, _)| k == "TimeCreated")
                    .filter_map(|(_, v)| v.as_str().parse::<Timestamp>().ok())
                    .map(|t| t.as_second())
                    .collect();
                krbtgt::schedule(&times, krbtgt::wait_secs(hours))
            })
            .collect();
        if schedules.is_empty() {
            return seen;
        }
        let latest = |pick: fn(&krbtgt::Schedule) -> Option<i64>| {
            schedules
                .iter()
                .map(pick)
                .collect::<Option<Vec<i64>>>()
                .and_then(|all| all.into_iter().max())
        };
        let plan = krbtgt::Schedule {
            first: latest(|s| s.first),
            second: latest(|s| s.second),
            too_soon: schedules
                .iter()
                .filter(|s| s.second.is_none())
                .filter_map(|s| s.too_soon.last().copied())
                .max_by_key(|(_, after)| *after)
                .into_iter()
                .collect(),
        };
        let at = |t: i64| Timestamp::from_second(t).ok();
        let text = crate::model::de::graph_time_secs;
        let by = SafeText::new("domain controller log (4724)");
        if let Some(first) = plan.first {
            let reason = match plan.too_soon.last() {
                Some((before, _)) => format!(
                    "krbtgt reset at {} and again at {}, inside the wait: the wait counts from the later",
                    text(*before),
                    text(first)
                ),
                None => format!("krbtgt reset at {}", text(first)),
            };
            seen.insert(
                "reset-krbtgt-first".to_owned(),
                Recorded {
                    status: Status::Done,
                    reason: SafeText::new(&reason),
                    owner: SafeText::default(),
                    by: by.clone(),
                    at: at(first),
                },
            );
        }
        if let Some(second) = plan.second {
            seen.insert(
                "reset-krbtgt-second".to_owned(),
                Recorded {
                    status: Status::Done,
                    reason: SafeText::new(&format!(
                        "second krbtgt reset at {}, after the wait",
                        text(second)
                    )),
                    owner: SafeText::default(),
                    by,
                    at: at(second),
                },
            );
        } else if let Some((before, after)) = plan.too_soon.last() {
            seen.insert(
                "reset-krbtgt-second".to_owned(),
                Recorded {
                    status: Status::Blocked,
                    reason: SafeText::new(&format!(
                        "reset at {} came {:.1} h after {}, before the {hours} h wait was over; reset again after {}",
                        text(*after),
                        (after - before) as f64 / 3600.0,
                        text(*before),
                        text(after.saturating_add(krbtgt::wait_secs(hours)))
                    )),
                    owner: SafeText::default(),
                    by,
                    at: at(*after),
                },
            );
        }
        seen
    }

    /// Template items in order, each followed by its concrete items, the
    /// team's own items at the end of their phase; states from the journal.
    fn rebuild(&mut self) {
        let mut items = Vec::new();
        for phase in 0..self.template.phases.len() {
            for (index, spec) in self.template.items.iter().enumerate() {
                if self.template.phase_index(&spec.phase) != Some(phase) {
                    continue;
                }
                items.push(Item {
                    key: spec.id.clone(),
                    spec: Some(index),
                    parent: None,
                    phase,
                    title: SafeText::new(&spec.title),
                    target: None,
                    findings: Vec::new(),
                    why: None,
                    status: Status::Todo,
                    reason: SafeText::default(),
                    owner: SafeText::default(),
                    by: SafeText::default(),
                    changed: None,
                });
                items.extend(
                    self.generated
                        .iter()
                        .filter(|g| g.parent.as_deref() == Some(spec.id.as_str()))
                        .cloned(),
                );
            }
            for (key, _, title) in self.own.iter().filter(|(_, p, _)| *p == phase) {
                items.push(Item {
                    key: key.clone(),
                    spec: None,
                    parent: None,
                    phase,
                    title: title.clone(),
                    target: None,
                    findings: Vec::new(),
                    why: None,
                    status: Status::Todo,
                    reason: SafeText::default(),
                    owner: SafeText::default(),
                    by: SafeText::default(),
                    changed: None,
                });
            }
        }
        for item in &mut items {
            let recorded = self.recorded.get(&item.key);
            let seen = self
                .seen
                .get(&item.key)
                .filter(|_| recorded.is_none_or(|r| r.status != Status::NotApplicable));
            if let Some(r) = seen.or(recorded) {
                item.status = r.status;
                item.reason = r.reason.clone();
                item.owner = recorded.map_or_else(|| r.owner.clone(), |own| own.owner.clone());
                item.by = r.by.clone();
                item.changed = r.at;
            }
        }
        // A template item with concrete items is as far as they are.
        // (When it is done through them, it is done when the last was.)
        let derived: Vec<Option<(Status, Option<Timestamp>)>> = items
            .iter()
            .map(|item| {
                if item.parent.is_some() || item.spec.is_none() {
                    return None;
                }
                let children: Vec<&Item> = items
                    .iter()
                    .filter(|c| c.parent.as_deref() == Some(item.key.as_str()))
                    .collect();
                if children.is_empty() || item.status.finished() {
                    None
                } else if children.iter().all(|c| c.status.finished()) {
                    let last = children.iter().filter_map(|c| c.changed).max();
                    Some((Status::Done, last))
                } else if children.iter().any(|c| {
                    matches!(
                        c.status,
                        Status::InProgress | Status::Done | Status::NotApplicable
                    )
                }) {
                    Some((Status::InProgress, item.changed))
                } else {
                    None
                }
            })
            .collect();
        for (item, derived) in items.iter_mut().zip(derived) {
            if let Some((status, changed)) = derived {
                item.status = status;
                item.changed = changed;
            }
        }
        self.items = items;
    }

    fn find(&self, key: &str) -> Option<&Item> {
        self.items.iter().find(|i| i.key == key)
    }

    /// What keeps an item from being started or done now: unfinished
    /// dependencies and waits still running, in words.
    pub fn blockers(&self, item: &Item, now: Timestamp) -> Vec<String> {
        let Some(spec) = self.spec(item) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        let investigate = self.template.phase_index("investigate");
        for dep in &spec.after {
            // A concrete item acts on an object a finding named: the
            // reviews that find more such objects need not come first.
            let review = self
                .template
                .item(dep)
                .is_some_and(|d| self.template.phase_index(&d.phase) == investigate);
            if item.parent.is_some() && review {
                continue;
            }
            match self.find(dep) {
                Some(d) if d.status.finished() => {}
                Some(d) => out.push(format!("after \"{}\" ({})", d.title, d.status.name())),
                None => out.push(format!("after {dep}")),
            }
        }
        if let Some(left) = self.wait_left(item, now) {
            out.push(format!("wait {} more", duration_text(left)));
        }
        out
    }

    /// The hours an item waits: the configuration's, else the template's.
    pub fn wait_hours(&self, spec: &ItemSpec) -> f64 {
        let template = spec.wait.as_ref().map_or(0.0, |w| w.hours);
        self.waits.get(&spec.id).copied().unwrap_or(template)
    }

    /// Time left on the item's wait, once the item it waits on is done.
    pub fn wait_left(&self, item: &Item, now: Timestamp) -> Option<SignedDuration> {
        let spec = self.spec(item)?;
        let wait = spec.wait.as_ref()?;
        let hours = self.wait_hours(spec);
        let before = self.find(&wait.after)?;
        if before.status != Status::Done {
            return None;
        }
        let done = before.changed?;
        let wait = SignedDuration::try_from_secs_f64(hours * 3600.0).ok()?;
        let until = done.checked_add(wait).ok()?;
        let left = until.duration_since(now);
        (left > SignedDuration::ZERO).then_some(left)
    }

    /// Finished and total items of a phase; an item with concrete items
    /// counts through them.
    /// An item set done or n/a by hand counts once, whatever its concrete
    /// items say.
    pub fn progress(&self, phase: usize) -> (usize, usize) {
        let settled = |key: &str| self.recorded.get(key).is_some_and(|r| r.status.finished());
        let counted = self.items.iter().filter(|i| i.phase == phase).filter(|i| {
            let has_children = self
                .items
                .iter()
                .any(|c| c.parent.as_deref() == Some(i.key.as_str()));
            let parent_settled = i.parent.as_deref().is_some_and(settled);
            !parent_settled && (!has_children || settled(&i.key))
        });
        counted.fold((0, 0), |(done, total), i| {
            (done + usize::from(i.status.finished()), total + 1)
        })
    }

    pub fn overall(&self) -> (usize, usize) {
        (0..self.template.phases.len())
            .map(|p| self.progress(p))
            .fold((0, 0), |(d, t), (pd, pt)| (d + pd, t + pt))
    }

    /// The first phase with work left (the one the team is in).
    pub fn current_phase(&self) -> usize {
        (0..self.template.phases.len())
            .find(|&p| {
                let (done, total) = self.progress(p);
                done < total
            })
            .unwrap_or(self.template.phases.len().saturating_sub(1))
    }
}

/// Why an account is in the plan, in a sentence.
fn why(evidence: &Evidence) -> String {
    let mut parts = Vec::new();
    if !evidence.own.is_empty() {
        parts.push("its own sign-ins or tokens show it in the attacker's hands".to_owned());
    }
    for (made, _) in &evidence.made {
        let said = match made {
            Made::Created => "created by a compromised account",
            Made::Promoted => "given a privileged role by a compromised account",
        };
        if !parts.iter().any(|p| p == said) {
            parts.push(said.to_owned());
        }
    }
    if !evidence.initiated.is_empty() {
        parts.push("made high or critical changes".to_owned());
    }
    parts.join("; ")
}

/// `{target}` is the object; `{field}` placeholders come from the
/// finding's entities. One pass over the template: a value that itself
/// looks like a placeholder is left as it is.
fn fill(each: &str, value: &str, finding: &FindingRow) -> String {
    let mut out = String::with_capacity(each.len() + value.len());
    let mut rest = each;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let Some(close) = rest[open..].find('}') else {
            break;
        };
        let name = &rest[open + 1..open + close];
        let filled = if name == "target" {
            Some(value)
        } else {
            finding
                .entities
                .iter()
                .find(|(field, _)| field == name)
                .map(|(_, v)| v.as_str())
        };
        match filled {
            Some(text) => out.push_str(text),
            None => out.push_str(&rest[open..open + close + 1]),
        }
        rest = &rest[open + close + 1..];
    }
    out.push_str(rest);
    out
}

/// `7h42m`, `12m`.
pub fn duration_text(d: SignedDuration) -> String {
    let minutes = (d.as_secs() + 59) / 60;
    if minutes >= 60 {
        format!("{}h{:02}m", minutes / 60, minutes % 60)
    } else {
        format!("{minutes}m")
    }
}

/// What may follow the owner in a state line: `at TIME` (when it really
/// happened) and `override` (go ahead though the item is blocked), then
/// the reason.
#[derive(Debug, PartialEq)]
pub struct Extras {
    pub at: Option<Timestamp>,
    pub overriding: bool,
    pub reason: String,
}

/// Splits `at TIME` and `override` off the front of a state line's reason.
/// A time in the future is refused.
pub fn split_extras(reason: &str, now: Timestamp) -> Result<Extras, String> {
    let mut words: Vec<&str> = reason.split_whitespace().collect();
    let mut extras = Extras {
        at: None,
        overriding: false,
        reason: String::new(),
    };
    loop {
        match words.first().map(|w| w.to_ascii_lowercase()).as_deref() {
            Some("at") if words.len() > 1 => {
                let text = words[1];
                let at = crate::model::de::parse_time(text).ok_or_else(|| {
                    format!("\"{text}\" is no time: write it as 2026-12-01T09:30:00Z")
                })?;
                if at > now {
                    return Err(format!(
                        "{text} is still to come: record it once it is done"
                    ));
                }
                extras.at = Some(at);
                words.drain(..2);
            }
            Some("override") => {
                extras.overriding = true;
                words.remove(0);
            }
            _ => break,
        }
    }
    extras.reason = words.join(" ");
    Ok(extras)
}

/// Reads `STATE [@OWNER] [REASON…]`; blocked and n/a need a reason.
pub fn parse_state_line(text: &str) -> Result<crate::model::decision::Decision<Status>, String> {
    let names: Vec<&str> = Status::ALL.iter().map(|s| s.name()).collect();
    crate::model::decision::parse(text, &names, Status::parse, |s| {
        matches!(s, Status::Blocked | Status::NotApplicable).then(|| s.name())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(id: &str, time: &str, body: Body) -> Record {
        Record {
            id: id.into(),
            time: time.into(),
            author: "alice@jumpbox".into(),
            body,
        }
    }

    fn set(item: &str, state: &str, time: &str) -> Record {
        record(
            "r",
            time,
            Body::ItemState {
                item: item.into(),
                state: state.into(),
                reason: String::new(),
                owner: String::new(),
                at: String::new(),
                overridden: String::new(),
            },
        )
    }

    fn plan() -> Plan {
        Plan::new(Arc::new(Template::built_in()))
    }

    /// The findings the engine makes of these krbtgt resets (times in
    /// hours after midnight), as the console gets them.
    fn krbtgt_findings(hours: &[i64], wait: f64) -> Vec<FindingRow> {
        let mut engine = crate::detect::Engine::built_in()
            .unwrap()
            .with_krbtgt_wait(wait);
        for (i, h) in hours.iter().enumerate() {
            let value = serde_json::json!({"EventID": 4724, "Channel": "Security", "Computer": "DC01",
                "TimeCreated": format!("2026-11-25T{h:02}:00:00Z"), "TargetUserName": "krbtgt",
                "SubjectUserName": "alice", "EventRecordID": i + 1});
            engine.observe(&crate::detect::Event::new(value, || format!("#{i}")).unwrap());
        }
        engine
            .findings()
            .iter()
            .map(FindingRow::from_finding)
            .collect()
    }

    #[test]
    fn logged_krbtgt_resets_drive_the_two_items_and_a_hasty_one_holds_the_second_open() {
        let item = |p: &Plan, key: &str| p.items().iter().find(|i| i.key == key).unwrap().clone();
        // The team clicked "done" late; the log's time counts.
        let mut plan = plan();
        plan.apply(&set("reset-krbtgt-first", "done", "2026-11-25T09:00:00Z"));
        plan.set_findings(&krbtgt_findings(&[4], 10.0));
        let first = item(&plan, "reset-krbtgt-first");
        assert_eq!(first.status, Status::Done);
        assert_eq!(first.changed, Some("2026-11-25T04:00:00Z".parse().unwrap()));
        let now: Timestamp = "2026-11-25T12:00:00Z".parse().unwrap();
        let left = plan
            .wait_left(&item(&plan, "reset-krbtgt-second"), now)
            .unwrap();
        assert_eq!(duration_text(left), "2h00m");

        // Two resets three hours apart, with a 10-hour wait: flagged, and
        // the second item held open with the wait counted from the later.
        let findings = krbtgt_findings(&[4, 7], 10.0);
        assert!(
            findings
                .iter()
                .any(|f| f.detection == "onprem.krbtgt-reset-too-soon")
        );
        let mut plan = super::Plan::new(Arc::new(Template::built_in()));
        plan.set_findings(&findings);
        let second = item(&plan, "reset-krbtgt-second");
        assert_eq!(second.status, Status::Blocked);
        assert!(
            second.reason.as_str().contains("before the 10 h wait"),
            "{:?}",
            second.reason
        );
        let left = plan.wait_left(&second, now).unwrap();
        assert_eq!(duration_text(left), "5h00m");

        // A reset after the wait does the second item.
        let mut plan = super::Plan::new(Arc::new(Template::built_in()));
        plan.set_findings(&krbtgt_findings(&[4, 7, 18], 10.0));
        assert_eq!(item(&plan, "reset-krbtgt-second").status, Status::Done);
        // The configured wait decides what "too soon" is.
        let mut plan = super::Plan::new(Arc::new(Template::built_in()));
        plan.set_wait("reset-krbtgt-second", 12.0);
        plan.set_findings(&krbtgt_findings(&[4, 15], 12.0));
        assert_eq!(item(&plan, "reset-krbtgt-second").status, Status::Blocked);
    }

    #[test]
    fn the_second_krbtgt_reset_waits_ten_hours_after_the_first() {
        let mut plan = plan();
        let now: Timestamp = "2026-11-25T12:00:00Z".parse().unwrap();
        let second = |p: &Plan| {
            p.items()
                .iter()
                .find(|i| i.key == "reset-krbtgt-second")
                .unwrap()
                .clone()
        };
        let blockers = plan.blockers(&second(&plan), now);
        assert!(
            blockers
                .iter()
                .any(|b| b.contains("Reset the krbtgt password (first of two)")),
            "{blockers:?}"
        );
        plan.apply(&set("reset-krbtgt-first", "done", "2026-11-25T04:00:00Z"));
        let left = plan.wait_left(&second(&plan), now).unwrap();
        assert_eq!(duration_text(left), "2h00m");
        assert_eq!(
            plan.blockers(&second(&plan), now),
            vec!["wait 2h00m more".to_string()]
        );
        let later: Timestamp = "2026-11-25T14:00:01Z".parse().unwrap();
        assert!(plan.blockers(&second(&plan), later).is_empty());
        // A longer ticket lifetime from the configuration moves it.
        plan.set_wait("reset-krbtgt-second", 12.0);
        assert!(plan.wait_left(&second(&plan), later).is_some());
    }

    #[test]
    fn findings_add_concrete_items_once_per_object() {
        let mut plan = plan();
        let finding = |id: &str, user: &str| FindingRow {
            id: id.into(),
            detection: "signin.rotated-key-in-use".into(),
            severity: crate::model::Severity::High,
            title: "t".into(),
            count: 1,
            first_seen: None,
            last_seen: None,
            techniques: vec![],
            explanation: SafeText::default(),
            rationale: String::new(),
            entities: vec![("userPrincipalName".into(), SafeText::new(user))],
            subject: None,
            evidence: vec![],
            remediation: vec!["revoke-sessions".into(), "reset-passwords".into()],
            posture: false,
        };
        plan.set_findings(&[
            finding("f1", "megan@contoso.com"),
            finding("f2", "megan@contoso.com"),
            finding("f3", "adele@contoso.com"),
        ]);
        let revoke: Vec<&Item> = plan
            .items()
            .iter()
            .filter(|i| i.parent.as_deref() == Some("revoke-sessions"))
            .collect();
        assert_eq!(revoke.len(), 2);
        assert_eq!(
            revoke[0].title.as_str(),
            "Revoke the sessions of megan@contoso.com"
        );
        assert_eq!(revoke[0].findings, vec!["f1".to_string(), "f2".to_string()]);
        // The template item follows its concrete items.
        plan.apply(&set(
            "revoke-sessions:megan@contoso.com",
            "done",
            "2026-11-25T04:00:00Z",
        ));
        let parent = plan
            .items()
            .iter()
            .find(|i| i.key == "revoke-sessions")
            .unwrap();
        assert_eq!(parent.status, Status::InProgress);
        plan.apply(&set(
            "revoke-sessions:adele@contoso.com",
            "n/a",
            "2026-11-25T04:00:00Z",
        ));
        let parent = plan
            .items()
            .iter()
            .find(|i| i.key == "revoke-sessions")
            .unwrap();
        assert_eq!(parent.status, Status::Done);
        let control = plan.template.phase_index("control").unwrap();
        let (done, total) = plan.progress(control);
        assert!(done >= 2 && total > done);
    }

    #[test]
    fn a_template_item_settled_by_hand_counts_once() {
        let mut plan = plan();
        let finding = FindingRow {
            id: "f".into(),
            detection: "d".into(),
            severity: crate::model::Severity::High,
            title: "t".into(),
            count: 1,
            first_seen: None,
            last_seen: None,
            techniques: vec![],
            explanation: SafeText::default(),
            rationale: String::new(),
            entities: vec![
                ("userPrincipalName".into(), SafeText::new("a@contoso.com")),
                (
                    "initiatedBy.user.userPrincipalName".into(),
                    SafeText::new("B@contoso.com"),
                ),
            ],
            subject: None,
            evidence: vec![],
            remediation: vec!["revoke-sessions".into()],
            posture: false,
        };
        plan.set_findings(&[finding]);
        let control = plan.template.phase_index("control").unwrap();
        let (_, before) = plan.progress(control);
        // A blocked concrete item does not make its template item started.
        plan.apply(&set(
            "revoke-sessions:a@contoso.com",
            "blocked",
            "2026-11-25T04:00:00Z",
        ));
        let parent = |p: &Plan| {
            p.items()
                .iter()
                .find(|i| i.key == "revoke-sessions")
                .unwrap()
                .status
        };
        assert_eq!(parent(&plan), Status::Todo);
        // Set n/a by hand: counted once, finished; its lines no longer count.
        plan.apply(&set("revoke-sessions", "n/a", "2026-11-25T05:00:00Z"));
        let (done, total) = plan.progress(control);
        assert_eq!(total, before - 1);
        assert!(done >= 1);
        // Keys fold case: one line per object.
        assert!(
            plan.items()
                .iter()
                .any(|i| i.key == "revoke-sessions:b@contoso.com")
        );
    }

    #[test]
    fn own_items_and_state_lines() {
        let mut plan = plan();
        plan.apply(&record(
            "abcdef1234",
            "2026-11-25T04:00:00Z",
            Body::ItemAdded {
                phase: "secure".into(),
                title: "Brief the legal team on the bridge".into(),
            },
        ));
        let own = plan
            .items()
            .iter()
            .find(|i| i.key == "own-abcdef12")
            .unwrap();
        assert_eq!(own.phase, 0);
        let line = parse_state_line("done @carol from PAW-03").unwrap();
        assert_eq!(
            (line.state, line.owner.as_str(), line.reason.as_str()),
            (Status::Done, "carol", "from PAW-03")
        );
        assert!(parse_state_line("blocked").unwrap_err().contains("say why"));
        assert_eq!(
            parse_state_line("na no AD FS here").unwrap().state,
            Status::NotApplicable
        );
    }
}
