package io.vineyard.bench;

import io.vineyard.arrow.ArrowTable;
import io.vineyard.arrow.PoolAllocator;
import io.vineyard.client.IpcClient;
import io.vineyard.client.ObjectId;
import io.vineyard.engines.VineyardDuckDb;
import org.apache.arrow.c.ArrowArrayStream;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.VectorSchemaRoot;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The Spark rows of {@link PipelineBench}: Spark local[2] in a process of its own
 * ({@code io.vineyard.spark.SparkBenchPeer}, on vineyard-spark's classpath) checksums the pipeline table
 * read through {@code format("vineyard")} (the pool-built table put by this process as a vineyard Table
 * of {@value #BATCHES} RecordBatches, one partition each: one per core of local[2]) and read from a Parquet
 * file on local disk (written by DuckDB with its defaults, from the same table on the heap). {@code write_ms}: making the source (the put / COPY TO parquet), once;
 * {@code load_ms}: to a usable Dataset (schema and plan; Spark scans lazily); {@code read_ms}: to the
 * checksum; {@code total_ms}: write_ms + read_ms. Medians of {@code runs}, after a 200k-row warm-up of
 * both paths.
 */
final class SparkBench {
    /** The JVM flags Spark 4.2 needs on JDK 25 (its launcher's list, as vineyard-spark's pom). */
    private static final List<String> SPARK_FLAGS = List.of("--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow",
            "--add-modules=jdk.incubator.vector", "--add-opens=java.base/java.lang=ALL-UNNAMED", "--add-opens=java.base/java.lang.invoke=ALL-UNNAMED",
            "--add-opens=java.base/java.lang.reflect=ALL-UNNAMED", "--add-opens=java.base/java.io=ALL-UNNAMED", "--add-opens=java.base/java.net=ALL-UNNAMED",
            "--add-opens=java.base/java.nio=ALL-UNNAMED", "--add-opens=java.base/java.util=ALL-UNNAMED", "--add-opens=java.base/java.util.concurrent=ALL-UNNAMED",
            "--add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED", "--add-opens=java.base/jdk.internal.ref=ALL-UNNAMED",
            "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED", "--add-opens=java.base/sun.nio.cs=ALL-UNNAMED",
            "--add-opens=java.base/sun.security.action=ALL-UNNAMED", "--add-opens=java.base/sun.util.calendar=ALL-UNNAMED");

    /** Record batches of the vineyard table: Spark reads one partition per batch. */
    static final int BATCHES = 2;

    private SparkBench() {
    }

    static List<String> run(Path socket, Path diskDir, int[] sizes, int runs, String sparkClasspath) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx3g"));
        cmd.addAll(SPARK_FLAGS);
        cmd.addAll(List.of("-cp", sparkClasspath, "io.vineyard.spark.SparkBenchPeer"));
        List<String> out = new ArrayList<>();
        try (PipelineBench.Peer spark = new PipelineBench.Peer(new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.DISCARD).start());
             IpcClient client = IpcClient.connect(socket.toString()); BufferAllocator pool = PoolAllocator.root(client);
             BufferAllocator heap = new RootAllocator(); VineyardDuckDb duck = VineyardDuckDb.open(client)) {
            measure(spark, client, pool, heap, duck, socket, diskDir, 200_000, 1); // warm-up, not printed
            for (int rows : sizes) {
                out.addAll(measure(spark, client, pool, heap, duck, socket, diskDir, rows, runs));
            }
        }
        return out;
    }

    private static List<String> measure(PipelineBench.Peer spark, IpcClient client, BufferAllocator pool, BufferAllocator heap,
                                        VineyardDuckDb duck, Path socket, Path diskDir, int rows, int runs) throws Exception {
        Path parquet = diskDir.resolve("spark-" + rows + ".parquet");
        List<ArrowArrayStream> streams = new ArrayList<>();
        double[] writes = new double[2];
        double[][][] t = new double[2][2][runs];   // [path][load, read][run]
        String[] checksums = new String[2];
        int half = rows / BATCHES;
        try (VectorSchemaRoot first = PipelineTable.build(pool, 0, half); VectorSchemaRoot second = PipelineTable.build(pool, half, rows - half);
             VectorSchemaRoot local = PipelineTable.build(heap, rows)) {
            ArrowTable inPool = new ArrowTable(first.getSchema(), List.of(first, second));
            DuckDbBench.Sources src = DuckDbBench.sources(client, duck.connection(), heap, inPool, local, "spark-t", "spark_local_t", parquet, streams);
            ObjectId id = src.id();
            writes[0] = src.putMs();
            writes[1] = src.parquetMs();
            String[] commands = {"vineyard " + socket + " spark-t", "parquet " + parquet};
            for (int r = 0; r < runs; r++) {
                for (int p = 0; p < 2; p++) {
                    String[] c = spark.ask(commands[p]).split(" ");
                    long go = Long.parseLong(c[1]);
                    t[p][0][r] = ms(Long.parseLong(c[2]) - go);
                    t[p][1][r] = ms(Long.parseLong(c[3]) - go);
                    checksums[p] = String.join(" ", List.of(c).subList(4, c.length));
                }
            }
            client.dropName("spark-t");
            client.delete(id);
        } finally {
            streams.forEach(ArrowArrayStream::close);
            Files.deleteIfExists(parquet);
        }
        String[] labels = {"spark over format(\"vineyard\"), " + BATCHES + " batches", "spark over Parquet, local disk"};
        List<String> out = new ArrayList<>();
        for (int p = 0; p < 2; p++) {
            double read = SdkBench.median(t[p][1]);
            out.add(String.format(Locale.ROOT, "%-42s %,11d %9.1f %9.2f %9.1f %9.1f  %s", labels[p], rows, writes[p],
                    SdkBench.median(t[p][0]), read, writes[p] + read,
                    checksums[p].equals(checksums[1]) ? checksums[p] : "RESULT DIFFERS: " + checksums[p] + " vs " + checksums[1]));
        }
        return out;
    }

    private static double ms(long nanos) {
        return nanos / 1e6;
    }
}
