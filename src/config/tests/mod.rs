//! Loader tests: whole configuration files written to a temporary directory, loaded with a
//! fixed [`Context`] (environment, node name, cwd) so results do not depend on the machine.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use super::*;

mod errors;
mod limits;

/// A scratch directory, removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new() -> Self {
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "supervisord-config-test-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("scratch dir");
        Scratch(dir)
    }

    fn path(&self) -> &Path {
        &self.0
    }

    fn write(&self, rel: &str, text: &str) -> PathBuf {
        let p = self.0.join(rel);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).expect("mkdir");
        }
        std::fs::write(&p, text).expect("write");
        p
    }

    fn ctx(&self) -> Context {
        Context {
            environ: vec![
                ("HOME".into(), "home-of-t".into()),
                ("FOO".into(), "bar".into()),
            ],
            host_node_name: "testhost".into(),
            cwd: self.0.clone(),
            tempdir: self.0.clone(),
        }
    }

    fn load(&self, text: &str) -> Result<Config, ConfigError> {
        let p = self.write("supervisord.conf", text);
        load_with(&p, &self.ctx())
    }

    fn s(&self) -> String {
        self.0.to_string_lossy().into_owned()
    }
}

fn group<'a>(c: &'a Config, name: &str) -> &'a GroupConfig {
    c.groups.iter().find(|g| g.name == name).expect("group")
}

const TUTORIAL: &str = r#"[unix_http_server]
file=/tmp/supervisor.sock ; Path to the Unix socket
chmod=0700 ; Socket permissions

[supervisord]
nodaemon=true ; Run Supervisord in the foreground (required for Docker)
logfile=/tmp/supervisord.log ; Log file in a directory accessible by Docker
loglevel=info ; Set log level

[program:fastapi_0]
command=uvicorn main:app --host 0.0.0.0 --port 5001 ; Run FastAPI app with uvicorn
directory=/app ; Working directory for the process
autostart=true ; Start automatically when Supervisord starts
autorestart=true ; Restart if the process exits unexpectedly
stderr_logfile=/app/uvicorn.log ; Capture stderr to a log file
stdout_logfile=/app/uvicorn.log ; Capture stdout to a log file
startsecs=10 ; Seconds to wait before considering the process started
stopasgroup=true ; Send stop signal to the entire process group
killasgroup=true ; Send kill signal to the entire process group
environment=PYTHONUNBUFFERED=1 ; Ensure unbuffered output for Python

[program:monitor]
command=python3 monitor_memory.py /app ; Run the monitoring script
directory=/app ; Working directory
autostart=true ; Start automatically
autorestart=true ; Restart if exits unexpectedly (consider setting to false if script exits gracefully)
stderr_logfile=/app/monitor.log ; Log file for monitoring script
stdout_logfile=/app/monitor.log ; Log file for monitoring script
startsecs=5 ; Seconds to wait before considering the process started
environment=PYTHONUNBUFFERED=1 ; Ensure unbuffered output for Python

[supervisorctl]
serverurl=unix:///tmp/supervisor.sock ; Path to Supervisord's control socket

[rpcinterface:supervisor]
supervisor.rpcinterface_factory=supervisor.rpcinterface:make_main_rpcinterface
"#;

#[test]
fn tutorial_config() {
    let t = Scratch::new();
    // the tutorial's /app exists in its container; here it is a scratch directory
    let app = t.path().join("app");
    std::fs::create_dir_all(&app).unwrap();
    let app = app.to_string_lossy().into_owned();
    let c = t.load(&TUTORIAL.replace("/app", &app)).unwrap();

    assert!(c.config_file.is_absolute());
    assert!(c.supervisord.nodaemon);
    assert_eq!(
        c.supervisord.logfile,
        LogTarget::Path("/tmp/supervisord.log".into())
    );
    assert_eq!(c.supervisord.loglevel, LogLevel::Info);
    assert_eq!(c.supervisord.pidfile, t.path().join("supervisord.pid"));
    assert_eq!(c.supervisord.umask, 0o22);
    assert_eq!(c.supervisord.logfile_maxbytes, 50 * 1024 * 1024);
    assert_eq!(c.supervisord.logfile_backups, 10);
    assert_eq!(c.supervisord.minfds, 1024);
    assert_eq!(c.supervisord.minprocs, 200);
    assert_eq!(c.supervisord.identifier, "supervisor");
    let unix = c.unix_http_server.as_ref().unwrap();
    assert_eq!(unix.file, PathBuf::from("/tmp/supervisor.sock"));
    assert_eq!(unix.chmod, 0o700);
    assert_eq!(unix.chown, None);
    assert!(c.inet_http_server.is_none());
    assert_eq!(
        c.supervisorctl.serverurl.as_deref(),
        Some("unix:///tmp/supervisor.sock")
    );

    let names: Vec<&str> = c.groups.iter().map(|g| g.name.as_str()).collect();
    assert_eq!(names, ["fastapi_0", "monitor"]);
    let p = &group(&c, "fastapi_0").processes[0];
    assert_eq!(p.name, "fastapi_0");
    assert_eq!(p.command, "uvicorn main:app --host 0.0.0.0 --port 5001");
    assert_eq!(p.directory.as_deref(), Some(app.as_str()));
    assert!(p.autostart);
    assert_eq!(p.autorestart, AutoRestart::Always);
    assert_eq!(p.startsecs, 10);
    assert!(p.stopasgroup && p.killasgroup);
    assert_eq!(p.stopsignal, 15);
    assert_eq!(p.stopwaitsecs, 10);
    assert_eq!(p.startretries, 3);
    assert_eq!(p.exitcodes, vec![0]);
    assert_eq!(p.priority, 999);
    assert_eq!(
        p.stdout.logfile,
        LogTarget::Path(format!("{}/uvicorn.log", app).into())
    );
    assert_eq!(
        p.stderr.logfile,
        LogTarget::Path(format!("{}/uvicorn.log", app).into())
    );
    assert_eq!(
        p.environment,
        vec![("PYTHONUNBUFFERED".to_string(), "1".to_string())]
    );
    let m = &group(&c, "monitor").processes[0];
    assert_eq!(m.command, format!("python3 monitor_memory.py {}", app));
    assert!(!m.stopasgroup && !m.killasgroup);
    assert_eq!(m.startsecs, 5);
    assert!(c.warnings.is_empty(), "{:?}", c.warnings);
}

#[test]
fn defaults() {
    let t = Scratch::new();
    let c = t
        .load("[supervisord]\n[program:p]\ncommand=/bin/true\n")
        .unwrap();
    assert_eq!(
        c.supervisord.logfile,
        LogTarget::Path(t.path().join("supervisord.log"))
    );
    assert_eq!(c.supervisord.childlogdir, t.path());
    assert!(!c.supervisord.nodaemon);
    assert!(c.unix_http_server.is_none());
    let p = &c.groups[0].processes[0];
    assert_eq!(p.autorestart, AutoRestart::Unexpected);
    assert_eq!(p.stdout.logfile, LogTarget::Auto);
    assert_eq!(p.stdout.logfile_maxbytes, 50 * 1024 * 1024);
    assert_eq!(p.stdout.logfile_backups, 10);
    assert_eq!(p.stdout.capture_maxbytes, 0);
    assert!(!p.redirect_stderr);
    assert_eq!(p.startsecs, 1);
    assert_eq!((p.process_num, p.numprocs), (0, 1));
    assert_eq!(p.group, "p");
    assert_eq!(p.program_name, "p");
    assert_eq!(p.serverurl, None);
}

#[test]
fn expansions() {
    let t = Scratch::new();
    let c = t
        .load(
            "[supervisord]\nenvironment=GLOBAL=g%(ENV_FOO)s\n\
             [program:web]\n\
             command=/bin/run %(ENV_FOO)s %(here)s %(program_name)s %(group_name)s %(host_node_name)s %(ENV_GLOBAL)s 100%%\n\
             environment=A=\"x,y\",B=%(process_num)s\n\
             directory=/tmp/%(ENV_A)s\n\
             stdout_logfile=%(here)s/%(program_name)s-%(process_num)d.log\n",
        )
        .unwrap();
    let p = &c.groups[0].processes[0];
    let here = t.s();
    assert_eq!(
        p.command,
        format!("/bin/run bar {} web web testhost gbar 100%", here)
    );
    assert_eq!(
        p.environment,
        vec![
            ("A".to_string(), "x,y".to_string()),
            ("B".to_string(), "0".to_string())
        ]
    );
    assert_eq!(p.directory.as_deref(), Some("/tmp/x,y"));
    assert_eq!(
        p.stdout.logfile,
        LogTarget::Path(format!("{}/web-0.log", here).into())
    );
    assert_eq!(
        c.supervisord.environment,
        vec![("GLOBAL".to_string(), "gbar".to_string())]
    );
}

#[test]
fn numprocs_and_process_name() {
    let t = Scratch::new();
    let c = t
        .load(
            "[supervisord]\n[program:w]\ncommand=/bin/w %(process_num)d\n\
             process_name=%(program_name)s_%(process_num)02d\nnumprocs=3\nnumprocs_start=8\n",
        )
        .unwrap();
    let g = group(&c, "w");
    let names: Vec<&str> = g.processes.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["w_08", "w_09", "w_10"]);
    assert_eq!(g.processes[2].command, "/bin/w 10");
    assert_eq!(g.processes[2].numprocs, 3);

    let e = t
        .load("[supervisord]\n[program:w]\ncommand=/bin/w\nnumprocs=2\n")
        .unwrap_err();
    assert_eq!(e.key.as_deref(), Some("process_name"));
    assert!(e.to_string().starts_with(
        "%(process_num) must be present within process_name when numprocs > 1 in section 'program:w' (file: "
    ));
}

#[test]
fn dialect_in_a_whole_file() {
    let t = Scratch::new();
    let c = t
        .load(
            "; comment\n[supervisord]\nLogLevel = DEBUG ; inline\n\
             [program:x]\nCOMMAND=/bin/first\ncommand=/bin/echo a;b x#y ;comment\n\
             environment=A=1,\n    B=2 ; continued\n\
             [program:é]\ncommand=/bin/true\n",
        )
        .unwrap();
    assert_eq!(c.supervisord.loglevel, LogLevel::Debug);
    let p = &group(&c, "x").processes[0];
    assert_eq!(p.command, "/bin/echo a;b x#y");
    assert_eq!(
        p.environment,
        vec![
            ("A".to_string(), "1".to_string()),
            ("B".to_string(), "2".to_string())
        ]
    );
    assert_eq!(group(&c, "é").processes[0].name, "é");
}

#[test]
fn includes_use_their_own_here() {
    let t = Scratch::new();
    t.write("conf.d/a.conf", "[program:a]\ncommand=%(here)s/run\n");
    t.write(
        "conf.d/b.conf",
        "[program:b]\ncommand=/bin/b\n[include]\nfiles=nested/*.conf\n",
    );
    let c = t
        .load("[supervisord]\n[include]\nfiles = conf.d/*.conf missing/*.conf\n[program:m]\ncommand=%(here)s/m\n")
        .unwrap();
    let here = t.s();
    assert_eq!(
        group(&c, "a").processes[0].command,
        format!("{}/conf.d/run", here)
    );
    assert_eq!(group(&c, "m").processes[0].command, format!("{}/m", here));
    assert_eq!(
        c.included_files,
        vec![
            t.path().join("conf.d/a.conf"),
            t.path().join("conf.d/b.conf")
        ]
    );
    assert!(
        c.warnings
            .iter()
            .any(|w| w == &format!("No file matches via include \"{}/missing/*.conf\"", here))
    );
    assert!(
        c.warnings
            .iter()
            .any(|w| w.contains("includes do not nest"))
    );
}

#[test]
fn groups_and_priorities() {
    let t = Scratch::new();
    let c = t
        .load(
            "[supervisord]\n[group:g]\nprograms=b,a\npriority=5\n\
             [program:a]\ncommand=/bin/a\npriority=2\n[program:b]\ncommand=/bin/b\npriority=1\n\
             [program:c]\ncommand=/bin/c\n[program:z]\ncommand=/bin/z\npriority=1\n\
             [eventlistener:l]\ncommand=/bin/l\nevents=PROCESS_STATE,tick_5\n",
        )
        .unwrap();
    let names: Vec<&str> = c.groups.iter().map(|g| g.name.as_str()).collect();
    assert_eq!(names, ["l", "z", "g", "c"]);
    let g = group(&c, "g");
    let procs: Vec<(&str, &str)> = g
        .processes
        .iter()
        .map(|p| (p.name.as_str(), p.group.as_str()))
        .collect();
    assert_eq!(procs, [("b", "g"), ("a", "g")]);
    match &group(&c, "l").kind {
        GroupKind::EventListener(l) => {
            assert_eq!(l.events, vec!["PROCESS_STATE", "TICK_5"]);
            assert_eq!(l.buffer_size, 10);
        }
        k => panic!("unexpected kind {:?}", k),
    }
}

#[test]
fn warnings() {
    let t = Scratch::new();
    let c = t
        .load(
            "[supervisord]\nbogus=1\n[mystery]\n\
             [program:a]\ncommand=/a\nstdout_logfile=syslog\nstdout_logfile_maxbytes=0\n\
             redirect_stderr=true\nstderr_logfile=/tmp/e.log\n\
             [program:b]\ncommand=/b\nstdout_logfile_maxbytes=0\n\
             [ctlplugin:x]\nanything=1\n",
        )
        .unwrap();
    let file = t.path().join("supervisord.conf");
    let expect = [
        "For [program:a], stdout_logfile=syslog but this is deprecated and will be removed.  Use stdout_syslog=true to enable syslog instead.".to_string(),
        "For [program:a], redirect_stderr=true but stderr_logfile has also been set to a filename, the filename has been ignored".to_string(),
        "For [program:b], AUTO logging used for stdout_logfile without rollover, set maxbytes > 0 to avoid filling up filesystem unintentionally".to_string(),
        format!("Ignoring unknown key 'bogus' in section 'supervisord' (file: {})", file.display()),
        format!("Ignoring unknown section [mystery] (file: {})", file.display()),
    ];
    for w in &expect {
        assert!(
            c.warnings.contains(w),
            "missing {:?} in {:?}",
            w,
            c.warnings
        );
    }
    let a = &group(&c, "a").processes[0];
    assert_eq!(a.stdout.logfile, LogTarget::None);
    assert!(a.stdout.syslog);
    assert_eq!(a.stderr.logfile, LogTarget::None);
}

#[test]
fn servers_and_fcgi() {
    let t = Scratch::new();
    // the socket's directory is not checked, only made absolute
    let c = t.load(
        "[supervisord]\n[inet_http_server]\nport=*:9001\nusername=u\npassword={SHA}abc\n\
             [unix_http_server]\nfile=run/s.sock\nchown=0:0\n\
             [fcgi-program:f]\ncommand=/f\nsocket=tcp://LocalHost:9002\n\
             [fcgi-program:g]\ncommand=/g\nsocket=unix:///tmp/%(program_name)s.sock\n\
             depends_on=f:ready\nready_check=notify\n",
    );
    let c = c.unwrap();
    let inet = c.inet_http_server.as_ref().unwrap();
    assert_eq!((inet.host.as_str(), inet.port), ("", 9001));
    assert_eq!(inet.password.as_deref(), Some("{SHA}abc"));
    let unix = c.unix_http_server.as_ref().unwrap();
    assert_eq!(unix.file, t.path().join("run/s.sock"));
    assert_eq!(unix.chown, Some((0, 0)));
    match &group(&c, "f").kind {
        GroupKind::Fcgi(s) => assert_eq!(s.socket, "tcp://localhost:9002"),
        k => panic!("{:?}", k),
    }
    match &group(&c, "g").kind {
        GroupKind::Fcgi(s) => {
            assert_eq!(s.socket, "unix:///tmp/g.sock");
            assert_eq!(s.socket_mode, Some(0o700));
        }
        k => panic!("{:?}", k),
    }
    // the keys beyond the reference apply to fcgi programs too
    let g = &group(&c, "g").processes[0].deps;
    assert_eq!(g.depends_on[0].target(), "f");
    assert_eq!(g.ready_check, Some(crate::config::deps::Check::Notify));
}

#[test]
fn search_paths_follow_the_reference() {
    assert_eq!(
        search_paths("/usr/local/bin/supervisord"),
        [
            "/usr/local/etc/supervisord.conf",
            "/usr/local/supervisord.conf",
            "supervisord.conf",
            "etc/supervisord.conf",
            "/etc/supervisord.conf",
            "/etc/supervisor/supervisord.conf",
        ]
    );
    assert_eq!(search_paths("./supervisord")[0], "etc/supervisord.conf");
}

/// With an `[include]`, `%(here)s` is replaced as text before expansion, as the reference
/// does: messages show the replaced text, and `here` itself is the main file's directory.
#[test]
fn here_as_text_with_includes() {
    let t = Scratch::new();
    t.write(
        "conf.d/a.conf",
        "[program:a]\ncommand=%(here)s/run %(here)5s\n",
    );
    let c = t
        .load("[supervisord]\n[include]\nfiles=conf.d/*.conf\n")
        .unwrap();
    let here = t.s();
    assert_eq!(
        group(&c, "a").processes[0].command,
        format!("{}/conf.d/run {}", here, here)
    );
    t.write(
        "conf.d/a.conf",
        "[program:a]\ncommand=%(here)s/run %(nope)s\n",
    );
    let e = t
        .load("[supervisord]\n[include]\nfiles=conf.d/*.conf\n")
        .unwrap_err();
    assert!(
        e.message
            .starts_with(&format!("Format string '{}/conf.d/run %(nope)s'", here)),
        "{}",
        e.message
    );
}
