//! An object's settings: direction, create policy, system of record, poll
//! interval and batch size. Values are typed as the file wants them (a
//! number for the interval and the batch); config loading checks them.

use super::Refusal;
use serde_json::Value;
use toml_edit::{Table, value};

pub const SETTINGS: [&str; 5] = [
    "direction",
    "create",
    "system_of_record",
    "poll_interval_secs",
    "batch_size",
];

pub(super) fn set(object: &mut Table, key: &str, v: Option<&Value>) -> Result<(), Refusal> {
    if !SETTINGS.contains(&key) {
        return Err((
            Some(key.into()),
            format!(
                "{key} is not an object setting; expected one of {}",
                SETTINGS.join(", ")
            ),
        ));
    }
    let numeric = matches!(key, "poll_interval_secs" | "batch_size");
    let item = match v {
        None | Some(Value::Null) => {
            object.remove(key);
            return Ok(());
        }
        Some(Value::Number(n)) if numeric => match n.as_i64() {
            Some(i) if i >= 0 => value(i),
            _ => {
                return Err((
                    Some(key.into()),
                    format!("{key} {n}: expected a whole number of at least 0"),
                ));
            }
        },
        // A number typed as text in an editor's box is still a number.
        Some(Value::String(s)) if numeric => match s.trim().parse::<i64>() {
            Ok(i) if i >= 0 => value(i),
            _ => {
                return Err((
                    Some(key.into()),
                    format!("{key} {s:?}: expected a whole number"),
                ));
            }
        },
        Some(Value::String(s)) => value(s.as_str()),
        Some(other) => {
            return Err((
                Some(key.into()),
                format!(
                    "{key} {other}: expected {}",
                    if numeric { "a number" } else { "text" }
                ),
            ));
        }
    };
    // Keeps a comment written after the value on its line.
    match object.get_mut(key).and_then(|i| i.as_value_mut()) {
        Some(old) => {
            let decor = old.decor().clone();
            let mut new = item
                .into_value()
                .map_err(|_| (Some(key.to_string()), "not a value".to_string()))?;
            *new.decor_mut() = decor;
            *old = new;
        }
        None => {
            object.insert(key, item);
        }
    }
    Ok(())
}
