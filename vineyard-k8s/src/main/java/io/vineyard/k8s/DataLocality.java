package io.vineyard.k8s;

import com.fasterxml.jackson.databind.JsonNode;
import io.vineyard.client.Client;
import io.vineyard.client.ObjectId;
import io.vineyard.client.meta.ObjectMeta;
import io.vineyard.common.VineyardException;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Where the chunks of a set of vineyard objects live, by Kubernetes node: each local object's metadata names
 * the instance holding it ({@code instance_id}) and its size ({@code nbytes}), and {@code cluster_meta} names each instance's node
 * ({@code nodename}, the daemon's {@code --nodename}). Asks one daemon of the cluster through the Java SDK.
 */
final class DataLocality {
    private static final Pattern OBJECT_ID = Pattern.compile("o[0-9a-f]{16}");

    /**
     * The answer for one pod.
     *
     * @param bytesByNode  bytes of the required objects' local chunks held on each node that runs an
     *                     instance (0 for such a node holding none of them)
     * @param totalBytes   bytes of all the required objects' chunks (each chunk counted once)
     * @param missing      references that name no object (yet), in the order given
     */
    record Placement(Map<String, Long> bytesByNode, long totalBytes, List<String> missing) {
        /** The nodes running a vineyard instance. */
        Set<String> vineyardNodes() {
            return bytesByNode.keySet();
        }
    }

    private final Client client;

    DataLocality(Client client) {
        this.client = client;
    }

    /** Splits the annotation's comma-separated list of object names and ids, dropping blanks. */
    static List<String> references(String annotation) {
        List<String> out = new ArrayList<>();
        for (String s : annotation.split(",")) {
            if (!s.isBlank()) {
                out.add(s.trim());
            }
        }
        return out;
    }

    /** The placement of the objects {@code refs} name (ids {@code o<16 hex>} or names). */
    Placement locate(List<String> refs) {
        synchronized (client) { // one connection serves every request of the scheduler
            Map<Long, String> nodeOfInstance = new HashMap<>();
            Map<String, Long> bytesByNode = new LinkedHashMap<>();
            var instances = client.clusterMeta().properties();
            for (Map.Entry<String, JsonNode> e : instances) {
                String node = e.getValue().path("nodename").asText("");
                if (node.isEmpty()) {
                    node = e.getValue().path("hostname").asText("");
                }
                nodeOfInstance.put(Long.parseLong(e.getKey().substring(1)), node);
                bytesByNode.put(node, 0L);
            }
            Map<ObjectId, ObjectMeta> chunks = new LinkedHashMap<>();
            Set<String> missing = new LinkedHashSet<>();
            for (String ref : refs) {
                try {
                    ObjectId id = OBJECT_ID.matcher(ref).matches() ? ObjectId.parse(ref) : client.getName(ref);
                    collectChunks(client.getMeta(id), chunks);
                } catch (VineyardException.ObjectNotExists e) {
                    missing.add(ref);
                }
            }
            long total = 0;
            for (ObjectMeta b : chunks.values()) {
                total += b.nbytes();
                String node = nodeOfInstance.get(b.instanceId());
                if (node != null) {
                    bytesByNode.merge(node, b.nbytes(), Long::sum);
                }
            }
            return new Placement(bytesByNode, total, List.copyOf(missing));
        }
    }

    /**
     * The local objects ("chunks") an object consists of: itself when local, a global object's local
     * members otherwise. A local object's {@code nbytes} and {@code instance_id} say how much it holds and
     * where; its blob entries do not in another instance's view (vineyard's etcd layout leaves a remote
     * blob's size out, so they read 0 there).
     */
    private static void collectChunks(ObjectMeta m, Map<ObjectId, ObjectMeta> out) {
        if (!m.isGlobal()) {
            out.putIfAbsent(m.id(), m);
            return;
        }
        for (ObjectMeta member : m.members().values()) {
            collectChunks(member, out);
        }
    }
}
