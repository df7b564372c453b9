package io.vineyard.client;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vineyard.common.Json;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Deleted memory goes back to the OS after large deletes with trim. Measured as the resident pages of
 * this process's own mapping of the pool (/proc/self/smaps): punching a hole in the memfd drops them
 * from every mapping, and unlike the machine-wide Shmem of /proc/meminfo, nobody else changes them.
 */
class TrimTest {
    private static final long BLOB = 128L << 20;

    @RegisterExtension
    final TestDaemon vineyard = new TestDaemon("--size=2Gi", "--dirty_decay_ms=" + DECAY_MS);

    /** A short dirty decay: plain deletes return their pages this long after the free (DirtyDecayTest: a long one). */
    private static final long DECAY_MS = 200;

    /** Resident bytes of this process's mapping of the daemon's pool. */
    private long poolRssBytes() throws IOException {
        MemorySegment pool = vineyard.client().connection().storeMappings().stream()
                .max(Comparator.comparingLong(MemorySegment::byteSize)).orElse(null);
        if (pool == null) {
            return 0; // not mapped yet: nothing of it is resident here
        }
        String start = Long.toHexString(pool.address()) + "-";
        boolean inPool = false;
        for (String line : Files.readAllLines(Path.of("/proc/self/smaps"))) {
            if (line.matches("^[0-9a-f]+-[0-9a-f]+ .*")) {
                inPool = line.startsWith(start);
            } else if (inPool && line.startsWith("Rss:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
            }
        }
        throw new IOException("the pool mapping at " + start + " is not in /proc/self/smaps");
    }

    private List<ObjectId> putEight(IpcClient client) {
        List<ObjectId> ids = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            BlobWriter w = client.createBlob(BLOB);
            w.segment().fill((byte) (i + 1)); // every page touched
            ids.add(w.seal().id());
        }
        return ids;
    }

    @Test
    void memoryTrimReturnsTheFreedPagesOfEightLargeDeletes() throws IOException {
        IpcClient client = vineyard.client();
        long start = poolRssBytes();
        List<ObjectId> ids = putEight(client);
        assertTrue(poolRssBytes() - start >= 6 * BLOB, "the puts made the pool resident");
        client.delete(ids.toArray(ObjectId[]::new));
        client.flushReleases();
        ObjectNode trim = Json.object();
        trim.put("type", "memory_trim_request");
        ObjectNode reply = client.connection().request(trim);
        assertTrue(reply.get("trimmed").asBoolean());
        assertTrue(reply.get("trimmed_bytes").asLong() >= 8 * BLOB);
        long after = poolRssBytes();
        assertTrue(after - start <= 2 * BLOB, "resident pool pages back to within 256 MB of the start: " + (after - start));
    }

    /** Shmem of /proc/meminfo: every process's shared memory (this machine's other daemons too). */
    private static long shmemBytes() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
            if (line.startsWith("Shmem:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
            }
        }
        throw new IOException("no Shmem line in /proc/meminfo");
    }

    private long poolFileBytes() throws IOException, InterruptedException {
        return PoolPages.memfdBytes(vineyard.daemon().pid());
    }

    /**
     * Plain deletes (no {@code memory_trim}) of 8 x 128 MB: the pages of blobs of 1 MiB and more are
     * punched out of the pool's memfd once the dirty decay has passed since they were freed, but for the
     * pool's warm part (256 MiB by default, kept for the next puts), so Shmem falls back to within
     * 2 x 128 MB of the start.
     */
    @Test
    void plainDeletesOfLargeBlobsReturnTheirPagesToTheOsOnceTheDecayEnds() throws Exception {
        IpcClient client = vineyard.client();
        long warm = PoolPages.awaitPrefault(client);
        assertEquals(2 * BLOB, warm, "the default warm part");
        long shmemStart = shmemBytes();
        long fileStart = poolFileBytes();
        List<ObjectId> ids = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            BlobWriter w = client.createBlob(BLOB);
            w.segment().fill((byte) (i + 1));
            try (Blob b = w.seal()) {
                ids.add(b.id());
            }
        }
        assertTrue(poolFileBytes() - fileStart >= 8 * BLOB - warm, "the puts beyond the warm part are in memory");
        long shmemPeak = shmemBytes();
        client.delete(ids.toArray(ObjectId[]::new));
        client.flushReleases();
        assertEquals(vineyard.baseline(), client.status().memoryUsage());
        long deadline = System.nanoTime() + 30_000_000_000L;
        while (poolFileBytes() - fileStart > BLOB / 16 && System.nanoTime() < deadline) {
            Thread.sleep(DECAY_MS / 4); // polling a condition, bounded by the deadline
        }
        long shmemAfter = shmemBytes();
        long file = poolFileBytes() - fileStart;
        System.out.printf("8 x 128 MB put then deleted: pool memfd %+d MB; Shmem %+d MB at the peak, %+d MB after%n",
                file >> 20, (shmemPeak - shmemStart) >> 20, (shmemAfter - shmemStart) >> 20);
        // the warm part was in memory at the start already: all that the puts added went back
        assertTrue(file <= BLOB / 16, "the pool's memfd back to within 8 MB of the start: " + file);
        // Shmem is machine-wide and other processes' tests change it meanwhile: what the deletes did is
        // its fall across them, which must take it to within 256 MB of where the puts started
        assertTrue(shmemPeak - shmemAfter >= 4 * BLOB, "Shmem fell by " + ((shmemPeak - shmemAfter) >> 20)
                + " MB at the deletes (puts added " + ((shmemPeak - shmemStart) >> 20) + " MB)");
    }

    @Test
    void aDeleteWithMemoryTrimReturnsItsPagesAtOnce() throws IOException {
        IpcClient client = vineyard.client();
        long start = poolRssBytes();
        List<ObjectId> ids = putEight(client);
        ObjectNode del = Json.object();
        del.put("type", "del_data_request");
        ids.forEach(id -> del.withArray("id").add(Json.u64(id.value())));
        del.put("force", false);
        del.put("deep", true);
        del.put("memory_trim", true);
        del.put("fastpath", false);
        client.connection().request(del);
        long after = poolRssBytes();
        assertTrue(after - start <= 2 * BLOB, "resident pool pages back to within 256 MB of the start: " + (after - start));
        assertEquals(vineyard.baseline(), client.status().memoryUsage());
    }
}
