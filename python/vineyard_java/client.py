"""The IPC client (blobs in shared memory, holds), ``connect`` and the default socket."""

import os
import struct

from .base import BaseClient
from .blob import BlobWriter, MmapTable, Payload, byte_view, copy_into, shmem_huge_pages_on_request
from .errors import ObjectNotExists, ProtocolError, VineyardTypeError
from .holds import HoldTable
from .ids import EMPTY_BLOB_ID, ObjectID, object_id
from .object_meta import ObjectMeta
from .paths import meta_from_get_data, meta_from_reply
from .protocol import check_reply, parse_endpoint

__all__ = ["IPCClient", "connect", "default_socket", "DEFAULT_SOCKET_ENV"]

#: the environment variable naming the daemon's socket (as in vineyard).
DEFAULT_SOCKET_ENV = "VINEYARD_IPC_SOCKET"

_HEADER = struct.Struct("<Q")
_POPULATE_MIN_BYTES = 1 << 20
#: :meth:`IPCClient.create_blob_from` copies this many bytes and more through the pool's fd.
_WRITE_MIN_BYTES = 1 << 20
_GET_BY_ID = b'{"type":"get_object_request","wait":false,"unsafe":false,"id":%d}'


def default_socket():
    """The socket ``vineyardd`` listens on when given no ``--socket``:
    ``$XDG_RUNTIME_DIR/vineyard/vineyard.sock`` when that directory exists, else
    ``~/.local/vineyard/vineyard.sock``."""
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime and os.path.isdir(runtime):
        return os.path.join(runtime, "vineyard", "vineyard.sock")
    return os.path.join(os.path.expanduser("~"), ".local", "vineyard", "vineyard.sock")


def connect(endpoint=None, timeout=300.0, username="", password="", compress=None, socket=None):
    """Connect to vineyardd and register.

    ``endpoint`` is a UNIX socket path (an :class:`IPCClient`) or ``"host:port"`` (an
    :class:`~vineyard_java.rpc.RPCClient`, as ``connect_rpc``; ``compress`` applies to it
    only).  Without one: ``$VINEYARD_IPC_SOCKET``, else the daemon's default socket
    (:func:`default_socket`).  Raises :class:`~vineyard_java.errors.VineyardConnectionError`
    (a :class:`ConnectionError`) when no daemon listens there.  ``socket=`` is the earlier
    name of ``endpoint``.
    """
    if endpoint is None:
        endpoint = socket
    if endpoint is None:
        endpoint = os.environ.get(DEFAULT_SOCKET_ENV) or default_socket()
    if isinstance(endpoint, tuple):
        host_port = endpoint
    else:
        endpoint = os.fspath(endpoint)
        host_port = parse_endpoint(endpoint)
    if host_port is not None:
        from .rpc import RPCClient

        return RPCClient(host_port, timeout=timeout, username=username, password=password, compress=compress)
    return IPCClient(endpoint, timeout=timeout, username=username, password=password)


class IPCClient(BaseClient):
    """A registered IPC connection to vineyardd.

    Use it as a context manager, or call :meth:`close`.  Objects returned by :meth:`get`
    view the shared memory directly and stay valid after the client is closed (until the
    object is deleted from the daemon).

    Holds: every get makes the daemon hold the blobs it returned for this connection (a
    deleted object's memory is freed only when no other connection holds its blobs).  The
    client gives a hold back when the value got (and every view of it) is garbage-collected,
    or when its :class:`~vineyard_java.holds.Lease` is released (:meth:`lease`); the release
    travels, without a round trip of its own, in front of the next request, or with
    :meth:`flush_releases` / :meth:`close`.  See :mod:`vineyard_java.holds`.

    Threads may share a client: requests are serialised on the connection.
    """

    def __init__(self, socket, timeout=300.0, username="", password=""):
        super().__init__(socket, timeout=timeout, username=username, password=password)
        self.socket = socket
        #: pre-fault new blobs of 1 MiB and more with ``MADV_POPULATE_WRITE`` before they are
        #: written (one system call instead of a page fault per 4 KiB page; see README);
        #: ``$VINEYARD_POPULATE=0`` turns it off.
        self.populate = os.environ.get("VINEYARD_POPULATE", "1") != "0"
        #: copy data of 1 MiB and more into new blobs through the pool's fd (``pwrite``) rather
        #: than the mapping (:meth:`create_blob_from`): ``$VINEYARD_WRITE_THROUGH=1``. Off by
        #: default: into the pages the daemon holds already (its warm part) the populated mapping
        #: with two copy threads is as fast or faster (one ``pwrite`` per memfd at a time; README,
        #: Performance), and where shared memory takes huge pages on request only the mapping gets them.
        self.write_through = (os.environ.get("VINEYARD_WRITE_THROUGH", "0") == "1"
                              and not shmem_huge_pages_on_request())
        #: threads that populate and fill a new blob of 16 MiB and more (``$VINEYARD_COPY_THREADS``,
        #: default 2 where the machine has 2 processors or more): one thread's copy into the pool
        #: runs near half of what two reach.
        self.copy_threads = max(1, int(os.environ.get("VINEYARD_COPY_THREADS", min(2, os.cpu_count() or 1))))
        if not self.ipc_socket:
            self.ipc_socket = socket
        self._mmaps = MmapTable()
        self._holds = HoldTable()
        self._unreleased = set()  # blobs no value uses, whose release is not queued yet
        self._replies = {}  # get_object replies by their bytes (Connection.exchange's memo)
        self._blob_ids_of = {}  # object id -> its blob ids (standard gets; objects are immutable)

    def close(self):
        """Close the connection (the daemon drops this connection's references).  Queued
        releases are sent first."""
        super().close()
        self._mmaps.close()

    # -- sessions ----------------------------------------------------------------------------

    def new_session(self, size=None):
        """Make a new session (vineyard's ``new_session``) and return a client connected to it.

        The session has its own objects and names and its own socket
        (``<socket>.S<session id in 16 hex digits>``); it shares the daemon's pool.  ``size``
        (bytes, or text such as ``"64Mi"``) is its memory limit, beyond vineyard: its blobs never
        take more of the pool, and an allocation beyond it raises
        :class:`~vineyard_java.errors.NotEnoughMemory` naming the session.  The session lives
        until :meth:`delete_session` is called on one of its clients and its last client closed.
        """
        request = {"type": "new_session_request", "bulk_store_type": 1}
        if size is not None:
            request["size"] = size
        reply = self._request(request, expect="new_session_reply")
        username, password = self._credentials
        return IPCClient(reply["socket_path"], timeout=self._timeout, username=username, password=password)

    def delete_session(self):
        """Delete this client's session and close the client: the session's socket is removed
        and its objects freed once its other clients (if any) have closed.  The root session
        (the daemon's own socket) cannot be deleted."""
        self._request({"type": "delete_session_request"}, expect="delete_session_reply")
        self.close()

    def shallow_copy_from(self, source, oid):
        """vineyard's ``ShallowCopy`` across sessions: the blobs of object ``oid`` of
        ``source``'s session move into this client's session (no bytes are copied; the source
        session no longer has them) and the object is created here with the same signature.
        Returns its id in this session."""
        meta = source.get_meta(oid)
        pairs = [[int(b), int(b)] for b in meta.blob_ids() if int(b) != EMPTY_BLOB_ID]
        self._request(
            {"type": "move_buffers_ownership_request", "id_to_id": pairs, "session_id": source.session_id},
            expect="move_buffers_ownership_reply",
        )
        reply = self._request({"type": "create_data_request", "content": meta.to_dict()}, expect="create_data_reply")
        return ObjectID(reply["id"])

    # -- holds -------------------------------------------------------------------------------

    def _queue_releases(self, before_get=False):
        """Queue the release of the blobs no value uses any more (under the lock).

        Before a get the releases wait for its reply: a blob that the get holds again is then
        not released at all (the daemon keeps one hold per connection and blob, uncounted),
        and the rest go in front of the next request."""
        if self._mmaps.pending:
            self._mmaps.collect()
        if self._holds.pending:
            self._unreleased.update(self._holds.collect())
        if self._unreleased and not before_get:
            free, self._unreleased = self._unreleased, set()
            for blob_id in free:
                self._blob_sizes.pop(blob_id, None)
            self._path.release(self._conn, free)

    def _release_blobs(self, ids):
        self._path.release(self._conn, ids)

    def flush_releases(self):
        """Send the queued releases now (no reply is waited for).

        They are otherwise sent in front of the next request, or by :meth:`close`.
        """
        with self._conn.lock:
            self._queue_releases()
            self._conn.flush()

    def held_blobs(self):
        """``{blob id: number of live values using it}`` for the blobs this connection holds
        through values it got (diagnostics; dead values count until the next request)."""
        with self._conn.lock:
            return self._holds.held()

    # -- blobs -----------------------------------------------------------------------------

    def _receive_fd(self, server_fd):
        if server_fd is None or server_fd < 0:
            return
        local_fd = self._conn.recv_fd()
        self._mmaps.add_fd(server_fd, local_fd)

    def create_blob(self, size):
        """Allocate an unsealed blob of ``size`` bytes and return its :class:`BlobWriter`.

        Raises :class:`~vineyard_java.errors.NotEnoughMemory` when the pool is full.
        """
        _check_size(size, minimum=0)
        return self._create_buffer(size)

    def _create_buffer(self, size, populate=True):
        return self._create({"type": "create_buffer_request", "size": size}, "create_buffer_reply", populate)

    def create_disk_blob(self, size, path=""):
        """Allocate an unsealed blob of ``size`` (>= 1) bytes backed by a file of its own
        (``create_disk_buffer_request``), and return its :class:`BlobWriter`.

        ``path`` names the file, which the daemon creates or extends (never truncates);
        empty (the default) means an anonymous temporary file.  Readers get such blobs like
        any other; the file is mapped only while a view of it is alive.
        """
        _check_size(size, minimum=1)
        if not isinstance(path, str):
            path = os.fspath(path)
        return self._create(
            {"type": "create_disk_buffer_request", "size": size, "path": path}, "create_disk_buffer_reply"
        )

    def create_blob_from(self, data):
        """A new unsealed blob holding a copy of ``data`` (any contiguous buffer: bytes, a numpy
        array, a pyarrow Buffer); returns its :class:`BlobWriter`.

        The bytes go through the mapping (populated first, copied by :attr:`copy_threads`); with
        :attr:`write_through`, from :data:`_WRITE_MIN_BYTES` on, through the pool's fd
        (``pwrite``) instead: the kernel copies them straight into the pool's pages and this
        process takes no page faults and populates no page tables (README, Performance).
        """
        view = byte_view(data)
        if len(view) < _WRITE_MIN_BYTES or not self.write_through:
            writer = self.create_blob(len(view))
        else:
            writer = self._create_buffer(len(view), populate=False)
            if self._mmaps.write(writer.payload, view):
                return writer
            if self.populate:
                self._mmaps.populate(writer.payload, self.copy_threads)
        if len(view):
            copy_into(writer.buffer, view, self.copy_threads)
        return writer

    def _create(self, request, expect, populate=True):
        with self._conn.lock:  # the fd follows the reply: no other request in between
            reply = self._request(request, expect=expect)
            if "created" not in reply:
                raise ProtocolError("%s without 'created': %r" % (expect, reply))
            payload = Payload(reply["created"])
            self._receive_fd(reply.get("fd", -1))
            buffer = self._mmaps.view(payload, writable=True)
        if populate and self.populate and payload.data_size >= _POPULATE_MIN_BYTES:
            self._mmaps.populate(payload, self.copy_threads)
        self._blob_sizes[payload.object_id] = payload.data_size
        put = self._current_put()
        writer = BlobWriter(self, payload, buffer, in_put=put is not None)
        if put is not None:
            put.add(writer)
        return writer

    def _seal_blob(self, blob_id):  # noqa: D401 - BlobWriter.seal outside a put
        self._request({"type": "seal_request", "object_id": int(blob_id)}, expect="seal_reply")

    def _shrink_blob(self, blob_id, size):
        self._request(
            {"type": "shrink_buffer_request", "id": int(blob_id), "size": size},
            expect="shrink_buffer_reply",
        )
        self._blob_sizes[ObjectID(blob_id)] = size

    def _drop_blob(self, blob_id):
        self._request({"type": "drop_buffer_request", "id": int(blob_id)}, expect="drop_buffer_reply")
        self._blob_sizes.pop(ObjectID(blob_id), None)

    def get_payloads(self, ids, unsafe=False):
        """``{id: Payload}`` for the blobs ``ids`` (receiving any new store fd).

        Blobs the daemon does not return (unknown or deleted) are simply absent.  The hold
        the daemon takes on them is released with the next request (payloads are not views).
        """
        return self._fetch_payloads(ids, unsafe)[0]

    def _fetch_payloads(self, ids, unsafe=False):
        """``({id: Payload}, HoldLink)``: the link holds the fetched blobs until it dies."""
        wanted = [object_id(i) for i in ids]
        fetch = [i for i in wanted if i != EMPTY_BLOB_ID]
        if not fetch:
            reply = {"payloads": []}
            with self._conn.lock:
                return self._take_payloads(reply, wanted)
        # the legacy "num" + "0", "1"… encoding, as vineyard's C++ client sends it
        request = {"type": "get_buffers_request", "num": len(fetch), "unsafe": bool(unsafe)}
        for index, blob_id in enumerate(fetch):
            request[str(index)] = int(blob_id)
        conn = self._conn
        with conn.lock:  # the fds follow the reply: no other request in between
            self._queue_releases(before_get=True)
            reply = conn.request(request, expect="get_buffers_reply")
            return self._take_payloads(reply, wanted)

    def _take_payloads(self, reply, wanted=()):
        """Receive the reply's fds, parse its payloads and link their holds (under the lock)."""
        for server_fd in reply.get("fds") or []:
            self._receive_fd(int(server_fd))
        payloads = reply.get("payloads")
        if payloads is None:
            payloads = [reply[str(i)] for i in range(int(reply.get("num", 0))) if str(i) in reply]
        result = {}
        if EMPTY_BLOB_ID in wanted:
            result[EMPTY_BLOB_ID] = Payload(
                {"object_id": EMPTY_BLOB_ID, "store_fd": -1, "data_offset": 0, "data_size": 0, "map_size": 0}
            )
        for fields in payloads:
            payload = Payload(fields)
            result[payload.object_id] = payload
        held = [i for i in result if i != EMPTY_BLOB_ID]
        for blob_id in held:
            self._blob_sizes[blob_id] = result[blob_id].data_size
        link = self._holds.link(held)
        if self._unreleased:  # releases held back for this get: those it holds again stay
            self._unreleased.difference_update(held)
            self._queue_releases()
        return result, link

    def get_blobs(self, ids, unsafe=False):
        """Read-only memoryviews over the blobs ``ids`` (in order), straight from the pool.

        Raises :class:`~vineyard_java.errors.ObjectNotExists` (with ``object_id``) for a blob
        the daemon does not know, and :class:`~vineyard_java.errors.ObjectNotSealed` for one
        still being written (unless ``unsafe``).  The connection holds the blobs until the
        views (and everything cut from them) are gone.
        """
        return self._get_blobs(ids, unsafe)[0]

    def _get_blobs(self, ids, unsafe=False):
        wanted = [object_id(i) for i in ids]
        for blob_id in wanted:
            if not blob_id.is_blob:
                raise VineyardTypeError(
                    "%s is not a blob id (blob ids have the top bit set); use get() or get_meta()"
                    % blob_id
                )
        payloads, link = self._fetch_payloads(wanted, unsafe=unsafe)
        return [self._view(payloads, blob_id, link) for blob_id in wanted], link

    def _view(self, payloads, blob_id, link):
        payload = payloads.get(blob_id)
        if payload is None:
            raise ObjectNotExists("blob %s does not exist" % blob_id, object_id=blob_id)
        return self._mmaps.view(payload, writable=False, link=link)

    def get_blob(self, blob_id, unsafe=False):
        """A read-only memoryview over one blob's bytes in shared memory (no copy)."""
        return self.get_blobs([blob_id], unsafe=unsafe)[0]

    def mapped_regions(self):
        """``[(address, length, writable), …]``: this client's mappings of the pool."""
        return self._mmaps.regions()

    def release(self, blob_id):
        """Drop this connection's hold on a blob now (``release_request``), whatever values
        still use it.  Holds of got values are otherwise given back by themselves (see
        :meth:`lease`)."""
        self._request({"type": "release_request", "object_id": int(object_id(blob_id))}, expect="release_reply")


    def _get_object(self, oid=None, name=None):
        """``(ObjectMeta, {id: Payload}, HoldLink)``: one ``get_object_request`` where the
        daemon serves it, vineyard's standard requests otherwise."""
        if name is not None and not isinstance(name, str):
            raise TypeError("a name must be a str, got %s" % type(name).__name__)
        request = self._path.get_request(oid, name)
        if request is None:
            return self._get_object_standard(oid, name)
        if name is None:  # the hot path: no JSON encoder
            body = _GET_BY_ID % oid
            frame = _HEADER.pack(len(body)) + body
        else:
            frame = self._conn._encode(request)
        conn = self._conn
        with conn.lock:  # the fds follow the reply: no other request in between
            self._queue_releases(before_get=True)
            reply = check_reply(conn.exchange([frame], "get_object_request", memo=self._replies)[0], "get_object_reply")
            payloads, link = self._take_payloads(reply)
        return meta_from_reply(reply), payloads, link

    def _get_object_standard(self, oid, name):
        """vineyard's requests: ``get_data`` then ``get_buffers``.  An object's blobs never
        change (objects are immutable), so once this client has seen an object both requests
        go in one write (one round trip); the ``get_data`` reply still decides: a missing
        object raises, whatever blobs came back."""
        known = self._blob_ids_of.get(oid) if name is None else None
        if known is None:
            meta, payloads, link = super()._get_object(oid, name)
            if len(self._blob_ids_of) >= 4096:
                self._blob_ids_of.clear()
            blob_ids = meta.blob_ids()
            fetch = [i for i in blob_ids if i != EMPTY_BLOB_ID]
            data = {"type": "get_data_request", "id": [int(meta.id)], "sync_remote": False, "wait": False}
            buffers = {"type": "get_buffers_request", "num": len(fetch), "unsafe": False}
            for index, blob_id in enumerate(fetch):
                buffers[str(index)] = int(blob_id)
            self._blob_ids_of[meta.id] = (blob_ids, [self._conn._encode(data), self._conn._encode(buffers)])
            return meta, payloads, link
        blob_ids, frames = known
        conn = self._conn
        with conn.lock:  # the fds follow the second reply
            self._queue_releases(before_get=True)
            data_reply, buffers_reply = conn.exchange(frames, "get_data_request/get_buffers_request", memo=self._replies)
            if "type" not in buffers_reply:  # an error: no fds follow
                check_reply(buffers_reply)
            payloads, link = self._take_payloads(check_reply(buffers_reply, "get_buffers_reply"), blob_ids)
        try:
            meta = meta_from_get_data(check_reply(data_reply, "get_data_reply"), oid)
        except BaseException:
            link.release()
            self._blob_ids_of.pop(oid, None)
            raise
        return meta, payloads, link

    # -- helpers for type resolvers --------------------------------------------------------

    def blob_of(self, meta):
        """Read-only memoryview of the blob described by the member ``meta`` (from the get in
        progress when it fetched it, else fetched now)."""
        if not isinstance(meta, ObjectMeta) or not meta.is_blob:
            raise VineyardTypeError(
                "expected a vineyard::Blob member, got %s" % (getattr(meta, "typename", None) or type(meta).__name__)
            )
        fetched = getattr(self._local, "fetched", None)
        blob_id = meta.id
        if fetched is not None:
            payload = fetched[0].get(blob_id)
            if payload is not None:
                return self._mmaps.view(payload, writable=False, link=fetched[1])
        return self.get_blob(blob_id)

    def prefetch_blobs(self, meta):
        """Fetch every blob of a metadata tree in one request (receives fds once); nothing to
        do inside a get, which fetched them already."""
        fetched = getattr(self._local, "fetched", None)
        ids = [i for i in meta.blob_ids() if i != EMPTY_BLOB_ID and (fetched is None or i not in fetched[0])]
        if ids:
            self.get_payloads(ids)


def _check_size(size, minimum):
    if isinstance(size, bool) or not isinstance(size, int):
        raise TypeError("blob size must be an int, got %s" % type(size).__name__)
    if size < minimum:
        raise ValueError("blob size must be >= %d, got %d" % (minimum, size))
