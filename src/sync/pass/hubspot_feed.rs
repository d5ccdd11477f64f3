//! HubSpot's change feed for one object: what a pass reads from HubSpot.
//!
//! The first read of an object (no cursor yet, or its configuration
//! changed) is a backfill: every record, by id, 200 a search page, each
//! page planned and applied as it arrives. Paging by id rather than by
//! offset is what lets it write while it reads, never meet the 10,000-result
//! cap, and never read a record twice; memory stays one page, and its saved
//! progress is one id. Records modified while it runs are stamped after it
//! began, so the feed's next read (by modification time) finds them.
//!
//! After that, each pass reads what was modified since the cursor, with a
//! lookback window for HubSpot's search index lag. The window only reaches
//! back to what is settled: a stamp older than the lookback when a read
//! began was indexed by then, so that read saw it. An idle pass after a
//! bulk import therefore costs one search once the import is that old,
//! rather than rereading the import on every pass.

use super::{Pass, Progress, add};
use crate::hubspot::client::ModifiedCursor;
use crate::hubspot::wire::{
    Filter, FilterGroup, SearchPage, SearchRequest, SimplePublicObject, Sort,
};
use crate::model::{Direction, ObjectKind};
use crate::sync::execute::ExecError;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// Search indexing lags writes by seconds, so each HubSpot read starts this
/// far before the last cursor. Records read twice cost a read, never a
/// write: the links' memory makes them no-ops.
const LOOKBACK_MS: i64 = 5 * 60 * 1000;

/// How often a long read stores its progress.
const SAVE_EVERY: Duration = Duration::from_secs(5);

/// HubSpot's largest search page.
const PAGE: u32 = 200;

/// Where HubSpot's change feed has read up to.
#[derive(Debug, Default, Serialize, Deserialize)]
struct HubSpotCursor {
    at: ModifiedCursor,
    /// Records handled in the unsettled part of the lookback window, with
    /// the modification time they were handled at.
    #[serde(default)]
    seen: BTreeMap<String, i64>,
    /// Every record stamped at or before this was visible to a read that
    /// handled it: the lookback need not go further back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    settled_ms: Option<i64>,
    /// A backfill under way: it resumes after this id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    backfill: Option<Backfill>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
struct Backfill {
    /// The newest modification stamp when the backfill began: the feed
    /// goes on from there once every record has been read.
    from_ms: i64,
    /// This host's clock when the backfill began.
    began_ms: i64,
    after_id: u64,
}

/// A stamp this far before a read began was indexed by then.
fn settled_by(read_began_ms: i64) -> i64 {
    read_began_ms - LOOKBACK_MS
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// An id past every HubSpot id: a cursor at (t, this) has handled all of t.
const PAST_EVERY_ID: u64 = u64::MAX;

/// Where an incremental read starts: the cursor less the lookback window,
/// or only as far back as is settled.
fn read_from(saved: &HubSpotCursor) -> ModifiedCursor {
    let lookback = (saved.at.modified_ms - LOOKBACK_MS).max(0);
    match saved.settled_ms {
        Some(s) if s >= lookback => ModifiedCursor {
            modified_ms: s,
            id: PAST_EVERY_ID,
        },
        _ => ModifiedCursor {
            modified_ms: lookback,
            id: 0,
        },
    }
}

/// The last-modified property HubSpot stamps on each object.
fn modified_property(object: ObjectKind) -> &'static str {
    match object {
        ObjectKind::Contacts => "lastmodifieddate",
        _ => "hs_lastmodifieddate",
    }
}

fn filter(name: &str, op: &str, value: String) -> Filter {
    Filter {
        property_name: name.into(),
        operator: op.into(),
        value: Some(value),
        high_value: None,
        values: None,
    }
}

impl Pass<'_> {
    /// The feed's filters ANDed with the to-app filters HubSpot can apply.
    fn shape(&self, cursor: &[Filter]) -> Vec<FilterGroup> {
        self.rules
            .filters_to_app
            .pushdown_with(cursor)
            .unwrap_or_else(|| {
                vec![FilterGroup {
                    filters: cursor.to_vec(),
                }]
            })
    }

    fn modified_ms(&self, o: &SimplePublicObject) -> Option<i64> {
        o.prop(modified_property(self.object()))
            .and_then(crate::model::instant_ms)
    }

    /// The records modified at or after `from_ms`: how many, and the newest
    /// (one search, one result).
    async fn newest_since(&self, from_ms: i64) -> Result<(u64, Option<(i64, u64)>), ExecError> {
        let lm = modified_property(self.object());
        let req = SearchRequest {
            filter_groups: self.shape(&[filter(lm, "GTE", from_ms.to_string())]),
            sorts: vec![Sort {
                property_name: lm.into(),
                direction: "DESCENDING".into(),
            }],
            properties: vec![lm.into()],
            limit: 1,
            ..Default::default()
        };
        let page = self.client.search(self.object(), &req).await?;
        let newest = page
            .results
            .first()
            .and_then(|o| Some((self.modified_ms(o)?, o.id.parse().ok()?)));
        Ok((page.total, newest))
    }

    async fn save_feed(&self, c: &HubSpotCursor) -> Result<(), ExecError> {
        Ok(self.set_cursor(Direction::ToApp, c).await?)
    }

    /// HubSpot records modified since the HubSpot cursor (all of them the
    /// first time), with the to-app filters pushed down into the search
    /// where HubSpot can apply them.
    ///
    /// `estimated` is what [`Pass::hubspot_estimate`] put in the total
    /// already; the count read here replaces it.
    pub(super) async fn hubspot_changes(
        &self,
        progress: &mut Progress,
        on_progress: &mut impl FnMut(Progress),
        estimated: u64,
    ) -> Result<(), ExecError> {
        progress.total = progress.total.saturating_sub(estimated);
        let saved: Option<HubSpotCursor> = self.cursor(Direction::ToApp).await?;
        match saved {
            None => {
                let began_ms = now_ms();
                let (total, newest) = self.newest_since(0).await?;
                let backfill = Backfill {
                    from_ms: newest.map_or(0, |n| n.0),
                    began_ms,
                    after_id: 0,
                };
                progress.total += total;
                self.backfill(backfill, progress, on_progress).await
            }
            Some(HubSpotCursor {
                backfill: Some(b), ..
            }) => {
                let (total, _) = self.newest_since(0).await?;
                progress.total += total;
                self.backfill(b, progress, on_progress).await
            }
            Some(c) => self.incremental(c, progress, on_progress).await,
        }
    }

    /// About how many HubSpot records the next read handles (one search):
    /// counted before the app side's rows so progress covers both sides.
    pub(super) async fn hubspot_estimate(&self) -> Result<u64, ExecError> {
        let saved: Option<HubSpotCursor> = self.cursor(Direction::ToApp).await?;
        let from_ms = match &saved {
            None
            | Some(HubSpotCursor {
                backfill: Some(_), ..
            }) => 0,
            Some(c) => read_from(c).modified_ms,
        };
        Ok(self.newest_since(from_ms).await?.0)
    }

    /// Every record by id, each page applied as it arrives; the next page
    /// is read while this one is applied.
    async fn backfill(
        &self,
        mut b: Backfill,
        progress: &mut Progress,
        on_progress: &mut impl FnMut(Progress),
    ) -> Result<(), ExecError> {
        let mut props: Vec<String> = self.properties().iter().map(|p| p.to_string()).collect();
        for p in [modified_property(self.object()), "hs_object_id"] {
            if !props.iter().any(|x| x == p) {
                props.push(p.to_string());
            }
        }
        let page_after = |after: u64| SearchRequest {
            filter_groups: self.shape(&[filter("hs_object_id", "GT", after.to_string())]),
            sorts: vec![Sort {
                property_name: "hs_object_id".into(),
                direction: "ASCENDING".into(),
            }],
            properties: props.clone(),
            limit: PAGE,
            ..Default::default()
        };
        let mut last_saved = Instant::now();
        let mut page: SearchPage = self
            .client
            .search(self.object(), &page_after(b.after_id))
            .await?;
        loop {
            let last = page
                .results
                .iter()
                .filter_map(|o| o.id.parse::<u64>().ok())
                .max();
            let done =
                page.paging.as_ref().and_then(|p| p.next.as_ref()).is_none() || last.is_none();
            let records = std::mem::take(&mut page.results);
            let n = records.len() as u64;
            let apply = async {
                let mut tally = crate::sync::execute::Tally::default();
                for chunk in records.chunks(self.size()) {
                    add(
                        &mut tally,
                        self.batch(vec![], chunk.to_vec(), vec![], &[]).await?,
                    );
                }
                Ok::<_, ExecError>(tally)
            };
            let tally = if done {
                apply.await?
            } else {
                let req = page_after(last.unwrap_or(b.after_id));
                let next = self.client.search(self.object(), &req);
                let (next, tally) = futures::join!(next, apply);
                let tally = tally?;
                page = next?;
                tally
            };
            if let Some(last) = last {
                b.after_id = last;
            }
            progress.done += n;
            progress.total = progress.total.max(progress.done);
            add(&mut progress.tally, tally);
            on_progress(*progress);
            if done {
                break;
            }
            if last_saved.elapsed() >= SAVE_EVERY {
                self.save_feed(&HubSpotCursor {
                    at: ModifiedCursor {
                        modified_ms: b.from_ms,
                        id: 0,
                    },
                    backfill: Some(b),
                    ..Default::default()
                })
                .await?;
                last_saved = Instant::now();
            }
        }
        // Records modified during the backfill are stamped after it began;
        // those stamped before it began and indexed in time were read by it.
        self.save_feed(&HubSpotCursor {
            at: ModifiedCursor {
                modified_ms: b.from_ms,
                id: 0,
            },
            settled_ms: Some(b.from_ms.min(settled_by(b.began_ms))),
            ..Default::default()
        })
        .await
    }

    /// What was modified since the cursor, the unsettled part of the
    /// lookback window included.
    async fn incremental(
        &self,
        saved: HubSpotCursor,
        progress: &mut Progress,
        on_progress: &mut impl FnMut(Progress),
    ) -> Result<(), ExecError> {
        let began_ms = now_ms();
        let from = read_from(&saved);
        // Read the whole change set first: the search pages by offset, and
        // writing while paging would shift what the next page holds.
        let mut changed: Vec<SimplePublicObject> = Vec::new();
        let props = self.properties();
        let shape = |cursor: &[Filter]| self.shape(cursor);
        let next = self
            .client
            .modified_since(self.object(), from, &props, PAGE, &shape, |page| {
                changed.extend(page)
            })
            .await?;
        // The lookback rereads what the last pass already handled: a
        // record seen at the same modification time is skipped, so the
        // overlap costs search pages, not batch reads and plans.
        let mut seen = saved.seen;
        changed.retain(|o| {
            let m = self.modified_ms(o);
            m.is_none() || seen.get(&o.id) != m.as_ref()
        });
        progress.total += changed.len() as u64;
        on_progress(*progress);
        // Progress is kept after every batch: a failure or a crash part
        // way through a large change set resumes near where it stopped (the
        // lookback rereads the rest, and `seen` skips what was handled).
        let mut at = saved.at;
        let mut last_saved = Instant::now();
        for chunk in changed.chunks(self.size()) {
            let t = self.batch(vec![], chunk.to_vec(), vec![], &[]).await?;
            for o in chunk {
                if let Some(ms) = self.modified_ms(o) {
                    seen.insert(o.id.clone(), ms);
                    let id = o.id.parse().unwrap_or(0);
                    if (ms, id) > (at.modified_ms, at.id) {
                        at = ModifiedCursor {
                            modified_ms: ms,
                            id,
                        };
                    }
                }
            }
            // Every few seconds, not every batch: the window's `seen` can
            // hold a whole bulk edit. Until this read is done, only what
            // was settled before it counts as settled.
            if last_saved.elapsed() >= SAVE_EVERY {
                let settled = saved.settled_ms.unwrap_or(0);
                seen.retain(|_, t| *t >= at.modified_ms - LOOKBACK_MS && *t > settled);
                self.save_feed_ref(at, &seen, saved.settled_ms).await?;
                last_saved = Instant::now();
            }
            progress.done += chunk.len() as u64;
            add(&mut progress.tally, t);
            on_progress(*progress);
        }
        if (next.modified_ms, next.id) > (at.modified_ms, at.id) {
            at = next;
        }
        // This read saw every stamp settled by the time it began.
        let settled = settled_by(began_ms)
            .min(at.modified_ms)
            .max(saved.settled_ms.unwrap_or(i64::MIN));
        // Only the window the next pass rereads needs remembering.
        seen.retain(|_, t| *t >= at.modified_ms - LOOKBACK_MS && *t > settled);
        self.save_feed_ref(at, &seen, Some(settled)).await
    }

    async fn save_feed_ref(
        &self,
        at: ModifiedCursor,
        seen: &BTreeMap<String, i64>,
        settled_ms: Option<i64>,
    ) -> Result<(), ExecError> {
        /// A [`HubSpotCursor`] to store, borrowing its window.
        #[derive(Serialize)]
        struct Ref<'a> {
            at: ModifiedCursor,
            seen: &'a BTreeMap<String, i64>,
            #[serde(skip_serializing_if = "Option::is_none")]
            settled_ms: Option<i64>,
        }
        Ok(self
            .set_cursor(
                Direction::ToApp,
                Ref {
                    at,
                    seen,
                    settled_ms,
                },
            )
            .await?)
    }
}
