"""``vineyard::Hashmap<K,V,H,E>`` (ska's flat_hash_map, as vineyard's C++ ``HashmapBuilder`` and the
Java SDK write it) read as a Python ``dict`` (a copy of the live entries).

Keys: ``num_slots_minus_one_``, ``max_lookups_``, ``num_elements_`` and the member ``entries_``, a
``vineyard::Array<ska::detailv3::sherwood_v3_entry<std::pair<K,V>>>`` (``size_``, ``buffer_``) of
``num_slots + max_lookups`` entries, the last one ska's sentinel.  An entry is
``int8 distance_from_desired`` (-1: empty), then the pair aligned to ``max(sizeof K, sizeof V)``:

    entry = align + roundUp(roundUp(sizeof K, sizeof V) + sizeof V, align) bytes
    key at align, value at align + roundUp(sizeof K, sizeof V)

Integer and float keys and values only; a hashmap of string views (a graph's vertex map for string
ids) is refused with a ``VineyardTypeError``.
"""

from ..errors import ProtocolError, VineyardTypeError
from .dtypes import numpy_dtype

__all__ = ["resolve_hashmap"]


def _arguments(typename):
    """The template arguments of ``typename``, split at the top-level commas."""
    inner = typename[typename.index("<") + 1:typename.rindex(">")]
    out, depth, start = [], 0, 0
    for i, c in enumerate(inner):
        if c == "<":
            depth += 1
        elif c == ">":
            depth -= 1
        elif c == "," and depth == 0:
            out.append(inner[start:i].strip())
            start = i + 1
    out.append(inner[start:].strip())
    return out


def _round_up(n, to):
    return (n + to - 1) // to * to


def resolve_hashmap(client, meta, **_kwargs):
    """Read a ``vineyard::Hashmap`` as a ``dict`` of its entries."""
    import numpy as np

    args = _arguments(meta.typename)
    if len(args) < 2:
        raise ProtocolError("cannot read the key and value types of %s" % meta.typename)
    key, value = numpy_dtype(args[0]), numpy_dtype(args[1])
    if key is None or value is None or key.kind not in "iuf" or value.kind not in "iuf":
        raise VineyardTypeError("%s: only integer and float keys and values are read here" % meta.typename)
    k, v = key.itemsize, value.itemsize
    align = max(k, v)
    value_at = align + _round_up(k, v)
    entry = align + _round_up(_round_up(k, v) + v, align)
    entries = meta.member("entries_")
    count = int(entries.get("size_", 0))
    if count == 0:
        return {}
    blob = client.blob_of(entries.member("buffer_"))
    if len(blob) < count * entry:
        raise ProtocolError("%s: %d entries of %d bytes in a blob of %d" % (meta.typename, count, entry, len(blob)))
    layout = np.dtype({"names": ["dist", "key", "value"], "formats": ["i1", key.newbyteorder("<"), value.newbyteorder("<")],
                       "offsets": [0, align, value_at], "itemsize": entry})
    table = np.frombuffer(blob, dtype=layout, count=count)[:-1]   # the last entry is ska's sentinel
    live = table[table["dist"] >= 0]
    expected = meta.get("num_elements_")
    if expected is not None and int(expected) != len(live):
        raise ProtocolError("%s: %d live entries, num_elements_ says %s" % (meta.typename, len(live), expected))
    return dict(zip(live["key"].tolist(), live["value"].tolist()))
