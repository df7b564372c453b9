"""A client that the crash tests kill with SIGKILL.

usage: crash_victim.py SOCKET unsealed SIZE    create an unsealed blob of SIZE bytes and touch its first page
       crash_victim.py SOCKET hold ID ID ...   get (and so reference) the given sealed blobs
Prints "ready" once it holds what it was asked to hold, then blocks until killed.
"""
import json
import mmap
import socket
import struct
import sys


def request(sock, msg):
    body = json.dumps(msg).encode()
    sock.sendall(struct.pack("<Q", len(body)) + body)
    header = b""
    while len(header) < 8:
        header += sock.recv(8 - len(header))
    (n,) = struct.unpack("<Q", header)
    data = b""
    while len(data) < n:
        data += sock.recv(n - len(data))
    reply = json.loads(data)
    if "code" in reply and "type" not in reply:
        raise SystemExit("error reply: %r" % reply)
    return reply


def main():
    path, mode, args = sys.argv[1], sys.argv[2], sys.argv[3:]
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.connect(path)
    request(sock, {"type": "register_request", "version": "0.24.4", "store_type": 1,
                   "session_id": 0, "username": "", "password": ""})
    keep = []
    if mode == "unsealed":
        reply = request(sock, {"type": "create_buffer_request", "size": int(args[0])})
        if reply["fd"] >= 0:
            _, fds, _, _ = socket.recv_fds(sock, 1, 1)
            created = reply["created"]
            m = mmap.mmap(fds[0], created["map_size"])
            m[created["data_offset"]] = 1
            keep.append(m)
    elif mode == "hold":
        ids = [int(a) for a in args]
        reply = request(sock, {"type": "get_buffers_request", "ids": ids, "unsafe": False})
        for _ in reply["fds"]:
            socket.recv_fds(sock, 1, 1)
        if reply["num"] != len(ids):
            raise SystemExit("got %d of %d blobs" % (reply["num"], len(ids)))
    print("ready", flush=True)
    sys.stdin.read()


if __name__ == "__main__":
    main()
