package io.vineyard.engines;

import io.vineyard.arrow.ArrowTable;
import io.vineyard.arrow.PoolAllocator;
import io.vineyard.arrow.TestTables;
import io.vineyard.client.DaemonProcess;
import io.vineyard.client.BlobWriter;
import io.vineyard.client.IpcClient;
import io.vineyard.client.ObjectId;
import io.vineyard.client.meta.ObjectMeta;
import io.vineyard.client.types.DataFrame;
import io.vineyard.client.types.Tensor;
import io.vineyard.common.VineyardException;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.BigIntVector;
import org.apache.arrow.vector.Float8Vector;
import org.apache.arrow.vector.LargeVarCharVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
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
    /** One daemon for the class; each test has its own clients and allocators, checked after it. */
    private static DaemonProcess daemon;
    private IpcClient producer;
    private IpcClient consumer;
    private BufferAllocator pool;
    private long baseline;

    @BeforeAll
    static void startDaemon() throws Exception {
        daemon = DaemonProcess.start("--size=256Mi");
    }

    @AfterAll
    static void stopDaemon() {
        daemon.close();
    }

    @BeforeEach
    void start() throws Exception {
        producer = IpcClient.connect(daemon.socket());
        consumer = IpcClient.connect(daemon.socket());
        pool = PoolAllocator.root(producer);
        baseline = producer.status().memoryUsage();
    }

    @AfterEach
    void stop() throws Exception {
        pool.close();
        consumer.close();
        producer.close();
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

    /** A tensor column as pandas' writers lay it out, its bytes in a blob of {@code producer}'s. */
    private ObjectMeta tensorColumn(String element, String numpy, long rows, byte[] bytes) {
        BlobWriter w = producer.createBlob(bytes.length);
        w.segment().copyFrom(MemorySegment.ofArray(bytes));
        ObjectMeta t = new ObjectMeta("vineyard::Tensor<" + element + ">");
        t.put("value_type_", element.replace("_t", ""));
        t.put("value_type_meta_", numpy);
        t.putJson("shape_", new long[] {rows});
        t.putJson("partition_index_", new long[0]);
        t.putJson("order_", "C");
        t.setNbytes(bytes.length);
        t.addBlob("buffer_", w.seal().id(), bytes.length);
        return t;
    }

    /**
     * A pandas DataFrame with an object column of str and None, a bool and an int8 column, in the layout
     * that vineyard's Python client and vineyard_java write for it (types/dataframe.py and tensor.py): a
     * str column is a {@code Tensor<std::string>} whose {@code buffer_} is a
     * {@code vineyard::BaseBinaryArray<arrow::LargeStringArray>}.
     */
    private ObjectId pandasFrame(String[] names, boolean[] flags, byte[] small) {
        int rows = names.length;
        ObjectId strings;
        try (LargeVarCharVector text = new LargeVarCharVector("name", pool)) {
            text.allocateNew(rows);
            for (int i = 0; i < rows; i++) {
                if (names[i] != null) {
                    text.setSafe(i, names[i].getBytes(StandardCharsets.UTF_8));
                }
            }
            text.setValueCount(rows);
            strings = producer.put(text);
        }
        ObjectMeta str = new ObjectMeta("vineyard::Tensor<std::string>");
        str.put("value_type_", "string");
        str.put("value_type_meta_", "|O");
        str.putJson("shape_", new long[] {rows});
        str.putJson("partition_index_", new long[0]);
        str.putJson("order_", "C");
        str.addMember("buffer_", strings);
        byte[] flagBytes = new byte[rows];
        for (int i = 0; i < rows; i++) {
            flagBytes[i] = (byte) (flags[i] ? 1 : 0);
        }
        ObjectMeta df = new ObjectMeta("vineyard::DataFrame");
        df.put("columns_", "[\"name\",\"flag\",\"small\"]");
        List<ObjectMeta> values = List.of(str, tensorColumn("bool", "|b1", rows, flagBytes), tensorColumn("int8_t", "|i1", rows, small));
        List<String> keys = List.of("name", "flag", "small");
        for (int i = 0; i < 3; i++) {
            df.put("__values_-key-" + i, "\"" + keys.get(i) + "\"");
            df.addMember("__values_-value-" + i, values.get(i));
        }
        df.put("__values_-size", 3L);
        df.put("partition_index_row_", 0L);
        df.put("partition_index_column_", 0L);
        df.put("row_batch_index_", 0L);
        return producer.putMeta(df, true, "pandas").id();
    }

    @Test
    void aPandasFrameWithStringBoolAndInt8ColumnsIsQueriedInPlace() {
        int rows = 10_000;
        String[] names = new String[rows];
        boolean[] flags = new boolean[rows];
        byte[] small = new byte[rows];
        for (int i = 0; i < rows; i++) {
            names[i] = i % 10 == 3 ? null : "n" + (i % 5);
            flags[i] = i % 3 == 0;
            small[i] = (byte) (i % 100 - 50);
        }
        ObjectId id = pandasFrame(names, flags, small);
        String sql = "SELECT name, count(*) AS n, sum(small) AS s, count(*) FILTER (WHERE flag) AS f"
                + " FROM vineyard('pandas') GROUP BY name ORDER BY name NULLS LAST";
        try (VineyardDuckDb duck = VineyardDuckDb.open(consumer); ArrowTable got = duck.query(sql)) {
            VectorSchemaRoot r = got.batches().getFirst();
            // the reference, computed here from the same arrays
            java.util.TreeMap<String, long[]> expect = new java.util.TreeMap<>(java.util.Comparator.nullsLast(java.util.Comparator.naturalOrder()));
            for (int i = 0; i < rows; i++) {
                long[] e = expect.computeIfAbsent(names[i], k -> new long[3]);
                e[0]++;
                e[1] += small[i];
                e[2] += flags[i] ? 1 : 0;
            }
            assertEquals(expect.size(), r.getRowCount());
            int row = 0;
            for (var e : expect.entrySet()) {
                Object name = r.getVector("name").getObject(row);
                assertEquals(e.getKey(), name == null ? null : name.toString(), "group " + row);
                assertEquals(e.getValue()[0], ((BigIntVector) r.getVector("n")).get(row));
                assertEquals(e.getValue()[1], ((Number) r.getVector("s").getObject(row)).longValue());
                assertEquals(e.getValue()[2], ((BigIntVector) r.getVector("f")).get(row));
                row++;
            }
        }
        // a get that names no Java type still reads the SDK's DataFrame, whose tensors are numeric only
        VineyardException notNumeric = assertThrows(VineyardException.class, () -> consumer.get(id, Object.class));
        assertTrue(notNumeric.getMessage().contains("std::string"), notNumeric.getMessage());
        producer.dropName("pandas");
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
