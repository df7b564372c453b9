"""vineyard's framing for the probes in this folder (stdlib only, so they run against any daemon):
an 8-byte little-endian length, then the UTF-8 JSON body."""

import json
import struct


def encode(message):
    """The length header and the body of one frame."""
    body = json.dumps(message).encode()
    return struct.pack("<Q", len(body)), body


def read_exactly(sock, n):
    buf = bytearray()
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise ConnectionError("daemon closed the connection")
        buf += chunk
    return bytes(buf)


def read_reply(sock):
    """One reply frame, decoded; an error reply raises RuntimeError."""
    (length,) = struct.unpack("<Q", read_exactly(sock, 8))
    reply = json.loads(read_exactly(sock, length))
    if "code" in reply and reply.get("code", 0) != 0:
        raise RuntimeError("daemon error %s: %s" % (reply["code"], reply.get("message")))
    return reply
