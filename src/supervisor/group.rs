//! Process groups and the per-process runtime: what the actor keeps for each process besides its
//! state-machine [`Record`]: the child's pipes, its output sinks and its resolved log paths.
//!
//! A group is made from a [`GroupConfig`] (`make_group` in the reference); `AUTO` log files get
//! their names in `childlogdir` when the group is made, as the reference's `create_autochildlogs`.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use crate::config::{Config, GroupConfig, ProcessConfig, StreamLogConfig};
use crate::logs::capture::{self, Channel, OutputSink};
use crate::supervisor::checks;
use crate::supervisor::hooks::{self, SpawnExtras};
use crate::supervisor::process::Record;
use crate::supervisor::restarts::Restarts;
use crate::supervisor::spawn::{self, SpawnRequest};
use crate::supervisor::stdin::{Stdin, StdinError};

pub struct Group {
    pub config: GroupConfig,
    /// When the group was made, relative to the others: the reference keeps its groups in a
    /// dict, and `reloadConfig` lists removed groups in that dict's insertion order.
    pub seq: u64,
    /// In the group's own order, the reference's dict order: a program's processes by
    /// (priority, name), a `[group:x]`'s by program in its `programs=` order. Autostart goes
    /// in this order; group and all-process calls go in [`Group::by_priority`].
    pub processes: Vec<Process>,
    /// Process name → index in `processes` (a group's processes never change once made).
    by_name: HashMap<String, usize>,
}

impl Group {
    pub fn new(config: GroupConfig, daemon: &Config) -> Group {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let processes = config
            .processes
            .iter()
            .map(|p| Process::new(p.clone(), daemon))
            .collect::<Vec<Process>>();
        let mut by_name = HashMap::with_capacity(processes.len());
        for (i, p) in processes.iter().enumerate() {
            by_name.entry(p.config.name.clone()).or_insert(i);
        }
        Group {
            config,
            seq: NEXT.fetch_add(1, Ordering::Relaxed),
            processes,
            by_name,
        }
    }

    /// The index of the process `name` in `processes`, without a scan.
    pub fn position(&self, name: &str) -> Option<usize> {
        self.by_name.get(name).copied()
    }

    /// Indices of the processes by priority alone, ties in the group's own order: the
    /// reference's stable `sort()` of a group's processes (their `__lt__` compares priority
    /// only, not the name).
    pub fn by_priority(&self) -> Vec<usize> {
        let mut order: Vec<usize> = (0..self.processes.len()).collect();
        order.sort_by_key(|&i| self.processes[i].config.priority);
        order
    }
}

pub struct Process {
    pub config: Arc<ProcessConfig>,
    pub rec: Record,
    /// Needs a transition check at the next settle.
    pub dirty: bool,
    /// Resolved log paths (AUTO made concrete), `None` for no file.
    pub stdout_logfile: Option<PathBuf>,
    pub stderr_logfile: Option<PathBuf>,
    /// The write end of the child's stdin and what waits to be written, while it lives.
    pub stdin: Option<Stdin>,
    pub stdout_sink: Option<Arc<Mutex<OutputSink>>>,
    pub stderr_sink: Option<Arc<Mutex<OutputSink>>>,
    /// The exit status (or -1 for a signal) of the last child reaped.
    pub last_exit_code: Option<i32>,
    /// Resident bytes of the process tree at the last memory check (`memory_limit`).
    pub rss: u64,
    /// Stopped for a restart: start again once it is in a stopped state.
    pub restart_pending: bool,
    /// Restarts by cause, for `/metrics` and `getProcessStats`.
    pub restarts: Restarts,
    /// Dependencies, readiness and health checks (beyond the reference).
    pub watch: crate::supervisor::checks::Watch,
}

fn resolve_log(
    stream: &StreamLogConfig,
    name: &str,
    channel: Channel,
    daemon: &Config,
) -> Option<PathBuf> {
    capture::resolve_child_log_path(&stream.logfile, name, channel, &daemon.supervisord)
        .ok()
        .flatten()
}

impl Process {
    pub fn new(config: Arc<ProcessConfig>, daemon: &Config) -> Process {
        let stdout_logfile = resolve_log(&config.stdout, &config.name, Channel::Stdout, daemon);
        let stderr_logfile = if config.redirect_stderr {
            None
        } else {
            resolve_log(&config.stderr, &config.name, Channel::Stderr, daemon)
        };
        Process {
            config,
            rec: Record::default(),
            dirty: true,
            stdout_logfile,
            stderr_logfile,
            stdin: None,
            stdout_sink: None,
            stderr_sink: None,
            last_exit_code: None,
            rss: 0,
            restart_pending: false,
            restarts: Restarts::default(),
            watch: Default::default(),
        }
    }

    /// The namespec: `name` for an implicit group, `group:name` otherwise.
    pub fn namespec(&self) -> String {
        make_namespec(&self.config.group, &self.config.name)
    }

    /// Environment the daemon adds for every child.
    /// The `SUPERVISOR_*` variables first, then `[supervisord] environment=` (which may
    /// override them), as the reference orders them; the program's own `environment=` comes last.
    fn extra_env(&self, daemon: &Config) -> Vec<(String, String)> {
        let mut env = vec![
            ("SUPERVISOR_ENABLED".to_string(), "1".to_string()),
            (
                "SUPERVISOR_PROCESS_NAME".to_string(),
                self.config.name.clone(),
            ),
            (
                "SUPERVISOR_GROUP_NAME".to_string(),
                self.config.group.clone(),
            ),
        ];
        if let Some(url) = server_url(&self.config, daemon) {
            env.push(("SUPERVISOR_SERVER_URL".into(), url));
        }
        env.extend(daemon.supervisord.environment.iter().cloned());
        env
    }

    /// Fork/exec the child, open its log sinks and start reading its pipes. `extras` gives an
    /// fcgi socket for fd 0, and the actor's handle for output events; a listener's stdout is
    /// read by its protocol reader.
    pub fn spawn(&mut self, daemon: &Config, extras: &SpawnExtras) -> Result<i32, String> {
        let name = self.config.name.clone();
        let dispatchers_error = |e: std::io::Error| {
            format!(
                "unknown error making dispatchers for '{}': {}",
                name,
                crate::util::errno::io_errorcode(&e)
            )
        };
        let stdout_sink = if extras.listener {
            hooks::listener_stdout_sink(
                &name,
                &self.config.stdout,
                self.stdout_logfile.as_deref(),
                &daemon.supervisord,
            )
        } else {
            OutputSink::new(
                &name,
                Channel::Stdout,
                &self.config.stdout,
                self.stdout_logfile.as_deref(),
                &daemon.supervisord,
            )
        }
        .map_err(dispatchers_error)?;
        let stderr_sink = if self.config.redirect_stderr {
            None
        } else {
            Some(
                OutputSink::new(
                    &name,
                    Channel::Stderr,
                    &self.config.stderr,
                    self.stderr_logfile.as_deref(),
                    &daemon.supervisord,
                )
                .map_err(dispatchers_error)?,
            )
        };
        let mut stdout_sink = stdout_sink;
        stdout_sink.set_format(self.config.logformat);
        let stderr_sink = stderr_sink.map(|mut s| {
            s.set_format(self.config.logformat);
            s
        });
        let mut env = self.extra_env(daemon);
        if extras.listener {
            env.extend(listener_credentials(daemon));
        }
        env.extend(extras.env.iter().cloned());
        let echo = daemon.supervisord.loglevel >= crate::config::LogLevel::Debug;
        let (discard_stdout, discard_stderr) = self.config.discarded_output(extras.listener, echo);
        let req = SpawnRequest {
            config: &self.config,
            extra_env: env,
            stdin_socket: extras.stdin_socket,
            discard_stdout,
            discard_stderr,
        };
        let spawned = spawn::spawn(&req)?;
        let (mut stdout_sink, mut stderr_sink) = (stdout_sink, stderr_sink);
        if let Some(h) = &extras.handle {
            if !extras.listener {
                hooks::install_sink_hooks(
                    &mut stdout_sink,
                    h,
                    &self.config.group,
                    &name,
                    spawned.pid,
                );
            }
            if let Some(sink) = stderr_sink.as_mut() {
                hooks::install_sink_hooks(sink, h, &self.config.group, &name, spawned.pid);
            }
        }
        let out = Arc::new(Mutex::new(stdout_sink));
        let on_chunk = match (&extras.handle, extras.listener) {
            (Some(h), true) => Some(hooks::listener_output_hook(
                h.clone(),
                &self.config.group,
                &name,
                spawned.pid,
            )),
            (Some(h), false) => checks::log::hook(h, &self.config, spawned.pid),
            _ => None,
        };
        if let Some(fd) = spawned.stdout {
            capture::spawn_reader(fd, out.clone(), on_chunk);
        }
        self.stdout_sink = Some(out);
        if let (Some(fd), Some(sink)) = (spawned.stderr, stderr_sink) {
            let err = Arc::new(Mutex::new(sink));
            let on_chunk = (extras.handle.as_ref())
                .and_then(|h| checks::log::hook(h, &self.config, spawned.pid));
            capture::spawn_reader(fd, err.clone(), on_chunk);
            self.stderr_sink = Some(err);
        }
        self.stdin = spawned.stdin.map(Stdin::new);
        Ok(spawned.pid)
    }

    /// The child is gone: close our end of its stdin and drop what still waited for it.
    pub fn closed(&mut self) {
        self.stdin = None;
    }

    /// SIGUSR2: reopen the log files.
    pub fn reopen_logs(&mut self) {
        for sink in [&self.stdout_sink, &self.stderr_sink].into_iter().flatten() {
            if let Ok(mut s) = sink.lock() {
                let _ = s.reopen();
            }
        }
    }

    /// clearProcessLogs: empty the log files (and reopen them).
    pub fn clear_logs(&mut self) -> std::io::Result<()> {
        for sink in [&self.stdout_sink, &self.stderr_sink].into_iter().flatten() {
            if let Ok(mut s) = sink.lock() {
                s.clear()?;
            }
        }
        for path in [&self.stdout_logfile, &self.stderr_logfile]
            .into_iter()
            .flatten()
        {
            if path.exists() {
                std::fs::OpenOptions::new()
                    .write(true)
                    .truncate(true)
                    .open(path)?;
            }
        }
        Ok(())
    }

    /// Write to the child's stdin (sendProcessStdin, event envelopes), after whatever earlier
    /// calls left waiting (see [`Stdin`]): the actor never blocks. `Err(Closed)` when the
    /// child closed its stdin or has none.
    pub fn write_stdin(&mut self, data: &[u8]) -> Result<(), StdinError> {
        let Some(stdin) = self.stdin.as_mut() else {
            return Err(StdinError::Closed);
        };
        stdin.write(data)
    }
}

/// `SUPERVISOR_SERVER_URL` as the reference computes it: the program's `serverurl` (unless
/// `AUTO`), else `unix://` + the socket path, else the inet server's `http://host:port`.
pub fn server_url(cfg: &ProcessConfig, daemon: &Config) -> Option<String> {
    if let Some(u) = &cfg.serverurl
        && !u.trim().eq_ignore_ascii_case("AUTO")
        && !u.is_empty()
    {
        return Some(u.clone());
    }
    if let Some(unix) = &daemon.unix_http_server {
        return Some(format!("unix://{}", unix.file.display()));
    }
    daemon.inet_http_server.as_ref().map(|inet| {
        let host = if inet.host.is_empty() {
            "localhost"
        } else {
            inet.host.as_str()
        };
        format!("http://{}:{}", host, inet.port)
    })
}

/// What an event listener needs to call back with `supervisor.childutils.getRPCInterface`
/// when the server behind `SUPERVISOR_SERVER_URL` (the unix socket first, as that URL) has
/// credentials: `SUPERVISOR_USERNAME` and `SUPERVISOR_PASSWORD`. Only listeners get them.
pub fn listener_credentials(daemon: &Config) -> Vec<(String, String)> {
    let (user, pass) = match (&daemon.unix_http_server, &daemon.inet_http_server) {
        (Some(u), _) => (u.username.clone(), u.password.clone()),
        (None, Some(i)) => (i.username.clone(), i.password.clone()),
        (None, None) => (None, None),
    };
    match (user, pass) {
        (Some(u), Some(p)) => vec![
            ("SUPERVISOR_USERNAME".into(), u),
            ("SUPERVISOR_PASSWORD".into(), p),
        ],
        _ => Vec::new(),
    }
}

/// `make_namespec`.
pub fn make_namespec(group: &str, name: &str) -> String {
    if group == name {
        name.to_string()
    } else {
        format!("{}:{}", group, name)
    }
}

/// `split_namespec`: `g:*` and `g:` give (g, None); `g:p` gives (g, Some(p)); `p` gives (p, Some(p)).
pub fn split_namespec(spec: &str) -> (String, Option<String>) {
    match spec.split_once(':') {
        Some((g, p)) => {
            if p.is_empty() || p == "*" {
                (g.to_string(), None)
            } else {
                (g.to_string(), Some(p.to_string()))
            }
        }
        None => (spec.to_string(), Some(spec.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A `[group:x]` keeps its `programs=` order (autostart's order); group calls go by
    /// priority alone, ties in that order, not by name.
    #[test]
    fn by_priority_is_a_stable_sort_on_priority_alone() {
        let dir =
            std::env::temp_dir().join(format!("supervisord-group-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("scratch dir");
        let conf = dir.join("supervisord.conf");
        let mut text = String::from("[supervisord]\n[group:g]\nprograms=zeta,beta,mid,alpha\n");
        for (name, prio) in [("alpha", 200), ("beta", 200), ("mid", 100), ("zeta", 300)] {
            text += &format!(
                "[program:{}]\ncommand=/bin/true\npriority={}\nstdout_logfile=NONE\nstderr_logfile=NONE\n",
                name, prio
            );
        }
        std::fs::write(&conf, text).expect("write config");
        let cfg = crate::config::load(&conf).expect("config loads");
        let _ = std::fs::remove_dir_all(&dir);
        let group = Group::new(cfg.groups[0].clone(), &cfg);
        let names = |order: Vec<usize>| -> Vec<String> {
            order
                .into_iter()
                .map(|i| group.processes[i].config.name.clone())
                .collect()
        };
        assert_eq!(names((0..4).collect()), ["zeta", "beta", "mid", "alpha"]);
        assert_eq!(names(group.by_priority()), ["mid", "beta", "alpha", "zeta"]);
    }
}
