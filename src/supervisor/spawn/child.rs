//! The code that runs in the child between `fork()` and `execve()`.
//!
//! Rules here: only async-signal-safe libc calls, no allocation (no `format!`, `Vec`,
//! `String`, `CString::new`), no locks (no `println!`, no `std::env`), no panics; every
//! exit is `_exit`.

use std::os::fd::RawFd;

use super::{IGNORED_IN_CHILD, Privileges};

/// Everything the child uses after fork, borrowed from storage that outlives the fork.
pub(super) struct ChildPlan<'a> {
    /// Source fds for the child's 0, 1 and 2 (stdin may be -1: then fd 0 is left closed).
    pub(super) stdin_fd: RawFd,
    pub(super) stdout_fd: RawFd,
    pub(super) stderr_fd: RawFd,
    /// When positive, the child is cloned sharing the daemon's descriptor table and keeps
    /// only the descriptors under this bound, which hold its sources (see `pipes::in_slots`);
    /// otherwise it gets a copy of the whole table.
    pub(super) keep_below: RawFd,
    pub(super) max_fd: libc::c_int,
    pub(super) sigrtmax: libc::c_int,
    pub(super) privileges: &'a Privileges,
    pub(super) directory: Option<&'a std::ffi::CStr>,
    pub(super) chdir_msg_prefix: &'a [u8],
    pub(super) umask: Option<libc::mode_t>,
    pub(super) filename: *const libc::c_char,
    pub(super) argv: *const *const libc::c_char,
    pub(super) envp: *const *const libc::c_char,
    pub(super) exec_msg_prefix: &'a [u8],
    pub(super) exec_error: Option<&'a [u8]>,
}

/// A small stack buffer to assemble one error line, so it goes out in a single write.
struct Line {
    buf: [u8; 8192],
    len: usize,
}

impl Line {
    fn new() -> Self {
        Line {
            buf: [0; 8192],
            len: 0,
        }
    }
    fn push(&mut self, bytes: &[u8]) -> &mut Self {
        for &b in bytes {
            if self.len < self.buf.len() {
                self.buf[self.len] = b;
                self.len += 1;
            }
        }
        self
    }
    fn push_errno(&mut self, e: i32) -> &mut Self {
        match crate::util::errno::name(e) {
            Some(n) => self.push(n.as_bytes()),
            None => {
                let mut digits = [0u8; 12];
                let mut i = digits.len();
                let neg = e < 0;
                let mut v = (e as i64).unsigned_abs();
                loop {
                    i -= 1;
                    digits[i] = b'0' + (v % 10) as u8;
                    v /= 10;
                    if v == 0 {
                        break;
                    }
                }
                if neg {
                    i -= 1;
                    digits[i] = b'-';
                }
                self.push(&digits[i..])
            }
        }
    }
    fn write_stderr(&self) {
        write_all(2, &self.buf[..self.len]);
    }
}

fn write_all(fd: i32, mut bytes: &[u8]) {
    while !bytes.is_empty() {
        // SAFETY: write from a valid slice.
        let n = unsafe { libc::write(fd, bytes.as_ptr().cast(), bytes.len()) };
        if n < 0 {
            if errno() == libc::EINTR {
                continue;
            }
            return;
        }
        if n == 0 {
            return;
        }
        bytes = &bytes[n as usize..];
    }
}

fn errno() -> i32 {
    // SAFETY: reading the thread's errno.
    unsafe { *libc::__errno_location() }
}

/// The reference's `finally:` clause: say so on stderr and exit 127.
fn not_spawned() -> ! {
    write_all(2, b"supervisor: child process was not spawned\n");
    // SAFETY: _exit is async-signal-safe and never returns.
    unsafe { libc::_exit(127) }
}

/// The kernel's `struct sigaction` on the architectures whose layout we know.
#[cfg(all(
    target_os = "linux",
    any(target_arch = "x86_64", target_arch = "aarch64")
))]
#[repr(C)]
struct KernelSigaction {
    handler: libc::sighandler_t,
    flags: libc::c_ulong,
    restorer: usize,
    mask: u64,
}

/// Sets a disposition with the raw `rt_sigaction` system call (no handler, no flags).
unsafe fn reset_signal_raw(sig: libc::c_int, disposition: libc::sighandler_t) {
    #[cfg(all(
        target_os = "linux",
        any(target_arch = "x86_64", target_arch = "aarch64")
    ))]
    unsafe {
        let act = KernelSigaction {
            handler: disposition,
            flags: 0,
            restorer: 0,
            mask: 0,
        };
        libc::syscall(
            libc::SYS_rt_sigaction,
            sig,
            &act as *const KernelSigaction,
            std::ptr::null_mut::<KernelSigaction>(),
            8usize,
        );
    }
    #[cfg(not(all(
        target_os = "linux",
        any(target_arch = "x86_64", target_arch = "aarch64")
    )))]
    let _ = (sig, disposition);
}

/// The child's stack: the code below uses a few KiB (an 8 KiB error line at most).
const CHILD_STACK: usize = 64 * 1024;

/// Start the child with `clone(CLONE_VM | CLONE_VFORK)`, and `CLONE_FILES` when
/// `plan.keep_below` is set; returns its pid (or -1 with errno set) once it has exec'd or
/// exited.
///
/// # Safety
/// Every signal must be blocked in the calling thread, and `plan` must point at data that
/// outlives the call.
pub(super) unsafe fn start(plan: &ChildPlan) -> libc::pid_t {
    extern "C" fn entry(arg: *mut libc::c_void) -> libc::c_int {
        // SAFETY: `arg` is the `&ChildPlan` passed to clone below, alive until we exec.
        unsafe { run(&*(arg as *const ChildPlan)) }
    }
    // u128 keeps the stack 16-byte aligned, as the ABI wants. Left uninitialised (no
    // 64 KiB memset per spawn): only the child touches it, through the raw pointer.
    let mut stack: Vec<u128> = Vec::with_capacity(CHILD_STACK / 16);
    // SAFETY: the stack grows down from the end of the allocation; the parent does not run
    // until the child has exec'd or exited (CLONE_VFORK), so the stack and `plan` outlive
    // the child's use.
    unsafe {
        let top = stack.as_mut_ptr().add(stack.capacity()) as *mut libc::c_void;
        libc::clone(
            entry,
            top,
            libc::CLONE_VM
                | libc::CLONE_VFORK
                | if plan.keep_below > 0 {
                    libc::CLONE_FILES
                } else {
                    0
                }
                | libc::SIGCHLD,
            plan as *const ChildPlan as *mut libc::c_void,
        )
    }
}

/// Runs in the child; never returns.
///
/// # Safety
/// Must only be called in the child right after the clone, with every signal blocked,
/// and with `plan` pointing at data built before it.
pub(super) unsafe fn run(plan: &ChildPlan) -> ! {
    unsafe {
        if plan.keep_below > 0 {
            own_descriptor_table(plan.keep_below);
        }
        reset_signals(plan.sigrtmax);
        // New process group (the reference's os.setpgrp()), so that stopasgroup and
        // killasgroup can signal -pid, and a Ctrl-C on the daemon's terminal doesn't
        // reach the children.
        libc::setpgid(0, 0);
        let mut none: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut none);
        libc::sigprocmask(libc::SIG_SETMASK, &none, std::ptr::null_mut());

        set_up_stdio(plan);
        drop_privileges(plan.privileges);
        change_directory(plan);

        // umask=, then exec.
        if let Some(mask) = plan.umask {
            libc::umask(mask);
        }
        if let Some(msg) = plan.exec_error {
            write_all(2, msg);
            not_spawned();
        }
        libc::execve(plan.filename, plan.argv, plan.envp);
        let e = errno();
        let mut line = Line::new();
        line.push(plan.exec_msg_prefix).push_errno(e).push(b"\n");
        line.write_stderr();
        not_spawned();
    }
}

/// Stop sharing the daemon's descriptor table, keeping only the descriptors under `below`
/// (Linux 5.9's `CLOSE_RANGE_UNSHARE` copies no more than those); with an older kernel, take
/// a copy of the whole table. Nothing else touches a descriptor before this.
unsafe fn own_descriptor_table(below: RawFd) {
    unsafe {
        let unshared = libc::syscall(
            libc::SYS_close_range,
            below as u32,
            u32::MAX,
            libc::CLOSE_RANGE_UNSHARE,
        ) == 0;
        if !unshared && libc::syscall(libc::SYS_unshare, libc::CLONE_FILES) != 0 {
            // Still sharing: exit without writing anything (fd 2 is the daemon's).
            libc::_exit(127);
        }
    }
}

/// Signal dispositions: default everywhere (the daemon's handlers must never run here),
/// except the ones a reference child inherits ignored.
unsafe fn reset_signals(sigrtmax: libc::c_int) {
    unsafe {
        let mut sa: libc::sigaction = std::mem::zeroed();
        libc::sigemptyset(&mut sa.sa_mask);
        for sig in 1..=sigrtmax {
            if sig == libc::SIGKILL || sig == libc::SIGSTOP {
                continue;
            }
            sa.sa_sigaction = if IGNORED_IN_CHILD.contains(&sig) {
                libc::SIG_IGN
            } else {
                libc::SIG_DFL
            };
            if libc::sigaction(sig, &sa, std::ptr::null_mut()) != 0 {
                // glibc refuses its internal signals (32, 33); ask the kernel directly.
                reset_signal_raw(sig, sa.sa_sigaction);
            }
        }
    }
}

/// The pipes onto 0, 1 and 2; every other fd closed.
unsafe fn set_up_stdio(plan: &ChildPlan) {
    unsafe {
        // First move the sources above 2 (one of them may itself be 0, 1 or 2 when the daemon
        // runs with closed stdio), then dup onto 0/1/2 (dup2 clears CLOEXEC).
        let sources = [plan.stdin_fd, plan.stdout_fd, plan.stderr_fd];
        let mut high = [-1; 3];
        for (i, &src) in sources.iter().enumerate() {
            if src < 0 {
                continue;
            }
            high[i] = libc::fcntl(src, libc::F_DUPFD_CLOEXEC, 3);
            if high[i] < 0 {
                not_spawned();
            }
        }
        for (target, &src) in high.iter().enumerate() {
            if src < 0 {
                libc::close(target as i32);
                continue;
            }
            if libc::dup2(src, target as i32) < 0 {
                not_spawned();
            }
        }
        // Close everything else (the reference closes 3..minfds).
        if libc::syscall(libc::SYS_close_range, 3u32, u32::MAX, 0u32) != 0 {
            for fd in 3..plan.max_fd {
                libc::close(fd);
            }
        }
    }
}

/// `user=`: setgroups, setgid, setuid, or the failure line decided before the fork.
unsafe fn drop_privileges(privileges: &Privileges) {
    unsafe {
        match privileges {
            Privileges::Keep => {}
            Privileges::Fail(msg) => {
                write_all(2, msg);
                not_spawned();
            }
            Privileges::Drop {
                uid,
                gid,
                groups,
                groups_msg,
                gid_msg,
            } => {
                // Raw system calls: the child is a process of its own, with one thread,
                // while the C library's wrappers believe they run in the daemon (shared
                // memory) and would signal its threads to change theirs too.
                if libc::syscall(libc::SYS_setgroups, groups.len(), groups.as_ptr()) != 0 {
                    write_all(2, groups_msg);
                    not_spawned();
                }
                if libc::syscall(libc::SYS_setgid, *gid) != 0 {
                    write_all(2, gid_msg);
                    not_spawned();
                }
                if libc::syscall(libc::SYS_setuid, *uid) != 0 {
                    not_spawned();
                }
            }
        }
    }
}

/// `directory=` (an empty name, from a path with a NUL, fails as ENOENT).
unsafe fn change_directory(plan: &ChildPlan) {
    unsafe {
        if let Some(dir) = plan.directory
            && (dir.to_bytes().is_empty() || libc::chdir(dir.as_ptr()) != 0)
        {
            let e = if dir.to_bytes().is_empty() {
                libc::ENOENT
            } else {
                errno()
            };
            let mut line = Line::new();
            line.push(plan.chdir_msg_prefix).push_errno(e).push(b"\n");
            line.write_stderr();
            not_spawned();
        }
    }
}
