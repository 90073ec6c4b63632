//! `[eventlistener:x]` pools: their own keys (`buffer_size`, `events`, `result_handler`).

use super::*;

pub(super) const LISTENER_KEYS: &[&str] = &["buffer_size", "events", "result_handler"];

pub(super) const DEFAULT_RESULT_HANDLER: &str = "supervisor.dispatchers:default_handler";

pub(super) const EVENT_TYPES: &[&str] = &[
    "EVENT",
    "PROCESS_COMMUNICATION",
    "PROCESS_COMMUNICATION_STDERR",
    "PROCESS_COMMUNICATION_STDOUT",
    "PROCESS_GROUP",
    "PROCESS_GROUP_ADDED",
    "PROCESS_GROUP_REMOVED",
    "PROCESS_LOG",
    "PROCESS_LOG_STDERR",
    "PROCESS_LOG_STDOUT",
    "PROCESS_STATE",
    "PROCESS_STATE_BACKOFF",
    "PROCESS_STATE_EXITED",
    "PROCESS_STATE_FATAL",
    "PROCESS_STATE_RUNNING",
    "PROCESS_STATE_STARTING",
    "PROCESS_STATE_STOPPED",
    "PROCESS_STATE_STOPPING",
    "PROCESS_STATE_UNKNOWN",
    "REMOTE_COMMUNICATION",
    "SUPERVISOR_STATE_CHANGE",
    "SUPERVISOR_STATE_CHANGE_RUNNING",
    "SUPERVISOR_STATE_CHANGE_STOPPING",
    "TICK",
    "TICK_3600",
    "TICK_5",
    "TICK_60",
];

impl Loader<'_> {}

impl Loader<'_> {
    /// `[eventlistener:x]` pools.
    pub(super) fn listener_pools(&mut self, groups: &mut groups::Read) -> Result<(), ConfigError> {
        let none = Expansions::new();
        for section in self.section_names("eventlistener:") {
            let pool_name = section["eventlistener:".len()..].to_string();
            let priority = self.parse(&section, "priority", &none, "-1", priority)?;
            let buffer_size = self.parse(&section, "buffer_size", &none, "10", integer)?;
            if buffer_size < 1 {
                return Err(self.err(
                    &section,
                    Some("buffer_size"),
                    format!(
                        "[{}] section sets invalid buffer_size ({})",
                        section, buffer_size
                    ),
                ));
            }
            let result_handler = self
                .get(&section, "result_handler", &none)?
                .unwrap_or_else(|| DEFAULT_RESULT_HANDLER.into());
            if result_handler.trim() != DEFAULT_RESULT_HANDLER {
                return Err(self
                    .err(
                        &section,
                        Some("result_handler"),
                        format!("{} cannot be resolved within [{}]", result_handler, section),
                    )
                    .with_hint(format!("result_handler must be {}", DEFAULT_RESULT_HANDLER)));
            }
            let mut events: Vec<String> = Vec::new();
            for e in list_of_strings(&self.get(&section, "events", &none)?.unwrap_or_default()) {
                let e = e.to_uppercase();
                if !events.contains(&e) {
                    events.push(e);
                }
            }
            if events.is_empty() {
                return Err(self.err(
                    &section,
                    Some("events"),
                    format!("[{}] section requires an \"events\" line", section),
                ));
            }
            if let Some(bad) = events.iter().find(|e| !EVENT_TYPES.contains(&e.as_str())) {
                return Err(self.err(
                    &section,
                    Some("events"),
                    format!("Unknown event type {} in [{}] events", bad, section),
                ));
            }
            if self.parse(&section, "redirect_stderr", &none, "false", boolean)? {
                return Err(self.err(
                    &section,
                    Some("redirect_stderr"),
                    format!(
                        "[{}] section sets redirect_stderr=true but this is not allowed because \
                         it will interfere with the eventlistener protocol",
                        section
                    ),
                ));
            }
            let processes = self.processes(&section, &pool_name)?;
            let kind = GroupKind::EventListener(EventListenerPoolConfig {
                buffer_size: buffer_size.clamp(1, u32::MAX as i64) as u32,
                events,
                result_handler,
            });
            groups.push((
                GroupConfig {
                    name: pool_name,
                    priority,
                    kind,
                    processes,
                },
                section,
            ));
        }
        Ok(())
    }
}
