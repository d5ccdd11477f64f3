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

use super::mapping::{ADDITIONAL_EMAILS, COMPANY, ObjectMapping, key_norm};
use super::plan::{Decision, Gone, Writes};
use crate::appdb::{AppDb, AppRecord};
use crate::hubspot::wire::{CreateInput, SimplePublicObject, StandardError, UpdateInput};
use crate::hubspot::{HubSpotClient, HubSpotError, MAX_BATCH};
use crate::model::{Direction, RecordRef};
use crate::status::{AuditAction, AuditStatus};
use crate::store::{NewAudit, Store};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Mutex;

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
        match self {
            ExecError::HubSpot(e) => e.is_transient(),
            // The app database went away mid-job: it may come back.
            ExecError::Local(e) => crate::appdb::is_unavailable(e),
        }
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
    /// Contacts whose HubSpot write landed and whose company association
    /// is still to move.
    pub company_moves: Mutex<Vec<Pending>>,
    /// Whether a contact create refused because the email exists is handed
    /// back to be planned against the record found (the pass sends creates
    /// without looking emails up first: HubSpot's 409 is that lookup).
    pub defer_conflicts: bool,
    deferred: Mutex<Deferred>,
}

/// Creates handed back for planning: the app records, and the HubSpot
/// records that already hold their keys.
#[derive(Debug, Default)]
pub struct Deferred {
    pub app_ids: Vec<String>,
    pub found: Vec<SimplePublicObject>,
}

impl<'a> Executor<'a> {
    pub fn new(
        client: &'a HubSpotClient,
        store: &'a Store,
        app: &'a AppDb,
        mapping: &'a ObjectMapping,
        job_id: i64,
    ) -> Self {
        Executor {
            client,
            store,
            app,
            mapping,
            job_id,
            company_moves: Mutex::new(Vec::new()),
            defer_conflicts: false,
            deferred: Mutex::new(Deferred::default()),
        }
    }

    /// The creates a 409 handed back, to be planned again with what was
    /// found; none unless `defer_conflicts`.
    pub fn take_deferred(&self) -> Deferred {
        std::mem::take(&mut *lock(&self.deferred))
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// The properties HubSpot is sent: virtual ones (the company association)
/// are written by their own calls.
fn real_properties(p: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    p.iter()
        .filter(|(k, _)| !k.starts_with('@'))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// Whether a write sends any real property (not only an association).
fn properties_sent(p: &Pending) -> bool {
    !real_properties(&p.properties).is_empty()
}

/// A write's memory, leaving the company as it was until the association
/// itself has moved.
fn without_company_move(p: &Pending) -> BTreeMap<String, String> {
    let mut m = p.memory.clone();
    if p.properties.contains_key(COMPANY) {
        match &p.company_before {
            Some(b) => m.insert(COMPANY.into(), b.clone()),
            None => m.remove(COMPANY),
        };
    }
    m
}

/// The records a plan is about, for the labels of audit entries.
pub struct Records<'a> {
    pub app: &'a HashMap<String, AppRecord>,
    pub hubspot: &'a HashMap<String, SimplePublicObject>,
}

/// A write to HubSpot in flight: which record, what it says in the audit
/// log, and what the link remembers once it lands.
#[derive(Debug, Clone)]
pub struct Pending {
    app_id: String,
    hubspot_id: Option<String>,
    action: AuditAction,
    properties: BTreeMap<String, String>,
    memory: BTreeMap<String, String>,
    /// The company association hubsync made before this write, to drop.
    company_before: Option<String>,
}

/// A linked pair's writes, before the app half is applied.
struct PairWrite {
    app_id: String,
    hubspot_id: String,
    writes: Writes,
    action: AuditAction,
}

/// A HubSpot record to create in the app.
struct AppCreate {
    hubspot_id: String,
    values: BTreeMap<String, String>,
    memory: BTreeMap<String, String>,
}

/// One audit entry's facts, before the label is looked up.
struct Entry<'p> {
    record: RecordRef,
    hubspot_id: Option<&'p str>,
    direction: Direction,
    action: AuditAction,
    diff: Option<&'p BTreeMap<String, String>>,
}

impl Executor<'_> {
    /// Writes the app half of a plan in one transaction, then records what
    /// landed: links of created rows, memory, audit entries. Returns the
    /// HubSpot halves of the pairs, to be batched.
    async fn apply_app_side(
        &self,
        records: &Records<'_>,
        pairs: Vec<PairWrite>,
        creates: Vec<AppCreate>,
        tally: &mut Tally,
    ) -> anyhow::Result<Vec<Pending>> {
        let m = self.mapping;
        let updates: Vec<(String, BTreeMap<String, String>)> = pairs
            .iter()
            .filter(|p| !p.writes.to_app.is_empty())
            .map(|p| (p.app_id.clone(), p.writes.to_app.clone()))
            .collect();
        let inserts: Vec<(BTreeMap<String, String>, String)> = creates
            .iter()
            .map(|c| (c.values.clone(), c.hubspot_id.clone()))
            .collect();
        if !creates.is_empty() {
            // Noted first: a crash after the app's commit and before the
            // links below leaves rows the next pass links with this memory.
            let notes: Vec<(&str, &BTreeMap<String, String>)> = creates
                .iter()
                .map(|c| (c.hubspot_id.as_str(), &c.memory))
                .collect();
            self.store.note_app_creates(m.object, &notes).await?;
        }
        let (updated, inserted) = if updates.is_empty() && inserts.is_empty() {
            (vec![], vec![])
        } else {
            self.app.write_batch(m, &updates, &inserts).await?
        };
        let mut updated = updated.into_iter();
        let mut to_hubspot = Vec::new();
        for pair in pairs {
            let app_result = if pair.writes.to_app.is_empty() {
                None
            } else {
                updated.next()
            };
            to_hubspot.extend(self.settle_pair(records, pair, app_result, tally).await?);
        }
        for (c, result) in creates.into_iter().zip(inserted) {
            let created = match result {
                Ok(id) => self
                    .store
                    .link(m.object, &id, &c.hubspot_id, &c.memory)
                    .await
                    .map(|()| id),
                Err(e) => Err(e),
            };
            let (record, status, category, message) = match created {
                Ok(id) => (RecordRef::App(id), AuditStatus::Success, None, None),
                Err(err) => (
                    RecordRef::HubSpot(c.hubspot_id.clone()),
                    AuditStatus::Failed,
                    Some("APP_DB".to_string()),
                    Some(format!("{err:#}")),
                ),
            };
            if status == AuditStatus::Success {
                tally.succeeded += 1;
            } else {
                tally.failed += 1;
            }
            let e = Entry {
                record,
                hubspot_id: Some(&c.hubspot_id),
                direction: Direction::ToApp,
                action: AuditAction::Create,
                diff: Some(&c.values),
            };
            self.audit(records, e, status, category, message).await?;
        }
        Ok(to_hubspot)
    }

    /// Applies `decisions` about `records`.
    pub async fn run(
        &self,
        records: &Records<'_>,
        decisions: Vec<Decision>,
    ) -> Result<Tally, ExecError> {
        let m = self.mapping;
        let mut tally = Tally::default();
        let mut creates = Vec::new();
        let mut pairs = Vec::new();
        let mut app_creates = Vec::new();
        let mut links = Vec::new();
        for d in decisions {
            match d {
                Decision::Unlink {
                    app_id,
                    hubspot_id,
                    gone,
                } => {
                    let why = match gone {
                        Gone::HubSpot => {
                            // The row first: stamped, it comes back through
                            // the change feed even if we die before the
                            // link is gone.
                            self.app.clear_hubspot_id(m, &app_id).await?;
                            self.store.unlink(m.object, &app_id).await?;
                            "the HubSpot record no longer exists; app record kept"
                        }
                        Gone::App => {
                            self.store.bury(m.object, &app_id, &hubspot_id).await?;
                            "the app record was deleted; HubSpot record kept and not created in the app again"
                        }
                    };
                    let e = Entry {
                        record: RecordRef::App(app_id),
                        hubspot_id: Some(&hubspot_id),
                        direction: Direction::Both,
                        action: AuditAction::Unlink,
                        diff: None,
                    };
                    self.audit(records, e, AuditStatus::Success, None, Some(why.into()))
                        .await?;
                    tally.succeeded += 1;
                }
                Decision::InStep { app_id, hubspot_id } => {
                    let e = Entry {
                        record: RecordRef::App(app_id),
                        hubspot_id: Some(&hubspot_id),
                        direction: Direction::Both,
                        action: AuditAction::Update,
                        diff: None,
                    };
                    let why = "already in step on both sides; nothing to write";
                    self.audit(records, e, AuditStatus::Success, None, Some(why.into()))
                        .await?;
                    tally.succeeded += 1;
                }
                Decision::Skip {
                    app_id,
                    hubspot_id,
                    reason,
                } => {
                    let (record, direction) = match (app_id, &hubspot_id) {
                        (Some(a), _) => (RecordRef::App(a), Direction::ToHubSpot),
                        (None, Some(h)) => (RecordRef::HubSpot(h.clone()), Direction::ToApp),
                        (None, None) => continue,
                    };
                    let e = Entry {
                        record,
                        hubspot_id: hubspot_id.as_deref(),
                        direction,
                        action: AuditAction::Skip,
                        diff: None,
                    };
                    self.audit(records, e, AuditStatus::Skipped, None, Some(reason))
                        .await?;
                    tally.skipped += 1;
                }
                Decision::DuplicateKey {
                    app_id,
                    hubspot_id,
                    reason,
                    ..
                } => {
                    let e = Entry {
                        record: RecordRef::App(app_id),
                        hubspot_id: hubspot_id.as_deref(),
                        direction: Direction::ToHubSpot,
                        action: AuditAction::Skip,
                        diff: None,
                    };
                    self.audit(
                        records,
                        e,
                        AuditStatus::Failed,
                        Some("DUPLICATE_KEY".into()),
                        Some(reason),
                    )
                    .await?;
                    tally.failed += 1;
                }
                Decision::Link {
                    app_id,
                    hubspot_id,
                    writes,
                } => links.push(PairWrite {
                    app_id,
                    hubspot_id,
                    writes,
                    action: AuditAction::Link,
                }),
                Decision::Relink {
                    app_id,
                    from,
                    hubspot_id,
                    writes,
                } => {
                    // The link row is keyed by the app record: relinking
                    // replaces its HubSpot id in place.
                    self.link(&app_id, &hubspot_id, &writes.memory).await?;
                    let e = Entry {
                        record: RecordRef::App(app_id.clone()),
                        hubspot_id: Some(&hubspot_id),
                        direction: Direction::Both,
                        action: AuditAction::Link,
                        diff: None,
                    };
                    let why = format!(
                        "HubSpot {} {from} was merged into {hubspot_id}; the link follows the surviving record",
                        m.object
                    );
                    self.audit(records, e, AuditStatus::Success, None, Some(why))
                        .await?;
                    tally.succeeded += 1;
                    pairs.push(PairWrite {
                        app_id,
                        hubspot_id,
                        writes,
                        action: AuditAction::Update,
                    });
                }
                Decision::Update {
                    app_id,
                    hubspot_id,
                    writes,
                } => {
                    pairs.push(PairWrite {
                        app_id,
                        hubspot_id,
                        writes,
                        action: AuditAction::Update,
                    });
                }
                Decision::CreateInHubSpot {
                    app_id,
                    properties,
                    memory,
                } => {
                    creates.push(Pending {
                        app_id,
                        hubspot_id: None,
                        action: AuditAction::Create,
                        memory,
                        properties,
                        company_before: None,
                    });
                }
                Decision::CreateInApp {
                    hubspot_id,
                    values,
                    memory,
                } => app_creates.push(AppCreate {
                    hubspot_id,
                    values,
                    memory,
                }),
            }
        }
        pairs.extend(self.link_pairs(records, links, &mut tally).await?);
        let mut updates = self
            .apply_app_side(records, pairs, app_creates, &mut tally)
            .await?;
        // Creates first: a 409 turns a create into a link whose values
        // still have to be written, which joins the updates.
        for chunk in creates.chunks(MAX_BATCH) {
            let linked = self
                .write_batches(records, chunk.to_vec(), Write::Create, &mut tally)
                .await?;
            updates.extend(linked);
        }
        // An update that only moves the company association has no
        // properties to send: it goes straight to the association step.
        let (only_company, updates): (Vec<Pending>, Vec<Pending>) = updates
            .into_iter()
            .partition(|p| real_properties(&p.properties).is_empty());
        for chunk in updates.chunks(MAX_BATCH) {
            self.write_batches(records, chunk.to_vec(), Write::Update, &mut tally)
                .await?;
        }
        let mut moves = std::mem::take(&mut *lock(&self.company_moves));
        for p in only_company {
            moves.push(p);
        }
        self.move_companies(records, moves, &mut tally).await?;
        Ok(tally)
    }
}

mod companies;
mod hubspot_writes;
mod landed;
mod outcomes;
mod settle;

/// Lost answers one batch of creates may meet before the job stops and is
/// tried again later: each is settled by a lookup, so this only bounds a
/// HubSpot that loses every answer.
const MAX_LOST_REPLIES: u32 = 10;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Write {
    Create,
    Update,
}
