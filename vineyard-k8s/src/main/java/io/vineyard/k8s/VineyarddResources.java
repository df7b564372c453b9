package io.vineyard.k8s;

import io.fabric8.kubernetes.api.model.ContainerBuilder;
import io.fabric8.kubernetes.api.model.EnvVarBuilder;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.apps.DaemonSet;
import io.fabric8.kubernetes.api.model.apps.DaemonSetBuilder;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.api.model.apps.StatefulSetBuilder;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The workloads one {@code Vineyardd} resource stands for, as the Helm chart renders them for the same
 * settings: the daemons' DaemonSet (socket directory on a hostPath, /dev/shm and the memory request and
 * limit sized from the pool), their RPC and metrics Services, and (unless an external endpoint is given)
 * an etcd StatefulSet with its client and peer Services. Every one is owned by the resource.
 */
final class VineyarddResources {
    private static final Pattern QUANTITY = Pattern.compile("([0-9]+)(Ki|Mi|Gi|Ti)?");

    private VineyarddResources() {
    }

    /** The children of {@code vineyardd}, in the order they are applied (etcd first). */
    static List<HasMetadata> of(GenericKubernetesResource vineyardd) {
        Spec s = Spec.of(vineyardd);
        String name = vineyardd.getMetadata().getName();
        String ns = vineyardd.getMetadata().getNamespace();
        OwnerReference owner = new OwnerReferenceBuilder().withApiVersion(vineyardd.getApiVersion()).withKind(vineyardd.getKind())
                .withName(name).withUid(vineyardd.getMetadata().getUid()).withController(true).withBlockOwnerDeletion(true).build();
        List<HasMetadata> out = new ArrayList<>();
        String etcdEndpoint = s.externalEtcd;
        if (etcdEndpoint.isEmpty()) {
            String etcd = name + "-etcd";
            etcdEndpoint = "http://" + etcd + "." + ns + ".svc:2379";
            out.add(service(etcd, ns, owner, labels(name, "etcd"), "client", 2379, false));
            out.add(service(etcd + "-peer", ns, owner, labels(name, "etcd"), "peer", 2380, true));
            out.add(etcdStatefulSet(etcd, ns, owner, labels(name, "etcd"), s));
        }
        out.add(daemonSet(name, ns, owner, s, etcdEndpoint));
        out.add(service(name + "-rpc", ns, owner, labels(name, "vineyardd"), "rpc", s.rpcPort, false));
        out.add(service(name + "-metrics", ns, owner, labels(name, "vineyardd"), "metrics", s.metricsPort, false));
        return out;
    }

    static Map<String, String> labels(String name, String component) {
        Map<String, String> l = new LinkedHashMap<>();
        l.put("app.kubernetes.io/name", "vineyard");
        l.put("app.kubernetes.io/instance", name);
        l.put("app.kubernetes.io/component", component);
        l.put("app.kubernetes.io/managed-by", "vineyard-operator");
        return l;
    }

    /** A quantity like 4Gi in whole MiB, rounded up; {@link IllegalArgumentException} otherwise. */
    static long mebibytes(String quantity) {
        Matcher m = QUANTITY.matcher(quantity);
        if (!m.matches()) {
            throw new IllegalArgumentException("'" + quantity + "' is not a size like 512Mi or 4Gi");
        }
        long n = Long.parseLong(m.group(1));
        return switch (m.group(2) == null ? "" : m.group(2)) {
            case "Ki" -> (n + 1023) / 1024;
            case "Mi" -> n;
            case "Gi" -> n * 1024;
            case "Ti" -> n * 1024 * 1024;
            default -> (n + (1 << 20) - 1) >> 20;
        };
    }

    /** A Vineyardd's spec with the CRD's defaults applied. */
    record Spec(String image, String size, String jvmMemory, String socketDir, int rpcPort, int metricsPort,
                boolean syncCrds, Map<String, String> nodeSelector, List<String> extraArgs, int etcdReplicas,
                String etcdImage, String externalEtcd, String etcdPrefix) {
        @SuppressWarnings("unchecked")
        static Spec of(GenericKubernetesResource r) {
            Map<String, Object> spec = (Map<String, Object>) r.getAdditionalProperties().getOrDefault("spec", Map.of());
            Map<String, Object> etcd = (Map<String, Object>) spec.getOrDefault("etcd", Map.of());
            Spec s = new Spec(str(spec, "image", "vineyard-java/vineyardd:0.1.0"), str(spec, "size", "1Gi"),
                    str(spec, "jvmMemory", "512Mi"), str(spec, "socketDir", "/var/run/vineyard"),
                    ((Number) spec.getOrDefault("rpcPort", 9600)).intValue(), ((Number) spec.getOrDefault("metricsPort", 9601)).intValue(),
                    Boolean.TRUE.equals(spec.get("syncCrds")), (Map<String, String>) spec.getOrDefault("nodeSelector", Map.of()),
                    (List<String>) spec.getOrDefault("extraArgs", List.of()), ((Number) etcd.getOrDefault("replicas", 1)).intValue(),
                    str(etcd, "image", "quay.io/coreos/etcd:v3.5.17"), str(etcd, "externalEndpoint", ""), str(etcd, "prefix", "vineyard"));
            mebibytes(s.size);
            mebibytes(s.jvmMemory);
            return s;
        }

        private static String str(Map<String, Object> m, String key, String fallback) {
            Object v = m.get(key);
            return v == null ? fallback : v.toString();
        }
    }

    private static DaemonSet daemonSet(String name, String ns, OwnerReference owner, Spec s, String etcdEndpoint) {
        String socket = s.socketDir + "/vineyard.sock";
        long poolMi = mebibytes(s.size);
        Quantity memory = new Quantity((poolMi + mebibytes(s.jvmMemory)) + "Mi");
        List<String> args = new ArrayList<>(List.of("--socket=" + socket, "--size=" + s.size, "--rpc_host=0.0.0.0",
                "--rpc_socket_port=" + s.rpcPort, "--metrics_host=0.0.0.0", "--metrics_port=" + s.metricsPort, "--meta=etcd",
                "--etcd_endpoint=" + etcdEndpoint, "--etcd_prefix=" + s.etcdPrefix, "--nodename=$(VINEYARD_NODENAME)"));
        if (s.syncCrds) {
            args.addAll(List.of("--sync_crds", "--k8s_namespace=$(VINEYARD_NAMESPACE)"));
        }
        args.addAll(s.extraArgs);
        Map<String, String> labels = labels(name, "vineyardd");
        return new DaemonSetBuilder().withNewMetadata().withName(name).withNamespace(ns).withLabels(labels).withOwnerReferences(owner).endMetadata()
                .withNewSpec().withNewSelector().withMatchLabels(labels).endSelector()
                .withNewTemplate().withNewMetadata().withLabels(labels).endMetadata()
                .withNewSpec().withNodeSelector(s.nodeSelector)
                .addToContainers(new ContainerBuilder().withName("vineyardd").withImage(s.image)
                        .withCommand("/opt/vineyard/bin/vineyardd").withArgs(args)
                        .withEnv(new EnvVarBuilder().withName("VINEYARD_NODENAME").withNewValueFrom().withNewFieldRef().withFieldPath("spec.nodeName").endFieldRef().endValueFrom().build(),
                                new EnvVarBuilder().withName("VINEYARD_NAMESPACE").withNewValueFrom().withNewFieldRef().withFieldPath("metadata.namespace").endFieldRef().endValueFrom().build(),
                                new EnvVarBuilder().withName("VINEYARD_IPC_SOCKET").withValue(socket).build())
                        .addNewPort().withName("rpc").withContainerPort(s.rpcPort).endPort()
                        .addNewPort().withName("metrics").withContainerPort(s.metricsPort).endPort()
                        .withNewReadinessProbe().withNewExec().withCommand("/opt/vineyard/bin/vineyardctl", "--socket=" + socket, "stat").endExec()
                        .withInitialDelaySeconds(5).withPeriodSeconds(10).withTimeoutSeconds(10).endReadinessProbe()
                        .withNewLivenessProbe().withNewHttpGet().withPath("/metrics").withPort(new IntOrString("metrics")).endHttpGet()
                        .withInitialDelaySeconds(30).withPeriodSeconds(15).withTimeoutSeconds(5).endLivenessProbe()
                        .withNewResources().addToRequests("memory", memory).addToLimits("memory", memory).endResources()
                        .addNewVolumeMount().withName("vineyard-socket").withMountPath(s.socketDir).endVolumeMount()
                        .addNewVolumeMount().withName("dshm").withMountPath("/dev/shm").endVolumeMount()
                        .build())
                .addNewVolume().withName("vineyard-socket").withNewHostPath().withPath(s.socketDir).withType("DirectoryOrCreate").endHostPath().endVolume()
                .addNewVolume().withName("dshm").withNewEmptyDir().withMedium("Memory").withSizeLimit(new Quantity(poolMi + "Mi")).endEmptyDir().endVolume()
                .endSpec().endTemplate().endSpec().build();
    }

    private static StatefulSet etcdStatefulSet(String name, String ns, OwnerReference owner, Map<String, String> labels, Spec s) {
        List<String> peers = new ArrayList<>();
        for (int i = 0; i < s.etcdReplicas; i++) {
            peers.add(name + "-" + i + "=http://" + name + "-" + i + "." + name + "-peer." + ns + ".svc:2380");
        }
        String self = "$(POD_NAME)." + name + "-peer." + ns + ".svc";
        return new StatefulSetBuilder().withNewMetadata().withName(name).withNamespace(ns).withLabels(labels).withOwnerReferences(owner).endMetadata()
                .withNewSpec().withServiceName(name + "-peer").withReplicas(s.etcdReplicas).withPodManagementPolicy("Parallel")
                .withNewSelector().withMatchLabels(labels).endSelector()
                .withNewTemplate().withNewMetadata().withLabels(labels).endMetadata().withNewSpec()
                .addToContainers(new ContainerBuilder().withName("etcd").withImage(s.etcdImage).withCommand("etcd")
                        .withArgs("--name=$(POD_NAME)", "--data-dir=/var/lib/etcd", "--listen-client-urls=http://0.0.0.0:2379",
                                "--advertise-client-urls=http://" + self + ":2379", "--listen-peer-urls=http://0.0.0.0:2380",
                                "--initial-advertise-peer-urls=http://" + self + ":2380", "--initial-cluster=" + String.join(",", peers),
                                "--initial-cluster-state=new", "--initial-cluster-token=" + name)
                        .withEnv(new EnvVarBuilder().withName("POD_NAME").withNewValueFrom().withNewFieldRef().withFieldPath("metadata.name").endFieldRef().endValueFrom().build())
                        .addNewPort().withName("client").withContainerPort(2379).endPort()
                        .addNewPort().withName("peer").withContainerPort(2380).endPort()
                        .withNewReadinessProbe().withNewHttpGet().withPath("/health").withPort(new IntOrString("client")).endHttpGet().endReadinessProbe()
                        .withNewLivenessProbe().withNewHttpGet().withPath("/livez").withPort(new IntOrString("client")).endHttpGet()
                        .withInitialDelaySeconds(15).endLivenessProbe()
                        .addNewVolumeMount().withName("data").withMountPath("/var/lib/etcd").endVolumeMount().build())
                .addNewVolume().withName("data").withNewEmptyDir().endEmptyDir().endVolume()
                .endSpec().endTemplate().endSpec().build();
    }

    private static Service service(String name, String ns, OwnerReference owner, Map<String, String> selector, String port,
                                   int number, boolean headless) {
        ServiceBuilder b = new ServiceBuilder().withNewMetadata().withName(name).withNamespace(ns).withLabels(selector)
                .withOwnerReferences(owner).endMetadata();
        var spec = b.withNewSpec().withSelector(selector)
                .addNewPort().withName(port).withPort(number).withTargetPort(new IntOrString(port)).endPort();
        if (headless) {
            spec.withClusterIP("None").withPublishNotReadyAddresses(true);
        }
        return spec.endSpec().build();
    }
}
