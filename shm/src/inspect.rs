//! The live state of each kind of segment, for
//! [`segments::inspect`](crate::segments::inspect): read through each
//! type's own queries, or, where opening would take something (a pipe's
//! ends) or needs the element type (a queue), from the control block
//! directly. Nothing is taken, claimed or moved.

use shmipc_core::fingerprint::Fingerprint;
use shmipc_core::header::Kind;
use shmipc_core::layout::QueueMode;
use shmipc_core::park::{Liveness, Owner};

use crate::error::{Error, Result};
use crate::segments::Alive;

/// Field and value, in the order they are shown.
pub(crate) type State = Vec<(&'static str, String)>;

/// The state of the segment `name` of `kind`, whose payload has
/// `fingerprint` (as its header records).
pub(crate) fn state(name: &str, kind: Kind, fingerprint: Fingerprint) -> Result<State> {
    Ok(match kind {
        Kind::Lock => {
            let lock = crate::Lock::open(name)?;
            vec![
                ("locked", yes_no(lock.is_locked())),
                ("holder", pid_holder(lock.holder_pid())),
                ("poisoned by", pid_holder(lock.poisoned_by())),
                ("sleeping waiters", yes_no(lock.has_parked_waiters())),
            ]
        }
        Kind::RLock => {
            let lock = crate::RLock::open(name)?;
            vec![
                ("locked", yes_no(lock.is_locked())),
                ("holder", pid_holder(lock.holder_pid())),
                ("depth", lock.depth().unwrap_or(0).to_string()),
                ("poisoned by", pid_holder(lock.poisoned_by())),
            ]
        }
        Kind::Semaphore => {
            let sem = crate::Semaphore::open(name)?;
            vec![("value", sem.value().to_string())]
        }
        Kind::BoundedSemaphore => {
            let sem = crate::BoundedSemaphore::open(name)?;
            vec![
                ("value", sem.value().to_string()),
                ("bound", sem.bound().to_string()),
            ]
        }
        Kind::Event => {
            let event = crate::Event::open(name)?;
            vec![("set", yes_no(event.is_set()))]
        }
        Kind::Condition => condition(name)?,
        Kind::Barrier => {
            let barrier = crate::Barrier::open(name)?;
            vec![
                ("parties", barrier.parties().to_string()),
                ("waiting", barrier.n_waiting().to_string()),
                ("broken", yes_no(barrier.is_broken())),
            ]
        }
        Kind::Queue => queue(name, fingerprint)?,
        Kind::MessageQueue => {
            let channel = crate::message::channel_states(name, kind)?;
            let mut state = Vec::new();
            for c in &channel {
                state.extend([
                    ("used bytes", c.used.to_string()),
                    ("ring bytes", c.ring_bytes.to_string()),
                    ("closed", yes_no(c.closed)),
                    ("sending now", holder(c.sender)),
                    ("receiving now", holder(c.receiver)),
                    ("abandoned messages", c.abandoned.to_string()),
                ]);
            }
            state
        }
        Kind::Pipe => {
            let channels = crate::message::channel_states(name, kind)?;
            // The first end receives on channel 0; on a duplex pipe it sends
            // on channel 1.
            let first = channels[0].receiver;
            let second = channels[0].sender;
            let mut state = vec![
                ("duplex", yes_no(channels.len() == 2)),
                ("first end", holder(first)),
                ("second end", holder(second)),
                // A closed (or dead) end marks its side of every channel.
                ("first end closed", yes_no(channels[0].receiver_gone)),
                ("second end closed", yes_no(channels[0].closed)),
            ];
            let waiting = [
                "bytes waiting for the first end",
                "bytes waiting for the second end",
            ];
            for (c, label) in channels.iter().zip(waiting) {
                state.push((label, c.used.to_string()));
            }
            state
        }
        Kind::SharedMemory => {
            let block = crate::SharedMemory::open(name)?;
            vec![("bytes", block.size().to_string())]
        }
        // Cells: what the header records is what there is to say without
        // the element type (`segments::info` has it).
        Kind::Value | Kind::RawValue | Kind::Array | Kind::RawArray => Vec::new(),
        _ => Vec::new(),
    })
}

/// A condition over either kind of lock: the one it was created over opens.
fn condition(name: &str) -> Result<State> {
    let waiting = match crate::Condition::<crate::Lock>::open(name) {
        Ok(c) => c.n_waiting(),
        Err(Error::LockKindMismatch { .. }) => {
            crate::Condition::<crate::RLock>::open(name)?.n_waiting()
        }
        Err(e) => return Err(e),
    };
    Ok(vec![("waiting", waiting.to_string())])
}

fn queue(name: &str, fingerprint: Fingerprint) -> Result<State> {
    let q = crate::queue::queue_state(name, fingerprint)?;
    let mut state = vec![
        (
            "mode",
            match q.mode {
                QueueMode::Spsc => "SPSC",
                QueueMode::Mpmc => "MPMC",
            }
            .to_owned(),
        ),
        ("depth", q.len.min(q.capacity).to_string()),
        ("capacity", q.capacity.to_string()),
        ("closed", yes_no(q.closed)),
    ];
    if q.mode == QueueMode::Spsc {
        state.push(("producer", holder(q.producer)));
        state.push(("consumer", holder(q.consumer)));
    } else {
        state.push(("dead puts passed over", q.passed_over.to_string()));
    }
    if q.joinable {
        state.push(("tasks done", q.tasks_done.to_string()));
    }
    Ok(state)
}

fn yes_no(b: bool) -> String {
    if b { "yes" } else { "no" }.to_owned()
}

/// A role or lock holder recorded with its start time: pid, thread and
/// whether that very process is alive.
fn holder(owner: Option<Owner>) -> String {
    match owner {
        None => "none".to_owned(),
        Some(o) => {
            let alive = match crate::identity::process_liveness(&o) {
                Liveness::Alive => "alive",
                Liveness::Dead => "dead",
            };
            format!("pid {} (thread {}, {alive})", o.pid, o.tid)
        }
    }
}

/// A holder recorded by pid alone.
fn pid_holder(pid: Option<u32>) -> String {
    match pid {
        None => "none".to_owned(),
        Some(pid) => match Alive::of_pid(pid) {
            Alive::Yes => format!("pid {pid} (alive)"),
            Alive::No => format!("pid {pid} (dead)"),
        },
    }
}
