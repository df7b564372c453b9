package io.vineyard.graph;

import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.BigIntVector;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.Float8Vector;
import org.apache.arrow.vector.VarCharVector;
import org.apache.arrow.vector.VectorSchemaRoot;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Test graphs as plain Java lists (the reference: adjacency lists computed here, independently of the
 * loader) and as the Arrow tables the loader reads.
 */
final class TestGraphs {
    /** A vertex: its label and original id. */
    record V(String label, Object id) {
    }

    /** An edge with a weight property. */
    record E(String label, V src, V dst, double weight) {
    }

    /** A vertex label's vertices (null: made from the edges) and an edge label's endpoints' labels. */
    record Graph(Map<String, List<V>> vertices, Map<String, String[]> edgeLabels, List<E> edges) {
        /** The loader fed with this graph's tables (allocated from {@code a}, closed by the caller). */
        GraphLoader loader(BufferAllocator a, List<AutoCloseable> owned) {
            GraphLoader g = GraphLoader.builder();
            vertices.forEach((label, vs) -> {
                if (vs != null) {
                    VectorSchemaRoot r = vertexTable(a, vs);
                    owned.add(r);
                    g.vertices(label, r);
                }
            });
            edgeLabels.forEach((label, ends) -> {
                List<E> es = edges.stream().filter(e -> e.label().equals(label)).toList();
                VectorSchemaRoot r = edgeTable(a, es);
                owned.add(r);
                g.edges(label, ends[0], ends[1], r);
            });
            return g;
        }

        /** Every vertex: the given ones, then the ones named by edges of labels without a vertex table. */
        List<V> allVertices() {
            List<V> out = new ArrayList<>();
            vertices.forEach((label, vs) -> {
                if (vs != null) {
                    out.addAll(vs);
                }
            });
            for (E e : edges) {
                for (V v : List.of(e.src(), e.dst())) {
                    if (vertices.get(v.label()) == null && !out.contains(v)) {
                        out.add(v);
                    }
                }
            }
            return out;
        }
    }

    private TestGraphs() {
    }

    static FieldVector ids(BufferAllocator a, String name, List<Object> ids) {
        if (!ids.isEmpty() && ids.getFirst() instanceof String) {
            VarCharVector v = new VarCharVector(name, a);
            v.allocateNew();
            for (int i = 0; i < ids.size(); i++) {
                v.setSafe(i, ((String) ids.get(i)).getBytes(StandardCharsets.UTF_8));
            }
            v.setValueCount(ids.size());
            return v;
        }
        BigIntVector v = new BigIntVector(name, a);
        v.allocateNew(ids.size());
        for (int i = 0; i < ids.size(); i++) {
            v.set(i, (Long) ids.get(i));
        }
        v.setValueCount(ids.size());
        return v;
    }

    static VectorSchemaRoot vertexTable(BufferAllocator a, List<V> vs) {
        FieldVector id = ids(a, "id", vs.stream().map(V::id).toList());
        BigIntVector rank = new BigIntVector("rank", a);
        rank.allocateNew(vs.size());
        for (int i = 0; i < vs.size(); i++) {
            rank.set(i, i * 10L);
        }
        rank.setValueCount(vs.size());
        return VectorSchemaRoot.of(id, rank);
    }

    static VectorSchemaRoot edgeTable(BufferAllocator a, List<E> es) {
        FieldVector src = ids(a, "src", es.stream().map(e -> e.src().id()).toList());
        FieldVector dst = ids(a, "dst", es.stream().map(e -> e.dst().id()).toList());
        Float8Vector w = new Float8Vector("weight", a);
        w.allocateNew(es.size());
        for (int i = 0; i < es.size(); i++) {
            w.set(i, es.get(i).weight());
        }
        w.setValueCount(es.size());
        return VectorSchemaRoot.of(src, dst, w);
    }

    /**
     * Two vertex labels (person, city) and two edge labels (knows: person to person, lives: person to city),
     * with a self-loop (1 knows 1), parallel edges (1 knows 2 twice), an isolated person (5) and a city no
     * one lives in ({@code ids} maps the int ids 1.. to the vertex ids used, e.g. strings).
     */
    static Graph handMade(java.util.function.LongFunction<Object> ids) {
        List<V> persons = new ArrayList<>();
        for (long i = 1; i <= 6; i++) {
            persons.add(new V("person", ids.apply(i)));
        }
        List<V> cities = new ArrayList<>();
        for (long i = 100; i <= 102; i++) {
            cities.add(new V("city", ids.apply(i)));
        }
        long[][] knows = {{1, 2}, {1, 2}, {1, 1}, {2, 3}, {3, 1}, {4, 3}, {6, 4}, {2, 6}};
        long[][] lives = {{1, 100}, {2, 100}, {3, 101}, {6, 101}};
        List<E> edges = new ArrayList<>();
        int w = 0;
        for (long[] k : knows) {
            edges.add(new E("knows", new V("person", ids.apply(k[0])), new V("person", ids.apply(k[1])), 0.5 + w++));
        }
        for (long[] k : lives) {
            edges.add(new E("lives", new V("person", ids.apply(k[0])), new V("city", ids.apply(k[1])), 0.5 + w++));
        }
        Map<String, List<V>> vertices = new LinkedHashMap<>();
        vertices.put("person", persons);
        vertices.put("city", cities);
        Map<String, String[]> labels = new LinkedHashMap<>();
        labels.put("knows", new String[] {"person", "person"});
        labels.put("lives", new String[] {"person", "city"});
        return new Graph(vertices, labels, edges);
    }

    /** A random graph of one label, vertices made from the edges' ends, with self-loops and parallel edges. */
    static Graph random(int vertices, int edges, long seed) {
        Random r = new Random(seed);
        List<E> es = new ArrayList<>(edges);
        for (int i = 0; i < edges; i++) {
            long s = r.nextInt(vertices) * 7L + 3;
            long d = r.nextInt(vertices) * 7L + 3;
            es.add(new E("_", new V("_", s), new V("_", d), i));
        }
        Map<String, List<V>> vs = new LinkedHashMap<>();
        vs.put("_", null);
        Map<String, String[]> labels = new LinkedHashMap<>();
        labels.put("_", new String[] {"_", "_"});
        return new Graph(vs, labels, es);
    }

    /** The reference: plain adjacency lists, "label:id edgeLabel weight" per neighbour. */
    static Map<V, List<String>> adjacency(Graph g, boolean out, boolean directed) {
        Map<V, List<String>> adj = new LinkedHashMap<>();
        for (V v : g.allVertices()) {
            adj.put(v, new ArrayList<>());
        }
        for (E e : g.edges()) {
            if (!directed) {
                adj.get(e.src()).add(key(e.dst(), e));
                if (!e.src().equals(e.dst())) {
                    adj.get(e.dst()).add(key(e.src(), e));
                }
            } else if (out) {
                adj.get(e.src()).add(key(e.dst(), e));
            } else {
                adj.get(e.dst()).add(key(e.src(), e));
            }
        }
        adj.values().forEach(l -> l.sort(null));
        return adj;
    }

    static String key(V v, E e) {
        return v.label() + ":" + v.id() + " " + e.label() + " " + e.weight();
    }

    /** Reference PageRank (networkx's definition, fixed iterations) over adjacency lists. */
    static Map<V, Double> pageRank(Graph g, boolean directed, double d, int iterations) {
        List<V> vs = g.allVertices();
        Map<V, Integer> index = new LinkedHashMap<>();
        vs.forEach(v -> index.put(v, index.size()));
        int n = vs.size();
        List<List<Integer>> in = new ArrayList<>();
        int[] outDeg = new int[n];
        for (int i = 0; i < n; i++) {
            in.add(new ArrayList<>());
        }
        for (E e : g.edges()) {
            int s = index.get(e.src());
            int t = index.get(e.dst());
            in.get(t).add(s);
            outDeg[s]++;
            if (!directed && s != t) {
                in.get(s).add(t);
                outDeg[t]++;
            }
        }
        double[] rank = new double[n];
        java.util.Arrays.fill(rank, 1.0 / n);
        for (int it = 0; it < iterations; it++) {
            double dangling = 0;
            for (int v = 0; v < n; v++) {
                if (outDeg[v] == 0) {
                    dangling += rank[v];
                }
            }
            double[] next = new double[n];
            for (int v = 0; v < n; v++) {
                double s = 0;
                for (int u : in.get(v)) {
                    s += rank[u] / outDeg[u];
                }
                next[v] = (1 - d) / n + d * (s + dangling / n);
            }
            rank = next;
        }
        Map<V, Double> out = new LinkedHashMap<>();
        for (V v : vs) {
            out.put(v, rank[index.get(v)]);
        }
        return out;
    }

    /** Reference BFS hop counts along out-edges (both ways when undirected). */
    static Map<V, Integer> bfs(Graph g, boolean directed, V source) {
        Map<V, List<V>> adj = new LinkedHashMap<>();
        g.allVertices().forEach(v -> adj.put(v, new ArrayList<>()));
        for (E e : g.edges()) {
            adj.get(e.src()).add(e.dst());
            if (!directed) {
                adj.get(e.dst()).add(e.src());
            }
        }
        Map<V, Integer> depth = new LinkedHashMap<>();
        depth.put(source, 0);
        java.util.ArrayDeque<V> queue = new java.util.ArrayDeque<>(List.of(source));
        while (!queue.isEmpty()) {
            V v = queue.poll();
            for (V u : adj.get(v)) {
                if (!depth.containsKey(u)) {
                    depth.put(u, depth.get(v) + 1);
                    queue.add(u);
                }
            }
        }
        return depth;
    }
}
