package io.vineyard.k8s;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.function.BooleanSupplier;

/**
 * fabric8's kubernetes-server-mock in CRUD mode (create, update, JSON patch, status, informers; no
 * controllers, no garbage collector, no admission) on loopback, holding CRDs from deploy/helm/vineyard/crds.
 * No kube-apiserver can run on our machines; this is the substitute the issue names.
 */
final class MockApiServer implements AutoCloseable {
    private final KubernetesMockServer server;
    final KubernetesClient kube;

    /** Starts it with the CRDs in {@code crdFiles} (names in deploy/helm/vineyard/crds) created. */
    MockApiServer(String... crdFiles) throws IOException {
        server = new KubernetesMockServer(new Context(), new MockWebServer(), new HashMap<>(), new KubernetesCrudDispatcher(), false);
        server.init();
        kube = server.createClient();
        for (String f : crdFiles) {
            try (InputStream in = Files.newInputStream(repoFile("deploy/helm/vineyard/crds/" + f))) {
                for (HasMetadata crd : kube.load(in).items()) {
                    kube.resource(crd).create();
                }
            }
        }
    }

    /** A file of the repository (tests run in the module's directory). */
    static Path repoFile(String path) {
        return Path.of(System.getProperty("user.dir")).getParent().resolve(path);
    }

    /** Its URL, for {@code --k8s_api}. */
    String url() {
        return "http://" + server.getHostName() + ":" + server.getPort();
    }

    /** Another client of it. */
    KubernetesClient newClient() {
        return server.createClient();
    }

    /** Waits (at most 20 s) until {@code condition} holds; false when it never did. */
    static boolean eventually(BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (System.nanoTime() < deadline) {
            if (condition.getAsBoolean()) {
                return true;
            }
            Thread.sleep(50); // another thread or process reconciles on its own: nothing to wait on here
        }
        return condition.getAsBoolean();
    }

    @Override
    public void close() {
        kube.close();
        server.destroy();
    }
}
