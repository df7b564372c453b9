package io.vineyard.arrow;

import io.vineyard.client.DaemonProcess;
import io.vineyard.client.IpcClient;
import io.vineyard.client.ObjectId;
import io.vineyard.client.types.Tensor;
import org.apache.arrow.memory.ArrowBuf;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.BigIntVector;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.Float8Vector;
import org.apache.arrow.vector.VarCharVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The check: JVM A puts a 1 GiB {@code Tensor<double>} and a 10-million-row Arrow table (int64,
 * float64, utf8 with nulls); this JVM (B) gets both, checks the values, and checks that every byte it read
 * lies inside its own mapping of the pool: nothing was copied.
 */
class AcrossProcessesTest {
    private static final long TENSOR_BYTES = 1L << 30;
    private static final int ROWS = 10_000_000;

    private DaemonProcess daemon;
    private IpcClient client;
    private BufferAllocator allocator;
    private long baseline;

    @BeforeEach
    void start() throws Exception {
        daemon = DaemonProcess.start("--size=4Gi");
        client = IpcClient.connect(daemon.socket());
        allocator = new RootAllocator();
        baseline = client.status().memoryUsage();
    }

    @AfterEach
    void stop() throws Exception {
        try {
            allocator.close();
            client.close();
        } finally {
            daemon.close();
        }
    }

    @Test
    void bigTensorAndTableCrossJvmsWithoutCopies() throws Exception {
        Process producer = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow",
                "--add-opens=java.base/java.nio=ALL-UNNAMED", "-Xmx1g",
                "-cp", System.getProperty("java.class.path"), Producer.class.getName(),
                daemon.socket(), Long.toString(TENSOR_BYTES), Integer.toString(ROWS))
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.INHERIT).start();
        assertTrue(producer.waitFor(180, TimeUnit.SECONDS), "producer finished");
        assertEquals(0, producer.exitValue());

        ObjectId tensorId;
        try (Tensor t = client.get("tensor", Tensor.class)) {
            tensorId = t.blob().id();
            MemorySegment data = t.data();
            assertEquals(TENSOR_BYTES, data.byteSize());
            assertTrue(client.isInSharedMemory(data.address(), data.byteSize()), "tensor viewed in place");
            long n = TENSOR_BYTES / 8;
            assertArrayEquals(new long[] {n}, t.shape());
            for (long i = 0; i < n; i++) {
                if (data.getAtIndex(ValueLayout.JAVA_DOUBLE_UNALIGNED, i) != i * 0.5) {
                    throw new AssertionError("tensor[" + i + "] = " + data.getAtIndex(ValueLayout.JAVA_DOUBLE_UNALIGNED, i));
                }
            }
        }
        try (ArrowTable table = client.get("table", ArrowTable.class, allocator)) {
            assertEquals(ROWS, table.rowCount());
            VectorSchemaRoot root = table.batches().getFirst();
            for (FieldVector v : root.getFieldVectors()) {
                for (ArrowBuf b : v.getFieldBuffers()) {
                    assertTrue(client.isInSharedMemory(b.memoryAddress(), b.capacity()), v.getName() + " buffer read in place");
                }
            }
            BigIntVector id = (BigIntVector) root.getVector("id");
            Float8Vector score = (Float8Vector) root.getVector("score");
            VarCharVector name = (VarCharVector) root.getVector("name");
            for (int i = 0; i < ROWS; i++) {
                if (id.get(i) != i || score.get(i) != i * 0.25 || name.isNull(i) != (i % 7 == 3)) {
                    throw new AssertionError("row " + i);
                }
            }
            assertEquals(List.of(0, 0, (ROWS + 3) / 7), List.of(id.getNullCount(), score.getNullCount(), name.getNullCount()));
            SplittableRandom random = new SplittableRandom(42);
            for (int k = 0; k < 10_000; k++) {
                int i = random.nextInt(ROWS);
                if (i % 7 != 3) {
                    assertEquals("n" + i, new String(name.get(i), StandardCharsets.UTF_8));
                }
            }
        }
        client.delete(client.getName("tensor"), client.getName("table"));
        assertEquals(baseline, client.status().memoryUsage(), "usage back to baseline after the deletes");
        assertTrue(tensorId.isBlob());
    }
}
