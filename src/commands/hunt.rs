//! `warroom hunt --workspace`: the catalogue run in a Log Analytics workspace.

use super::Setup;
use crate::cli::{Cli, HuntArgs};

pub fn run(_cli: &Cli, _setup: Setup, _args: &HuntArgs) -> anyhow::Result<u8> {
    anyhow::bail!("hunt is not built yet")
}
