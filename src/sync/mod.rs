//! The sync engine: mapping, the pure planner, the executor that applies
//! plans in batches, passes over
//! one object. The engine that schedules them lives in `crate::engine`.

pub mod compare;
pub mod execute;
pub mod filter;
pub mod mapping;
pub mod pass;
pub mod plan;
pub mod rules;
pub mod transform;
