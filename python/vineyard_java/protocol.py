"""The IPC wire protocol: framing, requests, replies and file-descriptor passing.

Every message, in both directions, is an 8-byte little-endian length followed by that many
bytes of UTF-8 JSON.  Error replies are ``{"code": N, "message": ...}`` with no ``type``.

After a reply that introduces a store file descriptor (``create_buffer_reply`` with
``fd >= 0``, ``get_buffers_reply`` with a non-empty ``fds`` list) the daemon sends each fd
with its own ``sendmsg``: one data byte (0x14) plus ``SCM_RIGHTS``.  This module therefore
never reads past the end of a JSON frame: a greedy ``recv`` would swallow that byte and lose
the descriptor riding on it.

One-way requests (``release_buffers_request`` with ``reply: false``, which the daemon never
answers) are queued with :meth:`Connection.defer` and written in the same ``sendall`` as the
next request, or by :meth:`Connection.flush` / :meth:`Connection.close`.  Requests that do get a
reply may be queued the same way with ``defer(message, reply=True)`` (vineyard's standard
``release_request``, for a daemon without the one-way extension): their replies are read and
dropped, in order, in front of the next reply awaited, so they cost no round trip either.

Transports: a UNIX socket path (IPC) or a ``(host, port)`` pair (RPC over TCP, no fds).  The
socket stays in blocking mode; reads first spin for up to ``VINEYARD_SPIN_US`` microseconds
(default 50, as the Java SDK) with non-blocking ``recv`` calls before they block in ``poll``
with the timeout: on this machine a wake-up from a blocking read costs 20-40 us, more than the
daemon's work for most requests.
"""

import json
import os
import select
import socket
import struct
import threading
import time

from .errors import ProtocolError, VineyardConnectionError, VineyardTimeoutError, error_from_reply

__all__ = ["Connection", "PROTOCOL_VERSION", "MAX_FRAME"]

#: the vineyard version this client speaks.
PROTOCOL_VERSION = "0.24.4"
#: the daemon closes connections whose header announces more than 256 MiB.
MAX_FRAME = 256 * 1024 * 1024

_HEADER = struct.Struct("<Q")
_DONTWAIT = int(socket.MSG_DONTWAIT)  # plain ints: or-ing the enum flags costs a microsecond
_PEEK_DONTWAIT = int(socket.MSG_PEEK) | _DONTWAIT
_MEMO_MAX_BODY = 64 * 1024
_MEMO_ENTRIES = 256
#: at most this many replies are left unread while requests are written: a daemon answering
#: thousands of pipelined requests would otherwise fill both socket buffers while the client is
#: still writing, and neither side would read again (the Java SDK keeps the same bound).
_MAX_UNREAD = 64
#: queued one-way frames are written once this many are waiting.
_MAX_OUTBOX = 1024


def _spin_ns():
    try:
        return max(0, int(os.environ.get("VINEYARD_SPIN_US", "50"))) * 1000
    except ValueError:
        return 50000


def parse_endpoint(text):
    """``"host:port"`` -> ``(host, port)``; ``None`` when ``text`` is not of that form (a socket
    path).  ``[::1]:9600`` is accepted for IPv6."""
    if not isinstance(text, str) or "/" in text or ":" not in text:
        return None
    host, _, port = text.rpartition(":")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        return None
    return host, int(port)


class Connection:
    """One registered IPC connection to vineyardd.

    Requests are serialised by a lock, so a connection may be shared between threads; the
    daemon answers one request at a time per connection anyway.
    """

    def __init__(self, address, timeout=300.0):
        """Connect to the UNIX socket path ``address``, or to ``(host, port)`` over TCP (no
        registration yet; see :meth:`register`).

        ``timeout`` bounds every receive (vineyard's own client uses 300 s); ``None`` waits
        for ever.
        """
        self.tcp = isinstance(address, tuple)
        self.path = "%s:%d" % address if self.tcp else address
        self.timeout = timeout
        self._lock = threading.RLock()
        self._closed = False
        self._outbox = []  # encoded deferred frames, written in front of the next request
        self._outbox_replies = 0  # how many of them will be answered
        self._discard = 0  # replies of deferred requests written but not read yet
        self._spin = _spin_ns()
        try:
            if self.tcp:
                sock = socket.create_connection(address, timeout=timeout)
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            else:
                sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                sock.settimeout(timeout)
                try:
                    sock.connect(address)
                except BaseException:
                    sock.close()
                    raise
        except OSError as exc:
            raise VineyardConnectionError(
                "cannot connect to vineyardd at %r: %s" % (self.path, exc.strerror or exc)
            ) from exc
        sock.settimeout(None)  # blocking: reads spin, then poll with the timeout (_wait)
        self._sock = sock
        self._poll = select.poll()
        self._poll.register(sock.fileno(), select.POLLIN)
        self._header = bytearray(_HEADER.size)
        self._read_timeout = timeout  # of the request being read
        self._memo = None  # of the request being read (see exchange)

    # -- state ---------------------------------------------------------------------------

    @property
    def lock(self):
        """The connection's re-entrant lock.  Hold it around a request *and* the fds that
        follow its reply, so that no other thread's request slips in between."""
        return self._lock

    @property
    def closed(self):
        """True once the connection was closed (by us, or found dead)."""
        return self._closed

    def fileno(self):
        """The socket's file descriptor (``-1`` once closed)."""
        return -1 if self._closed else self._sock.fileno()

    def close(self, send_exit=True):
        """Say ``exit_request`` (the daemon closes without replying) and close the socket."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            if send_exit:
                try:
                    self._sock.settimeout(1.0)
                    self._write_frame({"type": "exit_request"})
                except OSError:
                    pass
            self._outbox = []
            self._outbox_replies = self._discard = 0
            try:
                self._sock.close()
            except OSError:
                pass

    def _broken(self, what, exc=None):
        """Mark the connection dead and build the error to raise."""
        self._closed = True
        try:
            self._sock.close()
        except OSError:
            pass
        detail = ""
        if exc is not None:
            detail = ": %s" % (getattr(exc, "strerror", None) or exc)
        return VineyardConnectionError(
            "connection to vineyardd at %r lost while %s%s" % (self.path, what, detail)
        )

    def _check_open(self):
        if self._closed:
            raise VineyardConnectionError("the connection to vineyardd at %r is closed" % self.path)

    # -- framing -------------------------------------------------------------------------

    @staticmethod
    def _encode(message):
        body = json.dumps(message, separators=(",", ":"), allow_nan=False).encode("utf-8")
        if len(body) > MAX_FRAME:
            raise ValueError("request of %d bytes exceeds the 256 MiB frame limit" % len(body))
        return _HEADER.pack(len(body)) + body

    def _write_frame(self, message):
        """Write the queued deferred frames and ``message`` (if any) in one ``sendall``."""
        frame = b"" if message is None else self._encode(message)
        self._write_bytes(frame)

    def _write_bytes(self, frame):
        data = b"".join(self._outbox) + frame if self._outbox else frame
        self._outbox = []
        self._discard += self._outbox_replies
        self._outbox_replies = 0
        if data:
            self._sock.sendall(data)

    def defer(self, message, reply=False):
        """Queue a request to ride in front of the next one (or go with :meth:`flush`, or before
        ``exit_request`` on :meth:`close`).  With ``reply`` the daemon answers it: the reply is
        read and dropped (errors included) before the next reply awaited.  Dropped when the
        connection is (or gets) closed."""
        with self._lock:
            if self._closed:
                return
            self._outbox.append(self._encode(message))
            if reply:
                self._outbox_replies += 1
            if (self._outbox_replies + self._discard >= _MAX_UNREAD
                    or len(self._outbox) >= _MAX_OUTBOX):
                self.exchange([], "queued requests")

    def flush(self):
        """Write the queued requests now (their replies, if any, are read with the next
        request)."""
        with self._lock:
            if self._closed or not self._outbox:
                return
            try:
                self._write_frame(None)
            except OSError as exc:
                raise self._broken("sending queued requests", exc) from exc

    def _wait(self, timeout):
        """Wait until the socket is readable: spin first, then block in ``poll``.  Raises
        :class:`socket.timeout` when ``timeout`` (seconds, None: for ever) passes."""
        sock = self._sock
        if self._spin:
            deadline = time.perf_counter_ns() + self._spin
            peek = self._header
            while True:
                try:
                    sock.recv_into(peek, 1, _PEEK_DONTWAIT)
                    return  # data, or EOF (read by the caller)
                except (BlockingIOError, InterruptedError):
                    if time.perf_counter_ns() > deadline:
                        break
        if not self._poll.poll(None if timeout is None else max(0, int(timeout * 1000))):
            raise socket.timeout("timed out")

    def _recv_into(self, view, size, timeout):
        try:
            return self._sock.recv_into(view, size, _DONTWAIT)
        except (BlockingIOError, InterruptedError):
            pass
        self._wait(timeout)
        return self._sock.recv_into(view, size, _DONTWAIT)

    def _read_exactly(self, size, timeout=Ellipsis, into=None):
        if timeout is Ellipsis:
            timeout = self.timeout
        buf = bytearray(size) if into is None else into
        view = memoryview(buf)
        got = 0
        while got < size:
            try:
                n = self._recv_into(view[got:], size - got, timeout)
            except (BlockingIOError, InterruptedError):
                continue
            if n == 0:
                raise EOFError("vineyardd closed the connection")
            got += n
        return buf

    def read_bytes_into(self, view, timeout=Ellipsis):
        """Fill the writable buffer ``view`` with the next bytes of the stream (bulk bytes that
        follow an RPC reply)."""
        self._read_exactly(len(view), timeout, into=view)

    def _read_frame(self):
        timeout = self._read_timeout
        header = self._read_exactly(_HEADER.size, timeout, into=self._header)
        (size,) = _HEADER.unpack(header)
        if size > MAX_FRAME:
            raise ProtocolError("reply frame of %d bytes exceeds the 256 MiB limit" % size)
        body = self._read_exactly(size, timeout)
        memo = self._memo
        if memo is not None and size <= _MEMO_MAX_BODY:
            body = bytes(body)
            reply = memo.get(body)
            if reply is None:
                reply = self._decode(body)
                if len(memo) >= _MEMO_ENTRIES:
                    memo.clear()
                memo[body] = reply
            return reply
        return self._decode(body)

    @staticmethod
    def _decode(body):
        try:
            return json.loads(body)
        except (UnicodeDecodeError, ValueError) as exc:
            raise ProtocolError("vineyardd sent a frame that is not JSON: %r" % bytes(body[:200])) from exc

    def _drain_discarded(self):
        """Read and drop the replies of deferred requests (under the lock)."""
        while self._discard:
            self._read_frame()
            self._discard -= 1

    def recv_fd(self):
        """Receive one file descriptor sent with ``SCM_RIGHTS`` after a reply.

        Reads exactly the one data byte that carries it.  The fd is close-on-exec.
        """
        with self._lock:
            self._check_open()
            try:
                self._wait(self.timeout)
                data, fds, _flags, _addr = socket.recv_fds(
                    self._sock, 1, 1, getattr(socket, "MSG_CMSG_CLOEXEC", 0)
                )
            except socket.timeout as exc:
                raise self._broken("waiting for a file descriptor (timed out)") from exc
            except OSError as exc:
                raise self._broken("receiving a file descriptor", exc) from exc
            if not data and not fds:
                raise self._broken("receiving a file descriptor (EOF)")
            if len(fds) != 1:
                for fd in fds:
                    _close_quietly(fd)
                raise ProtocolError(
                    "expected exactly one file descriptor after the reply, got %d (data %r)"
                    % (len(fds), data)
                )
            return fds[0]

    # -- requests ------------------------------------------------------------------------

    def request(self, message, expect=None, timeout=Ellipsis):
        """Send ``message`` and return the decoded reply.

        Raises the mapped :mod:`~vineyard_java.errors` exception for an error reply, and
        :class:`~vineyard_java.errors.ProtocolError` if ``expect`` (a reply type, or a tuple
        of them) does not match.  ``timeout`` overrides the connection's receive timeout for
        this request; when it expires the connection is closed (a late reply would otherwise
        be read as the answer to the next request) and
        :class:`~vineyard_java.errors.VineyardTimeoutError` (a :class:`TimeoutError`) is raised.
        Any other interruption between the first byte written and the reply read (e.g.
        ``KeyboardInterrupt``) also closes the connection, for the same reason, and propagates.
        """
        frame = self._encode(message)  # a ValueError here leaves the connection as it was
        return check_reply(self.exchange([frame], message.get("type"), timeout)[0], expect)

    def request_many(self, messages, timeout=Ellipsis):
        """Send ``messages`` in one write and return their replies, in order, unchecked (pass
        each to :func:`check_reply`).  The daemon serves a connection's requests one after the
        other, so the pipeline costs one round trip."""
        frames = [self._encode(m) for m in messages]
        return self.exchange(frames, "/".join(sorted({m.get("type") for m in messages})), timeout)

    def exchange(self, frames, what, timeout=Ellipsis, memo=None):
        """Write the deferred frames and ``frames`` in one ``sendall`` and return the decoded
        replies to ``frames`` (not checked).  See :meth:`request` for timeouts and
        interruptions.

        ``memo`` (a dict) memoizes the decoding of small replies by their bytes: equal bytes
        decode to equal JSON, so a reply seen before is not parsed again.  The replies it
        returns are shared: the caller must not change them.

        More than ``_MAX_UNREAD`` frames go in writes of that many, each followed by reading its
        replies (one round trip per 64 requests instead of a deadlock on full socket buffers)."""
        if len(frames) > _MAX_UNREAD:
            replies = []
            with self._lock:
                for start in range(0, len(frames), _MAX_UNREAD):
                    replies += self.exchange(frames[start:start + _MAX_UNREAD], what, timeout, memo)
            return replies
        with self._lock:
            self._check_open()
            try:
                self._write_bytes(frames[0] if len(frames) == 1 else b"".join(frames))
            except OSError as exc:
                raise self._broken("sending %s" % what, exc) from exc
            except BaseException:
                self._broken("sending %s (interrupted)" % what)
                raise
            self._read_timeout = self.timeout if timeout is Ellipsis else timeout
            try:
                self._drain_discarded()
                if memo is None:
                    return [self._read_frame() for _ in frames]
                self._memo = memo
                try:
                    return [self._read_frame() for _ in frames]
                finally:
                    self._memo = None
            except socket.timeout as exc:
                waited = self.timeout if timeout is Ellipsis else timeout
                self._broken("waiting")
                raise VineyardTimeoutError(
                    "no reply to %s within %s s; the connection was closed" % (what, waited)
                ) from exc
            except (OSError, EOFError) as exc:
                raise self._broken("waiting for the reply to %s" % what, exc) from exc
            except ProtocolError:
                self._broken("reading the reply to %s (not a frame)" % what)
                raise
            except BaseException:
                self._broken("waiting for the reply to %s (interrupted)" % what)
                raise

    def register(self, session_id=0, username="", password=""):
        """Send ``register_request`` and return the ``register_reply``."""
        reply = self.request(
            {
                "type": "register_request",
                "version": PROTOCOL_VERSION,
                "store_type": 1,
                "session_id": session_id,
                "username": username,
                "password": password,
            },
            expect="register_reply",
        )
        if reply.get("store_match") is False:
            self.close()
            raise VineyardConnectionError("vineyardd reports a store type mismatch (store_match=false)")
        return reply


def check_reply(reply, expect=None):
    """Raise for an error reply or an unexpected type; return ``reply`` otherwise."""
    if not isinstance(reply, dict):
        raise ProtocolError("vineyardd replied with a non-object: %r" % (reply,))
    if "type" not in reply and "code" in reply:
        if reply.get("code") == 0:
            return reply
        raise error_from_reply(reply)
    if expect is not None:
        allowed = (expect,) if isinstance(expect, str) else tuple(expect)
        if reply.get("type") not in allowed:
            raise ProtocolError("expected %s, vineyardd replied %r" % (" or ".join(allowed), reply))
    return reply


def _close_quietly(fd):
    import os

    try:
        os.close(fd)
    except OSError:
        pass
