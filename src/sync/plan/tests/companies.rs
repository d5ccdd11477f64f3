//! A contact's company kept in step, and companies matched by domain before name.

use super::*;

/// A linked contact whose app row names company `app_company` (None: no
/// company), associated in HubSpot with `associated`; app companies 7 and 8
/// are linked to HubSpot companies 900 and 901.
fn with_company(app_company: Option<&str>, associated: &[&str], remembered: Option<&str>) -> World {
    let mut r = rec("1", Some("ada@example.com"), "Ada");
    r.fields
        .insert("company_id".into(), app_company.map(str::to_string));
    let mut mem = memory("ada@example.com", "Ada");
    if let Some(c) = remembered {
        mem.insert(crate::sync::mapping::COMPANY.into(), c.into());
    }
    let mut w = World::new(SyncRules::both())
        .app(r)
        .hubspot(hs("501", "ada@example.com", "Ada"))
        .linked("1", "501", mem);
    w.mapping.company_column = Some("company_id".into());
    w.companies = Some((
        HashMap::from([(
            "501".to_string(),
            associated.iter().map(|s| s.to_string()).collect(),
        )]),
        HashMap::from([
            ("7".to_string(), "900".to_string()),
            ("8".to_string(), "901".to_string()),
        ]),
    ));
    w
}

#[test]
fn a_contacts_company_follows_its_hubspot_association_into_the_app() {
    let w = with_company(None, &["900"], None);
    let writes = update_of(one(w.plan()));
    assert_eq!(writes.to_app, props(&[("company_id", "7")]));
    assert_eq!(
        writes.memory_after().get("@company").map(String::as_str),
        Some("900")
    );
}

#[test]
fn a_company_changed_in_the_app_is_associated_in_hubspot() {
    let w = with_company(Some("8"), &["900"], Some("900"));
    let writes = update_of(one(w.plan()));
    assert_eq!(writes.to_hubspot, props(&[("@company", "901")]));
    assert!(writes.to_app.is_empty());
}

#[test]
fn a_contacts_company_in_step_plans_nothing() {
    let w = with_company(Some("8"), &["900", "901"], Some("901"));
    assert_eq!(w.plan(), vec![]);
}

#[test]
fn an_app_company_not_linked_yet_leaves_the_association_alone() {
    let w = with_company(Some("99"), &["900"], None);
    assert_eq!(w.plan(), vec![]);
}

#[test]
fn a_hubspot_company_the_app_does_not_have_leaves_the_apps_company_alone() {
    let w = with_company(Some("7"), &["999"], Some("900"));
    assert_eq!(w.plan(), vec![]);
}

fn company(id: &str, domain: Option<&str>, name: &str) -> AppRecord {
    let mut fields = BTreeMap::new();
    fields.insert("domain".to_string(), domain.map(str::to_string));
    fields.insert("name".to_string(), Some(name.to_string()));
    AppRecord {
        id: id.into(),
        fields,
        hubspot_id: None,
        updated_at: String::new(),
    }
}

fn hs_company(id: &str, domain: &str, name: &str) -> SimplePublicObject {
    let mut o = hs(id, "", "");
    o.properties = BTreeMap::from([
        ("domain".to_string(), Some(domain.to_string())),
        ("name".to_string(), Some(name.to_string())),
    ]);
    o
}

fn companies_world() -> World {
    let mut w = World::new(SyncRules::both());
    w.mapping = ObjectMapping {
        object: crate::model::ObjectKind::Companies,
        keys: vec![
            crate::sync::mapping::KeyMap {
                app_column: "domain".into(),
                hubspot_property: "domain".into(),
            },
            crate::sync::mapping::KeyMap {
                app_column: "name".into(),
                hubspot_property: "name".into(),
            },
        ],
        fields: vec![
            crate::sync::mapping::FieldMap::simple("domain", "domain", Transform::LowercaseTrim),
            crate::sync::mapping::FieldMap::simple("name", "name", Transform::None),
        ],
        label_column: "name".into(),
        ..ObjectMapping::demo_contacts()
    };
    w
}

#[test]
fn companies_whose_domains_differ_are_not_matched_by_name() {
    let w = companies_world()
        .app(company("1", Some("acme.de"), "Acme"))
        .hubspot(hs_company("900", "acme.com", "Acme"));
    let d = w.plan();
    assert!(
        d.iter().all(|d| !matches!(d, Decision::Link { .. })),
        "{d:?}"
    );
}

#[test]
fn a_company_without_a_domain_is_matched_by_name() {
    let w = companies_world()
        .app(company("1", None, "Acme"))
        .hubspot(hs_company("900", "acme.com", "Acme"));
    assert!(w.plan().iter().any(|d| matches!(d, Decision::Link { .. })));
}

#[test]
fn two_companies_sharing_a_name_but_not_a_domain_are_both_created() {
    let w = companies_world()
        .app(company("1", Some("acme.com"), "Acme"))
        .app(company("2", Some("acme.de"), "Acme"));
    let creates = w
        .plan()
        .into_iter()
        .filter(|d| matches!(d, Decision::CreateInHubSpot { .. }))
        .count();
    assert_eq!(creates, 2);
}
