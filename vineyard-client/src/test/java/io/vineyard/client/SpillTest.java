package io.vineyard.client;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vineyard.common.Json;
import io.vineyard.common.Status;
import io.vineyard.common.VineyardException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import java.util.zip.CRC32;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Spilling against a real daemon in its own process, with real IPC and RPC clients: vineyard's LRU
 * script, concurrent spill and reload, a full spill disk, a client killed mid-reload and the restart
 * rule. After each test every blob is deleted, usage is back to 0 and the spill directory is empty.
 */
class SpillTest {
    @TempDir
    Path spillDir;
    private DaemonProcess daemon;
    private final List<AutoCloseable> closeAfter = new ArrayList<>();
    private Path mounted;

    @AfterEach
    void checkInvariants() throws Exception {
        try {
            Collections.reverse(closeAfter);
            for (AutoCloseable c : closeAfter) {
                c.close();
            }
            checkDaemon();
        } finally {
            if (mounted != null) {
                new ProcessBuilder("umount", mounted.toString()).start().waitFor();
            }
        }
    }

    private void checkDaemon() throws IOException {
        if (daemon != null && daemon.isAlive()) {
            try (IpcClient c = IpcClient.connect(daemon.socket())) {
                for (ObjectId id : blobsOf(c)) {
                    c.delete(id);
                }
                assertEquals(0, c.status().memoryUsage(), "usage after deleting every blob");
                assertEquals(0, spillStats(c).get("spilled_bytes").asLong(), "spilled bytes after deleting every blob");
            }
            assertEquals(List.of(), spillFiles().stream().filter(f -> !f.endsWith(".vineyardd.lock")).toList(),
                    "deleting a spilled blob deletes its file");
            daemon.close();
        }
        assertEquals(List.of(), spillFiles(), "no spill file outlives the daemon");
    }

    private DaemonProcess start(String... flags) throws IOException {
        List<String> args = new ArrayList<>(List.of("--spill_path=" + spillDir));
        args.addAll(List.of(flags));
        daemon = DaemonProcess.start(args.toArray(String[]::new));
        return daemon;
    }

    private List<Path> spillFiles() throws IOException {
        if (!Files.isDirectory(spillDir)) {
            return List.of();
        }
        try (Stream<Path> s = Files.list(spillDir)) {
            return s.toList();
        }
    }

    private static List<ObjectId> blobsOf(IpcClient c) {
        return c.list("vineyard::Blob", 100_000).stream().map(m -> m.id()).toList();
    }

    private static ObjectNode spillStats(IpcClient c) {
        ObjectNode r = Json.object();
        r.put("type", "server_stats_request");
        return (ObjectNode) c.connection().request(r).get("spill");
    }

    private static long crc(MemorySegment s) {
        CRC32 crc = new CRC32();
        crc.update(s.asByteBuffer());
        return crc.getValue();
    }

    // ---- vineyard's test/lru_spill_test.cc ---------------------------------------------------------

    /** 250 doubles 0..249: the arrays of vineyard's script. */
    private static final int ARRAY_BYTES = 250 * Double.BYTES;

    private static void fillArray(MemorySegment s) {
        for (int i = 0; i < 250; i++) {
            s.setAtIndex(ValueLayout.JAVA_DOUBLE, i, i);
        }
    }

    private static void assertArray(MemorySegment s) {
        for (int i = 0; i < 250; i++) {
            assertEquals(i, s.getAtIndex(ValueLayout.JAVA_DOUBLE, i), "element " + i);
        }
    }

    /** Creates an array's blob, seals and releases it; the daemon has seen the release on return. */
    private static ObjectId create(Client c) {
        BlobWriter w = c.createBlob(ARRAY_BYTES);
        fillArray(w.segment());
        ObjectId id;
        try (Blob b = w.seal()) {
            id = b.id();
        }
        settle(c);
        return id;
    }

    /** Gets an array, checks its values and releases it; the daemon has seen the release on return. */
    private static void get(Client c, ObjectId id) {
        try (VineyardObject o = c.getObject(id)) {
            assertArray(o.blob(id).segment());
        }
        settle(c);
    }

    /** A round trip after the pending releases: the daemon handled them before it answers. */
    private static void settle(Client c) {
        c.flushReleases();
        c.isInUse(ObjectId.EMPTY_BLOB);
    }

    private static void assertResident(Client c, List<ObjectId> arrays, int... resident) {
        Set<Integer> want = new TreeSet<>();
        for (int r : resident) {
            want.add(r);
        }
        Set<Integer> seen = new TreeSet<>();
        for (int i = 1; i < arrays.size(); i++) {
            if (!c.isSpilled(arrays.get(i))) {
                seen.add(i);
            }
        }
        assertEquals(want, seen, "arrays in memory (the others spilled)");
    }

    /**
     * The 15 steps of vineyard's lru_spill_test.cc with its pool (8000 bytes, watermarks 0.5 / 0.8),
     * IPC and RPC clients as there; after each step the arrays in memory are exactly those the script's
     * comments list (vineyard's test checks only some of them), and every get sees the array's values.
     */
    @Test
    void vineyardsLruSpillScript() throws IOException {
        start("--size=8000", "--spill_lower_rate=0.5", "--spill_upper_rate=0.8");
        IpcClient ipc = IpcClient.connect(daemon.socket());
        closeAfter.add(ipc);
        RpcClient rpc = RpcClient.connect("127.0.0.1", daemon.rpcPort());
        closeAfter.add(rpc);
        List<ObjectId> a = new ArrayList<>(Collections.nCopies(11, null));
        a.set(1, create(ipc));
        a.set(2, create(ipc));
        assertResident(ipc, a.subList(0, 3), 1, 2);
        a.set(3, create(rpc));
        a.set(4, create(rpc));
        assertResident(ipc, a.subList(0, 5), 3, 4);                       // step 2: 1, 2 spilled
        get(rpc, a.get(2));
        assertResident(ipc, a.subList(0, 5), 3, 4, 2);                    // step 3
        a.set(5, create(ipc));
        assertResident(ipc, a.subList(0, 6), 2, 5);                       // step 4: 3, 4 spilled
        get(ipc, a.get(2));
        assertResident(ipc, a.subList(0, 6), 5, 2);                       // step 5
        get(ipc, a.get(4));
        assertResident(ipc, a.subList(0, 6), 5, 2, 4);                    // step 6
        a.set(6, create(rpc));
        assertResident(ipc, a.subList(0, 7), 4, 6);                       // step 7: 5, 2 spilled
        get(rpc, a.get(1));
        assertResident(ipc, a.subList(0, 7), 4, 6, 1);                    // step 8
        get(rpc, a.get(3));
        assertResident(ipc, a.subList(0, 7), 1, 3);                       // step 9: 4, 6 spilled
        get(rpc, a.get(6));
        assertResident(ipc, a.subList(0, 7), 1, 3, 6);                    // step 10
        get(ipc, a.get(3));
        get(ipc, a.get(4));
        assertResident(ipc, a.subList(0, 7), 3, 4);                       // step 11: 1, 6 spilled
        a.set(7, create(rpc));
        assertResident(ipc, a.subList(0, 8), 3, 4, 7);                    // step 12
        a.set(8, create(ipc));
        a.set(9, create(ipc));
        a.set(10, create(ipc));
        assertResident(ipc, a, 9, 10);                                    // step 13: 3, 4, then 7, 8 spilled
        get(rpc, a.get(5));
        get(rpc, a.get(3));
        get(rpc, a.get(1));
        assertResident(ipc, a, 5, 3, 1);                                  // step 14: 9, 10 spilled
        get(ipc, a.get(2));
        get(ipc, a.get(4));
        get(ipc, a.get(6));
        assertResident(ipc, a, 4, 6);                                     // step 15: 5, 3, then 1, 2 spilled
        for (int i = 1; i <= 10; i++) {
            get(i % 2 == 0 ? ipc : rpc, a.get(i)); // and every array still has its values
        }
    }

    // ---- concurrency -------------------------------------------------------------------------------

    /**
     * 20 threads (each its own connection) put 2 KB objects and get random earlier ones over a 10 MiB
     * pool, 10,000 operations, spilling and reloading throughout; afterwards every object reads back
     * with its original checksum.
     */
    @Test
    void twentyThreadsPutAndGetWhileSpillingAndEveryChecksumSurvives() throws Exception {
        start("--size=10Mi");
        Map<ObjectId, Long> sums = new ConcurrentHashMap<>();
        List<ObjectId> ids = Collections.synchronizedList(new ArrayList<>());
        ExecutorService pool = Executors.newFixedThreadPool(20);
        List<Future<?>> done = new ArrayList<>();
        for (int t = 0; t < 20; t++) {
            int seed = t;
            done.add(pool.submit(() -> {
                Random rnd = new Random(seed);
                try (IpcClient c = IpcClient.connect(daemon.socket())) {
                    for (int op = 0; op < 500; op++) {
                        if (ids.size() < 20 || rnd.nextBoolean()) {
                            BlobWriter w = c.createBlob(2048);
                            byte[] data = new byte[2048];
                            rnd.nextBytes(data);
                            w.segment().copyFrom(MemorySegment.ofArray(data));
                            try (Blob b = w.seal()) {
                                sums.put(b.id(), crc(b.segment()));
                                ids.add(b.id());
                            }
                        } else {
                            ObjectId id = ids.get(rnd.nextInt(ids.size()));
                            try (VineyardObject o = c.getObject(id)) {
                                assertEquals(sums.get(id), crc(o.blob(id).segment()), "checksum of " + id + " during the run");
                            }
                        }
                    }
                }
                return null;
            }));
        }
        for (Future<?> f : done) {
            f.get(5, TimeUnit.MINUTES);
        }
        pool.shutdown();
        try (IpcClient c = IpcClient.connect(daemon.socket())) {
            ObjectNode before = spillStats(c);
            assertTrue(before.get("spills").asLong() > 0 && before.get("reloads").asLong() > 0,
                    "spilling and reloading ran: " + before);
            for (ObjectId id : List.copyOf(ids)) {
                try (VineyardObject o = c.getObject(id)) {
                    assertEquals(sums.get(id), crc(o.blob(id).segment()), "checksum of " + id + " afterwards");
                }
            }
            assertEquals(0, spillStats(c).get("failures").asLong());
        }
    }

    /**
     * A client killed by SIGKILL while the daemon reloads a blob for it: the reload completes, the
     * blob is readable by others with its bytes, and the dead client holds nothing.
     */
    @Test
    void aClientKilledDuringAReloadLeavesTheBlobWholeAndUnheld() throws Exception {
        start("--size=1Gi");
        IpcClient c = IpcClient.connect(daemon.socket());
        closeAfter.add(c);
        BlobWriter w = c.createBlob(512L << 20);
        new Random(7).ints(0, 256).limit(4096).forEach(i -> w.segment().set(ValueLayout.JAVA_BYTE, i * 131072L, (byte) i));
        ObjectId id;
        long sum;
        try (Blob b = w.seal()) {
            id = b.id();
            sum = crc(b.segment());
        }
        settle(c);
        assertEquals(1, c.evict(id));
        Process peer = new ProcessBuilder(DaemonProcess.javaBin(), "--enable-native-access=ALL-UNNAMED",
                "-cp", System.getProperty("java.class.path"), BlobPeer.class.getName(), daemon.socket(),
                Long.toUnsignedString(id.value())).redirectErrorStream(true).start();
        boolean sawReload = false;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline && c.isSpilled(id)) {
            if (spillStats(c).get("loading_blobs").asInt() == 1) {
                sawReload = true;
                peer.destroyForcibly();
                break;
            }
        }
        peer.waitFor(10, TimeUnit.SECONDS);
        assertTrue(sawReload, "the peer's get started a reload, and it was killed during it");
        try (VineyardObject o = c.getObject(id)) {
            assertEquals(sum, crc(o.blob(id).segment()), "the reloaded blob's bytes");
        }
        settle(c);
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (c.isInUse(id) && System.nanoTime() < until) {
            Thread.onSpinWait(); // the dead peer's connection is released once the daemon sees it gone
        }
        assertFalse(c.isInUse(id), "nobody holds the blob after the killed client is gone");
        assertEquals(0, spillStats(c).get("loading_blobs").asInt());
    }

    // ---- the disk ----------------------------------------------------------------------------------

    /**
     * A 64 KiB tmpfs as the spill directory fills up: allocations then fail with NotEnoughMemory saying
     * why, an evict fails with IOError, and every blob that was put reads back with its bytes.
     */
    @Test
    void aFullSpillDiskGivesTypedErrorsAndLosesNothing() throws Exception {
        Path mnt = spillDir.resolve("tmpfs");
        Files.createDirectories(mnt);
        Process mount = new ProcessBuilder("mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", mnt.toString())
                .redirectErrorStream(true).start();
        assumeTrue(mount.waitFor() == 0, "mounting a tmpfs needs root: " + new String(mount.getInputStream().readAllBytes()));
        mounted = mnt;
        spillDir = mnt; // the invariants are checked in the tmpfs
        daemon = DaemonProcess.start("--spill_path=" + mnt, "--size=256Ki");
        IpcClient c = IpcClient.connect(daemon.socket());
        closeAfter.add(c);
        Map<ObjectId, Long> sums = new java.util.LinkedHashMap<>();
        Random rnd = new Random(3);
        VineyardException full = null;
        for (int i = 0; i < 200 && full == null; i++) {
            try {
                BlobWriter w = c.createBlob(16 << 10);
                byte[] data = new byte[16 << 10];
                rnd.nextBytes(data);
                w.segment().copyFrom(MemorySegment.ofArray(data));
                try (Blob b = w.seal()) {
                    sums.put(b.id(), crc(b.segment()));
                }
                settle(c);
            } catch (VineyardException e) {
                full = e;
            }
        }
        assertTrue(full instanceof VineyardException.NotEnoughMemory, "a put fails once the disk is full: " + full);
        assertTrue(full.getMessage().contains("No space left on device"), full.getMessage());
        assertTrue(spillStats(c).get("spilled_blobs").asInt() > 0, "some blobs did spill before the disk filled");
        ObjectId resident = sums.keySet().stream().filter(id -> !c.isSpilled(id)).findFirst().orElseThrow();
        VineyardException e = assertThrows(VineyardException.class, () -> c.evict(resident));
        assertEquals(Status.IO_ERROR, e.status(), e.getMessage());
        assertFalse(c.isSpilled(resident), "a blob whose spill failed stays in memory");
        List<ObjectId> onDisk = sums.keySet().stream().filter(c::isSpilled).toList();
        int room = 0;
        for (Map.Entry<ObjectId, Long> s : sums.entrySet()) {
            if (!onDisk.contains(s.getKey())) {
                assertContent(c, s.getKey(), s.getValue());
                if (room++ < onDisk.size()) {
                    c.delete(s.getKey()); // the pool is full: make room to read the spilled ones back
                }
            }
        }
        for (ObjectId id : onDisk) {
            assertContent(c, id, sums.get(id));
        }
    }

    private static void assertContent(IpcClient c, ObjectId id, long sum) {
        try (VineyardObject o = c.getObject(id)) {
            assertEquals(sum, crc(o.blob(id).segment()), "blob " + id);
        }
        settle(c);
    }

    /**
     * The restart rule: a daemon killed with SIGKILL leaves its spill files; the next daemon on the
     * same --spill_path deletes them and says so; a daemon stopped cleanly leaves none.
     */
    @Test
    void aRestartedDaemonReportsTheSpilledBlobsGoneAndDeletesTheirFiles() throws Exception {
        start("--size=1Mi");
        try (IpcClient c = IpcClient.connect(daemon.socket())) {
            BlobWriter w = c.createBlob(4096);
            ObjectId id;
            try (Blob b = w.seal()) {
                id = b.id();
            }
            settle(c);
            c.evict(id);
        }
        assertEquals(1, spillFiles().stream().filter(p -> p.toString().endsWith(".spill")).count());
        daemon.kill();
        closeAfter.add(daemon);
        assertEquals(1, spillFiles().stream().filter(p -> p.toString().endsWith(".spill")).count(),
                "a killed daemon could not delete its file");
        start("--size=1Mi");
        assertEquals(List.of(), spillFiles().stream().filter(p -> p.toString().endsWith(".spill")).toList());
        assertTrue(daemon.log().contains("deleted 1 spilled blob(s) (4096 bytes) left by a previous vineyardd"), daemon.log());
    }
}
