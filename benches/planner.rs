//! The planner alone on 1,000,000 records (issue: "times the planner alone
//! on 1,000,000 records"). A realistic mix: a third linked and in step, a
//! third linked with one field changed in HubSpot (two-way: it flows to the
//! app), a sixth matching an unlinked HubSpot
//! contact, the rest new. Prints figures; never fails.
//!
//!     cargo bench --bench planner [-- RECORDS]

use hubsync::appdb::AppRecord;
use hubsync::hubspot::wire::SimplePublicObject;
use hubsync::sync::mapping::ObjectMapping;
use hubsync::sync::plan::{Decision, Link, PlanInput, plan};
use hubsync::sync::rules::SyncRules;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::Instant;

fn main() {
    let n: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let m = ObjectMapping::demo_contacts();
    let started = Instant::now();
    let mut records = HashMap::with_capacity(n);
    let mut unlinked = Vec::new();
    let mut links = Vec::new();
    let mut app_links = HashMap::new();
    let mut hubspot_links = HashMap::new();
    let mut hubspot = HashMap::new();
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
        let memory: BTreeMap<String, String> = m.to_hubspot(&rec);
        let mut link = |hs: &SimplePublicObject| {
            links.push(Link {
                app_id: rec.id.clone(),
                hubspot_id: hs.id.clone(),
                memory: memory.clone(),
                pending: BTreeMap::new(),
            });
            app_links.insert(rec.id.clone(), hs.id.clone());
            hubspot_links.insert(hs.id.clone(), rec.id.clone());
        };
        match i % 6 {
            0 | 1 => link(&hs),
            2 | 3 => {
                // Changed in HubSpot since the last sync: flows to the app.
                hs.properties
                    .insert("firstname".into(), Some("Changed".into()));
                link(&hs);
            }
            4 => unlinked.push(rec.id.clone()),
            _ => {
                unlinked.push(rec.id.clone());
                let _ = email;
                records.insert(rec.id.clone(), rec);
                continue;
            }
        }
        hubspot.insert(hs.id.clone(), hs);
        records.insert(rec.id.clone(), rec);
    }
    let rules = SyncRules::both();
    let tombstones = HashSet::new();
    let merged = HashMap::new();
    println!(
        "planner: built {n} records in {:.2} s",
        started.elapsed().as_secs_f64()
    );

    let mut best = f64::MAX;
    let mut decisions = Vec::new();
    for _ in 0..3 {
        // Freeing the last round's plan is not planning: done untimed.
        drop(std::mem::take(&mut decisions));
        let t = Instant::now();
        decisions = plan(&PlanInput {
            mapping: &m,
            rules: &rules,
            pairs: &links,
            unlinked_app: &unlinked,
            unlinked_hubspot: &[],
            app: &records,
            hubspot: &hubspot,
            app_links: &app_links,
            hubspot_links: &hubspot_links,
            tombstones: &tombstones,
            merged: &merged,
            companies: None,
        });
        best = best.min(t.elapsed().as_secs_f64());
    }
    let count = |f: fn(&Decision) -> bool| decisions.iter().filter(|d| f(d)).count();
    println!(
        "planner: {n} records in {best:.3} s (best of 3), {:.0} records/s; {} updates, {} links, {} creates, {} skips",
        n as f64 / best,
        count(|d| matches!(d, Decision::Update { .. })),
        count(|d| matches!(d, Decision::Link { .. })),
        count(|d| matches!(d, Decision::CreateInHubSpot { .. })),
        count(|d| matches!(d, Decision::Skip { .. })),
    );
}
