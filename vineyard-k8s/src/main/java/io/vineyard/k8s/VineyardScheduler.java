package io.vineyard.k8s;

import com.sun.net.httpserver.HttpServer;
import io.vineyard.client.IpcClient;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Set;

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
        CommandLine cli = new CommandLine("vineyard-scheduler", USAGE);
        Map<String, String> flags = cli.parse(argv, Set.of("--port", "--socket", "--host", "--etcd_endpoint", "--etcd_prefix"));
        if (flags == null) {
            return;
        }
        String host = flags.getOrDefault("--host", "127.0.0.1");
        String socket = flags.getOrDefault("--socket", System.getenv().getOrDefault("VINEYARD_IPC_SOCKET", ""));
        String etcdEndpoint = flags.getOrDefault("--etcd_endpoint", "");
        if (!flags.containsKey("--port") || socket.isEmpty() && etcdEndpoint.isEmpty()) {
            cli.fail("--port and --socket (or $VINEYARD_IPC_SOCKET) or --etcd_endpoint are required");
        }
        int port = cli.port(flags.get("--port"));
        VineyardScheduler s;
        try {
            s = etcdEndpoint.isEmpty() ? start(host, port, socket) : startOnEtcd(host, port, etcdEndpoint, flags.getOrDefault("--etcd_prefix", "vineyard"));
        } catch (IllegalArgumentException e) {
            cli.fail(e.getMessage());
            return;
        } catch (RuntimeException e) {
            System.err.println("vineyard-scheduler: cannot reach " + (etcdEndpoint.isEmpty() ? "vineyardd at " + socket : "etcd at " + etcdEndpoint)
                    + ": " + e.getMessage());
            System.exit(3);
            return;
        }
        CommandLine.serveUntilShutdown("vineyard-scheduler listening on http://" + host + ":" + s.port(), s);
    }
}
