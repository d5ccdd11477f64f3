//! Copying to the clipboard of the terminal the user sits at, over SSH:
//! OSC 52, wrapped so tmux and screen pass it on to the outer terminal.

use base64::Engine as _;

/// Where the console runs, as far as passing an escape sequence goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Multiplexer {
    None,
    Tmux,
    Screen,
}

impl Multiplexer {
    pub fn detect() -> Multiplexer {
        if std::env::var_os("TMUX").is_some() {
            Multiplexer::Tmux
        } else if std::env::var_os("STY").is_some()
            || std::env::var("TERM").is_ok_and(|t| t.starts_with("screen"))
        {
            Multiplexer::Screen
        } else {
            Multiplexer::None
        }
    }
}

/// The bytes that put `text` on the clipboard.
pub fn osc52(text: &str, via: Multiplexer) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(text.as_bytes());
    let seq = format!("\x1b]52;c;{b64}\x07");
    match via {
        Multiplexer::None => seq,
        // tmux passes a sequence through when wrapped in its DCS, with every
        // ESC inside doubled (needs `allow-passthrough on` on tmux ≥ 3.3,
        // or `set-clipboard on`, which also reads the bare sequence).
        Multiplexer::Tmux => format!("\x1bPtmux;{}\x1b\\", seq.replace('\x1b', "\x1b\x1b")),
        // screen passes the contents of a DCS on; it limits one to 768
        // bytes, so long text goes in several.
        Multiplexer::Screen => seq
            .as_bytes()
            .chunks(760)
            .map(|c| format!("\x1bP{}\x1b\\", String::from_utf8_lossy(c)))
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn osc52_carries_the_text_in_base64_to_the_clipboard() {
        // "ada@example.com" in base64, worked out by hand from the alphabet.
        assert_eq!(
            osc52("ada@example.com", Multiplexer::None),
            "\x1b]52;c;YWRhQGV4YW1wbGUuY29t\x07"
        );
    }

    #[test]
    fn inside_tmux_the_sequence_is_wrapped_with_its_escapes_doubled() {
        let s = osc52("x", Multiplexer::Tmux);
        assert_eq!(s, "\x1bPtmux;\x1b\x1b]52;c;eA==\x07\x1b\\");
    }

    #[test]
    fn inside_screen_long_text_goes_in_chunks_screen_accepts() {
        let s = osc52(&"a".repeat(2000), Multiplexer::Screen);
        assert!(s.matches("\x1bP").count() >= 4);
        assert!(s.split("\x1b\\").all(|c| c.len() <= 760 + 2));
    }
}
