package io.vineyard.k8s;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.vineyard.client.IpcClient;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CountDownLatch;
import java.util.function.Function;

/**
 * {@code bin/vineyard-scheduler --port N --socket PATH [--host ADDR]}: serves kube-scheduler's extender
 * verbs {@code POST /filter} and {@code POST /prioritize} (and {@code GET /healthz}) over HTTP, answering
 * from the vineyardd at {@code PATH}, any instance of the cluster. Listens on loopback unless
 * {@code --host} says otherwise; prints {@code vineyard-scheduler listening on http://HOST:PORT} once
 * ready ({@code --port 0} picks a free port). One JDK HTTP server thread handles the requests in turn.
 */
public final class VineyardScheduler implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final HttpServer http;
    private final IpcClient client;

    private VineyardScheduler(String host, int port, String socket) throws IOException {
        this.client = IpcClient.connect(socket);
        SchedulerExtender extender = new SchedulerExtender(new DataLocality(client)::locate);
        this.http = HttpServer.create(new InetSocketAddress(InetAddress.getByName(host), port), 64);
        http.createContext("/filter", ex -> serve(ex, extender::filter));
        http.createContext("/prioritize", ex -> serve(ex, extender::prioritize));
        http.createContext("/healthz", ex -> reply(ex, 200, "ok\n".getBytes(StandardCharsets.UTF_8), "text/plain"));
        http.start();
    }

    /** Starts the extender on {@code host:port} asking the daemon at {@code socket}. */
    public static VineyardScheduler start(String host, int port, String socket) throws IOException {
        return new VineyardScheduler(host, port, socket);
    }

    /** The port it listens on. */
    public int port() {
        return http.getAddress().getPort();
    }

    private static void serve(HttpExchange ex, Function<JsonNode, JsonNode> verb) throws IOException {
        if (!"POST".equals(ex.getRequestMethod())) {
            reply(ex, 405, "POST an ExtenderArgs\n".getBytes(StandardCharsets.UTF_8), "text/plain");
            return;
        }
        JsonNode body;
        try (InputStream in = ex.getRequestBody()) {
            body = JSON.readTree(in);
        } catch (IOException e) {
            reply(ex, 400, ("not JSON: " + e.getMessage() + "\n").getBytes(StandardCharsets.UTF_8), "text/plain");
            return;
        }
        try {
            reply(ex, 200, JSON.writeValueAsBytes(verb.apply(body)), "application/json");
        } catch (IllegalArgumentException e) {
            reply(ex, 400, (e.getMessage() + "\n").getBytes(StandardCharsets.UTF_8), "text/plain");
        }
    }

    private static void reply(HttpExchange ex, int status, byte[] body, String type) throws IOException {
        ex.getResponseHeaders().set("Content-Type", type);
        ex.sendResponseHeaders(status, body.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(body);
        }
    }

    @Override
    public void close() {
        http.stop(0);
        client.close();
    }

    /** The command line; exit 2 on a usage error, 3 when the daemon cannot be reached. */
    public static void main(String[] argv) throws Exception {
        String host = "127.0.0.1";
        String socket = System.getenv().getOrDefault("VINEYARD_IPC_SOCKET", "");
        Integer port = null;
        for (int i = 0; i < argv.length; i++) {
            String a = argv[i];
            String name = a.contains("=") ? a.substring(0, a.indexOf('=')) : a;
            String value = a.contains("=") ? a.substring(a.indexOf('=') + 1) : i + 1 < argv.length ? argv[++i] : null;
            if (name.equals("-h") || name.equals("--help")) {
                System.out.println("Usage: vineyard-scheduler --port N --socket PATH [--host ADDR]");
                return;
            }
            if (value == null) {
                usage("flag " + name + " needs a value");
            }
            switch (name) {
                case "--port" -> port = parsePort(value);
                case "--socket" -> socket = value;
                case "--host" -> host = value;
                default -> usage("unknown flag " + name);
            }
        }
        if (port == null || socket.isEmpty()) {
            usage("--port and --socket (or $VINEYARD_IPC_SOCKET) are required");
        }
        VineyardScheduler s;
        try {
            s = start(host, port, socket);
        } catch (RuntimeException e) {
            System.err.println("vineyard-scheduler: cannot connect to vineyardd at " + socket + ": " + e.getMessage());
            System.exit(3);
            return;
        }
        System.out.println("vineyard-scheduler listening on http://" + host + ":" + s.port());
        System.out.flush();
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            s.close();
            stopped.countDown();
        }));
        stopped.await();
    }

    private static int parsePort(String v) {
        try {
            int p = Integer.parseInt(v);
            if (p >= 0 && p <= 65535) {
                return p;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        usage("--port must be 0-65535, not '" + v + "'");
        return -1;
    }

    private static void usage(String why) {
        System.err.println("vineyard-scheduler: " + why + "\nUsage: vineyard-scheduler --port N --socket PATH [--host ADDR]");
        System.exit(2);
    }
}
