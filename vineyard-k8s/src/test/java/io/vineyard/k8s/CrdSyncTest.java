package io.vineyard.k8s;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.vineyard.client.DaemonProcess;
import io.vineyard.client.IpcClient;
import io.vineyard.client.ObjectId;
import io.vineyard.client.meta.ObjectMeta;
import io.vineyard.client.types.Tensor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.List;
import java.util.Map;

import static io.vineyard.k8s.MockApiServer.eventually;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code --sync_crds} against fabric8's kubernetes-server-mock in CRUD mode (no kube-apiserver can run
 * here), holding our own CRDs from deploy/helm/vineyard/crds: a real daemon persists and deletes objects,
 * and its LocalObject/GlobalObject resources follow.
 */
class CrdSyncTest {
    private static final String NS = "vineyard-test";
    private MockApiServer server;
    private KubernetesClient kube;
    private DaemonProcess daemon;

    @BeforeEach
    void start() throws IOException {
        server = new MockApiServer("k8s.v6d.io_localobjects.yaml", "k8s.v6d.io_globalobjects.yaml");
        kube = server.kube;
        daemon = DaemonProcess.start("--size=64Mi", "--sync_crds", "--nodename=node-a",
                "--k8s_api=" + server.url(), "--k8s_namespace=" + NS);
    }

    @AfterEach
    void stop() throws IOException {
        if (daemon != null) {
            daemon.close();
        }
        if (server != null) {
            server.close();
        }
    }

    @Test
    void persistingCreatesTheLocalObjectAndDeletingDeletesIt() throws Exception {
        try (IpcClient c = IpcClient.connect(daemon.socket())) {
            ObjectId id = c.putNamed(Tensor.of(new double[1000], 1000), "features");
            ObjectMeta meta = c.getMeta(id);
            assertTrue(eventually(() -> local(id) != null), "a LocalObject for " + id + "; daemon log: " + daemon.log());
            Map<String, Object> spec = spec(local(id));
            assertEquals(id.toString(), spec.get("id"));
            assertEquals("features", spec.get("name"));
            assertEquals("vineyard::Tensor<double>", spec.get("typename"));
            assertEquals(8000L, ((Number) spec.get("size")).longValue());
            assertEquals(c.instanceId(), ((Number) spec.get("instance_id")).longValue());
            assertEquals("node-a", spec.get("hostname"));
            assertEquals(meta.signature().longValue(), ((Number) spec.get("signature")).longValue());
            assertEquals(Long.toString(c.instanceId()), local(id).getMetadata().getLabels().get(CrdSync.INSTANCE_LABEL));
            keepForSchemaCheck("localobject.yaml", local(id));

            c.delete(id);
            assertTrue(eventually(() -> local(id) == null), "the LocalObject goes with the object");
        }
    }

    @Test
    void transientObjectsGetNoResourceAndGlobalObjectsGetAGlobalObject() throws Exception {
        try (IpcClient c = IpcClient.connect(daemon.socket())) {
            ObjectId part = c.putNamed(Tensor.of(new double[10], 10), "part-0");
            ObjectMeta global = new ObjectMeta("vineyard::GlobalTensor").setGlobal(true);
            global.addMember("partitions_-0", part);
            global.put("partitions_-size", 1L);
            ObjectId gid = c.putMeta(global, true, "whole").id();
            ObjectId scratch = c.put(Tensor.of(new double[10], 10)); // never persisted
            assertTrue(eventually(() -> kube.genericKubernetesResources(CrdSync.GLOBAL_OBJECT).inNamespace(NS).withName(gid.toString()).get() != null),
                    "a GlobalObject for " + gid + "; daemon log: " + daemon.log());
            GenericKubernetesResource g = kube.genericKubernetesResources(CrdSync.GLOBAL_OBJECT).inNamespace(NS).withName(gid.toString()).get();
            assertEquals(List.of(part.toString()), spec(g).get("members"));
            keepForSchemaCheck("globalobject.yaml", g);
            assertTrue(local(part) != null, "its member has a LocalObject");
            assertNull(local(scratch), "a transient object has no resource");
        }
    }

    /**
     * Keeps a resource as created, under target/crd-sync-resources/: bin/test-deploy validates those
     * against the CRDs' schemas (the mock API server does not validate).
     */
    private static void keepForSchemaCheck(String file, GenericKubernetesResource r) throws IOException {
        java.nio.file.Path dir = java.nio.file.Files.createDirectories(java.nio.file.Path.of("target", "crd-sync-resources"));
        java.nio.file.Files.writeString(dir.resolve(file), io.fabric8.kubernetes.client.utils.Serialization.asYaml(r));
    }

    private GenericKubernetesResource local(ObjectId id) {
        return kube.genericKubernetesResources(CrdSync.LOCAL_OBJECT).inNamespace(NS).withName(id.toString()).get();
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> spec(GenericKubernetesResource r) {
        return (Map<String, Object>) r.getAdditionalProperties().get("spec");
    }

}
