package io.vineyard.engines;

import io.vineyard.arrow.ArrowTable;
import io.vineyard.arrow.PoolAllocator;
import io.vineyard.arrow.TestTables;
import io.vineyard.client.DaemonProcess;
import io.vineyard.client.IpcClient;
import io.vineyard.client.ObjectId;
import io.vineyard.client.types.DataFrame;
import io.vineyard.client.types.Tensor;
import io.vineyard.common.VineyardException;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.BigIntVector;
import org.apache.arrow.vector.Float8Vector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.sql.ResultSet;
import java.sql.Statement;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** DuckDB (JDBC) over vineyard objects: SQL over a table built in the pool, results put back, errors. */
class VineyardDuckDbTest {
    private static final int ROWS = 100_000;
    private static final int GROUPS = 7;
    private DaemonProcess daemon;
    private IpcClient producer;
    private IpcClient consumer;
    private BufferAllocator pool;
    private long baseline;

    @BeforeEach
    void start() throws Exception {
        daemon = DaemonProcess.start("--size=256Mi");
        producer = IpcClient.connect(daemon.socket());
        consumer = IpcClient.connect(daemon.socket());
        pool = PoolAllocator.root(producer);
        baseline = producer.status().memoryUsage();
    }

    @AfterEach
    void stop() throws Exception {
        try {
            pool.close();
            consumer.close();
            producer.close();
        } finally {
            daemon.close();
        }
    }

    /** k = i % 7, v = i * 0.5, name = "n" + i (null every 10th row). */
    private VectorSchemaRoot events() {
        return TestTables.keyValueName(pool, 0, ROWS, GROUPS, 10);
    }

    private static double expectedSum(int group) {
        double s = 0;
        for (int i = group; i < ROWS; i += GROUPS) {
            s += i * 0.5;
        }
        return s;
    }

    @Test
    void groupByOverAVineyardTableIsPutBackAsATable() {
        try (VectorSchemaRoot events = events(); VineyardDuckDb duck = VineyardDuckDb.open(consumer)) {
            ObjectId eventsId = producer.putNamed(events, "events");
            ObjectId sumsId = duck.queryInto("SELECT k, count(*) AS n, count(name) AS named, sum(v) AS s "
                    + "FROM vineyard('events') GROUP BY k ORDER BY k", "sums");
            assertEquals("vineyard::Table", consumer.getMeta(sumsId).typename());
            try (BufferAllocator read = new RootAllocator();
                 ArrowTable sums = producer.get("sums", ArrowTable.class, read)) {
                assertEquals(GROUPS, sums.rowCount());
                VectorSchemaRoot r = sums.batches().getFirst();
                for (int g = 0; g < GROUPS; g++) {
                    assertEquals(g, ((BigIntVector) r.getVector("k")).get(g));
                    long n = (ROWS - g + GROUPS - 1) / GROUPS;
                    assertEquals(n, ((BigIntVector) r.getVector("n")).get(g), "count of group " + g);
                    long nulls = 0;
                    for (int i = g; i < ROWS; i += GROUPS) {
                        nulls += i % 10 == 0 ? 1 : 0;
                    }
                    assertEquals(n - nulls, ((BigIntVector) r.getVector("named")).get(g));
                    assertEquals(expectedSum(g), ((Float8Vector) r.getVector("s")).get(g), 1e-6);
                }
            }
            producer.flushReleases();
            consumer.delete(sumsId);
            consumer.dropName("sums");
            producer.dropName("events");
            producer.delete(eventsId);
        }
        consumer.flushReleases();
        assertEquals(baseline, producer.status().memoryUsage(), "usage back to baseline, DuckDB's holds released");
    }

    @Test
    void aDataFrameIsQueriedThroughItsTensorColumns() {
        long[] k = new long[ROWS];
        double[] v = new double[ROWS];
        for (int i = 0; i < ROWS; i++) {
            k[i] = i % GROUPS;
            v[i] = i * 0.5;
        }
        ObjectId id = producer.putNamed(new DataFrame(List.of("k", "v"), List.of(Tensor.of(k, ROWS), Tensor.of(v, ROWS)), null), "frame");
        try (VineyardDuckDb duck = VineyardDuckDb.open(consumer);
             ArrowTable sums = duck.query("SELECT k, count(*) AS n, sum(v) AS s FROM vineyard('frame') GROUP BY k ORDER BY k")) {
            VectorSchemaRoot r = sums.batches().getFirst();
            assertEquals(GROUPS, r.getRowCount());
            for (int g = 0; g < GROUPS; g++) {
                assertEquals((ROWS - g + GROUPS - 1) / GROUPS, ((BigIntVector) r.getVector("n")).get(g));
                assertEquals(expectedSum(g), ((Float8Vector) r.getVector("s")).get(g), 1e-6);
            }
        }
        producer.dropName("frame");
        producer.delete(id);
        consumer.flushReleases();
        assertEquals(baseline, producer.status().memoryUsage(), "the frame's holds were released with the query");
    }

    @Test
    void duckDbScansThePoolBytesInPlace() {
        try (VectorSchemaRoot events = events(); VineyardDuckDb duck = VineyardDuckDb.open(consumer)) {
            ObjectId id = producer.putNamed(events, "events");
            String sql = "SELECT sum(v) AS s FROM vineyard('events') WHERE k = 0";
            try (ArrowTable before = duck.query(sql)) {
                assertEquals(expectedSum(0), ((Float8Vector) before.batches().getFirst().getVector("s")).get(0), 1e-6);
            }
            // the producer's buffer is the object's blob: a write there (never done outside a test) shows
            // up in DuckDB's next scan, so DuckDB read the pool, not a copy
            ((Float8Vector) events.getVector("v")).set(0, 1_000_000.0);
            try (ArrowTable after = duck.query(sql)) {
                assertEquals(expectedSum(0) + 1_000_000.0, ((Float8Vector) after.batches().getFirst().getVector("s")).get(0), 1e-6);
            }
            producer.dropName("events");
            producer.delete(id);
        }
    }

    @Test
    void aRegisteredViewAndTheConnectionAreUsableDirectly() throws Exception {
        try (VectorSchemaRoot events = events(); VineyardDuckDb duck = VineyardDuckDb.open(consumer)) {
            ObjectId id = producer.putNamed(events, "events");
            duck.registerView("ev", "events");
            try (Statement st = duck.connection().createStatement();
                 ResultSet rs = st.executeQuery("SELECT count(*), max(k) FROM ev")) {
                assertTrue(rs.next());
                assertEquals(ROWS, rs.getLong(1));
                assertEquals(GROUPS - 1, rs.getLong(2));
            }
            producer.dropName("events");
            producer.delete(id);
        }
        consumer.flushReleases();
        assertEquals(baseline, producer.status().memoryUsage());
    }

    @Test
    void badNamesAndBadSqlAreClearErrorsAndHoldNothing() {
        try (VineyardDuckDb duck = VineyardDuckDb.open(consumer)) {
            VineyardException missing = assertThrows(VineyardException.ObjectNotExists.class,
                    () -> duck.query("SELECT * FROM vineyard('no-such-table')"));
            assertTrue(missing.getMessage().contains("no-such-table"), missing.getMessage());
            try (VectorSchemaRoot events = events()) {
                ObjectId id = producer.putNamed(events, "events");
                VineyardException bad = assertThrows(VineyardException.class,
                        () -> duck.query("SELECT no_such_column FROM vineyard('events')"));
                assertTrue(bad.getMessage().contains("no_such_column"), bad.getMessage());
                producer.dropName("events");
                producer.delete(id);
            }
        }
        consumer.flushReleases();
        assertEquals(baseline, producer.status().memoryUsage());
    }
}
