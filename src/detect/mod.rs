//! The detection engine: rules as data (`rule`) run over every event in
//! one pass; matches are grouped, counted and windowed into findings that
//! say which events, which fields and which threshold made them fire.
//! `warroom scan` and the console feed the same `Engine`.

pub mod acl;
pub mod adfs_sync;
pub mod baseline;
pub mod catalogue;
pub mod event;
pub mod forged;
pub mod hosts;
pub mod infra;
pub mod ioc;
pub mod joins;
pub mod kql;
pub mod listing;
/// The borrowed JSON value rules read (the model's).
pub use crate::model::json;
pub mod krbtgt;
pub mod lazy;
pub mod own;
pub mod posture;
pub mod prefilter;
pub mod record_id;
pub mod report;
pub mod rule;
pub mod sightings;
pub mod sigma;
pub mod spill;
pub mod travel;

use std::collections::BTreeMap;

pub use crate::model::finding::{Entity, Finding};
pub use event::{Event, Kind};
use rule::{Aggregate, Hit, Ready};

/// The rules and their state.
pub struct Engine {
    pub rules: Vec<Ready>,
    /// Threat indicators matched against every event, when a list is given.
    pub iocs: Option<std::sync::Arc<ioc::IocList>>,
    /// Sigma rules run beside the built-in ones, when a directory is given.
    pub sigma: Option<std::sync::Arc<sigma::SigmaRules>>,
    /// The team's triage decisions (finding id to state): what may seed
    /// the attacker-infrastructure findings, and what withdraws them.
    pub verdicts: std::collections::HashMap<String, String>,
    /// The team's own writes: their audits are set aside, not judged.
    pub own: Vec<own::OwnWrite>,
    /// Audits of the team's own writes set aside so far.
    pub own_seen: u64,
    /// What the events so far made of the rules: a pass on many threads
    /// takes it out, matches with `Engine::hits` on its workers and keeps
    /// with `absorb` on one collector.
    pub tally: Tally,
}

/// What runs beside the built-in rules, shared by every worker.
#[derive(Clone, Copy, Default)]
pub struct Extra<'a> {
    pub iocs: Option<&'a ioc::IocList>,
    pub sigma: Option<&'a sigma::SigmaRules>,
}

/// What the engine has concluded so far from the events it took.
#[derive(Default)]
pub struct Tally {
    state: Aggregate,
    claims: baseline::ClaimBaseline,
    travel: travel::Trails,
    joins: joins::Joins,
    iocs: ioc::Matches,
    sigma: sigma::Matches,
    forged: forged::Forged,
    acl: acl::Changes,
    krbtgt: krbtgt::Resets,
    transfers: adfs_sync::Transfers,
    /// Hosts seen acting as domain controllers (for rules with `host`).
    domain_controllers: hosts::DomainControllers,
    /// A row per event, for the attacker-infrastructure findings (kept by
    /// `observe`; `scan` fills it on a second look at its files).
    activity: infra::Activity,
    /// Events seen, by kind.
    seen: BTreeMap<&'static str, u64>,
}

impl Engine {
    pub fn new(rules: Vec<Ready>) -> Self {
        Self {
            rules,
            iocs: None,
            sigma: None,
            verdicts: std::collections::HashMap::new(),
            own: Vec::new(),
            own_seen: 0,
            tally: Tally::default(),
        }
    }

    /// Takes the team's triage decisions (finding id to state).
    pub fn set_verdicts(&mut self, verdicts: std::collections::HashMap<String, String>) {
        self.verdicts = verdicts;
    }

    /// The team's triage and its own writes (from the case journal).
    pub fn set_team(&mut self, team: own::Team) {
        self.verdicts = team.verdicts;
        self.own = team.writes;
    }

    pub fn built_in() -> Result<Self, String> {
        Ok(Self::new(rule::built_in()?))
    }

    /// Matches this list's indicators too.
    pub fn with_iocs(mut self, list: std::sync::Arc<ioc::IocList>) -> Self {
        self.iocs = Some(list);
        self
    }

    /// Judges krbtgt resets against this wait (hours) rather than the
    /// playbook's (the configuration's `[checklist] waits`).
    pub fn with_krbtgt_wait(mut self, hours: f64) -> Self {
        self.tally.krbtgt = krbtgt::Resets::new(hours);
        self
    }

    /// Runs these Sigma rules too.
    pub fn with_sigma(mut self, rules: std::sync::Arc<sigma::SigmaRules>) -> Self {
        self.sigma = Some(rules);
        self
    }

    /// The indicator list and Sigma rules, for `hits`.
    pub fn extra(&self) -> Extra<'_> {
        Extra {
            iocs: self.iocs.as_deref(),
            sigma: self.sigma.as_deref(),
        }
    }

    /// Events seen, by kind.
    pub fn seen(&self) -> &BTreeMap<&'static str, u64> {
        &self.tally.seen
    }

    /// The stateless part of running one event: which rules match, and
    /// what each keeps. Safe to run on many threads at once.
    pub fn hits(rules: &[Ready], extra: Extra<'_>, event: &Event) -> Observed {
        let indicators = extra
            .iocs
            .map(|list| list.matches(event))
            .unwrap_or_default();
        let sigma = extra
            .sigma
            .map(|set| set.matches(event))
            .unwrap_or_default();
        let place = if indicators.is_empty() && sigma.is_empty() {
            None
        } else {
            Some((event.time, event.id.clone()))
        };
        let sigma_entities = if sigma.is_empty() {
            Vec::new()
        } else {
            sigma::entities_of(event)
        };
        Observed {
            hits: rules
                .iter()
                .enumerate()
                .filter(|(_, r)| r.matches(event))
                .map(|(i, r)| (i, r.hit(event)))
                .collect(),
            facts: baseline::facts(event),
            travel: travel::fact(event),
            join: joins::fact(event, catalogue::Catalogue::shared()),
            forged: forged::facts(event),
            acl: acl::fact(event).map(Box::new),
            krbtgt: krbtgt::fact(event).map(Box::new),
            transfer: adfs_sync::fact(event).map(Box::new),
            domain_controller: hosts::dc_fact(event),
            indicators,
            sigma,
            sigma_entities,
            place,
        }
    }

    /// Takes what `hits` made of one event.
    pub fn absorb(&mut self, kind: Kind, observed: Observed) {
        let extra = Extra {
            iocs: self.iocs.as_deref(),
            sigma: self.sigma.as_deref(),
        };
        absorb(&self.rules, extra, &mut self.tally, kind, observed);
    }

    /// Takes one group's matches in one slot as a workspace summed them
    /// up (`kql`), as if its events had come one by one.
    pub fn absorb_summary(&mut self, rule: usize, key: String, summary: rule::SlotSummary) {
        let points = self.rules[rule].points();
        *self
            .tally
            .seen
            .entry(self.rules[rule].rule.kind.name())
            .or_default() += summary.count;
        self.tally.state.add_summary(rule, key, summary, points);
    }

    /// Runs one event through every rule, and keeps its row for the
    /// attacker-infrastructure findings.
    pub fn observe(&mut self, event: &Event) {
        if own::is_own(&self.own, event) {
            self.own_seen += 1;
            return;
        }
        let hits = Self::hits(&self.rules, self.extra(), event);
        self.absorb(event.kind, hits);
        self.note_activity(event);
    }

    /// Keeps an event's row for the attacker-infrastructure findings only
    /// (`scan`'s second look at records its first pass matched already).
    pub fn note_activity(&mut self, event: &Event) {
        if let Some(row) = infra::row(event) {
            self.tally.activity.add(row);
        }
    }

    /// The texts whose records the attacker-infrastructure findings must
    /// see, given what is found so far (`scan` reads its files again for
    /// them; the console has seen every record already).
    pub fn infrastructure_texts(&self) -> std::collections::BTreeSet<String> {
        infra::texts(&self.event_findings(), &self.verdicts, &self.tally.activity)
    }

    /// Every finding so far, most severe first, then most recent.
    pub fn findings(&self) -> Vec<Finding> {
        let mut out = self.event_findings();
        let raised = infra::findings(&out, &self.verdicts, &self.tally.activity);
        out.extend(raised);
        out.sort_by(|a, b| {
            a.severity
                .cmp(&b.severity)
                .then_with(|| b.last_seen.cmp(&a.last_seen))
                .then_with(|| a.id.cmp(&b.id))
        });
        out
    }

    /// Whether a group's host plays the role its rule asks for (a rule
    /// with `host` is grouped by `Computer`, so each group has one).
    fn host_fits(&self, rule: &rule::Rule, group: &rule::Group) -> bool {
        let Some(role) = rule.host else {
            return true;
        };
        let dc = group
            .entities
            .get("Computer")
            .and_then(|hosts| hosts.first())
            .is_some_and(|host| self.tally.domain_controllers.contains(host));
        dc == (role == rule::HostRole::DomainController)
    }

    /// The findings of every detection but attacker infrastructure.
    fn event_findings(&self) -> Vec<Finding> {
        let mut out = Vec::new();
        for ((index, key), group) in &self.tally.state.groups {
            let ready = &self.rules[*index];
            let rule = &ready.rule;
            let peak = group.peak(ready.window(), rule.distinct.is_some());
            if peak.value < rule.threshold || !self.host_fits(rule, group) {
                continue;
            }
            let mut entities: Vec<Entity> = group
                .entities
                .iter()
                .flat_map(|(field, values)| {
                    values.iter().map(move |v| Entity {
                        field: field.clone(),
                        value: v.clone(),
                    })
                })
                .collect();
            entities.sort();
            let iso = |t: Option<jiff::Timestamp>| t.map(crate::model::de::graph_time);
            out.push(Finding {
                id: finding_id(&rule.id, key),
                detection: rule.id.clone(),
                severity: rule.severity,
                title: rule.title.clone(),
                techniques: rule.techniques.clone(),
                entities,
                evidence: group.evidence_ids(),
                count: group.count,
                first_seen: iso(group.first),
                last_seen: iso(group.last),
                remediation: rule.remediation.clone(),
                explanation: rule::explain(ready, group, peak),
                rationale: rule.rationale.clone(),
                verdict: None,
            });
        }
        out.extend(self.tally.claims.findings());
        out.extend(self.tally.travel.findings());
        out.extend(self.tally.joins.findings());
        if let Some(list) = &self.iocs {
            out.extend(self.tally.iocs.findings(list));
        }
        if let Some(set) = &self.sigma {
            out.extend(self.tally.sigma.findings(set));
        }
        out.extend(self.tally.forged.findings());
        out.extend(self.tally.acl.findings());
        out.extend(self.tally.krbtgt.findings());
        out.extend(self.tally.transfers.findings());
        out
    }
}

/// What the stateless pass found in one event.
#[derive(Debug, Default)]
pub struct Observed {
    pub hits: Vec<(usize, Hit)>,
    pub facts: Vec<baseline::ClaimFact>,
    /// A successful sign-in's place and session.
    pub travel: Option<travel::Fact>,
    pub join: Option<joins::Fact>,
    /// A federated sign-in or an AD FS token issuance, for the forged-token join.
    pub forged: Vec<forged::Fact>,
    /// A security descriptor change, for the replication-rights diff.
    pub acl: Option<Box<acl::Fact>>,
    /// A krbtgt password reset.
    pub krbtgt: Option<Box<krbtgt::Reset>>,
    /// An AD FS replication channel token or its caller.
    pub transfer: Option<Box<adfs_sync::Fact>>,
    /// The host, when the event shows it acting as a domain controller.
    pub domain_controller: Option<String>,
    /// Threat indicators the event carries.
    pub indicators: Vec<ioc::Hit>,
    /// Sigma rules it matches, and the entities it names for them.
    pub sigma: Vec<usize>,
    pub sigma_entities: Vec<(&'static str, String)>,
    /// When and which event, kept only when an indicator matched.
    pub place: Option<(Option<jiff::Timestamp>, String)>,
}

impl Tally {
    /// Counts an event a reader passed over unread because no rule reads
    /// anything it holds: it was seen all the same.
    pub fn passed_over(&mut self, kind: Kind) {
        *self.seen.entry(kind.name()).or_default() += 1;
    }
}

/// Adds one event's observations to the state (shared by `Engine` and
/// the scan's collector thread).
pub fn absorb(
    rules: &[Ready],
    extra: Extra<'_>,
    tally: &mut Tally,
    kind: Kind,
    observed: Observed,
) {
    *tally.seen.entry(kind.name()).or_default() += 1;
    for (rule, hit) in observed.hits {
        tally.state.add(rule, hit, rules[rule].points());
    }
    for fact in observed.facts {
        tally.claims.add(fact);
    }
    if let Some(fact) = observed.travel {
        tally.travel.add(fact);
    }
    if let Some(fact) = observed.join {
        tally.joins.add(fact);
    }
    for fact in observed.forged {
        tally.forged.add(fact);
    }
    if let Some(fact) = observed.acl {
        tally.acl.add(*fact);
    }
    if let Some(reset) = observed.krbtgt {
        tally.krbtgt.add(*reset);
    }
    if let Some(fact) = observed.transfer {
        tally.transfers.add(*fact);
    }
    if let Some(host) = observed.domain_controller {
        tally.domain_controllers.add(host);
    }
    let Some((time, id)) = observed.place else {
        return;
    };
    if let Some(list) = extra.iocs {
        for hit in observed.indicators {
            tally.iocs.add(list, hit, time, &id);
        }
    }
    for rule in observed.sigma {
        tally.sigma.add(rule, time, &id, &observed.sigma_entities);
    }
}

/// `detection:` and a short hash of the group key.
pub(crate) fn finding_id(detection: &str, key: &str) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(format!("{detection}\u{0}{key}").as_bytes());
    let short = crate::model::hex(&digest[..6]);
    format!("{detection}:{short}")
}
