//! Reading HubSpot's answer to a batch write: each input's outcome from a
//! 200/201/207, and a 409 on a create resolved by linking the record that
//! holds the key.

use super::*;

impl Executor<'_> {
    /// Records the outcome of a 200/201/207 answer for each input.
    pub(super) async fn settle(
        &self,
        records: &Records<'_>,
        batch: Vec<Pending>,
        kind: Write,
        results: Vec<SimplePublicObject>,
        errors: &[StandardError],
        tally: &mut Tally,
    ) -> anyhow::Result<()> {
        let mut failed: HashMap<String, &StandardError> = HashMap::new();
        for err in errors {
            for id in err.context.get("objectWriteTraceId").into_iter().flatten() {
                failed.insert(id.clone(), err);
            }
            for id in err.context.get("ids").into_iter().flatten() {
                if let Some(p) = batch.iter().find(|p| p.hubspot_id.as_deref() == Some(id)) {
                    failed.insert(p.app_id.clone(), err);
                }
            }
        }
        let returned: HashSet<&str> = results.iter().map(|o| o.id.as_str()).collect();
        // HubSpot does not promise results in input order: match created
        // records to inputs by their keys, which the plan made unique.
        let mut created_by_key: HashMap<(usize, String), String> = HashMap::new();
        for o in &results {
            for k in self.mapping.hubspot_keys(o) {
                created_by_key.insert(k, o.id.clone());
            }
        }
        // The created records' ids, matched first so that all of them are
        // linked, and written back to the app, together.
        let mut created: HashMap<String, String> = HashMap::new();
        if kind == Write::Create {
            let mut links = Vec::new();
            for p in batch.iter().filter(|p| !failed.contains_key(&p.app_id)) {
                let by_app_id = self.mapping.app_id_property.as_ref().and_then(|prop| {
                    results
                        .iter()
                        .find(|o| o.prop(prop) == Some(p.app_id.as_str()))
                        .map(|o| o.id.clone())
                });
                let id = by_app_id.or_else(|| {
                    self.keys_in(&p.properties)
                        .iter()
                        .find_map(|k| created_by_key.get(k).cloned())
                });
                if let Some(id) = id {
                    links.push((p.app_id.clone(), id.clone(), without_company_move(p)));
                    created.insert(p.app_id.clone(), id);
                }
            }
            self.link_batch(&links).await?;
        }
        for mut p in batch {
            if let Some(err) = failed.get(&p.app_id) {
                if kind == Write::Update {
                    self.store
                        .clear_pending(self.mapping.object, &p.app_id)
                        .await?;
                }
                self.audit_pending(
                    records,
                    &p,
                    AuditStatus::Failed,
                    err.category.clone(),
                    err.message.clone(),
                )
                .await?;
                tally.failed += 1;
                continue;
            }
            if kind == Write::Create {
                match created.remove(&p.app_id) {
                    Some(id) => p.hubspot_id = Some(id),
                    None => {
                        let msg =
                            "HubSpot answered the create without this record or an error for it"
                                .to_string();
                        self.audit_pending(
                            records,
                            &p,
                            AuditStatus::Failed,
                            Some("UNCONFIRMED".into()),
                            Some(msg),
                        )
                        .await?;
                        tally.failed += 1;
                        continue;
                    }
                }
            } else if !properties_sent(&p)
                || returned.contains(p.hubspot_id.as_deref().unwrap_or(""))
            {
                self.store
                    .set_memory(self.mapping.object, &p.app_id, &without_company_move(&p))
                    .await?;
            } else {
                // Neither a result nor an error for it: do not assume it
                // landed. Its pending write is settled on the next pass.
                let msg = "HubSpot answered the update without this record or an error for it";
                self.audit_pending(
                    records,
                    &p,
                    AuditStatus::Failed,
                    Some("UNCONFIRMED".into()),
                    Some(msg.into()),
                )
                .await?;
                tally.failed += 1;
                continue;
            }
            if p.properties.contains_key(COMPANY) {
                lock(&self.company_moves).push(p.clone());
            }
            self.audit_pending(records, &p, AuditStatus::Success, None, None)
                .await?;
            tally.succeeded += 1;
        }
        Ok(())
    }

    /// A 409 names the existing record that holds one input's key: link
    /// that input to it (unless another app record holds it: then that
    /// input fails), and hand back the rest of the batch. `None` when no
    /// input carries a key of the existing record: the batch is then split
    /// like any rejected one, until the input HubSpot meant stands alone
    /// and fails with HubSpot's message, instead of stopping the job.
    pub(super) async fn resolve_conflict(
        &self,
        batch: &[Pending],
        existing_id: &str,
    ) -> Result<Option<Conflict>, ExecError> {
        let mut props: Vec<&str> = self
            .mapping
            .keys
            .iter()
            .map(|k| k.hubspot_property.as_str())
            .collect();
        if self.mapping.email_key_index().is_some() {
            props.push(ADDITIONAL_EMAILS);
        }
        let read = self
            .client
            .batch_read(
                self.mapping.object,
                None,
                &[existing_id.to_string()],
                &props,
            )
            .await?;
        let existing_keys = read
            .results
            .first()
            .map(|o| self.mapping.hubspot_keys(o))
            .unwrap_or_default();
        let (hit, rest): (Vec<_>, Vec<_>) = batch.iter().cloned().partition(|p| {
            self.keys_in(&p.properties)
                .iter()
                .any(|k| existing_keys.contains(k))
        });
        if hit.is_empty() {
            return Ok(None);
        }
        let mut c = Conflict {
            linked: Vec::new(),
            rest,
            refused: Vec::new(),
        };
        for mut p in hit {
            // The existing record's values are unknown to the link: the
            // update that follows writes the app's, and remembers them.
            match self.link(&p.app_id, existing_id, &BTreeMap::new()).await {
                Ok(()) => {
                    p.hubspot_id = Some(existing_id.to_string());
                    p.action = AuditAction::Link;
                    c.linked.push(p);
                }
                Err(err) => c.refused.push((p, format!("{err:#}"))),
            }
        }
        Ok(Some(c))
    }
}

/// How a 409 on a create was resolved.
pub(super) struct Conflict {
    /// Inputs now linked to the existing record, still to be updated.
    pub(super) linked: Vec<Pending>,
    /// The inputs the conflict was not about, to be sent again.
    pub(super) rest: Vec<Pending>,
    /// Inputs whose existing record another app record holds.
    pub(super) refused: Vec<(Pending, String)>,
}
