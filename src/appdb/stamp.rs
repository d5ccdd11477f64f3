//! Arithmetic on `updated_at` values as the app stores them: ISO or
//! space-separated date-times (any fraction, any zone suffix) and epoch
//! seconds or milliseconds. The change feed compares stamps in the
//! column's own format, so a stamp moved back is written in that format.

use chrono::NaiveDateTime;
use std::time::Duration;

/// Epoch numbers above this are milliseconds (from 1973 on), below it seconds.
const MILLIS_FROM: i64 = 100_000_000_000;

/// `stamp` moved back by `by`, in the same layout; `None` when the format
/// is not one hubsync knows (the feed then reads on without an overlap).
pub fn minus(stamp: &str, by: Duration) -> Option<String> {
    let secs = i64::try_from(by.as_secs()).ok()?;
    if let Ok(n) = stamp.parse::<i64>() {
        let back = if n.abs() >= MILLIS_FROM {
            secs.checked_mul(1000)?
        } else {
            secs
        };
        return Some((n - back).to_string());
    }
    // The date and time of day are the first 19 characters; the fraction
    // and zone after them are kept as they are, since whole seconds move.
    let head = stamp.get(..19)?;
    let sep = head.as_bytes()[10] as char;
    let layout = match sep {
        'T' => "%Y-%m-%dT%H:%M:%S",
        ' ' => "%Y-%m-%d %H:%M:%S",
        _ => return None,
    };
    let t = NaiveDateTime::parse_from_str(head, layout).ok()?;
    let back = t.checked_sub_signed(chrono::TimeDelta::seconds(secs))?;
    Some(format!("{}{}", back.format(layout), &stamp[19..]))
}

/// A stamp as an instant in milliseconds, to order stamps of one column
/// (a zone suffix is ignored: a column keeps one zone).
pub fn millis(stamp: &str) -> Option<i64> {
    if let Ok(n) = stamp.parse::<i64>() {
        return Some(if n.abs() >= MILLIS_FROM { n } else { n * 1000 });
    }
    let head = stamp.get(..19)?;
    let t = NaiveDateTime::parse_from_str(&head.replace('T', " "), "%Y-%m-%d %H:%M:%S").ok()?;
    let frac: String = stamp[19..]
        .strip_prefix('.')
        .unwrap_or("")
        .chars()
        .take_while(char::is_ascii_digit)
        .chain("000".chars())
        .take(3)
        .collect();
    Some(t.and_utc().timestamp_millis() + frac.parse::<i64>().unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    const TWO_MINUTES: Duration = Duration::from_secs(120);

    #[test]
    fn a_stamp_moves_back_in_its_own_layout() {
        assert_eq!(
            minus("2026-01-01T00:01:00.123Z", TWO_MINUTES).unwrap(),
            "2025-12-31T23:59:00.123Z"
        );
        assert_eq!(
            minus("2026-01-01 10:00:00", TWO_MINUTES).unwrap(),
            "2026-01-01 09:58:00"
        );
        assert_eq!(
            minus("2026-01-01 10:00:00.5+02", TWO_MINUTES).unwrap(),
            "2026-01-01 09:58:00.5+02"
        );
        assert_eq!(minus("1767225600", TWO_MINUTES).unwrap(), "1767225480");
        assert_eq!(
            minus("1767225600000", TWO_MINUTES).unwrap(),
            "1767225480000"
        );
        assert_eq!(minus("yesterday", TWO_MINUTES), None);
    }

    #[test]
    fn stamps_of_one_column_order_by_instant() {
        assert!(millis("2026-01-01T10:00:00.5Z") > millis("2026-01-01T10:00:00.25Z"));
        assert_eq!(
            millis("1767225600").unwrap(),
            millis("1767225600000").unwrap()
        );
        assert_eq!(
            millis("2026-01-01 10:00:00"),
            millis("2026-01-01T10:00:00.000")
        );
    }
}
