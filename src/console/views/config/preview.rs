//! A `config_preview` answer as lines for people: what saving the text
//! would do, per object and direction, which linked records would get a
//! write in which fields, and one record before → after. Used by the
//! editor before a save and by `:history` before going back.

use serde_json::{Value, json};

/// The counts and the record, newest concern first: a text that does not
/// load, then the validators' problems, then what it would do.
pub fn summary(v: &Value) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(e) = v["error"]["text"].as_str() {
        out.push(format!("does not load: {e}"));
    }
    for p in v["problems"].as_array().into_iter().flatten() {
        out.push(format!("problem: {}", p["message"].as_str().unwrap_or("")));
    }
    for u in v["unchecked"].as_array().into_iter().flatten() {
        out.push(format!("not checked: {}", u.as_str().unwrap_or("")));
    }
    for o in v["preview"]["objects"].as_array().into_iter().flatten() {
        let name = o["object"].as_str().unwrap_or("");
        let h = &o["to_hubspot"];
        if h.is_object() {
            out.push(format!(
                "{name} → HubSpot: {} of {} app rows eligible (now {}); {} newly excluded, {} newly eligible",
                h["after"], h["total"], h["before"], h["newly_excluded"], h["newly_eligible"]
            ));
        }
        let a = &o["to_app"];
        if a.is_object() {
            out.push(format!(
                "{name} → app: {} HubSpot records eligible (now {}){}",
                a["after"],
                a["before"],
                if a["estimate"] == json!(true) {
                    ", an estimate"
                } else {
                    ""
                }
            ));
        }
        let l = &o["linked"];
        let fields = |k: &str| {
            let list = l[k]
                .as_object()
                .map(|m| {
                    m.iter()
                        .map(|(f, n)| format!("{f} ×{n}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                })
                .unwrap_or_default();
            if list.is_empty() {
                list
            } else {
                format!(" ({list})")
            }
        };
        out.push(format!(
            "{name} linked (from the link memory): {} would be written in HubSpot{}, {} in the app{}",
            l["to_hubspot_records"],
            fields("to_hubspot_fields"),
            l["to_app_records"],
            fields("to_app_fields")
        ));
    }
    out.extend(record(&v["preview"]["record"]));
    if let Some(ms) = v["took_ms"].as_u64() {
        out.push(format!("(previewed in {ms} ms; nothing was written)"));
    }
    out
}

/// One record under the running config and the edited one: only what
/// differs, each side on its own line.
fn record(r: &Value) -> Vec<String> {
    if !r.is_object() {
        return Vec::new();
    }
    let mut out = vec![format!(
        "record {}{}: eligible {} → {}{}",
        r["app_id"].as_str().unwrap_or("?"),
        r["hubspot_id"]
            .as_str()
            .map(|h| format!(" (HubSpot {h})"))
            .unwrap_or_default(),
        yes(&r["eligible_before"]),
        yes(&r["eligible_after"]),
        r["excluded_by"]
            .as_str()
            .map(|f| format!(", excluded by {f}"))
            .unwrap_or_default()
    )];
    for (side, before, after) in [
        ("HubSpot", &r["hubspot_before"], &r["hubspot_after"]),
        ("app", &r["app_before"], &r["app_after"]),
    ] {
        let empty = serde_json::Map::new();
        let b = before.as_object().unwrap_or(&empty);
        let a = after.as_object().unwrap_or(&empty);
        let mut keys: Vec<&String> = b.keys().chain(a.keys()).collect();
        keys.sort();
        keys.dedup();
        let changed: Vec<String> = keys
            .into_iter()
            .filter(|k| b.get(*k) != a.get(*k))
            .map(|k| format!("{k}: {} → {}", shown(b.get(k)), shown(a.get(k))))
            .collect();
        if changed.is_empty() {
            out.push(format!("  {side}: no change"));
        } else {
            out.push(format!("  {side}: {}", changed.join("; ")));
        }
    }
    out
}

/// The lines saving adds and removes, so the question shows what is
/// written: changed lines only, at most [`SHOWN_CHANGES`] of them.
pub fn file_change(loaded: &str, edited: &str) -> Vec<String> {
    let diff = similar::TextDiff::from_lines(loaded, edited);
    let changes: Vec<String> = diff
        .iter_all_changes()
        .filter_map(|c| {
            let sign = match c.tag() {
                similar::ChangeTag::Delete => "-",
                similar::ChangeTag::Insert => "+",
                similar::ChangeTag::Equal => return None,
            };
            Some(format!("{sign} {}", c.value().trim_end()))
        })
        .collect();
    let mut out = vec![format!(
        "the file would change ({} line(s)):",
        changes.len()
    )];
    let more = changes.len().saturating_sub(SHOWN_CHANGES);
    out.extend(changes.into_iter().take(SHOWN_CHANGES));
    if more > 0 {
        out.push(format!("… and {more} more (:toml shows the section)"));
    }
    out
}

const SHOWN_CHANGES: usize = 8;

fn yes(v: &Value) -> &'static str {
    if v == &json!(true) { "yes" } else { "no" }
}

fn shown(v: Option<&Value>) -> String {
    match v.and_then(Value::as_str) {
        Some(s) => format!("{s:?}"),
        None => "(not written)".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_shows_only_what_changes_on_each_side() {
        let v = json!({"preview": {"objects": [], "record": {
            "app_id": "7", "hubspot_id": "101",
            "hubspot_before": {"jobtitle": "CTO", "email": "a@x"},
            "hubspot_after": {"city": "CTO", "email": "a@x"},
            "app_before": {}, "app_after": {},
            "eligible_before": true, "eligible_after": true}}});
        let lines = summary(&v);
        assert_eq!(lines[0], "record 7 (HubSpot 101): eligible yes → yes");
        assert_eq!(
            lines[1],
            "  HubSpot: city: (not written) → \"CTO\"; jobtitle: \"CTO\" → (not written)"
        );
        assert_eq!(lines[2], "  app: no change");
    }

    #[test]
    fn the_file_change_lists_the_lines_added_and_removed_only() {
        let lines = file_change("a = 1\nb = 2\nc = 3\n", "a = 1\nb = 5\nc = 3\n");
        assert_eq!(
            lines,
            vec!["the file would change (2 line(s)):", "- b = 2", "+ b = 5"]
        );
    }

    #[test]
    fn a_text_that_does_not_load_says_so_first() {
        let v = json!({"ok": false, "error": {"text": "line 3: expected ="}, "problems": []});
        assert_eq!(summary(&v), vec!["does not load: line 3: expected ="]);
    }
}
