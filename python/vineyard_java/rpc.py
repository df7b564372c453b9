"""The RPC client: vineyardd over TCP, with blob bytes copied over the socket.

Like vineyard's ``RPCClient`` there is no shared memory: metadata requests are the IPC ones,
blobs travel as bytes (spec 1.7).  ``create_remote_buffers_request {num, sizes, compress}`` is
answered with a ``create_buffers_reply`` (the new ids); the client then writes every blob's
bytes back to back (empty blobs skipped) and reads a second ``create_buffers_reply`` once the
daemon has them.  ``get_remote_buffers_request {num, "0".., unsafe, compress}`` is answered
with a ``get_buffers_reply`` (no fds) followed by the bytes of each non-empty blob, in the
order of its payloads::

    client                                    daemon
    create_remote_buffers_request ------->
                               <------- create_buffers_reply {ids, payloads}
    blob0 bytes | blob1 bytes ... ------->
                               <------- create_buffers_reply (the blobs are sealed)

    get_remote_buffers_request   ------->
                               <------- get_buffers_reply {payloads}
                               <------- blob0 bytes | blob1 bytes ...

With ``compress`` (only when the daemon advertised ``support_rpc_compression`` and the
``zstandard`` package is installed) each blob is one zstd stream cut into chunks
``[u64 length][bytes]``, flushed but not ended: the reader stops once it has the blob's size.

Values got over RPC are process-local copies (numpy arrays over a private buffer), holding
nothing in the daemon.  A put builds every blob locally, then one upload creates them all at
commit time and the object follows (``put_object`` where advertised, vineyard's requests
otherwise), all or nothing.
"""

import itertools
import struct

from .base import BaseClient
from .blob import BaseBlobWriter
from .errors import ObjectNotExists, ProtocolError, VineyardError, VineyardNotImplemented, VineyardTypeError
from .ids import EMPTY_BLOB_ID, ObjectID, id_to_string, object_id
from .object_meta import ObjectMeta
from .protocol import check_reply

__all__ = ["RPCClient", "RemoteBlobWriter", "connect_rpc"]

_LENGTH = struct.Struct("<Q")
_CHUNK = 4 << 20
# provisional ids of blobs built locally in a put, replaced by the daemon's at commit: blob
# ids (top bit set) in a range the daemon's ids (instance id in the high bits) never reach
_PROVISIONAL = 0xFFFF000000000000


def connect_rpc(host, port, timeout=300.0, username="", password="", compress=None):
    """Connect to vineyardd's RPC port (``--rpc``, ``--rpc_socket_port``) and register.

    ``compress``: ask for zstd-compressed blob transfers (``None``/``False``: never; ``True``
    needs the ``zstandard`` package and a daemon that supports it)."""
    return RPCClient((host, int(port)), timeout=timeout, username=username, password=password, compress=compress)


class _RemotePayload:
    """A blob got over RPC: its id and its bytes, copied into this process."""

    __slots__ = ("object_id", "data")

    def __init__(self, blob_id, data):
        self.object_id = blob_id
        self.data = data


class RemoteBlobWriter(BaseBlobWriter):
    """A blob built in this process (a ``bytearray``) and uploaded when sealed.

    Inside :meth:`RPCClient.put <vineyard_java.base.BaseClient.put>` the upload waits for the
    put's commit (one request for every blob of the put), and :attr:`id` is provisional until
    then; outside, :meth:`seal` uploads it at once.
    """

    def __init__(self, client, size, provisional_id, in_put):
        super().__init__(client, memoryview(bytearray(size)), size == 0, in_put)
        self._id = EMPTY_BLOB_ID if size == 0 else provisional_id

    @property
    def id(self):
        """The blob's id (provisional inside a put until it commits)."""
        return self._id

    def seal(self):
        """Upload the blob (``create_remote_buffer_request``) and return its id."""
        if self._aborted:
            raise VineyardError("blob %s was aborted" % self._id)
        if not self._sealed:
            self._client._blob_sizes.pop(self._id, None)
            self._id = self._client._upload([self])[0]
            self._client._release_uploaded([self._id])
            self._mark_sealed()
        return self._id

    def _uploaded(self, blob_id):
        self._id = ObjectID(blob_id)

    def shrink(self, size):
        """Shrink the local blob to ``size`` bytes before it is uploaded."""
        self._check_shrink(size)
        self._buffer = self._buffer[:size]
        self._client._blob_sizes[self._id] = size

    def abort(self):
        """Forget the blob (nothing was sent to the daemon yet)."""
        self._client._blob_sizes.pop(self._id, None)
        self._aborted = True


class RPCClient(BaseClient):
    """A registered RPC (TCP) connection to vineyardd: the same ``put``/``get``/metadata API as
    :class:`~vineyard_java.IPCClient`, with blob bytes copied over the socket."""

    def __init__(self, address, timeout=300.0, username="", password="", compress=None):
        super().__init__(tuple(address), timeout=timeout, username=username, password=password)
        self.host, self.port = address
        self._compress = False
        if compress:
            try:
                import zstandard  # noqa: F401
            except ImportError as exc:
                self._conn.close()
                raise VineyardNotImplemented(
                    "compress=True needs the zstandard package (pip install zstandard)"
                ) from exc
            self._compress = self.support_rpc_compression
        self._provisional = itertools.count(1)

    @property
    def compress(self):
        """True when blob transfers are zstd-compressed."""
        return self._compress

    def __repr__(self):
        state = "closed" if self.closed else "instance %d" % self.instance_id
        return "RPCClient(%s:%d, %s, %s)" % (self.host, self.port, state, self._path.name)

    # -- blobs -------------------------------------------------------------------------------

    def create_blob(self, size):
        """A blob of ``size`` bytes built in this process (:class:`RemoteBlobWriter`)."""
        if isinstance(size, bool) or not isinstance(size, int):
            raise TypeError("blob size must be an int, got %s" % type(size).__name__)
        if size < 0:
            raise ValueError("blob size must be >= 0, got %d" % size)
        put = self._current_put()
        writer = RemoteBlobWriter(self, size, ObjectID(_PROVISIONAL | next(self._provisional)), put is not None)
        if put is not None:
            put.add(writer)
        if size:
            self._blob_sizes[writer.id] = size
        return writer

    def create_remote_blob(self, data):
        """Upload the bytes of ``data`` as a new sealed blob; returns its id (vineyard's
        ``create_remote_blob``)."""
        view = memoryview(data).cast("B")
        writer = RemoteBlobWriter(self, len(view), EMPTY_BLOB_ID, False)
        writer.copy(0, view)
        return writer.seal()

    def create_disk_blob(self, size, path=""):
        raise VineyardNotImplemented("disk blobs need an IPC connection (their file is mapped)")

    def _upload(self, writers):
        """``create_remote_buffers_request``: the daemon's ids of the ``writers``' blobs,
        uploaded and sealed (this connection holds them until released)."""
        sizes = [w.size for w in writers]
        request = {"type": "create_remote_buffers_request", "num": len(sizes), "sizes": sizes,
                   "compress": self._compress, "use_rdma": False}
        conn = self._conn
        with conn.lock:
            ack = self._request(request, expect="create_buffers_reply")
            ids = _ids_of(ack, len(sizes))
            try:
                for writer in writers:
                    if writer.size:
                        self._send_blob(writer.buffer)
                conn._read_timeout = conn.timeout
                done = check_reply(conn._read_frame(), "create_buffers_reply")
            except (OSError, EOFError) as exc:
                raise conn._broken("uploading %d blobs" % len(writers), exc) from exc
            except BaseException:
                conn._broken("uploading %d blobs (interrupted)" % len(writers))
                raise
        if _ids_of(done, len(sizes)) != ids:
            raise ProtocolError("the upload's two replies name different blobs: %r vs %r" % (ack, done))
        for blob_id, size in zip(ids, sizes):
            if size:
                self._blob_sizes[blob_id] = size
        return ids

    def _send_blob(self, view):
        sock = self._conn._sock
        if not self._compress:
            sock.sendall(view)
            return
        import zstandard

        compressor = zstandard.ZstdCompressor(level=1).compressobj()
        for offset in range(0, len(view), _CHUNK):
            last = offset + _CHUNK >= len(view)
            chunk = compressor.compress(view[offset:offset + _CHUNK])
            if last:
                chunk += compressor.flush(zstandard.COMPRESSOBJ_FLUSH_BLOCK)
            if chunk:
                sock.sendall(_LENGTH.pack(len(chunk)) + chunk)

    def _receive_blob(self, size):
        conn = self._conn
        data = bytearray(size)
        if not self._compress:
            conn.read_bytes_into(memoryview(data))
            return data
        import zstandard

        decompressor = zstandard.ZstdDecompressor().decompressobj()
        got = 0
        header = bytearray(_LENGTH.size)
        while got < size:
            conn.read_bytes_into(memoryview(header))
            (length,) = _LENGTH.unpack(header)
            if length > 2 * _CHUNK + 65536:
                raise ProtocolError("compressed chunk of %d bytes is larger than any the daemon sends" % length)
            chunk = bytearray(length)
            conn.read_bytes_into(memoryview(chunk))
            out = decompressor.decompress(bytes(chunk))
            if got + len(out) > size:
                raise ProtocolError("compressed data is longer than the blob's %d bytes" % size)
            data[got:got + len(out)] = out
            got += len(out)
        return data

    def _release_blobs(self, ids):
        """Nothing to release: a blob put alone let go of its upload's hold when sealed."""

    def _release_uploaded(self, ids):
        """Drop the holds an upload took (the daemon keeps them until then)."""
        for blob_id in ids:
            self._blob_sizes.pop(blob_id, None)
        held = [i for i in ids if i != EMPTY_BLOB_ID]
        if held:
            with self._conn.lock:
                self._path.release(self._conn, held)

    def _fetch_payloads(self, ids, unsafe=False):
        """``({id: _RemotePayload}, None)``: the blobs' bytes, copied (no hold remains)."""
        wanted = [object_id(i) for i in ids]
        fetch = [i for i in dict.fromkeys(wanted) if i != EMPTY_BLOB_ID]
        result = {}
        if EMPTY_BLOB_ID in wanted:
            result[EMPTY_BLOB_ID] = _RemotePayload(EMPTY_BLOB_ID, bytearray(0))
        if not fetch:
            return result, None
        request = {"type": "get_remote_buffers_request", "num": len(fetch), "unsafe": bool(unsafe),
                   "compress": self._compress, "use_rdma": False}
        for index, blob_id in enumerate(fetch):
            request[str(index)] = int(blob_id)
        conn = self._conn
        with conn.lock:  # the bytes follow the reply
            reply = self._request(request, expect="get_buffers_reply")
            payloads = reply.get("payloads")
            if payloads is None:
                payloads = [reply[str(i)] for i in range(int(reply.get("num", 0))) if str(i) in reply]
            try:
                for fields in payloads:
                    blob_id = ObjectID(fields["object_id"])
                    size = int(fields["data_size"])
                    result[blob_id] = _RemotePayload(blob_id, self._receive_blob(size) if size else bytearray(0))
            except (KeyError, TypeError, ValueError) as exc:
                conn._broken("reading remote blobs (malformed payload)")
                raise ProtocolError("malformed payload from vineyardd: %r" % (payloads,)) from exc
            except (OSError, EOFError) as exc:
                raise conn._broken("receiving remote blob bytes", exc) from exc
            except BaseException:
                conn._broken("receiving remote blob bytes (interrupted)")
                raise
        return result, None

    def get_blobs(self, ids, unsafe=False):
        """Read-only memoryviews over copies of the blobs ``ids`` (in order).  Raises
        :class:`~vineyard_java.errors.ObjectNotExists` for a blob the daemon does not return."""
        return self._get_blobs(ids, unsafe)[0]

    get_remote_blobs = get_blobs

    def _get_blobs(self, ids, unsafe=False):
        wanted = [object_id(i) for i in ids]
        for blob_id in wanted:
            if not blob_id.is_blob:
                raise VineyardTypeError("%s is not a blob id (blob ids have the top bit set)" % blob_id)
        payloads, _ = self._fetch_payloads(wanted, unsafe)
        return [self._view(payloads, blob_id) for blob_id in wanted], None

    def get_blob(self, blob_id, unsafe=False):
        """A read-only memoryview over a copy of one blob's bytes."""
        return self.get_blobs([blob_id], unsafe)[0]

    get_remote_blob = get_blob

    @staticmethod
    def _view(payloads, blob_id):
        payload = payloads.get(blob_id)
        if payload is None:
            raise ObjectNotExists("blob %s does not exist" % blob_id, object_id=blob_id)
        return memoryview(payload.data).toreadonly()

    # -- puts --------------------------------------------------------------------------------

    def _put_object(self, meta, writers, persist=False, name=None):
        """Upload the put's blobs (one request), give the tree their ids, then create the
        object; the uploaded blobs are deleted if that fails."""
        uploaded = self._upload(writers) if writers else []
        renamed = {w.id: real for w, real in zip(writers, uploaded)}
        for provisional in renamed:
            self._blob_sizes.pop(provisional, None)
        for writer, real in zip(writers, uploaded):
            writer._uploaded(real)
        for node in meta.walk():
            if node.is_blob and node.id in renamed:
                node._tree["id"] = id_to_string(renamed[node.id])
        try:
            return super()._put_object(meta, writers, persist, name)
        except BaseException:
            from .paths import undo_put

            undo_put(self, meta, uploaded, None)
            raise

    def _prepare_seal(self, meta, writers):
        if self._path.name == "extensions":
            return [w.id for w in writers]  # put_object seals (again) and releases them
        self._release_uploaded([w.id for w in writers])  # uploaded blobs are sealed already
        return []

    # -- helpers for type resolvers --------------------------------------------------------

    def blob_of(self, meta):
        """Read-only memoryview of the blob of the member ``meta`` (from the get in progress,
        else fetched now)."""
        if not isinstance(meta, ObjectMeta) or not meta.is_blob:
            raise VineyardTypeError(
                "expected a vineyard::Blob member, got %s" % (getattr(meta, "typename", None) or type(meta).__name__)
            )
        fetched = getattr(self._local, "fetched", None)
        if fetched is not None and meta.id in fetched[0]:
            return self._view(fetched[0], meta.id)
        return self.get_blob(meta.id)

    def prefetch_blobs(self, meta):
        """Nothing to do inside a get (it fetched every blob of the tree at once)."""
        fetched = getattr(self._local, "fetched", None)
        ids = [i for i in meta.blob_ids() if i != EMPTY_BLOB_ID and (fetched is None or i not in fetched[0])]
        if ids:
            self._fetch_payloads(ids)


def _ids_of(reply, count):
    ids = reply.get("ids")
    if ids is None:
        ids = [reply[str(i)]["object_id"] for i in range(count) if str(i) in reply]
    if not isinstance(ids, list) or len(ids) != count:
        raise ProtocolError("create_buffers_reply names %r for %d blobs" % (ids, count))
    return [ObjectID(i) for i in ids]
