//! Webhooks from HubSpot: verifying that a delivery is HubSpot's. The
//! receiver that enqueues record syncs from verified events builds on this.

pub mod signature;
