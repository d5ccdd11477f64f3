//! One record planned as a retry would plan it, dry: the decision a sync
//! would take now, with nothing written (the console's record view).

use super::Pass;
use crate::appdb::AppRecord;
use crate::hubspot::wire::SimplePublicObject;
use crate::model::RecordRef;
use crate::sync::execute::ExecError;
use crate::sync::plan::{Decision, Link};

impl Pass<'_> {
    /// What a retry of `r` reads first: its row or HubSpot record, and
    /// its link when that is all that is left of it.
    pub(super) async fn read_one(
        &self,
        r: &RecordRef,
    ) -> Result<(Vec<AppRecord>, Vec<SimplePublicObject>, Vec<Link>), ExecError> {
        match r {
            RecordRef::App(id) => {
                let rec = self.app.get(self.mapping, id).await?;
                let links = match rec {
                    Some(_) => vec![],
                    // Deleted since: its link (if any) is what is left to settle.
                    None => {
                        self.store
                            .links_of_app(self.object(), std::slice::from_ref(id))
                            .await?
                    }
                };
                if rec.is_none() && links.is_empty() {
                    return Err(anyhow::anyhow!(
                        "app {} record {id} no longer exists",
                        self.mapping.table
                    )
                    .into());
                }
                Ok((rec.into_iter().collect(), vec![], links))
            }
            RecordRef::HubSpot(id) => {
                let (found, _) = self.read_by_id(std::slice::from_ref(id)).await?;
                let found: Vec<SimplePublicObject> =
                    found.into_iter().filter(|o| &o.id == id).collect();
                let links = self
                    .store
                    .links_of_hubspot(self.object(), std::slice::from_ref(id))
                    .await?;
                if found.is_empty() && links.is_empty() {
                    return Err(anyhow::anyhow!(
                        "HubSpot {} {id} no longer exists and is not linked",
                        self.object()
                    )
                    .into());
                }
                Ok((vec![], found, links))
            }
        }
    }

    /// The decisions a retry of `r` would carry out now, without carrying
    /// any out: the same reads and the same planner, no write anywhere.
    pub async fn dry(&self, r: RecordRef) -> Result<Vec<Decision>, ExecError> {
        let (app, hubspot, links) = self.read_one(&r).await?;
        let g = self.gather(app, hubspot, links, true, None, true).await?;
        Ok(g.decide(self.mapping, self.rules, std::slice::from_ref(&r)))
    }
}
