//! The key expression SQLite matches ASCII keys with. hubsync's own
//! `hubsync_key()` (exact for every script) exists only on hubsync's
//! connection, so no index may use it: an app connection writing a row
//! would fail on an index naming a function it does not have. This
//! expression uses only SQLite's built-ins (`trim` given every Unicode
//! blank, the Kelvin sign replaced, the ASCII-only `lower`), so the app
//! can carry an index on it; it equals `key_norm` on every value whose key
//! is ASCII (see the property test), which is all it is used for.
//!
//! An app whose SQLite has the ICU extension loaded gets a Unicode
//! `lower()`: it then computes different index entries only for values
//! whose key is not ASCII, which this expression is never asked about.

use crate::appdb::keys::{TO_ASCII_FROM, TO_ASCII_TO, WHITESPACE};

/// A string of these characters as SQLite's `char()` builds it, so that
/// the statement `hubsync check` prints is plain ASCII on one line.
fn chars(s: &str) -> String {
    let codes: Vec<String> = s.chars().map(|c| (c as u32).to_string()).collect();
    format!("char({})", codes.join(", "))
}

/// The key of `column` (an already quoted identifier) for values whose key
/// is ASCII; written exactly so in the lookups and in the `CREATE INDEX`
/// that `hubsync check` suggests, since SQLite uses an expression index
/// only for the same expression.
pub fn key_expr(column: &str) -> String {
    format!(
        "lower(replace(trim({column}, {}), {}, '{TO_ASCII_TO}'))",
        chars(WHITESPACE),
        chars(TO_ASCII_FROM)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::appdb::keys::sql_can_match;
    use crate::sync::mapping::key_norm;
    use proptest::prelude::*;

    fn in_sqlite(conn: &rusqlite::Connection, v: &str) -> String {
        conn.query_row(
            &format!("SELECT {} FROM (SELECT ?1 AS v)", key_expr("v")),
            [v],
            |r| r.get(0),
        )
        .unwrap()
    }

    /// Values built from what makes keys hard: ASCII of both cases, every
    /// Unicode blank, the Kelvin sign, letters whose lowercase is longer
    /// or outside ASCII (İ, ẞ, É, Σ), and digits and signs.
    fn value() -> impl Strategy<Value = String> {
        let alphabet: Vec<char> = "aZkK@._-+0 9\tÉéİıẞßΣσ\u{212a}\u{17f}"
            .chars()
            .chain(WHITESPACE.chars())
            .collect();
        proptest::collection::vec(proptest::sample::select(alphabet), 0..12)
            .prop_map(|cs| cs.into_iter().collect())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        /// Wherever either side is an ASCII key, SQLite's expression and
        /// `key_norm` agree: an ASCII key finds exactly the rows `key_norm`
        /// maps to it.
        #[test]
        fn the_expression_is_key_norm_for_every_value_whose_key_is_ascii(v in value()) {
            let conn = rusqlite::Connection::open_in_memory().unwrap();
            let sql = in_sqlite(&conn, &v);
            let rust = key_norm(&v);
            if sql_can_match(&rust) || sql_can_match(&sql) {
                prop_assert_eq!(sql, rust, "value {:?}", v);
            }
        }
    }

    #[test]
    fn a_blank_sqlites_trim_alone_would_keep_is_trimmed() {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        assert_eq!(
            in_sqlite(&conn, "\u{a0}\tADA@Example.com\u{3000}"),
            "ada@example.com"
        );
        assert_eq!(in_sqlite(&conn, "\u{212a}ELVIN@x"), "kelvin@x");
    }
}
