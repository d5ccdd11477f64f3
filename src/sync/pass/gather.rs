//! What a batch plans against, read before planning: both sides of every
//! link, the candidates found by key, the links, tombstones and merges of
//! every record read. Shared by a pass and by a dry plan of one record
//! (the console's "what would a sync write now"), which reads the same
//! but writes nothing: it leaves unconfirmed writes unsettled and a lost
//! HubSpot id unwritten.

use super::lookups::CompanyMaps;
use super::{Pass, unchanged};
use crate::appdb::AppRecord;
use crate::hubspot::MAX_BATCH;
use crate::hubspot::wire::SimplePublicObject;
use crate::model::{Direction, ObjectKind, RecordRef};
use crate::sync::execute::ExecError;
use crate::sync::mapping::{ObjectMapping, key_norm};
use crate::sync::plan::{CompanyLinks, Decision, Link, PlanInput, plan};
use crate::sync::rules::SyncRules;
use std::collections::{HashMap, HashSet};

/// Everything one batch's plan needs, read.
pub(super) struct Gathered {
    pub links: Vec<Link>,
    pub unlinked_app: Vec<String>,
    pub unlinked_hubspot: Vec<String>,
    pub app: HashMap<String, AppRecord>,
    pub hubspot: HashMap<String, SimplePublicObject>,
    pub app_links: HashMap<String, String>,
    pub hubspot_links: HashMap<String, String>,
    pub tombstones: HashSet<String>,
    pub merged: HashMap<String, String>,
    pub companies: Option<CompanyMaps>,
    /// Planned again against records a create's 409 found.
    pub replanning: bool,
}

impl Gathered {
    /// The plan; each record in `report` gets a decision even in step.
    pub fn decide(
        &self,
        m: &ObjectMapping,
        rules: &SyncRules,
        report: &[RecordRef],
    ) -> Vec<Decision> {
        let mut decisions = plan(&PlanInput {
            mapping: m,
            rules,
            pairs: &self.links,
            unlinked_app: &self.unlinked_app,
            unlinked_hubspot: &self.unlinked_hubspot,
            app: &self.app,
            hubspot: &self.hubspot,
            app_links: &self.app_links,
            hubspot_links: &self.hubspot_links,
            tombstones: &self.tombstones,
            merged: &self.merged,
            companies: self.companies.as_ref().map(|c| CompanyLinks {
                associations: &c.associations,
                by_app: &c.by_app,
                by_hubspot: &c.by_hubspot,
            }),
        });
        // A record asked for by name gets an outcome even when nothing is
        // to write: its link is in step.
        for r in report {
            let mentioned = |d: &Decision| match r {
                RecordRef::App(id) => d.app_id() == Some(id),
                RecordRef::HubSpot(id) => d.hubspot_id() == Some(id),
            };
            let its_link = self.links.iter().find(|l| match r {
                RecordRef::App(id) => &l.app_id == id,
                RecordRef::HubSpot(id) => &l.hubspot_id == id,
            });
            if !decisions.iter().any(mentioned)
                && let Some(l) = its_link.or(self.links.first().filter(|_| report.len() == 1))
            {
                decisions.push(Decision::InStep {
                    app_id: l.app_id.clone(),
                    hubspot_id: l.hubspot_id.clone(),
                });
            }
        }
        decisions
    }
}

impl Pass<'_> {
    /// Reads what a batch plans against: `app` and `hubspot` are records
    /// from the change feeds, `links` pairs to settle whatever the feeds
    /// say; `report` keeps in-step records in (an operator asked about
    /// them); `known` are HubSpot records a create's 409 found. `dry`
    /// writes nothing.
    pub(super) async fn gather(
        &self,
        app: Vec<AppRecord>,
        hubspot: Vec<SimplePublicObject>,
        mut links: Vec<Link>,
        report: bool,
        known: Option<Vec<SimplePublicObject>>,
        dry: bool,
    ) -> Result<Gathered, ExecError> {
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
            let skip = !report
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
        if !dry {
            self.settle_intents(&mut links, &hubspot).await?;
        }
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
        // A dry plan writes nothing; the rows are taken as if written back.
        let written = if dry {
            lost.iter().map(|_| Ok(())).collect()
        } else {
            self.app.set_hubspot_ids(m, &lost).await?
        };
        for ((app_id, hubspot_id), result) in lost.into_iter().zip(written) {
            result?;
            if !dry {
                tracing::info!(object = %o, app_id = %app_id, hubspot_id = %hubspot_id,
                "HubSpot id written back to the app again (lost in an interrupted link)");
            }
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

        Ok(Gathered {
            links,
            unlinked_app,
            unlinked_hubspot,
            app,
            hubspot,
            app_links,
            hubspot_links,
            tombstones,
            merged,
            companies,
            replanning,
        })
    }
}
