//! Resident memory of process trees, read from `/proc` (beyond the reference: `memory_limit=`),
//! and the daemon's own: the allocator's settings and the pages it sheds when idle.
//!
//! One scan of `/proc/*/stat` builds the parent map of every process; the resident size of a
//! tree is the sum of `/proc/PID/statm`'s resident pages over the process and all its
//! descendants. No `ps` is forked. The actor calls [`ProcTable::scan`] once per check, only while
//! some program has a limit, then [`ProcTable::tree_rss`] per limited process.

use std::collections::HashMap;

/// A snapshot of the process table: parent → children, resident bytes and CPU clock ticks
/// (user + system) per pid.
#[derive(Debug, Default)]
pub struct ProcTable {
    children: HashMap<i32, Vec<i32>>,
    rss: HashMap<i32, u64>,
    ticks: HashMap<i32, u64>,
}

fn page_size() -> u64 {
    // SAFETY: sysconf has no preconditions.
    let n = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    if n > 0 { n as u64 } else { 4096 }
}

/// The parent pid from the text of `/proc/PID/stat` (the field after the `(comm)`, which may
/// itself hold spaces and parentheses).
pub fn parse_ppid(stat: &str) -> Option<i32> {
    let rest = &stat[stat.rfind(')')? + 1..];
    let mut fields = rest.split_whitespace();
    let _state = fields.next()?;
    fields.next()?.parse().ok()
}

/// User + system clock ticks from the text of `/proc/PID/stat` (its 14th and 15th fields).
pub fn parse_cpu_ticks(stat: &str) -> Option<u64> {
    let rest = &stat[stat.rfind(')')? + 1..];
    let mut fields = rest.split_whitespace().skip(11);
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some(utime + stime)
}

/// Resident pages from the text of `/proc/PID/statm` (its second field).
pub fn parse_statm_resident(statm: &str) -> Option<u64> {
    statm.split_whitespace().nth(1)?.parse().ok()
}

impl ProcTable {
    /// Read every process under `/proc`. Processes that vanish meanwhile are skipped.
    pub fn scan() -> ProcTable {
        let mut t = ProcTable::default();
        let page = page_size();
        let Ok(dir) = std::fs::read_dir("/proc") else {
            return t;
        };
        for entry in dir.flatten() {
            let Some(pid) = entry
                .file_name()
                .to_str()
                .and_then(|n| n.parse::<i32>().ok())
            else {
                continue;
            };
            let Ok(stat) = std::fs::read_to_string(format!("/proc/{}/stat", pid)) else {
                continue;
            };
            let Some(ppid) = parse_ppid(&stat) else {
                continue;
            };
            let pages = std::fs::read_to_string(format!("/proc/{}/statm", pid))
                .ok()
                .and_then(|s| parse_statm_resident(&s))
                .unwrap_or(0);
            t.children.entry(ppid).or_default().push(pid);
            t.rss.insert(pid, pages * page);
            t.ticks.insert(pid, parse_cpu_ticks(&stat).unwrap_or(0));
        }
        t
    }

    /// Resident bytes of `pid` and all its descendants (0 if it is gone).
    pub fn tree_rss(&self, pid: i32) -> u64 {
        self.tree_sum(pid, &self.rss)
    }

    /// CPU clock ticks of `pid` and its live descendants (0 if it is gone).
    pub fn tree_ticks(&self, pid: i32) -> u64 {
        self.tree_sum(pid, &self.ticks)
    }

    fn tree_sum(&self, pid: i32, of: &HashMap<i32, u64>) -> u64 {
        let mut total = 0;
        let mut stack = vec![pid];
        let mut seen = 0usize;
        while let Some(p) = stack.pop() {
            seen += 1;
            if seen > self.rss.len() + 1 {
                break; // a cycle cannot happen in a real table; stay finite anyway
            }
            total += of.get(&p).copied().unwrap_or(0);
            if let Some(kids) = self.children.get(&p) {
                stack.extend(kids.iter().copied());
            }
        }
        total
    }

    #[cfg(test)]
    fn from_parts(entries: &[(i32, i32, u64)]) -> ProcTable {
        let mut t = ProcTable::default();
        for &(pid, ppid, rss) in entries {
            t.children.entry(ppid).or_default().push(pid);
            t.rss.insert(pid, rss);
        }
        t
    }
}

/// `262.1MiB`: a size for log lines.
pub fn mib(bytes: u64) -> String {
    format!("{:.1}MiB", bytes as f64 / (1024.0 * 1024.0))
}

/// Fix glibc's allocation thresholds, which otherwise grow after the first large block is
/// freed: blocks of 128 KiB and more (a `getAllProcessInfo` reply with hundreds of processes)
/// are then always mapped and unmapped on their own, and free memory at the top of the heap
/// beyond 128 KiB goes back to the kernel, so a burst of big replies does not stay resident.
pub fn tune_allocator() {
    #[cfg(target_env = "gnu")]
    // SAFETY: mallopt only sets the allocator's parameters; called before other threads exist.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 128 * 1024);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 128 * 1024);
    }
}

/// Return the free pages of the heap to the kernel (glibc's `malloc_trim`).
fn trim_heap() {
    #[cfg(target_env = "gnu")]
    // SAFETY: malloc_trim only walks the allocator's own free lists.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// The read-only mappings of files that hold only pages read from the file (`r-xp` and
/// `r--p` entries of `/proc/self/smaps` with no anonymous or swapped page): (start, length).
/// A read-only mapping with anonymous pages is one the loader wrote before protecting it
/// (relocations, RELRO): dropping its pages would bring back the file's unrelocated bytes, so
/// it is never listed.
pub fn file_page_mappings(smaps: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    // The mapping being read: its range, and whether it qualifies so far.
    let mut cur: Option<(usize, usize, bool)> = None;
    let flush = |cur: &mut Option<(usize, usize, bool)>, out: &mut Vec<(usize, usize)>| {
        if let Some((a, len, true)) = cur.take() {
            out.push((a, len));
        }
    };
    for line in smaps.lines() {
        let mut f = line.split_whitespace();
        let Some(first) = f.next() else { continue };
        if let Some((a, b)) = first.split_once('-') {
            let (Ok(a), Ok(b)) = (usize::from_str_radix(a, 16), usize::from_str_radix(b, 16))
            else {
                continue;
            };
            flush(&mut cur, &mut out);
            let perms = f.next().unwrap_or("");
            let file = f.nth(3).is_some_and(|p| p.starts_with('/'));
            cur = Some((
                a,
                b.saturating_sub(a),
                file && (perms == "r-xp" || perms == "r--p"),
            ));
        } else if (first == "Anonymous:" || first == "Swap:")
            && f.next() != Some("0")
            && let Some(c) = cur.as_mut()
        {
            c.2 = false;
        }
    }
    flush(&mut cur, &mut out);
    out.retain(|&(_, len)| len > 0);
    out
}

/// Let the daemon's memory go back to what it needs while nothing happens: give the heap's
/// free pages to the kernel, and unmap the resident pages of its read-only file mappings
/// (code, constants, the C library's), which a request or a spawn touched and an idle daemon
/// does not use. Those pages are never written: the next use reads them back from the page
/// cache (a minor fault), so nothing changes but what counts as the daemon's own.
pub fn shed_idle_pages() {
    trim_heap();
    let Ok(smaps) = std::fs::read_to_string("/proc/self/smaps") else {
        return;
    };
    for (start, len) in file_page_mappings(&smaps) {
        // SAFETY: the range is a whole private, read-only file mapping of this process with
        // no anonymous page; MADV_DONTNEED on it only unmaps pages that refault from the file
        // unchanged.
        unsafe {
            libc::madvise(start as *mut libc::c_void, len, libc::MADV_DONTNEED);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_pristine_read_only_file_mappings_are_shed() {
        let smaps = "\
55d0c0a00000-55d0c0b00000 r--p 00000000 08:01 1234 /usr/bin/supervisord
Rss:                 100 kB
Anonymous:             0 kB
Swap:                  0 kB
55d0c0b00000-55d0c0d00000 r-xp 00100000 08:01 1234 /usr/bin/supervisord
Anonymous:             0 kB
55d0c0d00000-55d0c0d10000 r--p 00300000 08:01 1234 /usr/bin/supervisord
Anonymous:            64 kB
Swap:                  0 kB
55d0c0d10000-55d0c0d20000 rw-p 00310000 08:01 1234 /usr/bin/supervisord
Anonymous:             4 kB
55d0c1000000-55d0c1100000 rw-p 00000000 00:00 0 [heap]
Anonymous:          2048 kB
7f0000000000-7f0000001000 r-xp 00000000 00:00 0 [vdso]
Anonymous:             0 kB
7f0000100000-7f0000200000 r-xp 00028000 08:01 99 /usr/lib/x86_64-linux-gnu/libc.so.6
Anonymous:             0 kB
7f0000200000-7f0000210000 r--p 00128000 08:01 99 /usr/lib/x86_64-linux-gnu/libc.so.6
Anonymous:             0 kB
Swap:                  8 kB
7f0000300000-7f0000301000 r-xp 00000000 00:00 0
VmFlags: rd ex
";
        assert_eq!(
            file_page_mappings(smaps),
            [
                (0x55d0c0a00000, 0x100000),
                (0x55d0c0b00000, 0x200000),
                (0x7f0000100000, 0x100000)
            ]
        );
    }

    #[test]
    fn sheds_own_pages_and_still_runs() {
        let before = file_page_mappings(&std::fs::read_to_string("/proc/self/smaps").unwrap());
        assert!(!before.is_empty());
        shed_idle_pages();
        // Code and constants come back on use.
        assert_eq!(format!("{}", 6 * 7), "42");
    }

    #[test]
    fn parses_stat_with_odd_comm() {
        assert_eq!(parse_ppid("42 (a) b (c)) S 7 42 42 0"), Some(7));
        assert_eq!(parse_ppid("1 (init) S 0 1 1"), Some(0));
        assert_eq!(parse_ppid("garbage"), None);
        assert_eq!(parse_statm_resident("100 25 3 1 0 20 0"), Some(25));
        let stat = "42 (a b) S 1 42 42 0 -1 4194560 100 0 0 0 7 3 0 0 20 0 1 0";
        assert_eq!(parse_cpu_ticks(stat), Some(10));
        assert_eq!(parse_cpu_ticks("42 (a) S 1"), None);
    }

    #[test]
    fn sums_a_tree() {
        let t = ProcTable::from_parts(&[(10, 1, 100), (11, 10, 20), (12, 11, 3), (13, 1, 1000)]);
        assert_eq!(t.tree_rss(10), 123);
        assert_eq!(t.tree_rss(11), 23);
        assert_eq!(t.tree_rss(13), 1000);
        assert_eq!(t.tree_rss(99), 0);
    }

    #[test]
    fn reads_our_own_process() {
        let t = ProcTable::scan();
        let me = std::process::id() as i32;
        assert!(t.tree_rss(me) > 0);
    }
}
