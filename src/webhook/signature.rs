//! HubSpot's webhook signatures, so the receiver can tell HubSpot's
//! deliveries from anyone else's.
//!
//! v1 and v2 are SHA-256 hex digests of secret + (method + URI +) body; v3 is
//! base64(HMAC-SHA256(secret, method + URI + body + timestamp)) with a
//! handful of percent-escapes decoded in the URI first, and a timestamp no
//! older than five minutes. Comparisons are constant-time.

use base64::Engine;
use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// How old a v3 request may be: HubSpot's SDKs reject anything older.
pub const MAX_AGE_MS: i64 = 5 * 60 * 1000;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("missing header {0}")]
    MissingHeader(&'static str),
    #[error("X-HubSpot-Request-Timestamp {0:?} is not a number of milliseconds")]
    BadTimestamp(String),
    #[error("request timestamp is {age_ms} ms old; at most {MAX_AGE_MS} ms is accepted")]
    TooOld { age_ms: i64 },
    /// A stamp far ahead of this clock would keep its signature valid (and
    /// replayable) long after the five minutes.
    #[error(
        "request timestamp is {ahead_ms} ms in the future; at most {MAX_AGE_MS} ms of clock skew is accepted"
    )]
    InFuture { ahead_ms: i64 },
    #[error("signature does not match")]
    Mismatch,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The escapes HubSpot decodes before signing a v3 URI; every other escape
/// (such as `%20`) stays as it is.
const DECODE: &[(&str, &str)] = &[
    ("%3A", ":"),
    ("%2F", "/"),
    ("%3F", "?"),
    ("%40", "@"),
    ("%21", "!"),
    ("%24", "$"),
    ("%27", "'"),
    ("%28", "("),
    ("%29", ")"),
    ("%2A", "*"),
    ("%2C", ","),
    ("%3B", ";"),
];

/// Applies v3's URI decoding rule (case-insensitive escapes).
pub fn decode_uri(uri: &str) -> String {
    let mut out = String::with_capacity(uri.len());
    let mut rest = uri;
    while let Some(i) = rest.find('%') {
        out.push_str(&rest[..i]);
        let esc = rest.get(i..i + 3).unwrap_or(&rest[i..]);
        match DECODE.iter().find(|(e, _)| e.eq_ignore_ascii_case(esc)) {
            Some((_, plain)) => {
                out.push_str(plain);
                rest = &rest[i + 3..];
            }
            None => {
                out.push('%');
                rest = &rest[i + 1..];
            }
        }
    }
    out.push_str(rest);
    out
}

pub fn v1(secret: &str, body: &[u8]) -> String {
    let mut h = Sha256::new();
    h.update(secret.as_bytes());
    h.update(body);
    hex(&h.finalize())
}

pub fn v2(secret: &str, method: &str, uri: &str, body: &[u8]) -> String {
    let mut h = Sha256::new();
    h.update(secret.as_bytes());
    h.update(method.as_bytes());
    h.update(uri.as_bytes());
    h.update(body);
    hex(&h.finalize())
}

fn v3_mac(secret: &str, method: &str, uri: &str, body: &[u8], timestamp: &str) -> Hmac<Sha256> {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(method.as_bytes());
    mac.update(decode_uri(uri).as_bytes());
    mac.update(body);
    mac.update(timestamp.as_bytes());
    mac
}

/// The v3 signature of a request, as HubSpot computes it. `uri` is the full
/// URL as received (scheme, host, path and query).
pub fn v3(secret: &str, method: &str, uri: &str, body: &[u8], timestamp: &str) -> String {
    let mac = v3_mac(secret, method, uri, body, timestamp);
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// Checks a v3-signed request: the timestamp is within five minutes of
/// now (either way: clocks differ, but not by that much) and the signature
/// matches, compared in constant time.
pub fn verify_v3(
    secret: &str,
    method: &str,
    uri: &str,
    body: &[u8],
    timestamp: Option<&str>,
    signature: Option<&str>,
    now_ms: i64,
) -> Result<(), SignatureError> {
    let ts = timestamp.ok_or(SignatureError::MissingHeader("X-HubSpot-Request-Timestamp"))?;
    let sig = signature.ok_or(SignatureError::MissingHeader("X-HubSpot-Signature-v3"))?;
    let ts_ms: i64 = ts
        .trim()
        .parse()
        .map_err(|_| SignatureError::BadTimestamp(ts.to_string()))?;
    // Saturating: a stamp near i64::MIN or MAX is just very old or new.
    let age_ms = now_ms.saturating_sub(ts_ms);
    if age_ms >= MAX_AGE_MS {
        return Err(SignatureError::TooOld { age_ms });
    }
    if age_ms <= -MAX_AGE_MS {
        return Err(SignatureError::InFuture {
            ahead_ms: age_ms.saturating_neg(),
        });
    }
    let given = base64::engine::general_purpose::STANDARD
        .decode(sig.trim())
        .map_err(|_| SignatureError::Mismatch)?;
    v3_mac(secret, method, uri, body, ts)
        .verify_slice(&given)
        .map_err(|_| SignatureError::Mismatch)
}

/// Checks a v1 or v2 signature (hex), in constant time.
pub fn verify_hex(expected: &str, given: &str) -> Result<(), SignatureError> {
    if expected
        .as_bytes()
        .ct_eq(given.trim().to_ascii_lowercase().as_bytes())
        .into()
    {
        Ok(())
    } else {
        Err(SignatureError::Mismatch)
    }
}

#[cfg(test)]
mod tests {
    //! Vectors from ../shared/HUBSPOT-API.md §8: the official Python SDK's
    //! tests, and a worked v3 example computed independently with python3.
    use super::*;

    const SDK_SECRET: &str = "yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy";
    const SDK_BODY: &str = "{'example_field':'example_value'}";
    const SDK_URL: &str = "https://www.example.com/webhook_uri";

    #[test]
    fn v1_matches_the_official_sdk_vector() {
        assert_eq!(
            v1(SDK_SECRET, SDK_BODY.as_bytes()),
            "69fc6631a867edd4f9e9e627fc5c1148e3fbdd8b21837b6d2b8901c1fa57f750"
        );
    }

    #[test]
    fn v1_matches_the_docs_example() {
        let body = r#"[{"eventId":1,"subscriptionId":12345,"portalId":62515,"occurredAt":1564113600000,"subscriptionType":"contact.creation","attemptNumber":0,"objectId":123,"changeSource":"CRM","changeFlag":"NEW","appId":54321}]"#;
        assert_eq!(
            v1(SDK_SECRET, body.as_bytes()),
            "232db2615f3d666fe21a8ec971ac7b5402d33b9a925784df3ca654d05f4817de"
        );
    }

    #[test]
    fn v2_matches_the_official_sdk_vectors() {
        assert_eq!(
            v2(SDK_SECRET, "POST", SDK_URL, SDK_BODY.as_bytes()),
            "4fe4e3a7d3cf09db53be39d0a58130e2aaba074ec123a9e355b876a689a1c383"
        );
        assert_eq!(
            v2(SDK_SECRET, "GET", SDK_URL, b""),
            "eee2dddcc73c94d699f5e395f4b9d454a069a6855fbfa152e91e88823087200e"
        );
    }

    #[test]
    fn v3_matches_the_official_sdk_vector() {
        assert_eq!(
            v3(SDK_SECRET, "POST", SDK_URL, SDK_BODY.as_bytes(), "15000000"),
            "HPW73RUtKmcYoEDADG0s6MmGFWUzWJKAW07r8RDgcQw="
        );
    }

    const WORKED_BODY: &str = r#"[{"eventId":100,"subscriptionId":200,"portalId":300,"appId":400,"occurredAt":1735689599000,"subscriptionType":"contact.propertyChange","attemptNumber":0,"objectId":501,"propertyName":"email","propertyValue":"ada@example.com","changeSource":"CRM"}]"#;
    const WORKED_URL: &str =
        "https://hooks.example.com/hubspot/webhook?source=hubspot%3Atest&id=42";

    #[test]
    fn v3_decodes_the_uri_before_signing() {
        assert_eq!(WORKED_BODY.len(), 247);
        assert_eq!(
            v3(
                "test-client-secret-1234",
                "POST",
                WORKED_URL,
                WORKED_BODY.as_bytes(),
                "1735689600000"
            ),
            "XM5cE0YjuNZw+6TIiJq6+vJGm5Znmhqlx4r57KnSm+w="
        );
    }

    #[test]
    fn a_signature_over_the_undecoded_uri_does_not_verify() {
        let r = verify_v3(
            "test-client-secret-1234",
            "POST",
            WORKED_URL,
            WORKED_BODY.as_bytes(),
            Some("1735689600000"),
            Some("RQ5roM99gAQKLFsa8ux9dDU8iqt5dXYHUKyOw5ooceI="),
            1735689600000 + 1000,
        );
        assert_eq!(r, Err(SignatureError::Mismatch));
    }

    #[test]
    fn v1_and_v2_of_the_worked_example_match() {
        let secret = "test-client-secret-1234";
        assert_eq!(
            v1(secret, WORKED_BODY.as_bytes()),
            "24ad43006635a65e7182e5c4fb517d249065ee1dd3f7a7469b9bbb1655fcb3f8"
        );
        assert_eq!(
            v2(secret, "POST", WORKED_URL, WORKED_BODY.as_bytes()),
            "dc4d4498cf217a7b287c6aff515fcab4109f517d91cf80d0ca3062d047adee4b"
        );
    }

    #[test]
    fn a_fresh_v3_request_verifies_and_a_five_minute_old_one_does_not() {
        let (secret, ts) = ("test-client-secret-1234", "1735689600000");
        let sig = "XM5cE0YjuNZw+6TIiJq6+vJGm5Znmhqlx4r57KnSm+w=";
        let check = |now| {
            verify_v3(
                secret,
                "POST",
                WORKED_URL,
                WORKED_BODY.as_bytes(),
                Some(ts),
                Some(sig),
                now,
            )
        };
        assert_eq!(check(1735689600000 + MAX_AGE_MS - 1), Ok(()));
        assert_eq!(
            check(1735689600000 + MAX_AGE_MS),
            Err(SignatureError::TooOld { age_ms: MAX_AGE_MS })
        );
    }

    #[test]
    fn a_stamp_five_minutes_ahead_is_refused_as_replayable() {
        let (secret, ts) = ("s", "1735689600000");
        let sig = v3(secret, "POST", "https://h/", b"", ts);
        let check = |now| verify_v3(secret, "POST", "https://h/", b"", Some(ts), Some(&sig), now);
        assert_eq!(check(1735689600000 - MAX_AGE_MS + 1), Ok(()));
        assert_eq!(
            check(1735689600000 - MAX_AGE_MS),
            Err(SignatureError::InFuture {
                ahead_ms: MAX_AGE_MS
            })
        );
    }

    #[test]
    fn an_extreme_stamp_is_refused_rather_than_overflowing() {
        let ts = i64::MIN.to_string();
        let sig = v3("s", "POST", "https://h/", b"", &ts);
        let r = verify_v3("s", "POST", "https://h/", b"", Some(&ts), Some(&sig), 1);
        assert!(matches!(r, Err(SignatureError::TooOld { .. })), "{r:?}");
    }

    #[test]
    fn only_the_listed_escapes_are_decoded() {
        assert_eq!(
            decode_uri("https://h/p%3Fq?a=%40b%20c%2a"),
            "https://h/p?q?a=@b%20c*"
        );
    }

    #[test]
    fn missing_headers_are_named() {
        let r = verify_v3("s", "POST", "https://h/", b"", None, Some("x"), 0);
        assert_eq!(
            r,
            Err(SignatureError::MissingHeader("X-HubSpot-Request-Timestamp"))
        );
    }

    #[test]
    fn hex_signatures_compare_case_insensitively() {
        let sig = v1(SDK_SECRET, SDK_BODY.as_bytes());
        assert_eq!(verify_hex(&sig, &sig.to_uppercase()), Ok(()));
        assert_eq!(verify_hex(&sig, "00"), Err(SignatureError::Mismatch));
    }
}
