"""RPC round trips as vineyard's C++ client makes them: `bin/bench-connect`'s Nagle probe.

vineyard's C++ client writes a frame's 8-byte length and its body in two send() calls on a socket
without TCP_NODELAY. The body then waits (Nagle) until the length is acknowledged, and a receiver
that delays its ACK holds it up to 40 ms. This probe sends requests the same way and prints the
round-trip percentiles, so a daemon's answer to it (ours: TCP_QUICKACK after each read) is measured.

    python3 nagle_probe.py --requests 200 HOST:PORT [HOST:PORT ...]
"""

import argparse
import socket
import time

import frames


def _request_two_sends(sock, message):
    header, body = frames.encode(message)
    sock.send(header)  # two sends, no TCP_NODELAY: as vineyard's client
    sock.send(body)
    return frames.read_reply(sock)


def probe(endpoint, requests):
    host, port = endpoint.rsplit(":", 1)
    sock = socket.create_connection((host, int(port)))
    try:
        _request_two_sends(sock, {"type": "register_request", "version": "0.24.4", "store_type": "Normal"})
        times = []
        for _ in range(requests):
            t0 = time.perf_counter()
            _request_two_sends(sock, {"type": "get_data_request", "id": [1], "sync_remote": False, "wait": False})
            times.append(time.perf_counter() - t0)
        return sorted(times)
    finally:
        sock.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--label", action="append", default=[])
    parser.add_argument("endpoints", nargs="+")
    args = parser.parse_args()
    print("| daemon | RPC get_data, two sends, no TCP_NODELAY | p50 ms | p99 ms |")
    print("|---|---|---|---|")
    for i, ep in enumerate(args.endpoints):
        label = args.label[i] if i < len(args.label) else ep
        t = probe(ep, args.requests)
        print("| %s | %d requests | %.2f | %.2f |" % (
            label, len(t), t[len(t) // 2] * 1e3, t[min(len(t) - 1, int(0.99 * len(t)))] * 1e3), flush=True)


if __name__ == "__main__":
    main()
