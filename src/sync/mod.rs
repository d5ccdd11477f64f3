//! The sync engine: mapping, the pure planner, the executor that applies
//! plans in batches, and the engine that schedules jobs and reports status.

pub mod engine;
pub mod execute;
pub mod filter;
pub mod mapping;
pub mod pass;
pub mod plan;
pub mod rules;
pub mod transform;
