//! Editing the config file in place (issue 10): each edit keeps every
//! comment and byte it does not touch, is checked as loading checks a file,
//! and a refused edit leaves the text as it was and names the entry.

use hubsync::config::edit::{ConfigDoc, Edit, FieldSpec, FilterSpec};
use hubsync::model::ObjectKind;
use hubsync::sync::filter::Op;
use std::path::Path;

const EXAMPLE: &str = include_str!("../fixtures/hubsync.example.toml");

fn doc() -> ConfigDoc {
    ConfigDoc::parse(Path::new("hubsync.toml"), EXAMPLE).unwrap()
}

/// `after` is `before` with `inserted` put in at one place and nothing
/// else changed, byte for byte.
fn only_inserted(before: &str, after: &str, inserted: &str) {
    let at = after
        .find(inserted)
        .unwrap_or_else(|| panic!("{inserted:?} not in:\n{after}"));
    let without = format!("{}{}", &after[..at], &after[at + inserted.len()..]);
    assert_eq!(without, before, "something besides the insertion changed");
}

fn field(app: &str, hubspot: &str) -> FieldSpec {
    FieldSpec {
        app: vec![app.into()],
        hubspot: vec![hubspot.into()],
        ..FieldSpec::default()
    }
}

#[test]
fn adding_a_field_keeps_every_comment_and_line_elsewhere() {
    let mut d = doc();
    d.apply(&Edit::AddField {
        object: ObjectKind::Contacts,
        field: field("id", "app_record_id"),
        at: None,
    })
    .unwrap();
    only_inserted(
        EXAMPLE,
        &d.text(),
        "\n[[objects.contacts.fields]]\napp = \"id\"\nhubspot = \"app_record_id\"\n",
    );
}

#[test]
fn changing_a_field_changes_its_own_lines_only() {
    let mut d = doc();
    let cfg = d
        .apply(&Edit::SetField {
            object: ObjectKind::Contacts,
            index: 5,
            field: field("job_title", "hs_job_title"),
        })
        .unwrap();
    let m = &cfg.object(ObjectKind::Contacts).unwrap().mapping;
    assert_eq!(m.fields[5].hubspot_properties, vec!["hs_job_title"]);
    assert_eq!(
        d.text(),
        EXAMPLE.replacen("hubspot = \"jobtitle\"", "hubspot = \"hs_job_title\"", 1)
    );
}

#[test]
fn removing_a_field_removes_its_table_only() {
    let mut d = doc();
    d.apply(&Edit::RemoveField {
        object: ObjectKind::Contacts,
        index: 3,
    })
    .unwrap();
    assert_eq!(
        d.text(),
        EXAMPLE.replacen(
            "\n[[objects.contacts.fields]]\napp = \"phone\"\nhubspot = \"phone\"\n",
            "",
            1
        )
    );
}

#[test]
fn moving_a_field_moves_its_table_and_keeps_the_file_in_order() {
    let mut d = doc();
    let cfg = d
        .apply(&Edit::MoveField {
            object: ObjectKind::Contacts,
            from: 5,
            to: 1,
        })
        .unwrap();
    let cols: Vec<&str> = cfg
        .object(ObjectKind::Contacts)
        .unwrap()
        .mapping
        .fields
        .iter()
        .map(|f| f.app_columns[0].as_str())
        .collect();
    assert_eq!(
        cols,
        [
            "email",
            "job_title",
            "first_name",
            "last_name",
            "phone",
            "company"
        ]
    );
    let text = d.text();
    assert!(text.find("app = \"job_title\"").unwrap() < text.find("app = \"first_name\"").unwrap());
    assert_eq!(text.len(), EXAMPLE.len());
}

#[test]
fn a_filter_group_is_added_with_its_value_typed_and_reads_back() {
    let mut d = doc();
    let cfg = d
        .apply(&Edit::AddGroup {
            object: ObjectKind::Contacts,
            direction: "to_hubspot".into(),
            filter: FilterSpec {
                field: "company".into(),
                op: "is_none_of".into(),
                value: Some(serde_json::json!(["Internal"])),
            },
        })
        .unwrap();
    let f = &cfg
        .object(ObjectKind::Contacts)
        .unwrap()
        .rules
        .filters_to_hubspot;
    assert_eq!(f.groups().len(), 1);
    let only = &f.groups()[0].filters()[0];
    assert_eq!(
        (only.field(), only.op(), only.values()),
        ("company", Op::IsNoneOf, &["Internal".to_string()][..])
    );
    only_inserted(
        EXAMPLE,
        &d.text(),
        "\n[[objects.contacts.filter_groups]]\ndirection = \"to_hubspot\"\nfilters = [\n  { field = \"company\", op = \"is_none_of\", value = [\"Internal\"] },\n]\n",
    );
}

#[test]
fn a_filter_on_an_unmapped_field_is_refused_beside_that_filter_and_changes_nothing() {
    let mut d = doc();
    let e = d
        .apply(&Edit::AddGroup {
            object: ObjectKind::Contacts,
            direction: "to_hubspot".into(),
            filter: FilterSpec {
                field: "shoe_size".into(),
                op: "equals".into(),
                value: Some(serde_json::json!(42)),
            },
        })
        .unwrap_err();
    assert!(
        e.message.contains("field \"shoe_size\" is not mapped"),
        "{e}"
    );
    assert_eq!(
        e.key.as_deref(),
        Some("objects.contacts.filter_groups[0].filters[0]")
    );
    assert_eq!(d.text(), EXAMPLE);
}

#[test]
fn a_setting_keeps_the_comment_on_its_line() {
    let text = EXAMPLE.replacen("batch_size = 100", "batch_size = 100 # HubSpot's most", 1);
    let mut d = ConfigDoc::parse(Path::new("hubsync.toml"), &text).unwrap();
    let cfg = d
        .apply(&Edit::SetSetting {
            object: ObjectKind::Contacts,
            key: "batch_size".into(),
            value: Some(serde_json::json!(50)),
        })
        .unwrap();
    assert_eq!(cfg.object(ObjectKind::Contacts).unwrap().batch_size, 50);
    assert_eq!(
        d.text(),
        text.replacen("batch_size = 100 #", "batch_size = 50 #", 1)
    );
}

#[test]
fn a_setting_out_of_range_is_refused_at_its_key() {
    let mut d = doc();
    let e = d
        .apply(&Edit::SetSetting {
            object: ObjectKind::Contacts,
            key: "batch_size".into(),
            value: Some(serde_json::json!(500)),
        })
        .unwrap_err();
    assert!(e.message.contains("batch_size 500"), "{e}");
    assert_eq!(e.key.as_deref(), Some("objects.contacts.batch_size"));
    assert_eq!(d.text(), EXAMPLE);
}

#[test]
fn the_raw_section_is_replaced_and_the_rest_of_the_file_stays_byte_for_byte() {
    let mut d = doc();
    let section = d.section(ObjectKind::Contacts).unwrap();
    assert!(section.starts_with("[objects.contacts]\n"), "{section}");
    let edited = section.replacen("poll_interval_secs = 30", "poll_interval_secs = 5", 1);
    let cfg = d
        .apply(&Edit::SetSection {
            object: ObjectKind::Contacts,
            toml: edited,
        })
        .unwrap();
    assert_eq!(
        cfg.object(ObjectKind::Contacts)
            .unwrap()
            .poll_interval
            .as_secs(),
        5
    );
    assert_eq!(
        d.text(),
        EXAMPLE.replacen("poll_interval_secs = 30", "poll_interval_secs = 5", 1)
    );
}

#[test]
fn a_raw_section_that_is_not_toml_is_refused_at_its_line_and_column() {
    let mut d = doc();
    let section = d.section(ObjectKind::Contacts).unwrap();
    let broken = section.replacen("table = \"contacts\"", "table = \"contacts", 1);
    let e = d
        .apply(&Edit::SetSection {
            object: ObjectKind::Contacts,
            toml: broken,
        })
        .unwrap_err();
    let line = EXAMPLE
        .lines()
        .position(|l| l == "table = \"contacts\"")
        .unwrap()
        + 1;
    // At the end of the line, where the closing quote is missing.
    assert_eq!((e.line, e.column), (line, 18), "{e}");
    assert_eq!(d.text(), EXAMPLE);
}
