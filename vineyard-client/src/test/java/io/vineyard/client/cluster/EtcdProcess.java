package io.vineyard.client.cluster;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/**
 * A real etcd (Debian's {@code etcd-server}) on free loopback ports, its data in a temporary directory
 * on {@code /dev/shm}; stopped by PID. It can be stopped and started again on the same ports, with its
 * data or empty (a new cluster token then, as a real re-created etcd).
 */
public final class EtcdProcess implements AutoCloseable {
    private final int clientPort;
    private final int peerPort;
    private final Path dataDir;
    private final Path logFile;
    private final List<String> extraFlags;
    private Process process;

    private EtcdProcess(int clientPort, int peerPort, Path dataDir, Path logFile, List<String> extraFlags) {
        this.extraFlags = extraFlags;
        this.clientPort = clientPort;
        this.peerPort = peerPort;
        this.dataDir = dataDir;
        this.logFile = logFile;
    }

    /** Starts etcd with its defaults (and {@code extraFlags}) and returns once it serves clients (at most 30 s). */
    public static EtcdProcess start(String... extraFlags) throws IOException {
        Path base = Files.createTempDirectory(Path.of("/dev/shm"), "vineyard-etcd-");
        EtcdProcess etcd = new EtcdProcess(freePort(), freePort(), base.resolve("data"), base.resolve("etcd.log"),
                List.of(extraFlags));
        etcd.launch();
        return etcd;
    }

    public static boolean available() {
        return Files.isExecutable(Path.of("/usr/bin/etcd"));
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    public String endpoint() {
        return "http://127.0.0.1:" + clientPort;
    }

    private void launch() throws IOException {
        String peer = "http://127.0.0.1:" + peerPort;
        List<String> cmd = new java.util.ArrayList<>(List.of("/usr/bin/etcd", "--name", "n0", "--data-dir", dataDir.toString(),
                "--listen-client-urls", endpoint(), "--advertise-client-urls", endpoint(),
                "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
                "--initial-cluster", "n0=" + peer, "--initial-cluster-state", "new",
                "--initial-cluster-token", "vineyard-test-" + UUID.randomUUID(), "--logger", "zap", "--log-outputs", "stderr"));
        cmd.addAll(extraFlags);
        process = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(logFile.toFile())).start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IOException("etcd exited: " + log());
            }
            if (log().contains("serving client traffic")) {
                return;
            }
            try {
                process.waitFor(50, TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted", e);
            }
        }
        process.destroyForcibly();
        throw new IOException("etcd was not ready within 30 s: " + log());
    }

    public String log() {
        try {
            return Files.exists(logFile) ? Files.readString(logFile) : "";
        } catch (IOException e) {
            return "";
        }
    }

    public long pid() {
        return process.pid();
    }

    /** Stops etcd by PID (SIGTERM, then SIGKILL) and waits for it. */
    public void stop() {
        if (process == null) {
            return;
        }
        process.destroy();
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Starts the stopped etcd again on the same ports: with its data, or {@code empty}. */
    public void restart(boolean empty) throws IOException {
        stop();
        if (empty) {
            deleteTree(dataDir);
        }
        Files.writeString(logFile, "");
        launch();
    }

    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (var files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        }
    }

    @Override
    public void close() throws IOException {
        stop();
        deleteTree(dataDir.getParent());
    }
}
