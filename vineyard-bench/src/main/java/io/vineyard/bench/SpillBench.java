package io.vineyard.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vineyard.client.Blob;
import io.vineyard.client.BlobWriter;
import io.vineyard.client.IpcClient;
import io.vineyard.client.ObjectId;
import io.vineyard.client.VineyardObject;
import io.vineyard.common.Json;
import io.vineyard.common.posix.Posix;
import io.vineyard.server.memory.SharedMemoryPool;
import org.HdrHistogram.Histogram;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Spilling end to end, against the raw disk it spills to, measured in the same run.
 *
 * <ol>
 *   <li>Raw disk: write 3x the pool as 64 MiB files with {@link FileChannel} from off-heap memory (as
 *       the daemon writes spill files), read them back in random order; and once more with an
 *       {@code fdatasync} per file (the device itself).</li>
 *   <li>Spill: put 3x the pool as 64 MiB blobs into a daemon with {@code --spill_path} on the same
 *       file system, then get them all back in random order. Spill and reload bandwidth are the
 *       bytes over the daemon's own I/O time ({@code server_stats.spill}), next to the end-to-end
 *       put and get rates.</li>
 *   <li>Latency: gets of a small pinned (resident) blob on an idle daemon, then while another client
 *       keeps putting 64 MiB blobs that make the daemon spill (HdrHistogram percentiles).</li>
 * </ol>
 *
 * The raw write runs twice (the first warms the page cache up) and the latency gets once before
 * they are measured (JIT warm-up).
 *
 * Run: {@code bin/bench-spill [--pool=1Gi] [--dir=/var/tmp/...] [--gets=20000]}.
 */
public final class SpillBench {
    private static final long MIB = 1L << 20;
    private static final long BLOB = 64 * MIB;

    private SpillBench() {
    }

    public static void main(String[] args) throws Exception {
        long pool = 1L << 30;
        Path base = Path.of(System.getProperty("java.io.tmpdir"));
        int gets = 20_000;
        for (String a : args) {
            if (a.startsWith("--pool=")) {
                pool = io.vineyard.server.ServerConfig.parseSize(a.substring(7));
            } else if (a.startsWith("--dir=")) {
                base = Path.of(a.substring(6));
            } else if (a.startsWith("--gets=")) {
                gets = Integer.parseInt(a.substring(7));
            } else {
                throw new IllegalArgumentException("unknown option " + a + " (--pool=SIZE --dir=PATH --gets=N)");
            }
        }
        int count = (int) (3 * pool / BLOB);
        Path work = Files.createTempDirectory(base, "vineyard-spill-bench-");
        try {
            run(pool, count, work, gets);
        } finally {
            SdkBench.deleteTree(work);
        }
    }

    private static void run(long pool, int count, Path work, int gets) throws Exception {
        FileStore fs = Files.getFileStore(work);
        System.out.printf("spill benchmark: pool %d MiB, %d x 64 MiB blobs (%d MiB, 3x the pool), spill dir %s (%s on %s)%n",
                pool / MIB, count, count * BLOB / MIB, work, fs.type(), fs.name());
        Path raw = Files.createDirectories(work.resolve("raw"));
        rawWrite(raw, count, false); // warm-up: the page cache makes room for 3x the pool once
        SdkBench.deleteTree(raw);
        Files.createDirectories(raw);
        double rawWrite = rawWrite(raw, count, false);
        double rawRead = rawRead(raw, count, null);
        double rawReadFresh;
        try (SharedMemoryPool fresh = SharedMemoryPool.create(BLOB, false)) {
            rawReadFresh = rawRead(raw, count, fresh);
        }
        SdkBench.deleteTree(raw);
        Files.createDirectories(raw);
        double rawSync = rawWrite(raw, count, true);
        SdkBench.deleteTree(raw);

        Path socket = work.resolve("vineyard.sock");
        Process daemon = SdkBench.startDaemon(socket, "--size=" + pool, "--spill_path=" + work.resolve("spill"));
        try (IpcClient c = IpcClient.connect(socket.toString())) {
            List<ObjectId> ids = new ArrayList<>();
            long t0 = System.nanoTime();
            for (int i = 0; i < count; i++) {
                ids.add(put(c, i));
            }
            long putNs = System.nanoTime() - t0;
            JsonNode afterPut = spillStats(c);
            Collections.shuffle(ids, new Random(42));
            t0 = System.nanoTime();
            for (ObjectId id : ids) {
                try (VineyardObject o = c.getObject(id)) {
                    o.blob(id).segment().get(ValueLayout.JAVA_BYTE, BLOB - 1);
                }
            }
            long getNs = System.nanoTime() - t0;
            JsonNode afterGet = spillStats(c);
            c.delete(ids.toArray(ObjectId[]::new));

            double spill = gbps(afterPut.get("spill_bytes_total").asLong(), afterPut.get("spill_ns_total").asLong());
            double reload = gbps(afterGet.get("reload_bytes_total").asLong(), afterGet.get("reload_ns_total").asLong());
            System.out.printf("%n%-52s %8s %10s%n", "bandwidth", "GB/s", "of raw");
            row("raw sequential write, 64 MiB files (page cache)", rawWrite, 0);
            row("spill: daemon write time, " + afterPut.get("spills").asLong() + " blobs spilled during the puts", spill, rawWrite);
            row("raw read, the same files in random order", rawRead, 0);
            row("raw read into fresh shared memory (as a reload must)", rawReadFresh, rawRead);
            row("reload: daemon read time, " + afterGet.get("reloads").asLong() + " reloads during the gets", reload, rawRead);
            row("  the same, against the read into fresh memory", reload, rawReadFresh);
            row("raw write + fdatasync per file (the device)", rawSync, 0);
            row("put 3x the pool end to end (client)", gbps((long) count * BLOB, putNs), 0);
            row("get all back in random order end to end (client)", gbps((long) count * BLOB, getNs), 0);

            latency(c, socket, gets);
        } finally {
            SdkBench.stop(daemon);
        }
    }

    private static void row(String what, double gbps, double baseline) {
        System.out.printf("%-52s %8.2f %10s%n", what, gbps, baseline > 0 ? String.format("%.0f%%", 100 * gbps / baseline) : "");
    }

    private static double gbps(long bytes, long nanos) {
        return nanos == 0 ? 0 : bytes / (double) nanos;
    }

    /** Puts one 64 MiB blob with every page written, sealed and released. */
    private static ObjectId put(IpcClient c, int i) {
        BlobWriter w = c.createBlob(BLOB);
        w.segment().fill((byte) i);
        try (Blob b = w.seal()) {
            return b.id();
        }
    }

    private static JsonNode spillStats(IpcClient c) {
        c.flushReleases();
        ObjectNode r = Json.object();
        r.put("type", "server_stats_request");
        return c.connection().request(r).get("spill");
    }

    private static double rawWrite(Path dir, int count, boolean sync) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment src = arena.allocate(BLOB, 4096);
            src.fill((byte) 1);
            long t0 = System.nanoTime();
            for (int i = 0; i < count; i++) {
                try (FileChannel ch = FileChannel.open(dir.resolve(i + ".raw"), StandardOpenOption.CREATE_NEW,
                        StandardOpenOption.WRITE)) {
                    ByteBuffer b = src.asByteBuffer();
                    while (b.hasRemaining()) {
                        ch.write(b);
                    }
                    if (sync) {
                        ch.force(false);
                    }
                }
            }
            return gbps(count * BLOB, System.nanoTime() - t0);
        }
    }

    /**
     * Reads the files back in random order into one reused buffer, or with {@code fresh} into a memfd
     * whose pages are punched out before each file and faulted in with one call (what a reload does:
     * a spilled blob's pages went back to the OS).
     */
    private static double rawRead(Path dir, int count, SharedMemoryPool fresh) throws IOException {
        List<Integer> order = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            order.add(i);
        }
        Collections.shuffle(order, new Random(42));
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment dst = fresh != null ? fresh.segment().asSlice(0, BLOB) : arena.allocate(BLOB, 4096);
            dst.fill((byte) 0);
            long ns = 0;
            for (int i : order) {
                if (fresh != null) {
                    fresh.trim(0, BLOB); // not timed: the daemon punches when it spills
                }
                long t0 = System.nanoTime();
                if (fresh != null) {
                    Posix.populateWrite(dst.address(), BLOB);
                }
                try (FileChannel ch = FileChannel.open(dir.resolve(i + ".raw"), StandardOpenOption.READ)) {
                    ByteBuffer b = dst.asByteBuffer();
                    while (b.hasRemaining() && ch.read(b) >= 0) {
                        // fill
                    }
                }
                ns += System.nanoTime() - t0;
            }
            return gbps(count * BLOB, ns);
        }
    }

    /** Get latency of a small pinned blob: idle, then while another client makes the daemon spill. */
    private static void latency(IpcClient c, Path socket, int gets) throws Exception {
        BlobWriter w = c.createBlob(4096);
        ObjectId small;
        try (Blob b = w.seal()) {
            small = b.id();
        }
        c.load(true, small);
        measure(c, small, gets); // warm-up: both JVMs compile the get path first
        Histogram idle = measure(c, small, gets);
        AtomicBoolean stop = new AtomicBoolean();
        long spillsBefore = spillStats(c).get("spills").asLong();
        Thread putter = Thread.ofPlatform().name("spilling-putter").start(() -> {
            try (IpcClient p = IpcClient.connect(socket.toString())) {
                ArrayDeque<ObjectId> window = new ArrayDeque<>();
                for (int i = 0; !stop.get(); i++) {
                    window.add(put(p, i));
                    if (window.size() > 40) {
                        p.delete(window.poll()); // keeps the spill directory bounded
                    }
                }
                p.delete(window.toArray(ObjectId[]::new));
            }
        });
        while (spillStats(c).get("spills").asLong() == spillsBefore) {
            Thread.onSpinWait(); // measure once spilling runs
        }
        Histogram busy = measure(c, small, gets);
        long spills = spillStats(c).get("spills").asLong() - spillsBefore;
        stop.set(true);
        putter.join();
        c.unpin(small);
        c.delete(small);
        System.out.printf("%n%-52s %8s %8s %8s%n", "get of a resident 4 KiB blob (us)", "p50", "p90", "p99");
        printLatency("idle daemon", idle, null);
        printLatency("while another client spills (" + spills + " blobs spilled)", busy, idle);
    }

    private static Histogram measure(IpcClient c, ObjectId id, int gets) {
        Histogram h = new Histogram(3);
        for (int i = 0; i < gets; i++) {
            long t0 = System.nanoTime();
            try (VineyardObject o = c.getObject(id)) {
                o.blob(id).segment().get(ValueLayout.JAVA_BYTE, 0);
            }
            h.recordValue((System.nanoTime() - t0) / 10); // in tenths of a microsecond
        }
        return h;
    }

    private static void printLatency(String what, Histogram h, Histogram base) {
        double p50 = h.getValueAtPercentile(50) / 100.0;
        System.out.printf("%-52s %8.1f %8.1f %8.1f%s%n", what, h.getValueAtPercentile(50) / 10.0,
                h.getValueAtPercentile(90) / 10.0, h.getValueAtPercentile(99) / 10.0,
                base == null ? "" : String.format("   p50 %+.0f%% of idle", 100 * (p50 / (base.getValueAtPercentile(50) / 100.0) - 1)));
    }
}
