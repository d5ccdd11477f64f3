//! Writing a batch to HubSpot: sending it, splitting it on whole-batch
//! rejections until every input has its own outcome, and turning a 207's
//! unique-value conflicts on the app id into links.

use super::*;

impl Executor<'_> {
    /// Sends one batch, splitting it on whole-batch rejections until every
    /// input has its own outcome. Returns the creates that a 409 turned into
    /// links, whose values are still to be written by an update.
    pub(super) async fn write_batches(
        &self,
        records: &Records<'_>,
        batch: Vec<Pending>,
        kind: Write,
        tally: &mut Tally,
    ) -> Result<Vec<Pending>, ExecError> {
        let mut linked = Vec::new();
        let mut lost_replies = 0;
        let mut work = vec![batch];
        while let Some(batch) = work.pop() {
            if batch.is_empty() {
                continue;
            }
            let result = match kind {
                Write::Create => {
                    let inputs = batch
                        .iter()
                        .map(|p| CreateInput {
                            properties: real_properties(&p.properties),
                            associations: vec![],
                            object_write_trace_id: Some(p.app_id.clone()),
                        })
                        .collect();
                    self.client.batch_create(self.mapping.object, inputs).await
                }
                Write::Update => {
                    let inputs: Vec<UpdateInput> = batch
                        .iter()
                        .map(|p| UpdateInput {
                            id: p.hubspot_id.clone().unwrap_or_default(),
                            properties: real_properties(&p.properties),
                            object_write_trace_id: Some(p.app_id.clone()),
                        })
                        .collect();
                    // Write-ahead: if we die before HubSpot's answer is
                    // remembered, the next pass can tell whether it landed.
                    let intents: Vec<(&str, &BTreeMap<String, String>)> = batch
                        .iter()
                        .zip(&inputs)
                        .map(|(p, i)| (p.app_id.as_str(), &i.properties))
                        .collect();
                    self.store
                        .set_pending(self.mapping.object, &intents)
                        .await?;
                    self.client.batch_update(self.mapping.object, inputs).await
                }
            };
            match result {
                Ok(mut resp) => {
                    if kind == Write::Create {
                        self.link_app_id_conflicts(&batch, &mut resp).await?;
                    }
                    self.settle(records, batch, kind, resp.results, &resp.errors, tally)
                        .await?
                }
                Err(e) if kind == Write::Create && e.may_have_landed() => {
                    lost_replies += 1;
                    if lost_replies > MAX_LOST_REPLIES {
                        return Err(e.into());
                    }
                    tracing::warn!(object = %self.mapping.object, inputs = batch.len(), error = %e,
                        "a create's answer was lost; looking up what landed before sending again");
                    let found = self.find_landed(batch).await?;
                    if !found.landed.is_empty() {
                        self.settle(records, found.landed, kind, found.records, &[], tally)
                            .await?;
                    }
                    for p in &found.unknowable {
                        let why = format!(
                            "{}; it carries no key to look it up by, so it is not sent again: check HubSpot for it before retrying",
                            e.message()
                        );
                        self.audit_pending(
                            records,
                            p,
                            AuditStatus::Failed,
                            Some(e.category()),
                            Some(why),
                        )
                        .await?;
                        tally.failed += 1;
                    }
                    work.push(found.absent);
                }
                Err(e)
                    if kind == Write::Create
                        && self
                            .mapping
                            .app_id_property
                            .as_deref()
                            .is_some_and(|p| landed::conflicts_on(&e.message(), p)) =>
                {
                    // HubSpot already holds one of these app ids: those are
                    // hubsync's own records, to link; the rest go again.
                    let mut found = self.find_landed(batch).await?;
                    if found.landed.is_empty() && found.absent.len() > 1 {
                        // Not found after all: split as any rejected batch.
                        let right = found.absent.split_off(found.absent.len() / 2);
                        work.push(right);
                        work.push(found.absent);
                        continue;
                    }
                    if found.landed.is_empty() {
                        for p in &found.absent {
                            self.audit_pending(
                                records,
                                p,
                                AuditStatus::Failed,
                                Some(e.category()),
                                Some(e.message()),
                            )
                            .await?;
                            tally.failed += 1;
                        }
                        continue;
                    }
                    self.settle(records, found.landed, kind, found.records, &[], tally)
                        .await?;
                    work.push(found.absent);
                }
                Err(e) if stops_job(&e) => return Err(e.into()),
                Err(e) => {
                    if kind == Write::Create
                        && self.defer_conflicts
                        && e.existing_id().is_some()
                        && self.mapping.email_key_index().is_some()
                    {
                        let (found, hit, rest) = self.holders_of_emails(&batch).await?;
                        if !hit.is_empty() {
                            let mut d = lock(&self.deferred);
                            d.app_ids.extend(hit.into_iter().map(|p| p.app_id));
                            d.found.extend(found);
                            work.push(rest);
                            continue;
                        }
                    }
                    let conflict = match (kind, e.existing_id()) {
                        (Write::Create, Some(existing)) => {
                            self.resolve_conflict(&batch, &existing).await?
                        }
                        _ => None,
                    };
                    if let Some(c) = conflict {
                        for (p, why) in &c.refused {
                            self.audit_pending(
                                records,
                                p,
                                AuditStatus::Failed,
                                Some(e.category()),
                                Some(format!("{}; {why}", e.message())),
                            )
                            .await?;
                            tally.failed += 1;
                        }
                        linked.extend(c.linked);
                        work.push(c.rest);
                    } else if batch.len() > 1 {
                        // One bad input fails the whole batch: halve it until
                        // the bad one is alone, so the rest still get written.
                        let mut left = batch;
                        let right = left.split_off(left.len() / 2);
                        work.push(right);
                        work.push(left);
                    } else {
                        for p in &batch {
                            if kind == Write::Update {
                                self.store
                                    .clear_pending(self.mapping.object, &p.app_id)
                                    .await?;
                            }
                            self.audit_pending(
                                records,
                                p,
                                AuditStatus::Failed,
                                Some(e.category()),
                                Some(e.message()),
                            )
                            .await?;
                            tally.failed += 1;
                        }
                    }
                }
            }
        }
        Ok(linked)
    }

    /// The normalised keys a set of HubSpot properties carries.
    pub(super) fn keys_in(&self, properties: &BTreeMap<String, String>) -> Vec<(usize, String)> {
        self.mapping
            .keys
            .iter()
            .enumerate()
            .filter_map(|(i, k)| {
                properties
                    .get(&k.hubspot_property)
                    .map(|v| (i, key_norm(v)))
            })
            .filter(|(_, v)| !v.is_empty())
            .collect()
    }
}

impl Executor<'_> {
    /// A 207's per-input `CONFLICTING_UNIQUE_VALUE` on the app id
    /// property means HubSpot holds a record hubsync created for that app
    /// record (a create that landed unconfirmed): it becomes a result, so
    /// the input is linked to it instead of failing.
    async fn link_app_id_conflicts(
        &self,
        batch: &[Pending],
        resp: &mut crate::hubspot::client::BatchOutcome,
    ) -> Result<(), ExecError> {
        let Some(prop) = self.mapping.app_id_property.as_deref() else {
            return Ok(());
        };
        let conflicted: HashSet<String> = resp
            .errors
            .iter()
            .filter(|e| {
                e.message
                    .as_deref()
                    .is_some_and(|m| landed::conflicts_on(m, prop))
            })
            .flat_map(|e| e.context.get("objectWriteTraceId").into_iter().flatten())
            .cloned()
            .collect();
        if conflicted.is_empty() {
            return Ok(());
        }
        let ours: Vec<Pending> = batch
            .iter()
            .filter(|p| conflicted.contains(&p.app_id))
            .cloned()
            .collect();
        let found = self.find_landed(ours).await?;
        let linked: HashSet<&str> = found.landed.iter().map(|p| p.app_id.as_str()).collect();
        resp.errors.retain(|e| {
            !e.context
                .get("objectWriteTraceId")
                .is_some_and(|ids| ids.iter().any(|id| linked.contains(id.as_str())))
        });
        resp.results.extend(found.records);
        Ok(())
    }
}
