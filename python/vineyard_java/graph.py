"""Property graphs as vineyard's ``ArrowFragment`` / ``ArrowVertexMap`` / ``ArrowFragmentGroup``.

:func:`load` writes a graph from an edge table (and optionally a vertex table) as the Java SDK's
``GraphLoader`` does, byte for byte the same layout (see ``vineyard-graph``'s ``FragmentDescriptor``
for the keys and the nbr-unit layout); ``client.get(group_id)`` returns a :class:`FragmentGroup`
whose :class:`ArrowFragment` s read the CSR in place (numpy views of the shared memory)::

    import vineyard_java as vj
    import vineyard_java.graph
    gid = vineyard_java.graph.load(client, edges_df, fragments=2)   # src, dst columns (+ properties)
    group = client.get(gid)
    frag = group.fragments[0]
    frag.vertices(); frag.out_neighbors(v); frag.in_neighbors(v); frag.out_degree(v)

Vertices are given by original id; the label defaults to ``"_"`` (the only label :func:`load`
writes).  int64 ids are partitioned by ``id mod fragments`` (unsigned), strings by their 64-bit
FNV-1a hash, as in the Java loader.
"""

import json

from .errors import InvalidError, ObjectNotExists
from .ids import EMPTY_BLOB_ID
from .object_meta import ObjectMeta
from .types.strings import LARGE_STRING_ARRAY

__all__ = ["load", "pagerank", "bfs", "ArrowFragment", "FragmentGroup", "DEFAULT_LABEL"]

DEFAULT_LABEL = "_"
_NBR_BYTES = 16
_MAX_LABELS = 128
_M64 = (1 << 64) - 1
_P0 = 0xA0761D6478BD642F
_P1 = 0xE7037ED1A0B428DB


def _bit_width(num):
    if num <= 2:
        return 1
    return (num - 1).bit_length()


class _Vid:
    """vineyard's ``IdParser<uint64_t>``."""

    def __init__(self, fnum):
        self.fid_offset = 64 - _bit_width(fnum)
        self.label_offset = self.fid_offset - _bit_width(_MAX_LABELS)
        self.offset_mask = (1 << self.label_offset) - 1

    def gid(self, fid, label, offset):
        return (fid << self.fid_offset) | (label << self.label_offset) | offset

    def fid(self, gid):
        return gid >> self.fid_offset

    def label(self, vid):
        return (vid >> self.label_offset) & (_MAX_LABELS - 1)

    def offset(self, vid):
        return vid & self.offset_mask


def _typenames(strings):
    oid = "std::string" if strings else "int64"
    vm_oid = "std::basic_string_view<char,std::char_traits<char>>" if strings else "int64"
    vm = "vineyard::ArrowVertexMap<%s,uint64>" % vm_oid
    return "vineyard::ArrowFragment<%s,uint64,%s,false>" % (oid, vm), vm


# -- ska flat_hash_map, as vineyard's HashmapBuilder<K, uint64> places int64/uint64 keys ----------

_PRIMES = [
    2, 3, 5, 7, 11, 13, 17, 23, 29, 37, 47, 59, 73, 97, 127, 151, 197, 251, 313, 397, 499, 631, 797, 1009,
    1259, 1597, 2011, 2539, 3203, 4027, 5087, 6421, 8089, 10193, 12853, 16193, 20399, 25717, 32401, 40823,
    51437, 64811, 81649, 102877, 129607, 163307, 205759, 259229, 326617, 411527, 518509, 653267, 823117,
    1037059, 1306601, 1646237, 2074129, 2613229, 3292489, 4148279, 5226491, 6584983, 8296553, 10453007,
    13169977, 16593127, 20906033, 26339969, 33186281, 41812097, 52679969, 66372617, 83624237, 105359939,
    132745199, 167248483, 210719881, 265490441, 334496971, 421439783, 530980861, 668993977, 842879579,
    1061961721, 1337987929, 1685759167, 2123923447,
]


def _wyhash64(key):
    """``wy::hash<int64_t>`` / ``wy::hash<uint64_t>``: wyhash64(key, secret[0])."""
    p = ((key ^ _P0) & _M64) * (_P0 ^ _P1)
    lo, hi = p & _M64, p >> 64
    q = (lo ^ _P0) * (hi ^ _P1)
    return (q & _M64) ^ (q >> 64)


_S2 = 0x8EBC6AF09C88C6E3
_S3 = 0x589965CC75374CC3


def _wymix(a, b):
    p = a * b
    return (p & _M64) ^ (p >> 64)


def _wyhash_bytes(data):
    """``wy::hash<std::string_view>``: ``hash_imp::wyhash(data, len)`` with the default secret."""
    n = len(data)

    def r8(i):
        return int.from_bytes(data[i:i + 8], "little")

    def r4(i):
        return int.from_bytes(data[i:i + 4], "little")

    seed = _P0
    if n <= 16:
        if n >= 4:
            step = (n >> 3) << 2
            a = (r4(0) << 32) | r4(step)
            b = (r4(n - 4) << 32) | r4(n - 4 - step)
        elif n > 0:
            a, b = (data[0] << 16) | (data[n >> 1] << 8) | data[n - 1], 0
        else:
            a = b = 0
    else:
        i, p = n, 0
        if i > 48:
            see1 = see2 = seed
            while True:
                seed = _wymix(r8(p) ^ _P1, r8(p + 8) ^ seed)
                see1 = _wymix(r8(p + 16) ^ _S2, r8(p + 24) ^ see1)
                see2 = _wymix(r8(p + 32) ^ _S3, r8(p + 40) ^ see2)
                p += 48
                i -= 48
                if i <= 48:
                    break
            seed ^= see1 ^ see2
        while i > 16:
            seed = _wymix(r8(p) ^ _P1, r8(p + 8) ^ seed)
            i -= 16
            p += 16
        a, b = r8(p + i - 16), r8(p + i - 8)
    return _wymix(_P1 ^ n, _wymix(a ^ _P1, b ^ seed))


class _Ska:
    """The insertion side of ``ska::detailv3::sherwood_v3_table`` (a port of the Java SDK's
    ``SkaTable``: same steps, so the same keys in the same order land in the same slots).
    ``hash`` is ``wy::hash<K>``: of an int64/uint64 by default, ``_wyhash_bytes`` for string views."""

    def __init__(self, hash=None):
        self.hash = hash or _wyhash64
        self._reset()

    def _reset(self):
        self._alloc(4)
        self.slots_minus_one = 0
        self.prime = 0
        self.max_lookups = 3

    def _alloc(self, n):
        self.dist = [-1] * n
        self.dist[-1] = 0
        self.keys = [0] * n
        self.values = [0] * n
        self.size = 0

    def _bucket_count(self):
        return self.slots_minus_one + 1 if self.slots_minus_one else 0

    def put(self, key, value):
        cur = self.hash(key) % self.prime if self.prime else 0
        d = 0
        while self.dist[cur] >= d:
            if self.keys[cur] == key:
                self.values[cur] = value
                return
            cur += 1
            d += 1
        self._emplace_new(d, cur, key, value)

    def _emplace_new(self, d, cur, key, value):
        if self.slots_minus_one == 0 or d == self.max_lookups or (self.size + 1) > (self.slots_minus_one + 1) * 0.5:
            self._rehash(max(4, 2 * self._bucket_count()))
            self.put(key, value)
            return
        if self.dist[cur] < 0:
            self.dist[cur], self.keys[cur], self.values[cur] = d, key, value
            self.size += 1
            return
        ins_d, ins_k, ins_v = self.dist[cur], self.keys[cur], self.values[cur]
        self.dist[cur], self.keys[cur], self.values[cur] = d, key, value
        result = cur
        ins_d += 1
        cur += 1
        while True:
            if self.dist[cur] < 0:
                self.dist[cur], self.keys[cur], self.values[cur] = ins_d, ins_k, ins_v
                self.size += 1
                return
            if self.dist[cur] < ins_d:
                od, ok, ov = self.dist[cur], self.keys[cur], self.values[cur]
                self.dist[cur], self.keys[cur], self.values[cur] = ins_d, ins_k, ins_v
                ins_d, ins_k, ins_v = od + 1, ok, ov
            else:
                ins_d += 1
                if ins_d == self.max_lookups:
                    k, v = self.keys[result], self.values[result]
                    self.keys[result], self.values[result] = ins_k, ins_v
                    self._rehash(max(4, 2 * self._bucket_count()))
                    self.put(k, v)
                    return
            cur += 1

    def reserve(self, n):
        if 2 * n > self._bucket_count():
            self._rehash(2 * n)

    def shrink_to_fit(self):
        self._rehash(min(2 * self.size, self._bucket_count()))

    def _rehash(self, buckets):
        import bisect

        buckets = max(buckets, 2 * self.size)
        if buckets == 0:
            self._reset()
            return
        prime = _PRIMES[bisect.bisect_left(_PRIMES, buckets)]
        if prime == self._bucket_count():
            return
        max_lookups = max(4, prime.bit_length() - 1)
        old = (self.dist, self.keys, self.values, self.slots_minus_one + self.max_lookups)
        self._alloc(prime + max_lookups)
        self.slots_minus_one = prime - 1
        self.prime = prime
        self.max_lookups = max_lookups
        for i in range(old[3]):
            if old[0][i] >= 0:
                self.put(old[1][i], old[2][i])


def _hashmap(client, keys, values, key_type, reserve=None):
    """A ``vineyard::Hashmap<K,uint64,wy::hash<K>,std::equal_to<K>>`` (K int64 or uint64)."""
    import numpy as np

    table = _Ska()
    if reserve is not None:
        table.reserve(reserve)
    for k, v in zip(keys, values):
        table.put(int(k) & _M64, int(v) & _M64)
    table.shrink_to_fit()
    count = len(table.dist)
    entries = np.zeros(count, dtype=[("dist", "i1"), ("pad", "V7"), ("key", "<u8"), ("value", "<u8")])
    dist = np.array(table.dist, dtype=np.int8)
    entries["dist"] = dist
    holds = dist >= 0
    holds[-1] = False
    entries["key"] = np.where(holds, np.array(table.keys, dtype=np.uint64), 0)
    entries["value"] = np.where(holds, np.array(table.values, dtype=np.uint64), 0)
    blob = _blob(client, entries.view(np.uint8))
    em = ObjectMeta("vineyard::Array<ska::detailv3::sherwood_v3_entry<std::pair<%s,uint64>>>" % key_type)
    em.add_member("buffer_", blob)
    em["nbytes"] = entries.nbytes
    em["size_"] = count
    m = ObjectMeta("vineyard::Hashmap<%s,uint64,wy::hash<%s>,std::equal_to<%s>>" % (key_type, key_type, key_type))
    m["num_slots_minus_one_"] = table.slots_minus_one
    m["max_lookups_"] = table.max_lookups
    m["num_elements_"] = table.size
    m.add_member("entries_", em)
    m["data_buffer_"] = 0
    m.add_member("data_buffer_mapped_", EMPTY_BLOB_ID)
    m["nbytes"] = entries.nbytes
    return m


_STRING_VIEW = "std::basic_string_view<char,std::char_traits<char>>"


def _string_hashmap(client, encoded, offsets, values, data, base):
    """A ``vineyard::Hashmap<std::string_view,uint64,...>`` whose keys are views into ``data`` (the
    writer of the oid array's bytes, at ``base`` in this process), as the Java SDK's
    ``StringViewHashmap`` lays it out: 32-byte entries (dist, length, pointer, value)."""
    import numpy as np

    table = _Ska(_wyhash_bytes)
    table.reserve(len(encoded))
    where = {}
    for key, off, v in zip(encoded, offsets, values):
        where[key] = int(off)
        table.put(key, int(v) & _M64)
    table.shrink_to_fit()
    count = len(table.dist)
    entries = np.zeros(count, dtype=[("dist", "i1"), ("pad", "V7"), ("len", "<u8"), ("ptr", "<u8"), ("value", "<u8")])
    entries["dist"] = table.dist
    for i, (d, key, v) in enumerate(zip(table.dist, table.keys, table.values)):
        if d >= 0 and i != count - 1:
            entries["len"][i], entries["ptr"][i], entries["value"][i] = len(key), base + where[key], v
    em = ObjectMeta("vineyard::Array<ska::detailv3::sherwood_v3_entry<std::pair<%s,uint64>>>" % _STRING_VIEW)
    em.add_member("buffer_", _blob(client, entries.view(np.uint8)))
    em["nbytes"] = entries.nbytes
    em["size_"] = count
    m = ObjectMeta("vineyard::Hashmap<%s,uint64,wy::hash<%s>,std::equal_to<%s>>" % ((_STRING_VIEW,) * 3))
    m["num_slots_minus_one_"] = table.slots_minus_one
    m["max_lookups_"] = table.max_lookups
    m["num_elements_"] = table.size
    m.add_member("entries_", em)
    m["data_buffer_"] = base
    m.add_member("data_buffer_mapped_", data)
    m["nbytes"] = entries.nbytes
    return m


# -- writing ---------------------------------------------------------------------------------------


def _blob(client, array):
    """A blob holding the bytes of a numpy array (the empty blob when empty)."""
    import numpy as np

    data = np.ascontiguousarray(array).view(np.uint8).reshape(-1)
    if data.size == 0:
        return EMPTY_BLOB_ID
    return client.create_blob_from(data)


def _numeric(client, typename, array, extra=None):
    m = ObjectMeta(typename)
    m["length_"] = len(array)
    if typename.startswith("vineyard::NumericArray<"):
        m["data_type_"] = typename[typename.index("<") + 1:-1]   # int64 / uint64, as vineyard 0.24 writes it
    m["null_count_"] = 0
    m["offset_"] = 0
    m.add_member("buffer_", _blob(client, array))
    m.add_member("null_bitmap_", EMPTY_BLOB_ID)
    for k, v in (extra or {}).items():
        m[k] = v
    m["nbytes"] = int(array.nbytes)
    return m


def _large_strings(client, values):
    """(the ``LargeStringArray`` meta, the writer of its bytes, the encoded strings, their offsets)."""
    import numpy as np

    encoded = [v.encode("utf-8") for v in values]
    offsets = np.zeros(len(encoded) + 1, dtype=np.int64)
    offsets[1:] = np.cumsum([len(b) for b in encoded]) if encoded else []
    m = ObjectMeta(LARGE_STRING_ARRAY)
    m["length_"] = len(encoded)
    m["null_count_"] = 0
    m["offset_"] = 0
    m.add_member("buffer_offsets_", _blob(client, offsets))
    data = _blob(client, np.frombuffer(b"".join(encoded), dtype=np.uint8))
    m.add_member("buffer_data_", data)
    m.add_member("null_bitmap_", EMPTY_BLOB_ID)
    m["nbytes"] = int(offsets.nbytes + offsets[-1])
    return m, data, encoded, offsets


def _fnv1a(s):
    h = 0xCBF29CE484222325
    for b in s.encode("utf-8"):
        h = ((h ^ b) * 0x100000001B3) & _M64
    return h


def _as_table(value, what):
    import pyarrow as pa

    if value is None or isinstance(value, pa.Table):
        return value
    try:
        import pandas as pd
    except ImportError:  # pragma: no cover
        pd = None
    if pd is not None and isinstance(value, pd.DataFrame):
        return pa.Table.from_pandas(value, preserve_index=False)
    raise InvalidError("%s must be a pyarrow Table or a pandas DataFrame, not %s" % (what, type(value).__name__), code=None)


def _ids(column, what):
    import pyarrow as pa

    if column.null_count:
        raise InvalidError("%s has a null vertex id" % what, code=None)
    t = column.type
    if pa.types.is_integer(t):
        return column.to_numpy().astype("int64"), False
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return column.to_pylist(), True
    raise InvalidError("%s is %s, vertex ids must be integers or strings" % (what, t), code=None)


class _VertexLabel:
    """One vertex label: its ids in table order (or in the order the edges name them), their
    fragments and gids."""

    def __init__(self, name, index, table):
        self.name, self.index, self.table = name, index, table
        self.ids = []


class _EdgeLabel:
    """One edge label: its ends' labels, its table, its ends as gids."""

    def __init__(self, name, index, src, dst, table):
        self.name, self.index, self.src, self.dst, self.table = name, index, src, dst, table


def _inputs(edges, vertices):
    """``({label: vertex table}, [(label, src label, dst label, edge table)])`` from what
    :func:`load` takes."""
    if isinstance(vertices, dict):
        vs = {label: _as_table(t, "vertices of %s" % label) for label, t in vertices.items()}
    else:
        vs = {} if vertices is None else {DEFAULT_LABEL: _as_table(vertices, "vertices")}
    if isinstance(edges, dict):
        es = []
        for label, spec in edges.items():
            if isinstance(spec, tuple):
                if len(spec) != 3:
                    raise InvalidError("edges of %s: expected (src label, dst label, table), got %d items" % (label, len(spec)),
                                       code=None)
                es.append((label, spec[0], spec[1], _as_table(spec[2], "edges of %s" % label)))
            else:
                es.append((label, DEFAULT_LABEL, DEFAULT_LABEL, _as_table(spec, "edges of %s" % label)))
    else:
        es = [(DEFAULT_LABEL, DEFAULT_LABEL, DEFAULT_LABEL, _as_table(edges, "edges"))]
    return vs, es


class _Plan:
    """The validated, partitioned graph, labelled as the Java SDK's ``GraphPlan``: vertex labels with
    tables first (in the order given), then the labels only edges name (src, then dst, edge label by
    edge label); a label without a table gets the ids its edges name, row by row, src then dst."""

    def __init__(self, edges, vertices, fnum, directed):
        import numpy as np

        vertex_tables, edge_inputs = _inputs(edges, vertices)
        kinds = set()
        labels = {}
        for name, t in vertex_tables.items():
            if "id" not in t.column_names:
                raise InvalidError("vertices of %s have no column id (columns: %s)" % (name, t.column_names), code=None)
            ids, strings = _ids(t.column("id"), "vertices of %s column id" % name)
            kinds.add(strings)
            v = labels[name] = _VertexLabel(name, len(labels), t)
            v.ids = [i if strings else int(i) for i in ids]
            if len(set(v.ids)) != len(v.ids):
                raise InvalidError("vertices of %s: an id is given twice" % name, code=None)
        ends = []
        for name, src_label, dst_label, t in edge_inputs:
            for col in ("src", "dst"):
                if col not in t.column_names:
                    raise InvalidError("edges of %s have no column %s (columns: %s)" % (name, col, t.column_names), code=None)
            src, s_str = _ids(t.column("src"), "edges of %s column src" % name)
            dst, d_str = _ids(t.column("dst"), "edges of %s column dst" % name)
            kinds.update((s_str, d_str))
            ends.append((list(src), list(dst)))
            for lab in (src_label, dst_label):
                if lab not in labels:
                    labels[lab] = _VertexLabel(lab, len(labels), None)
        if len(kinds) > 1:
            raise InvalidError("vertex ids and edge ends must all be integers or all strings", code=None)
        if len(labels) > _MAX_LABELS:
            raise InvalidError("%d vertex labels, vineyard allows at most %d" % (len(labels), _MAX_LABELS), code=None)
        self.strings = bool(kinds and kinds.pop())
        norm = (lambda x: x) if self.strings else int
        seen = {name: set() for name, v in labels.items() if v.table is None}
        for (name, src_label, dst_label, _), (src, dst) in zip(edge_inputs, ends):
            for s, d in zip(src, dst):
                for lab, x in ((src_label, norm(s)), (dst_label, norm(d))):
                    if lab in seen and x not in seen[lab]:
                        seen[lab].add(x)
                        labels[lab].ids.append(x)
        self.fnum, self.directed, self.vid = fnum, directed, _Vid(fnum)
        self.vertex_labels = list(labels.values())
        gid_of = {}
        for v in self.vertex_labels:
            frag = [(_fnv1a(i) if self.strings else (i & _M64)) % fnum for i in v.ids]
            v.inner_rows = [[] for _ in range(fnum)]
            gids = {}
            for row, (oid, f) in enumerate(zip(v.ids, frag)):
                gids[oid] = self.vid.gid(f, v.index, len(v.inner_rows[f]))
                v.inner_rows[f].append(row)
            gid_of[v.name] = gids

        def to_gid(values, lab, what):
            out = np.empty(len(values), dtype=np.uint64)
            gids = gid_of[lab]
            for k, x in enumerate(values):
                g = gids.get(norm(x))
                if g is None:
                    raise InvalidError("%s row %d names %r, which is not a vertex of label %s" % (what, k, x, lab), code=None)
                out[k] = g
            return out

        self.edge_labels = []
        for (name, src_label, dst_label, t), (src, dst) in zip(edge_inputs, ends):
            e = _EdgeLabel(name, len(self.edge_labels), labels[src_label].index, labels[dst_label].index, t)
            e.src_gid = to_gid(src, src_label, "edges of %s column src" % name)
            e.dst_gid = to_gid(dst, dst_label, "edges of %s column dst" % name)
            self.edge_labels.append(e)


def _csr(client, vid, rows, nbr, eid, tv_rows, nbr_label):
    """(nbr units meta, offsets meta, multigraph) of one CSR, runs sorted by neighbour."""
    import numpy as np

    order = np.lexsort((nbr, rows)) if len(rows) else np.zeros(0, dtype=np.int64)
    offsets = np.zeros(tv_rows + 1, dtype=np.int64)
    if len(rows):
        offsets[1:] = np.cumsum(np.bincount(rows, minlength=tv_rows))
    units = np.zeros(len(rows), dtype=[("vid", "<u8"), ("eid", "<u8")])
    units["vid"] = (np.uint64(nbr_label << vid.label_offset)) | nbr[order].astype(np.uint64)
    units["eid"] = eid[order].astype(np.uint64)
    same = (rows[order][1:] == rows[order][:-1]) & (units["vid"][1:] == units["vid"][:-1]) if len(rows) > 1 else np.zeros(0, bool)
    um = _numeric(client, "vineyard::FixedSizeBinaryArray", units, {"byte_width_": _NBR_BYTES})
    um["nbytes"] = int(units.nbytes)
    return um, _numeric(client, "vineyard::NumericArray<int64>", offsets), bool(same.any())


def _fragment(client, plan, f, vm_id):
    import numpy as np
    import pyarrow as pa

    vid = plan.vid
    vnum, enum = len(plan.vertex_labels), len(plan.edge_labels)
    frag_t, _ = _typenames(plan.strings)
    fid_of = lambda g: (g >> np.uint64(vid.fid_offset)).astype(np.int64)  # noqa: E731
    mask = np.uint64(vid.offset_mask)
    local = []  # per edge label: the rows stored here, (src gids, dst gids)
    for e in plan.edge_labels:
        rows = np.nonzero((fid_of(e.src_gid) == f) | (fid_of(e.dst_gid) == f))[0]
        local.append((rows, e.src_gid[rows], e.dst_gid[rows]))
    iv = [len(v.inner_rows[f]) for v in plan.vertex_labels]
    outer = []
    for v in plan.vertex_labels:
        ends = [s for e, (_, s, _) in zip(plan.edge_labels, local) if e.src == v.index]
        ends += [d for e, (_, _, d) in zip(plan.edge_labels, local) if e.dst == v.index]
        ends = np.concatenate(ends) if ends else np.zeros(0, dtype=np.uint64)
        outer.append(np.unique(ends[fid_of(ends) != f]))
    tv = [i + len(o) for i, o in zip(iv, outer)]

    def offs(g, lab):
        inner = fid_of(g) == f
        return np.where(inner, (g & mask).astype(np.int64), iv[lab] + np.searchsorted(outer[lab], g)).astype(np.int64)

    m = ObjectMeta(frag_t)
    for k, x in (("fid_", f), ("fnum_", plan.fnum), ("directed_", plan.directed), ("local_vertex_map_", False),
                 ("compact_edges_", False), ("vertex_label_num_", vnum), ("edge_label_num_", enum),
                 ("oid_type", "std::string" if plan.strings else "int64"), ("vid_type", "uint64")):
        m[k] = x
    for name, counts in (("ivnums_", iv), ("ovnums_", [len(o) for o in outer]), ("tvnums_", tv)):
        a = ObjectMeta("vineyard::Array<uint64>")
        a["size_"] = vnum
        a.add_member("buffer_", _blob(client, np.array(counts, dtype=np.uint64)))
        a["nbytes"] = 8 * vnum
        m.add_member(name, a)
    from .types.arrow import build_table

    for key in ("vertex_tables_", "ovgid_lists_", "ovg2l_maps_"):
        m["__%s-size" % key] = vnum
    for v in plan.vertex_labels:
        vt = None
        if v.table is not None:
            vt = v.table.drop_columns(["id"]).take(pa.array(v.inner_rows[f], type=pa.int64()))
        o = outer[v.index]
        m.add_member("__vertex_tables_-%d" % v.index, _table(client, build_table, vt, iv[v.index]))
        m.add_member("__ovgid_lists_-%d" % v.index, _numeric(client, "vineyard::NumericArray<uint64>", o.astype(np.uint64)))
        m.add_member("__ovg2l_maps_-%d" % v.index,
                     _hashmap(client, o, [vid.gid(0, v.index, iv[v.index] + k) for k in range(len(o))], "uint64"))
    m["__edge_tables_-size"] = enum
    sides = []  # per edge label: (src offsets, dst offsets, eids)
    for e, (rows, sg, dg) in zip(plan.edge_labels, local):
        et = e.table.drop_columns(["src", "dst"]).take(pa.array(rows, type=pa.int64()))
        m.add_member("__edge_tables_-%d" % e.index, _table(client, build_table, et, len(rows)))
        sides.append((offs(sg, e.src), offs(dg, e.dst), np.arange(len(rows), dtype=np.int64)))
    multi = False
    for name in ("oe", "ie") if plan.directed else ("oe",):
        for field in ("%s_lists_" % name, "%s_offsets_lists_" % name):
            m["__%s-size" % field] = vnum
        for v in range(vnum):
            for field in ("%s_lists_" % name, "%s_offsets_lists_" % name):
                m["__%s-%d-size" % (field, v)] = enum
            for e, (so, do, eids) in zip(plan.edge_labels, sides):
                parts, nbr_label = [], -1
                if name == "oe" and e.src == v:
                    parts.append((so, do, eids))
                    nbr_label = e.dst
                if name == "ie" and e.dst == v:
                    parts.append((do, so, eids))
                    nbr_label = e.src
                if not plan.directed and e.dst == v:
                    keep = so != do if e.src == e.dst else np.ones(len(so), dtype=bool)
                    parts.append((do[keep], so[keep], eids[keep]))
                    nbr_label = e.src
                cat = [np.concatenate([p[i] for p in parts]) if parts else np.zeros(0, dtype=np.int64) for i in range(3)]
                units, offsets, mg = _csr(client, vid, cat[0], cat[1], cat[2], tv[v], max(nbr_label, 0))
                multi = multi or mg
                m.add_member("__%s_lists_-%d-%d" % (name, v, e.index), units)
                m.add_member("__%s_offsets_lists_-%d-%d" % (name, v, e.index), offsets)
    if not plan.directed:
        m["__ie_lists_-size"] = 0
        m["__ie_offsets_lists_-size"] = 0
    for absent in ("compact_ie_lists_", "compact_oe_lists_", "ie_boffsets_lists_", "oe_boffsets_lists_"):
        m["__%s-size" % absent] = 0
    m["is_multigraph_"] = multi
    m.add_member("vm_ptr_", vm_id)
    m["schema_json_"] = json.dumps(_schema(plan))
    m["nbytes"] = 0
    return m


def _table(client, build_table, table, rows):
    """A ``vineyard::Table`` of the properties; one batch of no columns but ``rows`` rows when
    there are none (which pyarrow cannot make)."""
    if table is not None and table.num_columns:
        return build_table(client, table.combine_chunks())
    import pyarrow as pa
    from .types.arrow import build_schema

    batch = ObjectMeta("vineyard::RecordBatch")
    batch["row_num_"] = rows
    batch["column_num_"] = 0
    batch["__columns_-size"] = 0
    batch.add_member("schema_", build_schema(client, pa.schema([])))
    batch["nbytes"] = 0
    meta = ObjectMeta("vineyard::Table")
    meta["num_rows_"] = rows
    meta["num_columns_"] = 0
    meta["batch_num_"] = 1
    meta["partitions_-size"] = 1
    meta.add_member("schema_", build_schema(client, pa.schema([])))
    meta.add_member("partitions_-0", client.create_metadata(batch))
    meta["nbytes"] = 0
    return client.create_metadata(meta)


def _arrow_type_name(t):
    import pyarrow as pa

    for test, name in ((pa.types.is_boolean, "BOOL"), (pa.types.is_int16, "SHORT"), (pa.types.is_int32, "INT"),
                       (pa.types.is_int64, "LONG"), (pa.types.is_float32, "FLOAT"), (pa.types.is_float64, "DOUBLE"),
                       (pa.types.is_string, "STRING"), (pa.types.is_large_string, "STRING")):
        if test(t):
            return name
    return "NULL"


def _schema(plan):
    def entry(i, label, kind, table, skip):
        props = [] if table is None else [f for f in table.schema if f.name not in skip]
        return {"id": i, "label": label, "type": kind,
                "propertyDefList": [{"id": k, "name": p.name, "data_type": _arrow_type_name(p.type)} for k, p in enumerate(props)],
                "indexes": [], "rawRelationShips": [], "valid_properties": [1] * len(props)}

    types = [entry(v.index, v.name, "VERTEX", v.table, {"id"}) for v in plan.vertex_labels]
    for e in plan.edge_labels:
        t = entry(e.index, e.name, "EDGE", e.table, {"src", "dst"})
        t["rawRelationShips"] = [{"srcVertexLabel": plan.vertex_labels[e.src].name,
                                  "dstVertexLabel": plan.vertex_labels[e.dst].name}]
        types.append(t)
    return {"partitionNum": plan.fnum, "types": types,
            "valid_vertices": [1] * len(plan.vertex_labels), "valid_edges": [1] * len(plan.edge_labels)}


def _vertex_map(client, plan):
    import numpy as np

    _, vm_t = _typenames(plan.strings)
    m = ObjectMeta(vm_t)
    m["fnum"] = plan.fnum
    m["label_num"] = len(plan.vertex_labels)
    m["use_perfect_hash_"] = False
    for f in range(plan.fnum):
        for v in plan.vertex_labels:
            oids = [v.ids[r] for r in v.inner_rows[f]]
            gids = [plan.vid.gid(f, v.index, k) for k in range(len(oids))]
            key = "%d_%d" % (f, v.index)
            if plan.strings:
                arr, data, encoded, offsets = _large_strings(client, oids)
                m.add_member("oid_arrays_" + key, arr)
                base = data.address if hasattr(data, "address") else 0
                m.add_member("o2g_" + key, _string_hashmap(client, encoded, offsets, gids, data, base))
            else:
                arr = np.array(oids, dtype=np.int64)
                m.add_member("oid_arrays_" + key, _numeric(client, "vineyard::NumericArray<int64>", arr))
                m.add_member("o2g_" + key, _hashmap(client, arr, gids, "int64", reserve=len(oids)))
    m["nbytes"] = 0
    return m


class _Draft:
    """A builder input for ``client.put`` (one put per vertex map / fragment)."""

    def __init__(self, make):
        self.make = make


def _build_draft(client, draft, **_kwargs):
    return client.create_metadata(draft.make(client))


def load(client, edges, vertices=None, fragments=None, directed=True):
    """Load a graph into ``fragments`` ``vineyard::ArrowFragment`` s and return the id of their
    ``vineyard::ArrowFragmentGroup``.

    ``edges``: a pyarrow Table or pandas DataFrame with ``src`` and ``dst`` columns (int64 or
    string vertex ids); its other columns are edge properties.  ``vertices``: optional, with an
    ``id`` column; its other columns are vertex properties (without it, the vertices are the ids
    the edges name).  Several labels: ``edges`` a dict ``{label: (src label, dst label, table)}``
    (or ``{label: table}`` between vertices of label ``"_"``), ``vertices`` a dict ``{label: table}``;
    a label without a vertex table gets the ids its edges name.  All or nothing: bad input raises :class:`~vineyard_java.errors.InvalidError`
    before anything is written; a failed put deletes what was written before it.

    ``client`` may be a list of clients, one per daemon of a cluster: fragment ``f`` then goes to
    ``client[f % len(client)]`` (``fragments`` defaults to one per client), each instance gets its
    own copy of the vertex map, everything is persisted, and the group (global, persisted, on the
    first client) is returned once every instance sees it; :func:`delete` deletes such a graph.
    """
    from .types import registry

    clients = list(client) if isinstance(client, (list, tuple)) else [client]
    if not clients or len({c.instance_id for c in clients}) != len(clients):
        raise InvalidError("load needs one client per daemon, got instances %r" % ([c.instance_id for c in clients],), code=None)
    if fragments is None:
        fragments = len(clients)
    if not isinstance(fragments, int) or not 1 <= fragments <= 1 << 16:
        raise InvalidError("fragments must be an int in 1..65536, got %r" % (fragments,), code=None)
    persist = isinstance(client, (list, tuple))
    everyone, clients = clients, clients[:fragments]  # a client without a fragment gets nothing
    plan = _Plan(edges, vertices, fragments, bool(directed))
    registry.register_builder(_Draft, _build_draft)
    written = []
    try:
        vms = []
        for c in clients:
            vms.append(c.put(_Draft(lambda c: _vertex_map(c, plan)), persist=persist))
            written.append((c, vms[-1]))
        frags = []
        for f in range(fragments):
            c, vm = clients[f % len(clients)], vms[f % len(clients)]
            frags.append(c.put(_Draft(lambda c, f=f, vm=vm: _fragment(c, plan, f, vm)), persist=persist))
            written.append((c, frags[-1]))
        g = ObjectMeta("vineyard::ArrowFragmentGroup")
        g["global"] = True
        g["total_frag_num"] = fragments
        g["vertex_label_num"] = len(plan.vertex_labels)
        g["edge_label_num"] = len(plan.edge_labels)
        for i, fid in enumerate(frags):
            g["fid_%d" % i] = i
            g["frag_instance_id_%d" % i] = clients[i % len(clients)].instance_id
            g.add_member("frag_object_id_%d" % i, fid)
        g["nbytes"] = 0
        gid = clients[0].create_metadata(g).id
        written.append((clients[0], gid))
        if persist:
            clients[0].persist(gid)
            for c in everyone[1:]:
                c.get_meta(gid, sync_remote=True)  # each instance has the group when load returns
        return gid
    except BaseException:
        for c, oid in reversed(written):
            try:
                c.delete(oid)
            except Exception:  # noqa: BLE001 - the original error is the one to report
                pass
        raise


def delete(clients, group):
    """Delete a graph loaded across instances: the group alone on the first client, then, once
    each instance has seen it go, that instance's fragments (with their vertex map, tables and
    blobs), each deleted where it lives; returns once no instance has any of them."""
    meta = clients[0].get_meta(group)
    clients[0].delete(group, deep=False)
    n = int(meta["total_frag_num"])
    for c in clients:
        _wait_gone(c, group)
        mine = [meta.member("frag_object_id_%d" % i).id for i in range(n) if int(meta["frag_instance_id_%d" % i]) == c.instance_id]
        if mine:
            c.delete(mine)
    for c in clients:  # gone everywhere when delete returns
        for i in range(n):
            _wait_gone(c, meta.member("frag_object_id_%d" % i).id)


def _wait_gone(client, oid):
    """Returns once ``client``'s instance has applied the delete of ``oid`` (a sync with etcd's head)."""
    try:
        client.get_meta(oid, sync_remote=True)
    except ObjectNotExists:
        return
    raise InvalidError("the delete of %s did not reach instance %d" % (oid, client.instance_id), code=None)


# -- reading ---------------------------------------------------------------------------------------


class _VertexMap:
    def __init__(self, client, meta):
        import numpy as np

        self.fnum = int(meta["fnum"])
        self.label_num = int(meta["label_num"])
        self.strings = "string" in meta.typename
        self.vid = _Vid(self.fnum)
        self.oids = []  # [fid][label] -> numpy int64 view or list of str
        for f in range(self.fnum):
            row = []
            for lab in range(self.label_num):
                a = meta.member("oid_arrays_%d_%d" % (f, lab))
                n = int(a["length_"])
                if self.strings:
                    offs = np.frombuffer(client.blob_of(a.member("buffer_offsets_")), dtype="<i8") if n else [0]
                    data = bytes(client.blob_of(a.member("buffer_data_"))) if n else b""
                    row.append([data[offs[i]:offs[i + 1]].decode("utf-8") for i in range(n)])
                else:
                    row.append(np.frombuffer(client.blob_of(a.member("buffer_")), dtype="<i8", count=n) if n else [])
            self.oids.append(row)
        self._index = None

    def oid(self, gid):
        f, lab, o = self.vid.fid(gid), self.vid.label(gid), self.vid.offset(gid)
        v = self.oids[f][lab][o]
        return v if self.strings else int(v)

    def gid(self, label, oid):
        if self._index is None:
            self._index = [
                {(v if self.strings else int(v)): self.vid.gid(f, lab, o) for f in range(self.fnum)
                 for o, v in enumerate(self.oids[f][lab])}
                for lab in range(self.label_num)
            ]
        return self._index[label].get(oid)


class ArrowFragment:
    """One fragment read in place: the CSRs are numpy views of the shared memory."""

    def __init__(self, client, meta, vertex_map=None):
        import numpy as np

        self.meta = meta
        self.fid = int(meta["fid_"])
        self.fnum = int(meta["fnum_"])
        self.directed = bool(meta["directed_"])
        self.vid = _Vid(self.fnum)
        schema = json.loads(meta["schema_json_"]) if isinstance(meta["schema_json_"], str) else meta["schema_json_"]
        self.vertex_labels = [t["label"] for t in schema["types"] if t["type"] == "VERTEX"]
        self.edge_labels = [t["label"] for t in schema["types"] if t["type"] == "EDGE"]

        def u64(array_meta, dtype="<u8"):
            n = int(array_meta.get("length_", array_meta.get("size_", 0)))
            if n == 0:
                return np.zeros(0, dtype=dtype)
            return np.frombuffer(client.blob_of(array_meta.member("buffer_")), dtype=dtype, count=n)

        self.ivnums = [int(x) for x in u64(meta.member("ivnums_"))]
        self.ovgids = [u64(meta.member("__ovgid_lists_-%d" % v)) for v in range(len(self.vertex_labels))]
        units = [("vid", "<u8"), ("eid", "<u8")]
        self.oe, self.ie = {}, {}
        for v in range(len(self.vertex_labels)):
            for e in range(len(self.edge_labels)):
                for name, lists in (("oe", self.oe), ("ie", self.ie)):
                    if name == "ie" and not self.directed:
                        continue
                    nbrs = meta.member("__%s_lists_-%d-%d" % (name, v, e))
                    offs = meta.member("__%s_offsets_lists_-%d-%d" % (name, v, e))
                    lists[(v, e)] = (u64(nbrs, units), u64(offs, "<i8"))
        if not self.directed:
            self.ie = self.oe
        self.vertex_map = vertex_map or _VertexMap(client, meta.member("vm_ptr_"))

    def _gid(self, vid):
        lab, o = self.vid.label(vid), self.vid.offset(vid)
        if o < self.ivnums[lab]:
            return self.vid.gid(self.fid, lab, o)
        return int(self.ovgids[lab][o - self.ivnums[lab]])

    def _inner(self, v, label):
        labels = range(len(self.vertex_labels)) if label is None else [self.vertex_labels.index(label)]
        for lab in labels:
            gid = self.vertex_map.gid(lab, v)
            if gid is not None and self.vid.fid(gid) == self.fid:
                return lab, self.vid.offset(gid)
        raise ObjectNotExists("vertex %r is not an inner vertex of fragment %d" % (v, self.fid), code=None)

    def vertices(self, label=None):
        """Original ids of this fragment's own vertices."""
        labels = range(len(self.vertex_labels)) if label is None else [self.vertex_labels.index(label)]
        out = []
        for lab in labels:
            for o in range(self.ivnums[lab]):
                out.append(self.vertex_map.oid(self.vid.gid(self.fid, lab, o)))
        return out

    def _neighbors(self, lists, v, label):
        lab, o = self._inner(v, label)
        out = []
        for e in range(len(self.edge_labels)):
            nbrs, offs = lists[(lab, e)]
            for unit in nbrs[offs[o]:offs[o + 1]]:
                out.append(self.vertex_map.oid(self._gid(int(unit["vid"]))))
        return out

    def out_neighbors(self, v, label=None):
        """Original ids of ``v``'s out-neighbours (one per edge: parallel edges repeat)."""
        return self._neighbors(self.oe, v, label)

    def in_neighbors(self, v, label=None):
        """Original ids of ``v``'s in-neighbours (undirected: the neighbours)."""
        return self._neighbors(self.ie, v, label)

    def out_degree(self, v, label=None):
        """The number of ``v``'s out-edges."""
        lab, o = self._inner(v, label)
        return sum(int(offs[o + 1] - offs[o]) for (l2, _), (_, offs) in self.oe.items() if l2 == lab)

    def __repr__(self):
        return "ArrowFragment(%d/%d, vertex labels %s, edge labels %s)" % (self.fid, self.fnum, self.vertex_labels, self.edge_labels)


class FragmentGroup:
    """The fragments of one graph as one instance sees them: ``fragments`` are the ones on the
    client's instance, read in place (all of them unless the graph was loaded across a cluster);
    ``metas`` and ``locations`` (instance ids) describe every fragment, by fid.  Vertex queries go to
    the owner fragment, which must be local."""

    def __init__(self, fragments, metas=None, locations=None):
        self.fragments = fragments
        self.metas = metas if metas is not None else [f.meta for f in fragments]
        self.locations = locations if locations is not None else [None] * len(fragments)

    @property
    def total_frag_num(self):
        return len(self.metas)

    def is_local(self, fid):
        return any(f.fid == fid for f in self.fragments)

    def _require_all_local(self, what):
        if len(self.fragments) != len(self.metas):
            remote = [i for i in range(len(self.metas)) if not self.is_local(i)]
            raise ObjectNotExists("%s needs every fragment on this instance; fragments %r live on instances %r"
                                  % (what, remote, [self.locations[i] for i in remote]), code=None)

    def _owner(self, v, label):
        for f in self.fragments:
            try:
                f._inner(v, label)
                return f
            except ObjectNotExists:
                continue
        if len(self.fragments) != len(self.metas):
            raise ObjectNotExists("vertex %r is not in a fragment on this instance (fragments %r of %d are)"
                                  % (v, [f.fid for f in self.fragments], len(self.metas)), code=None)
        raise ObjectNotExists("vertex %r is not in the graph" % (v,), code=None)

    def vertices(self, label=None):
        """Every vertex (all fragments must be local; ``fragments[i].vertices()`` for the local ones)."""
        self._require_all_local("vertices()")
        return [v for f in self.fragments for v in f.vertices(label)]

    def out_neighbors(self, v, label=None):
        return self._owner(v, label).out_neighbors(v, label)

    def in_neighbors(self, v, label=None):
        return self._owner(v, label).in_neighbors(v, label)

    def out_degree(self, v, label=None):
        return self._owner(v, label).out_degree(v, label)


def resolve_fragment(client, meta, **_kwargs):
    return ArrowFragment(client, meta)


def resolve_group(client, meta, **_kwargs):
    """The group with the fragments on ``client``'s instance read in place (the others: metadata)."""
    n = int(meta["total_frag_num"])
    metas, locations, local = [None] * n, [None] * n, []
    vm = None
    for i in range(n):
        fid = int(meta["fid_%d" % i])
        metas[fid] = meta.member("frag_object_id_%d" % i)
        locations[fid] = int(meta["frag_instance_id_%d" % i])
        if locations[fid] == client.instance_id:
            f = ArrowFragment(client, metas[fid], vm)
            vm = f.vertex_map
            local.append(f)
    local.sort(key=lambda f: f.fid)
    return FragmentGroup(local, metas, locations)


class _Numbering:
    """A dense numbering of a group's vertices (fragment by fragment, label by label, inner ones in lid
    order, as the Java SDK's ``GlobalIndex``) and, per fragment and label, the number of every local
    vid (inner ones, then outer ones by gid): a neighbour read from a CSR is numbered by one lookup."""

    def __init__(self, group):
        import numpy as np

        group._require_all_local("pagerank and bfs")
        frags = group.fragments
        self.frags = frags
        self.vnum = len(frags[0].vertex_labels)
        self.enum = len(frags[0].edge_labels)
        self.vid = vid = frags[0].vid
        self.mask = np.uint64(vid.offset_mask)
        self.base, n = {}, 0
        for f in frags:
            for lab in range(self.vnum):
                self.base[(f.fid, lab)] = n
                n += f.ivnums[lab]
        self.n = n
        self.numbers = {}
        for f in frags:
            for lab in range(self.vnum):
                iv = f.ivnums[lab]
                outer = f.ovgids[lab]
                fids = (outer >> np.uint64(vid.fid_offset)).astype(np.int64)
                starts = np.array([self.base[(int(x), lab)] for x in fids], dtype=np.int64)
                self.numbers[(f.fid, lab)] = np.concatenate(
                    [self.base[(f.fid, lab)] + np.arange(iv), starts + (outer & self.mask).astype(np.int64)])

    def of_vids(self, f, vids):
        """The numbers of local vids of fragment ``f``."""
        import numpy as np

        labels = ((vids >> np.uint64(self.vid.label_offset)) & np.uint64(_MAX_LABELS - 1)).astype(np.int64)
        out = np.empty(len(vids), dtype=np.int64)
        for lab in np.unique(labels):
            sel = labels == lab
            out[sel] = self.numbers[(f.fid, int(lab))][(vids[sel] & self.mask).astype(np.int64)]
        return out

    def owner(self, number):
        """(fragment, label, offset) of a number."""
        for (fid, lab), b in self.base.items():
            f = self.frags[fid]
            if b <= number < b + f.ivnums[lab]:
                return f, lab, number - b
        raise ObjectNotExists("vertex number %d is not in the graph" % number, code=None)

    def keys(self, values):
        """``{(label, id): value}`` by number."""
        out = {}
        for f in self.frags:
            for lab in range(self.vnum):
                b = self.base[(f.fid, lab)]
                for o in range(f.ivnums[lab]):
                    out[(f.vertex_labels[lab], f.vertex_map.oid(self.vid.gid(f.fid, lab, o)))] = values[b + o]
        return out


def bfs(group, source, label=None):
    """Breadth-first search along out-edges (all labels) over a :class:`FragmentGroup` read in place
    (numpy over the CSR views, level by level, each fragment expanding its own frontier vertices),
    as the Java SDK's ``Bfs``.  Returns ``{(label, id): hops}`` for every vertex, -1 for the
    unreachable."""
    import numpy as np

    num = _Numbering(group)
    owner = group._owner(source, label)
    lab, o = owner._inner(source, label)
    depth = np.full(num.n, -1, dtype=np.int64)
    frontier = np.array([num.base[(owner.fid, lab)] + o], dtype=np.int64)
    depth[frontier] = 0
    level = 0
    while len(frontier):
        level += 1
        reached = []
        for f in num.frags:
            for lab in range(num.vnum):
                b, iv = num.base[(f.fid, lab)], f.ivnums[lab]
                mine = frontier[(frontier >= b) & (frontier < b + iv)] - b
                if not len(mine):
                    continue
                for e in range(num.enum):
                    nbrs, offs = f.oe[(lab, e)]
                    if not len(nbrs):
                        continue
                    starts, ends = offs[mine], offs[mine + 1]
                    counts = ends - starts
                    if not counts.sum():
                        continue
                    # the units of every frontier vertex, concatenated
                    at = np.repeat(starts - np.concatenate([[0], np.cumsum(counts)[:-1]]), counts) + np.arange(counts.sum())
                    reached.append(num.of_vids(f, nbrs["vid"][at]))
        nxt = np.unique(np.concatenate(reached)) if reached else np.zeros(0, dtype=np.int64)
        nxt = nxt[depth[nxt] < 0]
        depth[nxt] = level
        frontier = nxt
    return num.keys(depth.tolist())


def pagerank(group, damping=0.85, iterations=10):
    """PageRank over a :class:`FragmentGroup` read in place (numpy over the CSR views), with the
    Java SDK's definition (networkx's: dangling rank spread uniformly; parallel edges count once
    each), for a fixed number of iterations.  Returns ``{(label, id): rank}``."""
    import numpy as np

    num = _Numbering(group)
    n = num.n
    out_degree = np.zeros(n)
    pulls = []  # (target numbers, source numbers) per CSR
    for f in num.frags:
        for lab in range(num.vnum):
            iv, b = f.ivnums[lab], num.base[(f.fid, lab)]
            for e in range(num.enum):
                _, offs = f.oe[(lab, e)]
                if len(offs):
                    out_degree[b:b + iv] += np.diff(offs[:iv + 1])
                nbrs, offs = f.ie[(lab, e)]
                if len(nbrs) == 0:
                    continue
                end = int(offs[iv])
                targets = np.repeat(b + np.arange(iv), np.diff(offs[:iv + 1]))
                pulls.append((targets, num.of_vids(f, nbrs["vid"][:end])))
    rank = np.full(n, 1.0 / n)
    dangling = out_degree == 0
    for _ in range(iterations):
        contrib = np.where(dangling, 0.0, rank / np.where(dangling, 1, out_degree))
        acc = np.zeros(n)
        for targets, src in pulls:
            np.add.at(acc, targets, contrib[src])
        rank = (1 - damping) / n + damping * (acc + rank[dangling].sum() / n)
    return num.keys(rank)
