//! The receiving side of a channel: the fast path, the wait for a message,
//! assembling a streamed one, `poll`, and loans read in place.

use super::*;

impl Channel {
    /// As [`send_fast`](Self::send_fast), for a receive of a whole message
    /// that fits `sink`: `None` sends the caller down the general path.
    #[inline]
    fn recv_fast(&self, sink: &mut Sink<'_>, hold: Hold) -> Option<Received> {
        let got = self.fast_role(Side::Receiver, hold, || {
            // SAFETY: as in `recv_step`: the receiver role is this caller's.
            let mut popper = unsafe { self.ring().popper() };
            let record = popper.peek().ok()??;
            if record.kind != RecordKind::Whole {
                return None;
            }
            // A loan stays in place, and a message too long for the sink
            // stays in the ring: both the general path's to handle.
            let got = match sink {
                Sink::Slice(buffer) => {
                    popper.read(&record, 0, buffer.get_mut(..record.len)?);
                    Received::Len(record.len)
                }
                Sink::Vec { max } if record.len <= *max => {
                    let mut message = vec![0; record.len];
                    popper.read(&record, 0, &mut message);
                    Received::Vec(message)
                }
                _ => return None,
            };
            popper.consume(&record);
            Some(got)
        })?;
        self.control().not_full.notify(&FutexWake, 1);
        Some(got)
    }

    /// Receives the next message into `sink`, waiting up to `timeout`
    /// (forever if `None`; not at all if zero) for it to begin. A message
    /// streamed in parts, once begun, is received whole while its parts
    /// keep coming, past the timeout if need be. Its sender's death, close
    /// or abandonment drops its parts, and the receive goes on to the next
    /// message; with a timeout, so does a pause of [`STREAM_STALL`] past
    /// the deadline, and then the receive times out.
    #[inline]
    fn recv(
        &self,
        sink: &mut Sink<'_>,
        timeout: Option<Duration>,
        hold: Hold,
        wait: WaitStrategy,
    ) -> std::result::Result<Received, RecvError> {
        if let Some(got) = self.recv_fast(sink, hold) {
            self.note_taken();
            return Ok(got);
        }
        self.recv_slow(sink, timeout, hold, wait)
    }

    /// [`recv`](Self::recv) past its first attempt: kept out of line, so
    /// that the fast path's callers do not pay for its frame.
    #[inline(never)]
    fn recv_slow(
        &self,
        sink: &mut Sink<'_>,
        timeout: Option<Duration>,
        hold: Hold,
        wait: WaitStrategy,
    ) -> std::result::Result<Received, RecvError> {
        // A receiver's wait is usually short: the message is a line
        // transfer away. Poll with the fast path alone first; the general
        // attempt below, with its streams, errors and close checks, is
        // slow enough to add to every ping-pong round trip. What the fast
        // path leaves (a stream, a message too long for the sink, the end)
        // the general path finds after these polls.
        if timeout != Some(Duration::ZERO) && wait != WaitStrategy::Park {
            let polled = (0..TIGHT_POLLS).find_map(|_| {
                std::hint::spin_loop();
                // A queue's receivers look before they take the role, so
                // that several polling ones do not pass its line around.
                if hold == Hold::Call && !self.ring().holds_record() {
                    return None;
                }
                self.recv_fast(sink, hold)
            });
            if let Some(got) = polled {
                self.note_taken();
                return Ok(got);
            }
        }
        let mut role = RoleHold::new(self, Side::Receiver, hold, role_deadline(timeout));
        let got = self.recv_holding(&mut role, sink, timeout, wait)?;
        self.note_taken();
        Ok(got)
    }

    /// Receives the next message into a new vector, if it is at most
    /// `max` bytes.
    pub(in crate::message) fn recv_vec(
        &self,
        max: usize,
        timeout: Option<Duration>,
        hold: Hold,
        wait: WaitStrategy,
    ) -> std::result::Result<Vec<u8>, RecvError> {
        match self.recv(&mut Sink::Vec { max }, timeout, hold, wait)? {
            Received::Vec(v) => Ok(v),
            _ => unreachable!("a vector sink gives a vector"),
        }
    }

    /// Receives the next message into the front of `buffer`; its length.
    pub(in crate::message) fn recv_into(
        &self,
        buffer: &mut [u8],
        timeout: Option<Duration>,
        hold: Hold,
        wait: WaitStrategy,
    ) -> std::result::Result<usize, RecvError> {
        match self.recv(&mut Sink::Slice(buffer), timeout, hold, wait)? {
            Received::Len(n) => Ok(n),
            _ => unreachable!("a slice sink gives a length"),
        }
    }

    /// [`recv`](Self::recv) with the caller's role hold, which a message
    /// left in place keeps.
    fn recv_holding(
        &self,
        role: &mut RoleHold<'_>,
        sink: &mut Sink<'_>,
        timeout: Option<Duration>,
        wait: WaitStrategy,
    ) -> std::result::Result<Received, RecvError> {
        let c = self.control();
        let deadline = timeout.and_then(|t| Instant::now().checked_add(t));
        let mut assembly: Option<Assembly> = None;
        // A `try_` whose wait found the sender dead (which ends the
        // channel) takes one more look, for what it sent before.
        let mut looked_after_end = false;
        loop {
            let left = match (&assembly, deadline) {
                (None, _) if timeout == Some(Duration::ZERO) => Some(Duration::ZERO),
                (None, Some(d)) => Some(d.saturating_duration_since(Instant::now())),
                // A stream begun waits past the deadline while its parts
                // keep coming, and gives up only when they stop.
                (Some(_), Some(d)) => Some(
                    d.saturating_duration_since(Instant::now())
                        .max(STREAM_STALL),
                ),
                (_, None) => None,
            };
            let streaming = std::cell::Cell::new(false);
            let outcome = wait_for(
                wait,
                &c.not_empty,
                left,
                Patience::Eager,
                || self.peer_ends_it || streaming.get(),
                || {
                    if !role.take() {
                        return None;
                    }
                    let before = assembly.as_ref().map(|a| a.got);
                    let answer = self.recv_step(sink, &mut assembly);
                    let after = assembly.as_ref().map(|a| a.got);
                    streaming.set(after.is_some());
                    role.keep = after.is_some();
                    if answer.is_none() {
                        role.release_between_attempts();
                        if before != after {
                            // Parts came, or the stream was abandoned: wait
                            // again, under a fresh look at the deadline.
                            return Some(Step::Again);
                        }
                    }
                    answer.map(Step::Done)
                },
                || {
                    if streaming.get() {
                        self.abandon_if_sender_gone();
                    } else if self.liveness_check_due() {
                        self.peer_died(Side::Sender);
                    }
                    None
                },
            );
            match outcome {
                Some(Step::Done(Ok(Received::InPlace(record)))) => {
                    role.keep = true;
                    return Ok(Received::InPlace(record));
                }
                Some(Step::Done(Ok(got))) => {
                    c.not_full.notify(&FutexWake, 1);
                    return Ok(got);
                }
                Some(Step::Done(Err(e))) => return Err(e),
                Some(Step::Again) => continue,
                // A stream whose parts stopped coming for `STREAM_STALL`
                // past the deadline: its sender is stopped, or a peer wrote
                // garbage. Its parts so far are dropped.
                None if assembly.is_some() => {
                    self.control().abandoned.fetch_add(1, Ordering::Relaxed);
                    return Err(RecvError::TimedOut {
                        name: self.name.clone(),
                        after: timeout.unwrap_or_default(),
                    });
                }
                // Through the same attempt, so under the role like any.
                None if left == Some(Duration::ZERO)
                    && !looked_after_end
                    && self.ended(Side::Sender) =>
                {
                    looked_after_end = true;
                    continue;
                }
                None if left == Some(Duration::ZERO) => {
                    return Err(RecvError::Empty {
                        name: self.name.clone(),
                    })
                }
                None => {
                    return Err(RecvError::TimedOut {
                        name: self.name.clone(),
                        after: timeout.unwrap_or_default(),
                    })
                }
            }
        }
    }

    /// Takes records while there are any, holding the receiver role: a
    /// whole message is the answer; parts go into `assembly` until the
    /// last. `None`: nothing more now.
    fn recv_step(
        &self,
        sink: &mut Sink<'_>,
        assembly: &mut Option<Assembly>,
    ) -> Option<std::result::Result<Received, RecvError>> {
        // Read before the ring: a sender closes after its last send, so a
        // close seen here means the ring below holds everything sent.
        let closed = self.control().closed.load(Ordering::SeqCst) != 0;
        // SAFETY: the caller holds the receiver role (for its life, or
        // taken for this attempt): no other popper runs. As in
        // `send_record`, a scribbled role record garbles but does not race.
        let mut popper = unsafe { self.ring().popper() };
        self.recv_records(&mut popper, closed, sink, assembly)
    }

    /// [`recv_step`](Self::recv_step) with its popper.
    fn recv_records(
        &self,
        popper: &mut BytePopper<'_, SegmentBytes>,
        closed: bool,
        sink: &mut Sink<'_>,
        assembly: &mut Option<Assembly>,
    ) -> Option<std::result::Result<Received, RecvError>> {
        let start = popper.position();
        loop {
            let record = match popper.peek() {
                Ok(Some(record)) => record,
                Ok(None) => {
                    let position = popper.position();
                    if position != start {
                        // Parts taken: their sender may be waiting for the room.
                        self.control().not_full.notify(&FutexWake, 1);
                    }
                    if assembly.is_some()
                        && (closed
                            || self.control().abandoned_at.load(Ordering::SeqCst) == position
                            || self.ended(Side::Sender))
                    {
                        // Its sender gave up, closed or died: drop the parts.
                        *assembly = None;
                    }
                    return (closed && assembly.is_none()).then(|| {
                        Err(RecvError::Closed {
                            name: self.name.clone(),
                        })
                    });
                }
                Err(e) => return Some(Err(RecvError::Failed(self.corrupt(e)))),
            };
            match record.kind {
                RecordKind::Whole => {
                    // Parts before a whole message were abandoned.
                    *assembly = None;
                    if let Sink::InPlace = sink {
                        return Some(Ok(Received::InPlace(record)));
                    }
                    return Some(self.take_whole(popper, &record, sink));
                }
                RecordKind::First => {
                    *assembly = None;
                    match self.begin(popper, &record, sink) {
                        Ok(started) => *assembly = Some(started),
                        Err(e) => return Some(Err(e)),
                    }
                }
                RecordKind::Next => {}
            }
            let skip = if record.kind == RecordKind::First {
                8
            } else {
                0
            };
            match assembly {
                // A part whose first part a dead receiver took: dropped.
                None => popper.consume(&record),
                Some(parts) => {
                    let data = record.len.saturating_sub(skip);
                    let Some(to) = parts.room(data) else {
                        return Some(Err(RecvError::Failed(self.corrupt(
                            ByteRingError::Corrupt {
                                head: popper.position(),
                                tail: parts.total,
                                header: record.len as u64,
                            },
                        ))));
                    };
                    let to = match sink {
                        Sink::Vec { .. } | Sink::InPlace => {
                            let v = parts
                                .vec
                                .as_mut()
                                .expect("a vector sink assembles a vector");
                            v.resize(to.end, 0);
                            &mut v[to]
                        }
                        Sink::Slice(buffer) => &mut buffer[to],
                    };
                    popper.read(&record, skip, to);
                    popper.consume(&record);
                    parts.got += data;
                    if parts.got == parts.total as usize {
                        let done = assembly.take().expect("assembling");
                        return Some(Ok(match done.vec {
                            Some(v) => Received::Vec(v),
                            None => Received::Len(done.got),
                        }));
                    }
                }
            }
        }
    }

    /// Checks a whole message against `sink` and takes it.
    fn take_whole(
        &self,
        popper: &mut BytePopper<'_, SegmentBytes>,
        record: &Record,
        sink: &mut Sink<'_>,
    ) -> std::result::Result<Received, RecvError> {
        self.fits(sink, record.len)?;
        let got = match sink {
            Sink::Vec { .. } | Sink::InPlace => {
                let mut message = vec![0; record.len];
                popper.read(record, 0, &mut message);
                Received::Vec(message)
            }
            Sink::Slice(buffer) => {
                popper.read(record, 0, &mut buffer[..record.len]);
                Received::Len(record.len)
            }
        };
        popper.consume(record);
        Ok(got)
    }

    /// Whether a message of `len` bytes may go into `sink`; the error
    /// leaves it in the ring.
    fn fits(&self, sink: &Sink<'_>, len: usize) -> std::result::Result<(), RecvError> {
        match sink {
            Sink::Vec { max } if len > *max => Err(RecvError::TooLong {
                name: self.name.clone(),
                len,
                max: *max,
            }),
            Sink::Slice(buffer) if buffer.len() < len => Err(RecvError::BufferTooSmall {
                name: self.name.clone(),
                needed: len,
                len: buffer.len(),
            }),
            _ => Ok(()),
        }
    }

    /// Starts assembling the message whose first part is `record`, if it
    /// fits `sink` (else the error leaves it in the ring).
    fn begin(
        &self,
        popper: &BytePopper<'_, SegmentBytes>,
        record: &Record,
        sink: &Sink<'_>,
    ) -> std::result::Result<Assembly, RecvError> {
        let mut total = [0u8; 8];
        if record.len < 8 {
            return Err(RecvError::Failed(self.corrupt(ByteRingError::Corrupt {
                head: popper.position(),
                tail: 0,
                header: record.len as u64,
            })));
        }
        popper.read(record, 0, &mut total);
        let total = u64::from_ne_bytes(total);
        let len = usize::try_from(total).unwrap_or(usize::MAX);
        self.fits(sink, len)?;
        Ok(Assembly {
            total,
            got: 0,
            // Grown as parts arrive, not from the length a peer wrote.
            vec: matches!(sink, Sink::Vec { .. } | Sink::InPlace).then(Vec::new),
        })
    }

    /// Whether a receive would find a message, or the end, waiting up to
    /// `timeout` for one (forever if `None`). For a holder of the receiver
    /// role for life: looking skips pads, which moves the head.
    pub(in crate::message) fn poll(
        &self,
        timeout: Option<Duration>,
        wait: WaitStrategy,
    ) -> std::result::Result<bool, RecvError> {
        let c = self.control();
        let outcome = wait_for(
            wait,
            &c.not_empty,
            timeout,
            Patience::Eager,
            || self.peer_ends_it,
            || {
                let closed = c.closed.load(Ordering::SeqCst) != 0;
                // SAFETY: the caller holds the receiver role for life: no
                // other popper runs (see `recv_step`).
                let mut popper = unsafe { self.ring().popper() };
                match popper.peek() {
                    Ok(Some(_)) => Some(Ok(true)),
                    Ok(None) if closed => Some(Ok(true)),
                    Ok(None) => None,
                    Err(e) => Some(Err(RecvError::Failed(self.corrupt(e)))),
                }
            },
            || {
                if self.liveness_check_due() && self.peer_died(Side::Sender) {
                    return Some(Ok(true));
                }
                None
            },
        );
        outcome.unwrap_or(Ok(false))
    }

    /// The next message, left in the ring to be read in place if it is one
    /// record (a streamed one is assembled into a vector).
    pub(in crate::message) fn recv_loan(
        &self,
        timeout: Option<Duration>,
        hold: Hold,
        wait: WaitStrategy,
    ) -> std::result::Result<ReadLoan<'_>, RecvError> {
        let mut role = RoleHold::new(self, Side::Receiver, hold, role_deadline(timeout));
        let got = self.recv_holding(&mut role, &mut Sink::InPlace, timeout, wait)?;
        self.note_taken();
        match got {
            Received::InPlace(record) => Ok(ReadLoan::in_place(self, role, record)),
            Received::Vec(v) => Ok(ReadLoan::copied(self.name.clone(), v)),
            Received::Len(_) => unreachable!("an in-place receive gives no length"),
        }
    }
}

/// What a receive attempt came to.
enum Step {
    Done(std::result::Result<Received, RecvError>),
    /// A stream it had begun was abandoned: start again.
    Again,
}

/// A message streamed in parts, partly received.
struct Assembly {
    /// Its length, from its first part.
    total: u64,
    /// Bytes received so far.
    got: usize,
    /// The message so far, for a vector sink.
    vec: Option<Vec<u8>>,
}

impl Assembly {
    /// Where the next `data` bytes go; `None` if they overrun the length.
    fn room(&self, data: usize) -> Option<std::ops::Range<usize>> {
        let end = self.got.checked_add(data)?;
        (end as u64 <= self.total).then_some(self.got..end)
    }
}

/// Where a receive puts the message.
enum Sink<'b> {
    /// A new vector, for a message of at most `max` bytes.
    Vec { max: usize },
    /// Nowhere: a whole message stays in the ring, to be read in place (a
    /// streamed one is assembled in a vector).
    InPlace,
    /// The front of a caller's buffer.
    Slice(&'b mut [u8]),
}

/// What a receive gave.
enum Received {
    Vec(Vec<u8>),
    Len(usize),
    /// A whole message left in the ring for [`Sink::InPlace`]; the
    /// receiver role is still held.
    InPlace(Record),
}
