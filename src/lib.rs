//! git kitty: many coding agents on one repository, safely.
//!
//! Crate map (docs/architecture.md has the bird's-eye view):
//! - [`model`]: the domain without I/O (ids, lanes, WP files, plan, dependency graph).
//! - [`util`]: time helpers.

pub mod model;
pub mod util;
