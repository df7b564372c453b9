package io.vineyard.k8s;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.GenericKubernetesResourceBuilder;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;
import io.vineyard.client.IpcClient;
import io.vineyard.client.meta.ObjectMeta;
import io.vineyard.server.daemon.DaemonSidecar;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * The daemon's {@code --sync_crds}: keeps one {@code LocalObject} (or {@code GlobalObject}) resource of
 * {@code k8s.v6d.io/v1alpha1} per persisted object this instance holds, created when the object is
 * persisted and deleted when it is, through the Kubernetes API (fabric8's client).
 *
 * <p>Design: a sidecar thread of the daemon, never on a request's path. Every {@link #PERIOD_MS} it lists
 * the daemon's persisted objects through its IPC socket (as any client would), lists the resources
 * labelled with this instance ({@value #INSTANCE_LABEL}), creates the missing ones and deletes the
 * extra ones. The resource's name is the object id. A failed round (API server down, no permission) is
 * logged once per distinct message and retried on the next; the daemon serves on regardless.
 */
public final class CrdSync implements DaemonSidecar {
    /** How often the resources are reconciled with the daemon's persisted objects. */
    static final long PERIOD_MS = 500;
    /** The label holding the instance id on every resource this instance owns. */
    static final String INSTANCE_LABEL = "k8s.v6d.io/instance";
    static final ResourceDefinitionContext LOCAL_OBJECT = context("LocalObject", "localobjects");
    static final ResourceDefinitionContext GLOBAL_OBJECT = context("GlobalObject", "globalobjects");
    private static final Logger LOG = LoggerFactory.getLogger(CrdSync.class);

    /** For {@link java.util.ServiceLoader}. */
    public CrdSync() {
    }

    @Override
    public String flag() {
        return "sync_crds";
    }

    @Override
    public AutoCloseable start(Context context) {
        var crds = context.config().crds();
        Config config = crds.apiUrl().isEmpty() ? Config.autoConfigure(null)
                : new ConfigBuilder(Config.empty()).withMasterUrl(crds.apiUrl()).build();
        KubernetesClient kube = new KubernetesClientBuilder().withConfig(config).build();
        String namespace = !crds.namespace().isEmpty() ? crds.namespace()
                : System.getenv("VINEYARD_NAMESPACE") != null ? System.getenv("VINEYARD_NAMESPACE")
                : Objects.requireNonNullElse(kube.getNamespace(), "default");
        Loop loop = new Loop(kube, namespace, context);
        Thread.ofPlatform().daemon(true).name("vineyard-sync-crds").start(loop);
        LOG.info("--sync_crds: LocalObject/GlobalObject resources in namespace {} at {}", namespace, config.getMasterUrl());
        return loop;
    }

    private static ResourceDefinitionContext context(String kind, String plural) {
        return new ResourceDefinitionContext.Builder().withGroup("k8s.v6d.io").withVersion("v1alpha1")
                .withKind(kind).withPlural(plural).withNamespaced(true).build();
    }

    /** The resource that publishes {@code m}, a persisted object of instance {@code instanceId}. */
    static GenericKubernetesResource resourceOf(ObjectMeta m, long instanceId, String hostname) {
        Map<String, Object> spec = new LinkedHashMap<>();
        spec.put("id", m.id().toString());
        if (m.name() != null) {
            spec.put("name", m.name());
        }
        spec.put("signature", m.signature() == null ? 0L : m.signature());
        spec.put("typename", m.typename());
        spec.put("size", m.nbytes());
        if (m.isGlobal()) {
            List<String> members = new ArrayList<>();
            m.members().values().forEach(member -> members.add(member.id().toString()));
            spec.put("members", members);
        } else {
            spec.put("instance_id", instanceId);
            spec.put("hostname", hostname);
        }
        spec.put("metadata", m.toJson().toString());
        return new GenericKubernetesResourceBuilder().withApiVersion("k8s.v6d.io/v1alpha1")
                .withKind(m.isGlobal() ? "GlobalObject" : "LocalObject")
                .withNewMetadata().withName(m.id().toString()).addToLabels(INSTANCE_LABEL, Long.toString(instanceId)).endMetadata()
                .withAdditionalProperties(Map.of("spec", spec)).build();
    }

    /** The reconciling thread and what stops it. */
    private static final class Loop implements Runnable, AutoCloseable {
        private final KubernetesClient kube;
        private final String namespace;
        private final Context context;
        private final CountDownLatch stop = new CountDownLatch(1);
        private final CountDownLatch stopped = new CountDownLatch(1);
        private IpcClient client;
        private String lastError;

        Loop(KubernetesClient kube, String namespace, Context context) {
            this.kube = kube;
            this.namespace = namespace;
            this.context = context;
        }

        @Override
        public void run() {
            try {
                do {
                    try {
                        reconcile();
                        lastError = null;
                    } catch (RuntimeException e) {
                        if (!Objects.equals(lastError, e.getMessage())) {
                            LOG.warn("--sync_crds: this round failed, retrying every {} ms: {}", PERIOD_MS, e.getMessage());
                            lastError = e.getMessage();
                        }
                        if (client != null && client.isClosed()) {
                            client = null;
                        }
                    }
                } while (!stop.await(PERIOD_MS, TimeUnit.MILLISECONDS));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } finally {
                stopped.countDown();
            }
        }

        private void reconcile() {
            if (client == null) {
                client = IpcClient.connect(context.config().socketPath());
            }
            Map<String, GenericKubernetesResource> local = new LinkedHashMap<>();
            Map<String, GenericKubernetesResource> global = new LinkedHashMap<>();
            for (ObjectMeta m : client.list("*", Integer.MAX_VALUE)) {
                if (m.isTransient() || m.isBlob() || m.instanceId() != context.instanceId()) {
                    continue;
                }
                GenericKubernetesResource r = resourceOf(m, context.instanceId(), context.nodename());
                (m.isGlobal() ? global : local).put(r.getMetadata().getName(), r);
            }
            sync(LOCAL_OBJECT, local);
            sync(GLOBAL_OBJECT, global);
        }

        private void sync(ResourceDefinitionContext kind, Map<String, GenericKubernetesResource> wanted) {
            var resources = kube.genericKubernetesResources(kind).inNamespace(namespace);
            Map<String, GenericKubernetesResource> have = new LinkedHashMap<>();
            for (GenericKubernetesResource r : resources.withLabel(INSTANCE_LABEL, Long.toString(context.instanceId())).list().getItems()) {
                have.put(r.getMetadata().getName(), r);
            }
            for (var e : wanted.entrySet()) {
                if (!have.containsKey(e.getKey())) {
                    resources.resource(e.getValue()).create();
                }
            }
            for (String name : have.keySet()) {
                if (!wanted.containsKey(name)) {
                    resources.withName(name).delete();
                }
            }
        }

        @Override
        public void close() {
            stop.countDown();
            try {
                stopped.await(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            if (client != null) {
                client.close();
            }
            kube.close();
        }
    }
}
