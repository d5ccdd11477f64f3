//! Which app database a config names: a SQLite file, or a PostgreSQL
//! server by URL with its password in an environment variable.

use std::path::PathBuf;

#[derive(Debug, Clone, PartialEq)]
pub enum Target {
    Sqlite(PathBuf),
    Postgres(super::postgres::Settings),
}

impl Target {
    /// For messages: the path, or the URL without any password.
    pub fn describe(&self) -> String {
        match self {
            Target::Sqlite(p) => p.display().to_string(),
            Target::Postgres(s) => s.describe(),
        }
    }
}

impl From<PathBuf> for Target {
    fn from(p: PathBuf) -> Target {
        Target::Sqlite(p)
    }
}
