//! Recording what landed: audit entries, and links with the memory of
//! what both sides now hold, for single records and whole batches.

use super::*;

impl Executor<'_> {
    pub(super) async fn audit(
        &self,
        records: &Records<'_>,
        e: Entry<'_>,
        status: AuditStatus,
        category: Option<String>,
        message: Option<String>,
    ) -> anyhow::Result<()> {
        let m = self.mapping;
        let label = match &e.record {
            RecordRef::App(id) => records.app.get(id).map(|r| m.label_of(r)),
            RecordRef::HubSpot(_) => None,
        }
        .or_else(|| {
            e.hubspot_id
                .and_then(|h| records.hubspot.get(h))
                .map(|o| m.hubspot_label(o))
        })
        .unwrap_or_else(|| match &e.record {
            RecordRef::App(id) => format!("#{id}"),
            RecordRef::HubSpot(id) => format!("HubSpot {} {id}", m.object),
        });
        let diff = e
            .diff
            .filter(|d| !d.is_empty())
            .map(serde_json::to_string)
            .transpose()?;
        self.store
            .record(&NewAudit {
                job_id: self.job_id,
                object: m.object,
                direction: e.direction,
                app_id: e.record.key(),
                hubspot_id: e.hubspot_id.map(str::to_string),
                action: e.action,
                status,
                category,
                message,
                diff,
                label,
            })
            .await?;
        Ok(())
    }

    pub(super) async fn audit_pending(
        &self,
        records: &Records<'_>,
        p: &Pending,
        status: AuditStatus,
        category: Option<String>,
        message: Option<String>,
    ) -> anyhow::Result<()> {
        let e = Entry {
            record: RecordRef::App(p.app_id.clone()),
            hubspot_id: p.hubspot_id.as_deref(),
            direction: Direction::ToHubSpot,
            action: p.action,
            diff: Some(&p.properties),
        };
        self.audit(records, e, status, category, message).await
    }

    pub(super) async fn link(
        &self,
        app_id: &str,
        hubspot_id: &str,
        memory: &BTreeMap<String, String>,
    ) -> anyhow::Result<()> {
        self.store
            .link(self.mapping.object, app_id, hubspot_id, memory)
            .await?;
        let written = self
            .app
            .set_hubspot_ids(
                self.mapping,
                &[(app_id.to_string(), hubspot_id.to_string())],
            )
            .await?;
        written.into_iter().next().unwrap_or(Ok(()))
    }

    /// Links the records of one batch: each in the state database, then
    /// every HubSpot id written back to the app in one transaction (one
    /// commit per batch, not per record). A row whose write-back fails
    /// (deleted since) keeps its link: the next pass settles it.
    pub(super) async fn link_batch(
        &self,
        links: &[(String, String, BTreeMap<String, String>)],
    ) -> anyhow::Result<()> {
        for (app_id, hubspot_id, memory) in links {
            self.store
                .link(self.mapping.object, app_id, hubspot_id, memory)
                .await?;
        }
        let ids: Vec<(String, String)> = links
            .iter()
            .map(|(a, h, _)| (a.clone(), h.clone()))
            .collect();
        let written = self.app.set_hubspot_ids(self.mapping, &ids).await?;
        for ((app_id, hubspot_id), r) in ids.iter().zip(written) {
            if let Err(e) = r {
                tracing::warn!(object = %self.mapping.object, app_id = %app_id, hubspot_id = %hubspot_id,
                    "HubSpot id not written back to the app: {e:#}");
            }
        }
        Ok(())
    }

    /// Links the pairs the planner matched: each in the state database,
    /// then their HubSpot ids written back to the app in one transaction.
    /// A pair whose link or write-back fails is audited FAILED and left
    /// out; the rest come back to be written.
    pub(super) async fn link_pairs(
        &self,
        records: &Records<'_>,
        pairs: Vec<PairWrite>,
        tally: &mut Tally,
    ) -> anyhow::Result<Vec<PairWrite>> {
        let mut stored = Vec::with_capacity(pairs.len());
        let mut failed = Vec::new();
        for p in pairs {
            match self
                .store
                .link(
                    self.mapping.object,
                    &p.app_id,
                    &p.hubspot_id,
                    &p.writes.memory,
                )
                .await
            {
                Ok(()) => stored.push(p),
                Err(e) => failed.push((p, e)),
            }
        }
        let ids: Vec<(String, String)> = stored
            .iter()
            .map(|p| (p.app_id.clone(), p.hubspot_id.clone()))
            .collect();
        let written = self.app.set_hubspot_ids(self.mapping, &ids).await?;
        let mut linked = Vec::with_capacity(stored.len());
        for (p, r) in stored.into_iter().zip(written) {
            match r {
                Ok(()) => linked.push(p),
                Err(e) => failed.push((p, e)),
            }
        }
        for (p, err) in failed {
            let e = Entry {
                record: RecordRef::App(p.app_id.clone()),
                hubspot_id: Some(&p.hubspot_id),
                direction: Direction::Both,
                action: AuditAction::Link,
                diff: None,
            };
            self.audit(
                records,
                e,
                AuditStatus::Failed,
                Some("LINK".into()),
                Some(format!("{err:#}")),
            )
            .await?;
            tally.failed += 1;
        }
        Ok(linked)
    }

    /// Settles a pair's app half (already written, or failed, in the
    /// batch's app transaction) and returns its HubSpot half to be batched,
    /// carrying the memory to keep once it lands.
    pub(super) async fn settle_pair(
        &self,
        records: &Records<'_>,
        pair: PairWrite,
        app_result: Option<anyhow::Result<()>>,
        tally: &mut Tally,
    ) -> anyhow::Result<Option<Pending>> {
        let PairWrite {
            app_id,
            hubspot_id,
            writes,
            action,
        } = pair;
        let mut memory = writes.memory.clone();
        if let Some(result) = app_result {
            let e = Entry {
                record: RecordRef::App(app_id.clone()),
                hubspot_id: Some(&hubspot_id),
                direction: Direction::ToApp,
                action,
                diff: Some(&writes.to_app),
            };
            match result {
                Ok(()) => {
                    memory.extend(writes.to_app_memory.clone());
                    self.audit(records, e, AuditStatus::Success, None, None)
                        .await?;
                    tally.succeeded += 1;
                }
                Err(err) => {
                    let msg = format!("{err:#}");
                    self.audit(
                        records,
                        e,
                        AuditStatus::Failed,
                        Some("APP_DB".into()),
                        Some(msg),
                    )
                    .await?;
                    tally.failed += 1;
                }
            }
        }
        self.store
            .set_memory(self.mapping.object, &app_id, &memory)
            .await?;
        if writes.to_hubspot.is_empty() {
            if action == AuditAction::Link && writes.to_app.is_empty() {
                let e = Entry {
                    record: RecordRef::App(app_id.clone()),
                    hubspot_id: Some(&hubspot_id),
                    direction: Direction::Both,
                    action,
                    diff: None,
                };
                self.audit(records, e, AuditStatus::Success, None, None)
                    .await?;
                tally.succeeded += 1;
            }
            return Ok(None);
        }
        let company_before = writes.memory.get(COMPANY).cloned();
        memory.extend(writes.to_hubspot.clone());
        Ok(Some(Pending {
            app_id,
            hubspot_id: Some(hubspot_id),
            action,
            properties: writes.to_hubspot,
            memory,
            company_before,
        }))
    }
}
