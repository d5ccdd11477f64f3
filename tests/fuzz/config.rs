//! The config loader on broken files: random text, and the example with
//! random damage (lines cut, values replaced, bytes inserted). It must
//! never panic, and every refusal must point inside the file (a line and
//! column that exist) and say something.

use crate::{Tried, cases};
use hubsync::config::Config;
use proptest::prelude::*;
use std::path::Path;

const EXAMPLE: &str = include_str!("../../fixtures/hubsync.example.toml");

/// One way to damage a file.
#[derive(Debug, Clone)]
enum Damage {
    DropLine(usize),
    DuplicateLine(usize),
    Insert(usize, String),
    ReplaceValue(usize, String),
}

fn damage() -> impl Strategy<Value = Damage> {
    let text = prop_oneof![
        "[ -~]{0,12}",
        Just("[[objects.contacts.fields]]\napp = \"company\"\nhubspot = \"city\"".to_string()),
        Just("\"\\u{0}\"".to_string()),
        Just("[objects.tickets]".to_string()),
        Just("direction = \"both\"".to_string()),
        Just("transform = \"split_name\"".to_string()),
        Just("batch_size = 100000000000000000000".to_string()),
        Just("key_columns = []".to_string()),
        Just("app = []".to_string()),
        Just("{ = }".to_string()),
        any::<String>(),
    ];
    prop_oneof![
        (0usize..200).prop_map(Damage::DropLine),
        (0usize..200).prop_map(Damage::DuplicateLine),
        (0usize..200, text.clone()).prop_map(|(i, t)| Damage::Insert(i, t)),
        (0usize..200, text).prop_map(|(i, t)| Damage::ReplaceValue(i, t)),
    ]
}

fn apply(text: &str, damages: &[Damage]) -> String {
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    for d in damages {
        let n = lines.len().max(1);
        match d {
            Damage::DropLine(i) if !lines.is_empty() => {
                lines.remove(i % n);
            }
            Damage::DuplicateLine(i) if !lines.is_empty() => {
                let l = lines[i % n].clone();
                lines.insert(i % n, l);
            }
            Damage::Insert(i, t) => lines.insert(i % (lines.len() + 1), t.clone()),
            Damage::ReplaceValue(i, t) if !lines.is_empty() => {
                let l = &mut lines[i % n];
                if let Some((k, _)) = l.split_once('=') {
                    *l = format!("{k}= {t}");
                }
            }
            _ => {}
        }
    }
    lines.join("\n")
}

fn check_refusal(text: &str, e: &hubsync::config::ConfigError) -> Result<(), TestCaseError> {
    prop_assert!(
        !e.message.trim().is_empty(),
        "an empty message for {text:?}"
    );
    let lines = text.lines().count().max(1);
    prop_assert!(
        e.line >= 1 && e.line <= lines + 1 && e.column >= 1,
        "{e} points outside the file ({lines} lines):\n{text}"
    );
    Ok(())
}

#[test]
fn a_damaged_example_is_loaded_or_refused_at_a_real_position() {
    let tried = Tried::new("config (damaged example)");
    proptest!(cases(256), |(damages in prop::collection::vec(damage(), 1..4))| {
        tried.one();
        let text = apply(EXAMPLE, &damages);
        if let Err(e) = Config::parse(Path::new("hubsync.toml"), &text) {
            check_refusal(&text, &e)?;
        }
    });
}

#[test]
fn random_text_is_refused_at_a_real_position() {
    let tried = Tried::new("config (random text)");
    proptest!(cases(256), |(text in any::<String>())| {
        tried.one();
        if let Err(e) = Config::parse(Path::new("hubsync.toml"), &text) {
            check_refusal(&text, &e)?;
        }
    });
}

#[test]
fn random_bytes_in_a_file_are_refused_saying_where() {
    let tried = Tried::new("config (file bytes)");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hubsync.toml");
    proptest!(cases(128), |(at in 0usize..2000, junk in prop::collection::vec(any::<u8>(), 1..8))| {
        tried.one();
        let mut bytes = EXAMPLE.as_bytes().to_vec();
        let at = at.min(bytes.len());
        bytes.splice(at..at, junk);
        std::fs::write(&path, &bytes).unwrap();
        match (Config::load(&path), std::str::from_utf8(&bytes)) {
            (Err(e), Err(bad)) => {
                prop_assert!(
                    e.message.contains(&format!("not UTF-8 at byte {}", bad.valid_up_to())),
                    "{e}"
                );
                prop_assert!(e.line >= 1 && e.column >= 1, "{e}");
            }
            (Err(e), Ok(text)) => check_refusal(text, &e)?,
            (Ok(_), Err(_)) => prop_assert!(false, "a file that is not UTF-8 was loaded"),
            (Ok(_), Ok(_)) => {}
        }
    });
}
