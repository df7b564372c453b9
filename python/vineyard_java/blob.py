"""Blobs: payloads, the client's table of shared-memory mappings, and the blob writer.

The daemon keeps its pool in one (or a few) shared-memory files and hands each connection the
file descriptor once.  Like vineyard's C++ client, this client maps the *whole* file once and
a blob is then ``base + data_offset``.  The fd numbers written in the JSON replies are the
daemon's own, so the table is keyed by them.  New blobs are mapped read-write, fetched blobs
read-only, with separate mappings, so nothing a reader holds can write into the pool.

Two kinds of store file, told apart by the payload (:attr:`Payload.is_disk`)::

    pool memfd  [0 ............................. map_size - 8)[8-byte gap]   mapped: map_size - 8
    disk file   [0 ......... map_size = data_size)  data_offset = 0           mapped: map_size

Views and their lifetime: every memoryview handed out is cut from a fresh *exporter* (a
ctypes array over the mapping), so every view derived from it (slices, numpy arrays,
pyarrow buffers) keeps that exporter alive, and a ``weakref.finalize`` on the exporter tells
the table (and the caller's hold link, see :mod:`~vineyard_java.holds`) exactly when the last
one is gone.  While an exporter lives, its mapping cannot be closed (the finalizer keeps a
memoryview of the mmap).  Finalizers only append to a deque; the table does its bookkeeping
(unmapping a disk file nobody views, or a mapping whose fd was replaced) under its lock in
:meth:`MmapTable.collect`, which the client calls before each request.
"""

import collections
import ctypes
import mmap
import os
import threading
import weakref

from ._buffer import buffer_address
from .errors import ObjectSealed, ProtocolError, VineyardError
from .ids import EMPTY_BLOB_ID, ObjectID

__all__ = ["Payload", "MmapTable", "BaseBlobWriter", "BlobWriter", "MMAP_REGION_GAP", "byte_view", "copy_into"]

#: ``kMmapRegionsGap``: ``map_size`` exceeds the mappable length by this much.
MMAP_REGION_GAP = 8
#: ``madvise`` advice that faults pages in writable (Linux 5.14; not in ``mmap`` before 3.13).
MADV_POPULATE_WRITE = getattr(mmap, "MADV_POPULATE_WRITE", 23)
#: ``madvise`` advice that faults pages in for reading (Linux 5.14). On a shared mapping of the pool,
#: pages already in the memfd's page cache (the daemon's warm part, pages kept through deletes) come
#: in 16 at a time (the kernel's fault-around) with writable entries: about 3x faster than
#: ``MADV_POPULATE_WRITE`` for them, while pages never touched still take one fault each either way.
MADV_POPULATE_READ = getattr(mmap, "MADV_POPULATE_READ", 22)
#: ``madvise`` advice that asks for transparent huge pages (see :func:`_advise_huge_pages`).
MADV_HUGEPAGE = getattr(mmap, "MADV_HUGEPAGE", 14)
#: New blobs of at least this many bytes are populated, and filled by :func:`copy_into`, in
#: parallel parts (one per copy thread).
PARALLEL_BYTES = 16 << 20


def _libc(name, argtypes):
    try:
        fn = getattr(ctypes.CDLL(None, use_errno=True), name)
    except (OSError, AttributeError):  # pragma: no cover - no libc symbol table
        return None
    fn.argtypes = argtypes
    fn.restype = ctypes.c_int
    return fn


# through ctypes, which releases the GIL during the call (``mmap.madvise`` holds it), so that
# parts of one blob are populated by several threads at once
_madvise = _libc("madvise", (ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int))
_mincore = _libc("mincore", (ctypes.c_void_p, ctypes.c_size_t, ctypes.c_void_p))


def _advise_huge_pages(mm):
    """``MADV_HUGEPAGE`` on a writable mapping of the pool: where the machine lets shared memory use
    transparent huge pages on request (``/sys/kernel/mm/transparent_hugepage/shmem_enabled`` is
    ``advise`` or ``within_size``), new blobs are mapped 2 MiB at a time, as the daemon asks for its own
    mapping; nothing happens where it is ``never`` (the kernel's default)."""
    try:
        mm.madvise(MADV_HUGEPAGE)
    except (OSError, ValueError, AttributeError):  # pragma: no cover - no THP in this kernel or Python
        pass


def shmem_huge_pages_on_request():
    """True where shared memory takes transparent huge pages only for mappings that ask for them
    (``/sys/kernel/mm/transparent_hugepage/shmem_enabled`` is ``advise``): there a copy through the
    mapping (advised by :func:`_advise_huge_pages`) gets 2 MiB pages, which a ``pwrite`` (no
    mapping) does not."""
    try:
        with open("/sys/kernel/mm/transparent_hugepage/shmem_enabled") as f:
            return "[advise]" in f.read()
    except OSError:
        return False


def resident_runs(address, length):
    """``[(start, end, resident), …]``: the page-aligned range ``[address, address + length)`` cut
    into runs of pages that are, or are not, in the page cache of the file mapped there
    (``mincore``); one run of unknown (``False``) pages where ``mincore`` is missing or fails."""
    pages = -(-length // mmap.PAGESIZE)
    if _mincore is None or pages == 0:
        return [(0, length, False)]
    import numpy as np

    vec = np.zeros(pages, dtype=np.uint8)
    if _mincore(address, length, vec.ctypes.data) != 0:
        return [(0, length, False)]
    flags = (vec & 1).astype(np.int8)
    cuts = np.flatnonzero(np.diff(flags)) + 1
    bounds = [0] + cuts.tolist() + [pages]
    return [(a * mmap.PAGESIZE, min(length, b * mmap.PAGESIZE), bool(flags[a])) for a, b in zip(bounds, bounds[1:])]


def _in_parts(size, parts, work):
    """Runs ``work(start, end)`` over ``parts`` page-aligned parts of ``[0, size)``: the first
    on this thread, the others on helper threads; re-raises the first failure."""
    step = -(-size // parts)
    step += -step % mmap.PAGESIZE
    bounds = [(a, min(size, a + step)) for a in range(0, size, step)]
    errors = []

    def run(a, b):
        try:
            work(a, b)
        except BaseException as e:  # noqa: BLE001 - handed to the caller
            errors.append(e)

    helpers = [threading.Thread(target=run, args=ab, daemon=True) for ab in bounds[1:]]
    for t in helpers:
        t.start()
    run(*bounds[0])
    for t in helpers:
        t.join()
    if errors:
        raise errors[0]


def byte_view(source):
    """The bytes of ``source`` (any contiguous buffer, or a numpy array of any dtype) as a flat
    numpy ``uint8`` array, without a copy (a flat memoryview where numpy is not installed)."""
    try:
        import numpy as np
    except ImportError:
        return memoryview(source).cast("B")

    if isinstance(source, np.ndarray):
        if not (source.flags.c_contiguous or source.flags.f_contiguous):
            raise ValueError("a copy into a blob needs a contiguous array")
        return source.reshape(-1, order="A").view(np.uint8)
    return np.frombuffer(source, dtype=np.uint8)


def copy_into(buffer, source, threads=1):
    """Copy the bytes of ``source`` (a buffer or numpy array of ``len(buffer)`` bytes) into the
    writable ``buffer``; sizes of :data:`PARALLEL_BYTES` and more in ``threads`` parallel parts
    (numpy's copy releases the GIL)."""
    src = byte_view(source)
    size = memoryview(buffer).nbytes
    if len(src) != size:
        raise ValueError("copy of %d bytes into a blob of %d" % (len(src), size))
    if isinstance(src, memoryview):  # numpy is not installed
        buffer[:] = src
        return
    import numpy as np

    dst = np.frombuffer(buffer, dtype=np.uint8)
    if threads <= 1 or dst.size < PARALLEL_BYTES:
        dst[:] = src
        return

    def part(a, b):
        dst[a:b] = src[a:b]

    _in_parts(dst.size, threads, part)


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

    @property
    def is_disk(self):
        """True for a blob in a disk file of its own (``create_disk_buffer``): it starts at 0
        and ``map_size`` is its size.  A pool blob never can: the pool's last 8 bytes are a
        gap."""
        return self.data_offset == 0 and self.map_size > 0 and self.data_size == self.map_size

    def __repr__(self):
        return "Payload(%s, fd=%d, offset=%d, size=%d, sealed=%s)" % (
            self.object_id,
            self.store_fd,
            self.data_offset,
            self.data_size,
            self.is_sealed,
        )


class _Mapping:
    """One mmap of one store fd (read-only or read-write) and the count of live exporters."""

    __slots__ = ("server_fd", "writable", "disk", "mm", "address", "array_type", "live", "current")

    def __init__(self, server_fd, writable, disk, mm):
        self.server_fd = server_fd
        self.writable = writable
        self.disk = disk
        self.mm = mm
        self.address = buffer_address(mm)
        # a type of its own (not ``c_char * n``, which ctypes caches for ever per length)
        self.array_type = type("_StoreBytes", (ctypes.Array,), {"_type_": ctypes.c_char, "_length_": len(mm)})
        self.live = 0
        self.current = True  # False once replaced by a new fd for the same key, or closed

    def close_if_unused(self):
        """Unmap when no exporter uses the mapping any more; True if it was unmapped."""
        if self.live:
            return False
        try:
            self.mm.close()
        except BufferError:  # pragma: no cover - exporters keep their own count
            return False
        return True


def _exporter_gone(gone, mapping, keep, _link):
    """Finalizer of one exporter: let go of the mmap and tell the table (lock-free)."""
    keep.release()
    gone.append(mapping)


class MmapTable:
    """The store fds received on one connection and the mappings made of them.

    Keys are the daemon's fd numbers.  Each file is mapped at most once read-write and once
    read-only.  Pool mappings stay for the life of the connection; a disk file's mapping is
    unmapped once no view of it is alive (its fd is kept: the daemon sends each fd once per
    connection).  A new fd received for a key already known replaces the old fd (closed at
    once) and its mappings (unmapped once unused).
    """

    def __init__(self):
        self._lock = threading.Lock()
        self._fds = {}  # server fd -> local fd
        self._maps = {}  # (server fd, writable) -> _Mapping
        self._gone = collections.deque()  # _Mapping of each dead exporter (appended by finalizers)

    def add_fd(self, server_fd, local_fd):
        """Remember the local copy ``local_fd`` of the daemon's ``server_fd``.

        If ``server_fd`` was known, the daemon now means another file by it: the old fd is
        closed and its mappings are retired (unmapped as soon as no view uses them).
        """
        with self._lock:
            old = self._fds.get(server_fd)
            self._fds[server_fd] = local_fd
            retired = [self._maps.pop((server_fd, w)) for w in (False, True) if (server_fd, w) in self._maps]
            for mapping in retired:
                mapping.current = False
                mapping.close_if_unused()
        if old is not None and old != local_fd:
            _close_fd(old)

    @property
    def pending(self):
        """True when views died since the last :meth:`collect`."""
        return bool(self._gone)

    def has_fd(self, server_fd):
        """True once the fd for ``server_fd`` was received on this connection."""
        return server_fd in self._fds

    def _mapping(self, payload, writable):
        """The current mapping for the payload's store (made now if needed); under the lock."""
        key = (payload.store_fd, writable)
        mapping = self._maps.get(key)
        if mapping is not None:
            return mapping
        local_fd = self._fds.get(payload.store_fd)
        if local_fd is None:
            raise ProtocolError(
                "blob %s lives in store fd %d, which vineyardd never sent on this connection"
                % (payload.object_id, payload.store_fd)
            )
        length = payload.map_size if payload.is_disk else payload.map_size - MMAP_REGION_GAP
        if length <= 0:
            raise ProtocolError("invalid map_size %d for %s" % (payload.map_size, payload.object_id))
        access = mmap.ACCESS_WRITE if writable else mmap.ACCESS_READ
        try:
            mm = mmap.mmap(local_fd, length, access=access)
        except (OSError, ValueError) as exc:
            raise VineyardError(
                "cannot map store fd %d (%d bytes): %s" % (payload.store_fd, length, exc)
            ) from exc
        if writable and not payload.is_disk:
            _advise_huge_pages(mm)
        mapping = _Mapping(payload.store_fd, writable, payload.is_disk, mm)
        self._maps[key] = mapping
        return mapping

    def view(self, payload, writable=False, link=None):
        """A memoryview of the blob's bytes inside the mapping (read-only unless
        ``writable``).  ``link`` (any object) is kept alive as long as any view derived from
        this one."""
        if payload.is_empty:
            return memoryview(bytearray(0) if writable else b"")
        with self._lock:
            mapping = self._mapping(payload, writable)
            end = payload.data_offset + payload.data_size
            if payload.data_offset < 0 or end > len(mapping.mm):
                raise ProtocolError(
                    "blob %s [%d, %d) lies outside its %d-byte mapping"
                    % (payload.object_id, payload.data_offset, end, len(mapping.mm))
                )
            exporter = mapping.array_type.from_address(mapping.address)
            finalizer = weakref.finalize(exporter, _exporter_gone, self._gone, mapping, memoryview(mapping.mm), link)
            finalizer.atexit = False
            mapping.live += 1
        view = memoryview(exporter).cast("B")
        if not writable:
            view = view.toreadonly()
        return view[payload.data_offset:end]

    def populate(self, payload, threads=1):
        """Fault in the writable pages of a new blob with ``madvise(MADV_POPULATE_READ)`` where the
        pool holds them already and ``MADV_POPULATE_WRITE`` where not (Linux 5.14+), in ``threads``
        parallel parts from :data:`PARALLEL_BYTES`; quietly nothing where the kernel or Python lacks it."""
        with self._lock:
            mapping = self._maps.get((payload.store_fd, True))
        if mapping is None or payload.is_empty:
            return False
        start = payload.data_offset - payload.data_offset % mmap.PAGESIZE
        length = min(payload.data_offset + payload.data_size - start, len(mapping.mm) - start)
        if _madvise is None:
            try:
                mapping.mm.madvise(MADV_POPULATE_WRITE, start, length)
            except (OSError, ValueError, AttributeError):
                return False
            return True
        failed = []

        def part(a, b):
            # pages the pool already holds come in by read faults (fault-around: 16 per fault), the
            # others by write faults; either way the entries are writable (a shared mapping)
            at = mapping.address + start + a
            for lo, hi, resident in resident_runs(at, b - a):
                if _madvise(at + lo, hi - lo, MADV_POPULATE_READ if resident else MADV_POPULATE_WRITE) != 0:
                    failed.append(ctypes.get_errno())
                    return

        _in_parts(length, threads if length >= PARALLEL_BYTES else 1, part)
        return not failed

    def write(self, payload, source):
        """Copy ``source`` (a contiguous buffer of the blob's size) into the blob through the store's
        fd (``pwrite``), not through the mapping: the kernel copies straight into the pages the pool
        holds (allocating the missing ones without zeroing them first) and this process's page
        tables are never touched. Writes to one memfd serialise on its inode lock, so one thread
        does it: into pages the pool holds already, it is no faster than a populated mapping
        filled by two threads (README, Performance). False where the fd is unknown or a
        ``pwrite`` fails (the blob's bytes are then undefined and the caller copies through the
        mapping)."""
        view = memoryview(source).cast("B")
        if len(view) != payload.data_size:
            raise ValueError("copy of %d bytes into a blob of %d" % (len(view), payload.data_size))
        with self._lock:
            local = self._fds.get(payload.store_fd)
            # a copy of its own: add_fd may close the table's fd while the copy runs
            fd = os.dup(local) if local is not None else None
        if fd is None:
            return False
        try:
            done = 0
            while done < len(view):  # Linux writes at most 2 GiB - 4 KiB per call
                written = os.pwrite(fd, view[done:], payload.data_offset + done)
                if written <= 0:
                    return False
                done += written
        except OSError:
            return False  # the caller copies through the mapping instead (all of it again)
        finally:
            os.close(fd)
        return True

    def collect(self):
        """Account for the views that died: unmap disk files and retired mappings nobody
        views any more."""
        with self._lock:
            while self._gone:
                mapping = self._gone.popleft()
                mapping.live -= 1
                if mapping.live or not (mapping.disk or not mapping.current):
                    continue
                if mapping.close_if_unused() and mapping.current:
                    mapping.current = False
                    del self._maps[(mapping.server_fd, mapping.writable)]

    def regions(self):
        """``[(address, length, writable), …]`` of the current mappings."""
        self.collect()
        with self._lock:
            items = list(self._maps.values())
        return [(m.address, len(m.mm), m.writable) for m in items]

    def close(self):
        """Close the fds, and the mappings nobody still views.

        A mapping that a view still uses is left to the garbage collector: it is unmapped
        when its last view goes away.
        """
        self.collect()
        with self._lock:
            maps, self._maps = self._maps, {}
            fds, self._fds = self._fds, {}
            for mapping in maps.values():
                mapping.current = False
                mapping.close_if_unused()
        for fd in fds.values():
            _close_fd(fd)


def _close_fd(fd):
    try:
        os.close(fd)
    except OSError:
        pass


class BaseBlobWriter:
    """What every blob writer has: a writable buffer, a size, and its state (sealed, aborted)."""

    def __init__(self, client, buffer, sealed, in_put):
        self._client = client
        self._buffer = buffer
        self._sealed = sealed
        self._aborted = False
        self._in_put = in_put

    @property
    def id(self):  # pragma: no cover - every writer defines it
        raise NotImplementedError

    @property
    def size(self):
        """Size in bytes."""
        return len(self._buffer)

    @property
    def buffer(self):
        """Writable memoryview over the blob's bytes."""
        return self._buffer

    @property
    def sealed(self):
        """True once :meth:`seal` succeeded."""
        return self._sealed

    @property
    def aborted(self):
        """True once :meth:`abort` dropped the blob."""
        return self._aborted

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

    def _mark_sealed(self):
        self._sealed = True
        self._client._blob_sizes.pop(self.id, None)

    def _check_shrink(self, size):
        if self._sealed:
            raise ObjectSealed("blob %s is sealed and cannot shrink" % self.id)
        if not 0 <= size <= len(self._buffer):
            raise ValueError("cannot shrink a %d-byte blob to %d bytes" % (len(self._buffer), size))

    def meta(self):
        """The blob's metadata entry, as members of an object carry it."""
        return self._client._blob_meta(self.id, self.size)

    def as_member(self):
        """The entry for ``ObjectMeta.add_member``: seals the blob first, unless it belongs
        to a put in progress (which seals it with the object)."""
        if not self._in_put:
            self.seal()
        return self.meta()

    def seal(self):  # pragma: no cover - every writer defines it
        raise NotImplementedError

    def __repr__(self):
        return "%s(%s, size=%d, sealed=%s)" % (type(self).__name__, self.id, self.size, self._sealed)


class BlobWriter(BaseBlobWriter):
    """A new, unsealed blob: write through :attr:`buffer`, then :meth:`seal` it.

    Other clients cannot read the blob until it is sealed.  ``buffer`` is a writable
    memoryview over the pool (or the disk file) itself: no copy is ever made.

    A writer created during :meth:`IPCClient.put <vineyard_java.client.IPCClient.put>`
    belongs to that put: adding it as a member does not seal it, the put seals all its blobs
    in its final request (or drops them if it fails).
    """

    def __init__(self, client, payload, buffer, in_put=False):
        super().__init__(client, buffer, payload.object_id == EMPTY_BLOB_ID, in_put)
        self._payload = payload

    @property
    def id(self):
        """The blob's :class:`~vineyard_java.ids.ObjectID`."""
        return self._payload.object_id

    @property
    def address(self):
        """Address of the first byte in this process (0 for an empty blob)."""
        return buffer_address(self._buffer) if len(self._buffer) else 0

    @property
    def payload(self):
        """The daemon's :class:`Payload` for this blob."""
        return self._payload

    def seal(self):
        """Seal the blob (``seal_request``) and return its id.  Sealing twice is harmless."""
        if self._aborted:
            raise VineyardError("blob %s was aborted" % self.id)
        if not self._sealed:
            self._client._seal_blob(self.id)
            self._mark_sealed()
        return self.id

    def shrink(self, size):
        """Shrink the unsealed blob to ``size`` bytes (``shrink_buffer_request``)."""
        self._check_shrink(size)
        self._client._shrink_blob(self.id, size)
        self._buffer = self._buffer[:size]

    def abort(self):
        """Give the memory back without sealing (``drop_buffer_request``)."""
        if self._sealed and self.id != EMPTY_BLOB_ID:
            raise ObjectSealed("blob %s is sealed; delete it instead" % self.id)
        if not self._aborted and self.id != EMPTY_BLOB_ID:
            self._client._drop_blob(self.id)
        self._aborted = True
