//! The control protocol between the engine and its consoles (and
//! `hubsync status`): message types, the engine's server, the console's
//! client. `docs/control-protocol.md` is its reference; a client written
//! from that document alone must work.

pub mod client;
pub mod methods;
pub mod protocol;
pub mod server;
mod session;

pub use client::{ConnectError, ControlClient};
pub use protocol::{PROTOCOL_VERSION, Role};
pub use server::{ControlServer, ServerConfig, Shared, operator_socket, viewer_socket};
