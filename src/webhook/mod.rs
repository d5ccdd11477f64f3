//! Webhooks from HubSpot: the events, their signatures, and the receiver
//! that verifies deliveries and hands the events to the engine.

pub mod event;
pub mod intake;
pub mod receiver;
pub mod serve;
pub mod signature;

pub use event::WebhookEvent;
pub use receiver::{ReceiverConfig, router};
pub use serve::{ServeLimits, raise_fd_limit, serve};
