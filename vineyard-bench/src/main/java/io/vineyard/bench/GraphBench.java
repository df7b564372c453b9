package io.vineyard.bench;

import com.fasterxml.jackson.databind.JsonNode;
import io.vineyard.arrow.ArrowTable;
import io.vineyard.client.IpcClient;
import io.vineyard.client.ObjectId;
import io.vineyard.common.Json;
import io.vineyard.graph.FragmentGroup;
import io.vineyard.graph.GlobalIndex;
import io.vineyard.graph.GraphLoader;
import io.vineyard.graph.LongIndex;
import io.vineyard.graph.PageRank;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.BigIntVector;
import org.apache.arrow.vector.VectorSchemaRoot;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * Loads a random graph (default 1M vertices, 10M edges, int64 ids) into vineyard fragments and runs
 * PageRank over them, next to the same computation over a plain Java {@code int[]} CSR built in the same
 * process from the same arrays, and prints a table. Run with {@code bin/bench-graph [--vertices N]
 * [--edges M] [--fragments 1,4] [--iterations 10] [--rounds 3] [--warm-memory 256Mi] [--python PATH]}; the same graph's PageRank
 * with scipy (networkx's algorithm) runs in a Python process on the same daemon, in the same run.
 */
public final class GraphBench {
    private GraphBench() {
    }

    public static void main(String[] args) throws Exception {
        int vertices = 1_000_000;
        int edges = 10_000_000;
        int iterations = 10;
        int rounds = 3;
        String warmMemory = "256Mi"; // the daemon's --warm_memory default
        int[] fragmentCounts = {1, 4};
        String python = Files.isExecutable(Path.of("target/pyvenv/bin/python")) ? "target/pyvenv/bin/python" : "python3";
        for (int i = 0; i < args.length; i += 2) {
            switch (args[i]) {
                case "--python" -> python = args[i + 1];
                case "--vertices" -> vertices = Integer.parseInt(args[i + 1]);
                case "--edges" -> edges = Integer.parseInt(args[i + 1]);
                case "--iterations" -> iterations = Integer.parseInt(args[i + 1]);
                case "--rounds" -> rounds = Integer.parseInt(args[i + 1]);
                case "--warm-memory" -> warmMemory = args[i + 1];
                case "--fragments" -> fragmentCounts = Arrays.stream(args[i + 1].split(",")).mapToInt(Integer::parseInt).toArray();
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        long[] ids = new long[vertices];
        for (int i = 0; i < vertices; i++) {
            ids[i] = i * 0x9E3779B97F4A7C15L;   // distinct, not dense: both sides must map ids to indexes
        }
        SplittableRandom r = new SplittableRandom(42);
        long[] src = new long[edges];
        long[] dst = new long[edges];
        for (int e = 0; e < edges; e++) {
            src[e] = ids[r.nextInt(vertices)];
            dst[e] = ids[r.nextInt(vertices)];
        }
        Path dir = Files.createTempDirectory("graph-bench-");
        Path socket = dir.resolve("vineyard.sock");
        Process daemon = SdkBench.startDaemon(socket, "--size=" + (8L << 30), "--warm_memory=" + warmMemory);
        try (BufferAllocator a = new RootAllocator();
             VectorSchemaRoot vt = VectorSchemaRoot.of(column(a, "id", ids));
             VectorSchemaRoot et = VectorSchemaRoot.of(column(a, "src", src), column(a, "dst", dst));
             IpcClient client = IpcClient.connect(socket.toString())) {
            System.out.printf(Locale.ROOT, "%d vertices, %d edges (int64 ids), PageRank %d iterations; median of %d rounds, ms%n",
                    vertices, edges, iterations, rounds);
            System.out.printf(Locale.ROOT, "| %-34s | %10s | %10s | %12s |%n", "graph", "load/build", "get", "pagerank");
            System.out.printf(Locale.ROOT, "|%s|%s|%s|%s|%n", "-".repeat(36), "-".repeat(12), "-".repeat(12), "-".repeat(14));
            // rounds interleave the plain CSR and every vineyard case, so that a busy machine slows them alike
            int cases = fragmentCounts.length;
            double[] build = new double[rounds];
            double[] plainPr = new double[rounds];
            double[][] load = new double[cases][rounds];
            double[][] get = new double[cases][rounds];
            double[][] pr = new double[cases][rounds];
            // CPU time of this process too: on a shared machine it is the fairer measure of the work done
            double[] buildCpu = new double[rounds];
            double[] plainPrCpu = new double[rounds];
            double[][] loadCpu = new double[cases][rounds];
            double[][] prCpu = new double[cases][rounds];
            double[] plainRanks = null;
            for (int k = 0; k < rounds; k++) {
                long t0 = System.nanoTime();
                long c0 = cpuNs();
                PlainCsr csr = PlainCsr.build(ids, src, dst);
                build[k] = ms(t0);
                buildCpu[k] = cpuMs(c0);
                t0 = System.nanoTime();
                c0 = cpuNs();
                plainRanks = csr.pageRank(0.85, iterations);
                plainPr[k] = ms(t0);
                plainPrCpu[k] = cpuMs(c0);
                csr = null;
                for (int c = 0; c < cases; c++) {
                    t0 = System.nanoTime();
                    c0 = cpuNs();
                    ObjectId g = GraphLoader.builder().vertices("_", vt).edges(et).fragments(fragmentCounts[c]).load(client);
                    load[c][k] = ms(t0);
                    loadCpu[c][k] = cpuMs(c0);
                    t0 = System.nanoTime();
                    try (FragmentGroup group = client.get(g, FragmentGroup.class)) {
                        get[c][k] = ms(t0);
                        GlobalIndex index = new GlobalIndex(group);
                        t0 = System.nanoTime();
                        c0 = cpuNs();
                        PageRank.Result res = PageRank.run(group, index, 0.85, iterations);
                        pr[c][k] = ms(t0);
                        prCpu[c][k] = cpuMs(c0);
                        for (int v = 0; v < vertices; v += 997) {
                            double diff = Math.abs(res.rank("_", ids[v]) - plainRanks[v]);
                            if (diff > 1e-12) {
                                throw new IllegalStateException("ranks differ from the plain CSR's by " + diff);
                            }
                        }
                    }
                    client.delete(g);
                    client.flushReleases();
                }
            }
            double plainBuild = SdkBench.median(build);
            double plainRank = SdkBench.median(plainPr);
            System.out.printf(Locale.ROOT, "| %-34s | %10.0f | %10s | %12.0f |%n", "plain int[] CSR (in-edges)", plainBuild, "-", plainRank);
            for (int c = 0; c < cases; c++) {
                double l = SdkBench.median(load[c]);
                double p = SdkBench.median(pr[c]);
                System.out.printf(Locale.ROOT, "| %-34s | %10.0f | %10.1f | %12.0f |%n",
                        "vineyard, " + fragmentCounts[c] + " fragment" + (fragmentCounts[c] > 1 ? "s" : ""), l, SdkBench.median(get[c]), p);
                System.out.printf(Locale.ROOT, "|   %-32s | %9.2fx | %10s | %11.2fx |%n", "vs plain (targets 2x, 1.5x)",
                        l / plainBuild, "", p / plainRank);
                System.out.printf(Locale.ROOT, "|   %-32s | %9.2fx | %10s | %11.2fx |%n", "vs plain, CPU time of this JVM",
                        SdkBench.median(loadCpu[c]) / SdkBench.median(buildCpu), "", SdkBench.median(prCpu[c]) / SdkBench.median(plainPrCpu));
            }
            ScipyFigures py = scipy(client, socket, python, vt, et, iterations, rounds, plainRanks);
            if (py != null) {
                System.out.printf(Locale.ROOT, "| %-34s | %10.0f | %10s | %12.0f |%n", "scipy CSR, networkx's algorithm", py.buildMs(), "-", py.pagerankMs());
                System.out.printf(Locale.ROOT, "|   %-32s | %9.2fx | %10s | %11.2fx |%n", "vs plain", py.buildMs() / plainBuild, "",
                        py.pagerankMs() / plainRank);
            }
            System.out.printf(Locale.ROOT, "load average while it ran: %.1f on %d CPUs%n",
                    java.lang.management.ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage(),
                    Runtime.getRuntime().availableProcessors());
        } finally {
            SdkBench.stop(daemon);
        }
    }

    /** The Python side's medians (python/bench/graph_pagerank.py), its ranks checked against the plain CSR's. */
    private record ScipyFigures(double buildMs, double pagerankMs) {
    }

    private static final int RANK_STRIDE = 997;

    /**
     * Puts the vertex and edge tables, runs the scipy PageRank in a Python process on the same daemon
     * (the same rounds and iterations) and checks its ranks; null (with a note) when Python or scipy is missing.
     */
    private static ScipyFigures scipy(IpcClient client, Path socket, String python, VectorSchemaRoot vt, VectorSchemaRoot et,
                                      int iterations, int rounds, double[] plainRanks) throws Exception {
        ObjectId vid = client.put(ArrowTable.of(vt));
        ObjectId eid = client.put(ArrowTable.of(et));
        try {
            ProcessBuilder pb = new ProcessBuilder(python, "python/bench/graph_pagerank.py", socket.toString(), vid.toString(),
                    eid.toString(), Integer.toString(iterations), Integer.toString(rounds), Integer.toString(RANK_STRIDE))
                    .redirectError(ProcessBuilder.Redirect.INHERIT);
            pb.environment().merge("PYTHONPATH", "python", (a, b) -> b + java.io.File.pathSeparator + a);
            Process p;
            try {
                p = pb.start();
            } catch (java.io.IOException e) {
                System.out.println("scipy: cannot run " + python + " (" + e.getMessage() + "); no scipy row");
                return null;
            }
            byte[] line = p.getInputStream().readAllBytes();
            if (p.waitFor() != 0 || line.length == 0) {
                System.out.println("scipy: " + python + " printed no figures (does it import numpy and scipy?)");
                return null;
            }
            JsonNode r = Json.parse(line);
            JsonNode ranks = r.get("ranks");
            for (int k = 0; k < ranks.size(); k++) {
                double diff = Math.abs(ranks.get(k).asDouble() - plainRanks[k * RANK_STRIDE]);
                if (diff > 1e-12) {
                    throw new IllegalStateException("scipy's rank of vertex " + k * RANK_STRIDE + " differs from the plain CSR's by " + diff);
                }
            }
            return new ScipyFigures(r.get("build_ms").asDouble(), r.get("pagerank_ms").asDouble());
        } finally {
            client.delete(vid);
            client.delete(eid);
        }
    }

    private static long cpuNs() {
        return ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean())
                .getProcessCpuTime();
    }

    private static double cpuMs(long c0) {
        return (cpuNs() - c0) / 1e6;
    }

    private static double ms(long t0) {
        return (System.nanoTime() - t0) / 1e6;
    }

    private static BigIntVector column(BufferAllocator a, String name, long[] values) {
        BigIntVector v = new BigIntVector(name, a);
        v.allocateNew(values.length);
        for (int i = 0; i < values.length; i++) {
            v.set(i, values[i]);
        }
        v.setValueCount(values.length);
        return v;
    }

    /** The baseline: ids to indexes through the same hash index, then an int[] CSR of in-edges. */
    record PlainCsr(int[] offsets, int[] nbrs, int[] outDegree) {
        static PlainCsr build(long[] ids, long[] src, long[] dst) {
            int n = ids.length;
            LongIndex index = new LongIndex(n);
            for (int i = 0; i < n; i++) {
                index.putIfAbsent(ids[i], i);
            }
            int m = src.length;
            int[] s = new int[m];
            int[] d = new int[m];
            int[] offsets = new int[n + 1];
            int[] outDegree = new int[n];
            for (int e = 0; e < m; e++) {
                s[e] = (int) index.get(src[e]);
                d[e] = (int) index.get(dst[e]);
                offsets[d[e] + 1]++;
                outDegree[s[e]]++;
            }
            for (int i = 0; i < n; i++) {
                offsets[i + 1] += offsets[i];
            }
            int[] cursor = Arrays.copyOf(offsets, n);
            int[] nbrs = new int[m];
            for (int e = 0; e < m; e++) {
                nbrs[cursor[d[e]]++] = s[e];
            }
            return new PlainCsr(offsets, nbrs, outDegree);
        }

        double[] pageRank(double damping, int iterations) {
            int n = outDegree.length;
            double[] rank = new double[n];
            double[] contrib = new double[n];
            Arrays.fill(rank, 1.0 / n);
            for (int it = 0; it < iterations; it++) {
                double dangling = 0;
                for (int v = 0; v < n; v++) {
                    if (outDegree[v] == 0) {
                        dangling += rank[v];
                        contrib[v] = 0;
                    } else {
                        contrib[v] = rank[v] / outDegree[v];
                    }
                }
                double teleport = (1 - damping) / n + damping * dangling / n;
                for (int v = 0; v < n; v++) {
                    double sum = 0;
                    for (int i = offsets[v]; i < offsets[v + 1]; i++) {
                        sum += contrib[nbrs[i]];
                    }
                    rank[v] = teleport + damping * sum;
                }
            }
            return rank;
        }
    }
}
