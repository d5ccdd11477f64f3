//! The operations console (being written).
