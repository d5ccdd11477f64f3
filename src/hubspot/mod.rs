//! Talking to HubSpot: the typed client, its wire shapes, its errors and the
//! rate gate that keeps it under HubSpot's limits.

pub mod auth;
pub mod client;
pub mod error;
pub mod modified;
pub mod ratelimit;
pub mod wire;

pub use auth::{Credentials, OAuthCredentials};
pub use client::{ClientSettings, HubSpotClient, MAX_BATCH};
pub use error::HubSpotError;
