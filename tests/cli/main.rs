//! Integration tests: the real binaries against real temporary git repositories.
#![allow(clippy::unwrap_used, clippy::print_stdout, clippy::print_stderr)]

mod common;

mod architecture;
mod binaries;
mod check;
mod edges;
mod errors;
mod implement;
mod landing;
mod lane;
mod man;
mod state;
mod status;
mod sync;
