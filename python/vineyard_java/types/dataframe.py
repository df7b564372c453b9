"""pandas DataFrames as ``vineyard::DataFrame``.

Keys (``modules/basic/ds/dataframe.vineyard-mod`` and vineyard's Python builder):
``columns_`` (JSON list of the column names), ``__values_-size``, ``__values_-key-<i>``
(the JSON-encoded column name), ``__values_-value-<i>`` (a ``vineyard::Tensor`` member),
``partition_index_row_``, ``partition_index_column_``, ``row_batch_index_``, ``nbytes``,
and the member ``index_`` (a Tensor of the index values), which vineyard's Python client
adds.  C++ keeps the index as the entry ``values_["index_"]`` instead; the reader takes it
from there when ``index_`` is absent.

Reading is zero-copy for numeric columns: each column is a read-only ndarray over the shared
memory, and the frame is built without consolidating them (``copy=False``).  A named index is
written as vineyard's Python client writes every index, a ``vineyard::Index`` (``name``,
``value_type_``, member ``value_``: the tensor), so that its name comes back; both forms are read.

Columns are tensors, which hold no nulls: pandas' nullable extension columns (``Int64``,
``boolean``, ``Float64``...) are stored as their numpy values when that loses nothing (no missing
value, or a float column, or integers with missing values that float64 holds exactly, as pandas'
own ``to_numpy`` makes them); otherwise the put is refused with a ``VineyardTypeError`` that says
what to do, and nothing is stored.  String columns (``str``, ``string``, ``string[pyarrow]``)
keep their missing values (``None``/NaN/``pandas.NA``) as nulls of their string array.  Tuple
column names (a ``MultiIndex``) are stored as JSON lists and read back as a ``MultiIndex``.
"""

from ..errors import ProtocolError, VineyardTypeError
from ..object_meta import ObjectMeta, from_json, to_json
from .tensor import build_tensor, resolve_tensor

__all__ = ["build_dataframe", "resolve_dataframe", "build_index", "resolve_index", "build_series", "resolve_series"]


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
    columns = [_column_values(name, frame.iloc[:, index]) for index, name in enumerate(names)]
    for index, name in enumerate(names):
        column = columns[index]
        if column.ndim != 1:
            raise VineyardTypeError("column %r is not one-dimensional" % (name,))
        try:
            tensor = build_tensor(client, column)
        except VineyardTypeError as e:
            raise VineyardTypeError("column %r: %s" % (name, e)) from None
        meta["__values_-key-%d" % index] = encoded[index]
        meta.add_member("__values_-value-%d" % index, tensor)
        nbytes += tensor.nbytes
    meta["__values_-size"] = len(names)
    # a named index as vineyard::Index (as vineyard's Python client writes every index), else its tensor
    meta.add_member("index_", _build_index_of(client, frame.index, always=False))
    row, column = (list(partition_index) + [0, 0])[:2] if partition_index else (0, 0)
    meta["partition_index_row_"] = int(row)
    meta["partition_index_column_"] = int(column)
    meta["row_batch_index_"] = int(row_batch_index)
    meta["nbytes"] = nbytes
    return client.create_metadata(meta)


#: every integer of at most this magnitude is a float64 exactly
_EXACT_IN_FLOAT64 = 2 ** 53


def _column_values(name, series):
    """A column's values as the 1-D numpy array its tensor holds; refuses a lossy conversion."""
    import numpy as np
    import pandas as pd

    dtype = series.dtype
    if isinstance(dtype, pd.DatetimeTZDtype):
        raise VineyardTypeError(
            "column %r holds timezone-aware datetimes (%s), which a vineyard tensor cannot: store them "
            "as UTC with series.dt.tz_convert(None), or their local time with series.dt.tz_localize(None)"
            % (name, dtype)
        )
    if isinstance(dtype, pd.StringDtype):   # pandas' str / "string" columns: None for the missing
        return series.to_numpy(dtype=object, na_value=None)
    numpy_kind = getattr(dtype, "numpy_dtype", None)   # pandas' masked (nullable) and pyarrow-backed dtypes
    if numpy_kind is None or isinstance(dtype, np.dtype):
        return series.to_numpy()
    missing = bool(series.isna().any())
    if not missing:
        return series.to_numpy(dtype=numpy_kind)
    if numpy_kind.kind == "f":
        return series.to_numpy(dtype=numpy_kind, na_value=np.nan)
    if numpy_kind.kind == "O":
        return series.to_numpy(dtype=object, na_value=None)
    if numpy_kind.kind in "iu":
        present = series.dropna().to_numpy(dtype=numpy_kind)
        if present.size == 0 or (-_EXACT_IN_FLOAT64 <= int(present.min()) and int(present.max()) <= _EXACT_IN_FLOAT64):
            return series.to_numpy(dtype=np.float64, na_value=np.nan)
        raise VineyardTypeError(
            "column %r is a nullable %s column with missing values and integers that float64 does not "
            "hold exactly, and a vineyard tensor has no nulls: fill them (series.fillna(...)) or put the "
            "frame as a pyarrow Table (pyarrow.Table.from_pandas(frame)), which keeps them" % (name, dtype)
        )
    raise VineyardTypeError(
        "column %r is a nullable %s column with missing values, and a vineyard tensor has no nulls: fill "
        "them (series.fillna(...)) or put the frame as a pyarrow Table (pyarrow.Table.from_pandas(frame)), "
        "which keeps them" % (name, dtype)
    )


def _tuples(value):
    """JSON lists (a tuple column name written as JSON) back to tuples, nested ones too."""
    return tuple(_tuples(v) for v in value) if isinstance(value, list) else value


def _resolve_index(client, member):
    """A frame's ``index_``: a tensor, or vineyard's Python ``vineyard::Index`` (values and name)."""
    import pandas as pd

    if member.typename and member.typename.startswith("vineyard::Index") and member.has_member("value_"):
        name = member.get("name")
        name = from_json(name) if isinstance(name, str) else name
        return pd.Index(_resolve_column(client, member.member("value_")), name=_tuples(name), copy=False)
    return pd.Index(_resolve_column(client, member), copy=False)


def _build_index_of(client, index, always):
    """The member for a pandas Index: its values' tensor, wrapped in a ``vineyard::Index`` (name,
    ``value_type_``, member ``value_``) when ``always`` or when the index has a name."""
    import numpy as np

    tensor = build_tensor(client, np.asarray(index))
    if not always and index.name is None:
        return tensor
    meta = ObjectMeta("vineyard::Index")
    meta["name"] = _json_name(index.name)
    meta["value_type_"] = index.dtype.name
    meta["nbytes"] = tensor.nbytes
    meta.add_member("value_", tensor)
    return client.create_metadata(meta)


def build_index(client, index, **_kwargs):
    """Store a pandas Index as ``vineyard::Index``, as vineyard's Python client does."""
    import pandas as pd

    if isinstance(index, pd.MultiIndex):
        raise VineyardTypeError("a MultiIndex cannot be stored (a vineyard::Index holds one tensor of values)")
    return _build_index_of(client, index, always=True)


def build_series(client, series, **_kwargs):
    """Store a pandas Series as ``vineyard::Series``: ``name``, members ``index_`` (a
    ``vineyard::Index``) and ``value_`` (the values' tensor), as vineyard's Python client does."""
    import pandas as pd

    if isinstance(series.index, pd.MultiIndex):
        raise VineyardTypeError("a Series with a MultiIndex cannot be stored (a vineyard::Index holds one tensor)")
    values = _column_values(series.name, series)
    if values.ndim != 1:
        raise VineyardTypeError("series %r is not one-dimensional" % (series.name,))
    meta = ObjectMeta("vineyard::Series")
    meta["name"] = _json_name(series.name)
    index = _build_index_of(client, series.index, always=True)
    meta.add_member("index_", index)
    try:
        tensor = build_tensor(client, values)
    except VineyardTypeError as e:
        raise VineyardTypeError("series %r: %s" % (series.name, e)) from None
    meta.add_member("value_", tensor)
    meta["nbytes"] = tensor.nbytes + index.nbytes
    return client.create_metadata(meta)


def resolve_series(client, meta, **_kwargs):
    """Read a ``vineyard::Series`` as a pandas Series viewing the shared memory."""
    import pandas as pd

    client.prefetch_blobs(meta)
    name = meta.get("name")
    name = _tuples(from_json(name)) if isinstance(name, str) else name
    index = _resolve_index(client, meta.member("index_")) if meta.has_member("index_") else None
    values = _resolve_column(client, meta.member("value_"))
    return pd.Series(values, index=index, name=name, copy=False)


def resolve_index(client, meta, **_kwargs):
    """Read a ``vineyard::Index`` (vineyard's Python client writes one per frame) as a pandas Index."""
    return _resolve_index(client, meta)


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
    columns = [_tuples(c) for c in from_json(meta.get("columns_", "[]"))]
    size = int(meta.get("__values_-size", 0))
    values = []
    for i in range(size):
        key = _tuples(from_json(meta["__values_-key-%d" % i]))
        values.append((key, _resolve_column(client, meta.member("__values_-value-%d" % i))))

    index = None
    if meta.has_member("index_"):
        index = _resolve_index(client, meta.member("index_"))
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

    if index is not None and not isinstance(index, pd.Index):
        index = pd.Index(index, copy=False)
    frame = pd.DataFrame(dict(enumerate(arrays)), index=index, copy=False)
    if columns and all(isinstance(c, tuple) for c in columns):
        frame.columns = pd.MultiIndex.from_tuples(columns)
    else:
        frame.columns = pd.Index(columns, tupleize_cols=False) if columns else pd.RangeIndex(0)
    return frame


def _hashable(value):
    return to_json(value) if isinstance(value, (list, dict)) else value
