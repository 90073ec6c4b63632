//! The `system.*` namespace: introspection (listMethods, methodHelp, methodSignature) over the
//! method table, and `multicall`, which runs calls in order and waits for any that wait.

use super::Value;
use super::dispatch::{self, Args, Method, Reply, method, v};
use super::faults::{self, Fault};
use crate::supervisor::SupervisorHandle;

pub static METHODS: &[Method] = &[
    method!(
        "system.listMethods",
        0,
        0,
        list_methods,
        r#" Return an array listing the available method names

        @return array result  An array of method names available (strings).
        "#
    ),
    method!(
        "system.methodHelp",
        1,
        1,
        method_help,
        r#" Return a string showing the method's documentation

        @param string name   The name of the method.
        @return string result The documentation for the method name.
        "#
    ),
    method!(
        "system.methodSignature",
        1,
        1,
        method_signature,
        r#" Return an array describing the method signature in the
        form [rtype, ptype, ptype...] where rtype is the return data type
        of the method, and ptypes are the parameter data types that the
        method accepts in method argument order.

        @param string name  The name of the method.
        @return array result  The result.
        "#
    ),
    method!(
        "system.multicall",
        1,
        1,
        multicall,
        r#"Process an array of calls, and return an array of
        results. Calls should be structs of the form {'methodName':
        string, 'params': array}. Each result will either be a
        single-item array containing the result value, or a struct of
        the form {'faultCode': int, 'faultString': string}. This is
        useful when you need to make lots of small calls without lots
        of round trips.

        @param array calls  An array of call requests
        @return array result  An array of results
        "#
    ),
];

/// The reference's method names: our `supervisord_rs.*` extras stay out of the list, so what
/// stock clients see is unchanged (they are still callable and have help).
async fn list_methods(_h: SupervisorHandle, _a: Args) -> Reply {
    let mut names: Vec<&str> = dispatch::methods()
        .map(|m| m.name)
        .filter(|n| !n.starts_with("supervisord_rs."))
        .collect();
    names.sort();
    Ok(v::arr(names.into_iter().map(v::s).collect()))
}

async fn method_help(_h: SupervisorHandle, a: Args) -> Reply {
    let name = a
        .string(0)
        .map_err(|_| Fault::new(faults::SIGNATURE_UNSUPPORTED))?;
    dispatch::find(&name)
        .map(|m| v::s(m.help))
        .ok_or_else(|| Fault::new(faults::SIGNATURE_UNSUPPORTED))
}

/// `[rtype, ptype...]` from the `@return` and `@param` tags of the help text (`gettags`).
pub fn signature(help: &str) -> Option<Vec<String>> {
    let mut rtype = None;
    let mut params = Vec::new();
    for line in help.lines() {
        let mut words = line.split_whitespace();
        match (words.next(), words.next()) {
            (Some("@return"), Some(t)) => rtype = Some(t.to_string()),
            (Some("@param"), Some(t)) => params.push(t.to_string()),
            _ => {}
        }
    }
    let mut out = vec![rtype?];
    out.extend(params);
    Some(out)
}

async fn method_signature(_h: SupervisorHandle, a: Args) -> Reply {
    let name = a
        .string(0)
        .map_err(|_| Fault::new(faults::SIGNATURE_UNSUPPORTED))?;
    let m = dispatch::find(&name).ok_or_else(|| Fault::new(faults::SIGNATURE_UNSUPPORTED))?;
    let sig = signature(m.help).ok_or_else(|| Fault::new(faults::SIGNATURE_UNSUPPORTED))?;
    Ok(v::arr(sig.into_iter().map(v::s).collect()))
}

fn fault_struct(f: Fault) -> Value {
    v::st(vec![
        ("faultCode", v::i(f.code as i64)),
        ("faultString", v::s(f.string)),
    ])
}

/// Run each call in order, each one waiting before the next starts, as the reference does.
async fn multicall(h: SupervisorHandle, a: Args) -> Reply {
    let calls = match a.value(0) {
        Some(Value::Array(c)) => c.clone(),
        _ => return Err(Fault::new(faults::INCORRECT_PARAMETERS)),
    };
    let mut results = Vec::with_capacity(calls.len());
    for call in calls {
        let r = one_call(&h, call).await;
        results.push(match r {
            Ok(v) => v,
            Err(f) => fault_struct(f),
        });
    }
    Ok(v::arr(results))
}

async fn one_call(h: &SupervisorHandle, call: Value) -> Reply {
    let Value::Struct(map) = call else {
        return Err(Fault::with(faults::INCORRECT_PARAMETERS, "No methodName"));
    };
    let name = match map.get("methodName") {
        Some(Value::String(n)) => n.clone(),
        _ => return Err(Fault::with(faults::INCORRECT_PARAMETERS, "No methodName")),
    };
    if name == "system.multicall" {
        return Err(Fault::with(
            faults::INCORRECT_PARAMETERS,
            "Recursive system.multicall forbidden",
        ));
    }
    let params = match map.get("params") {
        Some(Value::Array(p)) => p.clone(),
        None => Vec::new(),
        Some(_) => return Err(Fault::new(faults::INCORRECT_PARAMETERS)),
    };
    let m = dispatch::resolve(&name, &params)?;
    (m.call)(h.clone(), Args(params)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_from_tags() {
        let m = dispatch::find("supervisor.startProcess").unwrap();
        assert_eq!(
            signature(m.help).unwrap(),
            vec!["boolean", "string", "boolean"]
        );
        let m = dispatch::find("system.multicall").unwrap();
        assert_eq!(signature(m.help).unwrap(), vec!["array", "array"]);
        assert_eq!(signature("no tags"), None);
    }

    #[test]
    fn every_method_resolves_and_has_a_signature() {
        for m in dispatch::methods() {
            assert!(signature(m.help).is_some(), "{}", m.name);
            assert!(dispatch::resolve(m.name, &vec![Value::Integer(0); m.min_args]).is_ok());
        }
        assert_eq!(
            dispatch::resolve("supervisor._update", &[])
                .unwrap_err()
                .code,
            faults::UNKNOWN_METHOD
        );
        assert_eq!(
            dispatch::resolve("a.b.c", &[]).unwrap_err().code,
            faults::UNKNOWN_METHOD
        );
        assert_eq!(
            dispatch::resolve("supervisor.getState", &[Value::Integer(1)])
                .unwrap_err()
                .code,
            faults::INCORRECT_PARAMETERS
        );
    }
}
