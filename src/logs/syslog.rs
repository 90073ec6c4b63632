//! Syslog messages as supervisor 4.2.5's `SyslogHandler` sends them, for child output
//! (`stdout_syslog`/`stderr_syslog`, or the deprecated `stdout_logfile=syslog`) and for the
//! main log (`logfile=syslog`).
//!
//! The reference calls Python's `syslog.syslog(msg)` once per line of a record (trailing
//! newlines stripped, then split on `\n`): priority LOG_INFO whatever the level, facility
//! LOG_USER, ident the program's name, no pid. We call the C library's `syslog(3)` the same
//! way (its default ident is also the program's name), so the C library frames both alike:
//! on glibc one datagram to `/dev/log` per message, `<14>Nov 24 18:36:18 supervisord: MESSAGE`
//! (local time, no trailing NUL). Without a syslog socket the message is dropped quietly and
//! the next one tries to connect again.
//!
//! The messages: child output is `NAME LINE` per line of each chunk read from the pipe (a line
//! split across two reads is two messages); the main log is `ASCTIME LEVL LINE\n` per line, the
//! newline of the main log's format kept. Python hands the C library the text as a C string, so
//! a NUL byte ends the message; a chunk of child output that is not UTF-8 is not sent at all
//! (the reference fails to decode it and prints a traceback on its stderr; we print one line).

use std::io::Write;

/// Send one message at LOG_INFO; a NUL byte ends it (as in the reference).
fn send(msg: &[u8]) {
    let end = msg.iter().position(|&b| b == 0).unwrap_or(msg.len());
    if let Ok(c) = std::ffi::CString::new(&msg[..end]) {
        // SAFETY: constant format string with one %s argument, both NUL-terminated.
        unsafe { libc::syslog(libc::LOG_INFO, c"%s".as_ptr(), c.as_ptr()) };
    }
}

/// The lines of a record as the reference splits them: `rstrip('\n').split('\n')`.
fn lines(text: &str) -> std::str::Split<'_, char> {
    text.trim_end_matches('\n').split('\n')
}

/// One chunk of a child's output (`channel` is `stdout`/`stderr`, for the stderr notice).
pub fn child_output(process_name: &str, channel: &str, data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        let _ = writeln!(
            std::io::stderr(),
            "{} {} output not sent to syslog: not UTF-8",
            crate::logs::py_repr_str(process_name),
            channel
        );
        return;
    };
    for line in lines(text) {
        send(format!("{} {}", process_name, line).as_bytes());
    }
}

/// One main-log record: `asctime` and `level` are the line's prefix fields.
pub fn main_log(asctime: &str, level: &str, message: &str) {
    for line in lines(message) {
        send(format!("{} {} {}\n", asctime, level, line).as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::lines;

    #[test]
    fn lines_as_the_reference_splits_them() {
        let v = |s| lines(s).collect::<Vec<_>>();
        assert_eq!(v("a\nb\n\n"), ["a", "b"]);
        assert_eq!(v("a\n\nb"), ["a", "", "b"]);
        assert_eq!(v("\n"), [""]);
        assert_eq!(v("a\r\n"), ["a\r"]);
    }
}
