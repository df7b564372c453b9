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
    final TestDaemon vineyard = new TestDaemon("--size=2Gi");

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

    /** Bytes the daemon's pool memfd has in memory: its share of Shmem, which nobody else changes. */
    private long poolFileBytes() throws IOException, InterruptedException {
        Path fds = Path.of("/proc/" + vineyard.daemon().pid() + "/fd");
        try (var list = Files.list(fds)) {
            for (Path fd : list.toList()) {
                String target;
                try {
                    target = Files.readSymbolicLink(fd).toString();
                } catch (IOException gone) {
                    continue;
                }
                if (target.startsWith("/memfd:vineyard-bulk")) {
                    Process stat = new ProcessBuilder("stat", "-L", "-c", "%b %B", fd.toString()).start();
                    String[] out = new String(stat.getInputStream().readAllBytes()).trim().split(" ");
                    stat.waitFor();
                    return Long.parseLong(out[0]) * Long.parseLong(out[1]);
                }
            }
        }
        throw new IOException("the daemon has no pool memfd open");
    }

    /**
     * Plain deletes (no {@code memory_trim}) of 8 x 128 MB: the pages of blobs of 1 MiB and more are
     * punched out of the pool's memfd as they are freed, so Shmem falls back to within 2 x 128 MB.
     */
    @Test
    void plainDeletesOfLargeBlobsReturnTheirPagesToTheOs() throws Exception {
        IpcClient client = vineyard.client();
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
        assertTrue(poolFileBytes() - fileStart >= 8 * BLOB, "the puts are in memory");
        long shmemPeak = shmemBytes();
        client.delete(ids.toArray(ObjectId[]::new));
        client.flushReleases();
        assertEquals(vineyard.baseline(), client.status().memoryUsage());
        long shmemAfter = shmemBytes();
        long file = poolFileBytes() - fileStart;
        System.out.printf("8 x 128 MB put then deleted: pool memfd %+d MB; Shmem %+d MB at the peak, %+d MB after%n",
                file >> 20, (shmemPeak - shmemStart) >> 20, (shmemAfter - shmemStart) >> 20);
        assertTrue(file <= 2 * BLOB, "the pool's memfd back to within 256 MB of the start: " + file);
        // Shmem is machine-wide and other processes' tests change it meanwhile: what the deletes did is
        // its fall across them, which must take it to within 256 MB of where the puts started
        assertTrue(shmemPeak - shmemAfter >= 6 * BLOB, "Shmem fell by " + ((shmemPeak - shmemAfter) >> 20)
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
