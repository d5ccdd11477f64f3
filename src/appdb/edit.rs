//! An operator's fix of one app value (`set_app_field`): only a mapped
//! column, only a value its type can hold, written as hubsync writes
//! values from HubSpot (stamping `updated_at`, so the app's other readers
//! see the change).

use super::{AppDb, AppRecord};
use crate::sync::mapping::ObjectMapping;

/// What an edit changed.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldEdit {
    /// The value before (None: empty).
    pub old: Option<String>,
    /// The row as it was before the edit.
    pub before: AppRecord,
}

/// Whether `value` can be stored in a column of this declared type, or
/// why not. SQLite would store anything in most columns (only its STRICT
/// tables check), so what the app expects is read from the declaration,
/// by SQLite's own affinity rules; PostgreSQL's names are checked alike
/// before the database is asked.
pub fn value_fits(type_name: &str, value: &str) -> Result<(), String> {
    let t = type_name.to_ascii_lowercase();
    if value.is_empty() {
        return Ok(());
    }
    let v = value.trim();
    let ok = if t.contains("int") {
        v.parse::<i64>().is_ok()
    } else if t.contains("real")
        || t.contains("floa")
        || t.contains("doub")
        || t.starts_with("numeric")
        || t.starts_with("decimal")
    {
        v.parse::<f64>().is_ok_and(f64::is_finite)
    } else if t == "boolean" || t == "bool" {
        matches!(
            v.to_ascii_lowercase().as_str(),
            "true" | "false" | "t" | "f" | "yes" | "no" | "1" | "0"
        )
    } else if t == "uuid" {
        uuid::Uuid::parse_str(v).is_ok()
    } else if t == "date" {
        chrono::NaiveDate::parse_from_str(v, "%Y-%m-%d").is_ok()
    } else {
        true
    };
    if ok {
        Ok(())
    } else {
        Err(format!("{value:?} is not a value of type {type_name}"))
    }
}

impl AppDb {
    /// Sets one mapped column of one row to `value` (empty: NULL),
    /// stamping `updated_at`. Refused, with what and where: a column no
    /// field maps (or one hubsync keeps: the id, the HubSpot id,
    /// `updated_at`), a value the column's type cannot hold, a row that
    /// does not exist.
    pub async fn set_field(
        &self,
        m: &ObjectMapping,
        id: &str,
        column: &str,
        value: &str,
    ) -> anyhow::Result<FieldEdit> {
        let mapped: Vec<&str> = m
            .fields
            .iter()
            .flat_map(|f| f.app_columns.iter().map(String::as_str))
            .collect();
        let kept = [
            m.id_column.as_str(),
            m.hubspot_id_column.as_str(),
            m.updated_at_column.as_str(),
        ];
        if kept.contains(&column) {
            anyhow::bail!(
                "column {column} of app table {} is hubsync's own bookkeeping and cannot be edited; \
                 the mapped columns are {}",
                m.table,
                mapped.join(", ")
            );
        }
        if !mapped.contains(&column) {
            anyhow::bail!(
                "column {column} of app table {} is not mapped to HubSpot, so it is not hubsync's to edit; \
                 the mapped columns are {}",
                m.table,
                mapped.join(", ")
            );
        }
        let info = self.table_info(m).await?;
        let Some(col) = info.columns.iter().find(|c| c.name == column) else {
            anyhow::bail!(
                "app table {} of {} has no column {column}",
                m.table,
                self.describe()
            );
        };
        value_fits(&col.type_name, value).map_err(|e| {
            anyhow::anyhow!(
                "column {column} of app table {}: {e}; nothing was written",
                m.table
            )
        })?;
        let Some(before) = self.get(m, id).await? else {
            anyhow::bail!(
                "app {} {id} does not exist (deleted?); nothing was written",
                m.table
            );
        };
        let values = std::collections::BTreeMap::from([(column.to_string(), value.to_string())]);
        let (mut updated, _) = self
            .write_batch(m, &[(id.to_string(), values)], &[])
            .await?;
        updated
            .pop()
            .unwrap_or_else(|| Err(anyhow::anyhow!("the app database answered no outcome")))?;
        Ok(FieldEdit {
            old: before.fields.get(column).cloned().flatten(),
            before,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::value_fits;

    #[test]
    fn a_number_column_refuses_text_and_takes_a_number() {
        assert!(value_fits("INTEGER", "12").is_ok());
        assert_eq!(
            value_fits("bigint", "twelve").unwrap_err(),
            "\"twelve\" is not a value of type bigint"
        );
        assert!(value_fits("numeric(10,2)", "3.5").is_ok());
        assert!(value_fits("REAL", "x").is_err());
    }

    #[test]
    fn text_columns_take_anything_and_empty_is_null_anywhere() {
        assert!(value_fits("TEXT", "anything at all").is_ok());
        assert!(value_fits("character varying(80)", "x").is_ok());
        assert!(value_fits("integer", "").is_ok());
    }

    #[test]
    fn dates_uuids_and_booleans_are_checked() {
        assert!(value_fits("date", "2026-02-30").is_err());
        assert!(value_fits("date", "2026-02-28").is_ok());
        assert!(value_fits("uuid", "not-a-uuid").is_err());
        assert!(value_fits("boolean", "maybe").is_err());
        assert!(value_fits("boolean", "true").is_ok());
    }
}
