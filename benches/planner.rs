//! The planner alone on 1,000,000 records. A realistic mix: a third linked
//! and in step, a third linked with one field changed in HubSpot (two-way:
//! it flows to the app), a sixth matching an unlinked HubSpot contact, the
//! rest new.
//!
//! The records are planned the way a pass plans them, a batch at a time
//! (100 feed records with their partners and candidates, `--batch`), each
//! batch built just before it is planned, so the peak memory is the
//! planner's and not a million records held for it. `--batch 1000000`
//! plans everything in one call, as this benchmark used to (its input alone
//! then takes several GB). Only the `plan` calls are timed; building a
//! batch and freeing its plan are not planning. Prints figures; never fails.
//!
//!     cargo bench --bench planner [-- RECORDS] [--batch N]

use hubsync::appdb::AppRecord;
use hubsync::hubspot::wire::SimplePublicObject;
use hubsync::sync::mapping::ObjectMapping;
use hubsync::sync::plan::{Decision, Link, PlanInput, plan};
use hubsync::sync::rules::SyncRules;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::{Duration, Instant};

const GOAL_RECORDS_PER_S: f64 = 500_000.0;
const GOAL_PEAK_RSS_MB: f64 = 1024.0;

/// One batch's input, owned.
#[derive(Default)]
struct Batch {
    records: HashMap<String, AppRecord>,
    unlinked: Vec<String>,
    links: Vec<Link>,
    app_links: HashMap<String, String>,
    hubspot_links: HashMap<String, String>,
    hubspot: HashMap<String, SimplePublicObject>,
}

fn build(m: &ObjectMapping, range: std::ops::Range<usize>) -> Batch {
    let mut b = Batch::default();
    for i in range {
        let mut fields = BTreeMap::new();
        fields.insert("email".to_string(), Some(format!("person{i}@example.com")));
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
            b.links.push(Link {
                app_id: rec.id.clone(),
                hubspot_id: hs.id.clone(),
                memory: memory.clone(),
                pending: BTreeMap::new(),
            });
            b.app_links.insert(rec.id.clone(), hs.id.clone());
            b.hubspot_links.insert(hs.id.clone(), rec.id.clone());
        };
        match i % 6 {
            0 | 1 => link(&hs),
            2 | 3 => {
                // Changed in HubSpot since the last sync: flows to the app.
                hs.properties
                    .insert("firstname".into(), Some("Changed".into()));
                link(&hs);
            }
            4 => b.unlinked.push(rec.id.clone()),
            _ => {
                b.unlinked.push(rec.id.clone());
                b.records.insert(rec.id.clone(), rec);
                continue;
            }
        }
        b.hubspot.insert(hs.id.clone(), hs);
        b.records.insert(rec.id.clone(), rec);
    }
    b
}

#[derive(Default)]
struct Counts {
    updates: usize,
    links: usize,
    creates: usize,
    skips: usize,
    other: usize,
}

/// The peak resident set of this process so far, in MB, as the kernel
/// counts it.
fn peak_rss_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let batch_size: usize = args
        .iter()
        .position(|a| a == "--batch")
        .and_then(|i| args.get(i + 1)?.parse().ok())
        .unwrap_or(100)
        .max(1);
    let n: usize = args
        .iter()
        .enumerate()
        .filter(|(i, _)| *i == 0 || args[i - 1] != "--batch")
        .find_map(|(_, a)| a.parse().ok())
        .unwrap_or(1_000_000);
    let m = ObjectMapping::demo_contacts();
    let rules = SyncRules::both();
    let tombstones = HashSet::new();
    let merged = HashMap::new();

    let mut best = Duration::MAX;
    let mut counts = Counts::default();
    for _ in 0..3 {
        let mut planning = Duration::ZERO;
        counts = Counts::default();
        let mut start = 0;
        while start < n {
            let b = build(&m, start..(start + batch_size).min(n));
            start += batch_size;
            let t = Instant::now();
            let decisions = plan(&PlanInput {
                mapping: &m,
                rules: &rules,
                pairs: &b.links,
                unlinked_app: &b.unlinked,
                unlinked_hubspot: &[],
                app: &b.records,
                hubspot: &b.hubspot,
                app_links: &b.app_links,
                hubspot_links: &b.hubspot_links,
                tombstones: &tombstones,
                merged: &merged,
                companies: None,
            });
            planning += t.elapsed();
            for d in &decisions {
                match d {
                    Decision::Update { .. } => counts.updates += 1,
                    Decision::Link { .. } => counts.links += 1,
                    Decision::CreateInHubSpot { .. } => counts.creates += 1,
                    Decision::Skip { .. } => counts.skips += 1,
                    _ => counts.other += 1,
                }
            }
            // Freeing the plan and the batch is not planning: untimed.
            drop(decisions);
            drop(b);
        }
        best = best.min(planning);
    }
    let secs = best.as_secs_f64();
    let rate = n as f64 / secs;
    println!(
        "planner: {n} records in batches of {batch_size}: {secs:.3} s planning (best of 3), \
         {rate:.0} records/s; goal {GOAL_RECORDS_PER_S:.0}/s: {:.0}% of it",
        100.0 * rate / GOAL_RECORDS_PER_S
    );
    println!(
        "planner: {} updates, {} links, {} creates, {} skips, {} other",
        counts.updates, counts.links, counts.creates, counts.skips, counts.other
    );
    match peak_rss_mb() {
        Some(mb) => println!(
            "planner: peak RSS {mb:.0} MB; goal under {GOAL_PEAK_RSS_MB:.0} MB: {}",
            if mb < GOAL_PEAK_RSS_MB {
                "met"
            } else {
                "not met"
            }
        ),
        None => println!("planner: peak RSS unknown (no /proc/self/status)"),
    }
}
