//! The daemon's own log ("main log"): a `tracing` layer that renders each event exactly as
//! supervisor 4.2.5 does (`2026-11-24 15:35:48,123 INFO spawned: 'x' with pid 5`: local time,
//! comma milliseconds, 4-letter level name) and writes it to stdout (foreground, not silent),
//! to the `logfile` (a [`RotatingFile`]) or to syslog, filtered by `loglevel`.
//!
//! The reference's seven levels map onto tracing's five: CRIT is ERROR with target
//! [`CRIT_TARGET`], BLAT is TRACE with target [`BLATHER_TARGET`]; use the crate's `log_*!`
//! macros (see `logs`). Only events whose target is inside this crate are written; other
//! fields than the message are ignored so lines stay byte-exact.
//!
//! `init` may be called again (restart on SIGHUP): the global subscriber is installed once and
//! its sinks and level are replaced.

use std::io::{self, Write};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::{SystemTime, UNIX_EPOCH};

use tokio::sync::watch;
use tracing::field::{Field, Visit};
use tracing::{Event, Metadata, Subscriber};
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::prelude::*;

use crate::config::{LogLevel, LogTarget, SupervisordConfig};
use crate::logs::ReadError;
use crate::logs::rotate::RotatingFile;

/// Target of plain events from our macros (the crate's name).
pub const TARGET: &str = env!("CARGO_CRATE_NAME");
/// Target marking an ERROR event as the reference's CRIT.
pub const CRIT_TARGET: &str = concat!(env!("CARGO_CRATE_NAME"), "::crit");
/// Target marking a TRACE event as the reference's BLAT.
pub const BLATHER_TARGET: &str = concat!(env!("CARGO_CRATE_NAME"), "::blather");

/// The reference's level name as it appears in log lines.
pub fn level_name(level: LogLevel) -> &'static str {
    match level {
        LogLevel::Critical => "CRIT",
        LogLevel::Error => "ERRO",
        LogLevel::Warn => "WARN",
        LogLevel::Info => "INFO",
        LogLevel::Debug => "DEBG",
        LogLevel::Trace => "TRAC",
        LogLevel::Blather => "BLAT",
    }
}

fn level_to_u8(l: LogLevel) -> u8 {
    l as u8
}

fn level_from_u8(v: u8) -> LogLevel {
    match v {
        0 => LogLevel::Critical,
        1 => LogLevel::Error,
        2 => LogLevel::Warn,
        3 => LogLevel::Info,
        4 => LogLevel::Debug,
        5 => LogLevel::Trace,
        _ => LogLevel::Blather,
    }
}

/// The reference level of a tracing event, or `None` for events from other crates.
fn event_level(meta: &Metadata<'_>) -> Option<LogLevel> {
    let target = meta.target();
    if !(target == TARGET || target.starts_with(concat!(env!("CARGO_CRATE_NAME"), "::"))) {
        return None;
    }
    Some(match *meta.level() {
        tracing::Level::ERROR if target == CRIT_TARGET => LogLevel::Critical,
        tracing::Level::ERROR => LogLevel::Error,
        tracing::Level::WARN => LogLevel::Warn,
        tracing::Level::INFO => LogLevel::Info,
        tracing::Level::DEBUG => LogLevel::Debug,
        tracing::Level::TRACE if target == BLATHER_TARGET => LogLevel::Blather,
        tracing::Level::TRACE => LogLevel::Trace,
    })
}

/// `%Y-%m-%d %H:%M:%S,mmm` in local time, as the reference's `asctime`.
pub fn asctime(now: SystemTime) -> String {
    let d = now.duration_since(UNIX_EPOCH).unwrap_or_default();
    let ms = d.subsec_millis();
    let Some(tm) = crate::util::time::local_tm(d.as_secs() as i64) else {
        return format!("1970-01-01 00:00:00,{:03}", ms);
    };
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02},{:03}",
        tm.tm_year as i64 + 1900,
        tm.tm_mon + 1,
        tm.tm_mday,
        tm.tm_hour,
        tm.tm_min,
        tm.tm_sec,
        ms
    )
}

/// One full line: `asctime LEVL message\n`.
pub fn format_line(level: LogLevel, message: &str, now: SystemTime) -> String {
    let mut s = asctime(now);
    s.reserve(message.len() + 7);
    s.push(' ');
    s.push_str(level_name(level));
    s.push(' ');
    s.push_str(message);
    s.push('\n');
    s
}

struct Sinks {
    file: Option<RotatingFile>,
    path: Option<PathBuf>,
    stdout: bool,
    syslog: bool,
    /// For tests: every line also lands here.
    memory: Option<Vec<u8>>,
    /// `[supervisord] logformat=` (beyond the reference; the default is the reference's line).
    format: crate::config::MainLogFormat,
}

struct Shared {
    level: AtomicU8,
    sinks: Mutex<Sinks>,
    written: watch::Sender<u64>,
}

impl Shared {
    fn new(level: LogLevel, sinks: Sinks) -> Self {
        Shared {
            level: AtomicU8::new(level_to_u8(level)),
            sinks: Mutex::new(sinks),
            written: watch::Sender::new(0),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Sinks> {
        self.sinks.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn enabled(&self, level: LogLevel) -> bool {
        level <= level_from_u8(self.level.load(Ordering::Relaxed))
    }

    /// Write one record to every sink (stdout first, then the file, as the reference's
    /// handler order). Errors are swallowed: a log must never take the daemon down.
    fn emit(&self, level: LogLevel, message: &str) {
        if !self.enabled(level) {
            return;
        }
        let now = SystemTime::now();
        let mut s = self.lock();
        let line = super::format::main_line(s.format, level, message, now);
        if s.stdout {
            let out = io::stdout();
            let mut out = out.lock();
            let _ = out.write_all(line.as_bytes());
            let _ = out.flush();
        }
        if let Some(f) = s.file.as_mut()
            && f.write(line.as_bytes()).is_ok()
        {
            self.written.send_modify(|n| *n += line.len() as u64);
        }
        if s.syslog {
            super::syslog::main_log(&asctime(now), level_name(level), message);
        }
        if let Some(m) = s.memory.as_mut() {
            m.extend_from_slice(line.as_bytes());
        }
    }
}

/// The tracing layer writing reference-format lines.
struct MainLogLayer {
    shared: Arc<Shared>,
}

#[derive(Default)]
struct MessageVisitor {
    message: Option<String>,
}

impl Visit for MessageVisitor {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message = Some(value.to_owned());
        }
    }
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            self.message = Some(format!("{:?}", value));
        }
    }
}

impl<S: Subscriber> Layer<S> for MainLogLayer {
    fn register_callsite(
        &self,
        _meta: &'static Metadata<'static>,
    ) -> tracing::subscriber::Interest {
        // The level can change at re-init: ask `enabled` every time.
        tracing::subscriber::Interest::sometimes()
    }

    fn enabled(&self, meta: &Metadata<'_>, _ctx: Context<'_, S>) -> bool {
        match event_level(meta) {
            Some(l) => self.shared.enabled(l),
            None => false,
        }
    }

    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let Some(level) = event_level(event.metadata()) else {
            return;
        };
        let mut v = MessageVisitor::default();
        event.record(&mut v);
        self.shared.emit(level, v.message.as_deref().unwrap_or(""));
    }
}

/// Control of the installed main log: SIGUSR2 reopen, `clearLog`, the path for `readLog`, and
/// a counter of bytes written to the file for `/mainlogtail`-style followers.
#[derive(Clone)]
pub struct MainLogHandle {
    shared: Arc<Shared>,
}

impl MainLogHandle {
    /// The log file's path (`None` for syslog or no file); what `readLog` reads.
    pub fn path(&self) -> Option<PathBuf> {
        self.shared.lock().path.clone()
    }

    /// SIGUSR2: logs `supervisord logreopen` (INFO), then closes and reopens the file.
    pub fn reopen(&self) -> io::Result<()> {
        self.shared.emit(LogLevel::Info, "supervisord logreopen");
        let mut s = self.shared.lock();
        match s.file.as_mut() {
            Some(f) => f.reopen(),
            None => Ok(()),
        }
    }

    /// `clearLog`: `NO_FILE` when there is no log file on disk, `FAILED` if it cannot be
    /// removed; otherwise removes it, logs `reopening log file` (INFO) once per handler as the
    /// reference does (these lines go to stdout and the removed file), and reopens the path,
    /// leaving an empty log.
    pub fn clear(&self) -> Result<(), ReadError> {
        let Some(path) = self.path() else {
            return Err(ReadError::NoFile);
        };
        if !path.exists() {
            return Err(ReadError::NoFile);
        }
        std::fs::remove_file(&path).map_err(|_| ReadError::Failed)?;
        let handlers = {
            let s = self.shared.lock();
            s.stdout as usize + s.file.is_some() as usize
        };
        for _ in 0..handlers {
            self.shared.emit(LogLevel::Info, "reopening log file");
        }
        let mut s = self.shared.lock();
        match s.file.as_mut() {
            Some(f) => f.reopen().map_err(|_| ReadError::Failed),
            None => Ok(()),
        }
    }

    /// A receiver whose value (bytes written to the file so far) changes on every write.
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.shared.written.subscribe()
    }
}

static GLOBAL: OnceLock<Arc<Shared>> = OnceLock::new();

fn make_sinks(cfg: &SupervisordConfig, to_stdout: bool) -> io::Result<Sinks> {
    let mut sinks = Sinks {
        file: None,
        path: None,
        stdout: to_stdout,
        syslog: false,
        memory: None,
        format: cfg.logformat,
    };
    match &cfg.logfile {
        LogTarget::Path(p) => {
            sinks.file = Some(RotatingFile::open(
                p,
                cfg.logfile_maxbytes,
                cfg.logfile_backups,
            )?);
            sinks.path = Some(p.clone());
        }
        LogTarget::Syslog => sinks.syslog = true,
        LogTarget::None | LogTarget::Auto => {}
    }
    Ok(sinks)
}

/// Open the main log per `[supervisord]` (`logfile`, `logfile_maxbytes`, `logfile_backups`,
/// `loglevel`) and, when `to_stdout`, echo every line to stdout. Installs the global tracing
/// subscriber on the first call; later calls replace the sinks and level.
pub fn init(cfg: &SupervisordConfig, to_stdout: bool) -> io::Result<MainLogHandle> {
    let sinks = make_sinks(cfg, to_stdout)?;
    if let Some(shared) = GLOBAL.get() {
        *shared.lock() = sinks;
        shared
            .level
            .store(level_to_u8(cfg.loglevel), Ordering::Relaxed);
        return Ok(MainLogHandle {
            shared: shared.clone(),
        });
    }
    let shared = Arc::new(Shared::new(cfg.loglevel, sinks));
    let subscriber = tracing_subscriber::registry().with(MainLogLayer {
        shared: shared.clone(),
    });
    tracing::subscriber::set_global_default(subscriber)
        .map_err(|e| io::Error::other(format!("cannot install the main log: {}", e)))?;
    let _ = GLOBAL.set(shared.clone());
    Ok(MainLogHandle { shared })
}

/// The handle of the installed main log, if `init` ran.
pub fn handle() -> Option<MainLogHandle> {
    GLOBAL.get().map(|s| MainLogHandle { shared: s.clone() })
}

/// Log at a level chosen at run time, through tracing (and so through the installed main log).
pub fn log(level: LogLevel, message: &str) {
    match level {
        LogLevel::Critical => crate::log_crit!("{}", message),
        LogLevel::Error => crate::log_error!("{}", message),
        LogLevel::Warn => crate::log_warn!("{}", message),
        LogLevel::Info => crate::log_info!("{}", message),
        LogLevel::Debug => crate::log_debug!("{}", message),
        LogLevel::Trace => crate::log_trace!("{}", message),
        LogLevel::Blather => crate::log_blather!("{}", message),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::logs::rotate::tests::tempdir;

    /// Run `f` with a thread-local main log at `level` writing into memory; returns the text.
    pub(crate) fn capture_mainlog(level: LogLevel, f: impl FnOnce()) -> String {
        let shared = Arc::new(Shared::new(
            level,
            Sinks {
                file: None,
                path: None,
                stdout: false,
                syslog: false,
                memory: Some(Vec::new()),
                format: Default::default(),
            },
        ));
        let sub = tracing_subscriber::registry().with(MainLogLayer {
            shared: shared.clone(),
        });
        tracing::subscriber::with_default(sub, f);
        let out = shared.lock().memory.take().unwrap_or_default();
        String::from_utf8(out).unwrap()
    }

    fn line_ok(line: &str, level: &str, msg: &str) -> bool {
        // ^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} LEVL msg$
        let b = line.as_bytes();
        if b.len() < 24 {
            return false;
        }
        let digits = |r: std::ops::Range<usize>| b[r].iter().all(|c| c.is_ascii_digit());
        digits(0..4)
            && b[4] == b'-'
            && digits(5..7)
            && b[7] == b'-'
            && digits(8..10)
            && b[10] == b' '
            && digits(11..13)
            && b[13] == b':'
            && digits(14..16)
            && b[16] == b':'
            && digits(17..19)
            && b[19] == b','
            && digits(20..23)
            && b[23] == b' '
            && line[24..] == format!("{} {}", level, msg)
    }

    #[test]
    fn line_format_and_levels() {
        let out = capture_mainlog(LogLevel::Trace, || {
            crate::log_crit!("c {}", 1);
            crate::log_error!("e");
            crate::log_warn!("w");
            crate::log_info!("spawned: '{}' with pid {}", "x", 5);
            crate::log_debug!("d");
            crate::log_trace!("t");
            crate::log_blather!("b (filtered)");
            log(LogLevel::Info, "dyn");
            tracing::info!(target: "othercrate", "ignored");
        });
        let lines: Vec<&str> = out.lines().collect();
        let want = [
            ("CRIT", "c 1"),
            ("ERRO", "e"),
            ("WARN", "w"),
            ("INFO", "spawned: 'x' with pid 5"),
            ("DEBG", "d"),
            ("TRAC", "t"),
            ("INFO", "dyn"),
        ];
        assert_eq!(lines.len(), want.len(), "{}", out);
        for (l, (lv, m)) in lines.iter().zip(want) {
            assert!(line_ok(l, lv, m), "bad line {:?}", l);
        }
        let out = capture_mainlog(LogLevel::Blather, || crate::log_blather!("b"));
        assert!(line_ok(out.trim_end(), "BLAT", "b"), "{}", out);
        let out = capture_mainlog(LogLevel::Warn, || {
            crate::log_info!("no");
            crate::log_warn!("yes");
        });
        assert!(line_ok(out.trim_end(), "WARN", "yes"), "{}", out);
    }

    /// The only test touching the process-wide subscriber: init, log, re-init elsewhere.
    #[test]
    fn global_init_and_reinit() {
        let d = tempdir("global");
        let mut cfg = crate::logs::capture::tests::sup(&d, LogLevel::Info, false);
        let p1 = d.join("one.log");
        cfg.logfile = LogTarget::Path(p1.clone());
        let h = init(&cfg, false).unwrap();
        assert_eq!(h.path(), Some(p1.clone()));
        crate::log_info!("global-one");
        crate::log_debug!("global-filtered");
        let p2 = d.join("two.log");
        cfg.logfile = LogTarget::Path(p2.clone());
        cfg.loglevel = LogLevel::Debug;
        let h2 = init(&cfg, false).unwrap();
        crate::log_debug!("global-two");
        assert_eq!(handle().unwrap().path(), Some(p2.clone()));
        let shared = GLOBAL.get().unwrap();
        assert!(shared.enabled(LogLevel::Debug) && !shared.enabled(LogLevel::Trace));
        let one = std::fs::read_to_string(&p1).unwrap();
        let two = std::fs::read_to_string(&p2).unwrap();
        assert!(
            one.lines().any(|l| line_ok(l, "INFO", "global-one")),
            "{}",
            one
        );
        assert!(!one.contains("global-filtered") && !one.contains("global-two"));
        assert!(
            two.lines().any(|l| line_ok(l, "DEBG", "global-two")),
            "{}",
            two
        );
        drop((h, h2));
    }

    #[test]
    fn asctime_matches_localtime() {
        let t = UNIX_EPOCH + std::time::Duration::from_millis(1_700_000_000_123);
        let s = asctime(t);
        assert_eq!(s.len(), 23);
        assert!(s.ends_with(",123"), "{}", s);
    }

    #[test]
    fn file_sink_clear_and_reopen() {
        let d = tempdir("mainlog");
        let p = d.join("supervisord.log");
        let shared = Arc::new(Shared::new(
            LogLevel::Info,
            Sinks {
                file: Some(RotatingFile::open(&p, 0, 0).unwrap()),
                path: Some(p.clone()),
                stdout: false,
                syslog: false,
                memory: None,
                format: Default::default(),
            },
        ));
        let h = MainLogHandle { shared };
        let rx = h.subscribe();
        h.shared.emit(LogLevel::Info, "first");
        h.shared.emit(LogLevel::Debug, "filtered");
        assert!(*rx.borrow() > 0);
        let text = std::fs::read_to_string(&p).unwrap();
        assert!(line_ok(text.trim_end(), "INFO", "first"), "{}", text);
        // External rotation, then SIGUSR2.
        std::fs::rename(&p, d.join("old.log")).unwrap();
        h.reopen().unwrap();
        h.shared.emit(LogLevel::Info, "second");
        let old = std::fs::read_to_string(d.join("old.log")).unwrap();
        assert!(old.contains("INFO supervisord logreopen"));
        let text = std::fs::read_to_string(&p).unwrap();
        assert!(line_ok(text.trim_end(), "INFO", "second"), "{}", text);
        // clearLog leaves an empty file.
        h.clear().unwrap();
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "");
        std::fs::remove_file(&p).unwrap();
        assert_eq!(h.clear(), Err(ReadError::NoFile));
    }
}
