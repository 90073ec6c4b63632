//! The HTTP side of the daemon: the `[unix_http_server]` and `[inet_http_server]` listeners
//! (`server`), HTTP basic authentication (`auth`), and request routing (`routes`: XML-RPC on
//! `/RPC2`, the log tails `/logtail` and `/mainlogtail` (`logtail`), `/metrics` and `/healthz`
//! (`metrics`), and the web UI (`web`, its forms in `form`)).

pub mod auth;
pub mod form;
pub mod logtail;
pub mod metrics;
pub mod peer;
pub mod routes;
pub mod server;
pub mod web;

