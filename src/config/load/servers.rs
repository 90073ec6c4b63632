//! The servers' sections: `[unix_http_server]`, `[inet_http_server]` (and their
//! credentials), and `[supervisorctl]`, read for completeness.

use super::*;

pub(super) const UNIX_KEYS: &[&str] = &["file", "chmod", "chown", "username", "password"];

pub(super) const INET_KEYS: &[&str] = &["port", "username", "password", "open_health_on_loopback"];

pub(super) const CTL_KEYS: &[&str] = &[
    "serverurl",
    "username",
    "password",
    "prompt",
    "history_file",
];

impl Loader<'_> {
    /// `username`/`password` of a server section: both or neither.
    fn credentials(&self, section: &str) -> Result<(Option<String>, Option<String>), ConfigError> {
        let none = Expansions::new();
        let username = self.get(section, "username", &none)?;
        let password = self.get(section, "password", &none)?;
        if username.is_some() != password.is_some() {
            return Err(self.err(
                section,
                Some(if username.is_none() {
                    "username"
                } else {
                    "password"
                }),
                format!(
                    "Section [{}] contains incomplete authentication: If a username or a \
                     password is specified, both the username and password must be specified",
                    section
                ),
            ));
        }
        Ok((username, password))
    }

    fn warn_named_servers(&mut self, base: &str) {
        for name in self.section_names(base) {
            if name != base {
                let file = self.file_of(&name);
                self.warnings.push(format!(
                    "Section [{}] (file: {}) is ignored: only one [{}] is supported",
                    name,
                    file.display(),
                    base
                ));
            }
        }
    }

    pub(super) fn inet_http_server(&mut self) -> Result<Option<InetHttpServerConfig>, ConfigError> {
        self.warn_named_servers("inet_http_server");
        let s = "inet_http_server";
        if !self.doc.has_section(s) {
            return Ok(None);
        }
        let (username, password) = self.credentials(s)?;
        let Some(port) = self.get(s, "port", &Expansions::new())? else {
            return Err(self.err(
                s,
                Some("port"),
                format!("section [{}] has no port value", s),
            ));
        };
        let (host, port) = inet_address(&port).map_err(|m| self.bad_value(s, "port", m))?;
        let none = Expansions::new();
        let open_health_on_loopback =
            self.parse(s, "open_health_on_loopback", &none, "false", boolean)?;
        Ok(Some(InetHttpServerConfig {
            host,
            port,
            username,
            password,
            open_health_on_loopback,
        }))
    }

    pub(super) fn unix_http_server(&mut self) -> Result<Option<UnixHttpServerConfig>, ConfigError> {
        self.warn_named_servers("unix_http_server");
        let s = "unix_http_server";
        if !self.doc.has_section(s) {
            return Ok(None);
        }
        let none = Expansions::new();
        let Some(file) = self.get(s, "file", &none)? else {
            return Err(self.err(
                s,
                Some("file"),
                format!("section [{}] has no file value", s),
            ));
        };
        let file = normalize_path(file.trim(), &self.ctx.cwd);
        let (username, password) = self.credentials(s)?;
        let chown = self.parse_opt(s, "chown", &none, |v| {
            colon_separated_user_group(v).map_err(|_| format!("Invalid sockchown value {}", v))
        })?;
        let chmod = self.parse_opt(s, "chmod", &none, |v| {
            octal(v).map_err(|_| format!("Invalid chmod value {}", v))
        })?;
        Ok(Some(UnixHttpServerConfig {
            file,
            chmod: chmod.unwrap_or(0o700),
            chown,
            username,
            password,
        }))
    }

    /// `[supervisorctl]` is read for completeness; supervisord itself does not use it, so a
    /// value that does not expand is kept as written rather than rejected.
    pub(super) fn supervisorctl(&self) -> SupervisorctlConfig {
        let s = "supervisorctl";
        let get = |k: &str| {
            let entry = self.raw(s, k)?;
            match self.get(s, k, &Expansions::new()) {
                Ok(v) => v,
                Err(_) => Some(entry.value.clone()),
            }
        };
        if !self.doc.has_section(s) {
            return SupervisorctlConfig::default();
        }
        SupervisorctlConfig {
            serverurl: get("serverurl"),
            username: get("username"),
            password: get("password"),
            prompt: get("prompt"),
            history_file: get("history_file").map(PathBuf::from),
        }
    }
}
