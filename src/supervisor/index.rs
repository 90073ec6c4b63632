//! Lookups without a scan of every group or process: group name → index in the actor's groups,
//! program name → its processes (for `depends_on` by bare program name), and the processes a
//! settle must look at every time (those with dependencies, checks or a memory limit).
//!
//! Indices shift when a group is added or removed, so the actor rebuilds the index after each
//! change of its groups (`add_group`, `remove_group`); that is linear in the number of
//! processes, once per change, never per lookup. A group added after all the others (every
//! group of the config at start, which comes sorted by priority) is only appended.

use std::collections::HashMap;

use super::control::ProcessKey;
use super::group::Group;

#[derive(Debug, Default)]
pub(super) struct Index {
    groups: HashMap<String, usize>,
    /// Processes by `program_name`, in group order then process order (the order of a scan).
    programs: HashMap<String, Vec<ProcessKey>>,
    /// Processes with `depends_on`, a `ready_check`/`health_check` or a `memory_limit`, in
    /// group order then process order.
    watched: Vec<ProcessKey>,
}

impl Index {
    pub(super) fn build(groups: &[Group]) -> Index {
        let mut index = Index::default();
        for (gi, g) in groups.iter().enumerate() {
            index.push(gi, g);
        }
        index
    }

    /// Add the group `g`, now the last of the actor's groups (at `gi`): no rebuild.
    pub(super) fn push(&mut self, gi: usize, g: &Group) {
        self.groups.entry(g.config.name.clone()).or_insert(gi);
        for (pi, p) in g.processes.iter().enumerate() {
            let key = ProcessKey {
                group: gi,
                process: pi,
            };
            self.programs
                .entry(p.config.program_name.clone())
                .or_default()
                .push(key);
            let d = &p.config.deps;
            if !d.depends_on.is_empty()
                || d.ready_check.is_some()
                || d.health_check.is_some()
                || p.config.memory_limit.is_some()
            {
                self.watched.push(key);
            }
        }
    }

    /// The index of the group `name` among the actor's groups.
    pub(super) fn group(&self, name: &str) -> Option<usize> {
        self.groups.get(name).copied()
    }

    /// Every process of the program `name`, whatever its group.
    pub(super) fn program(&self, name: &str) -> &[ProcessKey] {
        self.programs.get(name).map_or(&[], Vec::as_slice)
    }

    /// The processes with dependencies, checks or a memory limit, in order.
    pub(super) fn watched(&self) -> &[ProcessKey] {
        &self.watched
    }
}
