//! Where the PostgreSQL app database is: a libpq-style URL
//! (`postgres://user@host:5432/db?sslmode=require`) and the environment
//! variable holding the password. The password is never in the URL, the
//! config file or a message.

use anyhow::Context;
use secrecy::{ExposeSecret, SecretString};
use std::time::Duration;

/// `sslmode` as libpq spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SslMode {
    Disable,
    /// TLS when the server offers it, unverified (as libpq without a root
    /// certificate).
    Prefer,
    /// TLS always, unverified.
    Require,
    /// TLS with a certificate signed by a trusted root, any host name.
    VerifyCa,
    /// TLS with a trusted certificate for this host name.
    VerifyFull,
}

impl SslMode {
    pub fn parse(s: &str) -> Option<SslMode> {
        Some(match s {
            "disable" => SslMode::Disable,
            "allow" | "prefer" => SslMode::Prefer,
            "require" => SslMode::Require,
            "verify-ca" => SslMode::VerifyCa,
            "verify-full" => SslMode::VerifyFull,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            SslMode::Disable => "disable",
            SslMode::Prefer => "prefer",
            SslMode::Require => "require",
            SslMode::VerifyCa => "verify-ca",
            SslMode::VerifyFull => "verify-full",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// The URL without `sslmode` and `sslrootcert`, which hubsync applies itself.
    pub url: String,
    pub password_env: Option<String>,
    pub ssl_mode: SslMode,
    /// A PEM file of trusted roots (libpq's `sslrootcert`); the system's
    /// roots otherwise.
    pub root_cert: Option<String>,
    /// LISTEN for changes on this channel as well as polling.
    pub listen: bool,
}

impl Settings {
    /// Reads a URL as the config gives it; the error says what is wrong
    /// with it, never repeating a password.
    pub fn parse(url: &str, password_env: Option<String>) -> Result<Settings, String> {
        let (base, query) = url.split_once('?').unwrap_or((url, ""));
        if !(base.starts_with("postgres://") || base.starts_with("postgresql://")) {
            return Err("url: expected postgres://user@host:port/database".into());
        }
        let mut ssl_mode = SslMode::Prefer;
        let mut root_cert = None;
        let mut rest = Vec::new();
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            match k {
                "sslmode" => {
                    ssl_mode = SslMode::parse(v).ok_or_else(|| {
                        format!("url: sslmode={v:?}: expected disable, prefer, require, verify-ca or verify-full")
                    })?
                }
                "sslrootcert" => root_cert = Some(v.to_string()),
                "password" => return Err(password_in_url()),
                _ => rest.push(pair),
            }
        }
        let url = if rest.is_empty() {
            base.to_string()
        } else {
            format!("{base}?{}", rest.join("&"))
        };
        let s = Settings {
            url,
            password_env,
            ssl_mode,
            root_cert,
            listen: false,
        };
        let cfg = s.base_config().map_err(|e| format!("url: {e}"))?;
        if cfg.get_password().is_some() {
            return Err(password_in_url());
        }
        if cfg.get_hosts().is_empty() {
            return Err("url: no host".into());
        }
        Ok(s)
    }

    /// The URL as a config's `[app] url` gives it: `parse` of it gives
    /// these settings back (the password stays in `password_env`).
    pub fn config_url(&self) -> String {
        let mut url = self.url.clone();
        let mut sep = if url.contains('?') { '&' } else { '?' };
        for (k, v) in [
            ("sslmode", Some(self.ssl_mode.as_str())),
            ("sslrootcert", self.root_cert.as_deref()),
        ] {
            if let Some(v) = v {
                url.push_str(&format!("{sep}{k}={v}"));
                sep = '&';
            }
        }
        url
    }

    fn base_config(&self) -> Result<tokio_postgres::Config, tokio_postgres::Error> {
        self.url.parse::<tokio_postgres::Config>()
    }

    /// `host:port/database as user`, for messages.
    pub fn describe(&self) -> String {
        let Ok(cfg) = self.base_config() else {
            return "PostgreSQL (unreadable URL)".into();
        };
        let host = match cfg.get_hosts().first() {
            Some(tokio_postgres::config::Host::Tcp(h)) => h.clone(),
            Some(tokio_postgres::config::Host::Unix(p)) => p.display().to_string(),
            None => "?".into(),
        };
        let port = cfg.get_ports().first().copied().unwrap_or(5432);
        format!(
            "PostgreSQL {host}:{port}/{} as {}",
            cfg.get_dbname().unwrap_or("postgres"),
            cfg.get_user().unwrap_or("?")
        )
    }

    /// The driver's config, with the password read from the environment now.
    pub fn config(&self) -> anyhow::Result<tokio_postgres::Config> {
        let mut cfg = self
            .base_config()
            .with_context(|| format!("reading the URL of {}", self.describe()))?;
        if let Some(var) = &self.password_env {
            let password = match std::env::var(var) {
                Ok(v) if !v.is_empty() => SecretString::from(v),
                _ => anyhow::bail!(
                    "the environment variable {var} (password_env in [app]) is not set"
                ),
            };
            cfg.password(password.expose_secret().as_bytes());
        }
        cfg.ssl_mode(match self.ssl_mode {
            SslMode::Disable => tokio_postgres::config::SslMode::Disable,
            SslMode::Prefer => tokio_postgres::config::SslMode::Prefer,
            _ => tokio_postgres::config::SslMode::Require,
        });
        if cfg.get_connect_timeout().is_none() {
            cfg.connect_timeout(Duration::from_secs(10));
        }
        // Date-times come back as ISO text in UTC whatever the server's
        // defaults.
        cfg.options("-c TimeZone=UTC -c DateStyle=ISO");
        cfg.application_name("hubsync");
        Ok(cfg)
    }
}

fn password_in_url() -> String {
    "url: the password belongs in the environment variable named by password_env, not in the URL"
        .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sslmode_is_read_as_libpq_spells_it_and_taken_out_of_the_url() {
        let s = Settings::parse(
            "postgres://app@db.internal:6432/crm?sslmode=verify-full",
            None,
        )
        .unwrap();
        assert_eq!(s.ssl_mode, SslMode::VerifyFull);
        assert_eq!(s.url, "postgres://app@db.internal:6432/crm");
        assert_eq!(s.describe(), "PostgreSQL db.internal:6432/crm as app");
        let e = Settings::parse("postgres://app@h/db?sslmode=sometimes", None).unwrap_err();
        assert!(e.contains("sslmode=\"sometimes\""), "{e}");
    }

    #[test]
    fn the_config_url_reads_back_as_the_same_settings() {
        for url in [
            "postgres://u@h:5432/db",
            "postgres://u@h/db?sslmode=verify-full&sslrootcert=/etc/ca.pem",
            "postgres://u@h/db?application_name=x&sslmode=disable",
        ] {
            let s = Settings::parse(url, Some("PGPASSWORD".into())).unwrap();
            let again = Settings::parse(&s.config_url(), Some("PGPASSWORD".into())).unwrap();
            assert_eq!(again, s, "{url} → {}", s.config_url());
        }
    }

    #[test]
    fn a_password_in_the_url_is_refused_without_repeating_it() {
        for url in [
            "postgres://app:hunter2@h/db",
            "postgres://app@h/db?password=hunter2",
        ] {
            let e = Settings::parse(url, None).unwrap_err();
            assert!(e.contains("password_env") && !e.contains("hunter2"), "{e}");
        }
    }
}
