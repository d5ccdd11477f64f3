//! What both backends need to match keys in SQL exactly as
//! [`crate::sync::mapping::key_norm`] does (Unicode whitespace trimmed,
//! Unicode lowercase) with only their built-in, ASCII-only functions, so
//! that an index on the expression can serve the lookup: exact for every
//! value whose key is ASCII. Other keys are matched in Rust.

use super::AppRecord;
use crate::sync::mapping::key_norm;
use std::collections::HashSet;

/// Every character Rust's `str::trim` removes (White_Space): SQL's `trim`
/// and `btrim` remove only the characters they are given.
pub const WHITESPACE: &str = "\u{9}\u{a}\u{b}\u{c}\u{d}\u{20}\u{85}\u{a0}\u{1680}\u{2000}\u{2001}\u{2002}\u{2003}\u{2004}\u{2005}\u{2006}\u{2007}\u{2008}\u{2009}\u{200a}\u{2028}\u{2029}\u{202f}\u{205f}\u{3000}";

/// The characters outside ASCII whose lowercase is ASCII (the Kelvin sign
/// is `k`), with what they become: after this, ASCII-only lowercasing
/// agrees with Unicode lowercasing for every value whose key is ASCII.
pub const TO_ASCII_FROM: &str = "\u{212a}";
pub const TO_ASCII_TO: &str = "K";

/// Whether the SQL expression can find this key. A NUL is left to Rust:
/// SQL text functions may stop at one.
pub fn sql_can_match(key: &str) -> bool {
    key.is_ascii() && !key.contains('\0')
}

/// Keeps the candidates whose `column` `key_norm`s to one of `keys`, each
/// row once: a lookup's SQL may find more (a NUL, a second path).
pub fn keep_matches(found: &mut Vec<AppRecord>, column: &str, keys: &[String]) {
    let wanted: HashSet<&str> = keys.iter().map(String::as_str).collect();
    let mut seen = HashSet::new();
    found.retain(|r| {
        r.field(column)
            .is_some_and(|v| wanted.contains(key_norm(v).as_str()))
            && seen.insert(r.id.clone())
    });
}

#[cfg(test)]
mod tests {
    use super::*;

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
