//! The planner alone on 1,000,000 records (issue: "times the planner alone
//! on 1,000,000 records"). A realistic mix: a third linked and in step, a
//! third linked with one changed field, a sixth matching an unlinked HubSpot
//! contact, the rest new. Prints figures; never fails.
//!
//!     cargo bench --bench planner [-- RECORDS]

use hubsync::appdb::AppRecord;
use hubsync::hubspot::wire::SimplePublicObject;
use hubsync::sync::mapping::ObjectMapping;
use hubsync::sync::plan::{Decision, PlanInput, plan};
use std::collections::{BTreeMap, HashMap};
use std::time::Instant;

fn main() {
    let n: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let m = ObjectMapping::demo_contacts();
    let started = Instant::now();
    let mut records = Vec::with_capacity(n);
    let mut links = HashMap::new();
    let mut by_id = HashMap::new();
    let mut by_key = HashMap::new();
    for i in 0..n {
        let email = format!("person{i}@example.com");
        let mut fields = BTreeMap::new();
        fields.insert("email".to_string(), Some(email.clone()));
        fields.insert("first_name".to_string(), Some(format!("First{i}")));
        fields.insert("last_name".to_string(), Some("Last".to_string()));
        fields.insert("phone".to_string(), Some("+1 555 0100".to_string()));
        fields.insert("company".to_string(), Some("Acme".to_string()));
        fields.insert("job_title".to_string(), None);
        let rec = AppRecord {
            id: i.to_string(),
            fields,
            hubspot_id: None,
            updated_at: String::new(),
        };
        let mut hs = SimplePublicObject {
            id: format!("9{i}"),
            properties: m
                .to_hubspot(&rec)
                .into_iter()
                .map(|(k, v)| (k, Some(v)))
                .collect(),
            created_at: None,
            updated_at: None,
            archived: false,
        };
        match i % 6 {
            0 | 1 => {
                links.insert(rec.id.clone(), hs.id.clone());
                by_id.insert(hs.id.clone(), hs);
            }
            2 | 3 => {
                hs.properties
                    .insert("firstname".into(), Some("Changed".into()));
                links.insert(rec.id.clone(), hs.id.clone());
                by_id.insert(hs.id.clone(), hs);
            }
            4 => {
                by_key.insert(email, hs);
            }
            _ => {}
        }
        records.push(rec);
    }
    let linked_hubspot: HashMap<String, String> = HashMap::new();
    println!(
        "planner: built {n} records in {:.2} s",
        started.elapsed().as_secs_f64()
    );

    let mut best = f64::MAX;
    let mut decisions = Vec::new();
    for _ in 0..3 {
        let t = Instant::now();
        decisions = plan(&PlanInput {
            mapping: &m,
            records: &records,
            links: &links,
            by_id: &by_id,
            by_key: &by_key,
            linked_hubspot: &linked_hubspot,
            may_create: true,
        });
        best = best.min(t.elapsed().as_secs_f64());
    }
    let count = |f: fn(&Decision) -> bool| decisions.iter().filter(|d| f(d)).count();
    println!(
        "planner: {n} records in {best:.3} s (best of 3), {:.0} records/s; {} updates, {} links, {} creates, {} skips",
        n as f64 / best,
        count(|d| matches!(d, Decision::Update { .. })),
        count(|d| matches!(d, Decision::Link { .. })),
        count(|d| matches!(d, Decision::Create { .. })),
        count(|d| matches!(d, Decision::Skip { .. })),
    );
}
