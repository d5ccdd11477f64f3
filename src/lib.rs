//! hubsync: a terminal operations console around a two-way sync engine
//! between HubSpot CRM and an application's own database.

pub mod appdb;
pub mod config;
pub mod console;
pub mod control;
pub mod demo;
pub mod engine;
pub mod hubspot;
pub mod log_ring;
pub mod logging;
pub mod model;
pub mod service;
pub mod sim;
pub mod status;
pub mod store;
pub mod sync;
pub mod triage;
pub mod webhook;
