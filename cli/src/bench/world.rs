//! What the two processes of `shmipc bench` share: this crate's objects,
//! opened by name, and the OS pipes and sockets, inherited by the peer.

use std::fs::File;
use std::os::fd::{FromRawFd, OwnedFd};
use std::sync::atomic::{AtomicU32, AtomicU64};

use shmipc::{
    Barrier, Connection, Event, Lock, MessageQueue, Queue, Semaphore, SharedMemory, Value,
};

/// Bytes of the one-way message cases.
pub const PAGE: usize = 4096;
pub const BIG_PAGE: usize = 64 * 1024;
pub const LOAN: usize = 64 << 20;

/// One side's handles on everything the cases use.
pub struct World {
    /// The floors' words: the one line at 0, the two lines at 128 and 256,
    /// the futex words at 512 and 640 (each in a 128-byte block of its own).
    pub words: SharedMemory,
    pub lock: Lock,
    pub value: Value<u64>,
    pub sems: [Semaphore; 2],
    pub events: [Event; 2],
    pub barrier: Barrier,
    pub spsc: [Queue<u64>; 2],
    pub mpmc: [Queue<u64>; 2],
    pub spsc_stream: Queue<u64>,
    pub mpmc_stream: Queue<u64>,
    pub mq: [MessageQueue; 2],
    pub mq_stream: MessageQueue,
    pub mq_big: MessageQueue,
    /// The parent's is the first end (it receives the streams).
    pub ping: Connection,
    pub stream: Connection,
    /// OS pipes: this side's ends, by the file descriptors in [`Fds`].
    pub os_out: File,
    pub os_in: File,
    pub os_stream: File,
    pub unix_ping: File,
    pub unix_stream: File,
}

/// The descriptors of the OS channels, in the order the peer's argument
/// lists them: ping out, ping in, stream, Unix ping, Unix stream.
pub type Fds = [i32; 5];

fn name(scope: u32, what: &str) -> String {
    format!("bench-{scope}-{what}")
}

impl World {
    /// Creates everything, and the OS channels: the parent's world and the
    /// peer's descriptors (left open across `exec`).
    pub fn create(scope: u32) -> shmipc::Result<(World, Fds)> {
        let n = |what| name(scope, what);
        let (parent_in, child_out) = os_pipe();
        let (child_in, parent_out) = os_pipe();
        let (parent_stream, child_stream) = os_pipe();
        let (parent_unix, child_unix) = socket_pair();
        let (parent_unix_stream, child_unix_stream) = socket_pair();
        let world = World {
            words: SharedMemory::create(&n("words"), 1024)?,
            lock: Lock::create(&n("lock"))?,
            value: Value::create(&n("value"), 0)?,
            sems: [
                Semaphore::create(&n("sem-a"), 0)?,
                Semaphore::create(&n("sem-b"), 0)?,
            ],
            events: [Event::create(&n("ev-a"))?, Event::create(&n("ev-b"))?],
            barrier: Barrier::create(&n("barrier"), 2)?,
            spsc: [
                Queue::create_spsc(&n("spsc-a"), 1024)?,
                Queue::create_spsc(&n("spsc-b"), 1024)?,
            ],
            mpmc: [
                Queue::create(&n("mpmc-a"), 1024)?,
                Queue::create(&n("mpmc-b"), 1024)?,
            ],
            spsc_stream: Queue::create_spsc(&n("spsc-stream"), 4096)?,
            mpmc_stream: Queue::create(&n("mpmc-stream"), 4096)?,
            mq: [
                MessageQueue::create(&n("mq-a"), 64 * 1024)?,
                MessageQueue::create(&n("mq-b"), 64 * 1024)?,
            ],
            mq_stream: MessageQueue::create(&n("mq-stream"), 1 << 20)?,
            mq_big: MessageQueue::create(&n("mq-big"), 2 * LOAN + PAGE)?,
            ping: Connection::create(&n("ping"), true)?,
            stream: Connection::create(&n("stream"), false)?,
            os_out: file(parent_out),
            os_in: file(parent_in),
            os_stream: file(parent_stream),
            unix_ping: file(parent_unix),
            unix_stream: file(parent_unix_stream),
        };
        Ok((
            world,
            [
                child_out,
                child_in,
                child_stream,
                child_unix,
                child_unix_stream,
            ],
        ))
    }

    /// Opens what the parent created, and takes the inherited descriptors.
    pub fn open(scope: u32, fds: Fds) -> shmipc::Result<World> {
        let n = |what| name(scope, what);
        Ok(World {
            words: SharedMemory::open(&n("words"))?,
            lock: Lock::open(&n("lock"))?,
            value: Value::open(&n("value"))?,
            sems: [Semaphore::open(&n("sem-a"))?, Semaphore::open(&n("sem-b"))?],
            events: [Event::open(&n("ev-a"))?, Event::open(&n("ev-b"))?],
            barrier: Barrier::open(&n("barrier"))?,
            spsc: [Queue::open(&n("spsc-a"))?, Queue::open(&n("spsc-b"))?],
            mpmc: [Queue::open(&n("mpmc-a"))?, Queue::open(&n("mpmc-b"))?],
            spsc_stream: Queue::open(&n("spsc-stream"))?,
            mpmc_stream: Queue::open(&n("mpmc-stream"))?,
            mq: [
                MessageQueue::open(&n("mq-a"))?,
                MessageQueue::open(&n("mq-b"))?,
            ],
            mq_stream: MessageQueue::open(&n("mq-stream"))?,
            mq_big: MessageQueue::open(&n("mq-big"))?,
            ping: Connection::open(&n("ping"))?,
            stream: Connection::open(&n("stream"))?,
            os_out: file(fds[0]),
            os_in: file(fds[1]),
            os_stream: file(fds[2]),
            unix_ping: file(fds[3]),
            unix_stream: file(fds[4]),
        })
    }

    /// The word at byte `at` of [`words`](Self::words).
    pub fn word(&self, at: usize) -> &AtomicU64 {
        assert!(at.is_multiple_of(8) && at + 8 <= self.words.size());
        // SAFETY: an aligned word inside the block (asserted; the block is
        // page-aligned), used by both processes only atomically.
        unsafe { &*self.words.as_ptr().add(at).cast::<AtomicU64>() }
    }

    /// The futex word at byte `at` of [`words`](Self::words).
    pub fn futex_word(&self, at: usize) -> &AtomicU32 {
        assert!(at.is_multiple_of(4) && at + 4 <= self.words.size());
        // SAFETY: as for `word`.
        unsafe { &*self.words.as_ptr().add(at).cast::<AtomicU32>() }
    }
}

/// A pipe, both ends inheritable: (read, write).
fn os_pipe() -> (i32, i32) {
    let mut fds = [0; 2];
    // SAFETY: `fds` has room for the two descriptors `pipe` writes.
    let rc = unsafe { libc::pipe(fds.as_mut_ptr()) };
    assert_eq!(rc, 0, "pipe: {}", std::io::Error::last_os_error());
    (fds[0], fds[1])
}

/// A Unix stream socket pair, both ends inheritable.
fn socket_pair() -> (i32, i32) {
    let mut fds = [0; 2];
    // SAFETY: as for `os_pipe`.
    let rc = unsafe { libc::socketpair(libc::AF_UNIX, libc::SOCK_STREAM, 0, fds.as_mut_ptr()) };
    assert_eq!(rc, 0, "socketpair: {}", std::io::Error::last_os_error());
    (fds[0], fds[1])
}

fn file(fd: i32) -> File {
    // SAFETY: `fd` is an open descriptor this process owns from here on
    // (made above, or inherited and named by the parent).
    File::from(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Closes the peer's descriptors in the parent, once the peer has them.
pub fn close(fds: Fds) {
    for fd in fds {
        drop(file(fd));
    }
}
