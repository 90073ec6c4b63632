//! The processes of one `[program:x]` (likewise `[eventlistener:x]`, `[fcgi-program:x]`):
//! every key of the section, the reference's defaults, `numprocs` processes with their own
//! expansions.

use super::*;

pub(super) const PROGRAM_KEYS: &[&str] = &[
    "command",
    "process_name",
    "numprocs",
    "numprocs_start",
    "priority",
    "autostart",
    "autorestart",
    "startsecs",
    "startretries",
    "exitcodes",
    "stopsignal",
    "stopwaitsecs",
    "stopasgroup",
    "killasgroup",
    "user",
    "redirect_stderr",
    "stdout_logfile",
    "stdout_logfile_maxbytes",
    "stdout_logfile_backups",
    "stdout_capture_maxbytes",
    "stdout_events_enabled",
    "stdout_syslog",
    "stderr_logfile",
    "stderr_logfile_maxbytes",
    "stderr_logfile_backups",
    "stderr_capture_maxbytes",
    "stderr_events_enabled",
    "stderr_syslog",
    "environment",
    "directory",
    "umask",
    "serverurl",
    // beyond the reference
    "restart_delay",
    "backoff_max",
    "memory_limit",
    "logformat",
];

/// More processes than this per section is refused (the reference has no limit, but would
/// exhaust memory long before).
pub(super) const MAX_NUMPROCS: i64 = 100_000;

impl Loader<'_> {
    /// The processes of one `[program:x]` / `[eventlistener:x]` / `[fcgi-program:x]` section.
    /// As the reference, every error here ends with ` in section 'x' (file: '...')`.
    pub(super) fn processes(
        &mut self,
        section: &str,
        group_name: &str,
    ) -> Result<Vec<Arc<ProcessConfig>>, ConfigError> {
        self.section_processes(section, group_name)
            .map_err(|mut e| {
                e.section = Some(section.to_string());
                e.file = self.shown(&self.file_of(section));
                e.in_section = true;
                e
            })
    }

    fn section_processes(
        &mut self,
        section: &str,
        group_name: &str,
    ) -> Result<Vec<Arc<ProcessConfig>>, ConfigError> {
        let program = self.program(section, group_name)?;
        let start = program.numprocs_start;
        let mut processes = Vec::new();
        for process_num in start..start.saturating_add(program.numprocs.max(0)) {
            processes.push(Arc::new(self.one_process(
                section,
                &program,
                process_num,
            )?));
        }
        processes.sort_by(|a, b| (a.priority, &a.name).cmp(&(b.priority, &b.name)));
        Ok(processes)
    }

    /// The section-wide keys, read (and checked) once for all the section's processes.
    fn program(&mut self, section: &str, group_name: &str) -> Result<Program, ConfigError> {
        let prefix_len = section.find(':').map_or(section.len(), |i| i + 1);
        let program_name = process_or_group_name(&section[prefix_len..])
            .map_err(|m| self.err(section, None, m))?;
        let mut common = Expansions::new();
        common.insert("program_name".into(), Value::Str(program_name.clone()));
        common.insert(
            "host_node_name".into(),
            Value::Str(self.ctx.host_node_name.clone()),
        );
        common.insert("group_name".into(), Value::Str(group_name.into()));
        let c = &common;
        let s = section;

        let priority = self.parse(s, "priority", c, "999", priority)?;
        let autostart = self.parse(s, "autostart", c, "true", boolean)?;
        let autorestart = self.parse(s, "autorestart", c, "unexpected", auto_restart)?;
        let startsecs = self.parse(s, "startsecs", c, "1", non_negative)?;
        let startretries = self.parse(s, "startretries", c, "3", start_retries)?;
        let restart_delay = self.parse(s, "restart_delay", c, "0", non_negative)?;
        let backoff_max = self.parse(s, "backoff_max", c, "", optional_seconds)?;
        let memory_limit = self.parse(s, "memory_limit", c, "", optional_size)?;
        let logformat = self.parse(s, "logformat", c, "raw", output_format)?;
        let deps = deps::read(|k| self.get(s, k, c), |k, m| self.bad_value(s, k, m))?;
        let stopsignal = self.parse(s, "stopsignal", c, "TERM", signal_number)?;
        let stopwaitsecs = self.parse(s, "stopwaitsecs", c, "10", non_negative)?;
        let stopasgroup = self.parse(s, "stopasgroup", c, "false", boolean)?;
        let killasgroup = self.parse(
            s,
            "killasgroup",
            c,
            if stopasgroup { "true" } else { "false" },
            boolean,
        )?;
        let exitcodes = self.parse(s, "exitcodes", c, "0", list_of_exitcodes)?;
        let redirect_stderr = self.parse(s, "redirect_stderr", c, "false", boolean)?;
        let numprocs = self.parse(s, "numprocs", c, "1", integer)?;
        let numprocs_start = self.parse(s, "numprocs_start", c, "0", integer)?;
        let environment_raw = self.raw_text(s, "environment");
        let stdout = self.capture(s, c, "stdout")?;
        let stderr = self.capture(s, c, "stderr")?;
        let serverurl = self
            .get(s, "serverurl", c)?
            .filter(|u| u.trim().to_uppercase() != "AUTO");
        let user = self.get(s, "user", c)?;
        let uid = match &user {
            Some(u) => Some(name_to_uid(u).map_err(|m| self.bad_value(s, "user", m))?),
            None => None,
        };
        let umask = self.parse_opt(s, "umask", c, octal)?;
        let process_name = match self.raw_text(s, "process_name") {
            Some(v) => {
                process_or_group_name(&v).map_err(|m| self.bad_value(s, "process_name", m))?
            }
            None => "%(program_name)s".to_string(),
        };
        self.check_program(s, numprocs, &process_name, stopasgroup, killasgroup)?;
        let base = ProcessConfig {
            name: String::new(),
            group: group_name.to_string(),
            program_name,
            command: String::new(),
            directory: None,
            umask,
            priority,
            autostart,
            autorestart,
            startsecs,
            startretries,
            user,
            uid,
            stdout,
            stderr,
            stopsignal,
            stopwaitsecs,
            stopasgroup,
            killasgroup,
            exitcodes,
            redirect_stderr,
            environment: Vec::new(),
            serverurl,
            process_num: 0,
            numprocs: numprocs.clamp(0, u32::MAX as i64) as u32,
            restart_delay,
            backoff_max,
            memory_limit,
            logformat,
            deps,
        };
        Ok(Program {
            base,
            common,
            environment_raw,
            process_name,
            numprocs,
            numprocs_start,
        })
    }

    /// A channel's `*_capture_maxbytes` and `*_events_enabled` (section-wide); its log file
    /// settings are read per process by [`Self::stream`].
    fn capture(
        &self,
        s: &str,
        c: &Expansions,
        channel: &str,
    ) -> Result<StreamLogConfig, ConfigError> {
        let key = |k: &str| format!("{}_{}", channel, k);
        Ok(StreamLogConfig {
            logfile: LogTarget::Auto,
            logfile_maxbytes: 0,
            logfile_backups: 0,
            capture_maxbytes: self.parse(s, &key("capture_maxbytes"), c, "0", byte_size)?,
            events_enabled: self.parse(s, &key("events_enabled"), c, "false", boolean)?,
            syslog: false,
        })
    }

    /// The checks across keys of a program section.
    fn check_program(
        &self,
        s: &str,
        numprocs: i64,
        process_name: &str,
        stopasgroup: bool,
        killasgroup: bool,
    ) -> Result<(), ConfigError> {
        if numprocs > 1 && !process_name.contains("%(process_num)") {
            return Err(self.err(
                s,
                Some("process_name"),
                "%(process_num) must be present within process_name when numprocs > 1".into(),
            ));
        }
        if numprocs > MAX_NUMPROCS {
            return Err(self.bad_value(
                s,
                "numprocs",
                format!(
                    "{} is above the supported maximum ({})",
                    numprocs, MAX_NUMPROCS
                ),
            ));
        }
        if stopasgroup && !killasgroup {
            return Err(self.err(
                s,
                Some("killasgroup"),
                "Cannot set stopasgroup=true and killasgroup=false".into(),
            ));
        }
        Ok(())
    }

    /// Process `process_num` of a program: the keys expanded with its own names
    /// (`process_num`, `numprocs`, its `environment=` as `ENV_*`).
    fn one_process(
        &mut self,
        s: &str,
        program: &Program,
        process_num: i64,
    ) -> Result<ProcessConfig, ConfigError> {
        let mut exp = program.common.clone();
        exp.insert("process_num".into(), Value::Int(process_num));
        exp.insert("numprocs".into(), Value::Int(program.numprocs));

        let environment = match &program.environment_raw {
            Some(raw) => {
                let text = self.expand(raw, &exp, "environment", s, "environment")?;
                dict_of_key_value_pairs(&text).map_err(|m| self.bad_value(s, "environment", m))?
            }
            None => Vec::new(),
        };
        for (k, v) in &environment {
            exp.insert(format!("ENV_{}", k), Value::Str(v.clone()));
        }

        let directory = self.get(s, "directory", &exp)?;
        let stdout = self.stream(s, &exp, "stdout", &program.base.stdout)?;
        let mut stderr = self.stream(s, &exp, "stderr", &program.base.stderr)?;
        if program.base.redirect_stderr {
            if !matches!(stderr.logfile, LogTarget::Auto | LogTarget::None) {
                self.warnings.push(format!(
                    "For [{}], redirect_stderr=true but stderr_logfile has also been set to a \
                     filename, the filename has been ignored",
                    s
                ));
            }
            stderr.logfile = LogTarget::None;
        }
        let command = self.command(s, &exp)?;
        let name = self.expand(
            &program.process_name,
            &exp,
            "process_name",
            s,
            "process_name",
        )?;
        Ok(ProcessConfig {
            name,
            command,
            directory,
            stdout,
            stderr,
            environment,
            process_num: process_num.clamp(0, u32::MAX as i64) as u32,
            ..program.base.clone()
        })
    }

    /// One channel's log settings for one process: `capture` (section-wide) completed.
    fn stream(
        &mut self,
        s: &str,
        exp: &Expansions,
        channel: &str,
        capture: &StreamLogConfig,
    ) -> Result<StreamLogConfig, ConfigError> {
        let lf_key = format!("{}_logfile", channel);
        // the reference expands a written log file name a second time
        let logfile = match self.get(s, &lf_key, exp)? {
            Some(first) => {
                let second = self.expand(&first, exp, &lf_key, s, &lf_key)?;
                logfile_name(&second).map_err(|m| self.bad_value(s, &lf_key, m))?
            }
            None => LogTarget::Auto,
        };
        let backups = self.parse(s, &format!("{}_logfile_backups", channel), exp, "10", count)?;
        let mb_key = format!("{}_logfile_maxbytes", channel);
        let maxbytes = self.parse(s, &mb_key, exp, "50MB", byte_size)?;
        let sy_key = format!("{}_syslog", channel);
        let mut syslog = self.parse(s, &sy_key, exp, "false", boolean)?;
        let mut logfile = logfile;
        if logfile == LogTarget::Syslog {
            self.warnings.push(format!(
                "For [{}], {}=syslog but this is deprecated and will be removed.  \
                 Use {}=true to enable syslog instead.",
                s, lf_key, sy_key
            ));
            logfile = LogTarget::None;
            syslog = true;
        }
        if logfile == LogTarget::Auto && maxbytes == 0 {
            self.warnings.push(format!(
                "For [{}], AUTO logging used for {} without rollover, set maxbytes > 0 \
                 to avoid filling up filesystem unintentionally",
                s, lf_key
            ));
        }
        Ok(StreamLogConfig {
            logfile,
            logfile_maxbytes: maxbytes,
            logfile_backups: backups,
            syslog,
            ..capture.clone()
        })
    }

    /// `command=`, required and not blank.
    fn command(&self, s: &str, exp: &Expansions) -> Result<String, ConfigError> {
        let Some(command) = self.get(s, "command", exp)? else {
            return Err(self.err(
                s,
                Some("command"),
                format!("program section {} does not specify a command", s),
            ));
        };
        if command.chars().all(|c| " \t\r\n".contains(c)) {
            // The reference starts it and retries `spawnerr: command is empty` for ever.
            let mut e = self.err(
                s,
                Some("command"),
                format!("program section {} has an empty command", s),
            );
            e.complete = true;
            return Err(e);
        }
        Ok(command)
    }
}

/// What a program section says for all its processes: `base` holds every section-wide
/// setting; the per-process fields (name, command, directory, log files, environment,
/// process_num) are filled by `one_process`.
struct Program {
    base: ProcessConfig,
    /// `program_name`, `group_name`, `host_node_name`.
    common: Expansions,
    environment_raw: Option<String>,
    /// `process_name=` before expansion.
    process_name: String,
    numprocs: i64,
    numprocs_start: i64,
}
