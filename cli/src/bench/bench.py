"""Python's multiprocessing, measured for `shmipc bench`: one JSON object per
line with the name, the unit and the median, p99 and p99.9 in nanoseconds.
Run as `python3 bench.py N` (N: round trips or operations per case)."""
import json
import multiprocessing as mp
import sys
import time


def percentiles(samples):
    samples.sort()
    at = lambda q: samples[min(len(samples) - 1, int(q * len(samples)))]
    return at(0.5), at(0.99), at(0.999)


def report(name, samples, unit="ns/op"):
    median, p99, p999 = percentiles(samples)
    row = {"name": name, "unit": unit, "median": median, "p99": p99, "p999": p999}
    print(json.dumps(row), flush=True)


def queue_echo(a, b, n):
    for _ in range(n):
        b.put(a.get())


def double(x):
    return x * 2


def pipe_echo(end, n):
    for _ in range(n):
        end.send_bytes(end.recv_bytes())


def timed(n, step):
    samples = []
    clock = time.perf_counter_ns
    for _ in range(n):
        t = clock()
        step()
        samples.append(clock() - t)
    return samples


def main():
    n = int(sys.argv[1])
    warm = max(10, n // 10)

    a, b = mp.Queue(), mp.Queue()
    p = mp.Process(target=queue_echo, args=(a, b, n + warm))
    p.start()
    for _ in range(warm):
        a.put(0)
        b.get()
    report("Python Queue ping-pong, 8 B", timed(n, lambda: (a.put(1), b.get())), "ns/round trip")
    p.join()

    here, there = mp.Pipe()
    p = mp.Process(target=pipe_echo, args=(there, n + warm))
    p.start()
    message = b"12345678"
    for _ in range(warm):
        here.send_bytes(message)
        here.recv_bytes()
    report(
        "Python Pipe ping-pong, 8 B",
        timed(n, lambda: (here.send_bytes(message), here.recv_bytes())),
        "ns/round trip",
    )
    p.join()

    lock = mp.Lock()
    report("Python Lock, uncontended", timed(n, lambda: (lock.acquire(), lock.release())))

    value = mp.Value("q", 0)

    def increment():
        with value.get_lock():
            value.value += 1

    report("Python Value increments", timed(n, increment))

    def start_pool():
        with mp.Pool(2) as pool:
            pool.apply(double, (1,))

    report("Python Pool(2) start-up and first result", timed(3, start_pool), "ns/call")

    with mp.Pool(2) as pool:
        pool.map(double, range(2), 1)
        items = max(2000, n * 2)
        per_item = []
        for _ in range(3):
            t = time.perf_counter_ns()
            for _ in pool.imap(double, range(items), 1):
                pass
            per_item.append((time.perf_counter_ns() - t) // items)
        report("Python Pool(2) imap, chunksize 1", per_item, "ns/message")
        per_item = []
        for _ in range(3):
            t = time.perf_counter_ns()
            pool.map(double, range(100_000))
            per_item.append((time.perf_counter_ns() - t) // 100_000)
        report("Python Pool(2) map of 100,000 ints", per_item, "ns/message")


if __name__ == "__main__":
    main()
