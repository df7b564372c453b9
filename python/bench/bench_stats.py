"""Timing helpers shared by get_bench.py and ray_bench.py (standard library only: ray_bench.py
runs in Ray's own venv)."""

import statistics
import time


def percentiles(samples_ns):
    """Median and p10/p90/p99 in microseconds of samples in nanoseconds."""
    samples = sorted(samples_ns)

    def pick(q):
        return samples[min(len(samples) - 1, int(q * len(samples)))] / 1000.0

    return {"median_us": statistics.median(samples) / 1000.0, "p10_us": pick(0.10), "p90_us": pick(0.90),
            "p99_us": pick(0.99), "n": len(samples)}


def time_gets(get, key, count, warmup):
    """``percentiles`` of ``count`` calls of ``get(key)``, one at a time, after ``warmup`` calls;
    every value is dropped before the next call."""
    for _ in range(warmup):
        value = get(key)
        del value
    samples = []
    for _ in range(count):
        t0 = time.perf_counter_ns()
        value = get(key)
        samples.append(time.perf_counter_ns() - t0)
        del value
    return percentiles(samples)


def two_puts_ms(put, value):
    """``(first, second)``: milliseconds of two ``put(value)`` calls in a row, and their results."""
    t0 = time.perf_counter_ns()
    first = put(value)
    t1 = time.perf_counter_ns()
    second = put(value)
    t2 = time.perf_counter_ns()
    return (t1 - t0) / 1e6, (t2 - t1) / 1e6, (first, second)
