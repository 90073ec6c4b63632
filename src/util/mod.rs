//! Small system helpers shared by several rooms (no daemon state here): local time and the
//! month and weekday names, errno names, signal names and numbers.

pub mod errno;
pub mod signals;
pub mod time;
