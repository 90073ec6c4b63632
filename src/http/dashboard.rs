//! `/dashboard` (beyond the reference): a live page of every process with its memory and CPU
//! charts, and the JSON it is built from, behind the server's authentication.
//!
//! - `GET /dashboard/` (`/dashboard` redirects there): the page, one static file (`dashboard/page.html`, script and styles
//!   inside) embedded in the binary: no build step, nothing fetched from elsewhere;
//! - `GET /dashboard/api/processes`: every process (`getAllProcessInfo`'s fields and the
//!   dashboard's, with the last 10 minutes of history), see [`api`];
//! - `GET /dashboard/api/processes/<namespec>`: one process with the last hour;
//! - `GET /dashboard/api/events`: the live stream the page listens to, see [`sse`];
//! - `POST /dashboard/api/action` with form fields `action` and `processname` or `group`:
//!   `start`, `stop`, `restart`, `clearlog` of a process go through the stock page's own
//!   action code (`web::act`, the same XML-RPC methods, the same messages); `startgroup` and
//!   `stopgroup` call `startProcessGroup`/`stopProcessGroup`; `stopall` and `restartall` are
//!   the stock page's. The answer is `{"message": "..."}`. A POST whose `Origin` is not this
//!   server is refused (403), so another site cannot drive the buttons through a browser's
//!   saved credentials.

pub mod api;
pub mod sse;

use bytes::Bytes;
use hyper::body::Body as HttpBody;
use hyper::header::{self, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use serde_json::json;

use super::Ctx;
use super::body::{Body, error_response, full};
use super::form;
use crate::rpc::dispatch::{self, v};
use crate::rpc::{Value, faults};

const PAGE: &str = include_str!("dashboard/page.html");

/// Answer a request whose path is `/dashboard` or under it.
pub async fn dashboard<B>(ctx: &Ctx, req: Request<B>, path: &str) -> Response<Body>
where
    B: HttpBody<Data = Bytes>,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let rest = path.trim_start_matches("/dashboard");
    let get = req.method() == Method::GET;
    match rest {
        // The page's links are relative (to work behind a proxy's path prefix too): it lives
        // at `/dashboard/`.
        "" if get => {
            let mut resp = error_response(StatusCode::MOVED_PERMANENTLY);
            let location = HeaderValue::from_static("dashboard/");
            resp.headers_mut().insert(header::LOCATION, location);
            resp
        }
        "/" | "/index.html" if get => reply(PAGE, "text/html;charset=utf-8", StatusCode::OK),
        "/api/processes" if get => match ctx.handle.call(|s| api::Snapshot::take(s)).await {
            Ok(snap) => json_reply(&snap.to_json(), StatusCode::OK),
            Err(_) => error_response(StatusCode::INTERNAL_SERVER_ERROR),
        },
        "/api/events" if get => sse::events(ctx).await,
        "/api/action" if req.method() == Method::POST => action(ctx, req).await,
        _ if get && rest.starts_with("/api/processes/") => {
            let name = rest["/api/processes/".len()..].to_string();
            let spec = name.clone();
            match ctx
                .handle
                .call(move |s| api::Snapshot::take_one(s, &spec))
                .await
            {
                Ok(Some(snap)) => match snap.one() {
                    Some(j) => json_reply(&j, StatusCode::OK),
                    None => error_response(StatusCode::INTERNAL_SERVER_ERROR),
                },
                Ok(None) => json_reply(
                    &json!({ "error": format!("No such process named {}", name) }),
                    StatusCode::NOT_FOUND,
                ),
                Err(_) => error_response(StatusCode::INTERNAL_SERVER_ERROR),
            }
        }
        _ => error_response(StatusCode::NOT_FOUND),
    }
}

fn reply(body: impl Into<Bytes>, content_type: &'static str, status: StatusCode) -> Response<Body> {
    let body = body.into();
    let len = body.len();
    let mut resp = Response::new(full(body));
    *resp.status_mut() = status;
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    resp
}

fn json_reply(j: &serde_json::Value, status: StatusCode) -> Response<Body> {
    reply(j.to_string(), "application/json", status)
}

/// The request comes from a page of this server (or from no page at all: a script).
fn same_origin<B>(req: &Request<B>) -> bool {
    let Some(origin) = req.headers().get(header::ORIGIN) else {
        return true;
    };
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok());
    let origin = origin.to_str().ok().and_then(|o| o.split_once("://"));
    matches!((origin, host), (Some((_, o)), Some(h)) if o.eq_ignore_ascii_case(h.trim()))
}

/// `POST /dashboard/api/action`.
async fn action<B>(ctx: &Ctx, req: Request<B>) -> Response<Body>
where
    B: HttpBody<Data = Bytes>,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    if !same_origin(&req) {
        return error_response(StatusCode::FORBIDDEN);
    }
    let form = match form::read(req).await {
        Ok(f) => f,
        Err(refused) => return refused,
    };
    let action = form.get("action").unwrap_or("");
    let message = match (action, form.get("group")) {
        ("startgroup", Some(g)) => Some(group(ctx, g, "startProcessGroup", "started").await),
        ("stopgroup", Some(g)) => Some(group(ctx, g, "stopProcessGroup", "stopped").await),
        ("refresh" | "startgroup" | "stopgroup", _) => None,
        _ => super::web::act(ctx, form.get("processname"), action).await,
    };
    match message {
        Some(m) => json_reply(&json!({ "message": m }), StatusCode::OK),
        None => json_reply(
            &json!({ "error": format!("unknown action {:?}", action) }),
            StatusCode::BAD_REQUEST,
        ),
    }
}

/// Start or stop a group's processes (waiting, as `supervisorctl start group:*` does).
async fn group(ctx: &Ctx, name: &str, method: &str, done: &str) -> String {
    let method = format!("supervisor.{}", method);
    match dispatch::call(&ctx.handle, &method, vec![v::s(name)]).await {
        Ok(Value::Array(results)) => {
            let failed: Vec<String> = results
                .iter()
                .filter_map(|r| match r {
                    Value::Struct(m) if m.get("status") != Some(&v::i(faults::SUCCESS as i64)) => {
                        let field = |k: &str| match m.get(k) {
                            Some(Value::String(s)) => s.clone(),
                            _ => String::new(),
                        };
                        Some(format!("{}: {}", field("name"), field("description")))
                    }
                    _ => None,
                })
                .collect();
            if failed.is_empty() {
                format!("Group {} {}", name, done)
            } else {
                format!("ERROR: Group {}: {}", name, failed.join("; "))
            }
        }
        Ok(_) => format!("Group {} {}", name, done),
        Err(f) if f.code == faults::BAD_NAME => format!("No such group named {}", name),
        Err(f) => format!("unexpected rpc fault [{}] {}", f.code, f.string),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(origin: Option<&str>, host: &str) -> Request<()> {
        let mut b = Request::builder().header(header::HOST, host);
        if let Some(o) = origin {
            b = b.header(header::ORIGIN, o);
        }
        b.body(()).unwrap()
    }

    #[test]
    fn actions_only_from_this_server() {
        assert!(same_origin(&req(None, "127.0.0.1:9001")));
        assert!(same_origin(&req(
            Some("http://127.0.0.1:9001"),
            "127.0.0.1:9001"
        )));
        assert!(!same_origin(&req(
            Some("http://evil.example"),
            "127.0.0.1:9001"
        )));
        assert!(!same_origin(&req(Some("null"), "127.0.0.1:9001")));
    }
}
