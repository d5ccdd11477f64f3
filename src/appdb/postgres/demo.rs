//! The demo's app database on PostgreSQL: the fixture contacts in a schema
//! of their own (`hubsync_demo_…`), with a trigger that stamps `updated_at`
//! when a synced column changes, as an app's ORM would; and the simulated
//! app users, who write through a connection of their own.

use super::Settings;
use crate::appdb::demo::FixtureContact;
use anyhow::Context;

/// A connection of the caller's own (the demo's app users, tests), with
/// the same TLS and password rules as hubsync's pool.
pub async fn connect(s: &Settings) -> anyhow::Result<tokio_postgres::Client> {
    let cfg = s.config()?;
    let tls = tokio_postgres_rustls::MakeRustlsConnect::new(super::tls::client_config(s)?);
    let (client, conn) = cfg.connect(tls).await.map_err(|e| {
        anyhow::anyhow!("connecting to {}: {}", s.describe(), super::pg_message(&e))
    })?;
    tokio::spawn(async move {
        if let Err(e) = conn.await {
            tracing::warn!(error = %e, "demo app connection closed");
        }
    });
    Ok(client)
}

/// Creates a fresh schema holding the demo's `contacts`; returns its name.
pub async fn create(s: &Settings, contacts: &[FixtureContact]) -> anyhow::Result<String> {
    let client = connect(s).await?;
    let schema = format!(
        "hubsync_demo_{}",
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    );
    client
        .batch_execute(&format!(
            "CREATE SCHEMA {schema};
             CREATE TABLE {schema}.contacts (
                 id bigserial PRIMARY KEY, email text, first_name text, last_name text,
                 phone text, company text, job_title text, hubspot_id text,
                 updated_at timestamptz NOT NULL DEFAULT clock_timestamp());
             CREATE INDEX ON {schema}.contacts (updated_at, id);
             CREATE INDEX ON {schema}.contacts (hubspot_id);
             CREATE FUNCTION {schema}.touch() RETURNS trigger LANGUAGE plpgsql AS $$
               BEGIN
                 IF NEW.updated_at = OLD.updated_at THEN NEW.updated_at := clock_timestamp(); END IF;
                 RETURN NEW;
               END $$;
             CREATE TRIGGER contacts_touch BEFORE UPDATE OF email, first_name, last_name, phone, company, job_title
               ON {schema}.contacts FOR EACH ROW EXECUTE FUNCTION {schema}.touch();"
        ))
        .await
        .with_context(|| format!("creating the demo schema {schema} in {}", s.describe()))?;
    let n = contacts.len().max(1) as f64;
    let stmt = client
        .prepare(&format!(
            "INSERT INTO {schema}.contacts (email, first_name, last_name, phone, company, job_title, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, clock_timestamp() - make_interval(secs => $7))"
        ))
        .await?;
    for (i, c) in contacts.iter().enumerate() {
        // Spread over the past hour, oldest first, as the SQLite demo does.
        let ago = (n - i as f64) * 3600.0 / n;
        client
            .execute(
                &stmt,
                &[
                    &c.email,
                    &c.first_name,
                    &c.last_name,
                    &c.phone,
                    &c.company,
                    &c.job_title,
                    &ago,
                ],
            )
            .await
            .with_context(|| format!("filling the demo schema {schema}"))?;
    }
    Ok(schema)
}

/// Removes a demo schema (when the demo ran in a temp folder).
pub async fn drop(s: &Settings, schema: &str) -> anyhow::Result<()> {
    connect(s)
        .await?
        .batch_execute(&format!(
            "DROP SCHEMA {} CASCADE",
            super::sql::ident(schema)
        ))
        .await
        .with_context(|| format!("removing the demo schema {schema}"))
}

/// The simulated app users, on PostgreSQL.
pub struct Users {
    client: tokio_postgres::Client,
    table: String,
}

impl Users {
    pub async fn open(s: &Settings, schema: &str) -> anyhow::Result<Users> {
        Ok(Users {
            client: connect(s).await?,
            table: super::sql::table_ref(&format!("{schema}.contacts")),
        })
    }

    pub async fn retitle_someone(&self, title: &str) -> anyhow::Result<()> {
        let t = &self.table;
        self.client
            .execute(
                &format!(
                    "UPDATE {t} SET job_title = $1 WHERE id = (SELECT id FROM {t} WHERE hubspot_id IS NOT NULL ORDER BY random() LIMIT 1)"
                ),
                &[&title],
            )
            .await?;
        Ok(())
    }

    pub async fn someone_linked(&self) -> anyhow::Result<Option<String>> {
        let t = &self.table;
        Ok(self
            .client
            .query_opt(
                &format!("SELECT hubspot_id FROM {t} WHERE hubspot_id IS NOT NULL ORDER BY random() LIMIT 1"),
                &[],
            )
            .await?
            .map(|r| r.get(0)))
    }

    pub async fn sign_up(&self, email: &str, last_name: &str) -> anyhow::Result<()> {
        self.client
            .execute(
                &format!(
                    "INSERT INTO {} (email, first_name, last_name, company) VALUES ($1, 'New', $2, 'Signup Ltd')",
                    self.table
                ),
                &[&email, &last_name],
            )
            .await?;
        Ok(())
    }
}
