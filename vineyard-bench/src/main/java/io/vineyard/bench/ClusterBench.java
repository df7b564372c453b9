package io.vineyard.bench;

import io.vineyard.client.IpcClient;
import io.vineyard.client.ObjectId;
import io.vineyard.client.PutOptions;
import io.vineyard.client.types.Tensor;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The cluster benchmark (issue "A vineyard cluster"), printed as tables:
 * <ol>
 *   <li>migrating a 1 GiB tensor between two daemons over loopback TCP, next to a plain TCP copy of
 *       1 GiB over loopback in the same run (target: at least 70% of it);</li>
 *   <li>the latency of a local get on one daemon while two other daemons persist 1,000 objects a
 *       second in total, next to the same get with no churn (target: within 10%).</li>
 * </ol>
 * It starts its own etcd (Debian's {@code etcd-server}, data on /dev/shm) and daemons, and stops them.
 * Usage: {@code bin/bench-cluster [--gib N] [--runs N] [--churn-per-s N] [--gets N] [--churn-warmup-s N] [--no-migration]
 * [--no-pin]} (three pools of {@code gib * runs + 1} GiB on /dev/shm)
 *
 * <p>The churn (etcd, the two churning daemons and their clients) stands for the other machines of a
 * cluster: it runs in processes of its own, pinned with {@code taskset} to the last CPU, while the
 * reader, its daemon and the daemon outside the cluster run on the other CPUs, so that the latency
 * measured is what the replica's work (applying the watch's events) costs the reader's daemon, not the
 * CPU the churn generator itself takes on a 2-core machine. {@code --no-pin} lets every process run
 * anywhere (what the machine's scheduler does with the churn in the way).
 */
public final class ClusterBench {
    private static final Pattern READY = Pattern.compile("rpc [^ ,]*:(\\d+)");

    private ClusterBench() {
    }

    public static void main(String[] args) throws Exception {
        long gib = 1;
        int runs = 3;
        int churnPerSecond = 1000;
        int gets = 20_000;
        int warmupSeconds = 5;
        boolean migration = true;
        boolean pin = Runtime.getRuntime().availableProcessors() >= 2 && Pinning.available();
        if (args.length > 0 && args[0].equals("--churn-worker")) {
            churnWorker(args[1], Integer.parseInt(args[2]));
            return;
        }
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--no-pin" -> pin = false;
                case "--gib" -> gib = Long.parseLong(args[++i]);
                case "--runs" -> runs = Integer.parseInt(args[++i]);
                case "--churn-per-s" -> churnPerSecond = Integer.parseInt(args[++i]);
                case "--gets" -> gets = Integer.parseInt(args[++i]);
                case "--churn-warmup-s" -> warmupSeconds = Integer.parseInt(args[++i]);
                case "--no-migration" -> migration = false;
                default -> throw new IllegalArgumentException("unknown argument " + args[i]);
            }
        }
        long bytes = gib << 30;
        // the migration part runs unpinned (its plain TCP copy needs both CPUs); etcd is pinned from the start
        Pinning pinning = pin ? Pinning.split() : Pinning.NONE;
        Path dir = Files.createTempDirectory(Path.of("/dev/shm"), "vineyard-cluster-bench-");
        List<Process> started = new ArrayList<>();
        try {
            String etcd = startEtcd(dir, started, pinning);
            String prefix = "bench-" + System.nanoTime();
            String pool = "--size=" + (gib * runs + 1) + "Gi";
            if (migration) {
                Daemon a = Daemon.start(dir.resolve("a.sock"), started, etcd, prefix, pool);
                Daemon b = Daemon.start(dir.resolve("b.sock"), started, etcd, prefix, pool, "--reserve_memory");
                Daemon fresh = Daemon.start(dir.resolve("f.sock"), started, etcd, prefix, pool);

                double[] tcp = new double[runs];
                double[] tcpFresh = new double[runs];
                for (int r = 0; r < runs; r++) {
                    tcp[r] = tcpCopy(bytes, false);
                    tcpFresh[r] = tcpCopy(bytes, true);
                }
                double[] reserved = new double[runs];
                double[] freshPool = new double[runs];
                try (IpcClient ca = IpcClient.connect(a.socket.toString());
                     IpcClient cb = IpcClient.connect(b.socket.toString());
                     IpcClient cf = IpcClient.connect(fresh.socket.toString())) {
                    // one tensor per run, none deleted in between: a delete of a large blob returns its pages to
                    // the OS, so a reserved pool would be fresh again at the next run
                    List<ObjectId> tensors = new ArrayList<>();
                    for (int r = 0; r < runs; r++) {
                        io.vineyard.client.BlobWriter w = ca.createBlob(bytes);
                        w.segment().fill((byte) (7 + r));
                        tensors.add(ca.putNamed(Tensor.of(io.vineyard.client.types.DType.DOUBLE, w, Tensor.Order.C, bytes / 8),
                                "bench-big-" + r));
                    }
                    cb.waitName("bench-big-" + (runs - 1), java.time.Duration.ofSeconds(10));
                    cf.waitName("bench-big-" + (runs - 1), java.time.Duration.ofSeconds(10));
                    for (int r = 0; r < runs; r++) {
                        reserved[r] = migrate(cb, tensors.get(r), bytes);
                        freshPool[r] = migrate(cf, tensors.get(r), bytes);
                    }
                }
                System.out.printf("%nMigrating a %d GiB tensor between two daemons over loopback TCP (%d runs, median)%n", gib, runs);
                System.out.printf("| path | GB/s | vs plain TCP |%n|---|---|---|%n");
                double tcpMedian = median(tcp);
                System.out.printf("| plain TCP copy, loopback, into a warm buffer | %.2f | 100%% |%n", tcpMedian);
                System.out.printf("| plain TCP copy, loopback, into fresh memory | %.2f | %.0f%% |%n", median(tcpFresh),
                        100 * median(tcpFresh) / tcpMedian);
                System.out.printf("| migrate_object into a reserved pool (--reserve_memory) | %.2f | %.0f%% |%n", median(reserved),
                        100 * median(reserved) / tcpMedian);
                System.out.printf("| migrate_object into a fresh pool | %.2f | %.0f%% |%n", median(freshPool),
                        100 * median(freshPool) / tcpMedian);
                System.out.println("target: >= 70% of the plain TCP copy (vineyard: 0.2-0.3 GB/s on a 5.4 GB/s link, v6d#1727)");

                stop(a.process);
                stop(b.process);
                stop(fresh.process);
            }
            pinning.pinSelf();
            // started pinned, so that each JVM sizes itself (spinning, pools) for the CPUs it has
            Daemon reader = Daemon.start(pinning.reader(), dir.resolve("r.sock"), started, etcd, prefix, "--size=256Mi");
            Daemon churnA = Daemon.start(pinning.churn(), dir.resolve("c1.sock"), started, etcd, prefix, "--size=1Gi");
            Daemon churnB = Daemon.start(pinning.churn(), dir.resolve("c2.sock"), started, etcd, prefix, "--size=1Gi");
            // the same gets on a daemon outside the cluster (--meta=local) tell the machine's CPU contention
            // from the cost of the replica
            Process alone = SdkBench.startDaemon(pinning.reader(), dir.resolve("alone.sock"), "--size=256Mi", "--minloglevel=1");
            started.add(alone);
            try (IpcClient c = IpcClient.connect(reader.socket.toString());
                 IpcClient outside = IpcClient.connect(dir.resolve("alone.sock").toString())) {
                ObjectId local = c.put(Tensor.of(new double[1024]));
                ObjectId outsideId = outside.put(Tensor.of(new double[1024]));
                long[] outsideQuiet = getLatencies(outside, outsideId, gets);
                long[] quiet = getLatencies(c, local, gets);
                Churn churn = Churn.start(List.of(churnA.socket, churnB.socket), churnPerSecond, pinning, started);
                // the churn reaches its rate, and the reader's daemon's JIT compiles the replica's and
                // jetcd's paths (a 1 s wait measured that compilation: C2 took 16% of a core meanwhile)
                Thread.sleep(warmupSeconds * 1000L);
                long before = churn.persisted();
                long t0 = System.nanoTime();
                long[] busy = getLatencies(c, local, gets);
                long[] outsideBusy = getLatencies(outside, outsideId, gets);
                double seconds = (System.nanoTime() - t0) / 1e9;
                long rate = Math.round((churn.persisted() - before) / seconds);
                churn.stop();
                long[] quietAfter = getLatencies(c, local, gets);
                System.out.printf("%nLocal get of a 8 KiB tensor on one daemon (%,d gets, us; %s)%n", gets, pinning.describe());
                System.out.printf("| while | p50 | p90 | p99 |%n|---|---|---|---|%n");
                System.out.printf("| no churn, before | %.1f | %.1f | %.1f |%n", pct(quiet, 50), pct(quiet, 90), pct(quiet, 99));
                System.out.printf("| no churn, after | %.1f | %.1f | %.1f |%n", pct(quietAfter, 50), pct(quietAfter, 90), pct(quietAfter, 99));
                System.out.printf("| 2 daemons persist %,d objects/s | %.1f | %.1f | %.1f |%n", rate, pct(busy, 50), pct(busy, 90), pct(busy, 99));
                System.out.printf("| a daemon outside the cluster, no churn | %.1f | %.1f | %.1f |%n", pct(outsideQuiet, 50),
                        pct(outsideQuiet, 90), pct(outsideQuiet, 99));
                System.out.printf("| a daemon outside the cluster, during the churn | %.1f | %.1f | %.1f |%n", pct(outsideBusy, 50),
                        pct(outsideBusy, 90), pct(outsideBusy, 99));
                double quietP50 = Math.min(pct(quiet, 50), pct(quietAfter, 50));
                System.out.printf("p50 with churn / without (the better no-churn run): %.0f%% (target: within 10%%)%n",
                        100 * pct(busy, 50) / quietP50);
                System.out.printf("the same for the daemon outside the cluster (CPU contention alone): %.0f%%%n",
                        100 * pct(outsideBusy, 50) / pct(outsideQuiet, 50));
            }
        } finally {
            for (Process p : started) {
                stop(p);
            }
            try (var files = Files.walk(dir)) {
                files.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
            }
        }
    }

    /** GB/s of one migration. */
    private static double migrate(IpcClient c, ObjectId id, long bytes) {
        long t0 = System.nanoTime();
        c.migrate(id);
        return bytes / ((System.nanoTime() - t0) / 1e9) / 1e9;
    }

    /** GB/s of a loopback TCP copy of {@code bytes}, into one reused buffer or into fresh memory. */
    private static double tcpCopy(long bytes, boolean freshTarget) throws Exception {
        try (ServerSocketChannel server = ServerSocketChannel.open().bind(new InetSocketAddress("127.0.0.1", 0))) {
            int port = ((InetSocketAddress) server.getLocalAddress()).getPort();
            Thread sender = Thread.ofPlatform().start(() -> {
                try (SocketChannel out = SocketChannel.open(new InetSocketAddress("127.0.0.1", port)); Arena arena = Arena.ofConfined()) {
                    MemorySegment src = arena.allocate(64 << 20);
                    src.fill((byte) 1);
                    ByteBuffer chunk = src.asByteBuffer();
                    for (long sent = 0; sent < bytes; ) {
                        chunk.clear().limit((int) Math.min(chunk.capacity(), bytes - sent));
                        while (chunk.hasRemaining()) {
                            sent += out.write(chunk);
                        }
                    }
                } catch (IOException e) {
                    throw new RuntimeException(e);
                }
            });
            try (SocketChannel in = server.accept(); Arena arena = Arena.ofConfined()) {
                long t0 = System.nanoTime();
                MemorySegment target = freshTarget ? mapFresh(arena, bytes) : arena.allocate(64 << 20);
                long got = 0;
                while (got < bytes) {
                    long off = freshTarget ? got : got % target.byteSize();
                    ByteBuffer view = target.asSlice(off, Math.min(64 << 20, Math.min(bytes - got, target.byteSize() - off))).asByteBuffer();
                    while (view.hasRemaining()) {
                        int n = in.read(view);
                        if (n < 0) {
                            throw new IOException("sender closed early");
                        }
                        got += n;
                    }
                }
                double s = (System.nanoTime() - t0) / 1e9;
                sender.join();
                return bytes / s / 1e9;
            }
        }
    }

    /** Untouched anonymous memory (as a fresh pool's pages are) of {@code bytes}. */
    private static MemorySegment mapFresh(Arena arena, long bytes) throws IOException {
        Path f = Files.createTempFile(Path.of("/dev/shm"), "tcp-target-", ".bin");
        try (var ch = java.nio.channels.FileChannel.open(f, java.nio.file.StandardOpenOption.READ,
                java.nio.file.StandardOpenOption.WRITE)) {
            ch.truncate(bytes);
            return ch.map(java.nio.channels.FileChannel.MapMode.READ_WRITE, 0, bytes, arena);
        } finally {
            Files.delete(f);
        }
    }

    private static long[] getLatencies(IpcClient c, ObjectId id, int n) {
        for (int i = 0; i < 20_000; i++) { // warm: the JIT, the spin heuristics
            try (Tensor t = c.get(id, Tensor.class)) {
                t.getDouble(0);
            }
        }
        long[] ns = new long[n];
        for (int i = 0; i < n; i++) {
            long t0 = System.nanoTime();
            try (Tensor t = c.get(id, Tensor.class)) {
                t.getDouble(0);
            }
            ns[i] = System.nanoTime() - t0;
        }
        Arrays.sort(ns);
        return ns;
    }

    private static double pct(long[] sorted, int p) {
        return sorted[Math.min(sorted.length - 1, (int) (sorted.length * p / 100.0))] / 1e3;
    }

    private static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s[s.length / 2];
    }

    /**
     * The churn process's main ({@code --churn-worker SOCKETS RATE}, SOCKETS comma-separated): threads
     * persisting small objects on each daemon at RATE per second in all (a persist waits for etcd, so
     * one thread alone cannot reach the rate), each deleting its oldest to stay bounded. A line on
     * stdin asks for the count persisted so far (printed as a line); end of input stops it.
     */
    private static void churnWorker(String sockets, int perSecond) throws Exception {
        String[] socks = sockets.split(",");
        AtomicBoolean stop = new AtomicBoolean();
        AtomicLong persisted = new AtomicLong();
        List<Thread> threads = new ArrayList<>();
        for (int i = 0; i < socks.length; i++) {
            int share = perSecond / socks.length + (i < perSecond % socks.length ? 1 : 0);
            threads.addAll(churn(Path.of(socks[i]), share, stop, persisted));
        }
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        while (in.readLine() != null) {
            System.out.println(persisted.get());
            System.out.flush();
        }
        stop.set(true);
        for (Thread t : threads) {
            t.join();
        }
    }

    private static List<Thread> churn(Path socket, int perSecond, AtomicBoolean stop, AtomicLong persisted) {
        int threads = 32; // a persist waits about 4 ms for etcd here: 32 threads per daemon reach 500/s
        List<Thread> out = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            out.add(Thread.ofPlatform().start(() -> {
                try (IpcClient c = IpcClient.connect(socket.toString())) {
                    ArrayDeque<ObjectId> live = new ArrayDeque<>();
                    long intervalNs = 1_000_000_000L * threads / Math.max(1, perSecond);
                    long next = System.nanoTime();
                    while (!stop.get()) {
                        live.add(c.put(Tensor.of(new long[] {next}), PutOptions.persistent()));
                        persisted.incrementAndGet();
                        if (live.size() > 50) {
                            c.delete(live.poll());
                        }
                        next += intervalNs;
                        long wait = next - System.nanoTime();
                        if (wait > 0) {
                            TimeUnit.NANOSECONDS.sleep(wait); // pacing the load generator
                        }
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }));
        }
        return out;
    }

    /** The churn generator in a process of its own (its allocations and GC pauses are not the reader's). */
    private record Churn(Process process, java.io.PrintWriter ask, BufferedReader answers) {
        static Churn start(List<Path> sockets, int perSecond, Pinning pinning, List<Process> started)
                throws IOException, InterruptedException {
            String socks = String.join(",", sockets.stream().map(Path::toString).toList());
            Process p = SdkBench.startJava(pinning.churn(), ClusterBench.class.getName(), "--churn-worker", socks,
                    Integer.toString(perSecond));
            started.add(p);
            return new Churn(p, new java.io.PrintWriter(p.getOutputStream(), true, StandardCharsets.UTF_8),
                    new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8)));
        }

        long persisted() throws IOException {
            ask.println("count");
            String line = answers.readLine();
            if (line == null) {
                throw new IOException("the churn process ended early");
            }
            return Long.parseLong(line.trim());
        }

        void stop() throws InterruptedException {
            ask.close();
            if (!process.waitFor(30, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        }
    }

    /**
     * Where the processes run: the churn's on the last CPU, the reader's on the others ({@code taskset -a},
     * every thread); {@link #NONE} leaves them to the scheduler.
     */
    private record Pinning(String readerCpus, String churnCpus) {
        static final Pinning NONE = new Pinning(null, null);

        static boolean available() {
            try {
                return new ProcessBuilder("taskset", "-V").redirectErrorStream(true).start().waitFor() == 0;
            } catch (IOException | InterruptedException e) {
                return false;
            }
        }

        static Pinning split() {
            int cpus = Runtime.getRuntime().availableProcessors();
            return new Pinning(cpus == 2 ? "0" : "0-" + (cpus - 2), Integer.toString(cpus - 1));
        }

        String describe() {
            return readerCpus == null ? "no pinning" : "reader and its daemon on CPU " + readerCpus
                    + ", etcd and the churn's daemons and clients on CPU " + churnCpus;
        }

        void pinSelf() throws IOException, InterruptedException {
            pin(ProcessHandle.current().pid(), readerCpus);
        }

        /** The command prefix that starts a process on the reader's CPUs (none without pinning). */
        List<String> reader() {
            return readerCpus == null ? List.of() : List.of("taskset", "-c", readerCpus);
        }

        /** The command prefix that starts a process on the churn's CPU. */
        List<String> churn() {
            return churnCpus == null ? List.of() : List.of("taskset", "-c", churnCpus);
        }

        /** Every thread of {@code pid} (and those it starts later) onto {@code cpus}. */
        private static void pin(long pid, String cpus) throws IOException, InterruptedException {
            if (cpus == null) {
                return;
            }
            Process t = new ProcessBuilder("taskset", "-a", "-p", "-c", cpus, Long.toString(pid))
                    .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            if (t.waitFor() != 0) {
                throw new IOException("taskset -a -p -c " + cpus + " " + pid + " failed");
            }
        }
    }

    private static String startEtcd(Path dir, List<Process> started, Pinning pinning) throws Exception {
        int client = freePort();
        int peer = freePort();
        String endpoint = "http://127.0.0.1:" + client;
        String peerUrl = "http://127.0.0.1:" + peer;
        Path log = dir.resolve("etcd.log");
        List<String> cmd = new ArrayList<>(pinning.churn());
        cmd.addAll(List.of("etcd", "--name", "bench", "--data-dir", dir.resolve("etcd").toString(),
                "--listen-client-urls", endpoint, "--advertise-client-urls", endpoint, "--listen-peer-urls", peerUrl,
                "--initial-advertise-peer-urls", peerUrl, "--initial-cluster", "bench=" + peerUrl, "--logger", "zap",
                "--log-outputs", "stderr"));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        started.add(p);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!Files.readString(log).contains("serving client traffic")) {
            if (!p.isAlive() || System.nanoTime() > deadline) {
                throw new IOException("etcd did not start: " + Files.readString(log));
            }
            p.waitFor(50, TimeUnit.MILLISECONDS);
        }
        return endpoint;
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    private static void stop(Process p) throws InterruptedException {
        p.destroy();
        if (!p.waitFor(15, TimeUnit.SECONDS)) {
            p.destroyForcibly();
        }
    }

    /** A daemon process on the bench's etcd. */
    private record Daemon(Process process, Path socket, int rpcPort) {
        static Daemon start(Path socket, List<Process> started, String etcd, String prefix, String... extra) throws IOException {
            return start(List.of(), socket, started, etcd, prefix, extra);
        }

        static Daemon start(List<String> command, Path socket, List<Process> started, String etcd, String prefix, String... extra)
                throws IOException {
            List<String> a = new ArrayList<>(List.of("--socket=" + socket, "--rpc_socket_port=0", "--meta=etcd",
                    "--etcd_endpoint=" + etcd, "--etcd_prefix=" + prefix, "--minloglevel=1"));
            a.addAll(Arrays.asList(extra));
            Process p = SdkBench.startJava(command, "io.vineyard.server.Vineyardd", a.toArray(String[]::new));
            started.add(p);
            BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
            String line;
            while ((line = out.readLine()) != null && !line.startsWith("vineyardd ready")) {
                // start-up output
            }
            if (line == null) {
                throw new IOException("vineyardd did not start");
            }
            Matcher m = READY.matcher(line);
            int port = m.find() ? Integer.parseInt(m.group(1)) : 0;
            Thread.ofPlatform().daemon(true).start(() -> {
                try {
                    while (out.readLine() != null) {
                        // drain
                    }
                } catch (IOException e) {
                    // gone
                }
            });
            return new Daemon(p, socket, port);
        }
    }
}
