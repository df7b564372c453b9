package io.vineyard.client;

import io.vineyard.client.types.DType;
import io.vineyard.client.types.DataFrame;
import io.vineyard.client.types.Tensor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * Runs the Java examples of README.md and docs/java-sdk.md verbatim (each between the marked lines),
 * then checks their effects through another client; {@link #theDocsShowTheCodeThisTestRuns} fails
 * when a doc block and this file drift apart.
 */
class DocExamplesTest {
    private static final Path SOURCE = DocSnippets.repo().resolve(
            "vineyard-client/src/test/java/io/vineyard/client/DocExamplesTest.java");
    private DaemonProcess daemon;
    private String SOCKET;

    @BeforeEach
    void start() throws Exception {
        daemon = DaemonProcess.start("--size=256Mi");
        SOCKET = daemon.socket();
    }

    @AfterEach
    void stop() {
        daemon.close();
    }

    @Test
    void theDocsShowTheCodeThisTestRuns() throws Exception {
        DocSnippets.assertShown(DocSnippets.repo().resolve("docs/java-sdk.md"), 0, SOURCE);
        DocSnippets.assertShown(DocSnippets.repo().resolve("docs/java-sdk.md"), 1, SOURCE);
        DocSnippets.assertShown(DocSnippets.repo().resolve("README.md"), 0, SOURCE);
    }

    @Test
    void putAndGet() {
        // ---- docs/java-sdk.md, "Put and get" ----
        try (IpcClient client = IpcClient.connect(SOCKET)) {   // or IpcClient.connect(): $VINEYARD_IPC_SOCKET
            ObjectId id = client.put(Tensor.of(new double[] {1, 2, 3, 4, 5, 6}, 2, 3));
            client.putNamed(new DataFrame(List.of("a", "b"),
                    List.of(Tensor.of(new long[] {1, 2}), Tensor.of(new double[] {0.5, 1.5})), null), "frame");

            try (Tensor t = client.get(id, Tensor.class)) {          // views the pool: read-only, no copy
                double x = t.getDouble(new long[] {1, 2});           // 6.0
            }                                                        // close releases the daemon's blob
            try (DataFrame df = client.get("frame", DataFrame.class)) {
                double y = df.column("b").getDouble(1);
            }
        }
        // ---- end ----
        try (IpcClient other = IpcClient.connect(SOCKET); DataFrame df = other.get("frame", DataFrame.class)) {
            assertEquals(List.of("a", "b"), df.columnNames());
            assertEquals(1.5, df.column("b").getDouble(1));
            assertEquals(2, df.column("a").getLong(1));
        }
    }

    @Test
    void writeInPlace() {
        long n = 1000;
        try (IpcClient client = IpcClient.connect(SOCKET)) {
            // ---- docs/java-sdk.md, the BlobWriter example ----
            BlobWriter w = client.createBlob(8L * n);
            for (long i = 0; i < n; i++) w.segment().setAtIndex(ValueLayout.JAVA_DOUBLE, i, i * 0.5);
            ObjectId id = client.putNamed(Tensor.of(DType.DOUBLE, w, Tensor.Order.C, n), "big");
            // w.segment() now throws IllegalStateException: sealed blobs are immutable
            // ---- end ----
            assertThrows(IllegalStateException.class, w::segment);
            assertEquals(id, client.getName("big"));
        }
        try (IpcClient other = IpcClient.connect(SOCKET); Tensor t = other.get("big", Tensor.class)) {
            assertArrayEquals(new long[] {1000}, t.shape());
            assertEquals(999 * 0.5, t.getDouble(999));
        }
    }

    @Test
    void readmeExample() {
        // ---- README.md, "Using it from Java and Python" ----
        try (IpcClient client = IpcClient.connect(SOCKET)) {
            ObjectId id = client.putNamed(Tensor.of(new double[] {1, 2, 3, 4, 5, 6}, 2, 3), "t");
            try (Tensor t = client.get("t", Tensor.class)) {   // a read-only view of the shared pool
                double x = t.getDouble(new long[] {1, 2});     // 6.0
            }
        }
        // ---- end ----
        try (IpcClient other = IpcClient.connect(SOCKET); Tensor t = other.get("t", Tensor.class)) {
            assertEquals(6.0, t.getDouble(new long[] {1, 2}));
        }
    }
}
