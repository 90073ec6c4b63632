//! Logging: the daemon's own log (`mainlog`, through `tracing` with the reference's exact line
//! format), size-rotated log files (`rotate`), child output capture (`capture`), syslog messages
//! (`syslog`), and the file-reading helpers behind `readLog`, `readProcess*Log` and
//! `tailProcess*Log` (`read_file_range`, `tail_file`, as supervisor's
//! `options.readFile`/`options.tailFile`).
//!
//! Logging macros (exported at the crate root, so `crate::log_info!(...)` from anywhere):
//! `log_crit!`, `log_error!`, `log_warn!`, `log_info!`, `log_debug!`, `log_trace!`,
//! `log_blather!`, one per reference level (CRIT ERRO WARN INFO DEBG TRAC BLAT). They take
//! `format!`-style arguments. CRIT and BLAT ride on tracing's ERROR and TRACE with a dedicated
//! target ([`mainlog::CRIT_TARGET`], [`mainlog::BLATHER_TARGET`]).

pub mod capture;
pub mod format;
pub mod mainlog;
pub mod rotate;
pub mod syslog;

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

/// Log at the reference's CRIT level.
#[macro_export]
macro_rules! log_crit {
    ($($arg:tt)+) => { ::tracing::error!(target: $crate::logs::mainlog::CRIT_TARGET, $($arg)+) };
}
/// Log at the reference's ERRO level.
#[macro_export]
macro_rules! log_error {
    ($($arg:tt)+) => { ::tracing::error!(target: $crate::logs::mainlog::TARGET, $($arg)+) };
}
/// Log at the reference's WARN level.
#[macro_export]
macro_rules! log_warn {
    ($($arg:tt)+) => { ::tracing::warn!(target: $crate::logs::mainlog::TARGET, $($arg)+) };
}
/// Log at the reference's INFO level.
#[macro_export]
macro_rules! log_info {
    ($($arg:tt)+) => { ::tracing::info!(target: $crate::logs::mainlog::TARGET, $($arg)+) };
}
/// Log at the reference's DEBG level.
#[macro_export]
macro_rules! log_debug {
    ($($arg:tt)+) => { ::tracing::debug!(target: $crate::logs::mainlog::TARGET, $($arg)+) };
}
/// Log at the reference's TRAC level.
#[macro_export]
macro_rules! log_trace {
    ($($arg:tt)+) => { ::tracing::trace!(target: $crate::logs::mainlog::TARGET, $($arg)+) };
}
/// Log at the reference's BLAT level (chattier than TRAC).
#[macro_export]
macro_rules! log_blather {
    ($($arg:tt)+) => { ::tracing::trace!(target: $crate::logs::mainlog::BLATHER_TARGET, $($arg)+) };
}

/// Why a log file could not be read or cleared; the RPC layer maps these to faults of the
/// same names (`NO_FILE`, `BAD_ARGUMENTS`, `FAILED`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReadError {
    NoFile,
    BadArguments,
    Failed,
}

fn read_at_most(f: &mut File, n: u64) -> std::io::Result<Vec<u8>> {
    let mut data = Vec::new();
    f.take(n).read_to_end(&mut data)?;
    Ok(data)
}

/// `readLog`/`readProcess{Stdout,Stderr}Log`: the RPC's existence check (`NO_FILE`) followed
/// by `options.readFile`. A negative `offset` reads the last `-offset` bytes (then `length`
/// must be 0); otherwise `length` bytes from `offset` (0 = to the end; negative is
/// `BAD_ARGUMENTS`). I/O errors are `FAILED`.
pub fn read_file_range(path: &Path, offset: i64, length: i64) -> Result<Vec<u8>, ReadError> {
    if !path.exists() {
        return Err(ReadError::NoFile);
    }
    let mut f = File::open(path).map_err(|_| ReadError::Failed)?;
    let offset = offset as i128;
    let length = length as i128;
    if offset < 0 {
        if length != 0 {
            return Err(ReadError::BadArguments);
        }
        let sz = f.seek(SeekFrom::End(0)).map_err(|_| ReadError::Failed)? as i128;
        let pos = (sz + offset).max(0);
        f.seek(SeekFrom::Start(pos as u64))
            .map_err(|_| ReadError::Failed)?;
        read_at_most(&mut f, (-offset) as u64).map_err(|_| ReadError::Failed)
    } else {
        if length < 0 {
            return Err(ReadError::BadArguments);
        }
        f.seek(SeekFrom::Start(offset as u64))
            .map_err(|_| ReadError::Failed)?;
        let n = if length == 0 { u64::MAX } else { length as u64 };
        read_at_most(&mut f, n).map_err(|_| ReadError::Failed)
    }
}

/// `tailProcess{Stdout,Stderr}Log` (`options.tailFile`): up to `length` bytes ending at the end
/// of the file when it grew past `offset + length` (then `overflow` is true), else from
/// `offset`. Returns `(bytes, new_offset, overflow)`, `new_offset` being the file size. When the
/// file cannot be opened, returns `(empty, offset, false)`; the RPC itself answers
/// `['', 0, False]` for a missing log before calling this.
pub fn tail_file(path: &Path, offset: i64, length: i64) -> (Vec<u8>, i64, bool) {
    let mut offset = offset as i128;
    let mut length = length as i128;
    let clamp = |v: i128| v.clamp(i64::MIN as i128, i64::MAX as i128) as i64;
    let mut f = match File::open(path) {
        Ok(f) => f,
        Err(_) => return (Vec::new(), clamp(offset), false),
    };
    let sz = match f.seek(SeekFrom::End(0)) {
        Ok(s) => s as i128,
        Err(_) => return (Vec::new(), clamp(offset), false),
    };
    let mut overflow = false;
    if sz > offset + length {
        overflow = true;
        offset = sz - 1;
    }
    if offset + length > sz {
        if offset > sz - 1 {
            length = 0;
        }
        offset = sz - length;
    }
    if offset < 0 {
        offset = 0;
    }
    if length < 0 {
        length = 0;
    }
    let data = if length == 0 {
        Vec::new()
    } else {
        let r = f
            .seek(SeekFrom::Start(offset as u64))
            .and_then(|_| read_at_most(&mut f, length as u64));
        match r {
            Ok(d) => d,
            Err(_) => return (Vec::new(), clamp(offset), false),
        }
    };
    (data, clamp(sz), overflow)
}

/// Python's `repr()` of a `bytes` value (`b'..'`), as `%r` renders it.
pub fn py_repr_bytes(b: &[u8]) -> String {
    let quote = if b.contains(&b'\'') && !b.contains(&b'"') {
        '"'
    } else {
        '\''
    };
    let mut s = String::with_capacity(b.len() + 3);
    s.push('b');
    s.push(quote);
    for &c in b {
        match c {
            b'\\' => s.push_str("\\\\"),
            b'\t' => s.push_str("\\t"),
            b'\n' => s.push_str("\\n"),
            b'\r' => s.push_str("\\r"),
            c if c as char == quote => {
                s.push('\\');
                s.push(quote)
            }
            0x20..=0x7e => s.push(c as char),
            c => s.push_str(&format!("\\x{:02x}", c)),
        }
    }
    s.push(quote);
    s
}

pub use crate::config::values::py_repr as py_repr_str;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logs::rotate::tests::tempdir;

    fn file_with(content: &[u8]) -> std::path::PathBuf {
        let d = tempdir("read");
        let p = d.join("f.log");
        std::fs::write(&p, content).unwrap();
        p
    }

    // Expected values checked against supervisor.options.readFile on the same content.
    #[test]
    fn read_file_range_semantics() {
        let p = file_with(b"0123456789");
        assert_eq!(read_file_range(&p, 0, 0).unwrap(), b"0123456789");
        assert_eq!(read_file_range(&p, 2, 3).unwrap(), b"234");
        assert_eq!(read_file_range(&p, 8, 100).unwrap(), b"89");
        assert_eq!(read_file_range(&p, 50, 0).unwrap(), b"");
        assert_eq!(read_file_range(&p, -3, 0).unwrap(), b"789");
        assert_eq!(read_file_range(&p, -100, 0).unwrap(), b"0123456789");
        assert_eq!(read_file_range(&p, -3, 2), Err(ReadError::BadArguments));
        assert_eq!(read_file_range(&p, 0, -1), Err(ReadError::BadArguments));
        assert_eq!(read_file_range(&p, i64::MIN, 0).unwrap(), b"0123456789");
        let missing = p.with_file_name("nope.log");
        assert_eq!(read_file_range(&missing, 0, 0), Err(ReadError::NoFile));
        assert_eq!(
            read_file_range(p.parent().unwrap(), 0, 0),
            Err(ReadError::Failed)
        );
    }

    // Expected values checked against supervisor.options.tailFile on the same content.
    #[test]
    fn tail_file_semantics() {
        let p = file_with(b"0123456789");
        assert_eq!(tail_file(&p, 0, 100), (b"0123456789".to_vec(), 10, false));
        assert_eq!(tail_file(&p, 0, 4), (b"6789".to_vec(), 10, true));
        assert_eq!(tail_file(&p, 3, 4), (b"6789".to_vec(), 10, true));
        assert_eq!(tail_file(&p, 6, 4), (b"6789".to_vec(), 10, false));
        assert_eq!(tail_file(&p, 8, 4), (b"6789".to_vec(), 10, false));
        assert_eq!(tail_file(&p, 10, 4), (b"".to_vec(), 10, false));
        assert_eq!(tail_file(&p, 20, 4), (b"".to_vec(), 10, false));
        assert_eq!(tail_file(&p, -5, 3), (b"789".to_vec(), 10, true));
        assert_eq!(tail_file(&p, -5, 100), (b"0123456789".to_vec(), 10, false));
        assert_eq!(tail_file(&p, 0, -5), (b"".to_vec(), 10, true));
        assert_eq!(tail_file(&p, 0, 0), (b"".to_vec(), 10, true));
        let e = file_with(b"");
        assert_eq!(tail_file(&e, 0, 10), (b"".to_vec(), 0, false));
        assert_eq!(tail_file(&e, 5, 10), (b"".to_vec(), 0, false));
        let missing = p.with_file_name("nope.log");
        assert_eq!(tail_file(&missing, 7, 10), (b"".to_vec(), 7, false));
    }

    #[test]
    fn python_reprs() {
        assert_eq!(py_repr_bytes(b"\xff\xfebad\n"), "b'\\xff\\xfebad\\n'");
        assert_eq!(py_repr_bytes(b"it's"), "b\"it's\"");
        assert_eq!(py_repr_bytes(b"'\""), "b'\\'\"'");
        assert_eq!(py_repr_str("x"), "'x'");
        assert_eq!(py_repr_str("a'b"), "\"a'b\"");
    }
}
