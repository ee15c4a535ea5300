//! Integration tests: the real binaries against real temporary git repositories.
#![allow(clippy::unwrap_used, clippy::print_stdout, clippy::print_stderr)]

mod common;

mod agents;
mod architecture;
mod binaries;
mod board_cache;
mod branches;
mod browser;
mod check;
mod dashboard;
mod edges;
mod errors;
mod fuzz;
mod implement;
mod landing;
mod lane;
mod lost_claims;
mod man;
mod merge_plan;
mod orchestrator;
mod orchestrator_api;
mod review;
mod robustness;
mod server;
mod state;
mod status;
mod sync;
mod target;
mod watch;
