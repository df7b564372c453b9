package io.vineyard.client;

import io.vineyard.client.meta.ObjectMeta;
import io.vineyard.client.registry.BuildContext;
import io.vineyard.client.registry.Registry;
import io.vineyard.client.registry.ResolveContext;
import io.vineyard.client.registry.VineyardType;
import io.vineyard.client.types.DType;
import io.vineyard.client.types.DataFrame;
import io.vineyard.client.types.Hashmap;
import io.vineyard.client.types.HashmapBuilder;
import io.vineyard.client.types.Tensor;
import io.vineyard.client.types.Tensor.Order;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Runs the Java examples of README.md, docs/java-sdk.md and the SDK's Javadoc verbatim (each between
 * the marked lines), then checks their effects through another client; {@link #theDocsShowTheCodeThisTestRuns}
 * and {@link #theJavadocShowsTheCodeThisTestRuns} fail when an example and this file drift apart.
 */
@Tag("both-protocols")   // also run against daemons without extensions (pom: standard-protocol)
class DocExamplesTest {
    private static final Path SOURCE = DocSnippets.repo().resolve(
            "vineyard-client/src/test/java/io/vineyard/client/DocExamplesTest.java");
    /** One daemon for the class: what an example leaves is deleted after it, and the pool checked. */
    @RegisterExtension
    static final TestDaemon vineyard = new TestDaemon("--size=256Mi");
    private static String SOCKET;

    @BeforeAll
    static void socket() {
        SOCKET = vineyard.daemon().socket();
    }

    private static final Path ARROW_SOURCE = DocSnippets.repo().resolve(
            "vineyard-arrow/src/test/java/io/vineyard/arrow/ArrowDocExampleTest.java");
    private static final String MAIN = "vineyard-client/src/main/java/io/vineyard/client/";

    @Test
    void theDocsShowTheCodeThisTestRuns() throws Exception {
        Path sdkDoc = DocSnippets.repo().resolve("docs/java-sdk.md");
        // every java block of the SDK's doc: the Arrow one runs in vineyard-arrow
        DocSnippets.assertEveryBlockShown(DocSnippets.javaBlocks(sdkDoc), sdkDoc, SOURCE, ARROW_SOURCE);
        DocSnippets.assertShown(DocSnippets.repo().resolve("README.md"), 0, SOURCE);
    }

    @Test
    void theJavadocShowsTheCodeThisTestRuns() throws Exception {
        for (String file : List.of("Client.java", "IpcClient.java", "PutOptions.java", "types/Tensor.java",
                "types/Hashmap.java")) {
            Path source = DocSnippets.repo().resolve(MAIN + file);
            DocSnippets.assertEveryBlockShown(DocSnippets.javadocBlocks(source), source, SOURCE);
        }
    }

    @Test
    void clientJavadoc() {
        try (IpcClient producer = IpcClient.connect(SOCKET)) {
            producer.putNamed(Tensor.of(new long[] {7}), "written-later");
        }
        // ---- Client's Javadoc ----
        try (Client client = IpcClient.connect(SOCKET)) {
            ObjectId id = client.putNamed(Tensor.of(new double[] {1, 2, 3, 4}, 2, 2), "my-tensor");
            try (Tensor t = client.get("my-tensor", Tensor.class)) {
                double x = t.getDouble(3);                                   // 4.0
            }
            ObjectId later = client.waitName("written-later", Duration.ofSeconds(5)); // or WaitTimeoutException
        }
        // ---- end ----
        try (IpcClient other = IpcClient.connect(SOCKET); Tensor t = other.get("my-tensor", Tensor.class)) {
            assertEquals(4.0, t.getDouble(3), "putNamed named it");
        }
    }

    @Test
    void sessions() throws Exception {
        // ---- docs/java-sdk.md, "Sessions" ----
        try (IpcClient root = IpcClient.connect(SOCKET);
             IpcClient session = root.newSession(64L << 20)) {          // its own socket, objects and names; at most 64 MiB
            ObjectId id = session.putNamed(Tensor.of(new long[] {1, 2, 3}), "t");
            boolean seen = root.exists(id);                              // false: an object of another session
            try (IpcClient other = root.newSession()) {
                ObjectId copy = other.shallowCopyFrom(session, id);      // vineyard's ShallowCopy: the blobs move, no bytes are copied
                long first = other.get(copy, Tensor.class).getLong(0);   // 1
                other.deleteSession();                                   // its socket goes, its objects are freed
            }
            session.deleteSession();
        }
        // ---- end ----
        java.nio.file.Path dir = java.nio.file.Path.of(SOCKET).getParent();
        String prefix = java.nio.file.Path.of(SOCKET).getFileName() + ".S";
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (sessionSockets(dir, prefix) > 0 && System.nanoTime() < deadline) {
            Thread.sleep(10); // bounded: a session ends on the daemon's side of its last connection
        }
        assertEquals(0, sessionSockets(dir, prefix), "both deleted sessions' sockets are removed");
        try (IpcClient check = IpcClient.connect(SOCKET)) {
            assertEquals(0, check.status().memoryUsage());
        }
    }

    private static long sessionSockets(java.nio.file.Path dir, String prefix) throws java.io.IOException {
        try (var files = java.nio.file.Files.list(dir)) {
            return files.filter(f -> f.getFileName().toString().startsWith(prefix)).count();
        }
    }

    @Test
    void ipcClientAndPutOptionsJavadoc() {
        // ---- IpcClient's Javadoc ----
        try (IpcClient client = IpcClient.builder()              // IpcClient.connect(): $VINEYARD_IPC_SOCKET
                .socket(SOCKET).timeoutMs(30_000).connect()) {
            long usedBytes = client.status().memoryUsage();
        }
        // ---- end ----
        try (IpcClient client = IpcClient.connect(SOCKET)) {
            // ---- PutOptions' Javadoc ----
            ObjectId named = client.put(Tensor.of(new long[] {1, 2}), PutOptions.named("pair"));  // = putNamed(value, "pair")
            ObjectId kept = client.put(Tensor.of(new long[] {3, 4}), PutOptions.persistent());   // persistent, unnamed
            // ---- end ----
            assertEquals(named, client.getName("pair"));
            assertFalse(client.getMeta(named).isTransient());
            assertFalse(client.getMeta(kept).isTransient());
            assertTrue(client.getMeta(client.put(Tensor.of(new long[] {5}))).isTransient(), "put(value): transient");
        }
    }

    @Test
    void tensorAndHashmapJavadoc() {
        long n = 16;
        try (IpcClient client = IpcClient.connect(SOCKET)) {
            // ---- Tensor's Javadoc ----
            Tensor t = Tensor.of(new double[] {1, 2, 3, 4, 5, 6}, 2, 3);      // copied into a blob when put
            ObjectId copied = client.put(t);
            BlobWriter w = client.createBlob(8L * n);                         // or written in place:
            for (long i = 0; i < n; i++) w.segment().setAtIndex(ValueLayout.JAVA_DOUBLE, i, 1.0);
            ObjectId inPlace = client.put(Tensor.of(DType.DOUBLE, w, Order.C, n));   // no copy
            // ---- end ----
            try (Tensor a = client.get(copied, Tensor.class); Tensor b = client.get(inPlace, Tensor.class)) {
                assertEquals(6.0, a.getDouble(new long[] {1, 2}));
                assertEquals(1.0, b.getDouble(n - 1));
            }
            // ---- Hashmap's Javadoc ----
            ObjectId id = client.put(Hashmap.of(Map.of(1L, 10L, 2L, 20L)));     // vineyard::Hashmap<int64,int64,...>
            try (Hashmap m = client.get(id, Hashmap.class)) {
                long v = m.getLong(2);                                          // 20
                boolean absent = !m.containsKey(3);
                for (Hashmap.Cursor c = m.cursor(); c.next(); ) { c.key(); c.longValue(); }
            }
            HashmapBuilder b = Hashmap.builder(DType.INT64, DType.UINT64);        // vineyard's default Hashmap<int64_t, uint64_t>
            // ---- end ----
            assertEquals(3, b.put(5, 3).build().getLong(5));
            try (Hashmap m = client.get(id, Hashmap.class)) {
                assertEquals(20, m.getLong(2));
                assertFalse(m.containsKey(3));
            }
        }
    }

    @Test
    void waitForAName() throws Exception {
        Thread producer = Thread.ofPlatform().start(() -> {
            try (IpcClient p = IpcClient.connect(SOCKET)) {
                p.putNamed(Tensor.of(new long[] {1, 2, 3}), "from-producer");
            }
        });
        // ---- docs/java-sdk.md, the wait example ----
        try (IpcClient client = IpcClient.connect(SOCKET)) {
            try (VineyardObject o = client.waitObject("from-producer", Duration.ofSeconds(10))) {
                long bytes = o.meta().nbytes();
            } catch (WaitTimeoutException e) {                       // typed; the client stays usable
                client.status();
            }
        }
        // ---- end ----
        producer.join();
        try (IpcClient other = IpcClient.connect(SOCKET); VineyardObject o = other.waitObject("from-producer",
                Duration.ofSeconds(10))) {
            assertEquals(24, o.meta().nbytes());
        }
    }

    /** The docs' user type, registered on one client instead of through a service entry. */
    public record Point(double x, double y) {}

    public final class PointType implements VineyardType<Point> {
        public Class<Point> javaType() { return Point.class; }
        public List<String> typenamePrefixes() { return List.of("my::Point"); }

        public ObjectMeta build(BuildContext ctx, Point p) {
            return new ObjectMeta("my::Point").put("x_", p.x()).put("y_", p.y());
            // bytes: m.addMember("buffer_", ctx.blobOf(segment)); nested values: m.addMember("k", ctx.build(v))
        }

        public Point resolve(ResolveContext ctx, ObjectMeta m) {
            return new Point(m.getDouble("x_"), m.getDouble("y_"));
            // bytes: ctx.blob(m.member("buffer_")).segment(); keep them: ctx.object().retain()
        }
    }

    @Test
    void userType() {
        try (IpcClient client = IpcClient.builder().socket(SOCKET)
                .registry(new Registry().register(new PointType())).connect()) {
            ObjectId id = client.put(new Point(1, 2));
            assertEquals(new Point(1, 2), client.get(id, Point.class));
            assertEquals("my::Point", client.getMeta(id).typename());
        }
    }

    @Test
    void putAndGet() {
        // ---- docs/java-sdk.md, "Put and get" ----
        try (IpcClient client = IpcClient.connect(SOCKET)) {   // or IpcClient.connect(): see below
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
    void standardRequestsOnly() {
        // ---- docs/java-sdk.md, "Against vineyard's own vineyardd" ----
        try (IpcClient client = IpcClient.builder().socket(SOCKET).extensions(false).connect()) {
            boolean oneRequestEach = client.usesExtensions();     // false: vineyard's standard requests only
            ObjectId id = client.putNamed(Tensor.of(new long[] {1, 2, 3}), "standard");
            try (Tensor t = client.get("standard", Tensor.class)) {
                long last = t.getLong(2);                           // 3
            }
        }
        // ---- end ----
        try (IpcClient other = IpcClient.connect(SOCKET); Tensor t = other.get("standard", Tensor.class)) {
            assertEquals(3, t.getLong(2), "put with the standard requests, read by a default client");
            assertEquals(DaemonProcess.suiteHasExtensions(), other.usesExtensions());
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
