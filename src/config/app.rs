//! `[app]`: the app database, a SQLite file (`database = "path"`) or a
//! PostgreSQL server (`url = "postgres://user@host:5432/db?sslmode=require"`
//! with `password_env` naming the environment variable of its password).

use crate::appdb::Target;
use crate::appdb::postgres::Settings;
use serde::Deserialize;
use std::path::PathBuf;
use toml::Spanned;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawApp {
    database: Option<PathBuf>,
    url: Option<Spanned<String>>,
    password_env: Option<String>,
    #[serde(default)]
    listen: bool,
}

/// The target, or the offset to point at and what is wrong.
pub(super) fn target(raw: Spanned<RawApp>) -> Result<Target, (usize, String)> {
    let at = raw.span().start;
    let raw = raw.into_inner();
    match (raw.database, raw.url) {
        (Some(path), None) => {
            if raw.password_env.is_some() || raw.listen {
                return Err((
                    at,
                    "[app] password_env and listen are for a PostgreSQL url, not a SQLite database".into(),
                ));
            }
            Ok(Target::Sqlite(path))
        }
        (None, Some(url)) => {
            let url_at = url.span().start;
            let mut s = Settings::parse(url.get_ref(), raw.password_env)
                .map_err(|e| (url_at, format!("[app] {e}")))?;
            s.listen = raw.listen;
            Ok(Target::Postgres(s))
        }
        _ => Err((
            at,
            "[app] needs exactly one of database (a SQLite file) or url (postgres://user@host:port/db)"
                .into(),
        )),
    }
}
