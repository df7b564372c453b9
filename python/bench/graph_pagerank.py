"""The Python side of ``bin/bench-graph``: PageRank with scipy, networkx's own algorithm
(``networkx.pagerank`` converts the graph to a scipy sparse array and runs ``_pagerank_scipy``'s
power iteration), over the benchmark's graph, read from the daemon.

GraphBench puts the vertex table (``id``) and the edge table (``src``, ``dst``) into vineyard and
runs this script on the same daemon; it times, per round, the build (original ids to indexes, the
sparse adjacency matrix, row-normalised as networkx does) and ``iterations`` iterations of
``x = d * (x @ A + dangling(x) / N) + (1 - d) / N`` (a fixed number, as the Java runs), and prints
one JSON line: the median times and the ranks of every ``stride``-th vertex, for GraphBench to
check against its own.

    python graph_pagerank.py SOCKET VERTICES_ID EDGES_ID ITERATIONS ROUNDS STRIDE
"""

import json
import statistics
import sys
import time

import numpy as np
import scipy.sparse

import vineyard_java as vj
from vineyard_java.ids import ObjectID


def build(ids, src, dst):
    """The row-normalised adjacency matrix (A[u, v] = 1 / outdeg(u) per edge u -> v, parallel edges
    summed) and the dangling mask, with vertex indexes in the order of ``ids``."""
    n = len(ids)
    order = np.argsort(ids, kind="stable")
    sorted_ids = ids[order]
    s = order[np.searchsorted(sorted_ids, src)]
    d = order[np.searchsorted(sorted_ids, dst)]
    a = scipy.sparse.csr_array((np.ones(len(s)), (s, d)), shape=(n, n))
    out = np.asarray(a.sum(axis=1)).ravel()
    dangling = out == 0
    inv = np.zeros(n)
    inv[~dangling] = 1.0 / out[~dangling]
    return scipy.sparse.diags_array(inv, format="csr") @ a, dangling


def pagerank(a, dangling, damping, iterations):
    n = a.shape[0]
    x = np.full(n, 1.0 / n)
    for _ in range(iterations):
        x = damping * (x @ a + x[dangling].sum() / n) + (1 - damping) / n
    return x


def main(argv):
    socket, vertices_id, edges_id = argv[1], ObjectID(argv[2]), ObjectID(argv[3])
    iterations, rounds, stride = int(argv[4]), int(argv[5]), int(argv[6])
    with vj.connect(socket) as client:
        ids = client.get(vertices_id).column("id").to_numpy()
        edges = client.get(edges_id)
        src, dst = edges.column("src").to_numpy(), edges.column("dst").to_numpy()
        build_ms, pr_ms, ranks = [], [], None
        for _ in range(rounds):
            t0 = time.perf_counter()
            a, dangling = build(ids, src, dst)
            build_ms.append((time.perf_counter() - t0) * 1e3)
            t0 = time.perf_counter()
            ranks = pagerank(a, dangling, 0.85, iterations)
            pr_ms.append((time.perf_counter() - t0) * 1e3)
            del a
        print(json.dumps({"build_ms": statistics.median(build_ms), "pagerank_ms": statistics.median(pr_ms),
                          "ranks": ranks[::stride].tolist(), "scipy": scipy.__version__}))


if __name__ == "__main__":
    main(sys.argv)
