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
next request, or by :meth:`Connection.flush` / :meth:`Connection.close`.
"""

import json
import socket
import struct
import threading

from .errors import ProtocolError, VineyardConnectionError, VineyardTimeoutError, error_from_reply

__all__ = ["Connection", "PROTOCOL_VERSION", "MAX_FRAME"]

#: the vineyard version this client speaks.
PROTOCOL_VERSION = "0.24.4"
#: the daemon closes connections whose header announces more than 256 MiB.
MAX_FRAME = 256 * 1024 * 1024

_HEADER = struct.Struct("<Q")


class Connection:
    """One registered IPC connection to vineyardd.

    Requests are serialised by a lock, so a connection may be shared between threads; the
    daemon answers one request at a time per connection anyway.
    """

    def __init__(self, path, timeout=300.0):
        """Connect to the UNIX socket ``path`` (no registration yet; see :meth:`register`).

        ``timeout`` bounds every receive (vineyard's own client uses 300 s); ``None`` waits
        for ever.
        """
        self.path = path
        self.timeout = timeout
        self._lock = threading.RLock()
        self._closed = False
        self._outbox = []  # encoded one-way frames, written in front of the next request
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.settimeout(timeout)
            sock.connect(path)
        except OSError as exc:
            sock.close()
            raise VineyardConnectionError(
                "cannot connect to vineyardd at %r: %s" % (path, exc.strerror or exc)
            ) from exc
        self._sock = sock

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
        """Write the queued one-way frames and ``message`` (if any) in one ``sendall``."""
        frame = b"" if message is None else self._encode(message)
        data = b"".join(self._outbox) + frame if self._outbox else frame
        self._outbox = []
        if data:
            self._sock.sendall(data)

    def defer(self, message):
        """Queue a one-way request (one the daemon does not answer): it is written in front of
        the next request, by :meth:`flush`, or before ``exit_request`` on :meth:`close`.
        Dropped when the connection is (or gets) closed."""
        with self._lock:
            if not self._closed:
                self._outbox.append(self._encode(message))

    def flush(self):
        """Write the queued one-way requests now (nothing is read back)."""
        with self._lock:
            if self._closed or not self._outbox:
                return
            try:
                self._write_frame(None)
            except OSError as exc:
                raise self._broken("sending queued requests", exc) from exc

    def _read_exactly(self, size):
        buf = bytearray(size)
        view = memoryview(buf)
        got = 0
        while got < size:
            n = self._sock.recv_into(view[got:], size - got)
            if n == 0:
                raise EOFError("vineyardd closed the connection")
            got += n
        return bytes(buf)

    def _read_frame(self):
        (size,) = _HEADER.unpack(self._read_exactly(_HEADER.size))
        if size > MAX_FRAME:
            raise ProtocolError("reply frame of %d bytes exceeds the 256 MiB limit" % size)
        body = self._read_exactly(size)
        try:
            return json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise ProtocolError("vineyardd sent a frame that is not JSON: %r" % body[:200]) from exc

    def recv_fd(self):
        """Receive one file descriptor sent with ``SCM_RIGHTS`` after a reply.

        Reads exactly the one data byte that carries it.  The fd is close-on-exec.
        """
        with self._lock:
            self._check_open()
            try:
                data, fds, _flags, _addr = socket.recv_fds(
                    self._sock, 1, 1, getattr(socket, "MSG_CMSG_CLOEXEC", 0)
                )
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
        with self._lock:
            self._check_open()
            what = message.get("type")
            if timeout is not Ellipsis:
                self._sock.settimeout(timeout)
            try:
                frame = self._encode(message)  # a ValueError here leaves the connection as it was
                try:
                    self._outbox.append(frame)
                    self._write_frame(None)
                except OSError as exc:
                    raise self._broken("sending %s" % what, exc) from exc
                except BaseException:
                    self._broken("sending %s (interrupted)" % what)
                    raise
                try:
                    reply = self._read_frame()
                except socket.timeout as exc:
                    waited = self.timeout if timeout is Ellipsis else timeout
                    self._broken("waiting")
                    raise VineyardTimeoutError(
                        "no reply to %s within %s s; the connection was closed" % (what, waited)
                    ) from exc
                except (OSError, EOFError) as exc:
                    raise self._broken("waiting for the reply to %s" % what, exc) from exc
                except ProtocolError:
                    raise
                except BaseException:
                    self._broken("waiting for the reply to %s (interrupted)" % what)
                    raise
            finally:
                if timeout is not Ellipsis and not self._closed:
                    self._sock.settimeout(self.timeout)
            return check_reply(reply, expect)

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
