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
                    .option("name", "threes").mode("append").save();
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
