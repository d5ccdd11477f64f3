//! What `hubsync check` says about an app table: the mapped columns that
//! are missing or of a type hubsync cannot sync through, and the indexes a
//! sync over a large table needs (with the statements that add them).

use crate::sync::mapping::ObjectMapping;

#[derive(Debug, Clone, PartialEq)]
pub struct ColumnInfo {
    pub name: String,
    /// As the database spells it (`bigint`, `timestamp with time zone`,
    /// SQLite's declared `TEXT`).
    pub type_name: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TableInfo {
    /// As the mapping names it (`crm.contacts`).
    pub table: String,
    pub columns: Vec<ColumnInfo>,
    /// The first column (or expression) of each index, the primary key's
    /// included: what a lookup by that column can use.
    pub leading_index_columns: Vec<String>,
}

impl TableInfo {
    fn column(&self, name: &str) -> Option<&ColumnInfo> {
        self.columns.iter().find(|c| c.name == name)
    }
}

/// Problems (the sync cannot work) and warnings (it works, slowly).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TableReport {
    pub problems: Vec<String>,
    pub warnings: Vec<String>,
    /// `CREATE INDEX` statements for the missing indexes.
    pub create_index: Vec<String>,
}

/// The table exists and has every column the mapping names.
pub fn verify(db: &str, m: &ObjectMapping, info: &TableInfo) -> anyhow::Result<()> {
    if info.columns.is_empty() {
        anyhow::bail!("app database {db} has no table {}", m.table);
    }
    let missing = missing_columns(m, info);
    if !missing.is_empty() {
        let have: Vec<&str> = info.columns.iter().map(|c| c.name.as_str()).collect();
        anyhow::bail!(
            "table {} of {db} has no column {}; its columns are {}",
            m.table,
            missing.join(", "),
            have.join(", ")
        );
    }
    Ok(())
}

fn missing_columns<'m>(m: &'m ObjectMapping, info: &TableInfo) -> Vec<&'m str> {
    let mut wanted = vec![
        m.id_column.as_str(),
        m.updated_at_column.as_str(),
        m.hubspot_id_column.as_str(),
    ];
    wanted.extend(m.app_columns());
    wanted.dedup();
    wanted
        .into_iter()
        .filter(|c| info.column(c).is_none())
        .collect()
}

/// Whether a PostgreSQL type can hold what hubsync keeps in that role.
fn pg_type_fits(role: Role, type_name: &str) -> bool {
    let t = type_name.to_ascii_lowercase();
    let text = t == "text" || t.starts_with("character varying") || t == "citext";
    match role {
        Role::Id => text || t == "uuid" || matches!(t.as_str(), "integer" | "bigint" | "smallint"),
        Role::UpdatedAt => {
            t.starts_with("timestamp") || matches!(t.as_str(), "integer" | "bigint" | "numeric")
        }
        // HubSpot ids pass 2^31: an `integer` column overflows.
        Role::HubSpotId => text || matches!(t.as_str(), "bigint" | "numeric"),
        Role::Key => text,
    }
}

#[derive(Clone, Copy)]
enum Role {
    Id,
    UpdatedAt,
    HubSpotId,
    Key,
}

impl Role {
    fn expected(self) -> &'static str {
        match self {
            Role::Id => "integer, bigint, uuid or text",
            Role::UpdatedAt => "timestamptz, timestamp, or epoch seconds/milliseconds (bigint)",
            Role::HubSpotId => "text or bigint (HubSpot ids outgrow integer)",
            Role::Key => "text or varchar",
        }
    }
}

pub fn report(postgres: bool, m: &ObjectMapping, info: &TableInfo) -> TableReport {
    let mut r = TableReport::default();
    if info.columns.is_empty() {
        r.problems.push(format!("no table {}", m.table));
        return r;
    }
    let missing = missing_columns(m, info);
    if !missing.is_empty() {
        let have: Vec<&str> = info.columns.iter().map(|c| c.name.as_str()).collect();
        r.problems.push(format!(
            "table {} has no column {}; its columns are {}",
            m.table,
            missing.join(", "),
            have.join(", ")
        ));
    }
    let mut roles = vec![
        (m.id_column.as_str(), Role::Id),
        (m.updated_at_column.as_str(), Role::UpdatedAt),
        (m.hubspot_id_column.as_str(), Role::HubSpotId),
    ];
    roles.extend(m.keys.iter().map(|k| (k.app_column.as_str(), Role::Key)));
    if postgres {
        for (name, role) in &roles {
            if let Some(c) = info.column(name)
                && !pg_type_fits(*role, &c.type_name)
            {
                r.problems.push(format!(
                    "column {name} of {} is {}; expected {}",
                    m.table,
                    c.type_name,
                    role.expected()
                ));
            }
        }
    }
    let indexed = |expr: &str| info.leading_index_columns.iter().any(|l| l == expr);
    let table = if postgres {
        super::postgres::sql::table_ref(&m.table)
    } else {
        format!("`{}`", m.table.replace('`', "``"))
    };
    let quote = |c: &str| {
        if postgres {
            super::postgres::sql::ident(c)
        } else {
            format!("`{}`", c.replace('`', "``"))
        }
    };
    let mut want = vec![
        (
            m.updated_at_column.clone(),
            format!("{}, {}", quote(&m.updated_at_column), quote(&m.id_column)),
            "the change feed reads in updated_at order",
        ),
        (
            m.hubspot_id_column.clone(),
            quote(&m.hubspot_id_column),
            "records are found by their HubSpot id",
        ),
        (
            m.id_column.clone(),
            quote(&m.id_column),
            "rows are read by id",
        ),
    ];
    for k in &m.keys {
        if info.column(&k.app_column).is_none() {
            continue;
        }
        let e = if postgres {
            super::postgres::sql::key_expr(&k.app_column)
        } else {
            super::sqlite::key::key_expr(&quote(&k.app_column))
        };
        want.push((
            e.clone(),
            format!("({e})"),
            "unlinked records are matched by key",
        ));
    }
    for (lead, columns, why) in want {
        if info.column(&lead).is_none() && !lead.contains('(') {
            continue;
        }
        if !indexed(&lead) {
            r.warnings.push(format!(
                "table {} has no index on {lead}: {why}, and without one every batch reads the whole table",
                m.table
            ));
            // PostgreSQL names the index itself; SQLite needs a name.
            let name = if postgres {
                String::new()
            } else {
                let what = if lead.contains('(') {
                    format!("{}_key", key_column_of(m, &lead))
                } else {
                    lead.clone()
                };
                quote(&format!("{}_{what}_idx", m.table))
            };
            let on = if postgres { "ON" } else { " ON" };
            r.create_index
                .push(format!("CREATE INDEX {name}{on} {table} ({columns});"));
        }
    }
    r
}

/// The key column whose expression `expr` is.
fn key_column_of<'a>(m: &'a ObjectMapping, expr: &str) -> &'a str {
    m.keys
        .iter()
        .map(|k| k.app_column.as_str())
        .find(|c| expr.contains(&format!("`{}`", c.replace('`', "``"))))
        .unwrap_or("key")
}
