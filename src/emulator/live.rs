//! `--live`: the tenant keeps living while a responder watches. Every
//! second new sign-ins arrive, some of them late (Entra ingests some events
//! minutes after they happen), routine audits now and then, and in
//! `golden-saml` the backdoored app keeps signing in from the attacker's
//! address.

use std::sync::Arc;
use std::time::Duration;

use super::audit::{AuditSpec, Initiator, Target, audit};
use super::generate::{NoiseModel, who};
use super::server::Emulator;
use super::signins::SignIn;
use super::tenant::Tenant;
use super::time::{MINUTE, SECOND, now_ms};

/// What the live feed needs from the generated tenant.
#[derive(Debug)]
pub struct LiveSource {
    pub noise: NoiseModel,
    pub rng: fastrand::Rng,
    /// A sign-in of the attacker's app to repeat, in `golden-saml`.
    pub attacker: Option<SignIn>,
    carry: f64,
}

impl LiveSource {
    /// Stands in while the tenant is being built.
    pub fn placeholder() -> Self {
        Self::new(NoiseModel::default(), 0, None)
    }

    pub fn new(noise: NoiseModel, seed: u64, attacker: Option<SignIn>) -> Self {
        Self {
            noise,
            rng: fastrand::Rng::with_seed(seed ^ 0x11fe),
            attacker,
            carry: 0.0,
        }
    }
}

/// Share of new sign-ins that are ingested late, and how late.
const LATE_PERCENT: u8 = 15;
const LATE_MIN: i64 = MINUTE;
const LATE_MAX: i64 = 5 * MINUTE;

/// Adds one second's worth of events at `per_minute` sign-ins a minute.
pub fn advance(tenant: &mut Tenant, now: i64, per_minute: u32) {
    let Tenant {
        live,
        users,
        signins,
        answer_key,
        ..
    } = tenant;
    let rng = &mut live.rng;
    live.carry += f64::from(per_minute) / 60.0;
    let count = live.carry.floor();
    live.carry -= count;
    let late = |rng: &mut fastrand::Rng, _busy: bool| {
        if rng.u8(..100) < LATE_PERCENT {
            now - rng.i64(LATE_MIN..LATE_MAX)
        } else {
            now - rng.i64(0..2 * SECOND)
        }
    };
    let mut new = Vec::with_capacity(count as usize + 1);
    for _ in 0..count as u32 {
        let key = rng.u64(..);
        new.push(live.noise.signin(rng, users, key, &late));
    }
    // The backdoored app signs in about every 45 seconds.
    if let Some(template) = &live.attacker
        && rng.u8(..45) == 0
    {
        let record = SignIn {
            time_ms: now,
            key: rng.u64(..),
            ..*template
        };
        answer_key.sign_in_ids.push(record.id().to_string());
        new.push(record);
    }
    signins.insert(new);
    if rng.u8(..60) == 0 {
        routine_audit(tenant, now);
    }
}

fn routine_audit(tenant: &mut Tenant, now: i64) {
    let users = tenant.users.len();
    if users <= who::FIRST_REGULAR {
        return;
    }
    let target = who::FIRST_REGULAR + tenant.live.rng.usize(..users - who::FIRST_REGULAR);
    let key = tenant.live.rng.u64(..);
    let a = audit(AuditSpec {
        time_ms: now,
        key,
        activity: "Update user",
        category: "UserManagement",
        service: "Core Directory",
        operation: "Update",
        initiator: Initiator::User {
            user: &tenant.users[who::ISAIAH],
            ip: "198.51.100.10",
        },
        targets: vec![Target::user(&tenant.users[target])],
        modified: vec![(
            "Department",
            "[\"Sales\"]".into(),
            "[\"Operations\"]".into(),
        )],
        failed: false,
    });
    tenant.audits.push(a);
}

/// Runs the live feed until the process ends.
pub async fn run(emulator: Arc<Emulator>, per_minute: u32) {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        tick.tick().await;
        let mut tenant = emulator.tenant.write().unwrap_or_else(|p| p.into_inner());
        advance(&mut tenant, now_ms(), per_minute);
    }
}
