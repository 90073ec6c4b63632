//! The method table: `supervisor.*` and `system.*` names to the code that answers them.
//!
//! Each namespace module lists its methods as [`Method`] entries, the help text (what
//! `system.methodHelp` returns, with `@param`/`@return` tags that `system.methodSignature` reads)
//! beside the handler. Name resolution follows the reference's `traverse`: exactly two dotted
//! parts, no leading underscore, else `UNKNOWN_METHOD`; a wrong argument count is
//! `INCORRECT_PARAMETERS`.

use std::future::Future;
use std::pin::Pin;

use super::Value;
use super::faults::{self, Fault};
use crate::supervisor::SupervisorHandle;

pub type Reply = Result<Value, Fault>;
pub type BoxReply = Pin<Box<dyn Future<Output = Reply> + Send>>;

/// One published method.
pub struct Method {
    pub name: &'static str,
    pub help: &'static str,
    /// Accepted argument counts (inclusive), as Python's positional/default parameters allow.
    pub min_args: usize,
    pub max_args: usize,
    pub call: fn(SupervisorHandle, Args) -> BoxReply,
}

/// A table entry: `method!("ns.name", min_args, max_args, handler, help)`, where `handler` is
/// an `async fn(SupervisorHandle, Args) -> Reply` and `help` the `system.methodHelp` text.
macro_rules! method {
    ($name:literal, $min:literal, $max:literal, $f:path, $help:expr) => {
        $crate::rpc::dispatch::Method {
            name: $name,
            help: $help,
            min_args: $min,
            max_args: $max,
            call: |h, a| $crate::rpc::dispatch::boxed($f(h, a)),
        }
    };
}
pub(crate) use method;

/// Every published method, in no particular order.
pub fn methods() -> impl Iterator<Item = &'static Method> {
    super::supervisor_ns::TABLES
        .iter()
        .copied()
        .flatten()
        .chain(super::system_ns::METHODS.iter())
        .chain(super::stats_ns::METHODS.iter())
}

impl std::fmt::Debug for Method {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Method").field("name", &self.name).finish()
    }
}

pub fn find(name: &str) -> Option<&'static Method> {
    methods().find(|m| m.name == name)
}

/// Answer one XML-RPC call.
pub async fn call(
    handle: &SupervisorHandle,
    method: &str,
    params: Vec<Value>,
) -> Result<Value, Fault> {
    resolve(method, &params)?;
    let m = find(method).ok_or_else(|| Fault::new(faults::UNKNOWN_METHOD))?;
    (m.call)(handle.clone(), Args(params)).await
}

/// Check the name and the argument count, as `traverse` does.
pub fn resolve(method: &str, params: &[Value]) -> Result<&'static Method, Fault> {
    let parts: Vec<&str> = method.split('.').collect();
    if parts.len() != 2 || parts[1].starts_with('_') {
        return Err(Fault::new(faults::UNKNOWN_METHOD));
    }
    let m = find(method).ok_or_else(|| Fault::new(faults::UNKNOWN_METHOD))?;
    if params.len() < m.min_args || params.len() > m.max_args {
        return Err(Fault::new(faults::INCORRECT_PARAMETERS));
    }
    Ok(m)
}

/// Positional arguments of a call, with Python's loose typing where the reference has it.
pub struct Args(pub Vec<Value>);

impl Args {
    fn get(&self, i: usize) -> Option<&Value> {
        self.0.get(i)
    }

    /// A string argument (a name, a signal, chars).
    pub fn string(&self, i: usize) -> Result<String, Fault> {
        match self.get(i) {
            Some(Value::String(s)) => Ok(s.clone()),
            _ => Err(Fault::new(faults::INCORRECT_PARAMETERS)),
        }
    }

    /// A value used as text where the reference takes anything (a group name looked up in a
    /// dict, a signal given to `int()`): ints become digits, a double its integer part.
    pub fn text(&self, i: usize) -> Result<String, Fault> {
        match self.get(i) {
            Some(Value::String(s)) => Ok(s.clone()),
            Some(Value::Integer(n)) => Ok(n.to_string()),
            Some(Value::Double(d)) if d.is_finite() => Ok((d.trunc() as i64).to_string()),
            _ => Err(Fault::new(faults::INCORRECT_PARAMETERS)),
        }
    }

    /// Any value as Python's `str()` would show it, for parameters the reference only compares
    /// or formats (a group name looked up in a dict, a remote event's type and data).
    pub fn loose_text(&self, i: usize) -> Result<String, Fault> {
        self.get(i)
            .map(py_str)
            .ok_or_else(|| Fault::new(faults::INCORRECT_PARAMETERS))
    }

    /// An int argument; the reference calls `int()` on it, so numeric strings pass too.
    pub fn int(&self, i: usize) -> Result<i64, Fault> {
        match self.get(i) {
            Some(Value::Integer(n)) => Ok(*n as i64),
            Some(Value::Boolean(b)) => Ok(*b as i64),
            Some(Value::Double(d)) => Ok(*d as i64),
            Some(Value::String(s)) => s
                .trim()
                .parse()
                .map_err(|_| Fault::new(faults::INCORRECT_PARAMETERS)),
            _ => Err(Fault::new(faults::INCORRECT_PARAMETERS)),
        }
    }

    /// A boolean with a default when absent; Python truthiness otherwise.
    pub fn flag(&self, i: usize, default: bool) -> bool {
        match self.get(i) {
            None => default,
            Some(Value::Boolean(b)) => *b,
            Some(Value::Integer(n)) => *n != 0,
            Some(Value::Double(d)) => *d != 0.0,
            Some(Value::String(s)) => !s.is_empty(),
            Some(Value::Array(a)) => !a.is_empty(),
            Some(Value::Struct(s)) => !s.is_empty(),
            Some(_) => true,
        }
    }

    pub fn value(&self, i: usize) -> Option<&Value> {
        self.get(i)
    }
}

/// Python's `str()` of an XML-RPC value (close enough for names and event text).
pub fn py_str(v: &Value) -> String {
    fn repr(v: &Value) -> String {
        match v {
            Value::String(s) => crate::config::values::py_repr(s),
            other => py_str(other),
        }
    }
    match v {
        Value::String(s) => s.clone(),
        Value::Integer(n) => n.to_string(),
        Value::Boolean(b) => {
            if *b {
                "True".into()
            } else {
                "False".into()
            }
        }
        Value::Double(d) => format!("{:?}", d),
        Value::Array(items) => format!(
            "[{}]",
            items.iter().map(repr).collect::<Vec<_>>().join(", ")
        ),
        Value::Struct(m) => format!(
            "{{{}}}",
            m.iter()
                .map(|(k, v)| format!("{}: {}", crate::config::values::py_repr(k), repr(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Value::Base64(b) => String::from_utf8_lossy(b).into_owned(),
        _ => "None".into(),
    }
}

/// Box an async handler into a table entry.
pub fn boxed<F>(f: F) -> BoxReply
where
    F: Future<Output = Reply> + Send + 'static,
{
    Box::pin(f)
}

/// Value builders, so replies read like the reference's dicts.
pub mod v {
    use super::Value;
    use std::collections::BTreeMap;

    pub fn s(x: impl Into<String>) -> Value {
        Value::String(x.into())
    }

    /// An `<int>`, capped to the 32-bit range as the reference's `capped_int`.
    pub fn i(x: i64) -> Value {
        Value::Integer(x.clamp(i32::MIN as i64, i32::MAX as i64) as i32)
    }

    pub fn b(x: bool) -> Value {
        Value::Boolean(x)
    }

    pub fn arr(x: Vec<Value>) -> Value {
        Value::Array(x)
    }

    pub fn st(pairs: Vec<(&str, Value)>) -> Value {
        let mut m = BTreeMap::new();
        for (k, val) in pairs {
            m.insert(k.to_string(), val);
        }
        Value::Struct(m)
    }
}
