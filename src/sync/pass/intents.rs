//! Writes to HubSpot a crash left unconfirmed, settled before planning.

use super::Pass;
use crate::hubspot::MAX_BATCH;
use crate::hubspot::wire::SimplePublicObject;
use crate::sync::execute::ExecError;
use crate::sync::plan::Link;
use crate::sync::transform::same_value;
use std::collections::{BTreeMap, HashMap};

impl Pass<'_> {
    /// Settles writes a crash left unconfirmed: for each value a link was
    /// sending to HubSpot, decide whether it landed, and remember it if so.
    /// HubSpot holding the value says yes; holding the remembered one says
    /// no; holding a third value (someone edited it since) is decided by
    /// the property's history: if our value is in it, it landed and the
    /// edit is newer, so the edit must win rather than be overwritten.
    pub(super) async fn settle_intents(
        &self,
        links: &mut [Link],
        hubspot: &HashMap<String, SimplePublicObject>,
    ) -> Result<(), ExecError> {
        let had: Vec<usize> = (0..links.len())
            .filter(|i| {
                !links[*i].pending.is_empty() && hubspot.contains_key(&links[*i].hubspot_id)
            })
            .collect();
        let mut unsure: Vec<(usize, String)> = Vec::new();
        for &i in &had {
            let l = &mut links[i];
            let o = &hubspot[&l.hubspot_id];
            for (p, sent) in std::mem::take(&mut l.pending) {
                let now = o.prop(&p).unwrap_or("");
                if same_value(now, &sent) {
                    l.memory.insert(p, sent);
                } else if l.memory.get(&p).is_none_or(|m| !same_value(now, m)) {
                    l.pending.insert(p.clone(), sent);
                    unsure.push((i, p));
                }
            }
        }
        if !unsure.is_empty() {
            let mut ids: Vec<String> = unsure
                .iter()
                .map(|(i, _)| links[*i].hubspot_id.clone())
                .collect();
            ids.sort();
            ids.dedup();
            let mut props: Vec<&str> = unsure.iter().map(|(_, p)| p.as_str()).collect();
            props.sort();
            props.dedup();
            let mut history: HashMap<String, BTreeMap<String, Vec<String>>> = HashMap::new();
            for chunk in ids.chunks(MAX_BATCH) {
                let r = self
                    .client
                    .batch_read_with_history(self.object(), None, chunk, &props, &props)
                    .await?;
                for o in r.results {
                    let values = o
                        .properties_with_history
                        .into_iter()
                        .map(|(p, h)| (p, h.into_iter().map(|v| v.value).collect()))
                        .collect();
                    history.insert(o.object.id, values);
                }
            }
            for (i, p) in unsure {
                let l = &mut links[i];
                let Some(sent) = l.pending.remove(&p) else {
                    continue;
                };
                // Newest first; only what came after the remembered value
                // counts, so an old value that happens to match does not.
                let before = l.memory.get(&p);
                let landed = history
                    .get(&l.hubspot_id)
                    .and_then(|h| h.get(&p))
                    .is_some_and(|values| {
                        values
                            .iter()
                            .take_while(|v| before.is_none_or(|b| !same_value(v, b)))
                            .any(|v| same_value(v, &sent))
                    });
                if landed {
                    l.memory.insert(p, sent);
                }
            }
        }
        for i in had {
            // Settled: written down now, so the question is never asked twice.
            let l = &mut links[i];
            l.pending.clear();
            self.store
                .set_memory(self.object(), &l.app_id, &l.memory)
                .await?;
        }
        Ok(())
    }
}
