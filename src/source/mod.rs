//! Where events come from: Microsoft Graph (live or pulled to files).
//! Nothing here draws.

pub mod graph;
pub mod import;
pub mod workspace;
pub mod workspace_pull;
