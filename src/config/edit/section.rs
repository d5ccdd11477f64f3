//! The raw text of one object's section: `[objects.X]` and every table
//! under it (`[[objects.X.fields]]`, `[[objects.X.filter_groups]]`), from
//! its first header to the next header of something else. Replacing it
//! changes those lines only; the rest of the file stays byte for byte.

use super::Refusal;
use crate::model::ObjectKind;

/// Byte ranges of each table header line: (start of line, header path).
fn headers(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut at = 0;
    for line in text.split_inclusive('\n') {
        let t = line.trim_start();
        if t.starts_with('[') {
            let inner = t.trim_start_matches('[');
            if let Some(end) = inner.find(']') {
                let path: String = inner[..end]
                    .chars()
                    .filter(|c| !c.is_whitespace())
                    .collect();
                out.push((at, path.replace('"', "")));
            }
        }
        at += line.len();
    }
    out
}

fn owned(path: &str, object: ObjectKind) -> bool {
    let me = format!("objects.{object}");
    path == me || path.starts_with(&format!("{me}."))
}

/// The section's byte range, refusing one split across the file.
fn range(text: &str, object: ObjectKind) -> Result<std::ops::Range<usize>, Refusal> {
    let hs = headers(text);
    let first = hs
        .iter()
        .position(|(_, p)| owned(p, object))
        .ok_or_else(|| {
            (
                Some("objects".into()),
                format!("the file has no [objects.{object}] section"),
            )
        })?;
    let end_idx = hs[first..]
        .iter()
        .position(|(_, p)| !owned(p, object))
        .map(|i| first + i);
    if let Some(e) = end_idx
        && hs[e..].iter().any(|(_, p)| owned(p, object))
    {
        return Err((
            Some(format!("objects.{object}")),
            format!(
                "[objects.{object}] is split across the file; edit it with the field and filter views"
            ),
        ));
    }
    let end = end_idx.map_or(text.len(), |e| hs[e].0);
    Ok(hs[first].0..end)
}

pub(super) fn get(text: &str, object: ObjectKind) -> Result<String, Refusal> {
    Ok(text[range(text, object)?].to_string())
}

pub(super) fn replace(text: &str, object: ObjectKind, section: &str) -> Result<String, Refusal> {
    let r = range(text, object)?;
    if let Some((_, p)) = headers(section).iter().find(|(_, p)| !owned(p, object)) {
        return Err((
            Some(format!("objects.{object}")),
            format!("the section may only hold [objects.{object}] and its tables, not [{p}]"),
        ));
    }
    let mut s = section.to_string();
    if !s.ends_with('\n') {
        s.push('\n');
    }
    Ok(format!("{}{}{}", &text[..r.start], s, &text[r.end..]))
}
