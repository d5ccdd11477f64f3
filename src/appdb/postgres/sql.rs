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

/// Every character Rust's `str::trim` removes (White_Space): PostgreSQL's
/// `btrim` removes only the characters it is given.
pub const WHITESPACE: &str = "\u{9}\u{a}\u{b}\u{c}\u{d}\u{20}\u{85}\u{a0}\u{1680}\u{2000}\u{2001}\u{2002}\u{2003}\u{2004}\u{2005}\u{2006}\u{2007}\u{2008}\u{2009}\u{200a}\u{2028}\u{2029}\u{202f}\u{205f}\u{3000}";

/// The characters outside ASCII whose lowercase is ASCII (the Kelvin sign
/// is `k`), with what they become: after this, ASCII-only lowercasing
/// agrees with Unicode lowercasing for every value whose key is ASCII.
pub const TO_ASCII_FROM: &str = "\u{212a}";
pub const TO_ASCII_TO: &str = "K";

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
    use crate::sync::mapping::key_norm;

    #[test]
    fn identifiers_are_quoted_with_their_quotes_doubled() {
        assert_eq!(table_ref("crm.contacts"), "\"crm\".\"contacts\"");
        assert_eq!(ident("we\"ird"), "\"we\"\"ird\"");
    }

    #[test]
    fn the_whitespace_trimmed_is_exactly_what_rust_trims() {
        let all: String = (0..=0x10ffff_u32)
            .filter_map(char::from_u32)
            .filter(|c| c.is_whitespace())
            .collect();
        assert_eq!(all, WHITESPACE);
    }

    #[test]
    fn only_the_folded_characters_lowercase_into_ascii() {
        let into_ascii: String = (0x80..=0x10ffff_u32)
            .filter_map(char::from_u32)
            .filter(|c| !c.is_whitespace() && c.to_lowercase().all(|l| l.is_ascii()))
            .collect();
        assert_eq!(into_ascii, TO_ASCII_FROM);
        assert_eq!(key_norm(TO_ASCII_FROM), TO_ASCII_TO.to_lowercase());
    }
}
