//! The console's text escaping: whatever a record holds, what reaches the
//! terminal has no control, format (invisible) or separator character, and
//! cutting to a width never panics or overflows it.

use crate::{Tried, cases};
use hubsync::console::text::{sanitize, truncate, truncate_left};
use proptest::prelude::*;
use unicode_width::UnicodeWidthStr;

fn invisible(c: char) -> bool {
    use unicode_general_category::{GeneralCategory as G, get_general_category};
    c.is_control()
        || matches!(
            get_general_category(c),
            G::Format | G::LineSeparator | G::ParagraphSeparator
        )
}

/// Text rich in what is dangerous: escapes, controls, zero-width and
/// bidirectional characters, combining marks, wide characters.
fn hostile() -> impl Strategy<Value = String> {
    let pieces = prop_oneof![
        any::<char>().prop_map(String::from),
        Just("\u{1b}[31m".to_string()),
        Just("\u{1b}]52;c;aGk=\u{7}".to_string()),
        prop::sample::select(vec![
            '\u{200B}',
            '\u{200C}',
            '\u{200D}',
            '\u{2060}',
            '\u{FEFF}',
            '\u{202E}',
            '\u{2066}',
            '\u{AD}',
            '\u{2028}',
            '\u{E0041}',
            '\u{7F}',
            '\u{9B}',
            '\u{301}',
            '界',
            '🦀',
        ])
        .prop_map(String::from),
        "[a-zA-Z@. ]{0,8}",
    ];
    prop::collection::vec(pieces, 0..24).prop_map(|v| v.concat())
}

#[test]
fn escaped_text_never_carries_an_invisible_or_control_character() {
    let tried = Tried::new("console text");
    proptest!(cases(512), |(s in hostile(), width in 0usize..40)| {
        tried.one();
        let shown = sanitize(&s);
        prop_assert!(!shown.chars().any(invisible), "{shown:?} from {s:?}");
        if !s.chars().any(invisible) {
            prop_assert_eq!(shown.as_ref(), s.as_str());
        }
        for cut in [truncate(&shown, width), truncate_left(&shown, width)] {
            prop_assert!(cut.width() <= width, "{cut:?} is wider than {width}");
        }
    });
}
