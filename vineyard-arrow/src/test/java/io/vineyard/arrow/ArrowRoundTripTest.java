package io.vineyard.arrow;

import io.vineyard.client.DaemonProcess;
import io.vineyard.client.IpcClient;
import io.vineyard.client.ObjectId;
import io.vineyard.client.meta.ObjectMeta;
import org.apache.arrow.memory.ArrowBuf;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.BigIntVector;
import org.apache.arrow.vector.BitVector;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.FixedSizeBinaryVector;
import org.apache.arrow.vector.Float4Vector;
import org.apache.arrow.vector.Float8Vector;
import org.apache.arrow.vector.IntVector;
import org.apache.arrow.vector.LargeVarCharVector;
import org.apache.arrow.vector.NullVector;
import org.apache.arrow.vector.UInt4Vector;
import org.apache.arrow.vector.VarBinaryVector;
import org.apache.arrow.vector.VarCharVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.complex.FixedSizeListVector;
import org.apache.arrow.vector.complex.LargeListVector;
import org.apache.arrow.vector.complex.ListVector;
import org.apache.arrow.vector.complex.impl.UnionLargeListWriter;
import org.apache.arrow.vector.complex.impl.UnionListWriter;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.FieldType;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Arrow values through vineyard: every supported array type, zero-copy reads, allocator leak checks. */
@Tag("both-protocols")   // also run against daemons without extensions (pom: standard-protocol)
class ArrowRoundTripTest {
    private static final int ROWS = 1000;
    /** One daemon for the class; each test has its own clients and allocators, checked after it. */
    private static DaemonProcess daemon;
    private IpcClient producer;
    private IpcClient consumer;
    private BufferAllocator writeAllocator;
    private BufferAllocator readAllocator;
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
        writeAllocator = new RootAllocator();
        readAllocator = new RootAllocator();
        baseline = producer.status().memoryUsage();
    }

    @AfterEach
    void stop() throws Exception {
        readAllocator.close();      // throws on leaked buffers (our blobs included)
        writeAllocator.close();
        if (!producer.isClosed()) {
            producer.close();
        }
        if (!consumer.isClosed()) {
            consumer.close();
        }
        try (IpcClient check = IpcClient.connect(daemon.socket())) {
            for (ObjectMeta m : check.list("*", 10_000)) {
                if (!m.isBlob()) {
                    check.delete(m.id());
                }
            }
            assertEquals(baseline, check.status().memoryUsage(), "usage back to baseline");
        }
    }

    private VectorSchemaRoot everyType() {
        List<FieldVector> vs = new ArrayList<>();
        BigIntVector i64 = new BigIntVector("i64", writeAllocator);
        IntVector i32 = new IntVector("i32", writeAllocator);
        UInt4Vector u32 = new UInt4Vector("u32", writeAllocator);
        Float8Vector f64 = new Float8Vector("f64", writeAllocator);
        Float4Vector f32 = new Float4Vector("f32", writeAllocator);
        BitVector bool = new BitVector("bool", writeAllocator);
        VarCharVector utf8 = new VarCharVector("utf8", writeAllocator);
        LargeVarCharVector large = new LargeVarCharVector("large_utf8", writeAllocator);
        VarBinaryVector bin = new VarBinaryVector("binary", writeAllocator);
        FixedSizeBinaryVector fsb = new FixedSizeBinaryVector("fsb", writeAllocator, 4);
        ListVector list = ListVector.empty("list", writeAllocator);
        LargeListVector llist = LargeListVector.empty("large_list", writeAllocator);
        FixedSizeListVector fsl = FixedSizeListVector.empty("fsl", 2, writeAllocator);
        NullVector nul = new NullVector("null");
        for (FieldVector v : List.of(i64, i32, u32, f64, f32, bool, utf8, large, bin, fsb)) {
            v.allocateNew();
        }
        fsl.addOrGetVector(FieldType.nullable(new ArrowType.Int(32, true)));
        fsl.allocateNew();
        IntVector fslValues = (IntVector) fsl.getDataVector();
        fslValues.allocateNew(2 * ROWS);
        UnionListWriter lw = list.getWriter();
        UnionLargeListWriter llw = llist.getWriter();
        for (int i = 0; i < ROWS; i++) {
            if (i % 7 == 0) {
                i64.setNull(i);
                utf8.setNull(i);
            } else {
                i64.setSafe(i, i * 1000L);
                utf8.setSafe(i, ("row-" + i).getBytes(StandardCharsets.UTF_8));
            }
            i32.setSafe(i, -i);
            u32.setSafe(i, i);
            f64.setSafe(i, i * 0.5);
            f32.setSafe(i, i * 0.25f);
            bool.setSafe(i, i % 3 == 0 ? 1 : 0);
            large.setSafe(i, ("large-" + i).getBytes(StandardCharsets.UTF_8));
            bin.setSafe(i, new byte[] {(byte) i, (byte) (i >> 8)});
            fsb.setSafe(i, new byte[] {1, 2, 3, (byte) i});
            lw.setPosition(i);
            lw.startList();
            for (int k = 0; k < i % 4; k++) {
                lw.integer().writeInt(i + k);
            }
            lw.endList();
            llw.setPosition(i);
            llw.startList();
            llw.bigInt().writeBigInt(i);
            llw.endList();
            fsl.setNotNull(i);
            fslValues.setSafe(2 * i, i);
            fslValues.setSafe(2 * i + 1, -i);
        }
        fslValues.setValueCount(2 * ROWS);
        nul.setValueCount(ROWS);
        vs.addAll(List.of(i64, i32, u32, f64, f32, bool, utf8, large, bin, fsb, list, llist, fsl, nul));
        for (FieldVector v : vs) {
            v.setValueCount(ROWS);
        }
        return new VectorSchemaRoot(vs);
    }

    @Test
    void everyArrayTypeRoundTripsWithoutCopies() {
        try (VectorSchemaRoot written = everyType()) {
            ObjectId id = producer.putNamed(written, "every-type");
            ObjectMeta meta = producer.getMeta(id);
            assertEquals("vineyard::RecordBatch", meta.typename());
            assertEquals("vineyard::NumericArray<int64>", meta.member("__columns_-0").typename());
            assertEquals("vineyard::NumericArray<uint>", meta.member("__columns_-2").typename());
            // data_type_ as vineyard 0.24's builders write it: Arrow's name of the element type
            assertEquals("int64", meta.member("__columns_-0").getString("data_type_"));
            assertEquals("int32", meta.member("__columns_-1").getString("data_type_"));
            assertEquals("uint32", meta.member("__columns_-2").getString("data_type_"));
            assertEquals("double", meta.member("__columns_-3").getString("data_type_"));
            assertEquals("float", meta.member("__columns_-4").getString("data_type_"));
            assertFalse(meta.member("__columns_-6").has("data_type_"), "only NumericArray has it");
            // C++ 0.24's type_name of its StringArray, LargeStringArray, ListArray and LargeListArray (the names
            // its object factory knows; shared/compat/transcripts-wave2/cpp_arrow_data_structure_test.jsonl)
            assertEquals("vineyard::BaseBinaryArray<arrow::StringArray>", meta.member("__columns_-6").typename());
            assertEquals("vineyard::BaseBinaryArray<arrow::LargeStringArray>", meta.member("__columns_-7").typename());
            assertEquals("vineyard::BaseBinaryArray<arrow::BinaryArray>", meta.member("__columns_-8").typename());
            assertEquals("vineyard::FixedSizeBinaryArray", meta.member("__columns_-9").typename());
            assertEquals("vineyard::BaseListArray<arrow::ListArray>", meta.member("__columns_-10").typename());
            assertEquals("vineyard::BaseListArray<arrow::LargeListArray>", meta.member("__columns_-11").typename());
            assertEquals("vineyard::FixedSizeListArray", meta.member("__columns_-12").typename());
            assertEquals("vineyard::NullArray", meta.member("__columns_-13").typename());
            assertEquals("vineyard::SchemaProxy", meta.member("schema_").typename());
            assertTrue(meta.member("schema_").getString("schema_binary_").startsWith("{\"bytes\":["));

            long before = consumer.requestCount();
            try (VectorSchemaRoot read = consumer.get("every-type", VectorSchemaRoot.class, readAllocator)) {
                // extensions: one get_object; standard requests: get_name, get_data, get_buffers
                assertEquals(consumer.usesExtensions() ? 1 : 3, consumer.requestCount() - before);
                assertSameContent(written, read);
                assertEquals(written.getSchema(), read.getSchema());
                for (FieldVector v : read.getFieldVectors()) {
                    assertInSharedMemory(v);
                }
                assertTrue(readAllocator.getAllocatedMemory() > 0, "wrapped blobs are accounted by Arrow");
            }
            assertEquals(0, readAllocator.getAllocatedMemory(), "closing the root released every wrapped blob");
        }
    }

    private static void assertSameContent(VectorSchemaRoot expected, VectorSchemaRoot actual) {
        assertEquals(expected.getRowCount(), actual.getRowCount());
        assertEquals(expected.getSchema(), actual.getSchema());
        for (int i = 0; i < expected.getFieldVectors().size(); i++) {
            FieldVector e = expected.getVector(i);
            FieldVector a = actual.getVector(i);
            assertTrue(org.apache.arrow.vector.compare.VectorEqualsVisitor.vectorEquals(e, a), "column " + e.getField());
        }
    }

    private void assertInSharedMemory(FieldVector v) {
        for (ArrowBuf b : v.getFieldBuffers()) {
            if (b.capacity() > 0) {
                assertTrue(consumer.isInSharedMemory(b.memoryAddress(), b.capacity()),
                        v.getField() + ": buffer at " + b.memoryAddress() + " is not in the pool");
            }
        }
        for (FieldVector child : v.getChildrenFromFields()) {
            assertInSharedMemory(child);
        }
    }

    @Test
    void tablesAndStandaloneArrays() {
        try (VectorSchemaRoot a = everyType(); VectorSchemaRoot b = everyType()) {
            ObjectId id = producer.put(new ArrowTable(a.getSchema(), List.of(a, b)));
            assertEquals("vineyard::Table", producer.getMeta(id).typename());
            try (ArrowTable t = consumer.get(id, ArrowTable.class, readAllocator)) {
                assertEquals(2L * ROWS, t.rowCount());
                assertSameContent(b, t.batches().get(1));
            }
            assertThrows(io.vineyard.common.VineyardException.class, () -> consumer.get(id, VectorSchemaRoot.class, readAllocator));
            ObjectId col = producer.put(a.getVector("utf8"));
            try (FieldVector v = consumer.get(col, FieldVector.class, readAllocator)) {
                assertEquals("row-1", v.getObject(1).toString());
                assertEquals(null, v.getObject(0));
            }
        }
    }

    /**
     * A standalone array is read by its typename alone: C++'s names (what this SDK writes) and the older
     * spellings (what earlier versions of this SDK and of vineyard's Python client wrote) read the same.
     */
    @Test
    void standaloneArraysReadUnderCppsTypenamesAndTheOlderSpellings() {
        try (VectorSchemaRoot a = everyType()) {
            String[][] cases = {
                {"utf8", "vineyard::BaseBinaryArray<arrow::StringArray>", "vineyard::StringArray"},
                {"large_utf8", "vineyard::BaseBinaryArray<arrow::LargeStringArray>", "vineyard::LargeStringArray"},
                {"list", "vineyard::BaseListArray<arrow::ListArray>", "vineyard::ListArray"},
                {"large_list", "vineyard::BaseListArray<arrow::LargeListArray>", "vineyard::LargeListArray"},
            };
            for (String[] c : cases) {
                FieldVector written = a.getVector(c[0]);
                ObjectId id = producer.put(written);
                ObjectMeta meta = producer.getMeta(id);
                assertEquals(c[1], meta.typename(), c[0]);
                ObjectMeta older = meta.copy();
                for (String key : List.of("id", "signature", "instance_id")) {
                    older.remove(key);   // a new object over the same members
                }
                older.put("typename", c[2]);
                ObjectId olderId = producer.putMeta(older, false, null).id();
                for (ObjectId got : List.of(id, olderId)) {
                    try (FieldVector v = consumer.get(got, FieldVector.class, readAllocator)) {
                        assertEquals(written.getField().getType(), v.getField().getType(), c[0]);
                        assertEquals(written.getValueCount(), v.getValueCount());
                        for (int i = 0; i < v.getValueCount(); i++) {
                            assertEquals(String.valueOf(written.getObject(i)), String.valueOf(v.getObject(i)), c[0] + " row " + i);
                        }
                        assertInSharedMemory(v);
                    }
                }
                producer.delete(olderId);
            }
        }
    }

    /**
     * Slices as vineyard's Python client writes them (its builders put {@code array.offset} in {@code offset_}
     * over the unsliced buffers): read in place, at an offset on a byte boundary (8) and off one (3), where
     * only the bitmaps are copied (a fixed-size list's child is read from its list's first value).
     */
    @Test
    void arraysWithAnOffsetReadInPlace() {
        try (VectorSchemaRoot written = everyType()) {
            ObjectId id = producer.put(written);
            for (int k : new int[] {3, 8}) {
                ObjectMeta batch = producer.getMeta(id).copy();
                for (String key : List.of("id", "signature", "instance_id")) {
                    batch.remove(key);
                }
                batch.put("row_num_", (long) (ROWS - k));
                for (int c = 0; c < written.getFieldVectors().size(); c++) {
                    FieldVector v = written.getVector(c);
                    ObjectMeta column = batch.member("__columns_-" + c).copy();
                    for (String key : List.of("id", "signature", "instance_id")) {
                        column.remove(key);
                    }
                    boolean sliced = !(v instanceof NullVector);
                    int nulls = 0;
                    for (int i = sliced ? k : 0; i < (sliced ? ROWS : ROWS - k); i++) {
                        nulls += v.isNull(i) ? 1 : 0;
                    }
                    column.put("length_", (long) (ROWS - k));
                    if (!(v instanceof NullVector)) {
                        column.put("offset_", sliced ? (long) k : 0L);
                        column.put("null_count_", (long) nulls);
                    }
                    batch.addMember("__columns_-" + c, column);
                }
                ObjectId slice = producer.putMeta(batch, false, null).id();
                try (VectorSchemaRoot read = consumer.get(slice, VectorSchemaRoot.class, readAllocator)) {
                    assertEquals(ROWS - k, read.getRowCount());
                    for (int c = 0; c < written.getFieldVectors().size(); c++) {
                        FieldVector e = written.getVector(c);
                        FieldVector a = read.getVector(c);
                        int from = e instanceof NullVector ? 0 : k;
                        for (int i = 0; i < ROWS - k; i++) {
                            assertEquals(show(e.getObject(from + i)), show(a.getObject(i)), e.getField() + " at offset " + k + ", row " + i);
                            assertEquals(e.isNull(from + i), a.isNull(i), e.getField() + " null at row " + i);
                        }
                        List<ArrowBuf> buffers = a.getFieldBuffers();
                        for (ArrowBuf b : buffers.subList(Math.min(1, buffers.size()), buffers.size())) {
                            if (b.capacity() > 0 && !(a instanceof BitVector && k % 8 != 0)) {
                                assertTrue(consumer.isInSharedMemory(b.memoryAddress(), b.capacity()), a.getField() + ": copied");
                            }
                        }
                    }
                }
                producer.delete(slice);
            }
        }
    }

    private static String show(Object value) {
        return value instanceof byte[] b ? java.util.Arrays.toString(b) : String.valueOf(value);
    }

    @Test
    void buffersOutliveTheirClientUntilReleased() {
        try (VectorSchemaRoot written = everyType()) {
            ObjectId id = producer.put(written);
            VectorSchemaRoot read = consumer.get(id, VectorSchemaRoot.class, readAllocator);
            consumer.close();   // the mapping stays while Arrow buffers use it
            assertSameContent(written, read);
            read.close();
        }
    }
}
