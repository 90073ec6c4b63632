//! Spawning a child process for a `[program:x]` (fork/exec), as supervisor 4.2.5's
//! `Subprocess.spawn` does: split `command=` with POSIX shell-like rules, find the program on
//! the PATH, check it is an executable file (the pre-fork `spawnerr`s), make the stdio pipes,
//! fork, and in the child: new process group, pipes onto fds 0/1/2, every other fd closed,
//! drop privileges to `user=`, `chdir(directory)`, `umask`, `execve`.
//!
//! Everything the child needs is prepared before the fork (a [`ChildPlan`]); the code that runs
//! between the fork and `execve()` lives in [`child`] and only makes async-signal-safe system
//! calls on that pre-built data: no allocation, no locks, no panics.
//!
//! The fork is `clone(CLONE_VM | CLONE_VFORK)`, as `posix_spawn` does: the child runs on its
//! own small stack in the daemon's memory, and the daemon's thread waits until the child has
//! exec'd (or exited). No page tables are copied and the daemon takes no copy-on-write faults
//! afterwards, which is most of what a plain `fork()` costs when hundreds of programs start.
//! Nor is the descriptor table copied: the child shares it (`CLONE_FILES`) until its first
//! system call takes a table of its own with only the few lowest descriptors, where the
//! daemon put the child's three sources (`pipes::in_slots`).
//! Because the memory is shared, the child changes credentials with raw system calls (the C
//! library's `setuid` would try to reach the daemon's other threads), and writes nothing but
//! its own stack.
//!
//! Signals: all signals are blocked in the parent thread around the fork, so a signal arriving
//! in between can't run the daemon's handlers in the child. The child resets every disposition
//! (to what a Python 4.2.5 supervisord's child has: default, except SIGPIPE and SIGXFSZ ignored,
//! see [`IGNORED_IN_CHILD`]) and then unblocks everything; the parent restores its own mask.
//!
//! This module never reaps: exit statuses are collected by [`super::reaper`].

use std::ffi::{CString, OsStr, OsString};
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::{OsStrExt, OsStringExt};

use crate::config::model::ProcessConfig;
use crate::util::users;

mod child;
mod command;
mod pipes;
#[cfg(test)]
mod tests;

use child::ChildPlan;
use command::configured_path;
pub use command::{CommandError, check_command, get_execv_args, split_command};
use pipes::{Pipes, dev_null, in_slots, make_pipes, max_fd};

/// What to spawn, and what the caller adds to the child's environment.
pub struct SpawnRequest<'a> {
    pub config: &'a ProcessConfig,
    /// Environment to add on top of the daemon's own environment, before the program's own
    /// `environment=`: the caller passes `SUPERVISOR_ENABLED=1`, `SUPERVISOR_SERVER_URL`,
    /// `SUPERVISOR_PROCESS_NAME`, `SUPERVISOR_GROUP_NAME` then `[supervisord] environment=`
    /// (the reference's order). A later entry overrides an earlier one with the same name.
    pub extra_env: Vec<(String, String)>,
    /// For fcgi programs: a listening socket fd to install as the child's fd 0 (instead of the
    /// stdin pipe). It stays owned by the caller (it is neither closed nor moved).
    pub stdin_socket: Option<RawFd>,
    /// Nothing wants the child's stdout (and stderr with `redirect_stderr`): it writes to
    /// `/dev/null` instead of a pipe ([`ProcessConfig::discarded_output`]).
    pub discard_stdout: bool,
    /// The same for a separate stderr.
    pub discard_stderr: bool,
}

/// A freshly forked child: its pid and the parent's ends of its pipes (non-blocking, CLOEXEC).
#[derive(Debug)]
pub struct Spawned {
    pub pid: i32,
    /// Write end of the child's stdin; `None` when `stdin_socket` was given (fcgi).
    pub stdin: Option<OwnedFd>,
    /// Read end of the child's stdout (and stderr when `redirect_stderr`); `None` when it
    /// was discarded.
    pub stdout: Option<OwnedFd>,
    /// Read end of the child's stderr; `None` when `redirect_stderr` or discarded.
    pub stderr: Option<OwnedFd>,
}

/// Signals a child starts with ignored. Python ignores SIGPIPE and SIGXFSZ at startup and
/// supervisor 4.2.5 execs its children without resetting them, so its children inherit them
/// ignored (`SigIgn: 0000000001001000` in their `/proc/self/status`). We keep that so programs
/// behave as they did under the reference (e.g. get EPIPE rather than die of SIGPIPE).
pub const IGNORED_IN_CHILD: &[i32] = &[libc::SIGPIPE, libc::SIGXFSZ];

/// Spawns the program described by `req.config`. On success the child is forked (it may
/// still fail before or at `execve`: it then writes `supervisor: ...` to its stderr and exits
/// 127, as the reference's children do). On error no child exists and the message is the
/// reference's `spawnerr`.
pub fn spawn(req: &SpawnRequest) -> Result<Spawned, String> {
    let config = req.config;
    let name = config.name.as_str();

    // The environment the child will get: daemon's, then extra_env, then environment=.
    let mut env = EnvBuilder::from_daemon();
    for (k, v) in &req.extra_env {
        env.set(OsStr::new(k), OsStr::new(v));
    }
    let configured_path = configured_path(config, &req.extra_env);
    for (k, v) in &config.environment {
        env.set(OsStr::new(k), OsStr::new(v));
    }

    let (filename, argv) =
        get_execv_args(&config.command, configured_path.as_deref()).map_err(|e| e.to_string())?;

    let plan_parts = PlanParts::build(config, &filename, &argv, env);

    // Pipes (the reference's make_pipes / make_dispatchers).
    let pipes = make_pipes(
        req.stdin_socket.is_none(),
        !req.discard_stdout,
        !config.redirect_stderr && !req.discard_stderr,
    )
    .map_err(|e| {
        if e == libc::EMFILE {
            format!("too many open files to spawn '{}'", name)
        } else {
            format!(
                "unknown error making dispatchers for '{}': {}",
                name,
                crate::util::errno::errorcode(e)
            )
        }
    })?;

    let null = || {
        dev_null().ok_or_else(|| format!("unknown error making dispatchers for '{}': ENOENT", name))
    };
    let stdout_fd = match &pipes.child_stdout {
        Some(f) => f.as_raw_fd(),
        None => null()?,
    };
    let stderr_fd = match &pipes.child_stderr {
        Some(f) => f.as_raw_fd(),
        None if config.redirect_stderr => stdout_fd,
        None => null()?,
    };
    let stdin_fd = match req.stdin_socket {
        Some(fd) => fd,
        None => pipes.child_stdin.as_ref().map_or(-1, |f| f.as_raw_fd()),
    };
    let (pid, fork_errno) = in_slots([stdin_fd, stdout_fd, stderr_fd], |given, below| {
        let plan = ChildPlan {
            stdin_fd: given[0],
            stdout_fd: given[1],
            stderr_fd: given[2],
            keep_below: below,
            max_fd: max_fd(),
            sigrtmax: libc::SIGRTMAX(),
            privileges: &plan_parts.privileges,
            directory: plan_parts.directory.as_deref(),
            chdir_msg_prefix: &plan_parts.chdir_msg_prefix,
            umask: config.umask.map(|m| m as libc::mode_t),
            filename: plan_parts.filename.as_ptr(),
            argv: plan_parts.argv_ptrs.as_ptr(),
            envp: plan_parts.envp_ptrs.as_ptr(),
            exec_msg_prefix: &plan_parts.exec_msg_prefix,
            exec_error: plan_parts.exec_error.as_deref(),
        };
        fork(&plan)
    });
    if pid < 0 {
        return Err(if fork_errno == libc::EAGAIN {
            format!("Too many processes in process table to spawn '{}'", name)
        } else {
            format!(
                "unknown error during fork for '{}': {}",
                name,
                crate::util::errno::errorcode(fork_errno)
            )
        });
        // `pipes` is dropped on return: both ends closed, as the reference's close_*_pipes.
    }
    // Parent: close the child's ends, keep ours.
    let Pipes {
        stdin,
        stdout,
        stderr,
        ..
    } = pipes;
    Ok(Spawned {
        pid,
        stdin,
        stdout,
        stderr,
    })
}

/// Start the child on `plan` with every signal blocked in this thread across the fork, so no
/// handler of the daemon can run in the child before it has reset the dispositions. Returns
/// the pid (or -1) and the errno of a failed fork.
fn fork(plan: &ChildPlan) -> (libc::pid_t, i32) {
    let mut old_mask = SigSet::empty();
    let full = SigSet::full();
    // SAFETY: plain libc calls on valid sigset_t values.
    unsafe {
        libc::pthread_sigmask(libc::SIG_SETMASK, &full.0, &mut old_mask.0);
    }
    // SAFETY: the child only runs `child::run`, which is async-signal-safe and never returns;
    // everything it touches was built by the caller and outlives the call.
    let pid = unsafe { child::start(plan) };
    let fork_errno = std::io::Error::last_os_error().raw_os_error().unwrap_or(0);
    if pid > 0 {
        // Also make the group from this side (the child does too), so that a group signal
        // sent right after spawn() returns can't miss a child that hasn't run yet. Fails
        // harmlessly (EACCES) when the child has already exec'd.
        // SAFETY: setpgid has no memory-safety preconditions.
        unsafe {
            libc::setpgid(pid, pid);
        }
    }
    // SAFETY: restores the mask saved above.
    unsafe {
        libc::pthread_sigmask(libc::SIG_SETMASK, &old_mask.0, std::ptr::null_mut());
    }
    (pid, fork_errno)
}

// ---------------------------------------------------------------------------------------------
// Pre-fork preparation.
// ---------------------------------------------------------------------------------------------

/// An ordered environment: inherited order kept, overriding a name keeps its position
/// (as Python's `dict.update` on `os.environ.copy()`).
struct EnvBuilder {
    vars: Vec<(OsString, OsString)>,
}

impl EnvBuilder {
    fn from_daemon() -> Self {
        let mut b = EnvBuilder { vars: Vec::new() };
        for (k, v) in std::env::vars_os() {
            b.set(&k, &v);
        }
        b
    }

    fn set(&mut self, k: &OsStr, v: &OsStr) {
        if let Some(slot) = self.vars.iter_mut().find(|(name, _)| name == k) {
            slot.1 = v.to_os_string();
        } else {
            self.vars.push((k.to_os_string(), v.to_os_string()));
        }
    }
}

/// What to do about `user=` in the child, decided before fork (the reference's
/// `drop_privileges`, whose lookups are not async-signal-safe).
enum Privileges {
    /// No `user=`, or already running as that uid.
    Keep,
    /// setgroups(groups), setgid(gid), setuid(uid), each failure with its message.
    Drop {
        uid: libc::uid_t,
        gid: libc::gid_t,
        groups: Vec<libc::gid_t>,
        groups_msg: Vec<u8>,
        gid_msg: Vec<u8>,
    },
    /// The child writes this (`supervisor: couldn't setuid to ...`) and exits 127.
    Fail(Vec<u8>),
}

/// Owned storage behind the raw pointers of a [`ChildPlan`].
struct PlanParts {
    filename: CString,
    /// Owns what `argv_ptrs` points to.
    _argv: Vec<CString>,
    argv_ptrs: Vec<*const libc::c_char>,
    /// Owns what `envp_ptrs` points to.
    _envp: Vec<CString>,
    envp_ptrs: Vec<*const libc::c_char>,
    privileges: Privileges,
    directory: Option<CString>,
    chdir_msg_prefix: Vec<u8>,
    exec_msg_prefix: Vec<u8>,
    /// Set when the exec arguments can't be passed to execve (an embedded NUL, a `=` in a
    /// variable name): the child writes it and exits 127, like the reference's child does
    /// on Python's ValueError.
    exec_error: Option<Vec<u8>>,
}

impl PlanParts {
    fn build(
        config: &ProcessConfig,
        filename: &str,
        argv: &[String],
        env: EnvBuilder,
    ) -> PlanParts {
        let mut exec_error = None;
        let nul_msg = |what: &str| {
            format!(
                "supervisor: couldn't exec {}: <class 'ValueError'>, {}\n",
                filename, what
            )
            .into_bytes()
        };
        let filename_c = match CString::new(filename) {
            Ok(c) => c,
            Err(_) => {
                exec_error = Some(nul_msg("embedded null byte"));
                CString::default()
            }
        };
        let mut argv_c = Vec::with_capacity(argv.len());
        for a in argv {
            match CString::new(a.as_str()) {
                Ok(c) => argv_c.push(c),
                Err(_) => {
                    exec_error.get_or_insert_with(|| nul_msg("embedded null byte"));
                }
            }
        }
        let mut envp_c = Vec::with_capacity(env.vars.len());
        for (k, v) in env.vars {
            if k.is_empty() || k.as_bytes().contains(&b'=') {
                exec_error.get_or_insert_with(|| nul_msg("illegal environment variable name"));
                continue;
            }
            let mut kv = k.into_vec();
            kv.push(b'=');
            kv.extend_from_slice(v.as_bytes());
            match CString::new(kv) {
                Ok(c) => envp_c.push(c),
                Err(_) => {
                    exec_error.get_or_insert_with(|| nul_msg("embedded null byte"));
                }
            }
        }
        let mut argv_ptrs: Vec<*const libc::c_char> = argv_c.iter().map(|c| c.as_ptr()).collect();
        argv_ptrs.push(std::ptr::null());
        let mut envp_ptrs: Vec<*const libc::c_char> = envp_c.iter().map(|c| c.as_ptr()).collect();
        envp_ptrs.push(std::ptr::null());

        let directory = match &config.directory {
            Some(d) => match CString::new(d.as_str()) {
                Ok(c) => Some(c),
                // Can't chdir to a path with a NUL; let the child report it as chdir does.
                Err(_) => Some(CString::default()),
            },
            None => None,
        };
        let chdir_msg_prefix = format!(
            "supervisor: couldn't chdir to {}: ",
            config.directory.as_deref().unwrap_or("")
        )
        .into_bytes();
        let exec_msg_prefix = format!(
            "supervisor: couldn't exec {}: ",
            argv.first().map_or("", |s| s.as_str())
        )
        .into_bytes();

        PlanParts {
            filename: filename_c,
            _argv: argv_c,
            argv_ptrs,
            _envp: envp_c,
            envp_ptrs,
            privileges: privileges_for(config.uid),
            directory,
            chdir_msg_prefix,
            exec_msg_prefix,
            exec_error,
        }
    }
}

/// The reference's `drop_privileges(uid)`, decided before fork.
fn privileges_for(uid: Option<u32>) -> Privileges {
    let Some(uid) = uid else {
        return Privileges::Keep;
    };
    let fail = |why: &str| {
        Privileges::Fail(format!("supervisor: couldn't setuid to {}: {}\n", uid, why).into_bytes())
    };
    let Some(user) = users::user_by_uid(uid) else {
        return fail(&format!("Can't find uid {}", uid));
    };
    let gid = user.gid;
    // SAFETY: getuid never fails.
    let current = unsafe { libc::getuid() };
    if current == uid {
        return Privileges::Keep;
    }
    if current != 0 {
        return fail("Can't drop privilege as nonroot user");
    }
    // The reference's `[gid] + [groups listing the user]`, each once.
    let groups = users::group_list(&user.name, gid);
    Privileges::Drop {
        uid,
        gid,
        groups,
        groups_msg: format!(
            "supervisor: couldn't setuid to {}: Could not set groups of effective user\n",
            uid
        )
        .into_bytes(),
        gid_msg: format!(
            "supervisor: couldn't setuid to {}: Could not set group id of effective user\n",
            uid
        )
        .into_bytes(),
    }
}

struct SigSet(libc::sigset_t);

impl SigSet {
    fn empty() -> Self {
        // SAFETY: sigemptyset initializes the set.
        unsafe {
            let mut s: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut s);
            SigSet(s)
        }
    }
    fn full() -> Self {
        // SAFETY: sigfillset initializes the set.
        unsafe {
            let mut s: libc::sigset_t = std::mem::zeroed();
            libc::sigfillset(&mut s);
            SigSet(s)
        }
    }
}
