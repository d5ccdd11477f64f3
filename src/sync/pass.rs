//! One sync pass over one object: read what changed on each side since its
//! cursor, a batch at a time; read what the other side holds for that batch
//! (linked partners by id, the rest by key, all in batches); plan; apply;
//! and only then move the cursor.
//!
//! Moving a cursor after its batch is applied is what makes a crash safe: a
//! batch interrupted half-way is read again, and since every unlinked record
//! is first matched (by key, or by the HubSpot id the app row carries), and
//! every link remembers what both sides held, nothing is created twice and
//! nothing is written back as a change.

use super::execute::{ExecError, Executor, Records, Tally};
use super::mapping::ObjectMapping;
use super::plan::Link;
use super::rules::SyncRules;
use crate::appdb::{AppCursor, AppDb, AppRecord};
use crate::hubspot::wire::SimplePublicObject;
use crate::hubspot::{HubSpotClient, MAX_BATCH};
use crate::model::{Direction, ObjectKind, RecordRef};
use crate::store::Store;
use serde::{Deserialize, Serialize};
use sha2::Digest;

/// What a pass covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// Every record changed since the cursors.
    Changes,
    /// One record, whatever the cursors say (an operator's retry, a webhook).
    Record(RecordRef),
    /// The HubSpot records a burst of webhook events named (by id).
    Records(Vec<String>),
    /// Records an operator retries together (a class of FAILED entries,
    /// or a selection), in batches; each gets an audit entry.
    Selection(Vec<RecordRef>),
    /// Every link, to find records deleted or merged on either side.
    Scan,
}

/// How far a pass has got, for the job's progress gauge.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    pub done: u64,
    pub total: u64,
    pub tally: Tally,
}

/// A stored cursor, tagged with the configuration it was read under: when
/// mappings or filters change, records that were not eligible may be now,
/// so the pass starts over from the beginning.
#[derive(Debug, Serialize, Deserialize)]
struct Stored<T> {
    config: String,
    at: T,
}

pub struct Pass<'a> {
    pub client: &'a HubSpotClient,
    pub store: &'a Store,
    pub app: &'a AppDb,
    pub mapping: &'a ObjectMapping,
    pub rules: &'a SyncRules,
    pub batch_size: usize,
    pub job_id: i64,
}

/// A short fingerprint of what decides eligibility and values.
pub fn config_fingerprint(m: &ObjectMapping, rules: &SyncRules) -> String {
    let digest = sha2::Sha256::digest(format!("{m:?}|{rules:?}").as_bytes());
    digest[..8].iter().map(|b| format!("{b:02x}")).collect()
}

impl Pass<'_> {
    fn size(&self) -> usize {
        self.batch_size.clamp(1, MAX_BATCH)
    }

    fn object(&self) -> ObjectKind {
        self.mapping.object
    }

    async fn cursor<T: for<'de> Deserialize<'de>>(
        &self,
        way: Direction,
    ) -> anyhow::Result<Option<T>> {
        let Some(s) = self.store.cursor(self.object(), way).await? else {
            return Ok(None);
        };
        match serde_json::from_str::<Stored<T>>(&s) {
            Ok(c) if c.config == config_fingerprint(self.mapping, self.rules) => Ok(Some(c.at)),
            Ok(_) => {
                tracing::info!(object = %self.object(), direction = %way,
                    "mapping or filters changed since the last pass: reading every record again");
                Ok(None)
            }
            // A cursor of an older hubsync: start over, which is safe.
            Err(_) => Ok(None),
        }
    }

    async fn set_cursor<T: Serialize>(&self, way: Direction, at: T) -> anyhow::Result<()> {
        let s = serde_json::to_string(&Stored {
            config: config_fingerprint(self.mapping, self.rules),
            at,
        })?;
        self.store.set_cursor(self.object(), way, &s).await
    }

    /// Runs the pass, calling `on_progress` after each batch.
    pub async fn run(
        &self,
        scope: Scope,
        mut on_progress: impl FnMut(Progress),
    ) -> Result<Progress, ExecError> {
        let mut progress = Progress::default();
        match scope {
            Scope::Record(r) => {
                progress.total = 1;
                on_progress(progress);
                let t = self.one(r).await?;
                progress.done = 1;
                add(&mut progress.tally, t);
                on_progress(progress);
            }
            Scope::Records(ids) => self.records(ids, &mut progress, &mut on_progress).await?,
            Scope::Selection(refs) => {
                self.selection(refs, &mut progress, &mut on_progress)
                    .await?
            }
            Scope::Changes => {
                // A first pass both ways reads HubSpot first: its records
                // find their app partners by key in the app's own database,
                // at no call, where app records would each need HubSpot's
                // answer to find theirs.
                let both =
                    self.rules.flows(Direction::ToHubSpot) && self.rules.flows(Direction::ToApp);
                let first = both
                    && self
                        .cursor::<serde_json::Value>(Direction::ToApp)
                        .await?
                        .is_none();
                if first {
                    self.hubspot_changes(&mut progress, &mut on_progress, 0)
                        .await?;
                }
                // Progress counts both sides from the start: while the app's
                // rows are written, HubSpot's changes still to come are in
                // the total (estimated by one search, only when the app
                // side has work, so an idle pass stays at one call).
                let mut estimated = 0;
                if both && !first && self.app_has_changes().await? {
                    estimated = self.hubspot_estimate().await?;
                    progress.total += estimated;
                }
                if self.rules.flows(Direction::ToHubSpot) {
                    self.app_changes(&mut progress, &mut on_progress).await?;
                }
                if self.rules.flows(Direction::ToApp) && !first {
                    self.hubspot_changes(&mut progress, &mut on_progress, estimated)
                        .await?;
                }
            }
            Scope::Scan => {
                let mut after = String::new();
                progress.total = self.store.link_count(self.object()).await?;
                on_progress(progress);
                loop {
                    let links = self
                        .store
                        .links_after(self.object(), &after, self.size())
                        .await?;
                    let Some(last) = links.last() else { break };
                    after = last.app_id.clone();
                    let n = links.len() as u64;
                    let t = self.batch(vec![], vec![], links, &[]).await?;
                    progress.done += n;
                    progress.total = progress.total.max(progress.done);
                    add(&mut progress.tally, t);
                    on_progress(progress);
                }
            }
        }
        Ok(progress)
    }

    /// One record, by either side's id. A record with nothing to write
    /// still gets an audit entry, so an operator's retry always has an
    /// outcome (and closes the record's open failure).
    async fn one(&self, r: RecordRef) -> Result<Tally, ExecError> {
        let (app, hubspot, links) = self.read_one(&r).await?;
        self.batch(app, hubspot, links, std::slice::from_ref(&r))
            .await
    }

    async fn app_has_changes(&self) -> Result<bool, ExecError> {
        let stored: Option<AppCursor> = self.cursor(Direction::ToHubSpot).await?;
        Ok(self
            .app
            .count_changed_since(self.mapping, stored.as_ref())
            .await?
            > 0)
    }

    /// App rows changed since the app cursor, oldest first.
    async fn app_changes(
        &self,
        progress: &mut Progress,
        on_progress: &mut impl FnMut(Progress),
    ) -> Result<(), ExecError> {
        let m = self.mapping;
        // Back by the overlap: rows committed late behind the last pass's
        // cursor are read now; the ones it already had are skipped.
        // The count is of rows past the cursor: the window's rows already
        // handled are skipped, and a late one makes the pass longer.
        let stored: Option<AppCursor> = self.cursor(Direction::ToHubSpot).await?;
        progress.total += self.app.count_changed_since(m, stored.as_ref()).await?;
        let mut cursor = self.app.rewind(stored);
        on_progress(*progress);
        loop {
            let page = self.app.changes(m, cursor.as_ref(), self.size()).await?;
            if page.rows.is_empty() {
                break;
            }
            let n = page.rows.len() as u64;
            let t = self.batch(page.rows, vec![], vec![], &[]).await?;
            if let Some(next) = &page.next {
                self.set_cursor(Direction::ToHubSpot, next).await?;
            }
            cursor = page.next;
            progress.done += n;
            // Rows changed during the pass make it longer than counted.
            progress.total = progress.total.max(progress.done);
            add(&mut progress.tally, t);
            on_progress(*progress);
        }
        Ok(())
    }

    /// The HubSpot properties a pass reads: the mapped ones, the ones the
    /// to-app filters test, and the merge trail.
    fn properties(&self) -> Vec<&str> {
        let mut props = self.mapping.hubspot_properties();
        for p in self.rules.filters_to_app.fields() {
            if !props.contains(&p) {
                props.push(p);
            }
        }
        if self.object() != ObjectKind::Deals {
            props.push("hs_merged_object_ids");
        }
        if self.mapping.email_key_index().is_some() {
            props.push(crate::sync::mapping::ADDITIONAL_EMAILS);
        }
        props
    }

    /// Plans and applies one batch: `app` and `hubspot` are records from
    /// the change feeds, `links` pairs to settle whatever the feeds say.
    /// The records in `report` get an outcome even when in step.
    async fn batch(
        &self,
        app: Vec<AppRecord>,
        hubspot: Vec<SimplePublicObject>,
        links: Vec<Link>,
        report: &[RecordRef],
    ) -> Result<Tally, ExecError> {
        self.batch_with(app, hubspot, links, report, None).await
    }

    /// Whether unlinked app contacts are sent as creates without looking
    /// their emails up first: HubSpot refuses a second contact with an
    /// email (409), and that refusal is the lookup, at no call when the
    /// email is new. Only where every unmatched record would be created:
    /// otherwise a match found by email is what the pass is for.
    fn creates_find_emails(&self) -> bool {
        self.object() == ObjectKind::Contacts
            && self.rules.create_in_hubspot
            && self.rules.filters_to_hubspot.is_empty()
    }

    /// [`Pass::batch`], with `known`: HubSpot records already found to hold
    /// the keys of these app records (by a create's 409), planned against
    /// instead of looking the keys up.
    async fn batch_with(
        &self,
        app: Vec<AppRecord>,
        hubspot: Vec<SimplePublicObject>,
        links: Vec<Link>,
        report: &[RecordRef],
        known: Option<Vec<SimplePublicObject>>,
    ) -> Result<Tally, ExecError> {
        let m = self.mapping;
        let g = self
            .gather(app, hubspot, links, !report.is_empty(), known, false)
            .await?;
        let decisions = g.decide(m, self.rules, report);
        let (replanning, app, hubspot) = (g.replanning, g.app, g.hubspot);
        let mut exec = Executor::new(self.client, self.store, self.app, m, self.job_id);
        exec.defer_conflicts = !replanning && self.creates_find_emails();
        let mut tally = exec
            .run(
                &Records {
                    app: &app,
                    hubspot: &hubspot,
                },
                decisions,
            )
            .await?;
        let deferred = exec.take_deferred();
        if !deferred.app_ids.is_empty() {
            // Contacts whose email HubSpot already holds: planned again
            // against those records, so they are linked by the rules
            // (which side wins) rather than overwritten by the create.
            let again: Vec<AppRecord> = deferred
                .app_ids
                .iter()
                .filter_map(|a| app.get(a).cloned())
                .collect();
            let t =
                Box::pin(self.batch_with(again, vec![], vec![], &[], Some(deferred.found))).await?;
            add(&mut tally, t);
        }
        Ok(tally)
    }
}

mod dry;
mod gather;
mod hubspot_feed;
mod intents;
mod interrupted;
mod lookups;
mod records;
mod selection;
mod unchanged;

fn add(t: &mut Tally, more: Tally) {
    t.succeeded += more.succeeded;
    t.failed += more.failed;
    t.skipped += more.skipped;
}
