//! Files to findings at speed: files are read with `source::import`, cut
//! into chunks, and matched against `detect`'s rules on worker threads
//! (`Engine::hits`, the stateless half), while one collector keeps what
//! they found (`detect::absorb`). Also directory snapshots read from files
//! for the posture review.

pub mod scan;
pub mod snapshot;
