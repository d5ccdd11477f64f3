//! The planner: given app records, their links, what HubSpot holds and the
//! mapping, decide what to do with each record. Pure: no I/O, no clock, so
//! every rule of SPEC §2 it implements is tested here, record by record.
//!
//! The order follows SPEC §2's pass: unlink links whose HubSpot record is
//! gone, then match-or-create the unlinked, then update the linked with the
//! exact field diff.

use super::mapping::ObjectMapping;
use crate::appdb::AppRecord;
use crate::hubspot::wire::SimplePublicObject;
use std::collections::{BTreeMap, HashMap};

/// What to do with one app record.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    /// The linked HubSpot record no longer exists: drop the link, keep the app record.
    Unlink { app_id: String, hubspot_id: String },
    /// An existing HubSpot record has this record's key: link it instead of
    /// creating a duplicate, then write `diff` (may be empty).
    Link {
        app_id: String,
        hubspot_id: String,
        diff: BTreeMap<String, String>,
    },
    /// Nothing in HubSpot matches: create it with these properties.
    Create {
        app_id: String,
        properties: BTreeMap<String, String>,
    },
    /// Linked and changed: write exactly these properties.
    Update {
        app_id: String,
        hubspot_id: String,
        diff: BTreeMap<String, String>,
    },
    /// Nothing will be written, and why.
    Skip { app_id: String, reason: String },
    /// Linked and already equal on both sides. The planner never emits this
    /// for a pass (a pass in step plans nothing); a single-record retry adds
    /// it so the operator sees an outcome.
    InStep { app_id: String, hubspot_id: String },
}

impl Decision {
    pub fn app_id(&self) -> &str {
        match self {
            Decision::Unlink { app_id, .. }
            | Decision::Link { app_id, .. }
            | Decision::Create { app_id, .. }
            | Decision::Update { app_id, .. }
            | Decision::Skip { app_id, .. }
            | Decision::InStep { app_id, .. } => app_id,
        }
    }
}

/// Everything the planner needs to decide one batch, already read.
pub struct PlanInput<'a> {
    pub mapping: &'a ObjectMapping,
    pub records: &'a [AppRecord],
    /// app id → linked HubSpot id, for the records in this batch.
    pub links: &'a HashMap<String, String>,
    /// HubSpot records read by id for the linked records; a linked id that is
    /// missing here no longer exists in HubSpot.
    pub by_id: &'a HashMap<String, SimplePublicObject>,
    /// HubSpot records read by key (email), keyed by the normalised key.
    pub by_key: &'a HashMap<String, SimplePublicObject>,
    /// HubSpot id → app id, for HubSpot records already linked to some app record.
    pub linked_hubspot: &'a HashMap<String, String>,
    /// Whether this direction may create records in HubSpot.
    pub may_create: bool,
}

/// Properties whose value in HubSpot differs from what the app says it should be.
pub fn diff(
    desired: &BTreeMap<String, String>,
    current: &SimplePublicObject,
) -> BTreeMap<String, String> {
    desired
        .iter()
        .filter(|(prop, want)| current.prop(prop).unwrap_or("") != want.as_str())
        .map(|(p, v)| (p.clone(), v.clone()))
        .collect()
}

pub fn plan(input: &PlanInput<'_>) -> Vec<Decision> {
    let m = input.mapping;
    let mut out = Vec::new();
    // Keys this batch already claimed, so two app rows with one email
    // produce one HubSpot contact, not two.
    let mut claimed: HashMap<String, String> = HashMap::new();

    for rec in input.records {
        let desired = m.to_hubspot(rec);
        if let Some(hs_id) = input.links.get(&rec.id) {
            match input.by_id.get(hs_id) {
                Some(current) => {
                    let d = diff(&desired, current);
                    if !d.is_empty() {
                        out.push(Decision::Update {
                            app_id: rec.id.clone(),
                            hubspot_id: hs_id.clone(),
                            diff: d,
                        });
                    }
                    if let Some(k) = m.key_of(rec) {
                        claimed.insert(k, rec.id.clone());
                    }
                    continue;
                }
                None => out.push(Decision::Unlink {
                    app_id: rec.id.clone(),
                    hubspot_id: hs_id.clone(),
                }),
            }
        }

        let Some(key) = m.key_of(rec) else {
            out.push(Decision::Skip {
                app_id: rec.id.clone(),
                reason: format!(
                    "no {}: {} are matched by {}",
                    m.key_column, m.object, m.key_property
                ),
            });
            continue;
        };
        if let Some(other) = claimed.get(&key) {
            out.push(Decision::Skip {
                app_id: rec.id.clone(),
                reason: format!(
                    "{} {key} is also app record {other}'s; one HubSpot record cannot hold both",
                    m.key_property
                ),
            });
            continue;
        }
        claimed.insert(key.clone(), rec.id.clone());

        match input.by_key.get(&key) {
            Some(existing) => {
                if let Some(owner) = input
                    .linked_hubspot
                    .get(&existing.id)
                    .filter(|a| **a != rec.id)
                {
                    out.push(Decision::Skip {
                        app_id: rec.id.clone(),
                        reason: format!(
                            "HubSpot {} {} with {} {key} is already linked to app record {owner}",
                            m.object, existing.id, m.key_property
                        ),
                    });
                    continue;
                }
                out.push(Decision::Link {
                    app_id: rec.id.clone(),
                    hubspot_id: existing.id.clone(),
                    diff: diff(&desired, existing),
                });
            }
            None if input.may_create => {
                let properties = desired.into_iter().filter(|(_, v)| !v.is_empty()).collect();
                out.push(Decision::Create {
                    app_id: rec.id.clone(),
                    properties,
                });
            }
            None => out.push(Decision::Skip {
                app_id: rec.id.clone(),
                reason: format!(
                    "no HubSpot {} has {} {key}, and this direction may not create",
                    m.object, m.key_property
                ),
            }),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(id: &str, email: Option<&str>, first: &str) -> AppRecord {
        let mut fields = BTreeMap::new();
        fields.insert("email".to_string(), email.map(str::to_string));
        fields.insert("first_name".to_string(), Some(first.to_string()));
        AppRecord {
            id: id.into(),
            fields,
            hubspot_id: None,
            updated_at: "2026-01-01T00:00:00.000Z".into(),
        }
    }

    fn hs(id: &str, email: &str, first: &str) -> SimplePublicObject {
        let mut properties = BTreeMap::new();
        for (k, v) in [
            ("email", email),
            ("firstname", first),
            ("lastname", ""),
            ("phone", ""),
            ("company", ""),
            ("jobtitle", ""),
        ] {
            properties.insert(k.to_string(), Some(v.to_string()));
        }
        SimplePublicObject {
            id: id.into(),
            properties,
            created_at: None,
            updated_at: None,
            archived: false,
        }
    }

    fn one(mut d: Vec<Decision>) -> Decision {
        assert_eq!(d.len(), 1, "expected one decision, got {d:?}");
        d.remove(0)
    }

    struct World {
        mapping: ObjectMapping,
        records: Vec<AppRecord>,
        links: HashMap<String, String>,
        by_id: HashMap<String, SimplePublicObject>,
        by_key: HashMap<String, SimplePublicObject>,
        linked_hubspot: HashMap<String, String>,
    }

    impl World {
        fn new(records: Vec<AppRecord>) -> Self {
            World {
                mapping: ObjectMapping::demo_contacts(),
                records,
                links: HashMap::new(),
                by_id: HashMap::new(),
                by_key: HashMap::new(),
                linked_hubspot: HashMap::new(),
            }
        }
        fn in_hubspot(mut self, o: SimplePublicObject) -> Self {
            self.by_key
                .insert(o.prop("email").unwrap().to_string(), o.clone());
            self.by_id.insert(o.id.clone(), o);
            self
        }
        fn linked(mut self, app: &str, hub: &str) -> Self {
            self.links.insert(app.into(), hub.into());
            self.linked_hubspot.insert(hub.into(), app.into());
            self
        }
        fn plan(&self) -> Vec<Decision> {
            plan(&PlanInput {
                mapping: &self.mapping,
                records: &self.records,
                links: &self.links,
                by_id: &self.by_id,
                by_key: &self.by_key,
                linked_hubspot: &self.linked_hubspot,
                may_create: true,
            })
        }
    }

    #[test]
    fn an_unlinked_record_whose_email_exists_in_hubspot_is_linked_not_duplicated() {
        let w = World::new(vec![rec("1", Some(" Ada@Example.com "), "Ada")]).in_hubspot(hs(
            "501",
            "ada@example.com",
            "Ada",
        ));
        assert_eq!(
            w.plan(),
            vec![Decision::Link {
                app_id: "1".into(),
                hubspot_id: "501".into(),
                diff: BTreeMap::new()
            }]
        );
    }

    #[test]
    fn linking_writes_the_fields_that_differ() {
        let w = World::new(vec![rec("1", Some("ada@example.com"), "Ada")]).in_hubspot(hs(
            "501",
            "ada@example.com",
            "A.",
        ));
        let Decision::Link { diff, .. } = one(w.plan()) else {
            panic!("expected one link")
        };
        assert_eq!(
            diff,
            BTreeMap::from([("firstname".to_string(), "Ada".to_string())])
        );
    }

    #[test]
    fn an_unmatched_record_is_created_without_empty_properties() {
        let w = World::new(vec![rec("1", Some("new@example.com"), "New")]);
        let Decision::Create { properties, .. } = one(w.plan()) else {
            panic!("expected one create")
        };
        assert_eq!(
            properties.get("email").map(String::as_str),
            Some("new@example.com")
        );
        assert!(!properties.contains_key("phone"));
    }

    #[test]
    fn a_linked_record_in_step_with_hubspot_plans_nothing() {
        let w = World::new(vec![rec("1", Some("ada@example.com"), "Ada")])
            .in_hubspot(hs("501", "ada@example.com", "Ada"))
            .linked("1", "501");
        assert_eq!(w.plan(), vec![]);
    }

    #[test]
    fn a_linked_record_that_changed_is_updated_with_the_exact_diff() {
        let w = World::new(vec![rec("1", Some("ada@example.com"), "Augusta")])
            .in_hubspot(hs("501", "ada@example.com", "Ada"))
            .linked("1", "501");
        assert_eq!(
            w.plan(),
            vec![Decision::Update {
                app_id: "1".into(),
                hubspot_id: "501".into(),
                diff: BTreeMap::from([("firstname".to_string(), "Augusta".to_string())]),
            }]
        );
    }

    #[test]
    fn a_link_whose_hubspot_record_is_gone_is_unlinked_and_the_record_matched_again() {
        let w = World::new(vec![rec("1", Some("ada@example.com"), "Ada")]).linked("1", "501");
        let d = w.plan();
        assert_eq!(
            d[0],
            Decision::Unlink {
                app_id: "1".into(),
                hubspot_id: "501".into()
            }
        );
        assert!(matches!(d[1], Decision::Create { .. }));
    }

    #[test]
    fn a_record_without_an_email_is_skipped_with_the_reason() {
        let w = World::new(vec![rec("1", None, "Nobody")]);
        let Decision::Skip { reason, .. } = one(w.plan()) else {
            panic!("expected a skip")
        };
        assert!(reason.contains("no email"), "{reason}");
    }

    #[test]
    fn two_app_records_with_one_email_create_one_hubspot_record() {
        let w = World::new(vec![
            rec("1", Some("ada@example.com"), "Ada"),
            rec("2", Some("ADA@example.com"), "Ada"),
        ]);
        let d = w.plan();
        assert!(matches!(d[0], Decision::Create { .. }));
        assert!(matches!(&d[1], Decision::Skip { reason, .. } if reason.contains("app record 1")));
    }

    #[test]
    fn a_hubspot_record_linked_to_another_app_record_is_not_linked_again() {
        let mut w = World::new(vec![rec("2", Some("ada@example.com"), "Ada")]).in_hubspot(hs(
            "501",
            "ada@example.com",
            "Ada",
        ));
        w.linked_hubspot.insert("501".into(), "1".into());
        assert!(
            matches!(&w.plan()[..], [Decision::Skip { reason, .. }] if reason.contains("already linked to app record 1"))
        );
    }

    #[test]
    fn without_create_permission_an_unmatched_record_is_skipped() {
        let w = World::new(vec![rec("1", Some("new@example.com"), "New")]);
        let d = plan(&PlanInput {
            mapping: &w.mapping,
            records: &w.records,
            links: &w.links,
            by_id: &w.by_id,
            by_key: &w.by_key,
            linked_hubspot: &w.linked_hubspot,
            may_create: false,
        });
        assert!(
            matches!(&d[..], [Decision::Skip { reason, .. }] if reason.contains("may not create"))
        );
    }
}
