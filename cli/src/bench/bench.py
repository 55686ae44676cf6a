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


def report(name, samples):
    median, p99, p999 = percentiles(samples)
    print(json.dumps({"name": name, "median": median, "p99": p99, "p999": p999}), flush=True)


def queue_echo(a, b, n):
    for _ in range(n):
        b.put(a.get())


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
    report("Python Queue ping-pong, 8 B", timed(n, lambda: (a.put(1), b.get())))
    p.join()

    here, there = mp.Pipe()
    p = mp.Process(target=pipe_echo, args=(there, n + warm))
    p.start()
    message = b"12345678"
    for _ in range(warm):
        here.send_bytes(message)
        here.recv_bytes()
    report("Python Pipe ping-pong, 8 B", timed(n, lambda: (here.send_bytes(message), here.recv_bytes())))
    p.join()

    lock = mp.Lock()
    report("Python Lock, uncontended", timed(n, lambda: (lock.acquire(), lock.release())))

    value = mp.Value("q", 0)

    def increment():
        with value.get_lock():
            value.value += 1

    report("Python Value increments", timed(n, increment))


if __name__ == "__main__":
    main()
