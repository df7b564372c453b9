package io.vineyard.k8s;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vineyard.client.DaemonProcess;
import io.vineyard.client.IpcClient;
import io.vineyard.client.ObjectId;
import io.vineyard.client.cluster.EtcdProcess;
import io.vineyard.client.meta.ObjectMeta;
import io.vineyard.client.types.Tensor;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * bin/vineyard-scheduler's extender verbs over real HTTP, against a real cluster: one etcd and three
 * daemons told they run on node-a, node-b and node-c ({@code --nodename}); node-d runs none. node-a holds
 * "features" (8000 bytes), node-b "labels" (32000 bytes); the extender asks node-c's daemon, which holds
 * neither, so the scores come from the cluster's view. A second extender reads the same cluster from
 * etcd's keys ({@code --etcd_endpoint}) and must answer the same. Requests and responses are
 * kube-scheduler's wire shapes, kept as golden files under src/test/resources/extender/.
 */
class SchedulerExtenderTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static EtcdProcess etcd;
    private static final List<DaemonProcess> daemons = new ArrayList<>();
    private static String prefix;
    /** By mode: "socket" asks node-c's daemon, "etcd" reads etcd. */
    private static final Map<String, VineyardScheduler> schedulers = new LinkedHashMap<>();
    private static ObjectId features;
    private static ObjectId labels;

    @BeforeAll
    static void cluster() throws Exception {
        assumeTrue(EtcdProcess.available(), "etcd-server is not installed (bin/test installs it)");
        etcd = EtcdProcess.start();
        prefix = "vs-" + UUID.randomUUID().toString().substring(0, 8);
        for (String node : List.of("node-a", "node-b", "node-c")) {
            daemons.add(DaemonProcess.start("--meta=etcd", "--etcd_endpoint=" + etcd.endpoint(), "--etcd_prefix=" + prefix,
                    "--etcd_lease_ttl=3", "--meta_timeout=20", "--size=64Mi", "--nodename=" + node));
        }
        try (IpcClient a = IpcClient.connect(daemons.get(0).socket()); IpcClient b = IpcClient.connect(daemons.get(1).socket());
             IpcClient c = IpcClient.connect(daemons.get(2).socket())) {
            features = a.putNamed(Tensor.of(new double[1000], 1000), "features");
            labels = b.putNamed(Tensor.of(new double[4000], 4000), "labels");
            c.waitName("features", Duration.ofSeconds(10));
            c.waitName("labels", Duration.ofSeconds(10));
            assertEquals("node-b", c.clusterMeta().path("i" + b.instanceId()).path("nodename").asText(),
                    "cluster_meta reports --nodename");
        }
        schedulers.put("socket", VineyardScheduler.start("127.0.0.1", 0, daemons.get(2).socket()));
        schedulers.put("etcd", VineyardScheduler.startOnEtcd("127.0.0.1", 0, etcd.endpoint(), prefix));
    }

    @AfterAll
    static void stop() throws IOException {
        schedulers.values().forEach(VineyardScheduler::close);
        for (DaemonProcess d : daemons) {
            d.close();
        }
        if (etcd != null) {
            etcd.close();
        }
    }

    static Stream<Arguments> goldens() {
        return Stream.of("socket", "etcd").flatMap(mode -> Stream.of("filter-names", "filter-nodes", "prioritize-names",
                "prioritize-nodes", "filter-missing", "filter-plain", "prioritize-plain").map(g -> Arguments.of(mode, g)));
    }

    @ParameterizedTest(name = "{0}: {1}")
    @MethodSource("goldens")
    void goldenRequestGetsGoldenResponse(String mode, String golden) throws Exception {
        String verb = golden.substring(0, golden.indexOf('-'));
        HttpResponse<String> r = post(mode, "/" + verb, resource(golden + ".request.json").toString());
        assertEquals(200, r.statusCode(), r.body());
        assertEquals(resource(golden + ".response.json"), JSON.readTree(r.body()), mode + ": " + golden);
    }

    @Test
    void objectsNamedByIdScoreLikeByNameAndANewObjectMovesTheScores() throws Exception {
        ObjectNode args = (ObjectNode) resource("prioritize-names.request.json");
        setRequired(args, features + "," + labels);
        for (String mode : schedulers.keySet()) {
            assertEquals(resource("prioritize-names.response.json"), JSON.readTree(post(mode, "/prioritize", args.toString()).body()), mode);
        }

        try (IpcClient c = IpcClient.connect(daemons.get(2).socket())) {
            c.putNamed(Tensor.of(new double[5000], 5000), "weights"); // 40000 bytes on node-c
        }
        setRequired(args, "features,labels,weights"); // of 80000 bytes: a 8000, b 32000, c 40000
        for (String mode : schedulers.keySet()) {
            JsonNode scores = JSON.readTree(post(mode, "/prioritize", args.toString()).body());
            assertEquals(JSON.readTree("""
                    [{"Host":"node-a","Score":1},{"Host":"node-b","Score":4},{"Host":"node-c","Score":5},{"Host":"node-d","Score":0}]"""), scores, mode);
        }
    }

    @Test
    void aGlobalObjectCountsByItsLocalMembers() throws Exception {
        try (IpcClient a = IpcClient.connect(daemons.get(0).socket())) {
            a.waitName("labels", Duration.ofSeconds(10));
            ObjectMeta whole = new ObjectMeta("vineyard::GlobalTensor").setGlobal(true);
            whole.addMember("partitions_-0", features);
            whole.addMember("partitions_-1", labels); // on node-b
            whole.put("partitions_-size", 2L);
            a.putMeta(whole, true, "whole");
        }
        try (IpcClient c = IpcClient.connect(daemons.get(2).socket())) {
            c.waitName("whole", Duration.ofSeconds(10));
        }
        ObjectNode args = (ObjectNode) resource("prioritize-names.request.json");
        setRequired(args, "whole");
        for (String mode : schedulers.keySet()) {
            assertEquals(resource("prioritize-names.response.json"), JSON.readTree(post(mode, "/prioritize", args.toString()).body()),
                    mode + ": the same bytes on the same nodes as naming both members (linked by signature)");
        }
    }

    @Test
    void theCommandLineServesAndExitsWithItsCodes() throws Exception {
        List<String> cmd = List.of(DaemonProcess.javaBin(), "--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow", "-cp", System.getProperty("java.class.path"), VineyardScheduler.class.getName());
        Process bad = new ProcessBuilder(concat(cmd, "--port", "70000", "--socket", "/x")).redirectErrorStream(true).start();
        assertEquals(2, bad.waitFor(), new String(bad.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
        Process nothing = new ProcessBuilder(concat(cmd, "--port", "0", "--socket", "/nonexistent/vineyard.sock")).redirectErrorStream(true).start();
        assertEquals(3, nothing.waitFor(), "no daemon there");
        Process noEtcd = new ProcessBuilder(concat(cmd, "--port", "0", "--etcd_endpoint", "http://127.0.0.1:1")).redirectErrorStream(true).start();
        assertEquals(3, noEtcd.waitFor(), "no etcd there");
        for (List<String> source : List.of(List.of("--socket", daemons.get(1).socket()),
                List.of("--etcd_endpoint", etcd.endpoint(), "--etcd_prefix", prefix))) {
            answersLikeTheServerInThisJvm(concat(cmd, "--port", "0").stream().collect(java.util.stream.Collectors.toCollection(ArrayList::new)), source);
        }
    }

    private static void answersLikeTheServerInThisJvm(List<String> cmd, List<String> source) throws Exception {
        cmd.addAll(source);
        Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        try {
            String line = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8)).readLine();
            assertTrue(line != null && line.startsWith("vineyard-scheduler listening on http://127.0.0.1:"), String.valueOf(line));
            URI url = URI.create(line.substring(line.indexOf("http://")) + "/filter");
            HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(url).POST(HttpRequest.BodyPublishers.ofString(
                    resource("filter-names.request.json").toString())).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(resource("filter-names.response.json"), JSON.readTree(r.body()), source + ": the process answers as the server in this JVM");
        } finally {
            p.destroy();
            p.waitFor();
        }
    }

    private static List<String> concat(List<String> a, String... b) {
        List<String> out = new ArrayList<>(a);
        out.addAll(List.of(b));
        return out;
    }

    @Test
    void badRequestsAreRefusedWithAReason() throws Exception {
        HttpResponse<String> garbage = post("socket", "/filter", "{not json");
        assertEquals(400, garbage.statusCode());
        assertTrue(garbage.body().startsWith("not JSON"), garbage.body());

        JsonNode noNodes = JSON.readTree(post("socket", "/filter", "{\"Pod\":{\"metadata\":{\"name\":\"p\"}}}").body());
        assertEquals("ExtenderArgs has neither Nodes nor NodeNames", noNodes.path("Error").asText(), noNodes.toString());

        HttpResponse<String> prioritizeNoPod = post("socket", "/prioritize", "{\"NodeNames\":[\"node-a\"]}");
        assertEquals(400, prioritizeNoPod.statusCode());
        assertTrue(prioritizeNoPod.body().contains("ExtenderArgs has no Pod"), prioritizeNoPod.body());

        HttpResponse<String> get = HTTP.send(HttpRequest.newBuilder(uri("socket", "/filter")).GET().build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(405, get.statusCode());
    }

    private static void setRequired(ObjectNode args, String refs) {
        ((ObjectNode) args.path("Pod").path("metadata").path("annotations")).put(SchedulerExtender.REQUIRED, refs);
    }

    private static URI uri(String mode, String path) {
        return URI.create("http://127.0.0.1:" + schedulers.get(mode).port() + path);
    }

    private static HttpResponse<String> post(String mode, String path, String body) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(uri(mode, path)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private static JsonNode resource(String name) throws IOException {
        try (InputStream in = SchedulerExtenderTest.class.getResourceAsStream("/extender/" + name)) {
            if (in == null) {
                throw new IOException("no test resource extender/" + name);
            }
            return JSON.readTree(in);
        }
    }
}
