//! What a batch reads besides its feed: HubSpot records by id (following
//! merges) and by key, and the company associations of contacts.

use super::Pass;
use crate::appdb::AppRecord;
use crate::hubspot::MAX_BATCH;
use crate::hubspot::wire::{Filter, FilterGroup, SearchRequest, SimplePublicObject};
use crate::model::ObjectKind;
use crate::sync::execute::ExecError;
use std::collections::{HashMap, HashSet};

impl Pass<'_> {
    /// Reads HubSpot records by id, at most 100 per call. A merged-away id
    /// answers with its survivor: those come back as (old id → survivor).
    pub(super) async fn read_by_id(
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
    pub(super) async fn hubspot_by_key(
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
    pub(super) async fn company_maps(
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
}

/// Owned company maps for [`CompanyLinks`].
pub(super) struct CompanyMaps {
    pub associations: HashMap<String, Vec<String>>,
    pub by_app: HashMap<String, String>,
    pub by_hubspot: HashMap<String, String>,
}
