"""One ``put``: every blob is created unsealed and written, then the object appears in one
request, or not at all.

While a put runs (on its thread), ``IPCClient.create_blob``/``create_disk_blob`` record
their writers here and ``IPCClient.create_metadata`` only completes the tree, creating
nothing.  :meth:`PutTransaction.commit` then sends one
``put_object_request {seal: [blob ids], content: {tree}, persist, name, release: true}``: the
daemon seals the blobs, creates the metadata (members included), persists and names it, all or
nothing, and drops this connection's holds on the blobs (blobs written but not in the tree
are dropped).  Any exception before that
(``KeyboardInterrupt`` included) makes :meth:`PutTransaction.abort` drop the blobs created so
far (``drop_buffer_request``); if the process dies instead, the daemon deletes the unsealed
blobs of the dead connection.  Either way nothing sealed is left behind.

Without the extension the commit takes several requests (:class:`~vineyard_java.paths.StandardPath`),
which undoes its own steps when a later one fails.  In the main thread, Ctrl-C during the
commit (either path) is held back until the commit's replies are in (a reply abandoned
half-read would leave the daemon's work unknown); the put then undoes the object and raises
:class:`KeyboardInterrupt`.
"""

import signal
import threading

from .errors import InvalidError
from .ids import EMPTY_BLOB_ID, ObjectID, object_id
from .object_meta import ObjectMeta

__all__ = ["PutTransaction"]


class PutTransaction:
    """The blobs of one put in progress."""

    def __init__(self, client):
        self._client = client
        self._writers = []

    def add(self, writer):
        """Record a writer created during the put."""
        self._writers.append(writer)

    def _unsealed(self):
        return [w for w in self._writers if not w.sealed and not w.aborted and w.id != EMPTY_BLOB_ID]

    def commit(self, built, persist=False, name=None):
        """Make the built value (an ``ObjectMeta`` tree, a ``BlobWriter`` or an id) appear;
        returns its :class:`~vineyard_java.ids.ObjectID`."""
        client = self._client
        named = persist or name is not None
        if isinstance(built, ObjectMeta) and built.id is None:
            client._complete_tree(built, create=False)
            members = set(built.blob_ids())
            writers = [w for w in self._unsealed() if w.id in members]
            with InterruptsDeferred() as interrupts:
                reply = client._put_object(built, writers, persist, name)
            for writer in writers:
                writer._mark_sealed()
            if interrupts.interrupted:
                from .paths import undo_put

                undo_put(client, built, [w.id for w in writers], reply)
                raise KeyboardInterrupt
            self.abort()  # blobs the builder made but did not use
            return object_id(reply["id"])
        if hasattr(built, "as_member"):  # a single blob (bytes)
            if named:
                raise InvalidError("blobs cannot be persisted or named", code=None)
            built.seal()
            client._release_blobs([built.id])
            return built.id
        # a builder that created its object itself: seal what is left, then persist/name
        oid = object_id(built)
        if named and ObjectID(oid).is_blob:
            raise InvalidError("blobs cannot be persisted or named", code=None)
        for writer in self._unsealed():
            writer.seal()
        if named:
            client.persist(oid)
        if name is not None:
            client.put_name(oid, name)
        return oid

    def abort(self):
        """Drop every blob of the put that was not sealed (best effort: a connection that is
        gone has had its unsealed blobs deleted by the daemon already)."""
        for writer in self._unsealed():
            if self._client.closed:
                return
            try:
                writer.abort()
            except Exception:  # noqa: BLE001 - the original error is the one to report
                pass


class InterruptsDeferred:
    """Holds SIGINT back inside the block (main thread, default handler only): a Ctrl-C there
    sets :attr:`interrupted` instead of raising :class:`KeyboardInterrupt` mid-request."""

    def __init__(self):
        self.interrupted = False
        self._installed = False

    def _handler(self, _signum, _frame):
        self.interrupted = True

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            try:
                if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
                    signal.signal(signal.SIGINT, self._handler)
                    self._installed = True
            except (ValueError, TypeError):  # pragma: no cover - no signals here
                pass
        return self

    def __exit__(self, *exc):
        if self._installed:
            signal.signal(signal.SIGINT, signal.default_int_handler)
            self._installed = False
