//! How one object syncs: which way, who may create, who wins a conflict,
//! and which records are eligible.

use super::filter::Filters;
use super::mapping::ObjectMapping;
use crate::model::{Direction, Side};
use std::time::Duration;

/// One synced object: its mapping, its rules and its schedule.
#[derive(Debug, Clone)]
pub struct ObjectSync {
    pub mapping: ObjectMapping,
    pub rules: SyncRules,
    /// Time between the end of one poll and the start of the next.
    pub poll_interval: Duration,
    /// Records per batch (at most 100).
    pub batch_size: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SyncRules {
    pub direction: Direction,
    /// Whether app records with no HubSpot match are created in HubSpot.
    pub create_in_hubspot: bool,
    /// Whether HubSpot records with no app match are created in the app.
    pub create_in_app: bool,
    /// Whose value wins when both sides changed the same field.
    pub system_of_record: Side,
    /// Which app records may flow to HubSpot (on app columns).
    pub filters_to_hubspot: Filters,
    /// Which HubSpot records may flow to the app (on HubSpot properties).
    pub filters_to_app: Filters,
}

impl SyncRules {
    /// App → HubSpot only, creating in HubSpot: the walking skeleton's sync.
    pub fn to_hubspot() -> SyncRules {
        SyncRules {
            direction: Direction::ToHubSpot,
            create_in_hubspot: true,
            create_in_app: false,
            system_of_record: Side::App,
            filters_to_hubspot: Filters::default(),
            filters_to_app: Filters::default(),
        }
    }

    /// Both ways, creating on both sides, the app winning conflicts.
    pub fn both() -> SyncRules {
        SyncRules {
            direction: Direction::Both,
            create_in_app: true,
            ..SyncRules::to_hubspot()
        }
    }

    /// Whether data may flow this way (`ToHubSpot` or `ToApp`).
    pub fn flows(&self, way: Direction) -> bool {
        self.direction == Direction::Both || self.direction == way
    }
}
