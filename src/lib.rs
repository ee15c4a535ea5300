//! git kitty: many coding agents on one repository, safely.
//!
//! Crate map (docs/architecture.md has the bird's-eye view):
//! - [`cli`]: start-up shared by every binary (argv, global flags, output, errors).
//! - [`cmd`]: one module per command.
//! - [`model`]: the domain without I/O (ids, lanes, WP files, plan, dependency graph).
//! - [`board`]: the board computed from the plan and the lanes; [`render`] draws it.
//! - [`workspace`]: the repository and plan a command runs against.
//! - [`git`]: the only module that talks to git.
//! - [`error`]: the error type and exit codes.

pub mod board;
pub mod cli;
pub mod cmd;
pub mod error;
pub mod git;
pub mod hooks;
pub mod model;
pub mod render;
pub mod state;
pub mod sync;
pub mod util;
pub mod workflow;
pub mod workspace;
