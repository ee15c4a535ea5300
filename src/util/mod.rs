//! Small helpers with no better home.

pub mod background;
pub mod cache_file;
pub mod codec;
pub mod faults;
pub mod hash;
pub mod parallel;
pub mod shell;
pub mod time;
pub mod utf8;
