package io.vineyard.bench;

import io.vineyard.arrow.ArrowTable;
import io.vineyard.client.IpcClient;
import io.vineyard.client.ObjectId;
import io.vineyard.io.VineyardIO;
import org.apache.arrow.dataset.file.DatasetFileWriter;
import org.apache.arrow.dataset.file.FileFormat;
import org.apache.arrow.dataset.file.FileSystemDatasetFactory;
import org.apache.arrow.dataset.jni.NativeMemoryPool;
import org.apache.arrow.dataset.scanner.ScanOptions;
import org.apache.arrow.dataset.scanner.Scanner;
import org.apache.arrow.dataset.source.Dataset;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.BigIntVector;
import org.apache.arrow.vector.Float8Vector;
import org.apache.arrow.vector.VarCharVector;
import org.apache.arrow.vector.VectorLoader;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.VectorUnloader;
import org.apache.arrow.vector.ipc.ArrowReader;
import org.apache.arrow.vector.ipc.message.ArrowRecordBatch;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Stream;

/**
 * {@code bin/bench-io}: a Parquet file and a CSV file (10M rows of int64, float64 with nulls and utf8 with
 * nulls, about 1 GiB each; made once under {@code target/bench-io/}) read into vineyard with vineyard-io,
 * read by plain Arrow Java (the dataset scanner, batches kept in memory) and by pyarrow, in the same run;
 * then the table written back to Parquet and CSV by each. Median of {@code --trials} (3) per cell, after one
 * untimed warm-up run of each cell (the JIT and the allocators' first pages otherwise land on whichever side
 * runs first). vineyard-io's and plain Arrow's trials of a cell alternate (ours first, then theirs first),
 * and every run starts after a {@code sync} (untimed), writes also with the earlier output removed: a write
 * otherwise pays for the writeback of the file before it (measured on 2026-12-04: Parquet and CSV writes at
 * 1.21x and 1.59x of plain Arrow, wall well above CPU, with each side's runs back to back over its own
 * earlier files; 0.95-1.13x and 0.95-0.97x, wall equal to CPU, alternating from the same disk state).
 * Each cell also gives the CPU time it took (this process plus the daemon, user + system, from
 * /proc), which a loaded machine distorts less than the wall time; the load average is printed before and after.
 *
 * <pre>
 *   bin/bench-io [--rows N] [--text-bytes N] [--trials N] [--warmups N] [--python PATH] [--daemon_flag FLAG]... [--parquet-only]
 * </pre>
 * {@code --warmups N}: untimed runs per cell before the trials (default 1; the daemon's and this JVM's JIT
 * keep compiling the vineyard path for several runs, plain Arrow's decode is native code).
 * {@code --parquet-only}: the Parquet read row alone (vineyard-io and plain Arrow Java), for profiling.
 */
public final class IoBench {
    private IoBench() {
    }

    public static void main(String[] args) throws Exception {
        long rows = 10_000_000;
        int textBytes = 80;
        int trials = 3;
        int warmups = 1;
        boolean parquetOnly = false;
        List<String> daemonFlags = new ArrayList<>(List.of("--size=6Gi"));
        String python = Files.isExecutable(Path.of("target/pyvenv/bin/python")) ? "target/pyvenv/bin/python" : "python3";
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--rows" -> rows = Long.parseLong(args[++i]);
                case "--text-bytes" -> textBytes = Integer.parseInt(args[++i]);
                case "--trials" -> trials = Integer.parseInt(args[++i]);
                case "--warmups" -> warmups = Integer.parseInt(args[++i]);
                case "--python" -> python = args[++i];
                case "--daemon_flag" -> daemonFlags.add(args[++i]);
                case "--parquet-only" -> parquetOnly = true;
                default -> throw new IllegalArgumentException("unknown argument " + args[i]);
            }
        }
        Path dir = Files.createDirectories(Path.of("target/bench-io").toAbsolutePath());
        Path parquet = dir.resolve("data-" + rows + "-" + textBytes + ".parquet");
        Path csv = dir.resolve("data-" + rows + "-" + textBytes + ".csv");
        try (BufferAllocator allocator = new RootAllocator()) {
            if (!Files.exists(parquet) || !Files.exists(csv)) {
                generate(allocator, rows, textBytes, parquet, csv);
            }
            System.out.printf(Locale.ROOT, "vineyard-io benchmark (%d CPUs): %,d rows; Parquet %s, CSV %s (median of %d, after %d warm-up runs per cell)%n",
                    Runtime.getRuntime().availableProcessors(), rows, mib(Files.size(parquet)), mib(Files.size(csv)), trials, warmups);
            Path socket = Files.createTempDirectory("bench-io-").resolve("vineyard.sock");
            Process daemon = SdkBench.startDaemon(socket, daemonFlags.toArray(String[]::new));
            try (IpcClient client = IpcClient.connect(socket.toString())) {
                System.out.println("load average before: " + loadAverage());
                Cell[] v = new Cell[4];
                Cell[] a = new Cell[4];
                long daemonPid = daemon.pid();
                Work settle = IoBench::settle;
                pair(warmups, trials, daemonPid, v, a, 0, () -> readVineyard(client, parquet),
                        () -> readArrow(allocator, parquet, FileFormat.PARQUET), settle);
                if (parquetOnly) {
                    System.out.printf(Locale.ROOT, "read Parquet: vineyard-io %s; plain Arrow Java %s: %.2fx (CPU %.2fx); load average after: %s%n",
                            v[0], a[0], v[0].wallMedian() / a[0].wallMedian(), v[0].cpuMedian() / a[0].cpuMedian(), loadAverage());
                    return;
                }
                pair(warmups, trials, daemonPid, v, a, 1, () -> readVineyard(client, csv),
                        () -> readArrow(allocator, csv, FileFormat.CSV), settle);
                ObjectId table = VineyardIO.read(client, parquet.toString(), Map.of());
                Path out = dir.resolve("out");
                // each write starts from the same disk: no earlier output left, no dirty pages of it in flight
                Work clean = () -> {
                    TableWriter.clean(out);
                    settle();
                };
                List<ArrowRecordBatch> kept = scan(allocator, parquet, FileFormat.PARQUET);
                try (ArrowTable t = client.get(table, ArrowTable.class)) {
                    pair(warmups, trials, daemonPid, v, a, 2,
                            () -> VineyardIO.write(client, table, out.resolve("v.parquet").toString(), Map.of()),
                            () -> writeArrow(allocator, t, kept, out.resolve("a-pq"), FileFormat.PARQUET), clean);
                    pair(warmups, trials, daemonPid, v, a, 3,
                            () -> VineyardIO.write(client, table, out.resolve("v.csv").toString(), Map.of()),
                            () -> writeArrow(allocator, t, kept, out.resolve("a-csv"), FileFormat.CSV), clean);
                } finally {
                    kept.forEach(ArrowRecordBatch::close);
                }
                client.delete(table);
                double[] py = pyarrow(python, parquet, csv, out, trials);
                String[] names = {"read Parquet", "read CSV", "write Parquet", "write CSV"};
                System.out.printf(Locale.ROOT, "%-15s %16s %18s %12s %16s %13s %13s %11s%n", "", "vineyard-io", "plain Arrow Java", "pyarrow",
                        "vineyard/Arrow", "CPU vineyard", "CPU Arrow", "CPU ratio");
                for (int i = 0; i < 4; i++) {
                    double vm = v[i].wallMedian();
                    double am = a[i].wallMedian();
                    System.out.printf(Locale.ROOT, "%-15s %13.0f ms %15.0f ms %9s ms %15.2fx %10.0f ms %10.0f ms %10.2fx%n", names[i], vm, am,
                            py == null ? "-" : String.format(Locale.ROOT, "%.0f", py[i]), vm / am,
                            v[i].cpuMedian(), a[i].cpuMedian(), v[i].cpuMedian() / a[i].cpuMedian());
                }
                System.out.println("load average after: " + loadAverage());
                System.out.println("vineyard-io: into/from the daemon's pool (shareable by every process); plain Arrow Java:"
                        + " the same scanner, batches kept in this JVM; pyarrow: pq.read_table/csv.read_csv and write_table/write_csv");
            } finally {
                SdkBench.stop(daemon);
                TableWriter.clean(dir.resolve("out"));
            }
        }
    }

    @FunctionalInterface
    interface Work {
        void run() throws Exception;
    }

    /** One cell's trials: wall and CPU milliseconds (this process plus the daemon). */
    record Cell(double[] wall, double[] cpu) {
        double wallMedian() {
            return SdkBench.median(wall);
        }

        double cpuMedian() {
            return SdkBench.median(cpu);
        }

        @Override
        public String toString() {
            return String.format(Locale.ROOT, "%.0f ms %s, CPU %.0f ms", wallMedian(), Arrays.toString(
                    Arrays.stream(wall).mapToLong(Math::round).toArray()), cpuMedian());
        }
    }

    /**
     * vineyard-io's and plain Arrow's runs of one cell, interleaved (the order alternating from trial to
     * trial), so that neither side is always the one that runs after the other's page cache, dirty pages
     * or JIT work; {@code before} (untimed) runs before every run, warm-ups included. Sets {@code v[i]}, {@code a[i]}.
     */
    static void pair(int warmups, int trials, long daemonPid, Cell[] v, Cell[] a, int i, Work ours, Work plain, Work before)
            throws Exception {
        for (int w = 0; w < warmups; w++) {
            before.run();
            ours.run();
            before.run();
            plain.run();
        }
        double[][] vt = new double[2][trials];
        double[][] at = new double[2][trials];
        for (int t = 0; t < trials; t++) {
            boolean oursFirst = t % 2 == 0;
            run(daemonPid, oursFirst ? ours : plain, before, oursFirst ? vt : at, t);
            run(daemonPid, oursFirst ? plain : ours, before, oursFirst ? at : vt, t);
        }
        v[i] = new Cell(vt[0], vt[1]);
        a[i] = new Cell(at[0], at[1]);
    }

    private static void run(long daemonPid, Work w, Work before, double[][] into, int t) throws Exception {
        before.run();
        System.gc();
        long c0 = cpuMillis(ProcessHandle.current().pid()) + cpuMillis(daemonPid);
        long t0 = System.nanoTime();
        w.run();
        into[0][t] = SdkBench.ms(System.nanoTime() - t0);
        into[1][t] = cpuMillis(ProcessHandle.current().pid()) + cpuMillis(daemonPid) - c0;
    }

    /** Writes every dirty page back ({@code sync}, untimed), so that no run pays for the one before. */
    static void settle() throws Exception {
        Process p = new ProcessBuilder("sync").inheritIO().start();
        if (p.waitFor() != 0) {
            throw new IOException("sync exited with " + p.exitValue());
        }
    }

    /** User + system CPU time of process {@code pid} so far, from /proc/PID/stat (clock ticks of 10 ms). */
    static long cpuMillis(long pid) throws IOException {
        String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return (Long.parseLong(f[11]) + Long.parseLong(f[12])) * 10;
    }

    static String loadAverage() throws IOException {
        return String.join(" ", Arrays.copyOf(Files.readString(Path.of("/proc/loadavg")).split(" "), 3));
    }

    private static void readVineyard(IpcClient client, Path file) {
        ObjectId id = VineyardIO.read(client, file.toString(), Map.of());
        client.delete(id);
    }

    private static void readArrow(BufferAllocator allocator, Path file, FileFormat format) throws Exception {
        scan(allocator, file, format).forEach(ArrowRecordBatch::close);
    }

    /** Plain Arrow Java: the dataset scanner over the file, every batch kept (as a reader that holds the data would). */
    static List<ArrowRecordBatch> scan(BufferAllocator allocator, Path file, FileFormat format) throws Exception {
        List<ArrowRecordBatch> kept = new ArrayList<>();
        try (FileSystemDatasetFactory f = new FileSystemDatasetFactory(allocator, NativeMemoryPool.getDefault(), format, file.toUri().toString());
             Dataset d = f.finish();
             Scanner s = d.newScan(new ScanOptions(1 << 20));
             ArrowReader r = s.scanBatches()) {
            while (r.loadNextBatch()) {
                kept.add(new VectorUnloader(r.getVectorSchemaRoot()).getRecordBatch());
            }
        }
        return kept;
    }

    private static void writeArrow(BufferAllocator allocator, ArrowTable shape, List<ArrowRecordBatch> batches, Path dir,
                                   FileFormat format) throws Exception {
        TableWriter.clean(dir);
        try (ArrowReader reader = new ArrowReader(allocator) {
            private int next;

            @Override
            public boolean loadNextBatch() throws IOException {
                if (next >= batches.size()) {
                    return false;
                }
                new VectorLoader(getVectorSchemaRoot()).load(batches.get(next++));
                return true;
            }

            @Override
            public long bytesRead() {
                return 0;
            }

            @Override
            protected void closeReadSource() {
            }

            @Override
            protected org.apache.arrow.vector.types.pojo.Schema readSchema() {
                return shape.schema();
            }
        }) {
            DatasetFileWriter.write(allocator, reader, format, dir.toUri().toString(), new String[0], 1, "part-{i}");
        }
    }

    private static double[] pyarrow(String python, Path parquet, Path csv, Path out, int trials) throws Exception {
        String script = String.join("\n",
                "import os, sys, time, statistics",
                "import pyarrow.parquet as pq, pyarrow.csv as pc",
                "pqf, csvf, out, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])",
                "def t(f, target=None):",
                "    r = []",
                "    for _ in range(n):",
                "        if target is not None and os.path.exists(target): os.remove(target)",
                "        os.sync()",   // as the Java cells: no earlier output, no dirty pages in flight
                "        t0 = time.perf_counter(); f(); r.append((time.perf_counter() - t0) * 1000)",
                "    return statistics.median(r)",
                "a = t(lambda: pq.read_table(pqf)); b = t(lambda: pc.read_csv(csvf))",
                "table = pq.read_table(pqf)",
                "c = t(lambda: pq.write_table(table, out + '/p.parquet'), out + '/p.parquet')",
                "d = t(lambda: pc.write_csv(table, out + '/p.csv'), out + '/p.csv')",
                "print(a, b, c, d)");
        Files.createDirectories(out);
        Process p;
        try {
            p = new ProcessBuilder(python, "-c", script, parquet.toString(), csv.toString(), out.toString(), Integer.toString(trials))
                    .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        } catch (IOException e) {
            System.out.println("pyarrow: cannot run " + python + " (" + e.getMessage() + "); no pyarrow column");
            return null;
        }
        String line = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        if (p.waitFor() != 0 || line.isEmpty()) {
            System.out.println("pyarrow: " + python + " printed no figures (does it import pyarrow?)");
            return null;
        }
        String[] f = line.split("\\s+");
        double[] ms = new double[4];
        for (int i = 0; i < 4; i++) {
            ms[i] = Double.parseDouble(f[i]);
        }
        return ms;
    }

    /** 10M rows as 1M-row batches: id int64, value float64 (every 10th null), text utf8 of textBytes (every 10th null). */
    private static void generate(BufferAllocator allocator, long rows, int textBytes, Path parquet, Path csv) throws Exception {
        System.out.printf(Locale.ROOT, "generating %,d rows into %s and %s ...%n", rows, parquet.getFileName(), csv.getFileName());
        int batch = 1 << 20;
        SplittableRandom rnd = new SplittableRandom(42);
        List<ArrowRecordBatch> batches = new ArrayList<>();
        org.apache.arrow.vector.types.pojo.Schema schema = null;
        byte[] text = new byte[textBytes];
        byte[] hex = "0123456789abcdef".getBytes(StandardCharsets.US_ASCII);
        for (long start = 0; start < rows; start += batch) {
            int n = (int) Math.min(batch, rows - start);
            BigIntVector id = new BigIntVector("id", allocator);
            Float8Vector value = new Float8Vector("value", allocator);
            VarCharVector t = new VarCharVector("text", allocator);
            id.allocateNew(n);
            value.allocateNew(n);
            t.allocateNew((long) n * textBytes, n);
            for (int i = 0; i < n; i++) {
                id.set(i, start + i);
                if (i % 10 == 7) {
                    value.setNull(i);
                } else {
                    value.set(i, rnd.nextDouble() * 1000);
                }
                if (i % 10 == 3) {
                    t.setNull(i);
                } else {
                    for (int k = 0; k < textBytes; k++) {
                        text[k] = hex[rnd.nextInt(16)];
                    }
                    t.setSafe(i, text);
                }
            }
            try (VectorSchemaRoot root = new VectorSchemaRoot(List.of(id, value, t))) {
                root.setRowCount(n);
                schema = root.getSchema();
                batches.add(new VectorUnloader(root).getRecordBatch());
            }
        }
        try (VectorSchemaRoot shape = VectorSchemaRoot.create(schema, allocator); ArrowTable empty = ArrowTable.of(shape)) {
            Path tmp = parquet.resolveSibling("gen");
            for (FileFormat format : List.of(FileFormat.PARQUET, FileFormat.CSV)) {
                TableWriter.clean(tmp);
                writeArrow(allocator, empty, batches, tmp, format);
                try (Stream<Path> s = Files.list(tmp)) {
                    Files.move(s.findFirst().orElseThrow(), format == FileFormat.PARQUET ? parquet : csv);
                }
            }
            TableWriter.clean(tmp);
        } finally {
            batches.forEach(ArrowRecordBatch::close);
        }
    }

    private static String mib(long bytes) {
        return String.format(Locale.ROOT, "%.0f MiB", bytes / 1048576.0);
    }

    /** Removes a directory tree (the benchmark's scratch space). */
    static final class TableWriter {
        private TableWriter() {
        }

        static void clean(Path dir) throws IOException {
            if (!Files.exists(dir)) {
                return;
            }
            try (Stream<Path> s = Files.walk(dir)) {
                for (Path p : s.sorted(java.util.Comparator.reverseOrder()).toList()) {
                    Files.delete(p);
                }
            }
        }
    }
}
