//! The web UI: the status page (`/`, `/index.html`) with its actions, the log tail page
//! (`/tail.html`), `/ok.html`, and the few static files the pages use (`/stylesheets/…`,
//! `/images/…`), with the reference's (`supervisor/web.py`) semantics and wording.
//!
//! Actions come as form fields (query string, or an urlencoded POST body):
//! `processname=<namespec>&action=start|stop|restart|clearlog`, or `action=refresh|stopall|
//! restartall`. They run through the XML-RPC method table (so they behave as the same calls
//! would) and are answered, once done, by a `301` to `/?message=<what happened>`, whose page
//! shows the message (the form is read by [`super::form`]). The HTML, stylesheet and icon are
//! this project's own (in `web/`).

use std::time::SystemTime;

use bytes::Bytes;
use hyper::body::Body as HttpBody;
use hyper::header::{self, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};

use super::Ctx;
use super::body::{Body, error_response, full, http_date};
use super::form::{self, Form};
use crate::rpc::dispatch::{self, v};
use crate::rpc::faults::{self, Fault};
use crate::rpc::{Value, supervisor_ns};
use crate::supervisor::process::ProcessState;

const STATUS_HTML: &str = include_str!("web/status.html");
const TAIL_HTML: &str = include_str!("web/tail.html");
const STYLESHEET: &str = include_str!("web/supervisor.css");
const ICON: &[u8] = include_bytes!("web/icon.png");

/// Answer a request that is not XML-RPC or a log tail.
pub async fn web<B>(ctx: &Ctx, req: Request<B>, path: &str) -> Response<Body>
where
    B: HttpBody<Data = Bytes>,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let view = path.trim_start_matches('/');
    let view = if view.is_empty() { "index.html" } else { view };
    let is_view = matches!(view, "index.html" | "tail.html" | "ok.html");
    if is_view && (req.method() == Method::GET || req.method() == Method::POST) {
        let form = match form::read(req).await {
            Ok(f) => f,
            Err(refused) => return refused,
        };
        return match view {
            "index.html" => status_view(ctx, &form).await,
            "tail.html" => tail_view(ctx, &form).await,
            _ => {
                let mut resp = Response::new(full("OK"));
                let h = resp.headers_mut();
                h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"));
                h.insert(header::CONTENT_LENGTH, HeaderValue::from(2));
                resp
            }
        };
    }
    // Everything else is the reference's static file handler: GET and HEAD only.
    if req.method() != Method::GET && req.method() != Method::HEAD {
        return error_response(StatusCode::BAD_REQUEST);
    }
    let (body, content_type): (Bytes, &'static str) = match view {
        "stylesheets/supervisor.css" => (Bytes::from_static(STYLESHEET.as_bytes()), "text/css"),
        "images/icon.png" => (Bytes::from_static(ICON), "image/png"),
        _ => return error_response(StatusCode::NOT_FOUND),
    };
    let len = body.len();
    let mut resp = Response::new(full(body));
    let h = resp.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&http_date(started())) {
        h.insert(header::LAST_MODIFIED, v);
    }
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    resp
}

/// When the static files "changed": the first time one was asked for in this daemon.
fn started() -> SystemTime {
    static AT: std::sync::OnceLock<SystemTime> = std::sync::OnceLock::new();
    *AT.get_or_init(SystemTime::now)
}

/// Python's `urllib.parse.quote` with its default safe `/`.
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for &c in s.as_bytes() {
        if c.is_ascii_alphanumeric() || b"_.-~/".contains(&c) {
            out.push(c as char);
        } else {
            out.push_str(&format!("%{:02X}", c));
        }
    }
    out
}

/// Text as HTML element content or a double-quoted attribute value.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
    out
}

/// A rendered page with the reference's no-cache headers.
fn page(html: String) -> Response<Body> {
    let len = html.len();
    let mut resp = Response::new(full(html));
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html;charset=utf-8"),
    );
    h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert(
        header::EXPIRES,
        HeaderValue::from_static("Thu, 01 Jan 1970 00:00:00 GMT"),
    );
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    resp
}

/// The reference's answer to a finished action: `301` to `<server>/?message=…`.
fn redirect(form: &Form, message: &str) -> Response<Body> {
    // `get_server_url`: the Host header, its port dropped when it is 80.
    let host = form.host.clone().unwrap_or_else(|| "localhost".to_string());
    let host = host.strip_suffix(":80").unwrap_or(&host).to_string();
    let location = format!("http://{}/?message={}", host, quote(message));
    let mut resp = error_response(StatusCode::MOVED_PERMANENTLY);
    let h = resp.headers_mut();
    match HeaderValue::from_str(&location) {
        Ok(v) => {
            h.insert(header::LOCATION, v);
        }
        Err(_) => return error_response(StatusCode::INTERNAL_SERVER_ERROR),
    }
    h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert(
        header::EXPIRES,
        HeaderValue::from_static("Thu, 01 Jan 1970 00:00:00 GMT"),
    );
    resp
}

/// `time.ctime()`: local time as `Tue Nov  4 16:06:17 2026`.
fn ctime() -> String {
    use crate::util::time;
    let tm = time::local_tm_or_zero(crate::supervisor::now() as i64);
    format!(
        "{} {} {:>2} {:02}:{:02}:{:02} {}",
        time::weekday_abbr(tm.tm_wday),
        time::month_abbr(tm.tm_mon),
        tm.tm_mday,
        tm.tm_hour,
        tm.tm_min,
        tm.tm_sec,
        tm.tm_year + 1900
    )
}

async fn rpc(ctx: &Ctx, method: &str, params: Vec<Value>) -> Result<Value, Fault> {
    dispatch::call(&ctx.handle, method, params).await
}

fn unexpected(f: &Fault) -> String {
    format!("unexpected rpc fault [{}] {}", f.code, f.string)
}

/// Carry out an action; `None` for one the reference does not know (it answers 500). The
/// dashboard's buttons use it too.
pub(super) async fn act(ctx: &Ctx, namespec: Option<&str>, action: &str) -> Option<String> {
    match action {
        "refresh" => return Some(format!("Page refreshed at {}", ctime())),
        "stopall" => {
            let _ = rpc(ctx, "supervisor.stopAllProcesses", vec![]).await;
            return Some(format!("All stopped at {}", ctime()));
        }
        "restartall" => {
            let _ = rpc(ctx, "supervisor.stopAllProcesses", vec![]).await;
            let _ = rpc(ctx, "supervisor.startAllProcesses", vec![]).await;
            return Some(format!("All restarted at {}", ctime()));
        }
        _ => {}
    }
    let namespec = namespec?;
    // The action must name one process exactly (not a group, not `group:*`).
    let spec = namespec.to_string();
    let exists = ctx
        .handle
        .call(move |s| s.find_spec(&spec).is_some())
        .await
        .unwrap_or(false);
    if !exists {
        return Some(format!("No such process named {}", namespec));
    }
    let spec = || vec![v::s(namespec)];
    match action {
        "start" => Some(match rpc(ctx, "supervisor.startProcess", spec()).await {
            Ok(_) => format!("Process {} started", namespec),
            Err(f) => {
                let why = match f.code {
                    faults::NO_FILE => "no such file".to_string(),
                    faults::NOT_EXECUTABLE => "file not executable".to_string(),
                    faults::ALREADY_STARTED => "already started".to_string(),
                    faults::SPAWN_ERROR => "spawn error".to_string(),
                    faults::ABNORMAL_TERMINATION => "abnormal termination".to_string(),
                    _ => unexpected(&f),
                };
                format!("ERROR: Process {}: {}", namespec, why)
            }
        }),
        "stop" => Some(match rpc(ctx, "supervisor.stopProcess", spec()).await {
            Ok(_) => format!("Process {} stopped", namespec),
            Err(f) => unexpected(&f),
        }),
        "restart" => {
            // A multicall of stop then start: faults are part of its result, not reported.
            let _ = rpc(ctx, "supervisor.stopProcess", spec()).await;
            let _ = rpc(ctx, "supervisor.startProcess", spec()).await;
            Some(format!("Process {} restarted", namespec))
        }
        "clearlog" => Some(
            match rpc(ctx, "supervisor.clearProcessLogs", spec()).await {
                Ok(_) => format!("Log for {} cleared", namespec),
                Err(f) => unexpected(&f),
            },
        ),
        _ => None,
    }
}

/// One row of the status table.
struct Row {
    namespec: String,
    state: ProcessState,
    description: String,
}

/// `/index.html`: run the action if any (then redirect), else render the table.
async fn status_view(ctx: &Ctx, form: &Form) -> Response<Body> {
    if let Some(action) = form.get("action") {
        return match act(ctx, form.get("processname"), action).await {
            Some(message) => redirect(form, &message),
            None => {
                crate::log_error!("Web interface error: unknown action {:?}", action);
                error_response(StatusCode::INTERNAL_SERVER_ERROR)
            }
        };
    }
    let Ok(views) = ctx.handle.call(|s| s.snapshot()).await else {
        return error_response(StatusCode::INTERNAL_SERVER_ERROR);
    };
    let rows: Vec<Row> = views
        .into_iter()
        .map(|p| Row {
            namespec: p.id.namespec,
            state: p.state,
            description: p.description,
        })
        .collect();
    let message = match form.get("message") {
        Some(m) => format!("    <div class=\"status_msg\">{}</div>", escape(m)),
        None => String::new(),
    };
    let html = STATUS_HTML
        .replace("{{message}}", &message)
        .replace("{{table}}", &status_table(&rows))
        .replace("{{version}}", supervisor_ns::SUPERVISOR_VERSION)
        .replace("{{year}}", &current_year().to_string());
    page(html)
}

fn current_year() -> i64 {
    crate::util::time::local_tm_or_zero(crate::supervisor::now() as i64).tm_year as i64 + 1900
}

fn css_class(state: ProcessState) -> &'static str {
    match state {
        ProcessState::Running => "statusrunning",
        ProcessState::Fatal | ProcessState::Backoff => "statuserror",
        _ => "statusnominal",
    }
}

fn status_table(rows: &[Row]) -> String {
    if rows.is_empty() {
        return "      <p class=\"noprograms\">No programs to manage</p>".to_string();
    }
    let mut t = String::from(
        "      <table cellspacing=\"0\">\n        <thead>\n        <tr>\n          \
         <th class=\"state\">State</th>\n          <th class=\"desc\">Description</th>\n          \
         <th class=\"name\">Name</th>\n          <th class=\"action\">Action</th>\n        </tr>\n        \
         </thead>\n        <tbody>\n",
    );
    for (i, row) in rows.iter().enumerate() {
        let q = quote(&row.namespec);
        let act = |a: &str, label: &str| {
            format!(
                "<a href=\"index.html?processname={}&amp;action={}\" name=\"{}\">{}</a>",
                q, a, label, label
            )
        };
        let tailf = |suffix: &str, label: &str| {
            format!(
                "<a href=\"logtail/{}{}\" name=\"{}\" target=\"_blank\">{}</a>",
                q, suffix, label, label
            )
        };
        // The reference's action slots: start or restart, stop, clear log, the two tails.
        let (first, second) = match row.state {
            ProcessState::Running => (Some(act("restart", "Restart")), Some(act("stop", "Stop"))),
            ProcessState::Stopped | ProcessState::Exited | ProcessState::Fatal => {
                (Some(act("start", "Start")), None)
            }
            _ => (None, None),
        };
        let actions = [
            first,
            second,
            Some(act("clearlog", "Clear Log")),
            Some(tailf("", "Tail -f Stdout")),
            Some(tailf("/stderr", "Tail -f Stderr")),
        ];
        let items: Vec<String> = actions
            .into_iter()
            .map(|a| match a {
                Some(a) => format!("                <li>{}</li>\n", a),
                None => "                <li class=\"hidden\"></li>\n".to_string(),
            })
            .collect();
        t.push_str(&format!(
            "          <tr class=\"{}\">\n            <td class=\"status\"><span class=\"{}\">{}</span></td>\n            \
             <td><span>{}</span></td>\n            \
             <td><a href=\"tail.html?processname={}\" target=\"_blank\">{}</a></td>\n            \
             <td class=\"action\">\n              <ul>\n{}              </ul>\n            </td>\n          </tr>\n",
            if i % 2 == 1 { "shade" } else { "" },
            css_class(row.state),
            row.state.name().to_lowercase(),
            escape(&row.description),
            q,
            escape(&row.namespec),
            items.concat()
        ));
    }
    t.push_str("        </tbody>\n      </table>");
    t
}

/// `/tail.html?processname=x[&limit=n]`: the last `limit` (at least 1024) bytes of the
/// process's stdout log.
async fn tail_view(ctx: &Ctx, form: &Form) -> Response<Body> {
    let processname = form.get("processname");
    let mut limit: i64 = 1024;
    let tail = match processname {
        None => "No process name found".to_string(),
        Some(name) => {
            let asked = form.get("limit").unwrap_or("1024");
            if !asked.is_empty() && asked.bytes().all(|c| c.is_ascii_digit()) {
                limit = asked.parse::<i64>().unwrap_or(i64::MAX).max(1024);
            }
            let params = vec![v::s(name), v::i(-limit), v::i(0)];
            match rpc(ctx, "supervisor.readProcessStdoutLog", params).await {
                Ok(Value::String(s)) => s,
                Ok(_) => String::new(),
                Err(f) if f.code == faults::NO_FILE => format!("No file for {}", name),
                Err(f) => format!("ERROR: {}", unexpected(&f)),
            }
        }
    };
    let refresh = match processname {
        Some(name) => format!(
            "<a href=\"tail.html?processname={}&amp;limit={}\"><input type=\"button\" value=\" Refresh \" name=\"refresh\" /></a>",
            quote(name),
            limit
        ),
        None => String::new(),
    };
    let html = TAIL_HTML
        .replace(
            "{{title}}",
            &escape(&format!(
                "Supervisor tail of process {}",
                processname.unwrap_or("None")
            )),
        )
        .replace("{{refresh}}", &refresh)
        .replace("{{tail}}", &escape(&tail));
    page(html)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_like_python() {
        assert_eq!(
            quote("Page refreshed at Tue Nov 24 16:06:17 2026"),
            "Page%20refreshed%20at%20Tue%20Nov%2024%2016%3A06%3A17%202026"
        );
        assert_eq!(quote("grp:a/b"), "grp%3Aa/b");
        assert_eq!(escape("<b>&\""), "&lt;b&gt;&amp;&quot;");
    }

    #[test]
    fn empty_table() {
        assert!(status_table(&[]).contains("No programs to manage"));
    }
}
