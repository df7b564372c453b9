package io.vineyard.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The pipeline benchmark: a table built by a producer process, checksummed by a consumer process, through
 * vineyard and through the baselines of shared/notes/pipeline-baselines.md, all in one run. One row per
 * path and size:
 * <ul>
 *   <li>{@code write_ms}: the producer, from the table being in memory to the hand-off (put / file closed);</li>
 *   <li>{@code load_ms}: the consumer, from the go signal to a usable table (VectorSchemaRoot / pyarrow Table);</li>
 *   <li>{@code read_ms}: the consumer, from the go signal to the checksum;</li>
 *   <li>{@code total_ms}: the consumer's checksum done minus the producer's write start (both clocks are
 *       CLOCK_MONOTONIC), so it includes the hand-off through this driver (two pipe hops).</li>
 * </ul>
 * The row "mapping populated" is the same consumer with {@code Prefault.MAP_POPULATE}: every page of
 * the pool is mapped into it at connect (not timed), so its reads pay no minor faults.
 * Producer and consumer are long-lived processes that warm up first (200k-row rounds of every path), as
 * the baselines do; each run builds the table anew (not timed) and frees it after. Medians of
 * {@code --runs} (default 3). Sizes: 10M rows and the 1 GiB table (31.1M rows); {@code --quick}: 1M rows.
 * Python rows (a pyarrow consumer, python/bench/pipeline_peer.py) are added by {@code --python PY PEER_SCRIPT},
 * Spark rows ({@link SparkBench}) by {@code --spark CLASSPATH} (vineyard-spark's); {@code --spark-only} prints
 * those alone.
 *
 * <p>Run: {@code bin/bench-pipeline [--quick] [--runs N] [--spark-only]}.
 */
public final class PipelineBench {
    private PipelineBench() {
    }

    /** One path: how the producer builds and hands off, how the consumer reads. */
    private record Path3(String label, String consumer, String build, String write, String read) {
    }

    public static void main(String[] args) throws Exception {
        List<String> a = Arrays.asList(args);
        boolean quick = a.contains("--quick");
        int runs = a.contains("--runs") ? Integer.parseInt(a.get(a.indexOf("--runs") + 1)) : 3;
        String python = a.contains("--python") ? a.get(a.indexOf("--python") + 1) : null;
        String pythonPeer = python == null ? null : a.get(a.indexOf("--python") + 2);
        String sparkClasspath = a.contains("--spark") ? a.get(a.indexOf("--spark") + 1) : null;
        boolean sparkOnly = a.contains("--spark-only");
        boolean javaOnly = a.contains("--java-only");
        List<String> daemonArgs = new ArrayList<>(List.of("--size=4Gi"));
        if (a.contains("--daemon-args")) {
            daemonArgs.addAll(Arrays.asList(a.get(a.indexOf("--daemon-args") + 1).trim().split("\\s+")));
        }
        if (sparkOnly && sparkClasspath == null) {
            throw new IllegalArgumentException("--spark-only needs --spark CLASSPATH (bin/bench-pipeline passes vineyard-spark's)");
        }
        int[] sizes = quick ? new int[] {1_000_000} : new int[] {10_000_000, PipelineTable.GIB_ROWS};
        List<Path3> paths = new ArrayList<>(List.of(
                new Path3("java  vineyard, built in the pool", "java", "pool", "put", "get"),
                new Path3("java  vineyard, copied at put", "java", "heap", "put", "get"),
                new Path3("java  Arrow IPC file on /dev/shm", "java", "heap", "ipc-write", "ipc-read"),
                new Path3("java  vineyard, in pool, mapping populated", "java-populated", "pool", "put", "get")));
        if (python != null && !javaOnly) {
            paths.add(new Path3("py    vineyard, pyarrow view", "python", "pool", "put", "get"));
            paths.add(new Path3("py    pyarrow IPC file, memory_map", "python", "heap", "ipc-write", "ipc-read"));
        }
        Path dir = Files.createTempDirectory(Path.of("/dev/shm"), "vineyard-pipeline-bench-");
        Path socket = dir.resolve("vineyard.sock");
        Path diskDir = Files.createTempDirectory("vineyard-pipeline-bench-");
        Process daemon = SdkBench.startDaemon(socket, daemonArgs.toArray(String[]::new));
        Map<String, Peer> consumers = new LinkedHashMap<>();
        List<String> out = new ArrayList<>();
        String header = String.format(Locale.ROOT, "%-42s %11s %9s %9s %9s %9s  %s", "path", "rows", "write_ms", "load_ms",
                "read_ms", "total_ms", "checksum (rows sum_i64 sum_f64 non_null)");
        if (sparkOnly) {
            try {
                out.add(header);
                out.add("Spark local[2], another process: count(*), bit_xor(i64), sum(f64), count(s) of the table");
                out.addAll(SparkBench.run(socket, diskDir, sizes, runs, sparkClasspath));
            } finally {
                SdkBench.deleteTree(diskDir);
                SdkBench.stop(daemon);
                SdkBench.deleteTree(dir);
            }
            System.out.printf(Locale.ROOT, "pipeline benchmark, Spark rows; median of %d runs, ms%n", runs);
            out.forEach(System.out::println);
            return;
        }
        try (Peer producer = new Peer(SdkBench.startJava(PipelinePeer.class.getName()))) {
            consumers.put("java", new Peer(SdkBench.startJava(PipelinePeer.class.getName())));
            consumers.put("java-populated", new Peer(SdkBench.startJava(PipelinePeer.class.getName())));
            if (python != null && !javaOnly) {
                consumers.put("python", new Peer(new ProcessBuilder(python, pythonPeer)
                        .redirectError(ProcessBuilder.Redirect.INHERIT).start()));
            }
            for (Peer p : java.util.stream.Stream.concat(java.util.stream.Stream.of(producer), consumers.values().stream()).toList()) {
                p.ask("connect " + socket + (p == consumers.get("java-populated") ? " populate" : ""));
                p.ask("warm " + dir);
            }
            out.add(header);
            for (int rows : sizes) {
                Map<String, double[]> totals = new LinkedHashMap<>();
                for (Path3 p : paths) {
                    Peer consumer = consumers.get(p.consumer());
                    double[][] t = new double[4][runs];
                    String checksum = null;
                    for (int r = 0; r < runs; r++) {
                        String name = "table-" + rows + "-" + r;
                        String target = p.write().equals("put") ? name : dir.resolve(name + ".arrow").toString();
                        producer.ask("build " + p.build() + " " + rows);
                        long[] w = producer.times(p.write() + " " + target);
                        String[] c = consumer.ask(p.read() + " " + target).split(" ");
                        long go = Long.parseLong(c[1]);
                        t[0][r] = ms(w[1] - w[0]);
                        t[1][r] = ms(Long.parseLong(c[2]) - go);
                        t[2][r] = ms(Long.parseLong(c[3]) - go);
                        t[3][r] = ms(Long.parseLong(c[3]) - w[0]);
                        String sum = String.join(" ", Arrays.copyOfRange(c, 4, c.length));
                        if (checksum != null && !checksum.equals(sum)) {
                            throw new IllegalStateException(p.label() + ": checksum changed between runs: " + checksum + " vs " + sum);
                        }
                        checksum = sum;
                        if (p.write().equals("put")) {
                            producer.ask("delete " + name);
                        } else {
                            Files.delete(Path.of(target));
                        }
                        producer.ask("free");
                    }
                    totals.put(p.label(), t[3]);
                    out.add(String.format(Locale.ROOT, "%-42s %,11d %9.1f %9.2f %9.1f %9.1f  %s", p.label(), rows,
                            SdkBench.median(t[0]), SdkBench.median(t[1]), SdkBench.median(t[2]), SdkBench.median(t[3]), checksum));
                    System.err.println(out.getLast());
                }
                // the floor under load_ms: the consumer's first request after the same idle (the producer's
                // build), a request that does nothing; on a VM this is mostly waking the idle vCPUs
                double[] floor = new double[runs];
                for (int r = 0; r < runs; r++) {
                    producer.ask("build pool " + rows);
                    producer.times("put floor-" + rows);
                    long[] ping = consumers.get("java").times("ping");
                    floor[r] = ms(ping[1] - ping[0]);
                    producer.ask("delete floor-" + rows);
                    producer.ask("free");
                }
                double ipc = SdkBench.median(totals.get(paths.get(2).label()));
                double ours = SdkBench.median(totals.get(paths.get(0).label()));
                double populated = SdkBench.median(totals.get(paths.get(3).label()));
                out.add(String.format(Locale.ROOT, "  %,d rows: java in-pool total / IPC file total = %.3f, mapping populated %.3f"
                        + " (target <= 0.1)", rows, ours / ipc, populated / ipc));
                out.add(String.format(Locale.ROOT, "  %,d rows: the java consumer's first request after the same idle (instance_status,"
                        + " no work) %.2f ms: the floor under load_ms on this machine (target load <= 1 ms)", rows, SdkBench.median(floor)));
            }
            if (!javaOnly) {
                out.add("");
                out.add("DuckDB: " + String.format(Locale.ROOT, DuckDbBench.GROUP_BY, "<source>") + " (in this process)");
                out.addAll(DuckDbBench.run(socket, diskDir, sizes, runs));
            }
            if (sparkClasspath != null && !javaOnly) {
                out.add("");
                out.add("Spark local[2], another process: count(*), bit_xor(i64), sum(f64), count(s) of the table");
                out.addAll(SparkBench.run(socket, diskDir, sizes, runs, sparkClasspath));
            }
        } finally {
            SdkBench.deleteTree(diskDir);
            for (Peer p : consumers.values()) {
                p.close();
            }
            SdkBench.stop(daemon);
            SdkBench.deleteTree(dir);
        }
        System.out.printf(Locale.ROOT, "pipeline benchmark: producer process builds -> consumer process checksums; median of %d runs, ms%n", runs);
        out.forEach(System.out::println);
    }

    private static double ms(long nanos) {
        return nanos / 1e6;
    }

    /** A peer process spoken to line by line. */
    static final class Peer implements AutoCloseable {
        private final Process process;
        private final PrintWriter to;
        private final BufferedReader from;

        Peer(Process process) {
            this.process = process;
            this.to = new PrintWriter(new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8), true);
            this.from = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
        }

        String ask(String command) throws IOException {
            to.println(command);
            String line;
            while ((line = from.readLine()) != null && !line.startsWith("ok")) {
                System.err.println("peer: " + line);
            }
            if (line == null) {
                throw new IOException("a peer process died on: " + command);
            }
            return line;
        }

        long[] times(String command) throws IOException {
            String[] c = ask(command).split(" ");
            return new long[] {Long.parseLong(c[1]), Long.parseLong(c[2])};
        }

        @Override
        public void close() throws InterruptedException {
            to.println("exit");
            if (!process.waitFor(20, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        }
    }
}
