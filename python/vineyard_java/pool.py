"""pyarrow buffers that are vineyard blobs: build an array's buffers directly in the daemon's pool.

pyarrow cannot allocate from a memory pool written in Python (``pyarrow.MemoryPool`` has no allocator a
Python class can provide; only its jemalloc, mimalloc and system pools exist), so whatever pyarrow's own
builders and compute kernels produce lives in pyarrow's memory and a put copies it into blobs. What can
be built in place is everything written *through a buffer*: numpy (``out=`` arguments, ``np.frombuffer``
views), ``readinto`` from files and sockets, struct packing. :func:`pool_buffer` hands out such a buffer;
an array made over it (:func:`pool_numpy`, ``pyarrow.Array.from_buffers``) is put without a copy::

    from vineyard_java.pool import pool_numpy
    ids = pool_numpy(client, "int64", n)          # a numpy array over an unsealed blob
    np.multiply(np.arange(n), 3, out=ids)         # computed straight into shared memory
    client.put(pa.record_batch([pa.array(ids)], names=["id"]))   # seals the blob in place

``pa.array(numpy_array)`` of a primitive type without nulls wraps the numpy memory, so it stays in the
pool. A pool buffer never put is dropped by :func:`discard` or when the client closes; a put that fails
drops the pool buffers it took, as it drops the blobs it made.
"""

import weakref

_writers = weakref.WeakKeyDictionary()


def _registry(client):
    reg = _writers.get(client)
    if reg is None:
        reg = _writers[client] = {}
    return reg


def pool_buffer(client, size):
    """A mutable ``pyarrow.Buffer`` of ``size`` (>= 1) bytes over a new unsealed blob."""
    import pyarrow as pa

    if size < 1:
        raise ValueError("a pool buffer needs at least 1 byte, got %d" % size)
    writer = client.create_blob(size)
    buf = pa.py_buffer(writer.buffer)
    _registry(client)[buf.address] = writer
    return buf


def pool_numpy(client, dtype, length):
    """A writable numpy array of ``length`` elements of ``dtype`` over a new unsealed blob."""
    import numpy as np

    dtype = np.dtype(dtype)
    return np.frombuffer(pool_buffer(client, max(1, dtype.itemsize * length)), dtype=dtype, count=length)


def writer_at(client, address, size):
    """The unsealed pool blob that starts at ``address`` and holds ``size`` bytes, else None (used by
    put, which then seals it instead of copying)."""
    writer = _registry(client).get(address)
    if writer is None or writer.aborted or writer.sealed or size > writer.size:
        return None
    del _registry(client)[address]
    put = client._current_put()
    if put is not None:   # sealed by the put's own request, or dropped if the put fails
        writer._in_put = True
        put.add(writer)
    return writer


def discard(client, buffer):
    """Drops the blob of a pool buffer that will not be put."""
    writer = _registry(client).pop(buffer.address, None)
    if writer is not None and not writer.sealed:
        writer.abort()
