//! Batches: moving what fits, or what is there, in one call.

use super::*;

impl<T: Plain> Shared<T> {
    pub(in crate::queue) fn try_put_slice(
        &self,
        may: MayPush,
        items: &[T],
    ) -> std::result::Result<usize, SliceError> {
        let c = self.control();
        if c.closed.load(Ordering::Relaxed) != 0 {
            return Err(SliceError::Closed {
                queue: self.name.clone(),
            });
        }
        let pushed = match self.ring {
            Ring::Spsc(ix, geometry) => self
                .spsc_producer(may, ix, geometry)
                .push_slice(items)
                .map_err(|e| self.corrupt(e)),
            Ring::Mpmc(ix) => self
                .mpmc(ix)
                .push_slice(identity::claimer_id(), items)
                .map_err(|e| self.corrupt(e)),
        };
        let done = *pushed.as_ref().unwrap_or(&0);
        if done > 0 {
            c.not_empty
                .notify(&FutexWake, u32::try_from(done).unwrap_or(u32::MAX));
        }
        Ok(pushed?)
    }

    pub(in crate::queue) fn put_slice_until(
        &self,
        may: MayPush,
        items: &[T],
        timeout: Option<Duration>,
    ) -> std::result::Result<usize, SliceError> {
        if items.is_empty() {
            return Ok(0);
        }
        wait_for(
            self.wait,
            &self.control().not_full,
            timeout,
            Patience::BackOff,
            || self.stalled(),
            || match self.try_put_slice(may, items) {
                Ok(0) => None,
                other => Some(other),
            },
            || self.waited_in_vain().map(|e| Err(e.into())),
        )
        .unwrap_or_else(|| Err(self.timed_out(timeout)))
    }

    pub(in crate::queue) fn try_get_slice(
        &self,
        may: MayPop,
        out: &mut [T],
    ) -> std::result::Result<usize, SliceError> {
        let popped = match self.ring {
            Ring::Spsc(ix, geometry) => self
                .spsc_consumer(may, ix, geometry)
                .pop_slice(out)
                .map_err(|e| self.corrupt(e)),
            Ring::Mpmc(ix) => self.mpmc(ix).pop_slice(out).map_err(|e| self.corrupt(e)),
        }
        .map_err(SliceError::Failed)?;
        if popped > 0 {
            self.control()
                .not_full
                .notify(&FutexWake, u32::try_from(popped).unwrap_or(u32::MAX));
            self.note_taken(popped as u64);
        }
        Ok(popped)
    }

    pub(in crate::queue) fn get_slice_until(
        &self,
        may: MayPop,
        out: &mut [T],
        timeout: Option<Duration>,
    ) -> std::result::Result<usize, SliceError> {
        if out.is_empty() {
            return Ok(0);
        }
        let outcome = wait_for(
            self.wait,
            &self.control().not_empty,
            timeout,
            Patience::Eager,
            || self.stalled(),
            || {
                self.take_unless_drained(|| match self.try_get_slice(may, out) {
                    Ok(n) => Ok((n > 0).then_some(n)),
                    Err(SliceError::Failed(e)) => Err(e),
                    Err(other) => Err(other.into()),
                })
            },
            || self.waited_in_vain().map(|e| Err(Some(e))),
        );
        match outcome {
            Some(Ok(n)) => Ok(n),
            Some(Err(Some(e))) => Err(SliceError::Failed(e)),
            Some(Err(None)) => Err(SliceError::Closed {
                queue: self.name.clone(),
            }),
            None => Err(self.timed_out(timeout)),
        }
    }

    fn timed_out(&self, timeout: Option<Duration>) -> SliceError {
        SliceError::TimedOut {
            queue: self.name.clone(),
            after: timeout.unwrap_or_default(),
        }
    }
}
