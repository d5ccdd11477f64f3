//! SQL text for PostgreSQL: quoted identifiers, schema-qualified tables and
//! the key expression hubsync matches on.

/// Quotes an identifier as PostgreSQL wants: double quotes, doubled inside.
pub fn ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// The schema and the table of `crm.contacts`; no schema means the
/// connection's current one (`public` by default).
pub fn split_table(table: &str) -> (Option<&str>, &str) {
    match table.split_once('.') {
        Some((schema, name)) => (Some(schema), name),
        None => (None, table),
    }
}

/// `"crm"."contacts"`.
pub fn table_ref(table: &str) -> String {
    match split_table(table) {
        (Some(s), t) => format!("{}.{}", ident(s), ident(t)),
        (None, t) => ident(t),
    }
}

pub use crate::appdb::keys::{TO_ASCII_FROM, TO_ASCII_TO, WHITESPACE};

/// The key of `column` as hubsync normalises keys, for values whose key is
/// ASCII: trimmed of all Unicode whitespace, the Kelvin sign folded, and
/// lowercased under the "C" collation (ASCII letters only, whatever the
/// database's locale; a Turkish locale would make `I` a dotless `ı`).
/// Values with other characters outside ASCII are matched in Rust (see
/// [`super::PgApp::find_by_keys`]). An expression index on exactly this
/// text serves the lookup.
pub fn key_expr(column: &str) -> String {
    format!(
        "lower(translate(btrim({}::text, {}), {}, '{TO_ASCII_TO}') COLLATE \"C\")",
        ident(column),
        unicode_literal(WHITESPACE),
        unicode_literal(TO_ASCII_FROM)
    )
}

/// A string literal with every character escaped (`U&'\0009…'`), so that
/// the statements `hubsync check` prints stay on one line and can be
/// copied.
fn unicode_literal(s: &str) -> String {
    let escaped: String = s.chars().map(|c| format!("\\{:04x}", c as u32)).collect();
    format!("U&'{escaped}'")
}

/// How `updated_at` is read: date-times as ISO text in UTC with
/// microseconds (so they sort as text and parse back), numbers as they are.
pub fn stamp_select(column: &str, type_name: &str) -> String {
    let c = ident(column);
    match type_name {
        "timestamp with time zone" => {
            format!("to_char({c} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')")
        }
        "timestamp without time zone" => {
            format!("to_char({c}, 'YYYY-MM-DD\"T\"HH24:MI:SS.US')")
        }
        _ => format!("{c}::text"),
    }
}

/// "Now" in the column's own format, as the app's own writes stamp it.
/// `clock_timestamp()`, not `now()`: `now()` is when the transaction
/// began. Epoch numbers follow the table's newest stamp: milliseconds when
/// it is one, seconds otherwise.
pub fn stamp_now(table: &str, column: &str, type_name: &str) -> String {
    let c = ident(column);
    match type_name {
        "timestamp with time zone" => "clock_timestamp()".into(),
        "timestamp without time zone" => "(clock_timestamp() AT TIME ZONE 'UTC')".into(),
        "date" => "current_date".into(),
        "integer" | "smallint" => "floor(extract(epoch FROM clock_timestamp()))::integer".into(),
        t if t == "bigint" || t.starts_with("numeric") => format!(
            "(CASE WHEN (SELECT {c} FROM {tr} ORDER BY {c} DESC NULLS LAST LIMIT 1) >= 100000000000 \
               THEN floor(extract(epoch FROM clock_timestamp()) * 1000) \
               ELSE floor(extract(epoch FROM clock_timestamp())) END)::{t}",
            tr = table_ref(table)
        ),
        _ => "to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"
            .into(),
    }
}

/// A text parameter cast to the column's type: values travel as text and
/// PostgreSQL's own input functions read them (numbers, UUIDs, dates).
pub fn cast(param: usize, type_name: &str) -> String {
    format!("CAST(${param}::text AS {type_name})")
}

/// The `n`th text array parameter unnested, as the source of a statement
/// that writes many rows at once: `$1::text[], $2::text[]`.
pub fn text_arrays(n: usize) -> String {
    (1..=n)
        .map(|i| format!("${i}::text[]"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Whether `v` can be a value of this type, so that a lookup by foreign
/// text (an id carried in a HubSpot property) cannot fail the whole query.
pub fn fits(type_name: &str, v: &str) -> bool {
    match type_name {
        "integer" => v.parse::<i32>().is_ok(),
        "smallint" => v.parse::<i16>().is_ok(),
        "bigint" => v.parse::<i64>().is_ok(),
        "uuid" => uuid::Uuid::parse_str(v).is_ok(),
        t if t.starts_with("numeric") => !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()),
        _ => true,
    }
}

/// Whether ids of this type sort as text and need the "C" collation to
/// sort as Rust compares them.
pub fn is_text(type_name: &str) -> bool {
    type_name == "text" || type_name.starts_with("character")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_quoted_with_their_quotes_doubled() {
        assert_eq!(table_ref("crm.contacts"), "\"crm\".\"contacts\"");
        assert_eq!(ident("we\"ird"), "\"we\"\"ird\"");
    }
}
