package io.vineyard.client;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vineyard.common.Json;
import io.vineyard.common.VineyardException;
import org.junit.jupiter.api.Test;
import org.mindrot.jbcrypt.BCrypt;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The Prometheus endpoint of a real daemon, scraped over HTTP after known traffic: every count must
 * match what the test sent.
 */
public class MetricsEndpointTest {
    private static final Pattern METRICS_URL = Pattern.compile("metrics (http://\\S+/metrics)");
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    /** The endpoint's URL, from the daemon's start-up line (logged right after the ready line). */
    public static URI metricsUrl(DaemonProcess d) {
        String line = awaitLog(d, METRICS_URL);
        Matcher m = METRICS_URL.matcher(line);
        assertTrue(m.find(), line);
        return URI.create(m.group(1));
    }

    /** Waits (up to 10 s) until the daemon's output matches {@code pattern}; returns the output. */
    static String awaitLog(DaemonProcess d, Pattern pattern) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (true) {
            String log = d.log();
            if (pattern.matcher(log).find()) {
                return log;
            }
            if (System.nanoTime() - deadline > 0) {
                throw new AssertionError("the daemon never logged " + pattern + "; its output:\n" + log);
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5));
        }
    }

    static HttpResponse<String> get(URI url, String authorization) throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(url).GET();
        if (authorization != null) {
            b.header("Authorization", authorization);
        }
        return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    /** {@code name{labels}} to value, from Prometheus' text format. */
    public static Map<String, Double> scrape(URI url) throws IOException, InterruptedException {
        HttpResponse<String> r = get(url, null);
        assertEquals(200, r.statusCode(), r.body());
        assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("text/plain"),
                "Prometheus' text format: " + r.headers().map());
        Map<String, Double> values = new HashMap<>();
        for (String line : r.body().split("\n")) {
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            int space = line.lastIndexOf(' ');
            values.put(line.substring(0, space), Double.parseDouble(line.substring(space + 1)));
        }
        return values;
    }

    private static ObjectNode msg(String type) {
        ObjectNode m = Json.object();
        m.put("type", type);
        return m;
    }

    private static double value(Map<String, Double> scrape, String series) {
        Double v = scrape.get(series);
        if (v == null) {
            throw new AssertionError("no series " + series + " in the scrape: " + new java.util.TreeMap<>(scrape).keySet());
        }
        return v;
    }

    @Test
    void aScrapeAfterKnownTrafficCountsExactlyThatTraffic() throws Exception {
        try (DaemonProcess d = DaemonProcess.start("--size=64Mi", "--metrics_port=0")) {
            URI url = metricsUrl(d);
            try (IpcConnection a = d.connect(); IpcConnection b = d.connect();
                 IpcConnection rpc = IpcConnection.connectTcp("127.0.0.1", d.rpcPort(), 30_000)) {
                assertTrue(rpc.isTcp());
                for (int i = 0; i < 10; i++) {
                    a.request(msg("instance_status_request"));
                }
                JsonNode[] blobs = new JsonNode[3];
                for (int i = 0; i < 3; i++) {
                    ObjectNode create = msg("create_buffer_request");
                    create.put("size", 1000);
                    blobs[i] = a.request(create).get("id");
                    ObjectNode seal = msg("seal_request");
                    seal.set("object_id", blobs[i]);
                    a.request(seal);
                }
                ObjectNode data = msg("create_data_request");
                data.putObject("content").put("typename", "vineyard::Scalar<int>").put("value_", 7);
                JsonNode object = a.request(data).get("id");
                ObjectNode persist = msg("persist_request");
                persist.set("id", object);
                a.request(persist);
                ObjectNode name = msg("put_name_request");
                name.set("object_id", object);
                name.put("name", "seven");
                a.request(name);
                // b holds blob 0, a deletes it: its bytes are deferred until b lets go
                ObjectNode hold = msg("get_buffers_request");
                hold.putArray("ids").add(blobs[0]);
                b.request(hold);
                ObjectNode delete = msg("del_data_request");
                delete.putArray("id").add(blobs[0]);
                a.request(delete);
                // refused: two unknown types, one missing name
                assertThrows(VineyardException.class, () -> a.request(msg("no_such_request")));
                assertThrows(VineyardException.class, () -> a.request(msg("no_such_request_either")));
                ObjectNode missing = msg("get_name_request");
                missing.put("name", "nobody");
                assertThrows(VineyardException.ObjectNotExists.class, () -> a.request(missing));

                Map<String, Double> m = scrape(url);
                assertEquals(10, value(m, "vineyard_requests_total{type=\"instance_status_request\"}"));
                assertEquals(3, value(m, "vineyard_requests_total{type=\"register_request\"}"), "a, b and rpc registered");
                assertEquals(3, value(m, "vineyard_requests_total{type=\"create_buffer_request\"}"));
                assertEquals(3, value(m, "vineyard_requests_total{type=\"seal_request\"}"));
                assertEquals(2, value(m, "vineyard_requests_total{type=\"<unknown>\"}"), "unknown types share one series");
                assertEquals(3, value(m, "vineyard_request_duration_seconds_count{type=\"create_buffer_request\"}"));
                assertEquals(3, value(m, "vineyard_request_duration_seconds_bucket{type=\"create_buffer_request\",le=\"+Inf\"}"));
                assertTrue(value(m, "vineyard_request_duration_seconds_sum{type=\"create_buffer_request\"}") > 0);
                assertEquals(2, value(m, "vineyard_request_errors_total{code=\"Invalid\",type=\"<unknown>\"}"));
                assertEquals(1, value(m, "vineyard_request_errors_total{code=\"ObjectNotExists\",type=\"get_name_request\"}"));
                assertEquals(2, value(m, "vineyard_blobs"), "blob 0 is deleted");
                assertEquals(2000, value(m, "vineyard_memory_usage_bytes"));
                assertEquals(1000, value(m, "vineyard_memory_deferred_bytes"), "b still holds the deleted blob");
                assertEquals(1, value(m, "vineyard_deferred_frees"));
                assertEquals(64 << 20, value(m, "vineyard_memory_limit_bytes"));
                assertEquals(1, value(m, "vineyard_objects"));
                assertEquals(1, value(m, "vineyard_names"));
                assertEquals(2, value(m, "vineyard_connections{transport=\"ipc\"}"));
                assertEquals(1, value(m, "vineyard_connections{transport=\"rpc\"}"));
                assertEquals(2, value(m, "vineyard_connections_accepted_total{transport=\"ipc\"}"));
                assertEquals(0, value(m, "vineyard_unexpected_errors_total"));
                assertEquals(1, value(m, "vineyard_build_info{protocol=\"0.24.4\",version=\""
                        + io.vineyard.server.Version.IMPLEMENTATION + "\"}"));
                // the same figures vineyard's own request reports
                JsonNode status = a.request(msg("instance_status_request")).get("meta");
                assertEquals(status.get("memory_usage").asDouble(), value(m, "vineyard_memory_usage_bytes"));
            }
            // connections that ended are gone from the gauge; accepted ones stay counted
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            Map<String, Double> after = scrape(url);
            while (value(after, "vineyard_connections{transport=\"ipc\"}") != 0 && System.nanoTime() < deadline) {
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5));
                after = scrape(url);
            }
            assertEquals(0, value(after, "vineyard_connections{transport=\"ipc\"}"));
            assertEquals(0, value(after, "vineyard_memory_deferred_bytes"), "b's hold ended with its connection");
            assertEquals(1, value(after, "vineyard_connections_accepted_total{transport=\"rpc\"}"));
        }
    }

    @Test
    void streamMemoryIsScraped() throws Exception {
        try (DaemonProcess d = DaemonProcess.start("--size=64Mi", "--metrics_port=0", "--stream_threshold=10")) {
            URI url = metricsUrl(d);
            try (IpcClient client = IpcClient.connect(d.socket())) {
                ObjectId id = io.vineyard.client.stream.ByteStream.create(client, Map.of());
                try (var w = io.vineyard.client.stream.ByteStream.openWriter(client, id)) {
                    for (int i = 0; i < 3; i++) {
                        w.nextChunk(1000); // two queued, one being written
                    }
                    Map<String, Double> m = scrape(url);
                    assertEquals(1, value(m, "vineyard_streams"));
                    assertEquals(3000, value(m, "vineyard_stream_bytes"));
                    assertEquals(3000, value(m, "vineyard_stream_peak_bytes"));
                    assertEquals((64L << 20) / 100 * 10, value(m, "vineyard_stream_threshold_bytes"));
                }
                io.vineyard.client.stream.Streams.drop(client, id);
                assertEquals(0, value(scrape(url), "vineyard_stream_bytes"), "the drop freed the queued chunks");
            }
        }
    }

    @Test
    void withHtpasswdTheEndpointAsksForTheSameCredentials() throws Exception {
        Path dir = Files.createTempDirectory("vineyard-metrics-auth-");
        Path htpasswd = dir.resolve("htpasswd");
        Files.writeString(htpasswd, "prom:" + BCrypt.hashpw("scrape-Pa55", BCrypt.gensalt(5)) + "\n");
        try (DaemonProcess d = DaemonProcess.start("--size=64Mi", "--metrics_port=0", "--htpasswd=" + htpasswd)) {
            URI url = metricsUrl(d);
            assertEquals(401, get(url, null).statusCode(), "no credentials");
            assertEquals(401, get(url, basic("prom", "wrong")).statusCode(), "a wrong password");
            HttpResponse<String> ok = get(url, basic("prom", "scrape-Pa55"));
            assertEquals(200, ok.statusCode());
            assertTrue(ok.body().contains("vineyard_memory_limit_bytes"), ok.body());
        } finally {
            Files.deleteIfExists(htpasswd);
            Files.deleteIfExists(dir);
        }
    }

    @Test
    void theEndpointIsOffByDefault() throws Exception {
        try (DaemonProcess d = DaemonProcess.start("--size=64Mi")) {
            String log = awaitLog(d, Pattern.compile(" started: "));
            assertTrue(log.contains("metrics off"), log);
        }
    }

    @Test
    void aMetricsPortInUseIsRefusedAtStartWithTheReason() throws Exception {
        try (DaemonProcess first = DaemonProcess.start("--size=64Mi", "--metrics_port=0")) {
            int port = metricsUrl(first).getPort();
            IOException e = org.junit.jupiter.api.Assertions.assertThrows(IOException.class,
                    () -> DaemonProcess.start("--size=64Mi", "--metrics_port=" + port).close());
            assertTrue(e.getMessage().contains("cannot start: cannot serve metrics on 127.0.0.1:" + port), e.getMessage());
            assertEquals(200, get(metricsUrl(first), null).statusCode(), "the first daemon's endpoint is untouched");
        }
    }

    private static String basic(String user, String password) {
        return "Basic " + Base64.getEncoder().encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
    }
}
