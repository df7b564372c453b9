package io.vineyard.client;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vineyard.client.types.Tensor;
import io.vineyard.common.Json;
import io.vineyard.common.Status;
import io.vineyard.common.VineyardException;
import io.vineyard.common.posix.Posix;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.lang.foreign.ValueLayout;
import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * What a client keeps per connection, and that it stays right: waits that time out leave the client
 * usable, the reply spin is each client's own, the RPC socket has TCP_NODELAY, disk files are unmapped
 * once unused.
 */
@Tag("both-protocols")   // also run against daemons without extensions (pom: standard-protocol)
class ConnectionStateTest {
    @RegisterExtension
    static final TestDaemon vineyard = new TestDaemon("--size=256Mi");

    // ---- waits -------------------------------------------------------------------------------------

    /** Polls instance_status, at most 10 s, until the daemon holds no pending wait. */
    private void assertNoPendingWaits() {
        long deadline = System.nanoTime() + 10_000_000_000L;
        int pending;
        while ((pending = vineyard.daemon().status().get("deferred_requests").asInt()) != 0 && System.nanoTime() < deadline) {
            Thread.onSpinWait();
        }
        assertEquals(0, pending, "the timed-out wait's connection closed: the daemon dropped its wait");
    }

    private void assertWaitTimesOutAndClientWorks(Client c) {
        WaitTimeoutException e = assertThrows(WaitTimeoutException.class,
                () -> c.waitName("late", Duration.ofMillis(200)));
        assertEquals(Status.OBJECT_NOT_EXISTS, e.status());
        assertTrue(e.getMessage().contains("'late'"), e.getMessage());
        assertEquals(0, c.list("*", 10).size(), "the next request on the same client works");
        assertThrows(WaitTimeoutException.class, () -> c.waitObject("late", Duration.ZERO));
        // the name appears later: the daemon's late answer must not reach this client's connection
        ObjectId other;
        try (IpcClient producer = IpcClient.connect(vineyard.daemon().socket())) {
            other = producer.putNamed(Tensor.of(new long[] {4, 5}), "late");
        }
        ObjectId mine = c.putNamed(Tensor.of(new double[] {1.5}), "mine");
        assertEquals(mine, c.getName("mine"), "each reply answers its own request");
        assertEquals(other, c.getName("late"));
        assertEquals(other, c.waitName("late", Duration.ofSeconds(5)));
        try (VineyardObject o = c.waitObject("late", Duration.ofSeconds(5))) {
            assertEquals(other, o.id());
        }
        try (Tensor t = c.get("mine", Tensor.class)) {
            assertEquals(1.5, t.getDouble(0));
        }
        assertNoPendingWaits();
    }

    @Test
    void aWaitThatTimesOutLeavesTheIpcClientUsable() {
        assertWaitTimesOutAndClientWorks(vineyard.client());
    }

    @Test
    void aWaitThatTimesOutLeavesTheRpcClientUsable() {
        try (RpcClient rpc = RpcClient.connect("127.0.0.1", vineyard.daemon().rpcPort())) {
            assertWaitTimesOutAndClientWorks(rpc);
        }
    }

    @Test
    void aWaitWithoutTimeoutIsBoundedByTheClientsTimeout() {
        try (IpcClient c = IpcClient.builder().socket(vineyard.daemon().socket()).timeoutMs(300).connect()) {
            assertThrows(WaitTimeoutException.class, () -> c.waitObject("never"));
            assertEquals(c.instanceId(), c.status().instanceId(), "usable afterwards");
        }
        assertNoPendingWaits();
    }

    @Test
    void aStringIsNeverAnInput() {
        ObjectId id = vineyard.client().putNamed(Tensor.of(new long[] {1}), "named");
        assertEquals(id, vineyard.client().getName("named"));
        VineyardException e = assertThrows(VineyardException.Invalid.class,
                () -> vineyard.client().get(id, Tensor.class, "named"));
        assertTrue(e.getMessage().contains("String"), e.getMessage());
        assertThrows(VineyardException.Invalid.class, () -> PutOptions.none().withBuilderInput("named"));
        assertThrows(VineyardException.Invalid.class, () -> vineyard.client().putNamed(Tensor.of(new long[] {1}), ""));
    }

    // ---- the reply spin ----------------------------------------------------------------------------

    @Test
    void twoClientsInOneJvmSpinIndependently() throws Exception {
        // one connection of this JVM blocks in a long request (a wait on its own connection) ...
        try (IpcConnection waiting = IpcConnection.connect(vineyard.daemon().socket(), 30_000, ReplySpin.MAX_SPIN_US);
             IpcClient other = IpcClient.builder().socket(vineyard.daemon().socket()).spinUs(ReplySpin.MAX_SPIN_US).connect()) {
            ObjectNode wait = Json.object();
            wait.put("type", "get_name_request");
            wait.put("name", "release-me");
            wait.put("wait", true);
            java.util.concurrent.CompletableFuture<ObjectNode> answered = java.util.concurrent.CompletableFuture
                    .supplyAsync(() -> waiting.request(wait));
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (vineyard.daemon().status().get("deferred_requests").asInt() != 1 && System.nanoTime() < deadline) {
                Thread.onSpinWait();
            }
            assertEquals(1, vineyard.daemon().status().get("deferred_requests").asInt(), "the wait is pending");
            // ... and another client's spin is its own: it still spins for (and finds) its replies
            ReplySpin.Stats before = other.conn.spinStats();
            int rounds = 32;
            for (int i = 0; i < rounds; i++) {
                other.status();
            }
            ReplySpin.Stats after = other.conn.spinStats();
            assertEquals(ReplySpin.MAX_SPIN_US, after.spinUs());
            assertTrue(after.attempts() - before.attempts() >= rounds / 2, "spins started: " + before + " -> " + after);
            assertTrue(after.found() - before.found() >= rounds / 2, "spins that found the reply: " + after);
            other.putNamed(Tensor.of(new long[] {1}), "release-me");
            assertEquals(other.getName("release-me").value(),
                    Json.readU64(answered.get(10, java.util.concurrent.TimeUnit.SECONDS).get("object_id"), "object_id"));
            assertTrue(waiting.spinStats().attempts() <= 2,   // its register and its wait, nothing of the other's
                    "the other client's requests did not touch this connection's spin state: " + waiting.spinStats());
        }
    }

    // ---- TCP_NODELAY -------------------------------------------------------------------------------

    @Test
    void theRpcSocketHasTcpNoDelay() {
        try (RpcClient rpc = RpcClient.connect("127.0.0.1", vineyard.daemon().rpcPort())) {
            int value = Posix.getIntOption(rpc.conn.socket().fd(), Posix.IPPROTO_TCP, Posix.TCP_NODELAY);
            assertTrue(value >= 0, "getsockopt: " + Posix.strerror(Posix.errno()));
            assertTrue(value != 0, "TCP_NODELAY is set");
            assertEquals(vineyard.client().instanceId(), rpc.status().instanceId());
        }
    }

    // ---- disk files --------------------------------------------------------------------------------

    /** Creates a disk blob, writes {@code fill} into it through this client's mapping and seals it. */
    private ObjectNode diskBlob(long size, byte fill) {
        ObjectNode create = Json.object();
        create.put("type", "create_disk_buffer_request");
        create.put("size", size);
        create.put("path", "");
        ObjectNode reply = vineyard.client().connection().request(create);
        vineyard.client().connection().blobSegment(reply.get("created")).fill(fill);
        ObjectNode seal = Json.object();
        seal.put("type", "seal_request");
        seal.set("object_id", reply.get("id"));
        vineyard.client().connection().request(seal);
        return reply;
    }

    private static ObjectId idOf(ObjectNode reply) {
        return new ObjectId(Json.readU64(reply.get("id"), "id"));
    }

    private static void assertFilled(Blob b, byte fill, String what) {
        for (long i = 0; i < b.size(); i += 4096) {
            assertEquals(fill, b.segment().get(ValueLayout.JAVA_BYTE, i), what + " at byte " + i);
        }
    }

    @Test
    void diskFilesAreUnmappedOnceNoBlobOfThemIsOpen() {
        long size = 1 << 20;
        for (int round = 0; round < 50; round++) {
            byte fill = (byte) (round + 1);
            ObjectNode created = diskBlob(size, fill);
            ObjectId id = idOf(created);
            int key = created.get("created").get("store_fd").asInt();
            try (Blob b = vineyard.client().get(id, Blob.class)) {
                assertFilled(b, fill, "round " + round);
                assertTrue(vineyard.client().storeMapping(key) != null, "mapped while a blob of it is open");
            }
            assertEquals(null, vineyard.client().storeMapping(key), "round " + round + ": unmapped once no blob of it is open");
            assertTrue(vineyard.client().conn.mappedFileCount() <= 1, "round " + round + ": at most the pool stays mapped, "
                    + vineyard.client().conn.mappedFileCount() + " files are");
            try (Blob again = vineyard.client().get(id, Blob.class)) {
                assertFilled(again, fill, "round " + round + ", after the file was unmapped");
            }
            vineyard.client().delete(id);
            vineyard.client().flushReleases();
        }
        assertEquals(0, vineyard.client().status().memoryUsage());
    }

    @Test
    void aNewDiskBlobReadsBackAfterAnOlderOneWasFreed() {
        long size = 1 << 20;
        ObjectNode first = diskBlob(size, (byte) 1);
        assumeTrue(first.get("created").get("store_fd").asInt() >= 1 << 24,
                "needs the daemon's never-reused disk store keys (a freed file's fd number is reused otherwise)");
        try (Blob b = vineyard.client().get(idOf(first), Blob.class)) {
            assertFilled(b, (byte) 1, "the first disk blob");
        }
        vineyard.client().delete(idOf(first));
        vineyard.client().flushReleases();
        ObjectNode second = diskBlob(size, (byte) 2);
        try (Blob b = vineyard.client().get(idOf(second), Blob.class);
             IpcClient reader = IpcClient.connect(vineyard.daemon().socket()); Blob r = reader.get(idOf(second), Blob.class)) {
            assertFilled(b, (byte) 2, "the second disk blob, read by its writer");
            assertFilled(r, (byte) 2, "the second disk blob, read by another client (the daemon's file)");
        }
        vineyard.client().delete(idOf(second));
    }
}
