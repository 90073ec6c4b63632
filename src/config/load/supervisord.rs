//! `[supervisord]` and the `[rpcinterface:x]` sections.

use super::*;

pub(super) const SUPERVISORD_KEYS: &[&str] = &[
    "logfile",
    "logfile_maxbytes",
    "logfile_backups",
    "loglevel",
    "pidfile",
    "umask",
    "nodaemon",
    "silent",
    "minfds",
    "minprocs",
    "nocleanup",
    "childlogdir",
    "user",
    "directory",
    "strip_ansi",
    "environment",
    "identifier",
    // beyond the reference
    "exit_on_fatal",
    "memory_check_interval",
    "logformat",
];

pub(super) const STANDARD_RPC_FACTORY: &str = "supervisor.rpcinterface:make_main_rpcinterface";

pub(super) const RPC_FACTORY_KEY: &str = "supervisor.rpcinterface_factory";

impl Loader<'_> {
    pub(super) fn supervisord(&mut self) -> Result<SupervisordConfig, ConfigError> {
        let s = "supervisord";
        let none = Expansions::new();
        let cwd = self.ctx.cwd.clone();
        let minfds = self.parse(s, "minfds", &none, "1024", non_negative)?;
        let minprocs = self.parse(s, "minprocs", &none, "200", non_negative)?;
        let directory = self
            .parse_opt(s, "directory", &none, existing_directory)?
            .map(PathBuf::from);
        let user = self.get(s, "user", &none)?;
        if let Some(u) = &user {
            name_to_uid(u).map_err(|m| self.bad_value(s, "user", m))?;
        }
        let umask = self.parse(s, "umask", &none, "022", octal)?;
        let logfile = self.parse(s, "logfile", &none, "supervisord.log", |v| {
            let v = existing_dirpath(v)?;
            Ok(if v == "syslog" {
                LogTarget::Syslog
            } else {
                LogTarget::Path(normalize_path(&v, &cwd))
            })
        })?;
        let logfile_maxbytes = self.parse(s, "logfile_maxbytes", &none, "50MB", byte_size)?;
        let logfile_backups = self.parse(s, "logfile_backups", &none, "10", count)?;
        let loglevel = self.parse(s, "loglevel", &none, "info", logging_level)?;
        let pidfile = self.parse(s, "pidfile", &none, "supervisord.pid", |v| {
            Ok(normalize_path(&existing_dirpath(v)?, &cwd))
        })?;
        let identifier = self
            .get(s, "identifier", &none)?
            .unwrap_or_else(|| "supervisor".into());
        let nodaemon = self.parse(s, "nodaemon", &none, "false", boolean)?;
        let silent = self.parse(s, "silent", &none, "false", boolean)?;
        let tempdir = self.ctx.tempdir.to_string_lossy().into_owned();
        let childlogdir = self.parse(s, "childlogdir", &none, &tempdir, |v| {
            Ok(normalize_path(&existing_directory(v)?, &cwd))
        })?;
        let nocleanup = self.parse(s, "nocleanup", &none, "false", boolean)?;
        let strip_ansi = self.parse(s, "strip_ansi", &none, "false", boolean)?;
        let exit_on_fatal = self.parse(s, "exit_on_fatal", &none, "false", boolean)?;
        let logformat = self.parse(s, "logformat", &none, "reference", main_log_format)?;
        let memory_check_interval = self
            .parse(s, "memory_check_interval", &none, "5", non_negative)?
            .max(1);

        // expanded twice, as the reference does: first like any key, then with host_node_name
        let mut environment = Vec::new();
        if let Some(first) = self.get(s, "environment", &none)? {
            let mut extra = Expansions::new();
            extra.insert(
                "host_node_name".into(),
                Value::Str(self.ctx.host_node_name.clone()),
            );
            let second = self.expand(&first, &extra, "environment", s, "environment")?;
            environment = dict_of_key_value_pairs(&second)
                .map_err(|m| self.bad_value(s, "environment", m))?;
        }
        for (k, v) in &environment {
            self.env.insert(format!("ENV_{}", k), Value::Str(v.clone()));
        }
        Ok(SupervisordConfig {
            logfile,
            logfile_maxbytes,
            logfile_backups,
            loglevel,
            pidfile,
            umask,
            nodaemon,
            silent,
            minfds,
            minprocs,
            nocleanup,
            childlogdir,
            user,
            directory,
            strip_ansi,
            environment,
            identifier,
            exit_on_fatal,
            memory_check_interval,
            logformat,
        })
    }

    /// `[rpcinterface:x]`: only the standard factory exists here.
    pub(super) fn rpcinterfaces(&mut self) -> Result<(), ConfigError> {
        let names: Vec<String> = self
            .doc
            .sections
            .iter()
            .filter(|s| s.name.starts_with("rpcinterface:"))
            .map(|s| s.name.clone())
            .collect();
        for section in names {
            let Some(spec) = self.get(&section, RPC_FACTORY_KEY, &Expansions::new())? else {
                return Err(self.err(
                    &section,
                    Some(RPC_FACTORY_KEY),
                    format!(
                        "section [{}] does not specify a {}",
                        section, RPC_FACTORY_KEY
                    ),
                ));
            };
            let normalized: String = spec.chars().filter(|c| !c.is_whitespace()).collect();
            if normalized != STANDARD_RPC_FACTORY {
                return Err(self
                    .err(
                        &section,
                        Some(RPC_FACTORY_KEY),
                        format!("{} cannot be resolved within [{}]", spec, section),
                    )
                    .with_hint(format!(
                        "{} must be {}",
                        RPC_FACTORY_KEY, STANDARD_RPC_FACTORY
                    )));
            }
        }
        Ok(())
    }
}
