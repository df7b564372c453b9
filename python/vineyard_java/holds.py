"""This connection's holds on the daemon's blobs, and their release.

The daemon keeps one hold per (connection, blob) for every blob a get handed out
(``get_buffers``, ``get_object``): a deleted blob's memory is freed only once every other
connection holding it released it.  The daemon does not count, so this table does: each get
makes one :class:`HoldLink` over the blobs it fetched and adds one count per blob; every view
cut for that get keeps the link alive (see :mod:`~vineyard_java.blob`), so the link dies,
or is released explicitly (:class:`Lease`), when the value the user got is gone.  A blob whose
count drops to 0 is released with one ``release_buffers_request {ids, reply: false}`` queued in
front of the client's next request (one-way: no reply, no round trip).

Threads: the link's finalizer may run in any thread, at any allocation, even while this
connection's lock is held mid-request, so it only appends to a deque; counts change in
:meth:`HoldTable.link` and :meth:`HoldTable.collect`, both called under the connection's lock,
which orders them with the requests: a get and a release of the same blob never cross.
"""

import collections
import weakref

__all__ = ["HoldTable", "HoldLink", "Lease"]


class HoldLink:
    """One get's hold on its blobs: released when it is garbage-collected or :meth:`release`
    is called, whichever comes first."""

    __slots__ = ("blob_ids", "_finalizer", "__weakref__")

    def __init__(self, blob_ids, gone):
        self.blob_ids = tuple(blob_ids)
        self._finalizer = weakref.finalize(self, gone.extend, self.blob_ids)
        self._finalizer.atexit = False  # the connection's close releases everything anyway

    @property
    def released(self):
        """True once released (explicitly or by the garbage collector)."""
        return not self._finalizer.alive

    def release(self):
        """Give the holds back now (the release is sent with the client's next request)."""
        self._finalizer()


class HoldTable:
    """Counts, per blob, the live :class:`HoldLink` objects of one connection."""

    def __init__(self):
        self._counts = {}
        self._gone = collections.deque()  # blob ids of released links (appended by finalizers)

    def link(self, blob_ids):
        """A new link over ``blob_ids`` (call under the connection's lock, right after the
        reply that made the daemon hold them)."""
        for blob_id in blob_ids:
            self._counts[blob_id] = self._counts.get(blob_id, 0) + 1
        return HoldLink(blob_ids, self._gone)

    @property
    def pending(self):
        """True when links died since the last :meth:`collect`."""
        return bool(self._gone)

    def collect(self):
        """The blobs no live link uses any more, forgotten here: the caller releases them
        (call under the connection's lock)."""
        free = []
        while self._gone:
            blob_id = self._gone.popleft()
            count = self._counts.get(blob_id, 0) - 1
            if count > 0:
                self._counts[blob_id] = count
            elif self._counts.pop(blob_id, None) is not None:
                free.append(blob_id)
        return free

    def held(self):
        """``{blob id: live link count}`` (a copy; for tests and diagnostics)."""
        return dict(self._counts)


class Lease:
    """A value got from the daemon together with this connection's hold on its blobs.

    ``with client.lease(oid) as value: ...`` releases the hold when the block ends;
    :meth:`release` (alias :meth:`close`) does it at any time.  After that the daemon may give
    the memory of a deleted object to new blobs, so views of ``value`` must not be used any
    more.  Without an explicit release, the hold goes when ``value`` (and every view cut from
    it) is garbage-collected, as for :meth:`IPCClient.get <vineyard_java.client.IPCClient.get>`.
    """

    __slots__ = ("_value", "_link")

    def __init__(self, value, link):
        self._value = value
        self._link = link

    @property
    def value(self):
        """The value (an ndarray, DataFrame, memoryview...)."""
        return self._value

    @property
    def blob_ids(self):
        """The blobs held for this value."""
        return () if self._link is None else self._link.blob_ids

    @property
    def released(self):
        """True once :meth:`release` was called (or the hold was otherwise given back)."""
        return self._link is None or self._link.released

    def release(self):
        """Give back the hold on the value's blobs (sent with the client's next request, or
        by ``flush_releases``/``close``).  Releasing twice is harmless."""
        if self._link is not None:
            self._link.release()
        self._value = None

    close = release

    def __enter__(self):
        return self._value

    def __exit__(self, *exc):
        self.release()

    def __repr__(self):
        state = "released" if self.released else "holding %d blobs" % len(self.blob_ids)
        return "Lease(%s, %s)" % (type(self._value).__name__, state)
