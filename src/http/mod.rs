//! The HTTP side of the daemon: the `[unix_http_server]` and `[inet_http_server]` listeners
//! (`server`), HTTP basic authentication (`auth`), and request routing (`routes`: XML-RPC on
//! `/RPC2`, the log tails `/logtail` and `/mainlogtail` (`logtail`), `/metrics` and `/healthz`
//! (`metrics`), the web UI (`web`, its forms in `form`) and the live `dashboard`). The
//! handlers share the response helpers of `body` and the per-server [`Ctx`]; imports go one
//! way: `server` → `routes` → the handlers → `body`.

pub mod auth;
pub mod body;
pub mod dashboard;
pub mod form;
pub mod logtail;
pub mod metrics;
pub mod peer;
pub mod routes;
pub mod server;
pub mod web;

use auth::Credentials;

use crate::supervisor::SupervisorHandle;

/// What every request handler of one server can see.
#[derive(Clone, Debug)]
pub struct Ctx {
    pub handle: SupervisorHandle,
    /// `None` when the section has no `username`.
    pub auth: Option<Credentials>,
    /// `inet_http_server` or `unix_http_server`.
    pub section: &'static str,
    /// `/metrics` and `/healthz` need no credentials from a loopback peer.
    pub open_health_on_loopback: bool,
}

/// Request extension set by the server: the peer is on the loopback interface.
#[derive(Clone, Copy, Debug)]
pub struct LoopbackPeer;
