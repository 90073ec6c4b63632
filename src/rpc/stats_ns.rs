//! The `supervisord_rs.*` namespace: what our daemon knows beyond the reference's API, in a
//! namespace the stock clients never call (so their replies stay the reference's). Sizes are in
//! KiB, as `<int>` is 32-bit.

use super::dispatch::{Args, Method, Reply, method, v};
use super::faults::{self, Fault};
use crate::supervisor::{Supervisor, SupervisorHandle};

pub static METHODS: &[Method] = &[method!(
    "supervisord_rs.getProcessStats",
    1,
    1,
    get_process_stats,
    r#" Memory figures of a process (beyond the reference's API)

        The resident memory of the process and its descendants at the last memory check (made
        only while the program has a memory_limit), its limit, and how many times the limit
        restarted it.

        @param string name  The name of the process (or 'group:name')
        @return struct result  name, group, pid, rss_kb, memory_limit_kb (0: none), memory_restarts
        "#
)];

fn stats(s: &Supervisor, spec: &str) -> Reply {
    let key = s
        .find_spec(spec)
        .ok_or_else(|| Fault::with(faults::BAD_NAME, spec))?;
    let p = s.view(key, 0);
    Ok(v::st(vec![
        ("name", v::s(p.id.name)),
        ("group", v::s(p.id.group)),
        ("pid", v::i(p.pid as i64)),
        ("rss_kb", v::i((p.rss / 1024) as i64)),
        (
            "memory_limit_kb",
            v::i((p.memory_limit.unwrap_or(0) / 1024) as i64),
        ),
        ("memory_restarts", v::i(p.restarts.memory as i64)),
    ]))
}

async fn get_process_stats(h: SupervisorHandle, a: Args) -> Reply {
    let spec = a.string(0)?;
    h.call(move |s| stats(s, &spec))
        .await
        .map_err(|_| Fault::new(faults::SHUTDOWN_STATE))?
}
