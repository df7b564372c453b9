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
 * The pool's warm part ({@code --warm_memory}): pre-faulted in the background once the daemon listens,
 * kept through deletes so that the next puts skip the first-touch faults, and returned by
 * {@code memory_trim}. Measured as the pool memfd's bytes in memory.
 */
class WarmMemoryTest {
    private static final long MIB = 1L << 20;
    private static final long WARM = 64 * MIB;

    @RegisterExtension
    final TestDaemon vineyard = new TestDaemon("--size=1Gi", "--warm_memory=64Mi", "--dirty_decay_ms=0");

    private long memfd() throws Exception {
        return PoolPages.memfdBytes(vineyard.daemon().pid());
    }

    private ObjectId putFilled(IpcClient client, long size) {
        BlobWriter w = client.createBlob(size);
        w.segment().fill((byte) 7);
        try (Blob b = w.seal()) {
            return b.id();
        }
    }

    @Test
    void theWarmPartIsPrefaultedKeptThroughDeletesAndReturnedByTrim() throws Exception {
        IpcClient client = vineyard.client();
        assertEquals(WARM, PoolPages.awaitPrefault(client));
        long warmStart = memfd();
        assertTrue(warmStart >= WARM, "the warm part is in memory before any put: " + warmStart);

        // a blob inside the warm part: its delete keeps the pages for the next put
        ObjectId small = putFilled(client, 32 * MIB);
        client.delete(small);
        client.flushReleases();
        assertTrue(memfd() >= WARM, "a delete inside the warm part keeps its pages: " + memfd());

        // blobs beyond it: their pages go back to the OS at the delete (#1620)
        List<ObjectId> big = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            big.add(putFilled(client, 64 * MIB));
        }
        assertTrue(memfd() >= WARM + 2 * 64 * MIB, "the puts beyond the warm part are in memory: " + memfd());
        client.delete(big.toArray(ObjectId[]::new));
        client.flushReleases();
        long afterDeletes = memfd();
        assertTrue(afterDeletes >= WARM && afterDeletes <= warmStart + 2 * MIB,
                "back to the warm part after deletes beyond it: " + afterDeletes + " (warm part in memory at the start: " + warmStart + ")");

        // memory_trim returns every free page, the warm ones too
        ObjectNode trim = Json.object();
        trim.put("type", "memory_trim_request");
        assertTrue(client.connection().request(trim).get("trimmed").asBoolean());
        assertTrue(memfd() <= 2 * MIB, "memory_trim returned the warm part: " + memfd());
        assertEquals(vineyard.baseline(), client.status().memoryUsage());
    }
}
