package io.vineyard.k8s;

import com.fasterxml.jackson.databind.JsonNode;
import io.vineyard.client.Client;
import io.vineyard.client.ObjectId;
import io.vineyard.client.meta.ObjectMeta;
import io.vineyard.common.VineyardException;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Where the chunks of a set of vineyard objects live, by Kubernetes node: each local object's metadata names
 * the instance holding it ({@code instance_id}) and its size ({@code nbytes}), and the cluster's instances
 * name their node ({@code nodename}, the daemon's {@code --nodename}, else {@code hostname}). The metadata
 * comes from a {@link Source}: one daemon of the cluster through the Java SDK ({@link #ofDaemon}), or
 * etcd's keys directly ({@link EtcdMetadata}).
 */
final class DataLocality {
    static final Pattern OBJECT_ID = Pattern.compile("o[0-9a-f]{16}");

    /** One local object: the instance holding it and its bytes. */
    record Chunk(long instanceId, long nbytes) {
    }

    /** Where the cluster's metadata is read. Called from one thread at a time. */
    interface Source {
        /** The node of every live instance, by instance id. */
        Map<Long, String> nodeOfInstance();

        /**
         * Adds the local objects ("chunks") the object {@code ref} names consists of to {@code out} (keyed
         * by object id): itself when local, a global object's local members otherwise.
         *
         * @throws VineyardException.ObjectNotExists when {@code ref} names no object
         */
        void collectChunks(String ref, Map<Long, Chunk> out);
    }

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

    private final Source source;

    DataLocality(Source source) {
        this.source = source;
    }

    /** Asks the daemon {@code client} is connected to (any instance of the cluster). */
    static DataLocality ofDaemon(Client client) {
        return new DataLocality(new DaemonSource(client));
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
        synchronized (source) { // one connection serves every request of the scheduler
            Map<Long, String> nodeOfInstance = source.nodeOfInstance();
            Map<String, Long> bytesByNode = new LinkedHashMap<>();
            nodeOfInstance.values().forEach(n -> bytesByNode.put(n, 0L));
            Map<Long, Chunk> chunks = new LinkedHashMap<>();
            Set<String> missing = new LinkedHashSet<>();
            for (String ref : refs) {
                try {
                    source.collectChunks(ref, chunks);
                } catch (VineyardException.ObjectNotExists e) {
                    missing.add(ref);
                }
            }
            long total = 0;
            for (Chunk c : chunks.values()) {
                total += c.nbytes();
                String node = nodeOfInstance.get(c.instanceId());
                if (node != null) {
                    bytesByNode.merge(node, c.nbytes(), Long::sum);
                }
            }
            return new Placement(bytesByNode, total, List.copyOf(missing));
        }
    }

    /** The node an instance's description names: its {@code nodename}, else its {@code hostname}. */
    static String nodeOf(String nodename, String hostname) {
        return nodename == null || nodename.isEmpty() ? hostname == null ? "" : hostname : nodename;
    }

    /** The metadata as one daemon of the cluster sees it: {@code cluster_meta} and {@code get_data}. */
    private record DaemonSource(Client client) implements Source {
        @Override
        public Map<Long, String> nodeOfInstance() {
            Map<Long, String> out = new LinkedHashMap<>();
            for (Map.Entry<String, JsonNode> e : client.clusterMeta().properties()) {
                out.put(Long.parseLong(e.getKey().substring(1)),
                        nodeOf(e.getValue().path("nodename").asText(""), e.getValue().path("hostname").asText("")));
            }
            return out;
        }

        @Override
        public void collectChunks(String ref, Map<Long, Chunk> out) {
            ObjectId id = OBJECT_ID.matcher(ref).matches() ? ObjectId.parse(ref) : client.getName(ref);
            collect(client.getMeta(id), out);
        }

        /**
         * A local object's {@code nbytes} and {@code instance_id} say how much it holds and where; its blob
         * entries do not in another instance's view (vineyard's etcd layout leaves a remote blob's size out,
         * so they read 0 there).
         */
        private static void collect(ObjectMeta m, Map<Long, Chunk> out) {
            if (!m.isGlobal()) {
                out.putIfAbsent(m.id().value(), new Chunk(m.instanceId(), m.nbytes()));
                return;
            }
            for (ObjectMeta member : m.members().values()) {
                collect(member, out);
            }
        }
    }
}
