//! The log pane's data over the protocol: the engine's recent lines,
//! levelled, read after a sequence number, with no secret in them.

use super::client::WAIT;
use super::world::World;
use serde_json::{Value, json};

fn seqs(tail: &Value) -> Vec<u64> {
    tail["lines"]
        .as_array()
        .unwrap_or_else(|| panic!("{tail}"))
        .iter()
        .map(|l| l["seq"].as_u64().unwrap())
        .collect()
}

#[tokio::test]
async fn the_log_tail_has_the_engines_recent_lines_levelled_and_in_order() {
    let w = World::settled().await;
    let mut v = w.viewer().await;
    let tail = v.ok("log_tail", Value::Null).await;
    let s = seqs(&tail);
    assert!(!s.is_empty(), "{tail}");
    assert!(s.windows(2).all(|p| p[0] < p[1]), "{s:?}");
    assert_eq!(tail["next"].as_u64(), s.last().copied(), "{tail}");
    for l in tail["lines"].as_array().unwrap() {
        let level = l["level"].as_str().unwrap();
        assert!(
            ["ERROR", "WARN", "INFO", "DEBUG", "TRACE"].contains(&level),
            "{l}"
        );
        assert!(l["at"].is_string() && l["text"].is_string(), "{l}");
    }
    let start = s[s.len().saturating_sub(3)];
    let after = v
        .ok("log_tail", json!({ "after": start, "limit": 1 }))
        .await;
    assert_eq!(seqs(&after), vec![s[s.len() - 2]], "{after}");
    assert_eq!(
        v.refused("log_tail", json!({ "after": "x" })).await,
        "invalid_params"
    );
}

#[tokio::test]
async fn what_the_engine_does_next_appears_after_the_last_line_read_and_no_token_ever() {
    let w = World::settled().await;
    let mut c = w.operator().await;
    let before = c.ok("log_tail", Value::Null).await;
    let last = before["next"].as_u64().unwrap();
    let r = c
        .ok("retry_category", json!({ "category": "VALIDATION_ERROR" }))
        .await;
    let job = r["jobs"][0].clone();
    c.event_within("notice", WAIT * 3, |d| d["job_id"] == job)
        .await
        .unwrap_or_else(|| panic!("no summary of job {job}"));
    let new = c.ok("log_tail", json!({ "after": last })).await;
    let lines = new["lines"].as_array().unwrap();
    assert!(
        lines.iter().all(|l| l["seq"].as_u64().unwrap() > last),
        "{new}"
    );
    assert!(
        lines.iter().any(|l| l["text"]
            .as_str()
            .unwrap()
            .contains("retry of many records finished")),
        "{new}"
    );
    let all = c.ok("log_tail", json!({ "after": 0 })).await.to_string();
    assert!(
        !all.contains(super::world::TOKEN),
        "the token is in the log pane"
    );
}
