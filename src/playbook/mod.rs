//! The remediation checklist: the recovery plan as a template
//! (`assets/playbooks/`), and the plan the team works through, with the
//! concrete items findings call for and every change kept in the case.

pub mod accounts;
pub mod act;
pub mod plan;
pub mod template;

pub use plan::{Item, Plan, Status};
pub use template::Template;
