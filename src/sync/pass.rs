//! One sync pass app → HubSpot over one object: read what changed since the
//! cursor a page at a time, look up what HubSpot holds for that page (by id
//! for linked records, by email for the rest, both in batches), plan, apply,
//! and only then move the cursor past the page.
//!
//! Moving the cursor after the page is applied is what makes a crash safe
//! here: a page interrupted half-way is read again, and since every
//! unlinked record is first matched by email, nothing is created twice.

use super::execute::{ExecError, Executor, Tally};
use super::mapping::ObjectMapping;
use super::plan::{Decision, PlanInput, plan};
use crate::appdb::{AppCursor, AppDb, AppRecord};
use crate::hubspot::wire::SimplePublicObject;
use crate::hubspot::{HubSpotClient, MAX_BATCH};
use crate::model::{Direction, email_key};
use crate::store::Store;
use std::collections::HashMap;

/// What a pass covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// Every record changed since the cursor.
    Changes,
    /// One record, whatever the cursor says (an operator's retry).
    Record(String),
}

/// How far a pass has got, for the job's progress gauge.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    pub done: u64,
    pub total: u64,
    pub tally: Tally,
}

pub struct Pass<'a> {
    pub client: &'a HubSpotClient,
    pub store: &'a Store,
    pub app: &'a AppDb,
    pub mapping: &'a ObjectMapping,
    pub batch_size: usize,
    pub job_id: i64,
}

const DIRECTION: Direction = Direction::ToHubSpot;

impl Pass<'_> {
    fn cursor(&self) -> anyhow::Result<Option<AppCursor>> {
        match self.store.cursor(self.mapping.object, DIRECTION)? {
            None => Ok(None),
            Some(s) => Ok(Some(serde_json::from_str(&s).map_err(|e| {
                anyhow::anyhow!(
                    "the stored {} cursor {s:?} is unreadable: {e}",
                    self.mapping.object
                )
            })?)),
        }
    }

    /// Runs the pass, calling `on_progress` after each page.
    pub async fn run(
        &self,
        scope: Scope,
        mut on_progress: impl FnMut(Progress),
    ) -> Result<Progress, ExecError> {
        let mut progress = Progress::default();
        match scope {
            Scope::Record(id) => {
                let rec = self.app.get(self.mapping, &id)?.ok_or_else(|| {
                    anyhow::anyhow!("app {} record {id} no longer exists", self.mapping.table)
                })?;
                progress.total = 1;
                on_progress(progress);
                let t = self.page(vec![rec], true).await?;
                progress.done = 1;
                add(&mut progress.tally, t);
                on_progress(progress);
            }
            Scope::Changes => {
                let mut cursor = self.cursor()?;
                progress.total = self
                    .app
                    .count_changed_since(self.mapping, cursor.as_ref())?;
                on_progress(progress);
                let size = self.batch_size.clamp(1, MAX_BATCH);
                loop {
                    let page = self
                        .app
                        .changed_since(self.mapping, cursor.as_ref(), size)?;
                    let Some(last) = page.last() else { break };
                    let next = AppCursor {
                        updated_at: last.updated_at.clone(),
                        id: last.id.parse().map_err(|_| {
                            anyhow::anyhow!(
                                "app {} id {:?} is not an integer",
                                self.mapping.table,
                                last.id
                            )
                        })?,
                    };
                    let n = page.len() as u64;
                    let t = self.page(page, false).await?;
                    self.store.set_cursor(
                        self.mapping.object,
                        DIRECTION,
                        &serde_json::to_string(&next).map_err(anyhow::Error::from)?,
                    )?;
                    cursor = Some(next);
                    progress.done += n;
                    // Rows changed during the pass make it longer than counted.
                    progress.total = progress.total.max(progress.done);
                    add(&mut progress.tally, t);
                    on_progress(progress);
                }
            }
        }
        Ok(progress)
    }

    /// Plans and applies one page of at most 100 records. With
    /// `report_in_step`, a record that needs no write still gets an audit
    /// entry, so an operator's retry always has an outcome (and closes the
    /// record's open failure).
    async fn page(
        &self,
        records: Vec<AppRecord>,
        report_in_step: bool,
    ) -> Result<Tally, ExecError> {
        let m = self.mapping;
        let ids: Vec<String> = records.iter().map(|r| r.id.clone()).collect();
        let links = self.store.links_for(m.object, &ids)?;
        let props = m.hubspot_properties();

        let mut by_id: HashMap<String, SimplePublicObject> = HashMap::new();
        let linked_ids: Vec<String> = links.values().cloned().collect();
        if !linked_ids.is_empty() {
            let r = self
                .client
                .batch_read(m.object, None, &linked_ids, &props)
                .await?;
            by_id.extend(r.results.into_iter().map(|o| (o.id.clone(), o)));
        }

        // Unlinked records, and linked ones whose HubSpot record is gone, are
        // matched by key.
        let mut keys: Vec<String> = records
            .iter()
            .filter(|r| links.get(&r.id).is_none_or(|h| !by_id.contains_key(h)))
            .filter_map(|r| m.key_of(r))
            .collect();
        keys.sort();
        keys.dedup();
        let mut by_key: HashMap<String, SimplePublicObject> = HashMap::new();
        if !keys.is_empty() {
            let r = self
                .client
                .batch_read(m.object, Some(&m.key_property), &keys, &props)
                .await?;
            for o in r.results {
                if let Some(k) = o.prop(&m.key_property).map(email_key) {
                    by_key.insert(k, o);
                }
            }
        }
        let found: Vec<String> = by_key.values().map(|o| o.id.clone()).collect();
        let linked_hubspot = self.store.app_ids_for(m.object, &found)?;

        let mut decisions = plan(&PlanInput {
            mapping: m,
            records: &records,
            links: &links,
            by_id: &by_id,
            by_key: &by_key,
            linked_hubspot: &linked_hubspot,
            may_create: true,
        });
        if report_in_step {
            for r in &records {
                if !decisions.iter().any(|d| d.app_id() == r.id)
                    && let Some(h) = links.get(&r.id)
                {
                    decisions.push(Decision::InStep {
                        app_id: r.id.clone(),
                        hubspot_id: h.clone(),
                    });
                }
            }
        }
        let exec = Executor {
            client: self.client,
            store: self.store,
            app: self.app,
            mapping: m,
            job_id: self.job_id,
            direction: DIRECTION,
        };
        let by_app_id: HashMap<String, AppRecord> =
            records.into_iter().map(|r| (r.id.clone(), r)).collect();
        exec.run(&by_app_id, decisions).await
    }
}

fn add(t: &mut Tally, more: Tally) {
    t.succeeded += more.succeeded;
    t.failed += more.failed;
    t.skipped += more.skipped;
}
