"""Blobs: payloads, the client's table of shared-memory mappings, and the blob writer.

The daemon keeps its pool in one (or a few) shared-memory files and hands each connection the
file descriptor once.  Like vineyard's C++ client, this client maps the *whole* file once,
``mmap(fd, map_size - 8)`` (the 8 bytes are the allocator's region gap), and a blob is then
``base + data_offset``.  The fd numbers written in the JSON replies are the daemon's own, so
the table is keyed by them.  New blobs are mapped read-write, fetched blobs read-only, with
separate mappings, so nothing a reader holds can write into the pool.
"""

import mmap
import os
import threading

from ._buffer import buffer_address
from .errors import ObjectSealed, ProtocolError, VineyardError
from .ids import EMPTY_BLOB_ID, ObjectID

__all__ = ["Payload", "MmapTable", "BlobWriter", "MMAP_REGION_GAP"]

#: ``kMmapRegionsGap``: ``map_size`` exceeds the mappable length by this much.
MMAP_REGION_GAP = 8


class Payload:
    """One blob's location, as sent by the daemon (``Payload::ToJSON``)."""

    __slots__ = (
        "object_id",
        "store_fd",
        "data_offset",
        "data_size",
        "map_size",
        "pointer",
        "is_sealed",
        "is_owner",
        "is_gpu",
    )

    def __init__(self, fields):
        try:
            self.object_id = ObjectID(fields["object_id"])
            self.store_fd = int(fields["store_fd"])
            self.data_offset = int(fields["data_offset"])
            self.data_size = int(fields["data_size"])
            self.map_size = int(fields["map_size"])
        except (KeyError, TypeError, ValueError) as exc:
            raise ProtocolError("malformed payload from vineyardd: %r" % (fields,)) from exc
        self.pointer = int(fields.get("pointer", 0))
        self.is_sealed = bool(fields.get("is_sealed", False))
        self.is_owner = bool(fields.get("is_owner", True))
        self.is_gpu = bool(fields.get("is_gpu", False))

    @property
    def is_empty(self):
        """True for size-0 blobs, which have no memory and no fd."""
        return self.data_size == 0 or self.store_fd < 0

    def __repr__(self):
        return "Payload(%s, fd=%d, offset=%d, size=%d, sealed=%s)" % (
            self.object_id,
            self.store_fd,
            self.data_offset,
            self.data_size,
            self.is_sealed,
        )


class MmapTable:
    """The store fds received on one connection and the mappings made of them.

    Keys are the daemon's fd numbers.  Each file is mapped at most once read-write and once
    read-only, and mappings stay for the life of the connection (as in vineyard's client:
    blobs handed out keep pointing into them).
    """

    def __init__(self):
        self._lock = threading.Lock()
        self._fds = {}  # server fd -> local fd
        self._maps = {}  # (server fd, writable) -> mmap.mmap

    def add_fd(self, server_fd, local_fd):
        """Remember the local copy ``local_fd`` of the daemon's ``server_fd``."""
        with self._lock:
            old = self._fds.get(server_fd)
            self._fds[server_fd] = local_fd
        if old is not None and old != local_fd:
            _close_fd(old)

    def has_fd(self, server_fd):
        """True once the fd for ``server_fd`` was received on this connection."""
        return server_fd in self._fds

    def _mapping(self, payload, writable):
        key = (payload.store_fd, writable)
        with self._lock:
            mm = self._maps.get(key)
            if mm is not None:
                return mm
            local_fd = self._fds.get(payload.store_fd)
            if local_fd is None:
                raise ProtocolError(
                    "blob %s lives in store fd %d, which vineyardd never sent on this connection"
                    % (payload.object_id, payload.store_fd)
                )
            length = payload.map_size - MMAP_REGION_GAP
            if length <= 0:
                raise ProtocolError("invalid map_size %d for %s" % (payload.map_size, payload.object_id))
            access = mmap.ACCESS_WRITE if writable else mmap.ACCESS_READ
            try:
                mm = mmap.mmap(local_fd, length, access=access)
            except (OSError, ValueError) as exc:
                raise VineyardError(
                    "cannot map store fd %d (%d bytes): %s" % (payload.store_fd, length, exc)
                ) from exc
            self._maps[key] = mm
            return mm

    def view(self, payload, writable=False):
        """A memoryview of the blob's bytes inside the mapping (read-only unless
        ``writable``)."""
        if payload.is_empty:
            return memoryview(bytearray(0) if writable else b"")
        mm = self._mapping(payload, writable)
        end = payload.data_offset + payload.data_size
        if payload.data_offset < 0 or end > len(mm):
            raise ProtocolError(
                "blob %s [%d, %d) lies outside its %d-byte mapping"
                % (payload.object_id, payload.data_offset, end, len(mm))
            )
        return memoryview(mm)[payload.data_offset:end]

    def regions(self):
        """``[(address, length, writable), …]`` of every mapping made so far."""
        with self._lock:
            items = list(self._maps.items())
        return [(buffer_address(mm), len(mm), key[1]) for key, mm in items]

    def close(self):
        """Close the fds, and the mappings nobody still views.

        A mapping that an array still uses (``BufferError``) is left to the garbage collector:
        it is unmapped when its last view goes away.
        """
        with self._lock:
            maps, self._maps = self._maps, {}
            fds, self._fds = self._fds, {}
        for mm in maps.values():
            try:
                mm.close()
            except BufferError:
                pass
        for fd in fds.values():
            _close_fd(fd)


def _close_fd(fd):
    try:
        os.close(fd)
    except OSError:
        pass


class BlobWriter:
    """A new, unsealed blob: write through :attr:`buffer`, then :meth:`seal` it.

    Other clients cannot read the blob until it is sealed.  ``buffer`` is a writable
    memoryview over the pool itself (no copy is ever made).
    """

    def __init__(self, client, payload, buffer):
        self._client = client
        self._payload = payload
        self._buffer = buffer
        self._sealed = payload.object_id == EMPTY_BLOB_ID  # nothing to seal
        self._aborted = False

    @property
    def id(self):
        """The blob's :class:`~vineyard_java.ids.ObjectID`."""
        return self._payload.object_id

    @property
    def size(self):
        """Size in bytes."""
        return len(self._buffer)

    @property
    def buffer(self):
        """Writable memoryview over the blob's bytes in shared memory."""
        return self._buffer

    @property
    def address(self):
        """Address of the first byte in this process (0 for an empty blob)."""
        return buffer_address(self._buffer) if len(self._buffer) else 0

    @property
    def payload(self):
        """The daemon's :class:`Payload` for this blob."""
        return self._payload

    @property
    def sealed(self):
        """True once :meth:`seal` succeeded."""
        return self._sealed

    def copy(self, offset, data):
        """Copy the bytes of ``data`` (any buffer) into the blob at ``offset``."""
        if self._sealed and self.id != EMPTY_BLOB_ID:
            raise ObjectSealed("blob %s is sealed and can no longer be written" % self.id)
        src = memoryview(data).cast("B")
        if offset < 0 or offset + len(src) > len(self._buffer):
            raise ValueError(
                "copy of %d bytes at offset %d overflows the %d-byte blob"
                % (len(src), offset, len(self._buffer))
            )
        self._buffer[offset:offset + len(src)] = src

    def seal(self):
        """Seal the blob (``seal_request``) and return its id.  Sealing twice is harmless."""
        if self._aborted:
            raise VineyardError("blob %s was aborted" % self.id)
        if not self._sealed:
            self._client._seal_blob(self.id)
            self._sealed = True
        return self.id

    def shrink(self, size):
        """Shrink the unsealed blob to ``size`` bytes (``shrink_buffer_request``)."""
        if self._sealed:
            raise ObjectSealed("blob %s is sealed and cannot shrink" % self.id)
        if not 0 <= size <= len(self._buffer):
            raise ValueError("cannot shrink a %d-byte blob to %d bytes" % (len(self._buffer), size))
        self._client._shrink_blob(self.id, size)
        self._buffer = self._buffer[:size]

    def abort(self):
        """Give the memory back without sealing (``drop_buffer_request``)."""
        if self._sealed and self.id != EMPTY_BLOB_ID:
            raise ObjectSealed("blob %s is sealed; delete it instead" % self.id)
        if not self._aborted and self.id != EMPTY_BLOB_ID:
            self._client._drop_blob(self.id)
        self._aborted = True

    def meta(self):
        """The blob's metadata entry, as members of an object carry it."""
        return self._client._blob_meta(self.id, self.size)

    def __repr__(self):
        return "BlobWriter(%s, size=%d, sealed=%s)" % (self.id, self.size, self._sealed)
