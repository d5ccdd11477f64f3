//! Against the app table's real columns: a mapped column the table does
//! not have (with the nearest names), which the engine would only find
//! when its first read of the table failed.

use super::nearest;
use crate::appdb::TableInfo;
use crate::config::ObjectConfig;

pub(super) fn check(
    o: &ObjectConfig,
    table: &TableInfo,
    say: &mut impl FnMut(String, String, String),
) {
    // A table that could not be described (or is missing, said on its own)
    // has no columns to compare against.
    if table.columns.is_empty() {
        return;
    }
    let m = &o.mapping;
    let object = m.object;
    let has = |name: &str| table.columns.iter().any(|c| c.name == name);
    let names = || table.columns.iter().map(|c| (c.name.as_str(), ""));
    for (i, f) in m.fields.iter().enumerate() {
        for (j, column) in f.app_columns.iter().enumerate() {
            if has(column) {
                continue;
            }
            let key = if f.app_columns.len() == 1 {
                format!("objects.{object}.fields[{i}].app")
            } else {
                format!("objects.{object}.fields[{i}].app[{j}]")
            };
            let near = nearest(column, names());
            let hint = if near.is_empty() {
                String::new()
            } else {
                format!("; the nearest are {}", near.join(", "))
            };
            say(
                key,
                format!("field {}", f.label()),
                format!("app table {} has no column {column}{hint}", m.table),
            );
        }
    }
}
