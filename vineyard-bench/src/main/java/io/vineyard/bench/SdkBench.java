package io.vineyard.bench;

import io.vineyard.arrow.ArrowTable;
import io.vineyard.arrow.ArrowTableReader;
import io.vineyard.client.BlobWriter;
import io.vineyard.client.IpcClient;
import io.vineyard.client.ObjectId;
import io.vineyard.client.types.DType;
import io.vineyard.client.types.Tensor;
import org.apache.arrow.dataset.file.DatasetFileWriter;
import org.apache.arrow.dataset.file.FileFormat;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.ipc.ArrowFileWriter;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.Options;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.io.RandomAccessFile;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * The Java SDK's benchmark, one run, one printed table:
 * <ol>
 *   <li>get latency by id, 1 KiB to 4 GiB, against a trivial request's round trip (JMH, {@link GetLatencyBench});</li>
 *   <li>put throughput of a 1 GiB tensor: cold pool, warm pool, pool pre-faulted with {@code --reserve_memory},
 *       against one thread's memcpy measured in the same run;</li>
 *   <li>a 10M-row Arrow table passed to a second process through vineyard, through an Arrow IPC file on
 *       /dev/shm and through a Parquet file on local disk (writer time + reader time, the reader touching
 *       every value).</li>
 * </ol>
 * Run: {@code bin/bench-sdk [--quick]}.
 */
public final class SdkBench {
    private static final long GIB = 1L << 30;
    private static final String[] FLAGS = {"--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow",
        "--add-opens=java.base/java.nio=ALL-UNNAMED"};

    private SdkBench() {
    }

    public static void main(String[] args) throws Exception {
        boolean quick = Arrays.asList(args).contains("--quick");
        Path dir = Files.createTempDirectory(Path.of("/dev/shm"), "vineyard-sdk-bench-");
        Path diskDir = Files.createTempDirectory("vineyard-sdk-bench-");
        List<String> rows = new ArrayList<>();
        System.out.printf(Locale.ROOT, "vineyard-java SDK benchmark (%d CPUs)%n", Runtime.getRuntime().availableProcessors());
        try {
            getLatency(dir, quick, rows);
            putThroughput(dir, rows);
            pipelines(dir, diskDir, quick ? 1_000_000 : 10_000_000, rows);
        } finally {
            deleteTree(dir);
            deleteTree(diskDir);
        }
        System.out.println();
        rows.forEach(System.out::println);
    }

    // ---- 1. get latency (JMH) ---------------------------------------------------------------------

    private static void getLatency(Path dir, boolean quick, List<String> rows) throws Exception {
        Path socket = dir.resolve("get.sock");
        Process daemon = startDaemon(socket, "--size=6Gi");
        try {
            String[] jvm = Stream.concat(Arrays.stream(FLAGS), Stream.of("-Dvineyard.socket=" + socket)).toArray(String[]::new);
            int it = quick ? 2 : 4;
            Options floor = base(jvm, it).include(GetLatencyBench.class.getName() + ".floor").param("sizeBytes", "1024").build();
            Options gets = base(jvm, it).include(GetLatencyBench.class.getName() + ".getById").build();
            List<RunResult> results = new ArrayList<>(new Runner(floor).run());
            results.addAll(new Runner(gets).run());
            double floorP50 = 0;
            rows.add("1. get latency by id (JMH SampleTime, us; client and daemon in separate processes)");
            rows.add(String.format(Locale.ROOT, "   %-28s %10s %10s %10s %12s", "what", "p50", "p90", "p99", "p50/floor"));
            for (RunResult r : results) {
                var stats = r.getPrimaryResult().getStatistics();
                String label = r.getParams().getBenchmark().endsWith("floor") ? "floor (instance_status)"
                        : "get " + human(Long.parseLong(r.getParams().getParam("sizeBytes")));
                if (label.startsWith("floor")) {
                    floorP50 = stats.getPercentile(50);
                }
                rows.add(String.format(Locale.ROOT, "   %-28s %10.1f %10.1f %10.1f %12.2f", label, stats.getPercentile(50),
                        stats.getPercentile(90), stats.getPercentile(99), stats.getPercentile(50) / floorP50));
            }
        } finally {
            stop(daemon);
        }
    }

    private static org.openjdk.jmh.runner.options.ChainedOptionsBuilder base(String[] jvm, int iterations) {
        return new OptionsBuilder().forks(1).jvmArgsAppend(jvm).warmupIterations(iterations).warmupTime(TimeValue.seconds(1))
                .measurementIterations(iterations).measurementTime(TimeValue.seconds(1)).shouldFailOnError(true);
    }

    // ---- 2. put throughput ------------------------------------------------------------------------

    private static void putThroughput(Path dir, List<String> rows) throws Exception {
        long n = GIB / 8;
        try (Arena arena = Arena.ofShared()) {
            MemorySegment src = arena.allocate(GIB, 64);
            for (long i = 0; i < n; i++) {
                src.setAtIndex(java.lang.foreign.ValueLayout.JAVA_DOUBLE, i, i);
            }
            MemorySegment dst = arena.allocate(GIB, 64);
            dst.fill((byte) 1);
            double[] copy = new double[5];
            for (int i = 0; i < copy.length; i++) {
                long t0 = System.nanoTime();
                MemorySegment.copy(src, 0, dst, 0, GIB);
                copy[i] = gbps(GIB, System.nanoTime() - t0);
            }
            double memcpy = median(copy);
            rows.add("");
            rows.add("2. put throughput, 1 GiB Tensor<double> (create blob + copy in + one put_object request)");
            rows.add(String.format(Locale.ROOT, "   %-44s %8s %12s", "what", "GB/s", "% of memcpy"));
            rows.add(String.format(Locale.ROOT, "   %-44s %8.2f %12s", "memcpy, one thread (MemorySegment.copy)", memcpy, "100%"));

            Path socket = dir.resolve("put.sock");
            Process daemon = startDaemon(socket, "--size=3Gi", "--warm_memory=0");
            try (IpcClient client = IpcClient.connect(socket.toString())) {
                double cold = put(client, src, n);
                double[] warm = new double[5];
                for (int i = 0; i < warm.length; i++) {
                    warm[i] = put(client, src, n);
                }
                row(rows, "put, cold pool (first touch of shared memory)", cold, memcpy);
                row(rows, "put, warm pool (median of 5)", median(warm), memcpy);
            } finally {
                stop(daemon);
            }
            Path reserved = dir.resolve("reserved.sock");
            daemon = startDaemon(reserved, "--size=3Gi", "--reserve_memory");
            try (IpcClient client = IpcClient.connect(reserved.toString())) {
                row(rows, "put, pool pre-faulted (--reserve_memory), 1st", put(client, src, n), memcpy);
            } finally {
                stop(daemon);
            }
        }
    }

    private static double put(IpcClient client, MemorySegment src, long n) {
        long t0 = System.nanoTime();
        BlobWriter w = client.createBlob(GIB);
        MemorySegment.copy(src, 0, w.segment(), 0, GIB);
        ObjectId id = client.put(Tensor.of(DType.DOUBLE, w, Tensor.Order.C, n));
        double r = gbps(GIB, System.nanoTime() - t0);
        client.delete(id);
        return r;
    }

    private static void row(List<String> rows, String what, double v, double memcpy) {
        rows.add(String.format(Locale.ROOT, "   %-44s %8.2f %11.0f%%", what, v, 100 * v / memcpy));
    }

    // ---- 3. pipelines -----------------------------------------------------------------------------

    private static void pipelines(Path dir, Path diskDir, int rowsN, List<String> rows) throws Exception {
        Path socket = dir.resolve("pipe.sock");
        Process daemon = startDaemon(socket, "--size=4Gi");
        Process peer = startJava(BenchPeer.class.getName());
        PrintWriter toPeer = new PrintWriter(new OutputStreamWriter(peer.getOutputStream(), StandardCharsets.UTF_8), true);
        BufferedReader fromPeer = new BufferedReader(new InputStreamReader(peer.getInputStream(), StandardCharsets.UTF_8));
        try (IpcClient client = IpcClient.connect(socket.toString()); BufferAllocator allocator = new RootAllocator();
             VectorSchemaRoot root = BenchTables.build(allocator, rowsN)) {
            String[] names = {"vineyard (put | get by name)", "Arrow IPC file on /dev/shm", "Parquet file on local disk"};
            double[][] w = new double[3][3];
            double[][] r = new double[3][3];
            for (int rep = 0; rep < 3; rep++) {
                long t0 = System.nanoTime();
                ObjectId id = client.putNamed(ArrowTable.of(root), "bench-table");
                w[0][rep] = ms(System.nanoTime() - t0);
                r[0][rep] = ask(toPeer, fromPeer, "vineyard " + socket + " bench-table");
                client.dropName("bench-table");
                client.delete(id);

                Path ipc = dir.resolve("table.arrow");
                t0 = System.nanoTime();
                try (RandomAccessFile f = new RandomAccessFile(ipc.toFile(), "rw");
                     ArrowFileWriter writer = new ArrowFileWriter(root, null, f.getChannel())) {
                    writer.start();
                    writer.writeBatch();
                    writer.end();
                }
                w[1][rep] = ms(System.nanoTime() - t0);
                r[1][rep] = ask(toPeer, fromPeer, "ipc " + ipc);
                Files.delete(ipc);

                Path pq = diskDir.resolve("pq" + rep);
                t0 = System.nanoTime();
                try (ArrowTableReader reader = new ArrowTableReader(allocator, ArrowTable.of(root))) {
                    DatasetFileWriter.write(allocator, reader, FileFormat.PARQUET, pq.toUri().toString());
                }
                w[2][rep] = ms(System.nanoTime() - t0);
                Path file;
                try (Stream<Path> files = Files.walk(pq)) {
                    file = files.filter(Files::isRegularFile).findFirst()
                            .orElseThrow(() -> new IOException("arrow-dataset wrote no file under " + pq));
                }
                r[2][rep] = ask(toPeer, fromPeer, "parquet " + file.toUri());
                deleteTree(pq);
            }
            rows.add("");
            rows.add(String.format(Locale.ROOT, "3. a %,d-row Arrow table (int64, float64, utf8 with nulls) from one process to another;"
                    + " median of 3, ms; the reader touches every value", rowsN));
            rows.add(String.format(Locale.ROOT, "   %-32s %10s %10s %10s", "path", "write", "read", "total"));
            for (int i = 0; i < 3; i++) {
                double mw = median(w[i]);
                double mr = median(r[i]);
                rows.add(String.format(Locale.ROOT, "   %-32s %10.1f %10.1f %10.1f", names[i], mw, mr, mw + mr));
            }
        } finally {
            toPeer.println("exit");
            peer.waitFor(10, TimeUnit.SECONDS);
            peer.destroyForcibly();
            stop(daemon);
        }
    }

    private static double ask(PrintWriter out, BufferedReader in, String command) throws IOException {
        out.println(command);
        String line;
        while ((line = in.readLine()) != null && !line.startsWith("ok ")) {
            System.err.println("peer: " + line);
        }
        if (line == null) {
            throw new IOException("the reading process died on: " + command);
        }
        return ms(Long.parseLong(line.split(" ")[1]));
    }

    // ---- helpers ----------------------------------------------------------------------------------

    static Process startJava(String mainClass, String... args) throws IOException {
        return startJava(List.of(), mainClass, args);
    }

    /** As {@link #startJava(String, String...)}, the command after {@code prefix} (say {@code taskset -c 1}). */
    static Process startJava(List<String> prefix, String mainClass, String... args) throws IOException {
        List<String> cmd = new ArrayList<>(prefix);
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(Arrays.asList(FLAGS));
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), mainClass));
        cmd.addAll(Arrays.asList(args));
        return new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
    }

    static Process startDaemon(Path socket, String... args) throws IOException {
        return startDaemon(List.of(), socket, args);
    }

    static Process startDaemon(List<String> prefix, Path socket, String... args) throws IOException {
        List<String> a = new ArrayList<>(List.of("--socket=" + socket, "--norpc"));
        a.addAll(Arrays.asList(args));
        Process p = startJava(prefix, "io.vineyard.server.Vineyardd", a.toArray(String[]::new));
        BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        String line;
        while ((line = out.readLine()) != null && !line.startsWith("vineyardd ready")) {
            // startup output
        }
        if (line == null) {
            p.destroyForcibly();
            throw new IOException("vineyardd did not start");
        }
        Thread.ofPlatform().daemon(true).start(() -> {
            try {
                while (out.readLine() != null) {
                    // drain
                }
            } catch (IOException e) {
                // gone
            }
        });
        return p;
    }

    static void stop(Process p) throws InterruptedException {
        p.destroy();
        if (!p.waitFor(10, TimeUnit.SECONDS)) {
            p.destroyForcibly();
        }
    }

    static void deleteTree(Path p) throws IOException {
        if (!Files.exists(p)) {
            return;
        }
        try (Stream<Path> all = Files.walk(p)) {
            Collection<Path> list = all.sorted(java.util.Comparator.reverseOrder()).toList();
            for (Path x : list) {
                Files.deleteIfExists(x);
            }
        }
    }

    private static double gbps(long bytes, long nanos) {
        return bytes / (double) nanos;
    }

    static double ms(long nanos) {
        return nanos / 1e6;
    }

    static double median(double[] v) {
        double[] c = v.clone();
        Arrays.sort(c);
        return c[c.length / 2];
    }

    private static String human(long bytes) {
        if (bytes >= GIB) {
            return bytes / GIB + " GiB";
        }
        if (bytes >= 1 << 20) {
            return (bytes >> 20) + " MiB";
        }
        return (bytes >> 10) + " KiB";
    }
}
