//! Successful sign-ins judged against one another in space and time,
//! which a rule file cannot express:
//!
//! - impossible travel: one user signing in from two places further apart
//!   than an airliner could fly in the time between (computed from the
//!   records' own coordinates, for tenants without Identity Protection's
//!   `impossibleTravel` / `unlikelyTravel`);
//! - a session replayed: one sign-in session (`sessionId`) used from two
//!   countries within two hours, the shape of a session cookie or refresh
//!   token stolen by an adversary-in-the-middle proxy and used from the
//!   attacker's own network.
//!
//! Per subject and place, each quarter hour of activity keeps one sign-in
//! (the smallest id, so the result does not depend on the order events
//! arrive in): memory grows with a tenant's active quarter hours, not with
//! its sign-ins.

use std::collections::{BTreeMap, HashMap};

use jiff::Timestamp;

use super::event::{Event, Kind, text_at};
use super::json::Json;
use super::{Entity, Finding};
use crate::model::Severity;

pub const TRAVEL: &str = "signin.impossible-travel";
pub const REPLAY: &str = "signin.session-replayed";

/// Places closer than this are one place: IP geolocation puts one city's
/// addresses a few hundred kilometres apart.
const MIN_KM: f64 = 500.0;
/// Faster than any airliner flies, gate to gate.
const MAX_KMH: f64 = 1000.0;
/// The time grid activity is kept on.
const BUCKET_SECS: i64 = 15 * 60;
/// A session seen from two countries within this many buckets (two hours)
/// was not carried there by its user.
const REPLAY_BUCKETS: i64 = 8;

/// Texts that mark the sign-ins these read (for the scan's prefilter):
/// coordinates, and a session id (a GUID, so it holds a dash).
pub const READS: super::prefilter::Reads = &[
    (Kind::SignIn, "location", "latitude"),
    (Kind::SignIn, "sessionId", "-"),
];

/// Where a sign-in came from, as the record says.
#[derive(Clone, Debug)]
pub struct Seen {
    id: String,
    time: Timestamp,
    ip: String,
    /// "City, CC" or what of it the record names.
    label: String,
    country: String,
    coordinates: Option<(f64, f64)>,
}

/// What one successful sign-in gives these detections.
#[derive(Clone, Debug)]
pub struct Fact {
    user: String,
    session: Option<String>,
    seen: Seen,
}

fn number(v: &Json) -> Option<f64> {
    v.as_f64()
        .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
}

/// Coordinates a record really gives: Graph writes `{}` or nulls when it
/// has none, and some exports write zeros.
fn coordinates(v: &Json) -> Option<(f64, f64)> {
    let geo = v.get("location")?.get("geoCoordinates")?;
    let lat = number(geo.get("latitude")?)?;
    let lon = number(geo.get("longitude")?)?;
    let plausible = lat.abs() <= 90.0 && lon.abs() <= 180.0 && (lat, lon) != (0.0, 0.0);
    plausible.then_some((lat, lon))
}

/// The fact of a successful user sign-in that names a place or a session.
pub fn fact(event: &Event) -> Option<Fact> {
    if event.kind != Kind::SignIn {
        return None;
    }
    let v = &event.value;
    if v.get("status")?.get("errorCode")?.as_i64() != Some(0) {
        return None;
    }
    let user = text_at(v, "userPrincipalName")?.to_lowercase();
    let time = event.time?;
    let session = text_at(v, "sessionId").filter(|s| s.len() > 8);
    let coordinates = coordinates(v);
    if session.is_none() && coordinates.is_none() {
        return None;
    }
    let country = text_at(v, "location.countryOrRegion").unwrap_or_default();
    let label = [text_at(v, "location.city"), Some(country.clone())]
        .into_iter()
        .flatten()
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(", ");
    Some(Fact {
        user,
        session,
        seen: Seen {
            id: event.id.clone(),
            time,
            ip: text_at(v, "ipAddress").unwrap_or_default(),
            label,
            country,
            coordinates,
        },
    })
}

/// One subject's activity per place, on the quarter-hour grid.
#[derive(Default)]
struct Trail {
    places: BTreeMap<String, BTreeMap<i64, Seen>>,
}

impl Trail {
    fn add(&mut self, place: String, seen: Seen) {
        let bucket = seen.time.as_second().div_euclid(BUCKET_SECS);
        let slot = self.places.entry(place).or_default().entry(bucket);
        match slot {
            std::collections::btree_map::Entry::Vacant(e) => {
                e.insert(seen);
            }
            std::collections::btree_map::Entry::Occupied(mut e) => {
                if seen.id < e.get().id {
                    e.insert(seen);
                }
            }
        }
    }

    /// For each pair of places, the closest pair of sign-ins in time,
    /// with their distance in buckets.
    fn closest_pairs(&self) -> Vec<(&Seen, &Seen, i64)> {
        let places: Vec<&BTreeMap<i64, Seen>> = self.places.values().collect();
        let mut out = Vec::new();
        for (i, a) in places.iter().enumerate() {
            for b in &places[i + 1..] {
                if let Some(pair) = closest(a, b) {
                    out.push(pair);
                }
            }
        }
        out
    }
}

/// The two entries of two time grids nearest each other (a merge walk).
fn closest<'a>(
    a: &'a BTreeMap<i64, Seen>,
    b: &'a BTreeMap<i64, Seen>,
) -> Option<(&'a Seen, &'a Seen, i64)> {
    let (mut ia, mut ib) = (a.iter().peekable(), b.iter().peekable());
    let mut best: Option<(&Seen, &Seen, i64)> = None;
    while let (Some((ta, sa)), Some((tb, sb))) = (ia.peek(), ib.peek()) {
        let gap = (*ta - *tb).abs();
        if best.is_none_or(|(_, _, g)| gap < g) {
            best = Some((sa, sb, gap));
        }
        if ta < tb {
            ia.next();
        } else {
            ib.next();
        }
    }
    best
}

/// Great-circle distance in kilometres.
fn km((lat1, lon1): (f64, f64), (lat2, lon2): (f64, f64)) -> f64 {
    let (p1, p2) = (lat1.to_radians(), lat2.to_radians());
    let dp = p2 - p1;
    let dl = (lon2 - lon1).to_radians();
    let h = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * 6371.0 * h.sqrt().min(1.0).asin()
}

/// A half-degree cell: sign-ins from one city share one.
fn cell((lat, lon): (f64, f64)) -> String {
    format!("{:.0}/{:.0}", (lat * 2.0).round(), (lon * 2.0).round())
}

/// Users' places and sessions' countries seen so far.
#[derive(Default)]
pub struct Trails {
    users: HashMap<String, Trail>,
    sessions: HashMap<String, (String, Trail)>,
}

impl Trails {
    pub fn add(&mut self, fact: Fact) {
        if let Some(session) = fact.session.clone()
            && !fact.seen.country.is_empty()
        {
            let entry = self
                .sessions
                .entry(session)
                .or_insert_with(|| (fact.user.clone(), Trail::default()));
            entry
                .1
                .add(fact.seen.country.to_uppercase(), fact.seen.clone());
        }
        if let Some(place) = fact.seen.coordinates {
            self.users
                .entry(fact.user)
                .or_default()
                .add(cell(place), fact.seen);
        }
    }

    pub fn findings(&self) -> Vec<Finding> {
        let mut out: Vec<Finding> = self
            .users
            .iter()
            .filter_map(|(user, trail)| travel_finding(user, trail))
            .collect();
        out.extend(
            self.sessions
                .iter()
                .filter_map(|(session, (user, trail))| replay_finding(session, user, trail)),
        );
        out
    }
}

fn iso(t: Timestamp) -> String {
    crate::model::de::graph_time(t)
}

fn minutes(a: &Seen, b: &Seen) -> i64 {
    (a.time.as_second() - b.time.as_second()).abs() / 60
}

fn place_entities(out: &mut Vec<Entity>, seen: [&Seen; 2]) {
    for s in seen {
        if !s.ip.is_empty() {
            out.push(Entity {
                field: "ipAddress".into(),
                value: s.ip.clone(),
            });
        }
        if !s.label.is_empty() {
            out.push(Entity {
                field: "location".into(),
                value: s.label.clone(),
            });
        }
    }
    out.sort();
    out.dedup();
}

fn in_order<'a>(a: &'a Seen, b: &'a Seen) -> (&'a Seen, &'a Seen) {
    if (a.time, &a.id) <= (b.time, &b.id) {
        (a, b)
    } else {
        (b, a)
    }
}

fn pair_finding(detection: &str, key: &str, first: &Seen, then: &Seen) -> Finding {
    Finding {
        id: super::finding_id(detection, key),
        detection: detection.into(),
        severity: Severity::Medium,
        title: String::new(),
        techniques: Vec::new(),
        entities: Vec::new(),
        evidence: vec![first.id.clone(), then.id.clone()],
        count: 2,
        first_seen: Some(iso(first.time)),
        last_seen: Some(iso(then.time)),
        remediation: vec!["revoke-sessions".into(), "reset-passwords".into()],
        explanation: String::new(),
        rationale: String::new(),
        verdict: None,
    }
}

/// The fastest impossible journey of one user, if any.
fn travel_finding(user: &str, trail: &Trail) -> Option<Finding> {
    let mut fastest: Option<(f64, f64, &Seen, &Seen)> = None;
    for (a, b, buckets) in trail.closest_pairs() {
        let (Some(pa), Some(pb)) = (a.coordinates, b.coordinates) else {
            continue;
        };
        let distance = km(pa, pb);
        // The most time the two sign-ins can be apart, on the grid.
        let hours = ((buckets + 1) * BUCKET_SECS) as f64 / 3600.0;
        let speed = distance / hours;
        if distance >= MIN_KM && speed > MAX_KMH && fastest.is_none_or(|(s, ..)| speed > s) {
            fastest = Some((speed, distance, a, b));
        }
    }
    let (_, distance, a, b) = fastest?;
    let (first, then) = in_order(a, b);
    let mut f = pair_finding(TRAVEL, user, first, then);
    f.title = "Impossible travel: one account signed in from places too far apart".into();
    f.techniques = vec!["T1078.004".into()];
    f.entities.push(Entity {
        field: "userPrincipalName".into(),
        value: user.into(),
    });
    place_entities(&mut f.entities, [first, then]);
    let gap = minutes(first, then);
    let speed = if gap == 0 {
        "no time at all".to_owned()
    } else {
        format!("{:.0} km/h", distance / (gap as f64 / 60.0))
    };
    f.explanation = format!(
        "{user} signed in from {} ({}) and {} minutes later from {} ({}), {:.0} km away: {speed}",
        or_unknown(&first.label),
        first.ip,
        gap,
        or_unknown(&then.label),
        then.ip,
        distance,
    );
    f.rationale = "Two successful sign-ins further apart than an airliner flies in the time between mean two people hold the account's password or tokens; a VPN or a mobile carrier's distant gateway is the usual innocent cause, so check both places with the user.".into();
    Some(f)
}

/// A session used from two countries within two hours, if so.
fn replay_finding(session: &str, user: &str, trail: &Trail) -> Option<Finding> {
    let (a, b, _) = trail
        .closest_pairs()
        .into_iter()
        .filter(|(_, _, buckets)| *buckets < REPLAY_BUCKETS)
        .min_by_key(|(a, b, buckets)| (*buckets, a.id.clone().min(b.id.clone())))?;
    let (first, then) = in_order(a, b);
    let mut f = pair_finding(REPLAY, session, first, then);
    f.severity = Severity::High;
    f.title = "Session replayed: one sign-in session used from two countries".into();
    f.techniques = vec!["T1550.004".into(), "T1557".into()];
    f.entities.push(Entity {
        field: "userPrincipalName".into(),
        value: user.into(),
    });
    f.entities.push(Entity {
        field: "sessionId".into(),
        value: session.into(),
    });
    place_entities(&mut f.entities, [first, then]);
    f.explanation = format!(
        "{user}'s session {session} was used from {} ({}) and {} minutes later from {} ({})",
        or_unknown(&first.label),
        first.ip,
        minutes(first, then),
        or_unknown(&then.label),
        then.ip,
    );
    f.rationale = "A session lives in one browser or app; the same session in two countries within two hours is its cookie or token replayed from elsewhere (an adversary-in-the-middle proxy's haul), unless the user switched a VPN on or off.".into();
    Some(f)
}

fn or_unknown(label: &str) -> &str {
    if label.is_empty() {
        "an unnamed place"
    } else {
        label
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signin(id: &str, time: &str, city: &str, cc: &str, geo: (f64, f64)) -> serde_json::Value {
        serde_json::json!({
            "id": id, "createdDateTime": time, "userPrincipalName": "Ann@contoso.com",
            "ipAddress": format!("203.0.113.{}", id.as_bytes()[0]), "status": {"errorCode": 0},
            "sessionId": "5f0c1a2b-0000-4000-8000-00000000000a",
            "location": {"city": city, "countryOrRegion": cc,
                "geoCoordinates": {"latitude": geo.0, "longitude": geo.1, "altitude": null}}
        })
    }

    fn run(values: Vec<serde_json::Value>) -> Vec<Finding> {
        let mut trails = Trails::default();
        for v in values {
            let event = Event::new(v, || "t".into()).unwrap();
            if let Some(f) = fact(&event) {
                trails.add(f);
            }
        }
        let mut out = trails.findings();
        out.sort_by(|a, b| a.detection.cmp(&b.detection));
        out
    }

    const LONDON: (f64, f64) = (51.5, -0.12);
    const NEW_YORK: (f64, f64) = (40.71, -74.0);
    const READING: (f64, f64) = (51.45, -0.97);

    #[test]
    fn london_then_new_york_within_the_hour_is_impossible() {
        let found = run(vec![
            signin("a", "2026-11-02T09:00:00Z", "London", "GB", LONDON),
            signin("b", "2026-11-02T09:40:00Z", "New York", "US", NEW_YORK),
        ]);
        let travel = &found[0];
        assert_eq!(travel.detection, TRAVEL);
        assert_eq!(travel.evidence, ["a", "b"]);
        assert!(
            travel.explanation.contains("40 minutes later"),
            "{travel:?}"
        );
        assert!(travel.explanation.contains("557"), "{travel:?}");
        assert!(travel.explanation.contains("(203.0.113.98)"), "{travel:?}");
        // The same session in both countries within the hour, too.
        assert_eq!(found[1].detection, REPLAY);
        assert_eq!(found[1].severity, Severity::High);
    }

    #[test]
    fn a_flight_a_short_hop_and_failures_are_not() {
        let mut late = signin("b", "2026-11-02T17:30:00Z", "New York", "US", NEW_YORK);
        late["sessionId"] = "other-session-0000".into();
        let mut failed = signin("c", "2026-11-02T09:05:00Z", "New York", "US", NEW_YORK);
        failed["status"]["errorCode"] = 50126.into();
        let found = run(vec![
            signin("a", "2026-11-02T09:00:00Z", "London", "GB", LONDON),
            late,
            failed,
            signin("d", "2026-11-02T09:10:00Z", "Reading", "GB", READING),
        ]);
        assert!(found.is_empty(), "{found:#?}");
    }

    #[test]
    fn records_without_coordinates_are_not_judged_for_travel() {
        let mut a = signin("a", "2026-11-02T09:00:00Z", "London", "GB", LONDON);
        let mut b = signin("b", "2026-11-02T09:20:00Z", "New York", "US", NEW_YORK);
        a["location"]["geoCoordinates"] = serde_json::json!({});
        b["location"]["geoCoordinates"] = serde_json::json!({"latitude": 0, "longitude": 0});
        let found = run(vec![a, b]);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].detection, REPLAY);
    }

    #[test]
    fn the_order_of_arrival_does_not_matter() {
        let records = vec![
            signin("a", "2026-11-02T09:00:00Z", "London", "GB", LONDON),
            signin("c", "2026-11-02T09:01:00Z", "London", "GB", LONDON),
            signin("b", "2026-11-02T09:40:00Z", "New York", "US", NEW_YORK),
        ];
        let mut reversed = records.clone();
        reversed.reverse();
        let json = |f: Vec<Finding>| serde_json::to_value(f).unwrap();
        assert_eq!(json(run(records)), json(run(reversed)));
    }

    #[test]
    fn distance_is_great_circle() {
        assert!((km(LONDON, NEW_YORK) - 5570.0).abs() < 15.0);
        assert!(km(LONDON, READING) < 100.0);
    }
}
