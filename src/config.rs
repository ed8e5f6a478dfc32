//! The config file (TOML, in the platform config dir) and the effective
//! connection settings after `WARROOM_*` environment overrides.
//!
//! ```toml
//! default_profile = "contoso"
//!
//! [profiles.contoso]
//! tenant = "contoso.onmicrosoft.com"
//! cloud = "global"            # global | usgov | usdod | china
//! client_id = "00000000-0000-0000-0000-000000000000"
//! auth = "device-code"        # device-code | client-secret | certificate | access-token
//! client_secret_env = "CONTOSO_IR_SECRET"   # or client_secret_file = "/path"
//! # auth = "certificate": certificate = "/path/cert.pem", private_key = "/path/key.pem"
//!
//! [ui]
//! ascii = false
//! theme = "dark"              # dark | mono
//!
//! [keys.normal]
//! quit = ["q", "ctrl-q"]
//! ```
//!
//! Secrets never live in this file: it names where a secret comes from (an
//! environment variable or a file), never the secret itself.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// The environment variables that override a profile. Names are fixed by the
/// command-line contract.
pub mod env {
    pub const TENANT: &str = "WARROOM_TENANT";
    pub const CLIENT_ID: &str = "WARROOM_CLIENT_ID";
    pub const CLIENT_SECRET: &str = "WARROOM_CLIENT_SECRET";
    pub const AUTHORITY_URL: &str = "WARROOM_AUTHORITY_URL";
    pub const GRAPH_URL: &str = "WARROOM_GRAPH_URL";
    pub const LOG_ANALYTICS_URL: &str = "WARROOM_LOG_ANALYTICS_URL";
    pub const ACCESS_TOKEN: &str = "WARROOM_ACCESS_TOKEN";
    pub const CASE: &str = "WARROOM_CASE";
    pub const IDENTITY: &str = "WARROOM_IDENTITY";
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    pub default_profile: Option<toml::Spanned<String>>,
    #[serde(default)]
    pub profiles: BTreeMap<String, Profile>,
    #[serde(default)]
    pub ui: UiConfig,
    #[serde(default)]
    pub case: CaseConfig,
    #[serde(default)]
    pub checklist: ChecklistConfig,
    /// Key overrides: layer name → action name → keys (with their place
    /// in the file, for error messages).
    #[serde(default)]
    pub keys: BTreeMap<String, BTreeMap<String, toml::Spanned<Vec<String>>>>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    pub tenant: Option<String>,
    #[serde(default)]
    pub cloud: Cloud,
    pub authority_url: Option<String>,
    pub graph_url: Option<String>,
    pub client_id: Option<String>,
    #[serde(default)]
    pub auth: AuthMethod,
    pub client_secret_env: Option<String>,
    pub client_secret_file: Option<PathBuf>,
    pub certificate: Option<PathBuf>,
    pub private_key: Option<PathBuf>,
    /// Checklist actions change the tenant; off, they are dry runs (the
    /// request and the before-state are shown, nothing is sent).
    #[serde(default)]
    pub writes: bool,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Cloud {
    #[default]
    Global,
    /// US Government (GCC High).
    Usgov,
    /// US Department of Defense.
    Usdod,
    China,
}

impl Cloud {
    pub fn name(self) -> &'static str {
        match self {
            Cloud::Global => "global",
            Cloud::Usgov => "usgov",
            Cloud::Usdod => "usdod",
            Cloud::China => "china",
        }
    }

    pub fn authority_url(self) -> &'static str {
        match self {
            Cloud::Global => "https://login.microsoftonline.com",
            Cloud::Usgov | Cloud::Usdod => "https://login.microsoftonline.us",
            Cloud::China => "https://login.chinacloudapi.cn",
        }
    }

    /// The Log Analytics query API (also the token's resource).
    pub fn log_analytics_url(self) -> &'static str {
        match self {
            Cloud::Global => "https://api.loganalytics.io",
            Cloud::Usgov | Cloud::Usdod => "https://api.loganalytics.us",
            Cloud::China => "https://api.loganalytics.azure.cn",
        }
    }

    pub fn graph_url(self) -> &'static str {
        match self {
            Cloud::Global => "https://graph.microsoft.com",
            Cloud::Usgov => "https://graph.microsoft.us",
            Cloud::Usdod => "https://dod-graph.microsoft.us",
            Cloud::China => "https://microsoftgraph.chinacloudapi.cn",
        }
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AuthMethod {
    #[default]
    DeviceCode,
    ClientSecret,
    Certificate,
    AccessToken,
}

impl AuthMethod {
    pub fn name(self) -> &'static str {
        match self {
            AuthMethod::DeviceCode => "device-code",
            AuthMethod::ClientSecret => "client-secret",
            AuthMethod::Certificate => "certificate",
            AuthMethod::AccessToken => "access-token",
        }
    }
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UiConfig {
    #[serde(default)]
    pub ascii: bool,
    #[serde(default)]
    pub theme: ThemeName,
}

/// `[case]`: how the encrypted case behaves.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseConfig {
    /// Hours an unlocked identity stays in the kernel keyring (default 8).
    pub unlock_hours: Option<f64>,
    /// How much history the console and `watch` fetch into a case, such
    /// as `30d` (default: 30 days, the sign-in logs' retention).
    pub history: Option<String>,
    /// The name the team knows you by, on every record you write (default:
    /// `WARROOM_AUTHOR`, else your login name and host).
    pub responder: Option<String>,
}

/// `[checklist]`: waits longer (or shorter) than the playbook's, per item
/// id, in hours: `waits = { reset-krbtgt-second = 12 }` for a domain whose
/// maximum ticket lifetime is 12 hours.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChecklistConfig {
    #[serde(default)]
    pub waits: BTreeMap<String, f64>,
    /// The tenant's emergency access (break-glass) accounts, by user
    /// principal name: the plan never locks them out on weak evidence.
    #[serde(default)]
    pub emergency_accounts: Vec<String>,
}

impl ChecklistConfig {
    /// The wait between the two krbtgt resets, when the team set one.
    pub fn krbtgt_wait(&self) -> Option<f64> {
        let max = crate::model::waits::MAX_WAIT_HOURS;
        self.waits
            .get("reset-krbtgt-second")
            .copied()
            .filter(|h| h.is_finite() && *h > 0.0 && *h <= max)
    }
}

/// How long an unlocked case identity stays in the keyring when the
/// configuration does not say (`[case] unlock_hours`).
pub const DEFAULT_UNLOCK_TTL: std::time::Duration = std::time::Duration::from_secs(8 * 3600);

impl CaseConfig {
    pub fn unlock_ttl(&self) -> std::time::Duration {
        self.unlock_hours
            .filter(|h| h.is_finite() && *h > 0.0)
            .map(|h| std::time::Duration::from_secs_f64((h * 3600.0).min(7.0 * 86400.0)))
            .unwrap_or(DEFAULT_UNLOCK_TTL)
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ThemeName {
    #[default]
    Dark,
    /// No colour at all; severities read from bold, reverse and dim.
    Mono,
}

/// A config file that could not be used, with the place to look.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}:{line}:{column}: {message}")]
    Parse {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{path}: {message}")]
    Invalid { path: PathBuf, message: String },
}

/// A loaded config file and where it came from.
#[derive(Clone, Debug)]
pub struct Config {
    pub path: PathBuf,
    /// False when no file exists and defaults are in use.
    pub exists: bool,
    pub file: ConfigFile,
    /// The file's text, to turn spans into line numbers.
    pub text: String,
}

/// One `[keys.LAYER] action = [...]` line of the config file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyOverride {
    pub layer: String,
    pub action: String,
    pub keys: Vec<String>,
    /// 1-based line in the config file.
    pub line: Option<usize>,
}

impl Config {
    /// Loads `path`. A missing file is fine (defaults) unless `required`,
    /// which is how an explicit `--config FILE` behaves.
    pub fn load(path: &Path, required: bool) -> Result<Self, ConfigError> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && !required => {
                return Ok(Self {
                    path: path.to_path_buf(),
                    exists: false,
                    file: ConfigFile::default(),
                    text: String::new(),
                });
            }
            Err(source) => {
                return Err(ConfigError::Read {
                    path: path.to_path_buf(),
                    source,
                });
            }
        };
        let file = Self::parse(path, &text)?;
        Ok(Self {
            path: path.to_path_buf(),
            exists: true,
            file,
            text,
        })
    }

    /// The `[keys.*]` overrides in file order, with their lines.
    pub fn key_overrides(&self) -> Vec<KeyOverride> {
        let mut out = Vec::new();
        for (layer, actions) in &self.file.keys {
            for (action, keys) in actions {
                let line = (!self.text.is_empty())
                    .then(|| line_and_column(&self.text, keys.span().start).0);
                out.push(KeyOverride {
                    layer: layer.clone(),
                    action: action.clone(),
                    keys: keys.get_ref().clone(),
                    line,
                });
            }
        }
        out.sort_by_key(|o| o.line);
        out
    }

    pub fn parse(path: &Path, text: &str) -> Result<ConfigFile, ConfigError> {
        let file: ConfigFile = toml::from_str(text).map_err(|e| {
            let (line, column) = e
                .span()
                .map(|span| line_and_column(text, span.start))
                .unwrap_or((1, 1));
            ConfigError::Parse {
                path: path.to_path_buf(),
                line,
                column,
                message: e.message().trim().to_owned(),
            }
        })?;
        if let Some(name) = &file.default_profile
            && !file.profiles.contains_key(name.get_ref())
        {
            let (line, column) = line_and_column(text, name.span().start);
            let name = name.get_ref();
            return Err(ConfigError::Parse {
                path: path.to_path_buf(),
                line,
                column,
                message: format!("default_profile = \"{name}\" but there is no [profiles.{name}]"),
            });
        }
        Ok(file)
    }

    /// The effective settings for `profile` (or the default one), with the
    /// `WARROOM_*` environment applied on top.
    pub fn settings(&self, profile: Option<&str>) -> Result<Settings, ConfigError> {
        self.settings_with_env(profile, |name| std::env::var(name).ok())
    }

    pub fn settings_with_env(
        &self,
        profile: Option<&str>,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Settings, ConfigError> {
        let chosen = profile
            .map(str::to_owned)
            .or_else(|| {
                self.file
                    .default_profile
                    .as_ref()
                    .map(|p| p.get_ref().clone())
            })
            .or_else(|| {
                // A single profile needs no `default_profile` line.
                (self.file.profiles.len() == 1)
                    .then(|| self.file.profiles.keys().next().cloned())
                    .flatten()
            });
        let base = match &chosen {
            Some(name) => {
                self.file
                    .profiles
                    .get(name)
                    .cloned()
                    .ok_or_else(|| ConfigError::Invalid {
                        path: self.path.clone(),
                        message: format!("no profile named \"{name}\" (add [profiles.{name}])"),
                    })?
            }
            None => Profile::default(),
        };
        let env = |name: &str| env(name).filter(|v| !v.is_empty());
        let secret = if env(env::CLIENT_SECRET).is_some() {
            SecretSource::Env(env::CLIENT_SECRET.to_owned())
        } else if let Some(var) = &base.client_secret_env {
            SecretSource::Env(var.clone())
        } else if let Some(file) = &base.client_secret_file {
            SecretSource::File(file.clone())
        } else {
            SecretSource::None
        };
        let has_access_token = env(env::ACCESS_TOKEN).is_some();
        let auth = if has_access_token {
            AuthMethod::AccessToken
        } else if base.auth == AuthMethod::DeviceCode && env(env::CLIENT_SECRET).is_some() {
            AuthMethod::ClientSecret
        } else {
            base.auth
        };
        Ok(Settings {
            profile: chosen,
            tenant: env(env::TENANT).or(base.tenant),
            cloud: base.cloud,
            authority_url: env(env::AUTHORITY_URL)
                .or(base.authority_url)
                .unwrap_or_else(|| base.cloud.authority_url().to_owned()),
            graph_url: env(env::GRAPH_URL)
                .or(base.graph_url)
                .unwrap_or_else(|| base.cloud.graph_url().to_owned()),
            client_id: env(env::CLIENT_ID).or(base.client_id),
            auth,
            secret,
            has_access_token,
            certificate: base.certificate,
            private_key: base.private_key,
            case: env(env::CASE),
            identity: env(env::IDENTITY).map(PathBuf::from),
            writes: base.writes,
        })
    }
}

/// Where a client secret comes from. The value itself is read only when a
/// token is requested, and never stored here.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SecretSource {
    None,
    Env(String),
    File(PathBuf),
    /// Held in memory by warroom itself (the demo's emulated tenant); never
    /// read from a flag or a config file.
    InMemory(InMemorySecret),
}

/// A secret held in memory, kept out of `Debug` output and logs.
#[derive(Clone, PartialEq, Eq)]
pub struct InMemorySecret(pub String);

impl fmt::Debug for InMemorySecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("InMemorySecret(********)")
    }
}

/// The connection settings in force.
#[derive(Clone, Debug)]
pub struct Settings {
    pub profile: Option<String>,
    pub tenant: Option<String>,
    pub cloud: Cloud,
    pub authority_url: String,
    pub graph_url: String,
    pub client_id: Option<String>,
    pub auth: AuthMethod,
    pub secret: SecretSource,
    pub has_access_token: bool,
    pub certificate: Option<PathBuf>,
    /// The certificate's private key (PEM, PKCS#8 or PKCS#1); never shown.
    pub private_key: Option<PathBuf>,
    pub case: Option<String>,
    pub identity: Option<PathBuf>,
    /// Checklist actions are sent (else they are dry runs).
    pub writes: bool,
}

impl Settings {
    /// Where Log Analytics queries go: `WARROOM_LOG_ANALYTICS_URL`; else,
    /// when Graph is reached elsewhere than the cloud's own (a test tenant
    /// or a proxy), the same place; else the cloud's query API.
    pub fn log_analytics_url(&self) -> String {
        if let Some(url) = std::env::var(env::LOG_ANALYTICS_URL)
            .ok()
            .filter(|u| !u.is_empty())
        {
            return url;
        }
        if self.graph_url.trim_end_matches('/') != self.cloud.graph_url() {
            return self.graph_url.trim_end_matches('/').to_owned();
        }
        self.cloud.log_analytics_url().to_owned()
    }
}

impl fmt::Display for Settings {
    /// The settings as `config show` prints them: secrets are never shown,
    /// only where they come from.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let or_unset = |v: &Option<String>| v.clone().unwrap_or_else(|| "(not set)".into());
        writeln!(
            f,
            "profile        = {}",
            self.profile.as_deref().unwrap_or("(none)")
        )?;
        writeln!(f, "tenant         = {}", or_unset(&self.tenant))?;
        writeln!(f, "cloud          = {}", self.cloud.name())?;
        writeln!(f, "authority_url  = {}", self.authority_url)?;
        writeln!(f, "graph_url      = {}", self.graph_url)?;
        writeln!(f, "client_id      = {}", or_unset(&self.client_id))?;
        writeln!(f, "auth           = {}", self.auth.name())?;
        let secret = match &self.secret {
            SecretSource::None => "(none)".to_owned(),
            SecretSource::Env(var) if std::env::var_os(var).is_some() => {
                format!("******** (from ${var})")
            }
            SecretSource::Env(var) => format!("(from ${var}, which is not set)"),
            SecretSource::File(path) => format!("******** (from file {})", path.display()),
            SecretSource::InMemory(_) => "******** (held in memory)".to_owned(),
        };
        writeln!(f, "client_secret  = {secret}")?;
        if self.has_access_token {
            writeln!(f, "access_token   = ******** (from ${})", env::ACCESS_TOKEN)?;
        }
        if let Some(cert) = &self.certificate {
            writeln!(f, "certificate    = {}", cert.display())?;
        }
        writeln!(f, "case           = {}", or_unset(&self.case))?;
        let writes = if self.writes {
            "on (checklist actions change the tenant, after a typed confirmation)"
        } else {
            "off (checklist actions are dry runs: previewed, not sent)"
        };
        writeln!(f, "writes         = {writes}")?;
        if let Some(identity) = &self.identity {
            writeln!(f, "identity       = {}", identity.display())?;
        }
        Ok(())
    }
}

/// 1-based line and column of a byte offset.
fn line_and_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<ConfigFile, ConfigError> {
        Config::parse(Path::new("/cfg/config.toml"), text)
    }

    #[test]
    fn bad_value_names_file_line_and_column() {
        let err = parse("[profiles.a]\ntenant = \"x\"\ncloud = \"mars\"\n").unwrap_err();
        let text = err.to_string();
        assert!(text.starts_with("/cfg/config.toml:3:9: "), "{text}");
        assert!(text.contains("mars"), "{text}");
    }

    #[test]
    fn checklist_waits_and_writes_are_read() {
        let file = parse(
            "[profiles.a]\ntenant = \"t\"\nwrites = true\n[checklist]\nwaits = { reset-krbtgt-second = 12 }\n",
        )
        .unwrap();
        assert_eq!(file.checklist.waits.get("reset-krbtgt-second"), Some(&12.0));
        assert!(file.profiles["a"].writes);
    }

    #[test]
    fn unknown_field_is_an_error() {
        let err = parse("[profiles.a]\ntennant = \"x\"\n").unwrap_err();
        assert!(
            err.to_string().contains(":2:1: unknown field `tennant`"),
            "{err}"
        );
    }

    #[test]
    fn default_profile_must_exist() {
        let err = parse("default_profile = \"b\"\n[profiles.a]\n").unwrap_err();
        assert!(
            err.to_string().starts_with("/cfg/config.toml:1:19: "),
            "{err}"
        );
        assert!(err.to_string().contains("no [profiles.b]"), "{err}");
    }

    fn config(text: &str) -> Config {
        Config {
            path: PathBuf::from("/cfg/config.toml"),
            exists: true,
            file: parse(text).unwrap(),
            text: text.to_owned(),
        }
    }

    #[test]
    fn key_overrides_know_their_line() {
        let cfg = config("[ui]\nascii = true\n\n[keys.normal]\nzoom = [\"Z\"]\n");
        let overrides = cfg.key_overrides();
        assert_eq!(overrides.len(), 1);
        assert_eq!(overrides[0].line, Some(5));
        assert_eq!(overrides[0].keys, vec!["Z".to_owned()]);
    }

    #[test]
    fn environment_overrides_profile() {
        let cfg = config(
            "[profiles.gov]\ntenant = \"a.onmicrosoft.us\"\ncloud = \"usgov\"\nclient_id = \"c\"\n",
        );
        let s = cfg.settings_with_env(None, |_| None).unwrap();
        assert_eq!(s.graph_url, "https://graph.microsoft.us");
        assert_eq!(s.auth, AuthMethod::DeviceCode);
        let s = cfg
            .settings_with_env(None, |name| match name {
                env::GRAPH_URL => Some("http://127.0.0.1:9".into()),
                env::CLIENT_SECRET => Some("s3cret".into()),
                _ => None,
            })
            .unwrap();
        assert_eq!(s.graph_url, "http://127.0.0.1:9");
        assert_eq!(s.tenant.as_deref(), Some("a.onmicrosoft.us"));
        assert_eq!(s.auth, AuthMethod::ClientSecret);
        assert_eq!(s.secret, SecretSource::Env(env::CLIENT_SECRET.into()));
    }

    #[test]
    fn show_never_prints_the_secret() {
        let cfg = config("[profiles.a]\nclient_secret_file = \"/run/secret\"\n");
        let shown = cfg.settings_with_env(None, |_| None).unwrap().to_string();
        assert!(
            shown.contains("******** (from file /run/secret)"),
            "{shown}"
        );
    }

    #[test]
    fn unknown_profile_is_named() {
        let cfg = config("[profiles.a]\n");
        let err = cfg.settings_with_env(Some("b"), |_| None).unwrap_err();
        assert!(err.to_string().contains("no profile named \"b\""), "{err}");
    }
}
