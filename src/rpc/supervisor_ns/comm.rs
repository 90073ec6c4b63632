//! Talking to processes: `sendProcessStdin` and `sendRemoteCommEvent`.

use super::{fault, gone, lookup_one, on_actor};
use crate::rpc::Value;
use crate::rpc::dispatch::{Args, Method, Reply, method, v};
use crate::rpc::faults::{self, Fault};
use crate::supervisor::SupervisorHandle;

pub static METHODS: &[Method] = &[
    method!(
        "supervisor.sendProcessStdin",
        2,
        2,
        send_process_stdin,
        r#" Send a string of chars to the stdin of the process name.
        If non-7-bit data is sent (unicode), it is encoded to utf-8
        before being sent to the process' stdin.  If chars is not a
        string or is not unicode, raise INCORRECT_PARAMETERS.  If the
        process is not running, raise NOT_RUNNING.  If the process'
        stdin cannot accept input (e.g. it was closed by the child
        process), raise NO_FILE.

        @param string name        The process name to send to (or 'group:name')
        @param string chars       The character data to send to the process
        @return boolean result    Always return True unless error
        "#
    ),
    method!(
        "supervisor.sendRemoteCommEvent",
        2,
        2,
        send_remote_comm_event,
        r#" Send an event that will be received by event listener
        subprocesses subscribing to the RemoteCommunicationEvent.

        @param  string  type  String for the "type" key in the event header
        @param  string  data  Data for the event body
        @return boolean       Always return True unless error
        "#
    ),
];

async fn send_process_stdin(h: SupervisorHandle, a: Args) -> Reply {
    let spec = a.value(0).cloned();
    let chars = match a.value(1) {
        Some(Value::String(s)) => s.clone().into_bytes(),
        Some(Value::Base64(b)) => b.clone(),
        Some(other) => {
            let shown = match other {
                Value::Integer(i) => i.to_string(),
                Value::Boolean(b) => {
                    if *b {
                        "True".into()
                    } else {
                        "False".into()
                    }
                }
                _ => String::new(),
            };
            return Err(Fault::with(faults::INCORRECT_PARAMETERS, shown));
        }
        None => return Err(Fault::new(faults::INCORRECT_PARAMETERS)),
    };
    let Some(Value::String(spec)) = spec else {
        return Err(Fault::new(faults::INCORRECT_PARAMETERS));
    };
    on_actor(&h, move |s| {
        let key = lookup_one(s, &spec)?;
        s.send_stdin(key, &chars)
            .map(|_| v::b(true))
            .map_err(|e| fault(e, &spec))
    })
    .await
}

async fn send_remote_comm_event(h: SupervisorHandle, a: Args) -> Reply {
    let kind = a.loose_text(0)?;
    let data = a.loose_text(1)?;
    h.call(move |s| s.remote_comm_event(&kind, &data))
        .await
        .map_err(gone)?;
    Ok(v::b(true))
}
