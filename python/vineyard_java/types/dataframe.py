"""pandas DataFrames as ``vineyard::DataFrame``.

Keys (``modules/basic/ds/dataframe.vineyard-mod`` and vineyard's Python builder):
``columns_`` (JSON list of the column names), ``__values_-size``, ``__values_-key-<i>``
(the JSON-encoded column name), ``__values_-value-<i>`` (a ``vineyard::Tensor`` member),
``partition_index_row_``, ``partition_index_column_``, ``row_batch_index_``, ``nbytes``,
and the member ``index_`` (a Tensor of the index values), which vineyard's Python client
adds.  C++ keeps the index as the entry ``values_["index_"]`` instead; the reader takes it
from there when ``index_`` is absent.

Reading is zero-copy for numeric columns: each column is a read-only ndarray over the shared
memory, and the frame is built without consolidating them (``copy=False``).
"""

from ..errors import ProtocolError, VineyardTypeError
from ..object_meta import ObjectMeta, from_json, to_json
from .tensor import build_tensor, resolve_tensor

__all__ = ["build_dataframe", "resolve_dataframe"]


def _json_name(name):
    try:
        return to_json(name)
    except TypeError:
        raise VineyardTypeError(
            "column name %r (%s) cannot be stored as JSON" % (name, type(name).__name__)
        ) from None


def build_dataframe(client, frame, partition_index=None, row_batch_index=0, **_kwargs):
    """Store a DataFrame; returns its created :class:`ObjectMeta`."""
    import numpy as np

    names = list(frame.columns)
    encoded = [_json_name(name) for name in names]
    meta = ObjectMeta("vineyard::DataFrame")
    meta["columns_"] = "[%s]" % ",".join(encoded)
    nbytes = 0
    for index, name in enumerate(names):
        column = frame.iloc[:, index].to_numpy()
        if column.ndim != 1:
            raise VineyardTypeError("column %r is not one-dimensional" % (name,))
        tensor = build_tensor(client, column)
        meta["__values_-key-%d" % index] = encoded[index]
        meta.add_member("__values_-value-%d" % index, tensor)
        nbytes += tensor.nbytes
    meta["__values_-size"] = len(names)
    index_tensor = build_tensor(client, np.asarray(frame.index))
    meta.add_member("index_", index_tensor)
    row, column = (list(partition_index) + [0, 0])[:2] if partition_index else (0, 0)
    meta["partition_index_row_"] = int(row)
    meta["partition_index_column_"] = int(column)
    meta["row_batch_index_"] = int(row_batch_index)
    meta["nbytes"] = nbytes
    return client.create_metadata(meta)


def _resolve_column(client, member):
    if member.typename and member.typename.startswith("vineyard::Tensor"):
        return resolve_tensor(client, member)
    from . import registry

    return registry.resolve(client, member)


def resolve_dataframe(client, meta, **_kwargs):
    """Read a ``vineyard::DataFrame`` as a pandas DataFrame viewing the shared memory."""
    import numpy as np
    import pandas as pd

    client.prefetch_blobs(meta)
    columns = from_json(meta.get("columns_", "[]"))
    size = int(meta.get("__values_-size", 0))
    values = []
    for i in range(size):
        key = from_json(meta["__values_-key-%d" % i])
        values.append((key, _resolve_column(client, meta.member("__values_-value-%d" % i))))

    index = None
    if meta.has_member("index_"):
        index = _resolve_column(client, meta.member("index_"))
    elif "index_" not in columns:  # the C++ layout keeps the index among the values
        for position, (key, array) in enumerate(values):
            if key == "index_":
                index = array
                del values[position]
                break

    by_name = {}
    for key, array in values:
        by_name.setdefault(_hashable(key), []).append(array)
    arrays = []
    for name in columns:
        found = by_name.get(_hashable(name))
        if not found:
            raise ProtocolError("DataFrame %s lists column %r without a value" % (meta.id, name))
        arrays.append(found.pop(0))
    for array in arrays:
        if np.ndim(array) != 1:
            raise VineyardTypeError("DataFrame %s has a column that is not one-dimensional" % meta.id)

    if index is not None:
        index = pd.Index(index, copy=False)
    frame = pd.DataFrame(dict(enumerate(arrays)), index=index, copy=False)
    frame.columns = pd.Index(columns) if columns else pd.RangeIndex(0)
    return frame


def _hashable(value):
    return to_json(value) if isinstance(value, (list, dict)) else value
