"""The IPC client: blobs, metadata, names, and ``put``/``get`` of Python values."""

import contextlib
import os
import threading

from .blob import BlobWriter, MmapTable, Payload
from .errors import (
    InvalidError,
    ObjectNotExists,
    ProtocolError,
    VineyardConnectionError,
    VineyardTypeError,
)
from .holds import HoldTable, Lease
from .ids import EMPTY_BLOB_ID, ObjectID, id_to_string, object_id
from .object_meta import BLOB_TYPENAME, ObjectMeta
from .protocol import Connection
from .put import PutTransaction

__all__ = ["IPCClient", "connect", "DEFAULT_SOCKET_ENV"]

#: the environment variable naming the daemon's socket (as in vineyard).
DEFAULT_SOCKET_ENV = "VINEYARD_IPC_SOCKET"


def connect(socket=None, timeout=300.0, username="", password=""):
    """Connect to vineyardd over IPC and register.

    ``socket`` defaults to ``$VINEYARD_IPC_SOCKET``.  Raises
    :class:`~vineyard_java.errors.VineyardConnectionError` (a :class:`ConnectionError`) when
    no daemon listens there.
    """
    if socket is None:
        socket = os.environ.get(DEFAULT_SOCKET_ENV)
        if not socket:
            raise VineyardConnectionError(
                "no socket given and %s is not set" % DEFAULT_SOCKET_ENV
            )
    return IPCClient(os.fspath(socket), timeout=timeout, username=username, password=password)


class IPCClient:
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
        self._conn = Connection(socket, timeout=timeout)
        try:
            reply = self._conn.register(username=username, password=password)
        except BaseException:
            self._conn.close(send_exit=False)
            raise
        self.socket = socket
        self.instance_id = int(reply.get("instance_id", 0))
        self.session_id = int(reply.get("session_id", 0))
        self.rpc_endpoint = reply.get("rpc_endpoint")
        self.server_version = reply.get("version")
        self.ipc_socket = reply.get("ipc_socket", socket)
        self._timeout = timeout
        self._credentials = (username, password)  # to register the get_name(wait) connections
        self._mmaps = MmapTable()
        self._holds = HoldTable()
        # blob id -> size, for blobs this client holds (fetched) or writes (unsealed): entries
        # go when the hold is released, the blob sealed or dropped
        self._blob_sizes = {}
        self._local = threading.local()  # .put: the PutTransaction of this thread's put

    # -- life cycle ------------------------------------------------------------------------

    def close(self):
        """Close the connection (the daemon drops this connection's references).  Queued
        releases are sent first."""
        with self._conn.lock:
            self._queue_releases()
            self._conn.close()
        self._mmaps.close()

    @property
    def closed(self):
        """True once closed, or once the daemon went away."""
        return self._conn.closed

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __repr__(self):
        state = "closed" if self.closed else "instance %d" % self.instance_id
        return "IPCClient(%r, %s)" % (self.socket, state)

    def _request(self, message, expect=None, timeout=Ellipsis):
        with self._conn.lock:
            self._queue_releases()
            return self._conn.request(message, expect=expect, timeout=timeout)

    # -- holds -------------------------------------------------------------------------------

    def _queue_releases(self):
        """Queue one one-way release of the blobs no value uses any more (under the lock)."""
        self._mmaps.collect()
        free = self._holds.collect()
        for blob_id in free:
            self._blob_sizes.pop(blob_id, None)
        if free:
            self._release_blobs(free)

    def _release_blobs(self, ids):
        self._conn.defer({"type": "release_buffers_request", "ids": [int(i) for i in ids], "reply": False})

    def flush_releases(self):
        """Send the queued releases now (one-way: nothing is waited for).

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
        return self._create({"type": "create_buffer_request", "size": size}, "create_buffer_reply")

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

    def _create(self, request, expect):
        with self._conn.lock:  # the fd follows the reply: no other request in between
            reply = self._request(request, expect=expect)
            if "created" not in reply:
                raise ProtocolError("%s without 'created': %r" % (expect, reply))
            payload = Payload(reply["created"])
            self._receive_fd(reply.get("fd", -1))
            buffer = self._mmaps.view(payload, writable=True)
        self._blob_sizes[payload.object_id] = payload.data_size
        put = self._current_put()
        writer = BlobWriter(self, payload, buffer, in_put=put is not None)
        if put is not None:
            put.add(writer)
        return writer

    def _seal_blob(self, blob_id):
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

    def _blob_meta(self, blob_id, size):
        return ObjectMeta.from_dict(
            {
                "id": id_to_string(blob_id),
                "typename": BLOB_TYPENAME,
                "length": size,
                "nbytes": size,
                "instance_id": self.instance_id,
                "transient": True,
            }
        )

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
        with self._conn.lock:  # the fds follow the reply: no other request in between
            reply = self._request(request, expect="get_buffers_reply")
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
        return result, self._holds.link(held)

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

    # -- metadata ----------------------------------------------------------------------------

    def create_metadata(self, meta):
        """Create the object described by ``meta`` (``create_data_request``).

        Members given by value that have no id yet are created first.  ``meta`` is updated in
        place with its ``id``, ``signature`` and ``instance_id`` and returned; if it contained
        placeholders (members given by id), the daemon's resolved tree is returned instead.

        Inside a builder run by :meth:`put`, nothing is created yet: the tree is completed
        and returned without an id, and the put creates it (with its blobs) in one request.
        """
        if not isinstance(meta, ObjectMeta):
            raise TypeError("create_metadata expects an ObjectMeta, got %s" % type(meta).__name__)
        if not meta.typename:
            raise InvalidError("metadata needs a 'typename'", code=None)
        if self._current_put() is not None:
            self._complete_tree(meta, create=False)
            return meta
        had_placeholder = self._complete_tree(meta, create=True)
        reply = self._request(
            {"type": "create_data_request", "content": meta.to_dict()}, expect="create_data_reply"
        )
        self._took_id(meta, reply)
        if had_placeholder:
            return self.get_meta(meta.id)
        return meta

    def _took_id(self, meta, reply):
        meta.id = reply["id"]
        meta._tree["signature"] = reply.get("signature")
        meta._tree["instance_id"] = reply.get("instance_id", self.instance_id)

    def _complete_tree(self, meta, create):
        """Fill in the defaults of ``meta`` and its id-less members and complete blob entries;
        with ``create``, id-less members are created first.  True if a placeholder is present."""
        meta._tree.setdefault("instance_id", self.instance_id)
        meta._tree.setdefault("transient", True)
        meta._tree.setdefault("nbytes", 0)
        placeholder = False
        for name, member in list(meta.members().items()):
            if member.is_placeholder:
                placeholder = True
                continue
            if member.is_blob:
                blob_id = member.id
                if blob_id is None:
                    raise InvalidError("blob member %r has no id" % name, code=None)
                member._tree.setdefault("typename", BLOB_TYPENAME)
                member._tree.setdefault("instance_id", self.instance_id)
                member._tree.setdefault("transient", True)
                size = self._blob_sizes.get(blob_id, 0 if blob_id == EMPTY_BLOB_ID else None)
                if size is not None:
                    member._tree.setdefault("length", size)
                    member._tree.setdefault("nbytes", size)
                continue
            if member.id is None:
                if create:
                    meta._tree[name] = self.create_metadata(member)
                else:
                    placeholder = self._complete_tree(member, create=False) or placeholder
        return placeholder

    def _put_object(self, meta, seal, persist=False, name=None):
        """``put_object_request``: seal ``seal``, create ``meta``, persist and name it, and
        release the sealed blobs' holds, all in one request (all or nothing)."""
        named = bool(persist) or name is not None
        request = {
            "type": "put_object_request",
            "seal": [int(i) for i in seal],
            "content": meta.to_dict(),
            "persist": named,
            "release": True,
        }
        if name is not None:
            if not isinstance(name, str):
                raise TypeError("a name must be a str, got %s" % type(name).__name__)
            request["name"] = name
        reply = self._request(request, expect="put_object_reply")
        self._took_id(meta, reply)
        if named:
            meta._tree["transient"] = False
        return reply

    def get_meta(self, oid, sync_remote=False):
        """The :class:`ObjectMeta` of object ``oid`` (members nested, fully resolved).

        Raises :class:`~vineyard_java.errors.ObjectNotExists` when there is no such object.
        """
        return self.get_metas([oid], sync_remote=sync_remote)[0]

    def get_metas(self, ids, sync_remote=False):
        """:meth:`get_meta` for several ids at once (one request)."""
        wanted = [object_id(i) for i in ids]
        reply = self._request(
            {
                "type": "get_data_request",
                "id": [int(i) for i in wanted],
                "sync_remote": bool(sync_remote),
                "wait": False,
            },
            expect="get_data_reply",
        )
        content = reply.get("content") or {}
        metas = []
        for oid in wanted:
            tree = content.get(id_to_string(oid))
            if tree is None:
                raise ObjectNotExists("object %s does not exist" % oid, object_id=oid)
            metas.append(ObjectMeta.from_dict(tree))
        return metas

    def exists(self, oid):
        """True when the object (or sealed blob) exists."""
        reply = self._request({"type": "exists_request", "id": int(object_id(oid))}, expect="exists_reply")
        return bool(reply.get("exists"))

    def list_objects(self, pattern="*", regex=False, limit=5):
        """Metadata of objects whose typename matches ``pattern`` (a glob, or a regex).

        As in vineyard, ``limit`` defaults to 5, and sealed blobs are listed too when the
        pattern matches ``vineyard::Blob``.
        """
        reply = self._request(
            {"type": "list_data_request", "pattern": pattern, "regex": bool(regex), "limit": int(limit)},
            expect="get_data_reply",
        )
        content = reply.get("content") or {}
        return [ObjectMeta.from_dict(tree) for tree in content.values()]

    def persist(self, oid):
        """Make the object (and its transient members) persistent."""
        self._request({"type": "persist_request", "id": int(object_id(oid))}, expect="persist_reply")

    def is_persisted(self, oid):
        """True once the object was persisted (always False for blobs)."""
        reply = self._request({"type": "if_persist_request", "id": int(object_id(oid))}, expect="if_persist_reply")
        return bool(reply.get("persist"))

    def delete(self, oids, force=False, deep=True):
        """Delete objects (``del_data_request``).

        With ``deep`` (the default, as in vineyard's Python client) members go too; with
        ``force`` parents go too.  An object that still has parents is silently kept unless
        ``force`` (vineyard's semantics).
        """
        if isinstance(oids, (list, tuple, set)):
            ids = [int(object_id(i)) for i in oids]
        else:
            ids = [int(object_id(oids))]
        self._request(
            {
                "type": "del_data_request",
                "id": ids,
                "force": bool(force),
                "deep": bool(deep),
                "fastpath": False,
                "memory_trim": False,
            },
            expect="del_data_reply",
        )
        for i in ids:
            self._blob_sizes.pop(i, None)

    def label(self, oid, labels):
        """Merge ``labels`` (a str->str dict) into the object's ``__labels``."""
        keys = list(labels)
        self._request(
            {
                "type": "label_request",
                "id": int(object_id(oid)),
                "keys": keys,
                "values": [labels[k] for k in keys],
            },
            expect="label_reply",
        )

    def instance_status(self):
        """The daemon's status: ``instance_id``, ``memory_usage``, ``memory_limit``,
        ``ipc_connections``… (a dict)."""
        reply = self._request({"type": "instance_status_request"}, expect="instance_status_reply")
        return dict(reply.get("meta") or {})

    def server_stats(self):
        """vineyard-java's ``server_stats`` extension (a dict): per request type ``requests``
        counts and times, ``unexpected_errors``, and ``deferred_free_bytes`` (bytes of deleted
        blobs some connection still holds: not in ``memory_usage``, not free either)."""
        return dict(self._request({"type": "server_stats_request"}, expect="server_stats_reply"))

    def clear(self):
        """Delete everything in the daemon (server-wide!)."""
        self._request({"type": "clear_request"}, expect="clear_reply")

    # -- names -------------------------------------------------------------------------------

    def put_name(self, oid, name):
        """Name a persistent, non-blob object.

        The daemon refuses transient objects and blobs with
        :class:`~vineyard_java.errors.InvalidError`, unknown ids with
        :class:`~vineyard_java.errors.ObjectNotExists`.
        """
        if not isinstance(name, str):
            raise TypeError("a name must be a str, got %s" % type(name).__name__)
        self._request(
            {"type": "put_name_request", "object_id": int(object_id(oid)), "name": name},
            expect="put_name_reply",
        )

    def get_name(self, name, wait=False, timeout=None):
        """The id named ``name``.

        Without ``wait`` a missing name raises :class:`~vineyard_java.errors.ObjectNotExists`.
        With ``wait`` the daemon answers only once the name exists; ``timeout`` (seconds,
        ``None``: for ever) bounds that wait, after which
        :class:`~vineyard_java.errors.VineyardTimeoutError` (a :class:`TimeoutError`) is
        raised.

        The waiting request goes on a short-lived connection of its own, closed when it
        returns or times out: the daemon parks a waiting request on its connection, so on
        this one it would block every later request (and other threads) until the name
        appears, and a reply arriving after a timeout would be taken for the answer to the
        next request.  Closing the waiting connection drops the parked request instead, and
        this client stays usable.
        """
        if not isinstance(name, str):
            raise TypeError("a name must be a str, got %s" % type(name).__name__)
        request = {"type": "get_name_request", "name": name, "wait": bool(wait)}
        if not wait:
            return ObjectID(self._request(request, expect="get_name_reply")["object_id"])
        with self._waiting_connection() as conn:
            reply = conn.request(request, expect="get_name_reply", timeout=timeout)
        return ObjectID(reply["object_id"])

    @contextlib.contextmanager
    def _waiting_connection(self):
        """A registered connection of its own for one request that may wait long."""
        username, password = self._credentials
        conn = Connection(self.socket, timeout=self._timeout)
        try:
            conn.register(username=username, password=password)
            yield conn
        finally:
            conn.close()

    def drop_name(self, name):
        """Remove a name (dropping a missing name is not an error)."""
        self._request({"type": "drop_name_request", "name": name}, expect="drop_name_reply")

    def list_names(self, pattern="*", regex=False, limit=5):
        """``{name: ObjectID}`` of names matching ``pattern`` (limit 5 by default, as in
        vineyard)."""
        reply = self._request(
            {"type": "list_name_request", "pattern": pattern, "regex": bool(regex), "limit": int(limit)},
            expect="list_name_reply",
        )
        return {name: ObjectID(value) for name, value in (reply.get("names") or {}).items()}

    # -- Python values ---------------------------------------------------------------------

    def put(self, value, persist=False, name=None, **kwargs):
        """Store ``value`` and return its :class:`~vineyard_java.ids.ObjectID`.

        numpy arrays become ``vineyard::Tensor<T>``, pandas DataFrames ``vineyard::DataFrame``,
        pyarrow Tables/RecordBatches/arrays their vineyard counterparts, bytes-like values a
        ``vineyard::Blob`` and Python scalars ``vineyard::Scalar<T>``.  ``name`` (implies
        ``persist``) puts a name on it.

        All or nothing: the blobs are written unsealed, then one ``put_object_request`` seals
        them and creates, persists and names the object.  If anything fails before (an
        exception, ``KeyboardInterrupt``), the blobs written so far are dropped and the error
        propagates; if the process dies, the daemon deletes them.  See :mod:`vineyard_java.put`.
        """
        from .types import registry

        previous = self._current_put()
        put = self._local.put = PutTransaction(self)
        try:
            built = registry.build(self, value, **kwargs)
            return put.commit(built, persist=persist, name=name)
        except BaseException:
            put.abort()
            raise
        finally:
            self._local.put = previous

    def _current_put(self):
        return getattr(self._local, "put", None)

    def get(self, oid=None, name=None, **kwargs):
        """Read object ``oid`` (or the one named ``name``) back as a Python value.

        Arrays view the shared memory (read-only, no copy).  The reader is chosen by the
        longest registered typename prefix; unknown typenames raise
        :class:`~vineyard_java.errors.VineyardTypeError` (use :meth:`get_meta` for those).
        Metadata and blobs come in one ``get_object_request``.  The connection holds the
        object's blobs until the value (and every view of it) is garbage-collected; use
        :meth:`lease` to give them back at a point of your choosing.
        """
        return self._get(oid, name, kwargs)[0]

    def lease(self, oid=None, name=None, **kwargs):
        """:meth:`get` as a :class:`~vineyard_java.holds.Lease`: ``with client.lease(oid) as
        value: ...`` releases the connection's hold on the value's blobs when the block ends
        (or at :meth:`Lease.release <vineyard_java.holds.Lease.release>`)."""
        return Lease(*self._get(oid, name, kwargs))

    def _get(self, oid, name, kwargs):
        """``(value, HoldLink)``."""
        from .types import registry

        if (oid is None) == (name is None):
            raise TypeError("get() needs exactly one of an object id or name=")
        if isinstance(oid, ObjectMeta) and not oid.is_placeholder:
            meta = oid
            payloads, link = self._fetch_payloads(meta.blob_ids())
        else:
            if oid is not None:
                oid = object_id(oid)
                if oid.is_blob:
                    views, link = self._get_blobs([oid])
                    return views[0], link
            meta, payloads, link = self._get_object(oid, name)
        previous = getattr(self._local, "fetched", None)
        self._local.fetched = (payloads, link)
        try:
            return registry.resolve(self, meta, **kwargs), link
        finally:
            self._local.fetched = previous

    def _get_object(self, oid=None, name=None):
        """``get_object_request``: ``(ObjectMeta, {id: Payload}, HoldLink)`` in one request."""
        request = {"type": "get_object_request", "wait": False, "unsafe": False}
        if name is not None:
            if not isinstance(name, str):
                raise TypeError("a name must be a str, got %s" % type(name).__name__)
            request["name"] = name
        else:
            request["id"] = int(oid)
        with self._conn.lock:  # the fds follow the reply: no other request in between
            reply = self._request(request, expect="get_object_reply")
            payloads, link = self._take_payloads(reply)
        content = reply.get("content")
        if not isinstance(content, dict):
            raise ProtocolError("get_object_reply without 'content': %r" % (reply,))
        return ObjectMeta.from_dict(content), payloads, link

    # -- helpers for type resolvers --------------------------------------------------------

    def blob_of(self, meta):
        """Read-only memoryview of the blob described by the member ``meta`` (from the get in
        progress when it fetched it, else fetched now)."""
        if not isinstance(meta, ObjectMeta) or not meta.is_blob:
            raise VineyardTypeError(
                "expected a vineyard::Blob member, got %s" % (getattr(meta, "typename", None) or type(meta).__name__)
            )
        fetched = getattr(self._local, "fetched", None)
        if fetched is not None and meta.id in fetched[0]:
            return self._view(fetched[0], meta.id, fetched[1])
        return self.get_blob(meta.id)

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
