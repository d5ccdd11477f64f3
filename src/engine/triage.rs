//! The triage view's data: open FAILED entries by error class, with the
//! fix hint for each known class. A budget hint needs to know when the
//! budget is back, which only the engine knows (from HubSpot's answers).

use super::Engine;
use crate::triage::{FailedGroup, HintContext, hint};
use chrono::Utc;

impl Engine {
    /// When the rate budget is back, as HubSpot's last answer tells it.
    pub fn hint_context(&self) -> HintContext {
        let Some(b) = self.client.connection_status().budget else {
            return HintContext::default();
        };
        HintContext {
            budget_returns_at: (b.remaining == 0)
                .then(|| Utc::now() + chrono::Duration::milliseconds(b.interval_ms as i64)),
            daily_spent: b.daily_remaining == Some(0),
        }
    }

    /// Open FAILED entries by class, each with its hint.
    pub async fn failed_groups(&self) -> anyhow::Result<Vec<FailedGroup>> {
        let cx = self.hint_context();
        let mut groups = self.store.failed_groups().await?;
        for g in &mut groups {
            g.hint = hint(&g.class, cx);
        }
        Ok(groups)
    }
}
