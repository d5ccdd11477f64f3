//! `records_search`: any record of an object, synced or not, by key or
//! either id. The link table answers ids at once; the app database is
//! searched by id, HubSpot id, a part of a key or the label (bounded);
//! HubSpot is asked only for one exact id or email, since its search is a
//! rate-limited call and cannot match a part of a value.

use super::{RecordHit, RecordsFound, live, synced};
use crate::engine::Engine;
use crate::model::ObjectKind;
use crate::sync::mapping::key_norm;

impl Engine {
    /// Up to `limit` records matching `query`, linked ones first as the
    /// app holds them, then HubSpot's exact match if the app has none.
    pub async fn records_search(
        &self,
        object: ObjectKind,
        query: &str,
        limit: usize,
    ) -> anyhow::Result<RecordsFound> {
        let os = synced(self, object)?;
        let m = &os.mapping;
        let query = query.trim();
        let limit = limit.clamp(1, crate::appdb::SEARCH_MAX);
        let mut out = RecordsFound {
            query: query.to_string(),
            ..RecordsFound::default()
        };
        if query.is_empty() {
            return Ok(out);
        }
        let links = self.store.links_with_id(object, query).await?;
        let mut hits: Vec<RecordHit> = Vec::new();
        let push = |hits: &mut Vec<RecordHit>, hit: RecordHit| {
            let same = hits.iter_mut().find(|h| {
                (hit.app_id.is_some() && h.app_id == hit.app_id)
                    || (hit.hubspot_id.is_some() && h.hubspot_id == hit.hubspot_id)
            });
            match same {
                Some(h) => {
                    for f in hit.found_in {
                        if !h.found_in.contains(&f) {
                            h.found_in.push(f);
                        }
                    }
                    h.app_id = h.app_id.take().or(hit.app_id);
                    h.hubspot_id = h.hubspot_id.take().or(hit.hubspot_id);
                    h.linked |= hit.linked;
                    if h.label.starts_with('#') && !hit.label.starts_with('#') {
                        h.label = hit.label;
                    }
                }
                None => hits.push(hit),
            }
        };
        for l in &links {
            push(
                &mut hits,
                RecordHit {
                    object,
                    app_id: Some(l.app_id.clone()),
                    hubspot_id: Some(l.hubspot_id.clone()),
                    label: format!("#{}", l.app_id),
                    linked: true,
                    found_in: vec!["link".into()],
                },
            );
        }
        match live("the app database", self.app.search(m, query, limit)).await {
            Ok(rows) => {
                let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
                let linked = self.store.links_for(object, &ids).await?;
                for r in rows {
                    let hubspot_id = linked.get(&r.id).cloned();
                    push(
                        &mut hits,
                        RecordHit {
                            object,
                            app_id: Some(r.id.clone()),
                            linked: hubspot_id.is_some(),
                            hubspot_id: hubspot_id
                                .or_else(|| r.hubspot_id.clone().filter(|h| !h.is_empty())),
                            label: m.label_of(&r),
                            found_in: vec!["app".into()],
                        },
                    );
                }
            }
            Err(e) => out.notes.push(e),
        }
        // A linked record found by id only in the link table gets its
        // label from the app row.
        let unlabelled: Vec<String> = hits
            .iter()
            .filter(|h| h.label.starts_with('#'))
            .filter_map(|h| h.app_id.clone())
            .collect();
        if !unlabelled.is_empty()
            && let Ok(rows) = live("the app database", self.app.get_many(m, &unlabelled)).await
        {
            for r in rows {
                if let Some(h) = hits.iter_mut().find(|h| h.app_id.as_deref() == Some(&r.id)) {
                    h.label = m.label_of(&r);
                }
            }
        }
        // HubSpot: one exact id, or one exact email of a contact.
        let by_id = query.bytes().all(|b| b.is_ascii_digit());
        let by_email = object == ObjectKind::Contacts && query.contains('@');
        let known = hits.iter().any(|h| h.hubspot_id.as_deref() == Some(query));
        if (by_id && !known) || by_email {
            let props = m.hubspot_properties();
            let (id_property, key) = if by_id {
                (None, query.to_string())
            } else {
                (Some("email"), key_norm(query))
            };
            let asked =
                self.client
                    .batch_read(object, id_property, std::slice::from_ref(&key), &props);
            match live("HubSpot", asked).await {
                Ok(found) => {
                    let ids: Vec<String> = found.results.iter().map(|o| o.id.clone()).collect();
                    let linked = self.store.app_ids_for(object, &ids).await?;
                    for o in found.results {
                        let app_id = linked.get(&o.id).cloned();
                        push(
                            &mut hits,
                            RecordHit {
                                object,
                                linked: app_id.is_some(),
                                app_id,
                                label: m.hubspot_label(&o),
                                hubspot_id: Some(o.id.clone()),
                                found_in: vec!["hubspot".into()],
                            },
                        );
                    }
                }
                Err(e) => out.notes.push(e),
            }
        }
        hits.truncate(limit);
        out.records = hits;
        Ok(out)
    }
}
