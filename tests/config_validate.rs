//! The checks that need HubSpot's property list or the app table (issue
//! 10): one rule each, with the key an editor shows the message beside;
//! and proof that `hubsync check` says the same words as the validators
//! the editor and `config_apply` call.

use hubsync::appdb::{AppDb, TableInfo};
use hubsync::config::Config;
use hubsync::config::validate::{self, Facts, Problem};
use hubsync::hubspot::wire::Property;
use hubsync::model::ObjectKind;
use std::path::Path;

const EXAMPLE: &str = include_str!("../fixtures/hubsync.example.toml");

fn properties() -> Vec<Property> {
    serde_json::from_value(serde_json::json!([
        {"name": "email", "label": "Email", "type": "string", "fieldType": "text"},
        {"name": "firstname", "label": "First Name", "type": "string", "fieldType": "text"},
        {"name": "lastname", "label": "Last Name", "type": "string", "fieldType": "text"},
        {"name": "phone", "label": "Phone Number", "type": "string", "fieldType": "phonenumber"},
        {"name": "company", "label": "Company Name", "type": "string", "fieldType": "text"},
        {"name": "jobtitle", "label": "Job Title", "type": "string", "fieldType": "text"},
        {"name": "numemployees", "label": "Employees", "type": "number", "fieldType": "number"},
        {"name": "lifecyclestage", "label": "Lifecycle Stage", "type": "enumeration", "fieldType": "radio",
         "options": [{"label": "Lead", "value": "lead"}, {"label": "Customer", "value": "customer"}]},
        {"name": "hs_object_id", "label": "Record ID", "type": "number", "fieldType": "number",
         "modificationMetadata": {"readOnlyValue": true}}
    ]))
    .unwrap()
}

/// The demo's contacts table, in a real SQLite file.
async fn table(dir: &Path, cfg: &Config) -> TableInfo {
    let path = dir.join("app.db");
    hubsync::appdb::demo::create(&path, &[]).unwrap();
    let app = AppDb::open(&path).unwrap();
    app.table_info(&cfg.object(ObjectKind::Contacts).unwrap().mapping)
        .await
        .unwrap()
}

async fn problems(text: &str) -> Vec<Problem> {
    let cfg = Config::parse(Path::new("hubsync.toml"), text).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let table = table(dir.path(), &cfg).await;
    let props = properties();
    let o = cfg.object(ObjectKind::Contacts).unwrap();
    validate::object(
        &cfg,
        o,
        &Facts {
            properties: Some(&props),
            table: Some(&table),
        },
    )
}

fn example_with(from: &str, to: &str) -> String {
    assert!(EXAMPLE.contains(from), "the example has no {from:?}");
    EXAMPLE.replacen(from, to, 1)
}

fn with_filter(filter: &str) -> String {
    format!(
        "{EXAMPLE}\n[[objects.contacts.filter_groups]]\ndirection = \"to_hubspot\"\nfilters = [ {filter} ]\n"
    )
}

#[tokio::test]
async fn the_example_has_no_problems() {
    assert_eq!(problems(EXAMPLE).await, vec![]);
}

#[tokio::test]
async fn an_unknown_property_is_named_with_the_nearest_ones() {
    let p = problems(&example_with(
        "hubspot = \"jobtitle\"",
        "hubspot = \"jobtitel\"",
    ))
    .await;
    assert_eq!(p.len(), 1, "{p:?}");
    assert_eq!(
        p[0].to_string(),
        "[objects.contacts] field job_title → jobtitel: HubSpot has no contacts property jobtitel; the nearest are jobtitle"
    );
    assert_eq!(
        (p[0].entry.as_str(), p[0].field.as_str()),
        ("fields[5]", "hubspot")
    );
}

#[tokio::test]
async fn a_column_the_app_table_does_not_have_is_named_with_the_nearest_ones() {
    let p = problems(&example_with("app = \"job_title\"", "app = \"jobtitle\"")).await;
    assert_eq!(p.len(), 1, "{p:?}");
    assert_eq!(
        p[0].to_string(),
        "[objects.contacts] field jobtitle → jobtitle: app table contacts has no column jobtitle; the nearest are job_title"
    );
    assert_eq!(
        (p[0].entry.as_str(), p[0].field.as_str()),
        ("fields[5]", "app")
    );
}

#[tokio::test]
async fn a_read_only_property_written_to_hubspot_is_refused() {
    let p = problems(&example_with(
        "hubspot = \"phone\"",
        "hubspot = \"hs_object_id\"",
    ))
    .await;
    assert_eq!(p.len(), 1, "{p:?}");
    assert!(
        p[0].message
            .contains("hs_object_id is read-only in HubSpot; map it with direction = \"to_app\""),
        "{p:?}"
    );
    assert_eq!(p[0].key, "objects.contacts.fields[3].hubspot");
}

#[tokio::test]
async fn a_text_column_mapped_to_a_number_property_is_a_type_mismatch() {
    let p = problems(&example_with(
        "hubspot = \"phone\"",
        "hubspot = \"numemployees\"",
    ))
    .await;
    assert_eq!(p.len(), 1, "{p:?}");
    assert!(
        p[0].message
            .starts_with("app column phone is text and HubSpot property numemployees is a number"),
        "{p:?}"
    );
    assert_eq!(p[0].key, "objects.contacts.fields[3].app");
}

#[tokio::test]
async fn a_value_map_target_that_is_not_an_option_of_the_dropdown_is_named() {
    let text = example_with(
        "app = \"job_title\"\nhubspot = \"jobtitle\"",
        "app = \"job_title\"\nhubspot = \"lifecyclestage\"\nvalues = { CTO = \"customer\", Engineer = \"developer\" }",
    );
    let p = problems(&text).await;
    assert_eq!(p.len(), 1, "{p:?}");
    assert!(
        p[0].message.contains(
            "the value map writes developer to lifecyclestage, which is not among its options (lead, customer)"
        ),
        "{p:?}"
    );
    assert_eq!(
        (p[0].entry.as_str(), p[0].field.as_str()),
        ("fields[5]", "values")
    );
}

#[tokio::test]
async fn an_ordering_operator_on_a_text_column_does_not_fit() {
    let p = problems(&with_filter(
        "{ field = \"company\", op = \"greater_than\", value = \"M\" }",
    ))
    .await;
    assert_eq!(p.len(), 1, "{p:?}");
    assert!(
        p[0].message
            .contains("greater_than compares numbers or dates, and the field is text"),
        "{p:?}"
    );
    assert_eq!(p[0].key, "objects.contacts.filter_groups[0].filters[0].op");
}

#[tokio::test]
async fn a_to_app_filter_value_that_is_not_an_option_of_the_dropdown_is_named() {
    let text = example_with("direction = \"to_hubspot\"\n", "direction = \"both\"\n")
        + "\n[[objects.contacts.fields]]\napp = \"id\"\nhubspot = \"lifecyclestage\"\ndirection = \"to_app\"\n"
        + "\n[[objects.contacts.filter_groups]]\ndirection = \"to_app\"\nfilters = [ { field = \"lifecyclestage\", op = \"equals\", value = \"vip\" } ]\n";
    let p = problems(&text).await;
    assert_eq!(p.len(), 1, "{p:?}");
    assert!(
        p[0].message
            .contains("\"vip\" is not one of the dropdown's options (lead, customer)"),
        "{p:?}"
    );
    assert_eq!(
        p[0].key,
        "objects.contacts.filter_groups[0].filters[0].value"
    );
}

#[tokio::test]
async fn check_says_what_the_editor_says_in_the_same_words() {
    use hubsync::sim::{SeedData, SimServer, SimSettings};
    let sim = SimServer::start(
        0,
        SimSettings {
            tokens: vec!["pat-validate-1".into()],
            ..SimSettings::default()
        },
        SeedData::empty(),
    )
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let app = dir.path().join("app.db");
    hubsync::appdb::demo::create(&app, &[]).unwrap();
    // SAFETY: set before any other thread of this test reads the environment.
    unsafe { std::env::set_var("HUBSYNC_TEST_TOKEN_VALIDATE", "pat-validate-1") };
    let text = EXAMPLE
        .replacen("https://api.hubapi.com", &sim.base_url(), 1)
        .replacen("HUBSYNC_HUBSPOT_TOKEN", "HUBSYNC_TEST_TOKEN_VALIDATE", 1)
        .replacen("/var/lib/myapp/app.db", app.to_str().unwrap(), 1)
        .replacen("hubspot = \"jobtitle\"", "hubspot = \"jobtitel\"", 1);
    let cfg = Config::parse(Path::new("hubsync.toml"), &text).unwrap();
    let said = hubsync::service::check(&cfg).await.unwrap();
    // The editor's path: the same validators over the live list.
    let client = hubsync::hubspot::HubSpotClient::new(cfg.client_settings().unwrap()).unwrap();
    let props = client.properties(ObjectKind::Contacts).await.unwrap();
    let o = cfg.object(ObjectKind::Contacts).unwrap();
    let db = AppDb::open(&app).unwrap();
    let table = db.table_info(&o.mapping).await.unwrap();
    let editor = validate::object(
        &cfg,
        o,
        &Facts {
            properties: Some(&props),
            table: Some(&table),
        },
    );
    assert_eq!(editor.len(), 1, "{editor:?}");
    assert!(
        editor[0].message.contains("the nearest are jobtitle"),
        "{editor:?}"
    );
    assert!(said.contains(&editor[0].to_string()), "{said:?}");
    sim.shutdown().await;
}
