//! A [`Queue`]'s batches: moving what fits, or what is there, in one call.

use std::time::Duration;

use super::{Queue, SliceError};
use crate::plain::Plain;

impl<T: Plain> Queue<T> {
    /// Enqueues as many of `items` as fit right now, in order; returns how
    /// many. For throughput: one publication (and at most one wake-up) per
    /// batch on an SPSC queue.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-queue-try-put-slice-{}", std::process::id());
    /// let q = shmipc::Queue::<u64>::create_spsc(&name, 4)?;
    /// assert_eq!(q.try_put_slice(&[1, 2, 3, 4, 5, 6])?, 4);
    /// # Ok(()) }
    /// ```
    pub fn try_put_slice(&self, items: &[T]) -> std::result::Result<usize, SliceError> {
        self.pushing(
            Some(Duration::ZERO),
            |may, _| self.shared.try_put_slice(may, items),
            |e| Err(SliceError::Failed(e)),
        )
    }

    /// Enqueues, in order, as many of `items` as fit once there is room for
    /// at least one, waiting as long as it takes; returns how many (at least
    /// one, unless `items` is empty). Like [`std::io::Write::write`]: call it
    /// again with the rest to send them all.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-put-slice-{}", std::process::id());
    /// let q = shmipc::Queue::<u32>::create_spsc(&name, 4)?;
    /// let items = [1, 2, 3, 4, 5, 6];
    /// assert_eq!(q.put_slice(&items)?, 4);
    /// let mut out = [0; 8];
    /// assert_eq!(q.get_slice(&mut out)?, 4);
    /// assert_eq!(q.put_slice(&items[4..])?, 2);
    /// assert_eq!(q.get_slice(&mut out)?, 2);
    /// assert_eq!(out[..2], [5, 6]);
    /// # Ok(()) }
    /// ```
    pub fn put_slice(&self, items: &[T]) -> std::result::Result<usize, SliceError> {
        self.pushing(
            None,
            |may, left| self.shared.put_slice_until(may, items, left),
            |e| Err(SliceError::Failed(e)),
        )
    }

    /// As [`put_slice`](Self::put_slice), waiting at most `timeout` for room;
    /// [`SliceError::TimedOut`] if none came.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-put-slice-t-{}", std::process::id());
    /// let q = shmipc::Queue::<u32>::create(&name, 2)?;
    /// assert_eq!(q.put_slice_timeout(&[1, 2, 3], std::time::Duration::from_millis(5))?, 2);
    /// assert!(q.put_slice_timeout(&[3], std::time::Duration::from_millis(5)).is_err());
    /// # Ok(()) }
    /// ```
    pub fn put_slice_timeout(
        &self,
        items: &[T],
        timeout: Duration,
    ) -> std::result::Result<usize, SliceError> {
        self.pushing(
            Some(timeout),
            |may, left| self.shared.put_slice_until(may, items, left),
            |e| Err(SliceError::Failed(e)),
        )
    }

    /// Dequeues up to `out.len()` items available right now, oldest first;
    /// returns how many.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-try-get-slice-{}", std::process::id());
    /// let q = shmipc::Queue::<u32>::create(&name, 8)?;
    /// q.put_slice(&[1, 2])?;
    /// let mut out = [0; 4];
    /// assert_eq!(q.try_get_slice(&mut out)?, 2);
    /// assert_eq!(q.try_get_slice(&mut out)?, 0);
    /// # Ok(()) }
    /// ```
    pub fn try_get_slice(&self, out: &mut [T]) -> std::result::Result<usize, SliceError> {
        self.popping(
            Some(Duration::ZERO),
            |may, _| self.shared.try_get_slice(may, out),
            |e| Err(SliceError::Failed(e)),
        )
    }

    /// Dequeues, oldest first, as many items as are there (up to
    /// `out.len()`) once there is at least one, waiting as long as it
    /// takes; returns how many (at least one, unless `out` is empty). Like
    /// [`std::io::Read::read`]. Once the queue is closed and drained:
    /// [`SliceError::Closed`].
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-get-slice-{}", std::process::id());
    /// let q = shmipc::Queue::<u32>::create(&name, 8)?;
    /// q.put(9)?;
    /// let mut out = [0; 4];
    /// assert_eq!(q.get_slice(&mut out)?, 1);
    /// # Ok(()) }
    /// ```
    pub fn get_slice(&self, out: &mut [T]) -> std::result::Result<usize, SliceError> {
        self.popping(
            None,
            |may, left| self.shared.get_slice_until(may, out, left),
            |e| Err(SliceError::Failed(e)),
        )
    }

    /// As [`get_slice`](Self::get_slice), waiting at most `timeout` for an
    /// item; [`SliceError::TimedOut`] if none came.
    ///
    /// ```
    /// # extern crate shmipc_shm as shmipc;
    /// # fn main() -> Result<(), shmipc::Error> {
    /// # let name = format!("doc-get-slice-t-{}", std::process::id());
    /// let q = shmipc::Queue::<u32>::create(&name, 8)?;
    /// let mut out = [0; 4];
    /// assert!(q.get_slice_timeout(&mut out, std::time::Duration::from_millis(5)).is_err());
    /// # Ok(()) }
    /// ```
    pub fn get_slice_timeout(
        &self,
        out: &mut [T],
        timeout: Duration,
    ) -> std::result::Result<usize, SliceError> {
        self.popping(
            Some(timeout),
            |may, left| self.shared.get_slice_until(may, out, left),
            |e| Err(SliceError::Failed(e)),
        )
    }
}
