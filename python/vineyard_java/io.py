"""Data in and out of vineyard: ``read``, ``write``, ``serialize`` and ``deserialize``, the entry
points of vineyard's ``vineyard.io`` (and of the Java module ``vineyard-io``, same names, options
and directory layout)::

    import vineyard_java as vj
    from vineyard_java import io as vio

    with vj.connect("/tmp/vineyard.sock") as client:
        oid = vio.read(client, "/data/trips.csv", delimiter="|")     # a vineyard::Table
        table = client.get(oid)                                       # a pyarrow.Table
        vio.write(client, oid, "/data/trips.parquet")
        vio.serialize(client, oid, "/backup/trips")
        again = vio.deserialize(client, "/backup/trips")

Files are read and written with pyarrow (CSV, Parquet, ORC; local paths, ``file://``, directories and
globs, ``s3://`` through ``pyarrow.fs.S3FileSystem`` with ``storage_options``, and ``hdfs://`` or
``webhdfs://`` through fsspec's WebHDFS client, the namenode's HTTP port from ``storage_options``
``webhdfs_port``, default 9870).  The options are
vineyard's: ``format``, ``delimiter``, ``header_row``, ``schema``, ``include_all_columns``,
``column_types``, ``null_values``, ``name``, ``storage_options``; also accepted in the URI's fragment
(``file.csv#header_row=false&delimiter=|``).  Every failure is an :class:`IoError` (a
:class:`~vineyard_java.errors.VineyardIOError`) naming the file and, where there is one, the position,
and leaves nothing behind in the daemon or at the target.
"""

import glob as _glob
import json
import getpass
import os
import posixpath
import re
import shutil
import time
import urllib.parse

from .errors import VineyardError, VineyardIOError
from .ids import ObjectID, object_id
from .object_meta import ObjectMeta

__all__ = [
    "read",
    "write",
    "serialize",
    "deserialize",
    "read_bytes",
    "parse_bytes",
    "IoError",
    "NotFound",
    "Malformed",
    "AccessDenied",
    "Unreachable",
    "Unsupported",
]

KNOWN_OPTIONS = {
    "format", "delimiter", "header_row", "schema", "include_all_columns", "column_types",
    "null_values", "block_size", "batch_rows", "name", "storage_options", "compression",
    "compression_method", "chunk_bytes", "proc_num", "proc_index", "chunks", "global", "parallelism",
}
WORKER = "1-0"
METADATA = "metadata.json"
BLOB = "blob"
BLOB_META = "blob.meta.json"
#: the namenode's HTTP (WebHDFS) port of an ``hdfs://`` URI when ``storage_options`` gives no ``webhdfs_port`` (Hadoop 3's default)
DEFAULT_WEBHDFS_PORT = 9870
_HDFS_OPTIONS = {"user", "webhdfs_port"}
_NOT_COPIED = {"typename", "id", "signature", "instance_id", "transient", "__global", "__path", "__streams"}


# -- errors ---------------------------------------------------------------------------------------


class IoError(VineyardIOError):
    """A read, write, serialize or deserialize that failed on its source or target.

    ``uri`` is the file or directory, ``position`` where in it (``"row 3"``, ``"footer"``) or None.
    """

    def __init__(self, uri, message, position=None):
        self.uri = uri
        self.position = position
        super().__init__("%s%s: %s" % (uri, "" if position is None else " at " + position, message))


class NotFound(IoError, FileNotFoundError):
    """The source does not exist."""


class Malformed(IoError):
    """The source is not what its format says (corrupt footer, CSV row with the wrong field count)."""


class AccessDenied(IoError, PermissionError):
    """The storage refused the credentials."""


class Unreachable(IoError, ConnectionError):
    """The storage could not be reached."""


class Unsupported(IoError):
    """An option, format, scheme or type not handled."""


def _classify(uri, exc):
    if isinstance(exc, IoError):
        return exc
    msg = str(exc)
    low = msg.lower()
    if isinstance(exc, FileNotFoundError) or "no such file" in low or "path does not exist" in low or "nosuchkey" in low or "nosuchbucket" in low:
        return NotFound(uri, msg)
    if isinstance(exc, PermissionError) or "access denied" in low or "invalidaccesskeyid" in low or "signaturedoesnotmatch" in low or "forbidden" in low or "access_denied" in low:
        return AccessDenied(uri, msg)
    if isinstance(exc, ConnectionError) or "couldn't connect" in low or "failed to establish a new connection" in low or "connection refused" in low or "curlcode: 7" in low or "could not resolve host" in low or "timed out" in low:
        return Unreachable(uri, msg)
    row = re.search(r"Row #(\d+)", msg)
    if row or "csv parse error" in low or "csv conversion error" in low:
        return Malformed(uri, msg, "row " + row.group(1) if row else None)
    if "parquet magic bytes" in low or "footer" in low or "couldn't deserialize thrift" in low:
        return Malformed(uri, msg, "footer")
    if "invalid" in low or "corrupt" in low:
        return Malformed(uri, msg)
    return IoError(uri, msg)


# -- options and locations ------------------------------------------------------------------------


def _options(uri, given):
    base, _, fragment = uri.partition("#")
    opts = {}
    for kv in re.split(r"[&#]", fragment):
        if kv:
            k, eq, v = kv.partition("=")
            opts[k] = urllib.parse.unquote(v) if eq else "true"
    opts.update({k: v for k, v in given.items() if v is not None})
    unknown = sorted(set(opts) - KNOWN_OPTIONS)
    if unknown:
        raise Unsupported(base, "option %r (known: %s)" % (unknown[0], ", ".join(sorted(KNOWN_OPTIONS))))
    return base, opts


def _bool(uri, opts, key, default):
    v = opts.get(key, default)
    if isinstance(v, bool):
        return v
    s = str(v).lower()
    if s in ("true", "1", "yes"):
        return True
    if s in ("false", "0", "no"):
        return False
    raise Unsupported(uri, "option %s=%r is not a boolean" % (key, v))


def _list(opts, key):
    v = opts.get(key)
    if v is None:
        return None
    if isinstance(v, (list, tuple)):
        return [str(x) for x in v]
    return [s.strip() for s in str(v).split(",")]


def _format(uri, opts, files=()):
    name = opts.get("format")
    if name is None:
        for path in (uri,) + tuple(files[:1]):
            ext = os.path.splitext(path.rsplit("/", 1)[-1])[1].lstrip(".").lower()
            if ext:
                name = ext
                break
    aliases = {"csv": "csv", "tsv": "csv", "txt": "csv", "parquet": "parquet", "pq": "parquet", "orc": "orc"}
    if name is None or str(name).lower() not in aliases:
        raise Unsupported(uri, "format %r (csv, parquet, orc): give format= or a file extension" % (name,))
    return aliases[str(name).lower()]


def _filesystem(uri, opts):
    """``(pyarrow filesystem or None, path)``: S3 URIs get an S3FileSystem from storage_options."""
    storage = opts.get("storage_options") or {}
    if uri.lower().startswith("s3://"):
        from pyarrow import fs

        def first(*keys):
            for k in keys:
                if storage.get(k) is not None:
                    return storage[k]
            return None

        kwargs = {}
        key, secret = first("key", "access_key", "aws_access_key_id"), first("secret", "secret_key", "aws_secret_access_key")
        if key is not None:
            kwargs.update(access_key=key, secret_key=secret)
        endpoint = first("endpoint_url", "endpoint_override", "endpoint")
        if endpoint is not None:
            scheme = "https"
            if "://" in endpoint:
                scheme, endpoint = endpoint.split("://", 1)
            kwargs.update(endpoint_override=endpoint, scheme=storage.get("scheme", scheme))
        region = first("region", "region_name")
        if region is not None:
            kwargs["region"] = region
        return fs.S3FileSystem(**kwargs), uri[len("s3://"):]
    if _is_hdfs(uri):
        from pyarrow import fs

        webhdfs, path = _webhdfs(uri, storage)
        return fs.PyFileSystem(fs.FSSpecHandler(webhdfs)), path
    if "://" in uri and not uri.lower().startswith("file://"):
        raise Unsupported(uri, "scheme %r (file, s3, hdfs, webhdfs)" % uri.split("://", 1)[0])
    path = urllib.parse.unquote(urllib.parse.urlparse(uri).path) if uri.lower().startswith("file://") else uri
    return None, os.path.abspath(path)


def _is_hdfs(uri):
    return uri.lower().startswith(("hdfs://", "webhdfs://"))


def _webhdfs(uri, storage):
    """``(fsspec WebHDFS, path)`` of an ``hdfs://namenode:rpc_port/path`` URI (the HTTP port from
    ``storage_options["webhdfs_port"]``, default 9870) or a ``webhdfs://namenode:http_port/path`` one.
    ``user`` is the HDFS user (default: this process's, as the Java client's)."""
    unknown = sorted(set(storage) - _HDFS_OPTIONS)
    if unknown:
        raise Unsupported(uri, "storage_options %r for HDFS (known: %s; Hadoop keys configure the Java client only)"
                          % (unknown[0], ", ".join(sorted(_HDFS_OPTIONS))))
    try:
        from fsspec.implementations.webhdfs import WebHDFS
    except ImportError as exc:
        raise Unsupported(uri, "hdfs:// needs fsspec and requests (pip install fsspec requests): "
                               "pyarrow's own HDFS client needs Hadoop's native libhdfs") from exc
    parsed = urllib.parse.urlparse(uri)
    if not parsed.hostname:
        raise Unsupported(uri, "an HDFS URI names its namenode: hdfs://HOST:PORT/path")
    if parsed.scheme.lower() == "webhdfs":
        port = parsed.port or int(storage.get("webhdfs_port", DEFAULT_WEBHDFS_PORT))
    else:
        port = int(storage.get("webhdfs_port", DEFAULT_WEBHDFS_PORT))
    webhdfs = WebHDFS(parsed.hostname, port=port, user=storage.get("user") or getpass.getuser())
    return webhdfs, urllib.parse.unquote(parsed.path) or "/"


def _hdfs_files(uri, webhdfs, path):
    """The data files of an HDFS path: the file, a directory's visible files, or a glob's matches."""
    def visible(info):
        return info["type"] == "file" and not posixpath.basename(info["name"]).startswith((".", "_"))

    if any(c in path for c in "*?["):
        found = webhdfs.glob(path, detail=True).values()
    else:
        info = webhdfs.info(path)  # FileNotFoundError when missing
        if info["type"] == "file":
            return [path]
        found = webhdfs.ls(path, detail=True)
        if not any(visible(i) for i in found):
            raise NotFound(uri, "the directory holds no data file")
    files = sorted("/" + i["name"].lstrip("/") for i in found if visible(i))
    if not files:
        raise NotFound(uri, "no such file or directory")
    return files


def _data_files(uri, path):
    def visible(p):
        n = os.path.basename(p)
        return os.path.isfile(p) and not n.startswith((".", "_"))

    if os.path.isdir(path):
        files = sorted(p for p in (os.path.join(path, n) for n in os.listdir(path)) if visible(p))
        if not files:
            raise NotFound(uri, "the directory holds no data file")
        return files
    if os.path.isfile(path):
        return [path]
    files = sorted(p for p in _glob.glob(path) if visible(p))
    if not files:
        raise NotFound(uri, "no such file or directory")
    return files


# -- read / write ---------------------------------------------------------------------------------


def _arrow_type(uri, name):
    import pyarrow as pa

    types = {
        "bool": pa.bool_(), "boolean": pa.bool_(), "int8": pa.int8(), "int8_t": pa.int8(), "int16": pa.int16(),
        "int16_t": pa.int16(), "int": pa.int32(), "int32": pa.int32(), "int32_t": pa.int32(), "int64": pa.int64(),
        "int64_t": pa.int64(), "long": pa.int64(), "uint8": pa.uint8(), "uint8_t": pa.uint8(), "uint16": pa.uint16(),
        "uint16_t": pa.uint16(), "uint": pa.uint32(), "uint32": pa.uint32(), "uint32_t": pa.uint32(),
        "uint64": pa.uint64(), "uint64_t": pa.uint64(), "float": pa.float32(), "float32": pa.float32(),
        "double": pa.float64(), "float64": pa.float64(), "string": pa.string(), "str": pa.string(),
        "std::string": pa.string(), "utf8": pa.string(), "large_string": pa.large_string(),
    }
    t = types.get(name.strip().lower())
    if t is None:
        raise Unsupported(uri, "column type %r (bool, int8..int64, uint8..uint64, float, double, string, large_string)" % name)
    return t


def _columns(uri, names, opts):
    wanted = _list(opts, "schema")
    if not wanted or wanted == [""]:
        return None
    out = []
    for w in wanted:
        name = w
        if w.isdigit() and w not in names:
            if int(w) >= len(names):
                raise Unsupported(uri, "schema column index %s is out of range: the file has %d columns" % (w, len(names)))
            name = names[int(w)]
        if name not in names:
            raise Unsupported(uri, "schema names column %r, the file has %s" % (name, names))
        out.append(name)
    if _bool(uri, opts, "include_all_columns", False):
        out += [n for n in names if n not in out]
    return out


def _csv_options(uri, opts, threads=True):
    """pyarrow's (read, parse) options for vineyard's CSV options."""
    from pyarrow import csv

    delimiter = str(opts.get("delimiter", "\t" if uri.lower().endswith(".tsv") else ",")).strip("\"'")
    delimiter = "\t" if delimiter == "\\t" else delimiter
    if len(delimiter) != 1:
        raise Unsupported(uri, "delimiter %r is not one character" % delimiter)
    header = _bool(uri, opts, "header_row", True)
    read_options = csv.ReadOptions(use_threads=threads, autogenerate_column_names=not header,
                                   block_size=int(opts.get("block_size", 16 << 20)))
    return read_options, csv.ParseOptions(delimiter=delimiter)


def _convert_options(uri, names, opts):
    """pyarrow's ConvertOptions for ``schema``, ``column_types`` and ``null_values`` over the file's ``names``."""
    from pyarrow import csv

    columns = _columns(uri, names, opts)
    types = _list(opts, "column_types")
    convert = {}
    if columns is not None:
        convert["include_columns"] = columns
    if types:
        targets = columns if columns is not None else names
        if len(types) > len(targets):
            raise Unsupported(uri, "%d column_types for %d columns" % (len(types), len(targets)))
        convert["column_types"] = {targets[i]: _arrow_type(uri, t) for i, t in enumerate(types) if t}
    if opts.get("null_values") is not None:
        convert.update(null_values=_list(opts, "null_values"), strings_can_be_null=True)
    return csv.ConvertOptions(**convert)


def _read_csv(uri, source, filesystem, opts, threads=True):
    import pyarrow as pa
    from pyarrow import csv

    read_options, parse_options = _csv_options(uri, opts, threads)
    opened = filesystem.open_input_stream(source) if filesystem is not None else pa.OSFile(source)
    with opened as f:
        names = csv.open_csv(f, read_options=read_options, parse_options=parse_options).schema.names
    convert = _convert_options(uri, names, opts)
    opened = filesystem.open_input_stream(source) if filesystem is not None else pa.OSFile(source)
    with opened as f:
        return csv.read_csv(f, read_options=read_options, parse_options=parse_options, convert_options=convert)


def _read_file(uri, source, filesystem, fmt, opts):
    import pyarrow as pa

    if fmt == "csv":
        try:
            return _read_csv(uri, source, filesystem, opts)
        except pa.ArrowInvalid as exc:
            if "Row #" in str(exc) or "CSV parse error" not in str(exc):
                raise
            # the parallel reader does not know row numbers: the serial one finds the same error with its row
            _read_csv(uri, source, filesystem, opts, threads=False)
            raise
    if fmt == "parquet":
        import pyarrow.parquet as pq

        schema = pq.read_schema(source, filesystem=filesystem)
        return pq.read_table(source, filesystem=filesystem, columns=_columns(uri, schema.names, opts))
    import pyarrow.orc as orc

    f = filesystem.open_input_file(source) if filesystem is not None else source
    of = orc.ORCFile(f)
    return of.read(columns=_columns(uri, of.schema.names, opts))


def _batches(uri, source, filesystem, fmt, opts):
    """A file's record batches: a Parquet file's row groups, an ORC file's stripes, a CSV file's
    blocks, each cut to at most ``batch_rows`` rows (1Mi), as the Java reader's scanner makes them."""
    rows = int(opts.get("batch_rows", 1 << 20))
    if fmt == "parquet":
        import pyarrow.parquet as pq

        f = pq.ParquetFile(source, filesystem=filesystem) if filesystem is not None else pq.ParquetFile(source)
        columns = _columns(uri, f.schema_arrow.names, opts)
        parts = (f.read_row_group(i, columns=columns) for i in range(f.num_row_groups))
    elif fmt == "orc":
        import pyarrow.orc as orc

        f = orc.ORCFile(filesystem.open_input_file(source) if filesystem is not None else source)
        columns = _columns(uri, f.schema.names, opts)
        parts = (f.read_stripe(i, columns=columns) for i in range(f.nstripes))
    else:
        parts = iter([_read_file(uri, source, filesystem, fmt, opts)])
    for part in parts:
        for b in part.to_batches(max_chunksize=rows):
            if b.num_rows:
                yield b


def _read_tables(uri, files, filesystem, fmt, opts, chunked):
    """This reader's share: ``(file, [table, ...])`` in file order as each is read, the files read
    in parallel (``parallelism`` threads; pyarrow decodes without the GIL). One table per file, or per batch
    with ``chunks=batch``; of one file among several readers, every ``proc_num``-th batch."""
    import concurrent.futures

    import pyarrow as pa

    total, index = int(opts.get("proc_num", 1)), int(opts.get("proc_index", 0))
    if total < 1 or not 0 <= index < total:
        raise Unsupported(uri, "proc_index %d of proc_num %d (0 <= proc_index < proc_num)" % (index, total))
    sliced = total > 1 and len(files) == 1
    mine = files if sliced else files[index::total]

    def one(f):
        try:
            if sliced or chunked:
                batches = list(_batches(uri, f, filesystem, fmt, opts))
                if sliced:
                    batches = batches[index::total]
                if chunked:
                    return [pa.Table.from_batches([b]) for b in batches]
                schema = batches[0].schema if batches else _read_file(uri, f, filesystem, fmt, opts).schema
                return [pa.Table.from_batches(batches, schema=schema)]
            return [_read_file(uri, f, filesystem, fmt, opts)]
        except Exception as exc:  # noqa: BLE001 - typed here, naming the file
            raise _classify(f if len(files) > 1 else uri, exc) from exc

    threads = max(1, min(len(mine), int(opts.get("parallelism", os.cpu_count() or 1))))
    if threads == 1:
        for f in mine:
            yield f, one(f)
        return
    with concurrent.futures.ThreadPoolExecutor(threads) as pool:
        yield from zip(mine, pool.map(one, mine))


def read(client, uri, **options):
    """Read a CSV, Parquet or ORC file (or a directory or glob of them, as one table) into a new
    ``vineyard::Table`` and return its id; ``client.get(id)`` gives it back as a pyarrow Table.

    ``proc_num``/``proc_index`` (vineyard's ``SetPartialRead``): this reader takes every
    ``proc_num``-th file of a directory or glob, or of one file every ``proc_num``-th batch.
    ``chunks="file"`` (or ``**{"global": True}``) or ``chunks="batch"`` (``"row_group"``): the result is a
    ``vineyard::GlobalDataFrame`` whose chunks are persisted ``vineyard::Table`` s, one per file or
    per batch (a Parquet row group, an ORC stripe), the files read in parallel (``parallelism``).

    Raises :class:`NotFound`, :class:`Malformed` (with ``position``), :class:`AccessDenied`,
    :class:`Unreachable` or :class:`Unsupported`; nothing is left in the daemon when it raises.
    """
    base, opts = _options(uri, options)
    mode = opts.get("chunks")
    if mode is None and _bool(base, opts, "global", False):
        mode = "file"
    if mode is not None and str(mode).lower() not in ("file", "true", "batch", "row_group", "stripe"):
        raise Unsupported(base, "chunks=%s (file, batch, row_group)" % mode)
    chunked = mode is not None and str(mode).lower() in ("batch", "row_group", "stripe")
    try:
        import pyarrow as pa

        filesystem, path = _filesystem(base, opts)
        if _is_hdfs(base):
            files = _hdfs_files(base, filesystem.handler.fs, path)
        elif filesystem is not None:
            files = [path]
        else:
            files = _data_files(base, path)
        fmt = _format(base, opts, files)
        parts = _read_tables(base, files, filesystem, fmt, opts, chunked)
        if mode is None:
            tables = [t for _, ts in parts for t in ts]
            if not tables:  # more readers than files: an empty table of the files' schema
                tables.append(_read_file(base, files[0], filesystem, fmt, opts).slice(0, 0))
            table = tables[0] if len(tables) == 1 else pa.concat_tables(tables)
    except IoError:
        raise
    except Exception as exc:  # noqa: BLE001
        raise _classify(base, exc) from exc
    name = opts.get("name")
    if mode is None:
        return client.put(table, persist=name is not None, name=name)
    # the chunks are put as their files are read (in order); a failure deletes those already put
    chunks = []
    try:
        try:
            for _, tables in parts:
                for t in tables:
                    chunks.append(client.put(t, persist=True))
        except IoError:
            raise
        except Exception as exc:  # noqa: BLE001
            raise _classify(base, exc) from exc
        return client.put_global(chunks, name=name)
    except BaseException:
        if chunks:
            client.delete(chunks)
        raise


def _resolve(client, id_or_name):
    if isinstance(id_or_name, str) and not re.fullmatch(r"o[0-9a-f]{16}", id_or_name):
        return client.get_name(id_or_name)
    return object_id(id_or_name)


def write(client, id_or_name, uri, **options):
    """Write a ``vineyard::Table`` or ``vineyard::RecordBatch`` (by id or name) to a CSV, Parquet or
    ORC file (format from ``format=`` or the extension), written beside the target and renamed over it."""
    base, opts = _options(uri, options)
    oid = _resolve(client, id_or_name)
    meta = client.get_meta(oid)
    if not meta.typename.startswith(("vineyard::Table", "vineyard::RecordBatch")):
        raise Unsupported(base, "writing a %s (%s) as a file: only tables and record batches are (serialize writes any object)" % (meta.typename, oid))
    fmt = _format(base, opts)
    value = client.get(oid)
    import pyarrow as pa

    table = value if isinstance(value, pa.Table) else pa.Table.from_batches([value])
    filesystem, path = _filesystem(base, opts)
    tree = _tree(base, filesystem)
    tmp = stream = None
    try:
        if tree is not None:  # a local or HDFS file: written beside the target, renamed over it
            tree.makedirs(tree.dirname(path))
            tmp = tree.hidden_sibling(path)
            sink = tmp if filesystem is None else filesystem.open_output_stream(tmp)
        else:  # S3 has no rename: the object appears when the upload completes
            sink = filesystem.open_output_stream(path)
        stream = None if isinstance(sink, str) else sink
        if fmt == "parquet":
            import pyarrow.parquet as pq

            pq.write_table(table, sink)
        elif fmt == "orc":
            import pyarrow.orc as orc

            orc.write_table(table, sink)
        else:
            from pyarrow import csv

            delimiter = str(opts.get("delimiter", ","))
            csv.write_csv(table, sink, write_options=csv.WriteOptions(delimiter="\t" if delimiter == "\\t" else delimiter))
        if stream is not None:
            stream.close()
        if tree is not None:
            tree.replace(tmp, path)
            tmp = None
    except IoError:
        raise
    except Exception as exc:  # noqa: BLE001
        raise _classify(base, exc) from exc
    finally:
        if tmp is not None:
            tree.remove(tmp)


# -- streams ---------------------------------------------------------------------------------------


def read_bytes(client, uri, stream, **options):
    """vineyard's ``read_bytes``: a local, ``file://``, ``s3://`` or ``hdfs://`` file's bytes read straight
    into the chunks (``chunk_bytes`` each, default 4 MiB) of the ``vineyard::ByteStream`` ``stream``
    (made with :meth:`vineyard_java.stream.ByteStream.create`), which it then finishes. Each chunk reaches
    the stream's reader while the next is read; a failure aborts the stream (its reader gets
    :class:`~vineyard_java.errors.StreamFailed`) and raises an :class:`IoError`."""
    from .stream import ByteStream

    base, opts = _options(uri, options)
    chunk = int(opts.get("chunk_bytes", 4 << 20))
    filesystem, path = _filesystem(base, opts)
    try:
        import pyarrow as pa

        source = filesystem.open_input_stream(path) if filesystem is not None else pa.OSFile(path)
    except Exception as exc:  # noqa: BLE001
        raise _classify(base, exc) from exc
    with source, ByteStream.open_writer(client, stream) as w:
        _feed(base, w, iter(lambda: source.read(chunk), b""))


def _feed(uri, writer, values):
    """Writes each of ``values`` (an iterator, which may fail) to the stream ``writer`` and finishes the
    stream; a failure aborts it and is raised as an :class:`IoError` naming ``uri``."""
    try:
        for value in values:
            writer.write(value)
        writer.finish()
    except BaseException as exc:
        writer.abort()
        if isinstance(exc, (IoError, VineyardError)) or not isinstance(exc, Exception):
            raise
        raise _classify(uri, exc) from exc


class _ByteStreamFile:
    """A ByteStream's bytes as a read-only binary file, chunk after chunk as they arrive (for pyarrow)."""

    def __init__(self, reader):
        self._reader = reader
        self._chunk = memoryview(b"")
        self._end = False
        self.closed = False

    def _pull(self):
        nxt = self._reader.next()
        if nxt is None:
            self._end = True
        else:
            self._chunk = memoryview(bytes(self._chunk) + bytes(nxt)) if len(self._chunk) else memoryview(nxt).cast("B")

    def first_line(self):
        """The first line (without consuming it): the column names or the column count."""
        while not self._end and b"\n" not in bytes(self._chunk):
            self._pull()
        return bytes(self._chunk).split(b"\n", 1)[0].rstrip(b"\r")

    def read(self, size=-1):
        while not self._end and not len(self._chunk):
            self._pull()
        if size is None or size < 0:
            size = len(self._chunk)
        out, self._chunk = bytes(self._chunk[:size]), self._chunk[size:]
        return out

    def readable(self):
        return True

    def seekable(self):
        return False

    def close(self):
        self.closed = True


def parse_bytes(client, byte_stream, batch_stream, **options):
    """vineyard's ``parse_bytes``: CSV text read from the ``vineyard::ByteStream`` ``byte_stream`` as its
    chunks arrive, parsed by pyarrow's streaming CSV reader into the ``vineyard::RecordBatchStream``
    ``batch_stream`` batch by batch (``block_size`` bytes a block, default 1 MiB), which it then finishes;
    the batches' reader gets the first one while the bytes are still being written. Options as
    :func:`read` for CSV: ``delimiter``, ``header_row``, ``column_types``, ``null_values``, ``schema``
    (column types are inferred from the first block, as the Java SDK's ``parseBytes`` does from its first
    batch). A failure aborts ``batch_stream`` and raises an :class:`IoError` (a bad row is
    :class:`Malformed`)."""
    import pyarrow as pa
    from pyarrow import csv

    from .stream import ByteStream, RecordBatchStream

    uri = "stream %s" % ObjectID(object_id(byte_stream))
    _, opts = _options(uri, options)
    opts.setdefault("block_size", 1 << 20)
    def batches(r):
        import csv as text_csv

        f = _ByteStreamFile(r)
        read_options, parse_options = _csv_options(uri, opts)
        fields = next(text_csv.reader([f.first_line().decode("utf-8")], delimiter=parse_options.delimiter), [])
        names = fields if _bool(uri, opts, "header_row", True) else ["f%d" % i for i in range(len(fields))]
        yield from csv.open_csv(pa.PythonFile(f, mode="r"), read_options=read_options, parse_options=parse_options,
                                convert_options=_convert_options(uri, names, opts))

    with ByteStream.open_reader(client, byte_stream) as r, RecordBatchStream.open_writer(client, batch_stream) as w:
        _feed(uri, w, batches(r))


# -- serialize / deserialize ----------------------------------------------------------------------


class _LocalTree:
    """The few file operations serialize, deserialize and write need, on the local file system."""

    join, dirname, basename = staticmethod(os.path.join), staticmethod(os.path.dirname), staticmethod(os.path.basename)

    def makedirs(self, path):
        os.makedirs(path or ".", exist_ok=True)

    def open(self, path, mode):
        return open(path, mode)

    def kind(self, path):
        """``"file"``, ``"directory"`` or None when ``path`` does not exist."""
        return "directory" if os.path.isdir(path) else "file" if os.path.exists(path) else None

    def entries(self, path):
        """``{name: is_directory}`` of a directory's entries."""
        return {n: os.path.isdir(os.path.join(path, n)) for n in os.listdir(path)}

    def hidden_sibling(self, path):
        return self.join(self.dirname(path), ".%s.vineyard-%d-%d" % (self.basename(path), os.getpid(), time.monotonic_ns()))

    def replace(self, src, dst):
        """Rename ``src`` over ``dst`` (a file, or an empty directory)."""
        if os.path.isdir(dst):
            os.rmdir(dst)
        os.replace(src, dst)

    def remove(self, path):
        if os.path.isdir(path):
            shutil.rmtree(path, ignore_errors=True)
        elif os.path.exists(path):
            os.unlink(path)


class _HdfsTree(_LocalTree):
    """The same operations on HDFS, over fsspec's WebHDFS client (one request each)."""

    join, dirname, basename = staticmethod(posixpath.join), staticmethod(posixpath.dirname), staticmethod(posixpath.basename)

    def __init__(self, webhdfs):
        self.fs = webhdfs

    def makedirs(self, path):
        self.fs.makedirs(path or "/", exist_ok=True)

    def open(self, path, mode):
        return self.fs.open(path, mode)

    def kind(self, path):
        try:
            return self.fs.info(path)["type"]
        except FileNotFoundError:
            return None

    def entries(self, path):
        return {posixpath.basename(i["name"].rstrip("/")): i["type"] == "directory" for i in self.fs.ls(path, detail=True)}

    def replace(self, src, dst):
        kind = self.kind(dst)
        if kind is not None:
            self.fs.rm(dst, recursive=False)  # a file, or an empty directory: HDFS renames into a directory
        self.fs.mv(src, dst)
        if self.kind(dst) is None or self.kind(src) is not None:  # WebHDFS answers a refused rename with "false"
            raise OSError("HDFS did not rename %s to %s" % (src, dst))

    def remove(self, path):
        try:
            self.fs.rm(path, recursive=True)
        except FileNotFoundError:
            pass


def _tree(uri, filesystem):
    """The :class:`_LocalTree` or :class:`_HdfsTree` of a location (``filesystem`` from
    :func:`_filesystem`), or None for S3."""
    if filesystem is None:
        return _LocalTree()
    if _is_hdfs(uri):
        return _HdfsTree(filesystem.handler.fs)
    return None


def _directory(uri, opts, what):
    filesystem, path = _filesystem(uri, opts)
    tree = _tree(uri, filesystem)
    if tree is None:
        raise Unsupported(uri, "%s to or from S3 is the Java module's (Python: local and HDFS directories)" % what)
    return tree, path


def serialize(client, id_or_name, uri, **options):
    """Write any object tree to the directory ``uri`` in vineyard's layout (``1-0/metadata.json``
    per object, ``blob`` + ``blob.meta.json`` per blob; zstd unless ``compression="none"`` or the
    ``zstandard`` module is missing), written beside it and renamed once complete."""
    base, opts = _options(uri, options)
    tree, target = _directory(base, opts, "serialize")
    compression = opts.get("compression", opts.get("compression_method"))
    if compression is None:
        try:
            import zstandard  # noqa: F401

            compression = "zstd"
        except ImportError:
            compression = "none"
    if compression not in ("zstd", "none"):
        raise Unsupported(base, "compression %r (zstd, none)" % compression)
    try:
        kind = tree.kind(target)
        if kind == "file" or (kind == "directory" and tree.entries(target)):
            raise IoError(base, "the target exists and is not an empty directory")
    except IoError:
        raise
    except Exception as exc:  # noqa: BLE001 - unreachable namenode, refused user
        raise _classify(base, exc) from exc
    oid = _resolve(client, id_or_name)
    meta = client.get_meta(oid)
    client.prefetch_blobs(meta)
    tmp = tree.hidden_sibling(target)
    try:
        tree.makedirs(tree.dirname(target))
        _write_object(client, tree, meta, tree.join(tmp, WORKER), "", compression == "zstd")
        tree.replace(tmp, target)
        tmp = None
    except VineyardError:
        raise
    except Exception as exc:  # noqa: BLE001 - the file system's: typed, naming the target
        raise _classify(base, exc) from exc
    finally:
        if tmp is not None:
            tree.remove(tmp)


def _write_json(tree, path, value):
    with tree.open(path, "wb") as f:
        f.write(json.dumps(value).encode())


def _write_object(client, tree, meta, directory, path, zstd):
    tree.makedirs(directory)
    members = meta.members()
    fields = {"__global": meta.is_global}
    for k, v in meta.items():
        if k in members:
            continue
        fields["__typename" if k == "typename" else k] = v
    fields["__path"] = path
    fields["typename"] = "vineyard::StreamCollection"
    _write_json(tree, tree.join(directory, METADATA), fields)
    for name, member in members.items():
        sub = name if not path else path + "/" + name
        if member.is_blob:
            _write_blob(client, tree, member, tree.join(directory, name), sub, zstd)
        else:
            _write_object(client, tree, member, tree.join(directory, name), sub, zstd)


def _write_blob(client, tree, member, directory, path, zstd):
    tree.makedirs(directory)
    length = int(member.get("length", member.nbytes) or 0)
    data = client.blob_of(member) if length else b""
    with tree.open(tree.join(directory, BLOB), "wb") as f:
        if zstd:
            import zstandard

            with zstandard.ZstdCompressor().stream_writer(f, size=len(data), closefd=False) as w:
                w.write(data)
        else:
            f.write(data)
    params = {"__path": path + "/" + BLOB, "length": len(data),
              "__options": json.dumps({"compression_method": "zstd"} if zstd else {})}
    _write_json(tree, tree.join(directory, BLOB_META), params)


class _SerializedTree:
    def __init__(self, uri, tree, root):
        self.uri = uri
        self.tree = tree
        self.root = root


def _build_tree(client, serialized, **_kwargs):
    return client.create_metadata(_read_object(client, serialized.uri, serialized.tree, serialized.root, ""))


def _read_json(tree, path):
    with tree.open(path, "rb") as f:
        return json.loads(f.read())


def _read_object(client, uri, tree, directory, path):
    where = (path + "/" if path else "") + METADATA
    try:
        fields = _read_json(tree, tree.join(directory, METADATA))
    except (OSError, ValueError) as exc:
        raise Malformed(uri, "unreadable metadata: %s" % exc, where) from exc
    if not isinstance(fields, dict) or not fields.get("__typename"):
        raise Malformed(uri, "metadata without __typename", where)
    meta = ObjectMeta(fields["__typename"])
    for k, v in fields.items():
        if k not in _NOT_COPIED and k != "__typename":
            meta[k] = v
    if fields.get("__global"):
        meta.set_global(True)
    for name, is_dir in sorted(tree.entries(directory).items()):
        if not is_dir:
            continue
        child = tree.join(directory, name)
        sub = name if not path else path + "/" + name
        inside = tree.entries(child)
        if inside.get(BLOB) is False:
            meta.add_member(name, _read_blob(client, uri, tree, child, sub))
        elif inside.get(METADATA) is False:
            meta.add_member(name, _read_object(client, uri, tree, child, sub))
    return meta


def _read_blob(client, uri, tree, directory, path):
    where = path + "/" + BLOB
    try:
        params = _read_json(tree, tree.join(directory, BLOB_META))
        length = int(params["length"])
        zstd = json.loads(params.get("__options") or "{}").get("compression_method") == "zstd"
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise Malformed(uri, "unreadable blob parameters: %s" % exc, path + "/" + BLOB_META) from exc
    writer = client.create_blob(length)
    if length:
        try:
            with tree.open(tree.join(directory, BLOB), "rb") as f:
                if zstd:
                    import zstandard

                    f = zstandard.ZstdDecompressor().stream_reader(f)
                buf = writer.buffer
                got = _read_into(f, buf)
                extra = f.read(1)
        except Exception as exc:  # noqa: BLE001 - a corrupt frame or an unreadable file
            raise Malformed(uri, "unreadable: %s" % exc, where) from exc
        if got != length or extra:
            raise Malformed(uri, "holds %s bytes, blob.meta.json gives %d" % ("more than " + str(length) if extra else got, length), where)
    return writer.as_member()


def _read_into(f, buf):
    view = memoryview(buf).cast("B")
    off = 0
    while off < len(view):
        n = f.readinto(view[off:])
        if not n:
            break
        off += n
    return off


def deserialize(client, uri, **options):
    """Recreate an object tree serialized to ``uri`` (by :func:`serialize`, the Java module or
    vineyard's serializer) in one put, all or nothing; returns the new, persistent root's id."""
    from .types import registry

    base, opts = _options(uri, options)
    tree, root = _directory(base, opts, "deserialize")
    try:
        if tree.kind(tree.join(root, METADATA)) != "file":
            if tree.kind(tree.join(root, WORKER, METADATA)) == "file":
                root = tree.join(root, WORKER)
            else:
                raise NotFound(base, "no serialized object (%s/%s)" % (WORKER, METADATA))
    except IoError:
        raise
    except Exception as exc:  # noqa: BLE001 - unreachable namenode, refused user
        raise _classify(base, exc) from exc
    registry.register_builder(_SerializedTree, _build_tree)
    return ObjectID(client.put(_SerializedTree(base, tree, root), persist=True))
