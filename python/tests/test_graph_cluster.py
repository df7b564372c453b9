"""Graphs across a cluster: three daemons sharing metadata through a real etcd (started and stopped
here), a graph loaded with fragment ``i`` on instance ``i`` (by this process, or by a Java process)
and read from every instance: the group's metadata everywhere, each instance's own fragment in
place, every vertex's neighbours from its owner's instance, against networkx."""

import uuid

import pytest

import vineyard_java as vj
from conftest import running_daemon
from helpers import address_in_regions
from test_cluster import _cluster_flags, etcd  # noqa: F401 - the etcd fixture
from test_graph import _edges, in_list, java, out_list, reference
from test_graph_doc import CLUSTER_EXAMPLES

pa = pytest.importorskip("pyarrow")
pytest.importorskip("networkx")

import vineyard_java.graph as vg  # noqa: E402
from vineyard_java.errors import ObjectNotExists  # noqa: E402


@pytest.fixture(scope="module")
def cluster(etcd):  # noqa: F811 - the imported fixture
    """Three daemons on one etcd prefix; yields their sockets."""
    flags = _cluster_flags(etcd, "pyg-" + uuid.uuid4().hex[:8])
    with running_daemon(flags=flags) as d0, running_daemon(flags=flags) as d1, running_daemon(flags=flags) as d2:
        yield [d0.socket, d1.socket, d2.socket]


def check_across(clients, gid, g):
    """Every instance reads the group; its local fragment is the one it holds, mapped in place; each
    vertex's neighbours come from its owner's instance and match networkx."""
    groups = [c.get(gid) for c in clients]
    owner_of = {}
    for i, (c, group) in enumerate(zip(clients, groups)):
        assert group.total_frag_num == len(clients)
        assert group.locations == [x.instance_id for x in clients], "fragment i lives on instance i"
        assert [f.fid for f in group.fragments] == [i], "only the local fragment is read"
        assert [m.instance_id for m in group.metas] == group.locations
        frag = group.fragments[0]
        nbrs, _ = frag.oe[(0, 0)]
        if len(nbrs):
            assert address_in_regions(nbrs.ctypes.data, nbrs.nbytes, c.mapped_regions()), "the CSR is read in place"
        for v in frag.vertices():
            assert v not in owner_of, "vertex %r on one fragment only" % (v,)
            owner_of[v] = group
        with pytest.raises(ObjectNotExists, match="every fragment on this instance"):
            vg.pagerank(group, 0.85, 3)
    assert sorted(owner_of, key=str) == sorted(g.nodes, key=str)
    for v in g.nodes:
        group = owner_of[v]
        assert sorted(group.out_neighbors(v)) == out_list(g, v), v
        assert sorted(group.in_neighbors(v)) == in_list(g, v), v
        assert group.out_degree(v) == len(out_list(g, v)), v
        other = groups[(groups.index(group) + 1) % len(groups)]
        with pytest.raises(ObjectNotExists, match="not in a fragment on this instance"):
            other.out_neighbors(v)


@pytest.mark.parametrize("directed", [True, False])
def test_python_loads_across_three_instances(cluster, directed):
    clients = [vj.connect(s) for s in cluster]
    try:
        usage = [c.instance_status()["memory_usage"] for c in clients]
        edges = _edges(21)
        gid = vg.load(clients, pa.table({"src": [s for s, _ in edges], "dst": [d for _, d in edges]}), directed=directed)
        check_across(clients, gid, reference(edges, directed))
        vg.delete(clients, gid)
        for c, before in zip(clients, usage):
            assert c.list_objects("vineyard::Arrow*", limit=100) == []
            assert c.instance_status()["memory_usage"] == before, "usage of instance %d back to baseline" % c.instance_id
    finally:
        for c in clients:
            c.close()


def test_fewer_fragments_than_instances_leave_the_last_one_empty(cluster):
    clients = [vj.connect(s) for s in cluster]
    try:
        gid = vg.load(clients, pa.table({"src": [1, 2, 3], "dst": [2, 3, 1]}), fragments=2)
        mine = [m for m in clients[2].list_objects("vineyard::Arrow*", limit=100) if m.instance_id == clients[2].instance_id]
        assert mine == [], "no fragment, no vertex map on the third instance"
        group = clients[2].get(gid)
        assert group.fragments == [] and group.locations == [clients[0].instance_id, clients[1].instance_id]
        vg.delete(clients, gid)
    finally:
        for c in clients:
            c.close()


def test_java_loads_across_three_instances_python_reads_and_back(cluster, tmp_path):
    edges = _edges(22)
    csv = tmp_path / "edges.csv"
    csv.write_text("".join("%d,%d,%d.5\n" % (s, d, i) for i, (s, d) in enumerate(edges)))
    name = "java-cluster-graph-" + uuid.uuid4().hex[:6]
    assert java("putcluster", ",".join(cluster), name, "true", str(csv)).startswith("put ok")
    clients = [vj.connect(s) for s in cluster]
    try:
        gid = clients[0].get_name(name)
        g = reference(edges, True)
        check_across(clients, gid, g)
        # and back: Java reads each instance's own fragment from that instance
        seen = set()
        for s in cluster:
            for line in java("dump", s, name).splitlines():
                v, out, inn, deg = line.split("\t")
                v = int(v)
                seen.add(v)
                assert out == str(out_list(g, v)).replace(" ", ""), v
                assert inn == str(in_list(g, v)).replace(" ", ""), v
        assert seen == set(g.nodes)
        clients[0].drop_name(name)
        vg.delete(clients, gid)
        for c in clients:
            assert c.list_objects("vineyard::Arrow*", limit=100) == []
    finally:
        for c in clients:
            c.close()


@pytest.mark.parametrize("index", range(len(CLUSTER_EXAMPLES)))
def test_the_cluster_example_of_docs_graph_md_runs(cluster, index):
    code = CLUSTER_EXAMPLES[index].replace('"/tmp/vineyard-a.sock"', repr(cluster[0])).replace('"/tmp/vineyard-b.sock"', repr(cluster[1]))
    exec(compile(code, "graph.md cluster example %d" % (index + 1), "exec"), {"__name__": "doc_example"})
    with vj.connect(cluster[0]) as c:
        assert c.list_objects("vineyard::Arrow*", limit=100) == [], "the example deleted its graph"
