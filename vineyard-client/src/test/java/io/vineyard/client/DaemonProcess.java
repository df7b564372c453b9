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
 * SIGKILL if it does not stop). Every test that needs a daemon starts a fresh one.
 */
public final class DaemonProcess implements AutoCloseable {
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
        Path dir = Files.createTempDirectory("vineyard-test-");
        Path socket = dir.resolve("vineyard.sock");
        List<String> cmd = new ArrayList<>(List.of(javaBin(), "--enable-native-access=ALL-UNNAMED",
                "-Xmx512m", "-cp", System.getProperty("java.class.path"), "io.vineyard.server.Vineyardd",
                "--socket=" + socket, "--rpc_socket_port=0"));
        boolean hasSize = Arrays.stream(extraArgs).anyMatch(a -> a.startsWith("--size"));
        if (!hasSize) {
            cmd.add("--size=2Gi");
        }
        cmd.addAll(Arrays.asList(extraArgs));
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
     * blobs still held by a reader ({@code deferred_free_bytes} of {@code server_stats}).
     */
    public long heldBytes() {
        try (IpcConnection c = connect()) {
            ObjectNode status = Json.object();
            status.put("type", "instance_status_request");
            ObjectNode stats = Json.object();
            stats.put("type", "server_stats_request");
            return c.request(status).get("meta").get("memory_usage").asLong()
                    + c.request(stats).get("deferred_free_bytes").asLong();
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

    /** Exit code after {@link #close()}. */
    public int exitValue() {
        return process.exitValue();
    }
}
