package io.vineyard.client;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vineyard.common.Json;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A real vineyardd in its own JVM, started from the test classpath and stopped by PID (SIGTERM, then
 * SIGKILL if it does not stop), with this test JVM's daemon AOT cache once it is ready ({@link DaemonAotCache}).
 *
 * <p>The system property {@value #DAEMON_ARGS} adds flags to every daemon (space-separated): the
 * SDK suites run a second time with {@code --noextensions}, so that every client test also passes
 * against a daemon that serves vineyard's standard requests only, as vineyard's own vineyardd.
 */
public final class DaemonProcess implements AutoCloseable {
    /** System property: extra flags for every daemon the tests start. */
    public static final String DAEMON_ARGS = "vineyard.test.daemon_args";
    private static final Pattern RPC = Pattern.compile("rpc [^ ,]*:(\\d+)");

    private final Process process;
    private final Path dir;
    private final Path socket;
    private final int rpcPort;

    private final StringBuilder log;

    private DaemonProcess(Process process, Path dir, Path socket, int rpcPort, StringBuilder log) {
        this.log = log;
        this.process = process;
        this.dir = dir;
        this.socket = socket;
        this.rpcPort = rpcPort;
    }

    /** Starts a daemon with a fresh socket, an RPC port picked by the OS and {@code extraArgs}. */
    public static DaemonProcess start(String... extraArgs) throws IOException {
        return startWithHeap("512m", extraArgs);
    }

    /** As {@link #start}, with a JVM heap of {@code heap} (-Xmx) for a daemon that holds much metadata. */
    public static DaemonProcess startWithHeap(String heap, String... extraArgs) throws IOException {
        Path dir = Files.createTempDirectory("vineyard-test-");
        Path socket = dir.resolve("vineyard.sock");
        List<String> cmd = new ArrayList<>(daemonJvm(heap));
        cmd.addAll(List.of("io.vineyard.server.Vineyardd", "--socket=" + socket, "--rpc_socket_port=0"));
        boolean hasSize = Arrays.stream(extraArgs).anyMatch(a -> a.startsWith("--size"));
        if (!hasSize) {
            cmd.add("--size=2Gi");
        }
        cmd.addAll(Arrays.asList(extraArgs));
        cmd.addAll(suiteArgs());
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().put("VINEYARDD_DEBUG", "1");
        Process p = pb.start();
        BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        CompletableFuture<String> ready = new CompletableFuture<>();
        StringBuilder log = new StringBuilder();
        Thread.ofPlatform().daemon(true).name("vineyardd-output").start(() -> {
            try {
                String line;
                while ((line = out.readLine()) != null) {
                    synchronized (log) {
                        log.append(line).append('\n');
                    }
                    if (line.startsWith("vineyardd ready:")) {
                        ready.complete(line);
                    }
                }
            } catch (IOException e) {
                // the daemon's stdout closed
            }
            ready.complete(null);
        });
        String line;
        try {
            line = ready.get(60, TimeUnit.SECONDS);
        } catch (Exception e) {
            p.destroyForcibly();
            throw new IOException("vineyardd did not become ready within 60 s: " + log, e);
        }
        if (line == null) {
            throw new IOException("vineyardd exited before it was ready: " + log);
        }
        Matcher m = RPC.matcher(line);
        int port = m.find() ? Integer.parseInt(m.group(1)) : 0;
        return new DaemonProcess(p, dir, socket, port, log);
    }

    /**
     * {@code java}, its flags and the class path for a daemon with heap {@code heap}, up to the main
     * class: with this test JVM's daemon AOT cache once it is ready ({@link DaemonAotCache}).
     */
    public static List<String> daemonJvm(String heap) {
        return DaemonAotCache.command(heap);
    }

    /** The flags {@value #DAEMON_ARGS} adds to every daemon. */
    public static List<String> suiteArgs() {
        String extra = System.getProperty(DAEMON_ARGS, "").trim();
        return extra.isEmpty() ? List.of() : List.of(extra.split("\\s+"));
    }

    /**
     * True when this suite's daemons serve our extensions (not started with {@code --noextensions}):
     * tests of extension-only behaviour skip otherwise.
     */
    public static boolean suiteHasExtensions() {
        return !suiteArgs().contains("--noextensions");
    }

    public static String javaBin() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    /** What the daemon printed so far. */
    public String log() {
        synchronized (log) {
            return log.toString();
        }
    }

    public String socket() {
        return socket.toString();
    }

    public int rpcPort() {
        return rpcPort;
    }

    public long pid() {
        return process.pid();
    }

    public Path dir() {
        return dir;
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    public IpcConnection connect() {
        return IpcConnection.connect(socket.toString(), 30_000);
    }

    /** The daemon's {@code instance_status} meta, over a fresh connection. */
    public ObjectNode status() {
        try (IpcConnection c = connect()) {
            ObjectNode req = Json.object();
            req.put("type", "instance_status_request");
            return (ObjectNode) c.request(req).get("meta");
        }
    }

    public long memoryUsage() {
        return status().get("memory_usage").asLong();
    }

    /**
     * Pool bytes not free for reuse: {@code memory_usage} (visible blobs) plus the bytes of deleted
     * blobs still held by a reader ({@code deferred_free_bytes} of {@code server_stats}). A daemon
     * without extensions has no {@code server_stats}: then {@code memory_usage} only.
     */
    public long heldBytes() {
        try (IpcConnection c = connect()) {
            ObjectNode status = Json.object();
            status.put("type", "instance_status_request");
            long usage = c.request(status).get("meta").get("memory_usage").asLong();
            if (!c.extensions().contains("server_stats_request")) {
                return usage;
            }
            ObjectNode stats = Json.object();
            stats.put("type", "server_stats_request");
            return usage + c.request(stats).get("deferred_free_bytes").asLong();
        }
    }

    /**
     * How many requests of each type the daemon served so far ({@code server_stats}; extension
     * daemons only), over a fresh connection whose own register is counted too.
     */
    public java.util.Map<String, Long> requestCounts() {
        try (IpcConnection c = connect()) {
            ObjectNode stats = Json.object();
            stats.put("type", "server_stats_request");
            java.util.Map<String, Long> out = new java.util.TreeMap<>();
            c.request(stats).path("requests").properties().forEach(e -> out.put(e.getKey(), e.getValue().path("count").asLong()));
            return out;
        }
    }

    /** The {@code streams} entry of {@code server_stats}: count, bytes, peak_bytes, threshold_bytes. */
    public ObjectNode streamStats() {
        try (IpcConnection c = connect()) {
            ObjectNode stats = Json.object();
            stats.put("type", "server_stats_request");
            return (ObjectNode) c.request(stats).get("streams");
        }
    }

    /** Stops the daemon by PID with SIGTERM and waits for it; SIGKILL after 15 s. */
    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(15, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                process.waitFor(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
        }
        try (var files = Files.walk(dir)) {
            files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        } catch (IOException e) {
            // temp dir cleanup is best effort
        }
    }

    /** Kills the daemon with SIGKILL and waits for it (its files stay until {@link #close()}). */
    public void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(10, TimeUnit.SECONDS);
    }

    /** Exit code after {@link #close()}. */
    public int exitValue() {
        return process.exitValue();
    }

    /** Waits (at most {@code timeout}) until {@code condition} holds; false when it never did. */
    public static boolean eventually(java.time.Duration timeout, java.util.function.BooleanSupplier condition) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            try {
                if (condition.getAsBoolean()) {
                    return true;
                }
            } catch (RuntimeException e) {
                // not yet: the daemon may answer an error while it catches up
            }
            try {
                Thread.sleep(50); // polling another process's state: there is no event to wait on
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
        return condition.getAsBoolean();
    }
}
