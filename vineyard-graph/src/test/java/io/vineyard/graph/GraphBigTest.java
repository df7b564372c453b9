package io.vineyard.graph;

import io.vineyard.client.DaemonProcess;
import io.vineyard.client.IpcClient;
import io.vineyard.client.ObjectId;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.BigIntVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The generated graph of the issue, 1M vertices and 10M edges in 4 fragments: every vertex's degrees, its
 * PageRank and BFS depth against array-based references computed here from the edge arrays. Out of the
 * default run (minutes on 2 cores): {@code mvn -pl vineyard-graph -am test -Dtest=GraphBigTest
 * -Dsurefire.failIfNoSpecifiedTests=false -Dvineyard.graph.big=true}.
 */
@Tag("slow")
@EnabledIfSystemProperty(named = "vineyard.graph.big", matches = "true")
class GraphBigTest {
    private static final int N = 1_000_000;
    private static final int M = 10_000_000;

    private static BigIntVector column(BufferAllocator a, String name, long[] values) {
        BigIntVector v = new BigIntVector(name, a);
        v.allocateNew(values.length);
        for (int i = 0; i < values.length; i++) {
            v.set(i, values[i]);
        }
        v.setValueCount(values.length);
        return v;
    }

    @Test
    void tenMillionEdgesTraverseAsTheReference() throws Exception {
        SplittableRandom r = new SplittableRandom(5);
        int[] s = new int[M];
        int[] d = new int[M];
        long[] src = new long[M];
        long[] dst = new long[M];
        for (int e = 0; e < M; e++) {
            s[e] = r.nextInt(N);
            d[e] = r.nextInt(N);
            src[e] = s[e] * 31L + 7;
            dst[e] = d[e] * 31L + 7;
        }
        int[] outDeg = new int[N];
        int[] inDeg = new int[N];
        for (int e = 0; e < M; e++) {
            outDeg[s[e]]++;
            inDeg[d[e]]++;
        }
        try (DaemonProcess daemon = DaemonProcess.start("--size=6Gi");
             IpcClient client = IpcClient.connect(daemon.socket());
             BufferAllocator a = new RootAllocator();
             VectorSchemaRoot edges = VectorSchemaRoot.of(column(a, "src", src), column(a, "dst", dst))) {
            long baseline = client.status().memoryUsage();
            ObjectId id = GraphLoader.builder().edges(edges).fragments(4).load(client);
            try (FragmentGroup g = client.get(id, FragmentGroup.class)) {
                int seen = 0;
                for (ArrowFragment f : g.fragments()) {
                    for (long o = 0; o < f.innerVertexCount(0); o++) {
                        int v = (int) (((Long) f.idOf(f.vidAt(0, o)) - 7) / 31);
                        assertEquals(outDeg[v], f.outEdges(0, 0).degree(o), "out-degree of " + v);
                        assertEquals(inDeg[v], f.inEdges(0, 0).degree(o), "in-degree of " + v);
                        seen++;
                    }
                }
                int vertices = (int) Arrays.stream(outDeg).filter(x -> x > 0).count();
                for (int v = 0; v < N; v++) {
                    if (outDeg[v] == 0 && inDeg[v] > 0) {
                        vertices++;
                    }
                }
                assertEquals(vertices, seen);
                PageRank.Result pr = PageRank.run(g, 0.85, 10);
                double[] ref = pageRank(s, d, outDeg, inDeg, 0.85, 10);
                Bfs.Result bfs = Bfs.run(g, "_", src[0]);
                int[] depth = bfs(s, d, outDeg, s[0]);
                for (int v = 0; v < N; v++) {
                    if (outDeg[v] + inDeg[v] > 0) {
                        assertEquals(ref[v], pr.rank("_", v * 31L + 7), 1e-12, "pagerank of " + v);
                        assertEquals(depth[v], bfs.depth("_", v * 31L + 7), "bfs depth of " + v);
                    }
                }
            }
            client.delete(id);
            client.flushReleases();
            assertEquals(baseline, client.status().memoryUsage());
        }
    }

    /** Reference PageRank over the vertices that have an edge (the loader's vertices), by array index. */
    private static double[] pageRank(int[] s, int[] d, int[] outDeg, int[] inDeg, double damping, int iterations) {
        int n = 0;
        for (int v = 0; v < N; v++) {
            if (outDeg[v] + inDeg[v] > 0) {
                n++;
            }
        }
        double[] rank = new double[N];
        for (int v = 0; v < N; v++) {
            rank[v] = outDeg[v] + inDeg[v] > 0 ? 1.0 / n : 0;
        }
        for (int it = 0; it < iterations; it++) {
            double dangling = 0;
            for (int v = 0; v < N; v++) {
                if (outDeg[v] == 0) {
                    dangling += rank[v];
                }
            }
            double[] acc = new double[N];
            for (int e = 0; e < s.length; e++) {
                acc[d[e]] += rank[s[e]] / outDeg[s[e]];
            }
            for (int v = 0; v < N; v++) {
                rank[v] = outDeg[v] + inDeg[v] > 0 ? (1 - damping) / n + damping * (acc[v] + dangling / n) : 0;
            }
        }
        return rank;
    }

    private static int[] bfs(int[] s, int[] d, int[] outDeg, int source) {
        int[] offsets = new int[N + 1];
        for (int e = 0; e < s.length; e++) {
            offsets[s[e] + 1]++;
        }
        for (int v = 0; v < N; v++) {
            offsets[v + 1] += offsets[v];
        }
        int[] nbrs = new int[s.length];
        int[] cursor = Arrays.copyOf(offsets, N);
        for (int e = 0; e < s.length; e++) {
            nbrs[cursor[s[e]]++] = d[e];
        }
        int[] depth = new int[N];
        Arrays.fill(depth, -1);
        depth[source] = 0;
        ArrayDeque<Integer> queue = new ArrayDeque<>();
        queue.add(source);
        while (!queue.isEmpty()) {
            int v = queue.poll();
            for (int i = offsets[v]; i < offsets[v + 1]; i++) {
                if (depth[nbrs[i]] < 0) {
                    depth[nbrs[i]] = depth[v] + 1;
                    queue.add(nbrs[i]);
                }
            }
        }
        return depth;
    }
}
