package io.vineyard.server.metrics;

import com.sun.net.httpserver.BasicAuthenticator;
import io.prometheus.metrics.exporter.httpserver.HTTPServer;

import java.io.IOException;
import java.net.InetAddress;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.BiPredicate;

/**
 * The Prometheus endpoint: {@code GET http://HOST:PORT/metrics} in Prometheus' text format, served by
 * Prometheus' exporter over the JDK's HTTP server on one thread of its own (scrapes never run on a
 * connection's thread). With {@code --htpasswd} it asks for HTTP basic authentication against the same
 * file as the daemon's sockets.
 */
public final class MetricsEndpoint implements AutoCloseable {
    private final HTTPServer server;
    private final String host;

    private MetricsEndpoint(HTTPServer server, String host) {
        this.server = server;
        this.host = host;
    }

    /**
     * Binds {@code host:port} (port 0 picks a free one) and starts serving {@code metrics}.
     *
     * @param credentials null for no authentication, else the check of a user and password
     */
    public static MetricsEndpoint start(DaemonMetrics metrics, String host, int port,
                                        BiPredicate<String, String> credentials) throws IOException {
        ExecutorService executor = Executors.newSingleThreadExecutor(
                Thread.ofPlatform().daemon(true).name("vineyard-metrics").factory());
        HTTPServer.Builder b = HTTPServer.builder().inetAddress(InetAddress.getByName(host)).port(port)
                .registry(metrics.registry()).executorService(executor);
        if (credentials != null) {
            b.authenticator(new BasicAuthenticator("vineyardd") {
                @Override
                public boolean checkCredentials(String user, String password) {
                    return credentials.test(user, password);
                }
            });
        }
        try {
            return new MetricsEndpoint(b.buildAndStart(), host);
        } catch (IOException e) {
            executor.shutdownNow();
            throw new IOException("cannot serve metrics on " + host + ":" + port + ": " + e.getMessage(), e);
        }
    }

    /** The bound port. */
    public int port() {
        return server.getPort();
    }

    /** {@code http://host:port/metrics}. */
    public String url() {
        return "http://" + (host.contains(":") ? "[" + host + "]" : host) + ":" + port() + "/metrics";
    }

    @Override
    public void close() {
        server.close();
    }
}
