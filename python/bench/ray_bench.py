"""Ray's object store, measured as get_bench.py measures ours; prints one JSON object.

Runs under a Python that has ray (bin/bench-python makes a venv of its own for it, target/rayvenv:
ray is never installed into the test venv).  ``ray.init`` starts the raylet and its plasma store
as separate processes; this process is the driver.  Figures: ``ray.get`` of a numpy array by its
ref (zero-copy: a read-only view of the store) and the first ``ray.put`` of 160 MB into a fresh
store.  When ray cannot start, ``{"error": "..."}`` says why.

    python ray_bench.py --iterations 2000 --sizes 1024,1048576,160000000 --fresh 3
"""

import argparse
import json
import os
import sys
import time

from bench_stats import time_gets, two_puts_ms

#: seconds between a store's start and the "settled" first put (get_bench.SETTLE_S)
SETTLE_S = 1.0


def measure_gets(ray, np, sizes, iterations):
    out = {}
    for size in sizes:
        array = np.ones(size, dtype=np.uint8)
        ref = ray.put(array)
        del array
        count = iterations if size < 100_000_000 else max(50, iterations // 10)
        out[str(size)] = time_gets(ray.get, ref, count, warmup=min(count, 500))
        del ref
    return out


def first_put(ray, np, size, store_bytes, primed=False, settle=0.0):
    """``primed``: a 1 MiB ray.put first (over Ray's 100 KiB inline limit, so it goes to plasma), as
    get_bench.py primes ours; ``settle``: seconds between ``ray.init``'s return and the put, as
    get_bench.py waits after our daemon is ready."""
    ray.init(num_cpus=1, object_store_memory=store_bytes, include_dashboard=False, log_to_driver=False,
             configure_logging=False)
    try:
        time.sleep(settle)
        if primed:
            ref = ray.put(np.ones(1 << 20, dtype=np.uint8))
            ray.get(ref)
            del ref
        # the array's pages are touched before the clock starts
        first, second, refs = two_puts_ms(ray.put, np.ones(size, dtype=np.uint8))
        del refs
        return first, second
    finally:
        ray.shutdown()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--iterations", type=int, default=2000)
    parser.add_argument("--sizes", default="1024,1048576,160000000")
    parser.add_argument("--fresh", type=int, default=3, help="fresh stores for the first-put figure")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    result = {}
    try:
        import numpy as np
        import ray

        result["version"] = ray.__version__
        store = 2 * max(sizes) + (256 << 20)
        firsts, seconds = [], []
        for _ in range(args.fresh):
            first, second = first_put(ray, np, max(sizes), store)
            firsts.append(first)
            seconds.append(second)
        result["first_put_ms"] = firsts
        result["second_put_ms"] = seconds
        result["primed_put_ms"] = [first_put(ray, np, max(sizes), store, primed=True)[0] for _ in range(args.fresh)]
        result["settled_put_ms"] = [first_put(ray, np, max(sizes), store, settle=SETTLE_S)[0] for _ in range(args.fresh)]
        ray.init(num_cpus=1, object_store_memory=store, include_dashboard=False, log_to_driver=False,
                 configure_logging=False)
        try:
            result["get"] = measure_gets(ray, np, sizes, args.iterations)
            result["load"] = os.getloadavg()[0]
        finally:
            ray.shutdown()
    except Exception as exc:  # noqa: BLE001 - the table says why ray did not run
        result["error"] = "%s: %s" % (type(exc).__name__, str(exc).splitlines()[0] if str(exc) else "")
    sys.stdout.flush()
    os.write(1, (json.dumps(result) + "\n").encode())


if __name__ == "__main__":
    main()
