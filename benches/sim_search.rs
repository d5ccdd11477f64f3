//! Whether the simulator keeps up with HubSpot's search ceiling at a large
//! portal: it is seeded with RECORDS contacts by batch creates (100 a call,
//! each batch stamped when it lands, as an import is), then the client's
//! change feed reads them all from the start, 200 a page, as a HubSpot →
//! app backfill does, with neither side's rate limit in the way. Prints the
//! CPU this process spent per search page (simulator and client together,
//! so an upper bound for the simulator) and what share of one core that
//! is at HubSpot's five searches a second: under 100% the simulator is not
//! what limits a sync. Never fails.
//!
//!     cargo bench --bench sim_search [-- RECORDS]    (default 200,000)

use hubsync::hubspot::client::ModifiedCursor;
use hubsync::hubspot::wire::{CreateInput, FilterGroup};
use hubsync::hubspot::{ClientSettings, HubSpotClient};
use hubsync::model::ObjectKind;
use hubsync::sim::{SeedData, SimServer, SimSettings};
use secrecy::SecretString;
use std::collections::{BTreeMap, HashSet};
use std::time::{Duration, Instant};

const TOKEN: &str = "pat-bench-search";
/// HubSpot's search ceiling per account.
const HUBSPOT_SEARCHES_PER_S: f64 = 5.0;
const PAGE: u32 = 200;

/// CPU seconds this process has used (user + system), from the kernel's
/// count in clock ticks (`getconf CLK_TCK`: 100 on Linux).
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name, which is in parentheses.
    let rest = stat.rsplit(')').next().unwrap_or("");
    let f: Vec<f64> = rest
        .split_whitespace()
        .map(|x| x.parse().unwrap_or(0.0))
        .collect();
    // utime and stime are fields 14 and 15 of the whole line.
    (f.get(11).unwrap_or(&0.0) + f.get(12).unwrap_or(&0.0)) / 100.0
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let records: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(200_000);
    let sim = SimServer::start(
        0,
        SimSettings {
            tokens: vec![TOKEN.into()],
            ten_second_limit: 1_000_000,
            search_per_second: 1_000_000,
            daily_limit: u64::MAX,
            ..SimSettings::default()
        },
        SeedData::empty(),
    )
    .await?;
    let client = HubSpotClient::new(ClientSettings {
        ten_second_limit: 1_000_000,
        search_per_second: 1_000_000,
        ..ClientSettings::new(sim.base_url(), SecretString::from(TOKEN))
    })?;

    let started = Instant::now();
    for start in (0..records).step_by(100) {
        let inputs = (start..(start + 100).min(records))
            .map(|i| CreateInput {
                properties: BTreeMap::from([
                    ("email".to_string(), format!("reader{i}@example.com")),
                    ("firstname".to_string(), format!("First{i}")),
                    ("lastname".to_string(), "Reader".to_string()),
                ]),
                associations: vec![],
                object_write_trace_id: None,
            })
            .collect();
        client.batch_create(ObjectKind::Contacts, inputs).await?;
        // Distinct stamps per batch, as an import spread over time has.
        if start % 10_000 == 0 {
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }
    println!(
        "sim_search: seeded {records} contacts in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    let searches_before = sim.state().request_count();
    let cpu_before = cpu_seconds();
    let t = Instant::now();
    let mut received = 0usize;
    let mut ids: HashSet<String> = HashSet::with_capacity(records);
    let shape = |f: &[hubsync::hubspot::wire::Filter]| {
        vec![FilterGroup {
            filters: f.to_vec(),
        }]
    };
    client
        .modified_since(
            ObjectKind::Contacts,
            ModifiedCursor::default(),
            &["email", "firstname", "lastname"],
            PAGE,
            &shape,
            |page| {
                received += page.len();
                ids.extend(page.into_iter().map(|o| o.id));
            },
        )
        .await?;
    let wall = t.elapsed().as_secs_f64();
    let cpu = cpu_seconds() - cpu_before;
    let searches = sim.state().request_count() - searches_before;
    let per_page = cpu / searches.max(1) as f64;
    let share = 100.0 * per_page * HUBSPOT_SEARCHES_PER_S;
    println!(
        "sim_search: read {received} records ({} distinct, {} read twice) in {searches} searches, \
         {wall:.1} s, {cpu:.1} s CPU",
        ids.len(),
        received - ids.len()
    );
    println!(
        "sim_search: {:.2} ms CPU per search page; at HubSpot's {HUBSPOT_SEARCHES_PER_S:.0} searches/s \
         that is {share:.1}% of a core (goal: under 100%, the simulator not the bottleneck): {}",
        per_page * 1000.0,
        if share < 100.0 { "met" } else { "not met" }
    );
    sim.shutdown().await;
    Ok(())
}
