"""Streams: a consumer starts on chunk 1 while the producer writes chunk 2.

vineyard's stream protocol and typenames (``vineyard::ByteStream``, ``vineyard::RecordBatchStream``,
``vineyard::DataframeStream``, ``vineyard::ParallelStream``), so streams made here are read by
vineyard's own clients and by our Java SDK, and the other way round. The rules are in
``docs/streams.md``. A reader and a writer each use a connection of their own (a pull or a write may
wait on the daemon; that never holds up the client's other requests)::

    sid = ByteStream.create(client, {"kind": "csv"})
    with ByteStream.open_writer(client, sid) as w:
        w.write(b"a,b\\n1,")
        w.write(b"2\\n")
        w.finish()                       # leaving the block without finish aborts the stream
    with ByteStream.open_reader(client, sid) as r:
        lines = list(r.lines())          # ['a,b', '1,2']: lines span chunks
"""

import json

from .blob import MmapTable, Payload
from .errors import StreamDrained, VineyardError
from .ids import ObjectID, object_id
from .protocol import Connection

__all__ = [
    "BYTE_STREAM", "RECORD_BATCH_STREAM", "DATAFRAME_STREAM", "PARALLEL_STREAM",
    "create_stream", "stream_params", "drop_stream", "StreamWriter", "StreamReader",
    "ByteStream", "ByteStreamWriter", "ByteStreamReader", "ObjectStreamWriter", "ObjectStreamReader",
    "RecordBatchStream", "DataframeStream", "ParallelStream",
]

BYTE_STREAM = "vineyard::ByteStream"
RECORD_BATCH_STREAM = "vineyard::RecordBatchStream"
DATAFRAME_STREAM = "vineyard::DataframeStream"
PARALLEL_STREAM = "vineyard::ParallelStream"


def create_stream(client, typename, params=None):
    """Create a stream of ``typename`` with ``params`` (vineyard's ``params_``); returns its id."""
    content = {
        "typename": typename,
        "nbytes": 0,
        "transient": True,
        "instance_id": client.instance_id,
        "params_": json.dumps(dict(sorted((params or {}).items())), separators=(",", ":")),
    }
    made = client._request({"type": "create_data_request", "content": content}, expect="create_data_reply")
    sid = ObjectID(made["id"])
    try:
        client._request({"type": "create_stream_request", "object_id": sid}, expect="create_stream_reply")
    except BaseException:
        client.delete([sid])
        raise
    return sid


def stream_params(client, stream):
    """The parameters a stream was created with."""
    text = client.get_meta(object_id(stream)).get("params_") or "{}"
    return json.loads(text)


def drop_stream(client, stream):
    """Drop a stream: it fails, its queued chunks are freed, its writer's next write is refused."""
    client._request({"type": "drop_stream_request", "id": object_id(stream)}, expect="drop_stream_reply")


class _Endpoint:
    """A connection of its own on which a stream is opened for reading (1) or writing (2)."""

    def __init__(self, client, stream, mode):
        self.stream = object_id(stream)
        self.client = client
        username, password = client._credentials
        self._conn = Connection(client._address, timeout=None)
        try:
            self._conn.register(username=username, password=password)
            self._conn.request({"type": "open_stream_request", "object_id": self.stream, "mode": mode},
                               expect="open_stream_reply")
        except BaseException:
            self._conn.close()
            raise
        self._mmaps = MmapTable()

    def _receive(self, reply):
        """Receive and remember the store fds the reply names (each arrives once per connection)."""
        fds = []
        if reply.get("fd", -1) >= 0:
            fds.append(reply["fd"])
        fds.extend(reply.get("fds") or [])
        for server_fd in fds:
            self._mmaps.add_fd(server_fd, self._conn.recv_fd())

    def close(self):
        self._conn.close()
        self._mmaps.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class StreamWriter(_Endpoint):
    """The writing side of a stream. ``next_chunk(size)`` gives a writable view of a chunk the
    daemon allocated (the chunk asked for before is sealed and queued now); ``push(id)`` queues a
    sealed blob or object the client built. ``finish()`` ends the stream for its reader;
    :meth:`abort`, or closing without finishing (also the writer process's death), fails it.

    When stream memory would pass ``--stream_threshold`` percent of the pool a write waits for
    the reader; with ``wait_limit`` (seconds) it raises :class:`NotEnoughMemory` after that long.
    """

    def __init__(self, client, stream, wait_limit=None):
        super().__init__(client, stream, 2)
        self.wait_limit = wait_limit
        self._stopped = False

    def _message(self, kind, **fields):
        if self._stopped:
            raise VineyardError("stream %s was already finished or aborted by this writer" % self.stream)
        message = {"type": kind, "id": self.stream}
        if self.wait_limit is not None:
            message["timeout_ms"] = max(0, int(self.wait_limit * 1000))
        message.update(fields)
        return message

    def next_chunk(self, size):
        """A writable memoryview of a new chunk of ``size`` bytes in the pool (valid until the next call)."""
        reply = self._conn.request(self._message("get_next_stream_chunk_request", size=int(size)),
                                   expect="get_next_stream_chunk_reply")
        self._receive(reply)
        return self._mmaps.view(Payload(reply["buffer"]), writable=True)

    def push(self, chunk):
        """Queue a sealed blob or object (by id) as the next chunk."""
        self._conn.request(self._message("push_next_stream_chunk_request", chunk=object_id(chunk)),
                           expect="push_next_stream_chunk_reply")

    def finish(self):
        self._stop(False)

    def abort(self):
        self._stop(True)

    def _stop(self, failed):
        message = self._message("stop_stream_request", failed=failed)
        message.pop("timeout_ms", None)
        self._stopped = True
        self._conn.request(message, expect="stop_stream_reply")

    def close(self):
        """Close the writer's connection; unless finished, the daemon fails the stream."""
        self._stopped = True
        super().close()


class StreamReader(_Endpoint):
    """The reading side of a stream: :meth:`next_chunk` waits for the writer and returns the next
    chunk's id, or ``None`` at the end; it raises :class:`StreamFailed` when the writer aborted or
    went away. Each pull frees the chunk read before (every chunk is read once)."""

    def __init__(self, client, stream):
        super().__init__(client, stream, 1)
        self._ended = False

    def next_chunk(self):
        if self._ended:
            return None
        try:
            reply = self._conn.request({"type": "pull_next_stream_chunk_request", "id": self.stream},
                                       expect="pull_next_stream_chunk_reply")
        except StreamDrained:
            self._ended = True
            return None
        return ObjectID(reply["chunk"])

    def next(self):
        """The next chunk (here its id; the typed readers give its value), or ``None`` at the end."""
        return self.next_chunk()

    def __iter__(self):
        while True:
            value = self.next()
            if value is None:
                return
            yield value


class ByteStreamWriter(StreamWriter):
    """Writes a ByteStream: each :meth:`write` is one chunk."""

    def write(self, data):
        data = memoryview(data).cast("B")
        chunk = self.next_chunk(len(data))
        chunk[:] = data


class ByteStreamReader(StreamReader):
    """Reads a ByteStream: iterate for each chunk's bytes (a read-only view of the pool, valid
    until the next chunk), or :meth:`lines` for text lines that may span chunks."""

    def next(self):
        """The next chunk's bytes, or ``None`` at the end."""
        chunk = self.next_chunk()
        if chunk is None:
            return None
        reply = self._conn.request({"type": "get_buffers_request", "ids": [chunk], "unsafe": False},
                                   expect="get_buffers_reply")
        payloads = reply.get("payloads") or []
        self._receive(reply)
        if len(payloads) != 1:
            raise VineyardError("stream %s: chunk %s is not a blob" % (self.stream, chunk))
        return self._mmaps.view(Payload(payloads[0]))

    def lines(self, encoding="utf-8"):
        """The stream's text, line by line (without the line ends), lines spanning chunks joined."""
        rest = b""
        for chunk in self:
            data = rest + bytes(chunk)
            parts = data.split(b"\n")
            rest = parts.pop()
            for line in parts:
                yield line.decode(encoding)
        if rest:
            yield rest.decode(encoding)


class ObjectStreamWriter(StreamWriter):
    """Writes a stream of objects: each value is put through the client and pushed."""

    def write(self, value):
        chunk = self.client.put(value)
        try:
            self.push(chunk)
        except BaseException:
            self.client.delete([chunk])
            raise
        return chunk


class ObjectStreamReader(StreamReader):
    """Reads a stream of objects: iterate for each chunk as the client gets it (zero-copy)."""

    def next(self):
        chunk = self.next_chunk()
        return None if chunk is None else self.client.get(chunk)


class _StreamKind:
    """A stream typename with its writer and reader classes."""

    typename = None
    writer = StreamWriter
    reader = StreamReader

    @classmethod
    def create(cls, client, params=None):
        """Create a stream of this kind with ``params`` (vineyard's ``params_``); returns its id."""
        return create_stream(client, cls.typename, params)

    @classmethod
    def open_writer(cls, client, stream, wait_limit=None):
        return cls.writer(client, stream, wait_limit=wait_limit)

    @classmethod
    def open_reader(cls, client, stream):
        return cls.reader(client, stream)


class ByteStream(_StreamKind):
    """``vineyard::ByteStream``: chunks are blobs of bytes."""

    typename = BYTE_STREAM
    writer = ByteStreamWriter
    reader = ByteStreamReader


class DataframeStream(_StreamKind):
    """``vineyard::DataframeStream``: chunks are DataFrames (pandas in, pandas out)."""

    typename = DATAFRAME_STREAM
    writer = ObjectStreamWriter
    reader = ObjectStreamReader


class RecordBatchStreamReader(ObjectStreamReader):
    """Reads a RecordBatchStream: iterate for pyarrow RecordBatches, or :meth:`to_reader` for a
    ``pyarrow.RecordBatchReader`` (its schema is the first batch's, so it waits for that batch)."""

    def to_reader(self):
        import pyarrow as pa

        first = self.next()
        if first is None:
            return pa.RecordBatchReader.from_batches(pa.schema([]), iter(()))

        def batches():
            yield first
            yield from self

        return pa.RecordBatchReader.from_batches(first.schema, batches())

    def read_all(self):
        """All remaining batches as one pyarrow Table."""
        return self.to_reader().read_all()


class RecordBatchStream(_StreamKind):
    """``vineyard::RecordBatchStream``: chunks are ``vineyard::RecordBatch`` objects (pyarrow)."""

    typename = RECORD_BATCH_STREAM
    writer = ObjectStreamWriter
    reader = RecordBatchStreamReader


class ParallelStream:
    """``vineyard::ParallelStream``: a global object over several streams
    (``__streams_-size``, members ``__streams_-<i>``)."""

    @staticmethod
    def create(client, streams):
        from .object_meta import ObjectMeta

        meta = ObjectMeta(PARALLEL_STREAM)
        meta["__streams_-size"] = len(streams)
        for i, s in enumerate(streams):
            client.persist(object_id(s))
            meta.add_member("__streams_-%d" % i, object_id(s))
        meta.set_global(True)
        meta["nbytes"] = 0
        made = client.create_metadata(meta)
        client.persist(made.id)
        return made.id

    @staticmethod
    def streams(client, parallel):
        meta = client.get_meta(object_id(parallel))
        members = [meta["__streams_-%d" % i] for i in range(int(meta["__streams_-size"]))]
        return [object_id(m["id"] if isinstance(m, dict) else m) for m in members]
