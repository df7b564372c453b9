"""The one seam between vineyard's standard requests and vineyard-java's extensions.

A daemon lists the extensions it serves in ``register_reply.extensions``; vineyard's own
vineyardd 0.24 (and ``vineyardd --noextensions``) lists none.  A client picks its
:class:`ObjectPath` once, when it registers, and every put, get and release goes through it:

====================  =====================================  ===========================================
operation             :class:`ExtensionPath`                 :class:`StandardPath` (vineyard 0.24)
====================  =====================================  ===========================================
get by id or name     ``get_object_request`` (1 request)     [``get_name``] + ``get_data`` +
                                                             ``get_buffers`` (2-3 round trips)
commit a put          ``put_object_request`` (1 request)     ``seal`` x n (pipelined) + ``create_data``
                                                             + [``persist`` + ``put_name``], then
                                                             ``release`` x n
release holds         ``release_buffers_request``, one-way   ``release_request`` x n, their replies
                                                             read and dropped with the next reply
====================  =====================================  ===========================================

Either way the holds are released without a round trip of their own (they ride in front of the
next request), and a put is all or nothing: :meth:`StandardPath.put` undoes what it did when a
later step fails (it deletes the blobs it sealed and the objects it created).  Both paths work
over IPC and RPC; over RPC a get always takes the standard route, since a ``get_object_reply``
passes fds.
"""

from .errors import ObjectNotExists, ProtocolError, VineyardError, VineyardNotImplemented
from .ids import EMPTY_BLOB_ID, ObjectID, id_to_string, object_id
from .object_meta import ObjectMeta
from .protocol import check_reply

__all__ = ["ObjectPath", "ExtensionPath", "StandardPath", "path_for", "EXTENSION_REQUESTS"]

#: the requests of vineyard-java beyond vineyard 0.24's protocol.
EXTENSION_REQUESTS = frozenset(
    ("get_object_request", "put_object_request", "release_buffers_request", "server_stats_request")
)


def path_for(extensions):
    """The path for a daemon that advertised ``extensions`` (a set of request types)."""
    wanted = ("get_object_request", "put_object_request", "release_buffers_request")
    if all(e in extensions for e in wanted):
        return ExtensionPath()
    return StandardPath()


class ObjectPath:
    """How whole objects are got, put and released (see the module's table)."""

    #: a short name for diagnostics and benchmark tables.
    name = "?"

    def get_request(self, oid, name):
        """The request that fetches object ``oid`` (or the one named ``name``) with its blob
        payloads in one round trip, or ``None`` when this path needs several."""
        raise NotImplementedError

    def release(self, conn, ids):
        """Queue the release of this connection's holds on ``ids`` (no round trip)."""
        raise NotImplementedError

    def put(self, client, meta, seal, persist, name):
        """Seal the blobs ``seal``, create ``meta``, persist and name it, and release the sealed
        blobs' holds: all or nothing.  Returns the create reply (``id``, ``signature``,
        ``instance_id``)."""
        raise NotImplementedError


class ExtensionPath(ObjectPath):
    """``get_object`` / ``put_object`` / ``release_buffers``: one request each."""

    name = "extensions"

    def get_request(self, oid, name):
        request = {"type": "get_object_request", "wait": False, "unsafe": False}
        if name is not None:
            request["name"] = name
        else:
            request["id"] = int(oid)
        return request

    def release(self, conn, ids):
        conn.defer({"type": "release_buffers_request", "ids": [int(i) for i in ids], "reply": False})

    def put(self, client, meta, seal, persist, name):
        request = {
            "type": "put_object_request",
            "seal": [int(i) for i in seal],
            "content": meta.to_dict(),
            "persist": bool(persist) or name is not None,
            "release": True,
        }
        if name is not None:
            request["name"] = name
        return client._request(request, expect="put_object_reply")


class StandardPath(ObjectPath):
    """vineyard 0.24's own requests, as its C++ and Python clients send them."""

    name = "standard"

    def get_request(self, oid, name):
        return None

    def release(self, conn, ids):
        for blob_id in ids:
            conn.defer({"type": "release_request", "object_id": int(blob_id)}, reply=True)

    def put(self, client, meta, seal, persist, name):
        named = bool(persist) or name is not None
        sealed = []
        created = None
        try:
            if seal:
                replies = client._request_many([{"type": "seal_request", "object_id": int(i)} for i in seal])
                failure = None
                for blob_id, reply in zip(seal, replies):
                    try:
                        check_reply(reply, "seal_reply")
                        sealed.append(blob_id)
                    except VineyardError as exc:
                        failure = failure or exc
                if failure is not None:
                    raise failure
            created = client._request({"type": "create_data_request", "content": meta.to_dict()},
                                      expect="create_data_reply")
            if named:
                steps = [{"type": "persist_request", "id": int(created["id"])}]
                if name is not None:
                    steps.append({"type": "put_name_request", "object_id": int(created["id"]), "name": name})
                for reply, expect in zip(client._request_many(steps), ("persist_reply", "put_name_reply")):
                    check_reply(reply, expect)
        except BaseException:
            undo_put(client, meta, sealed, created)
            raise
        self.release(client._conn, [i for i in sealed if i != EMPTY_BLOB_ID])
        return created


def undo_put(client, meta, sealed_blobs, created):
    """Delete what a failed standard put made: the objects ``create_data`` created (not the
    existing members it referred to) and the blobs it sealed.  Best effort: on a broken
    connection a fresh one is used; a daemon that is gone took everything with it."""
    if client.closed:
        try:
            client = client._fresh_client()
        except (VineyardError, OSError):
            return
        fresh = True
    else:
        fresh = False
    try:
        ids = []
        if created is not None:
            ids.extend(_created_nodes(client, meta, ObjectID(created["id"])))
        ids.extend(i for i in sealed_blobs if i != EMPTY_BLOB_ID)
        if not ids and fresh and sealed_blobs:
            ids = list(sealed_blobs)
        if ids:
            client._request(
                {"type": "del_data_request", "id": [int(i) for i in ids], "force": True, "deep": False,
                 "fastpath": False, "memory_trim": False},
                expect="del_data_reply",
            )
    except (VineyardError, OSError):
        pass  # the original error is the one to report
    finally:
        if fresh:
            client.close()


def _created_nodes(client, submitted, root):
    """Ids of the objects one ``create_data`` made for the tree ``submitted`` (root ``root``):
    every node of the daemon's tree except blobs and the existing objects it referred to."""
    existing = {n.id for n in submitted.walk() if n.id is not None}
    try:
        tree = client.get_meta(root)
    except ObjectNotExists:
        return []
    out = []

    def walk(node):
        if node.id in existing or node.is_blob:
            return
        out.append(node.id)
        for member in node.members().values():
            walk(member)

    walk(tree)
    return out


def require_extension(client, request_type):
    """Raise :class:`~vineyard_java.errors.VineyardNotImplemented` unless the daemon serves
    the extension ``request_type``."""
    if request_type not in client.extensions:
        raise VineyardNotImplemented(
            "%s is an extension of vineyard-java that this daemon does not serve (it advertised %s)"
            % (request_type, sorted(client.extensions) or "none"),
            code=None,
        )


def meta_from_reply(reply, oid=None):
    """The ``ObjectMeta`` in a ``get_object_reply``'s ``content``."""
    content = reply.get("content")
    if not isinstance(content, dict):
        raise ProtocolError("get_object_reply without 'content': %r" % (reply,))
    return ObjectMeta.from_dict(content)


def meta_from_get_data(reply, oid):
    """The ``ObjectMeta`` of ``oid`` in a ``get_data_reply``."""
    tree = (reply.get("content") or {}).get(id_to_string(object_id(oid)))
    if tree is None:
        raise ObjectNotExists("object %s does not exist" % ObjectID(oid), object_id=ObjectID(oid))
    return ObjectMeta.from_dict(tree)
