//! The PostgreSQL backend: tokio-postgres over a deadpool pool, TLS with
//! rustls. Tables may live in any schema (`crm.contacts`); values travel
//! as text and are cast to each column's own type by PostgreSQL, so ids
//! may be integers, bigints or UUIDs and `updated_at` a `timestamptz`, a
//! `timestamp` or epoch numbers.
//!
//! Key matching must agree exactly with [`key_norm`](crate::sync::mapping::key_norm) (Unicode whitespace
//! trimmed, Unicode lowercase), which PostgreSQL's `lower(btrim(…))` does
//! not: `btrim` trims only spaces and `lower` follows the database's
//! locale. So keys are split: ASCII keys are compared in SQL against
//! [`sql::key_expr`], which is exact for every value whose key is ASCII
//! (all Unicode whitespace trimmed, the one non-ASCII letter whose
//! lowercase is ASCII folded, ASCII lowercasing under the "C" collation)
//! and which an expression index can serve; non-ASCII keys read the rows
//! whose value has a character outside ASCII and compare them in Rust.
//! Every candidate is checked with `key_norm` before it is returned.

pub mod demo;
pub mod listen;
mod lookup;
mod settings;
pub mod sql;
mod tls;
mod write;

pub use settings::{Settings, SslMode};

use super::{AppRecord, ColumnInfo, Since, TableInfo, Unavailable};
use crate::sync::mapping::ObjectMapping;
use anyhow::Context;
use deadpool_postgres::{Manager, ManagerConfig, Object, Pool, RecyclingMethod, Runtime};
use sql::{cast, ident, table_ref};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio_postgres::types::ToSql;

type Param<'a> = &'a (dyn ToSql + Sync);

/// The column types of one table, read once.
struct Types(HashMap<String, String>);

impl Types {
    fn of(&self, column: &str) -> &str {
        self.0.get(column).map_or("text", String::as_str)
    }
}

pub struct PgApp {
    pool: Pool,
    settings: Settings,
    types: Mutex<HashMap<String, Arc<Types>>>,
}

/// A driver error with what PostgreSQL said (tokio-postgres shows only
/// "db error" otherwise).
fn pg_message(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{}: {}", db.severity(), db.message()),
        None => match std::error::Error::source(e) {
            Some(s) => format!("{e}: {s}"),
            None => e.to_string(),
        },
    }
}

trait PgContext<T> {
    fn pg(self, what: impl FnOnce() -> String) -> anyhow::Result<T>;
}

impl<T> PgContext<T> for Result<T, tokio_postgres::Error> {
    fn pg(self, what: impl FnOnce() -> String) -> anyhow::Result<T> {
        self.map_err(|e| {
            let msg = format!("{}: {}", what(), pg_message(&e));
            if lost_connection(&e) {
                anyhow::Error::new(Unavailable(msg))
            } else {
                anyhow::anyhow!(msg)
            }
        })
    }
}

/// Whether the server went away (a closed or reset connection, a shutdown,
/// a server not yet accepting connections) rather than refused the SQL.
fn lost_connection(e: &tokio_postgres::Error) -> bool {
    match e.code() {
        Some(code) => {
            let c = code.code();
            c.starts_with("08") || matches!(c, "57P01" | "57P02" | "57P03")
        }
        None => {
            e.is_closed()
                || std::error::Error::source(e).is_some_and(|s| s.is::<std::io::Error>())
                || e.to_string().contains("timed out")
        }
    }
}

impl PgApp {
    /// Sets up the pool; connections are made on first use.
    pub fn open(s: &Settings) -> anyhow::Result<PgApp> {
        let cfg = s.config()?;
        let tls = tokio_postgres_rustls::MakeRustlsConnect::new(tls::client_config(s)?);
        let manager = Manager::from_config(
            cfg,
            tls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(4)
            .runtime(Runtime::Tokio1)
            .create_timeout(Some(Duration::from_secs(15)))
            .wait_timeout(Some(Duration::from_secs(60)))
            .build()
            .with_context(|| format!("setting up connections to {}", s.describe()))?;
        Ok(PgApp {
            pool,
            settings: s.clone(),
            types: Mutex::new(HashMap::new()),
        })
    }

    pub fn describe(&self) -> String {
        self.settings.describe()
    }

    async fn client(&self) -> anyhow::Result<Object> {
        use deadpool_postgres::PoolError;
        self.pool.get().await.map_err(|e| {
            let why = match &e {
                PoolError::Backend(b) => pg_message(b),
                PoolError::Timeout(_) => "no answer in time (host unreachable?)".into(),
                other => other.to_string(),
            };
            let msg = format!("connecting to {}: {why}", self.describe());
            // A refused password or a missing database stays refused; a
            // server that does not answer may come back.
            match &e {
                PoolError::Backend(b) if !lost_connection(b) => anyhow::anyhow!(msg),
                _ => anyhow::Error::new(Unavailable(msg)),
            }
        })
    }

    pub async fn table_info(&self, m: &ObjectMapping) -> anyhow::Result<TableInfo> {
        let client = self.client().await?;
        let (schema, name) = sql::split_table(&m.table);
        let what = || format!("describing table {} of {}", m.table, self.describe());
        let rows = client
            .query(
                "SELECT a.attname::text, format_type(a.atttypid, a.atttypmod) \
                 FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid \
                 JOIN pg_namespace n ON n.oid = c.relnamespace \
                 WHERE c.relname = $1 AND n.nspname = coalesce($2, current_schema()) \
                   AND c.relkind IN ('r', 'p', 'v', 'm', 'f') AND a.attnum > 0 AND NOT a.attisdropped \
                 ORDER BY a.attnum",
                &[&name, &schema],
            )
            .await
            .pg(what)?;
        let columns: Vec<ColumnInfo> = rows
            .iter()
            .map(|r| ColumnInfo {
                name: r.get(0),
                type_name: r.get(1),
            })
            .collect();
        let leading: Vec<String> = client
            .query(
                "SELECT pg_get_indexdef(i.indexrelid, 1, true) \
                 FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid \
                 JOIN pg_namespace n ON n.oid = c.relnamespace \
                 WHERE c.relname = $1 AND n.nspname = coalesce($2, current_schema())",
                &[&name, &schema],
            )
            .await
            .pg(what)?
            .iter()
            .map(|r| r.get::<_, String>(0))
            .collect();
        // An expression index is recognised by what it computes: the key
        // expression, as PostgreSQL prints it back, trims and lowercases the
        // column under "C".
        let leading = leading
            .into_iter()
            .map(|def| {
                let plain = def.trim_matches('"').replace("\"\"", "\"");
                match m.keys.iter().find(|k| {
                    def.contains("btrim(")
                        && def.contains("lower(")
                        && def.contains("COLLATE \"C\"")
                        && (def.contains(&ident(&k.app_column))
                            || def.contains(&format!("({}", k.app_column)))
                }) {
                    Some(k) => sql::key_expr(&k.app_column),
                    None => plain,
                }
            })
            .collect();
        let types = Types(
            columns
                .iter()
                .map(|c| (c.name.clone(), c.type_name.clone()))
                .collect(),
        );
        if !columns.is_empty() {
            self.types
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .insert(m.table.clone(), Arc::new(types));
        }
        Ok(TableInfo {
            table: m.table.clone(),
            columns,
            leading_index_columns: leading,
        })
    }

    async fn types(&self, m: &ObjectMapping) -> anyhow::Result<Arc<Types>> {
        if let Some(t) = self
            .types
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&m.table)
        {
            return Ok(t.clone());
        }
        let info = self.table_info(m).await?;
        super::check::verify(&self.describe(), m, &info)?;
        self.types
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&m.table)
            .cloned()
            .with_context(|| format!("no table {} in {}", m.table, self.describe()))
    }

    fn select(m: &ObjectMapping, t: &Types) -> String {
        let mut cols = vec![
            format!("{}::text", ident(&m.id_column)),
            format!("{}::text", ident(&m.hubspot_id_column)),
            sql::stamp_select(&m.updated_at_column, t.of(&m.updated_at_column)),
        ];
        cols.extend(
            m.app_columns()
                .iter()
                .map(|c| format!("{}::text", ident(c))),
        );
        // Aliased: ORDER BY "id" would otherwise sort by the output column
        // of that name, the id as text ("10" before "2").
        let cols: Vec<String> = cols
            .into_iter()
            .enumerate()
            .map(|(i, c)| format!("{c} AS hubsync_c{i}"))
            .collect();
        format!("SELECT {} FROM {}", cols.join(", "), table_ref(&m.table))
    }

    fn record(m: &ObjectMapping, r: &tokio_postgres::Row) -> AppRecord {
        let mut fields = BTreeMap::new();
        for (i, name) in m.app_columns().iter().enumerate() {
            fields.insert(name.to_string(), r.get::<_, Option<String>>(3 + i));
        }
        AppRecord {
            id: r.get::<_, Option<String>>(0).unwrap_or_default(),
            hubspot_id: r.get(1),
            updated_at: r.get::<_, Option<String>>(2).unwrap_or_default(),
            fields,
        }
    }

    async fn read(
        &self,
        m: &ObjectMapping,
        sql: &str,
        params: &[Param<'_>],
    ) -> anyhow::Result<Vec<AppRecord>> {
        let client = self.client().await?;
        let stmt = client
            .prepare_cached(sql)
            .await
            .pg(|| format!("reading table {} of {}", m.table, self.describe()))?;
        let rows = client
            .query(&stmt, params)
            .await
            .pg(|| format!("reading table {} of {}", m.table, self.describe()))?;
        Ok(rows.iter().map(|r| Self::record(m, r)).collect())
    }

    /// The id column as it sorts: text ids under "C", byte order, as the
    /// cursor compares them.
    fn id_order(m: &ObjectMapping, t: &Types) -> String {
        if sql::is_text(t.of(&m.id_column)) {
            format!("{} COLLATE \"C\"", ident(&m.id_column))
        } else {
            ident(&m.id_column)
        }
    }

    fn since_clause(m: &ObjectMapping, t: &Types, since: &Since<'_>) -> String {
        let u = ident(&m.updated_at_column);
        let ut = t.of(&m.updated_at_column);
        match since {
            Since::All => "TRUE".into(),
            Since::From(_) => format!("{u} >= {}", cast(1, ut)),
            Since::After(..) => format!(
                "({u} > {c} OR ({u} = {c} AND {id} > {cid}))",
                c = cast(1, ut),
                id = Self::id_order(m, t),
                cid = cast(2, t.of(&m.id_column)),
            ),
        }
    }

    pub async fn rows_since(
        &self,
        m: &ObjectMapping,
        since: Since<'_>,
        limit: usize,
    ) -> anyhow::Result<Vec<AppRecord>> {
        let t = self.types(m).await?;
        let sql = format!(
            "{} WHERE {} ORDER BY {}, {} LIMIT {limit}",
            Self::select(m, &t),
            Self::since_clause(m, &t, &since),
            ident(&m.updated_at_column),
            Self::id_order(m, &t)
        );
        match since {
            Since::All => self.read(m, &sql, &[]).await,
            Since::From(f) => self.read(m, &sql, &[&f]).await,
            Since::After(u, id) => self.read(m, &sql, &[&u, &id.as_text()]).await,
        }
    }

    pub async fn count_since(&self, m: &ObjectMapping, since: Since<'_>) -> anyhow::Result<u64> {
        let t = self.types(m).await?;
        let sql = format!(
            "SELECT count(*) FROM {} WHERE {}",
            table_ref(&m.table),
            Self::since_clause(m, &t, &since)
        );
        let client = self.client().await?;
        let id_text;
        let params: Vec<Param<'_>> = match &since {
            Since::All => vec![],
            Since::From(f) => vec![f],
            Since::After(u, id) => {
                id_text = id.as_text();
                vec![u, &id_text]
            }
        };
        let n: i64 = client
            .query_one(&sql, &params)
            .await
            .pg(|| format!("counting rows of {} in {}", m.table, self.describe()))?
            .get(0);
        Ok(n as u64)
    }

    /// Rows whose `column` is one of `values`, compared in the column's own
    /// type (values that cannot be of that type are left out first).
    async fn read_where_in(
        &self,
        m: &ObjectMapping,
        column: &str,
        values: &[String],
    ) -> anyhow::Result<Vec<AppRecord>> {
        let t = self.types(m).await?;
        let ty = t.of(column).to_string();
        let values: Vec<&str> = values
            .iter()
            .map(String::as_str)
            .filter(|v| sql::fits(&ty, v))
            .collect();
        if values.is_empty() {
            return Ok(vec![]);
        }
        let sql = format!(
            "{} WHERE {} = ANY(CAST($1::text[] AS {ty}[]))",
            Self::select(m, &t),
            ident(column)
        );
        let mut out = Vec::new();
        for chunk in values.chunks(1000) {
            out.extend(self.read(m, &sql, &[&chunk]).await?);
        }
        Ok(out)
    }

    pub async fn count_matching(
        &self,
        m: &ObjectMapping,
        before: &crate::sync::filter::Filters,
        after: &crate::sync::filter::Filters,
    ) -> anyhow::Result<super::FilterCounts> {
        let t = self.types(m).await?;
        let mut c = super::FilterCounts::default();
        for r in self.read(m, &Self::select(m, &t), &[]).await? {
            super::count::tally(&mut c, &r, before, after);
        }
        Ok(c)
    }

    pub async fn get_many(
        &self,
        m: &ObjectMapping,
        ids: &[String],
    ) -> anyhow::Result<Vec<AppRecord>> {
        self.read_where_in(m, &m.id_column, ids).await
    }

    pub async fn find_by_hubspot_ids(
        &self,
        m: &ObjectMapping,
        ids: &[String],
    ) -> anyhow::Result<Vec<AppRecord>> {
        self.read_where_in(m, &m.hubspot_id_column, ids).await
    }

    pub async fn find_by_keys(
        &self,
        m: &ObjectMapping,
        column: &str,
        keys: &[String],
    ) -> anyhow::Result<Vec<AppRecord>> {
        let t = self.types(m).await?;
        let (ascii, other): (Vec<&str>, Vec<&str>) =
            keys.iter().map(String::as_str).partition(|k| k.is_ascii());
        let mut found = Vec::new();
        if !ascii.is_empty() {
            let sql = format!(
                "{} WHERE {} = ANY($1::text[])",
                Self::select(m, &t),
                sql::key_expr(column)
            );
            for chunk in ascii.chunks(1000) {
                found.extend(self.read(m, &sql, &[&chunk]).await?);
            }
        }
        if !other.is_empty() {
            let sql = format!(
                "{} WHERE {}::text ~ '[^\\x01-\\x7f]'",
                Self::select(m, &t),
                ident(column)
            );
            found.extend(self.read(m, &sql, &[]).await?);
        }
        crate::appdb::keys::keep_matches(&mut found, column, keys);
        Ok(found)
    }
}
