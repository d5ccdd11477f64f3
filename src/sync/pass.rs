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
use super::mapping::{ObjectMapping, key_norm};
use super::plan::{CompanyLinks, Decision, Link, PlanInput, plan};
use super::rules::SyncRules;
use crate::appdb::{AppCursor, AppDb, AppRecord};
use crate::hubspot::wire::{Filter, FilterGroup, SearchRequest, SimplePublicObject};
use crate::hubspot::{HubSpotClient, MAX_BATCH};
use crate::model::{Direction, ObjectKind, RecordRef};
use crate::store::Store;
use serde::{Deserialize, Serialize};
use sha2::Digest;
use std::collections::{HashMap, HashSet};

/// What a pass covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// Every record changed since the cursors.
    Changes,
    /// One record, whatever the cursors say (an operator's retry, a webhook).
    Record(RecordRef),
    /// The HubSpot records a burst of webhook events named (by id).
    Records(Vec<String>),
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
                    self.hubspot_changes(&mut progress, &mut on_progress)
                        .await?;
                }
                if self.rules.flows(Direction::ToHubSpot) {
                    self.app_changes(&mut progress, &mut on_progress).await?;
                }
                if self.rules.flows(Direction::ToApp) && !first {
                    self.hubspot_changes(&mut progress, &mut on_progress)
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
                    let t = self.batch(vec![], vec![], links, None).await?;
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
        match r {
            RecordRef::App(id) => {
                let rec = self.app.get(self.mapping, &id).await?;
                let links = match rec {
                    Some(_) => vec![],
                    // Deleted since: its link (if any) is what is left to settle.
                    None => {
                        self.store
                            .links_of_app(self.object(), std::slice::from_ref(&id))
                            .await?
                    }
                };
                if rec.is_none() && links.is_empty() {
                    return Err(anyhow::anyhow!(
                        "app {} record {id} no longer exists",
                        self.mapping.table
                    )
                    .into());
                }
                self.batch(
                    rec.into_iter().collect(),
                    vec![],
                    links,
                    Some(RecordRef::App(id)),
                )
                .await
            }
            RecordRef::HubSpot(id) => {
                let (found, _) = self.read_by_id(std::slice::from_ref(&id)).await?;
                let found: Vec<SimplePublicObject> =
                    found.into_iter().filter(|o| o.id == id).collect();
                let links = self
                    .store
                    .links_of_hubspot(self.object(), std::slice::from_ref(&id))
                    .await?;
                if found.is_empty() && links.is_empty() {
                    return Err(anyhow::anyhow!(
                        "HubSpot {} {id} no longer exists and is not linked",
                        self.object()
                    )
                    .into());
                }
                self.batch(vec![], found, links, Some(RecordRef::HubSpot(id)))
                    .await
            }
        }
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
            let t = self.batch(page.rows, vec![], vec![], None).await?;
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

    /// Reads HubSpot records by id, at most 100 per call. A merged-away id
    /// answers with its survivor: those come back as (old id → survivor).
    async fn read_by_id(
        &self,
        ids: &[String],
    ) -> Result<(Vec<SimplePublicObject>, HashMap<String, String>), ExecError> {
        let props = self.properties();
        let mut found = Vec::new();
        let mut merged = HashMap::new();
        for chunk in ids.chunks(MAX_BATCH) {
            let r = self
                .client
                .batch_read(self.object(), None, chunk, &props)
                .await?;
            let returned: HashSet<&str> = r.results.iter().map(|o| o.id.as_str()).collect();
            for id in chunk.iter().filter(|id| !returned.contains(id.as_str())) {
                if let Some(o) = r.results.iter().find(|o| {
                    o.prop("hs_merged_object_ids")
                        .is_some_and(|m| m.split(';').any(|x| x.trim() == id))
                }) {
                    merged.insert(id.clone(), o.id.clone());
                }
            }
            found.extend(r.results);
        }
        Ok((found, merged))
    }

    /// HubSpot records whose key `index` is one of `keys`: by batch read on
    /// a unique property (contacts' email), else by search.
    async fn hubspot_by_key(
        &self,
        index: usize,
        keys: &[String],
    ) -> Result<Vec<SimplePublicObject>, ExecError> {
        let prop = &self.mapping.keys[index].hubspot_property;
        let props = self.properties();
        let mut out = Vec::new();
        for chunk in keys.chunks(MAX_BATCH) {
            if self.object() == ObjectKind::Contacts && prop == "email" {
                let r = self
                    .client
                    .batch_read(self.object(), Some(prop), chunk, &props)
                    .await?;
                out.extend(r.results);
                continue;
            }
            let mut after = 0u32;
            loop {
                let req = SearchRequest {
                    filter_groups: vec![FilterGroup {
                        filters: vec![Filter {
                            property_name: prop.clone(),
                            operator: "IN".into(),
                            value: None,
                            high_value: None,
                            values: Some(chunk.to_vec()),
                        }],
                    }],
                    properties: props.iter().map(|p| p.to_string()).collect(),
                    limit: 200,
                    after: after.to_string(),
                    ..Default::default()
                };
                let page = self.client.search(self.object(), &req).await?;
                let n = page.results.len() as u32;
                out.extend(page.results);
                if n == 0 || page.paging.and_then(|p| p.next).is_none() {
                    break;
                }
                after += n;
            }
        }
        Ok(out)
    }

    /// The company associations of these contacts and the company links
    /// both sides of them need.
    async fn company_maps(
        &self,
        column: &str,
        app: &HashMap<String, AppRecord>,
        hubspot: &HashMap<String, SimplePublicObject>,
    ) -> Result<CompanyMaps, ExecError> {
        let mut associations: HashMap<String, Vec<String>> = HashMap::new();
        let ids: Vec<String> = hubspot.keys().cloned().collect();
        for chunk in ids.chunks(1000) {
            let r = self
                .client
                .associations(ObjectKind::Contacts, ObjectKind::Companies, chunk)
                .await?;
            for a in r.results {
                associations.insert(
                    a.from.id.into_string(),
                    a.to.into_iter()
                        .map(|t| t.to_object_id.into_string())
                        .collect(),
                );
            }
        }
        let mut app_companies: Vec<String> = app
            .values()
            .filter_map(|r| r.field(column).map(str::to_string))
            .collect();
        app_companies.sort();
        app_companies.dedup();
        let mut hubspot_companies: Vec<String> = associations.values().flatten().cloned().collect();
        hubspot_companies.sort();
        hubspot_companies.dedup();
        Ok(CompanyMaps {
            associations,
            by_app: self
                .store
                .links_for(ObjectKind::Companies, &app_companies)
                .await?,
            by_hubspot: self
                .store
                .app_ids_for(ObjectKind::Companies, &hubspot_companies)
                .await?,
        })
    }

    /// Plans and applies one batch: `app` and `hubspot` are records from
    /// the change feeds, `links` pairs to settle whatever the feeds say.
    /// With `report`, that record gets an outcome even when in step.
    async fn batch(
        &self,
        app: Vec<AppRecord>,
        hubspot: Vec<SimplePublicObject>,
        links: Vec<Link>,
        report: Option<RecordRef>,
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
        mut links: Vec<Link>,
        report: Option<RecordRef>,
        known: Option<Vec<SimplePublicObject>>,
    ) -> Result<Tally, ExecError> {
        let m = self.mapping;
        let o = self.object();
        let app_feed: Vec<String> = app.iter().map(|r| r.id.clone()).collect();
        let hubspot_feed: Vec<String> = hubspot.iter().map(|r| r.id.clone()).collect();
        let mut app: HashMap<String, AppRecord> =
            app.into_iter().map(|r| (r.id.clone(), r)).collect();
        let mut hubspot: HashMap<String, SimplePublicObject> =
            hubspot.into_iter().map(|r| (r.id.clone(), r)).collect();

        let mut app_feed = app_feed;
        for l in self.store.links_of_app(o, &app_feed).await? {
            let skip = report.is_none()
                && known.is_none()
                && app
                    .get(&l.app_id)
                    .is_some_and(|r| unchanged::app_unchanged(m, self.rules, r, &l));
            if skip {
                app_feed.retain(|a| a != &l.app_id);
                app.remove(&l.app_id);
            } else {
                links.push(l);
            }
        }
        links.extend(self.store.links_of_hubspot(o, &hubspot_feed).await?);
        let mut seen = HashSet::new();
        links.retain(|l| seen.insert(l.app_id.clone()));
        self.link_interrupted_creates(&mut links, &mut app, &hubspot_feed)
            .await?;

        // Both sides of every link, read in batches.
        let want_app: Vec<String> = links
            .iter()
            .filter(|l| !app.contains_key(&l.app_id))
            .map(|l| l.app_id.clone())
            .collect();
        for r in self.app.get_many(m, &want_app).await? {
            app.insert(r.id.clone(), r);
        }
        let linked_app_ids: HashSet<&str> = links.iter().map(|l| l.app_id.as_str()).collect();
        let mut want_hubspot: Vec<String> = links
            .iter()
            .filter(|l| !hubspot.contains_key(&l.hubspot_id))
            .map(|l| l.hubspot_id.clone())
            .collect();
        // Unlinked rows that carry a HubSpot id: the planner follows it or
        // drops it, so it must know whether that record exists.
        want_hubspot.extend(
            app_feed
                .iter()
                .filter(|a| !linked_app_ids.contains(a.as_str()))
                .filter_map(|a| app.get(a)?.hubspot_id.clone())
                // HubSpot ids are numbers; anything else cannot exist there.
                .filter(|h| !h.is_empty() && h.bytes().all(|b| b.is_ascii_digit()))
                .filter(|h| !hubspot.contains_key(h)),
        );
        want_hubspot.sort();
        want_hubspot.dedup();
        let (partners, merged) = self.read_by_id(&want_hubspot).await?;
        for r in partners {
            hubspot.entry(r.id.clone()).or_insert(r);
        }
        self.settle_intents(&mut links, &hubspot).await?;
        // A link is stored in the state database before its HubSpot id is
        // written back to the app row (two databases, no shared
        // transaction): a crash in between leaves the row without the id,
        // and a pair in step plans nothing that would write it. Every pair
        // whose HubSpot record still exists gets it back here.
        let lost: Vec<(String, String)> = links
            .iter()
            .filter(|l| {
                app.get(&l.app_id).is_some_and(|r| {
                    r.hubspot_id.as_deref() != Some(l.hubspot_id.as_str())
                        && hubspot.contains_key(&l.hubspot_id)
                })
            })
            .map(|l| (l.app_id.clone(), l.hubspot_id.clone()))
            .collect();
        let written = self.app.set_hubspot_ids(m, &lost).await?;
        for ((app_id, hubspot_id), result) in lost.into_iter().zip(written) {
            result?;
            tracing::info!(object = %o, app_id = %app_id, hubspot_id = %hubspot_id,
                "HubSpot id written back to the app again (lost in an interrupted link)");
            if let Some(r) = app.get_mut(&app_id) {
                r.hubspot_id = Some(hubspot_id);
            }
        }

        let linked_app: HashSet<&str> = links.iter().map(|l| l.app_id.as_str()).collect();
        let linked_hubspot: HashSet<&str> = links.iter().map(|l| l.hubspot_id.as_str()).collect();
        let unlinked_app: Vec<String> = app_feed
            .iter()
            .filter(|a| !linked_app.contains(a.as_str()))
            .cloned()
            .collect();
        let unlinked_hubspot: Vec<String> = hubspot_feed
            .iter()
            .filter(|h| !linked_hubspot.contains(h.as_str()))
            .cloned()
            .collect();
        // A link whose HubSpot record is gone leaves its app record to be
        // matched again, so its keys are looked up too.
        let rematch: Vec<&AppRecord> = unlinked_app
            .iter()
            .chain(
                links
                    .iter()
                    .filter(|l| !hubspot.contains_key(&l.hubspot_id))
                    .map(|l| &l.app_id),
            )
            .filter_map(|a| app.get(a))
            .collect();

        // Candidates on the other side: records hubsync created, by the
        // app id they carry (a batch read, current the moment they exist)…
        if let Some(prop) = &m.app_id_property
            && self.rules.flows(Direction::ToHubSpot)
        {
            let ids: Vec<String> = rematch.iter().map(|r| r.id.clone()).collect();
            let props = self.properties();
            for chunk in ids.chunks(MAX_BATCH) {
                let r = self.client.batch_read(o, Some(prop), chunk, &props).await?;
                for found in r.results {
                    hubspot.entry(found.id.clone()).or_insert(found);
                }
            }
        }
        // …then by key.
        let replanning = known.is_some();
        for r in known.into_iter().flatten() {
            hubspot.entry(r.id.clone()).or_insert(r);
        }
        if self.rules.flows(Direction::ToHubSpot) {
            for i in 0..m.keys.len() {
                if m.email_key_index() == Some(i) && (replanning || self.creates_find_emails()) {
                    continue;
                }
                let mut keys: Vec<String> = rematch
                    .iter()
                    .flat_map(|r| m.app_keys(r))
                    .filter(|(k, _)| *k == i)
                    .map(|(_, v)| v)
                    .collect();
                keys.sort();
                keys.dedup();
                if keys.is_empty() {
                    continue;
                }
                for r in self.hubspot_by_key(i, &keys).await? {
                    hubspot.entry(r.id.clone()).or_insert(r);
                }
            }
        }
        if self.rules.flows(Direction::ToApp) && !unlinked_hubspot.is_empty() {
            for r in self.app.find_by_hubspot_ids(m, &unlinked_hubspot).await? {
                app.entry(r.id.clone()).or_insert(r);
            }
            if let Some(prop) = &m.app_id_property {
                let carried: Vec<String> = unlinked_hubspot
                    .iter()
                    .filter_map(|h| hubspot.get(h)?.prop(prop).map(str::to_string))
                    .collect();
                for r in self.app.get_many(m, &carried).await? {
                    app.entry(r.id.clone()).or_insert(r);
                }
            }
            for (i, k) in m.keys.iter().enumerate() {
                let mut keys: Vec<String> = unlinked_hubspot
                    .iter()
                    .filter_map(|h| hubspot.get(h))
                    .flat_map(|o| m.hubspot_keys(o))
                    .filter(|(x, _)| *x == i)
                    .map(|(_, v)| key_norm(&v))
                    .collect();
                keys.sort();
                keys.dedup();
                for r in self.app.find_by_keys(m, &k.app_column, &keys).await? {
                    app.entry(r.id.clone()).or_insert(r);
                }
            }
        }

        let all_app: Vec<String> = app.keys().cloned().collect();
        let all_hubspot: Vec<String> = hubspot.keys().cloned().collect();
        let app_links = self.store.links_for(o, &all_app).await?;
        let hubspot_links = self.store.app_ids_for(o, &all_hubspot).await?;
        let tombstones = self.store.tombstones_among(o, &unlinked_hubspot).await?;
        let companies = match &m.company_column {
            Some(column) if o == ObjectKind::Contacts => {
                Some(self.company_maps(column, &app, &hubspot).await?)
            }
            _ => None,
        };

        let mut decisions = plan(&PlanInput {
            mapping: m,
            rules: self.rules,
            pairs: &links,
            unlinked_app: &unlinked_app,
            unlinked_hubspot: &unlinked_hubspot,
            app: &app,
            hubspot: &hubspot,
            app_links: &app_links,
            hubspot_links: &hubspot_links,
            tombstones: &tombstones,
            merged: &merged,
            companies: companies.as_ref().map(|c| CompanyLinks {
                associations: &c.associations,
                by_app: &c.by_app,
                by_hubspot: &c.by_hubspot,
            }),
        });
        if let Some(r) = report {
            let mentioned = |d: &Decision| match &r {
                RecordRef::App(id) => d.app_id() == Some(id),
                RecordRef::HubSpot(id) => d.hubspot_id() == Some(id),
            };
            if !decisions.iter().any(mentioned)
                && let Some(l) = links.first()
            {
                decisions.push(Decision::InStep {
                    app_id: l.app_id.clone(),
                    hubspot_id: l.hubspot_id.clone(),
                });
            }
        }
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
            let t = Box::pin(self.batch_with(again, vec![], vec![], None, Some(deferred.found)))
                .await?;
            add(&mut tally, t);
        }
        Ok(tally)
    }
}

/// Owned company maps for [`CompanyLinks`].
struct CompanyMaps {
    associations: HashMap<String, Vec<String>>,
    by_app: HashMap<String, String>,
    by_hubspot: HashMap<String, String>,
}

mod hubspot_feed;
mod intents;
mod interrupted;
mod records;
mod unchanged;

fn add(t: &mut Tally, more: Tally) {
    t.succeeded += more.succeeded;
    t.failed += more.failed;
    t.skipped += more.skipped;
}
