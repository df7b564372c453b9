package io.vineyard.arrow.demo;

import io.vineyard.client.IpcClient;
import org.apache.arrow.memory.ArrowBuf;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.FixedSizeBinaryVector;
import org.apache.arrow.vector.Float8Vector;
import org.apache.arrow.vector.LargeVarBinaryVector;
import org.apache.arrow.vector.VarBinaryVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.complex.FixedSizeListVector;
import org.apache.arrow.vector.complex.LargeListVector;
import org.apache.arrow.vector.complex.ListVector;
import org.apache.arrow.vector.complex.impl.UnionLargeListWriter;
import org.apache.arrow.vector.complex.impl.UnionListWriter;
import org.apache.arrow.vector.types.FloatingPointPrecision;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.FieldType;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * The Java half of python/tests/test_cross_java.py's Arrow cases: lists, binaries and fixed-size types
 * between the two SDKs, read in place on both sides.
 *
 * <pre>
 *   put SOCKET    puts RecordBatch "java-nested" (columns below, {@link #ROWS} rows); prints "put ok"
 *   check SOCKET  gets RecordBatch "py-nested" put by Python (the same columns and values), checks every
 *                 value and that its buffers lie in this process's mapping of the pool; prints "check ok"
 * </pre>
 * Columns, row {@code i}: {@code list} list&lt;int64&gt; of {@code i % 3} values {@code 10 i + k}, null when
 * {@code i % 5 == 4}; {@code large_list} large_list&lt;large_binary&gt; of one value, the bytes of "r" + i;
 * {@code pair} fixed_size_list&lt;double, 2&gt; [i / 2, -i]; {@code bytes} binary "b" + i, null when
 * {@code i % 4 == 1}; {@code code} fixed_size_binary(3) "c" + (i % 100 as two digits). Any mismatch exits
 * with status 1 and a message.
 */
public final class ArrowCrossLanguage {
    /** Rows of both tables. */
    public static final int ROWS = 1000;

    private ArrowCrossLanguage() {
    }

    public static void main(String[] args) {
        String mode = args[0];
        try (IpcClient client = IpcClient.connect(args[1]); BufferAllocator allocator = new RootAllocator()) {
            if (mode.equals("put")) {
                try (VectorSchemaRoot root = build(allocator)) {
                    client.putNamed(root, "java-nested");
                }
                System.out.println("put ok");
            } else {
                try (VectorSchemaRoot root = client.get("py-nested", VectorSchemaRoot.class, allocator)) {
                    check(root);
                    for (FieldVector v : root.getFieldVectors()) {
                        checkInPool(client, v);
                    }
                }
                System.out.println("check ok");
            }
        } catch (RuntimeException | AssertionError e) {
            System.err.println("arrow cross-language " + mode + " failed: " + e);
            System.exit(1);
        }
    }

    private static List<Long> listAt(int i) {
        if (i % 5 == 4) {
            return null;
        }
        List<Long> values = new ArrayList<>();
        for (int k = 0; k < i % 3; k++) {
            values.add(10L * i + k);
        }
        return values;
    }

    private static byte[] bytesAt(int i) {
        return i % 4 == 1 ? null : ("b" + i).getBytes(StandardCharsets.UTF_8);
    }

    private static byte[] codeAt(int i) {
        return String.format("c%02d", i % 100).getBytes(StandardCharsets.UTF_8);
    }

    private static VectorSchemaRoot build(BufferAllocator allocator) {
        ListVector list = ListVector.empty("list", allocator);
        LargeListVector large = LargeListVector.empty("large_list", allocator);
        FixedSizeListVector pair = FixedSizeListVector.empty("pair", 2, allocator);
        VarBinaryVector bytes = new VarBinaryVector("bytes", allocator);
        FixedSizeBinaryVector code = new FixedSizeBinaryVector("code", allocator, 3);
        pair.addOrGetVector(FieldType.nullable(new ArrowType.FloatingPoint(FloatingPointPrecision.DOUBLE)));
        pair.allocateNew();
        Float8Vector pairValues = (Float8Vector) pair.getDataVector();
        pairValues.allocateNew(2 * ROWS);
        bytes.allocateNew();
        code.allocateNew();
        UnionListWriter lw = list.getWriter();
        UnionLargeListWriter llw = large.getWriter();
        for (int i = 0; i < ROWS; i++) {
            List<Long> values = listAt(i);
            lw.setPosition(i);
            if (values != null) {
                lw.startList();
                values.forEach(v -> lw.bigInt().writeBigInt(v));
                lw.endList();
            }
            llw.setPosition(i);
            llw.startList();
            byte[] r = ("r" + i).getBytes(StandardCharsets.UTF_8);
            try (ArrowBuf buf = allocator.buffer(r.length)) {
                buf.setBytes(0, r);
                llw.largeVarBinary().writeLargeVarBinary(0, r.length, buf);
            }
            llw.endList();
            pair.setNotNull(i);
            pairValues.setSafe(2 * i, i / 2.0);
            pairValues.setSafe(2 * i + 1, -i);
            byte[] b = bytesAt(i);
            if (b == null) {
                bytes.setNull(i);
            } else {
                bytes.setSafe(i, b);
            }
            code.setSafe(i, codeAt(i));
        }
        pairValues.setValueCount(2 * ROWS);
        List<FieldVector> vs = List.of(list, large, pair, bytes, code);
        for (FieldVector v : vs) {
            v.setValueCount(ROWS);
        }
        return new VectorSchemaRoot(vs);
    }

    private static void check(VectorSchemaRoot root) {
        expect(root.getRowCount() == ROWS, "rows: " + root.getRowCount());
        ListVector list = (ListVector) root.getVector("list");
        LargeListVector large = (LargeListVector) root.getVector("large_list");
        FixedSizeListVector pair = (FixedSizeListVector) root.getVector("pair");
        VarBinaryVector bytes = (VarBinaryVector) root.getVector("bytes");
        FixedSizeBinaryVector code = (FixedSizeBinaryVector) root.getVector("code");
        expect(large.getDataVector() instanceof LargeVarBinaryVector, "large_list of " + large.getDataVector().getField());
        for (int i = 0; i < ROWS; i++) {
            expect(Objects.equals(listAt(i), list.getObject(i)), "list row " + i + ": " + list.getObject(i));
            List<?> r = large.getObject(i);
            expect(r != null && r.size() == 1 && Arrays.equals(("r" + i).getBytes(StandardCharsets.UTF_8), (byte[]) r.get(0)),
                    "large_list row " + i);
            expect(List.of(i / 2.0, (double) -i).equals(pair.getObject(i)), "pair row " + i + ": " + pair.getObject(i));
            expect(Arrays.equals(bytesAt(i), bytes.getObject(i)), "bytes row " + i);
            expect(Arrays.equals(codeAt(i), code.getObject(i)), "code row " + i);
        }
    }

    /**
     * Every buffer but the validity bitmap (the first) lies in the pool: a column without nulls may have
     * the empty blob as its bitmap, read as a mapped page of ones rather than a copy.
     */
    private static void checkInPool(IpcClient client, FieldVector v) {
        List<ArrowBuf> buffers = v.getFieldBuffers();
        for (ArrowBuf b : buffers.subList(1, buffers.size())) {
            expect(b.capacity() == 0 || client.isInSharedMemory(b.memoryAddress(), b.capacity()),
                    v.getField() + ": a buffer is not in the pool (copied)");
        }
        for (FieldVector child : v.getChildrenFromFields()) {
            checkInPool(client, child);
        }
    }

    private static void expect(boolean ok, String what) {
        if (!ok) {
            throw new AssertionError(what);
        }
    }
}
