//! The dashboard's JSON (`/dashboard/api/...`, and the data of its stream's events).
//!
//! A process is `getAllProcessInfo`'s struct for it (the same fields, from the same
//! [`supervisor_ns::process_info`]) with the dashboard's own fields added: `namespec`,
//! `restarts` by cause, `memory_limit` (bytes or `null`), `rss` and `cpu` (the last sample)
//! and, where asked, `history`: `{"t": [...], "rss": [...], "cpu": [...]}` in columns (seconds
//! since the epoch, resident bytes of the process tree, CPU % of one core).
//!
//! The figures are taken on the actor ([`Snapshot::take`]) and turned into text here, off it.

use serde_json::{Map, Value as Json, json};

use crate::rpc::{Value, supervisor_ns};
use crate::supervisor::history::{SAMPLE_SECS, Sample, Update};
use crate::supervisor::restarts::Cause;
use crate::supervisor::{ProcessView, Supervisor};

/// XML-RPC's value as JSON (the types `getProcessInfo` uses, and the others for completeness).
pub fn to_json(v: &Value) -> Json {
    match v {
        Value::Integer(i) => json!(i),
        Value::Boolean(b) => json!(b),
        Value::String(s) => json!(s),
        Value::Double(d) => json!(d),
        Value::Array(items) => Json::Array(items.iter().map(to_json).collect()),
        Value::Struct(m) => Json::Object(m.iter().map(|(k, v)| (k.clone(), to_json(v))).collect()),
        _ => Json::Null,
    }
}

/// One process: `getProcessInfo`'s fields, the dashboard's, and `history` when given.
pub fn process(view: &ProcessView, history: Option<&[Sample]>) -> Json {
    let mut obj = match to_json(&supervisor_ns::process_info(view.clone())) {
        Json::Object(m) => m,
        _ => Map::new(),
    };
    let restarts: Map<String, Json> = Cause::ALL
        .iter()
        .map(|c| (c.label().to_string(), json!(view.restarts.get(*c))))
        .collect();
    obj.insert("namespec".into(), json!(view.id.namespec));
    obj.insert("restarts".into(), Json::Object(restarts));
    obj.insert("memory_limit".into(), json!(view.memory_limit));
    if let Some(h) = history {
        let last = h
            .last()
            .filter(|s| s.t as i64 + 2 * SAMPLE_SECS as i64 >= view.at);
        obj.insert("rss".into(), json!(last.map(Sample::rss_bytes)));
        obj.insert("cpu".into(), json!(last.map(Sample::cpu_percent)));
        obj.insert(
            "history".into(),
            json!({
                "t": h.iter().map(|s| s.t).collect::<Vec<_>>(),
                "rss": h.iter().map(Sample::rss_bytes).collect::<Vec<_>>(),
                "cpu": h.iter().map(Sample::cpu_percent).collect::<Vec<_>>(),
            }),
        );
    }
    Json::Object(obj)
}

/// Every process with its history, as taken on the actor.
pub struct Snapshot {
    now: f64,
    state: &'static str,
    rows: Vec<(ProcessView, Vec<Sample>)>,
}

impl Snapshot {
    /// Take it (on the actor): every process with its last 10 minutes.
    pub fn take(s: &Supervisor) -> Snapshot {
        Snapshot {
            now: crate::supervisor::now(),
            state: s.mood().name(),
            rows: s.dashboard_snapshot(),
        }
    }

    /// Take one process with its last hour (on the actor); `None` when there is none.
    pub fn take_one(s: &Supervisor, namespec: &str) -> Option<Snapshot> {
        Some(Snapshot {
            now: crate::supervisor::now(),
            state: s.mood().name(),
            rows: vec![s.dashboard_process(namespec)?],
        })
    }

    /// `{"now", "state", "sample_secs", "processes": [...]}`, the processes in name order.
    pub fn to_json(&self) -> Json {
        json!({
            "now": self.now,
            "state": self.state,
            "sample_secs": SAMPLE_SECS,
            "processes": self.rows.iter().map(|(v, h)| process(v, Some(h))).collect::<Vec<_>>(),
        })
    }

    /// The first (only) process of a [`Snapshot::take_one`], in the same envelope.
    pub fn one(&self) -> Option<Json> {
        let (v, h) = self.rows.first()?;
        Some(json!({
            "now": self.now,
            "state": self.state,
            "sample_secs": SAMPLE_SECS,
            "process": process(v, Some(h)),
        }))
    }
}

/// The data of a stream event for one update: its event name and JSON.
pub fn update(u: &Update) -> (&'static str, Json) {
    match u {
        Update::States(views) => (
            "states",
            json!({
                "now": crate::supervisor::now(),
                "processes": views.iter().map(|v| process(v, None)).collect::<Vec<_>>(),
            }),
        ),
        Update::Sample { t, points } => {
            let by_name: Map<String, Json> = points
                .iter()
                .map(|(ns, s)| (ns.clone(), json!([s.rss_bytes(), s.cpu_percent()])))
                .collect();
            ("sample", json!({ "t": t, "points": by_name }))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xmlrpc_values_become_json() {
        let v = crate::rpc::dispatch::v::st(vec![
            ("a", crate::rpc::dispatch::v::i(3)),
            ("b", crate::rpc::dispatch::v::s("x")),
            (
                "c",
                crate::rpc::dispatch::v::arr(vec![crate::rpc::dispatch::v::b(true)]),
            ),
        ]);
        assert_eq!(to_json(&v), json!({"a": 3, "b": "x", "c": [true]}));
    }
}
