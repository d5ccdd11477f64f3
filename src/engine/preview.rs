//! What a config change would do, computed without writing anything
//! (`config_preview`), and what applying it records (`config_apply`):
//!
//! - per object and direction, how many records become eligible or
//!   excluded: the app side exactly, every row judged by the sync's own
//!   filter code; the HubSpot side by HubSpot's search total where the
//!   filters can be pushed down (an estimate when some cannot);
//! - how many linked records would get a write because of the change, and
//!   in which fields, judged against the link memory (what both sides held
//!   at the last sync, not a fresh read of HubSpot);
//! - one record's values before → after on both sides.

use super::Engine;
use crate::appdb::{AppRecord, FilterCounts};
use crate::hubspot::wire::{SearchRequest, SimplePublicObject};
use crate::model::{Direction, ObjectKind};
use crate::sync::filter::Filters;
use crate::sync::mapping::ObjectMapping;
use crate::sync::rules::ObjectSync;
use crate::sync::transform::same_value;
use serde::Serialize;
use std::collections::BTreeMap;
use std::time::Instant;

/// Links read per page while walking them.
const LINK_PAGE: usize = 2_000;

#[derive(Debug, Clone, Serialize, Default)]
pub struct Preview {
    pub objects: Vec<ObjectPreview>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub record: Option<RecordPreview>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ObjectPreview {
    pub object: ObjectKind,
    /// App rows eligible to flow to HubSpot, before and after (exact).
    pub to_hubspot: Option<FilterCounts>,
    /// HubSpot records eligible to flow to the app, before and after.
    pub to_app: Option<HubSpotCounts>,
    pub linked: LinkedWrites,
    /// Where the time went, in milliseconds.
    pub took_ms: PhaseTimes,
}

/// A preview's time per part, in milliseconds.
#[derive(Debug, Clone, Copy, Serialize, Default)]
pub struct PhaseTimes {
    pub app_count: u64,
    pub hubspot_count: u64,
    pub linked: u64,
}

#[derive(Debug, Clone, Serialize, Default)]
pub struct HubSpotCounts {
    pub before: Option<u64>,
    pub after: Option<u64>,
    /// True when some filter could not be pushed into HubSpot's search, so
    /// the totals count more records than the sync will take.
    pub estimate: bool,
    pub note: String,
}

/// Linked records the change would write, by side and field.
#[derive(Debug, Clone, Serialize, Default)]
pub struct LinkedWrites {
    /// Always "link memory": the values both sides held at the last sync.
    pub source: &'static str,
    pub checked: u64,
    pub to_hubspot_records: u64,
    /// HubSpot property → how many linked records it would be written in.
    pub to_hubspot_fields: BTreeMap<String, u64>,
    pub to_app_records: u64,
    /// App column → how many linked rows it would be written in.
    pub to_app_fields: BTreeMap<String, u64>,
    /// Why no linked record was checked, when none needed to be.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_checked: Option<&'static str>,
}

/// One record under the running and the new config.
#[derive(Debug, Clone, Serialize, Default)]
pub struct RecordPreview {
    pub object: Option<ObjectKind>,
    pub app_id: String,
    pub hubspot_id: Option<String>,
    /// The HubSpot values the app row maps to, running config → new.
    pub hubspot_before: BTreeMap<String, String>,
    pub hubspot_after: BTreeMap<String, String>,
    /// The app values the HubSpot record maps to, running config → new.
    pub app_before: BTreeMap<String, String>,
    pub app_after: BTreeMap<String, String>,
    pub eligible_before: bool,
    pub eligible_after: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub excluded_by: Option<String>,
}

/// A mapping that reads every column either config's filters need.
pub(super) fn reading_both(new: &ObjectMapping, old: Option<&ObjectMapping>) -> ObjectMapping {
    let mut m = new.clone();
    if let Some(old) = old {
        for f in &old.fields {
            if !f
                .app_columns
                .iter()
                .all(|c| m.app_columns().contains(&c.as_str()))
            {
                m.fields.push(f.clone());
            }
        }
    }
    m
}

fn eligible(o: Option<&ObjectSync>, way: Direction) -> Filters {
    match o {
        None => Filters::new(vec![]).unwrap_or_default(),
        Some(o) if way == Direction::ToHubSpot => o.rules.filters_to_hubspot.clone(),
        Some(o) => o.rules.filters_to_app.clone(),
    }
}

pub(super) fn memory_object(id: &str, memory: &BTreeMap<String, String>) -> SimplePublicObject {
    SimplePublicObject {
        id: id.to_string(),
        properties: memory
            .iter()
            .map(|(k, v)| (k.clone(), Some(v.clone())))
            .collect(),
        created_at: None,
        updated_at: None,
        archived: false,
    }
}

impl Engine {
    /// What replacing the running objects with `new` would do; nothing
    /// is written, here or in HubSpot.
    pub async fn preview(
        &self,
        new: &[ObjectSync],
        record: Option<(ObjectKind, String)>,
    ) -> anyhow::Result<Preview> {
        let running = self.objects();
        let mut out = Preview::default();
        for n in new {
            let kind = n.mapping.object;
            let old = running.iter().find(|o| o.mapping.object == kind);
            out.objects.push(self.preview_object(old, n).await?);
        }
        if let Some((kind, app_id)) = record {
            let n = new.iter().find(|o| o.mapping.object == kind);
            let old = running.iter().find(|o| o.mapping.object == kind);
            out.record = Some(self.preview_record(old, n, kind, &app_id).await?);
        }
        Ok(out)
    }

    async fn preview_object(
        &self,
        old: Option<&ObjectSync>,
        n: &ObjectSync,
    ) -> anyhow::Result<ObjectPreview> {
        let kind = n.mapping.object;
        let ms = |t: Instant| t.elapsed().as_millis() as u64;
        let mut took = PhaseTimes::default();
        let t = Instant::now();
        let to_hubspot = if n.rules.flows(Direction::ToHubSpot) {
            let m = reading_both(&n.mapping, old.map(|o| &o.mapping));
            Some(
                self.app
                    .count_matching(
                        &m,
                        &eligible(old, Direction::ToHubSpot),
                        &eligible(Some(n), Direction::ToHubSpot),
                    )
                    .await?,
            )
        } else {
            None
        };
        took.app_count = ms(t);
        let t = Instant::now();
        let to_app = if n.rules.flows(Direction::ToApp) {
            Some(
                self.hubspot_counts(
                    kind,
                    &eligible(old, Direction::ToApp),
                    &eligible(Some(n), Direction::ToApp),
                )
                .await,
            )
        } else {
            None
        };
        took.hubspot_count = ms(t);
        let t = Instant::now();
        let linked = self.linked_writes(old, n).await?;
        took.linked = ms(t);
        Ok(ObjectPreview {
            object: kind,
            to_hubspot,
            to_app,
            linked,
            took_ms: took,
        })
    }

    async fn hubspot_total(&self, kind: ObjectKind, f: &Filters) -> (Option<u64>, bool) {
        let exact = f
            .groups()
            .iter()
            .flat_map(|g| g.filters())
            .all(|x| x.op().pushable());
        if f.is_empty() {
            return (self.client.count(kind).await.ok(), false);
        }
        let Some(groups) = f.to_search_groups() else {
            return (self.client.count(kind).await.ok(), true);
        };
        let req = SearchRequest {
            filter_groups: groups,
            limit: 1,
            properties: vec!["hs_object_id".into()],
            ..Default::default()
        };
        (
            self.client.search(kind, &req).await.ok().map(|p| p.total),
            !exact,
        )
    }

    async fn hubspot_counts(
        &self,
        kind: ObjectKind,
        before: &Filters,
        after: &Filters,
    ) -> HubSpotCounts {
        let (b, eb) = self.hubspot_total(kind, before).await;
        let (a, ea) = self.hubspot_total(kind, after).await;
        let estimate = eb || ea;
        HubSpotCounts {
            before: b,
            after: a,
            estimate,
            note: if b.is_none() || a.is_none() {
                "HubSpot's search could not be asked; the HubSpot side is not counted".into()
            } else if estimate {
                "an estimate: some filters (contains, starts_with, ends_with) cannot be pushed into HubSpot's search, so these totals include records the sync will skip".into()
            } else {
                "HubSpot's search total for the filters".into()
            },
        }
    }

    /// Every linked record, its app row and its memory: the fields the
    /// change (not an edit already pending) would write.
    async fn linked_writes(
        &self,
        old: Option<&ObjectSync>,
        n: &ObjectSync,
    ) -> anyhow::Result<LinkedWrites> {
        let kind = n.mapping.object;
        let mut w = LinkedWrites {
            source: "link memory",
            ..LinkedWrites::default()
        };
        if old.is_some_and(|o| o.mapping == n.mapping) {
            // Each field below counts only where the new mapping writes a
            // value the running one would not: with the same mapping there
            // is none, so the walk over every link is skipped.
            w.not_checked = Some("the mappings are unchanged: the change writes no linked field");
            return Ok(w);
        }
        let m = reading_both(&n.mapping, old.map(|o| &o.mapping));
        let mut after = String::new();
        loop {
            let links = self.store.links_after(kind, &after, LINK_PAGE).await?;
            let Some(last) = links.last() else { break };
            after = last.app_id.clone();
            let ids: Vec<String> = links.iter().map(|l| l.app_id.clone()).collect();
            let rows: BTreeMap<String, AppRecord> = self
                .app
                .get_many(&m, &ids)
                .await?
                .into_iter()
                .map(|r| (r.id.clone(), r))
                .collect();
            for l in &links {
                let Some(row) = rows.get(&l.app_id) else {
                    continue;
                };
                w.checked += 1;
                if n.rules.flows(Direction::ToHubSpot)
                    && n.rules.filters_to_hubspot.matches(|c| row.field(c))
                {
                    let new_vals = n.mapping.to_hubspot(row);
                    let old_vals = old.map(|o| o.mapping.to_hubspot(row)).unwrap_or_default();
                    let changed: Vec<&String> = new_vals
                        .iter()
                        .filter(|(p, v)| {
                            let held = l.memory.get(*p).map_or("", String::as_str);
                            !same_value(v, held) && old_vals.get(*p) != Some(*v)
                        })
                        .map(|(p, _)| p)
                        .collect();
                    if !changed.is_empty() {
                        w.to_hubspot_records += 1;
                    }
                    for p in changed {
                        *w.to_hubspot_fields.entry(p.clone()).or_default() += 1;
                    }
                }
                if n.rules.flows(Direction::ToApp) {
                    let hs = memory_object(&l.hubspot_id, &l.memory);
                    let new_vals = n.mapping.to_app(&hs);
                    let old_vals = old.map(|o| o.mapping.to_app(&hs)).unwrap_or_default();
                    let changed: Vec<&String> = new_vals
                        .iter()
                        .filter(|(c, v)| {
                            !same_value(v, row.field(c).unwrap_or(""))
                                && old_vals.get(*c) != Some(*v)
                        })
                        .map(|(c, _)| c)
                        .collect();
                    if !changed.is_empty() {
                        w.to_app_records += 1;
                    }
                    for c in changed {
                        *w.to_app_fields.entry(c.clone()).or_default() += 1;
                    }
                }
            }
        }
        Ok(w)
    }

    async fn preview_record(
        &self,
        old: Option<&ObjectSync>,
        n: Option<&ObjectSync>,
        kind: ObjectKind,
        app_id: &str,
    ) -> anyhow::Result<RecordPreview> {
        let Some(n) = n else {
            anyhow::bail!("the new config does not sync {kind}");
        };
        let m = reading_both(&n.mapping, old.map(|o| &o.mapping));
        let row = self.app.get(&m, app_id).await?.ok_or_else(|| {
            anyhow::anyhow!(
                "{kind}: no app record with id {app_id} in {}",
                n.mapping.table
            )
        })?;
        let link = self
            .store
            .links_of_app(kind, &[app_id.to_string()])
            .await?
            .into_iter()
            .next();
        let mut p = RecordPreview {
            object: Some(kind),
            app_id: app_id.to_string(),
            hubspot_id: link.as_ref().map(|l| l.hubspot_id.clone()),
            hubspot_before: old.map(|o| o.mapping.to_hubspot(&row)).unwrap_or_default(),
            hubspot_after: n.mapping.to_hubspot(&row),
            eligible_before: old
                .is_some_and(|o| o.rules.filters_to_hubspot.matches(|c| row.field(c))),
            eligible_after: n.rules.filters_to_hubspot.matches(|c| row.field(c)),
            excluded_by: n
                .rules
                .filters_to_hubspot
                .check(|c| row.field(c))
                .err()
                .map(|e| e.to_string()),
            ..RecordPreview::default()
        };
        if let Some(l) = &link {
            // The HubSpot side as HubSpot holds it now, read for this one
            // record; the link memory if HubSpot cannot be asked.
            let mut props: Vec<&str> = n.mapping.hubspot_properties();
            if let Some(o) = old {
                props.extend(o.mapping.hubspot_properties());
            }
            let hs = match self
                .client
                .batch_read(kind, None, std::slice::from_ref(&l.hubspot_id), &props)
                .await
            {
                Ok(r) if !r.results.is_empty() => r.results[0].clone(),
                _ => memory_object(&l.hubspot_id, &l.memory),
            };
            p.app_before = old.map(|o| o.mapping.to_app(&hs)).unwrap_or_default();
            p.app_after = n.mapping.to_app(&hs);
        }
        Ok(p)
    }
}
