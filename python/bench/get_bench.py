"""Python get latency and first put into a fresh daemon: ours (both daemon modes) next to Ray's
object store measured in the same run; prints one table.

Each daemon is its own process (``--norpc``, a fresh socket); this process is the client.  "get"
is ``client.get(oid)`` of a numpy array (a read-only view of the pool) by its id, timed one call at
a time after a warm-up; "first put" is the first ``client.put`` of a 160 MB array (pages already
touched on the client side) into a daemon just started, with and without MADV_POPULATE_WRITE on
the blob before the copy, then a second put into the same daemon.

    python get_bench.py --vineyardd bin/vineyardd [--ray-json FILE] [--iterations N] [--fresh N]
"""

import argparse
import json
import os
import shlex
import signal
import subprocess
import tempfile
import time

import numpy as np

import vineyard_java as vj
from bench_stats import time_gets, two_puts_ms

SIZES = (1024, 1 << 20, 160_000_000)
TARGET_GET_US = 50.0
PRIME_BYTES = 1 << 20   # the priming put of a "first 160 MB put after a 1 MiB put"
SETTLE_S = 1.0          # "first put 1 s after start": the daemon (or Ray's store) had this long since ready


class Daemon:
    def __init__(self, command, flags, size):
        self.dir = tempfile.mkdtemp(prefix="vjbench-")
        self.socket = os.path.join(self.dir, "vineyard.sock")
        argv = shlex.split(command) + ["--socket=%s" % self.socket, "--size=%s" % size, "--norpc"] + flags
        self.log = open(os.path.join(self.dir, "log"), "w")
        self.proc = subprocess.Popen(argv, stdout=self.log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 600
        while "vineyardd ready:" not in open(self.log.name).read():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("vineyardd did not start: %s" % open(self.log.name).read()[-2000:])
            time.sleep(0.05)

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=60)
        self.log.close()


def measure_gets(client, iterations):
    # the daemon's JIT compiles its hot paths in the first seconds, on the same two CPUs: let it
    # finish on a throwaway object before anything is measured
    warm = client.put(np.ones(64, dtype=np.uint8))
    deadline = time.monotonic() + 3.0
    while time.monotonic() < deadline:
        time_gets(client.get, warm, 500, warmup=0)
    client.delete(warm)
    out = {}
    for size in SIZES:
        oid = client.put(np.ones(size, dtype=np.uint8))
        count = iterations if size < 100_000_000 else max(50, iterations // 10)
        # warm-up: the daemon's JIT and both sides' caches
        out[str(size)] = time_gets(client.get, oid, count, warmup=max(count, 2000))
        client.delete(oid)
    return out


#: how a first put copies: through the mapping as is, through the mapping after MADV_POPULATE_*, or
#: through the pool's fd (pwrite, VINEYARD_WRITE_THROUGH=1)
VARIANTS = {"plain": (False, False), "populate": (True, False), "pwrite": (True, True)}
VARIANT_NAMES = {"plain": "", "populate": " + MADV_POPULATE_READ/WRITE (default)", "pwrite": " + pwrite"}


def first_put(command, flags, variant, primed=False, settle=0.0):
    """The first 160 MB put into a fresh daemon; ``primed``: after a 1 MiB put and delete (the pool's fd
    mapped and both sides' put paths run once, as Java's bin/bench-fresh-put does), so that only the
    first touch of fresh memory is left in the figure."""
    daemon = Daemon(command, flags, "1Gi")
    try:
        time.sleep(settle)  # a daemon started ahead of its first put (its warm part pre-faulted by then)
        client = vj.connect(daemon.socket)
        client.populate, client.write_through = VARIANTS[variant]
        if primed:
            client.delete(client.put(np.ones(PRIME_BYTES, dtype=np.uint8)))
        first, second, ids = two_puts_ms(client.put, np.ones(SIZES[-1], dtype=np.uint8))
        client.delete(list(ids))
        client.close()
        return first, second
    finally:
        daemon.stop()


def span(values, fmt="%.0f"):
    """``lo-hi (median m)`` of a figure's runs: one noisy fresh daemon moves the range, not the median."""
    if not values:
        return "-"
    lo, hi = min(values), max(values)
    if fmt % lo == fmt % hi:
        return fmt % lo
    ordered = sorted(values)
    mid = len(ordered) // 2
    median = ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2
    return (fmt + "-" + fmt + " (median " + fmt + ")") % (lo, hi, median)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--vineyardd", required=True)
    parser.add_argument("--ray-json", help="ray_bench.py's output")
    parser.add_argument("--iterations", type=int, default=2000)
    parser.add_argument("--fresh", type=int, default=3, help="fresh daemons per first-put figure")
    args = parser.parse_args()

    ours = {}
    for label, flags in (("ours (extensions)", []), ("ours (--noextensions)", ["--noextensions"])):
        daemon = Daemon(args.vineyardd, flags, "2Gi")
        try:
            with vj.connect(daemon.socket) as client:
                ours[label] = {"path": client.protocol_path, "get": measure_gets(client, args.iterations),
                               "load": os.getloadavg()[0]}
        finally:
            daemon.stop()
        for variant in VARIANTS:
            runs = [first_put(args.vineyardd, flags, variant) for _ in range(args.fresh)]
            ours[label]["first_put_ms_%s" % variant] = [r[0] for r in runs]
            ours[label]["second_put_ms_%s" % variant] = [r[1] for r in runs]
            primed = [first_put(args.vineyardd, flags, variant, primed=True) for _ in range(args.fresh)]
            ours[label]["primed_put_ms_%s" % variant] = [r[0] for r in primed]
            settled = [first_put(args.vineyardd, flags, variant, settle=SETTLE_S) for _ in range(args.fresh)]
            ours[label]["settled_put_ms_%s" % variant] = [r[0] for r in settled]

    ray = {}
    if args.ray_json:
        with open(args.ray_json) as f:
            text = f.read().strip().splitlines()
        ray = json.loads(text[-1]) if text else {"error": "ray_bench.py printed nothing"}

    load = os.getloadavg()
    print("Python get by id (median of %d calls, p10-p90 in brackets; client and daemon in separate processes)"
          % args.iterations)
    print("machine: %d CPUs, load average %.1f %.1f %.1f during the run" % ((os.cpu_count() or 0,) + load))
    header = ("| client | 1 KiB | 1 MiB | 160 MB | first put 160 MB, fresh daemon | first 160 MB put after a 1 MiB put"
              " | first put %.0f s after start | second put | load |" % SETTLE_S)
    print()
    print(header)
    print("|---|---|---|---|---|---|---|---|---|")

    def cell(stats):
        return "%.1f us (%.0f-%.0f)" % (stats["median_us"], stats["p10_us"], stats["p90_us"])

    for label, data in ours.items():
        cells = [cell(data["get"][str(s)]) for s in SIZES]
        for variant in VARIANTS:
            name = VARIANT_NAMES[variant]
            put = "%s ms" % span(data["first_put_ms_%s" % variant])
            primed = "%s ms" % span(data["primed_put_ms_%s" % variant])
            settled = "%s ms" % span(data["settled_put_ms_%s" % variant])
            second = "%s ms" % span(data["second_put_ms_%s" % variant], "%.1f")
            if variant == "plain":
                print("| %s | %s | %s | %s | %s | %s | %s | %s | %.1f |" % (label, cells[0], cells[1], cells[2], put, primed,
                                                                        settled, second, data["load"]))
            else:
                print("| %s%s | | | | %s | %s | %s | %s | |" % (label, name, put, primed, settled, second))
    if "error" in ray:
        print("| ray object store | not run: %s | | | | | | | |" % ray["error"])
    elif ray:
        cells = [cell(ray["get"][str(s)]) for s in SIZES]
        print("| ray %s object store | %s | %s | %s | %s ms | %s ms | %s ms | %s ms | %.1f |" % (
            ray.get("version", "?"), cells[0], cells[1], cells[2], span(ray["first_put_ms"]),
            span(ray.get("primed_put_ms", [])), span(ray.get("settled_put_ms", [])), span(ray["second_put_ms"], "%.1f"),
            ray.get("load", float("nan"))))
    print()
    print("load: the 1-minute load average when the row's gets were measured (2 CPUs: above 2, other")
    print("processes competed for them).")
    print()
    print("target: get <= %.0f us at every size; first put at least 2x faster than Ray's." % TARGET_GET_US)
    print("'after a 1 MiB put': the same fresh daemon (or store) first took and deleted a 1 MiB array, so the")
    print("figure holds the first touch of fresh memory alone, not the first call's mapping and cold code.")
    print("'%.0f s after start': the first put into a fresh daemon (or store) made %.0f s after it was ready, as" % (SETTLE_S, SETTLE_S))
    print("a daemon started ahead of its pipeline sees it (our warm part is pre-faulted in the background by then).")


if __name__ == "__main__":
    main()
