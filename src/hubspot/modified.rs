//! Reading what was modified since a cursor, a page at a time, so a caller
//! can apply each page before asking for the next and hold one page, not
//! the whole change set.
//!
//! Every query starts again from the cursor (offset 0) instead of paging
//! by offset: an offset counts positions in a result that shifts when a
//! record in it is written meanwhile (its new stamp moves it to the end),
//! so offset paging while writing skips records. Restarting from the
//! cursor cannot skip: a record written meanwhile is found again, later.
//! It also never meets search's 10,000-result cap.
//!
//! Search sorts by one property and promises no order among records of one
//! instant, so the newest instant of a page may be cut: the next query
//! starts at that instant again (`GTE`) and drops the records of it already
//! handed over. An instant crowded past a page (a bulk import stamps
//! thousands of records with one time) is read on its own, by ascending id.

use super::client::{HubSpotClient, ModifiedCursor};
use super::error::HubSpotError;
use super::wire::{Filter, FilterGroup, SearchRequest, SimplePublicObject, Sort};
use crate::model::ObjectKind;
use std::collections::HashSet;

/// The last-modified property HubSpot stamps on each object.
pub fn modified_property(object: ObjectKind) -> &'static str {
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

/// A read of the records modified after a cursor, oldest first.
pub struct ModifiedFeed<'a> {
    object: ObjectKind,
    props: Vec<String>,
    page: u32,
    shape: &'a (dyn Fn(&[Filter]) -> Vec<FilterGroup> + Sync),
    /// The instant being read.
    at_ms: i64,
    /// At `at_ms`, every id up to this one is handled (`u64::MAX`: all).
    below: u64,
    /// At `at_ms`, the ids handed over beyond `below`.
    seen_at: HashSet<u64>,
    /// Reading `at_ms` alone, by id: it holds more than a page.
    by_id: bool,
    done: bool,
}

impl<'a> ModifiedFeed<'a> {
    /// A read starting after `from`: the rest of its instant (ids past
    /// `from.id`; none when that is `u64::MAX`), then later instants.
    /// `shape` turns the cursor's filters into the query's filter groups
    /// (a caller's pushed-down filters ANDed in; the cursor's stay in
    /// every group).
    pub fn new(
        object: ObjectKind,
        from: ModifiedCursor,
        properties: &[&str],
        page: u32,
        shape: &'a (dyn Fn(&[Filter]) -> Vec<FilterGroup> + Sync),
    ) -> Self {
        let lm = modified_property(object);
        let mut props: Vec<String> = properties.iter().map(|p| p.to_string()).collect();
        for p in [lm, "hs_object_id"] {
            if !props.iter().any(|x| x == p) {
                props.push(p.to_string());
            }
        }
        ModifiedFeed {
            object,
            props,
            page: page.clamp(1, 200),
            shape,
            at_ms: from.modified_ms,
            below: from.id,
            seen_at: HashSet::new(),
            by_id: false,
            done: false,
        }
    }

    /// Where the read has got: the newest instant handed over and, among
    /// its records, the highest id (`u64::MAX` once the instant is whole).
    pub fn cursor(&self) -> ModifiedCursor {
        let top = self.seen_at.iter().copied().max().unwrap_or(0);
        ModifiedCursor {
            modified_ms: self.at_ms,
            id: if self.below == u64::MAX {
                u64::MAX
            } else {
                self.below.max(top)
            },
        }
    }

    fn stamp(&self, o: &SimplePublicObject) -> i64 {
        // HubSpot shows date-times as ISO strings; filters take epoch
        // milliseconds. Read either.
        o.prop(modified_property(self.object))
            .and_then(crate::model::instant_ms)
            .unwrap_or(self.at_ms)
    }

    /// The next page of records not handed over yet, or `None` when the
    /// read is done. A page may be empty while the read goes on (a query
    /// that only met records already handed over).
    pub async fn next_page(
        &mut self,
        client: &HubSpotClient,
    ) -> Result<Option<Vec<SimplePublicObject>>, HubSpotError> {
        if self.done {
            return Ok(None);
        }
        let lm = modified_property(self.object);
        let (filters, sort) = if self.by_id {
            (
                vec![
                    filter(lm, "EQ", self.at_ms.to_string()),
                    filter("hs_object_id", "GT", self.below.to_string()),
                ],
                "hs_object_id",
            )
        } else if self.below == u64::MAX {
            (vec![filter(lm, "GT", self.at_ms.to_string())], lm)
        } else {
            (vec![filter(lm, "GTE", self.at_ms.to_string())], lm)
        };
        let req = SearchRequest {
            filter_groups: (self.shape)(&filters),
            sorts: vec![Sort {
                property_name: sort.into(),
                direction: "ASCENDING".into(),
            }],
            properties: self.props.clone(),
            limit: self.page,
            after: "0".into(),
        };
        let r = client.search(self.object, &req).await?;
        let more = r.paging.as_ref().and_then(|p| p.next.as_ref()).is_some();
        let full = r.results.len() as u32 >= self.page;
        let first_stamp = r.results.first().map(|o| self.stamp(o));
        let one_instant = r.results.iter().all(|o| Some(self.stamp(o)) == first_stamp);
        let mut fresh = Vec::with_capacity(r.results.len());
        let mut last_id = None;
        for o in r.results {
            let t = self.stamp(&o);
            let id: u64 = o.id.parse().unwrap_or(0);
            last_id = Some(id);
            if t > self.at_ms {
                self.at_ms = t;
                self.below = 0;
                self.seen_at.clear();
            }
            if t == self.at_ms && (id <= self.below || !self.seen_at.insert(id)) {
                continue;
            }
            fresh.push(o);
        }
        if self.by_id {
            match last_id {
                Some(id) if more => self.below = self.below.max(id),
                // The crowded instant is whole: go on after it.
                _ => {
                    self.by_id = false;
                    self.below = u64::MAX;
                    self.seen_at.clear();
                }
            }
        } else if !more {
            self.done = true;
        } else if full && one_instant {
            // A page of one instant: it may hold more than a page.
            self.by_id = true;
            self.below = 0;
        }
        Ok(Some(fresh))
    }
}

impl HubSpotClient {
    /// Every record modified after `from`, oldest first, handed to `on_page`
    /// a page at a time (see [`ModifiedFeed`]); returns the cursor to start
    /// from next time. Nothing is skipped and nothing is read twice. To
    /// overlap an earlier read (search indexing lags), start from an older
    /// cursor.
    pub async fn modified_since(
        &self,
        object: ObjectKind,
        from: ModifiedCursor,
        properties: &[&str],
        page: u32,
        shape: &(dyn Fn(&[Filter]) -> Vec<FilterGroup> + Sync),
        mut on_page: impl FnMut(Vec<SimplePublicObject>),
    ) -> Result<ModifiedCursor, HubSpotError> {
        let mut feed = ModifiedFeed::new(object, from, properties, page, shape);
        while let Some(page) = feed.next_page(self).await? {
            if !page.is_empty() {
                on_page(page);
            }
        }
        Ok(feed.cursor())
    }
}
