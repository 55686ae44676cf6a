//! Python's `Pool` example, translated:
//!
//! ```python
//! from multiprocessing import Pool
//!
//! def f(x):
//!     return x*x
//!
//! if __name__ == '__main__':
//!     with Pool(5) as p:
//!         print(p.map(f, [1, 2, 3]))
//! ```
//!
//! `cargo run --example pool_squares`

fn f(x: u64) -> u64 {
    x * x
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    shmipc::init();
    let p = shmipc::Pool::new(5)?;
    println!("{:?}", p.map(f, [1, 2, 3])?); // prints "[1, 4, 9]"
    Ok(())
}
