"""What every client does the same over IPC and RPC: registration, metadata, names, and the
orchestration of ``put``/``get`` (see :class:`BaseClient`)."""

import contextlib
import threading

from .errors import InvalidError, ObjectNotExists, ProtocolError
from .holds import Lease
from .ids import EMPTY_BLOB_ID, ObjectID, id_to_string, object_id
from .object_meta import BLOB_TYPENAME, ObjectMeta
from .paths import path_for, require_extension
from .protocol import Connection
from .put import PutTransaction

__all__ = ["BaseClient"]


class BaseClient:
    """A registered connection to vineyardd, over IPC (:class:`~vineyard_java.IPCClient`) or
    RPC (:class:`~vineyard_java.RPCClient`).

    ``extensions`` is the set of vineyard-java's extension requests the daemon advertised
    (``register_reply.extensions``; empty for vineyard's own vineyardd): puts, gets and
    releases use them when listed and vineyard's standard requests otherwise
    (:mod:`vineyard_java.paths`), with the same results.

    Threads may share a client: requests are serialised on the connection.
    """

    def __init__(self, address, timeout=300.0, username="", password=""):
        self._conn = Connection(address, timeout=timeout)
        try:
            reply = self._conn.register(username=username, password=password)
        except BaseException:
            self._conn.close(send_exit=False)
            raise
        self._address = address
        self.instance_id = int(reply.get("instance_id", 0))
        self.session_id = int(reply.get("session_id", 0))
        self.rpc_endpoint = reply.get("rpc_endpoint")
        self.server_version = reply.get("version")
        self.ipc_socket = reply.get("ipc_socket")
        self.support_rpc_compression = bool(reply.get("support_rpc_compression", False))
        extensions = reply.get("extensions") or []
        if not isinstance(extensions, list) or not all(isinstance(e, str) for e in extensions):
            self._conn.close()
            raise ProtocolError("register_reply.extensions is not a list of strings: %r" % (extensions,))
        #: the extension requests this daemon serves (a frozenset; empty for vineyard's own).
        self.extensions = frozenset(extensions)
        self._path = path_for(self.extensions)
        self._timeout = timeout
        self._credentials = (username, password)  # to register the get_name(wait) connections
        # blob id -> size, for blobs this client holds (fetched) or writes (unsealed): entries
        # go when the hold is released, the blob sealed or dropped
        self._blob_sizes = {}
        self._local = threading.local()  # .put: this thread's PutTransaction; .fetched: its get

    @property
    def protocol_path(self):
        """``"extensions"`` or ``"standard"``: which requests puts and gets use."""
        return self._path.name

    # -- life cycle ------------------------------------------------------------------------

    def close(self):
        """Close the connection (the daemon drops this connection's references).  Queued
        releases are sent first."""
        with self._conn.lock:
            self._queue_releases()
            self._conn.close()

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
        return "%s(%r, %s, %s)" % (type(self).__name__, self._conn.path, state, self._path.name)

    def _fresh_client(self):
        """Another connection to the same daemon (to clean up after a broken one)."""
        username, password = self._credentials
        return type(self)(self._address, timeout=self._timeout, username=username, password=password)

    def _request(self, message, expect=None, timeout=Ellipsis):
        with self._conn.lock:
            self._queue_releases()
            return self._conn.request(message, expect=expect, timeout=timeout)

    def _request_many(self, messages):
        """Pipelined requests (one round trip); their replies, unchecked."""
        with self._conn.lock:
            self._queue_releases()
            return self._conn.request_many(messages)

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

    def create_blob_from(self, data):
        """A new unsealed blob holding a copy of ``data`` (any contiguous buffer: bytes, a numpy
        array, a pyarrow Buffer); returns its writer, as :meth:`create_blob` does.  An IPC client
        may copy large data through the pool's fd instead of its mapping (``write_through``)."""
        from .blob import byte_view, copy_into

        view = byte_view(data)
        writer = self.create_blob(len(view))
        if len(view):
            copy_into(writer.buffer, view, getattr(self, "copy_threads", 1))
        return writer

    def _queue_releases(self):
        """Queue the releases of holds nobody needs (IPC; nothing to do over RPC)."""

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

    def _put_object(self, meta, writers, persist=False, name=None):
        """Seal the ``writers``' blobs, create ``meta``, persist and name it, and release the
        sealed blobs' holds, all or nothing (through this client's path, see
        :mod:`vineyard_java.paths`)."""
        named = bool(persist) or name is not None
        if name is not None and not isinstance(name, str):
            raise TypeError("a name must be a str, got %s" % type(name).__name__)
        seal = self._prepare_seal(meta, writers)
        reply = self._path.put(self, meta, seal, persist, name)
        self._took_id(meta, reply)
        if named:
            meta._tree["transient"] = False
        return reply

    def _prepare_seal(self, meta, writers):
        """The blob ids a put's commit seals (an RPC client uploads its blobs here first)."""
        return [w.id for w in writers]

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
        ids = self._id_list(oids)
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

    def cluster_meta(self):
        """Every instance of the cluster (a dict ``"i<n>"`` -> ``hostname``, ``rpc_endpoint``,
        ``ipc_socket``…), as ``cluster_meta`` answers; on a daemon without etcd, itself only."""
        reply = self._request({"type": "cluster_meta"}, expect="cluster_meta")
        return dict(reply.get("meta") or {})

    def migrate(self, oid):
        """A copy of object ``oid`` on this client's instance (vineyard's ``migrate_object``): its
        own id when it is local, else a local copy with the same signature, pulled from the
        instance holding it (once, however many clients ask)."""
        reply = self._request({"type": "migrate_object_request", "object_id": int(object_id(oid))},
                              expect="migrate_object_reply")
        return object_id(reply["object_id"])

    def put_global(self, chunks, typename="vineyard::GlobalDataFrame", name=None, partition_shape=None):
        """Make a global object (``global: true``) of existing persisted objects ``chunks``
        (ids), which may live on any instance of the cluster, persisted (and named ``name``).
        ``typename`` is ``vineyard::GlobalDataFrame`` or ``vineyard::GlobalTensor``; a
        GlobalDataFrame's ``partition_shape`` defaults to one column of chunks."""
        meta = ObjectMeta(typename)
        meta.set_global(True)
        meta["partitions_-size"] = len(chunks)
        for i, chunk in enumerate(chunks):
            meta["partitions_-%d" % i] = ObjectMeta.from_dict({"id": id_to_string(object_id(chunk))})
        if typename == "vineyard::GlobalDataFrame":
            rows, cols = partition_shape or (len(chunks), 1)
            meta["partition_shape_row_"] = int(rows)
            meta["partition_shape_column_"] = int(cols)
        meta["transient"] = False
        made = self.create_metadata(meta)
        if name is not None:
            self.put_name(made.id, name)
        return made.id

    def server_stats(self):
        """vineyard-java's ``server_stats`` extension (a dict): per request type ``requests``
        counts and times, ``unexpected_errors``, and ``deferred_free_bytes`` (bytes of deleted
        blobs some connection still holds: not in ``memory_usage``, not free either).

        Raises :class:`~vineyard_java.errors.VineyardNotImplemented` when the daemon does not
        serve it (vineyard's own vineyardd, ``vineyardd --noextensions``)."""
        require_extension(self, "server_stats_request")
        return dict(self._request({"type": "server_stats_request"}, expect="server_stats_reply"))

    # -- memory: spilling and trimming ---------------------------------------------------------

    @staticmethod
    def _id_list(oids):
        if isinstance(oids, (list, tuple, set)):
            return [int(object_id(i)) for i in oids]
        return [int(object_id(oids))]

    def evict(self, oids):
        """Spill the blobs of these objects (or blobs) to the daemon's ``--spill_path`` now; a
        later get reloads them.  Returns the number of blobs spilled.

        Raises :class:`~vineyard_java.errors.VineyardInvalid` when spilling is off or a blob is in
        use (held by a connection, this one included, or pinned); nothing is spilled then."""
        reply = self._request({"type": "evict_request", "ids": self._id_list(oids)}, expect="evict_reply")
        return int(reply.get("evicted", 0))

    def load(self, oids, pin=False):
        """Bring the blobs of these objects back into the pool; with ``pin`` they are never
        spilled until :meth:`unpin`."""
        self._request({"type": "load_request", "ids": self._id_list(oids), "pin": bool(pin)}, expect="load_reply")

    def unpin(self, oids):
        """Let the daemon spill these objects' blobs again."""
        self._request({"type": "unpin_request", "ids": self._id_list(oids)}, expect="unpin_reply")

    def is_spilled(self, oid):
        """True when a blob of the object is in a spill file now (False for an unknown id)."""
        reply = self._request({"type": "is_spilled_request", "id": int(object_id(oid))}, expect="is_spilled_reply")
        return bool(reply["is_spilled"])

    def is_in_use(self, oid):
        """True when a blob of the object is held by a connection, pinned or a stream chunk: it
        cannot be spilled now (False for an unknown id)."""
        reply = self._request({"type": "is_in_use_request", "id": int(object_id(oid))}, expect="is_in_use_reply")
        return bool(reply["is_in_use"])

    def memory_trim(self):
        """Return the daemon's free pool pages to the OS; the bytes of free memory trimmed."""
        reply = self._request({"type": "memory_trim_request"}, expect="memory_trim_reply")
        return int(reply.get("trimmed_bytes", 0))

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
        conn = Connection(self._address, timeout=self._timeout)
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

        numpy arrays become ``vineyard::Tensor<T>``, pandas DataFrames ``vineyard::DataFrame``
        (Series and Index ``vineyard::Series`` and ``vineyard::Index``),
        pyarrow Tables/RecordBatches/arrays their vineyard counterparts, bytes-like values a
        ``vineyard::Blob``, Python scalars ``vineyard::Scalar<T>``, tuples and lists
        ``vineyard::Tuple`` and ``vineyard::Sequence``.  ``name`` (implies ``persist``) puts a
        name on it.

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
        With ``fetch=True`` an object another instance holds is migrated here first (vineyard's
        ``get(..., fetch=True)``; see :meth:`migrate`).
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
        if kwargs.pop("fetch", False):
            oid = self._local_copy(self.get_name(name) if name is not None else oid)
            name = None
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

    def _local_copy(self, oid):
        """``oid``, or the id of its local copy when another instance holds it (global objects stay)."""
        meta = oid if isinstance(oid, ObjectMeta) else self.get_meta(object_id(oid))
        if meta.is_global or meta.instance_id == self.instance_id:
            return oid
        return self.migrate(meta.id)

    def _get_object(self, oid=None, name=None):
        """vineyard's standard route: [``get_name``] + ``get_data`` + the blobs
        (``(ObjectMeta, {id: payload}, HoldLink)``); an IPC client with the extension does it
        in one request instead."""
        if name is not None:
            oid = self.get_name(name)
        meta = self.get_meta(oid)
        payloads, link = self._fetch_payloads(meta.blob_ids())
        return meta, payloads, link
