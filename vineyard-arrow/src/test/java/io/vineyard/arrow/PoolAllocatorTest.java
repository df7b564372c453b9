package io.vineyard.arrow;

import io.vineyard.client.DaemonProcess;
import io.vineyard.client.IpcClient;
import io.vineyard.client.ObjectId;
import io.vineyard.common.VineyardException;
import org.apache.arrow.memory.ArrowBuf;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.BigIntVector;
import org.apache.arrow.vector.DecimalVector;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.Float8Vector;
import org.apache.arrow.vector.VarCharVector;
import org.apache.arrow.vector.VectorSchemaRoot;
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
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Vectors built directly in the pool: put without copies, growth inside the pool, no leaks either side. */
class PoolAllocatorTest {
    private static final int ROWS = 10_000;
    /** One daemon for the class; each test has its own clients and allocators, checked after it. */
    private static DaemonProcess daemon;
    private IpcClient producer;
    private IpcClient consumer;
    private BufferAllocator pool;
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
        pool = PoolAllocator.root(producer);
        readAllocator = new RootAllocator();
        baseline = producer.status().memoryUsage();
    }

    @AfterEach
    void stop() throws Exception {
        readAllocator.close();   // throws on leaked buffers
        pool.close();            // likewise: every pool buffer was released
        consumer.close();
        producer.close();
    }

    /** k = i, v = i * 0.5, name = "n" + i, null every 5th row. */
    private VectorSchemaRoot table(int rows) {
        return TestTables.keyValueName(pool, 0, rows, Integer.MAX_VALUE, 5);
    }

    private long used() {
        return producer.status().memoryUsage() - baseline;
    }

    @Test
    void buffersAreBlobsInThePoolAndCountedByBothSides() {
        try (VectorSchemaRoot root = table(ROWS)) {
            for (FieldVector v : root.getFieldVectors()) {
                for (ArrowBuf b : v.getFieldBuffers()) {
                    assertTrue(PoolAllocator.isPoolBuffer(b), v.getName());
                    assertTrue(producer.isInSharedMemory(b.memoryAddress(), b.capacity()), v.getName() + " in the pool");
                }
            }
            assertEquals(pool.getAllocatedMemory(), used(), "the daemon holds exactly what Arrow allocated");
        }
        assertEquals(0, used(), "closing a root never put drops its blobs");
    }

    @Test
    void putSealsInPlaceAndCopiesOnlyTheBitmaps() {
        try (VectorSchemaRoot root = table(ROWS)) {
            long before = used();
            ObjectId id = producer.putNamed(root, "built-in-pool");
            long bitmaps = 3 * ((ROWS + 7) / 8);
            assertTrue(used() - before <= bitmaps + 3 * 64, "put added " + (used() - before)
                    + " bytes; only the three validity bitmaps (" + bitmaps + " bytes) are copies");

            try (VectorSchemaRoot got = consumer.get("built-in-pool", VectorSchemaRoot.class, readAllocator)) {
                assertEquals(ROWS, got.getRowCount());
                BigIntVector gid = (BigIntVector) got.getVector("k");
                VarCharVector gname = (VarCharVector) got.getVector("name");
                assertEquals(ROWS - 1, gid.get(ROWS - 1));
                assertEquals(0.5 * 7, ((Float8Vector) got.getVector("v")).get(7));
                assertTrue(gname.isNull(10));
                assertEquals("n11", new String(gname.get(11), StandardCharsets.UTF_8));
                assertEquals(ROWS / 5, gname.getNullCount());
                // the producer's own buffer and the reader's view are the same pool bytes
                ((BigIntVector) root.getVector("k")).getDataBuffer().setLong(8L * 5, -42);
                assertEquals(-42, gid.get(5), "the reader sees the producer's bytes, not a copy");
            }
            consumer.flushReleases();
            producer.dropName("built-in-pool");
            producer.delete(id);
        }
        assertEquals(0, used(), "usage back to baseline once the object is deleted and the root closed");
    }

    @Test
    void growingVectorsReallocateInsideThePoolAndFreeTheOldBlob() {
        try (BigIntVector v = new BigIntVector("grow", pool)) {
            v.allocateNew(16);
            long first = v.getDataBuffer().memoryAddress();
            for (int i = 0; i < 100_000; i++) {
                v.setSafe(i, i);
            }
            v.setValueCount(100_000);
            assertFalse(first == v.getDataBuffer().memoryAddress(), "the vector reallocated");
            assertTrue(producer.isInSharedMemory(v.getDataBuffer().memoryAddress(), v.getDataBuffer().capacity()));
            assertEquals(pool.getAllocatedMemory(), used(), "every outgrown blob was dropped");
            ObjectId id = producer.put(new VectorSchemaRoot(List.of(v)));
            try (VectorSchemaRoot got = consumer.get(id, VectorSchemaRoot.class, readAllocator)) {
                assertEquals(99_999, ((BigIntVector) got.getVector("grow")).get(99_999));
            }
            consumer.flushReleases();
            producer.delete(id);
        }
        assertEquals(0, used());
    }

    @Test
    void aRefusedPutKeepsTheBuffersForTheProducer() {
        try (VectorSchemaRoot root = table(100); DecimalVector money = new DecimalVector("money", pool, 10, 2)) {
            money.allocateNew(100);
            money.setValueCount(100);
            List<FieldVector> columns = new ArrayList<>(root.getFieldVectors());
            columns.add(money);
            long before = used();
            VineyardException e = assertThrows(VineyardException.class,
                    () -> producer.put(new VectorSchemaRoot(columns)));
            assertTrue(e.getMessage().contains("not supported"), e.getMessage());
            assertEquals(before, used(), "the refused put dropped its bitmap copies and kept the pool buffers");
            assertEquals(99, ((BigIntVector) root.getVector("k")).get(99), "buffers still readable");
            ObjectId again = producer.put(root);
            try (VectorSchemaRoot got = consumer.get(again, VectorSchemaRoot.class, readAllocator)) {
                assertEquals(99, ((BigIntVector) got.getVector("k")).get(99));
            }
            consumer.flushReleases();
            producer.delete(again);
        }
        assertEquals(0, used());
    }

    @Test
    void anotherClientsPoolBuffersAreRefusedClearly() {
        try (VectorSchemaRoot root = table(10)) {
            VineyardException e = assertThrows(VineyardException.class, () -> consumer.put(root));
            assertTrue(e.getMessage().contains("another client"), e.getMessage());
        }
        // the refused put dropped what it had copied with one-way requests on the consumer's connection:
        // a round trip there has them served before the producer's connection reads the usage
        consumer.status();
        assertEquals(0, used());
        assertNull(PoolAllocator.blobAt(readAllocator.getEmpty()));
    }
}
