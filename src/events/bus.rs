//! The event bus: which pools want which events, each pool's buffer, and the serials.
//!
//! As the reference's `events.notify` with `EventListenerPool._acceptEvent`: an event goes to
//! every pool subscribed to its type or a parent type, once per matching subscription, in the
//! order the pools were added. The first pool to accept it gives it the next global serial;
//! each pool gives it its own pool serial. A full buffer drops its oldest event (logged at
//! ERRO). The bus also keeps the tick bookkeeping (`supervisord.tick`): a tick is due only
//! while some pool subscribes to it.
//!
//! The bus is owned by the supervisor actor; dispatching to listener processes is done by the
//! actor (see [`crate::supervisor::hooks`]), which has the processes.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use super::listener::Protocol;
use super::{Event, EventType, TICKS, timeslice};
use crate::config::LogLevel;
use crate::logs::mainlog::log;

/// `GlobalSerial`: one counter for the life of the daemon process (a restart keeps counting,
/// as the reference restarts in the same interpreter).
static GLOBAL_SERIAL: AtomicU64 = AtomicU64::new(0);

fn next_global_serial() -> u64 {
    GLOBAL_SERIAL.fetch_add(1, Ordering::Relaxed)
}

/// An event in a pool's buffer (or in flight to one of its listeners).
#[derive(Clone, Debug)]
pub struct Queued {
    pub event: Arc<Event>,
    pub serial: u64,
    pub pool_serial: u64,
}

/// One listener process's protocol state and the event it is working on.
#[derive(Debug, Default)]
pub struct ListenerSlot {
    pub protocol: Protocol,
    pub event: Option<Queued>,
}

/// An `[eventlistener:x]` pool.
#[derive(Debug)]
pub struct Pool {
    pub name: String,
    pub subscriptions: Vec<EventType>,
    pub buffer_size: usize,
    pub buffer: VecDeque<Queued>,
    /// The last pool serial given, `None` before the first.
    serial: Option<u64>,
    /// Per listener process name.
    pub listeners: HashMap<String, ListenerSlot>,
}

impl Pool {
    fn next_serial(&mut self) -> u64 {
        let s = self.serial.map_or(0, |s| s.wrapping_add(1));
        self.serial = Some(s);
        s
    }

    /// `_acceptEvent`: buffer an event, at the head for a re-queued one. `pool_serial` is
    /// `Some` when the event already has this pool's serial (a re-queue).
    pub fn accept(&mut self, event: Arc<Event>, serial: u64, pool_serial: Option<u64>, head: bool) {
        let pool_serial = match pool_serial {
            None => self.next_serial(),
            Some(ps) => {
                log(
                    LogLevel::Debug,
                    &format!(
                        "rebuffering event {} for pool {} (buf size={}, max={})",
                        serial,
                        self.name,
                        self.buffer.len(),
                        self.buffer_size
                    ),
                );
                ps
            }
        };
        if self.buffer.len() >= self.buffer_size
            && let Some(old) = self.buffer.pop_front()
        {
            log(
                LogLevel::Error,
                &format!(
                    "pool {} event buffer overflowed, discarding event {}",
                    self.name, old.serial
                ),
            );
        }
        let q = Queued {
            event,
            serial,
            pool_serial,
        };
        if head {
            self.buffer.push_front(q);
        } else {
            self.buffer.push_back(q);
        }
    }

    /// Put an event back at the head (rejected, or its listener died with it).
    pub fn requeue(&mut self, q: Queued) {
        self.accept(q.event, q.serial, Some(q.pool_serial), true);
    }
}

/// All pools and the tick clocks.
#[derive(Debug)]
pub struct Bus {
    /// In the order they subscribed (the order their groups were added).
    pub pools: Vec<Pool>,
    /// The last time slice seen per tick period (`supervisord.ticks`).
    last_tick: [i64; 3],
}

impl Bus {
    pub fn new(now: f64) -> Bus {
        Bus {
            pools: Vec::new(),
            last_tick: TICKS.map(|(_, p)| timeslice(p, now)),
        }
    }

    fn tick_subscribed(&self, etype: EventType) -> bool {
        self.pools
            .iter()
            .any(|p| p.subscriptions.iter().any(|s| etype.is_a(*s)))
    }

    /// A pool subscribes (`EventListenerPool._subscribe`). Unknown event names were rejected
    /// when the config was read; any left are ignored.
    pub fn add_pool(
        &mut self,
        name: &str,
        events: &[String],
        buffer_size: u32,
        listeners: &[String],
        now: f64,
    ) {
        // Periods nobody listened to kept no clock: start them now, as the reference's clock
        // ran all along.
        for (i, (t, p)) in TICKS.iter().enumerate() {
            if !self.tick_subscribed(*t) {
                self.last_tick[i] = timeslice(*p, now);
            }
        }
        let subscriptions = events
            .iter()
            .filter_map(|e| EventType::from_name(e.trim()))
            .collect();
        self.pools.push(Pool {
            name: name.to_string(),
            subscriptions,
            buffer_size: buffer_size.max(1) as usize,
            buffer: VecDeque::new(),
            serial: None,
            listeners: listeners
                .iter()
                .map(|l| (l.clone(), ListenerSlot::default()))
                .collect(),
        });
    }

    /// A pool unsubscribes (`before_remove`); its buffer is dropped.
    pub fn remove_pool(&mut self, name: &str) {
        self.pools.retain(|p| p.name != name);
    }

    pub fn pool_mut(&mut self, name: &str) -> Option<&mut Pool> {
        self.pools.iter_mut().find(|p| p.name == name)
    }

    /// `events.notify`: hand an event to every subscribed pool.
    pub fn notify(&mut self, event: Event) {
        let event = Arc::new(event);
        let mut serial = None;
        for pool in &mut self.pools {
            let mut pool_serial = None;
            let n = pool
                .subscriptions
                .iter()
                .filter(|s| event.etype.is_a(**s))
                .count();
            for _ in 0..n {
                let s = *serial.get_or_insert_with(next_global_serial);
                pool.accept(event.clone(), s, pool_serial, false);
                if pool_serial.is_none() {
                    pool_serial = pool.serial;
                }
            }
        }
    }

    /// When the next tick is due (wall-clock seconds), if any pool wants ticks: no pool, no
    /// timer.
    pub fn next_tick(&self) -> Option<f64> {
        TICKS
            .iter()
            .enumerate()
            .filter(|(_, (t, _))| self.tick_subscribed(*t))
            // A hair past the boundary, so a timer that wakes on it finds the new slice.
            .map(|(i, (_, p))| (self.last_tick[i] + p) as f64 + 0.001)
            .reduce(f64::min)
    }

    /// `supervisord.tick`: send the ticks whose time slice rolled over.
    pub fn tick(&mut self, now: f64) {
        for (i, (t, p)) in TICKS.iter().enumerate() {
            let this = timeslice(*p, now);
            if this != self.last_tick[i] {
                self.last_tick[i] = this;
                if self.tick_subscribed(*t) {
                    self.notify(Event::tick(*t, this));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bus_with(pools: &[(&str, &[&str], u32)]) -> Bus {
        let mut b = Bus::new(1000.0);
        for (name, events, size) in pools {
            let ev: Vec<String> = events.iter().map(|s| s.to_string()).collect();
            b.add_pool(name, &ev, *size, &["l".to_string()], 1000.0);
        }
        b
    }

    fn serials(p: &Pool) -> Vec<(u64, u64)> {
        p.buffer.iter().map(|q| (q.serial, q.pool_serial)).collect()
    }

    #[test]
    fn subscriptions_serials_and_parents() {
        let mut b = bus_with(&[
            ("a", &["PROCESS_STATE"], 10),
            ("b", &["EVENT"], 10),
            ("c", &["TICK_5"], 10),
        ]);
        b.notify(Event::group(true, "g"));
        b.notify(Event::process_state(
            "p",
            "p",
            "STOPPED",
            EventType::ProcessStateStarting,
            true,
            0,
            0,
        ));
        let a = serials(&b.pools[0]);
        let bb = serials(&b.pools[1]);
        assert_eq!(a.len(), 1);
        assert_eq!(bb.len(), 2);
        assert_eq!(a[0].1, 0);
        assert_eq!(bb[1].1, 1);
        // One global serial per event, shared by the pools.
        assert_eq!(a[0].0, bb[1].0);
        // Later event, later serial (other tests share the process-wide counter, so not +1).
        assert!(bb[0].0 < bb[1].0);
        assert!(b.pools[2].buffer.is_empty());
    }

    #[test]
    fn overlapping_subscriptions_queue_twice() {
        let mut b = bus_with(&[("a", &["PROCESS_GROUP", "PROCESS_GROUP_ADDED"], 10)]);
        b.notify(Event::group(true, "g"));
        let s = serials(&b.pools[0]);
        assert_eq!(s.len(), 2);
        assert_eq!(s[0], s[1]);
    }

    #[test]
    fn full_buffer_drops_oldest_and_requeue_goes_to_head() {
        let mut b = bus_with(&[("a", &["EVENT"], 2)]);
        for g in ["x", "y", "z"] {
            b.notify(Event::group(true, g));
        }
        let pool = &mut b.pools[0];
        let names: Vec<&str> = pool
            .buffer
            .iter()
            .map(|q| q.event.payload.as_str())
            .collect();
        assert_eq!(names, vec!["groupname:y\n", "groupname:z\n"]);
        let q = pool.buffer.pop_front().unwrap();
        pool.requeue(q.clone());
        assert_eq!(pool.buffer.front().unwrap().pool_serial, q.pool_serial);
        // Re-queue into a full buffer: the oldest goes, the re-queued event is at the head.
        let extra = Queued {
            event: q.event.clone(),
            serial: 99,
            pool_serial: 99,
        };
        pool.requeue(extra);
        assert_eq!(pool.buffer.len(), 2);
        assert_eq!(pool.buffer.front().unwrap().serial, 99);
    }

    #[test]
    fn ticks_only_when_subscribed() {
        let mut b = Bus::new(1002.0);
        assert_eq!(b.next_tick(), None);
        b.tick(1010.0);
        b.add_pool("t", &["TICK_5".to_string()], 10, &[], 1012.0);
        assert_eq!(b.next_tick(), Some(1015.0 + 0.001));
        b.tick(1013.0);
        assert!(b.pools[0].buffer.is_empty());
        b.tick(1016.0);
        assert_eq!(b.pools[0].buffer.len(), 1);
        assert_eq!(b.pools[0].buffer[0].event.payload, "when:1015");
        assert_eq!(b.next_tick(), Some(1020.0 + 0.001));
        let mut b = Bus::new(3599.0);
        b.add_pool("t", &["TICK".to_string()], 10, &[], 3599.0);
        assert_eq!(b.next_tick(), Some(3600.0 + 0.001));
        b.tick(3600.5);
        let names: Vec<EventType> = b.pools[0].buffer.iter().map(|q| q.event.etype).collect();
        assert_eq!(
            names,
            vec![EventType::Tick5, EventType::Tick60, EventType::Tick3600]
        );
    }
}
