//! The results of a pool's tasks to come: [`AsyncResult`] (one task),
//! [`Imap`] (an iterator over several) and [`MapResult`] (all of a map).

use std::collections::VecDeque;
use std::marker::PhantomData;
use std::sync::{Arc, PoisonError};
use std::time::{Duration, Instant};

use serde::de::DeserializeOwned;

use super::{PoolError, Shared};

/// A task's result to come (Python's `AsyncResult`).
pub struct AsyncResult<R> {
    id: u64,
    shared: Arc<Shared>,
    _result: PhantomData<fn() -> R>,
}

impl<R> AsyncResult<R> {
    pub(super) fn new(id: u64, shared: Arc<Shared>) -> AsyncResult<R> {
        AsyncResult {
            id,
            shared,
            _result: PhantomData,
        }
    }
}

impl<R: DeserializeOwned> AsyncResult<R> {
    /// Waits for the result.
    pub fn get(self) -> std::result::Result<R, PoolError> {
        self.take(None).unwrap_or(Err(PoolError::TimedOut))
    }

    /// Waits at most `timeout`: [`PoolError::TimedOut`] then, and the task
    /// goes on (this result is consumed).
    pub fn get_timeout(self, timeout: Duration) -> std::result::Result<R, PoolError> {
        self.take(Instant::now().checked_add(timeout))
            .unwrap_or(Err(PoolError::TimedOut))
    }

    /// The result, waiting until `deadline`; `None` if it came first.
    fn take(&self, deadline: Option<Instant>) -> Option<std::result::Result<R, PoolError>> {
        let (_, outcome) = self.shared.take_any(&[self.id], deadline)?;
        Some(decode(outcome))
    }

    /// Whether the result is in.
    pub fn ready(&self) -> bool {
        self.shared.lock().results.contains_key(&self.id)
    }

    /// Waits until the result is in, without taking it.
    pub fn wait(&self) {
        let mut state = self.shared.lock();
        while !state.results.contains_key(&self.id) {
            state = self
                .shared
                .done
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }

    /// Whether the task returned (rather than failed);
    /// [`PoolError::NotReady`] before the result is in.
    pub fn successful(&self) -> std::result::Result<bool, PoolError> {
        match self.shared.lock().results.get(&self.id) {
            None => Err(PoolError::NotReady),
            Some(outcome) => Ok(outcome.is_ok()),
        }
    }
}

/// A result's bytes as an `R`.
fn decode<R: DeserializeOwned>(
    outcome: std::result::Result<Vec<u8>, PoolError>,
) -> std::result::Result<R, PoolError> {
    let bytes = outcome?;
    postcard::from_bytes(&bytes).map_err(|e| {
        PoolError::Failed(format!(
            "decoding the result as {}: {e}",
            std::any::type_name::<R>()
        ))
    })
}

impl Shared {
    /// Takes the first result in of the tasks `ids`, waiting until
    /// `deadline`: its index in `ids` and the outcome; `None` if the
    /// deadline came first.
    fn take_any(
        &self,
        ids: &[u64],
        deadline: Option<Instant>,
    ) -> Option<(usize, std::result::Result<Vec<u8>, PoolError>)> {
        let mut state = self.lock();
        loop {
            for (i, id) in ids.iter().enumerate() {
                if let Some(outcome) = state.results.remove(id) {
                    return Some((i, outcome));
                }
            }
            state = match deadline {
                None => self
                    .done
                    .wait(state)
                    .unwrap_or_else(PoisonError::into_inner),
                Some(d) => {
                    let left = d.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        return None;
                    }
                    self.done
                        .wait_timeout(state, left)
                        .unwrap_or_else(PoisonError::into_inner)
                        .0
                }
            };
        }
    }
}

/// The results of [`Pool::imap`](super::Pool::imap) (in order) or [`Pool::imap_unordered`](super::Pool::imap_unordered)
/// (as they come), as an iterator. It borrows the pool, to which it sends
/// the items as their results are taken.
pub struct Imap<'pool, R> {
    /// The chunks sent and not yet taken, in the items' order.
    chunks: VecDeque<AsyncResult<Vec<R>>>,
    /// Results of a chunk taken, not yet handed out.
    ready: VecDeque<R>,
    /// Whether a result is handed out as soon as it is in.
    pub(super) unordered: bool,
    /// Sends up to so many more chunks of items; `None` once the items
    /// are done.
    feed: Option<Feed<'pool, R>>,
    /// Chunks kept sent ahead of the caller.
    window: usize,
}

/// Sends up to the number of chunks asked for, in one batch: their
/// results to come (fewer once the items run out), or why they could not
/// be sent.
pub(super) type Feed<'pool, R> = Box<
    dyn FnMut(usize) -> std::result::Result<Vec<AsyncResult<Vec<R>>>, PoolError> + Send + 'pool,
>;

impl<'pool, R: DeserializeOwned> Imap<'pool, R> {
    /// Sends the first `window` chunks; an error if the first could not
    /// go (a closed pool).
    pub(super) fn start(
        feed: Feed<'pool, R>,
        window: usize,
    ) -> std::result::Result<Imap<'pool, R>, PoolError> {
        let mut imap = Imap {
            chunks: VecDeque::new(),
            ready: VecDeque::new(),
            unordered: false,
            feed: Some(feed),
            window: window.max(1),
        };
        imap.top_up()?;
        Ok(imap)
    }

    /// Once half the window is taken, sends chunks until `window` are in
    /// flight or the items are done. Chunks that could not be sent end the
    /// feed: the items after them are not sent.
    fn top_up(&mut self) -> std::result::Result<(), PoolError> {
        if self.chunks.len() > self.window / 2 {
            return Ok(());
        }
        let Some(feed) = self.feed.as_mut() else {
            return Ok(());
        };
        let wanted = self.window - self.chunks.len();
        match feed(wanted) {
            Ok(sent) => {
                if sent.len() < wanted {
                    self.feed = None;
                }
                self.chunks.extend(sent);
                Ok(())
            }
            Err(e) => {
                self.feed = None;
                Err(e)
            }
        }
    }

    /// The next result, waiting at most `timeout`: `None` when all were
    /// handed out, `Some(Err(PoolError::TimedOut))` if it was not in time
    /// (ask again: nothing is lost). A failed task is its error, and the
    /// results after it still come.
    pub fn next_timeout(&mut self, timeout: Duration) -> Option<std::result::Result<R, PoolError>> {
        self.next_until(Instant::now().checked_add(timeout))
    }

    fn next_until(
        &mut self,
        deadline: Option<Instant>,
    ) -> Option<std::result::Result<R, PoolError>> {
        if let Some(r) = self.ready.pop_front() {
            return Some(Ok(r));
        }
        if let Err(e) = self.top_up() {
            return Some(Err(e));
        }
        let shared = self.chunks.front()?.shared.clone();
        let ids: Vec<u64> = if self.unordered {
            self.chunks.iter().map(|c| c.id).collect()
        } else {
            vec![self.chunks.front()?.id]
        };
        let Some((i, outcome)) = shared.take_any(&ids, deadline) else {
            return Some(Err(PoolError::TimedOut));
        };
        self.chunks.remove(i);
        match decode::<Vec<R>>(outcome) {
            Ok(results) => {
                self.ready.extend(results);
                self.ready
                    .pop_front()
                    .map(Ok)
                    .or_else(|| self.next_until(deadline))
            }
            Err(e) => Some(Err(e)),
        }
    }
}

impl<R: DeserializeOwned> Iterator for Imap<'_, R> {
    type Item = std::result::Result<R, PoolError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_until(None)
    }
}

/// The results of [`Pool::map_async`](super::Pool::map_async) to come, in the items' order.
pub struct MapResult<R> {
    pub(super) chunks: VecDeque<AsyncResult<Vec<R>>>,
}

impl<R: DeserializeOwned> MapResult<R> {
    /// Waits for every result; the first chunk that failed is the error.
    pub fn get(self) -> std::result::Result<Vec<R>, PoolError> {
        self.get_until(None)
    }

    /// As [`get`](Self::get), for at most `timeout` in all.
    pub fn get_timeout(self, timeout: Duration) -> std::result::Result<Vec<R>, PoolError> {
        self.get_until(Instant::now().checked_add(timeout))
    }

    fn get_until(self, deadline: Option<Instant>) -> std::result::Result<Vec<R>, PoolError> {
        let mut out = Vec::new();
        for chunk in self.chunks {
            out.extend(chunk.take(deadline).unwrap_or(Err(PoolError::TimedOut))?);
        }
        Ok(out)
    }

    /// Whether every result is in.
    pub fn ready(&self) -> bool {
        self.chunks.iter().all(AsyncResult::ready)
    }

    /// Waits until every result is in, without taking them.
    pub fn wait(&self) {
        self.chunks.iter().for_each(AsyncResult::wait);
    }
}
