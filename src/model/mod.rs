//! The domain, without I/O: ids, lanes and their transitions, WP files, the plan and its
//! dependency graph. Everything here is a pure function of its input, so it is unit-tested.

pub mod event_line;
pub mod frontmatter;
pub mod graph;
pub mod ids;
pub mod lane;
pub mod plain_yaml;
pub mod plan;
pub mod problem;
pub mod spec_kitty;
pub mod wp;
