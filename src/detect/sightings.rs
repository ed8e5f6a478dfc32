//! What matched a list-driven detection (an indicator, a Sigma rule) so
//! far: how many records, the first and last time, the first record ids,
//! and the field values they named. Shared by `ioc`, `sigma` and the
//! on-premises joins (`acl`, `adfs_sync`).

use std::collections::BTreeSet;

use jiff::Timestamp;

use super::Entity;

/// Record ids kept as evidence; entities kept to describe the matches.
const EVIDENCE_KEPT: usize = 50;
const ENTITIES_KEPT: usize = 20;

/// The records kept are the earliest (by time, then id), and the entities
/// the first in order: which ones does not depend on the order records
/// arrive in (a scan's threads hand them over in any order).
#[derive(Debug, Default)]
pub struct Sightings {
    pub count: u64,
    pub first: Option<Timestamp>,
    pub last: Option<Timestamp>,
    /// (no time, time, id): records without a time sort last.
    kept: BTreeSet<(bool, Option<Timestamp>, String)>,
    entities: BTreeSet<(&'static str, String)>,
}

impl Sightings {
    /// One more record; one without a time leaves first and last as they are.
    pub fn add(&mut self, time: Option<Timestamp>, id: &str, entities: &[(&'static str, String)]) {
        self.count += 1;
        if let Some(t) = time {
            self.first = Some(self.first.map_or(t, |f| f.min(t)));
            self.last = Some(self.last.map_or(t, |l| l.max(t)));
        }
        // Most matches of a busy rule come after the list is full: only
        // one earlier than the latest kept is worth an allocation.
        let earlier = |(none, t, kept): &(bool, Option<Timestamp>, String)| {
            (time.is_none(), time, id) < (*none, *t, kept.as_str())
        };
        let room = self.kept.len() < EVIDENCE_KEPT || self.kept.last().is_some_and(earlier);
        if !id.is_empty() && room {
            self.kept.insert((time.is_none(), time, id.to_owned()));
            if self.kept.len() > EVIDENCE_KEPT {
                self.kept.pop_last();
            }
        }
        for e in entities {
            let full = self.entities.len() >= ENTITIES_KEPT;
            if full && self.entities.last().is_none_or(|last| e >= last) {
                continue;
            }
            self.entities.insert(e.clone());
            if self.entities.len() > ENTITIES_KEPT {
                self.entities.pop_last();
            }
        }
    }

    /// The ids of the records kept, earliest first.
    pub fn evidence(&self) -> Vec<String> {
        self.kept.iter().map(|(_, _, id)| id.clone()).collect()
    }

    /// The entities named, plus `extra`, sorted and without repeats.
    pub fn entities(&self, extra: Entity) -> Vec<Entity> {
        let mut out: Vec<Entity> = self
            .entities
            .iter()
            .map(|(field, value)| Entity {
                field: (*field).to_owned(),
                value: value.clone(),
            })
            .collect();
        out.push(extra);
        out.sort();
        out.dedup();
        out
    }

    /// First and last time as Graph writes times.
    pub fn span(&self) -> (Option<String>, Option<String>) {
        let iso = |t: Option<Timestamp>| t.map(crate::model::de::graph_time);
        (iso(self.first), iso(self.last))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_without_a_time_keeps_the_span() {
        let mut s = Sightings::default();
        let t = |text: &str| text.parse::<Timestamp>().ok();
        s.add(t("2026-11-02T00:00:00Z"), "a", &[]);
        s.add(None, "b", &[("ipAddress", "203.0.113.66".into())]);
        s.add(t("2026-11-01T00:00:00Z"), "c", &[]);
        assert_eq!(s.count, 3);
        let (first, last) = s.span();
        assert!(first.unwrap().starts_with("2026-11-01"));
        assert!(last.unwrap().starts_with("2026-11-02"));
        // Earliest first; the record without a time last.
        assert_eq!(s.evidence(), ["c", "a", "b"]);
        let entities = s.entities(Entity {
            field: "indicator".into(),
            value: "x".into(),
        });
        assert_eq!(entities.len(), 2);
    }
}
