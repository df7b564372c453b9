package io.vineyard.io;

import io.vineyard.client.DaemonProcess;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * A real S3 API server for the tests: s3proxy (Maven Central) in a JVM of its own on 127.0.0.1, its
 * filesystem backend under a temporary directory (a bucket is a directory there), signature checks on
 * (AWS v2 or v4) with {@link #KEY}/{@link #SECRET}. Stopped by PID at {@link #close()}.
 */
final class S3Server implements AutoCloseable {
    static final String KEY = "vineyard-test-key";
    static final String SECRET = "vineyard-test-secret";

    private final Process process;
    private final Path base;
    private final int port;

    private S3Server(Process process, Path base, int port) {
        this.process = process;
        this.base = base;
        this.port = port;
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    static S3Server start(Path dir) throws IOException, InterruptedException {
        Path base = Files.createDirectories(dir.resolve("s3"));
        int port = freePort();
        Path props = dir.resolve("s3proxy.properties");
        Files.writeString(props, String.join("\n",
                "s3proxy.endpoint=http://127.0.0.1:" + port,
                "s3proxy.authorization=aws-v2-or-v4",
                "s3proxy.identity=" + KEY,
                "s3proxy.credential=" + SECRET,
                "jclouds.provider=filesystem",
                "jclouds.filesystem.basedir=" + base,
                "jclouds.identity=unused",
                "jclouds.credential=unused", ""));
        Process p = new ProcessBuilder(List.of(DaemonProcess.javaBin(), "-Xmx256m", "-cp", System.getProperty("java.class.path"),
                "org.gaul.s3proxy.Main", "--properties", props.toString()))
                .redirectErrorStream(true).redirectOutput(dir.resolve("s3proxy.log").toFile()).start();
        S3Server server = new S3Server(p, base, port);
        long deadline = System.nanoTime() + 60_000_000_000L;
        while (System.nanoTime() < deadline) {
            if (!p.isAlive()) {
                throw new IOException("s3proxy exited: " + Files.readString(dir.resolve("s3proxy.log")));
            }
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", port), 200);
                return server;
            } catch (IOException notYet) {
                p.waitFor(50, java.util.concurrent.TimeUnit.MILLISECONDS);
            }
        }
        server.close();
        throw new IOException("s3proxy did not listen on " + port + " within 60 s: " + Files.readString(dir.resolve("s3proxy.log")));
    }

    /** A bucket: a directory of the backend. */
    Path bucket(String name) throws IOException {
        return Files.createDirectories(base.resolve(name));
    }

    String endpoint() {
        return "http://127.0.0.1:" + port;
    }

    /** storage_options with the given credentials (s3fs' names). */
    Map<String, String> storage(String key, String secret) {
        return Map.of("key", key, "secret", secret, "endpoint_url", endpoint(), "region", "us-east-1");
    }

    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
