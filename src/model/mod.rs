//! Domain types shared by every part of warroom. Nothing here draws.

pub mod audit;
pub mod de;
pub mod decision;
pub mod duration;
pub mod federation;
pub mod finding;
pub mod graph;
pub mod json;
pub mod net;
pub mod record;
pub mod risk;
pub mod roles;
mod severity;
pub mod signin;
mod text;
pub mod waits;
pub mod well_known;

pub use audit::DirectoryAudit;
pub use federation::{Domain, FederationConfiguration};
pub use graph::{Page, ReadError, read_page};
pub use risk::RiskDetection;
pub use severity::Severity;
pub use signin::{SignIn, SignInKind};
pub use text::{SafeText, counted, is_dangerous, markdown_code, markdown_inline};

/// Bytes as lower-case hex (ids, hashes).
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
