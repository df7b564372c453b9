package io.vineyard.spark;

import io.vineyard.arrow.ArrowTable;
import io.vineyard.arrow.PoolAllocator;
import io.vineyard.arrow.TestTables;
import io.vineyard.client.DaemonProcess;
import io.vineyard.client.IpcClient;
import io.vineyard.client.ObjectId;
import io.vineyard.client.meta.ObjectMeta;
import io.vineyard.client.types.DataFrame;
import io.vineyard.client.types.GlobalDataFrame;
import io.vineyard.client.types.Tensor;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.BigIntVector;
import org.apache.arrow.vector.Float8Vector;
import org.apache.arrow.vector.UInt4Vector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.catalyst.expressions.GenericInternalRow;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Spark local[2] over format("vineyard"): columnar reads with pruning, writes back, clear errors. */
class VineyardSourceTest {
    private static final int ROWS = 10_000;
    private static DaemonProcess daemon;
    private static SparkSession spark;
    private static IpcClient client;

    @BeforeAll
    static void start() throws Exception {
        daemon = DaemonProcess.start("--size=256Mi");
        client = IpcClient.connect(daemon.socket());
        spark = SparkSession.builder().master("local[2]").appName("vineyard-source-test")
                .config("spark.ui.enabled", "false").config("spark.sql.shuffle.partitions", "2").getOrCreate();
    }

    @AfterAll
    static void stop() {
        try {
            spark.stop();
            client.close();
        } finally {
            daemon.close();
        }
    }

    private static VectorSchemaRoot batch(BufferAllocator allocator, int first) {
        return TestTables.keyValueName(allocator, first, ROWS, 5, 0);
    }

    private Dataset<Row> read(String name) {
        return spark.read().format("vineyard").option("socket", daemon.socket()).option("name", name).load();
    }

    @Test
    void readsEveryBatchAsColumnarPartitionsAndWritesATableBack() {
        try (BufferAllocator pool = PoolAllocator.root(client);
             VectorSchemaRoot b0 = batch(pool, 0); VectorSchemaRoot b1 = batch(pool, ROWS)) {
            ObjectId id = client.putNamed(new ArrowTable(b0.getSchema(), List.of(b0, b1)), "events");
            Dataset<Row> events = read("events");
            assertEquals(2, events.rdd().getNumPartitions(), "one partition per record batch");
            Dataset<Row> pruned = events.select("k", "v");
            String plan = pruned.queryExecution().executedPlan().toString();
            assertTrue(plan.contains("BatchScan") && !plan.contains("name#"), "only k and v are read, not name: " + plan);
            List<Row> sums = pruned.groupBy("k").sum("v").orderBy("k").collectAsList();
            assertEquals(5, sums.size());
            for (int g = 0; g < 5; g++) {
                double expected = 0;
                for (int i = g; i < 2 * ROWS; i += 5) {
                    expected += i * 0.5;
                }
                assertEquals(g, sums.get(g).getLong(0));
                assertEquals(expected, sums.get(g).getDouble(1), 1e-6);
            }
            assertEquals("n19999", events.orderBy(events.col("v").desc()).first().getString(2));

            events.filter("k = 3").write().format("vineyard").option("socket", daemon.socket())
                    .option("name", "threes").option("layout", "table").mode("append").save();
            ObjectMeta threes = client.getMeta(client.getName("threes"));
            assertEquals("vineyard::Table", threes.typename());
            assertEquals(2 * ROWS / 5, threes.getLong("num_rows_"));
            try (BufferAllocator read = new RootAllocator(); ArrowTable t = client.get("threes", ArrowTable.class, read)) {
                List<Long> keys = new ArrayList<>();
                double total = 0;
                for (VectorSchemaRoot r : t.batches()) {
                    for (int i = 0; i < r.getRowCount(); i++) {
                        keys.add(((BigIntVector) r.getVector("k")).get(i));
                        total += ((Float8Vector) r.getVector("v")).get(i);
                    }
                }
                assertTrue(keys.stream().allMatch(k -> k == 3));
                assertEquals(sums.get(3).getDouble(1), total, 1e-6);
            }
            assertEquals(2 * ROWS / 5, read("threes").count(), "the written table reads back through the source");
            client.delete(id);
        }
    }

    /** 3 partitions of (k long, v double, i int, f float); v = 0.5 * row. */
    private Dataset<Row> numbers() {
        return spark.range(0, 3L * ROWS, 1, 3).selectExpr("id % 7 AS k", "CAST(id AS DOUBLE) * 0.5 AS v", "CAST(id AS INT) AS i", "CAST(id AS FLOAT) AS f");
    }

    private void write(Dataset<Row> df, String name) {
        df.write().format("vineyard").option("socket", daemon.socket()).option("name", name).mode("append").save();
    }

    @Test
    void writesAGlobalDataFrameOfOneDataFramePerPartitionReadableBySdkAndSource() {
        long baseline = daemon.memoryUsage();
        write(numbers(), "numbers");
        ObjectMeta m = client.getMeta(client.getName("numbers"));
        assertEquals("vineyard::GlobalDataFrame", m.typename());
        assertTrue(m.isGlobal(), "a global object");
        GlobalDataFrame g = client.get(m.id(), GlobalDataFrame.class);
        assertEquals(3, g.partitions().size(), "one chunk per partition");
        assertEquals(3, g.partitionShapeRow());
        double total = 0;
        long rows = 0;
        for (int i = 0; i < g.partitions().size(); i++) {
            ObjectId p = g.partitions().get(i);
            ObjectMeta pm = client.getMeta(p);
            assertEquals("vineyard::DataFrame", pm.typename());
            assertEquals(i, pm.getLong("partition_index_row_", -1), "each chunk knows its place");
            assertTrue(!pm.isTransient(), "each chunk is persisted");
            try (DataFrame f = client.get(p, DataFrame.class)) {
                assertEquals(List.of("k", "v", "i", "f"), f.columnNames());
                assertTrue(f.column("v").blob().size() >= f.rowCount() * 8 + (f.rowCount() + 7) / 8,
                        "the column's blob is the Arrow vector's own allocation (data, then its validity bitmap), sealed in place: "
                                + f.column("v").blob().size() + " bytes for " + f.rowCount() + " rows");
                assertEquals("INT64 DOUBLE INT32 FLOAT", f.columns().stream().map(t -> t.dtype().name()).reduce((a, b) -> a + " " + b).orElseThrow());
                for (long r = 0; r < f.rowCount(); r++) {
                    double v = f.column("v").data().getAtIndex(java.lang.foreign.ValueLayout.JAVA_DOUBLE, r);
                    assertEquals(v * 2, f.column("i").data().getAtIndex(java.lang.foreign.ValueLayout.JAVA_INT, r), "v and i of one row");
                    total += v;
                }
                rows += f.rowCount();
            }
        }
        assertEquals(3L * ROWS, rows);
        double expected = 0.5 * (3.0 * ROWS - 1) * (3.0 * ROWS) / 2;
        assertEquals(expected, total, 1e-6);

        Dataset<Row> back = read("numbers");
        assertEquals(3, back.rdd().getNumPartitions(), "our reader: one partition per chunk");
        assertEquals(expected, back.agg(org.apache.spark.sql.functions.sum("v")).first().getDouble(0), 1e-6);
        assertEquals(numbers().filter("k = 4").count(), back.filter("k = 4").count());

        client.dropName("numbers");
        client.delete(m.id());
        assertEquals(baseline, daemon.memoryUsage(), "deleting the global frame frees every chunk's blobs");
    }

    @Test
    void emptyPartitionsBecomeEmptyChunks() {
        write(numbers().filter("i < 5"), "firsts");   // rows 0-4 are all in the first of the 3 partitions
        GlobalDataFrame g = client.get(client.getName("firsts"), GlobalDataFrame.class);
        assertEquals(3, g.partitions().size(), "still one chunk per partition");
        List<Long> rows = new ArrayList<>();
        for (ObjectId p : g.partitions()) {
            try (DataFrame f = client.get(p, DataFrame.class)) {
                rows.add(f.rowCount());
            }
        }
        assertEquals(List.of(5L, 0L, 0L), rows);
        assertEquals(10L, read("firsts").agg(org.apache.spark.sql.functions.sum("i")).first().getLong(0));
        ObjectId id = client.getName("firsts");
        client.dropName("firsts");
        client.delete(id);
    }

    @Test
    void theDocsExampleWritesAndReadsAGlobalDataFrame() {
        long baseline = daemon.memoryUsage();
        String SOCKET = daemon.socket();
        // ---- docs/engines.md, Spark ----
        Dataset<Row> numbers = spark.range(0, 1000, 1, 2).selectExpr("id % 10 AS k", "CAST(id AS DOUBLE) * 0.5 AS v");
        numbers.write().format("vineyard").option("socket", SOCKET).option("name", "numbers")
                .mode("append").save();   // a vineyard::GlobalDataFrame of 2 DataFrames (one per partition)
        GlobalDataFrame global = client.get(client.getName("numbers"), GlobalDataFrame.class);   // 2 partitions
        Dataset<Row> back = spark.read().format("vineyard").option("socket", SOCKET).option("name", "numbers").load();
        double total = back.agg(org.apache.spark.sql.functions.sum("v")).first().getDouble(0);   // 249750.0
        // ---- end ----
        assertEquals(2, global.partitions().size());
        assertEquals(249750.0, total, 1e-9);
        ObjectId id = client.getName("numbers");
        client.dropName("numbers");
        client.delete(id);
        assertEquals(baseline, daemon.memoryUsage());
    }

    @Test
    void theGlobalDataFrameReadsInPythonAsPandasChunks() throws Exception {
        java.nio.file.Path root = java.nio.file.Path.of(System.getProperty("user.dir")).getParent();
        java.nio.file.Path python = root.resolve("target/pyvenv/bin/python");
        org.junit.jupiter.api.Assumptions.assumeTrue(java.nio.file.Files.isExecutable(python),
                "no Python venv with pandas (bash python/install-deps.sh makes target/pyvenv)");
        write(numbers(), "numbers-py");
        ProcessBuilder pb = new ProcessBuilder(python.toString(), "-c", """
                import sys, vineyard_java
                c = vineyard_java.connect(sys.argv[1])
                g = c.get(name=sys.argv[2])
                frames = g.local_chunks()
                print(g.typename, len(g.chunks), sum(len(f) for f in frames), "%.1f" % sum(float(f["v"].sum()) for f in frames), list(frames[0].columns))
                """, daemon.socket(), "numbers-py").redirectErrorStream(true);
        pb.environment().put("PYTHONPATH", root.resolve("python").toString());
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8).trim();
        assertEquals(0, p.waitFor(), out);
        double expected = 0.5 * (3.0 * ROWS - 1) * (3.0 * ROWS) / 2;
        assertEquals("vineyard::GlobalDataFrame 3 " + 3 * ROWS + " " + String.format(java.util.Locale.ROOT, "%.1f", expected) + " ['k', 'v', 'i', 'f']", out);
        ObjectId id = client.getName("numbers-py");
        client.dropName("numbers-py");
        client.delete(id);
    }

    @Test
    void aDataFrameWriteRefusesStringsAndNullsWithTheWayOut() {
        long baseline = daemon.memoryUsage();
        Exception strings = assertThrows(Exception.class, () -> write(spark.range(10).selectExpr("id", "CAST(id AS STRING) AS s"), "strings"));
        assertTrue(strings.getMessage().contains("column 's' is Utf8") && strings.getMessage().contains("option(\"layout\", \"table\")"),
                strings.getMessage());
        Exception nulls = assertThrows(Exception.class,
                () -> write(spark.range(0, 100, 1, 2).selectExpr("IF(id = 70, NULL, id) AS n"), "nulls"));
        assertTrue(String.valueOf(rootCause(nulls).getMessage()).contains("column 'n' holds 1 nulls"), String.valueOf(rootCause(nulls)));
        Exception layout = assertThrows(Exception.class, () -> spark.range(3).write().format("vineyard").option("socket", daemon.socket())
                .option("name", "x").option("layout", "parquet").mode("append").save());
        assertTrue(layout.getMessage().contains("option layout must be dataframe or table, not 'parquet'"), layout.getMessage());
        assertThrows(Exception.class, () -> client.getName("nulls"), "an aborted job names nothing");
        // the other task may still be finishing when the job has failed: it deletes its chunk itself
        long deadline = System.nanoTime() + 20_000_000_000L;
        while (daemon.memoryUsage() != baseline && System.nanoTime() < deadline) {
            Thread.onSpinWait();
        }
        assertEquals(baseline, daemon.memoryUsage(), "and leaves nothing: the failed task's vectors and the other task's chunk are gone");
    }

    @Test
    void aTaskCommittingAfterTheAbortDeletesItsOwnChunk() throws Exception {
        long baseline = daemon.memoryUsage();
        StructType schema = new StructType().add("k", org.apache.spark.sql.types.DataTypes.LongType, false);
        VineyardWrite write = new VineyardWrite(daemon.socket(), "late", schema, VineyardWrite.Layout.DATAFRAME);
        var writers = write.createBatchWriterFactory(() -> 2);
        var early = writers.createWriter(0, 0);
        var late = writers.createWriter(1, 1);
        try {
            early.write(new GenericInternalRow(new Object[] {1L}));
            var committed = early.commit();
            late.write(new GenericInternalRow(new Object[] {2L}));
            write.abort(new org.apache.spark.sql.connector.write.WriterCommitMessage[] {committed, null}); // Spark does not wait for the late task
            Exception aborted = assertThrows(io.vineyard.common.VineyardException.class, late::commit);
            assertTrue(aborted.getMessage().contains("the write of 'late' was aborted"), aborted.getMessage());
        } finally {
            early.close();
            late.close();
        }
        assertThrows(Exception.class, () -> client.getName("late"));
        assertEquals(baseline, daemon.memoryUsage(), "the abort deleted the early chunk, the late task its own");
    }

    private static Throwable rootCause(Throwable t) {
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        return t;
    }

    @Test
    void readsEveryChunkOfAGlobalDataFrame() {
        List<ObjectId> chunks = new ArrayList<>();
        for (int c = 0; c < 2; c++) {
            long[] k = new long[ROWS];
            double[] v = new double[ROWS];
            for (int i = 0; i < ROWS; i++) {
                k[i] = c;
                v[i] = (c * ROWS + i) * 0.5;
            }
            ObjectId id = client.put(new DataFrame(List.of("k", "v"), List.of(Tensor.of(k, ROWS), Tensor.of(v, ROWS)), null));
            client.persist(id);
            chunks.add(id);
        }
        ObjectId global = client.putNamed(new GlobalDataFrame(2, 1, chunks), "frames");
        Dataset<Row> frames = read("frames");
        assertEquals(2, frames.rdd().getNumPartitions(), "one partition per chunk");
        List<Row> sums = frames.groupBy("k").sum("v").orderBy("k").collectAsList();
        double all = (2.0 * ROWS - 1) * 2 * ROWS / 2 * 0.5;
        assertEquals(all, sums.get(0).getDouble(1) + sums.get(1).getDouble(1), 1e-6);
        assertEquals(1L, sums.get(1).getLong(0));
        client.dropName("frames");
        client.delete(global);
        chunks.forEach(client::delete);
    }

    @Test
    void aGlobalDataFrameAcrossTwoInstancesPrefersEachChunksHostAndRefusesRemoteChunksClearly() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(io.vineyard.client.cluster.EtcdProcess.available(), "etcd-server is not installed");
        String prefix = "spark-" + java.util.UUID.randomUUID().toString().substring(0, 8);
        try (io.vineyard.client.cluster.EtcdProcess etcd = io.vineyard.client.cluster.EtcdProcess.start();
             DaemonProcess a = DaemonProcess.start("--meta=etcd", "--etcd_endpoint=" + etcd.endpoint(), "--etcd_prefix=" + prefix, "--size=64Mi");
             DaemonProcess b = DaemonProcess.start("--meta=etcd", "--etcd_endpoint=" + etcd.endpoint(), "--etcd_prefix=" + prefix, "--size=64Mi");
             IpcClient ca = IpcClient.connect(a.socket()); IpcClient cb = IpcClient.connect(b.socket())) {
            ObjectId onA = ca.put(new DataFrame(List.of("x"), List.of(Tensor.of(new double[] {1, 2, 3}, 3)), null), io.vineyard.client.PutOptions.persistent());
            ObjectId onB = cb.put(new DataFrame(List.of("x"), List.of(Tensor.of(new double[] {4, 5}, 2)), null), io.vineyard.client.PutOptions.persistent());
            ca.getMeta(onB, true); // A's replica has B's chunk (persist returns after etcd has it; sync_remote applies it)
            ca.putNamed(new GlobalDataFrame(2, 1, List.of(onA, onB)), "spread");
            ca.putNamed(new GlobalDataFrame(1, 1, List.of(onB)), "elsewhere");

            VineyardScan scan = new VineyardScan(a.socket(), "spread", VineyardSource.toSpark(
                    VineyardTableRef.resolve(ca, "spread").schema()), false);
            org.apache.spark.sql.connector.read.InputPartition[] parts = scan.planInputPartitions();
            assertEquals(2, parts.length);
            for (int i = 0; i < 2; i++) {
                long instance = i == 0 ? ca.instanceId() : cb.instanceId();
                assertEquals(ca.clusterMeta().path("i" + instance).path("hostname").asText(), parts[i].preferredLocations()[0],
                        "chunk " + i + " prefers the host of instance " + instance);
            }
            Exception remote = assertThrows(Exception.class, () -> spark.read().format("vineyard").option("socket", a.socket())
                    .option("name", "spread").load().count());
            assertTrue(String.valueOf(rootCause(remote).getMessage()).contains("chunk " + onB + " of 'spread' is on instance " + cb.instanceId()),
                    String.valueOf(rootCause(remote)));
            Exception noLocal = assertThrows(Exception.class, () -> spark.read().format("vineyard").option("socket", a.socket())
                    .option("name", "elsewhere").load());
            assertTrue(String.valueOf(rootCause(noLocal).getMessage()).contains("no chunk of 'elsewhere' is on this daemon"), String.valueOf(rootCause(noLocal)));

            // fetch=true: the task migrates B's chunk to A, reads it and deletes the copy
            long before = a.memoryUsage();
            for (String[] c : new String[][] {{"spread", "15.0 5"}, {"elsewhere", "9.0 2"}}) {
                Row r = spark.read().format("vineyard").option("socket", a.socket()).option("name", c[0]).option("fetch", "true").load()
                        .agg(org.apache.spark.sql.functions.sum("x"), org.apache.spark.sql.functions.count("x")).first();
                assertEquals(c[1], r.getDouble(0) + " " + r.getLong(1), c[0]);
            }
            assertEquals(before, a.memoryUsage(), "the fetched copies are deleted after the read");
        }
    }

    @Test
    void aMissingNameAndAnUnmappableSchemaAreClearErrors() {
        Exception missing = assertThrows(Exception.class, () -> read("no-such-object").count());
        assertTrue(String.valueOf(missing.getMessage()).contains("no-such-object"), missing.getMessage());
        try (BufferAllocator heap = new RootAllocator(); UInt4Vector u = new UInt4Vector("u", heap)) {
            u.allocateNew(3);
            u.setValueCount(3);
            ObjectId id = client.putNamed(new VectorSchemaRoot(List.of(u)), "unsigned");
            Exception unmappable = assertThrows(Exception.class, () -> read("unsigned").count());
            assertTrue(unmappable.getMessage().contains("spark cannot map"), unmappable.getMessage());
            client.dropName("unsigned");
            client.delete(id);
        }
    }
}
