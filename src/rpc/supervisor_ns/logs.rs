//! Log files over XML-RPC: the main log (`readLog`, `clearLog`) and each process's stdout
//! and stderr logs (read, tail, clear).

use super::{fault, lookup_one, on_actor, status_struct};
use crate::config::LogTarget;
use crate::rpc::dispatch::{Args, Method, Reply, method, v};
use crate::rpc::faults::{self, Fault};
use crate::supervisor::{Supervisor, SupervisorHandle};

const HELP_READ_LOG: &str = r#" Read length bytes from the main log starting at offset

        @param int offset         offset to start reading from.
        @param int length         number of bytes to read from the log.
        @return string result     Bytes of log
        "#;

const HELP_READ_PROCESS_STDOUT_LOG: &str = r#" Read length bytes from name's stdout log starting at offset

        @param string name        the name of the process (or 'group:name')
        @param int offset         offset to start reading from.
        @param int length         number of bytes to read from the log.
        @return string result     Bytes of log
        "#;

const HELP_TAIL_PROCESS_STDOUT_LOG: &str = r#"
        Provides a more efficient way to tail the (stdout) log than
        readProcessStdoutLog().  Use readProcessStdoutLog() to read
        chunks and tailProcessStdoutLog() to tail.

        Requests (length) bytes from the (name)'s log, starting at
        (offset).  If the total log size is greater than (offset +
        length), the overflow flag is set and the (offset) is
        automatically increased to position the buffer at the end of
        the log.  If less than (length) bytes are available, the
        maximum number of available bytes will be returned.  (offset)
        returned is always the last offset in the log +1.

        @param string name         the name of the process (or 'group:name')
        @param int offset          offset to start reading from
        @param int length          maximum number of bytes to return
        @return array result       [string bytes, int offset, bool overflow]
        "#;

const HELP_CLEAR_PROCESS_LOGS: &str = r#" Clear the stdout and stderr logs for the named process and
        reopen them.

        @param string name   The name of the process (or 'group:name')
        @return boolean result      Always True unless error
        "#;

pub static METHODS: &[Method] = &[
    method!("supervisor.readLog", 2, 2, read_log, HELP_READ_LOG),
    method!("supervisor.readMainLog", 2, 2, read_log, HELP_READ_LOG),
    method!(
        "supervisor.clearLog",
        0,
        0,
        clear_log,
        r#" Clear the main log.

        @return boolean result always returns True unless error
        "#
    ),
    method!(
        "supervisor.readProcessStdoutLog",
        3,
        3,
        read_process_stdout_log,
        HELP_READ_PROCESS_STDOUT_LOG
    ),
    method!(
        "supervisor.readProcessLog",
        3,
        3,
        read_process_stdout_log,
        HELP_READ_PROCESS_STDOUT_LOG
    ),
    method!(
        "supervisor.readProcessStderrLog",
        3,
        3,
        read_process_stderr_log,
        r#" Read length bytes from name's stderr log starting at offset

        @param string name        the name of the process (or 'group:name')
        @param int offset         offset to start reading from.
        @param int length         number of bytes to read from the log.
        @return string result     Bytes of log
        "#
    ),
    method!(
        "supervisor.tailProcessStdoutLog",
        3,
        3,
        tail_process_stdout_log,
        HELP_TAIL_PROCESS_STDOUT_LOG
    ),
    method!(
        "supervisor.tailProcessLog",
        3,
        3,
        tail_process_stdout_log,
        HELP_TAIL_PROCESS_STDOUT_LOG
    ),
    method!(
        "supervisor.tailProcessStderrLog",
        3,
        3,
        tail_process_stderr_log,
        r#"
        Provides a more efficient way to tail the (stderr) log than
        readProcessStderrLog().  Use readProcessStderrLog() to read
        chunks and tailProcessStderrLog() to tail.

        Requests (length) bytes from the (name)'s log, starting at
        (offset).  If the total log size is greater than (offset +
        length), the overflow flag is set and the (offset) is
        automatically increased to position the buffer at the end of
        the log.  If less than (length) bytes are available, the
        maximum number of available bytes will be returned.  (offset)
        returned is always the last offset in the log +1.

        @param string name         the name of the process (or 'group:name')
        @param int offset          offset to start reading from
        @param int length          maximum number of bytes to return
        @return array result       [string bytes, int offset, bool overflow]
        "#
    ),
    method!(
        "supervisor.clearProcessLogs",
        1,
        1,
        clear_process_logs,
        HELP_CLEAR_PROCESS_LOGS
    ),
    method!(
        "supervisor.clearProcessLog",
        1,
        1,
        clear_process_logs,
        HELP_CLEAR_PROCESS_LOGS
    ),
    method!(
        "supervisor.clearAllProcessLogs",
        0,
        0,
        clear_all_process_logs,
        r#" Clear all process log files

        @return array result   An array of process status info structs
        "#
    ),
];

fn main_log_path(s: &Supervisor) -> Option<std::path::PathBuf> {
    match &s.config().supervisord.logfile {
        LogTarget::Path(p) => Some(p.clone()),
        _ => None,
    }
}

async fn read_log(h: SupervisorHandle, a: Args) -> Reply {
    let offset = a.int(0)?;
    let length = a.int(1)?;
    let path = on_actor(&h, |s| Ok(main_log_path(s))).await?;
    let Some(path) = path.filter(|p| p.exists()) else {
        let shown = on_actor(&h, |s| Ok(main_log_path(s))).await?;
        return Err(match shown {
            Some(p) => Fault::with(faults::NO_FILE, p.display()),
            None => Fault::new(faults::NO_FILE),
        });
    };
    read_range(&path, offset, length)
}

fn read_range(path: &std::path::Path, offset: i64, length: i64) -> Reply {
    match crate::logs::read_file_range(path, offset, length) {
        Ok(bytes) => Ok(v::s(crate::rpc::xml::lossy_string(&bytes))),
        Err(e) => Err(read_fault(e)),
    }
}

fn read_fault(e: crate::logs::ReadError) -> Fault {
    use crate::logs::ReadError;
    Fault::new(match e {
        ReadError::NoFile => faults::NO_FILE,
        ReadError::BadArguments => faults::BAD_ARGUMENTS,
        ReadError::Failed => faults::FAILED,
    })
}

async fn clear_log(h: SupervisorHandle, _a: Args) -> Reply {
    on_actor(&h, |_| match crate::logs::mainlog::handle() {
        Some(log) => log.clear().map(|_| v::b(true)).map_err(read_fault),
        None => Err(Fault::new(faults::NO_FILE)),
    })
    .await
}

#[derive(Clone, Copy)]
enum Channel {
    Stdout,
    Stderr,
}

/// The log path of one process's channel, or a fault naming what the reference names.
async fn channel_log(
    h: &SupervisorHandle,
    spec: String,
    ch: Channel,
) -> Result<Option<std::path::PathBuf>, Fault> {
    on_actor(h, move |s| {
        let view = s.view(lookup_one(s, &spec)?, 0);
        Ok(match ch {
            Channel::Stdout => view.stdout_logfile,
            Channel::Stderr => view.stderr_logfile,
        })
    })
    .await
}

async fn read_process_log(h: SupervisorHandle, a: Args, ch: Channel) -> Reply {
    let spec = a.string(0)?;
    let offset = a.int(1)?;
    let length = a.int(2)?;
    let path = channel_log(&h, spec, ch).await?;
    match path {
        Some(p) if p.exists() => read_range(&p, offset, length),
        Some(p) => Err(Fault::with(faults::NO_FILE, p.display())),
        None => Err(Fault::new(faults::NO_FILE)),
    }
}

async fn read_process_stdout_log(h: SupervisorHandle, a: Args) -> Reply {
    read_process_log(h, a, Channel::Stdout).await
}

async fn read_process_stderr_log(h: SupervisorHandle, a: Args) -> Reply {
    read_process_log(h, a, Channel::Stderr).await
}

async fn tail_process_log(h: SupervisorHandle, a: Args, ch: Channel) -> Reply {
    let spec = a.string(0)?;
    let offset = a.int(1)?;
    let length = a.int(2)?;
    let path = channel_log(&h, spec, ch).await?;
    match path {
        Some(p) if p.exists() => {
            let (bytes, off, overflow) = crate::logs::tail_file(&p, offset, length);
            Ok(v::arr(vec![
                v::s(crate::rpc::xml::lossy_string(&bytes)),
                v::i(off),
                v::b(overflow),
            ]))
        }
        _ => Ok(v::arr(vec![v::s(""), v::i(0), v::b(false)])),
    }
}

async fn tail_process_stdout_log(h: SupervisorHandle, a: Args) -> Reply {
    tail_process_log(h, a, Channel::Stdout).await
}

async fn tail_process_stderr_log(h: SupervisorHandle, a: Args) -> Reply {
    tail_process_log(h, a, Channel::Stderr).await
}

async fn clear_process_logs(h: SupervisorHandle, a: Args) -> Reply {
    let spec = a.string(0)?;
    on_actor(&h, move |s| {
        let key = lookup_one(s, &spec)?;
        s.clear_logs(key).map_err(|e| fault(e, &spec))?;
        Ok(v::b(true))
    })
    .await
}

async fn clear_all_process_logs(h: SupervisorHandle, _a: Args) -> Reply {
    on_actor(&h, |s| {
        let mut out = Vec::new();
        for key in s.all_by_priority() {
            let id = s.id(key);
            let r = s.clear_logs(key).map_err(|e| fault(e, &id.namespec));
            out.push(status_struct(&id.name, &id.group, r));
        }
        Ok(v::arr(out))
    })
    .await
}
