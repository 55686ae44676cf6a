//! Python's `Pipe` example, translated, with a reply:
//!
//! ```python
//! from multiprocessing import Process, Pipe
//!
//! def f(conn):
//!     conn.send([42, None, 'hello'])
//!     conn.close()
//!
//! if __name__ == '__main__':
//!     parent_conn, child_conn = Pipe()
//!     p = Process(target=f, args=(child_conn,))
//!     p.start()
//!     print(parent_conn.recv())   # prints "[42, None, 'hello']"
//!     p.join()
//! ```
//!
//! A pipe's end goes to the child by name: the parent makes the first
//! end, the child opens the second. `cargo run --example pipe_ping_pong`

use shmipc::{Connection, Process};

type Item = (u32, Option<u32>, String);

fn f(pipe: String) {
    let conn = Connection::open(&pipe).expect("open the second end");
    let item: Item = (42, None, "hello".to_owned());
    conn.send(&item).expect("send");
    // And a ping-pong: answer every number with the next, until 0.
    loop {
        let n: u64 = conn.recv().expect("recv");
        if n == 0 {
            break;
        }
        conn.send(&(n + 1)).expect("send");
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    shmipc::init();
    let name = format!("example-pipe-{}", std::process::id());
    let parent_conn = Connection::create(&name, true)?;
    let mut p = Process::new(f, name);
    p.start()?;
    let item: Item = parent_conn.recv()?;
    println!("{item:?}"); // prints "(42, None, "hello")"
    let mut n = 1u64;
    for _ in 0..1000 {
        parent_conn.send(&n)?;
        n = parent_conn.recv::<u64>()? + 1;
    }
    parent_conn.send(&0u64)?;
    println!("after 1000 round trips: {n}"); // prints "after 1000 round trips: 2001"
    p.join();
    p.result()?;
    Ok(())
}
