package io.vineyard.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vineyard.client.IpcConnection;
import io.vineyard.common.Json;
import io.vineyard.common.ObjectIds;
import org.HdrHistogram.Histogram;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Request latency and throughput of vineyardd, measured from a client in another process, against the
 * floor of a trivial request ({@code instance_status}) in the same run. Prints a table.
 *
 * <p>Run: {@code bin/bench} (or {@code taskset -c 0 bin/bench} to put client and daemon on one core,
 * the configuration with the lowest socket round trip on a 2-vCPU machine). Options:
 * {@code --cycles=N} per latency row (default 20000), {@code --seconds=S} per throughput row (default 3),
 * {@code --spin_us=N} for both the daemon and this client (default: theirs, 50), {@code --daemon_flag=FLAG}
 * (repeatable) passes FLAG to the daemon, e.g. {@code --daemon_flag=--metrics_port=0}.
 */
public final class DaemonBench {
    private DaemonBench() {
    }

    /** One measured scenario: a cycle of {@code requests} requests. */
    private interface Cycle {
        void run(IpcConnection c);
    }

    public static void main(String[] args) throws Exception {
        int cycles = 20_000;
        int seconds = 3;
        String spin = null;
        List<String> daemonFlags = new ArrayList<>();
        for (String a : args) {
            if (a.startsWith("--cycles=")) {
                cycles = Integer.parseInt(a.substring(9));
            } else if (a.startsWith("--seconds=")) {
                seconds = Integer.parseInt(a.substring(10));
            } else if (a.startsWith("--daemon_flag=")) {
                daemonFlags.add(a.substring("--daemon_flag=".length()));
            } else if (a.startsWith("--spin_us=")) {
                spin = a.substring(10);
                System.setProperty("vineyard.spin_us", spin); // this client's spin, read at first use
            }
        }
        Path dir = Files.createTempDirectory("vineyard-bench-");
        Path socket = dir.resolve("vineyard.sock");
        Process daemon = startDaemon(socket, spin, daemonFlags);
        try {
            run(socket.toString(), cycles, seconds);
        } finally {
            daemon.destroy();
            daemon.waitFor(10, TimeUnit.SECONDS);
            Files.deleteIfExists(socket);
            Files.deleteIfExists(dir);
        }
    }

    private static Process startDaemon(Path socket, String spin, List<String> flags) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-Xss512k", "-cp", System.getProperty("java.class.path"),
                "io.vineyard.server.Vineyardd", "--socket=" + socket, "--size=2Gi", "--norpc"));
        if (spin != null) {
            cmd.add("--spin_us=" + spin);
        }
        cmd.addAll(flags);
        if (!flags.isEmpty()) {
            System.out.println("daemon flags: " + String.join(" ", flags));
        }
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        String line = out.readLine();
        while (line != null && !line.startsWith("vineyardd ready")) {
            line = out.readLine(); // log lines (warnings about flags) may come first
        }
        if (line == null) {
            p.destroyForcibly();
            throw new IOException("vineyardd exited before its ready line");
        }
        Thread.ofPlatform().daemon(true).start(() -> {
            try {
                while (out.readLine() != null) {
                    // drain
                }
            } catch (IOException e) {
                // daemon gone
            }
        });
        return p;
    }

    private static void run(String socket, int cycles, int seconds) throws Exception {
        System.out.printf(Locale.ROOT, "vineyardd benchmark: client and daemon in separate processes, %d cycles per row, %d CPUs%n%n",
                cycles, Runtime.getRuntime().availableProcessors());
        System.out.printf(Locale.ROOT, "%-34s %5s %10s %10s %12s %12s %14s %14s %12s%n", "cycle", "reqs", "p50 us", "p99 us",
                "cycles/s", "us/request", "above floor*", "daemon us/req**", "w/o send***");
        double floorUs;
        try (IpcConnection c = IpcConnection.connect(socket)) {
            // warm every path first (the JIT compiles the daemon and this client on the same 2 cores)
            for (int i = 0; i < Math.max(5000, cycles / 2); i++) {
                status(c);
                blobCycle(c, 64);
                metaCycle(c);
            }
            Cycle floorCycle = DaemonBench::status;
            double[] daemonUs = new double[2];
            Histogram floor = measure(c, cycles, floorCycle, daemonUs);
            floorUs = floor.getValueAtPercentile(50) / 1000.0;
            row("instance_status (floor)", 1, floor, floorUs, daemonUs);
            for (int size : new int[] {64, 64 << 10, 1 << 20}) {
                Histogram h = measure(c, cycles, x -> blobCycle(x, size), daemonUs);
                row("blob " + human(size) + ": create+seal+get+delete", 4, h, floorUs, daemonUs);
            }
            Histogram meta = measure(c, cycles, DaemonBench::metaCycle, daemonUs);
            row("metadata: create_data+get_data+del", 3, meta, floorUs, daemonUs);
        }
        System.out.println();
        System.out.println("*  above floor = p50 per request minus the floor's p50 (client and daemon work beyond a trivial request)");
        System.out.println("** daemon us/req = the daemon's own mean time per request in that row, from frame read to reply written");
        System.out.println("   (server_stats_request), i.e. without the socket wake-ups that make up the floor");
        System.out.println("***w/o send = the same without the time inside the reply's send()/sendmsg() calls (where the kernel");
        System.out.println("   wakes the client): decoding, the store work and encoding");
        System.out.println();
        allocator();
        System.out.println();
        System.out.printf(Locale.ROOT, "%-34s %12s %14s%n", "throughput (blob 64 B cycles)", "connections", "cycles/s total");
        for (int n : new int[] {1, 8, 64}) {
            System.out.printf(Locale.ROOT, "%-34s %12d %14.0f%n", "", n, throughput(socket, n, seconds));
        }
    }

    /** The pool allocator alone, in this process: cost per allocate+free, and fragmentation after churn. */
    private static void allocator() {
        long capacity = 4L << 30;
        io.vineyard.server.memory.BestFitAllocator a = new io.vineyard.server.memory.BestFitAllocator(capacity);
        java.util.SplittableRandom rnd = new java.util.SplittableRandom(7);
        long[] live = new long[4096];
        long[] sizes = new long[live.length];
        for (int round = 0; round < 2; round++) { // the first round warms the JIT
            for (int i = 0; i < live.length; i++) {
                sizes[i] = rnd.nextInt(4) == 0 ? rnd.nextLong(64 << 10, 4 << 20) : rnd.nextLong(1, 4096);
                live[i] = a.allocate(sizes[i]);
            }
            int ops = 2_000_000;
            long t0 = System.nanoTime();
            for (int k = 0; k < ops; k++) {
                int i = rnd.nextInt(live.length);
                a.free(live[i], sizes[i]);
                sizes[i] = rnd.nextInt(4) == 0 ? rnd.nextLong(64 << 10, 4 << 20) : rnd.nextLong(1, 4096);
                live[i] = a.allocate(sizes[i]);
                if (live[i] < 0) {
                    throw new IllegalStateException("allocation failed at " + k);
                }
            }
            double ns = (System.nanoTime() - t0) / (double) ops;
            if (round == 1) {
                long used = 0;
                for (long sz : sizes) {
                    used += io.vineyard.server.memory.BestFitAllocator.roundUp(sz);
                }
                System.out.printf(Locale.ROOT, "allocator (in process, 4 GiB pool, 4096 live blobs of 1 B-4 MiB, random churn):%n");
                System.out.printf(Locale.ROOT, "  free+allocate: %.0f ns per pair; after %d pairs: %d free extents, largest %.1f%% of the %.0f MiB free%n",
                        ns, ops, a.freeExtents(), 100.0 * a.largestFreeExtent() / a.freeBytes(), (capacity - used) / 1048576.0);
            }
            for (int i = 0; i < live.length; i++) {
                a.free(live[i], sizes[i]);
            }
        }
    }

    private static Histogram measure(IpcConnection c, int cycles, Cycle cycle, double[] daemonUsPerRequest) {
        for (int i = 0; i < Math.max(2000, cycles / 5); i++) {
            cycle.run(c);
        }
        long[] before = daemonTotals(c);
        Histogram h = new Histogram(3);
        for (int i = 0; i < cycles; i++) {
            long t0 = System.nanoTime();
            cycle.run(c);
            h.recordValue(System.nanoTime() - t0);
        }
        long[] after = daemonTotals(c);
        long n = Math.max(1, after[0] - before[0]);
        daemonUsPerRequest[0] = (after[1] - before[1]) / 1000.0 / n;
        daemonUsPerRequest[1] = (after[2] - before[2]) / 1000.0 / n;
        return h;
    }

    /** {requests, nanoseconds} the daemon has spent so far, the stats request itself left out. */
    private static long[] daemonTotals(IpcConnection c) {
        ObjectNode r = Json.object();
        r.put("type", "server_stats_request");
        JsonNode requests = c.request(r).get("requests");
        long count = 0;
        long nanos = 0;
        long writes = 0;
        for (var it = requests.properties().iterator(); it.hasNext(); ) {
            var e = it.next();
            if (!e.getKey().equals("server_stats_request")) {
                count += e.getValue().get("count").asLong();
                nanos += e.getValue().get("total_ns").asLong();
                writes += e.getValue().get("write_ns").asLong();
            }
        }
        return new long[] {count, nanos, writes};
    }

    private static void row(String name, int requests, Histogram h, double floorUs, double[] daemonUs) {
        double p50 = h.getValueAtPercentile(50) / 1000.0;
        double p99 = h.getValueAtPercentile(99) / 1000.0;
        double perReq = p50 / requests;
        System.out.printf(Locale.ROOT, "%-34s %5d %10.1f %10.1f %12.0f %12.1f %14.1f %14.1f %12.1f%n", name, requests, p50, p99,
                1e9 / h.getMean(), perReq, perReq - floorUs, daemonUs[0], daemonUs[0] - daemonUs[1]);
    }

    private static double throughput(String socket, int connections, int seconds) throws Exception {
        AtomicLong done = new AtomicLong();
        CountDownLatch ready = new CountDownLatch(connections);
        CountDownLatch go = new CountDownLatch(1);
        List<Thread> threads = new ArrayList<>();
        long[] window = new long[2];
        for (int t = 0; t < connections; t++) {
            threads.add(Thread.ofPlatform().start(() -> {
                try (IpcConnection c = IpcConnection.connect(socket)) {
                    for (int i = 0; i < 200; i++) {
                        blobCycle(c, 64);
                    }
                    ready.countDown();
                    go.await();
                    long n = 0;
                    while (System.nanoTime() < window[1]) {
                        blobCycle(c, 64);
                        n++;
                    }
                    done.addAndGet(n);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }));
        }
        ready.await();
        window[0] = System.nanoTime();
        window[1] = window[0] + TimeUnit.SECONDS.toNanos(seconds);
        go.countDown();
        for (Thread t : threads) {
            t.join();
        }
        return done.get() / (double) seconds;
    }

    private static void status(IpcConnection c) {
        ObjectNode r = Json.object();
        r.put("type", "instance_status_request");
        c.request(r);
    }

    private static void blobCycle(IpcConnection c, int size) {
        ObjectNode create = Json.object();
        create.put("type", "create_buffer_request");
        create.put("size", size);
        JsonNode id = c.request(create).get("id");
        ObjectNode seal = Json.object();
        seal.put("type", "seal_request");
        seal.set("object_id", id);
        c.request(seal);
        ObjectNode get = Json.object();
        get.put("type", "get_buffers_request");
        get.putArray("ids").add(id);
        c.request(get);
        ObjectNode del = Json.object();
        del.put("type", "del_data_request");
        del.putArray("id").add(id);
        del.put("fastpath", true);
        c.request(del);
    }

    private static void metaCycle(IpcConnection c) {
        ObjectNode create = Json.object();
        create.put("type", "create_data_request");
        ObjectNode content = create.putObject("content");
        content.put("typename", "vineyard::Scalar<int64_t>");
        content.put("value_", 42);
        content.put("type_", "int64");
        content.put("nbytes", 0);
        content.put("transient", true);
        JsonNode id = c.request(create).get("id");
        ObjectNode get = Json.object();
        get.put("type", "get_data_request");
        get.putArray("id").add(id);
        JsonNode got = c.request(get).get("content");
        if (got == null || !got.has(ObjectIds.toText(id.asLong()))) {
            throw new IllegalStateException("get_data did not return the object just created");
        }
        ObjectNode del = Json.object();
        del.put("type", "del_data_request");
        del.putArray("id").add(id);
        c.request(del);
    }

    private static String human(int size) {
        return size >= 1 << 20 ? (size >> 20) + " MiB" : size >= 1024 ? (size >> 10) + " KiB" : size + " B";
    }
}
