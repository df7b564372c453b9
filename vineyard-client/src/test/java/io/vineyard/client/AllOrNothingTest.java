package io.vineyard.client;

import io.vineyard.client.meta.ObjectMeta;
import io.vineyard.client.registry.BuildContext;
import io.vineyard.client.registry.Registry;
import io.vineyard.client.types.DataFrame;
import io.vineyard.client.types.Sequence;
import io.vineyard.client.types.Tensor;
import io.vineyard.client.types.Tuple;
import io.vineyard.common.Status;
import io.vineyard.common.VineyardException;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Puts and gets that fail half-way leave nothing behind: a put whose builder throws (or whose blob
 * allocation is refused) or whose process is killed drops every blob it wrote; a get whose last member
 * cannot be read releases the members it had read. Usage returns to baseline each time.
 */
@Tag("both-protocols")   // also run against daemons without extensions (pom: standard-protocol)
class AllOrNothingTest {
    private static final int ROWS = 512 * 1024;   // 4 MiB per int64 column
    @RegisterExtension
    static final TestDaemon vineyard = new TestDaemon("--size=64Mi");
    private DaemonProcess daemon;
    private IpcClient client;
    private long baseline;

    @BeforeEach
    void start() {
        daemon = vineyard.daemon();
        client = vineyard.client();
        baseline = vineyard.baseline();
    }

    /** A value whose builder writes a blob and then throws: the third column's writer failing. */
    record Failing() {
    }

    private static ObjectMeta failingBuild(BuildContext ctx, Failing value) {
        ctx.createBlob(1 << 20).segment().fill((byte) 9);
        throw new IllegalStateException("the third column's writer failed");
    }

    /**
     * Thousands of unsealed blobs dropped in a row (a failed read's cleanup): each drop is sent without
     * waiting for its reply, and the client reads the owed replies as it goes, so neither side blocks
     * on a full socket.
     */
    @Test
    void dropsOfThousandsOfUnsealedBlobsInARowComplete() {
        List<BlobWriter> writers = new java.util.ArrayList<>();
        for (int i = 0; i < 3000; i++) {
            writers.add(client.createBlob(64));
        }
        writers.forEach(BlobWriter::abort);
        assertEquals(baseline, client.status().memoryUsage());
    }

    @Test
    void aBuilderThatThrowsMidPutLeavesNoBlobs() {
        Registry registry = Registry.load(getClass().getClassLoader()).register(
                new BuilderOnlyType<>(Failing.class, "test::Failing", AllOrNothingTest::failingBuild));
        try (IpcClient c = IpcClient.builder().socket(daemon.socket()).registry(registry).connect()) {
            Sequence seq = new Sequence(List.of(Tensor.of(new long[ROWS]), Tensor.of(new long[ROWS]), new Failing()));
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> c.put(seq));
            assertEquals("the third column's writer failed", e.getMessage());
            assertEquals(baseline, heldAfter(c), "the two written columns and the third blob are dropped");
            ObjectId ok = c.put(Tensor.of(new long[ROWS]));
            assertEquals(baseline + 8L * ROWS, c.status().memoryUsage(), "a later put succeeds");
            c.delete(ok);
        }
    }

    @Test
    void aDataFrameWhoseThirdColumnDoesNotFitLeavesNoBlobs() {
        int big = 3 * 1024 * 1024;   // 24 MiB per column: the third does not fit in 64 MiB
        DataFrame df = new DataFrame(List.of("a", "b", "c"),
                List.of(Tensor.of(new long[big]), Tensor.of(new long[big]), Tensor.of(new long[big])), null);
        assertThrows(VineyardException.NotEnoughMemory.class, () -> client.put(df));
        assertEquals(baseline, heldAfter(client), "the two columns written are dropped");
        ObjectId ok = client.putNamed(new DataFrame(List.of("a", "b"),
                List.of(Tensor.of(new long[big]), Tensor.of(new long[big])), null), "fits");
        try (DataFrame got = client.get("fits", DataFrame.class)) {
            assertEquals(big, got.rowCount());
        }
        client.delete(ok);
        client.flushReleases();
        assertEquals(baseline, heldAfter(client));
    }

    @Test
    void aPutterKilledMidPutLeavesNothing() throws Exception {
        Process p = new ProcessBuilder(DaemonProcess.javaBin(), "--enable-native-access=ALL-UNNAMED",
                "-cp", System.getProperty("java.class.path"), PutterPeer.class.getName(), daemon.socket())
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        try {
            String line = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8)).readLine();
            assertEquals("blocked", line, "the putter reached the middle of its put");
            assertEquals(baseline + 3 * PutterPeer.BLOB_BYTES, client.status().memoryUsage(),
                    "three blobs written, none sealed");
            p.destroyForcibly();
            p.waitFor();
            vineyard.assertUsageReturnsTo(baseline, "once the daemon noticed the putter's death");
            assertTrue(client.list("*", 100).isEmpty(), "no object was created");
            ObjectId ok = client.put(Tensor.of(new long[ROWS]));
            client.delete(ok);
        } finally {
            p.destroyForcibly();
        }
    }

    /**
     * Pool bytes not free for reuse, deleted blobs still held included, once the daemon has served
     * everything {@code c} sent (its drops go one-way; a request of its own is answered after them).
     */
    private long heldAfter(IpcClient c) {
        c.status();
        return daemon.heldBytes();
    }

    // ---- gets --------------------------------------------------------------------------------------

    /** Puts {@code shape(members)}: two real tensors and a last member nobody can read. */
    private ObjectId putWithUnreadableLast(Function<List<Object>, Object> shape) {
        List<Object> members = List.of(Tensor.of(new long[ROWS]), Tensor.of(new double[ROWS]),
                new ObjectMeta("test::NobodyReadsThis").put("x_", 1L));
        return client.put(shape.apply(members));
    }

    /** A get that fails on the last member holds nothing: deleting frees everything at once. */
    private <T> void assertFailedGetHoldsNothing(ObjectId id, Class<T> type) {
        long withObject = client.status().memoryUsage();
        assertEquals(baseline + 16L * ROWS, withObject);
        VineyardException e = assertThrows(VineyardException.class, () -> client.get(id, type));
        assertEquals(Status.TYPE_ERROR, e.status(), "no resolver for the last member: " + e.getMessage());
        assertEquals(0, client.heldBlobCount(), "the members read before the failure were released");
        client.delete(id);
        assertEquals(baseline, heldAfter(client), "the daemon freed the blobs: nobody holds them");
    }

    @Test
    void aSequenceWhoseLastElementFailsReleasesTheOthers() {
        assertFailedGetHoldsNothing(putWithUnreadableLast(Sequence::new), Sequence.class);
    }

    @Test
    void aTupleWhoseLastElementFailsReleasesTheOthers() {
        assertFailedGetHoldsNothing(putWithUnreadableLast(Tuple::new), Tuple.class);
    }

    @Test
    void aDataFrameWhoseLastColumnFailsReleasesTheOthers() {
        ObjectMeta df = new ObjectMeta("vineyard::DataFrame");
        df.putJson("columns_", List.of("a", "b", "c"));
        df.put("__values_-size", 3L);
        ObjectId a = client.put(Tensor.of(new long[ROWS]));
        ObjectId b = client.put(Tensor.of(new double[ROWS]));
        df.putJson("__values_-key-0", "a").addMember("__values_-value-0", a);
        df.putJson("__values_-key-1", "b").addMember("__values_-value-1", b);
        df.putJson("__values_-key-2", "c").addMember("__values_-value-2", new ObjectMeta("test::NobodyReadsThis"));
        assertFailedGetHoldsNothing(client.putMeta(df, false, null).id(), DataFrame.class);
    }
}
