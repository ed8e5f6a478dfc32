//! `warroom config path|show`.

use super::Setup;
use crate::cli::{Cli, ConfigCommand};

pub fn run(cli: &Cli, setup: Setup, command: &ConfigCommand) -> anyhow::Result<u8> {
    match command {
        ConfigCommand::Path => {
            println!("{}", setup.config_path.display());
            Ok(0)
        }
        ConfigCommand::Show => {
            let config = setup.config?;
            if !config.exists {
                println!(
                    "# no config file at {}; defaults and environment in use",
                    config.path.display()
                );
            }
            print!("{}", config.settings(cli.profile.as_deref())?);
            Ok(0)
        }
    }
}
