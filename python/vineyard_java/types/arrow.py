"""pyarrow Tables, RecordBatches and arrays: numeric, boolean, (large) string and binary,
fixed-size binary, (large, fixed-size) lists of any of these, and null.

Keys (``modules/basic/ds/arrow.vineyard-mod``), typenames as vineyard 0.24's C++ ``type_name``
spells them (the names its object factory knows, and what its builders write):

* ``vineyard::NumericArray<T>`` / ``vineyard::BooleanArray``: ``length_``, ``null_count_``,
  ``offset_``, blobs ``buffer_`` and ``null_bitmap_`` (the empty blob when nothing is null).
* ``vineyard::BaseBinaryArray<arrow::StringArray>`` (and ``LargeStringArray``, ``BinaryArray``,
  ``LargeBinaryArray``): the same scalars, blobs ``buffer_offsets_``, ``buffer_data_``,
  ``null_bitmap_``.  The older spellings ``vineyard::StringArray`` and
  ``vineyard::LargeStringArray`` are read too.
* ``vineyard::FixedSizeBinaryArray``: the same scalars, ``byte_width_``, blobs ``buffer_``,
  ``null_bitmap_``.
* ``vineyard::BaseListArray<arrow::ListArray>`` (and ``LargeListArray``): the same scalars, blobs
  ``buffer_offsets_``, ``null_bitmap_`` and the member ``values_`` (an array of any type here);
  ``vineyard::FixedSizeListArray``: ``list_size_``, ``null_bitmap_``, ``values_``.  The older
  spellings ``vineyard::ListArray`` and ``vineyard::LargeListArray`` are read too.
* ``vineyard::NullArray``: ``length_``.
* ``vineyard::SchemaProxy``: ``schema_binary_`` (Arrow IPC ``SerializeSchema`` bytes as the
  JSON string of ``{"bytes": [...], "subtype": null}``, nlohmann's binary form) and
  ``schema_textual_`` (a JSON description, informative only).
* ``vineyard::RecordBatch``: ``row_num_``, ``column_num_``, ``__columns_-size``,
  ``__columns_-<i>``, member ``schema_``.
* ``vineyard::Table``: ``num_rows_``, ``num_columns_``, ``batch_num_``, member ``schema_``,
  ``partitions_-size``, ``partitions_-<i>`` (RecordBatch members).

Buffers are read back with ``pyarrow.py_buffer`` over the read-only mapping: no copy.  A sliced
array (a non-zero offset) is written as its own values, with ``offset_`` 0, rather than as the
buffers it views; arrays with an ``offset_`` written by other clients are read as they are.
"""

import json

from ..errors import ProtocolError, VineyardTypeError
from ..ids import EMPTY_BLOB_ID
from ..object_meta import ObjectMeta, from_json, to_json
from ..pool import writer_at
from .dtypes import cpp_name, numpy_dtype, template_argument
from .strings import LARGE_STRING_ARRAY

__all__ = [
    "build_array",
    "build_schema",
    "build_record_batch",
    "build_table",
    "resolve_array",
    "resolve_schema",
    "resolve_record_batch",
    "resolve_table",
]


# -- building ---------------------------------------------------------------------------------


def _blob(client, buffer):
    """A blob holding ``buffer`` (a pyarrow Buffer or None) -> a member value: the buffer's own blob
    when it is a pool buffer, else a copy."""
    if buffer is None or buffer.size == 0:
        return EMPTY_BLOB_ID
    in_pool = writer_at(client, buffer.address, buffer.size)
    if in_pool is not None:
        return in_pool   # built in the pool (vineyard_java.pool): sealed in place, no copy
    return client.create_blob_from(buffer)


def _base(array, typename):
    meta = ObjectMeta(typename)
    meta["length_"] = len(array)
    meta["null_count_"] = array.null_count
    meta["offset_"] = array.offset
    return meta


#: C++ 0.24's ``type_name`` of vineyard's string, binary and list arrays.
STRING_ARRAY = "vineyard::BaseBinaryArray<arrow::StringArray>"
BINARY_ARRAY = "vineyard::BaseBinaryArray<arrow::BinaryArray>"
LARGE_BINARY_ARRAY = "vineyard::BaseBinaryArray<arrow::LargeBinaryArray>"
LIST_ARRAY = "vineyard::BaseListArray<arrow::ListArray>"
LARGE_LIST_ARRAY = "vineyard::BaseListArray<arrow::LargeListArray>"

_SUPPORTED = ("numeric, bool, (large) string, (large) binary, fixed-size binary, "
              "(large, fixed-size) list and null")


def build_array(client, array, **_kwargs):
    """Store a pyarrow Array (or ChunkedArray, combined first); returns created metadata."""
    import pyarrow as pa

    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks() if array.num_chunks != 1 else array.chunk(0)
    if array.offset != 0:
        # a slice is stored as its own values (one copy), offset_ 0: the buffers a slice views may be far
        # larger than it (table.slice(0, 10) of a large table)
        array = pa.concat_arrays([array])
    kind = array.type
    buffers = array.buffers()
    validity = buffers[0] if array.null_count else None
    if pa.types.is_null(kind):
        meta = ObjectMeta("vineyard::NullArray")
        meta["length_"] = len(array)
        meta["nbytes"] = 0
        return client.create_metadata(meta)
    if pa.types.is_boolean(kind) or pa.types.is_integer(kind) or pa.types.is_floating(kind):
        if pa.types.is_boolean(kind):
            meta = _base(array, "vineyard::BooleanArray")
        else:
            if pa.types.is_float16(kind):
                raise VineyardTypeError("half-float arrays are not supported")
            meta = _base(array, "vineyard::NumericArray<%s>" % cpp_name(kind.to_pandas_dtype()().dtype))
            meta["data_type_"] = str(kind)   # as vineyard 0.24's builders: Arrow's name (int32, float, double)
        data = buffers[1]
        meta.add_member("buffer_", _blob(client, data))
        meta.add_member("null_bitmap_", _blob(client, validity))
        meta["nbytes"] = (data.size if data is not None else 0) + (validity.size if validity is not None else 0)
        return client.create_metadata(meta)
    variable = {
        pa.string(): STRING_ARRAY, pa.large_string(): LARGE_STRING_ARRAY,
        pa.binary(): BINARY_ARRAY, pa.large_binary(): LARGE_BINARY_ARRAY,
    }.get(kind)
    if variable is not None:
        meta = _base(array, variable)
        offsets, data = buffers[1], buffers[2]
        meta.add_member("buffer_offsets_", _blob(client, offsets))
        meta.add_member("buffer_data_", _blob(client, data))
        meta.add_member("null_bitmap_", _blob(client, validity))
        meta["nbytes"] = sum(b.size for b in (offsets, data, validity) if b is not None)
        return client.create_metadata(meta)
    if pa.types.is_fixed_size_binary(kind):
        meta = _base(array, "vineyard::FixedSizeBinaryArray")
        meta["byte_width_"] = kind.byte_width
        data = buffers[1]
        meta.add_member("buffer_", _blob(client, data))
        meta.add_member("null_bitmap_", _blob(client, validity))
        meta["nbytes"] = sum(b.size for b in (data, validity) if b is not None)
        return client.create_metadata(meta)
    if pa.types.is_list(kind) or pa.types.is_large_list(kind) or pa.types.is_fixed_size_list(kind):
        if pa.types.is_fixed_size_list(kind):
            meta = _base(array, "vineyard::FixedSizeListArray")
            meta["list_size_"] = kind.list_size
            own = [validity]
        else:
            meta = _base(array, LARGE_LIST_ARRAY if pa.types.is_large_list(kind) else LIST_ARRAY)
            offsets = buffers[1]
            meta.add_member("buffer_offsets_", _blob(client, offsets))
            own = [validity, offsets]
        # the whole child, whatever this array's offset (the offsets, or offset * list_size, index it)
        values = build_array(client, array.values)
        meta.add_member("values_", values)
        meta.add_member("null_bitmap_", _blob(client, validity))
        meta["nbytes"] = sum(b.size for b in own if b is not None) + values.nbytes
        return client.create_metadata(meta)
    raise VineyardTypeError("arrow type %s is not supported (%s)" % (kind, _SUPPORTED))


def _schema_textual(schema):
    return {
        "fields": [
            {"name": f.name, "type": str(f.type), "nullable": f.nullable} for f in schema
        ],
        "metadata": {
            k.decode("utf-8", "replace"): v.decode("utf-8", "replace")
            for k, v in (schema.metadata or {}).items()
        },
    }


def build_schema(client, schema, **_kwargs):
    """Store a pyarrow Schema as ``vineyard::SchemaProxy``."""
    serialized = schema.serialize().to_pybytes()
    meta = ObjectMeta("vineyard::SchemaProxy")
    meta["schema_binary_"] = to_json({"bytes": list(serialized), "subtype": None})
    meta["schema_textual_"] = to_json(_schema_textual(schema))
    meta["nbytes"] = 0
    return client.create_metadata(meta)


def build_record_batch(client, batch, **_kwargs):
    """Store a pyarrow RecordBatch as ``vineyard::RecordBatch``."""
    meta = ObjectMeta("vineyard::RecordBatch")
    meta["row_num_"] = batch.num_rows
    meta["column_num_"] = batch.num_columns
    meta["__columns_-size"] = batch.num_columns
    meta.add_member("schema_", build_schema(client, batch.schema))
    nbytes = 0
    for index in range(batch.num_columns):
        column = build_array(client, batch.column(index))
        nbytes += column.nbytes
        meta.add_member("__columns_-%d" % index, column)
    meta["nbytes"] = nbytes
    return client.create_metadata(meta)


def build_table(client, table, **_kwargs):
    """Store a pyarrow Table as ``vineyard::Table`` (one RecordBatch per table batch)."""
    batches = table.to_batches()
    meta = ObjectMeta("vineyard::Table")
    meta["num_rows_"] = table.num_rows
    meta["num_columns_"] = table.num_columns
    meta["batch_num_"] = len(batches)
    meta["partitions_-size"] = len(batches)
    meta.add_member("schema_", build_schema(client, table.schema))
    nbytes = 0
    for index, batch in enumerate(batches):
        part = build_record_batch(client, batch)
        nbytes += part.nbytes
        meta.add_member("partitions_-%d" % index, part)
    meta["nbytes"] = nbytes
    return client.create_metadata(meta)


# -- reading ----------------------------------------------------------------------------------


def _buffer(client, meta, name):
    """The member blob ``name`` as a zero-copy pyarrow Buffer (None if empty or absent)."""
    import pyarrow as pa

    if not meta.has_member(name):
        return None
    member = meta.member(name)
    if member.id == EMPTY_BLOB_ID:
        return None
    view = client.blob_of(member)
    return pa.py_buffer(view) if len(view) else None


def _scalars(meta):
    return int(meta.get("length_", 0)), int(meta.get("null_count_", 0)), int(meta.get("offset_", 0))


def _offsets(client, meta, large):
    offsets = _buffer(client, meta, "buffer_offsets_")
    if offsets is None:  # an empty array still needs one offset
        import pyarrow as pa

        offsets = pa.py_buffer(bytes(8 if large else 4))
    return offsets


def resolve_array(client, meta, **_kwargs):
    """Read a vineyard arrow array as a pyarrow Array over the shared memory."""
    import pyarrow as pa

    typename = meta.typename
    length, null_count, offset = _scalars(meta)
    if typename.startswith("vineyard::NullArray"):
        return pa.nulls(length)
    validity = _buffer(client, meta, "null_bitmap_") if null_count else None
    if typename.startswith("vineyard::BooleanArray"):
        kind = pa.bool_()
        return pa.Array.from_buffers(kind, length, [validity, _buffer(client, meta, "buffer_")], null_count, offset)
    if typename.startswith("vineyard::NumericArray"):
        dtype = numpy_dtype(template_argument(typename))
        if dtype is None:
            raise VineyardTypeError("cannot read the element type of %s" % typename)
        kind = pa.from_numpy_dtype(dtype)
        return pa.Array.from_buffers(kind, length, [validity, _buffer(client, meta, "buffer_")], null_count, offset)
    if typename.startswith("vineyard::FixedSizeBinaryArray"):
        kind = pa.binary(int(meta["byte_width_"]))
        return pa.Array.from_buffers(kind, length, [validity, _buffer(client, meta, "buffer_")], null_count, offset)
    if typename.startswith("vineyard::FixedSizeListArray"):
        values = resolve_array(client, meta.member("values_"))
        kind = pa.list_(values.type, int(meta["list_size_"]))
        return pa.Array.from_buffers(kind, length, [validity], null_count, offset, children=[values])
    if "ListArray" in typename:   # BaseListArray<arrow::(Large)ListArray>, or (Large)ListArray
        values = resolve_array(client, meta.member("values_"))
        large = "LargeListArray" in typename
        kind = pa.large_list(values.type) if large else pa.list_(values.type)
        return pa.Array.from_buffers(kind, length, [validity, _offsets(client, meta, large)], null_count, offset,
                                     children=[values])
    if "StringArray" in typename or "BinaryArray" in typename:
        large = "LargeStringArray" in typename or "LargeBinaryArray" in typename
        if "StringArray" in typename:
            kind = pa.large_string() if large else pa.string()
        else:
            kind = pa.large_binary() if large else pa.binary()
        data = _buffer(client, meta, "buffer_data_")
        return pa.Array.from_buffers(kind, length, [validity, _offsets(client, meta, large), data], null_count, offset)
    raise VineyardTypeError("no arrow reader for %s" % typename)


def resolve_schema(client, meta, **_kwargs):
    """Read a ``vineyard::SchemaProxy`` as a pyarrow Schema."""
    import pyarrow as pa

    if "schema_binary_" in meta:
        binary = meta["schema_binary_"]
        if isinstance(binary, str):
            binary = json.loads(binary)
        if isinstance(binary, dict):
            binary = binary.get("bytes")
        if not isinstance(binary, list):
            raise ProtocolError("SchemaProxy %s has an unreadable schema_binary_" % meta.id)
        data = pa.py_buffer(bytes(binary))
    elif meta.has_member("buffer_"):  # older layout: the IPC bytes in a blob
        data = _buffer(client, meta, "buffer_")
    else:
        raise ProtocolError("SchemaProxy %s has neither schema_binary_ nor buffer_" % meta.id)
    return pa.ipc.read_schema(data)


def _resolve_member(client, meta):
    from . import registry

    return registry.resolve(client, meta)


def resolve_record_batch(client, meta, **_kwargs):
    """Read a ``vineyard::RecordBatch`` as a pyarrow RecordBatch (zero-copy columns)."""
    import pyarrow as pa

    client.prefetch_blobs(meta)
    schema = resolve_schema(client, meta.member("schema_"))
    size = int(meta.get("__columns_-size", meta.get("column_num_", 0)))
    columns = []
    for index in range(size):
        column = resolve_array(client, meta.member("__columns_-%d" % index))
        if index < len(schema) and column.type != schema.field(index).type:
            column = _as_type(column, schema.field(index).type)
        columns.append(column)
    if not columns:
        return pa.RecordBatch.from_pylist([], schema=schema)
    return pa.RecordBatch.from_arrays(columns, schema=schema)


def _as_type(column, kind):
    """``column`` as the schema's type: a view where only names differ (a list's item field: Arrow
    Java calls it ``$data$``, pyarrow ``item``), so nothing is copied; a cast otherwise."""
    try:
        return column.view(kind)
    except (TypeError, ValueError, NotImplementedError):   # pyarrow's ArrowTypeError, ArrowInvalid...
        return column.cast(kind)


def resolve_table(client, meta, **_kwargs):
    """Read a ``vineyard::Table`` as a pyarrow Table."""
    import pyarrow as pa

    client.prefetch_blobs(meta)
    schema = resolve_schema(client, meta.member("schema_"))
    prefix = "partitions_" if "partitions_-size" in meta else "__batches_"
    size = int(meta.get(prefix + "-size", meta.get("batch_num_", 0)))
    batches = [resolve_record_batch(client, meta.member("%s-%d" % (prefix, i))) for i in range(size)]
    return pa.Table.from_batches(batches, schema=schema)
