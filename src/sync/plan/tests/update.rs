//! SPEC §2 step 3: linked pairs merged field by field; filters and one-way fields.

use super::*;

#[test]
fn a_linked_pair_in_step_plans_nothing() {
    let w = ada_pair(SyncRules::both(), "Ada", "Ada", "Ada");
    assert_eq!(w.plan(), vec![]);
}

#[test]
fn an_app_change_is_written_to_hubspot_with_the_exact_diff() {
    let w = ada_pair(SyncRules::both(), "Augusta", "Ada", "Ada");
    let writes = update_of(one(w.plan()));
    assert_eq!(writes.to_hubspot, props(&[("firstname", "Augusta")]));
    assert!(writes.to_app.is_empty());
}

#[test]
fn a_hubspot_change_is_written_to_the_app() {
    let w = ada_pair(SyncRules::both(), "Ada", "Augusta", "Ada");
    let writes = update_of(one(w.plan()));
    assert_eq!(writes.to_app, props(&[("first_name", "Augusta")]));
    assert!(writes.to_hubspot.is_empty());
}

#[test]
fn a_same_field_conflict_is_won_by_the_system_of_record() {
    let base = || ada_pair(SyncRules::both(), "App-Ada", "Hub-Ada", "Ada");
    let app_wins = update_of(one(base().plan()));
    assert_eq!(app_wins.to_hubspot, props(&[("firstname", "App-Ada")]));
    let mut w = base();
    w.rules.system_of_record = Side::HubSpot;
    let hubspot_wins = update_of(one(w.plan()));
    assert_eq!(hubspot_wins.to_app, props(&[("first_name", "Hub-Ada")]));
}

#[test]
fn different_fields_changed_on_each_side_are_both_kept() {
    let mut w = World::new(SyncRules::both())
        .app(rec("1", Some("ada@example.com"), "Augusta"))
        .linked("1", "501", memory("ada@example.com", "Ada"));
    w.mapping
        .fields
        .push(crate::sync::mapping::FieldMap::simple(
            "phone",
            "phone",
            Transform::None,
        ));
    let mut o = hs("501", "ada@example.com", "Ada");
    o.properties.insert("phone".into(), Some("+44 1".into()));
    w = w.hubspot(o);
    let writes = update_of(one(w.plan()));
    assert_eq!(writes.to_hubspot, props(&[("firstname", "Augusta")]));
    assert_eq!(writes.to_app, props(&[("phone", "+44 1")]));
}

#[test]
fn an_echo_of_the_engines_own_write_is_not_synced_back() {
    // The engine wrote "Augusta" to HubSpot and remembered it; HubSpot's
    // change feed now shows that record as modified.
    let w = ada_pair(SyncRules::both(), "Augusta", "Augusta", "Augusta");
    assert_eq!(w.plan(), vec![]);
}

#[test]
fn a_field_that_flows_only_to_hubspot_overwrites_a_hubspot_edit() {
    let w = ada_pair(SyncRules::to_hubspot(), "Ada", "Edited", "Ada");
    assert_eq!(
        update_of(one(w.plan())).to_hubspot,
        props(&[("firstname", "Ada")])
    );
}

#[test]
fn a_field_mapped_to_the_app_only_never_writes_hubspot() {
    let mut w = ada_pair(SyncRules::both(), "Augusta", "Ada", "Ada");
    w.mapping.fields[1].direction = Direction::ToApp;
    let writes = update_of(one(w.plan()));
    assert!(writes.to_hubspot.is_empty());
    assert_eq!(writes.to_app, props(&[("first_name", "Ada")]));
}

#[test]
fn only_if_empty_never_overwrites_a_value_in_the_target() {
    let mut w = ada_pair(SyncRules::to_hubspot(), "Augusta", "Ada", "Ada");
    w.mapping.fields[1].only_if_empty = true;
    assert_eq!(w.plan(), vec![]);
    let mut w2 = ada_pair(SyncRules::to_hubspot(), "Augusta", "", "");
    w2.mapping.fields[1].only_if_empty = true;
    assert_eq!(
        update_of(one(w2.plan())).to_hubspot,
        props(&[("firstname", "Augusta")])
    );
}

#[test]
fn a_default_fills_an_empty_app_value_on_the_way_to_hubspot() {
    let mut w = World::new(SyncRules::to_hubspot()).app(rec("1", Some("new@example.com"), ""));
    w.mapping.fields[1].default = Some("Unknown".into());
    let Decision::CreateInHubSpot { properties, .. } = one(w.plan()) else {
        panic!("expected a create")
    };
    assert_eq!(
        properties.get("firstname").map(String::as_str),
        Some("Unknown")
    );
}

#[test]
fn a_newly_linked_pair_fills_empty_fields_from_the_side_that_has_them() {
    let w = World::new(SyncRules::both())
        .app(rec("1", Some("ada@example.com"), ""))
        .hubspot(hs("501", "ada@example.com", "Ada"));
    let writes = update_of(one(w.plan()));
    assert_eq!(writes.to_app, props(&[("first_name", "Ada")]));
    assert!(writes.to_hubspot.is_empty());
}

#[test]
fn equal_values_in_different_shapes_are_not_a_change() {
    let mut w = World::new(SyncRules::both());
    let mut r = rec("1", Some("ada@example.com"), "Ada");
    r.fields.insert("phone".into(), Some("2026-01-05".into()));
    let mut o = hs("501", "ada@example.com", "Ada");
    o.properties
        .insert("phone".into(), Some("2026-01-05T00:00:00.000Z".into()));
    w.mapping
        .fields
        .push(crate::sync::mapping::FieldMap::simple(
            "phone",
            "phone",
            Transform::None,
        ));
    let mut mem = memory("ada@example.com", "Ada");
    mem.insert("phone".into(), "2026-01-05".into());
    w = w.app(r).hubspot(o).linked("1", "501", mem);
    assert_eq!(w.plan(), vec![]);
}

#[test]
fn a_memory_that_is_behind_is_brought_up_to_date_without_a_write() {
    // Both sides were changed to the same value (or a crash came between a
    // write and remembering it).
    let w = ada_pair(SyncRules::both(), "Augusta", "Augusta", "Ada");
    let writes = update_of(one(w.plan()));
    assert!(writes.is_empty());
    assert_eq!(writes.memory, memory("ada@example.com", "Augusta"));
}

#[test]
fn an_app_edit_excluded_by_a_filter_is_not_overwritten_from_hubspot() {
    let mut w = ada_pair(SyncRules::both(), "Augusta", "Ada", "Ada");
    w.rules.filters_to_hubspot =
        crate::sync::filter::Filters::new(vec![crate::sync::filter::FilterGroup::new(vec![
            crate::sync::filter::Filter::new("first_name", "equals", vec!["Ada".into()]).unwrap(),
        ])])
        .unwrap();
    assert_eq!(w.plan(), vec![], "neither written to HubSpot nor reverted");
}

#[test]
fn an_empty_source_with_no_history_never_erases_a_one_way_field() {
    let w = World::new(SyncRules::to_hubspot())
        .app(rec("1", Some("ada@example.com"), ""))
        .hubspot(hs("501", "ada@example.com", "Ada"));
    let writes = update_of(one(w.plan()));
    assert!(writes.to_hubspot.is_empty(), "{writes:?}");
}
