package io.vineyard.graph;

import io.vineyard.client.Client;
import io.vineyard.client.ObjectId;
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
        return this;
    }

    /** Directed (the default) or undirected. */
    public GraphLoader directed(boolean directed) {
        this.directed = directed;
        return this;
    }

    /**
     * Writes the graph: the vertex map, then one fragment per put, then the group.
     *
     * @return the id of the {@code vineyard::ArrowFragmentGroup}
     */
    public ObjectId load(Client client) {
        if (edgeInputs.isEmpty() && vertexTables.isEmpty()) {
            throw new VineyardException.Invalid("load: the graph has no vertices and no edges");
        }
        long t0 = System.nanoTime();
        GraphPlan plan = GraphPlan.of(vertexTables, edgeInputs, fragments, directed);
        trace("plan", t0);
        List<ObjectId> written = new ArrayList<>();
        // the vertex map is written by a thread of its own while the fragments are built; a fragment waits
        // for its id only to name it as its vm_ptr_ member
        CompletableFuture<ObjectId> vm = new CompletableFuture<>();
        Thread vmWriter = Thread.ofPlatform().name("vineyard-graph-vertex-map").start(() -> {
            long t = System.nanoTime();
            try {
                vm.complete(client.put(new VertexMapWriter.Draft(plan)));
                trace("vertex map", t);
            } catch (Throwable e) {
                vm.completeExceptionally(e);
            }
        });
        try {
            t0 = System.nanoTime();
            List<ObjectId> frags = putFragments(client, plan, vm, written);
            trace("fragments", t0);
            written.addFirst(vertexMap(vm));
            ObjectId group = client.put(groupMeta(plan, frags, client.instanceId()));
            written.add(group);
            return group;
        } catch (RuntimeException e) {
            awaitQuietly(vmWriter);
            if (vm.isDone() && !vm.isCompletedExceptionally() && !written.contains(vm.join())) {
                written.addFirst(vm.join());
            }
            deleteQuietly(client, written, e);
            throw e;
        }
    }

    /**
     * Puts the fragments, two at a time (each put builds its fragment on its own thread; the client
     * serialises the requests); every fragment written is added to {@code written}, failed or not.
     */
    private static List<ObjectId> putFragments(Client client, GraphPlan plan, CompletableFuture<ObjectId> vm,
                                               List<ObjectId> written) {
        int fnum = plan.fnum;
        ObjectId[] ids = new ObjectId[fnum];
        RuntimeException[] failure = new RuntimeException[1];
        java.util.concurrent.atomic.AtomicInteger next = new java.util.concurrent.atomic.AtomicInteger();
        Runnable worker = () -> {
            for (int f; (f = next.getAndIncrement()) < fnum; ) {
                try {
                    ids[f] = client.put(new FragmentWriter.Draft(plan, f, vm));
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
        for (ObjectId id : ids) {
            if (id != null) {
                written.add(id);
            }
        }
        if (failure[0] != null) {
            throw failure[0];
        }
        return List.of(ids);
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

    private static void deleteQuietly(Client client, List<ObjectId> written, RuntimeException failure) {
        for (int i = written.size() - 1; i >= 0; i--) {
            try {
                client.delete(written.get(i));
            } catch (RuntimeException e) {
                failure.addSuppressed(e);
            }
        }
    }

    static ObjectMeta groupMeta(GraphPlan plan, List<ObjectId> frags, long instanceId) {
        ObjectMeta m = new ObjectMeta(FragmentDescriptor.GROUP);
        m.setGlobal(true);
        m.put("total_frag_num", (long) frags.size());
        m.put("vertex_label_num", (long) plan.vertexLabelNum());
        m.put("edge_label_num", (long) plan.edgeLabelNum());
        for (int i = 0; i < frags.size(); i++) {
            m.put("fid_" + i, (long) i);
            m.put("frag_instance_id_" + i, instanceId);
            m.addMember("frag_object_id_" + i, frags.get(i));
        }
        m.setNbytes(0);
        return m;
    }

    static VineyardException invalid(String message) {
        return new VineyardException(Status.INVALID, message);
    }
}
