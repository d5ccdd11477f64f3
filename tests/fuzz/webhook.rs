//! Webhook deliveries as anyone on the network can send them: random and
//! damaged bodies, signed rightly or wrongly, with odd timestamps and
//! URLs, through the real receiver router in-process. Each is accepted
//! (204) or refused with 400, 401 or 413 and a message; none panics.

use crate::{Tried, cases};
use axum::body::Body;
use axum::http::Request;
use hubsync::webhook::signature;
use hubsync::webhook::{ReceiverConfig, router};
use proptest::prelude::*;
use secrecy::SecretString;
use serde_json::{Value, json};
use tower::ServiceExt;

const SECRET: &str = "fuzz-client-secret";
const BASE: &str = "https://sync.example.com";
const PATH: &str = "/hubspot/webhook";

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

fn event() -> Value {
    json!({
        "eventId": 7, "subscriptionId": 1, "portalId": 62515, "appId": 1,
        "occurredAt": 1735689599000i64, "subscriptionType": "contact.propertyChange",
        "attemptNumber": 0, "objectId": 501, "propertyName": "email",
        "propertyValue": "ada@example.com", "changeSource": "CRM"
    })
}

/// A JSON value of any shape, small.
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        ".{0,12}".prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(".{0,6}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Bodies: random bytes, random JSON, and HubSpot's event with fields
/// removed or given values of the wrong kind.
fn body() -> impl Strategy<Value = Vec<u8>> {
    let fields = [
        "eventId",
        "subscriptionId",
        "portalId",
        "occurredAt",
        "subscriptionType",
        "attemptNumber",
        "objectId",
        "propertyName",
        "propertyValue",
        "changeSource",
    ];
    let damaged = (
        prop::collection::vec((prop::sample::select(fields.to_vec()), any_json()), 0..4),
        prop::collection::vec(prop::sample::select(fields.to_vec()), 0..3),
        1usize..4,
    )
        .prop_map(|(set, drop, n)| {
            let mut e = event();
            for (k, v) in set {
                e[k] = v;
            }
            for k in drop {
                e.as_object_mut().unwrap().remove(k);
            }
            serde_json::to_vec(&Value::Array(vec![e; n])).unwrap()
        });
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..256),
        any_json().prop_map(|v| serde_json::to_vec(&v).unwrap()),
        damaged,
    ]
}

#[derive(Debug, Clone)]
enum Signing {
    Right,
    WrongSecret,
    Garbage(String),
    None,
}

fn signing() -> impl Strategy<Value = Signing> {
    prop_oneof![
        4 => Just(Signing::Right),
        1 => Just(Signing::WrongSecret),
        1 => ".{0,80}".prop_map(Signing::Garbage),
        1 => Just(Signing::None),
    ]
}

fn timestamp() -> impl Strategy<Value = Option<String>> {
    prop_oneof![
        4 => Just(Some(String::new())),
        1 => any::<i64>().prop_map(|t| Some(t.to_string())),
        1 => ".{0,20}".prop_map(Some),
        1 => Just(None),
    ]
}

#[test]
fn any_delivery_is_accepted_or_refused_with_a_reason() {
    let tried = Tried::new("webhook deliveries");
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (tx, mut rx) = tokio::sync::mpsc::channel(1 << 16);
    rt.spawn(async move { while rx.recv().await.is_some() {} });
    let app = router(
        ReceiverConfig {
            client_secret: SecretString::from(SECRET),
            public_base: BASE.into(),
            path: PATH.into(),
        },
        tx,
    );
    let query = prop_oneof![Just(String::new()), "\\?[a-z=%0-9&]{0,20}"];
    proptest!(cases(256), |(body in body(), sign in signing(), ts in timestamp(), q in query)| {
        tried.one();
        let path = format!("{PATH}{q}");
        let ts = ts.map(|t| if t.is_empty() { now_ms().to_string() } else { t });
        let mut req = Request::post(&path).header("content-type", "application/json");
        let url = format!("{BASE}{path}");
        let stamp = ts.clone().unwrap_or_default();
        let sig = match &sign {
            Signing::Right => Some(signature::v3(SECRET, "POST", &url, &body, &stamp)),
            Signing::WrongSecret => Some(signature::v3("other", "POST", &url, &body, &stamp)),
            Signing::Garbage(g) => Some(g.clone()),
            Signing::None => None,
        };
        if let Some(v) = ts.as_deref().and_then(|t| axum::http::HeaderValue::from_str(t).ok()) {
            req = req.header("x-hubspot-request-timestamp", v);
        }
        if let Some(s) = sig.and_then(|s| axum::http::HeaderValue::from_str(&s).ok()) {
            req = req.header("x-hubspot-signature-v3", s);
        }
        let Ok(req) = req.body(Body::from(body.clone())) else {
            return Ok(());
        };
        let (status, answer) = rt.block_on(async {
            let resp = app.clone().oneshot(req).await.unwrap();
            let status = resp.status().as_u16();
            let bytes = axum::body::to_bytes(resp.into_body(), 1 << 20).await.unwrap();
            (status, bytes)
        });
        prop_assert!(matches!(status, 204 | 400 | 401 | 413), "status {status} for {body:?}");
        if matches!(status, 400 | 401) {
            let v: Value = serde_json::from_slice(&answer).unwrap_or(Value::Null);
            let msg = v["message"].as_str().unwrap_or("");
            prop_assert!(!msg.is_empty(), "a {status} without a message: {answer:?}");
        }
        if status == 204 {
            prop_assert!(matches!(sign, Signing::Right), "accepted without the right signature");
        }
    });
}

#[test]
fn signature_checks_never_panic_and_accept_only_the_right_one() {
    let tried = Tried::new("webhook signatures");
    let stamp = prop_oneof![
        ".{0,16}",
        any::<i64>().prop_map(|t| t.to_string()),
        Just(i64::MIN.to_string())
    ];
    proptest!(cases(512), |(uri in ".{0,60}", body in prop::collection::vec(any::<u8>(), 0..64),
                            ts in stamp, given in ".{0,70}", skew in -600_000i64..600_000)| {
        tried.one();
        let now = now_ms();
        let _ = signature::verify_v3(SECRET, "POST", &uri, &body, Some(&ts), Some(&given), now);
        let _ = signature::decode_uri(&uri);
        let stamp = (now + skew).to_string();
        let right = signature::v3(SECRET, "POST", &uri, &body, &stamp);
        let verdict = signature::verify_v3(SECRET, "POST", &uri, &body, Some(&stamp), Some(&right), now);
        if skew.abs() < 290_000 {
            prop_assert!(verdict.is_ok(), "{verdict:?}");
        } else if skew.abs() > 310_000 {
            prop_assert!(verdict.is_err());
        }
    });
}
