use super::*;
use proptest::prelude::*;
use std::collections::HashMap;

fn f(field: &str, op: &str, values: &[&str]) -> Filter {
    Filter::new(field, op, values.iter().map(|v| v.to_string()).collect()).unwrap()
}

fn err(field: &str, op: &str, values: &[&str]) -> String {
    Filter::new(field, op, values.iter().map(|v| v.to_string()).collect()).unwrap_err()
}

fn one(filter: Filter) -> Filters {
    Filters::new(vec![FilterGroup::new(vec![filter])]).unwrap()
}

fn rec(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// Whether `op values` accepts a record whose `x` is `value` ("" = empty).
fn test(op: &str, values: &[&str], value: &str) -> bool {
    let r = rec(&[("x", value)]);
    f("x", op, values).matches(|k| r.get(k).map(String::as_str))
}

fn json(groups: Option<Vec<wire::FilterGroup>>) -> serde_json::Value {
    serde_json::to_value(groups).unwrap()
}

#[test]
fn an_unknown_operator_is_refused_with_the_valid_names() {
    let e = err("country", "is_in", &["DE"]);
    assert!(e.contains("country") && e.contains("\"is_in\""), "{e}");
    for op in Op::ALL {
        assert!(e.contains(op.as_str()), "{e}");
        assert_eq!(Op::parse(op.as_str()), Ok(op));
    }
}

#[test]
fn wrong_arity_is_refused_naming_field_and_op() {
    let e = err("email", "is_not_empty", &["x"]);
    assert!(
        e.contains("email") && e.contains("is_not_empty takes no value"),
        "{e}"
    );
    let e = err("country", "is_any_of", &[]);
    assert!(
        e.contains("country") && e.contains("is_any_of needs one or more"),
        "{e}"
    );
    let e = err("age", "equals", &["1", "2"]);
    assert!(
        e.contains("age") && e.contains("equals needs exactly one value, got 2"),
        "{e}"
    );
    let e = err("age", "less_than", &[]);
    assert!(
        e.contains("less_than needs exactly one value, got 0"),
        "{e}"
    );
    assert!(Filter::new(" ", "is_empty", vec![]).is_err());
}

#[test]
fn an_empty_value_to_compare_with_is_refused() {
    let e = err("amount", "greater_than", &[" "]);
    assert!(
        e.contains("amount") && e.contains("greater_than needs a value"),
        "{e}"
    );
    let e = err("lifecycle", "equals", &[""]);
    assert!(e.contains("use is_empty"), "{e}");
    assert!(Filter::new("c", "is_any_of", vec!["DE".into(), "".into()]).is_err());
}

#[test]
fn an_empty_group_is_refused() {
    let e = Filters::new(vec![FilterGroup::new(vec![])]).unwrap_err();
    assert!(e.contains("group 1 has no filters"), "{e}");
}

#[test]
fn no_groups_means_every_record_is_eligible() {
    let none = Filters::default();
    assert!(none.is_empty());
    assert_eq!(none.check(|_| None), Ok(()));
    assert_eq!(none.to_search_groups().map(|g| g.len()), None);
}

#[test]
fn filters_in_a_group_are_anded() {
    let fs = Filters::new(vec![FilterGroup::new(vec![
        f("country", "equals", &["DE"]),
        f("email", "is_not_empty", &[]),
    ])])
    .unwrap();
    let both = rec(&[("country", "DE"), ("email", "a@b.de")]);
    let one_only = rec(&[("country", "DE")]);
    assert!(fs.matches(|k| both.get(k).map(String::as_str)));
    assert!(!fs.matches(|k| one_only.get(k).map(String::as_str)));
}

#[test]
fn groups_are_ored() {
    let fs = Filters::new(vec![
        FilterGroup::new(vec![f("country", "equals", &["DE"])]),
        FilterGroup::new(vec![f("lifecycle", "equals", &["customer"])]),
    ])
    .unwrap();
    let de = rec(&[("country", "DE")]);
    let customer = rec(&[("country", "US"), ("lifecycle", "customer")]);
    let neither = rec(&[("country", "US"), ("lifecycle", "lead")]);
    assert!(fs.matches(|k| de.get(k).map(String::as_str)));
    assert!(fs.matches(|k| customer.get(k).map(String::as_str)));
    assert!(!fs.matches(|k| neither.get(k).map(String::as_str)));
}

#[test]
fn numbers_compare_as_numbers_not_text() {
    assert!(test("greater_than", &["9"], "10"));
    assert!(test("less_than", &["10"], " 9.5 "));
    assert!(test("equals", &["10"], "10.0"));
    assert!(test("is_any_of", &["1", "10"], "1e1"));
    assert!(!test("greater_than", &["9"], "-10"));
    // Two epoch-millisecond strings are just numbers.
    assert!(test("greater_than", &["1767571200000"], "1767571200001"));
}

#[test]
fn nan_and_infinity_are_words_not_numbers() {
    assert!(test("equals", &["nan"], "NaN"));
    assert!(test("equals", &["Inf"], "inf"));
    assert!(test("less_than", &["infinity"], "10"));
}

#[test]
fn dates_compare_in_utc() {
    assert!(test(
        "equals",
        &["2026-01-05T10:00:00Z"],
        "2026-01-05T11:00:00+01:00"
    ));
    assert!(test(
        "greater_than",
        &["2026-01-05T10:00:00Z"],
        "2026-01-05T10:00:00.001Z"
    ));
    assert!(test(
        "less_than",
        &["2026-01-05"],
        "2026-01-05T00:30:00+01:00"
    ));
    assert!(test(
        "greater_or_equal",
        &["2026-01-05"],
        "2026-01-05 00:00:00"
    ));
    // As text, "...T11..." would sort after "...T10:30...".
    assert!(test(
        "less_than",
        &["2026-01-05T10:30:00Z"],
        "2026-01-05T11:00:00+01:00"
    ));
}

#[test]
fn hubspot_epoch_millis_compare_with_a_date_filter() {
    assert!(test("equals", &["2026-01-05"], "1767571200000"));
    assert!(test(
        "greater_than",
        &["2026-01-04T23:00:00Z"],
        "1767571200000"
    ));
    assert!(!test("greater_than", &["2026-01-05"], "1767571200000"));
    // A date record against a number filter is no date comparison.
    assert!(!test("equals", &["1767571200000"], "2026-01-05"));
}

#[test]
fn equals_ignores_case_and_surrounding_spaces() {
    assert!(test("equals", &["ada"], " Ada "));
    assert!(!test("equals", &["ada"], "Adam"));
}

#[test]
fn text_operators_ignore_case() {
    assert!(test("contains", &["GMBH"], "Acme GmbH & Co"));
    assert!(test("not_contains", &["ltd"], "Acme GmbH"));
    assert!(!test("not_contains", &["gmbh"], "ACME GMBH"));
    assert!(test("starts_with", &["acme"], "ACME GmbH"));
    assert!(!test("starts_with", &["gmbh"], "ACME GmbH"));
    assert!(test("ends_with", &["@Example.COM"], "ada@example.com"));
    assert!(!test("ends_with", &["example"], "ada@example.com"));
}

#[test]
fn text_orders_case_insensitively() {
    assert!(test("less_than", &["beta"], "Alpha"));
    assert!(test("greater_or_equal", &["ALPHA"], "alpha"));
    assert!(test("less_or_equal", &["alpha"], "ALPHA"));
    assert!(!test("less_or_equal", &["alpha"], "beta"));
}

#[test]
fn every_operator_on_a_present_value() {
    let cases: &[(&str, &[&str], &str, bool)] = &[
        ("equals", &["5"], "5", true),
        ("not_equals", &["5"], "5", false),
        ("not_equals", &["5"], "6", true),
        ("contains", &["b"], "abc", true),
        ("not_contains", &["b"], "abc", false),
        ("greater_than", &["5"], "5", false),
        ("greater_or_equal", &["5"], "5", true),
        ("less_than", &["5"], "5", false),
        ("less_or_equal", &["5"], "5", true),
        ("is_empty", &[], "x", false),
        ("is_not_empty", &[], "x", true),
        ("starts_with", &["a"], "abc", true),
        ("ends_with", &["c"], "abc", true),
        ("is_any_of", &["DE", "FR"], "fr", true),
        ("is_any_of", &["DE", "FR"], "US", false),
        ("is_none_of", &["DE", "FR"], "US", true),
        ("is_none_of", &["DE", "FR"], "de", false),
    ];
    for (op, values, value, want) in cases {
        assert_eq!(
            test(op, values, value),
            *want,
            "{op} {values:?} on {value:?}"
        );
    }
}

#[test]
fn an_empty_value_is_not_equal_and_fails_every_positive_test() {
    for op in Op::ALL {
        let values: &[&str] = match op {
            Op::IsEmpty | Op::IsNotEmpty => &[],
            _ => &["5"],
        };
        let want = matches!(
            op,
            Op::IsEmpty | Op::NotEquals | Op::NotContains | Op::IsNoneOf
        );
        assert_eq!(test(op.as_str(), values, ""), want, "{op} on \"\"");
        let missing = f("x", op.as_str(), values).matches(|_| None);
        assert_eq!(missing, want, "{op} on a missing field");
    }
}

#[test]
fn an_excluded_record_says_which_filter_excluded_it() {
    let fs = Filters::new(vec![FilterGroup::new(vec![
        f("email", "is_not_empty", &[]),
        f("country", "is_any_of", &["DE", "FR"]),
    ])])
    .unwrap();
    let r = rec(&[("email", "a@b.c"), ("country", "US")]);
    let e = fs.check(|k| r.get(k).map(String::as_str)).unwrap_err();
    assert_eq!(e.failed.len(), 1);
    assert_eq!(
        e.to_string(),
        r#"excluded by filter: country is_any_of [DE, FR] (value "US")"#
    );
}

#[test]
fn with_several_groups_each_group_says_its_first_failing_filter() {
    let fs = Filters::new(vec![
        FilterGroup::new(vec![f("country", "is_any_of", &["DE", "FR"])]),
        FilterGroup::new(vec![
            f("lifecycle", "equals", &["customer"]),
            f("country", "equals", &["US"]),
        ]),
    ])
    .unwrap();
    let r = rec(&[("country", "US")]);
    let e = fs.check(|k| r.get(k).map(String::as_str)).unwrap_err();
    assert_eq!(
        e.to_string(),
        r#"excluded by every filter group: group 1: country is_any_of [DE, FR] (value "US"); group 2: lifecycle equals customer (value empty)"#
    );
}

#[test]
fn record_values_in_an_explanation_are_quoted_escaped_and_truncated() {
    let fs = one(f("name", "equals", &["Ada"]));
    let long = format!("{}\n\"evil\"", "x".repeat(60));
    let e = fs.check(|_| Some(long.as_str())).unwrap_err();
    let shown = e.failed[0].value.clone().unwrap();
    assert_eq!(shown.chars().count(), SHOWN_VALUE_CHARS + 1);
    let text = e.to_string();
    assert!(
        text.ends_with(&format!("(value \"{}…\")", "x".repeat(40))),
        "{text}"
    );
    let e = fs.check(|_| Some("a\nb\"")).unwrap_err().to_string();
    assert!(e.ends_with(r#"(value "a\nb\"")"#), "{e}");
}

#[test]
fn a_filter_displays_as_config_names() {
    assert_eq!(
        f("email", "is_not_empty", &[]).to_string(),
        "email is_not_empty"
    );
    assert_eq!(
        f("amount", "greater_than", &["100"]).to_string(),
        "amount greater_than 100"
    );
    assert_eq!(
        f("country", "is_none_of", &["DE", "FR"]).to_string(),
        "country is_none_of [DE, FR]"
    );
}

#[test]
fn a_filter_on_an_unmapped_field_is_refused() {
    let fs = Filters::new(vec![
        FilterGroup::new(vec![f("email", "is_not_empty", &[])]),
        FilterGroup::new(vec![f("lifecycle", "equals", &["customer"])]),
    ])
    .unwrap();
    assert_eq!(fs.validate_fields(&["email", "lifecycle"]), Ok(()));
    let e = fs.validate_fields(&["email", "country"]).unwrap_err();
    assert!(e.contains("group 2") && e.contains("\"lifecycle\""), "{e}");
    assert!(e.contains("mapped fields: email, country"), "{e}");
    assert_eq!(fs.fields(), vec!["email", "lifecycle"]);
}

#[test]
fn every_pushable_operator_maps_to_its_search_operator() {
    let cases = [
        ("equals", "EQ"),
        ("not_equals", "NEQ"),
        ("greater_than", "GT"),
        ("greater_or_equal", "GTE"),
        ("less_than", "LT"),
        ("less_or_equal", "LTE"),
        ("is_empty", "NOT_HAS_PROPERTY"),
        ("is_not_empty", "HAS_PROPERTY"),
        ("is_any_of", "IN"),
        ("is_none_of", "NOT_IN"),
    ];
    for (op, wire_op) in cases {
        let values: &[&str] = if op.starts_with("is_") && op.ends_with("empty") {
            &[]
        } else {
            &["7"]
        };
        let pushed = json(one(f("amount", op, values)).to_search_groups());
        let filter = &pushed[0]["filters"][0];
        assert_eq!(filter["operator"], wire_op, "{op}");
        assert_eq!(filter["propertyName"], "amount");
    }
}

#[test]
fn contains_is_not_pushed_down_but_the_rest_of_the_group_is() {
    let fs = Filters::new(vec![FilterGroup::new(vec![
        f("company", "contains", &["GmbH"]),
        f("country", "equals", &["DE"]),
        f("name", "starts_with", &["A"]),
    ])])
    .unwrap();
    assert_eq!(
        json(fs.to_search_groups()),
        serde_json::json!([{"filters": [
            {"propertyName": "country", "operator": "EQ", "value": "DE"}
        ]}])
    );
}

#[test]
fn a_group_with_nothing_pushable_turns_pushdown_off() {
    let fs = Filters::new(vec![
        FilterGroup::new(vec![f("country", "equals", &["DE"])]),
        FilterGroup::new(vec![f("company", "ends_with", &["GmbH"])]),
    ])
    .unwrap();
    assert!(fs.to_search_groups().is_none());
}

#[test]
fn in_values_are_lowercased_and_dates_become_epoch_millis() {
    let fs = Filters::new(vec![FilterGroup::new(vec![
        f("country", "is_any_of", &["DE", " Fr "]),
        f("closedate", "greater_or_equal", &["2026-01-05"]),
        f("amount", "less_than", &[" 1e3 "]),
    ])])
    .unwrap();
    assert_eq!(
        json(fs.to_search_groups()),
        serde_json::json!([{"filters": [
            {"propertyName": "country", "operator": "IN", "values": ["de", "fr"]},
            {"propertyName": "closedate", "operator": "GTE", "value": "1767571200000"},
            {"propertyName": "amount", "operator": "LT", "value": "1e3"}
        ]}])
    );
}

fn cursor(op: &str, v: &str) -> wire::Filter {
    wire::Filter {
        property_name: "lastmodifieddate".into(),
        operator: op.into(),
        value: Some(v.into()),
        high_value: None,
        values: None,
    }
}

#[test]
fn pushdown_with_ands_the_extra_filters_into_every_group() {
    let fs = Filters::new(vec![
        FilterGroup::new(vec![f("country", "equals", &["DE"])]),
        FilterGroup::new(vec![f("email", "is_empty", &[])]),
    ])
    .unwrap();
    let pushed = json(fs.pushdown_with(&[cursor("GT", "5")]));
    let c = serde_json::json!({"propertyName": "lastmodifieddate", "operator": "GT", "value": "5"});
    assert_eq!(
        pushed,
        serde_json::json!([
            {"filters": [c, {"propertyName": "country", "operator": "EQ", "value": "DE"}]},
            {"filters": [c, {"propertyName": "email", "operator": "NOT_HAS_PROPERTY"}]}
        ])
    );
}

#[test]
fn more_groups_than_search_allows_are_not_pushed_down() {
    let group = || FilterGroup::new(vec![f("country", "equals", &["DE"])]);
    let five = Filters::new((0..SEARCH_MAX_GROUPS).map(|_| group()).collect()).unwrap();
    let six = Filters::new((0..=SEARCH_MAX_GROUPS).map(|_| group()).collect()).unwrap();
    assert_eq!(five.to_search_groups().map(|g| g.len()), Some(5));
    assert!(six.to_search_groups().is_none());
    // 5 groups x (3 cursor filters + 1) is over the total of 18.
    let extra = [cursor("GT", "1"), cursor("LT", "9"), cursor("NEQ", "5")];
    assert!(five.pushdown_with(&extra).is_none());
    assert_eq!(five.pushdown_with(&extra[..2]).map(|g| g.len()), Some(5));
}

#[test]
fn an_overfull_group_leaves_out_its_least_selective_filters() {
    let fs = Filters::new(vec![FilterGroup::new(vec![
        f("email", "is_not_empty", &[]),
        f("a", "equals", &["1"]),
        f("b", "not_equals", &["1"]),
        f("c", "greater_than", &["1"]),
        f("d", "is_any_of", &["1"]),
        f("e", "is_empty", &[]),
    ])])
    .unwrap();
    let fields = |extra: &[wire::Filter]| -> Vec<String> {
        fs.pushdown_with(extra).unwrap()[0]
            .filters
            .iter()
            .map(|f| f.property_name.clone())
            .collect()
    };
    assert_eq!(fields(&[]), ["email", "a", "b", "c", "d", "e"]);
    let two = [cursor("GT", "1"), cursor("LT", "9")];
    let lm = "lastmodifieddate";
    assert_eq!(fields(&two), [lm, lm, "a", "c", "d", "e"]);
}

#[test]
fn the_total_filter_limit_trims_the_longest_groups() {
    let group = || {
        FilterGroup::new(vec![
            f("a", "equals", &["1"]),
            f("b", "equals", &["1"]),
            f("c", "is_not_empty", &[]),
            f("d", "equals", &["1"]),
        ])
    };
    let fs = Filters::new((0..5).map(|_| group()).collect()).unwrap();
    let pushed = fs.to_search_groups().unwrap();
    let total: usize = pushed.iter().map(|g| g.filters.len()).sum();
    assert_eq!(total, SEARCH_MAX_FILTERS);
    assert!(pushed.iter().all(|g| g.filters.len() >= 3));
    assert!(
        pushed
            .iter()
            .all(|g| g.filters.len() == 4 || g.filters.iter().all(|f| f.operator == "EQ"))
    );
}

fn word() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-cA-C ]{0,3}",
        "-?[0-9]{1,3}(\\.[0-9])?",
        "2026-0[1-2]-0[1-9]",
        "17675[0-9]{8}",
    ]
}

proptest! {
    #[test]
    fn negated_operators_are_exact_opposites(value in word(), wants in prop::collection::vec(word(), 1..4)) {
        prop_assume!(wants.iter().all(|w| !w.trim().is_empty()));
        let w: Vec<&str> = wants.iter().map(String::as_str).collect();
        prop_assert_eq!(test("not_equals", &w[..1], &value), !test("equals", &w[..1], &value));
        prop_assert_eq!(test("is_none_of", &w, &value), !test("is_any_of", &w, &value));
        prop_assert_eq!(test("not_contains", &w[..1], &value), !test("contains", &w[..1], &value));
        if !value.is_empty() {
            prop_assert_eq!(test("greater_or_equal", &w[..1], &value), !test("less_than", &w[..1], &value));
            prop_assert_eq!(test("less_or_equal", &w[..1], &value), !test("greater_than", &w[..1], &value));
        }
    }
}
