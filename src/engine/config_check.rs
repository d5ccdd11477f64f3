//! The validators (`config::validate`) run against what this engine can
//! see: HubSpot's property lists and the app tables. The editor's preview
//! and save, and `hubsync run` at start and on reload, all ask here, so a
//! config is judged the same wherever it comes from.

use super::Engine;
use crate::config::Config;
use crate::config::validate::{Facts, Problem, object};
use crate::hubspot::wire::Property;
use crate::model::ObjectKind;
use std::collections::HashMap;

impl Engine {
    /// The problems of every object of `cfg`, with each object's property
    /// list as `properties` has it (or why it could not be had); what
    /// cannot be read is skipped and said in the second list.
    pub async fn config_problems(
        &self,
        cfg: &Config,
        properties: &HashMap<ObjectKind, Result<Vec<Property>, String>>,
    ) -> (Vec<Problem>, Vec<String>) {
        let mut out = Vec::new();
        let mut unchecked = Vec::new();
        for o in &cfg.objects {
            let kind = o.mapping.object;
            let props = match properties.get(&kind) {
                Some(Ok(p)) => Some(p.as_slice()),
                Some(Err(e)) => {
                    unchecked.push(e.clone());
                    None
                }
                None => {
                    unchecked.push(format!("HubSpot {kind} properties: not asked"));
                    None
                }
            };
            let table = match self.app().table_info(&o.mapping).await {
                Ok(t) => Some(t),
                Err(e) => {
                    unchecked.push(format!("[objects.{kind}] app table: {e:#}"));
                    None
                }
            };
            if let Some(t) = &table
                && t.columns.is_empty()
            {
                let key = format!("objects.{kind}.table");
                let (line, column) = cfg.keys.position(&key).unwrap_or((0, 0));
                out.push(Problem {
                    key,
                    object: kind.to_string(),
                    entry: String::new(),
                    field: "table".into(),
                    context: "table".into(),
                    message: format!(
                        "app database {} has no table {}",
                        self.app().describe(),
                        o.mapping.table
                    ),
                    line,
                    column,
                });
            }
            out.extend(object(
                cfg,
                o,
                &Facts {
                    properties: props,
                    table: table.as_ref(),
                },
            ));
        }
        (out, unchecked)
    }

    /// [`Engine::config_problems`] with HubSpot's lists fetched now.
    pub async fn config_problems_now(&self, cfg: &Config) -> (Vec<Problem>, Vec<String>) {
        let mut lists = HashMap::new();
        for o in &cfg.objects {
            let kind = o.mapping.object;
            let list = self
                .client()
                .properties(kind)
                .await
                .map_err(|e| format!("HubSpot {kind} properties: {e}"));
            lists.insert(kind, list);
        }
        self.config_problems(cfg, &lists).await
    }
}
