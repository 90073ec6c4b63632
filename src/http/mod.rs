//! The HTTP side of the daemon: the `[unix_http_server]` and `[inet_http_server]` listeners
//! (`server`), HTTP basic authentication (`auth`), and request routing (`routes`: XML-RPC on
//! `/RPC2`, hooks for the log tails and the web UI).

pub mod auth;
pub mod routes;
pub mod server;

pub use server::{Servers, start};
