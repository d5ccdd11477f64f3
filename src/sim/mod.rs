//! The HubSpot simulator (being written).
