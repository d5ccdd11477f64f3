//! Request handlers by area, each in its own file: what a method takes
//! (its params, checked), what it calls, what it answers. `session.rs`
//! routes to them; `protocol::METHODS` says which write.

pub mod records;
