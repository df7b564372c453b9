package io.vineyard.k8s;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.apps.DaemonSet;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * {@code bin/vineyard-operator [--namespace NS]}: reconciles each {@code Vineyardd} resource
 * ({@code k8s.v6d.io/v1alpha1}) of a namespace into its DaemonSet, etcd StatefulSet and Services
 * ({@link VineyarddResources}) and reports {@code status}: desired and ready instances (the DaemonSet's
 * status), whether etcd is ready, the phase, the generation observed, and the pools' usage
 * ({@code usageBytes} of {@code limitBytes} over {@code reportingInstances}: {@link PoolUsage}, read from the
 * daemons' metrics endpoints through the metrics Service's EndpointSlices).
 *
 * <p>Design: fabric8 informers on Vineyardd resources and on the DaemonSets and StatefulSets it owns feed
 * one reconciling thread, so one resource is never reconciled twice at once; usage changes without any
 * event, so every resource is also reconciled every {@code usageInterval}. Reconciling applies every
 * child (created, or replaced when its spec differs) and then the status. Deleting a Vineyardd deletes its
 * children (Kubernetes' garbage collector would too, by their owner references; the operator does not
 * depend on it).
 */
public final class VineyarddOperator implements AutoCloseable {
    static final ResourceDefinitionContext VINEYARDD = new ResourceDefinitionContext.Builder().withGroup("k8s.v6d.io")
            .withVersion("v1alpha1").withKind("Vineyardd").withPlural("vineyardds").withNamespaced(true).build();
    private static final Logger LOG = LoggerFactory.getLogger(VineyarddOperator.class);

    private final KubernetesClient kube;
    private final String namespace;
    /** How often usage is read when nothing else happens, unless {@code --usage_interval} says otherwise. */
    static final Duration USAGE_INTERVAL = Duration.ofSeconds(30);

    private final ScheduledExecutorService reconciler = Executors.newSingleThreadScheduledExecutor(r -> Thread.ofPlatform().daemon(true).name("vineyardd-reconciler").unstarted(r));
    private final List<SharedIndexInformer<?>> informers;
    private final PoolUsage usage = new PoolUsage();

    private VineyarddOperator(KubernetesClient kube, String namespace, Duration usageInterval) {
        this.kube = kube;
        this.namespace = namespace;
        SharedIndexInformer<GenericKubernetesResource> vineyardds = kube.genericKubernetesResources(VINEYARDD).inNamespace(namespace)
                .inform(new ResourceEventHandler<>() {
                    @Override
                    public void onAdd(GenericKubernetesResource r) {
                        submit(r.getMetadata().getName());
                    }

                    @Override
                    public void onUpdate(GenericKubernetesResource before, GenericKubernetesResource after) {
                        submit(after.getMetadata().getName());
                    }

                    @Override
                    public void onDelete(GenericKubernetesResource r, boolean unknownFinalState) {
                        reconciler.execute(() -> deleteChildren(r.getMetadata().getName()));
                    }
                }, 0);
        ResourceEventHandler<HasMetadata> ownerChanged = new ResourceEventHandler<>() {
            @Override
            public void onAdd(HasMetadata r) {
                owner(r);
            }

            @Override
            public void onUpdate(HasMetadata before, HasMetadata after) {
                owner(after);
            }

            @Override
            public void onDelete(HasMetadata r, boolean unknownFinalState) {
                owner(r);
            }

            private void owner(HasMetadata r) {
                r.getMetadata().getOwnerReferences().stream().filter(o -> "Vineyardd".equals(o.getKind()))
                        .forEach(o -> submit(o.getName()));
            }
        };
        this.informers = List.of(vineyardds,
                kube.apps().daemonSets().inNamespace(namespace).withLabel("app.kubernetes.io/managed-by", "vineyard-operator").inform(cast(ownerChanged), 0),
                kube.apps().statefulSets().inNamespace(namespace).withLabel("app.kubernetes.io/managed-by", "vineyard-operator").inform(cast(ownerChanged), 0));
        reconciler.scheduleWithFixedDelay(() -> vineyardds.getStore().list().forEach(v -> submit(v.getMetadata().getName())),
                usageInterval.toMillis(), usageInterval.toMillis(), TimeUnit.MILLISECONDS);
    }

    @SuppressWarnings("unchecked")
    private static <T extends HasMetadata> ResourceEventHandler<T> cast(ResourceEventHandler<HasMetadata> h) {
        return (ResourceEventHandler<T>) (ResourceEventHandler<?>) h;
    }

    /** Starts reconciling the Vineyardd resources of {@code namespace} through {@code kube} (which it closes). */
    public static VineyarddOperator start(KubernetesClient kube, String namespace) {
        return start(kube, namespace, USAGE_INTERVAL);
    }

    /** As {@link #start(KubernetesClient, String)}, reading usage again every {@code usageInterval}. */
    public static VineyarddOperator start(KubernetesClient kube, String namespace, Duration usageInterval) {
        return new VineyarddOperator(kube, namespace, usageInterval);
    }

    private void submit(String name) {
        reconciler.execute(() -> {
            try {
                reconcile(name);
            } catch (RuntimeException e) {
                LOG.warn("reconciling Vineyardd {}/{} failed: {}", namespace, name, e.getMessage());
            }
        });
    }

    private void reconcile(String name) {
        var resources = kube.genericKubernetesResources(VINEYARDD).inNamespace(namespace);
        GenericKubernetesResource v = resources.withName(name).get();
        if (v == null) {
            return;
        }
        Map<String, Object> status = new LinkedHashMap<>();
        status.put("observedGeneration", v.getMetadata().getGeneration() == null ? 0L : v.getMetadata().getGeneration());
        List<HasMetadata> children;
        try {
            children = VineyarddResources.of(v);
        } catch (IllegalArgumentException | ClassCastException e) {
            status.put("phase", "Failed");
            status.put("message", "spec: " + e.getMessage());
            writeStatus(v, status);
            return;
        }
        for (HasMetadata child : children) {
            HasMetadata current = kube.resource(child).get();
            if (current == null) {
                kube.resource(child).create();
            } else if (!specOf(current).equals(specOf(child))) {
                child.getMetadata().setResourceVersion(current.getMetadata().getResourceVersion());
                kube.resource(child).update();
            }
        }
        DaemonSet ds = kube.apps().daemonSets().inNamespace(namespace).withName(name).get();
        int desired = ds == null || ds.getStatus() == null ? 0 : nz(ds.getStatus().getDesiredNumberScheduled());
        int ready = ds == null || ds.getStatus() == null ? 0 : nz(ds.getStatus().getNumberReady());
        StatefulSet etcd = kube.apps().statefulSets().inNamespace(namespace).withName(name + "-etcd").get();
        boolean etcdReady = etcd == null || etcd.getStatus() != null && nz(etcd.getStatus().getReadyReplicas()) >= nz(etcd.getSpec().getReplicas());
        status.put("desiredInstances", desired);
        status.put("readyInstances", ready);
        status.put("etcdReady", etcdReady);
        PoolUsage.Usage u = usage.of(kube.discovery().v1().endpointSlices().inNamespace(namespace)
                .withLabel("kubernetes.io/service-name", name + "-metrics").list().getItems());
        status.put("usageBytes", u.usedBytes());
        status.put("limitBytes", u.limitBytes());
        status.put("reportingInstances", u.reporting());
        status.put("phase", desired > 0 && ready == desired && etcdReady ? "Running" : "Pending");
        writeStatus(v, status);
    }

    private void writeStatus(GenericKubernetesResource v, Map<String, Object> status) {
        if (status.equals(v.getAdditionalProperties().get("status"))) {
            return;
        }
        v.getAdditionalProperties().put("status", status);
        kube.genericKubernetesResources(VINEYARDD).inNamespace(namespace).resource(v).updateStatus();
    }

    private static Object specOf(HasMetadata r) {
        return kube2map(r).get("spec");
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> kube2map(HasMetadata r) {
        return io.fabric8.kubernetes.client.utils.Serialization.unmarshal(io.fabric8.kubernetes.client.utils.Serialization.asJson(r), Map.class);
    }

    /** Whether every informer is watching the API server (the liveness and readiness of the operator). */
    public boolean isWatching() {
        return informers.stream().allMatch(SharedIndexInformer::isWatching);
    }

    /** {@code GET /healthz} on {@code port} (all addresses): 200 while {@link #isWatching()}, else 503. */
    com.sun.net.httpserver.HttpServer serveHealth(int port) throws java.io.IOException {
        var http = com.sun.net.httpserver.HttpServer.create(new java.net.InetSocketAddress(port), 8);
        http.createContext("/healthz", ex -> {
            boolean ok = isWatching();
            byte[] body = (ok ? "ok\n" : "not watching the API server\n").getBytes(java.nio.charset.StandardCharsets.UTF_8);
            ex.sendResponseHeaders(ok ? 200 : 503, body.length);
            try (var out = ex.getResponseBody()) {
                out.write(body);
            }
        });
        http.start();
        return http;
    }

    private static int nz(Integer i) {
        return i == null ? 0 : i;
    }

    private void deleteChildren(String name) {
        kube.apps().daemonSets().inNamespace(namespace).withName(name).delete();
        kube.apps().statefulSets().inNamespace(namespace).withName(name + "-etcd").delete();
        for (String svc : List.of(name + "-rpc", name + "-metrics", name + "-etcd", name + "-etcd-peer")) {
            kube.services().inNamespace(namespace).withName(svc).delete();
        }
    }

    @Override
    public void close() {
        informers.forEach(SharedIndexInformer::close);
        reconciler.shutdown();
        try {
            reconciler.awaitTermination(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        kube.close();
    }

    /**
     * The command line: {@code --namespace NS} (default: the client's namespace, else "default"),
     * {@code --usage_interval SECONDS} (30), {@code --health_port N} (serve {@code /healthz}; off); or
     * {@code --render FILE}: print the workloads the Vineyardd in FILE stands for, as YAML, and exit.
     */
    public static void main(String[] argv) throws Exception {
        if (argv.length == 2 && argv[0].equals("--render")) {
            try (var in = java.nio.file.Files.newInputStream(java.nio.file.Path.of(argv[1]))) {
                GenericKubernetesResource v = io.fabric8.kubernetes.client.utils.Serialization.unmarshal(in, GenericKubernetesResource.class);
                if (v.getMetadata().getUid() == null) { // the API server gives every resource one
                    v.getMetadata().setUid("00000000-0000-0000-0000-000000000000");
                }
                for (HasMetadata child : VineyarddResources.of(v)) {
                    System.out.print(io.fabric8.kubernetes.client.utils.Serialization.asYaml(child));
                }
            }
            return;
        }
        CommandLine cli = new CommandLine("vineyard-operator",
                "Usage: vineyard-operator [--namespace NS] [--usage_interval SECONDS] [--health_port N] | --render FILE");
        Map<String, String> flags = cli.parse(argv, java.util.Set.of("--namespace", "--usage_interval", "--health_port"));
        if (flags == null) {
            return;
        }
        Duration interval = flags.containsKey("--usage_interval")
                ? Duration.ofSeconds(cli.number("--usage_interval", flags.get("--usage_interval"), 1, 86_400)) : USAGE_INTERVAL;
        int healthPort = flags.containsKey("--health_port") ? cli.port(flags.get("--health_port")) : -1;
        KubernetesClient kube = new KubernetesClientBuilder().build();
        String namespace = flags.getOrDefault("--namespace", kube.getNamespace() == null ? "default" : kube.getNamespace());
        VineyarddOperator op = start(kube, namespace, interval);
        com.sun.net.httpserver.HttpServer health = healthPort < 0 ? null : op.serveHealth(healthPort);
        CommandLine.serveUntilShutdown("vineyard-operator reconciling Vineyardd resources in namespace " + namespace, () -> {
            if (health != null) {
                health.stop(0);
            }
            op.close();
        });
    }
}
