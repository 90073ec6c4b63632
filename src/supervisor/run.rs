//! The actor's loop: settle, sleep until the next deadline or message, carry out the
//! messages (calls, reaped children, daemon signals), settle again; until the daemon has
//! shut down. A big start-up goes in batches of [`SPAWN_BATCH`] spawns with a pause between
//! two, so the clients on the same thread are answered meanwhile. Half a second after a burst
//! of messages, the daemon sheds the pages that burst left resident.

use std::time::Duration;

use tokio::sync::mpsc;
use tokio::time::Instant;

use super::{Mood, Msg, Supervisor, SupervisorHandle, memory};
use crate::config::LogLevel;
use crate::logs::mainlog::log;

/// At most this many spawns in one settle: a start-up of thousands of programs goes in
/// batches, with the messages that came meanwhile (a client's request) handled between two.
pub(super) const SPAWN_BATCH: usize = 64;

/// How long the actor waits after its last message before it sheds the memory that burst of
/// work left resident ([`memory::shed_idle_pages`]): once per burst, never while idle.
const QUIET: Duration = Duration::from_millis(500);

/// Carry out one message; true if it was a reaped child.
fn handle(sup: &mut Supervisor, msg: Msg) -> bool {
    match msg {
        Msg::Call(job) => job(sup),
        Msg::Reaped(pid, how) => {
            sup.reaped(pid, how);
            return true;
        }
        Msg::Signal(sig) => sup.daemon_signal(sig),
    }
    false
}

/// Run the actor until the daemon shuts down or restarts; returns the final mood and the
/// daemon's exit status.
pub async fn run(
    mut sup: Supervisor,
    tx: mpsc::UnboundedSender<Msg>,
    mut rx: mpsc::UnboundedReceiver<Msg>,
) -> (Mood, i32) {
    sup.handle = Some(SupervisorHandle { tx });
    sup.notify(crate::events::Event::supervisor_state(true));
    let mut started = false;
    // When to shed the pages the last burst of work left resident (see [`QUIET`]).
    let mut shed_at: Option<Instant> = None;
    loop {
        sup.settle();
        if !started && !sup.more_to_spawn {
            started = true;
            // Start-up is over: the config's text, its parse tree and the spawn scratch are
            // freed; give the heap pages they leave to the kernel, and let the code only
            // start-up ran stop counting as resident.
            memory::shed_idle_pages();
            shed_at = None;
        }
        if sup.mood < Mood::Running {
            sup.shutdown_report();
        }
        sup.stop_reports();
        if sup.finished() {
            break;
        }
        if sup.more_to_spawn {
            // Between two batches of a big start-up, 5 ms for everything else on this
            // thread: requests are answered and replies written, then the next batch.
            let pause = tokio::time::sleep(Duration::from_millis(5));
            tokio::pin!(pause);
            loop {
                tokio::select! {
                    Some(msg) = rx.recv() => { handle(&mut sup, msg); }
                    _ = &mut pause => break,
                }
            }
            sup.dirty = true;
            continue;
        }
        let next = sup.next_deadline().map(|d| {
            let secs = (d - sup.host.now()).max(0.0);
            Instant::now() + Duration::from_secs_f64(secs.min(1e6))
        });
        let wake = match (next, shed_at) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let msg = match wake {
            Some(at) => {
                tokio::select! {
                    m = rx.recv() => m,
                    _ = tokio::time::sleep_until(at) => {
                        if shed_at.is_some_and(|s| s <= Instant::now()) {
                            shed_at = None;
                            memory::shed_idle_pages();
                        }
                        if next.is_some_and(|n| n <= Instant::now()) {
                            sup.dirty = true;
                        }
                        continue;
                    }
                }
            }
            None => rx.recv().await,
        };
        let Some(msg) = msg else { break };
        // Handle what is already queued too before settling again (a burst of exits); the
        // reference notes the coalesced SIGCHLD after reaping, at debug.
        let mut reaped = false;
        let mut next = Some(msg);
        while let Some(msg) = next {
            reaped |= handle(&mut sup, msg);
            next = rx.try_recv().ok();
        }
        if reaped {
            log(LogLevel::Debug, "received SIGCHLD indicating a child quit");
        }
        sup.dirty = true;
        if started {
            shed_at = Some(Instant::now() + QUIET);
        }
    }
    sup.answer_waiters_at_exit();
    (sup.mood, sup.exit_code)
}
