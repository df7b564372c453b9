package io.vineyard.arrow;

import io.vineyard.client.IpcClient;
import io.vineyard.client.ObjectId;
import io.vineyard.client.TestDaemon;
import io.vineyard.client.meta.ObjectMeta;
import org.apache.arrow.memory.ArrowBuf;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.BigIntVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Arrays whose metadata has no bitmap (vineyard's C++ and Python writers leave {@code null_bitmap_}
 * empty for an array without nulls): the validity buffer a get gives Arrow is a private mapping of
 * bytes nobody writes, not a bitmap allocated and filled at every get, and it reads and writes as one.
 */
class AbsentValidityTest {
    @RegisterExtension
    static final TestDaemon vineyard = new TestDaemon("--size=256Mi");

    /** The line of /proc/self/maps whose range holds {@code address}, or null. */
    private static String mappingOf(long address) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/maps"))) {
            String[] range = line.substring(0, line.indexOf(' ')).split("-");
            if (Long.parseUnsignedLong(range[0], 16) <= address && address < Long.parseUnsignedLong(range[1], 16)) {
                return line;
            }
        }
        return null;
    }

    private static void assertEveryByte(ArrowBuf b, int expected, long bytes) {
        for (long i = 0; i < bytes; i++) {
            assertEquals((byte) expected, b.getByte(i), "byte " + i);
        }
    }

    /** How many mappings of the ones memfd this process has. */
    private static long onesMappings() throws IOException {
        return Files.readAllLines(Path.of("/proc/self/maps")).stream().filter(l -> l.contains("memfd:vineyard-validity-ones")).count();
    }

    @Test
    void aBitmapOfNoNullsIsAPrivateMappingOfOnesThatAWriterChangesForItselfOnly() throws IOException {
        try (BufferAllocator allocator = new RootAllocator()) {
            long bits = 10_000_003;
            long bytes = (bits + 7) / 8;
            long before = onesMappings();
            try (ArrowBuf a = AbsentValidity.of(allocator, bits, false); ArrowBuf b = AbsentValidity.of(allocator, bits, false)) {
                assertNotNull(a);
                assertEquals(bytes, a.capacity());
                assertEveryByte(a, 0xFF, bytes);
                String line = mappingOf(a.memoryAddress());
                assertTrue(line != null && line.contains("memfd:vineyard-validity-ones"), "a mapping of the ones memfd: " + line);
                assertEquals(before + 2, onesMappings());
                a.setByte(5, 0);
                assertEquals(0, a.getByte(5), "the writer sees its write");
                assertEquals((byte) 0xFF, b.getByte(5), "another bitmap does not");
                try (ArrowBuf bigger = AbsentValidity.of(allocator, 4 * bits, false)) {
                    assertEveryByte(bigger, 0xFF, bigger.capacity());   // the memfd grew
                }
                assertEveryByte(b, 0xFF, bytes);                       // and what was mapped before is unchanged
            }
            assertEquals(before, onesMappings(), "a released bitmap's mapping is gone");
            assertEquals(0, allocator.getAllocatedMemory());
        }
    }

    @Test
    void aBitmapOfAllNullsIsZero() {
        try (BufferAllocator allocator = new RootAllocator(); ArrowBuf z = AbsentValidity.of(allocator, 100_001, true)) {
            assertEquals(12_501, z.capacity());
            assertEveryByte(z, 0, z.capacity());
            z.setByte(0, 1);
            assertEquals(1, z.getByte(0));
        }
    }

    @Test
    void aColumnWithoutABitmapGetsAsAVectorWithoutNulls() throws IOException {
        IpcClient client = vineyard.client();
        try (BufferAllocator write = new RootAllocator(); BufferAllocator read = new RootAllocator()) {
            ObjectId written;
            try (BigIntVector v = new BigIntVector("x", write)) {
                int n = 70_000;
                v.allocateNew(n);
                for (int i = 0; i < n; i++) {
                    v.set(i, 3L * i);
                }
                v.setValueCount(n);
                try (VectorSchemaRoot root = new VectorSchemaRoot(List.of(v))) {
                    written = client.put(root);
                }
            }
            // as vineyard's C++ and Python writers lay out an array without nulls: an empty null_bitmap_
            ObjectMeta meta = client.getMeta(written).copy();
            ObjectMeta column = meta.member("__columns_-0");
            for (String key : List.of("id", "signature", "instance_id")) {
                meta.remove(key);     // a new object, and a new column in it: not references to the put ones
                column.remove(key);
            }
            column.addMember("null_bitmap_", ObjectMeta.blobEntry(ObjectId.EMPTY_BLOB, 0, client.instanceId()));
            ObjectId without = client.putMeta(meta, false, null).id();
            try (VectorSchemaRoot got = client.get(without, VectorSchemaRoot.class, read)) {
                BigIntVector x = (BigIntVector) got.getVector(0);
                assertEquals(70_000, x.getValueCount());
                assertEquals(0, x.getNullCount());
                for (int i = 0; i < x.getValueCount(); i++) {
                    assertFalse(x.isNull(i));
                    assertEquals(3L * i, x.get(i));
                }
                String line = mappingOf(x.getValidityBuffer().memoryAddress());
                assertTrue(line != null && line.contains("memfd:vineyard-validity-ones"), "not allocated and filled: " + line);
                x.setNull(7);   // a reader may change its vector: its own copy of the page
                assertTrue(x.isNull(7));
            }
            try (VectorSchemaRoot again = client.get(without, VectorSchemaRoot.class, read)) {
                assertFalse(again.getVector(0).isNull(7), "another get's vector is untouched");
            }
            client.delete(without, written);
        }
    }
}
