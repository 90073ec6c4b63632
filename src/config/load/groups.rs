//! Process groups: `[group:x]` with their members, implicit groups of `[program:x]`,
//! `[eventlistener:x]` pools and `[fcgi-program:x]` groups; names checked unique, sorted by
//! priority.

use super::*;

/// Groups as read, with the section each came from (for the messages).
pub(super) type Read = Vec<(GroupConfig, String)>;

impl Loader<'_> {
    /// Every group, in priority order (then by name).
    pub(super) fn groups(&mut self) -> Result<Vec<GroupConfig>, ConfigError> {
        let mut groups: Read = Vec::new();
        let in_groups = self.explicit_groups(&mut groups)?;
        self.program_groups(&in_groups, &mut groups)?;
        self.listener_pools(&mut groups)?;
        self.fcgi_groups(&in_groups, &mut groups)?;
        self.check_unique(&groups)?;
        let mut groups: Vec<GroupConfig> = groups.into_iter().map(|(g, _)| g).collect();
        groups.sort_by(|a, b| (a.priority, &a.name).cmp(&(b.priority, &b.name)));
        deps::validate(&groups).map_err(|e| {
            let f = format!("fcgi-program:{}", e.program_name);
            let section = if self.doc.has_section(&f) {
                f
            } else {
                format!("program:{}", e.program_name)
            };
            self.err(&section, Some("depends_on"), e.message)
        })?;
        Ok(groups)
    }

    /// `[group:x]` sections; returns the member sections, which form no group of their own.
    fn explicit_groups(&mut self, groups: &mut Read) -> Result<HashSet<String>, ConfigError> {
        let none = Expansions::new();
        let mut in_groups: HashSet<String> = HashSet::new();
        for section in self.section_names("group:") {
            let group_name = process_or_group_name(&section["group:".len()..])
                .map_err(|m| self.err(&section, None, m))?;
            let programs =
                list_of_strings(&self.get(&section, "programs", &none)?.unwrap_or_default());
            let priority = self.parse(&section, "priority", &none, "999", priority)?;
            let mut processes = Vec::new();
            // The reference's messages name the section of the member before (it reuses the
            // loop's variable), the group's own section for the first member.
            let mut named = section.clone();
            for program in programs {
                let p = format!("program:{}", program);
                let f = format!("fcgi-program:{}", program);
                let member = match (self.doc.has_section(&p), self.doc.has_section(&f)) {
                    (true, true) => {
                        return Err(self.err(
                            &section,
                            Some("programs"),
                            format!(
                                "[{}] name {} is ambiguous (exists as program and fcgi-program)",
                                named, program
                            ),
                        ));
                    }
                    (true, false) => p,
                    (false, true) => f,
                    (false, false) => {
                        return Err(self.err(
                            &section,
                            Some("programs"),
                            format!(
                                "[{}] names unknown program or fcgi-program {}",
                                named, program
                            ),
                        ));
                    }
                };
                in_groups.insert(member.clone());
                processes.extend(self.processes(&member, &group_name)?);
                named = member;
            }
            groups.push((
                GroupConfig {
                    name: group_name,
                    priority,
                    kind: GroupKind::Program,
                    processes,
                },
                section,
            ));
        }
        Ok(in_groups)
    }

    /// A group of its own for each `[program:x]` that no `[group:x]` names.
    fn program_groups(
        &mut self,
        in_groups: &HashSet<String>,
        groups: &mut Read,
    ) -> Result<(), ConfigError> {
        let none = Expansions::new();
        for section in self.section_names("program:") {
            if in_groups.contains(&section) {
                continue;
            }
            let name = process_or_group_name(&section["program:".len()..])
                .map_err(|m| self.err(&section, None, m))?;
            let priority = self.parse(&section, "priority", &none, "999", priority)?;
            let processes = self.processes(&section, &name)?;
            groups.push((
                GroupConfig {
                    name,
                    priority,
                    kind: GroupKind::Program,
                    processes,
                },
                section,
            ));
        }
        Ok(())
    }

    /// One name per group, one name per process within a group (sets: 100 000 processes in
    /// one group are checked in linear time).
    fn check_unique(&self, groups: &Read) -> Result<(), ConfigError> {
        let mut group_names: std::collections::HashMap<&str, &str> = Default::default();
        for (g, section) in groups {
            if let Some(first) = group_names.insert(&g.name, section) {
                return Err(self.err(
                    section,
                    None,
                    format!(
                        "duplicate group name '{}' (also defined by [{}])",
                        g.name, first
                    ),
                ));
            }
            let mut names = HashSet::with_capacity(g.processes.len());
            for p in &g.processes {
                if !names.insert(p.name.as_str()) {
                    return Err(self.err(
                        section,
                        Some("process_name"),
                        format!("duplicate process name '{}' in group '{}'", p.name, g.name),
                    ));
                }
            }
        }
        Ok(())
    }
}
