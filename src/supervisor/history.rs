//! The dashboard's history (beyond the reference): resident memory and CPU of each process tree
//! over the last hour, in fixed-size rings, and the live updates the dashboard's stream carries.
//!
//! Each process has a [`Series`]: a fine ring of [`FINE_LEN`] samples (10 minutes at one sample
//! every [`SAMPLE_SECS`] s, the row's sparklines) and a coarse ring of [`COARSE_LEN`] buckets of
//! [`COARSE_SECS`] s (the hour of the larger chart: the highest memory and the mean CPU of each
//! bucket). A ring is allocated at its full size when its first sample arrives and never grows,
//! so a process costs at most `(FINE_LEN + COARSE_LEN) × 12` bytes (7.9 KiB) plus its name.
//!
//! Nothing here polls. The actor samples every process (one `/proc` scan) only while a
//! dashboard stream is subscribed ([`History::watched`]); with no viewer, only the processes a
//! `memory_limit` check reads get points, at that check's pace. While watched, every settle of
//! the actor compares a fingerprint of the processes' states and pids with the last one sent,
//! and pushes [`Update::States`] at once when it changed.

use std::collections::hash_map::DefaultHasher;
use std::collections::{HashMap, VecDeque};
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use tokio::sync::broadcast;

use super::restarts::Cause;
use super::{ProcessKey, ProcessView, Supervisor};

/// Seconds between two samples while a dashboard watches.
pub const SAMPLE_SECS: f64 = 2.0;
/// Fine samples kept per process: 10 minutes at [`SAMPLE_SECS`].
pub const FINE_LEN: usize = 300;
/// Width of one coarse bucket, in seconds.
pub const COARSE_SECS: u32 = 10;
/// Coarse buckets kept per process: one hour.
pub const COARSE_LEN: usize = 360;
/// Updates a slow stream may fall behind by before it is sent a fresh snapshot instead.
const BACKLOG: usize = 32;

/// One point: when (whole seconds since the epoch), resident KiB of the process tree, and CPU
/// of the tree in tenths of a percent of one core (0 when the process is not running).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Sample {
    pub t: u32,
    pub rss_kib: u32,
    pub cpu_permille: u16,
}

impl Sample {
    pub fn rss_bytes(&self) -> u64 {
        self.rss_kib as u64 * 1024
    }

    pub fn cpu_percent(&self) -> f64 {
        self.cpu_permille as f64 / 10.0
    }
}

/// A ring of samples of fixed capacity, allocated on its first push.
#[derive(Debug, Default)]
struct Ring {
    buf: VecDeque<Sample>,
}

impl Ring {
    fn push(&mut self, s: Sample, cap: usize) {
        if self.buf.capacity() == 0 {
            self.buf.reserve_exact(cap);
        }
        if self.buf.len() == cap {
            self.buf.pop_front();
        }
        self.buf.push_back(s);
    }
}

/// The coarse bucket being filled.
#[derive(Clone, Copy, Debug)]
struct Bucket {
    start: u32,
    rss_max: u32,
    cpu_sum: u32,
    n: u32,
}

impl Bucket {
    fn sample(&self) -> Sample {
        Sample {
            t: self.start,
            rss_kib: self.rss_max,
            cpu_permille: (self.cpu_sum / self.n.max(1)) as u16,
        }
    }
}

/// The history of one process.
#[derive(Debug, Default)]
pub struct Series {
    fine: Ring,
    coarse: Ring,
    bucket: Option<Bucket>,
    /// The last CPU reading: (time, pid, clock ticks of the tree).
    last_cpu: Option<(f64, i32, u64)>,
}

impl Series {
    /// Add a reading taken at `t` of the tree of `pid` (0: not running): its resident bytes
    /// and its CPU clock ticks so far; CPU % is the ticks' rate since the previous reading of
    /// the same pid.
    pub fn record(&mut self, t: f64, pid: i32, rss: u64, ticks: u64, hz: f64) -> Sample {
        let cpu = match self.last_cpu {
            Some((t0, pid0, ticks0)) if pid0 == pid && pid != 0 && t > t0 => {
                let secs = ticks.saturating_sub(ticks0) as f64 / hz.max(1.0);
                (secs / (t - t0) * 1000.0).round()
            }
            _ => 0.0,
        };
        self.last_cpu = (pid != 0).then_some((t, pid, ticks));
        let s = Sample {
            t: t.max(0.0) as u32,
            rss_kib: (rss / 1024).min(u32::MAX as u64) as u32,
            cpu_permille: cpu.clamp(0.0, u16::MAX as f64) as u16,
        };
        self.fine.push(s, FINE_LEN);
        let start = s.t - s.t % COARSE_SECS;
        match &mut self.bucket {
            Some(b) if b.start == start => {
                b.rss_max = b.rss_max.max(s.rss_kib);
                b.cpu_sum = b.cpu_sum.saturating_add(s.cpu_permille as u32);
                b.n += 1;
            }
            other => {
                if let Some(done) = other.take() {
                    self.coarse.push(done.sample(), COARSE_LEN);
                }
                *other = Some(Bucket {
                    start,
                    rss_max: s.rss_kib,
                    cpu_sum: s.cpu_permille as u32,
                    n: 1,
                });
            }
        }
        s
    }

    /// The fine samples taken at `since` or later (the sparklines' 10 minutes).
    pub fn recent(&self, since: u32) -> Vec<Sample> {
        self.fine
            .buf
            .iter()
            .filter(|s| s.t >= since)
            .copied()
            .collect()
    }

    /// The hour: the closed coarse buckets, then the fine samples of the open one.
    pub fn hour(&self, since: u32) -> Vec<Sample> {
        let open = self.bucket.map_or(u32::MAX, |b| b.start);
        let coarse = self
            .coarse
            .buf
            .iter()
            .filter(|s| s.t >= since && s.t < open);
        let fine = self.fine.buf.iter().filter(|s| s.t >= open);
        coarse.chain(fine).copied().collect()
    }

    fn is_empty(&self) -> bool {
        self.fine.buf.is_empty()
    }
}

/// What a dashboard stream is sent.
#[derive(Debug)]
pub enum Update {
    /// Every process, after some state or pid changed (or a group came or went).
    States(Vec<ProcessView>),
    /// One sample, taken at `t`, of every process that has a history, by namespec.
    Sample {
        t: u32,
        points: Vec<(String, Sample)>,
    },
}

/// The histories of all processes, and the dashboard streams' channel.
#[derive(Debug)]
pub struct History {
    series: HashMap<String, Series>,
    tx: broadcast::Sender<Arc<Update>>,
    /// When the next sample is due while watched (0.0: at once).
    next_sample: f64,
    /// Fingerprint of the states last sent.
    sent: u64,
}

impl Default for History {
    fn default() -> Self {
        History {
            series: HashMap::new(),
            tx: broadcast::channel(BACKLOG).0,
            next_sample: 0.0,
            sent: 0,
        }
    }
}

impl History {
    /// Whether a dashboard stream is subscribed.
    pub fn watched(&self) -> bool {
        self.tx.receiver_count() > 0
    }

    /// The history of a process, if it has one.
    pub fn series(&self, namespec: &str) -> Option<&Series> {
        self.series.get(namespec)
    }
}

/// Clock ticks per second of `/proc/PID/stat`'s CPU times.
fn clock_ticks() -> f64 {
    // SAFETY: sysconf has no preconditions.
    unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as f64
}

impl Supervisor {
    /// Subscribe a dashboard stream: it gets every [`Update`] from now on, and samples are
    /// taken while it (or another) stays subscribed.
    pub fn dashboard_subscribe(&mut self) -> broadcast::Receiver<Arc<Update>> {
        if !self.history.watched() {
            self.history.next_sample = 0.0;
        }
        self.history.tx.subscribe()
    }

    /// Every process in lexical order with its last 10 minutes.
    pub fn dashboard_snapshot(&self) -> Vec<(ProcessView, Vec<Sample>)> {
        let since = (self.host.now() as u32).saturating_sub(600);
        self.snapshot()
            .into_iter()
            .map(|v| {
                let hist = self.history.series(&v.id.namespec);
                let hist = hist.map(|s| s.recent(since)).unwrap_or_default();
                (v, hist)
            })
            .collect()
    }

    /// One process (by namespec) with its last hour; `None` when there is no such process.
    pub fn dashboard_process(&self, namespec: &str) -> Option<(ProcessView, Vec<Sample>)> {
        let key = self.find_spec(namespec)?;
        let view = self.views(vec![key]).pop()?;
        let since = (self.host.now() as u32).saturating_sub(3600);
        let hist = self.history.series(&view.id.namespec);
        let hist = hist.map(|s| s.hour(since)).unwrap_or_default();
        Some((view, hist))
    }

    /// Record readings of the given processes (from a `memory_limit` check: `(rss, ticks)`
    /// per key) while no dashboard takes samples of its own.
    pub(super) fn history_record(&mut self, keys: &[ProcessKey], usage: &[(u64, u64)]) {
        if self.history.watched() {
            return;
        }
        let t = self.host.now();
        let hz = clock_ticks();
        for (&key, &(rss, ticks)) in keys.iter().zip(usage) {
            let (ns, pid) = (self.proc(key).namespec(), self.proc(key).rec.pid);
            self.history
                .series
                .entry(ns)
                .or_default()
                .record(t, pid, rss, ticks, hz);
        }
    }

    /// At the end of each settle: while watched, push changed states and take a sample when
    /// one is due; when no longer watched, stop.
    pub(super) fn history_tick(&mut self) {
        if !self.history.watched() {
            self.history.next_sample = 0.0;
            self.history.sent = 0;
            return;
        }
        let print = self.states_fingerprint();
        if print != self.history.sent {
            self.history.sent = print;
            let _ = self
                .history
                .tx
                .send(Arc::new(Update::States(self.snapshot())));
        }
        let t = self.host.now();
        if t >= self.history.next_sample {
            self.history.next_sample = t + SAMPLE_SECS;
            self.take_sample(t);
        }
    }

    /// When the actor must wake for the next sample: only while watched.
    pub(super) fn history_deadline(&self) -> Option<f64> {
        self.history.watched().then_some(self.history.next_sample)
    }

    /// Read every running process tree once and send the points.
    fn take_sample(&mut self, t: f64) {
        let keys = self.all_lexical();
        let live: Vec<ProcessKey> = keys
            .iter()
            .copied()
            .filter(|&k| self.proc(k).rec.pid != 0)
            .collect();
        let pids: Vec<i32> = live.iter().map(|&k| self.proc(k).rec.pid).collect();
        let usage = self.host.tree_usage(&pids);
        let hz = clock_ticks();
        let mut read: HashMap<ProcessKey, (u64, u64)> = live.into_iter().zip(usage).collect();
        let mut old = std::mem::take(&mut self.history.series);
        let mut points = Vec::with_capacity(keys.len());
        for key in keys {
            let p = self.proc(key);
            let ns = p.namespec();
            let mut series = old.remove(&ns).unwrap_or_default();
            // A process that never ran gets no ring until it does.
            if p.rec.pid != 0 || !series.is_empty() {
                let (rss, ticks) = read.remove(&key).unwrap_or((0, 0));
                let s = series.record(t, p.rec.pid, rss, ticks, hz);
                points.push((ns.clone(), s));
            }
            // Processes that are gone (a removed group) are dropped with `old`.
            self.history.series.insert(ns, series);
        }
        let t = t as u32;
        let _ = self.history.tx.send(Arc::new(Update::Sample { t, points }));
    }

    /// A hash of what the dashboard's rows show besides the samples.
    fn states_fingerprint(&self) -> u64 {
        let mut h = DefaultHasher::new();
        for g in &self.groups {
            g.config.name.hash(&mut h);
            for p in &g.processes {
                p.config.name.hash(&mut h);
                (p.rec.state as i32, p.rec.pid, p.rec.spawnerr.as_deref()).hash(&mut h);
                for cause in Cause::ALL {
                    p.restarts.get(cause).hash(&mut h);
                }
            }
        }
        h.finish() | 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_is_the_rate_of_ticks_of_one_pid() {
        let mut s = Series::default();
        assert_eq!(s.record(100.0, 7, 4096, 0, 100.0).cpu_permille, 0);
        // 50 ticks at 100 Hz in 2 s: 25 % of a core.
        let p = s.record(102.0, 7, 8192, 50, 100.0);
        assert_eq!((p.rss_kib, p.cpu_permille), (8, 250));
        // A new pid starts over.
        assert_eq!(s.record(104.0, 8, 8192, 500, 100.0).cpu_permille, 0);
        assert_eq!(
            s.record(106.0, 0, 0, 0, 100.0),
            Sample {
                t: 106,
                ..Default::default()
            }
        );
    }

    #[test]
    fn rings_are_bounded_and_buckets_aggregate() {
        let mut s = Series::default();
        let t0 = 1_000_000.0;
        for i in 0..(FINE_LEN * 4) {
            s.record(t0 + 2.0 * i as f64, 1, (i as u64 % 7) * 1024, 0, 100.0);
        }
        assert_eq!(s.fine.buf.len(), FINE_LEN);
        assert_eq!(s.fine.buf.capacity(), FINE_LEN);
        assert!(s.coarse.buf.len() <= COARSE_LEN);
        let hour = s.hour(0);
        assert!(hour.windows(2).all(|w| w[0].t < w[1].t));
        // A bucket of 5 samples keeps their highest memory.
        assert!(hour.iter().take(hour.len() - 5).all(|b| b.rss_kib >= 4));
        let last = t0 as u32 + 2 * (FINE_LEN as u32 * 4 - 1);
        assert_eq!(s.recent(last - 10).len(), 6);
    }

    #[test]
    fn the_hour_is_coarse_then_fine() {
        let mut s = Series::default();
        for i in 0..40 {
            s.record(1000.0 + i as f64, 1, 1024 * (i + 1), 0, 100.0);
        }
        let h = s.hour(0);
        let want: Vec<u32> = [1000, 1010, 1020].into_iter().chain(1030..1040).collect();
        assert_eq!(h.iter().map(|x| x.t).collect::<Vec<_>>(), want);
        assert_eq!(h[0].rss_kib, 10);
    }
}
