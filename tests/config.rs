//! The configuration file: the example loads into the mapping the demo
//! uses; every mistake is refused with file, line and column; `check`
//! finds mappings HubSpot would refuse; `hubsync run` syncs headless and
//! stops cleanly on SIGTERM.

use hubsync::config::Config;
use hubsync::model::{Direction, ObjectKind, Side};
use hubsync::sim::{SeedData, SimServer, SimSettings};
use hubsync::sync::mapping::ObjectMapping;
use std::path::Path;
use std::time::{Duration, Instant};

const EXAMPLE: &str = include_str!("../fixtures/hubsync.example.toml");

fn parse(text: &str) -> Result<Config, hubsync::config::ConfigError> {
    Config::parse(Path::new("hubsync.toml"), text)
}

/// The example with one line replaced.
fn example_with(from: &str, to: &str) -> String {
    assert!(EXAMPLE.contains(from), "the example has no {from:?}");
    EXAMPLE.replacen(from, to, 1)
}

/// The 1-based line of the first non-comment line holding `needle`.
fn line_of(text: &str, needle: &str) -> usize {
    text.lines()
        .position(|l| l.contains(needle) && !l.trim_start().starts_with('#'))
        .unwrap()
        + 1
}

#[test]
fn the_example_config_maps_contacts_as_the_demo_does() {
    let cfg = parse(EXAMPLE).unwrap();
    let got = &cfg.object(ObjectKind::Contacts).unwrap().mapping;
    let want = ObjectMapping::demo_contacts();
    let pairs = |m: &ObjectMapping| -> Vec<(String, String, String)> {
        m.fields
            .iter()
            .map(|f| {
                (
                    f.app_columns.join("+"),
                    f.hubspot_properties.join("+"),
                    format!("{:?}", f.transform),
                )
            })
            .collect()
    };
    assert_eq!(pairs(got), pairs(&want));
    assert_eq!(
        (
            got.keys[0].app_column.as_str(),
            got.keys[0].hubspot_property.as_str()
        ),
        ("email", "email")
    );
    assert_eq!(cfg.object(ObjectKind::Contacts).unwrap().batch_size, 100);
}

#[test]
fn an_unknown_key_is_refused_at_its_line() {
    let text = example_with("table = \"contacts\"", "tabel = \"contacts\"");
    let e = parse(&text).unwrap_err();
    assert_eq!(e.line, line_of(&text, "tabel"), "{e}");
    assert!(e.message.contains("tabel"), "{e}");
}

#[test]
fn a_batch_over_hubspots_limit_is_refused_at_its_line() {
    let text = example_with("batch_size = 100", "batch_size = 250");
    let e = parse(&text).unwrap_err();
    assert_eq!(
        (e.line, e.column),
        (line_of(&text, "batch_size"), 14),
        "{e}"
    );
    assert!(e.to_string().starts_with("hubsync.toml:"), "{e}");
}

#[test]
fn a_key_column_that_is_not_mapped_is_refused() {
    let text = example_with("key_column = \"email\"", "key_column = \"mail\"");
    let e = parse(&text).unwrap_err();
    assert_eq!(e.line, line_of(&text, "key_column"), "{e}");
    assert!(e.message.contains("not mapped"), "{e}");
}

#[test]
fn an_unknown_transform_is_refused_naming_the_known_ones() {
    let text = example_with("transform = \"lowercase_trim\"", "transform = \"shout\"");
    let e = parse(&text).unwrap_err();
    assert_eq!(e.line, line_of(&text, "shout"), "{e}");
    assert!(e.message.contains("lowercase_trim"), "{e}");
}

#[test]
fn a_token_and_oauth_together_are_refused() {
    let text = example_with(
        "# [hubspot.oauth]",
        "[hubspot.oauth]\nclient_id = \"a\"\nclient_secret_env = \"B\"\nrefresh_token_env = \"C\"\n",
    );
    let e = parse(&text).unwrap_err();
    assert!(e.message.contains("exactly one"), "{e}");
}

#[test]
fn a_plain_http_base_url_to_another_host_is_refused() {
    let text = example_with("https://api.hubapi.com", "http://api.hubapi.com");
    assert!(parse(&text).unwrap_err().message.contains("https"));
}

#[test]
fn an_unknown_object_is_refused_naming_the_known_ones() {
    let text = EXAMPLE.replace("objects.contacts", "objects.tickets");
    let e = parse(&text).unwrap_err();
    assert!(e.message.contains("contacts, companies or deals"), "{e}");
}

/// The example's contacts, followed by `extra` (more objects or groups).
fn with_object(extra: &str) -> String {
    format!("{EXAMPLE}\n{extra}")
}

#[test]
fn companies_match_by_domain_then_name_and_sync_both_ways() {
    let text = with_object(
        r#"
[objects.companies]
table = "companies"
key_columns = ["domain", "name"]
direction = "both"
system_of_record = "hubspot"

[[objects.companies.fields]]
app = "domain"
hubspot = "domain"

[[objects.companies.fields]]
app = "name"
hubspot = "name"
"#,
    );
    let cfg = parse(&text).unwrap();
    let c = cfg.object(ObjectKind::Companies).unwrap();
    let keys: Vec<&str> = c
        .mapping
        .keys
        .iter()
        .map(|k| k.hubspot_property.as_str())
        .collect();
    assert_eq!(keys, ["domain", "name"]);
    assert_eq!(c.rules.direction, Direction::Both);
    assert_eq!(c.rules.system_of_record, Side::HubSpot);
    assert!(c.rules.create_in_app && c.rules.create_in_hubspot);
}

#[test]
fn deals_that_would_write_to_hubspot_are_refused() {
    let text = with_object(
        r#"
[objects.deals]
table = "deals"
direction = "both"

[[objects.deals.fields]]
app = "name"
hubspot = "dealname"
"#,
    );
    let e = parse(&text).unwrap_err();
    assert_eq!(e.line, line_of(&text, "direction = \"both\""), "{e}");
    assert!(e.message.contains("read-only"), "{e}");
}

#[test]
fn split_name_maps_one_column_to_two_properties() {
    let text = example_with(
        "[[objects.contacts.fields]]\napp = \"first_name\"\nhubspot = \"firstname\"",
        "[[objects.contacts.fields]]\napp = \"first_name\"\nhubspot = [\"firstname\", \"lastname\"]\ntransform = \"split_name\"",
    )
    .replacen("[[objects.contacts.fields]]\napp = \"last_name\"\nhubspot = \"lastname\"\n", "", 1);
    let cfg = parse(&text).unwrap();
    let m = &cfg.object(ObjectKind::Contacts).unwrap().mapping;
    assert!(
        m.fields
            .iter()
            .any(|f| f.hubspot_properties == ["firstname", "lastname"])
    );
}

#[test]
fn a_transform_given_the_wrong_number_of_columns_is_refused() {
    let text = example_with(
        "hubspot = \"firstname\"",
        "hubspot = \"firstname\"\ntransform = \"split_name\"",
    );
    let e = parse(&text).unwrap_err();
    assert!(
        e.message.contains("split_name maps 1 app column(s) to 2"),
        "{e}"
    );
}

#[test]
fn a_value_map_and_field_options_are_read() {
    let text = example_with(
        "app = \"job_title\"\nhubspot = \"jobtitle\"",
        "app = \"job_title\"\nhubspot = \"jobtitle\"\ndirection = \"to_hubspot\"\nonly_if_empty = true\ndefault = \"Unknown\"\nvalues = { \"Eng\" = \"Engineer\" }",
    );
    let cfg = parse(&text).unwrap();
    let f = cfg
        .object(ObjectKind::Contacts)
        .unwrap()
        .mapping
        .fields
        .iter()
        .find(|f| f.app_columns == ["job_title"])
        .unwrap()
        .clone();
    assert!(f.only_if_empty);
    assert_eq!(f.default.as_deref(), Some("Unknown"));
    assert_eq!(f.transform.to_hubspot(&["eng"]), vec!["Engineer"]);
}

#[test]
fn filter_groups_are_read_per_direction() {
    let text = with_object(
        r#"
[[objects.contacts.filter_groups]]
direction = "to_hubspot"
filters = [ { field = "company", op = "is_any_of", value = ["Acme", "Initech"] }, { field = "email", op = "ends_with", value = ".com" } ]

[[objects.contacts.filter_groups]]
direction = "to_hubspot"
filters = [ { field = "job_title", op = "equals", value = "CTO" } ]
"#,
    );
    let cfg = parse(&text).unwrap();
    let rules = &cfg.object(ObjectKind::Contacts).unwrap().rules;
    assert_eq!(rules.filters_to_hubspot.groups().len(), 2);
    assert!(rules.filters_to_app.is_empty());
}

#[test]
fn a_filter_on_an_unmapped_field_is_refused_at_that_filter() {
    let text = with_object(
        r#"
[[objects.contacts.filter_groups]]
direction = "to_hubspot"
filters = [ { field = "country", op = "equals", value = "DE" } ]
"#,
    );
    let e = parse(&text).unwrap_err();
    assert_eq!(e.line, line_of(&text, "field = \"country\""), "{e}");
    assert_eq!(
        e.key.as_deref(),
        Some("objects.contacts.filter_groups[0].filters[0]")
    );
    assert!(e.message.contains("country"), "{e}");
}

#[test]
fn a_filter_with_an_unknown_operator_is_refused_naming_the_known_ones() {
    let text = with_object(
        r#"
[[objects.contacts.filter_groups]]
direction = "to_hubspot"
filters = [ { field = "email", op = "like", value = "%x" } ]
"#,
    );
    let e = parse(&text).unwrap_err();
    assert!(e.message.contains("is_none_of"), "{e}");
}

/// A config pointing at a simulator and an app database in `dir`.
fn local_config(
    dir: &Path,
    base_url: &str,
    token_env: &str,
    extra_field: &str,
) -> std::path::PathBuf {
    let app_db = dir.join("app.db");
    let contacts: Vec<hubsync::appdb::demo::FixtureContact> = serde_json::from_str(
        r#"[{"email":"ada@example.com","first_name":"Ada","last_name":null,"phone":null,"company":null,"job_title":null},
            {"email":"grace@example.com","first_name":"Grace","last_name":null,"phone":null,"company":null,"job_title":null}]"#,
    )
    .unwrap();
    hubsync::appdb::demo::create(&app_db, &contacts).unwrap();
    let text = example_with("https://api.hubapi.com", base_url)
        .replacen("HUBSYNC_HUBSPOT_TOKEN", token_env, 1)
        .replacen("/var/lib/myapp/app.db", app_db.to_str().unwrap(), 1)
        .replacen("poll_interval_secs = 30", "poll_interval_secs = 1", 1)
        + extra_field;
    let path = dir.join("hubsync.toml");
    std::fs::write(&path, text).unwrap();
    path
}

async fn sim() -> SimServer {
    SimServer::start(
        0,
        SimSettings {
            tokens: vec!["pat-cfg-1".into()],
            ..SimSettings::default()
        },
        SeedData::empty(),
    )
    .await
    .unwrap()
}

#[tokio::test]
async fn check_names_a_mapping_to_a_property_hubspot_lacks_and_one_it_will_not_write() {
    let dir = tempfile::tempdir().unwrap();
    let s = sim().await;
    // SAFETY: set before any other thread of this test reads the environment.
    unsafe { std::env::set_var("HUBSYNC_TEST_TOKEN_CHECK", "pat-cfg-1") };
    let extra = "\n[[objects.contacts.fields]]\napp = \"shoe_size\"\nhubspot = \"shoe_size\"\n\n[[objects.contacts.fields]]\napp = \"id\"\nhubspot = \"hs_object_id\"\n";
    let cfg = Config::load(&local_config(
        dir.path(),
        &s.base_url(),
        "HUBSYNC_TEST_TOKEN_CHECK",
        extra,
    ))
    .unwrap();
    let problems = hubsync::service::check(&cfg).await.unwrap();
    assert!(
        problems
            .iter()
            .any(|p| p.contains("shoe_size: HubSpot has no contacts property shoe_size")),
        "{problems:?}"
    );
    assert!(
        problems
            .iter()
            .any(|p| p.contains("hs_object_id is read-only in HubSpot")),
        "{problems:?}"
    );
    assert!(
        problems
            .iter()
            .any(|p| p.contains("has no column shoe_size")),
        "{problems:?}"
    );
}

#[test]
fn a_missing_secret_is_named_without_guessing() {
    let cfg = parse(&example_with(
        "HUBSYNC_HUBSPOT_TOKEN",
        "HUBSYNC_TEST_TOKEN_NEVER_SET",
    ))
    .unwrap();
    let e = cfg.client_settings().unwrap_err().to_string();
    assert!(
        e.contains("HUBSYNC_TEST_TOKEN_NEVER_SET") && e.contains("is not set"),
        "{e}"
    );
}

/// `hubsync run` on a config, its secrets in `env`.
fn spawn_run(config: &Path, data: &Path, env: &[(&str, &str)]) -> std::process::Child {
    std::process::Command::new(env!("CARGO_BIN_EXE_hubsync"))
        .args([
            "run",
            "--config",
            config.to_str().unwrap(),
            "--data-dir",
            data.to_str().unwrap(),
        ])
        .envs(env.iter().copied())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap()
}

/// Waits until the config's two app contacts are in HubSpot.
async fn wait_for_both_contacts(s: &SimServer, child: &mut std::process::Child) {
    let started = Instant::now();
    while s.state().count(ObjectKind::Contacts) < 2 {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "hubsync run synced nothing in 30 s"
        );
        assert!(
            child.try_wait().unwrap().is_none(),
            "hubsync run exited early"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hubsync_run_syncs_without_a_console_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let s = sim().await;
    let config = local_config(dir.path(), &s.base_url(), "HUBSYNC_TEST_TOKEN_RUN", "");
    let data = dir.path().join("data");
    let mut child = spawn_run(&config, &data, &[("HUBSYNC_TEST_TOKEN_RUN", "pat-cfg-1")]);
    wait_for_both_contacts(&s, &mut child).await;
    let kill = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        assert!(
            Instant::now() < deadline,
            "hubsync run did not stop within 10 s of SIGTERM"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(status.success(), "exit status {status}");
    let log = std::fs::read_to_string(data.join("hubsync.log")).unwrap();
    assert!(log.contains("engine stopped"), "{log}");
    assert!(!log.contains("pat-cfg-1"), "the token reached the log");

    // `hubsync status --json` reads what the run left, with no credentials.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_hubsync"))
        .args([
            "status",
            "--json",
            "--config",
            config.to_str().unwrap(),
            "--data-dir",
            data.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let status: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(status["counts"][0]["linked"], 2);
    assert_eq!(status["counts"][0]["app"], 2);
    assert_eq!(status["failed_total"], 0);
}

#[tokio::test]
async fn hubsync_run_with_a_webhook_section_queues_a_sync_per_signed_delivery() {
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let hook = format!("http://127.0.0.1:{port}/hook");
    let s = SimServer::start(
        0,
        SimSettings {
            tokens: vec!["pat-cfg-1".into()],
            webhook: Some(hubsync::sim::WebhookTarget {
                retry_base: Duration::from_millis(100),
                batch_every: Duration::from_millis(100),
                ..hubsync::sim::WebhookTarget::new(hook.clone(), "whsec-test")
            }),
            ..SimSettings::default()
        },
        SeedData::empty(),
    )
    .await
    .unwrap();
    let extra = format!(
        "\n[webhook]\nlisten = \"127.0.0.1:{port}\"\npublic_url = \"{hook}\"\nclient_secret_env = \"HUBSYNC_TEST_WEBHOOK_SECRET\"\n"
    );
    let config = local_config(dir.path(), &s.base_url(), "HUBSYNC_TEST_TOKEN_HOOK", &extra);
    let data = dir.path().join("data");
    let mut child = spawn_run(
        &config,
        &data,
        &[
            ("HUBSYNC_TEST_TOKEN_HOOK", "pat-cfg-1"),
            ("HUBSYNC_TEST_WEBHOOK_SECRET", "whsec-test"),
        ],
    );
    wait_for_both_contacts(&s, &mut child).await;
    let (id, _) = s.state().find_by_email("ada@example.com").unwrap();
    s.state()
        .set_property(ObjectKind::Contacts, &id, "firstname", "Augusta");
    let webhook_jobs = || -> i64 {
        let Ok(conn) = rusqlite::Connection::open(data.join("state.db")) else {
            return 0;
        };
        conn.query_row(
            "SELECT COUNT(*) FROM jobs WHERE kind = 'webhook' AND state = 'succeeded'",
            [],
            |r| r.get(0),
        )
        .unwrap_or(0)
    };
    let started = Instant::now();
    while webhook_jobs() == 0 {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "no webhook job ran within 20 s"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        s.state()
            .webhook_stats()
            .delivered
            .load(std::sync::atomic::Ordering::Relaxed)
            > 0,
        "the simulator's deliveries were accepted"
    );
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn an_empty_list_of_key_columns_is_refused() {
    let text = example_with("key_column = \"email\"", "key_columns = []");
    let e = parse(&text).unwrap_err();
    assert_eq!(e.line, line_of(&text, "key_columns"), "{e}");
    assert!(e.message.contains("empty"), "{e}");
}
