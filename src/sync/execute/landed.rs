//! Creates whose outcome is unknown: the answer was lost after sending, so
//! some or all of the batch may be in HubSpot already. Sending it again
//! blindly is how duplicates are made (companies have no unique key), so
//! the batch is looked up first — by hubsync's own app id property where
//! the mapping has one, else by each record's strongest key — and only
//! what is proven absent is sent again. The same lookup turns HubSpot's
//! `CONFLICTING_UNIQUE_VALUE` on the app id property into a link: the
//! record holding the app id is the one hubsync created for it.

use super::{ExecError, Executor, Pending};
use crate::hubspot::MAX_BATCH;
use crate::hubspot::wire::{Filter, FilterGroup, SearchRequest, SimplePublicObject};
use crate::model::ObjectKind;
use crate::sync::mapping::ADDITIONAL_EMAILS;
use std::collections::HashSet;

/// A batch sorted by what HubSpot holds of it.
pub(super) struct Landed {
    /// The HubSpot records the landed inputs became.
    pub records: Vec<SimplePublicObject>,
    /// Inputs HubSpot holds: to be linked, not sent again.
    pub landed: Vec<Pending>,
    /// Inputs proven absent: safe to send again.
    pub absent: Vec<Pending>,
    /// Inputs with neither an app id property nor a key to find them by.
    pub unknowable: Vec<Pending>,
}

/// Whether a HubSpot error message says `property` already holds the
/// value (`Property values were not valid: [{…"error":
/// "CONFLICTING_UNIQUE_VALUE","name":"app_record_id"}]`).
pub(super) fn conflicts_on(message: &str, property: &str) -> bool {
    let Some(start) = message.find("[{") else {
        return false;
    };
    let Ok(items) = serde_json::from_str::<Vec<serde_json::Value>>(&message[start..]) else {
        return false;
    };
    items.iter().any(|i| {
        i.get("error").and_then(|v| v.as_str()) == Some("CONFLICTING_UNIQUE_VALUE")
            && i.get("name").and_then(|v| v.as_str()) == Some(property)
    })
}

impl Executor<'_> {
    /// What a lookup reads: enough to match records to inputs.
    fn lookup_properties(&self) -> Vec<&str> {
        let m = self.mapping;
        let mut props: Vec<&str> = m.hubspot_properties();
        if m.email_key_index().is_some() {
            props.push(ADDITIONAL_EMAILS);
        }
        props
    }

    /// Sorts `batch` into what HubSpot holds and what it does not. By the
    /// app id property when there is one: a batch read on a unique
    /// property is current the moment a record exists, so a miss proves
    /// absence. Else by each input's strongest key (the first mapped key
    /// it carries), so a weaker key such as a name cannot claim a record
    /// whose domain says it is another company's.
    pub(super) async fn find_landed(&self, batch: Vec<Pending>) -> Result<Landed, ExecError> {
        let m = self.mapping;
        let props = self.lookup_properties();
        let mut out = Landed {
            records: Vec::new(),
            landed: Vec::new(),
            absent: Vec::new(),
            unknowable: Vec::new(),
        };
        if let Some(prop) = &m.app_id_property {
            let ids: Vec<String> = batch.iter().map(|p| p.app_id.clone()).collect();
            for chunk in ids.chunks(MAX_BATCH) {
                let r = self
                    .client
                    .batch_read(m.object, Some(prop), chunk, &props)
                    .await?;
                out.records.extend(r.results);
            }
            let held: HashSet<&str> = out.records.iter().filter_map(|o| o.prop(prop)).collect();
            let (landed, absent) = batch
                .into_iter()
                .partition(|p| held.contains(p.app_id.as_str()));
            out.landed = landed;
            out.absent = absent;
            return Ok(out);
        }
        let strongest: Vec<Option<(usize, String)>> = batch
            .iter()
            .map(|p| self.keys_in(&p.properties).into_iter().min())
            .collect();
        for (i, k) in m.keys.iter().enumerate() {
            let mut values: Vec<String> = strongest
                .iter()
                .flatten()
                .filter(|(x, _)| *x == i)
                .map(|(_, v)| v.clone())
                .collect();
            values.sort();
            values.dedup();
            if !values.is_empty() {
                let found = self
                    .hubspot_with_key(&k.hubspot_property, &values, &props)
                    .await?;
                out.records.extend(found);
            }
        }
        let held: HashSet<(usize, String)> =
            out.records.iter().flat_map(|o| m.hubspot_keys(o)).collect();
        for (p, key) in batch.into_iter().zip(strongest) {
            match key {
                None => out.unknowable.push(p),
                Some(k) if held.contains(&k) => out.landed.push(p),
                Some(_) => out.absent.push(p),
            }
        }
        Ok(out)
    }

    /// The contacts HubSpot holds with the emails of `batch` (one batch
    /// read), and the inputs split into those whose email is held and the
    /// rest.
    pub(super) async fn holders_of_emails(
        &self,
        batch: &[Pending],
    ) -> Result<(Vec<SimplePublicObject>, Vec<Pending>, Vec<Pending>), ExecError> {
        let m = self.mapping;
        let Some(i) = m.email_key_index() else {
            return Ok((vec![], vec![], batch.to_vec()));
        };
        let mut emails: Vec<String> = batch
            .iter()
            .flat_map(|p| self.keys_in(&p.properties))
            .filter(|(k, _)| *k == i)
            .map(|(_, v)| v)
            .collect();
        emails.sort();
        emails.dedup();
        let props = self.lookup_properties();
        let found = self.hubspot_with_key("email", &emails, &props).await?;
        let held: HashSet<(usize, String)> = found.iter().flat_map(|o| m.hubspot_keys(o)).collect();
        let (hit, rest) = batch.iter().cloned().partition(|p| {
            self.keys_in(&p.properties)
                .iter()
                .any(|k| k.0 == i && held.contains(k))
        });
        Ok((found, hit, rest))
    }

    /// HubSpot records whose `property` is one of `values`: a batch read
    /// where the property is unique (contacts' email), else a search.
    async fn hubspot_with_key(
        &self,
        property: &str,
        values: &[String],
        props: &[&str],
    ) -> Result<Vec<SimplePublicObject>, ExecError> {
        let object = self.mapping.object;
        let mut out = Vec::new();
        for chunk in values.chunks(MAX_BATCH) {
            if object == ObjectKind::Contacts && property == "email" {
                let r = self
                    .client
                    .batch_read(object, Some(property), chunk, props)
                    .await?;
                out.extend(r.results);
                continue;
            }
            let mut after = 0u32;
            loop {
                let req = SearchRequest {
                    filter_groups: vec![FilterGroup {
                        filters: vec![Filter {
                            property_name: property.to_string(),
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
                let page = self.client.search(object, &req).await?;
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
}

#[cfg(test)]
mod tests {
    use super::conflicts_on;

    #[test]
    fn a_unique_value_conflict_is_read_from_hubspots_embedded_problems() {
        let m = r#"Property values were not valid: [{"isValid":false,"message":"7 is already the app_record_id of companies 12","error":"CONFLICTING_UNIQUE_VALUE","name":"app_record_id"}]"#;
        assert!(conflicts_on(m, "app_record_id"));
        assert!(!conflicts_on(m, "domain"), "another property's conflict");
        assert!(!conflicts_on(
            "Contact already exists. Existing ID: 5",
            "app_record_id"
        ));
    }
}
