//! `hubsync sim` as a user runs it: the real binary on a loopback port,
//! answering any HubSpot client that brings the token.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn start(args: &[&str]) -> (Running, String) {
    let port = free_port();
    let child = Command::new(env!("CARGO_BIN_EXE_hubsync"))
        .args(["sim", "--port", &port.to_string()])
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let started = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "hubsync sim did not listen on {port}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    (Running(child), base)
}

#[tokio::test]
async fn the_simulator_alone_accepts_its_token_and_refuses_others() {
    let (_sim, base) = start(&["--token", "SECRET"]);
    let c = reqwest::Client::new();
    let url = format!("{base}/crm/v3/objects/contacts");
    assert_eq!(
        c.get(&url)
            .bearer_auth("SECRET")
            .send()
            .await
            .unwrap()
            .status()
            .as_u16(),
        200
    );
    assert_eq!(
        c.get(&url)
            .bearer_auth("other")
            .send()
            .await
            .unwrap()
            .status()
            .as_u16(),
        401
    );
}

#[tokio::test]
async fn the_simulator_alone_serves_a_seed_file() {
    let seed = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/hubspot_seed.json");
    let (_sim, base) = start(&["--token", "SECRET", "--seed", seed]);
    let body: serde_json::Value = reqwest::Client::new()
        .post(format!("{base}/crm/v3/objects/contacts/search"))
        .bearer_auth("SECRET")
        .json(&serde_json::json!({"filterGroups": [], "sorts": [], "properties": [], "limit": 1, "after": "0"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(body["total"], 300);
}

#[test]
fn a_bad_seed_file_is_refused_saying_which_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("seed.json");
    std::fs::write(&path, r#"{"tickets": []}"#).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_hubsync"))
        .args([
            "sim",
            "--port",
            "0",
            "--token",
            "t",
            "--seed",
            path.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("seed.json") && err.contains("tickets"),
        "{err}"
    );
}

#[tokio::test]
async fn with_every_reply_lost_writes_land_unanswered_and_reads_still_answer() {
    let (_sim, base) = start(&["--token", "SECRET", "--fault-lost-reply", "1"]);
    let c = reqwest::Client::new();
    for n in 0..4 {
        let sent = c
            .post(format!("{base}/crm/v3/objects/contacts/batch/create"))
            .bearer_auth("SECRET")
            .json(&serde_json::json!({"inputs": [{"properties": {"email": format!("lost{n}@example.com")}}]}))
            .send()
            .await;
        // Either the connection was cut before the answer, or the answer
        // came cut off: no create is ever confirmed.
        if let Ok(resp) = sent {
            let body = resp.text().await.unwrap_or_default();
            assert!(
                serde_json::from_str::<serde_json::Value>(&body).is_err(),
                "a readable answer: {body}"
            );
        }
    }
    let list: serde_json::Value = c
        .get(format!("{base}/crm/v3/objects/contacts?limit=100"))
        .bearer_auth("SECRET")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list["results"].as_array().map(Vec::len), Some(4), "{list}");
}
