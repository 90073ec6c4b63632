//! Small helpers shared by several rooms: `users` (the account files, without NSS).

pub mod users;
