//! The workflows that combine plan, state and git: starting a WP in its own worktree
//! (`implement`, `next`), keeping it on top of its dependencies (`restack`), letting it go
//! (`abandon`). Commands in `cmd/` parse arguments and print; the steps and their order live
//! here.

pub mod abandon;
pub mod agents;
pub mod base;
pub mod frontmatter;
pub mod guard;
pub mod implement;
pub mod landing;
pub mod lane;
pub mod merge;
pub mod orchestrator;
pub mod place;
pub mod publish;
pub mod repair;
pub mod restack;
pub mod review;
