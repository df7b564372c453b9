package io.vineyard.k8s;

import io.fabric8.kubernetes.api.model.discovery.v1.Endpoint;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointPort;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * The shared-memory usage of a Vineyardd's daemons, summed: each ready endpoint of its metrics Service
 * (the EndpointSlices Kubernetes keeps for {@code <name>-metrics}) is asked for {@code /metrics}, and its
 * {@code vineyard_memory_usage_bytes} and {@code vineyard_memory_limit_bytes} gauges are added up.
 * The metrics endpoint rather than etcd because etcd holds no usage (vineyard's layout has none), and it is
 * the same number {@code instance_status} reports. A daemon that does not answer in {@link #TIMEOUT} (or
 * asks for a password: {@code --htpasswd}) is left out and not counted in {@code reporting}.
 */
final class PoolUsage {
    static final Duration TIMEOUT = Duration.ofSeconds(2);

    /**
     * The sums.
     *
     * @param usedBytes  bytes of the pools in use, over the reporting instances
     * @param limitBytes the pools' sizes, over the reporting instances
     * @param reporting  instances whose metrics were read
     */
    record Usage(long usedBytes, long limitBytes, int reporting) {
    }

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(TIMEOUT).build();

    /** Asks every ready endpoint of {@code slices} at once and adds up the answers. */
    Usage of(List<EndpointSlice> slices) {
        List<CompletableFuture<long[]>> asks = new ArrayList<>();
        for (EndpointSlice slice : slices) {
            Integer port = slice.getPorts() == null ? null : slice.getPorts().stream()
                    .filter(p -> p.getPort() != null && (p.getName() == null || p.getName().equals("metrics")))
                    .map(EndpointPort::getPort).findFirst().orElse(null);
            if (port == null || slice.getEndpoints() == null) {
                continue;
            }
            for (Endpoint e : slice.getEndpoints()) {
                boolean ready = e.getConditions() == null || !Boolean.FALSE.equals(e.getConditions().getReady());
                if (ready && e.getAddresses() != null && !e.getAddresses().isEmpty()) {
                    asks.add(scrape(URI.create("http://" + host(e.getAddresses().getFirst()) + ":" + port + "/metrics")));
                }
            }
        }
        long used = 0;
        long limit = 0;
        int reporting = 0;
        for (CompletableFuture<long[]> ask : asks) {
            long[] v = ask.completeOnTimeout(null, TIMEOUT.toMillis(), TimeUnit.MILLISECONDS).join();
            if (v != null) {
                used += v[0];
                limit += v[1];
                reporting++;
            }
        }
        return new Usage(used, limit, reporting);
    }

    private static String host(String address) {
        return address.contains(":") ? "[" + address + "]" : address; // an IPv6 endpoint
    }

    /** {usage, limit} from one daemon, or null when it did not answer with both. */
    private CompletableFuture<long[]> scrape(URI url) {
        HttpRequest get = HttpRequest.newBuilder(url).timeout(TIMEOUT).GET().build();
        return http.sendAsync(get, HttpResponse.BodyHandlers.ofString()).handle((r, failure) -> {
            if (failure != null || r.statusCode() != 200) {
                return null;
            }
            Double used = gauge(r.body(), "vineyard_memory_usage_bytes");
            Double limit = gauge(r.body(), "vineyard_memory_limit_bytes");
            return used == null || limit == null ? null : new long[] {used.longValue(), limit.longValue()};
        });
    }

    /** The value of an unlabelled series in Prometheus' text format, or null. */
    static Double gauge(String text, String name) {
        for (String line : text.split("\n")) {
            if (line.startsWith(name + " ")) {
                try {
                    return Double.parseDouble(line.substring(name.length() + 1).trim().split(" ")[0]);
                } catch (NumberFormatException e) {
                    return null;
                }
            }
        }
        return null;
    }
}
