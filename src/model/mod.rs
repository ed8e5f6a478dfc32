//! Domain types shared by every part of warroom. Nothing here draws.

mod severity;
mod text;

pub use severity::Severity;
pub use text::{SafeText, is_dangerous};
