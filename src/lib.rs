//! git kitty: many coding agents on one repository, safely.
//!
//! docs/architecture.md has the bird's-eye view, the layers and a map of every module.

// The layers, lowest first: a module uses only modules above it in this list
// (docs/architecture.md; tests/cli/architecture.rs checks it).

// Foundations: the error type, time and cache files.
pub mod error;

pub mod util;

// The domain without I/O.
pub mod model;

// The only door to git.
pub mod git;

// Hook files: installing and removing git kitty's blocks.
pub mod hooks;

// State in refs: schema, rules, store, staleness, relation to a remote.
pub mod state;

// The repository and plan a command runs against.
pub mod workspace;

// The board computed from plan and state.
pub mod board;

// Sharing state with a remote.
pub mod sync;

// Multi-step operations: implement, restack, abandon, merge, landing order.
pub mod workflow;

// Output: text for people, then the stdout/stderr writer.
pub mod render;

pub mod ui;

// Live views: the dashboard's server and `status --watch`.
pub mod dashboard;

// What git's hooks run.
pub mod hook_runner;

// One file per command, then start-up.
pub mod cmd;

pub mod cli;
