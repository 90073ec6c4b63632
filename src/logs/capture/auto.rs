//! `AUTO` log files in `childlogdir`: their names (`options.get_autochildlog_name`), and
//! finding and removing old ones at start-up (`clear_autochildlogdir`).

use std::io;
use std::path::{Path, PathBuf};

use super::Channel;
use crate::config::{LogTarget, SupervisordConfig};
use crate::logs::py_repr_str;

const TEMP_CHARS: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789_";

fn random_bytes(n: usize) -> Vec<u8> {
    let mut b = vec![0u8; n];
    // SAFETY: getrandom fills our buffer.
    let got = unsafe { libc::getrandom(b.as_mut_ptr() as *mut libc::c_void, n, 0) };
    if got != n as isize {
        let mut x = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0)
            ^ ((std::process::id() as u64) << 32);
        for v in b.iter_mut() {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            *v = x as u8;
        }
    }
    b
}

/// `options.get_autochildlog_name`: create (like `mkstemp`, mode 0600) and return a fresh
/// `{childlogdir}/{name}-{channel}---{identifier}-{8 random chars}.log`.
pub fn make_auto_child_log_path(
    childlogdir: &Path,
    name: &str,
    channel: Channel,
    identifier: &str,
) -> io::Result<PathBuf> {
    use std::os::unix::fs::OpenOptionsExt;
    let prefix = format!("{}-{}---{}-", name, channel.as_str(), identifier);
    let mut last = io::Error::from(io::ErrorKind::AlreadyExists);
    for _ in 0..10000 {
        let rnd: String = random_bytes(8)
            .iter()
            .map(|b| TEMP_CHARS[*b as usize % TEMP_CHARS.len()] as char)
            .collect();
        let path = childlogdir.join(format!("{}{}.log", prefix, rnd));
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
        {
            Ok(_) => return Ok(path),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => last = e,
            Err(e) => return Err(e),
        }
    }
    Err(last)
}

/// Resolve a stream's `LogTarget` to a path: `Path` as is, `Auto` to a new file from
/// [`make_auto_child_log_path`], `None`/`Syslog` to no file. The reference does this once per
/// process config at startup (`create_autochildlogs`), so callers should resolve once and keep
/// the path for every spawn and for `readProcess*Log`.
pub fn resolve_child_log_path(
    target: &LogTarget,
    process_name: &str,
    channel: Channel,
    sup: &SupervisordConfig,
) -> io::Result<Option<PathBuf>> {
    match target {
        LogTarget::Path(p) => Ok(Some(p.clone())),
        LogTarget::Auto => {
            make_auto_child_log_path(&sup.childlogdir, process_name, channel, &sup.identifier)
                .map(Some)
        }
        LogTarget::None | LogTarget::Syslog => Ok(None),
    }
}

fn py_isspace(c: char) -> bool {
    c.is_whitespace() || ('\x1c'..='\x1f').contains(&c)
}

/// Whether `filename` matches the reference's `.+?---{identifier}-\S+\.log\.{0,1}\d{0,4}`
/// (with `re.match`, i.e. anchored at the start only). The identifier is taken literally.
pub fn is_auto_child_log_name(filename: &str, identifier: &str) -> bool {
    let marker = format!("---{}-", identifier);
    let mut from = 0;
    while let Some(p) = filename[from..].find(&marker) {
        let at = from + p;
        let head = &filename[..at];
        if head.contains('\n') {
            return false;
        }
        if at >= 1 {
            let rest = &filename[at + marker.len()..];
            let ws = rest
                .char_indices()
                .find(|(_, c)| py_isspace(*c))
                .map_or(rest.len(), |(i, _)| i);
            let mut k = 0;
            while let Some(q) = rest[k..].find(".log") {
                let idx = k + q;
                if idx > ws {
                    break;
                }
                if idx >= 1 {
                    return true;
                }
                k = idx + 1;
            }
        }
        from = at + filename[at..].chars().next().map_or(1, |c| c.len_utf8());
    }
    false
}

/// `options.clear_autochildlogdir`: remove every AUTO child log (and its backups) of this
/// `identifier` from `childlogdir`, warning in the main log as the reference does when the
/// directory cannot be listed or a file cannot be removed. Returns how many were removed.
/// The caller skips this when `nocleanup` is set.
pub fn clean_auto_child_logs(childlogdir: &Path, identifier: &str) -> usize {
    let entries = match std::fs::read_dir(childlogdir) {
        Ok(e) => e,
        Err(_) => {
            crate::log_warn!("Could not clear childlog dir");
            return 0;
        }
    };
    let mut removed = 0;
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if is_auto_child_log_name(&name, identifier) {
            let path = childlogdir.join(entry.file_name());
            match std::fs::remove_file(&path) {
                Ok(()) => removed += 1,
                Err(_) => crate::log_warn!(
                    "Failed to clean up {}",
                    py_repr_str(&path.to_string_lossy())
                ),
            }
        }
    }
    removed
}
