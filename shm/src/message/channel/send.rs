//! The sending side of a channel: a whole message, a message streamed in
//! parts, room reserved for a loan, and the wait for room they share.

use super::*;

impl Channel {
    /// Sends `message`, waiting up to `timeout` (forever if `None`; not at
    /// all if zero) for room. A message longer than a record may be is
    /// streamed in parts, holding the sender role throughout.
    #[inline]
    pub(in crate::message) fn send(
        &self,
        message: &[u8],
        timeout: Option<Duration>,
        hold: Hold,
        wait: WaitStrategy,
    ) -> std::result::Result<(), SendError> {
        if message.len() <= self.whole_max() && self.send_fast(message, hold) {
            return Ok(());
        }
        self.send_slow(message, timeout, hold, wait)
    }

    /// [`send`](Self::send) past its fast path: kept out of line, so that
    /// the fast path's callers do not pay for its frame.
    #[inline(never)]
    fn send_slow(
        &self,
        message: &[u8],
        timeout: Option<Duration>,
        hold: Hold,
        wait: WaitStrategy,
    ) -> std::result::Result<(), SendError> {
        if message.len() > self.whole_max() {
            return self.send_streamed(message, timeout, hold, wait);
        }
        let mut role = RoleHold::new(self, Side::Sender, hold, role_deadline(timeout));
        self.send_record(&mut role, timeout, wait, |pusher| {
            pusher
                .reserve(message.len())
                .map(|room| (room, RecordKind::Whole, 0, message))
        })
        .map(|_| ())
    }

    /// One attempt at a whole message on the common path, without the
    /// general path's waiting machinery: `false` if anything is unusual
    /// (no room, closed, a pad in the way), which the general path then
    /// handles and explains.
    #[inline]
    fn send_fast(&self, message: &[u8], hold: Hold) -> bool {
        let c = self.control();
        if c.closed.load(Ordering::Relaxed) != 0 || c.receiver_gone.load(Ordering::Relaxed) != 0 {
            return false;
        }
        self.fast_role(Side::Sender, hold, || {
            let seen = self.head_seen.load(Ordering::Relaxed);
            // SAFETY: as in `send_record`: the sender role is this caller's.
            let mut pusher = unsafe { self.ring().pusher_seeing(seen) };
            let room = pusher.reserve(message.len());
            self.head_seen.store(pusher.head_seen(), Ordering::Relaxed);
            let room = room.ok()?;
            // SAFETY: `reserve` gave these bytes to this pusher alone,
            // inside the buffer, from a multiple of 8.
            unsafe { self.bytes.write(room.offset, message) };
            pusher.commit(room, RecordKind::Whole);
            Some(())
        })
        .map(|()| c.not_empty.notify(&FutexWake, 1))
        .is_some()
    }

    /// The longest message sent as one record: a quarter of the ring, so
    /// that a sender and a receiver work on different parts of it at once.
    fn whole_max(&self) -> usize {
        (self.ring_bytes / 4) as usize - HEADER
    }

    /// Sends one record, waiting for room: `reserve` asks the ring for the
    /// room and says what goes there, and from which byte of the payload.
    /// Gives the tail after the record.
    fn send_record<'m>(
        &self,
        role: &mut RoleHold<'_>,
        timeout: Option<Duration>,
        wait: WaitStrategy,
        mut reserve: impl FnMut(
            &mut BytePusher<'_, SegmentBytes>,
        ) -> std::result::Result<
            (Reserved, RecordKind, usize, &'m [u8]),
            ByteRingError,
        >,
    ) -> std::result::Result<u64, SendError> {
        let tail = self.wait_for_room(role, timeout, wait, |pusher| {
            let (room, kind, at, bytes) = reserve(pusher)?;
            debug_assert!(at % 8 == 0 && at + bytes.len() <= room.len);
            // SAFETY: `reserve` gave these bytes to this pusher alone,
            // inside the buffer, from a multiple of 8.
            unsafe { self.bytes.write(room.offset + at, bytes) };
            pusher.commit(room, kind);
            Ok(pusher.position())
        })?;
        self.control().not_empty.notify(&FutexWake, 1);
        Ok(tail)
    }

    /// Runs `attempt` with the pusher, holding the sender role, until it
    /// finds room (it gives `WouldBlock` while there is none), waiting up
    /// to `timeout`; explains every other way it can end.
    fn wait_for_room<R>(
        &self,
        role: &mut RoleHold<'_>,
        timeout: Option<Duration>,
        wait: WaitStrategy,
        mut attempt: impl FnMut(
            &mut BytePusher<'_, SegmentBytes>,
        ) -> std::result::Result<R, ByteRingError>,
    ) -> std::result::Result<R, SendError> {
        let outcome = wait_for(
            wait,
            &self.control().not_full,
            timeout,
            Patience::BackOff,
            || self.peer_ends_it,
            || {
                if let Some(refused) = self.refusing_sends() {
                    return Some(Err(refused));
                }
                if !role.take() {
                    return None;
                }
                let seen = self.head_seen.load(Ordering::Relaxed);
                // SAFETY: this caller holds the sender role (for its life,
                // or taken just now by compare-exchange): no other pusher of
                // this ring runs in any process. A peer that scribbles on
                // the role record can let in a second one: the buffer's
                // copies are word-atomic, so that garbles messages but does
                // not race. `seen` is a head this handle read before, and
                // heads only grow.
                let mut pusher = unsafe { self.ring().pusher_seeing(seen) };
                let attempted = attempt(&mut pusher);
                self.head_seen.store(pusher.head_seen(), Ordering::Relaxed);
                let answer = match attempted {
                    Ok(r) => Some(Ok(r)),
                    Err(ByteRingError::WouldBlock) => None,
                    Err(ByteRingError::TooLarge { len, max }) => Some(Err(SendError::TooLarge {
                        name: self.name.clone(),
                        len,
                        max,
                    })),
                    Err(e) => Some(Err(SendError::Failed(self.corrupt(e)))),
                };
                if answer.is_none() {
                    role.release_between_attempts();
                }
                answer
            },
            || {
                (self.liveness_check_due() && self.peer_died(Side::Receiver))
                    .then(|| Err(self.disconnected()))
            },
        );
        match outcome {
            Some(answer) => answer,
            None if timeout == Some(Duration::ZERO) => Err(SendError::Full {
                name: self.name.clone(),
            }),
            None => Err(SendError::TimedOut {
                name: self.name.clone(),
                after: timeout.unwrap_or_default(),
            }),
        }
    }

    /// Why no send can succeed, if one cannot: closed, or no receiver.
    fn refusing_sends(&self) -> Option<SendError> {
        let c = self.control();
        if c.closed.load(Ordering::Relaxed) != 0 {
            return Some(SendError::Closed {
                name: self.name.clone(),
            });
        }
        (c.receiver_gone.load(Ordering::Relaxed) != 0).then(|| self.disconnected())
    }

    fn disconnected(&self) -> SendError {
        SendError::Disconnected {
            name: self.name.clone(),
        }
    }

    /// Sends a message longer than a record in parts of a quarter ring:
    /// the first starts with the message's length. The role is held from
    /// the first part to the last, so that no other sender's records come
    /// between them. A send that fails after its first part marks the
    /// stream abandoned, and receivers drop what they had of it.
    fn send_streamed(
        &self,
        message: &[u8],
        timeout: Option<Duration>,
        hold: Hold,
        wait: WaitStrategy,
    ) -> std::result::Result<(), SendError> {
        let deadline = timeout.and_then(|t| Instant::now().checked_add(t));
        let mut role = RoleHold::new(self, Side::Sender, hold, role_deadline(timeout));
        role.keep = true;
        let part = self.whole_max();
        let total = (message.len() as u64).to_ne_bytes();
        let mut sent = 0;
        while sent < message.len() {
            let first = sent == 0;
            let data = (message.len() - sent).min(if first { part - 8 } else { part });
            let chunk = &message[sent..sent + data];
            // The first part waits the caller's timeout; later ones what is
            // left of it.
            let left = match (first, deadline) {
                (false, Some(d)) => Some(d.saturating_duration_since(Instant::now())),
                _ => timeout,
            };
            let outcome = self.send_record(&mut role, left, wait, |pusher| {
                if first {
                    let room = pusher.reserve(8 + data)?;
                    // SAFETY: reserved for this pusher, from a multiple of 8.
                    unsafe { self.bytes.write(room.offset, &total) };
                    Ok((room, RecordKind::First, 8, chunk))
                } else {
                    pusher
                        .reserve(data)
                        .map(|room| (room, RecordKind::Next, 0, chunk))
                }
            });
            match outcome {
                Ok(_) => sent += data,
                Err(e) => {
                    if !first {
                        // SAFETY: the sender role is still ours.
                        let tail = unsafe { self.ring().pusher() }.position();
                        self.abandon_stream_at(tail);
                    }
                    // A later part out of time is the caller's timeout
                    // running out, whatever was left of it.
                    return Err(match e {
                        SendError::Full { name } | SendError::TimedOut { name, .. } if !first => {
                            SendError::TimedOut {
                                name,
                                after: timeout.unwrap_or_default(),
                            }
                        }
                        e => e,
                    });
                }
            }
        }
        Ok(())
    }

    /// Reserves room for a message of `len` bytes, to be written in place:
    /// one record, so at most [`max_message`](Self::max_message) bytes.
    pub(in crate::message) fn reserve(
        &self,
        len: usize,
        timeout: Option<Duration>,
        hold: Hold,
        wait: WaitStrategy,
    ) -> std::result::Result<WriteLoan<'_>, SendError> {
        let max = self.max_message();
        if len > max {
            return Err(SendError::TooLarge {
                name: self.name.clone(),
                len,
                max,
            });
        }
        let mut role = RoleHold::new(self, Side::Sender, hold, role_deadline(timeout));
        let room = self.wait_for_room(&mut role, timeout, wait, |pusher| pusher.reserve(len))?;
        role.keep = true;
        Ok(WriteLoan::new(self, role, room))
    }
}
