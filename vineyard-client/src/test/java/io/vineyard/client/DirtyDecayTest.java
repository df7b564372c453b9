package io.vineyard.client;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vineyard.common.Json;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code --dirty_decay_ms}: the pages of blobs freed by a plain delete stay in memory for the decay, so
 * the next puts reuse them instead of fresh pages the kernel must zero; {@code memory_trim} still returns
 * them at once. (TrimTest: they go back to the OS once a short decay ends.)
 */
class DirtyDecayTest {
    private static final long MIB = 1L << 20;
    private static final long BLOB = 64 * MIB;

    /** A decay far longer than the test: nothing is punched by it while the test runs. */
    @RegisterExtension
    final TestDaemon vineyard = new TestDaemon("--size=1Gi", "--warm_memory=64Mi", "--dirty_decay_ms=600000");

    private long memfd() throws Exception {
        return PoolPages.memfdBytes(vineyard.daemon().pid());
    }

    private List<ObjectId> putFour(IpcClient client, int fill) {
        List<ObjectId> ids = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            BlobWriter w = client.createBlob(BLOB);
            w.segment().fill((byte) (fill + i)); // every page touched
            try (Blob b = w.seal()) {
                ids.add(b.id());
            }
        }
        return ids;
    }

    @Test
    void deletedPagesStayForTheNextPutsAndMemoryTrimReturnsThem() throws Exception {
        IpcClient client = vineyard.client();
        long warm = PoolPages.awaitPrefault(client);
        assertEquals(600000, PoolPages.serverStats(client).path("dirty_decay_ms").asLong());
        client.delete(putFour(client, 1).toArray(ObjectId[]::new));
        client.flushReleases();
        assertEquals(vineyard.baseline(), client.status().memoryUsage(), "the deletes freed the blobs");
        long afterDelete = memfd();
        assertTrue(afterDelete >= 4 * BLOB, "the freed pages are still in memory: " + (afterDelete >> 20) + " MB");
        assertTrue(PoolPages.serverStats(client).path("decaying_bytes").asLong() >= 4 * BLOB - warm,
                "the freed range beyond the warm part is decaying");

        List<ObjectId> again = putFour(client, 11);
        assertTrue(memfd() <= afterDelete + 2 * MIB, "the next puts reused those pages: " + (memfd() >> 20) + " MB");
        try (Blob b = client.get(again.getLast(), Blob.class)) {
            assertEquals(14, b.segment().get(java.lang.foreign.ValueLayout.JAVA_BYTE, BLOB - 1), "the new bytes, not zeros");
        }
        client.delete(again.toArray(ObjectId[]::new));
        client.flushReleases();

        ObjectNode trim = Json.object();
        trim.put("type", "memory_trim_request");
        assertTrue(client.connection().request(trim).get("trimmed").asBoolean());
        assertTrue(memfd() <= 2 * MIB, "memory_trim returned every free page: " + (memfd() >> 20) + " MB");
        assertEquals(0, PoolPages.serverStats(client).path("decaying_bytes").asLong());
        assertEquals(vineyard.baseline(), client.status().memoryUsage());
    }
}
