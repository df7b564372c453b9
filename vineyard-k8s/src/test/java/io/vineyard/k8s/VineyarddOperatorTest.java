package io.vineyard.k8s;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.apps.DaemonSet;
import io.fabric8.kubernetes.api.model.apps.DaemonSetStatusBuilder;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.api.model.apps.StatefulSetStatusBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSliceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.vineyard.client.DaemonProcess;
import io.vineyard.client.IpcClient;
import io.vineyard.client.MetricsEndpointTest;
import io.vineyard.client.types.Tensor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static io.vineyard.k8s.MockApiServer.eventually;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The operator against fabric8's kubernetes-server-mock in CRUD mode holding our Vineyardd CRD (from
 * deploy/helm/vineyard/crds): a Vineyardd becomes its workloads, status follows the workloads' status
 * (which the mock's missing controllers leave to the test to set), updates reach the DaemonSet and
 * deletion removes everything; usage is read from real daemons' metrics endpoints, found through the
 * EndpointSlices of the Vineyardd's metrics Service (which the mock's missing endpoint controller leaves to
 * the test to write, in the controller's shape).
 */
class VineyarddOperatorTest {
    private static final String NS = "vineyard-system";
    private MockApiServer server;
    private KubernetesClient kube;
    private VineyarddOperator operator;

    @BeforeEach
    void start() throws IOException {
        server = new MockApiServer("k8s.v6d.io_vineyardds.yaml");
        kube = server.kube;
        operator = VineyarddOperator.start(server.newClient(), NS, Duration.ofMillis(200));
    }

    @AfterEach
    void stop() {
        if (operator != null) {
            operator.close();
        }
        server.close();
    }

    @Test
    void aVineyarddBecomesItsWorkloadsWithStatusUpdatesAndDeletion() throws Exception {
        try (var in = java.nio.file.Files.newInputStream(MockApiServer.repoFile("deploy/samples/vineyardd.yaml"))) {
            kube.resource(kube.load(in).items().getFirst()).create(); // size 4Gi, 3 etcd members
        }
        String name = "vineyardd-sample";
        assertTrue(eventually(() -> daemonSet(name) != null && etcd(name) != null), "the DaemonSet and the etcd StatefulSet");
        var container = daemonSet(name).getSpec().getTemplate().getSpec().getContainers().getFirst();
        assertTrue(container.getArgs().contains("--size=4Gi"), container.getArgs().toString());
        assertTrue(container.getArgs().contains("--etcd_endpoint=http://" + name + "-etcd." + NS + ".svc:2379"), container.getArgs().toString());
        assertEquals("4608Mi", container.getResources().getRequests().get("memory").toString(), "the pool plus the JVM");
        assertEquals(3, etcd(name).getSpec().getReplicas());
        for (String svc : List.of(name + "-rpc", name + "-metrics", name + "-etcd", name + "-etcd-peer")) {
            assertTrue(eventually(() -> kube.services().inNamespace(NS).withName(svc).get() != null), svc);
        }
        assertTrue(eventually(() -> "Pending".equals(status(name).get("phase"))), "pending before any daemon is ready: " + status(name));

        // what the DaemonSet and StatefulSet controllers would report
        kube.apps().daemonSets().inNamespace(NS).withName(name).editStatus(d -> {
            d.setStatus(new DaemonSetStatusBuilder().withDesiredNumberScheduled(3).withNumberReady(2).withCurrentNumberScheduled(3)
                    .withNumberMisscheduled(0).build());
            return d;
        });
        assertTrue(eventually(() -> Integer.valueOf(2).equals(status(name).get("readyInstances"))), "2 of 3 ready: " + status(name));
        assertEquals("Pending", status(name).get("phase"));
        kube.apps().daemonSets().inNamespace(NS).withName(name).editStatus(d -> {
            d.getStatus().setNumberReady(3);
            return d;
        });
        kube.apps().statefulSets().inNamespace(NS).withName(name + "-etcd").editStatus(s -> {
            s.setStatus(new StatefulSetStatusBuilder().withReplicas(3).withReadyReplicas(3).build());
            return s;
        });
        assertTrue(eventually(() -> "Running".equals(status(name).get("phase"))), "running: " + status(name));
        assertEquals(3, status(name).get("desiredInstances"));
        assertEquals(true, status(name).get("etcdReady"));

        // an update of the spec reaches the DaemonSet
        kube.genericKubernetesResources(VineyarddOperator.VINEYARDD).inNamespace(NS).withName(name).edit(v -> {
            spec(v).put("size", "8Gi");
            return v;
        });
        assertTrue(eventually(() -> daemonSet(name).getSpec().getTemplate().getSpec().getContainers().getFirst().getArgs().contains("--size=8Gi")),
                "the new pool size reaches the DaemonSet");

        kube.genericKubernetesResources(VineyarddOperator.VINEYARDD).inNamespace(NS).withName(name).delete();
        assertTrue(eventually(() -> daemonSet(name) == null && etcd(name) == null
                && kube.services().inNamespace(NS).list().getItems().isEmpty()), "deleting the Vineyardd deletes its workloads");
    }

    @Test
    void aBadSpecIsReportedInStatus() throws Exception {
        GenericKubernetesResource v = new GenericKubernetesResource();
        v.setApiVersion("k8s.v6d.io/v1alpha1");
        v.setKind("Vineyardd");
        v.setMetadata(new io.fabric8.kubernetes.api.model.ObjectMetaBuilder().withName("bad").withNamespace(NS).build());
        v.setAdditionalProperty("spec", new HashMap<>(Map.of("size", "4GB")));
        kube.genericKubernetesResources(VineyarddOperator.VINEYARDD).inNamespace(NS).resource(v).create();
        assertTrue(eventually(() -> "Failed".equals(status("bad").get("phase"))), "failed: " + status("bad"));
        assertEquals("spec: '4GB' is not a size like 512Mi or 4Gi", status("bad").get("message"));
        assertEquals(null, daemonSet("bad"), "nothing is created for a bad spec");
    }

    @Test
    void statusReportsThePoolsUsageSummedOverTheDaemonsMetrics() throws Exception {
        try (DaemonProcess a = DaemonProcess.start("--size=64Mi", "--metrics_port=0");
             DaemonProcess b = DaemonProcess.start("--size=32Mi", "--metrics_port=0")) {
            GenericKubernetesResource v = new GenericKubernetesResource();
            v.setApiVersion("k8s.v6d.io/v1alpha1");
            v.setKind("Vineyardd");
            v.setMetadata(new io.fabric8.kubernetes.api.model.ObjectMetaBuilder().withName("pools").withNamespace(NS).build());
            v.setAdditionalProperty("spec", new HashMap<>(Map.of("size", "64Mi")));
            kube.genericKubernetesResources(VineyarddOperator.VINEYARDD).inNamespace(NS).resource(v).create();
            // what the EndpointSlice controller would write for pools-metrics: one slice per port here, since
            // the two daemons share 127.0.0.1; a not-ready endpoint and one that does not answer are left out
            endpointSlice("pools-metrics-a", MetricsEndpointTest.metricsUrl(a).getPort(), true);
            endpointSlice("pools-metrics-b", MetricsEndpointTest.metricsUrl(b).getPort(), true);
            endpointSlice("pools-metrics-starting", MetricsEndpointTest.metricsUrl(a).getPort(), false);
            endpointSlice("pools-metrics-gone", 1, true);
            long limit = (64L + 32L) << 20;
            assertTrue(eventually(() -> Integer.valueOf(2).equals(status("pools").get("reportingInstances"))), "two report: " + status("pools"));
            assertEquals(limit, ((Number) status("pools").get("limitBytes")).longValue());
            assertEquals(a.memoryUsage() + b.memoryUsage(), ((Number) status("pools").get("usageBytes")).longValue());

            try (IpcClient client = IpcClient.connect(a.socket())) {
                client.put(Tensor.of(new double[1 << 17], 1 << 17)); // 1 MiB on a
                long used = a.memoryUsage() + b.memoryUsage();
                assertTrue(used >= 1 << 20, "the tensor is in the pool: " + used);
                assertTrue(eventually(() -> ((Number) status("pools").get("usageBytes")).longValue() == used),
                        "the next reading counts it, with no other event: " + status("pools") + " vs " + used);
            }
        }
    }

    @Test
    void healthzAnswersWhileTheInformersWatch() throws Exception {
        var health = operator.serveHealth(0);
        try {
            var url = java.net.URI.create("http://127.0.0.1:" + health.getAddress().getPort() + "/healthz");
            assertTrue(eventually(operator::isWatching), "the informers watch the mock API server");
            var r = java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(url).build(),
                    java.net.http.HttpResponse.BodyHandlers.ofString());
            assertEquals(200, r.statusCode(), r.body());
        } finally {
            health.stop(0);
        }
    }

    private void endpointSlice(String name, int port, boolean ready) {
        kube.resource(new EndpointSliceBuilder().withNewMetadata().withName(name).withNamespace(NS)
                .addToLabels("kubernetes.io/service-name", "pools-metrics").endMetadata()
                .withAddressType("IPv4").addNewPort().withName("metrics").withPort(port).withProtocol("TCP").endPort()
                .addNewEndpoint().withAddresses("127.0.0.1").withNewConditions().withReady(ready).endConditions().endEndpoint()
                .build()).create();
    }

    private DaemonSet daemonSet(String name) {
        return kube.apps().daemonSets().inNamespace(NS).withName(name).get();
    }

    private StatefulSet etcd(String name) {
        return kube.apps().statefulSets().inNamespace(NS).withName(name + "-etcd").get();
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> spec(GenericKubernetesResource v) {
        return (Map<String, Object>) v.getAdditionalProperties().get("spec");
    }

    @SuppressWarnings("unchecked")
    private Map<String, Object> status(String name) {
        GenericKubernetesResource v = kube.genericKubernetesResources(VineyarddOperator.VINEYARDD).inNamespace(NS).withName(name).get();
        Object s = v == null ? null : v.getAdditionalProperties().get("status");
        return s == null ? Map.of() : (Map<String, Object>) s;
    }

}
