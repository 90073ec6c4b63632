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
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::{OsStrExt, OsStringExt};

use crate::config::model::ProcessConfig;

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
}

/// A freshly forked child: its pid and the parent's ends of its pipes (non-blocking, CLOEXEC).
#[derive(Debug)]
pub struct Spawned {
    pub pid: i32,
    /// Write end of the child's stdin; `None` when `stdin_socket` was given (fcgi).
    pub stdin: Option<OwnedFd>,
    /// Read end of the child's stdout (and stderr when `redirect_stderr`).
    pub stdout: OwnedFd,
    /// Read end of the child's stderr; `None` when `redirect_stderr`.
    pub stderr: Option<OwnedFd>,
}

/// Signals a child starts with ignored. Python ignores SIGPIPE and SIGXFSZ at startup and
/// supervisor 4.2.5 execs its children without resetting them, so its children inherit them
/// ignored (`SigIgn: 0000000001001000` in their `/proc/self/status`). We keep that so programs
/// behave as they did under the reference (e.g. get EPIPE rather than die of SIGPIPE).
pub const IGNORED_IN_CHILD: &[i32] = &[libc::SIGPIPE, libc::SIGXFSZ];

/// The reference's PATH when the daemon has no (or an empty) `PATH`.
const DEFAULT_PATH: &[&str] = &["/bin", "/usr/bin", "/usr/local/bin"];

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
    let pipes = make_pipes(req.stdin_socket.is_none(), !config.redirect_stderr).map_err(|e| {
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

    let plan = ChildPlan {
        stdin_fd: match req.stdin_socket {
            Some(fd) => fd,
            None => pipes.child_stdin.as_ref().map_or(-1, |f| f.as_raw_fd()),
        },
        stdout_fd: pipes.child_stdout.as_raw_fd(),
        stderr_fd: pipes
            .child_stderr
            .as_ref()
            .map_or(pipes.child_stdout.as_raw_fd(), |f| f.as_raw_fd()),
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

    // Block every signal in this thread across fork so no handler of the daemon can run in
    // the child before it has reset the dispositions.
    let mut old_mask = SigSet::empty();
    let full = SigSet::full();
    // SAFETY: plain libc calls on valid sigset_t values.
    unsafe {
        libc::pthread_sigmask(libc::SIG_SETMASK, &full.0, &mut old_mask.0);
    }
    // SAFETY: the child only runs `child::run`, which is async-signal-safe and never returns;
    // everything it touches was built above and outlives the call.
    let pid = unsafe { child::start(&plan) };
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

// ---------------------------------------------------------------------------------------------
// Command line: splitting and locating the program (pre-fork checks).
// ---------------------------------------------------------------------------------------------

/// Splits a command line like Python's `shlex.split(s)` (POSIX mode, no comments): blanks
/// (space, tab, CR, LF) separate words; single quotes are literal; in double quotes a
/// backslash escapes only `"` and `\`; outside quotes a backslash escapes any character;
/// `''` and `""` make (possibly empty) words. Errors are Python's `ValueError` texts.
pub fn split_command(s: &str) -> Result<Vec<String>, &'static str> {
    #[derive(Clone, Copy, PartialEq)]
    enum State {
        Blank,
        Word,
        Quote(char),
        Escape(Option<char>), // the quote the escape appeared in, None outside quotes
    }
    let is_blank = |c: char| matches!(c, ' ' | '\t' | '\r' | '\n');
    let mut words = Vec::new();
    let mut token = String::new();
    let mut quoted = false;
    let mut state = State::Blank;
    for c in s.chars() {
        match state {
            State::Blank => {
                if is_blank(c) {
                    continue;
                } else if c == '\\' {
                    state = State::Escape(None);
                } else if c == '\'' || c == '"' {
                    state = State::Quote(c);
                } else {
                    token.push(c);
                    state = State::Word;
                }
            }
            State::Quote(q) => {
                quoted = true;
                if c == q {
                    state = State::Word;
                } else if c == '\\' && q == '"' {
                    state = State::Escape(Some(q));
                } else {
                    token.push(c);
                }
            }
            State::Escape(within) => {
                if let Some(q) = within
                    && c != q
                    && c != '\\'
                {
                    token.push('\\');
                }
                token.push(c);
                state = match within {
                    Some(q) => State::Quote(q),
                    None => State::Word,
                };
            }
            State::Word => {
                if is_blank(c) {
                    if !token.is_empty() || quoted {
                        words.push(std::mem::take(&mut token));
                    }
                    quoted = false;
                    state = State::Blank;
                } else if c == '\'' || c == '"' {
                    state = State::Quote(c);
                } else if c == '\\' {
                    state = State::Escape(None);
                } else {
                    token.push(c);
                }
            }
        }
    }
    match state {
        State::Quote(_) => return Err("No closing quotation"),
        State::Escape(_) => return Err("No escaped character"),
        State::Word if !token.is_empty() || quoted => words.push(token),
        _ => {}
    }
    Ok(words)
}

/// The reference's `get_execv_args`: splits `command` and finds the file to exec. A program
/// containing `/` is used as is (relative to the daemon's working directory for the checks);
/// otherwise it is searched in `configured_path` (the `PATH` of the program's environment,
/// when set) or the daemon's `PATH`; the first entry that exists wins. Returns
/// `(filename, argv)`; `argv[0]` is the program as written.
pub fn get_execv_args(
    command: &str,
    configured_path: Option<&str>,
) -> Result<(String, Vec<String>), CommandError> {
    let argv = split_command(command).map_err(|e| {
        CommandError::NotExecutable(format!("can't parse command {}: {}", py_repr(command), e))
    })?;
    let program = match argv.first() {
        Some(p) => p.clone(),
        None => return Err(CommandError::NotExecutable("command is empty".to_string())),
    };

    let (filename, meta) = if program.contains('/') {
        let meta = std::fs::metadata(&program).ok();
        (program, meta)
    } else {
        let dirs: Vec<String> = match configured_path {
            Some(p) => p.split(':').map(str::to_string).collect(),
            None => match std::env::var_os("PATH") {
                Some(p) if !p.is_empty() => {
                    p.to_string_lossy().split(':').map(str::to_string).collect()
                }
                _ => DEFAULT_PATH.iter().map(|s| s.to_string()).collect(),
            },
        };
        let mut found = None;
        for dir in &dirs {
            let candidate = path_join(dir, &program);
            if let Ok(meta) = std::fs::metadata(&candidate) {
                found = Some((candidate, meta));
                break;
            }
        }
        match found {
            Some((f, m)) => (f, Some(m)),
            None => (program, None),
        }
    };
    check_execv_args(&filename, meta.as_ref())?;
    Ok((filename, argv))
}

/// Python's `os.path.join(dir, name)` for a `name` without `/`.
fn path_join(dir: &str, name: &str) -> String {
    if dir.is_empty() || dir.ends_with('/') {
        format!("{}{}", dir, name)
    } else {
        format!("{}/{}", dir, name)
    }
}

/// The reference's `check_execv_args`.
fn check_execv_args(filename: &str, meta: Option<&std::fs::Metadata>) -> Result<(), CommandError> {
    use std::os::unix::fs::PermissionsExt;
    let Some(meta) = meta else {
        return Err(CommandError::NotFound(format!(
            "can't find command {}",
            py_repr(filename)
        )));
    };
    if meta.is_dir() {
        return Err(CommandError::NotExecutable(format!(
            "command at {} is a directory",
            py_repr(filename)
        )));
    }
    if meta.permissions().mode() & 0o111 == 0 {
        return Err(CommandError::NotExecutable(format!(
            "command at {} is not executable",
            py_repr(filename)
        )));
    }
    let Ok(c) = CString::new(filename) else {
        return Err(CommandError::NotExecutable(format!(
            "no permission to run command {}",
            py_repr(filename)
        )));
    };
    // SAFETY: valid NUL-terminated path.
    if unsafe { libc::access(c.as_ptr(), libc::X_OK) } != 0 {
        return Err(CommandError::NotExecutable(format!(
            "no permission to run command {}",
            py_repr(filename)
        )));
    }
    Ok(())
}

pub use crate::config::values::py_repr;

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
    #[allow(dead_code)] // owns what argv_ptrs points to
    argv: Vec<CString>,
    argv_ptrs: Vec<*const libc::c_char>,
    #[allow(dead_code)] // owns what envp_ptrs points to
    envp: Vec<CString>,
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
            argv: argv_c,
            argv_ptrs,
            envp: envp_c,
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
    let Some((user_name, gid)) = passwd_by_uid(uid) else {
        return fail(&format!("Can't find uid {}", uid));
    };
    // SAFETY: getuid never fails.
    let current = unsafe { libc::getuid() };
    if current == uid {
        return Privileges::Keep;
    }
    if current != 0 {
        return fail("Can't drop privilege as nonroot user");
    }
    let mut groups = vec![gid];
    groups.extend(supplementary_groups(&user_name, gid));
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

/// (login name, primary gid) of a uid, from the password database.
fn passwd_by_uid(uid: u32) -> Option<(CString, libc::gid_t)> {
    let mut buf = vec![0 as libc::c_char; 4096];
    loop {
        // SAFETY: zeroed passwd is a valid out-parameter; buf is sized as passed.
        let mut pwd: libc::passwd = unsafe { std::mem::zeroed() };
        let mut result: *mut libc::passwd = std::ptr::null_mut();
        let rc =
            unsafe { libc::getpwuid_r(uid, &mut pwd, buf.as_mut_ptr(), buf.len(), &mut result) };
        if rc == libc::ERANGE && buf.len() < (1 << 20) {
            buf.resize(buf.len() * 2, 0);
            continue;
        }
        if rc != 0 || result.is_null() || pwd.pw_name.is_null() {
            return None;
        }
        // SAFETY: pw_name points into buf, NUL-terminated.
        let name = unsafe { std::ffi::CStr::from_ptr(pwd.pw_name) }.to_owned();
        return Some((name, pwd.pw_gid));
    }
}

/// The groups listing `user` as a member (plus `gid`), as the reference's `grp.getgrall()` scan.
fn supplementary_groups(user: &CString, gid: libc::gid_t) -> Vec<libc::gid_t> {
    let mut n: libc::c_int = 64;
    loop {
        let mut groups = vec![0 as libc::gid_t; n as usize];
        let mut count = n;
        // SAFETY: groups has room for `count` entries.
        let rc = unsafe { libc::getgrouplist(user.as_ptr(), gid, groups.as_mut_ptr(), &mut count) };
        if rc >= 0 {
            groups.truncate(count.max(0) as usize);
            return groups;
        }
        if count > n && count < 65536 {
            n = count;
        } else if n < 65536 {
            n *= 2;
        } else {
            return Vec::new();
        }
    }
}

/// The highest fd the child may have to close when `close_range` is unavailable.
fn max_fd() -> libc::c_int {
    // SAFETY: sysconf has no preconditions.
    let n = unsafe { libc::sysconf(libc::_SC_OPEN_MAX) };
    if n <= 0 {
        1024
    } else {
        n.min(1 << 20) as libc::c_int
    }
}

struct Pipes {
    stdin: Option<OwnedFd>,
    child_stdin: Option<OwnedFd>,
    stdout: OwnedFd,
    child_stdout: OwnedFd,
    stderr: Option<OwnedFd>,
    child_stderr: Option<OwnedFd>,
}

/// The reference's `make_pipes`: all fds CLOEXEC, the parent's ends non-blocking.
/// Returns the errno on failure (every fd made so far is closed).
fn make_pipes(with_stdin: bool, with_stderr: bool) -> Result<Pipes, i32> {
    fn pipe() -> Result<(OwnedFd, OwnedFd), i32> {
        let mut fds = [0 as libc::c_int; 2];
        // SAFETY: fds has room for two fds.
        if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
            return Err(std::io::Error::last_os_error()
                .raw_os_error()
                .unwrap_or(libc::EIO));
        }
        // SAFETY: pipe2 just returned these two fds, owned by nobody else.
        Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
    }
    fn nonblocking(fd: &OwnedFd) -> Result<(), i32> {
        // SAFETY: fcntl on an fd we own.
        unsafe {
            let flags = libc::fcntl(fd.as_raw_fd(), libc::F_GETFL);
            if flags < 0 || libc::fcntl(fd.as_raw_fd(), libc::F_SETFL, flags | libc::O_NONBLOCK) < 0
            {
                return Err(std::io::Error::last_os_error()
                    .raw_os_error()
                    .unwrap_or(libc::EIO));
            }
        }
        Ok(())
    }
    let (stdin, child_stdin) = if with_stdin {
        let (r, w) = pipe()?;
        nonblocking(&w)?;
        (Some(w), Some(r))
    } else {
        (None, None)
    };
    let (stdout, child_stdout) = pipe()?;
    nonblocking(&stdout)?;
    let (stderr, child_stderr) = if with_stderr {
        let (r, w) = pipe()?;
        nonblocking(&r)?;
        (Some(r), Some(w))
    } else {
        (None, None)
    };
    Ok(Pipes {
        stdin,
        child_stdin,
        stdout,
        child_stdout,
        stderr,
        child_stderr,
    })
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

/// Everything the child uses after fork, borrowed from storage that outlives the fork.
struct ChildPlan<'a> {
    /// Source fds for the child's 0, 1 and 2 (stdin may be -1: then fd 0 is left closed).
    stdin_fd: RawFd,
    stdout_fd: RawFd,
    stderr_fd: RawFd,
    max_fd: libc::c_int,
    sigrtmax: libc::c_int,
    privileges: &'a Privileges,
    directory: Option<&'a std::ffi::CStr>,
    chdir_msg_prefix: &'a [u8],
    umask: Option<libc::mode_t>,
    filename: *const libc::c_char,
    argv: *const *const libc::c_char,
    envp: *const *const libc::c_char,
    exec_msg_prefix: &'a [u8],
    exec_error: Option<&'a [u8]>,
}

// ---------------------------------------------------------------------------------------------
// After fork: async-signal-safe only.
// ---------------------------------------------------------------------------------------------

/// The code that runs in the child between `fork()` and `execve()`.
///
/// Rules here: only async-signal-safe libc calls, no allocation (no `format!`, `Vec`,
/// `String`, `CString::new`), no locks (no `println!`, no `std::env`), no panics; every
/// exit is `_exit`.
mod child {
    use super::{ChildPlan, IGNORED_IN_CHILD, Privileges};

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

    /// Start the child with `clone(CLONE_VM | CLONE_VFORK)`; returns its pid (or -1 with
    /// errno set) once it has exec'd or exited.
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
                libc::CLONE_VM | libc::CLONE_VFORK | libc::SIGCHLD,
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
            // Signal dispositions: default everywhere (the daemon's handlers must never run
            // here), except the ones a reference child inherits ignored. Then unblock all.
            let mut sa: libc::sigaction = std::mem::zeroed();
            libc::sigemptyset(&mut sa.sa_mask);
            for sig in 1..=plan.sigrtmax {
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

            // New process group (the reference's os.setpgrp()), so that stopasgroup and
            // killasgroup can signal -pid, and a Ctrl-C on the daemon's terminal doesn't
            // reach the children.
            libc::setpgid(0, 0);

            let mut none: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut none);
            libc::sigprocmask(libc::SIG_SETMASK, &none, std::ptr::null_mut());

            // stdio: first move the sources above 2 (one of them may itself be 0, 1 or 2 when
            // the daemon runs with closed stdio), then dup onto 0/1/2 (dup2 clears CLOEXEC).
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

            // user=
            match plan.privileges {
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

            // directory=
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::model::{LogTarget, StreamLogConfig};
    use crate::supervisor::reaper::{ExitStatus, wait_pid};

    fn stream() -> StreamLogConfig {
        StreamLogConfig {
            logfile: LogTarget::Auto,
            logfile_maxbytes: 50 * 1024 * 1024,
            logfile_backups: 10,
            capture_maxbytes: 0,
            events_enabled: false,
            syslog: false,
        }
    }

    fn config(command: &str) -> ProcessConfig {
        let mut c = ProcessConfig::for_test("test", command);
        c.stdout = stream();
        c.stderr = stream();
        c
    }

    fn request(config: &ProcessConfig) -> SpawnRequest<'_> {
        SpawnRequest {
            config,
            extra_env: vec![],
            stdin_socket: None,
        }
    }

    /// Reads a non-blocking fd to EOF (10 s at most).
    fn read_all(fd: &OwnedFd) -> String {
        let mut out = Vec::new();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            let mut buf = [0u8; 4096];
            let n = unsafe { libc::read(fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
            if n > 0 {
                out.extend_from_slice(&buf[..n as usize]);
                continue;
            }
            if n == 0 || std::time::Instant::now() > deadline {
                break;
            }
            let mut pfd = libc::pollfd {
                fd: fd.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            };
            unsafe { libc::poll(&mut pfd, 1, 100) };
        }
        String::from_utf8_lossy(&out).into_owned()
    }

    /// Spawns, collects stdout/stderr to EOF and the exit status.
    fn run(req: &SpawnRequest) -> (String, Option<String>, ExitStatus) {
        let s = spawn(req).expect("spawn");
        drop(s.stdin);
        let out = read_all(&s.stdout);
        let err = s.stderr.as_ref().map(read_all);
        let status = wait_pid(s.pid).expect("wait");
        (out, err, status)
    }

    fn temp_dir(tag: &str) -> std::path::PathBuf {
        let d = std::env::temp_dir().join(format!("spawn-test-{}-{}", tag, std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn splits_like_python_shlex() {
        let ok = |s: &str, want: &[&str]| {
            assert_eq!(split_command(s).unwrap(), want, "{:?}", s);
        };
        ok("a b", &["a", "b"]);
        ok(" a  \"b c\" ", &["a", "b c"]);
        ok("a 'b\\c' d", &["a", "b\\c", "d"]);
        ok("a \"b\\\"c\\d\\\\e\"", &["a", "b\"c\\d\\e"]);
        ok("a\\ b", &["a b"]);
        ok("x \"\" y", &["x", "", "y"]);
        ok("''", &[""]);
        ok("a\"b\"c", &["abc"]);
        ok("\\\\x", &["\\x"]);
        ok("foo\\\nbar", &["foo\nbar"]);
        ok("", &[]);
        assert_eq!(split_command("a\\"), Err("No escaped character"));
        assert_eq!(split_command("a \"b"), Err("No closing quotation"));
    }

    #[test]
    fn repr_like_python() {
        assert_eq!(py_repr("foo"), "'foo'");
        assert_eq!(py_repr("it's"), "\"it's\"");
        assert_eq!(py_repr("a'b\"c"), "'a\\'b\"c'");
        assert_eq!(py_repr("a\\b"), "'a\\\\b'");
        assert_eq!(py_repr("\u{1}\u{7f}\u{85}é"), "'\\x01\\x7f\\x85é'");
    }

    #[test]
    fn echo_hi_on_stdout() {
        let c = config("/bin/echo hi");
        let (out, err, st) = run(&request(&c));
        assert_eq!(out, "hi\n");
        assert_eq!(err.as_deref(), Some(""));
        assert_eq!(st, ExitStatus::Exited(0));
    }

    #[test]
    fn program_found_on_path_keeps_argv0() {
        let mut c = config("sh -c 'echo $0'");
        c.environment = vec![("PATH".into(), "/nonexistent:/bin:/usr/bin".into())];
        let (out, _, st) = run(&request(&c));
        assert_eq!(out, "sh\n");
        assert_eq!(st, ExitStatus::Exited(0));
    }

    #[test]
    fn stderr_separate_or_redirected() {
        let mut c = config("/bin/sh -c 'echo out; echo err >&2; exit 3'");
        let (out, err, st) = run(&request(&c));
        assert_eq!(out, "out\n");
        assert_eq!(err.as_deref(), Some("err\n"));
        assert_eq!(st, ExitStatus::Exited(3));

        c.redirect_stderr = true;
        let (out, err, _) = run(&request(&c));
        assert_eq!(out, "out\nerr\n");
        assert_eq!(err, None);
    }

    #[test]
    fn environment_layers_in_order() {
        let mut c = config("/usr/bin/env");
        c.environment = vec![
            ("FOO".into(), "program".into()),
            ("ONLY_PROG".into(), "p".into()),
        ];
        let mut req = request(&c);
        req.extra_env = vec![
            ("SUPERVISOR_ENABLED".into(), "1".into()),
            ("FOO".into(), "extra".into()),
            ("ONLY_EXTRA".into(), "e".into()),
        ];
        let (out, _, _) = run(&req);
        let lines: Vec<&str> = out.lines().collect();
        assert!(lines.contains(&"FOO=program"), "{}", out);
        assert!(lines.contains(&"ONLY_PROG=p"), "{}", out);
        assert!(lines.contains(&"ONLY_EXTRA=e"), "{}", out);
        assert!(lines.contains(&"SUPERVISOR_ENABLED=1"), "{}", out);
        assert_eq!(lines.iter().filter(|l| l.starts_with("FOO=")).count(), 1);
        if let Some(path) = std::env::var_os("PATH") {
            let want = format!("PATH={}", path.to_string_lossy());
            assert!(
                lines.contains(&want.as_str()),
                "daemon env inherited: {}",
                out
            );
        }
    }

    #[test]
    fn umask_and_directory_applied() {
        let dir = temp_dir("cwd");
        let mut c = config("/bin/sh -c 'umask; pwd'");
        c.umask = Some(0o027);
        c.directory = Some(dir.to_string_lossy().into_owned());
        let (out, _, st) = run(&request(&c));
        assert_eq!(out, format!("0027\n{}\n", dir.display()));
        assert_eq!(st, ExitStatus::Exited(0));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn missing_command_is_a_spawnerr() {
        let c = config("/nonexistent/foo --bar");
        assert_eq!(
            spawn(&request(&c)).unwrap_err(),
            "can't find command '/nonexistent/foo'"
        );
        let mut c = config("no-such-command-xyz");
        c.environment = vec![("PATH".into(), "/bin:/usr/bin".into())];
        assert_eq!(
            spawn(&request(&c)).unwrap_err(),
            "can't find command 'no-such-command-xyz'"
        );
        let c = config("   ");
        assert_eq!(spawn(&request(&c)).unwrap_err(), "command is empty");
        let c = config("/bin/echo 'oops");
        assert_eq!(
            spawn(&request(&c)).unwrap_err(),
            "can't parse command \"/bin/echo 'oops\": No closing quotation"
        );
    }

    #[test]
    fn not_executable_and_directory_are_spawnerrs() {
        use std::os::unix::fs::PermissionsExt;
        let dir = temp_dir("noexec");
        let file = dir.join("script");
        std::fs::write(&file, "#!/bin/sh\necho hi\n").unwrap();
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
        let c = config(&file.to_string_lossy());
        assert_eq!(
            spawn(&request(&c)).unwrap_err(),
            format!("command at '{}' is not executable", file.display())
        );
        let c = config(&dir.to_string_lossy());
        assert_eq!(
            spawn(&request(&c)).unwrap_err(),
            format!("command at '{}' is a directory", dir.display())
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn chdir_failure_reported_on_stderr_exit_127() {
        let mut c = config("/bin/echo hi");
        c.directory = Some("/nonexistent-dir-for-test".into());
        let (out, err, st) = run(&request(&c));
        assert_eq!(out, "");
        assert_eq!(
            err.as_deref(),
            Some(
                "supervisor: couldn't chdir to /nonexistent-dir-for-test: ENOENT\n\
                 supervisor: child process was not spawned\n"
            )
        );
        assert_eq!(st, ExitStatus::Exited(127));
    }

    #[test]
    fn exec_failure_reported_on_stderr_exit_127() {
        use std::os::unix::fs::PermissionsExt;
        let dir = temp_dir("noexecfmt");
        let file = dir.join("garbage");
        std::fs::write(&file, [0u8, 1, 2, 3, 4, 5, 6, 7]).unwrap();
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o755)).unwrap();
        let c = config(&format!("{} arg", file.display()));
        let (_, err, st) = run(&request(&c));
        assert_eq!(
            err.unwrap(),
            format!(
                "supervisor: couldn't exec {}: ENOEXEC\nsupervisor: child process was not spawned\n",
                file.display()
            )
        );
        assert_eq!(st, ExitStatus::Exited(127));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn child_leads_its_own_process_group() {
        let c = config("/bin/sleep 5");
        let s = spawn(&request(&c)).unwrap();
        let pgid = unsafe { libc::getpgid(s.pid) };
        let mine = unsafe { libc::getpgid(0) };
        crate::supervisor::reaper::send_signal(s.pid, libc::SIGKILL, true).unwrap();
        assert_eq!(
            wait_pid(s.pid),
            Ok(ExitStatus::Signaled {
                signal: libc::SIGKILL,
                core: false
            })
        );
        assert_eq!(pgid, s.pid);
        assert_ne!(pgid, mine);
    }

    #[test]
    fn parent_fds_nonblocking_cloexec_and_child_fds_closed() {
        let mut c = config("/bin/sh -c 'ls /proc/self/fd'");
        c.redirect_stderr = false;
        let s = spawn(&request(&c)).unwrap();
        for fd in [
            s.stdin.as_ref().unwrap(),
            &s.stdout,
            s.stderr.as_ref().unwrap(),
        ] {
            let fl = unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_GETFL) };
            let fdfl = unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_GETFD) };
            assert!(fl & libc::O_NONBLOCK != 0);
            assert!(fdfl & libc::FD_CLOEXEC != 0);
        }
        let out = read_all(&s.stdout);
        wait_pid(s.pid).unwrap();
        // 0, 1, 2 and the one `ls` opens on /proc/self/fd.
        let fds: Vec<&str> = out.lines().collect();
        assert!(fds.len() <= 4, "{:?}", fds);
        assert_eq!(&fds[..3], &["0", "1", "2"]);
    }

    #[test]
    fn signals_in_child_reset_and_parent_mask_restored() {
        extern "C" fn handler(_: libc::c_int) {}
        unsafe {
            // A handler in the "daemon": the child must not keep it.
            libc::signal(libc::SIGUSR2, handler as *const () as libc::sighandler_t);
        }
        let before = current_mask();
        // cat installs no handler of its own, so its SigCgt shows what exec left.
        let c = config("/bin/cat /proc/self/status");
        let (out, _, st) = run(&request(&c));
        assert_eq!(st, ExitStatus::Exited(0));
        assert!(out.contains("SigBlk:\t0000000000000000"), "{}", out);
        assert!(out.contains("SigIgn:\t0000000001001000"), "{}", out);
        assert!(out.contains("SigCgt:\t0000000000000000"), "{}", out);
        let after = current_mask();
        for sig in 1..32 {
            assert_eq!(
                unsafe { libc::sigismember(&before, sig) },
                unsafe { libc::sigismember(&after, sig) },
                "signal {}",
                sig
            );
        }
    }

    fn current_mask() -> libc::sigset_t {
        unsafe {
            let mut m: libc::sigset_t = std::mem::zeroed();
            libc::pthread_sigmask(libc::SIG_SETMASK, std::ptr::null(), &mut m);
            m
        }
    }

    #[test]
    fn fcgi_socket_becomes_stdin() {
        use std::io::Write;
        use std::os::unix::net::UnixStream;
        let (mut ours, theirs) = UnixStream::pair().unwrap();
        let c = config("/bin/cat");
        let req = SpawnRequest {
            config: &c,
            extra_env: vec![],
            stdin_socket: Some(theirs.as_raw_fd()),
        };
        let s = spawn(&req).unwrap();
        assert!(s.stdin.is_none());
        ours.write_all(b"via socket\n").unwrap();
        drop(ours);
        drop(theirs);
        assert_eq!(read_all(&s.stdout), "via socket\n");
        assert_eq!(wait_pid(s.pid), Ok(ExitStatus::Exited(0)));
    }

    #[test]
    fn user_switch_and_its_failures() {
        let is_root = unsafe { libc::getuid() } == 0;
        // An unknown uid fails in the child, as the reference's drop_privileges does.
        let mut c = config("/bin/echo hi");
        c.user = Some("ghost".into());
        c.uid = Some(3_999_999);
        let (out, err, st) = run(&request(&c));
        assert_eq!(out, "");
        assert_eq!(
            err.unwrap(),
            "supervisor: couldn't setuid to 3999999: Can't find uid 3999999\n\
             supervisor: child process was not spawned\n"
        );
        assert_eq!(st, ExitStatus::Exited(127));

        // Our own uid: nothing to do.
        let me = unsafe { libc::getuid() };
        let mut c = config("/bin/sh -c 'id -u'");
        c.uid = Some(me);
        let (out, _, _) = run(&request(&c));
        assert_eq!(out, format!("{}\n", me));

        if is_root && passwd_by_uid(65534).is_some() {
            let mut c = config("/bin/sh -c 'id -u; id -g'");
            c.uid = Some(65534);
            let (out, err, st) = run(&request(&c));
            let gid = passwd_by_uid(65534).unwrap().1;
            assert_eq!(out, format!("65534\n{}\n", gid), "{:?}", err);
            assert_eq!(st, ExitStatus::Exited(0));
        } else if !is_root && passwd_by_uid(0).is_some() {
            let mut c = config("/bin/echo hi");
            c.uid = Some(0);
            let (_, err, _) = run(&request(&c));
            assert!(err.unwrap().starts_with(
                "supervisor: couldn't setuid to 0: Can't drop privilege as nonroot user\n"
            ));
        }
    }
}

/// Why a program's command cannot be run, with the reference's reason text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CommandError {
    /// No such file (on `PATH`, for a bare name).
    NotFound(String),
    /// Anything else: not parseable, empty, a directory, not executable, no permission.
    NotExecutable(String),
}

impl std::fmt::Display for CommandError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CommandError::NotFound(why) | CommandError::NotExecutable(why) => f.write_str(why),
        }
    }
}

/// The check `startProcess` makes before spawning (the reference's `get_execv_args` there).
pub fn check_command(
    config: &ProcessConfig,
    daemon_env: &[(String, String)],
) -> Result<(), CommandError> {
    let configured_path = configured_path(config, daemon_env);
    get_execv_args(&config.command, configured_path.as_deref()).map(|_| ())
}

/// The PATH a command is looked up on: the last `PATH` of the program's `environment=`, else
/// of `[supervisord] environment=` (`daemon_env`); `None` means the daemon's own PATH.
fn configured_path(config: &ProcessConfig, daemon_env: &[(String, String)]) -> Option<String> {
    config
        .environment
        .iter()
        .rev()
        .chain(daemon_env.iter().rev())
        .find(|(k, _)| k == "PATH")
        .map(|(_, v)| v.clone())
}
