//! A pool worker's side: its loop, and the trampolines through which it
//! runs the functions it is sent.

use serde::de::DeserializeOwned;
use serde::Serialize;

use super::{Done, Task, Trampoline, STOP};
use crate::message::{Connection, RecvError};
use crate::process::{anchor, panic_message};

/// A worker's side: runs the pool's initializer (at `initializer` from
/// `init`, if not 0), then tasks until told to stop or the pool is gone.
pub(crate) fn worker_loop(
    conn: &Connection,
    initializer: isize,
) -> std::result::Result<i32, String> {
    let base = anchor();
    if initializer != 0 {
        // SAFETY: the parent took this offset from `init` in this very
        // executable, of an `fn()` (`PoolBuilder::initializer` takes one).
        let init = unsafe { std::mem::transmute::<usize, fn()>((base + initializer) as usize) };
        init();
    }
    loop {
        let (id, trampoline, function, arg): Task = match conn.recv() {
            Ok(task) => task,
            Err(RecvError::Closed { .. }) => return Ok(0),
            Err(e) => return Err(e.to_string()),
        };
        if id == STOP {
            return Ok(0);
        }
        // SAFETY: the parent took both offsets from `init` in this very
        // executable (checked by `run_child`), from a `trampoline::<A, R>`
        // and an `fn(A) -> R` of matching types (`Pool::apply_async` takes
        // them together).
        let run = unsafe { std::mem::transmute::<usize, Trampoline>((base + trampoline) as usize) };
        let outcome = run((base + function) as usize, &arg);
        let done: Done = (id, outcome);
        conn.send(&done).map_err(|e| e.to_string())?;
    }
}

/// Decodes a chunk of `A`s, runs the `fn(A) -> R` at `function` on each,
/// and encodes the results; a panic (the chunk's first) is its message.
pub(super) fn chunk_trampoline<A: DeserializeOwned, R: Serialize>(
    function: usize,
    chunk: &[u8],
) -> std::result::Result<Vec<u8>, String> {
    // SAFETY: as in `trampoline`.
    let f = unsafe { std::mem::transmute::<usize, fn(A) -> R>(function) };
    run_chunk(chunk, f)
}

/// Decodes a chunk of `T`s, runs `each` on every one, and encodes the
/// results; a panic (the chunk's first) is its message.
fn run_chunk<T: DeserializeOwned, R: Serialize>(
    chunk: &[u8],
    each: impl FnMut(T) -> R,
) -> std::result::Result<Vec<u8>, String> {
    let items: Vec<T> =
        postcard::from_bytes(chunk).map_err(|e| format!("decoding the arguments: {e}"))?;
    let results: Vec<R> = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        items.into_iter().map(each).collect()
    }))
    .map_err(|payload| panic_message(payload.as_ref()))?;
    postcard::to_allocvec(&results).map_err(|e| format!("encoding the results: {e}"))
}

/// Runs the `fn(A, B) -> R` at `function` on a decoded pair (`starmap`).
pub(super) fn pair_trampoline<A: DeserializeOwned, B: DeserializeOwned, R: Serialize>(
    function: usize,
    chunk: &[u8],
) -> std::result::Result<Vec<u8>, String> {
    // SAFETY: as in `trampoline`, for an `fn(A, B) -> R`.
    let f = unsafe { std::mem::transmute::<usize, fn(A, B) -> R>(function) };
    run_chunk(chunk, |(a, b): (A, B)| f(a, b))
}

/// Decodes an `A`, runs the `fn(A) -> R` at `function` on it, and encodes
/// its result; a panic is its message.
pub(super) fn trampoline<A: DeserializeOwned, R: Serialize>(
    function: usize,
    arg: &[u8],
) -> std::result::Result<Vec<u8>, String> {
    // SAFETY: `function` is the address of an `fn(A) -> R` (see
    // `worker_loop`).
    let f = unsafe { std::mem::transmute::<usize, fn(A) -> R>(function) };
    let arg: A = postcard::from_bytes(arg).map_err(|e| format!("decoding the argument: {e}"))?;
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(arg)))
        .map_err(|payload| panic_message(payload.as_ref()))?;
    postcard::to_allocvec(&result).map_err(|e| format!("encoding the result: {e}"))
}
