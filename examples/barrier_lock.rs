//! Processes that meet at a `Barrier` and print under a `Lock`, as in
//! Python's documentation of synchronisation between processes:
//!
//! ```python
//! from multiprocessing import Process, Lock, Barrier
//!
//! def f(l, b, i):
//!     b.wait()
//!     l.acquire()
//!     try:
//!         print('hello world', i)
//!     finally:
//!         l.release()
//!
//! if __name__ == '__main__':
//!     lock, barrier = Lock(), Barrier(4)
//!     for num in range(4):
//!         Process(target=f, args=(lock, barrier, num)).start()
//! ```
//!
//! `cargo run --example barrier_lock`

use shmipc::{Barrier, Lock, Process};

fn f((lock, barrier, i): (String, String, u32)) {
    let lock = Lock::open(&lock).expect("open the lock");
    let barrier = Barrier::open(&barrier).expect("open the barrier");
    barrier.wait().expect("the barrier");
    let _held = lock.acquire().expect("the lock");
    println!("hello world {i}");
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    shmipc::init();
    let scope = std::process::id();
    let (lock_name, barrier_name) = (
        format!("example-lock-{scope}"),
        format!("example-barrier-{scope}"),
    );
    let _lock = Lock::create(&lock_name)?;
    let _barrier = Barrier::create(&barrier_name, 4)?;
    let mut processes: Vec<Process<()>> = (0..4)
        .map(|i| Process::new(f, (lock_name.clone(), barrier_name.clone(), i)))
        .collect();
    for p in &mut processes {
        p.start()?;
    }
    for p in &mut processes {
        p.join();
        p.result()?;
    }
    Ok(())
}
