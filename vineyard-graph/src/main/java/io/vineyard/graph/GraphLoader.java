package io.vineyard.graph;

import io.vineyard.client.Client;
import io.vineyard.client.ObjectId;
import io.vineyard.client.PutOptions;
import io.vineyard.client.meta.ObjectMeta;
import io.vineyard.common.Status;
import io.vineyard.common.VineyardException;
import org.apache.arrow.vector.VectorSchemaRoot;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Loads a property graph from vertex and edge tables into vineyard as an {@code ArrowFragmentGroup} of
 * {@code fragments} {@code ArrowFragment}s on the client's daemon, with vineyard's metadata and layouts
 * ({@link FragmentDescriptor}).
 *
 * <pre>{@code
 * ObjectId group = GraphLoader.builder()
 *         .vertices("person", persons)                    // an "id" column (int64 or string) + properties
 *         .edges("knows", "person", "person", knows)      // "src" and "dst" columns + properties
 *         .fragments(4)
 *         .directed(true)
 *         .load(client);
 * }</pre>
 *
 * <p>A vertex label without a vertex table gets the ids its edges name (in order of first appearance), with
 * no properties. Vertices are hash-partitioned by id ({@code id mod fnum} for int64 ids, as vineyard's
 * {@code HashPartitioner}; a stable string hash for strings). An edge is stored on the fragment of its
 * source and on that of its destination. All or nothing: when a table is malformed or an edge names an
 * unknown vertex the load fails with {@link VineyardException} before anything is written, and when a put
 * fails the objects written so far are deleted.
 */
public final class GraphLoader {
    /** The label of vertices and edges given without one (GraphScope's default label). */
    public static final String DEFAULT_LABEL = "_";

    private final Map<String, VectorSchemaRoot> vertexTables = new LinkedHashMap<>();
    private final List<EdgeInput> edgeInputs = new ArrayList<>();
    private int fragments = 1;
    private boolean fragmentsGiven;
    private boolean directed = true;

    /** One edge label's input. */
    record EdgeInput(String label, String srcLabel, String dstLabel, VectorSchemaRoot table) {
    }

    private GraphLoader() {
    }

    /** A new loader. */
    public static GraphLoader builder() {
        return new GraphLoader();
    }

    /** The vertices of {@code label}: an {@code id} column, the other columns are properties. */
    public GraphLoader vertices(String label, VectorSchemaRoot table) {
        if (vertexTables.putIfAbsent(label, table) != null) {
            throw new VineyardException.Invalid("vertex label " + label + " is given twice");
        }
        return this;
    }

    /**
     * The edges of {@code label} from {@code srcLabel} to {@code dstLabel}: {@code src} and {@code dst}
     * columns, the other columns are properties.
     */
    public GraphLoader edges(String label, String srcLabel, String dstLabel, VectorSchemaRoot table) {
        for (EdgeInput e : edgeInputs) {
            if (e.label().equals(label)) {
                throw new VineyardException.Invalid("edge label " + label + " is given twice");
            }
        }
        edgeInputs.add(new EdgeInput(label, srcLabel, dstLabel, table));
        return this;
    }

    /** Edges of the default label between vertices of the default label. */
    public GraphLoader edges(VectorSchemaRoot table) {
        return edges(DEFAULT_LABEL, DEFAULT_LABEL, DEFAULT_LABEL, table);
    }

    /** The number of fragments (1 by default). */
    public GraphLoader fragments(int n) {
        if (n < 1 || n > 1 << 16) {
            throw new VineyardException.Invalid("fragments must be in 1..65536, got " + n);
        }
        this.fragments = n;
        this.fragmentsGiven = true;
        return this;
    }

    /** Directed (the default) or undirected. */
    public GraphLoader directed(boolean directed) {
        this.directed = directed;
        return this;
    }

    /**
     * Writes the graph on the client's daemon: the vertex map, then one fragment per put, then the group.
     *
     * @return the id of the {@code vineyard::ArrowFragmentGroup}
     */
    public ObjectId load(Client client) {
        return load(List.of(client), fragments, false);
    }

    /**
     * Writes the graph across instances, one client per daemon of a cluster sharing metadata through etcd:
     * fragment {@code f} on {@code clients.get(f % clients.size())} (vineyard's {@code FragToWorker}; with
     * {@link #fragments} not set, one fragment per client), each instance with its own copy of the vertex
     * map (vineyard's layout: every worker holds the whole {@code ArrowVertexMap}, and its fragments'
     * {@code vm_ptr_} names that copy; a client without a fragment gets nothing), everything persisted,
     * and the group, global and persisted, on the first client, {@code frag_instance_id_<i>} naming where
     * fragment {@code i} lives; it returns once every instance sees the group. The instances write in
     * parallel. All or nothing: on a failure every object written is deleted, on its own instance.
     * {@link #delete(List, ObjectId)} deletes such a graph.
     *
     * @return the id of the {@code vineyard::ArrowFragmentGroup}
     */
    public ObjectId load(List<? extends Client> clients) {
        if (clients.isEmpty()) {
            throw new VineyardException.Invalid("load: no clients");
        }
        if (clients.stream().map(Client::instanceId).distinct().count() != clients.size()) {
            throw new VineyardException.Invalid("load: two clients of one instance (instances "
                    + clients.stream().map(Client::instanceId).toList() + "): give one client per daemon");
        }
        return load(clients, fragmentsGiven ? fragments : clients.size(), true);
    }

    private ObjectId load(List<? extends Client> all, int fnum, boolean persist) {
        // with fewer fragments than clients, the last clients hold nothing (not even a vertex map)
        List<? extends Client> clients = all.subList(0, Math.min(all.size(), fnum));
        if (edgeInputs.isEmpty() && vertexTables.isEmpty()) {
            throw new VineyardException.Invalid("load: the graph has no vertices and no edges");
        }
        long t0 = System.nanoTime();
        GraphPlan plan = GraphPlan.of(vertexTables, edgeInputs, fnum, directed);
        trace("plan", t0);
        PutOptions options = persist ? PutOptions.persistent() : PutOptions.none();
        Written written = new Written();
        // each instance's vertex map is written by a thread of its own while the fragments are built; a
        // fragment waits for its id only to name it as its vm_ptr_ member
        List<CompletableFuture<ObjectId>> vms = new ArrayList<>();
        List<Thread> vmWriters = new ArrayList<>();
        for (Client client : clients) {
            CompletableFuture<ObjectId> vm = new CompletableFuture<>();
            vms.add(vm);
            vmWriters.add(Thread.ofPlatform().name("vineyard-graph-vertex-map").start(() -> {
                long t = System.nanoTime();
                try {
                    vm.complete(written.add(client, client.put(new VertexMapWriter.Draft(plan), options)));
                    trace("vertex map", t);
                } catch (Throwable e) {
                    vm.completeExceptionally(e);
                }
            }));
        }
        try {
            t0 = System.nanoTime();
            List<ObjectId> frags = putFragments(clients, plan, vms, options, written);
            trace("fragments", t0);
            for (CompletableFuture<ObjectId> vm : vms) {
                vertexMap(vm);
            }
            long[] locations = new long[frags.size()];
            for (int f = 0; f < locations.length; f++) {
                locations[f] = clients.get(f % clients.size()).instanceId();
            }
            Client first = clients.getFirst();
            ObjectId group = written.add(first, first.putMeta(groupMeta(plan, frags, locations), persist, null).id());
            for (Client c : all) {
                awaitReplica(c, () -> c.exists(group), "the group " + group);
            }
            return group;
        } catch (RuntimeException e) {
            vmWriters.forEach(GraphLoader::awaitQuietly);
            written.deleteQuietly(e);
            throw e;
        }
    }

    /** How long a load or delete waits for another instance's replica to apply what it has just done. */
    static final long REPLICA_TIMEOUT_MS = 30_000;

    /**
     * Returns once {@code done} holds on {@code client}'s instance (its replica applies etcd's events
     * within milliseconds; the SDK has no request that waits for an id, so this polls, bounded).
     */
    private static void awaitReplica(Client client, java.util.function.BooleanSupplier done, String what) {
        long deadline = System.nanoTime() + REPLICA_TIMEOUT_MS * 1_000_000;
        while (!done.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new VineyardException(Status.ETCD_ERROR, what + " did not reach instance i" + client.instanceId()
                        + " within " + REPLICA_TIMEOUT_MS + " ms");
            }
            try {
                Thread.sleep(2);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new VineyardException(Status.INVALID, "interrupted while waiting for " + what, e);
            }
        }
    }

    /** What a load has written so far, by client: deleted in reverse order when the load fails. */
    private static final class Written {
        private final List<Map.Entry<Client, ObjectId>> objects = new ArrayList<>();

        synchronized ObjectId add(Client client, ObjectId id) {
            objects.add(Map.entry(client, id));
            return id;
        }

        synchronized void deleteQuietly(RuntimeException failure) {
            // in reverse: the group before its fragments, a fragment before the vertex map it names (which
            // was added before the fragment's put could finish)
            for (int i = objects.size() - 1; i >= 0; i--) {
                try {
                    objects.get(i).getKey().delete(objects.get(i).getValue());
                } catch (RuntimeException e) {
                    failure.addSuppressed(e);
                }
            }
        }
    }

    /**
     * Puts the fragments, two at a time (each put builds its fragment on its own thread; a client
     * serialises its requests); fragment {@code f} goes to {@code clients.get(f % clients.size())} and
     * names that client's vertex map; every fragment written is added to {@code written}.
     */
    private static List<ObjectId> putFragments(List<? extends Client> clients, GraphPlan plan,
                                               List<CompletableFuture<ObjectId>> vms, PutOptions options,
                                               Written written) {
        int fnum = plan.fnum;
        ObjectId[] ids = new ObjectId[fnum];
        RuntimeException[] failure = new RuntimeException[1];
        AtomicInteger next = new AtomicInteger();
        Runnable worker = () -> {
            for (int f; (f = next.getAndIncrement()) < fnum; ) {
                try {
                    int at = f % clients.size();
                    Client client = clients.get(at);
                    ids[f] = written.add(client, client.put(new FragmentWriter.Draft(plan, f, vms.get(at)), options));
                } catch (RuntimeException e) {
                    synchronized (failure) {
                        if (failure[0] == null) {
                            failure[0] = e;
                        }
                    }
                    next.set(fnum);
                }
            }
        };
        Thread helper = fnum > 1 ? Thread.ofPlatform().name("vineyard-graph-fragments").start(worker) : null;
        worker.run();
        if (helper != null) {
            awaitQuietly(helper);
        }
        if (failure[0] != null) {
            throw failure[0];
        }
        return List.of(ids);
    }

    /**
     * Deletes a graph written by {@link #load(List)}: the group alone on the first client, then, once each
     * instance has seen it go, that instance's fragments with their vertex map, tables and blobs. (Each
     * instance deletes its own objects: a deep delete of the group from one instance would have to delete
     * the others' through etcd.) Returns once no instance has any of them.
     */
    public static void delete(List<? extends Client> clients, ObjectId group) {
        ObjectMeta g = clients.getFirst().getMeta(group);
        clients.getFirst().delete(false, group);
        int n = Math.toIntExact(g.getLong("total_frag_num"));
        for (Client c : clients) {
            awaitReplica(c, () -> !c.exists(group), "the delete of the group " + group);
            for (int i = 0; i < n; i++) {
                if (g.getLong("frag_instance_id_" + i) == c.instanceId()) {
                    c.delete(g.member("frag_object_id_" + i).id());
                }
            }
        }
        for (Client c : clients) {
            for (int i = 0; i < n; i++) {
                ObjectId frag = g.member("frag_object_id_" + i).id();
                awaitReplica(c, () -> !c.exists(frag), "the delete of fragment " + i + " (" + frag + ")");
            }
        }
    }

    /** The vertex map's id once written; its write's failure as it was thrown. */
    static ObjectId vertexMap(CompletableFuture<ObjectId> vm) {
        try {
            return vm.join();
        } catch (CompletionException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            throw e;
        }
    }

    private static void awaitQuietly(Thread t) {
        try {
            t.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static final boolean TRACE = Boolean.getBoolean("vineyard.graph.trace");

    /** With {@code -Dvineyard.graph.trace=true}: the time of each load phase on stderr. */
    static void trace(String phase, long startNs) {
        if (TRACE) {
            System.err.printf("vineyard-graph: %s %.1f ms%n", phase, (System.nanoTime() - startNs) / 1e6);
        }
    }

    static ObjectMeta groupMeta(GraphPlan plan, List<ObjectId> frags, long[] instanceIds) {
        ObjectMeta m = new ObjectMeta(FragmentDescriptor.GROUP);
        m.setGlobal(true);
        m.put("total_frag_num", (long) frags.size());
        m.put("vertex_label_num", (long) plan.vertexLabelNum());
        m.put("edge_label_num", (long) plan.edgeLabelNum());
        for (int i = 0; i < frags.size(); i++) {
            m.put("fid_" + i, (long) i);
            m.put("frag_instance_id_" + i, instanceIds[i]);
            m.addMember("frag_object_id_" + i, frags.get(i));
        }
        m.setNbytes(0);
        return m;
    }

    static VineyardException invalid(String message) {
        return new VineyardException(Status.INVALID, message);
    }
}
