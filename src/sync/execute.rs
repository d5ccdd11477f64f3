//! The executor: applies a plan to HubSpot, the app database and the state
//! store, in batches of up to 100, and writes one audit entry per record.
//!
//! HubSpot's batch endpoints fail in three ways the executor resolves rather
//! than reports: a 207 names the inputs that failed (by `objectWriteTraceId`,
//! which is always the app record's id); a 400 rejects the whole batch for
//! one bad input, so the batch is split until the bad input stands alone; a
//! 409 says a contact with that email exists, so the record is linked to it.
//! Transient failures (429, 5xx, timeouts: already retried by the client)
//! and auth failures stop the job instead: the records were not judged, so
//! they must not be marked FAILED.

use super::mapping::ObjectMapping;
use super::plan::Decision;
use crate::appdb::{AppDb, AppRecord};
use crate::hubspot::wire::{CreateInput, StandardError, UpdateInput};
use crate::hubspot::{HubSpotClient, HubSpotError, MAX_BATCH};
use crate::model::{Direction, email_key};
use crate::status::{AuditAction, AuditStatus};
use crate::store::{NewAudit, Store};
use std::collections::{BTreeMap, HashMap};

/// Outcomes of one executed plan.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Tally {
    pub succeeded: u64,
    pub failed: u64,
    pub skipped: u64,
}

/// Why a job stopped before its plan was applied.
#[derive(Debug, thiserror::Error)]
pub enum ExecError {
    /// HubSpot is unreachable, rate-limited past every retry, or refused
    /// our credentials: try the job again later.
    #[error(transparent)]
    HubSpot(Box<HubSpotError>),
    #[error(transparent)]
    Local(#[from] anyhow::Error),
}

impl From<HubSpotError> for ExecError {
    fn from(e: HubSpotError) -> Self {
        ExecError::HubSpot(Box::new(e))
    }
}

impl ExecError {
    pub fn is_transient(&self) -> bool {
        matches!(self, ExecError::HubSpot(e) if e.is_transient())
    }
}

/// Whether an error ends the job (true) or only fails the records in hand.
fn stops_job(e: &HubSpotError) -> bool {
    e.is_transient() || e.is_auth()
}

pub struct Executor<'a> {
    pub client: &'a HubSpotClient,
    pub store: &'a Store,
    pub app: &'a AppDb,
    pub mapping: &'a ObjectMapping,
    pub job_id: i64,
    pub direction: Direction,
}

/// A write in flight: which record, and what it says in the audit log.
#[derive(Debug, Clone)]
struct Pending {
    app_id: String,
    hubspot_id: Option<String>,
    action: AuditAction,
    properties: BTreeMap<String, String>,
}

impl Pending {
    /// An outcome that writes nothing.
    fn note(app_id: String, hubspot_id: Option<String>, action: AuditAction) -> Self {
        Pending {
            app_id,
            hubspot_id,
            action,
            properties: BTreeMap::new(),
        }
    }
}

impl Executor<'_> {
    fn audit(
        &self,
        records: &HashMap<String, AppRecord>,
        p: &Pending,
        status: AuditStatus,
        category: Option<String>,
        message: Option<String>,
    ) -> anyhow::Result<()> {
        let label = records
            .get(&p.app_id)
            .map(|r| self.mapping.label_of(r))
            .unwrap_or_else(|| format!("#{}", p.app_id));
        let diff = (!p.properties.is_empty())
            .then(|| serde_json::to_string(&p.properties))
            .transpose()?;
        self.store.record(&NewAudit {
            job_id: self.job_id,
            object: self.mapping.object,
            direction: self.direction,
            app_id: p.app_id.clone(),
            hubspot_id: p.hubspot_id.clone(),
            action: p.action,
            status,
            category,
            message,
            diff,
            label,
        })?;
        Ok(())
    }

    fn link(&self, app_id: &str, hubspot_id: &str) -> anyhow::Result<()> {
        self.store.link(self.mapping.object, app_id, hubspot_id)?;
        self.app
            .set_hubspot_id(self.mapping, app_id, Some(hubspot_id))
    }

    /// Applies `decisions` about `records`.
    pub async fn run(
        &self,
        records: &HashMap<String, AppRecord>,
        decisions: Vec<Decision>,
    ) -> Result<Tally, ExecError> {
        let mut tally = Tally::default();
        let mut creates = Vec::new();
        let mut updates = Vec::new();
        for d in decisions {
            match d {
                Decision::Unlink { app_id, hubspot_id } => {
                    self.store.unlink(self.mapping.object, &app_id)?;
                    self.app.set_hubspot_id(self.mapping, &app_id, None)?;
                    let p = Pending::note(app_id, Some(hubspot_id), AuditAction::Unlink);
                    let why = "the HubSpot record no longer exists; app record kept";
                    self.audit(records, &p, AuditStatus::Success, None, Some(why.into()))?;
                    tally.succeeded += 1;
                }
                Decision::InStep { app_id, hubspot_id } => {
                    let p = Pending::note(app_id, Some(hubspot_id), AuditAction::Update);
                    let why = "already in step with HubSpot; nothing to write";
                    self.audit(records, &p, AuditStatus::Success, None, Some(why.into()))?;
                    tally.succeeded += 1;
                }
                Decision::Skip { app_id, reason } => {
                    let p = Pending::note(app_id, None, AuditAction::Skip);
                    self.audit(records, &p, AuditStatus::Skipped, None, Some(reason))?;
                    tally.skipped += 1;
                }
                Decision::Link {
                    app_id,
                    hubspot_id,
                    diff,
                } => {
                    self.link(&app_id, &hubspot_id)?;
                    let p = Pending {
                        app_id,
                        hubspot_id: Some(hubspot_id),
                        action: AuditAction::Link,
                        properties: diff,
                    };
                    if p.properties.is_empty() {
                        self.audit(records, &p, AuditStatus::Success, None, None)?;
                        tally.succeeded += 1;
                    } else {
                        updates.push(p);
                    }
                }
                Decision::Update {
                    app_id,
                    hubspot_id,
                    diff,
                } => {
                    updates.push(Pending {
                        app_id,
                        hubspot_id: Some(hubspot_id),
                        action: AuditAction::Update,
                        properties: diff,
                    });
                }
                Decision::Create { app_id, properties } => {
                    creates.push(Pending {
                        app_id,
                        hubspot_id: None,
                        action: AuditAction::Create,
                        properties,
                    });
                }
            }
        }
        // Creates first: a 409 turns a create into a link whose values
        // still have to be written, which joins the updates.
        for chunk in creates.chunks(MAX_BATCH) {
            let linked = self
                .write_batches(records, chunk.to_vec(), Write::Create, &mut tally)
                .await?;
            updates.extend(linked);
        }
        for chunk in updates.chunks(MAX_BATCH) {
            self.write_batches(records, chunk.to_vec(), Write::Update, &mut tally)
                .await?;
        }
        Ok(tally)
    }

    /// Sends one batch, splitting it on whole-batch rejections until every
    /// input has its own outcome. Returns the creates that a 409 turned into
    /// links, whose values are still to be written by an update.
    async fn write_batches(
        &self,
        records: &HashMap<String, AppRecord>,
        batch: Vec<Pending>,
        kind: Write,
        tally: &mut Tally,
    ) -> Result<Vec<Pending>, ExecError> {
        let mut linked = Vec::new();
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
                            properties: p.properties.clone(),
                            associations: vec![],
                            object_write_trace_id: Some(p.app_id.clone()),
                        })
                        .collect();
                    self.client.batch_create(self.mapping.object, inputs).await
                }
                Write::Update => {
                    let inputs = batch
                        .iter()
                        .map(|p| UpdateInput {
                            id: p.hubspot_id.clone().unwrap_or_default(),
                            properties: p.properties.clone(),
                            object_write_trace_id: Some(p.app_id.clone()),
                        })
                        .collect();
                    self.client.batch_update(self.mapping.object, inputs).await
                }
            };
            match result {
                Ok(resp) => self.settle(records, batch, kind, resp.results, &resp.errors, tally)?,
                Err(e) if stops_job(&e) => return Err(e.into()),
                Err(e) => {
                    if let (Write::Create, Some(existing)) = (kind, e.existing_id()) {
                        let (hit, rest) = self.resolve_conflict(batch, &existing).await?;
                        linked.extend(hit);
                        work.push(rest);
                    } else if batch.len() > 1 {
                        // One bad input fails the whole batch: halve it until
                        // the bad one is alone, so the rest still get written.
                        let mut left = batch;
                        let right = left.split_off(left.len() / 2);
                        work.push(right);
                        work.push(left);
                    } else {
                        for p in &batch {
                            self.audit(
                                records,
                                p,
                                AuditStatus::Failed,
                                Some(e.category()),
                                Some(e.message()),
                            )?;
                            tally.failed += 1;
                        }
                    }
                }
            }
        }
        Ok(linked)
    }

    /// Records the outcome of a 200/201/207 answer for each input.
    fn settle(
        &self,
        records: &HashMap<String, AppRecord>,
        batch: Vec<Pending>,
        kind: Write,
        results: Vec<crate::hubspot::wire::SimplePublicObject>,
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
        // HubSpot does not promise results in input order: match created
        // records to inputs by their key (email), which the plan made unique.
        let created_by_key: HashMap<String, String> = results
            .iter()
            .filter_map(|o| {
                o.prop(&self.mapping.key_property)
                    .map(|k| (email_key(k), o.id.clone()))
            })
            .collect();
        for mut p in batch {
            if let Some(err) = failed.get(&p.app_id) {
                self.audit(
                    records,
                    &p,
                    AuditStatus::Failed,
                    err.category.clone(),
                    err.message.clone(),
                )?;
                tally.failed += 1;
                continue;
            }
            if kind == Write::Create {
                let key = p
                    .properties
                    .get(&self.mapping.key_property)
                    .map(|k| email_key(k));
                match key.and_then(|k| created_by_key.get(&k)) {
                    Some(id) => {
                        self.link(&p.app_id, id)?;
                        p.hubspot_id = Some(id.clone());
                    }
                    None => {
                        let msg =
                            "HubSpot answered the create without this record or an error for it"
                                .to_string();
                        self.audit(
                            records,
                            &p,
                            AuditStatus::Failed,
                            Some("UNCONFIRMED".into()),
                            Some(msg),
                        )?;
                        tally.failed += 1;
                        continue;
                    }
                }
            }
            self.audit(records, &p, AuditStatus::Success, None, None)?;
            tally.succeeded += 1;
        }
        Ok(())
    }

    /// A 409 names the existing contact that holds one input's email: link
    /// that input to it, and hand back (linked, rest of the batch).
    async fn resolve_conflict(
        &self,
        batch: Vec<Pending>,
        existing_id: &str,
    ) -> Result<(Vec<Pending>, Vec<Pending>), ExecError> {
        let props = [self.mapping.key_property.as_str()];
        let read = self
            .client
            .batch_read(
                self.mapping.object,
                None,
                &[existing_id.to_string()],
                &props,
            )
            .await?;
        let existing_key = read
            .results
            .first()
            .and_then(|o| o.prop(&self.mapping.key_property))
            .map(email_key);
        let key_of = |p: &Pending| {
            p.properties
                .get(&self.mapping.key_property)
                .map(|k| email_key(k))
        };
        let (mut hit, rest): (Vec<_>, Vec<_>) = batch
            .into_iter()
            .partition(|p| existing_key.is_some() && key_of(p) == existing_key);
        if hit.is_empty() {
            // We cannot tell which input collided, and guessing would link
            // the wrong record: stop the job and say so.
            return Err(ExecError::Local(anyhow::anyhow!(
                "HubSpot reported a conflict with contact {existing_id}, which matches no input of the batch"
            )));
        }
        for p in &mut hit {
            self.link(&p.app_id, existing_id)?;
            p.hubspot_id = Some(existing_id.to_string());
            p.action = AuditAction::Link;
        }
        Ok((hit, rest))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Write {
    Create,
    Update,
}
