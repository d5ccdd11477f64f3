//! A control-protocol client written from `docs/control-protocol.md`
//! alone: tokio Unix sockets and serde_json, no type of hubsync's own.

use serde_json::{Value, json};
use std::collections::VecDeque;
use std::path::Path;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::net::UnixStream;
use tokio::net::unix::{OwnedReadHalf, OwnedWriteHalf};

/// How long any one reply or awaited event may take.
pub const WAIT: Duration = Duration::from_secs(10);
/// A line the engine sent, or how the connection ended.
#[derive(Debug)]
pub enum Read {
    Line(Value),
    Eof,
    Reset,
}

/// A protocol client: one JSON object per line each way; replies carry the
/// request's `id`, events carry `event` and are kept until asked for.
pub struct Client {
    pub lines: Lines<BufReader<OwnedReadHalf>>,
    pub writer: OwnedWriteHalf,
    pub next_id: u64,
    pub events: VecDeque<Value>,
}

impl Client {
    pub async fn connect(path: &Path) -> Client {
        let stream = UnixStream::connect(path)
            .await
            .unwrap_or_else(|e| panic!("connecting to {}: {e}", path.display()));
        let (r, w) = stream.into_split();
        Client {
            lines: BufReader::new(r).lines(),
            writer: w,
            next_id: 1,
            events: VecDeque::new(),
        }
    }

    pub async fn send_line(&mut self, line: &str) {
        self.writer.write_all(line.as_bytes()).await.unwrap();
        self.writer.write_all(b"\n").await.unwrap();
    }

    /// The next line, parsed; panics when none comes within [`WAIT`].
    pub async fn read(&mut self) -> Read {
        match tokio::time::timeout(WAIT, self.lines.next_line()).await {
            Err(_) => panic!("the engine sent nothing for {WAIT:?}"),
            Ok(Ok(Some(line))) => Read::Line(serde_json::from_str(&line).unwrap_or_else(|e| {
                panic!("the engine sent a line that is not JSON ({e}): {line}")
            })),
            Ok(Ok(None)) => Read::Eof,
            Ok(Err(e)) if e.kind() == std::io::ErrorKind::ConnectionReset => Read::Reset,
            Ok(Err(e)) => panic!("reading from the engine: {e}"),
        }
    }

    /// The next reply (not event), keeping events that come first.
    pub async fn reply(&mut self) -> Value {
        loop {
            match self.read().await {
                Read::Line(v) if v.get("event").is_some() => self.events.push_back(v),
                Read::Line(v) => return v,
                other => panic!("the connection ended ({other:?}) before a reply"),
            }
        }
    }

    /// Sends a request and returns the whole reply, which must echo its id.
    pub async fn call(&mut self, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        let req = json!({ "id": id, "method": method, "params": params });
        self.send_line(&req.to_string()).await;
        let reply = self.reply().await;
        assert_eq!(reply["id"], json!(id), "reply to {req}: {reply}");
        reply
    }

    /// A request that must succeed: its `result`.
    pub async fn ok(&mut self, method: &str, params: Value) -> Value {
        let reply = self.call(method, params.clone()).await;
        assert!(
            reply.get("error").is_none() && reply.get("result").is_some(),
            "{method} {params} was answered {reply}"
        );
        reply["result"].clone()
    }

    /// A request that must fail: its error `code`.
    pub async fn refused(&mut self, method: &str, params: Value) -> String {
        let reply = self.call(method, params.clone()).await;
        let err = &reply["error"];
        assert!(
            reply.get("result").is_none() && err["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{method} {params} was answered {reply}"
        );
        err["code"].as_str().unwrap().to_string()
    }

    pub async fn hello(&mut self) -> Value {
        let welcome = self
            .ok(
                "hello",
                json!({ "protocol": 1, "client": "control-protocol-test" }),
            )
            .await;
        assert_eq!(welcome["protocol"], 1, "{welcome}");
        welcome
    }

    /// The next event of this name that `pred` accepts, within `within`;
    /// events passed over are dropped. `None` if none came.
    pub async fn event_within(
        &mut self,
        name: &str,
        within: Duration,
        pred: impl Fn(&Value) -> bool,
    ) -> Option<Value> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            while let Some(e) = self.events.pop_front() {
                if e["event"] == name && pred(&e["data"]) {
                    return Some(e["data"].clone());
                }
            }
            let line = tokio::time::timeout_at(deadline, self.lines.next_line()).await;
            match line {
                Err(_) => return None,
                Ok(Ok(Some(line))) => self.events.push_back(serde_json::from_str(&line).unwrap()),
                Ok(Ok(None)) => return None,
                Ok(Err(e)) => panic!("reading from the engine: {e}"),
            }
        }
    }

    /// Whether the engine closes the connection within [`WAIT`] (whatever
    /// it sends before that is dropped).
    pub async fn closed(&mut self) -> bool {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            match tokio::time::timeout_at(deadline, self.lines.next_line()).await {
                Err(_) => return false,
                Ok(Ok(Some(_))) => {}
                Ok(Ok(None)) => return true,
                Ok(Err(e)) => panic!("reading from the engine: {e}"),
            }
        }
    }

    pub async fn event(&mut self, name: &str, pred: impl Fn(&Value) -> bool) -> Value {
        self.event_within(name, WAIT, pred)
            .await
            .unwrap_or_else(|| panic!("no {name} event within {WAIT:?}"))
    }
}

/// The audit ids of a snapshot's FAILED page, in the order given.
pub fn failed_ids(snapshot: &Value) -> Vec<i64> {
    snapshot["failed"]
        .as_array()
        .unwrap_or_else(|| panic!("a snapshot without a failed list: {snapshot}"))
        .iter()
        .map(|e| e["id"].as_i64().unwrap())
        .collect()
}
