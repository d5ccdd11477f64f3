//! Records of one side by normalised key, for matching the other side's
//! unlinked records.

use foldhash::fast::RandomState as Fast;
use std::borrow::Cow;
use std::collections::HashMap;

/// Whether two records' keys stronger than `index` contradict each other:
/// both have such a key and it differs.
pub(super) fn disagree(ours: &[(usize, String)], theirs: &[(usize, String)], index: usize) -> bool {
    ours.iter()
        .filter(|(i, _)| *i < index)
        .any(|(i, v)| theirs.iter().any(|(j, w)| j == i && w != v))
}

/// Records of one side by normalised key, one map per key index. A key
/// already in normal form is borrowed, not copied.
pub(super) type KeyIndex<'a> = Vec<HashMap<Cow<'a, str>, Vec<&'a str>, Fast>>;

/// The records holding key `k`.
pub(super) fn holders<'i, 'a>(
    index: &'i KeyIndex<'a>,
    k: &(usize, String),
) -> Option<&'i Vec<&'a str>> {
    index.get(k.0)?.get(k.1.as_str())
}

/// Adds one record's keys to the index.
pub(super) fn index_keys<'a>(
    index: &mut KeyIndex<'a>,
    keys: Vec<(usize, Cow<'a, str>)>,
    id: &'a str,
) {
    for (i, k) in keys {
        if index.len() <= i {
            index.resize_with(i + 1, HashMap::default);
        }
        index[i].entry(k).or_default().push(id);
    }
}
