//! Small system helpers shared by several rooms (no daemon state here): local time and the
//! month and weekday names, errno names, signal names and numbers, and `users` (the account
//! files, read without NSS).

pub mod errno;
pub mod signals;
pub mod time;
pub mod users;
