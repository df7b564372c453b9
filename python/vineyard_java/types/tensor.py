"""numpy arrays as ``vineyard::Tensor<T>`` (and reading C++ ``vineyard::Array<T>``).

Keys written (vineyard's Python builder): ``typename`` ``vineyard::Tensor<T>`` with the C++
element name, ``value_type_`` (numpy ``dtype.name``), ``value_type_meta_`` (``dtype.str``),
``shape_`` (JSON string), ``partition_index_`` (JSON string, ``"[]"``), ``order_`` (JSON
string ``"\\"C\\""`` or ``"\\"F\\""``), ``nbytes`` and the member ``buffer_`` (a blob).

The blob holds the array's bytes in the order ``order_`` names: a Fortran-ordered array is
stored column-major as it is, so both orders are read back without a copy
(``numpy.frombuffer`` over the read-only mapping, reshaped with that order).  Arrays that are
neither C- nor F-contiguous are made C-contiguous first.

Object arrays of ``str`` (``None``/NaN allowed) become ``vineyard::Tensor<std::string>``
whose ``buffer_`` is a ``vineyard::BaseBinaryArray<arrow::LargeStringArray>`` (the C++ layout);
other object arrays are refused.
"""

from ..errors import ProtocolError, VineyardTypeError
from ..ids import EMPTY_BLOB_ID
from ..object_meta import ObjectMeta, from_json, to_json
from .dtypes import cpp_name, numpy_dtype, template_argument
from .strings import build_large_string_array, decode_string_array

__all__ = ["build_tensor", "resolve_tensor", "resolve_array"]


def _prod(shape):
    count = 1
    for dim in shape:
        count *= int(dim)
    return count


def build_tensor(client, value, partition_index=None, **_kwargs):
    """Store a numpy array; returns its created :class:`ObjectMeta`."""
    import numpy as np

    array = np.asarray(value)
    dtype = array.dtype
    if dtype.hasobject:
        return _build_string_tensor(client, array, partition_index)
    if dtype.fields is not None or dtype.subdtype is not None:
        raise VineyardTypeError("structured/sub-array dtypes are not supported: %s" % (dtype,))
    if not (array.flags.c_contiguous or array.flags.f_contiguous):
        array = np.ascontiguousarray(array)
    order = "C" if array.flags.c_contiguous else "F"

    writer = client.create_blob_from(array)

    meta = ObjectMeta("vineyard::Tensor<%s>" % cpp_name(dtype))
    meta["value_type_"] = dtype.name
    meta["value_type_meta_"] = dtype.str
    meta["shape_"] = [int(d) for d in array.shape]
    meta["partition_index_"] = list(partition_index or [])
    meta["order_"] = to_json(order)
    meta["nbytes"] = int(array.nbytes)
    meta.add_member("buffer_", writer)
    return client.create_metadata(meta)


def _build_string_tensor(client, array, partition_index):
    values = array.ravel(order="C").tolist()
    strings = build_large_string_array(client, values)
    meta = ObjectMeta("vineyard::Tensor<std::string>")
    meta["value_type_"] = "string"
    meta["value_type_meta_"] = "|O"
    meta["shape_"] = [int(d) for d in array.shape]
    meta["partition_index_"] = list(partition_index or [])
    meta["order_"] = to_json("C")
    meta["nbytes"] = strings.nbytes
    meta.add_member("buffer_", strings)
    return client.create_metadata(meta)


_SHAPES = {}  # shape_ text -> tuple (a get's hot path)
_ORDERS = {'"C"': "C", '"F"': "F", "C": "C", "F": "F"}


def _shape_of(meta, key="shape_"):
    text = meta.get(key)
    if isinstance(text, str):
        shape = _SHAPES.get(text)
        if shape is not None:
            return shape
    shape = meta.get_json(key)
    if shape is None:
        raise ProtocolError("%s %s has no %r" % (meta.typename, meta.id, key))
    if isinstance(shape, int):
        shape = [shape]
    shape = tuple(int(d) for d in shape)
    if isinstance(text, str) and len(_SHAPES) < 4096:
        _SHAPES[text] = shape
    return shape


def _owner(meta):
    return "%s %s" % (meta.typename, meta.id)


def _view(client, blob_meta, dtype, shape, order, meta):
    """Zero-copy ndarray of ``shape`` over the blob (``meta``: the object, named in errors)."""
    import numpy as np

    count = _prod(shape)
    if count == 0:
        return np.empty(shape, dtype=dtype, order=order)
    buffer = client.blob_of(blob_meta)
    needed = count * dtype.itemsize
    if len(buffer) < needed:
        raise ProtocolError(
            "%s needs %d bytes for shape %s of %s, but its blob %s has %d"
            % (_owner(meta), needed, list(shape), dtype, blob_meta.id, len(buffer))
        )
    array = np.frombuffer(buffer, dtype=dtype, count=count)
    return array.reshape(shape, order=order) if len(shape) != 1 else array


def resolve_tensor(client, meta, **_kwargs):
    """Read a ``vineyard::Tensor<T>`` as a read-only ndarray viewing the shared memory."""
    shape = _shape_of(meta)
    buffer_meta = meta.member("buffer_")
    if not buffer_meta.is_blob:
        import numpy as np

        values = decode_string_array(client, buffer_meta)
        out = np.empty(len(values), dtype=object)
        out[:] = values
        return out.reshape(shape)

    dtype = numpy_dtype(meta.get("value_type_"), meta.get("value_type_meta_"))
    if dtype is None:
        dtype = numpy_dtype(template_argument(meta.typename))
    if dtype is None or dtype.hasobject:
        raise VineyardTypeError(
            "cannot read the element type of %s (value_type_=%r)" % (_owner(meta), meta.get("value_type_"))
        )
    raw = meta.get("order_", "C")
    order = _ORDERS.get(raw) if isinstance(raw, str) else None
    if order is None:
        order = from_json(raw)
    if order not in ("C", "F"):
        raise ProtocolError("%s has an unknown order_ %r" % (_owner(meta), order))
    return _view(client, buffer_meta, dtype, shape, order, meta)


def resolve_array(client, meta, **_kwargs):
    """Read a C++ ``vineyard::Array<T>`` (``size_``, ``buffer_``) as a 1-D ndarray."""
    dtype = numpy_dtype(template_argument(meta.typename))
    if dtype is None:
        raise VineyardTypeError("cannot read the element type of %s" % _owner(meta))
    size = int(meta.get("size_", 0))
    buffer_meta = meta.member("buffer_") if meta.has_member("buffer_") else None
    if buffer_meta is None or buffer_meta.id == EMPTY_BLOB_ID:
        size = 0
    return _view(client, buffer_meta, dtype, (size,), "C", meta)
