//! Moving a contact's company association in HubSpot, once its property
//! write has landed.

use super::{Entry, ExecError, Executor, Pending, Records, Tally, stops_job};
use crate::model::{Direction, ObjectKind, RecordRef};
use crate::status::{AuditAction, AuditStatus};
use crate::sync::mapping::COMPANY;
use std::collections::BTreeMap;

impl Executor<'_> {
    /// Associates contacts with the company the plan chose (and drops the
    /// association hubsync made before), then remembers it: SPEC §2's
    /// "a contact's company follows … and the reverse".
    pub(super) async fn move_companies(
        &self,
        records: &Records<'_>,
        moves: Vec<Pending>,
        tally: &mut Tally,
    ) -> Result<(), ExecError> {
        let m = self.mapping;
        for p in moves {
            let (Some(contact), Some(company)) = (&p.hubspot_id, p.properties.get(COMPANY)) else {
                continue;
            };
            let before = p
                .company_before
                .clone()
                .filter(|b| !b.is_empty() && b != company);
            // The new association first: a crash between the two calls
            // then leaves one too many, never none.
            let mut result = Ok(());
            if !company.is_empty() {
                result = self
                    .client
                    .associate_default(m.object, contact, ObjectKind::Companies, company)
                    .await;
            }
            if result.is_ok()
                && let Some(old) = &before
            {
                result = self
                    .client
                    .remove_associations(m.object, contact, ObjectKind::Companies, old)
                    .await;
            }
            let diff = BTreeMap::from([(COMPANY.to_string(), company.clone())]);
            let e = Entry {
                record: RecordRef::App(p.app_id.clone()),
                hubspot_id: Some(contact),
                direction: Direction::ToHubSpot,
                action: AuditAction::Update,
                diff: Some(&diff),
            };
            match result {
                Ok(()) => {
                    // Read the stored memory again: the property write of
                    // this record may have landed since.
                    let mut memory = self
                        .store
                        .links_of_app(m.object, std::slice::from_ref(&p.app_id))
                        .await?
                        .pop()
                        .map(|l| l.memory)
                        .unwrap_or_default();
                    memory.insert(COMPANY.into(), company.clone());
                    self.store.set_memory(m.object, &p.app_id, &memory).await?;
                    self.audit(records, e, AuditStatus::Success, None, None)
                        .await?;
                    tally.succeeded += 1;
                }
                Err(err) if stops_job(&err) => return Err(err.into()),
                Err(err) => {
                    self.audit(
                        records,
                        e,
                        AuditStatus::Failed,
                        Some(err.category()),
                        Some(err.message()),
                    )
                    .await?;
                    tally.failed += 1;
                }
            }
        }
        Ok(())
    }
}
