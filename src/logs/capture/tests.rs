//! Sinks, readers and AUTO names against real pipes and files.

use std::os::fd::AsRawFd;
use std::sync::Arc;

use super::auto::is_auto_child_log_name;
use super::reader::{BIG_PIPE, CHUNK, PipeSize};
use super::*;
use crate::logs::mainlog::tests::capture_mainlog;
use crate::logs::rotate::tests::tempdir;

fn stream(capture: u64, events: bool) -> StreamLogConfig {
    StreamLogConfig {
        logfile: LogTarget::Auto,
        logfile_maxbytes: 0,
        logfile_backups: 0,
        capture_maxbytes: capture,
        events_enabled: events,
        syslog: false,
    }
}

pub(crate) fn sup(dir: &Path, level: LogLevel, strip: bool) -> SupervisordConfig {
    SupervisordConfig {
        logfile: LogTarget::None,
        logfile_maxbytes: 0,
        logfile_backups: 0,
        loglevel: level,
        pidfile: dir.join("pid"),
        umask: 0o22,
        nodaemon: true,
        silent: false,
        minfds: 1024,
        minprocs: 200,
        nocleanup: false,
        childlogdir: dir.to_path_buf(),
        user: None,
        directory: None,
        strip_ansi: strip,
        environment: vec![],
        identifier: "supervisor".into(),
        exit_on_fatal: false,
        memory_check_interval: 5,
        logformat: Default::default(),
    }
}

#[test]
fn memfind_and_prefix() {
    assert_eq!(memfind(b"abcabd", b"abd"), Some(3));
    assert_eq!(memfind(b"ab", b"abd"), None);
    assert_eq!(memfind(b"aaa", b"a"), Some(0));
    assert_eq!(memfind(b"xya", b"a"), Some(2));
    assert_eq!(memfind(b"xyz", b""), None);
    assert_eq!(prefix_at_end(b"hello<!--XSUP", BEGIN_TOKEN), 8);
    assert_eq!(prefix_at_end(b"hello", BEGIN_TOKEN), 0);
    assert_eq!(prefix_at_end(b"", BEGIN_TOKEN), 0);
}

#[test]
fn strip_ansi_like_reference() {
    assert_eq!(strip_ansi(b"\x1b[31mred\x1b[0m\n"), b"red\n");
    assert_eq!(strip_ansi(b"plain"), b"plain");
    assert_eq!(strip_ansi(b"a\x1b[1;2Hb"), b"ab");
    assert_eq!(strip_ansi(b"a\x1b[12"), b"a");
    assert_eq!(strip_ansi(b"\x1b["), b"");
    assert_eq!(strip_ansi(b"x\x1bq"), b"x\x1bq");
}

#[test]
fn capture_mode_extracts_communication() {
    let d = tempdir("capture");
    let s = sup(&d, LogLevel::Debug, false);
    let p = d.join("x.log");
    let comms = Arc::new(Mutex::new(Vec::new()));
    let logs = Arc::new(Mutex::new(Vec::new()));
    let main = capture_mainlog(LogLevel::Debug, || {
        let mut sink =
            OutputSink::new("x", Channel::Stdout, &stream(1000, true), Some(&p), &s).unwrap();
        let c = comms.clone();
        sink.on_communication = Some(Box::new(move |v| c.lock().unwrap().push(v)));
        let l = logs.clone();
        sink.on_log = Some(Box::new(move |v: &[u8]| l.lock().unwrap().push(v.to_vec())));
        // Tokens split across reads.
        sink.feed(b"hi\na<!--XSUPER");
        sink.feed(b"VISOR:BEGIN-->com");
        sink.feed(b"m<!--XSUPERVISOR:END-->b, and more text after it\n");
        sink.feed(b"\xff\xfebad\n");
        sink.finish();
    });
    assert_eq!(*comms.lock().unwrap(), vec![b"comm".to_vec()]);
    assert_eq!(
        std::fs::read(&p).unwrap(),
        b"hi\nab, and more text after it\n\xff\xfebad\n".to_vec()
    );
    let logged: Vec<u8> = logs.lock().unwrap().concat();
    assert_eq!(
        logged,
        b"hi\nacommb, and more text after it\n\xff\xfebad\n".to_vec()
    );
    assert!(
        main.contains(" DEBG 'x' stdout output:\nhi\na\n"),
        "{}",
        main
    );
    assert!(
        main.contains(" DEBG 'x' stdout emitted a comm event\n"),
        "{}",
        main
    );
    assert!(
        main.contains(" DEBG 'x' stdout output:\nUndecodable: b'\\xff\\xfebad\\n'\n"),
        "{}",
        main
    );
}

#[test]
fn plain_output_strip_and_no_echo_at_info() {
    let d = tempdir("plain");
    let s = sup(&d, LogLevel::Info, true);
    let p = d.join("y.log");
    let main = capture_mainlog(LogLevel::Info, || {
        let mut sink =
            OutputSink::new("y", Channel::Stderr, &stream(0, false), Some(&p), &s).unwrap();
        let rx = sink.subscribe();
        sink.feed(b"\x1b[32mgreen\x1b[0m <!--XSUPERVISOR:BEGIN--> kept\n");
        assert!(rx.has_changed().unwrap());
        assert_eq!(sink.bytes_written(), 36);
        sink.clear().unwrap();
        sink.feed(b"after\n");
    });
    assert_eq!(main, "");
    assert_eq!(std::fs::read(&p).unwrap(), b"after\n");
}

#[test]
fn auto_names_and_cleanup() {
    let d = tempdir("auto");
    let s = sup(&d, LogLevel::Info, false);
    let p = resolve_child_log_path(&LogTarget::Auto, "web", Channel::Stdout, &s)
        .unwrap()
        .unwrap();
    let n = p.file_name().unwrap().to_string_lossy().into_owned();
    assert!(
        n.starts_with("web-stdout---supervisor-") && n.ends_with(".log"),
        "{}",
        n
    );
    assert_eq!(n.len(), "web-stdout---supervisor-".len() + 8 + 4);
    assert!(p.exists());
    std::fs::write(d.join(format!("{}.1", n)), "").unwrap();
    std::fs::write(d.join("keep.log"), "").unwrap();
    std::fs::write(d.join("web-stdout---other-abc.log"), "").unwrap();
    assert!(is_auto_child_log_name("a---supervisor-x.log", "supervisor"));
    assert!(is_auto_child_log_name(
        "a---supervisor-x.logzz",
        "supervisor"
    ));
    assert!(!is_auto_child_log_name("---supervisor-x.log", "supervisor"));
    assert!(!is_auto_child_log_name("a---supervisor-.log", "supervisor"));
    assert!(!is_auto_child_log_name(
        "a---supervisor-x y.log",
        "supervisor"
    ));
    assert_eq!(clean_auto_child_logs(&d, "supervisor"), 2);
    let mut left: Vec<String> = std::fs::read_dir(&d)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    left.sort();
    assert_eq!(left, vec!["keep.log", "web-stdout---other-abc.log"]);
}

/// Pump 3 MB through `spawn_reader` into a sink on a rotating file (1 MB × 5 backups),
/// with events on or off; return the files' bytes in order, the bytes the sink counted,
/// what the PROCESS_LOG hook saw, and whether the sink could splice. With `chunks`, the
/// reader gets an `on_chunk` hook that collects what it is handed there.
fn pump_with(
    tag: &str,
    events: bool,
    chunks: Option<Arc<Mutex<Vec<u8>>>>,
) -> (Vec<u8>, u64, Vec<u8>, bool) {
    let d = tempdir(tag);
    let s = sup(&d, LogLevel::Info, false);
    let p = d.join("r.log");
    let mut cfg = stream(0, events);
    cfg.logfile_maxbytes = 1_000_000;
    cfg.logfile_backups = 5;
    let mut sink = OutputSink::new("r", Channel::Stdout, &cfg, Some(&p), &s).unwrap();
    let logged = Arc::new(Mutex::new(Vec::new()));
    let l = logged.clone();
    sink.on_log = Some(Box::new(move |v: &[u8]| {
        l.lock().unwrap().extend_from_slice(v)
    }));
    let spliced = sink.can_splice();
    let sink = Arc::new(Mutex::new(sink));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let total = rt.block_on(async {
        let (rd, wr) = crate::logs::rotate::tests::nonblocking_pipe();
        let on_chunk = chunks.map(|c| -> OnChunk {
            Box::new(move |v: &[u8]| c.lock().unwrap().extend_from_slice(v))
        });
        let task = spawn_reader(rd, sink.clone(), on_chunk);
        let writer = std::thread::spawn(move || {
            let mut wr = wr;
            for i in 0..30u8 {
                io::Write::write_all(&mut wr, &vec![b'a' + i % 26; 100_000]).unwrap();
            }
            io::Write::write_all(&mut wr, b"\xff end").unwrap();
        });
        task.await.unwrap();
        writer.join().unwrap();
        lock_sink(&sink).bytes_written()
    });
    let mut data = Vec::new();
    for i in (1..=5).rev() {
        data.extend(std::fs::read(d.join(format!("r.log.{}", i))).unwrap_or_default());
    }
    data.extend(std::fs::read(&p).unwrap());
    assert!(
        d.join("r.log.2").exists(),
        "3 MB rotate a 1 MB file at least twice"
    );
    let _ = std::fs::remove_dir_all(&d);
    let logged = logged.lock().unwrap().clone();
    (data, total, logged, spliced)
}

fn pump(tag: &str, events: bool) -> (Vec<u8>, u64, Vec<u8>, bool) {
    pump_with(tag, events, None)
}

fn pumped_bytes() -> Vec<u8> {
    let mut v: Vec<u8> = (0..30u8)
        .flat_map(|i| vec![b'a' + i % 26; 100_000])
        .collect();
    v.extend_from_slice(b"\xff end");
    v
}

#[test]
fn reader_task_splices_into_a_rotating_file() {
    let (data, total, logged, spliced) = pump("reader-splice", false);
    assert!(spliced);
    assert_eq!(total, 3_000_005);
    assert!(data == pumped_bytes());
    assert!(logged.is_empty());
}

/// With an `on_chunk` hook (an event listener's stdout), nothing is spliced past it: the
/// hook is handed every byte, in order, and the log file still gets them all.
#[test]
fn reader_task_hands_every_chunk_to_on_chunk() {
    let chunks = Arc::new(Mutex::new(Vec::new()));
    let (data, total, _, spliced) = pump_with("reader-hook", false, Some(chunks.clone()));
    assert!(spliced, "the sink alone could splice");
    assert_eq!(total, 3_000_005);
    assert!(data == pumped_bytes());
    assert!(*chunks.lock().unwrap() == pumped_bytes());
}

/// The end of a child's output closes its log file once the last bytes are in, whichever
/// path they took; SIGUSR2 and `clearProcessLogs` leave it closed.
#[test]
fn the_end_of_input_closes_the_log_file() {
    for (tag, events, format) in [
        ("close-splice", false, crate::config::OutputFormat::Raw),
        ("close-copy", true, crate::config::OutputFormat::Raw),
        ("close-format", false, crate::config::OutputFormat::Prefixed),
    ] {
        let d = tempdir(tag);
        let s = sup(&d, LogLevel::Info, false);
        let p = d.join("e.log");
        let mut sink =
            OutputSink::new("e", Channel::Stdout, &stream(0, events), Some(&p), &s).unwrap();
        sink.set_format(format);
        let sink = Arc::new(Mutex::new(sink));
        assert_eq!(crate::logs::rotate::tests::fds_on(&p), 1);
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let (rd, wr) = crate::logs::rotate::tests::nonblocking_pipe();
            let task = spawn_reader(rd, sink.clone(), None);
            let writer = std::thread::spawn(move || {
                let mut wr = wr;
                io::Write::write_all(&mut wr, &vec![b'x'; 300_000]).unwrap();
                io::Write::write_all(&mut wr, b"\nlast words, no newline").unwrap();
            });
            task.await.unwrap();
            writer.join().unwrap();
        });
        let mut s = lock_sink(&sink);
        assert!(!s.is_open(), "{}", tag);
        assert_eq!(crate::logs::rotate::tests::fds_on(&p), 0, "{}", tag);
        let text = std::fs::read(&p).unwrap();
        let tail = String::from_utf8_lossy(&text[text.len().saturating_sub(40)..]).into_owned();
        assert!(
            tail.contains("last words, no newline"),
            "{}: {:?}",
            tag,
            tail
        );
        assert_eq!(s.bytes_written(), text.len() as u64, "{}", tag);
        s.reopen().unwrap();
        s.clear().unwrap();
        assert!(!s.is_open() && p.exists(), "{}", tag);
        assert_eq!(crate::logs::rotate::tests::fds_on(&p), 0, "{}", tag);
        drop(s);
        let _ = std::fs::remove_dir_all(&d);
    }
}

#[test]
fn reader_task_copies_when_events_want_the_bytes() {
    let (data, total, logged, spliced) = pump("reader-copy", true);
    assert!(!spliced);
    assert_eq!(total, 3_000_005);
    assert!(data == pumped_bytes());
    assert_eq!(logged, data);
}

#[test]
fn splice_only_when_nothing_else_wants_the_bytes() {
    let d = tempdir("cansplice");
    let p = d.join("c.log");
    let info = sup(&d, LogLevel::Info, false);
    let ok = |st: &StreamLogConfig, sv: &SupervisordConfig, path: &Path| {
        OutputSink::new("c", Channel::Stdout, st, Some(path), sv)
            .unwrap()
            .can_splice()
    };
    assert!(ok(&stream(0, false), &info, &p));
    assert!(!ok(&stream(0, true), &info, &p), "PROCESS_LOG events");
    assert!(!ok(&stream(100, false), &info, &p), "capture mode");
    assert!(
        !ok(&stream(0, false), &sup(&d, LogLevel::Info, true), &p),
        "strip_ansi"
    );
    assert!(
        !ok(&stream(0, false), &sup(&d, LogLevel::Debug, false), &p),
        "DEBG echo"
    );
    assert!(
        !ok(&stream(0, false), &info, Path::new("/dev/null")),
        "not a regular file"
    );
    let mut syslog = stream(0, false);
    syslog.syslog = true;
    assert!(!ok(&syslog, &info, &p), "syslog");
    let mut named = stream(0, false);
    named.logfile = LogTarget::Path(p.clone());
    assert!(
        !ok(&named, &info, &p),
        "a named file (maybe shared with other writers)"
    );
    let mut formatted =
        OutputSink::new("c", Channel::Stdout, &stream(0, false), Some(&p), &info).unwrap();
    formatted.set_format(crate::config::OutputFormat::Prefixed);
    assert!(!formatted.can_splice(), "logformat");
    let none = OutputSink::new("c", Channel::Stdout, &stream(0, false), None, &info).unwrap();
    assert!(!none.can_splice(), "no file");

    // Allowed: the bytes go into the file and followers are woken.
    let mut sink =
        OutputSink::new("c", Channel::Stdout, &stream(0, false), Some(&p), &info).unwrap();
    let rx = sink.subscribe();
    let (rd, mut wr) = crate::logs::rotate::tests::nonblocking_pipe();
    io::Write::write_all(&mut wr, b"spliced\n").unwrap();
    assert_eq!(sink.splice_from(rd.as_raw_fd(), CHUNK).unwrap().unwrap(), 8);
    assert!(rx.has_changed().unwrap());
    assert_eq!(sink.bytes_written(), 8);
    assert_eq!(std::fs::read(&p).unwrap(), b"spliced\n");
    // Not allowed: None, and the bytes stay in the pipe for read + feed.
    let mut ev = OutputSink::new("c", Channel::Stdout, &stream(0, true), Some(&p), &info).unwrap();
    io::Write::write_all(&mut wr, b"copied\n").unwrap();
    assert!(ev.splice_from(rd.as_raw_fd(), CHUNK).is_none());
    let mut buf = [0u8; 16];
    assert_eq!(
        unsafe { libc::read(rd.as_raw_fd(), buf.as_mut_ptr() as *mut _, 16) },
        7
    );
    // A failed splice (here EINVAL: the source is not a pipe) sends this sink to the copy
    // path for good.
    let not_a_pipe = std::fs::File::open(&p).unwrap();
    assert!(sink.splice_from(not_a_pipe.as_raw_fd(), CHUNK).is_none());
    assert!(!sink.can_splice());
    assert_eq!(std::fs::read(&p).unwrap(), b"spliced\n");
    sink.feed(b"fed\n");
    assert_eq!(std::fs::read(&p).unwrap(), b"spliced\nfed\n");
}

#[test]
fn a_full_pipe_is_enlarged_once() {
    let (rd, _wr) = crate::logs::rotate::tests::nonblocking_pipe();
    let size = || unsafe { libc::fcntl(rd.as_raw_fd(), libc::F_GETPIPE_SZ) } as usize;
    let before = size();
    let mut ps = PipeSize::new(rd.as_raw_fd());
    assert_eq!(ps.splice_len(), CHUNK);
    ps.took(before - 1);
    assert_eq!(size(), before);
    ps.took(before);
    assert!(ps.big);
    assert_eq!(size(), BIG_PIPE);
    assert_eq!(ps.splice_len(), BIG_PIPE);
}

/// Throughput check (run with `cargo test --release logs:: -- --ignored --nocapture`):
/// a child writing 512 MiB through a pipe into an OutputSink, vs. `cat > file`.
#[test]
#[ignore]
fn bench_512mib_child_output() {
    use std::os::fd::OwnedFd;
    use std::process::{Command, Stdio};
    let d = tempdir("bench");
    let s = sup(&d, LogLevel::Info, false);
    let p = d.join("big.log");
    let sink = Arc::new(Mutex::new(
        OutputSink::new("big", Channel::Stdout, &stream(0, false), Some(&p), &s).unwrap(),
    ));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let t0 = std::time::Instant::now();
    rt.block_on(async {
        let mut child = Command::new("head")
            .args(["-c", "536870912", "/dev/zero"])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let out: OwnedFd = child.stdout.take().unwrap().into();
        spawn_reader(out, sink.clone(), None).await.unwrap();
        child.wait().unwrap();
    });
    let ours = t0.elapsed();
    assert_eq!(std::fs::metadata(&p).unwrap().len(), 536870912);
    let _ = std::fs::remove_file(&p);
    let t1 = std::time::Instant::now();
    let st = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "head -c 536870912 /dev/zero | cat > {}",
            p.display()
        ))
        .status()
        .unwrap();
    assert!(st.success());
    let cat = t1.elapsed();
    let _ = std::fs::remove_dir_all(&d);
    println!("sink: {:?}, cat: {:?}", ours, cat);
}
