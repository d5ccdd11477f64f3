//! hubsync's configuration: a TOML file (by default `hubsync.toml` in the
//! platform config folder) naming the HubSpot connection, the app database
//! and, per object, the table, its columns and the field mappings.
//!
//! Secrets are never in the file: it names the environment variables that
//! hold them. A bad file is refused with the file, line and column of the
//! problem and what would be right, before anything runs.

mod app;
pub mod keys;
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
        // A file that cannot be read has no line to point at.
        if self.line == 0 {
            return write!(f, "{}: {}", self.file.display(), self.message);
        }
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
    /// Where each key is in the file, for problems found after parsing.
    pub keys: keys::Keys,
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
        let bytes = std::fs::read(path).map_err(|e| ConfigError {
            file: path.to_path_buf(),
            line: 0,
            column: 0,
            message: format!("cannot read the config file: {e}"),
        })?;
        let text = std::str::from_utf8(&bytes).map_err(|e| {
            let good = e.valid_up_to();
            // The valid prefix is text, so the position can be counted.
            let prefix = std::str::from_utf8(&bytes[..good]).unwrap_or_default();
            let (line, column) = raw::position(prefix, good);
            ConfigError {
                file: path.to_path_buf(),
                line,
                column,
                message: format!(
                    "not UTF-8 at byte {good} (0x{:02x}): a config file must be UTF-8 text",
                    bytes[good]
                ),
            }
        })?;
        Config::parse(path, text)
    }

    /// A problem with what the config's `key` names, at that key's line
    /// and column (or its table's, for a key left to its default).
    pub fn error_at(&self, key: &str, message: impl Into<String>) -> ConfigError {
        let (line, column) = self.keys.position(key).unwrap_or((1, 1));
        ConfigError {
            file: self.path.clone(),
            line,
            column,
            message: message.into(),
        }
    }

    /// The secret in the environment variable that `key` names.
    pub fn secret_from_env(&self, key: &str, name: &str) -> Result<SecretString, ConfigError> {
        match std::env::var(name) {
            Ok(v) if !v.trim().is_empty() => {
                // Whatever is logged, a console's log pane never shows it.
                crate::log_ring::known_secret(v.trim());
                Ok(SecretString::from(v.trim().to_string()))
            }
            Ok(_) => Err(self.error_at(
                key,
                format!("the environment variable {name} (named by {key}) is empty"),
            )),
            Err(_) => Err(self.error_at(
                key,
                format!("the environment variable {name} (named by {key}) is not set"),
            )),
        }
    }

    /// Opens the app database `[app] database` names.
    pub fn open_app(&self) -> Result<crate::appdb::AppDb, ConfigError> {
        crate::appdb::AppDb::open(&self.app_database)
            .map_err(|e| self.error_at("app.database", format!("{e:#}")))
    }

    /// Checks that every object's table and columns exist in the app
    /// database, pointing at the key that names the first one missing.
    pub async fn verify_app(&self, app: &crate::appdb::AppDb) -> Result<(), ConfigError> {
        for o in &self.objects {
            self.verify_app_object(app, o).await?;
        }
        Ok(())
    }

    /// [`Config::verify_app`] for one object.
    pub async fn verify_app_object(
        &self,
        app: &crate::appdb::AppDb,
        o: &ObjectConfig,
    ) -> Result<(), ConfigError> {
        {
            let m = &o.mapping;
            let Err(e) = app.verify(m).await else {
                return Ok(());
            };
            let object = format!("objects.{}", m.object);
            let columns: Vec<String> = app
                .table_info(m)
                .await
                .map(|t| t.columns.into_iter().map(|c| c.name).collect())
                .unwrap_or_default();
            let key = if columns.is_empty() {
                format!("{object}.table")
            } else {
                [&m.id_column, &m.updated_at_column, &m.hubspot_id_column]
                    .into_iter()
                    .map(String::as_str)
                    .chain(m.app_columns())
                    .find(|c| !columns.iter().any(|x| x == c))
                    .and_then(|c| self.keys.naming(&object, c))
                    .unwrap_or(object.clone())
            };
            Err(self.error_at(&key, format!("[{object}]: {e:#}")))
        }
    }

    /// Checks config text; `path` is only used in error messages.
    pub fn parse(path: &Path, text: &str) -> Result<Config, ConfigError> {
        raw::parse(path, text)
    }

    /// The client settings, with secrets read from the environment now.
    pub fn client_settings(&self) -> anyhow::Result<ClientSettings> {
        let env = |key: &str, name: &str| self.secret_from_env(key, name);
        let credentials = match &self.hubspot.auth {
            HubSpotAuth::PrivateApp { token_env } => {
                Credentials::PrivateApp(env("hubspot.token_env", token_env)?)
            }
            HubSpotAuth::OAuth {
                client_id,
                client_secret_env,
                refresh_token_env,
                token_url,
            } => Credentials::OAuth(OAuthCredentials {
                client_id: client_id.clone(),
                client_secret: env("hubspot.oauth.client_secret_env", client_secret_env)?,
                refresh_token: env("hubspot.oauth.refresh_token_env", refresh_token_env)?,
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
