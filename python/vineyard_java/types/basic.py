"""Bytes-like values as ``vineyard::Blob``, Python scalars as ``vineyard::Scalar<T>``, tuples and
lists as ``vineyard::Tuple`` and ``vineyard::Sequence``.

A scalar object has ``value_`` (the JSON value) and ``type_``; C++ writes e.g.
``{"typename": "vineyard::Scalar<int>", "type_": "int32", "value_": 1234}``.  A Tuple or Sequence
has ``size_``, ``__elements_-size`` and the members ``__elements_-<i>`` (as the Java SDK and C++
write them); each element is put by its own builder, or referenced when it is an ``ObjectID``.
vineyard's Python client writes a 2-tuple as ``vineyard::Pair`` (members ``first_``, ``second_``):
that reads as a tuple too.
"""

from ..errors import VineyardTypeError
from ..ids import EMPTY_BLOB_ID
from ..object_meta import ObjectMeta
from .dtypes import STRING_TYPES, template_argument

__all__ = ["build_bytes", "resolve_blob", "build_scalar", "resolve_scalar", "build_elements", "resolve_elements"]

_INT_TYPES = {
    "int", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
    "int8_t", "int16_t", "int32_t", "int64_t", "uint8_t", "uint16_t", "uint32_t", "uint64_t",
    "long", "long long", "unsigned int", "unsigned long", "unsigned long long", "short",
    "unsigned short", "char", "signed char", "unsigned char",
}
_FLOAT_TYPES = {"float", "double", "float32", "float64"}


def build_bytes(client, value, **_kwargs):
    """Copy a bytes-like value into a new blob; returns its writer (``put`` seals it)."""
    view = memoryview(value).cast("B")
    if len(view) == 0:
        return EMPTY_BLOB_ID
    return client.create_blob_from(view)


def resolve_blob(client, meta, **_kwargs):
    """A blob reads as a read-only memoryview."""
    return client.get_blob(meta.id)


def build_scalar(client, value, **_kwargs):
    """Store a bool, int, float or str as ``vineyard::Scalar<T>``."""
    if isinstance(value, bool):
        cpp, type_ = "bool", "bool"
    elif isinstance(value, int):
        cpp, type_ = "int64", "int64"
    elif isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise VineyardTypeError("NaN and infinities cannot be stored in JSON metadata")
        cpp, type_ = "double", "double"
    elif isinstance(value, str):
        cpp, type_ = "std::string", "string"
    else:  # pragma: no cover - the registry only routes the four types here
        raise VineyardTypeError("not a scalar: %s" % type(value).__name__)
    meta = ObjectMeta("vineyard::Scalar<%s>" % cpp)
    meta["value_"] = value.item() if hasattr(value, "item") else value
    meta["type_"] = type_
    meta["nbytes"] = 0
    return client.create_metadata(meta)


def resolve_scalar(client, meta, **_kwargs):
    """Read ``value_`` back with the Python type its ``type_``/typename names."""
    value = meta.get("value_")
    kind = meta.get("type_") or template_argument(meta.typename) or ""
    if kind == "bool":
        return bool(value)
    if kind in _INT_TYPES:
        return int(value)
    if kind in _FLOAT_TYPES:
        return float(value)
    if kind in STRING_TYPES:
        return str(value)
    return value


def build_elements(client, value, **_kwargs):
    """Store a tuple as ``vineyard::Tuple`` or a list as ``vineyard::Sequence``, element by element."""
    from ..ids import ObjectID
    from . import registry

    meta = ObjectMeta("vineyard::Tuple" if isinstance(value, tuple) else "vineyard::Sequence")
    meta["size_"] = len(value)
    meta["__elements_-size"] = len(value)
    nbytes = 0
    for index, item in enumerate(value):
        built = item if isinstance(item, ObjectID) else registry.build(client, item)
        meta.add_member("__elements_-%d" % index, built)
        if isinstance(built, ObjectMeta):
            nbytes += built.nbytes or 0
        elif hasattr(built, "buffer"):   # a blob writer
            nbytes += len(built.buffer)
    meta["nbytes"] = nbytes
    return client.create_metadata(meta)


def resolve_elements(client, meta, **_kwargs):
    """A ``vineyard::Tuple`` or ``vineyard::Pair`` as a tuple, a ``vineyard::Sequence`` as a list."""
    from . import registry

    if meta.typename.startswith("vineyard::Pair"):
        return (registry.resolve(client, meta.member("first_")), registry.resolve(client, meta.member("second_")))
    size = int(meta.get("__elements_-size", meta.get("size_", 0)))
    items = [registry.resolve(client, meta.member("__elements_-%d" % i)) for i in range(size)]
    return items if meta.typename.startswith("vineyard::Sequence") else tuple(items)
