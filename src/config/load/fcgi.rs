//! `[fcgi-program:x]`: the socket it listens on (`socket=`, backlog, owner, mode).

use super::*;

pub(super) const FCGI_KEYS: &[&str] = &["socket", "socket_backlog", "socket_owner", "socket_mode"];

impl Loader<'_> {
    /// A group for each `[fcgi-program:x]` that no `[group:x]` names.
    pub(super) fn fcgi_groups(
        &mut self,
        in_groups: &HashSet<String>,
        groups: &mut groups::Read,
    ) -> Result<(), ConfigError> {
        let none = Expansions::new();
        for section in self.section_names("fcgi-program:") {
            if in_groups.contains(&section) {
                continue;
            }
            let name = process_or_group_name(&section["fcgi-program:".len()..])
                .map_err(|m| self.err(&section, None, m))?;
            let priority = self.parse(&section, "priority", &none, "999", priority)?;
            let socket = self.fcgi_socket(&section, &name)?;
            let processes = self.processes(&section, &name)?;
            groups.push((
                GroupConfig {
                    name,
                    priority,
                    kind: GroupKind::Fcgi(socket),
                    processes,
                },
                section,
            ));
        }
        Ok(())
    }

    fn fcgi_socket(
        &self,
        section: &str,
        program_name: &str,
    ) -> Result<FcgiSocketConfig, ConfigError> {
        let none = Expansions::new();
        let proc_uid = self.parse_opt(section, "user", &none, name_to_uid)?;
        let backlog = self.parse_opt(section, "socket_backlog", &none, |v| {
            let n = integer(v)?;
            if (1..=65535).contains(&n) {
                Ok(n as u32)
            } else {
                Err(format!("Invalid socket_backlog value {}", n))
            }
        })?;
        let owner = self.parse_opt(section, "socket_owner", &none, |v| {
            colon_separated_user_group(v).map_err(|_| format!("Invalid socket_owner value {}", v))
        })?;
        let mode = self.parse_opt(section, "socket_mode", &none, |v| {
            octal(v).map_err(|_| format!("Invalid socket_mode value {}", v))
        })?;
        let mut names = Expansions::new();
        names.insert("program_name".into(), Value::Str(program_name.into()));
        let Some(sock) = self
            .get(section, "socket", &names)?
            .filter(|s| !s.is_empty())
        else {
            return Err(self.err(
                section,
                Some("socket"),
                format!("[{}] section requires a \"socket\" line", section),
            ));
        };
        // The reference's words, including the two-argument ValueErrors it prints as tuples.
        let bad =
            |m: String| self.bad_value(section, "socket", format!("{} in [{}] socket", m, section));
        let tuple = |m: &str, arg: &str| format!("({}, {})", py_repr(m), py_repr(arg));
        if let Some(path) = sock.strip_prefix("unix://") {
            if !path.starts_with('/') {
                return Err(bad(tuple(
                    "Unix socket path %s is not an absolute path",
                    path,
                )));
            }
            let path = normalize_path(path, &self.ctx.cwd);
            let mut owner = owner;
            if owner.is_none() {
                // SAFETY: getuid has no preconditions.
                let uid = unsafe { libc::getuid() };
                if let Some(pu) = proc_uid.filter(|pu| *pu != uid) {
                    owner = Some((pu, gid_for_uid(pu).unwrap_or(u32::MAX)));
                }
            }
            return Ok(FcgiSocketConfig {
                socket: format!("unix://{}", path.display()),
                socket_backlog: backlog,
                socket_owner: owner,
                socket_mode: Some(mode.unwrap_or(0o700)),
            });
        }
        if owner.is_some() || mode.is_some() {
            return Err(bad(
                "socket_owner and socket_mode params should only be used with a Unix domain socket"
                    .into(),
            ));
        }
        if let Some(rest) = sock.strip_prefix("tcp://")
            && let Some((host, port)) = rest.rsplit_once(':')
        {
            let host_ok = !host.is_empty() && !host.chars().any(|c| c.is_whitespace() || c == ':');
            let port_ok = !port.is_empty() && port.chars().all(|c| c.is_ascii_digit());
            if host_ok && port_ok {
                let (_, port) = inet_address(&format!(":{}", port)).map_err(bad)?;
                return Ok(FcgiSocketConfig {
                    socket: format!("tcp://{}:{}", host.to_lowercase(), port),
                    socket_backlog: backlog,
                    socket_owner: None,
                    socket_mode: None,
                });
            }
        }
        Err(bad(tuple("Bad socket format %s", &sock)))
    }
}
