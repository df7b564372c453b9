"""The IPC client: blobs, metadata, names, and ``put``/``get`` of Python values."""

import os

from .blob import BlobWriter, MmapTable, Payload
from .errors import (
    InvalidError,
    ObjectNotExists,
    ProtocolError,
    VineyardConnectionError,
    VineyardTypeError,
)
from .ids import EMPTY_BLOB_ID, ObjectID, id_to_string, object_id
from .object_meta import BLOB_TYPENAME, ObjectMeta
from .protocol import Connection

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
        self._mmaps = MmapTable()
        self._blob_sizes = {}  # blob id -> size, for blobs this client created or fetched

    # -- life cycle ------------------------------------------------------------------------

    def close(self):
        """Close the connection (the daemon drops this connection's references)."""
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
        return self._conn.request(message, expect=expect, timeout=timeout)

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
        if isinstance(size, bool) or not isinstance(size, int):
            raise TypeError("blob size must be an int, got %s" % type(size).__name__)
        if size < 0:
            raise ValueError("blob size must be >= 0, got %d" % size)
        with self._conn.lock:  # the fd follows the reply: no other request in between
            reply = self._request(
                {"type": "create_buffer_request", "size": size}, expect="create_buffer_reply"
            )
            if "created" not in reply:
                raise ProtocolError("create_buffer_reply without 'created': %r" % (reply,))
            payload = Payload(reply["created"])
            self._receive_fd(reply.get("fd", -1))
            buffer = self._mmaps.view(payload, writable=True)
        self._blob_sizes[payload.object_id] = payload.data_size
        return BlobWriter(self, payload, buffer)

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

        Blobs the daemon does not return (unknown or deleted) are simply absent.
        """
        wanted = [object_id(i) for i in ids]
        result = {}
        fetch = [i for i in wanted if i != EMPTY_BLOB_ID]
        for i in wanted:
            if i == EMPTY_BLOB_ID:
                result[i] = Payload(
                    {"object_id": i, "store_fd": -1, "data_offset": 0, "data_size": 0, "map_size": 0}
                )
        if not fetch:
            return result
        # the legacy "num" + "0", "1"… encoding, as vineyard's C++ client sends it
        request = {"type": "get_buffers_request", "num": len(fetch), "unsafe": bool(unsafe)}
        for index, blob_id in enumerate(fetch):
            request[str(index)] = int(blob_id)
        with self._conn.lock:  # the fds follow the reply: no other request in between
            reply = self._request(request, expect="get_buffers_reply")
            for server_fd in reply.get("fds") or []:
                self._receive_fd(int(server_fd))
        payloads = reply.get("payloads")
        if payloads is None:
            payloads = [reply[str(i)] for i in range(int(reply.get("num", 0))) if str(i) in reply]
        for fields in payloads:
            payload = Payload(fields)
            result[payload.object_id] = payload
            self._blob_sizes[payload.object_id] = payload.data_size
        return result

    def get_blobs(self, ids, unsafe=False):
        """Read-only memoryviews over the blobs ``ids`` (in order), straight from the pool.

        Raises :class:`~vineyard_java.errors.ObjectNotExists` (with ``object_id``) for a blob
        the daemon does not know, and :class:`~vineyard_java.errors.ObjectNotSealed` for one
        still being written (unless ``unsafe``).
        """
        wanted = [object_id(i) for i in ids]
        for blob_id in wanted:
            if not blob_id.is_blob:
                raise VineyardTypeError(
                    "%s is not a blob id (blob ids have the top bit set); use get() or get_meta()"
                    % blob_id
                )
        payloads = self.get_payloads(wanted, unsafe=unsafe)
        views = []
        for blob_id in wanted:
            payload = payloads.get(blob_id)
            if payload is None:
                raise ObjectNotExists("blob %s does not exist" % blob_id, object_id=blob_id)
            views.append(self._mmaps.view(payload, writable=False))
        return views

    def get_blob(self, blob_id, unsafe=False):
        """A read-only memoryview over one blob's bytes in shared memory (no copy)."""
        return self.get_blobs([blob_id], unsafe=unsafe)[0]

    def mapped_regions(self):
        """``[(address, length, writable), …]``: this client's mappings of the pool."""
        return self._mmaps.regions()

    def release(self, blob_id):
        """Drop this connection's reference to a blob (``release_request``)."""
        self._request({"type": "release_request", "object_id": int(object_id(blob_id))}, expect="release_reply")

    # -- metadata ----------------------------------------------------------------------------

    def create_metadata(self, meta):
        """Create the object described by ``meta`` (``create_data_request``).

        Members given by value that have no id yet are created first.  ``meta`` is updated in
        place with its ``id``, ``signature`` and ``instance_id`` and returned; if it contained
        placeholders (members given by id), the daemon's resolved tree is returned instead.
        """
        if not isinstance(meta, ObjectMeta):
            raise TypeError("create_metadata expects an ObjectMeta, got %s" % type(meta).__name__)
        if not meta.typename:
            raise InvalidError("metadata needs a 'typename'", code=None)
        had_placeholder = self._prepare_members(meta)
        meta._tree.setdefault("instance_id", self.instance_id)
        meta._tree.setdefault("transient", True)
        meta._tree.setdefault("nbytes", 0)
        reply = self._request(
            {"type": "create_data_request", "content": meta.to_dict()}, expect="create_data_reply"
        )
        meta.id = reply["id"]
        meta._tree["signature"] = reply.get("signature")
        meta._tree["instance_id"] = reply.get("instance_id", self.instance_id)
        if had_placeholder:
            return self.get_meta(meta.id)
        return meta

    def _prepare_members(self, meta):
        """Create id-less members, complete blob entries; True if a placeholder is present."""
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
                placeholder = self._prepare_members(member) or placeholder
                created = self.create_metadata(member)
                meta._tree[name] = created
        return placeholder

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

        With ``wait`` the daemon answers only once the name exists; ``timeout`` (seconds)
        bounds that wait, after which :class:`TimeoutError` is raised and the connection is
        closed (the daemon would still answer later).  Without ``wait`` a missing name raises
        :class:`~vineyard_java.errors.ObjectNotExists`.
        """
        if not isinstance(name, str):
            raise TypeError("a name must be a str, got %s" % type(name).__name__)
        kwargs = {"timeout": timeout} if wait else {}
        reply = self._request(
            {"type": "get_name_request", "name": name, "wait": bool(wait)}, expect="get_name_reply", **kwargs
        )
        return ObjectID(reply["object_id"])

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
        """
        from .types import registry

        meta_or_id = registry.build(self, value, **kwargs)
        oid = object_id(meta_or_id)
        if persist or name is not None:
            if oid.is_blob:
                raise InvalidError("blobs cannot be persisted or named", code=None)
            self.persist(oid)
        if name is not None:
            self.put_name(oid, name)
        return oid

    def get(self, oid=None, name=None, **kwargs):
        """Read object ``oid`` (or the one named ``name``) back as a Python value.

        Arrays view the shared memory (read-only, no copy).  The reader is chosen by the
        longest registered typename prefix; unknown typenames raise
        :class:`~vineyard_java.errors.VineyardTypeError` (use :meth:`get_meta` for those).
        """
        from .types import registry

        if (oid is None) == (name is None):
            raise TypeError("get() needs exactly one of an object id or name=")
        if name is not None:
            oid = self.get_name(name)
        if isinstance(oid, ObjectMeta):
            meta = oid if not oid.is_placeholder else self.get_meta(oid.id)
        else:
            oid = object_id(oid)
            if oid.is_blob:
                return self.get_blob(oid)
            meta = self.get_meta(oid)
        return registry.resolve(self, meta, **kwargs)

    # -- helpers for type resolvers --------------------------------------------------------

    def blob_of(self, meta):
        """Read-only memoryview of the blob described by the member ``meta``."""
        if not isinstance(meta, ObjectMeta) or not meta.is_blob:
            raise VineyardTypeError(
                "expected a vineyard::Blob member, got %s" % (getattr(meta, "typename", None) or type(meta).__name__)
            )
        return self.get_blob(meta.id)

    def prefetch_blobs(self, meta):
        """Fetch every blob of a metadata tree in one request (receives fds once)."""
        ids = [i for i in meta.blob_ids() if i != EMPTY_BLOB_ID]
        if ids:
            self.get_payloads(ids)
