"""Property graphs: vineyard_java.graph.load, traversal in place, and the Java SDK's fragments.

The reference is networkx (MultiDiGraph / MultiGraph, so parallel edges and self-loops count as
vineyard stores them: an undirected self-loop once), built from the same edge list.  Cross-process:
a Java process (``io.vineyard.graph.demo.GraphPeer``) loads a graph that this process traverses,
and dumps one this process loaded.
"""

import json
import subprocess
from pathlib import Path

import pytest

np = pytest.importorskip("numpy")
pa = pytest.importorskip("pyarrow")
pd = pytest.importorskip("pandas")
nx = pytest.importorskip("networkx")

import vineyard_java.graph as vg  # noqa: E402
from vineyard_java.errors import InvalidError  # noqa: E402

REPO = Path(__file__).resolve().parents[2]

HAND_MADE = [(1, 2), (1, 2), (1, 1), (2, 3), (3, 1), (4, 3), (6, 4), (2, 6)]  # 5 is isolated


def reference(edges, directed, vertices=()):
    g = nx.MultiDiGraph() if directed else nx.MultiGraph()
    g.add_nodes_from(vertices)
    g.add_edges_from(edges)
    return g


def out_list(g, v):
    return sorted(w for _, w in g.out_edges(v)) if g.is_directed() else sorted(w for _, w in g.edges(v))


def in_list(g, v):
    return sorted(u for u, _ in g.in_edges(v)) if g.is_directed() else out_list(g, v)


def check(group, g):
    assert sorted(group.vertices(), key=str) == sorted(g.nodes, key=str)
    for v in g.nodes:
        assert sorted(group.out_neighbors(v)) == out_list(g, v), v
        assert sorted(group.in_neighbors(v)) == in_list(g, v), v
        assert group.out_degree(v) == len(out_list(g, v)), v


@pytest.mark.parametrize("fragments", [1, 3])
@pytest.mark.parametrize("directed", [True, False])
def test_load_traverses_as_networkx(client, fragments, directed):
    edges = pd.DataFrame({"src": [s for s, _ in HAND_MADE], "dst": [d for _, d in HAND_MADE],
                          "weight": np.arange(len(HAND_MADE), dtype=np.float64)})
    vertices = pa.table({"id": pa.array([1, 2, 3, 4, 5, 6], pa.int64()), "age": pa.array([10, 20, 30, 40, 50, 60])})
    gid = vg.load(client, edges, vertices=vertices, fragments=fragments, directed=directed)
    group = client.get(gid)
    assert len(group.fragments) == fragments
    check(group, reference(HAND_MADE, directed, vertices=range(1, 7)))
    for frag in group.fragments:
        for v in frag.vertices():
            assert group.out_neighbors(v) == frag.out_neighbors(v)
    del group
    client.delete(gid)
    assert client.list_objects("vineyard::Arrow*", limit=100) == []


def test_string_view_hash_matches_vineyards_wyhash():
    """``wy::hash<std::string_view>`` of the oracle's bytes (the Java SDK's HashmapTest holds the same)."""
    data = bytes(ord("a") + (i * 7) % 26 for i in range(150))
    expected = {0: 0x42BC986DC5EEC4D3, 3: 0x19B10541BC57380D, 12: 0xFF61969E1C3C5B5C, 17: 0x4CB9F27AA705513F,
                49: 0x358236AF1F3A9C69, 150: 0xA93A65AEF8CD70A6}
    for n, h in expected.items():
        assert vg._wyhash_bytes(data[:n]) == h, n


def test_string_ids_and_vertices_from_edges(client):
    edges = pa.table({"src": ["a", "b", "c", "a"], "dst": ["b", "c", "a", "a"]})
    gid = vg.load(client, edges, fragments=2)
    group = client.get(gid)
    check(group, reference([("a", "b"), ("b", "c"), ("c", "a"), ("a", "a")], True))
    client.delete(gid)


def test_generated_graph_bfs_matches_networkx(client):
    rng = np.random.default_rng(3)
    src = rng.integers(0, 500, 4000) * 11 + 5
    dst = rng.integers(0, 500, 4000) * 11 + 5
    gid = vg.load(client, pa.table({"src": src, "dst": dst}), fragments=4)
    group = client.get(gid)
    g = reference(list(zip(src.tolist(), dst.tolist())), True)
    check(group, g)
    source = int(src[0])
    expected = nx.single_source_shortest_path_length(g, source)
    hops = vg.bfs(group, source)
    assert len(hops) == g.number_of_nodes()
    for v in g.nodes:
        assert hops[(vg.DEFAULT_LABEL, v)] == expected.get(v, -1), v
    client.delete(gid)


@pytest.mark.parametrize("directed", [True, False])
def test_bfs_matches_networkx_with_unreachable_vertices(client, directed):
    edges = HAND_MADE + [(7, 8), (8, 9)]  # 7..9 are cut off from 1; 5 is isolated
    vertices = pa.table({"id": pa.array(range(1, 10), pa.int64())})
    gid = vg.load(client, pa.table({"src": [s for s, _ in edges], "dst": [d for _, d in edges]}),
                  vertices=vertices, fragments=3, directed=directed)
    g = reference(edges, directed, vertices=range(1, 10))
    for source in (1, 8):
        expected = nx.single_source_shortest_path_length(g, source)
        hops = vg.bfs(client.get(gid), source)
        assert hops == {(vg.DEFAULT_LABEL, v): expected.get(v, -1) for v in g.nodes}, source
    client.delete(gid)


def test_bad_input_is_refused_and_nothing_is_written(client):
    with pytest.raises(InvalidError, match="not a vertex"):
        vg.load(client, pa.table({"src": [1], "dst": [2]}), vertices=pa.table({"id": [1]}))
    with pytest.raises(InvalidError, match="no column src"):
        vg.load(client, pa.table({"from": [1], "dst": [2]}))
    with pytest.raises(InvalidError, match="integers or strings"):
        vg.load(client, pa.table({"src": [1.5], "dst": [2.5]}))
    assert client.list_objects("vineyard::Arrow*", limit=100) == []


def java(*args):
    cmd = [str(REPO / "bin" / "java-client"), "io.vineyard.graph.demo.GraphPeer", *args]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, "java %s failed (%d): %s %s" % (args[0], done.returncode, done.stdout, done.stderr)
    return done.stdout


def _edges(seed, n=300, m=2000):
    rng = np.random.default_rng(seed)
    return list(zip((rng.integers(0, n, m) * 3 + 1).tolist(), (rng.integers(0, n, m) * 3 + 1).tolist()))


@pytest.mark.parametrize("directed", [True, False])
def test_java_loads_python_traverses(client, vineyard_socket, tmp_path, directed):
    edges = _edges(11)
    csv = tmp_path / "edges.csv"
    csv.write_text("".join("%d,%d,%d.5\n" % (s, d, i) for i, (s, d) in enumerate(edges)))
    name = "java-graph-%s" % directed
    assert java("put", vineyard_socket, name, "3", str(directed).lower(), str(csv)).startswith("put ok")
    group = client.get(name=name)
    frag = group.fragments[0]
    nbrs, _ = frag.oe[(0, 0)]
    regions = client.mapped_regions()
    from helpers import address_in_regions

    if len(nbrs):
        assert address_in_regions(nbrs.ctypes.data, nbrs.nbytes, regions), "the CSR is read in place"
    check(group, reference(edges, directed))
    del group, frag, nbrs
    client.drop_name(name)


@pytest.mark.parametrize("directed", [True, False])
def test_python_loads_java_traverses(client, vineyard_socket, directed):
    edges = _edges(12)
    gid = vg.load(client, pa.table({"src": [s for s, _ in edges], "dst": [d for _, d in edges]}),
                  fragments=2, directed=directed)
    client.persist(gid)
    name = "python-graph-%s" % directed
    client.put_name(gid, name)
    g = reference(edges, directed)
    lines = java("dump", vineyard_socket, name).splitlines()
    assert len(lines) == g.number_of_nodes()
    for line in lines:
        v, out, inn, deg = line.split("\t")
        v = int(v)
        assert out == str(out_list(g, v)).replace(" ", ""), v
        assert inn == str(in_list(g, v)).replace(" ", ""), v
        assert int(deg) == len(out_list(g, v))
    client.drop_name(name)


# keys that name a particular object or its bookkeeping, not the graph
_VOLATILE = {"id", "signature", "instance_id", "__timestamp", "transient", "nbytes", "length", "__name", "global"}


_STRING_VIEW_MAP = "vineyard::Hashmap<std::basic_string_view"


def _same_shape(client, a, b, path, blobs, views=None):
    """Asserts that two metadata trees have the same keys, typenames and values, and collects the
    pairs of blobs to compare (into ``views``, with each side's ``data_buffer_``, the entries of
    string-view Hashmaps, whose key pointers are addresses in the writer's process)."""
    assert a.typename == b.typename, path
    if a.typename == "vineyard::Blob":
        blobs.append((path, a.id, b.id))
        return
    if a.typename.startswith(_STRING_VIEW_MAP):
        entries_a, entries_b = a.member("entries_").member("buffer_"), b.member("entries_").member("buffer_")
        views.append((path, entries_a.id, entries_b.id, int(a["data_buffer_"]), int(b["data_buffer_"])))
        assert int(a.member("entries_")["size_"]) == int(b.member("entries_")["size_"]), path
        for k in ("num_slots_minus_one_", "max_lookups_", "num_elements_"):
            assert a[k] == b[k], (path + "/" + k, a[k], b[k])
        _same_shape(client, a.member("data_buffer_mapped_"), b.member("data_buffer_mapped_"), path + "/data", blobs)
        return
    keys_a = {k for k in a.keys() if k not in _VOLATILE}
    keys_b = {k for k in b.keys() if k not in _VOLATILE}
    assert keys_a == keys_b, (path, keys_a ^ keys_b)
    for k in sorted(keys_a):
        if a.has_member(k):
            if a.member(k).typename.startswith(("vineyard::Table", "vineyard::SchemaProxy")) or k == "vm_ptr_" and blobs is None:
                assert a.member(k).typename == b.member(k).typename, path + "/" + k
                continue
            _same_shape(client, a.member(k), b.member(k), path + "/" + k, blobs, views)
        elif k == "schema_json_":
            assert json.loads(a[k]) == json.loads(b[k]), path
        else:
            assert a[k] == b[k], (path + "/" + k, a[k], b[k])


def _string_view_entries(raw, base):
    """A string-view Hashmap's entries with each key's pointer made an offset into its bytes."""
    e = np.frombuffer(raw, dtype=[("dist", "i1"), ("pad", "V7"), ("len", "<u8"), ("ptr", "<u8"), ("value", "<u8")]).copy()
    held = (e["dist"] >= 0) & (np.arange(len(e)) != len(e) - 1)
    e["ptr"][held] -= np.uint64(base)
    e["pad"] = b"\0" * 7
    return e.tobytes()


@pytest.mark.parametrize("directed,ids", [(True, int), (False, int), (True, str)])
def test_java_and_python_write_the_same_fragments(client, vineyard_socket, tmp_path, directed, ids):
    """The same edges loaded by the Java SDK and by this package: the same metadata (keys,
    typenames, values) and, blob for blob, the same bytes (CSR units and offsets, outer-vertex
    lists, Hashmap entries, vertex map arrays; string-view Hashmaps' key pointers as offsets into
    the key bytes); property tables are compared by shape."""
    edges = [(ids(s) if ids is int else "v%d" % s, ids(d) if ids is int else "v%d" % d) for s, d in _edges(13, n=200, m=1500)]
    csv = tmp_path / "edges.csv"
    csv.write_text("".join("%s,%s,%d.5\n" % (s, d, i) for i, (s, d) in enumerate(edges)))
    name = "java-same-%s-%s" % (directed, ids.__name__)
    java("put", vineyard_socket, name, "3", str(directed).lower(), str(csv))
    ours = vg.load(client, pa.table({"src": [s for s, _ in edges], "dst": [d for _, d in edges],
                                     "weight": [i + 0.5 for i in range(len(edges))]}), fragments=3, directed=directed)
    theirs = client.get_meta(client.get_name(name))
    mine = client.get_meta(ours)
    blobs, views = [], []
    _same_shape(client, theirs, mine, "group", blobs, views)
    assert len(blobs) > 30
    assert (len(views) >= 3) if ids is str else not views
    got = client.get_blobs([x for _, x, _ in blobs] + [y for _, _, y in blobs])
    n = len(blobs)
    for k, (path, _, _) in enumerate(blobs):
        assert bytes(got[k]) == bytes(got[n + k]), path
    del got
    if views:
        got = client.get_blobs([x for _, x, _, _, _ in views] + [y for _, _, y, _, _ in views])
        for k, (path, _, _, base_a, base_b) in enumerate(views):
            assert _string_view_entries(got[k], base_a) == _string_view_entries(got[len(views) + k], base_b), path
        del got
    client.drop_name(name)
    client.delete(ours)


@pytest.mark.parametrize("directed", [True, False])
def test_two_labels_from_python_match_java_byte_for_byte(client, vineyard_socket, tmp_path, directed):
    """Two vertex labels (person with a property, city made from the edges) and two edge labels
    (knows: person to person, lives: person to city), loaded by this package from tables and by the
    Java SDK from CSV files: the same trees and blobs; traversal by label checked by hand."""
    persons = pa.table({"id": pa.array([1, 2, 3, 4, 5, 6], pa.int64()), "rank": pa.array([0, 10, 20, 30, 40, 50], pa.int64())})
    knows = [(1, 2), (1, 2), (1, 1), (2, 3), (3, 1), (4, 3), (6, 4), (2, 6)]
    lives = [(1, 100), (2, 100), (3, 101), (6, 101)]

    def table(edges, first):
        return pa.table({"src": pa.array([s for s, _ in edges], pa.int64()), "dst": pa.array([d for _, d in edges], pa.int64()),
                         "weight": pa.array([first + i + 0.5 for i in range(len(edges))], pa.float64())})

    files = {}
    for name, t in (("person", persons), ("knows", table(knows, 0)), ("lives", table(lives, 8))):
        path = tmp_path / ("%s.csv" % name)
        import pyarrow.csv as pcsv

        pcsv.write_csv(t, path)
        files[name] = str(path)
    name = "java-two-labels-%s" % directed
    java("putfiles", vineyard_socket, name, "2", str(directed).lower(), "v:person=" + files["person"],
         "e:knows:person:person=" + files["knows"], "e:lives:person:city=" + files["lives"])
    ours = vg.load(client, {"knows": ("person", "person", table(knows, 0)), "lives": ("person", "city", table(lives, 8))},
                   vertices={"person": persons}, fragments=2, directed=directed)
    blobs, views = [], []
    _same_shape(client, client.get_meta(client.get_name(name)), client.get_meta(ours), "group", blobs, views)
    got = client.get_blobs([x for _, x, _ in blobs] + [y for _, _, y in blobs])
    for k, (path, _, _) in enumerate(blobs):
        assert bytes(got[k]) == bytes(got[len(blobs) + k]), path
    del got
    group = client.get(ours)
    assert sorted(group.vertices("city")) == [100, 101]
    assert sorted(group.vertices("person")) == [1, 2, 3, 4, 5, 6]
    assert sorted(group.out_neighbors(1, "person")) == ([1, 2, 2, 100] if directed else [1, 2, 2, 3, 100])
    assert sorted(group.in_neighbors(100, "city")) == [1, 2]
    assert group.out_degree(6, "person") == (2 if directed else 3)
    hops = vg.bfs(group, 4, "person")
    assert hops[("person", 4)] == 0 and hops[("person", 3)] == 1 and hops[("city", 101)] == 2
    assert hops[("person", 5)] == -1
    del group
    client.drop_name(name)
    client.delete(ours)


def test_python_string_ids_java_traverses(client, vineyard_socket):
    """Java finds string ids in the o2g Hashmaps this package wrote (its lookups go through them)."""
    edges = [("v%d" % s, "v%d" % d) for s, d in _edges(14, n=100, m=600)]
    gid = vg.load(client, pa.table({"src": [s for s, _ in edges], "dst": [d for _, d in edges]}), fragments=3)
    client.persist(gid)
    client.put_name(gid, "python-strings")
    g = reference(edges, True)
    lines = java("dump", vineyard_socket, "python-strings").splitlines()
    assert len(lines) == g.number_of_nodes()
    for line in lines:
        v, out, inn, deg = line.split("\t")
        assert out == "[%s]" % ",".join(out_list(g, v)), v
        assert inn == "[%s]" % ",".join(in_list(g, v)), v
        assert int(deg) == len(out_list(g, v))
    client.drop_name("python-strings")
    client.delete(gid)


def test_usage_is_back_to_baseline_after_delete(accounting_daemon):
    import vineyard_java as vj

    with vj.connect(accounting_daemon.socket) as client:
        before = client.instance_status()["memory_usage"]
        gid = vg.load(client, pa.table({"src": [1, 2, 3, 3], "dst": [2, 3, 1, 3], "w": [1.0, 2.0, 3.0, 4.0]}),
                      fragments=2, directed=False)
        assert client.instance_status()["memory_usage"] > before
        with client.lease(gid) as group:
            assert sorted(group.out_neighbors(3)) == [1, 2, 3]
        client.delete(gid)
        assert client.list_objects("vineyard::Arrow*", limit=100) == []
        assert client.instance_status()["memory_usage"] == before


@pytest.mark.parametrize("directed", [True, False])
def test_pagerank_matches_networkx(client, directed):
    edges = _edges(21, n=150, m=900) + [(1, 1), (4, 7), (4, 7)]
    gid = vg.load(client, pa.table({"src": [s for s, _ in edges], "dst": [d for _, d in edges]}),
                  fragments=3, directed=directed)
    ranks = vg.pagerank(client.get(gid), 0.85, 200)
    expected = nx.pagerank(reference(edges, directed), alpha=0.85, max_iter=1000, tol=1e-14)
    assert len(ranks) == len(expected)
    for v, r in expected.items():
        assert ranks[(vg.DEFAULT_LABEL, v)] == pytest.approx(r, abs=1e-9), v
    client.delete(gid)
