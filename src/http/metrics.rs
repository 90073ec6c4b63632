//! `GET /metrics` (Prometheus text format) and `GET /healthz` (beyond the reference).
//!
//! Both take one snapshot of the actor's state per request; the process figures the actor does
//! not keep (CPU seconds, resident memory) are read from `/proc` at scrape time. They sit behind
//! the same authentication as the rest of the server.

use std::fmt::Write as _;

use hyper::header::{CONTENT_TYPE, HeaderValue};
use hyper::{Response, StatusCode};

use super::Ctx;
use super::body::{Body, full};
use crate::supervisor::memory::ProcTable;
use crate::supervisor::process::ProcessState;
use crate::supervisor::restarts::{Cause, Restarts};
use crate::supervisor::{ProcessView, Supervisor};

/// What one process looks like to a scrape.
struct ProcRow {
    program: String,
    group: String,
    state: ProcessState,
    pid: i32,
    start: f64,
    exitstatus: i32,
    restarts: Restarts,
    stdout_bytes: u64,
    stderr_bytes: u64,
    autostart: bool,
    expected_exit: bool,
    unhealthy: Option<String>,
}

impl From<ProcessView> for ProcRow {
    fn from(p: ProcessView) -> ProcRow {
        ProcRow {
            program: p.id.name,
            group: p.id.group,
            state: p.state,
            pid: p.pid,
            start: p.start,
            exitstatus: p.exitstatus.unwrap_or(0),
            restarts: p.restarts,
            stdout_bytes: p.stdout_bytes,
            stderr_bytes: p.stderr_bytes,
            autostart: p.autostart,
            expected_exit: p.expected_exit,
            unhealthy: p.unhealthy,
        }
    }
}

fn snapshot(s: &Supervisor) -> (i32, String, Vec<ProcRow>) {
    // In the order the actor keeps them: groups by priority, each group's in its own order.
    let rows = s
        .views(s.all_in_order())
        .into_iter()
        .map(ProcRow::from)
        .collect();
    (s.mood().code(), s.mood().name().to_string(), rows)
}

/// Label values escaped as the text format wants (`\`, `"`, newline).
fn esc(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// CPU seconds (user + system) of one process from `/proc/PID/stat`.
fn cpu_seconds(pid: i32) -> f64 {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{}/stat", pid)) else {
        return 0.0;
    };
    let Some(end) = stat.rfind(')') else {
        return 0.0;
    };
    let fields: Vec<&str> = stat[end + 1..].split_whitespace().collect();
    // after the comm: state(0) ppid(1) ... utime(11) stime(12)
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as f64;
    (ticks(11) + ticks(12)) / hz
}

/// The Prometheus text exposition of the daemon and its processes.
fn render(state_code: i32, state_name: &str, rows: &[ProcRow]) -> String {
    let table = ProcTable::scan();
    let mut out = String::with_capacity(256 + rows.len() * 900);
    daemon_families(&mut out, state_code, state_name);
    let one = |v: String| Some((String::new(), v));
    per_process(
        &mut out,
        rows,
        "supervisord_process_state",
        "gauge",
        "The process state code (STOPPED 0 ... RUNNING 20 ... FATAL 200).",
        |r| {
            Some((
                format!(",state=\"{}\"", r.state.name()),
                r.state.code().to_string(),
            ))
        },
    );
    per_process(
        &mut out,
        rows,
        "supervisord_process_pid",
        "gauge",
        "The pid of the process, 0 when not running.",
        |r| one(r.pid.to_string()),
    );
    per_process(
        &mut out,
        rows,
        "supervisord_process_start_time_seconds",
        "gauge",
        "When the process was last started (Unix time, 0 if never).",
        |r| one(format!("{:.3}", r.start)),
    );
    per_process(
        &mut out,
        rows,
        "supervisord_process_restarts_total",
        "counter",
        "Spawns of the process after its first one, by cause (exit: autorestart, backoff: retry of a failed start, memory: memory_limit, manual: the API, health: a failing health_check).",
        |r| {
            Cause::ALL.map(|cause| {
                let n = r.restarts.get(cause);
                (format!(",cause=\"{}\"", cause.label()), n.to_string())
            })
        },
    );
    per_process(
        &mut out,
        rows,
        "supervisord_process_exit_status",
        "gauge",
        "The last exit status (-1 when killed by a signal).",
        |r| one(r.exitstatus.to_string()),
    );
    per_process(
        &mut out,
        rows,
        "supervisord_process_resident_memory_bytes",
        "gauge",
        "Resident memory of the process and its descendants.",
        |r| one((if r.pid != 0 { table.tree_rss(r.pid) } else { 0 }).to_string()),
    );
    per_process(
        &mut out,
        rows,
        "supervisord_process_cpu_seconds_total",
        "counter",
        "User and system CPU seconds of the running process.",
        |r| {
            one(format!(
                "{:.2}",
                if r.pid != 0 { cpu_seconds(r.pid) } else { 0.0 }
            ))
        },
    );
    per_process(
        &mut out,
        rows,
        "supervisord_process_log_bytes_total",
        "counter",
        "Bytes of output written to the log since the last start.",
        |r| {
            [("stdout", r.stdout_bytes), ("stderr", r.stderr_bytes)]
                .map(|(stream, n)| (format!(",stream=\"{}\"", stream), n.to_string()))
        },
    );
    out
}

/// `supervisord_up` and `supervisord_state`.
fn daemon_families(out: &mut String, state_code: i32, state_name: &str) {
    family(
        out,
        "supervisord_up",
        "gauge",
        "1 while the daemon answers.",
    );
    out.push_str("supervisord_up 1\n");
    family(
        out,
        "supervisord_state",
        "gauge",
        "The daemon's state code (RUNNING 1, RESTARTING 0, SHUTDOWN -1).",
    );
    let _ = writeln!(
        out,
        "supervisord_state{{state=\"{}\"}} {}",
        state_name, state_code
    );
}

/// A family's `# HELP` and `# TYPE` lines.
fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {} {}\n# TYPE {} {}", name, help, name, kind);
}

/// A family with samples for each process: `samples` gives a process's samples as (labels
/// after its program and group, e.g. `,cause="exit"`; value).
fn per_process<I: IntoIterator<Item = (String, String)>>(
    out: &mut String,
    rows: &[ProcRow],
    name: &str,
    kind: &str,
    help: &str,
    samples: impl Fn(&ProcRow) -> I,
) {
    family(out, name, kind, help);
    for r in rows {
        let labels = format!(
            "program=\"{}\",group=\"{}\"",
            esc(&r.program),
            esc(&r.group)
        );
        for (extra, value) in samples(r) {
            let _ = writeln!(out, "{}{{{}{}}} {}", name, labels, extra, value);
        }
    }
}

fn text(status: StatusCode, body: String, content_type: &'static str) -> Response<Body> {
    let mut resp = Response::new(full(body));
    *resp.status_mut() = status;
    resp.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    resp
}

pub async fn metrics(ctx: &Ctx) -> Response<Body> {
    match ctx.handle.call(|s| snapshot(s)).await {
        // Reading /proc for every process is O(N) system calls (300 ms at 6000 programs):
        // done on a helper thread, so the daemon's own thread goes on meanwhile.
        Ok((code, name, rows)) => {
            match tokio::task::spawn_blocking(move || render(code, &name, &rows)).await {
                Ok(body) => text(
                    StatusCode::OK,
                    body,
                    "text/plain; version=0.0.4; charset=utf-8",
                ),
                Err(_) => text(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "metrics could not be rendered\n".into(),
                    "text/plain; charset=utf-8",
                ),
            }
        }
        Err(_) => text(
            StatusCode::SERVICE_UNAVAILABLE,
            "supervisord is stopping\n".into(),
            "text/plain; charset=utf-8",
        ),
    }
}

/// 200 when every `autostart` program is RUNNING (or EXITED with an expected code: a one-shot
/// that did its job) and passes its `health_check`, 503 with the others named otherwise.
pub async fn healthz(ctx: &Ctx) -> Response<Body> {
    let Ok((_, mood, rows)) = ctx.handle.call(|s| snapshot(s)).await else {
        return text(
            StatusCode::SERVICE_UNAVAILABLE,
            "supervisord is stopping\n".into(),
            "text/plain; charset=utf-8",
        );
    };
    let bad: Vec<String> = rows
        .iter()
        .filter(|r| r.autostart)
        .filter(|r| {
            !((r.state == ProcessState::Running && r.unhealthy.is_none())
                || (r.state == ProcessState::Exited && r.expected_exit))
        })
        .map(|r| {
            let spec = crate::supervisor::group::make_namespec(&r.group, &r.program);
            match &r.unhealthy {
                Some(why) if r.state == ProcessState::Running => {
                    format!("{}: RUNNING, {}", spec, why)
                }
                _ => format!("{}: {}", spec, r.state.name()),
            }
        })
        .collect();
    if mood != "RUNNING" {
        return text(
            StatusCode::SERVICE_UNAVAILABLE,
            format!("supervisord is {}\n", mood),
            "text/plain; charset=utf-8",
        );
    }
    if bad.is_empty() {
        text(StatusCode::OK, "OK\n".into(), "text/plain; charset=utf-8")
    } else {
        text(
            StatusCode::SERVICE_UNAVAILABLE,
            format!("not running:\n{}\n", bad.join("\n")),
            "text/plain; charset=utf-8",
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(program: &str, state: ProcessState) -> ProcRow {
        let mut restarts = Restarts::default();
        restarts.count(Cause::Exit);
        restarts.count(Cause::Memory);
        ProcRow {
            program: program.into(),
            group: "g\"1".into(),
            state,
            pid: 0,
            start: 1700000000.25,
            exitstatus: -1,
            restarts,
            stdout_bytes: 12,
            stderr_bytes: 0,
            autostart: true,
            expected_exit: false,
            unhealthy: None,
        }
    }

    /// Every family, its help and type lines, and the labels of each sample, in order.
    #[test]
    fn the_text_format() {
        let rows = [
            row("a", ProcessState::Exited),
            row("b\\n", ProcessState::Stopped),
        ];
        let want = r#"# HELP supervisord_up 1 while the daemon answers.
# TYPE supervisord_up gauge
supervisord_up 1
# HELP supervisord_state The daemon's state code (RUNNING 1, RESTARTING 0, SHUTDOWN -1).
# TYPE supervisord_state gauge
supervisord_state{state="RUNNING"} 1
# HELP supervisord_process_state The process state code (STOPPED 0 ... RUNNING 20 ... FATAL 200).
# TYPE supervisord_process_state gauge
supervisord_process_state{program="a",group="g\"1",state="EXITED"} 100
supervisord_process_state{program="b\\n",group="g\"1",state="STOPPED"} 0
# HELP supervisord_process_pid The pid of the process, 0 when not running.
# TYPE supervisord_process_pid gauge
supervisord_process_pid{program="a",group="g\"1"} 0
supervisord_process_pid{program="b\\n",group="g\"1"} 0
# HELP supervisord_process_start_time_seconds When the process was last started (Unix time, 0 if never).
# TYPE supervisord_process_start_time_seconds gauge
supervisord_process_start_time_seconds{program="a",group="g\"1"} 1700000000.250
supervisord_process_start_time_seconds{program="b\\n",group="g\"1"} 1700000000.250
# HELP supervisord_process_restarts_total Spawns of the process after its first one, by cause (exit: autorestart, backoff: retry of a failed start, memory: memory_limit, manual: the API, health: a failing health_check).
# TYPE supervisord_process_restarts_total counter
supervisord_process_restarts_total{program="a",group="g\"1",cause="exit"} 1
supervisord_process_restarts_total{program="a",group="g\"1",cause="backoff"} 0
supervisord_process_restarts_total{program="a",group="g\"1",cause="memory"} 1
supervisord_process_restarts_total{program="a",group="g\"1",cause="manual"} 0
supervisord_process_restarts_total{program="a",group="g\"1",cause="health"} 0
supervisord_process_restarts_total{program="b\\n",group="g\"1",cause="exit"} 1
supervisord_process_restarts_total{program="b\\n",group="g\"1",cause="backoff"} 0
supervisord_process_restarts_total{program="b\\n",group="g\"1",cause="memory"} 1
supervisord_process_restarts_total{program="b\\n",group="g\"1",cause="manual"} 0
supervisord_process_restarts_total{program="b\\n",group="g\"1",cause="health"} 0
# HELP supervisord_process_exit_status The last exit status (-1 when killed by a signal).
# TYPE supervisord_process_exit_status gauge
supervisord_process_exit_status{program="a",group="g\"1"} -1
supervisord_process_exit_status{program="b\\n",group="g\"1"} -1
# HELP supervisord_process_resident_memory_bytes Resident memory of the process and its descendants.
# TYPE supervisord_process_resident_memory_bytes gauge
supervisord_process_resident_memory_bytes{program="a",group="g\"1"} 0
supervisord_process_resident_memory_bytes{program="b\\n",group="g\"1"} 0
# HELP supervisord_process_cpu_seconds_total User and system CPU seconds of the running process.
# TYPE supervisord_process_cpu_seconds_total counter
supervisord_process_cpu_seconds_total{program="a",group="g\"1"} 0.00
supervisord_process_cpu_seconds_total{program="b\\n",group="g\"1"} 0.00
# HELP supervisord_process_log_bytes_total Bytes of output written to the log since the last start.
# TYPE supervisord_process_log_bytes_total counter
supervisord_process_log_bytes_total{program="a",group="g\"1",stream="stdout"} 12
supervisord_process_log_bytes_total{program="a",group="g\"1",stream="stderr"} 0
supervisord_process_log_bytes_total{program="b\\n",group="g\"1",stream="stdout"} 12
supervisord_process_log_bytes_total{program="b\\n",group="g\"1",stream="stderr"} 0
"#;
        assert_eq!(render(1, "RUNNING", &rows), want);
    }
}
