//! Spawning real children: exec, environment, PATH, fds, privileges and error texts.

use super::*;
use crate::config::model::{LogTarget, StreamLogConfig};
use crate::config::values::py_repr;
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
        discard_stdout: false,
        discard_stderr: false,
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
    let out = read_all(s.stdout.as_ref().unwrap());
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
        s.stdout.as_ref().unwrap(),
        s.stderr.as_ref().unwrap(),
    ] {
        let fl = unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_GETFL) };
        let fdfl = unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_GETFD) };
        assert!(fl & libc::O_NONBLOCK != 0);
        assert!(fdfl & libc::FD_CLOEXEC != 0);
    }
    let out = read_all(s.stdout.as_ref().unwrap());
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
        discard_stdout: false,
        discard_stderr: false,
    };
    let s = spawn(&req).unwrap();
    assert!(s.stdin.is_none());
    ours.write_all(b"via socket\n").unwrap();
    drop(ours);
    drop(theirs);
    assert_eq!(read_all(s.stdout.as_ref().unwrap()), "via socket\n");
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

    if is_root && users::user_by_uid(65534).is_some() {
        let mut c = config("/bin/sh -c 'id -u; id -g'");
        c.uid = Some(65534);
        let (out, err, st) = run(&request(&c));
        let gid = users::user_by_uid(65534).unwrap().gid;
        assert_eq!(out, format!("65534\n{}\n", gid), "{:?}", err);
        assert_eq!(st, ExitStatus::Exited(0));
    } else if !is_root && users::user_by_uid(0).is_some() {
        let mut c = config("/bin/echo hi");
        c.uid = Some(0);
        let (_, err, _) = run(&request(&c));
        assert!(err.unwrap().starts_with(
            "supervisor: couldn't setuid to 0: Can't drop privilege as nonroot user\n"
        ));
    }
}

#[test]
fn a_discarded_stream_is_dev_null_and_takes_no_pipe() {
    let mut c = config("/bin/sh");
    c.command = "/bin/sh -c 'exec 3>&1; readlink /proc/self/fd/3 >&2; echo lost'".into();
    let mut req = request(&c);
    req.discard_stdout = true;
    let s = spawn(&req).unwrap();
    assert!(s.stdout.is_none());
    let err = read_all(s.stderr.as_ref().unwrap());
    assert_eq!(err, "/dev/null\n");
    wait_pid(s.pid).unwrap();

    // With redirect_stderr, stderr follows stdout there.
    let d = temp_dir("discard");
    let file = d.join("fd2");
    c.command = format!(
        "/bin/sh -c 'exec 3>&2; readlink /proc/self/fd/3 > {}'",
        file.display()
    );
    c.redirect_stderr = true;
    let mut req = request(&c);
    req.discard_stdout = true;
    let s = spawn(&req).unwrap();
    assert!(s.stdout.is_none() && s.stderr.is_none());
    wait_pid(s.pid).unwrap();
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "/dev/null\n");
    let _ = std::fs::remove_dir_all(&d);

    // A discarded stderr alone: stdout is still a pipe.
    c.command = "/bin/sh -c 'exec 3>&2; readlink /proc/self/fd/3'".into();
    c.redirect_stderr = false;
    let mut req = request(&c);
    req.discard_stderr = true;
    let s = spawn(&req).unwrap();
    assert!(s.stderr.is_none());
    assert_eq!(read_all(s.stdout.as_ref().unwrap()), "/dev/null\n");
    wait_pid(s.pid).unwrap();
}
