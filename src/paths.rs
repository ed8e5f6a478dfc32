//! Where warroom keeps its files: config, data, state (logs) and cache
//! directories, following the platform conventions (XDG on Linux). Every
//! directory warroom creates is private to the user (0700): case files and
//! logs describe an incident.

use std::fs;
use std::io;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use directories::ProjectDirs;

#[derive(Clone, Debug)]
pub struct Paths {
    pub config_dir: PathBuf,
    pub data_dir: PathBuf,
    pub state_dir: PathBuf,
    pub cache_dir: PathBuf,
}

impl Paths {
    /// The platform directories for warroom, or an error when the home
    /// directory cannot be determined (no `HOME`).
    pub fn discover() -> anyhow::Result<Self> {
        let dirs = ProjectDirs::from("", "", "warroom").ok_or_else(|| {
            anyhow::anyhow!(
                "cannot find a home directory: set HOME (or XDG_CONFIG_HOME and XDG_DATA_HOME)"
            )
        })?;
        Ok(Self {
            config_dir: dirs.config_dir().to_path_buf(),
            data_dir: dirs.data_dir().to_path_buf(),
            // Linux has a state dir; elsewhere logs go with the cache.
            state_dir: dirs.state_dir().unwrap_or(dirs.cache_dir()).to_path_buf(),
            cache_dir: dirs.cache_dir().to_path_buf(),
        })
    }

    pub fn config_file(&self) -> PathBuf {
        self.config_dir.join("config.toml")
    }

    pub fn log_file(&self) -> PathBuf {
        self.state_dir.join("warroom.log")
    }
}

/// Creates `dir` (and parents) if needed and makes sure it is mode 0700.
pub fn ensure_private_dir(dir: &Path) -> io::Result<()> {
    fs::create_dir_all(dir)?;
    let mode = fs::metadata(dir)?.permissions().mode() & 0o777;
    if mode != 0o700 {
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}

/// The permission bits of an existing path, or `None` when it does not exist.
pub fn mode_of(path: &Path) -> Option<u32> {
    fs::metadata(path)
        .ok()
        .map(|m| m.permissions().mode() & 0o777)
}
