//! The runtime state in refs: the schema of state commits, the lane rules, and the store that
//! reads and writes them by compare-and-swap. See docs/architecture.md, "State in refs".

pub mod activity;
pub mod cache;
pub mod lane_info;
pub mod lost;
pub mod relation;
pub mod replay;
pub mod rules;
pub mod schema;
pub mod stale;
pub mod store;
pub mod verify;
