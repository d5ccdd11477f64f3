//! hubsync's configuration: a TOML file (by default `hubsync.toml` in the
//! platform config folder) naming the HubSpot connection, the app database
//! and, per object, the table, its columns and the field mappings.
//!
//! Secrets are never in the file: it names the environment variables that
//! hold them. A bad file is refused with the file, line and column of the
//! problem and what would be right, before anything runs.

mod app;
mod raw;

use crate::hubspot::{ClientSettings, Credentials, OAuthCredentials};
use crate::model::ObjectKind;
use secrecy::SecretString;
use std::fmt;
use std::path::{Path, PathBuf};

/// A refused configuration: where, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub file: PathBuf,
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}",
            self.file.display(),
            self.line,
            self.column,
            self.message
        )
    }
}

impl std::error::Error for ConfigError {}

/// How to reach HubSpot; secrets are resolved from the environment later.
#[derive(Debug, Clone, PartialEq)]
pub enum HubSpotAuth {
    /// A private-app token in this environment variable.
    PrivateApp { token_env: String },
    OAuth {
        client_id: String,
        client_secret_env: String,
        refresh_token_env: String,
        token_url: Option<String>,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct HubSpotConfig {
    pub base_url: String,
    pub auth: HubSpotAuth,
    /// Requests per ten seconds assumed until HubSpot's headers say.
    pub ten_second_limit: u32,
}

/// One synced object, as configured.
pub type ObjectConfig = crate::sync::rules::ObjectSync;

/// Where HubSpot's webhook deliveries are received.
#[derive(Debug, Clone, PartialEq)]
pub struct WebhookConfig {
    /// The local address to listen on (behind a TLS proxy).
    pub listen: std::net::SocketAddr,
    /// Scheme, host and port HubSpot calls: signatures cover the public URL.
    pub public_base: String,
    pub path: String,
    /// The environment variable holding the app's client secret.
    pub client_secret_env: String,
}

#[derive(Debug, Clone)]
pub struct Config {
    pub path: PathBuf,
    pub webhook: Option<WebhookConfig>,
    pub hubspot: HubSpotConfig,
    pub app_database: crate::appdb::Target,
    pub objects: Vec<ObjectConfig>,
    /// `[control] viewer_group`: a group whose members may attach read-only.
    pub viewer_group: Option<String>,
}

/// The platform's default config file (e.g. `~/.config/hubsync/hubsync.toml`).
pub fn default_path() -> Option<PathBuf> {
    directories::ProjectDirs::from("", "", "hubsync").map(|d| d.config_dir().join("hubsync.toml"))
}

/// The platform's default data folder (state, log).
pub fn default_data_dir() -> Option<PathBuf> {
    directories::ProjectDirs::from("", "", "hubsync").map(|d| d.data_dir().to_path_buf())
}

/// The config at `path` (or the platform default), loaded and checked; a
/// missing file says how to get one instead of pointing at line 0.
pub fn load_or_explain(path: Option<PathBuf>) -> anyhow::Result<Config> {
    let Some(path) = path.or_else(default_path) else {
        anyhow::bail!(
            "no platform config folder here: pass --config FILE (`hubsync demo` runs without one)"
        );
    };
    if !path.exists() {
        anyhow::bail!(
            "no config file at {}: pass --config FILE, or write one there starting from fixtures/hubsync.example.toml (`hubsync demo` runs without one)",
            path.display()
        );
    }
    Ok(Config::load(&path)?)
}

impl Config {
    /// Reads and checks a config file.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
            file: path.to_path_buf(),
            line: 0,
            column: 0,
            message: format!("cannot read the config file: {e}"),
        })?;
        Config::parse(path, &text)
    }

    /// Checks config text; `path` is only used in error messages.
    pub fn parse(path: &Path, text: &str) -> Result<Config, ConfigError> {
        raw::parse(path, text)
    }

    /// The client settings, with secrets read from the environment now.
    pub fn client_settings(&self) -> anyhow::Result<ClientSettings> {
        let env = |name: &str| -> anyhow::Result<SecretString> {
            match std::env::var(name) {
                Ok(v) if !v.trim().is_empty() => Ok(SecretString::from(v.trim().to_string())),
                _ => anyhow::bail!(
                    "{}: the environment variable {name} (named in [hubspot]) is not set",
                    self.path.display()
                ),
            }
        };
        let credentials = match &self.hubspot.auth {
            HubSpotAuth::PrivateApp { token_env } => Credentials::PrivateApp(env(token_env)?),
            HubSpotAuth::OAuth {
                client_id,
                client_secret_env,
                refresh_token_env,
                token_url,
            } => Credentials::OAuth(OAuthCredentials {
                client_id: client_id.clone(),
                client_secret: env(client_secret_env)?,
                refresh_token: env(refresh_token_env)?,
                token_url: token_url.clone().unwrap_or_else(|| {
                    format!(
                        "{}/oauth/v1/token",
                        self.hubspot.base_url.trim_end_matches('/')
                    )
                }),
            }),
        };
        let mut s = ClientSettings::with_credentials(self.hubspot.base_url.clone(), credentials);
        s.ten_second_limit = self.hubspot.ten_second_limit;
        Ok(s)
    }

    pub fn object(&self, kind: ObjectKind) -> Option<&ObjectConfig> {
        self.objects.iter().find(|o| o.mapping.object == kind)
    }
}
