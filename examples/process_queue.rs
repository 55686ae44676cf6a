//! Python's first `multiprocessing` example with a queue, translated:
//!
//! ```python
//! from multiprocessing import Process, Queue
//!
//! def f(q):
//!     q.put([42, None, 'hello'])
//!
//! if __name__ == '__main__':
//!     q = Queue()
//!     p = Process(target=f, args=(q,))
//!     p.start()
//!     print(q.get())    # prints "[42, None, 'hello']"
//!     p.join()
//! ```
//!
//! Objects of this crate go to a child by name, and it opens them again.
//! `cargo run --example process_queue`

use shmipc::{MessageQueue, Process};

/// What the child puts: a number, nothing, and a word.
type Item = (u32, Option<u32>, String);

fn f(queue_name: String) {
    let q = MessageQueue::open(&queue_name).expect("open the queue");
    let item: Item = (42, None, "hello".to_owned());
    q.put(&item).expect("put");
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // The `if __name__ == '__main__':` guard: a child runs `f` here and exits.
    shmipc::init();
    let name = format!("example-queue-{}", std::process::id());
    let q = MessageQueue::create(&name, 4096)?;
    let mut p = Process::new(f, name);
    p.start()?;
    let item: Item = q.get()?;
    println!("{item:?}"); // prints "(42, None, "hello")"
    p.join();
    p.result()?;
    Ok(())
}
