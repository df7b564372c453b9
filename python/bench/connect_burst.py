"""A burst of clients connecting together: the many-clients probe of `bin/bench-connect`.

Each client, on its own thread: connect + ``register_request`` (timed: the "connect" figure), then
``cycles`` blob cycles (create_buffer -> receive the store fd once -> seal -> get_buffers -> release
-> drop_buffer), then ``exit_request``. All threads start together behind a barrier. Prints one
table row per daemon socket given. Standard library only, so the same probe runs against vineyard's
own vineyardd and ours in one run.

    python3 connect_burst.py --clients 1000 --cycles 10 SOCKET [SOCKET ...]
"""

import argparse
import socket
import threading
import time

import frames


def _send(sock, message):
    header, body = frames.encode(message)
    sock.sendall(header + body)


def _request(sock, message):
    _send(sock, message)
    return frames.read_reply(sock)


def _recv_fd(sock):
    _msg, fds, _flags, _addr = socket.recv_fds(sock, 1, 1)
    for fd in fds:
        socket.close(fd)
    if not fds:
        raise ConnectionError("expected a store fd")


def one_client(path, cycles, barrier, out, index):
    barrier.wait()
    t0 = time.perf_counter()
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.connect(path)
        _request(sock, {"type": "register_request", "version": "0.24.4", "store_type": "Normal",
                        "session_id": 0, "username": "", "password": ""})
        connected = time.perf_counter()
        for _ in range(cycles):
            created = _request(sock, {"type": "create_buffer_request", "size": 4096})
            if created.get("fd", -1) != -1:
                _recv_fd(sock)
            blob = created["id"]
            _request(sock, {"type": "seal_request", "object_id": blob})
            got = _request(sock, {"type": "get_buffers_request", "ids": [blob], "unsafe": False})
            for _fd in got.get("fds", []):
                _recv_fd(sock)
            _request(sock, {"type": "release_request", "object_id": blob})
            _request(sock, {"type": "drop_buffer_request", "id": blob})
        _send(sock, {"type": "exit_request"})
        out[index] = (connected - t0, time.perf_counter() - t0, None)
    except Exception as exc:  # a failed client is counted, the burst goes on
        out[index] = (None, time.perf_counter() - t0, exc)
    finally:
        sock.close()


def burst(path, clients, cycles):
    barrier = threading.Barrier(clients + 1)
    out = [None] * clients
    threads = [threading.Thread(target=one_client, args=(path, cycles, barrier, out, i), daemon=True)
               for i in range(clients)]
    for t in threads:
        t.start()
    barrier.wait()
    start = time.perf_counter()
    for t in threads:
        t.join()
    total = time.perf_counter() - start
    connects = sorted(r[0] for r in out if r[0] is not None)
    failures = [r[2] for r in out if r[2] is not None]
    return connects, total, failures


def percentile(sorted_values, p):
    if not sorted_values:
        return float("nan")
    return sorted_values[min(len(sorted_values) - 1, int(p / 100.0 * len(sorted_values)))]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--cycles", type=int, default=10)
    parser.add_argument("--label", action="append", default=[], help="a name per socket for the table")
    parser.add_argument("sockets", nargs="+")
    args = parser.parse_args()
    print("| daemon | clients | connect p50 ms | connect p99 ms | all done s | failed |")
    print("|---|---|---|---|---|---|")
    for i, path in enumerate(args.sockets):
        label = args.label[i] if i < len(args.label) else path
        connects, total, failures = burst(path, args.clients, args.cycles)
        print("| %s | %d | %.1f | %.1f | %.2f | %d |" % (
            label, args.clients, percentile(connects, 50) * 1e3, percentile(connects, 99) * 1e3,
            total, len(failures)), flush=True)
        if failures:
            print("  first failure: %r" % (failures[0],))


if __name__ == "__main__":
    main()
