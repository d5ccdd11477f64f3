//! Text from records is data: this module makes it safe and short enough to
//! draw. Control characters and escape sequences are shown escaped (`\e`,
//! `\x07`, `\n`), never sent to the terminal, so an operator sees what is
//! really in the record and a hostile value cannot repaint the screen.

use chrono::{DateTime, Utc};
use std::borrow::Cow;
use unicode_general_category::{GeneralCategory, get_general_category};
use unicode_width::UnicodeWidthStr;

/// Characters a reader cannot see: bidirectional overrides and isolates,
/// zero-width spaces and joiners, the byte-order mark, soft hyphens, tag
/// characters (all Unicode "format" characters), and line or paragraph
/// separators. A record could use them to make one value look like another
/// ("ada@example.com" with a U+200B inside is not Ada's address), so they
/// are shown escaped.
fn is_invisible(c: char) -> bool {
    matches!(
        get_general_category(c),
        GeneralCategory::Format
            | GeneralCategory::LineSeparator
            | GeneralCategory::ParagraphSeparator
    )
}

fn must_escape(c: char) -> bool {
    c.is_control() || (!c.is_ascii() && is_invisible(c))
}

pub fn sanitize(s: &str) -> Cow<'_, str> {
    if !s.chars().any(must_escape) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\x1b' => out.push_str("\\e"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if must_escape(c) => {
                let n = c as u32;
                if n <= 0xff {
                    out.push_str(&format!("\\x{n:02x}"));
                } else {
                    out.push_str(&format!("\\u{{{n:x}}}"));
                }
            }
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// Cuts `s` to `width` columns, marking the cut with `…`.
pub fn truncate(s: &str, width: usize) -> String {
    if s.width() <= width {
        return s.to_string();
    }
    if width == 0 {
        return String::new();
    }
    let mut out = String::new();
    let mut w = 0;
    for c in s.chars() {
        let cw = unicode_width::UnicodeWidthChar::width(c).unwrap_or(0);
        if w + cw > width - 1 {
            break;
        }
        out.push(c);
        w += cw;
    }
    out.push('…');
    out
}

/// Breaks `s` into lines of at most `width` columns at spaces (a word
/// longer than a line is cut), at most `max` lines, the last marked `…`
/// when something was left out.
pub fn wrap(s: &str, width: usize, max: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in s.split(' ') {
        let fits = line.is_empty() || line.width() + 1 + word.width() <= width;
        if !fits {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    let cut = lines.len() > max;
    lines.truncate(max.max(1));
    let n = lines.len();
    for (i, l) in lines.iter_mut().enumerate() {
        let last = i + 1 == n;
        if l.width() > width || (last && cut) {
            let mut t = truncate(l, width);
            if last && cut && !t.ends_with('…') {
                t = truncate(&format!("{t} …"), width);
            }
            *l = t;
        }
    }
    lines
}

/// Keeps the end of `s` (paths and URLs say most at their end).
pub fn truncate_left(s: &str, width: usize) -> String {
    if s.width() <= width || width == 0 {
        return if width == 0 {
            String::new()
        } else {
            s.to_string()
        };
    }
    let chars: Vec<char> = s.chars().collect();
    let mut out: Vec<char> = Vec::new();
    let mut w = 0;
    for c in chars.iter().rev() {
        let cw = unicode_width::UnicodeWidthChar::width(*c).unwrap_or(0);
        if w + cw > width - 1 {
            break;
        }
        out.push(*c);
        w += cw;
    }
    out.push('…');
    out.iter().rev().collect()
}

/// "3s", "4m 05s", "2h 10m": short durations for job rows.
pub fn duration(secs: i64) -> String {
    let secs = secs.max(0);
    match secs {
        s if s < 60 => format!("{s}s"),
        s if s < 3600 => format!("{}m {:02}s", s / 60, s % 60),
        s => format!("{}h {:02}m", s / 3600, (s % 3600) / 60),
    }
}

/// How long before `now` a moment was, for "ago" columns.
pub fn ago(then: DateTime<Utc>, now: DateTime<Utc>) -> String {
    format!("{} ago", duration((now - then).num_seconds()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrap_breaks_at_spaces_and_marks_what_it_left_out() {
        assert_eq!(wrap("one two three", 7, 5), vec!["one two", "three"]);
        assert_eq!(wrap("one two three four", 7, 2), vec!["one two", "three …"]);
        assert_eq!(wrap("", 7, 2), vec![""]);
        assert_eq!(wrap("abcdefghij", 5, 2), vec!["abcd…"]);
    }

    #[test]
    fn sanitize_escapes_escape_bell_and_newline() {
        assert_eq!(
            sanitize("Eve\u{1b}[31mRed\u{7}\nx"),
            "Eve\\e[31mRed\\x07\\nx"
        );
    }

    #[test]
    fn sanitize_escapes_bidirectional_overrides() {
        assert_eq!(
            sanitize("evil\u{202E}moc.elpmaxe@"),
            "evil\\u{202e}moc.elpmaxe@"
        );
    }

    #[test]
    fn sanitize_escapes_zero_width_characters() {
        assert_eq!(
            sanitize("ada\u{200B}@exa\u{200C}mple\u{200D}.com\u{2060}\u{FEFF}"),
            "ada\\u{200b}@exa\\u{200c}mple\\u{200d}.com\\u{2060}\\u{feff}"
        );
    }

    #[test]
    fn sanitize_escapes_other_invisible_format_characters() {
        // Soft hyphen, word-joiner's siblings, a tag character, the line
        // separator: all invisible or layout-changing.
        assert_eq!(
            sanitize("a\u{AD}b\u{2062}c\u{E0041}d\u{2028}e"),
            "a\\xadb\\u{2062}c\\u{e0041}d\\u{2028}e"
        );
    }

    #[test]
    fn sanitize_leaves_plain_text_alone() {
        assert!(matches!(sanitize("Zoë Ödegaard"), Cow::Borrowed(_)));
    }

    #[test]
    fn truncate_marks_the_cut() {
        assert_eq!(truncate("maria.garcia@example", 8), "maria.g…");
        assert_eq!(truncate_left("/tmp/hubsync-demo/app.db", 10), "…mo/app.db");
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!(duration(5), "5s");
        assert_eq!(duration(125), "2m 05s");
        assert_eq!(duration(7800), "2h 10m");
    }
}
