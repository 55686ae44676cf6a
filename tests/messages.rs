//! MessageQueue, SimpleQueue and pipes across real processes.

mod common;

use std::time::Duration;

use common::{args, name, role, spawn, tell_parent, wait_for_parent, Cleanup, Proc};
use serde::{Deserialize, Serialize};
use shmipc::{Connection, Error, MessageQueue, RecvError, SendError, SimpleQueue};

/// A message that checks itself: its sequence number, its length, and
/// bytes that follow from both, so that a torn, partial or mixed-up
/// message is seen.
fn message(seq: u64, len: usize) -> Vec<u8> {
    let len = len.max(16);
    let mut m = Vec::with_capacity(len);
    m.extend_from_slice(&seq.to_le_bytes());
    m.extend_from_slice(&(len as u64).to_le_bytes());
    m.extend((16..len).map(|i| (i as u64 ^ seq.wrapping_mul(0x9e37_79b9)) as u8));
    m
}

/// The sequence number of a message made by [`message`], if it is intact.
fn check(m: &[u8]) -> Option<u64> {
    let seq = u64::from_le_bytes(m.get(..8)?.try_into().ok()?);
    let len = u64::from_le_bytes(m.get(8..16)?.try_into().ok()?) as usize;
    (len == m.len() && m == message(seq, len)).then_some(seq)
}

/// Lengths that cover whole records, wrap-arounds and streams of a 64 KiB
/// ring: 16 B to 100 KiB, from a cheap generator.
fn length(seq: u64) -> usize {
    let x = seq
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407)
        >> 33;
    match x % 8 {
        0 => 100 * 1024 - (x % 4096) as usize,
        1 | 2 => 4096 + (x % 20_000) as usize,
        _ => 16 + (x % 600) as usize,
    }
}

fn kill(child: &Proc) {
    // SAFETY: kill(2) on a child this test started and has not reaped.
    assert_eq!(unsafe { libc::kill(child.pid() as i32, libc::SIGKILL) }, 0);
}

#[derive(Debug, Serialize, Deserialize, PartialEq, Clone)]
struct Job {
    name: String,
    id: u64,
    weight: f64,
    tags: Vec<String>,
}

#[test]
fn one_and_sixty_four_mib_messages_go_through_a_64_kib_ring() {
    const SIZES: [usize; 2] = [1 << 20, 64 << 20];
    if role().as_deref() == Some("sender") {
        let q = MessageQueue::open(&name("big")).unwrap();
        for (seq, len) in SIZES.into_iter().enumerate() {
            q.put_bytes(&message(seq as u64, len)).unwrap();
        }
        return;
    }
    let _cleanup = Cleanup::new(&["big"]);
    let q = MessageQueue::create(&name("big"), 64 * 1024).unwrap();
    let child = spawn(
        "one_and_sixty_four_mib_messages_go_through_a_64_kib_ring",
        "sender",
        &[],
    );
    for (seq, len) in SIZES.into_iter().enumerate() {
        let got = q.get_bytes().unwrap();
        assert_eq!(got.len(), len);
        assert_eq!(check(&got), Some(seq as u64));
    }
    child.assert_success();
}

#[test]
fn a_buffer_too_small_or_a_maximum_too_low_keeps_the_message() {
    let _cleanup = Cleanup::new(&["small-buffer"]);
    let (mut a, b) = shmipc::pipe(&name("small-buffer"), true).unwrap();
    for len in [100, 300_000] {
        let sent = message(len as u64, len);
        let sender = &mut a;
        let sent_ref = &sent;
        std::thread::scope(|s| {
            s.spawn(move || sender.send_bytes(sent_ref).unwrap());
            let mut small = vec![0u8; len - 1];
            match b.recv_bytes_into(&mut small) {
                Err(RecvError::BufferTooSmall { needed, .. }) => assert_eq!(needed, len),
                other => panic!("expected BufferTooSmall, got {other:?}"),
            }
            match b.recv_bytes_max(len - 1) {
                Err(RecvError::TooLong { len: found, .. }) => assert_eq!(found, len),
                other => panic!("expected TooLong, got {other:?}"),
            }
            let mut buffer = vec![0u8; len + 10];
            assert_eq!(b.recv_bytes_into(&mut buffer).unwrap(), len);
            assert_eq!(&buffer[..len], &sent[..]);
        });
    }
}

#[test]
fn a_pipe_ends_in_eof_after_its_peer_is_killed() {
    if role().as_deref() == Some("peer") {
        let end = Connection::open(&name("eof")).unwrap();
        for seq in 0..100 {
            end.send_bytes(&message(seq, 64)).unwrap();
        }
        tell_parent("sent");
        wait_for_parent();
        return;
    }
    let _cleanup = Cleanup::new(&["eof"]);
    let end = Connection::create(&name("eof"), true).unwrap();
    let mut child = spawn("a_pipe_ends_in_eof_after_its_peer_is_killed", "peer", &[]);
    child.expect_line("sent");
    kill(&child);
    // Everything sent comes out, then end of file; a send fails.
    for seq in 0..100 {
        assert_eq!(check(&end.recv_bytes().unwrap()), Some(seq));
    }
    match end.recv_bytes_timeout(Duration::from_secs(30)) {
        Err(RecvError::Closed { .. }) => {}
        other => panic!("expected end of file, got {other:?}"),
    }
    assert!(end.poll(Some(Duration::ZERO)).unwrap());
    assert!(matches!(
        end.send_bytes(b"anyone?"),
        Err(SendError::Disconnected { .. })
    ));
    // The dead end cannot be opened again.
    assert!(matches!(
        Connection::open(&name("eof")),
        Err(Error::Closed { .. })
    ));
}

#[test]
fn a_pipe_carries_serde_values_both_ways_and_a_simplex_one_way() {
    if role().as_deref() == Some("echo") {
        let end = Connection::open(&name("echo")).unwrap();
        loop {
            match end.recv::<Job>() {
                Ok(mut job) => {
                    job.id += 1;
                    end.send(&job).unwrap();
                }
                // Not a Job: say so, in a message that is not one either.
                Err(RecvError::Decode { .. }) => end.send(&"nor is this").unwrap(),
                Err(RecvError::Closed { .. }) => return,
                Err(e) => panic!("{e}"),
            }
        }
    }
    let _cleanup = Cleanup::new(&["echo", "simplex"]);
    let end = Connection::create(&name("echo"), true).unwrap();
    let child = spawn(
        "a_pipe_carries_serde_values_both_ways_and_a_simplex_one_way",
        "echo",
        &[],
    );
    let mut job = Job {
        name: "resize".into(),
        id: 0,
        weight: 0.5,
        tags: vec!["a".into(), "b".repeat(100_000)],
    };
    for _ in 0..50 {
        end.send(&job).unwrap();
        let back: Job = end.recv().unwrap();
        assert_eq!(back.id, job.id + 1);
        job = back;
    }
    // A message that is not a Job: an error naming the type, and the pipe goes on.
    end.send(&"not a job").unwrap();
    match end.recv::<Job>() {
        Err(RecvError::Decode { type_name, .. }) => assert!(type_name.contains("Job")),
        other => panic!("expected a decode error, got {other:?}"),
    }
    drop(end);
    child.assert_success();

    let (rx, tx) = shmipc::pipe(&name("simplex"), false).unwrap();
    assert!(rx.readable() && !rx.writable() && tx.writable() && !tx.readable());
    assert!(rx.send_bytes(b"x").is_err());
    assert!(tx.recv_bytes().is_err());
    tx.send_bytes_range(b"0123456789", 3, 4).unwrap();
    assert_eq!(rx.recv_bytes().unwrap(), b"3456");
    assert!(tx.send_bytes_range(b"0123", 3, 4).is_err());
}

#[test]
fn producers_killed_mid_message_leave_nothing_torn_and_no_wedge() {
    if role().as_deref() == Some("producer") {
        let q = MessageQueue::open(&name("mid")).unwrap();
        let first: u64 = args()[0].parse().unwrap();
        for seq in first.. {
            q.put_bytes(&message(seq, length(seq))).unwrap();
        }
        return;
    }
    let _cleanup = Cleanup::new(&["mid"]);
    let q = MessageQueue::create(&name("mid"), 64 * 1024).unwrap();
    let test = "producers_killed_mid_message_leave_nothing_torn_and_no_wedge";
    let mut next_seq = 0u64;
    let mut got = 0u64;
    for round in 0..100u64 {
        let first = round << 32;
        let child = spawn(test, "producer", &[&first.to_string()]);
        // Take a few messages while it runs, then kill it wherever it is.
        let mut expect = first;
        for _ in 0..(3 + round % 7) {
            let m = q.get_bytes_timeout(Duration::from_secs(30)).unwrap();
            assert_eq!(check(&m), Some(expect), "round {round}");
            expect += 1;
            got += 1;
        }
        kill(&child);
        drop(child);
        // What it finished is intact and in order; a half-sent message
        // never comes out.
        while let Ok(m) = q.try_get_bytes() {
            assert_eq!(check(&m), Some(expect), "round {round}");
            expect += 1;
            got += 1;
        }
        next_seq = next_seq.max(expect);
    }
    // The queue goes on: a put and a get after the last kill.
    q.put_bytes(&message(7, 40_000)).unwrap();
    assert_eq!(check(&q.get_bytes().unwrap()), Some(7));
    assert!(got >= 100 * 3, "{got} messages");
    // Some kills landed in the middle of a message streamed in parts.
    assert!(q.abandoned_messages() > 0);
    eprintln!(
        "{got} messages taken, {} abandoned part-way by a kill",
        q.abandoned_messages()
    );
}

#[test]
fn many_producers_and_consumers_share_a_queue_exactly_once() {
    const PER_PRODUCER: u64 = 300;
    if role().as_deref() == Some("producer") {
        let q = MessageQueue::open(&name("mpmc")).unwrap();
        let id: u64 = args()[0].parse().unwrap();
        for i in 0..PER_PRODUCER {
            let seq = id << 32 | i;
            q.put_bytes(&message(seq, length(seq))).unwrap();
        }
        return;
    }
    if role().as_deref() == Some("consumer") {
        let q = MessageQueue::open(&name("mpmc")).unwrap();
        let mut seen = Vec::new();
        loop {
            match q.get_bytes() {
                Ok(m) => seen.push(check(&m).expect("an intact message")),
                Err(RecvError::Closed { .. }) => break,
                Err(e) => panic!("{e}"),
            }
        }
        tell_parent(&format!(
            "seen {}",
            seen.iter()
                .map(u64::to_string)
                .collect::<Vec<_>>()
                .join(",")
        ));
        return;
    }
    let _cleanup = Cleanup::new(&["mpmc"]);
    let q = MessageQueue::create(&name("mpmc"), 64 * 1024).unwrap();
    let test = "many_producers_and_consumers_share_a_queue_exactly_once";
    let mut consumers: Vec<Proc> = (0..2).map(|_| spawn(test, "consumer", &[])).collect();
    let producers: Vec<Proc> = (0..3)
        .map(|id| spawn(test, "producer", &[&id.to_string()]))
        .collect();
    for p in producers {
        p.assert_success();
    }
    q.close();
    let mut all: Vec<u64> = Vec::new();
    for c in &mut consumers {
        let line = c.expect_line("seen");
        all.extend(
            line.split(',')
                .filter(|s| !s.is_empty())
                .map(|s| s.parse::<u64>().unwrap()),
        );
    }
    for c in consumers {
        c.assert_success();
    }
    all.sort_unstable();
    let expected: Vec<u64> = (0..3u64)
        .flat_map(|id| (0..PER_PRODUCER).map(move |i| id << 32 | i))
        .collect();
    assert_eq!(all, expected);
}

#[test]
fn garbage_in_the_ring_is_an_error_never_a_read_outside_it() {
    use std::os::unix::fs::FileExt;
    let _cleanup = Cleanup::new(&["garbage"]);
    let q = MessageQueue::create(&name("garbage"), 4096).unwrap();
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(format!("/dev/shm/{}{}", shmipc::OS_PREFIX, name("garbage")))
        .unwrap();
    // The first record's header: after the segment header, the control
    // block and the positions (the tail's block, then the head's).
    use shmipc_core::layout::{CHANNEL_CONTROL_SIZE, RING_INDICES_SIZE};
    let positions = shmipc_core::header::PAYLOAD_OFFSET + CHANNEL_CONTROL_SIZE;
    let buffer = (positions + RING_INDICES_SIZE) as u64;
    let mut good = [0u8; 8];
    for bad in [
        u64::MAX,
        0x0000_0000_ffff_ffff, // a length past everything
        0x0000_0000_0000_0008, // a header without the bit every header has
        0x0000_0000_8000_1000, // a length past the buffer's end
        0xdead_beef_8000_0008, // another position's header
        1 << 32 | 1 << 31 | 8, // a pad shorter than the buffer's rest
    ] {
        q.put_bytes(b"12345678").unwrap();
        file.read_exact_at(&mut good, buffer).unwrap();
        file.write_all_at(&bad.to_ne_bytes(), buffer).unwrap();
        match q.try_get_bytes() {
            Err(RecvError::Failed(Error::Corrupt { .. })) => {}
            other => panic!("header {bad:#x}: expected Corrupt, got {other:?}"),
        }
        // Put right again, the message is there, whole.
        file.write_all_at(&good, buffer).unwrap();
        assert_eq!(q.try_get_bytes().unwrap(), b"12345678");
        // Start the next round at the same place: a ring as new has equal
        // positions and nothing but zeros in its buffer.
        let head_at = (positions + 128) as u64;
        file.write_all_at(&[0; 8], head_at).unwrap();
        file.write_all_at(&[0; 8], head_at - 128).unwrap();
        file.write_all_at(&[0; 8], buffer).unwrap();
    }
    // A head off its word, and a tail further from it than the ring:
    // refused by both sides (of a fresh handle: `q` remembers a head the
    // scribbles above took back).
    let (tail_at, head_at) = (positions as u64, (positions + 128) as u64);
    file.write_all_at(&(1u64 << 40).to_ne_bytes(), tail_at)
        .unwrap();
    file.write_all_at(&3u64.to_ne_bytes(), head_at).unwrap();
    let q = MessageQueue::open(&name("garbage")).unwrap();
    assert!(matches!(
        q.try_get_bytes(),
        Err(RecvError::Failed(Error::Corrupt { .. }))
    ));
    assert!(matches!(
        q.try_put_bytes(b"x"),
        Err(SendError::Failed(Error::Corrupt { .. }))
    ));
}

#[test]
fn a_queue_closes_drains_and_says_which_wait_timed_out() {
    let _cleanup = Cleanup::new(&["closing", "simple"]);
    let q = MessageQueue::create(&name("closing"), 128).unwrap();
    while q.try_put_bytes(&[1; 24]).is_ok() {}
    match q.put_bytes_timeout(&[1; 24], Duration::from_millis(20)) {
        Err(e @ SendError::TimedOut { .. }) => {
            assert!(e.to_string().contains("send"), "{e}");
            assert!(matches!(Error::from(e), Error::TimedOut { .. }));
        }
        other => panic!("{other:?}"),
    }
    q.close();
    assert!(matches!(q.put_bytes(b"x"), Err(SendError::Closed { .. })));
    let mut drained = 0;
    loop {
        match q.get_bytes_timeout(Duration::from_secs(5)) {
            Ok(m) => {
                assert_eq!(m, [1; 24]);
                drained += 1;
            }
            Err(RecvError::Closed { .. }) => break,
            Err(e) => panic!("{e}"),
        }
    }
    assert!(drained > 0);

    let s = SimpleQueue::<Job>::create(&name("simple")).unwrap();
    assert!(s.empty());
    let job = Job {
        name: "x".into(),
        id: 1,
        weight: 2.0,
        tags: vec![],
    };
    s.put(&job).unwrap();
    assert!(!s.empty());
    assert_eq!(
        SimpleQueue::<Job>::open(&name("simple"))
            .unwrap()
            .get()
            .unwrap(),
        job
    );
    match MessageQueue::open(&name("simple"))
        .unwrap()
        .get_bytes_timeout(Duration::from_millis(5))
    {
        Err(e @ RecvError::TimedOut { .. }) => assert!(e.to_string().contains("receive")),
        other => panic!("{other:?}"),
    }
}

#[test]
fn wait_wakes_for_whichever_of_several_objects_is_ready_first() {
    use shmipc::Event;
    let test = "wait_wakes_for_whichever_of_several_objects_is_ready_first";
    if role().as_deref() == Some("poker") {
        let end = Connection::open(&name("w-pipe")).unwrap();
        let q = MessageQueue::open(&name("w-queue")).unwrap();
        let e = Event::open(&name("w-event")).unwrap();
        for step in ["pipe", "queue", "event"] {
            assert_eq!(wait_for_parent(), step);
            match step {
                "pipe" => end.send_bytes(b"to the pipe").unwrap(),
                "queue" => q.put_bytes(b"to the queue").unwrap(),
                _ => e.set(),
            }
        }
        wait_for_parent();
        return;
    }
    let _cleanup = Cleanup::new(&["w-pipe", "w-queue", "w-event"]);
    let end = Connection::create(&name("w-pipe"), true).unwrap();
    let q = MessageQueue::create(&name("w-queue"), 4096).unwrap();
    let e = Event::create(&name("w-event")).unwrap();
    let mut child = spawn(test, "poker", &[]);
    let long = Some(Duration::from_secs(30));
    assert!(shmipc::wait(&[&end, &q, &e], Some(Duration::from_millis(5))).is_empty());
    child.send("pipe");
    assert_eq!(shmipc::wait(&[&end, &q, &e], long), [0]);
    assert_eq!(end.recv_bytes().unwrap(), b"to the pipe");
    child.send("queue");
    assert_eq!(shmipc::wait(&[&end, &q, &e], long), [1]);
    assert_eq!(q.get_bytes().unwrap(), b"to the queue");
    child.send("event");
    assert_eq!(shmipc::wait(&[&end, &q, &e], long), [2]);
    e.clear();
    // The peer's death is an end of file: ready, with nothing sent.
    kill(&child);
    drop(child);
    assert_eq!(shmipc::wait(&[&end, &q, &e], long), [0]);
    assert!(matches!(end.recv_bytes(), Err(RecvError::Closed { .. })));
}

#[test]
fn join_waits_for_every_task_and_reports_a_consumer_killed_holding_some() {
    use shmipc::{JoinError, JoinableMessageQueue};
    let test = "join_waits_for_every_task_and_reports_a_consumer_killed_holding_some";
    if role().as_deref() == Some("worker") {
        let q = JoinableMessageQueue::open(&name("jobs")).unwrap();
        let mark_done = args()[0] == "done";
        for _ in 0..3 {
            let _job: Job = q.get().unwrap();
            if mark_done {
                q.task_done().unwrap();
            }
        }
        tell_parent("took three");
        wait_for_parent();
        return;
    }
    let _cleanup = Cleanup::new(&["jobs"]);
    let q = JoinableMessageQueue::create(&name("jobs"), 64 * 1024).unwrap();
    let job = |id| Job {
        name: "render".into(),
        id,
        weight: 1.0,
        tags: vec!["x".repeat(30_000)], // streamed: longer than a quarter ring
    };
    let mut worker = spawn(test, "worker", &["done"]);
    for id in 0..3 {
        q.put(&job(id)).unwrap();
    }
    worker.expect_line("took three");
    q.join_timeout(Duration::from_secs(30)).unwrap();
    drop(worker);
    // A worker that takes three and dies before marking them done.
    let mut worker = spawn(test, "worker", &["keep"]);
    for id in 3..6 {
        q.put(&job(id)).unwrap();
    }
    worker.expect_line("took three");
    assert!(matches!(
        q.join_timeout(Duration::from_millis(20)),
        Err(JoinError::TimedOut { .. })
    ));
    kill(&worker);
    drop(worker);
    match q.join_timeout(Duration::from_secs(30)) {
        Err(JoinError::ConsumerDied { tasks, .. }) => assert_eq!(tasks, 3),
        other => panic!("expected ConsumerDied, got {other:?}"),
    }
    q.join_timeout(Duration::from_secs(30)).unwrap();
}
