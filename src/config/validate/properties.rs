//! Against HubSpot's property list: a mapped property that does not exist
//! (with the nearest names), one HubSpot will not let hubsync write, a
//! value map whose targets are not options of the dropdown, an
//! `app_id_property` that cannot identify a record.

use super::nearest;
use crate::config::ObjectConfig;
use crate::hubspot::wire::Property;
use crate::model::Direction;
use crate::sync::transform::Transform;

pub(super) fn check(
    o: &ObjectConfig,
    props: &[Property],
    say: &mut impl FnMut(String, String, String),
) {
    let m = &o.mapping;
    let object = m.object;
    let find = |name: &str| props.iter().find(|p| p.name == name);
    let names = || props.iter().map(|p| (p.name.as_str(), p.label.as_str()));
    if let Some(prop) = &m.app_id_property {
        let key = format!("objects.{object}.app_id_property");
        match find(prop) {
            None => say(
                key,
                "app_id_property".into(),
                format!(
                    "HubSpot has no {object} property {prop}; create it as a unique text property"
                ),
            ),
            Some(p) if !p.has_unique_value => say(
                key,
                "app_id_property".into(),
                format!(
                    "{prop} does not require unique values in HubSpot, so it cannot identify a record"
                ),
            ),
            Some(_) => {}
        }
    }
    for (i, f) in m.fields.iter().enumerate() {
        let context = format!("field {}", f.label());
        for (j, hp) in f.hubspot_properties.iter().enumerate() {
            let key = if f.hubspot_properties.len() == 1 {
                format!("objects.{object}.fields[{i}].hubspot")
            } else {
                format!("objects.{object}.fields[{i}].hubspot[{j}]")
            };
            match find(hp) {
                None => {
                    let near = nearest(hp, names());
                    let hint = if near.is_empty() {
                        String::new()
                    } else {
                        format!("; the nearest are {}", near.join(", "))
                    };
                    say(
                        key,
                        context.clone(),
                        format!("HubSpot has no {object} property {hp}{hint}"),
                    );
                }
                // Reading a read-only property into the app is fine;
                // writing it is what HubSpot refuses.
                Some(p)
                    if p.is_read_only()
                        && f.flows(Direction::ToHubSpot)
                        && o.rules.flows(Direction::ToHubSpot) =>
                {
                    say(
                        key,
                        context.clone(),
                        format!("{hp} is read-only in HubSpot; map it with direction = \"to_app\""),
                    )
                }
                Some(p) => {
                    if let Transform::ValueMap(vm) = &f.transform
                        && !p.options.is_empty()
                    {
                        let options: Vec<&str> =
                            p.options.iter().map(|o| o.value.as_str()).collect();
                        let bad: Vec<&str> = vm
                            .to_hubspot
                            .values()
                            .map(String::as_str)
                            .filter(|v| !options.iter().any(|o| o.eq_ignore_ascii_case(v.trim())))
                            .collect();
                        if !bad.is_empty() {
                            say(
                                format!("objects.{object}.fields[{i}].values"),
                                context.clone(),
                                format!(
                                    "the value map writes {} to {hp}, which {} not among its options ({})",
                                    bad.join(", "),
                                    if bad.len() == 1 { "is" } else { "are" },
                                    options.join(", ")
                                ),
                            );
                        }
                    }
                }
            }
        }
    }
}
