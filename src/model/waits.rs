//! Waits between checklist items, shared by the playbook that sets them,
//! the configuration that overrides them and the detections that judge
//! whether a team kept them (krbtgt resets).

/// The longest wait an item may have: a month.
pub const MAX_WAIT_HOURS: f64 = 24.0 * 31.0;
