package io.vineyard.k8s;

import com.sun.net.httpserver.HttpServer;
import io.vineyard.client.IpcClient;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CountDownLatch;

/**
 * {@code bin/vineyard-scheduler --port N (--socket PATH | --etcd_endpoint URL [--etcd_prefix P]) [--host ADDR]}:
 * serves kube-scheduler's extender verbs {@code POST /filter} and {@code POST /prioritize} (and
 * {@code GET /healthz}) over HTTP, answering from the vineyardd at {@code PATH} (any instance of the
 * cluster), or from the cluster's keys in etcd ({@link EtcdMetadata}: no daemon needed next to the
 * scheduler, persisted objects only). Listens on loopback unless
 * {@code --host} says otherwise; prints {@code vineyard-scheduler listening on http://HOST:PORT} once
 * ready ({@code --port 0} picks a free port). One JDK HTTP server thread handles the requests in turn.
 */
public final class VineyardScheduler implements AutoCloseable {

    private static final String USAGE = "Usage: vineyard-scheduler --port N (--socket PATH | --etcd_endpoint URL [--etcd_prefix P]) [--host ADDR]";
    /** How long one read from etcd may take before the request that needed it gets its "cannot ask" answer. */
    private static final long ETCD_TIMEOUT_MS = 5000;

    private final HttpServer http;
    private final AutoCloseable metadata;

    private VineyardScheduler(String host, int port, DataLocality locality, AutoCloseable metadata) throws IOException {
        this.metadata = metadata;
        SchedulerExtender extender = new SchedulerExtender(locality::locate);
        this.http = HttpServer.create(new InetSocketAddress(InetAddress.getByName(host), port), 64);
        http.createContext("/filter", ex -> JsonHttp.serve(ex, "an ExtenderArgs", extender::filter));
        http.createContext("/prioritize", ex -> JsonHttp.serve(ex, "an ExtenderArgs", extender::prioritize));
        http.createContext("/healthz", ex -> JsonHttp.reply(ex, 200, "ok\n".getBytes(StandardCharsets.UTF_8), "text/plain"));
        http.start();
    }

    /** Starts the extender on {@code host:port} asking the daemon at {@code socket}. */
    public static VineyardScheduler start(String host, int port, String socket) throws IOException {
        IpcClient client = IpcClient.connect(socket);
        try {
            return new VineyardScheduler(host, port, DataLocality.ofDaemon(client), client);
        } catch (IOException | RuntimeException e) {
            client.close();
            throw e;
        }
    }

    /**
     * Starts the extender on {@code host:port} reading the cluster's metadata from etcd at {@code endpoints}
     * (comma-separated URLs) under the daemons' {@code --etcd_prefix}.
     */
    public static VineyardScheduler startOnEtcd(String host, int port, String endpoints, String etcdPrefix) throws IOException {
        EtcdMetadata etcd = EtcdMetadata.connect(endpoints, etcdPrefix, ETCD_TIMEOUT_MS);
        try {
            return new VineyardScheduler(host, port, new DataLocality(etcd), etcd);
        } catch (IOException | RuntimeException e) {
            etcd.close();
            throw e;
        }
    }

    /** The port it listens on. */
    public int port() {
        return http.getAddress().getPort();
    }

    @Override
    public void close() {
        http.stop(0);
        try {
            metadata.close();
        } catch (Exception e) {
            throw new IllegalStateException("closing the extender's metadata source failed", e);
        }
    }

    /** The command line; exit 2 on a usage error, 3 when the daemon (or etcd) cannot be reached. */
    public static void main(String[] argv) throws Exception {
        String host = "127.0.0.1";
        String socket = System.getenv().getOrDefault("VINEYARD_IPC_SOCKET", "");
        String etcdEndpoint = "";
        String etcdPrefix = "vineyard";
        Integer port = null;
        for (int i = 0; i < argv.length; i++) {
            String a = argv[i];
            String name = a.contains("=") ? a.substring(0, a.indexOf('=')) : a;
            String value = a.contains("=") ? a.substring(a.indexOf('=') + 1) : i + 1 < argv.length ? argv[++i] : null;
            if (name.equals("-h") || name.equals("--help")) {
                System.out.println(USAGE);
                return;
            }
            if (value == null) {
                usage("flag " + name + " needs a value");
            }
            switch (name) {
                case "--port" -> port = parsePort(value);
                case "--socket" -> socket = value;
                case "--host" -> host = value;
                case "--etcd_endpoint" -> etcdEndpoint = value;
                case "--etcd_prefix" -> etcdPrefix = value;
                default -> usage("unknown flag " + name);
            }
        }
        if (port == null || socket.isEmpty() && etcdEndpoint.isEmpty()) {
            usage("--port and --socket (or $VINEYARD_IPC_SOCKET) or --etcd_endpoint are required");
        }
        VineyardScheduler s;
        try {
            s = etcdEndpoint.isEmpty() ? start(host, port, socket) : startOnEtcd(host, port, etcdEndpoint, etcdPrefix);
        } catch (IllegalArgumentException e) {
            usage(e.getMessage());
            return;
        } catch (RuntimeException e) {
            System.err.println("vineyard-scheduler: cannot reach " + (etcdEndpoint.isEmpty() ? "vineyardd at " + socket : "etcd at " + etcdEndpoint)
                    + ": " + e.getMessage());
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
        System.err.println("vineyard-scheduler: " + why + "\n" + USAGE);
        System.exit(2);
    }
}
