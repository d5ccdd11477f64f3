//! `set_app_field`: an operator fixes one app value (the invalid email of
//! a FAILED record), through the engine, audited with their OS user. The
//! retry that syncs it is theirs to ask for next.

use super::{FieldEdited, synced};
use crate::engine::Engine;
use crate::model::ObjectKind;
use crate::store::NewEdit;

impl Engine {
    /// Writes `value` to the mapped column `field` of app record `app_id`
    /// and audits it (action `edited`, old → new, `user`). A refusal (an
    /// unmapped column, a value the column cannot hold, no such row)
    /// writes nothing.
    pub async fn set_app_field(
        &self,
        object: ObjectKind,
        app_id: &str,
        field: &str,
        value: &str,
        user: &str,
    ) -> anyhow::Result<FieldEdited> {
        let os = synced(self, object)?;
        let m = &os.mapping;
        let edit = self
            .app
            .set_field(m, app_id, field, value)
            .await
            .map_err(|e| anyhow::anyhow!("{object} {app_id}: {e:#}"))?;
        let hubspot_id = self
            .store
            .links_for(object, &[app_id.to_string()])
            .await?
            .remove(app_id)
            .or(edit.before.hubspot_id.clone());
        let audit_id = self
            .store
            .record_edit(&NewEdit {
                object,
                app_id: app_id.to_string(),
                hubspot_id,
                label: m.label_of(&edit.before),
                column: field.to_string(),
                old: edit.old.clone(),
                new: value.to_string(),
                operator: user.to_string(),
            })
            .await?;
        tracing::info!(user, %object, app_id, column = field, audit_id, "app value edited by an operator");
        Ok(FieldEdited {
            audit_id,
            notice: format!(
                "{field} of {object} {app_id} set to {value:?} (was {}); retry to sync it",
                edit.old
                    .as_deref()
                    .map_or("empty".to_string(), |v| format!("{v:?}"))
            ),
            old: edit.old,
            new: value.to_string(),
        })
    }
}
