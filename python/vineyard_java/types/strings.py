"""``vineyard::LargeStringArray`` with numpy only (no pyarrow needed), written under C++ 0.24's
``type_name`` of it, ``vineyard::BaseBinaryArray<arrow::LargeStringArray>``.

Layout (Arrow's large_string): ``buffer_offsets_`` holds ``length + 1`` int64 offsets into
``buffer_data_`` (UTF-8 bytes); ``null_bitmap_`` is a validity bitmap, least significant bit
first, or the empty blob when nothing is null.  C++ ``Tensor<std::string>`` uses such an
array as its ``buffer_``; this module lets string columns round-trip without pickle.
"""

from ..errors import VineyardTypeError
from ..ids import EMPTY_BLOB_ID
from ..object_meta import ObjectMeta

__all__ = ["is_missing", "build_large_string_array", "decode_string_array", "STRING_ARRAY_TYPENAMES",
           "LARGE_STRING_ARRAY"]

#: C++ 0.24's ``type_name`` of ``vineyard::LargeStringArray``.
LARGE_STRING_ARRAY = "vineyard::BaseBinaryArray<arrow::LargeStringArray>"

#: typenames whose layout :func:`decode_string_array` understands.
STRING_ARRAY_TYPENAMES = (
    "vineyard::LargeStringArray",
    "vineyard::StringArray",
    "vineyard::BaseBinaryArray<arrow::LargeStringArray>",
    "vineyard::BaseBinaryArray<arrow::StringArray>",
)


def is_missing(value):
    """True for ``None``, float NaN and ``pandas.NA`` (pandas' missing markers in object columns)."""
    return value is None or (isinstance(value, float) and value != value) or type(value).__name__ == "NAType"


def _blob_from_bytes(client, data):
    if len(data) == 0:
        return EMPTY_BLOB_ID
    return client.create_blob_from(data)


def build_large_string_array(client, values):
    """Create a ``vineyard::BaseBinaryArray<arrow::LargeStringArray>`` of ``values`` (str or missing) and return its
    created metadata."""
    import numpy as np

    encoded = []
    valid = np.ones(len(values), dtype=bool)
    for index, value in enumerate(values):
        if is_missing(value):
            valid[index] = False
            encoded.append(b"")
        elif isinstance(value, str):
            encoded.append(value.encode("utf-8"))
        else:
            raise VineyardTypeError(
                "only str (or None/NaN) elements can be stored in a string array, got %s"
                % type(value).__name__
            )
    offsets = np.zeros(len(values) + 1, dtype="<i8")
    if encoded:
        np.cumsum([len(b) for b in encoded], out=offsets[1:])
    data = b"".join(encoded)
    null_count = int(len(values) - valid.sum())
    meta = ObjectMeta(LARGE_STRING_ARRAY)
    meta["length_"] = len(values)
    meta["null_count_"] = null_count
    meta["offset_"] = 0
    meta.add_member("buffer_offsets_", _blob_from_bytes(client, offsets.tobytes()))
    meta.add_member("buffer_data_", _blob_from_bytes(client, data))
    if null_count:
        bitmap = np.packbits(valid, bitorder="little").tobytes()
        meta.add_member("null_bitmap_", _blob_from_bytes(client, bitmap))
    else:
        meta.add_member("null_bitmap_", EMPTY_BLOB_ID)
    meta["nbytes"] = len(data) + offsets.nbytes
    return client.create_metadata(meta)


def decode_string_array(client, meta):
    """The values of a (Large)StringArray as a list of ``str``/``None`` (this copies)."""
    import numpy as np

    typename = meta.typename or ""
    if not typename.startswith(STRING_ARRAY_TYPENAMES):
        raise VineyardTypeError("not a string array: %r" % typename)
    large = "Large" in typename
    length = int(meta["length_"])
    offset = int(meta.get("offset_", 0))
    null_count = int(meta.get("null_count_", 0))
    offsets_view = client.blob_of(meta.member("buffer_offsets_"))
    data = client.blob_of(meta.member("buffer_data_"))
    if length == 0:
        return []
    offsets = np.frombuffer(offsets_view, dtype="<i8" if large else "<i4")
    offsets = offsets[offset:offset + length + 1]
    valid = None
    if null_count and meta.has_member("null_bitmap_") and meta.member("null_bitmap_").id != EMPTY_BLOB_ID:
        bits = np.frombuffer(client.blob_of(meta.member("null_bitmap_")), dtype=np.uint8)
        valid = np.unpackbits(bits, bitorder="little")[offset:offset + length].astype(bool)
    raw = bytes(data)
    out = []
    for index in range(length):
        if valid is not None and not valid[index]:
            out.append(None)
        else:
            out.append(raw[int(offsets[index]):int(offsets[index + 1])].decode("utf-8"))
    return out
