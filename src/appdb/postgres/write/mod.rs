//! The PostgreSQL backend's writes. Rows that write the same columns go in
//! one statement (`… FROM unnest($1::text[], …)`): a round trip per row
//! held a backfill to a few hundred rows a second. Only when PostgreSQL
//! refuses such a statement (one row breaks a constraint, a trigger, the
//! key's type) are its rows written again one by one, each in a savepoint,
//! so that the refused row fails alone and the others still land.

mod at_once;
mod hubspot_ids;
mod one_by_one;

use super::sql;
use super::{PgApp, PgContext, Types};
use crate::appdb::BatchOutcome;
use crate::sync::mapping::ObjectMapping;
use std::collections::BTreeMap;

/// Rows per statement: enough for any batch the engine sends, few enough
/// that a refused statement costs little to redo row by row.
const ROWS_PER_STATEMENT: usize = 1000;

/// What every statement on one table needs.
struct Table<'a> {
    app: &'a PgApp,
    m: &'a ObjectMapping,
    t: &'a Types,
    /// "Now" in the `updated_at` column's own format.
    now: String,
}

/// The positions of `rows` grouped by the columns they write (in first-seen
/// order), each group cut to [`ROWS_PER_STATEMENT`]: one statement each.
fn alike<'a>(rows: impl Iterator<Item = &'a BTreeMap<String, String>>) -> Vec<Vec<usize>> {
    let mut groups: Vec<(Vec<&String>, Vec<usize>)> = Vec::new();
    for (i, values) in rows.enumerate() {
        let cols: Vec<&String> = values.keys().collect();
        match groups.iter_mut().find(|(c, _)| *c == cols) {
            Some((_, members)) => members.push(i),
            None => groups.push((cols, vec![i])),
        }
    }
    groups
        .into_iter()
        .flat_map(|(_, members)| {
            members
                .chunks(ROWS_PER_STATEMENT)
                .map(<[usize]>::to_vec)
                .collect::<Vec<_>>()
        })
        .collect()
}

impl Table<'_> {
    fn what(&self) -> String {
        format!(
            "writing to table {} of {}",
            self.m.table,
            self.app.describe()
        )
    }
}

impl PgApp {
    /// Applies one batch of writes from HubSpot in one transaction:
    /// `updates` (app id, column → value) and `inserts` (column → value,
    /// HubSpot id); the outcomes come back per row, in order.
    pub async fn write_batch(
        &self,
        m: &ObjectMapping,
        updates: &[(String, BTreeMap<String, String>)],
        inserts: &[(BTreeMap<String, String>, String)],
    ) -> anyhow::Result<BatchOutcome> {
        let t = self.types(m).await?;
        let table = Table {
            app: self,
            m,
            t: &t,
            now: sql::stamp_now(&m.table, &m.updated_at_column, t.of(&m.updated_at_column)),
        };
        let mut client = self.client().await?;
        let what = || format!("writing to table {} of {}", m.table, self.describe());
        let mut tx = client.transaction().await.pg(what)?;

        let mut updated: Vec<Option<anyhow::Result<()>>> = updates
            .iter()
            .map(|(_, values)| values.is_empty().then_some(Ok(())))
            .collect();
        let positions: Vec<usize> = (0..updates.len())
            .filter(|&i| !updates[i].1.is_empty())
            .collect();
        for group in alike(positions.iter().map(|&i| &updates[i].1)) {
            let rows: Vec<&(String, BTreeMap<String, String>)> =
                group.iter().map(|&g| &updates[positions[g]]).collect();
            let outcomes = match table.update_at_once(&mut tx, &rows).await? {
                Some(found) => rows
                    .iter()
                    .map(|(id, _)| match found.contains(id.as_str()) {
                        true => Ok(()),
                        false => Err(anyhow::anyhow!("app {} {id} no longer exists", m.table)),
                    })
                    .collect(),
                None => {
                    let mut each = Vec::with_capacity(rows.len());
                    for (id, values) in &rows {
                        each.push(table.update_row(&mut tx, id, values).await?);
                    }
                    each
                }
            };
            for (g, r) in group.iter().zip(outcomes) {
                updated[positions[*g]] = Some(r);
            }
        }

        let mut inserted: Vec<Option<anyhow::Result<String>>> =
            inserts.iter().map(|_| None).collect();
        for group in alike(inserts.iter().map(|(v, _)| v)) {
            let rows: Vec<&(BTreeMap<String, String>, String)> =
                group.iter().map(|&i| &inserts[i]).collect();
            let outcomes = match table.insert_at_once(&mut tx, &rows).await? {
                Some(ids) => ids.into_iter().map(Ok).collect(),
                None => {
                    let mut each = Vec::with_capacity(rows.len());
                    for (values, hubspot_id) in &rows {
                        each.push(table.insert_row(&mut tx, values, hubspot_id).await?);
                    }
                    each
                }
            };
            for (i, r) in group.iter().zip(outcomes) {
                inserted[*i] = Some(r);
            }
        }

        tx.commit().await.pg(|| {
            format!(
                "committing writes to table {} of {}",
                m.table,
                self.describe()
            )
        })?;
        let missing = || anyhow::anyhow!("no outcome for a row of table {}", m.table);
        Ok((
            updated
                .into_iter()
                .map(|r| r.unwrap_or_else(|| Err(missing())))
                .collect(),
            inserted
                .into_iter()
                .map(|r| r.unwrap_or_else(|| Err(missing())))
                .collect(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(cols: &[&str]) -> BTreeMap<String, String> {
        cols.iter().map(|c| (c.to_string(), "v".into())).collect()
    }

    #[test]
    fn rows_writing_the_same_columns_share_a_statement_in_first_seen_order() {
        let rows = [
            row(&["email"]),
            row(&["email", "phone"]),
            row(&["email"]),
            row(&["phone", "email"]),
        ];
        assert_eq!(alike(rows.iter()), vec![vec![0, 2], vec![1, 3]]);
    }

    #[test]
    fn a_group_larger_than_a_statement_takes_is_cut() {
        let rows: Vec<_> = (0..ROWS_PER_STATEMENT + 1)
            .map(|_| row(&["email"]))
            .collect();
        let sizes: Vec<usize> = alike(rows.iter()).iter().map(Vec::len).collect();
        assert_eq!(sizes, [ROWS_PER_STATEMENT, 1]);
    }
}
